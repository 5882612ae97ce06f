// sealtip audit against a real database made by the real sealtipd: the
// untouched copy passes, and every tamper case (each on its own fresh copy,
// edited with the sqlite3 CLI) exits 1 naming the entry, checkpoint, table
// or column. Also: audit never writes to its input.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';

const ALICE = path.join(h.VECTORS, 'alice.pub');
const TOTAL = 20;
const BACKUP_AT = 14;
const BIG = 9;

function sql(db, statements) {
  const r = spawnSync('sqlite3', ['-bail', db], { input: statements, encoding: 'utf8' });
  if (r.status !== 0) throw new Error('sqlite3 failed: ' + r.stderr);
  return r.stdout.trim();
}

function leafHex(envelope) {
  return crypto.createHash('sha256').update(Buffer.from([0])).update(envelope).digest('hex');
}

const ctx = {};

function fresh(src = ctx.db) {
  const dir = h.tmpdir('sealtip-audit-');
  const file = path.join(dir, 'copy.db');
  fs.copyFileSync(src, file);
  return file;
}

function audit(file, extra = [], { key = ctx.vkey } = {}) {
  const args = ['audit', file];
  if (key) args.push('--verifier-key', key);
  return h.runTool(args.concat(extra));
}

// One failure line naming the input, exit 1.
function assertFails(r, file, pattern) {
  assert.strictEqual(r.status, 1, 'exit status: ' + r.stdout + r.stderr);
  assert.strictEqual(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.strictEqual(lines.length, 1, r.stderr);
  assert.ok(lines[0].startsWith('sealtip: audit: ' + file + ': '), r.stderr);
  assert.match(lines[0], pattern);
}

async function seal(dir, i) {
  const out = path.join(dir, 'r' + i + '.env');
  const args = ['seal', '-r', ALICE, '--field', 'what=asked for $' + (100 + i), '-o', out];
  if (i === BIG) {
    // Several chunks: the audit streams it through blob I/O.
    fs.writeFileSync(path.join(dir, 'photo.jpg'), crypto.randomBytes(300000));
    args.push('--file', path.join(dir, 'photo.jpg'));
  }
  const r = h.runTool(args);
  if (r.status !== 0) throw new Error('seal: ' + r.stderr);
  return fs.readFileSync(out);
}

async function submit(srv, env) {
  const res = await h.post(srv, env);
  assert.strictEqual(res.status, 201, res.body.toString());
  return JSON.parse(res.body.toString());
}

test.before(async () => {
  const srv = await h.startServer({ recipients: ['alice'] });
  ctx.dir = h.tmpdir('sealtip-audit-src-');
  ctx.vkey = /^log verifier key (\S+)$/m.exec(srv.stdout)[1];
  const envs = [];
  for (let i = 0; i < TOTAL; i++) envs.push(await seal(ctx.dir, i));
  ctx.receipts = [];
  // 0..9 one by one (one checkpoint per report), 10..13 concurrently.
  for (let i = 0; i < 10; i++) ctx.receipts.push(await submit(srv, envs[i]));
  ctx.receipts.push(...await Promise.all(envs.slice(10, BACKUP_AT).map((e) => submit(srv, e))));
  // An older backup, taken with the backup API while the server runs.
  ctx.old = path.join(ctx.dir, 'old.db');
  sql(srv.db, '.backup ' + ctx.old + '\n');
  ctx.receipts.push(...await Promise.all(envs.slice(BACKUP_AT, 17).map((e) => submit(srv, e))));
  for (let i = 17; i < TOTAL; i++) ctx.receipts.push(await submit(srv, envs[i]));
  await srv.stop();
  ctx.data = srv.data;
  ctx.db = path.join(ctx.dir, 'reports.db');
  fs.copyFileSync(srv.db, ctx.db);
  ctx.receiptFiles = ctx.receipts.map((r) => {
    const f = path.join(ctx.dir, 'receipt-' + r.index + '.json');
    fs.writeFileSync(f, JSON.stringify(r));
    return f;
  });
  ctx.last = ctx.receiptFiles[ctx.receipts.findIndex((r) => r.index === TOTAL - 1)];
  // A second deployment: another log key.
  const other = await h.startServer({ recipients: ['alice'] });
  ctx.otherKey = /^log verifier key (\S+)$/m.exec(other.stdout)[1];
  await submit(other, envs[0]);
  await other.stop();
  ctx.otherDb = other.db;
});

test('audit: the untouched copy passes, with every receipt', () => {
  const file = fresh();
  const r = audit(file, ['--recipient', ALICE].concat(...ctx.receiptFiles.map((f) => ['--checkpoint', f])));
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stderr, '');
  assert.match(r.stdout, new RegExp('^audit ok: ' + file.replace(/[.]/g, '\\.') +
    ': 20 entries, \\d+ bytes, days (\\d{4}-\\d\\d-\\d\\d) to \\d{4}-\\d\\d-\\d\\d, 1 recipient key id, ' +
    '\\d+ stored and 20 given checkpoints verified, \\d+ tree nodes match\\n' +
    'log key: the given --verifier-key\\n$'));
  // Without --verifier-key it says which key it used.
  const r2 = audit(file, [], { key: null });
  assert.strictEqual(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /log key: meta\.log_verifier_key in the database/);
  // A receipt whose leaf hash is not the stored entry's (as if the entry
  // had been replaced by one with the same checkpoints).
  const forged = path.join(ctx.dir, 'forged-receipt.json');
  const r5 = ctx.receipts.find((x) => x.index === 5);
  const otherLeaf = ctx.receipts.find((x) => x.index === 6).leaf_hash;
  // With its inclusion proof, the receipt refutes itself before the
  // database is read.
  fs.writeFileSync(forged, JSON.stringify(Object.assign({}, r5, { leaf_hash: otherLeaf })));
  let rf = audit(file, ['--checkpoint', forged]);
  assert.strictEqual(rf.status, 1);
  assert.strictEqual(rf.stderr, 'sealtip: audit: ' + forged + ': receipt: its inclusion proof of entry 5 does not ' +
    'verify against its own checkpoint at size ' + r5.tree_size + '\n');
  // Without it, the entry in the database refutes it.
  const noProof = Object.assign({}, r5, { leaf_hash: otherLeaf });
  delete noProof.inclusion_proof;
  fs.writeFileSync(forged, JSON.stringify(noProof));
  assertFails(audit(file, ['--checkpoint', forged]), file, /: entry 5: not the envelope of the receipt .*forged-receipt\.json/);
  // The page's saved receipt (docs/page.md: {"format": "sealtip-receipt-1",
  // "receipt": ..., "leaf_hash": ..., "log": ...}) is read as well; one the
  // page would refuse (another format, here) is refused here too.
  const saved = path.join(ctx.dir, 'saved-receipt.json');
  const page = { format: 'sealtip-receipt-1', receipt: r5, leaf_hash: r5.leaf_hash, log: { origin: ctx.vkey.split('+')[0], verifier_key: ctx.vkey } };
  fs.writeFileSync(saved, JSON.stringify(page));
  rf = audit(file, ['--checkpoint', saved]);
  assert.strictEqual(rf.status, 0, rf.stderr);
  assert.match(rf.stdout, / 1 given checkpoint verified/);
  fs.writeFileSync(saved, JSON.stringify({ ...page, format: 'sealtip-receipt-v1' }));
  rf = audit(file, ['--checkpoint', saved]);
  assert.strictEqual(rf.status, 1, rf.stderr);
  assert.strictEqual(rf.stderr, `sealtip: audit: ${saved}: page's receipt file: not a sealtip-receipt-1 file\n`);
  // The key from a file (as sealtipd --print-verifier-key writes it).
  const keyFile = path.join(ctx.dir, 'log.vkey');
  fs.writeFileSync(keyFile, ctx.vkey + '\n');
  const r3 = audit(file, ['--verifier-key-file', keyFile], { key: null });
  assert.strictEqual(r3.status, 0, r3.stderr);
  assert.match(r3.stdout, /log key: the given --verifier-key/);
  // A bare signed note is accepted as well as a receipt.
  const note = path.join(ctx.dir, 'checkpoint.txt');
  fs.writeFileSync(note, ctx.receipts[3].checkpoint);
  assert.strictEqual(audit(file, ['--checkpoint', note]).status, 0);
});

