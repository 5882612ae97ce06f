// Abuse on loopback, bounded in count and time: a slowloris run against a
// small connection limit, and a flood of junk bodies, each while real
// submissions still get their 201. Figures go to the test log.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import net from 'node:net';
import * as h from './helpers.js';

const SLOW_CLIENTS = 200;
const MAX_CONNECTIONS = 32;

// One slowloris client: request headers one byte a second, never finished;
// cut off, it connects again (as an attacker would) until stopped.
function slowClient(srv, stats, { reconnect = true } = {}) {
  const head = Buffer.from('POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nX-Pad: ' + 'a'.repeat(200) + '\r\n');
  const c = { stopped: false, sock: null };
  const open = () => {
    if (c.stopped) return;
    const sock = net.connect({ port: srv.port, host: srv.host, localAddress: '127.0.0.1' });
    const start = Date.now();
    let i = 0;
    let timer = null;
    c.sock = sock;
    stats.opened++;
    sock.on('error', () => {});
    sock.on('connect', () => {
      sock.write(head.subarray(0, ++i));
      timer = setInterval(() => { if (i < head.length) sock.write(head.subarray(i, ++i)); }, 1000);
    });
    sock.on('close', () => {
      clearInterval(timer);
      if (c.stopped) return;
      stats.cut++;
      stats.lifetimes.push(Date.now() - start);
      if (reconnect) setTimeout(open, 50);
    });
  };
  open();
  c.stop = () => { c.stopped = true; if (c.sock) c.sock.destroy(); };
  return c;
}

test('slowloris: 200 slow clients against 32 connections, real reports still get in', async (t) => {
  const srv = await h.startServer({ timeout: 2, extraArgs: ['--max-connections', String(MAX_CONNECTIONS)] });
  t.after(() => srv.stop());
  const stats = { opened: 0, cut: 0, lifetimes: [] };
  const clients = [];
  for (let i = 0; i < SLOW_CLIENTS; i++) clients.push(slowClient(srv, stats));
  t.after(() => clients.forEach((c) => c.stop()));
  await h.sleep(2500); // every slot taken, the backlog full of slow ones

  const took = [];
  const receipts = [];
  for (const name of h.GOOD.slice(0, 2)) {
    const t0 = Date.now();
    const res = await h.post(srv, h.vector(name));
    took.push(Date.now() - t0);
    assert.strictEqual(res.status, 201, String(res.body));
    receipts.push(JSON.parse(String(res.body)));
  }
  const cutDuring = stats.cut;
  clients.forEach((c) => c.stop());
  t.diagnostic('slow clients ' + SLOW_CLIENTS + ', connections opened ' + stats.opened + ', cut by the server ' + cutDuring +
    ', longest held ' + Math.max(...stats.lifetimes) + ' ms; real submissions took ' + took.join(', ') + ' ms');
  // Bounded: each real one in well under the attack's reach.
  for (const ms of took) assert.ok(ms < 8000, 'a real submission took ' + ms + ' ms');
  // The slow ones were cut off: each would trickle for 250 s, none lasted
  // past the header deadline (2 s) plus its wait in the kernel's backlog.
  assert.ok(cutDuring >= SLOW_CLIENTS, 'only ' + cutDuring + ' slow connections were cut');
  for (const ms of stats.lifetimes) assert.ok(ms < 8000, 'a slow client held on for ' + ms + ' ms');
  assert.deepStrictEqual(receipts.map((r) => r.index), [0, 1]);
  await srv.stop();
  const m = /connections cut: (\d+) at the header deadline, (\d+) over the waiting budget/.exec(srv.stdout);
  assert.ok(m, srv.stdout);
  t.diagnostic('server: ' + m[0]);
  assert.ok(Number(m[1]) + Number(m[2]) >= SLOW_CLIENTS);
  const ex = h.parseExport(h.exportDb(srv.db).file);
  assert.deepStrictEqual(ex.entries.map((e) => e.leaf), h.GOOD.slice(0, 2).map((n) => h.leafHash(h.vector(n))));
});

