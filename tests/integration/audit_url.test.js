// sealtip audit --url against the real sealtipd: the first run trusts the
// server's key and writes the state, the next proves the log only grew; a
// database rolled back under the server, a log forked from a copy, a wrong
// key, a receipt of another log and a corrupted state file all exit 1 and
// leave the state file as it was. The web manifest that web/build.sh writes
// passes against a server of the built tree, and a changed, removed or
// unlisted file is caught by name.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';

const ALICE = path.join(h.VECTORS, 'alice.pub');
const POW_OFF = ['--pow-bits', '0'];
const ctx = {};

function sql(db, statements) {
  const r = spawnSync('sqlite3', ['-bail', db], { input: statements, encoding: 'utf8' });
  if (r.status !== 0) throw new Error('sqlite3 failed: ' + r.stderr);
  return r.stdout.trim();
}

function seal(i) {
  const out = path.join(ctx.dir, 'r' + i + '.env');
  const r = h.runTool(['seal', '-r', ALICE, '--field', 'what=asked for $' + (100 + i), '-o', out]);
  if (r.status !== 0) throw new Error('seal: ' + r.stderr);
  return fs.readFileSync(out);
}

let sealed = 0;
async function submit(srv) {
  const res = await h.post(srv, seal(sealed++));
  assert.strictEqual(res.status, 201, res.body.toString());
  return JSON.parse(res.body.toString());
}

function saveReceipt(name, receipt) {
  const f = path.join(ctx.dir, name);
  fs.writeFileSync(f, JSON.stringify(receipt));
  return f;
}

