// A folder whose fsync fails (a failing disk, injected with
// tests/tools/fail_dir_fsync.c): export, fetch and open leave nothing behind
// and say so in one line; submit, whose report is already stored by then,
// gives the receipt on standard output instead of losing it; audit --url
// fails rather than report a state it may not have kept.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';
import { padmeLength } from '../../web/envelope.js';

const TOKEN = 'unsynced-folder-export-token';
const FAIL_FSYNC = path.join(h.BUILD, 'tools', 'fail_dir_fsync.so');

// sealtip ARGS with every fsync of dir failing (EIO) once `after` went through.
function withFailingFsync(dir, args, after = 0) {
  const env = Object.assign({}, process.env, {
    LD_PRELOAD: FAIL_FSYNC,
    SEALTIP_TEST_FAIL_FSYNC_DIR: dir,
    SEALTIP_TEST_FAIL_FSYNC_AFTER: String(after),
    // ASan would refuse a library loaded before its own runtime.
    ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':'),
  });
  return h.runTool(args, { encoding: 'utf8', env });
}

test('unsynced folder: export, fetch, submit, audit and open of an export keep nothing they claim', async (t) => {
  const dir = h.tmpdir('sealtip-unsynced-');
  assert.strictEqual(h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]).status, 0);
  const pub = path.join(dir, 'inv.pub');
  const key = path.join(dir, 'inv.key');
  const srv = await h.startServer({ recipients: [pub], token: TOKEN });
  t.after(() => srv.stop());
  for (let i = 0; i < 3; i++) {
    const env = path.join(dir, `r${i}.env`);
    assert.strictEqual(h.runTool(['seal', '-r', pub, '--field', `what=report ${i}`, '-o', env]).status, 0);
    assert.strictEqual((await h.post(srv, fs.readFileSync(env))).status, 201);
  }
  const frail = path.join(dir, 'frail');
  fs.mkdirSync(frail);
  const empty = () => assert.deepStrictEqual(fs.readdirSync(frail), []);

  let r = withFailingFsync(frail, ['export', '--db', srv.db, '-o', path.join(frail, 'all.bin')]);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '', `sealtip: ${frail}/all.bin: Input/output error\n`]);
  empty();

  const token = path.join(dir, 'token');
  fs.writeFileSync(token, TOKEN + '\n', { mode: 0o600 });
  r = withFailingFsync(frail, ['fetch', srv.url, '--token-file', token, '-o', path.join(frail, 'all.bin')]);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '', `sealtip: ${frail}/all.bin: Input/output error\n`]);
  empty();

  // The report is stored before the receipt is written: exit 1, the receipt
  // whole on standard output.
  const before = h.dbState(srv);
  r = withFailingFsync(frail, ['submit', srv.url, path.join(dir, 'r0.env'), '-o', path.join(frail, 'receipt.json')]);
  assert.strictEqual(r.status, 1);
  assert.strictEqual(r.stderr, `sealtip: ${frail}/receipt.json: cannot write the receipt: Input/output error; ` +
    'report 3 is stored all the same, and its receipt follows on standard output\n');
  const receipt = JSON.parse(r.stdout);
  assert.strictEqual(receipt.index, 3);
  assert.strictEqual(receipt.leaf_hash, h.leafHash(fs.readFileSync(path.join(dir, 'r0.env'))));
  assert.notStrictEqual(h.dbState(srv), before);
  empty();
  // A folder that is not there is found before anything is sent.
  const stored = h.dbState(srv);
  r = h.runTool(['submit', srv.url, path.join(dir, 'r0.env'), '-o', path.join(dir, 'no-such', 'receipt.json')]);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '',
    `sealtip: ${dir}/no-such/receipt.json: cannot write there: No such file or directory; nothing was sent\n`]);
  assert.strictEqual(h.dbState(srv), stored);

  // Open of an export: the first report moves into place, the second cannot;
  // the first is taken back, and no .sealtip-log claims any of them.
  const all = path.join(dir, 'all.bin');
  assert.strictEqual(h.runTool(['export', '--db', srv.db, '-o', all]).status, 0);
  r = withFailingFsync(frail, ['open', '-k', key, '-o', frail, all], 1);
  assert.strictEqual(r.status, 1);
  assert.strictEqual(r.stdout, '');
  assert.strictEqual(r.stderr, `sealtip: warning: ${key} is not protected by a passphrase\n` +
    `sealtip: ${all}: entry 1: cannot move the report into ${frail}/report-000001: ` +
    'Input/output error; no report from it was kept\n');
  empty();

  // audit --url: the checks pass, the state file's rename may not last.
  const state = path.join(frail, 'audit.state');
  r = withFailingFsync(frail, ['audit', '--url', srv.url, '--state', state]);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr],
    [1, '', `sealtip: audit: ${state}: cannot sync its folder: Input/output error\n`]);
  fs.rmSync(state);

  // The fault touches only that folder: beside it, the same open keeps all four.
  r = withFailingFsync(path.join(dir, 'elsewhere'), ['open', '-k', key, '-o', frail, all]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.deepStrictEqual(fs.readdirSync(frail).sort(),
    ['.sealtip-log', 'report-000000', 'report-000001', 'report-000002', 'report-000003']);
});

