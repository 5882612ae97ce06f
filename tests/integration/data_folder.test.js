// The data folder under the running server (docs/server.md, "Data folder"):
// a reports.db deleted, renamed or with its WAL deleted gets no more
// receipts; a log.key without its database does not start a new log; one
// server per folder; a row the server did not write does not leave its
// writer stuck.
import test from 'node:test';
import assert from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as h from './helpers.js';

// The hour's count of text at the stop (docs/server.md, "What is logged").
function hourLine(text, times) {
  const quoted = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp('^sealtipd: \\d{4}-\\d\\d-\\d\\d \\d\\d:00 UTC to the stop: ' + quoted +
    ' \\(' + times + (times === 1 ? ' time' : ' times') + '\\)$', 'm');
}

const DB_GONE = 'the database file was deleted or moved; nothing is stored until it is back';
const WAL_GONE = "the database's WAL file was deleted or replaced; nothing is stored until a restart";

// A log.key that has signed (log.key.used beside it), and one that may not have.
const SIGNED_HINT = 'log.key has signed a log whose database is gone, and a new log under it would fork it ' +
  '(restore reports.db with its -wal file, or move log.key and log.key.used away to start a new log)';
const ADOPT_HINT = 'a new log under the key of an old one would fork it (restore reports.db with its -wal ' +
  'file; if this log.key never signed a log, made by an older --print-verifier-key before a first start, ' +
  'start once with --adopt-log-key; else move log.key away to start a new log)';

// The tests may run as root, which sealtipd warns of first.
const ROOT_WARNING = /^sealtipd: warning: running as root; .*\n/;

// sealtipd as startServer ran it, waited for: its exit and what it said.
function runServer(srv, timeout = 10000) {
  const r = spawnSync(h.SEALTIPD, srv.args, { encoding: 'utf8', timeout });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: (r.stderr || '').replace(ROOT_WARNING, '') };
}

function audit(db) {
  const r = h.runTool(['audit', db]);
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^audit ok: /);
}

async function post201(srv, name) {
  const r = await h.post(srv, h.vector(name));
  assert.strictEqual(r.status, 201, r.body.toString());
  return JSON.parse(r.body);
}

async function post500(srv, name) {
  const r = await h.post(srv, h.vector(name));
  assert.deepStrictEqual([r.status, JSON.parse(r.body).error], [500, 'storage_failed']);
}

// The leaves stored, in index order, as sealtip export reads them.
function leaves(db) {
  return h.parseExport(h.exportDb(db).file).entries.map((e) => [e.index, e.leaf]);
}

const leaf = (name) => h.leafHash(h.vector(name));

test('data folder: reports.db deleted under the server: no receipt, and no new log at the restart', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  assert.strictEqual((await post201(srv, 'basic')).index, 0);
  fs.rmSync(srv.db);
  await post500(srv, 'two-recipients');
  await post500(srv, 'chunk-boundary');
  assert.strictEqual(fs.existsSync(srv.db), false, 'a reports.db was made again');
  await srv.stop();
  assert.match(srv.stderr, hourLine(DB_GONE, 2));
  assert.match(srv.stdout, /^sealtipd: stopped; 1 reports stored in 1 commits$/m);

  // The log.key that signed it is still there, and the WAL of the deleted
  // file (sqlite checkpoints at close only into a file still at its path):
  // refused, nothing made.
  const before = fs.readdirSync(srv.data).sort();
  assert.deepStrictEqual(before, ['log.key', 'log.key.used', 'reports.db-shm', 'reports.db-wal']);
  const r = runServer(srv);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '',
    `sealtipd: ${srv.data}: log.key exists but reports.db does not: ${SIGNED_HINT}\n`]);
  // Nor does --adopt-log-key take it: it has signed.
  const adopt = runServer({ args: srv.args.concat(['--adopt-log-key']) });
  assert.deepStrictEqual([adopt.status, adopt.stdout, adopt.stderr], [1, '',
    `sealtipd: ${srv.data}: --adopt-log-key: log.key has signed a log (log.key.used): a new database under it ` +
    'would fork that log; restore reports.db with its -wal file\n']);
  assert.deepStrictEqual(fs.readdirSync(srv.data).sort(), before);
  assert.deepStrictEqual(fs.readdirSync(srv.data).sort(), before);
  // So does --print-verifier-key, which would make the database.
  const p = spawnSync(h.SEALTIPD, ['--data', srv.data, '--print-verifier-key'], { encoding: 'utf8' });
  assert.deepStrictEqual([p.status, p.stdout], [1, '']);
  assert.match(p.stderr, /^sealtipd: .*: log\.key exists but reports\.db does not: /m);
  assert.deepStrictEqual(fs.readdirSync(srv.data).sort(), before);

  // The old key moved away: the deleted database's WAL still may not be
  // replayed onto a new one.
  fs.renameSync(path.join(srv.data, 'log.key'), path.join(srv.dir, 'old-log.key'));
  fs.renameSync(path.join(srv.data, 'log.key.used'), path.join(srv.dir, 'old-log.key.used'));
  const w = runServer(srv);
  assert.deepStrictEqual([w.status, w.stdout, w.stderr], [1, '',
    `sealtipd: ${srv.data}: reports.db-wal exists but reports.db does not: it holds the last commits of a ` +
    'database that is gone (restore reports.db, or move reports.db-wal and reports.db-shm away)\n']);
  assert.deepStrictEqual(fs.readdirSync(srv.data).sort(), ['reports.db-shm', 'reports.db-wal']);

  // The operator's way to a new log: all of it moved away.
  for (const f of ['reports.db-shm', 'reports.db-wal']) fs.renameSync(path.join(srv.data, f), path.join(srv.dir, f));
  const again = await h.startServer({ dir: srv.dir });
  t.after(() => again.stop());
  assert.match(again.stdout, /^log key created: /m);
  const first = await post201(again, 'basic');
  assert.deepStrictEqual([first.index, first.tree_size], [0, 1]);
  await again.stop();
  audit(again.db);
});