test('audit never writes to its input', () => {
  const file = fresh();
  const before = fs.readFileSync(file);
  const st = fs.statSync(file);
  fs.chmodSync(file, 0o444);
  const r = audit(file, ['--checkpoint', ctx.last]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.ok(fs.readFileSync(file).equals(before));
  assert.strictEqual(fs.statSync(file).mtimeMs, st.mtimeMs);
  assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ['copy.db']);
  // A copy taken with its WAL is incomplete for an immutable read: refused.
  fs.writeFileSync(file + '-wal', 'x');
  assertFails(audit(file), file, /copy\.db-wal exists/);
});

test('audit: usage errors exit 2', () => {
  assert.strictEqual(h.runTool(['audit']).status, 2);
  assert.strictEqual(h.runTool(['audit', ctx.db, '--verifier-key', 'nonsense']).status, 2);
  assert.strictEqual(h.runTool(['audit', ctx.db, '--bogus']).status, 2);
  assert.strictEqual(h.runTool(['audit', ctx.db, '--checkpoint']).status, 2);
});

test('audit: a deleted row', () => {
  const file = fresh();
  sql(file, 'DELETE FROM reports WHERE idx = 5;');
  assertFails(audit(file), file, /: entry 5: missing \(the next index stored is 6\)$/);
});

