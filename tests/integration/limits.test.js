// Resource limits (docs/server.md, "Limits"): the storage quota, the free-disk
// reserve, a really full disk, the cap on uploads received at once, and no
// file descriptor left for a spool file. Each refusal is checked for its
// status, its JSON and that nothing was written.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';

const BASIC = h.vector('basic'); // 570 bytes
const SMALL = h.vector('bad-manifest-not-json'); // 150 bytes: the server cannot see inside

// An upload whose headers and first `sent` body bytes are on their way; the
// rest goes with finish(). reply resolves with the status line and body.
function partialUpload(srv, body, sent) {
  const sock = net.connect({ port: srv.port, host: srv.host, localAddress: '127.0.0.1' });
  const parts = [];
  sock.on('error', () => {});
  sock.on('data', (d) => parts.push(d));
  const reply = new Promise((resolve) => sock.on('close', () => {
    const text = Buffer.concat(parts).toString('latin1');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
    const json = text.includes('\r\n\r\n') ? text.slice(text.indexOf('\r\n\r\n') + 4) : '';
    resolve({ status: m ? Number(m[1]) : 0, text, body: json });
  }));
  const connected = new Promise((resolve) => sock.on('connect', resolve));
  connected.then(() => sock.write(Buffer.concat([
    Buffer.from('POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ' + body.length + '\r\n\r\n'),
    body.subarray(0, sent)])));
  return {
    sock,
    reply,
    finish: () => connected.then(() => sock.write(body.subarray(sent))),
  };
}

// What "nothing was written" means: the database, its WAL, and every name in
// the data folder (a spool file left behind would show here).
function state(srv) {
  return { db: h.dbState(srv), names: fs.readdirSync(srv.data).sort() };
}

function assertRefused(res, status, code) {
  assert.strictEqual(res.status, status, String(res.body));
  const j = JSON.parse(String(res.body));
  assert.strictEqual(j.error, code);
  assert.strictEqual(typeof j.message, 'string');
  assert.ok(j.message.length > 10);
}