function audit(url, extra = []) {
  return h.runTool(['audit', '--url', url].concat(extra));
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// One failure line, exit 1, nothing on stdout.
function assertFails(r, pattern) {
  assert.strictEqual(r.status, 1, 'exit status: ' + r.stdout + r.stderr);
  assert.strictEqual(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.strictEqual(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

function fileState(f) {
  return fs.existsSync(f) ? fs.readFileSync(f).toString('latin1') : null;
}

async function start(dir) {
  return h.startServer({ dir, recipients: ['alice'], web: ctx.web, extraArgs: POW_OFF });
}

test.before(async () => {
  ctx.dir = h.tmpdir('sealtip-audit-url-');
  // The page as make builds it, and its manifest beside it.
  const site = path.join(ctx.dir, 'site');
  fs.mkdirSync(site);
  ctx.web = path.join(site, 'web');
  const b = spawnSync('sh', [path.join(h.ROOT, 'web', 'build.sh'), ctx.web],
    { cwd: h.ROOT, encoding: 'utf8' });
  if (b.status !== 0) throw new Error('web/build.sh: ' + b.stderr);
  ctx.manifest = path.join(site, 'web.manifest');
  ctx.serverDir = path.join(ctx.dir, 'a');
  fs.mkdirSync(ctx.serverDir);
  ctx.srv = await start(ctx.serverDir);
  ctx.vkey = /^log verifier key (\S+)$/m.exec(ctx.srv.stdout)[1];
  ctx.origin = ctx.vkey.split('+')[0];
  ctx.state = path.join(ctx.dir, 'audit.state');
});

test.after(async () => {
  if (ctx.srv) await ctx.srv.stop();
});

test('audit --url: usage errors exit 2 and touch nothing', () => {
  const help = h.runTool(['audit', '--help']);
  assert.strictEqual(help.status, 0);
  for (const opt of ['--url URL', '--state FILE', '--web-manifest FILE', '--checkpoint FILE', '--timeout S'])
    assert.ok(help.stdout.includes(opt), opt);
  const cases = [
    [['audit', '--url', ctx.srv.url, 'copy.db'], /give INPUT or --url URL/],
    [['audit', 'copy.db', '--state', ctx.state], /^sealtip: audit: --state, --web-manifest, --socks and --timeout need --url\n/],
    [['audit', 'copy.db', '--timeout', '5'], /^sealtip: audit: --state, --web-manifest, --socks and --timeout need --url\n/],
    [['audit', '--url', ctx.srv.url, '--timeout', '0', '--state', ctx.state], /^sealtip: audit: --timeout: '0' is not a number of seconds from 1 to 3600\n/],
    [['audit', '--url', ctx.srv.url, '--timeout', '3601', '--state', ctx.state], /^sealtip: audit: --timeout: '3601' is not a number of seconds from 1 to 3600\n/],
    [['audit', '--url', 'https://example.org/', '--state', ctx.state], /is not an http:\/\/HOST/],
    [['audit', '--url', ctx.srv.url, '--verifier-key', 'nope', '--state', ctx.state], /'nope' is not a verifier key/],
  ];
  for (const [args, pattern] of cases) {
    const r = h.runTool(args);
    assert.strictEqual(r.status, 2, args.join(' ') + ': ' + r.stderr);
    assert.match(r.stderr, pattern);
    assert.strictEqual(r.stdout, '');
  }
  assert.strictEqual(fs.existsSync(ctx.state), false);
});

test('audit --url: first run trusts the server key and creates the state file', async () => {
  // The empty log: size 0, the root of nothing; a prefix of every log.
  const empty = path.join(ctx.dir, 'empty.state');
  const e = audit(ctx.srv.url, ['--state', empty]);
  assert.strictEqual(e.status, 0, e.stderr);
  assert.match(e.stdout, /^audit ok: .* at size 0, 0 given/);
  ctx.receipts = [];
  for (let i = 0; i < 3; i++) ctx.receipts.push(await submit(ctx.srv));
  const e3 = audit(ctx.srv.url, ['--state', empty]);
  assert.strictEqual(e3.status, 0, e3.stderr);
  assert.match(e3.stdout, /at size 3, consistent with the state's checkpoint at size 0, 0 given checkpoints consistent, 0 receipts still included\nlog key: the one in the state file\nstate: .*empty\.state updated at size 3\n$/);
  const r = audit(ctx.srv.url, ['--state', ctx.state]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stderr, '');
  assert.strictEqual(r.stdout,
    'audit ok: ' + ctx.srv.url + ': log ' + ctx.origin + ' at size 3, 0 given checkpoints consistent, 0 receipts still included\n' +
    "log key: the server's own, trusted on first use (compare it with the key the operator published; the state file keeps it for next time)\n" +
    'state: ' + ctx.state + ' created at size 3\n');
  const cp = await h.request(ctx.srv, 'GET', '/api/v1/log/checkpoint');
  assert.strictEqual(fs.readFileSync(ctx.state, 'utf8'),
    'sealtip-audit-state 1\n' + ctx.vkey + '\n\n' + cp.body.toString('utf8'));
  // No temp file is left beside it.
  assert.deepStrictEqual(fs.readdirSync(ctx.dir).filter((f) => f.startsWith('.')), []);
});

test('audit --url: the log grew: consistency from the state, receipts still included', async () => {
  // The database as it is at size 3, for the rollback below.
  ctx.backup = path.join(ctx.dir, 'backup-3.db');
  sql(ctx.srv.db, '.backup ' + ctx.backup + '\n');
  for (let i = 0; i < 3; i++) ctx.receipts.push(await submit(ctx.srv));
  ctx.receiptFiles = ctx.receipts.map((rc) => saveReceipt('receipt-' + rc.index + '.json', rc));
  // The page's saved form: the 201 answer inside, its own leaf hash beside.
  const page = saveReceipt('page-receipt-1.json', {
    format: 'sealtip-receipt-1', receipt: ctx.receipts[1], leaf_hash: ctx.receipts[1].leaf_hash,
    log: { origin: ctx.origin, verifier_key: ctx.vkey } });
  const cp = path.join(ctx.dir, 'checkpoint-5.txt');
  fs.writeFileSync(cp, ctx.receipts[4].checkpoint);
  const r = audit(ctx.srv.url, ['--state', ctx.state, '--verifier-key', ctx.vkey,
    '--checkpoint', ctx.receiptFiles[0], '--checkpoint', page, '--checkpoint', cp,
    '--checkpoint', ctx.receiptFiles[5]]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout,
    'audit ok: ' + ctx.srv.url + ': log ' + ctx.origin + ' at size 6, consistent with the state\'s checkpoint at size 3, ' +
    '4 given checkpoints consistent, 3 receipts still included\n' +
    'log key: the given --verifier-key\n' +
    'state: ' + ctx.state + ' updated at size 6\n');
  assert.match(fs.readFileSync(ctx.state, 'utf8'), new RegExp('^sealtip-audit-state 1\\n' + escape(ctx.vkey) + '\\n\\n' + escape(ctx.origin) + '\\n6\\n'));
  // Again with the key from the state alone: nothing new, still passes.
  const again = audit(ctx.srv.url, ['--state', ctx.state]);
  assert.strictEqual(again.status, 0, again.stderr);
  assert.match(again.stdout, /at size 6, consistent with the state's checkpoint at size 6, .*\nlog key: the one in the state file\n/);
  ctx.state6 = fs.readFileSync(ctx.state);
  // From line 4 on, a state file is a checkpoint like any other (docs).
  const fromState = path.join(ctx.dir, 'checkpoint-from-state.txt');
  fs.writeFileSync(fromState, ctx.state6.toString('utf8').split('\n').slice(3).join('\n'));
  const kept = audit(ctx.srv.url, ['--checkpoint', fromState]);
  assert.strictEqual(kept.status, 0, kept.stderr);
  assert.match(kept.stdout, /at size 6, 1 given checkpoint consistent, 0 receipts still included\n/);
});

test('audit --url --recipient: the server must hand out exactly the given keys', () => {
  const BOB = path.join(h.VECTORS, 'bob.pub');
  const ok = audit(ctx.srv.url, ['--recipient', ALICE]);
  assert.strictEqual(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /\nrecipients ok: the server hands out exactly the 1 given key\n$/);
  assertFails(audit(ctx.srv.url, ['--recipient', ALICE, '--recipient', BOB]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ': recipients: ' + escape(BOB) +
      ' \\(key id [0-9a-f]{16}\\) is not served: no report is sealed to it$'));
  assertFails(audit(ctx.srv.url, ['--recipient', BOB]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ': recipients: the server serves key id [0-9a-f]{16}, ' +
      'which is none of the --recipient keys: reports would be sealed to it$'));
  assertFails(audit(ctx.srv.url, ['--recipient', ALICE, '--recipient', ALICE]),
    new RegExp('^sealtip: audit: ' + escape(ALICE) + ': the same key as ' + escape(ALICE) + '$'));
  const notKey = path.join(ctx.dir, 'not-a-key.pub');
  fs.writeFileSync(notKey, 'hello\n');
  assertFails(audit(ctx.srv.url, ['--recipient', notKey]), new RegExp('^sealtip: audit: ' + escape(notKey) + ': '));
});

test('audit --url: a receipt whose leaf the log does not hold fails', () => {
  const forged = Object.assign({}, ctx.receipts[2], { leaf_hash: ctx.receipts[3].leaf_hash });
  const f = saveReceipt('forged.json', forged);
  const before = fileState(ctx.state);
  assertFails(audit(ctx.srv.url, ['--state', ctx.state, '--checkpoint', f]),
    new RegExp('^sealtip: audit: ' + escape(f) + ': receipt: its inclusion proof of entry 2 does not verify against its own checkpoint at size 3$'));
  // Without the receipt's own proof, the live proof is what fails.
  delete forged.inclusion_proof;
  const g = saveReceipt('forged-noproof.json', forged);
  assertFails(audit(ctx.srv.url, ['--state', ctx.state, '--checkpoint', g]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ': entry 2 of the receipt ' + escape(g) +
      ": the server's inclusion proof at size 6 does not verify: the report is no longer in the log$"));
  assert.strictEqual(fileState(ctx.state), before);
});

test('audit --url: a corrupted state file is an error and stays as it was', () => {
  const bad = path.join(ctx.dir, 'bad.state');
  const cases = [
    ['garbage\n', /^sealtip: audit: .*bad\.state: not a sealtip audit state file/],
    ['sealtip-audit-state 1\nnot-a-key\n\n' + ctx.receipts[0].checkpoint, /bad\.state: corrupted: line 2 is not a verifier key/],
    // A checkpoint whose size was edited: the signature no longer verifies.
    [ctx.state6.toString('utf8').replace(/\n6\n/, '\n7\n'), /bad\.state: corrupted: its checkpoint does not verify with its key: signature does not verify$/],
  ];
  for (const [content, pattern] of cases) {
    fs.writeFileSync(bad, content);
    assertFails(audit(ctx.srv.url, ['--state', bad]), pattern);
    assert.strictEqual(fs.readFileSync(bad, 'utf8'), content);
  }
});

test('audit --url: a wrong key or a receipt of another log fails', async () => {
  const otherDir = path.join(ctx.dir, 'other');
  fs.mkdirSync(otherDir);
  const other = await start(otherDir);
  const otherKey = /^log verifier key (\S+)$/m.exec(other.stdout)[1];
  const otherReceipt = saveReceipt('other-receipt.json', await submit(other));
  const before = fileState(ctx.state);
  // The state's key against a server now signing with another key.
  assertFails(audit(other.url, ['--state', ctx.state]),
    new RegExp('^sealtip: audit: ' + escape(other.url) + ': log key replaced: the server serves the verifier key ' +
      escape(otherKey) + ', the audited key is ' + escape(ctx.vkey) + '$'));
  await other.stop();
  assertFails(audit(ctx.srv.url, ['--verifier-key', otherKey]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ': log key replaced: the server serves the verifier key ' +
      escape(ctx.vkey) + ', the audited key is ' + escape(otherKey) + '$'));
  // The state holds the right key: a different given key is refused first.
  assertFails(audit(ctx.srv.url, ['--state', ctx.state, '--verifier-key', otherKey]),
    new RegExp('^sealtip: audit: ' + escape(ctx.state) + ': holds the verifier key ' + escape(ctx.vkey) + ', not the given '));
  assertFails(audit(ctx.srv.url, ['--state', ctx.state, '--checkpoint', otherReceipt]),
    new RegExp('^sealtip: audit: ' + escape(otherReceipt) + ': checkpoint: does not verify with the log key: .*from another log'));
  assert.strictEqual(fileState(ctx.state), before);
});

test('audit --url: a database rolled back under the server is caught, state unchanged', async () => {
  await ctx.srv.stop();
  fs.copyFileSync(ctx.backup, ctx.srv.db);
  for (const suffix of ['-wal', '-shm']) fs.rmSync(ctx.srv.db + suffix, { force: true });
  ctx.srv = await start(ctx.serverDir);
  assert.strictEqual(/^log verifier key (\S+)$/m.exec(ctx.srv.stdout)[1], ctx.vkey);
  const before = fileState(ctx.state);
  assertFails(audit(ctx.srv.url, ['--state', ctx.state]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ': rolled back: the checkpoint in the state file signs a log of 6 entries, ' +
      "the server's checkpoint now signs only 3$"));
  assert.strictEqual(fileState(ctx.state), before);
  // A receipt of an entry the rollback removed, with no state file at all.
  assertFails(audit(ctx.srv.url, ['--checkpoint', ctx.receiptFiles[4]]),
    new RegExp('rolled back: the checkpoint in ' + escape(ctx.receiptFiles[4]) + ' signs a log of 5 entries'));
  // One from before the rollback point still passes.
  const ok = audit(ctx.srv.url, ['--checkpoint', ctx.receiptFiles[2], '--verifier-key', ctx.vkey]);
  assert.strictEqual(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /at size 3, 1 given checkpoint consistent, 1 receipt still included\n/);
});

test('audit --url: a forked log (same key, other entries) is caught, state unchanged', async () => {
  // The rolled-back server grows again with other reports: at the state's
  // size its root differs, past it no consistency proof can verify.
  for (let i = 0; i < 3; i++) await submit(ctx.srv);
  const before = fileState(ctx.state);
  assertFails(audit(ctx.srv.url, ['--state', ctx.state]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ": forked: the checkpoint in the state file and the server's checkpoint " +
      'sign different roots for the same size 6$'));
  await submit(ctx.srv);
  assertFails(audit(ctx.srv.url, ['--state', ctx.state]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ': forked: the consistency proof from size 6 \\(the checkpoint in the state file\\) ' +
      "to the server's size 7 does not verify: the log is not an extension of the one the checkpoint in the state file signs$"));
  assert.strictEqual(fileState(ctx.state), before);
  // A receipt of the other branch: forked as well.
  assertFails(audit(ctx.srv.url, ['--checkpoint', ctx.receiptFiles[5]]),
    /forked: the consistency proof from size 6 \(the checkpoint in .*receipt-5\.json\)/);
  // Start over: a fresh state for the web tests.
  fs.rmSync(ctx.state);
});

test('a checkpoint of size 0 must carry the empty tree\'s root, in every mode', async (t) => {
  const dir = path.join(ctx.dir, 'zero');
  fs.mkdirSync(dir);
  const srv = await start(dir);
  t.after(() => srv.stop());
  for (let i = 0; i < 3; i++) assert.strictEqual((await h.post(srv, h.vector('basic'))).status, 201);
  const vkey = /^log verifier key (\S+)$/m.exec(srv.stdout)[1];
  // Signed by the log's own key, so only its root is false.
  const zero = path.join(dir, 'zero-bogus.txt');
  fs.writeFileSync(zero, h.signCheckpoint(srv.data, vkey.split('+')[0], 0, h.sha256(Buffer.from('bogus'))));
  const empty = path.join(dir, 'zero-empty.txt');
  fs.writeFileSync(empty, h.signCheckpoint(srv.data, vkey.split('+')[0], 0, h.sha256(Buffer.alloc(0))));
  const after = path.join(dir, 'after-1.bin');
  assert.strictEqual(h.runTool(['export', '--db', srv.db, '--after', '1', '-o', after]).status, 0);
  const copy = path.join(dir, 'copy.db');
  assert.strictEqual(spawnSync('sqlite3', [srv.db, `.backup '${copy}'`]).status, 0);
  const said = /: checkpoint at size 0 \(.*zero-bogus\.txt\): its signed root is not the empty tree's$/;
  const modes = [
    [['audit', '--url', srv.url, '--verifier-key', vkey],
      /: forked: the consistency proof from size 0 \(the checkpoint in .*zero-bogus\.txt\) to the server's size 3 does not verify/],
    [['audit', after, '--verifier-key', vkey], said],
    [['audit', copy, '--verifier-key', vkey], said],
  ];
  for (const [args, pattern] of modes) {
    assert.strictEqual(h.runTool(args.concat(['--checkpoint', empty])).status, 0, args.join(' '));
    assertFails(h.runTool(args.concat(['--checkpoint', zero])), pattern);
  }
});

test('audit --url: a server that does not answer fails and writes nothing', async () => {
  const dir = path.join(ctx.dir, 'down');
  fs.mkdirSync(dir);
  const other = await start(dir);
  await other.stop();
  const st = path.join(dir, 'new.state');
  const r = audit(other.url, ['--state', st]);
  assert.strictEqual(r.status, 1, r.stderr);
  assert.strictEqual(r.stdout, '');
  assert.match(r.stderr, /^sealtip: .*127\.0\.0\.1.*\n$/);
  assert.strictEqual(fs.existsSync(st), false);
});

test('audit --url --web-manifest: the built page passes; a changed, removed or unlisted file fails', () => {
  const manifest = fs.readFileSync(ctx.manifest, 'utf8');
  const lines = manifest.trimEnd().split('\n');
  // build.sh: sorted sha256sum lines of every file of the tree.
  const files = [];
  const walk = (d, pre) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), pre + e.name + '/');
      else if (!e.name.startsWith('.')) files.push(pre + e.name);
    }
  };
  walk(ctx.web, '');
  files.sort((x, y) => (Buffer.compare(Buffer.from(x), Buffer.from(y))));
  assert.deepStrictEqual(lines, files.map((f) =>
    crypto.createHash('sha256').update(fs.readFileSync(path.join(ctx.web, f))).digest('hex') + '  ' + f));
  assert.ok(files.includes('index.html') && files.includes('app.js') && files.includes('vendor/sodium.js'));
  const mhash = crypto.createHash('sha256').update(manifest).digest('hex');

  const ok = audit(ctx.srv.url, ['--web-manifest', ctx.manifest, '--state', ctx.state]);
  assert.strictEqual(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp('\\nweb ok: ' + files.length + ' files of ' + escape(ctx.manifest) + ' \\(sha256 ' + mhash +
    '\\) served byte for byte, / is index.html\\n$'));
  const state = fileState(ctx.state);

  // One byte of a served script.
  const js = path.join(ctx.web, 'receipt.js');
  const original = fs.readFileSync(js);
  const changed = Buffer.from(original);
  changed[100] ^= 0x01;
  fs.writeFileSync(js, changed);
  const gotHash = crypto.createHash('sha256').update(changed).digest('hex');
  assertFails(audit(ctx.srv.url, ['--web-manifest', ctx.manifest, '--state', ctx.state]),
    new RegExp('^sealtip: audit: ' + escape(ctx.srv.url) + ': web: receipt\\.js: the served bytes differ from ' + escape(ctx.manifest) +
      ' \\(sha256 ' + gotHash + ', the manifest says [0-9a-f]{64}\\): the server serves an altered file$'));
  fs.writeFileSync(js, original);

  // A file removed.
  const km = path.join(ctx.web, 'i18n', 'km.json');
  const kmBytes = fs.readFileSync(km);
  fs.rmSync(km);
  assertFails(audit(ctx.srv.url, ['--web-manifest', ctx.manifest, '--state', ctx.state]),
    new RegExp(': web: i18n/km\\.json: missing: the server answers 404 for a file of ' + escape(ctx.manifest) + '$'));
  fs.writeFileSync(km, kmBytes);

  // A manifest that leaves out a module the page imports (app.js imports
  // seal.js): the server serves it, so the audit names it.
  const partial = path.join(ctx.dir, 'partial.manifest');
  fs.writeFileSync(partial, lines.filter((l) => !l.endsWith('  seal.js')).join('\n') + '\n');
  assertFails(audit(ctx.srv.url, ['--web-manifest', partial, '--state', ctx.state]),
    new RegExp(': web: seal\\.js: served and linked from the page, but not in ' + escape(partial) + ': the server serves a file the build did not make$'));

  // Not served either: a 404 for it is counted, not an error (the bytes
  // served are all the manifest's).
  const sealJs = path.join(ctx.web, 'seal.js');
  const sealBytes = fs.readFileSync(sealJs);
  fs.rmSync(sealJs);
  const gap = audit(ctx.srv.url, ['--web-manifest', partial]);
  assert.strictEqual(gap.status, 0, gap.stderr);
  assert.match(gap.stdout, new RegExp('\\nweb ok: ' + (files.length - 1) + ' files of .* served byte for byte, / is index.html, ' +
    '1 linked path outside it answers 404\\n$'));
  fs.writeFileSync(sealJs, sealBytes);

  // A malformed manifest is refused before anything is asked of the server.
  const bad = path.join(ctx.dir, 'bad.manifest');
  for (const [content, pattern] of [
    [lines[1] + '\n' + lines[0] + '\n', /bad\.manifest: line 2: .* is out of order or listed twice/],
    [lines[0] + '\n' + lines[0] + '\n', /bad\.manifest: line 2: .* is out of order or listed twice/],
    [lines[0].toUpperCase() + '\n', /bad\.manifest: line 1: not '<sha256 in lowercase hex>  <relative path>'/],
    ['0'.repeat(64) + '  ../etc/passwd\n', /bad\.manifest: line 1: not /],
    ['0'.repeat(64) + '  .hidden\n', /bad\.manifest: line 1: not /],
    ['0'.repeat(64) + '  app.js\0x\n', /bad\.manifest: line 1: not /],
    ['0'.repeat(64) + '  sub//app.js\n', /bad\.manifest: line 1: not /],
    [lines[0], /bad\.manifest: line 1: no newline at its end/],
    ['', /bad\.manifest: lists no file/],
  ]) {
    fs.writeFileSync(bad, content);
    assertFails(audit(ctx.srv.url, ['--web-manifest', bad, '--state', ctx.state]), pattern);
  }
  // None of the failures touched the state.
  assert.strictEqual(fileState(ctx.state), state);
  const again = audit(ctx.srv.url, ['--web-manifest', ctx.manifest, '--state', ctx.state]);
  assert.strictEqual(again.status, 0, again.stderr);
});