test('audit: a row moved to a negative index is named by that index', () => {
  // The schema's CHECK (idx >= 0) only holds for writers that keep it. The
  // message read "entry 0: missing (the next index stored is
  // 18446744073709551615)": the index as an unsigned number.
  const file = fresh();
  sql(file, 'PRAGMA ignore_check_constraints = 1; UPDATE reports SET idx = -1 WHERE idx = 3;');
  assertFails(audit(file), file, /: entry -1: index out of sequence$/);
});

test('audit: a page damaged below sqlite fails the integrity check, which is reported first', () => {
  const file = fresh();
  const pageSize = Number(sql(file, 'PRAGMA page_size;'));
  const root = Number(sql(file, "SELECT rootpage FROM sqlite_master WHERE name = 'tree_nodes';"));
  // The b-tree page's cell count (bytes 3-4 of its header) made impossible.
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([0xff, 0xff]), 0, 2, (root - 1) * pageSize + 3);
  fs.closeSync(fd);
  assertFails(audit(file), file, /: integrity check: /);
});

test('audit: one byte of an envelope changed', () => {
  const file = fresh();
  // (|| makes text: cast the result back to a blob)
  sql(file, `UPDATE reports SET envelope = CAST(substr(envelope, 1, 99) ||
    CASE WHEN substr(envelope, 100, 1) = X'00' THEN X'01' ELSE X'00' END ||
    substr(envelope, 101) AS BLOB) WHERE idx = 7;`);
  assertFails(audit(file), file, /: entry 7: the stored leaf_hash is not SHA-256/);
});

test('audit: one byte changed deep in a large envelope', () => {
  const file = fresh();
  assert.ok(Number(sql(file, `SELECT size FROM reports WHERE idx = ${BIG};`)) > 300000);
  sql(file, `UPDATE reports SET envelope = CAST(substr(envelope, 1, 250000) ||
    CASE WHEN substr(envelope, 250001, 1) = X'00' THEN X'01' ELSE X'00' END ||
    substr(envelope, 250002) AS BLOB) WHERE idx = ${BIG};`);
  assertFails(audit(file), file, new RegExp(': entry ' + BIG + ': the stored leaf_hash is not SHA-256'));
  // Cut short by one byte: the payload length is no longer a Padme length.
  const file2 = fresh();
  sql(file2, `UPDATE reports SET envelope = substr(envelope, 1, length(envelope) - 1),
    size = size - 1 WHERE idx = ${BIG};`);
  assertFails(audit(file2), file2, new RegExp(': entry ' + BIG + ': payload length \\d+ is not a Padme length$'));
  // Cut to end inside a chunk's overhead: no canonical chunk layout has that length.
  const file3 = fresh();
  sql(file3, `UPDATE reports SET envelope = substr(envelope, 1, 121 + 65553 + 5),
    size = 121 + 65553 + 5 WHERE idx = ${BIG};`);
  assertFails(audit(file3), file3, new RegExp(': entry ' + BIG + ': envelope length \\d+ does not fit the chunk layout for 1 recipient$'));
});

