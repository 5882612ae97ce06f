// The sandbox on the real server: started as root with --user nobody it runs
// as nobody, under seccomp with no_new_privs, not dumpable, no core files,
// still serves a submission, an export and a log proof, and every file it
// made is nobody's. Refusals change nothing.
import test from 'node:test';
import assert from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';

const TOKEN = 'sandbox-test-export-token-0123';
const isRoot = process.getuid && process.getuid() === 0;
const why = isRoot ? false : 'needs root: the server changes user only when started as root';
if (!isRoot) console.log('# sandbox tests skipped: ' + why);

function nobody() {
  const r = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function statusField(pid, name) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp('^' + name + ':\\s*(.*)$', 'm').exec(text);
  assert.ok(m, name + ' missing in /proc/PID/status');
  return m[1].trim().split(/\s+/);
}

function run(args) {
  return spawnSync(h.SEALTIPD, args, { encoding: 'latin1', timeout: 20000 });
}

test('sandbox: root with --user nobody runs as nobody, confined, and still serves', { skip: why }, async (t) => {
  const who = nobody();
  const dir = h.tmpdir('sealtip-sandbox-');
  fs.chmodSync(dir, 0o711); // nobody must reach data/ and web/ inside
  const srv = await h.startServer({ dir, token: TOKEN, extraArgs: ['--user', 'nobody'] });
  t.after(() => srv.stop());
  const pid = srv.child.pid;

  assert.deepStrictEqual(statusField(pid, 'Uid'), Array(4).fill(String(who.uid)));
  assert.deepStrictEqual(statusField(pid, 'Gid'), Array(4).fill(String(who.gid)));
  assert.ok(!statusField(pid, 'Groups').includes('0'), 'still in group root');
  assert.deepStrictEqual(statusField(pid, 'NoNewPrivs'), ['1']);
  assert.deepStrictEqual(statusField(pid, 'Seccomp'), ['2']);
  assert.deepStrictEqual(statusField(pid, 'Seccomp_filters'), ['1']);
  assert.deepStrictEqual(statusField(pid, 'CapEff'), ['0000000000000000']);
  assert.deepStrictEqual(statusField(pid, 'CapPrm'), ['0000000000000000']);
  // Not dumpable: the kernel makes /proc/PID/* root's instead of the owner's.
  assert.strictEqual(fs.statSync(`/proc/${pid}/status`).uid, 0);
  assert.match(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'), /^Max core file size\s+0\s+0\s+bytes\s*$/m);
  // Every thread carries the filter, not only the main one.
  for (const tid of fs.readdirSync(`/proc/${pid}/task`))
    assert.match(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'), /^Seccomp:\s+2$/m, 'thread ' + tid);

  // A submission, a log proof, an export and the page.
  const env = h.vector('basic');
  const res = await h.post(srv, env);
  assert.strictEqual(res.status, 201, String(res.body));
  const receipt = JSON.parse(res.body);
  assert.strictEqual(receipt.index, 0);
  assert.strictEqual(receipt.leaf_hash, h.leafHash(env));
  const second = await h.post(srv, h.vector('two-recipients'));
  assert.strictEqual(second.status, 201, String(second.body));
  const inc = await h.request(srv, 'GET', '/api/v1/log/inclusion?index=0&size=2');
  assert.strictEqual(inc.status, 200, String(inc.body));
  assert.strictEqual(JSON.parse(inc.body).proof.length, 1);
  const cp = await h.request(srv, 'GET', '/api/v1/log/checkpoint');
  assert.strictEqual(cp.status, 200);
  assert.match(String(cp.body), /\n2\n/);
  const ex = await h.request(srv, 'GET', '/api/v1/export', { headers: { Authorization: 'Bearer ' + TOKEN } });
  assert.strictEqual(ex.status, 200);
  const parsed = h.parseExport(ex.body);
  assert.strictEqual(parsed.entries.length, 2);
  assert.ok(parsed.entries[0].envelope.equals(env));
  const page = await h.request(srv, 'GET', '/');
  assert.strictEqual(page.status, 200);

  // The data folder and all in it: nobody's, owner-only.
  const st = fs.statSync(srv.data);
  assert.strictEqual(st.uid, who.uid);
  assert.strictEqual(st.mode & 0o777, 0o700);
  const names = fs.readdirSync(srv.data);
  assert.ok(names.includes('reports.db'), names.join(' '));
  for (const name of names) {
    const f = fs.statSync(path.join(srv.data, name));
    assert.strictEqual(f.uid, who.uid, name);
    assert.strictEqual(f.mode & 0o077, 0, name);
  }
  await srv.stop();
  assert.strictEqual(srv.child.exitCode, 0);
  assert.doesNotMatch(srv.stderr, /warning: running as root/);
});

test('sandbox: refusals leave nothing behind; root without --user is warned', { skip: why }, async (t) => {
  const dir = h.tmpdir('sealtip-sandbox-');
  fs.chmodSync(dir, 0o711);
  const base = ['--listen', '127.0.0.1:0', '--recipient', path.join(h.VECTORS, 'alice.pub'), '--web', path.join(dir, 'none')];

  // An unknown user: exit 1, one line, no data folder made.
  const data = path.join(dir, 'data');
  let r = run(['--data', data, '--user', 'sealtip-no-such-user'].concat(base));
  assert.strictEqual(r.status, 1);
  assert.strictEqual(r.stderr, 'sealtipd: --user sealtip-no-such-user: no such user\n');
  assert.strictEqual(r.stdout, '');
  assert.ok(!fs.existsSync(data));

  // root is not a user to change to.
  r = run(['--data', data, '--user', 'root'].concat(base));
  assert.strictEqual(r.status, 1);
  assert.strictEqual(r.stderr, "sealtipd: --user root: has uid or gid 0, which is root's\n");
  assert.ok(!fs.existsSync(data));

  // A data folder that is root's (an earlier run as root) is not taken over.
  fs.mkdirSync(data, { mode: 0o700 });
  r = run(['--data', data, '--user', 'nobody'].concat(base));
  assert.strictEqual(r.status, 1);
  assert.strictEqual(r.stderr, `sealtipd: ${data}: owned by uid 0, not by nobody (chown -R nobody ${data})\n`);
  assert.deepStrictEqual(fs.readdirSync(data), []);
  assert.strictEqual(fs.statSync(data).uid, 0);

  // --print-verifier-key as root with --user: the key file is nobody's too.
  const keyData = path.join(dir, 'keydata');
  r = run(['--data', keyData, '--user', 'nobody', '--origin', 'sandbox.test/log', '--print-verifier-key']);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /^sandbox\.test\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+\n$/);
  const who = nobody();
  assert.strictEqual(fs.statSync(keyData).uid, who.uid);
  for (const name of fs.readdirSync(keyData)) assert.strictEqual(fs.statSync(path.join(keyData, name)).uid, who.uid, name);

  // Without --user, root stays root, sandboxed, and says so.
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  await h.sleep(200); // stderr and stdout are separate pipes
  assert.match(srv.stderr, /^sealtipd: warning: running as root; --user NAME would run as NAME/m);
  assert.deepStrictEqual(statusField(srv.child.pid, 'Seccomp'), ['2']);
  assert.deepStrictEqual(statusField(srv.child.pid, 'NoNewPrivs'), ['1']);
});

// The quick start's --print-verifier-key, or a server started without
// --user, run as root on the data folder of the user the server runs as
// (systemd's StateDirectory made it, say): what root makes there is that
// user's, so the server as that user starts on it. It made log.key and
// reports.db root's, and the server as nobody then stopped with
// "reports.db: unable to open database file".
test('sandbox: what root makes in another user\'s data folder is that user\'s', { skip: why }, async (t) => {
  const who = nobody();
  const dir = h.tmpdir('sealtip-sandbox-');
  fs.chmodSync(dir, 0o711);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  fs.chownSync(data, who.uid, who.gid);
  const owners = () => fs.readdirSync(data).sort().map((name) => {
    const f = fs.statSync(path.join(data, name));
    return [name, f.uid, f.gid, f.mode & 0o777];
  });

  const r = run(['--data', data, '--origin', 'sandbox.test/log', '--print-verifier-key']);
  assert.strictEqual(r.status, 0, r.stderr);
  const vkey = r.stdout.trim();
  assert.match(vkey, /^sandbox\.test\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
  assert.deepStrictEqual(owners(), ['log.key', 'log.key.used', 'reports.db'].map((n) => [n, who.uid, who.gid, 0o600]));

  // The server as nobody takes that key and database.
  let srv = await h.startServer({ dir, extraArgs: ['--user', 'nobody', '--origin', 'sandbox.test/log'] });
  t.after(() => srv.stop());
  assert.match(srv.stdout, new RegExp('^log verifier key ' + vkey.replace(/[+/.]/g, '\\$&') + '$', 'm'));
  let res = await h.post(srv, h.vector('basic'));
  assert.strictEqual(res.status, 201, String(res.body));
  await srv.stop();

  // A first start as root without --user in nobody's empty folder: the
  // same, and the WAL files sqlite makes while it runs are nobody's too.
  fs.rmSync(data, { recursive: true });
  fs.mkdirSync(data, { mode: 0o700 });
  fs.chownSync(data, who.uid, who.gid);
  srv = await h.startServer({ dir });
  res = await h.post(srv, h.vector('basic'));
  assert.strictEqual(res.status, 201, String(res.body));
  assert.deepStrictEqual(owners(), ['log.key', 'log.key.used', 'reports.db', 'reports.db-shm', 'reports.db-wal']
    .map((n) => [n, who.uid, who.gid, 0o600]));
  await srv.stop();
  srv = await h.startServer({ dir, extraArgs: ['--user', 'nobody'] });
  res = await h.post(srv, h.vector('two-recipients'));
  assert.strictEqual(res.status, 201, String(res.body));
  assert.strictEqual(JSON.parse(res.body).index, 1);
});

// A database root copied into the folder (a backup restored with cp, a new
// machine): the server as nobody says whose it is and what to run, and
// touches nothing. It said "reports.db: unable to open database file".
test('sandbox: a data file root copied in is named, with its owner, and nothing is changed', { skip: why }, async (t) => {
  const who = nobody();
  const dir = h.tmpdir('sealtip-sandbox-');
  fs.chmodSync(dir, 0o711);
  let srv = await h.startServer({ dir, extraArgs: ['--user', 'nobody'] });
  t.after(() => srv.stop());
  const res = await h.post(srv, h.vector('basic'));
  assert.strictEqual(res.status, 201, String(res.body));
  await srv.stop();
  fs.copyFileSync(srv.db, path.join(dir, 'backup.db'));
  fs.rmSync(srv.db);
  fs.copyFileSync(path.join(dir, 'backup.db'), srv.db); // as root: root's
  const before = fs.readdirSync(srv.data).sort();
  const r = run(srv.args.concat(['--user', 'nobody']));
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '',
    `sealtipd: ${srv.db}: owned by uid 0, not by uid ${who.uid}, which sealtipd runs as ` +
    `(chown ${who.uid}:${who.gid} ${srv.db})\n`]);
  assert.deepStrictEqual(fs.readdirSync(srv.data).sort(), before);
  assert.ok(fs.readFileSync(srv.db).equals(fs.readFileSync(path.join(dir, 'backup.db'))));
  assert.strictEqual(fs.statSync(srv.db).uid, 0);

  // As it says, and it starts where the log was.
  fs.chownSync(srv.db, who.uid, who.gid);
  srv = await h.startServer({ dir, extraArgs: ['--user', 'nobody'] });
  const next = await h.post(srv, h.vector('two-recipients'));
  assert.strictEqual(next.status, 201, String(next.body));
  assert.strictEqual(JSON.parse(next.body).index, 1);
});