test('data folder: reports.db renamed under the server: 500 until it is back, then on from where it was', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  assert.strictEqual((await post201(srv, 'basic')).index, 0);
  const moved = srv.db + '.moved';
  fs.renameSync(srv.db, moved);
  await post500(srv, 'two-recipients');
  assert.strictEqual(fs.existsSync(srv.db), false, 'a reports.db was made again');
  fs.renameSync(moved, srv.db);
  const r = await post201(srv, 'chunk-boundary');
  assert.deepStrictEqual([r.index, r.tree_size], [1, 2]);
  await srv.stop();
  assert.match(srv.stderr, hourLine(DB_GONE, 1));
  assert.deepStrictEqual(leaves(srv.db), [[0, leaf('basic')], [1, leaf('chunk-boundary')]]);
  audit(srv.db);
});

test('data folder: reports.db-wal deleted under the server: no receipt, and kill -9 loses none given', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  assert.strictEqual((await post201(srv, 'basic')).index, 0);
  assert.strictEqual((await post201(srv, 'two-recipients')).index, 1);
  fs.rmSync(srv.db + '-wal');
  await post500(srv, 'chunk-boundary');
  await post500(srv, 'hostile-names');
  await srv.stop('SIGKILL');

  // The two receipts are in reports.db, the refused ones are not, and the
  // log goes on from them.
  assert.deepStrictEqual(leaves(srv.db), [[0, leaf('basic')], [1, leaf('two-recipients')]]);
  const again = await h.startServer({ dir: srv.dir });
  t.after(() => again.stop());
  const r = await post201(again, 'chunk-boundary');
  assert.deepStrictEqual([r.index, r.tree_size], [2, 3]);
  await again.stop();
  audit(srv.db);
});

test('data folder: reports.db-wal deleted, then kill -9 before another upload: the restart is refused', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  assert.strictEqual((await post201(srv, 'basic')).index, 0);
  // The whole log was in the WAL (never checkpointed): reports.db is left
  // without it, and nothing since has noticed.
  fs.rmSync(srv.db + '-wal');
  await srv.stop('SIGKILL');
  const r = runServer(srv);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '',
    `sealtipd: ${srv.data}: log.key exists but reports.db has no log under it: log.key has signed a log this ` +
    'database does not hold (its -wal file lost?), and a new log under it would fork it (restore reports.db with ' +
    'its -wal file, or move log.key, log.key.used and reports.db away to start a new log)\n']);
  // Nothing signed, nothing recorded.
  if (spawnSync('sqlite3', ['-version']).status !== 0) return t.skip('no sqlite3 command to look inside');
  const q = spawnSync('sqlite3', [srv.db,
    "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM checkpoints), (SELECT count(*) FROM meta WHERE key = 'log_verifier_key')"],
  { encoding: 'utf8' });
  assert.deepStrictEqual([q.status, q.stdout], [0, '0|0|0\n']);
});