test('audit: one byte changed and its leaf hash recomputed', () => {
  const file = fresh();
  const env = Buffer.from(sql(file, 'SELECT hex(envelope) FROM reports WHERE idx = 7;'), 'hex');
  env[100] ^= 1;
  sql(file, `UPDATE reports SET envelope = X'${env.toString('hex')}', leaf_hash = X'${leafHex(env)}' WHERE idx = 7;`);
  assertFails(audit(file), file, /: entry 7: the signed checkpoint at size 8 does not match the entries/);
});

test('audit: two rows swapped', () => {
  const file = fresh();
  sql(file, `CREATE TEMP TABLE t AS SELECT * FROM reports WHERE idx IN (3, 4);
    UPDATE reports SET envelope = (SELECT envelope FROM t WHERE t.idx = 7 - reports.idx),
      leaf_hash = (SELECT leaf_hash FROM t WHERE t.idx = 7 - reports.idx),
      size = (SELECT size FROM t WHERE t.idx = 7 - reports.idx) WHERE idx IN (3, 4);`);
  assertFails(audit(file), file, /: entry 3: the signed checkpoint at size 4 does not match/);
  // Envelopes only: the stored leaf hashes give it away at once.
  const file2 = fresh();
  sql(file2, `CREATE TEMP TABLE t AS SELECT * FROM reports WHERE idx IN (3, 4);
    UPDATE reports SET envelope = (SELECT envelope FROM t WHERE t.idx = 7 - reports.idx) WHERE idx IN (3, 4);`);
  assertFails(audit(file2), file2, /: entry 3: (the stored leaf_hash|size column)/);
});

test('audit: a forged row inserted', () => {
  // A valid envelope, correct leaf hash, appended as the next entry.
  const env = h.vector('basic');
  const file = fresh();
  sql(file, `INSERT INTO reports VALUES (${TOTAL}, (SELECT day FROM reports WHERE idx = 0), ${env.length},
    X'${leafHex(env)}', X'${env.toString('hex')}');`);
  assertFails(audit(file), file, new RegExp(': entry ' + TOTAL + ': not covered by any signed checkpoint'));
  // Sealed to a key this deployment never served.
  const two = h.vector('two-recipients');
  const file2 = fresh();
  sql(file2, `INSERT INTO reports VALUES (${TOTAL}, (SELECT day FROM reports WHERE idx = 0), ${two.length},
    X'${leafHex(two)}', X'${two.toString('hex')}');`);
  assertFails(audit(file2, ['--recipient', ALICE]), file2,
    new RegExp(': entry ' + TOTAL + ': recipient key id [0-9a-f]{16} was never a recipient$'));
  // Replacing an entry in the middle, hash and node fixed up: the signed checkpoints catch it.
  const file3 = fresh();
  sql(file3, `UPDATE reports SET envelope = X'${env.toString('hex')}', size = ${env.length},
    leaf_hash = X'${leafHex(env)}' WHERE idx = 2;`);
  assertFails(audit(file3), file3, /: entry 2: the signed checkpoint at size 3 does not match/);
});

