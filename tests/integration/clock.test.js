// sealtipd against a wall clock the test sets (tests/tools/fake_clock.c,
// preloaded): the counts of docs/server.md, "What is logged", go out when a
// UTC hour or day ends while the server runs, labelled with the span a
// suspended machine slept through; a clock set back starts the periods
// again; and no deadline of the server waits on the wall clock.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as h from './helpers.js';

// The server's wall clock: set(iso) makes it read iso from now on, and run
// on from there at the real pace.
function fakeClock(dir) {
  const file = path.join(dir, 'clock');
  fs.writeFileSync(file, Buffer.alloc(8));
  return {
    env: {
      LD_PRELOAD: path.join(h.BUILD, 'tools', 'fake_clock.so'),
      SEALTIP_TEST_CLOCK_FILE: file,
      ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':'),
    },
    set(iso) {
      const offset = Buffer.alloc(8);
      offset.writeBigInt64LE((BigInt(Date.parse(iso)) - BigInt(Date.now())) * 1000000n);
      // In place: a truncated file would fault the server's mapping of it.
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, offset, 0, 8, 0);
      fs.closeSync(fd);
    },
  };
}

// Refused from its headers, whatever the quota: counted by the day.
async function postTooLarge(srv) {
  const answer = await h.raw(srv,
    'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 999999999999\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 413 /);
}

// Resolves once srv's stream has grown by text, or fails after 5 s with
// what it did get; then nothing else may come.
async function expectLines(srv, stream, from, text) {
  const start = Date.now();
  while (srv[stream].length < from + text.length && Date.now() - start < 5000) await h.sleep(50);
  assert.strictEqual(srv[stream].slice(from), text);
}

test('server log: counts written at the end of the UTC hour and day, over a suspend, and after the clock is set back', async (t) => {
  const dir = h.tmpdir();
  const clock = fakeClock(dir);
  const good = ['basic', 'two-recipients', 'hostile-names'].map(h.vector);
  const goodBytes = good.reduce((n, e) => n + e.length, 0);
  clock.set('2026-11-28T23:50:00Z');
  const srv = await h.startServer({ dir, env: clock.env, extraArgs: ['--max-stored-bytes', String(goodBytes + 100)] });
  t.after(() => srv.stop());
  let out = srv.stdout.length, err = srv.stderr.length;

  // 2026-11-28, 23:50: three stored, three refused, one refused for a full
  // quota (an operator's matter, so by the hour on stderr). No line yet.
  assert.strictEqual((await h.post(srv, h.vector('bad-truncated'))).status, 422);
  assert.strictEqual((await h.post(srv, h.vector('bad-nrecip-0'))).status, 422);
  assert.strictEqual((await h.post(srv, h.vector('bad-truncated'))).status, 422);
  for (const e of good) {
    const r = await h.post(srv, e);
    assert.strictEqual(r.status, 201);
    assert.strictEqual(JSON.parse(r.body).day, '2026-11-28');
  }
  assert.strictEqual(JSON.parse((await h.post(srv, h.vector('basic'))).body).error, 'quota_full');
  await h.sleep(300);
  assert.strictEqual(srv.stdout.length, out);
  assert.strictEqual(srv.stderr.length, err);

  // Midnight passes (the clock runs over it, no step): the day's lines and
  // the hour's, while the server runs, not at its stop.
  clock.set('2026-11-28T23:59:59.600Z');
  await expectLines(srv, 'stderr', err,
    'sealtipd: 2026-11-28 23:00-00:00 UTC: report refused: 507 quota_full (1 time)\n');
  await expectLines(srv, 'stdout', out,
    `sealtipd: 2026-11-28: 3 reports stored, ${goodBytes} bytes\n` +
    'sealtipd: 2026-11-28: report refused: 422 bad_recipient_count (1 time)\n' +
    'sealtipd: 2026-11-28: report refused: 422 not_padded (2 times)\n');
  out = srv.stdout.length;
  err = srv.stderr.length;

  // 2026-11-29, 00:00: one refusal of each kind; then the machine sleeps
  // until 2026-12-01 05:10. Its lines say the whole span, and the days with
  // nothing stored still have their line.
  await postTooLarge(srv);
  assert.strictEqual((await h.post(srv, h.vector('basic'))).status, 507);
  await h.sleep(300);
  assert.strictEqual(srv.stdout.length, out);
  assert.strictEqual(srv.stderr.length, err);
  clock.set('2026-12-01T05:10:00Z');
  await expectLines(srv, 'stderr', err,
    'sealtipd: 2026-11-29 00:00-2026-12-01 05:00 UTC: report refused: 507 quota_full (1 time)\n');
  await expectLines(srv, 'stdout', out,
    'sealtipd: 2026-11-29 to 2026-11-30: 0 reports stored, 0 bytes\n' +
    'sealtipd: 2026-11-29 to 2026-11-30: report refused: 413 too_large (1 time)\n');
  out = srv.stdout.length;
  err = srv.stderr.length;

  // The clock set back a day: nothing is written for it, and what comes
  // next is counted for the day the clock now says.
  clock.set('2026-11-30T10:00:00Z');
  await h.sleep(300);
  await postTooLarge(srv);
  await srv.stop();
  assert.strictEqual(srv.stdout.slice(out),
    'sealtipd: stopping\n' +
    'sealtipd: 2026-11-30 to the stop: 0 reports stored, 0 bytes\n' +
    'sealtipd: 2026-11-30 to the stop: report refused: 413 too_large (1 time)\n' +
    'sealtipd: stopped; 3 reports stored in 3 commits\n' +
    'sealtipd: connections cut: 0 at the header deadline, 0 over the waiting budget\n');
  assert.strictEqual(srv.stderr.slice(err), '');
  const entries = h.parseExport(h.exportDb(srv.db).file).entries;
  assert.deepStrictEqual(entries.map((e) => e.day), ['2026-11-28', '2026-11-28', '2026-11-28']);
});

test('a clock set back does not hold back the header deadline', async (t) => {
  const dir = h.tmpdir();
  const clock = fakeClock(dir);
  clock.set('2026-11-29T12:00:00Z');
  const srv = await h.startServer({ dir, env: clock.env, timeout: 2 });
  t.after(() => srv.stop());
  // An NTP step back by an hour, while the server's threads wait.
  clock.set('2026-11-29T11:00:00Z');
  await h.sleep(300);
  // Request headers at a byte every half second: libmicrohttpd's idle
  // timeout never fires, only the server's header deadline can cut it.
  const sock = net.connect({ port: srv.port, host: srv.host, localAddress: '127.0.0.1' });
  sock.on('error', () => {});
  const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ' + 'a'.repeat(100) + '\r\n');
  let i = 0, timer;
  const start = Date.now();
  const closed = new Promise((resolve) => sock.on('close', () => { clearInterval(timer); resolve(Date.now() - start); }));
  sock.on('connect', () => {
    timer = setInterval(() => { if (i < head.length && !sock.destroyed) sock.write(head.subarray(i, ++i)); }, 500);
  });
  const ms = await Promise.race([closed, new Promise((r) => setTimeout(() => r(-1), 8000).unref())]);
  sock.destroy();
  clearInterval(timer);
  assert.ok(ms > 0, 'the trickling client was not cut within 8 s');
  assert.ok(ms >= 1500, 'cut too early: ' + ms + ' ms');
  await srv.stop();
  assert.match(srv.stdout, /^sealtipd: connections cut: 1 at the header deadline, 0 over the waiting budget$/m);
});

test('a clock set back over midnight never stores an earlier day, is said at times no upload chose, and the log still audits', async (t) => {
  const dir = h.tmpdir();
  const clock = fakeClock(dir);
  const days = async (srv, name) => {
    const r = await h.post(srv, h.vector(name));
    assert.strictEqual(r.status, 201, r.body.toString());
    const receipt = JSON.parse(r.body);
    return [receipt.index, receipt.day];
  };
  const behind = (label, clockDay, stored) => `sealtipd: ${label}: the clock says ${clockDay}, before the latest stored day ` +
    `${stored}: reports are stored under ${stored} until the clock reaches it (is the clock right?)\n`;
  clock.set('2026-12-01T00:00:10Z');
  let srv = await h.startServer({ dir, env: clock.env });
  t.after(() => srv.stop());
  assert.deepStrictEqual(await days(srv, 'basic'), [0, '2026-12-01']);
  // A step back over midnight (two days, a wrong clock corrected) while
  // the server runs: the day stays. Said with the stop's lines, not at the
  // upload.
  clock.set('2026-11-29T23:59:00Z');
  const err = srv.stderr.length;
  assert.deepStrictEqual(await days(srv, 'two-recipients'), [1, '2026-12-01']);
  await h.sleep(300);
  assert.strictEqual(srv.stderr.length, err);
  await srv.stop();
  assert.ok(srv.stderr.slice(err).includes(behind('2026-11-29 to the stop', '2026-11-29', '2026-12-01')), srv.stderr);
  // A restart with the clock still behind (the latest day is read from the
  // database): said at the start, and when a day ends still behind.
  clock.set('2026-11-29T23:59:40Z');
  srv = await h.startServer({ dir, env: clock.env });
  assert.match(srv.stderr, /^sealtipd: warning: the latest stored day 2026-12-01 is after today by the clock, 2026-11-29: reports are stored under 2026-12-01 until the clock reaches it \(is the clock right\?\)$/m);
  assert.deepStrictEqual(await days(srv, 'chunk-boundary'), [2, '2026-12-01']);
  const before = srv.stderr.length;
  clock.set('2026-11-29T23:59:59.600Z');
  await expectLines(srv, 'stderr', before, behind('2026-11-29', '2026-11-30', '2026-12-01'));
  // Once the clock passes the stored day, days go on from it, unsaid.
  clock.set('2026-12-02T00:00:05Z');
  assert.deepStrictEqual(await days(srv, 'hostile-names'), [3, '2026-12-02']);
  const after = srv.stderr.length;
  await srv.stop();
  assert.doesNotMatch(srv.stderr.slice(after), /before the latest stored day/);
  const entries = h.parseExport(h.exportDb(srv.db).file).entries;
  assert.deepStrictEqual(entries.map((e) => e.day), ['2026-12-01', '2026-12-01', '2026-12-01', '2026-12-02']);
  const audit = h.runTool(['audit', srv.db]);
  assert.strictEqual(audit.status, 0, audit.stdout + audit.stderr);
  assert.match(audit.stdout, /^audit ok: /);
});