// The server's count of an event, a line of its own that the stop writes
// (docs/server.md, "What is logged"): "sealtipd: LABEL: TEXT (N times)",
// LABEL the UTC day, or an hour, and "to the stop".
function counted(text, n) {
  const label = '\\d{4}-\\d\\d-\\d\\d(?: \\d\\d:00(?:-\\d\\d:00)? UTC)?(?: to the stop)?';
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^sealtipd: ${label}: ${escaped} \\(${n} times?\\)$`, 'm');
}

function count(srv) {
  return h.parseExport(h.exportDb(srv.db).file).entries.length;
}

test('quota: full at the limit, reports in flight count, restart reads the total', async (t) => {
  // Room for three 570-byte reports and 300 bytes more.
  const quota = 3 * BASIC.length + 300;
  const srv = await h.startServer({ extraArgs: ['--max-stored-bytes', String(quota)] });
  t.after(() => srv.stop());
  for (let i = 0; i < 3; i++) {
    const r = await h.post(srv, BASIC);
    assert.strictEqual(r.status, 201, r.body.toString());
  }
  const before = state(srv);
  const full = await h.post(srv, BASIC);
  assertRefused(full, 507, 'quota_full');
  assert.deepStrictEqual(state(srv), before);
  // A smaller one still fits: 1710 + 150 <= 2010.
  assert.strictEqual((await h.post(srv, SMALL)).status, 201);
  assert.strictEqual(count(srv), 4);
  await srv.stop();
  // For the operator to act on: on stderr, by the hour.
  assert.match(srv.stderr, counted('report refused: 507 quota_full', 1));

  // Restarted, the total comes from the database: 1860 stored.
  const again = await h.startServer({ dir: srv.dir, extraArgs: ['--max-stored-bytes', String(quota)] });
  t.after(() => again.stop());
  const before2 = state(again);
  assertRefused(await h.post(again, BASIC), 507, 'quota_full');
  assert.deepStrictEqual(state(again), before2);
  // Exactly at the quota still fits (1860 + 150 = 2010), one byte over does not.
  assert.strictEqual((await h.post(again, SMALL)).status, 201);
  const before3 = state(again);
  assertRefused(await h.post(again, SMALL), 507, 'quota_full');
  assert.deepStrictEqual(state(again), before3);
  assert.strictEqual(count(again), 5);
});

test('quota: an upload in flight holds its bytes until it ends, however it ends', async (t) => {
  const srv = await h.startServer({ extraArgs: ['--max-stored-bytes', String(BASIC.length + 100)] });
  t.after(() => srv.stop());
  // A client that vanishes mid-body gives its reservation back.
  const gone = partialUpload(srv, BASIC, 100);
  await h.sleep(300);
  assertRefused(await h.post(srv, BASIC), 507, 'quota_full');
  gone.sock.destroy();
  await h.sleep(300);
  // Now one is received slowly while another asks: the second is refused
  // although the database alone has room.
  const first = partialUpload(srv, BASIC, 100);
  await h.sleep(300);
  const before = state(srv);
  assertRefused(await h.post(srv, BASIC), 507, 'quota_full');
  assert.deepStrictEqual(state(srv), before);
  await first.finish();
  const r = await first.reply;
  assert.strictEqual(r.status, 201, r.text);
  assert.strictEqual(JSON.parse(r.body).index, 0);
  // Stored: 570 of 670 used, so 150 more does not fit either.
  assertRefused(await h.post(srv, SMALL), 507, 'quota_full');
  assert.strictEqual(count(srv), 1);
});

test('disk reserve: a reserve above the free space refuses before a byte is read', async (t) => {
  const dir = h.tmpdir();
  fs.mkdirSync(path.join(dir, 'data'));
  const st = fs.statfsSync(path.join(dir, 'data'));
  const free = st.bavail * st.bsize;
  const big = h.vector('chunk-boundary'); // 131227 bytes: would be spooled to a file
  // A GiB above: the disk is shared, and others free space while this runs.
  const srv = await h.startServer({ dir, extraArgs: ['--disk-reserve-bytes', String(free + 1024 * 1024 * 1024)] });
  t.after(() => srv.stop());
  const before = state(srv);
  for (const env of [BASIC, big]) {
    const res = await h.post(srv, env);
    assertRefused(res, 507, 'disk_full');
    assert.strictEqual(res.headers['cache-control'], 'no-store');
  }
  assert.deepStrictEqual(state(srv), before);
  assert.strictEqual(count(srv), 0);
  await srv.stop();

  // The same folder with a reserve well below the free space takes both.
  const st2 = fs.statfsSync(path.join(dir, 'data'));
  const reserve = st2.bavail * st2.bsize - 1024 * 1024 * 1024;
  const ok = await h.startServer({ dir, extraArgs: ['--disk-reserve-bytes', String(reserve)] });
  t.after(() => ok.stop());
  assert.strictEqual((await h.post(ok, BASIC)).status, 201);
  assert.strictEqual((await h.post(ok, big)).status, 201);
  assert.strictEqual(count(ok), 2);
});

test('max uploads: the one over the cap gets 503 busy with Retry-After, then all pass', async (t) => {
  const srv = await h.startServer({ extraArgs: ['--max-uploads', '2'] });
  t.after(() => srv.stop());
  const a = partialUpload(srv, BASIC, 50);
  const b = partialUpload(srv, BASIC, 50);
  await h.sleep(300);
  const before = state(srv);
  const busy = await h.post(srv, BASIC);
  assertRefused(busy, 503, 'busy');
  assert.strictEqual(busy.headers['retry-after'], '5');
  assert.strictEqual(busy.headers['content-type'], 'application/json');
  assert.deepStrictEqual(state(srv), before);
  await a.finish();
  await b.finish();
  const ra = await a.reply;
  const rb = await b.reply;
  assert.strictEqual(ra.status, 201, ra.text);
  assert.strictEqual(rb.status, 201, rb.text);
  // Bodies all in: the slots are free, even for two at once.
  const rs = await Promise.all([h.post(srv, BASIC), h.post(srv, BASIC)]);
  assert.deepStrictEqual(rs.map((r) => r.status), [201, 201]);
  assert.strictEqual(count(srv), 4);
  await srv.stop();
  assert.match(srv.stdout, counted('report refused: 503 busy', 1));
});

// A small file system of our own for the data folder: a tmpfs, mounted here
// (root) and removed afterwards.
function mountTmpfs(dir, bytes) {
  fs.mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=' + bytes + ',mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('cannot mount a tmpfs on ' + dir + ' (as root): ' + r.stderr);
}

// Fills the file system under dir until ENOSPC; returns the file's path.
function fill(dir, name) {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'a');
  for (const chunk of [1 << 20, 65536, 4096, 512, 1]) {
    const buf = Buffer.alloc(chunk, 0x55);
    for (;;) {
      try {
        if (fs.writeSync(fd, buf) < chunk) break;
      } catch (e) {
        if (e.code !== 'ENOSPC') throw e;
        break;
      }
    }
  }
  fs.closeSync(fd);
  return file;
}

test('really full disk: 507, nothing half-stored, recovers without a restart', async (t) => {
  if (process.getuid() !== 0) {
    t.skip('needs root to mount a small tmpfs for the data folder');
    return;
  }
  const dir = h.tmpdir('sealtip-full-');
  const kg = h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]);
  assert.strictEqual(kg.status, 0, kg.stderr);
  // Envelopes of our own, so every stored one can be opened at the end:
  // small ones (kept in memory until the commit) and large ones (spooled).
  const sealed = [];
  fs.writeFileSync(path.join(dir, 'scan.bin'), crypto.randomBytes(100000));
  for (let i = 0; i < 8; i++) {
    const out = path.join(dir, 'r' + i + '.env');
    const args = ['seal', '-r', path.join(dir, 'inv.pub'), '-o', out, '--field', 'what=asked for $' + (100 + i)];
    if (i % 2 === 1) args.push('--file', path.join(dir, 'scan.bin'));
    const r = h.runTool(args);
    assert.strictEqual(r.status, 0, r.stderr);
    sealed.push(fs.readFileSync(out));
  }
  const small = sealed.filter((e) => e.length <= 32768);
  const large = sealed.filter((e) => e.length > 32768);
  assert.ok(small.length === 4 && large.length === 4);

  mountTmpfs(path.join(dir, 'data'), 8 * 1024 * 1024);
  t.after(() => spawnSync('umount', ['-l', path.join(dir, 'data')]));
  const srv = await h.startServer({ dir, recipients: [path.join(dir, 'inv.pub')], extraArgs: ['--disk-reserve-bytes', '0'] });
  t.after(() => srv.stop());
  const vkey = /^log verifier key (\S+)$/m.exec(srv.stdout)[1];
  const stored = []; // envelopes that got a 201
  const receipts = [];
  const submit = async (env) => {
    const res = await h.post(srv, env);
    assert.strictEqual(res.status, 201, String(res.body));
    const receipt = JSON.parse(String(res.body));
    assert.strictEqual(receipt.leaf_hash, h.leafHash(env));
    // One commit each: the tree the receipt was made from is exactly the
    // stored reports, failed commits included in nothing.
    assert.strictEqual(receipt.tree_size, receipt.index + 1);
    assert.strictEqual(receipt.index, stored.length);
    stored.push(env);
    receipts.push(receipt);
  };
  await submit(small[0]);
  await submit(large[0]);

  // The commit meets the full disk: admitted while there was room, then the
  // disk fills before the body is in (the body is small: no spool file).
  let up = partialUpload(srv, small[1], 100);
  await h.sleep(300);
  let filler = fill(srv.data, 'filler');
  let before = state(srv);
  await up.finish();
  let r = await up.reply;
  assert.strictEqual(r.status, 507, r.text);
  assert.strictEqual(JSON.parse(r.body).error, 'disk_full');
  assert.strictEqual(count(srv), 2);
  assert.deepStrictEqual(state(srv).names, before.names);

  // The spool file meets the full disk.
  fs.unlinkSync(filler);
  up = partialUpload(srv, large[1], 1000);
  await h.sleep(300);
  filler = fill(srv.data, 'filler');
  before = state(srv);
  await up.finish();
  r = await up.reply;
  assert.strictEqual(r.status, 507, r.text);
  assert.strictEqual(JSON.parse(r.body).error, 'disk_full');
  assert.strictEqual(count(srv), 2);
  assert.deepStrictEqual(state(srv), before);

  // Full at the headers: refused before a byte of the body.
  assertRefused(await h.post(srv, small[2]), 507, 'disk_full');
  assert.deepStrictEqual(state(srv), before);

  // Space comes back: the very next submissions go through, same process.
  fs.unlinkSync(filler);
  await submit(small[1]);
  await submit(large[1]);
  await submit(small[2]);
  await submit(large[2]);
  const ex = h.parseExport(h.exportDb(srv.db).file);
  assert.deepStrictEqual(ex.entries.map((e) => e.leaf), stored.map((e) => h.leafHash(e)));
  assert.deepStrictEqual(ex.entries.map((e) => e.index), [0, 1, 2, 3, 4, 5]);
  await srv.stop();
  // Said on stderr by the hour: why the commit failed, and the three 507s.
  assert.ok(counted('commit failed: database or disk is full', 1).test(srv.stderr) ||
    counted('a report could not be stored: database or disk is full', 1).test(srv.stderr), srv.stderr);
  assert.match(srv.stderr, counted('report refused: 507 disk_full', 3));

  // Whole and consistent on disk: sqlite's own check, the log audit, and
  // every report that got a 201 opens.
  const ic = spawnSync('sqlite3', [srv.db, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
  assert.strictEqual(ic.stdout.trim(), 'ok', ic.stderr);
  // The receipts' checkpoints and proofs, made from the writer's memory
  // after the failed commits, match the database.
  const receiptFiles = receipts.map((r, i) => {
    const f = path.join(dir, 'receipt' + i + '.json');
    fs.writeFileSync(f, JSON.stringify(r));
    return f;
  });
  const au = h.runTool(['audit', srv.db, '--verifier-key', vkey].concat(...receiptFiles.map((f) => ['--checkpoint', f])));
  assert.strictEqual(au.status, 0, au.stderr);
  assert.match(au.stdout, /^audit ok: /);
  const exportFile = path.join(dir, 'export.bin');
  fs.writeFileSync(exportFile, h.exportDb(srv.db).file);
  const outDir = path.join(dir, 'opened');
  const op = h.runTool(['open', '-k', path.join(dir, 'inv.key'), '-o', outDir, exportFile]);
  assert.strictEqual(op.status, 0, op.stderr);
  assert.match(op.stdout, /opened 6 reports, indexes 0 to 5, into /);
});

test('no file descriptor left for a spool file: 503 storage_failed, said on stderr, nothing stored', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  const pid = String(srv.child.pid);
  const before = h.dbState(srv);
  // Room for the connection's socket and not one more: the spool file fails.
  const open = fs.readdirSync(`/proc/${pid}/fd`).length;
  assert.strictEqual(spawnSync('prlimit', ['--pid', pid, `--nofile=${open + 1}:4096`]).status, 0);
  assertRefused(await h.post(srv, h.vector('chunk-boundary')), 503, 'storage_failed');
  assert.strictEqual(h.dbState(srv), before);
  assert.deepStrictEqual(fs.readdirSync(srv.data).sort(), ['log.key', 'log.key.used', 'reports.db', 'reports.db-shm', 'reports.db-wal']);
  // Descriptors again: the very next upload is stored.
  assert.strictEqual(spawnSync('prlimit', ['--pid', pid, '--nofile=4096:4096']).status, 0);
  assert.strictEqual((await h.post(srv, h.vector('chunk-boundary'))).status, 201);
  await srv.stop();
  assert.match(srv.stderr, counted('spool file: Too many open files', 1));
  assert.match(srv.stderr, counted('report refused: 503 storage_failed', 1));
});