test('audit: the log truncated consistently, caught by a kept receipt', () => {
  const file = fresh();
  const cut = Number(sql(file, `SELECT max(size) FROM checkpoints WHERE size < ${TOTAL} AND size > 0;`));
  sql(file, `DELETE FROM reports WHERE idx >= ${cut}; DELETE FROM checkpoints WHERE size > ${cut};
    DELETE FROM tree_nodes WHERE ((idx + 1) << level) > ${cut}; VACUUM;`);
  const alone = audit(file);
  assert.strictEqual(alone.status, 0, alone.stderr);
  assert.match(alone.stdout, new RegExp(': ' + cut + ' entries'));
  assertFails(audit(file, ['--checkpoint', ctx.last]), file,
    new RegExp(': checkpoint at size ' + TOTAL + ' \\(.*\\): signed for a tree this database no longer contains'));
});

test('audit: an older backup restored after a receipt was issued', () => {
  const file = fresh(ctx.old);
  const alone = audit(file);
  assert.strictEqual(alone.status, 0, alone.stderr);
  assert.match(alone.stdout, new RegExp(': ' + BACKUP_AT + ' entries'));
  assertFails(audit(file, ['--checkpoint', ctx.last]), file,
    /: checkpoint at size 20 \(.*\): signed for a tree this database no longer contains/);
});

test('audit: the log key replaced', () => {
  // Another deployment's database, audited with this log's published key.
  const file = fresh(ctx.otherDb);
  assertFails(audit(file), file, /: log key replaced: the database names \S+, the given key is \S+$/);
  // Its meta edited to name this log's key: its checkpoints do not verify.
  const file2 = fresh(ctx.otherDb);
  sql(file2, `UPDATE meta SET value = '${ctx.vkey}' WHERE key = 'log_verifier_key';`);
  assertFails(audit(file2), file2, /: checkpoint at size 0: .*(another key|log key replaced)/);
  // And a receipt signed by another key is refused.
  const note = path.join(ctx.dir, 'other-checkpoint.txt');
  fs.writeFileSync(note, sql(ctx.otherDb, 'SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1;') + '\n');
  const r = audit(fresh(), ['--checkpoint', note]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /other-checkpoint\.txt: checkpoint: .*signed by another key/);
});