test('data folder: a second sealtipd on it exits 1 and the first goes on', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  assert.strictEqual((await post201(srv, 'basic')).index, 0);
  const state = h.dbState(srv);
  const r = runServer(srv);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '',
    `sealtipd: ${srv.data}: locked by another process (another sealtipd using this data folder?)\n`]);
  assert.strictEqual(h.dbState(srv), state);
  assert.strictEqual((await post201(srv, 'two-recipients')).index, 1);
  // Reading needs no lock: sealtip export and --print-verifier-key work beside it.
  assert.deepStrictEqual(leaves(srv.db), [[0, leaf('basic')], [1, leaf('two-recipients')]]);
  const p = spawnSync(h.SEALTIPD, ['--data', srv.data, '--print-verifier-key'], { encoding: 'utf8' });
  assert.strictEqual(p.status, 0, p.stderr);
  assert.strictEqual((await post201(srv, 'chunk-boundary')).index, 2);
  await srv.stop();
  audit(srv.db);
});

test('data folder: a row another writer added fails one batch, and the writer goes on after it', async (t) => {
  if (spawnSync('sqlite3', ['-version']).status !== 0) return t.skip('no sqlite3 command');
  const srv = await h.startServer();
  t.after(() => srv.stop());
  assert.strictEqual((await post201(srv, 'basic')).index, 0);
  assert.strictEqual((await post201(srv, 'two-recipients')).index, 1);
  // Index 2, as a second writer on the file would have stored it.
  const env = h.vector('chunk-boundary');
  const hash = Buffer.from(h.leafHash(env), 'base64').toString('hex');
  const day = new Date().toISOString().slice(0, 10);
  const q = spawnSync('sqlite3', [srv.db], { encoding: 'utf8',
    input: `INSERT INTO reports (idx, day, size, leaf_hash, envelope) VALUES (2, '${day}', ${env.length}, X'${hash}', X'${env.toString('hex')}');\n` });
  assert.strictEqual(q.status, 0, q.stderr);
  await post500(srv, 'hostile-names');
  const r = await post201(srv, 'hostile-names');
  assert.deepStrictEqual([r.index, r.tree_size], [3, 4]);
  await srv.stop();
  assert.match(srv.stderr, hourLine('the reports table was changed by another writer', 1));
  assert.deepStrictEqual(leaves(srv.db),
    [[0, leaf('basic')], [1, leaf('two-recipients')], [2, leaf('chunk-boundary')], [3, leaf('hostile-names')]]);
  audit(srv.db);
});