test('slow clients within the waiting budget: cut at the header deadline, others unhindered', async (t) => {
  // 10 slow ones, the budget is 16 of 32: none is dropped early.
  const srv = await h.startServer({ timeout: 2, extraArgs: ['--max-connections', String(MAX_CONNECTIONS)] });
  t.after(() => srv.stop());
  const stats = { opened: 0, cut: 0, lifetimes: [] };
  const clients = [];
  for (let i = 0; i < 10; i++) clients.push(slowClient(srv, stats, { reconnect: false }));
  t.after(() => clients.forEach((c) => c.stop()));
  await h.sleep(500);
  const t0 = Date.now();
  const res = await h.post(srv, h.vector('basic'));
  const took = Date.now() - t0;
  assert.strictEqual(res.status, 201, String(res.body));
  assert.ok(took < 1000, 'the real submission took ' + took + ' ms');
  for (let i = 0; i < 100 && stats.cut < 10; i++) await h.sleep(50);
  t.diagnostic('real submission ' + took + ' ms; slow ones cut after ' + stats.lifetimes.join(', ') + ' ms');
  assert.strictEqual(stats.cut, 10);
  // The deadline is 2 s from accept, checked every 100 ms.
  for (const ms of stats.lifetimes) assert.ok(ms >= 1900 && ms < 3000, 'cut after ' + ms + ' ms');
  await srv.stop();
  assert.match(srv.stdout, /connections cut: 10 at the header deadline, 0 over the waiting budget/);
});

// Junk of every kind a flood might send; each resolves with its status (0
// when the server only closed the connection).
const JUNK = [
  // Bad magic: random bytes with a correct Content-Length.
  (srv) => h.post(srv, crypto.randomBytes(600)).then((r) => r.status),
  // A real envelope with its magic broken.
  (srv) => { const b = Buffer.from(h.vector('basic')); b[0] ^= 0xff; return h.post(srv, b).then((r) => r.status); },
  // The right preamble, a length that fits no chunk layout.
  (srv) => h.post(srv, Buffer.concat([h.vector('basic'), Buffer.alloc(7)])).then((r) => r.status),
  // Content-Length larger than the body, then the client goes away.
  (srv) => h.raw(srv, 'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n' + 'x'.repeat(100),
    { closeAfterWrite: true, waitMs: 3000 }).then(statusOf),
  // Content-Length smaller than the body: the rest is a bad next request.
  (srv) => h.raw(srv, 'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n' + 'y'.repeat(300),
    { closeAfterWrite: true, waitMs: 3000 }).then(statusOf),
  // No length at all, and a chunked body.
  (srv) => h.raw(srv, 'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    { closeAfterWrite: true, waitMs: 3000 }).then(statusOf),
  // Not HTTP.
  (srv) => h.raw(srv, crypto.randomBytes(300), { closeAfterWrite: true, waitMs: 3000 }).then(statusOf),
];

function statusOf(text) {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  return m ? Number(m[1]) : 0;
}

test('flood: junk bodies as fast as they go, real reports still stored, log intact', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const vkey = /^log verifier key (\S+)$/m.exec(srv.stdout)[1];
  const until = Date.now() + 4000;
  const statuses = {};
  let junk = 0;
  const flooder = async (k) => {
    for (let i = k; Date.now() < until; i++) {
      const s = await JUNK[i % JUNK.length](srv);
      statuses[s] = (statuses[s] || 0) + 1;
      junk++;
    }
  };
  const real = [];
  const realTook = [];
  const submitter = async () => {
    for (let i = 0; Date.now() < until; i++) {
      const env = h.vector(h.GOOD[i % h.GOOD.length]);
      const t0 = Date.now();
      const res = await h.post(srv, env);
      realTook.push(Date.now() - t0);
      assert.strictEqual(res.status, 201, String(res.body));
      real.push({ env, receipt: JSON.parse(String(res.body)) });
      await h.sleep(100);
    }
  };
  await Promise.all([0, 1, 2, 3, 4, 5].map(flooder).concat([submitter()]));
  t.diagnostic('junk requests ' + junk + ' ' + JSON.stringify(statuses) + '; real reports ' + real.length +
    ', slowest ' + Math.max(...realTook) + ' ms');
  // A floor, not a benchmark: the test files run side by side, and a junk
  // connection libmicrohttpd does not see closed waits for --timeout.
  assert.ok(junk >= 50, 'only ' + junk + ' junk requests in 4 s');
  assert.ok(real.length >= 10, 'only ' + real.length + ' real reports in 4 s');
  // Junk never stored, never a server error: 4xx, or the connection closed.
  for (const s of Object.keys(statuses).map(Number)) assert.ok(s === 0 || (s >= 400 && s < 500), 'junk got ' + s);
  await srv.stop();

  // The database holds the real reports and nothing else, in receipt order.
  const ex = h.parseExport(h.exportDb(srv.db).file);
  assert.deepStrictEqual(ex.entries.map((e) => e.leaf), real.map((r) => h.leafHash(r.env)));
  assert.deepStrictEqual(real.map((r) => r.receipt.index), real.map((_, i) => i));
  const au = h.runTool(['audit', srv.db, '--verifier-key', vkey]);
  assert.strictEqual(au.status, 0, au.stderr);
  assert.match(au.stdout, /^audit ok: /);
});