test('audit: identifying data', () => {
  let file = fresh();
  sql(file, `ALTER TABLE reports ADD COLUMN ip TEXT; UPDATE reports SET ip = '203.0.113.7' WHERE idx = 2;`);
  assertFails(audit(file), file, /: schema: table reports has an undocumented column 'ip'$/);

  file = fresh();
  sql(file, `INSERT INTO meta VALUES ('operator', 'Mozilla/5.0 (X11; Linux x86_64)');`);
  assertFails(audit(file), file, /: meta 'operator': column value holds a user agent \('Mozilla\/5\.0/);

  file = fresh();
  sql(file, `INSERT INTO meta VALUES ('peer', 'seen 2001:db8::7');`);
  assertFails(audit(file), file, /: meta 'peer': column value holds an IPv6 address \('2001:db8::7'\)$/);

  file = fresh();
  sql(file, `INSERT INTO meta VALUES ('peer', '203.0.113.7');`);
  assertFails(audit(file), file, /: meta 'peer': column value holds an IPv4 address \('203\.0\.113\.7'\)$/);

  file = fresh();
  sql(file, `PRAGMA ignore_check_constraints = 1; UPDATE reports SET day = '2026-11-28 13:45:12' WHERE idx = 4;`);
  assertFails(audit(file), file, /: entry 4: day '2026-11-28 13:45:12' is not a valid YYYY-MM-DD day$/);

  file = fresh();
  sql(file, `UPDATE reports SET day = '2026-02-30' WHERE idx = 4;`);
  assertFails(audit(file), file, /: entry 4: day '2026-02-30' is not a valid/);
  // sealtip export of that database names the field, and writes nothing.
  const out = path.join(path.dirname(file), 'x.bin');
  const ex = h.runTool(['export', '--db', file, '-o', out]);
  assert.deepStrictEqual([ex.status, ex.stdout, ex.stderr, fs.readdirSync(path.dirname(file)).sort()],
    [1, '', `sealtip: ${file}: entry 4: its day is not a valid YYYY-MM-DD date\n`, ['copy.db']]);

  file = fresh();
  sql(file, `INSERT INTO meta VALUES ('note', 'opened at 13:45');`);
  assertFails(audit(file), file, /: meta 'note': column value holds a time of day/);

  // meta read as C strings would end at a NUL byte, and pass what follows
  // unseen; the same bytes as a blob would skip the scan of text.
  const hide = "char(0) || 'reporter: Sok Dara, Phnom Penh'";
  for (const [what, statement] of [
    ['schema_version', `UPDATE meta SET value = CAST('2' || ${hide} AS BLOB) WHERE key = 'schema_version';`],
    ['schema_version', `UPDATE meta SET value = '2' || ${hide} WHERE key = 'schema_version';`],
    ['log_verifier_key', `UPDATE meta SET value = value || ${hide} WHERE key = 'log_verifier_key';`],
    ['log_verifier_key', `UPDATE meta SET value = CAST(value AS BLOB) WHERE key = 'log_verifier_key';`],
  ]) {
    file = fresh();
    sql(file, statement);
    const r = audit(file);
    assertFails(r, file, /./);
    assert.strictEqual(r.stderr, `sealtip: audit: ${file}: meta '${what}': the value is not text, or holds a NUL byte\n`);
  }
  file = fresh();
  sql(file, `INSERT INTO meta VALUES (CAST('schema_version' AS BLOB), '2');`);
  assertFails(audit(file), file, /: meta: a key is not text, or holds a NUL byte$/);
  // A day kept as a blob of the same bytes: one bit per report, unseen by
  // the scan of text values.
  file = fresh();
  sql(file, `UPDATE reports SET day = CAST(day AS BLOB) WHERE idx = 1;`);
  assertFails(audit(file), file, /: entry 1: the day is not text$/);
});

test('audit: the base64 of a stored checkpoint is not read as words', () => {
  // A root hash is random base64: one in some ten million starts "Edg/3",
  // which reads as a user agent. Only the origin line is free text (the
  // rest is pinned byte for byte), so only it is scanned. This root is
  // not the tree's: the audit must fail on that, not on a user agent.
  const stored = sql(ctx.db, 'SELECT note FROM checkpoints WHERE size = 5;') + '\n';
  const lines = stored.slice(0, stored.indexOf('\n\n') + 1).split('\n');
  lines[2] = 'edG/3' + lines[2].slice(5);
  const file = fresh();
  sql(file, `UPDATE checkpoints SET note = '${signWithLogKey(lines.join('\n'))}' WHERE size = 5;`);
  const r = audit(file);
  assertFails(r, file, /./);
  assert.doesNotMatch(r.stderr, /user agent/);
});

test('audit: a day that is no date, and a real one nobody signed', () => {
  // The same real-date check as an export file's (crypto/exportfile.c).
  for (const day of ['2026-02-29', '2026-04-31', '2026-02-31']) {
    const file = fresh();
    sql(file, `UPDATE reports SET day = '${day}' WHERE idx = 4;`);
    const r = audit(file);
    assertFails(r, file, /./);
    assert.strictEqual(r.stderr, `sealtip: audit: ${file}: entry 4: day '${day}' is not a valid YYYY-MM-DD day\n`);
  }
  // A real date passes: the days are the server's own record, which no
  // checkpoint signs.
  const file = fresh();
  sql(file, `UPDATE reports SET day = '2024-02-29';`);
  const r = audit(file);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /: 20 entries, \d+ bytes, days 2024-02-29 to 2024-02-29, /);
});

// text signed as a C2SP note by this log's own key (its data folder's
// log.key: "stlk", seed, public key): a statement the server never made.
function signWithLogKey(text) {
  const raw = fs.readFileSync(path.join(ctx.data, 'log.key'));
  const [seed, pk] = [raw.subarray(4, 36), raw.subarray(36, 68)];
  const key = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const origin = text.split('\n')[0];
  const id = h.sha256(Buffer.concat([Buffer.from(origin + '\n'), Buffer.from([1]), pk])).subarray(0, 4);
  return text + '\n\u2014 ' + origin + ' ' + Buffer.concat([id, crypto.sign(null, Buffer.from(text), key)]).toString('base64') + '\n';
}

test('audit: a stored checkpoint with lines sealtipd never writes', () => {
  // sealtipd writes origin, size and root lines, a blank line and one
  // signature line by the log key. C2SP lets a note carry more, which a
  // verifier accepts, and base64 there hides from the value scan: here an
  // address and a user agent.
  const hidden = Buffer.from('203.0.113.7 Mozilla/5.0').toString('base64');
  const stored = sql(ctx.db, 'SELECT note FROM checkpoints WHERE size = 5;') + '\n';
  const text = stored.slice(0, stored.indexOf('\n\n') + 1);
  assert.strictEqual(text.split('\n').length, 4);
  const line = (file, why) => `sealtip: audit: ${file}: checkpoint at size 5: holds lines sealtipd never writes, where data could hide: ${why}\n`;
  // An extension line after the root hash, signed by the log key itself.
  let file = fresh();
  sql(file, `UPDATE checkpoints SET note = '${signWithLogKey(text + hidden + '\n')}' WHERE size = 5;`);
  let r = audit(file);
  assertFails(r, file, /./);
  assert.strictEqual(r.stderr, line(file, 'an extension line after the root hash'));
  // A signature line by another key, which anyone can add: verifiers skip it.
  file = fresh();
  const sig = Buffer.concat([Buffer.from('cafe', 'hex'), Buffer.alloc(66, hidden)]).toString('base64');
  sql(file, `UPDATE checkpoints SET note = '${stored}\u2014 witness.example/w ${sig}\n' WHERE size = 5;`);
  r = audit(file);
  assertFails(r, file, /./);
  assert.strictEqual(r.stderr, line(file, 'a signature line by another key'));
  // And before the log key's line.
  file = fresh();
  const at = stored.indexOf('\n\n') + 2;
  sql(file, `UPDATE checkpoints SET note = '${stored.slice(0, at)}\u2014 witness.example/w ${sig}\n${stored.slice(at)}' WHERE size = 5;`);
  r = audit(file);
  assertFails(r, file, /./);
  assert.strictEqual(r.stderr, line(file, 'a signature line by another key'));
});

test('audit: schema objects beyond the documented ones', () => {
  let file = fresh();
  sql(file, 'CREATE TABLE visitors (addr TEXT);');
  assertFails(audit(file), file, /: schema: undocumented table 'visitors'$/);
  file = fresh();
  sql(file, 'CREATE INDEX by_day ON reports (day);');
  assertFails(audit(file), file, /: schema: undocumented index 'by_day'$/);
  file = fresh();
  sql(file, `CREATE TRIGGER t AFTER INSERT ON reports BEGIN SELECT 1; END;`);
  assertFails(audit(file), file, /: schema: undocumented trigger 't'$/);
  file = fresh();
  sql(file, 'CREATE VIEW v AS SELECT idx FROM reports;');
  assertFails(audit(file), file, /: schema: undocumented view 'v'$/);
  // reports rebuilt without its primary key: rowid and idx could then differ,
  // and envelopes are read by rowid. Declared DESC, idx is no rowid alias
  // either, and sqlite indexes it apart.
  const rebuild = (key) => `CREATE TABLE r2 (idx INTEGER${key}, day TEXT, size INTEGER, leaf_hash BLOB, envelope BLOB);
    INSERT INTO r2 SELECT * FROM reports; DROP TABLE reports; ALTER TABLE r2 RENAME TO reports;`;
  file = fresh();
  sql(file, rebuild(''));
  assertFails(audit(file), file, /: schema: table reports column idx is not in the primary key, documented as in it$/);
  file = fresh();
  sql(file, rebuild(' PRIMARY KEY DESC'));
  assertFails(audit(file), file, /: schema: undocumented index 'sqlite_autoindex_reports_1'$/);
  file = fresh();
  sql(file, `INSERT INTO tree_nodes VALUES (40, 0, zeroblob(32));`);
  assertFails(audit(file), file, /: tree_nodes: \d+ rows, but the entries complete only \d+ nodes/);
});