test('a log.key made before its database (an older --print-verifier-key) is adopted once, on request', async (t) => {
  const dir = h.tmpdir();
  const data = path.join(dir, 'data');
  const printKey = (extra) => spawnSync(h.SEALTIPD, ['--data', data, '--origin', 'tips.example/log', ...extra, '--print-verifier-key'], { encoding: 'utf8' });
  // What the older sealtipd left: log.key alone, its verifier key published.
  let p = printKey([]);
  assert.strictEqual(p.status, 0, p.stderr);
  const published = p.stdout;
  for (const f of fs.readdirSync(data)) if (f !== 'log.key') fs.rmSync(path.join(data, f));
  const keyBytes = fs.readFileSync(path.join(data, 'log.key'));

  // Not taken by itself: it may be the key of a log whose database is lost.
  const srv = await h.startServer({ dir, extraArgs: ['--origin', 'tips.example/log'] }).catch((e) => e);
  assert.ok(srv instanceof Error);
  assert.match(srv.message, new RegExp(`sealtipd: ${data}: log\\.key exists but reports\\.db does not: ` +
    ADOPT_HINT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\n'));
  assert.deepStrictEqual(fs.readdirSync(data), ['log.key']);

  // Taken with --adopt-log-key: the published key, recorded in a new database.
  p = printKey(['--adopt-log-key']);
  assert.deepStrictEqual([p.status, p.stdout], [0, published]);
  assert.deepStrictEqual(fs.readFileSync(path.join(data, 'log.key')), keyBytes);
  const started = await h.startServer({ dir, extraArgs: ['--origin', 'tips.example/log'] });
  t.after(() => started.stop());
  assert.strictEqual(JSON.parse((await h.request(started, 'GET', '/api/v1/config')).body).log.verifier_key, published.trim());
  assert.strictEqual((await h.post(started, h.vector('basic'))).status, 201);
  await started.stop();

  // Once only: with the key recorded, or with nothing to adopt, refused.
  // Once only: left in a unit file, it is refused with the database there,
  // and after the database is lost too (log.key.used says the key signed).
  const again = runServer({ args: started.args.concat(['--adopt-log-key']) });
  assert.deepStrictEqual([again.status, again.stdout, again.stderr], [1, '',
    `sealtipd: ${data}: --adopt-log-key: reports.db exists: adoption is only for a log.key alone\n`]);
  for (const f of fs.readdirSync(data)) if (f.startsWith('reports.db')) fs.rmSync(path.join(data, f));
  const lost = runServer({ args: started.args.concat(['--adopt-log-key']) });
  assert.deepStrictEqual([lost.status, lost.stdout, lost.stderr], [1, '',
    `sealtipd: ${data}: --adopt-log-key: log.key has signed a log (log.key.used): a new database under it ` +
    'would fork that log; restore reports.db with its -wal file\n']);
  assert.deepStrictEqual(fs.readdirSync(data).sort(), ['log.key', 'log.key.used']);
  // Adopting fixes the origin: the default one is warned of, as when made.
  const old = path.join(h.tmpdir(), 'data');
  assert.strictEqual(spawnSync(h.SEALTIPD, ['--data', old, '--print-verifier-key']).status, 0);
  for (const f of fs.readdirSync(old)) if (f !== 'log.key') fs.rmSync(path.join(old, f));
  const adopted = spawnSync(h.SEALTIPD, ['--data', old, '--adopt-log-key', '--print-verifier-key'], { encoding: 'utf8' });
  assert.strictEqual(adopted.status, 0, adopted.stderr);
  assert.match(adopted.stderr, /^sealtipd: warning: the log origin is the default 'sealtip\.example\/log', fixed from now on; /m);
  // Nothing to adopt: refused, nothing made.
  const empty = path.join(h.tmpdir(), 'data');
  fs.mkdirSync(empty, { mode: 0o700 });
  const none = spawnSync(h.SEALTIPD, ['--data', empty, '--adopt-log-key', '--print-verifier-key'], { encoding: 'utf8' });
  assert.deepStrictEqual([none.status, none.stdout, none.stderr.replace(ROOT_WARNING, '')], [1, '',
    `sealtipd: ${empty}: --adopt-log-key: there is no log.key to adopt\n`]);
  assert.deepStrictEqual(fs.readdirSync(empty), []);
});

test('a database without its log and no log.key.used (a first start cut short): the refusal says how to adopt, and that works', async () => {
  const dir = h.tmpdir();
  const data = path.join(dir, 'data');
  const run = (extra) => spawnSync(h.SEALTIPD, ['--data', data, '--origin', 'tips.example/log', ...extra, '--print-verifier-key'], { encoding: 'utf8' });
  let p = run([]);
  assert.strictEqual(p.status, 0, p.stderr);
  const published = p.stdout;
  // Cut short between making log.key and recording it: no key in the
  // database, no mark beside the key.
  fs.rmSync(path.join(data, 'log.key.used'));
  const q = spawnSync('sqlite3', [path.join(data, 'reports.db'), "DELETE FROM meta WHERE key = 'log_verifier_key'"]);
  if (q.status !== 0) return;
  p = run([]);
  assert.deepStrictEqual([p.status, p.stdout, p.stderr.replace(ROOT_WARNING, '')], [1, '',
    `sealtipd: ${data}: log.key exists but reports.db has no log under it: restore reports.db with its -wal file; ` +
    'if nothing was ever stored (a first start cut short), move reports.db and its -wal and -shm files away and ' +
    'start once with --adopt-log-key\n']);
  // What it says works.
  for (const f of fs.readdirSync(data)) if (f.startsWith('reports.db')) fs.rmSync(path.join(data, f));
  p = run(['--adopt-log-key']);
  assert.deepStrictEqual([p.status, p.stdout], [0, published]);
});

test('log.key.used only has to be there: made by root, it is the data folder owner\'s; read-only, it is left so', { skip: process.getuid() !== 0 && 'needs root' }, async () => {
  const dir = h.tmpdir();
  fs.chmodSync(dir, 0o711); // nobody must reach data/ and web/ inside
  const first = await h.startServer({ dir, extraArgs: ['--user', 'nobody'] });
  await first.stop();
  const data = first.data;
  const nobody = fs.statSync(data).uid;
  assert.notStrictEqual(nobody, 0);
  assert.strictEqual(fs.statSync(path.join(data, 'log.key.used')).uid, nobody);
  // A folder served before this mark existed, then root's --print-verifier-key.
  fs.rmSync(path.join(data, 'log.key.used'));
  const p = spawnSync(h.SEALTIPD, ['--data', data, '--print-verifier-key'], { encoding: 'utf8' });
  assert.strictEqual(p.status, 0, p.stderr);
  const mark = fs.statSync(path.join(data, 'log.key.used'));
  assert.deepStrictEqual([mark.uid, mark.mode & 0o777], [nobody, 0o600]);
  // Read-only, and root's: still only its existence counts.
  fs.chownSync(path.join(data, 'log.key.used'), 0, 0);
  fs.chmodSync(path.join(data, 'log.key.used'), 0o400);
  const again = await h.startServer({ dir, extraArgs: ['--user', 'nobody'] });
  assert.strictEqual((await h.post(again, h.vector('basic'))).status, 201);
  await again.stop();
});

// A lost log.key beside its database: refused, by the server and by
// --print-verifier-key, with the key that signed and what to do, and
// nothing made or changed. It said only "log.key: No such file or
// directory".
test('data folder: a lost log.key is refused with the key it was and what to do', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  await post201(srv, 'basic');
  const vkey = /^log verifier key (.*)$/m.exec(srv.stdout)[1];
  await srv.stop();
  fs.renameSync(path.join(srv.data, 'log.key'), path.join(srv.dir, 'lost-log.key'));
  const before = fs.readdirSync(srv.data).sort();
  assert.deepStrictEqual(before, ['log.key.used', 'reports.db']);
  const db = fs.readFileSync(srv.db);
  const said = `sealtipd: ${srv.data}: log.key is missing, and this database's log was started with the ` +
    `verifier key\n  ${vkey}\n(restore log.key from a backup of this folder: no other key can continue ` +
    'this log; if it is lost, the log ends here: docs/server.md, "Log key and origin")\n';
  const r = runServer(srv);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '', said]);
  const p = spawnSync(h.SEALTIPD, ['--data', srv.data, '--print-verifier-key'], { encoding: 'utf8' });
  assert.deepStrictEqual([p.status, p.stdout, p.stderr.replace(ROOT_WARNING, '')], [1, '', said]);
  assert.deepStrictEqual(fs.readdirSync(srv.data).sort(), before);
  assert.ok(fs.readFileSync(srv.db).equals(db), 'reports.db was changed');

  // Put back, the log goes on.
  fs.renameSync(path.join(srv.dir, 'lost-log.key'), path.join(srv.data, 'log.key'));
  const again = await h.startServer({ dir: srv.dir });
  t.after(() => again.stop());
  assert.strictEqual((await post201(again, 'two-recipients')).index, 1);
  await again.stop();
  audit(again.db);
});

// A first start cut short between making reports.db empty (so that root
// could give it to the folder's owner) and its schema left an empty file:
// the server's start gives it the schema; --print-verifier-key refused it
// with "no such table: meta".
test('data folder: an empty reports.db (a first start cut short) is made a database by --print-verifier-key, as by a start', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealtip-emptydb-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  fs.writeFileSync(path.join(data, 'reports.db'), '', { mode: 0o600 });
  const p = spawnSync(h.SEALTIPD, ['--data', data, '--print-verifier-key'], { encoding: 'utf8' });
  assert.deepStrictEqual([p.status, p.stderr.replace(ROOT_WARNING, '').replace(/^sealtipd: warning: the log origin is the default .*\n/m, '')], [0, '']);
  const vkey = p.stdout.trim();
  const srv = await h.startServer({ dir });
  t.after(() => srv.stop());
  assert.strictEqual(/^log verifier key (.*)$/m.exec(srv.stdout)[1], vkey);
  assert.strictEqual((await post201(srv, 'basic')).index, 0);
  await srv.stop();
  audit(srv.db);
});