// An envelope whose one attachment ("hello") does not match its manifest's
// sha256, sealed to pub by build/tools/vector_tool from a payload made here.
function mismatchedEnvelope(pub) {
  const data = Buffer.from('hello');
  const manifest = Buffer.from(JSON.stringify({ v: 1, form: 'bribery-report/1', lang: 'en', fields: { what: 'x' },
    files: [{ name: 'a.txt', type: 'text/plain', size: data.length, sha256: '0'.repeat(64) }] }));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(manifest.length);
  const unpadded = 4 + manifest.length + data.length;
  const payload = Buffer.concat([prefix, manifest, data, Buffer.alloc(padmeLength(unpadded) - unpadded)]);
  const r = spawnSync(path.join(h.BUILD, 'tools', 'vector_tool'), ['seal-payload', pub], { input: payload });
  assert.strictEqual(r.status, 0, String(r.stderr));
  return r.stdout;
}

// The line that says a report was kept with an attachment marked .UNVERIFIED
// comes only once every report of the export is in place: when a later one
// cannot be moved, the first is taken back, and no line says it was kept.
test('unsynced folder: no report of an export is said kept before all of them are', async (t) => {
  const dir = h.tmpdir('sealtip-unsynced-');
  assert.strictEqual(h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]).status, 0);
  const pub = path.join(dir, 'inv.pub');
  const key = path.join(dir, 'inv.key');
  const srv = await h.startServer({ recipients: [pub] });
  t.after(() => srv.stop());
  assert.strictEqual((await h.post(srv, mismatchedEnvelope(pub))).status, 201);
  const good = path.join(dir, 'good.env');
  assert.strictEqual(h.runTool(['seal', '-r', pub, '--field', 'what=fine', '-o', good]).status, 0);
  assert.strictEqual((await h.post(srv, fs.readFileSync(good))).status, 201);
  const all = path.join(dir, 'all.bin');
  assert.strictEqual(h.runTool(['export', '--db', srv.db, '-o', all]).status, 0);
  const warning = `sealtip: warning: ${key} is not protected by a passphrase\n`;

  const frail = path.join(dir, 'frail');
  fs.mkdirSync(frail);
  let r = withFailingFsync(frail, ['open', '-k', key, '-o', frail, all], 1);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '', warning +
    `sealtip: ${all}: entry 1: cannot move the report into ${frail}/report-000001: Input/output error; no report from it was kept\n`]);
  assert.deepStrictEqual(fs.readdirSync(frail), []);

  r = h.runTool(['open', '-k', key, '-o', frail, all], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, new RegExp(`^sealtip: ${all}: entry 0: 1 attachment did not match the manifest's sha256; ` +
    `kept in ${frail}/report-000000, marked \\.UNVERIFIED$`, 'm'));
  assert.ok(fs.existsSync(path.join(frail, 'report-000000', 'files', '01-a.txt.UNVERIFIED')));
});
