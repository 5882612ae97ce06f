// A client trickling one byte a second must not hold up anyone else, and
// must be cut off: by the idle timeout when it stops, by the minimum upload
// rate when it keeps trickling.
import test from 'node:test';
import assert from 'node:assert';
import net from 'node:net';
import * as h from './helpers.js';

function trickle(srv, head, body, intervalMs) {
  const sock = net.connect({ port: srv.port, host: srv.host, localAddress: '127.0.0.1' });
  let i = 0;
  let timer;
  const closed = new Promise((resolve) => {
    const start = Date.now();
    sock.on('close', () => { clearInterval(timer); resolve(Date.now() - start); });
    sock.on('error', () => {});
  });
  sock.on('connect', () => {
    sock.write(head);
    timer = setInterval(() => {
      if (i < body.length && !sock.destroyed) sock.write(body.subarray(i, ++i));
    }, intervalMs);
  });
  return { sock, closed };
}

test('slow clients: others are served, and the slow one is cut off', async (t) => {
  const srv = await h.startServer({ timeout: 2 });
  t.after(() => srv.stop());
  const env = h.vector('basic');
  const head = 'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: ' + env.length + '\r\n\r\n';
  const slow = [];
  for (let i = 0; i < 5; i++) slow.push(trickle(srv, head, env, 1000));
  // Trickling the request headers themselves: libmicrohttpd's own timeout
  // restarts on every byte, the server's header deadline does not.
  const headers = Buffer.from('POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nX-Pad: ' + 'a'.repeat(100) + '\r\n');
  for (let i = 0; i < 3; i++) slow.push(trickle(srv, '', headers, 500));
  // A client that sends half its headers and then nothing.
  const idle = net.connect({ port: srv.port, host: srv.host, localAddress: '127.0.0.1' });
  idle.on('error', () => {});
  const idleClosed = new Promise((resolve) => {
    const start = Date.now();
    idle.on('close', () => resolve(Date.now() - start));
  });
  idle.on('connect', () => idle.write('GET / HTTP/1.1\r\nHo'));

  await h.sleep(300);
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: 10 }, () => h.post(srv, env)));
  for (const r of results) assert.strictEqual(r.status, 201);
  assert.ok(Date.now() - t0 < 2000, 'normal clients were held up: ' + (Date.now() - t0) + ' ms');

  // An unref'd timer: a pending deadline must not keep the test process alive.
  const deadline = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r(-1), ms).unref())]);
  for (const s of slow) {
    const ms = await deadline(s.closed, 8000);
    s.sock.destroy();
    assert.ok(ms > 0, 'trickling client was not cut off within 8 s');
    assert.ok(ms >= 1500, 'cut off too early: ' + ms);
  }
  const idleMs = await deadline(idleClosed, 8000);
  idle.destroy();
  assert.ok(idleMs > 0, 'idle client was not cut off within 8 s');
  // Nothing of theirs was stored.
  const ex = h.parseExport(h.exportDb(srv.db).file);
  assert.strictEqual(ex.entries.length, 10);
});

// An upload that stops (the page's Stop button, a closed laptop): its end
// comes right behind its last body bytes. The server must notice it at once
// and free the upload slot, not keep it until --timeout: with one slot, the
// next report is stored, not refused as busy. (libmicrohttpd's epoll mode
// missed that end; docs/server.md, "Threads".)
test('a stopped upload frees its slot at once', async (t) => {
  const srv = await h.startServer({ timeout: 30, extraArgs: ['--max-uploads', '1'] });
  t.after(() => srv.stop());
  const env = h.vector('basic');
  for (const [part, end] of [[100, 'end'], [100, 'destroy'], [env.length - 1, 'end']]) {
    const sock = net.connect({ port: srv.port, host: srv.host, localAddress: '127.0.0.1' });
    sock.on('error', () => {});
    await new Promise((resolve) => sock.on('connect', resolve));
    sock.write(`POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: ${env.length}\r\n\r\n`);
    await h.sleep(100); // the upload has its slot
    sock.write(env.subarray(0, part));
    if (end === 'end') sock.end();
    else sock.destroy();
    // "At once" is long before the 30 s timeout would free it: a loaded
    // machine (ASan, two cores) may take more than a moment to see the close.
    const started = Date.now();
    let res;
    do {
      await h.sleep(200);
      res = await h.post(srv, env);
    } while (res.status === 503 && Date.now() - started < 5000);
    assert.strictEqual(res.status, 201, `${part} bytes, then ${end}: ${res.body}`);
  }
  // The three posted reports and nothing of the stopped uploads: in the
  // database, and in the count the log writes at the stop.
  assert.strictEqual(h.parseExport(h.exportDb(srv.db).file).entries.length, 3);
  await srv.stop();
  assert.match(srv.stdout, new RegExp(`^sealtipd: \\d{4}-\\d\\d-\\d\\d(?: to the stop)?: 3 reports stored, ${3 * env.length} bytes$`, 'm'));
});
