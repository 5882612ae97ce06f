// The HTTP client of fetch, submit and audit --url gives up on a server that
// stalls or trickles (--timeout S, default 60): no answer, or response
// headers not all there, within S seconds; a body sent or taken at under
// 1 KiB/s over a whole S. Each case leaves nothing written. A server that
// keeps the pace, however slowly, is waited for.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as h from './helpers.js';

// sealtip ARGS without blocking: the servers here answer from this process.
function run(args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(h.SEALTIP, args);
    const [out, err] = [[], []];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (status) => resolve({
      status, seconds: (Date.now() - started) / 1000,
      stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(),
    }));
  });
}

// A loopback server that calls behave(sock) once a request's first bytes
// came; the sockets are destroyed when the test ends. -> url
async function server(t, behave) {
  const sockets = new Set();
  const srv = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.once('data', (d) => behave(sock, d));
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => { for (const s of sockets) s.destroy(); srv.close(); });
  return `http://127.0.0.1:${srv.address().port}/`;
}

// Writes buf in pieces of size every ms milliseconds, then ends; the timer
// stops when the socket goes.
function trickle(sock, buf, size, ms) {
  let at = 0;
  const timer = setInterval(() => {
    if (sock.destroyed) { clearInterval(timer); return; }
    sock.write(buf.subarray(at, at + size));
    at += size;
    if (at >= buf.length) { clearInterval(timer); sock.end(); }
  }, ms);
  sock.on('close', () => clearInterval(timer));
}

const ok200 = (length) => Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`);

// One real export file to serve, and a folder with a token for fetch.
const ctx = {};
test.before(async () => {
  const srv = await h.startServer({});
  try {
    for (const name of h.GOOD) assert.strictEqual((await h.post(srv, h.vector(name))).status, 201);
    ctx.file = h.exportDb(srv.db).file;
  } finally {
    await srv.stop();
  }
  ctx.dir = h.tmpdir('sealtip-pace-');
  ctx.token = path.join(ctx.dir, 'token');
  fs.writeFileSync(ctx.token, 'any-token-of-sixteen-bytes\n', { mode: 0o600 });
  ctx.n = 0;
});

// fetch into a new folder: -> {r, out (the folder's listing afterwards)}
async function fetchFrom(url, timeout) {
  const outDir = path.join(ctx.dir, 'out-' + ctx.n++);
  fs.mkdirSync(outDir);
  const r = await run(['fetch', url, '--token-file', ctx.token, '--timeout', String(timeout), '-o', path.join(outDir, 'export.bin')]);
  return { r, out: fs.readdirSync(outDir), file: path.join(outDir, 'export.bin') };
}

test('pace: a listener that never accepts: no connection within --timeout', async (t) => {
  // A stopped process's listening socket, its queue of one filled: the
  // kernel drops further SYNs, so connect() waits.
  const child = spawn(process.execPath, ['-e', `
    const s = require('node:net').createServer(() => {});
    s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port));`]);
  const sockets = [];
  t.after(() => { child.kill('SIGKILL'); for (const s of sockets) s.destroy(); });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  child.kill('SIGSTOP');
  for (let i = 0; i < 4; i++) sockets.push(net.connect(port, '127.0.0.1').on('error', () => {}));
  await h.sleep(300);
  const { r, out } = await fetchFrom(`http://127.0.0.1:${port}/`, 1);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr, out], [1, '', `sealtip: 127.0.0.1 port ${port}: no connection within 1 s\n`, []]);
  assert.ok(r.seconds < 10, `gave up after ${r.seconds} s`);
});

test('pace: a server that does not answer, or not all its headers, within --timeout', async (t) => {
  const silent = await server(t, () => {});
  const { r, out } = await fetchFrom(silent, 1);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr, out], [1, '', `sealtip: ${silent}: no answer within 1 s\n`, []]);
  assert.ok(r.seconds < 10, `gave up after ${r.seconds} s`);

  // Four KiB a second of header lines that never end: above the pace, so
  // only the headers' own deadline (one timeout in all) ends the wait.
  const slowHeaders = await server(t, (sock) => trickle(sock, Buffer.from('HTTP/1.1 200 OK\r\n' + 'X-Padding: 0123456789\r\n'.repeat(600)), 200, 50));
  const second = await fetchFrom(slowHeaders, 2);
  assert.deepStrictEqual([second.r.status, second.r.stdout, second.r.stderr, second.out],
    [1, '', `sealtip: ${slowHeaders}: the response headers did not all come within 2 s\n`, []]);
  assert.ok(second.r.seconds < 10, `gave up after ${second.r.seconds} s`);

  const audit = await run(['audit', '--url', silent, '--timeout', '1', '--state', path.join(ctx.dir, 'audit.state')]);
  assert.deepStrictEqual([audit.status, audit.stdout, audit.stderr], [1, '', `sealtip: ${silent}: no answer within 1 s\n`]);
  assert.strictEqual(fs.existsSync(path.join(ctx.dir, 'audit.state')), false);
});

test('pace: a body that stops, or trickles under 1 KiB/s, is given up on; nothing is written', async (t) => {
  const stops = await server(t, (sock) => sock.write(Buffer.concat([ok200(ctx.file.length), ctx.file.subarray(0, 500)])));
  const first = await fetchFrom(stops, 1);
  assert.deepStrictEqual([first.r.status, first.r.stdout, first.r.stderr, first.out],
    [1, '', `sealtip: ${stops}: the server sent nothing for 1 s, after 500 bytes of the response\n`, []]);

  // 128 bytes every 250 ms, 512 B/s: the whole file would take minutes.
  const slow = await server(t, (sock) => {
    sock.write(ok200(ctx.file.length));
    trickle(sock, ctx.file, 128, 250);
  });
  const second = await fetchFrom(slow, 1);
  const m = new RegExp(`^sealtip: ${slow}: the server sent only (\\d+) bytes in 1 s, under 1 KiB/s, after (\\d+) bytes of the response\\n$`).exec(second.r.stderr);
  assert.ok(m, second.r.stderr);
  const [inWindow, inAll] = [Number(m[1]), Number(m[2])];
  assert.ok(inWindow > 0 && inWindow < 1024 && inWindow <= inAll && inAll % 128 === 0, second.r.stderr);
  assert.deepStrictEqual([second.r.status, second.r.stdout, second.out], [1, '', []]);
  assert.ok(second.r.seconds < 10 && ctx.file.length > 60 * 512, `gave up after ${second.r.seconds} s`);
});

test('pace: a server slow but above 1 KiB/s is waited for, over many timeouts', async (t) => {
  // 384 bytes every 250 ms (1.5 KiB/s) for the first 8 KiB, across four
  // windows of 2 s, then the rest at once.
  const slow = await server(t, (sock) => {
    sock.write(ok200(ctx.file.length));
    const head = ctx.file.subarray(0, 8192);
    let at = 0;
    const timer = setInterval(() => {
      if (sock.destroyed) { clearInterval(timer); return; }
      if (at < head.length) {
        sock.write(head.subarray(at, at + 384));
        at += 384;
        return;
      }
      clearInterval(timer);
      sock.end(ctx.file.subarray(head.length));
    }, 250);
  });
  const { r, out, file } = await fetchFrom(slow, 2);
  assert.strictEqual(r.stderr, '');
  assert.strictEqual(r.status, 0);
  assert.match(r.stdout, /^fetched 4 reports, indexes 0\.\.3 of 4, to /);
  assert.deepStrictEqual(out, ['export.bin']);
  assert.ok(fs.readFileSync(file).equals(ctx.file));
  assert.ok(r.seconds > 4, `took ${r.seconds} s: the pace was not slow`);
});

test('pace: submit gives up on a server that stops taking the envelope; no receipt', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  // The real server for the GETs (config, challenge); a POST is never read.
  let posts = 0;
  const url = await server(t, (sock, first) => {
    if (first.toString('latin1').startsWith('POST ')) {
      posts++;
      sock.pause();
      return;
    }
    const up = net.connect(srv.port, '127.0.0.1', () => { up.write(first); sock.pipe(up).pipe(sock); });
    up.on('error', () => sock.destroy());
  });
  const dir = h.tmpdir('sealtip-pace-submit-');
  assert.strictEqual(h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]).status, 0);
  // More than the socket buffers on both sides hold.
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(24 << 20, 7));
  const sealed = h.runTool(['seal', '-r', path.join(dir, 'inv.pub'), '--file', path.join(dir, 'big.bin'), '-o', path.join(dir, 'big.env')]);
  assert.strictEqual(sealed.status, 0, sealed.stderr);
  const before = h.dbState(srv);
  const r = await run(['submit', url, path.join(dir, 'big.env'), '--timeout', '1', '-o', path.join(dir, 'receipt.json')]);
  // The count is what the server's end acknowledged, not what this side
  // handed to its own socket (megabytes more).
  const m = new RegExp(`^sealtip: ${url}: the server took nothing for 1 s, after (\\d+) bytes of the request reached it\\n$`).exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.ok(Number(m[1]) > 0 && Number(m[1]) < fs.statSync(path.join(dir, 'big.env')).size, r.stderr);
  assert.deepStrictEqual([r.status, r.stdout, posts, fs.existsSync(path.join(dir, 'receipt.json'))], [1, '', 1, false]);
  assert.deepStrictEqual(h.dbState(srv), before);
});

// A relay in front of the real server that passes a POST on at rate bytes
// a second, the rest as it comes. -> url
async function throttled(t, srv, rate) {
  return server(t, (sock, first) => {
    sock.pause();
    const up = net.connect(srv.port, '127.0.0.1', () => {
      up.write(first);
      up.pipe(sock);
      if (!first.toString('latin1').startsWith('POST ')) {
        sock.pipe(up);
        sock.resume();
        return;
      }
      sock.on('data', (d) => {
        up.write(d);
        sock.pause();
        setTimeout(() => sock.resume(), d.length * 1000 / rate);
      });
      sock.resume();
    });
    up.on('error', () => sock.destroy());
  });
}

test('pace: an upload still queued here when the last byte is handed over is not an answer late', async (t) => {
  // At 2 MiB/s, megabytes sit in the socket queues after the last send()
  // returns: the answer's deadline (1 s) must start once they arrived.
  const srv = await h.startServer({ maxReportBytes: 16 << 20 });
  t.after(() => srv.stop());
  const url = await throttled(t, srv, 2 << 20);
  const dir = h.tmpdir('sealtip-pace-upload-');
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(10 << 20, 7));
  const sealed = h.runTool(['seal', '-r', path.join(h.VECTORS, 'alice.pub'), '--file', path.join(dir, 'big.bin'), '-o', path.join(dir, 'big.env')]);
  assert.strictEqual(sealed.status, 0, sealed.stderr);
  const r = await run(['submit', url, path.join(dir, 'big.env'), '--timeout', '1', '-o', path.join(dir, 'receipt.json')]);
  assert.deepStrictEqual([r.status, r.stderr, r.stdout], [0, '', `report 0 stored; receipt written to ${path.join(dir, 'receipt.json')}\n`]);
  const receipt = JSON.parse(fs.readFileSync(path.join(dir, 'receipt.json'), 'utf8'));
  assert.strictEqual(receipt.leaf_hash, h.leafHash(fs.readFileSync(path.join(dir, 'big.env'))));
  assert.ok(r.seconds > 4, `took ${r.seconds} s: the relay did not hold the upload back`);
});

test('pace: submit stops sending at an answer that comes before the envelope is all sent', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  // The real server for the GETs; a POST is answered 413 at once, and not
  // read any further.
  const body = '{"error":"too_large","message":"the report is larger than 1024 bytes"}';
  let posts = 0;
  const url = await server(t, (sock, first) => {
    if (first.toString('latin1').startsWith('POST ')) {
      posts++;
      sock.pause();
      sock.write(`HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    const up = net.connect(srv.port, '127.0.0.1', () => { up.write(first); sock.pipe(up).pipe(sock); });
    up.on('error', () => sock.destroy());
  });
  const dir = h.tmpdir('sealtip-pace-early-');
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(24 << 20, 7));
  const sealed = h.runTool(['seal', '-r', path.join(h.VECTORS, 'alice.pub'), '--file', path.join(dir, 'big.bin'), '-o', path.join(dir, 'big.env')]);
  assert.strictEqual(sealed.status, 0, sealed.stderr);
  const r = await run(['submit', url, path.join(dir, 'big.env'), '--timeout', '5', '-o', path.join(dir, 'receipt.json')]);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr, posts, fs.existsSync(path.join(dir, 'receipt.json'))],
    [1, '', `sealtip: ${url}: the server answered 413: the report is larger than 1024 bytes\n`, 1, false]);
  assert.ok(r.seconds < 5, `took ${r.seconds} s: the answer waited for a timeout`);
});

test('pace: an error answer is read to its Content-Length: one line, at once', async (t) => {
  // The connection stays open after the 403's body.
  const body = '{"error":"forbidden","message":"forbidden here"}';
  const url = await server(t, (sock) => sock.write(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
  const { r, out } = await fetchFrom(url, 5);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr, out], [1, '', `sealtip: ${url}: the server answered 403: forbidden here\n`, []]);
  assert.ok(r.seconds < 4, `took ${r.seconds} s`);
});

test('pace: an answer of exactly the limit, then a stall, is said in one line', async (t) => {
  // submit reads /api/v1/config whole, at most 1 MiB; this one has no
  // Content-Length, fills the limit and stops without closing.
  const url = await server(t, (sock) => sock.write(Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'), Buffer.alloc(1 << 20, 0x20)])));
  const r = await run(['submit', url, ctx.token, '--timeout', '1']);
  assert.deepStrictEqual([r.status, r.stdout, r.stderr],
    [1, '', `sealtip: ${url}: the server sent nothing for 1 s, after 1048576 bytes of the response\n`]);
});

test('pace: --timeout takes whole seconds from 1 to 3600', () => {
  for (const [cmd, value] of [['fetch', '0'], ['fetch', '3601'], ['fetch', '1.5'], ['submit', 'x'], ['submit', '-1']]) {
    const args = cmd === 'fetch'
      ? ['fetch', 'http://127.0.0.1:9/', '--token-file', ctx.token, '--timeout', value, '-o', path.join(ctx.dir, 'never')]
      : ['submit', 'http://127.0.0.1:9/', ctx.token, '--timeout', value];
    const r = h.runTool(args);
    assert.strictEqual(r.status, 2, args.join(' '));
    assert.strictEqual(r.stderr.split('\n')[0], `sealtip: ${cmd}: --timeout: '${value}' is not a number of seconds from 1 to 3600`);
    assert.strictEqual(r.stdout, '');
  }
  assert.strictEqual(fs.existsSync(path.join(ctx.dir, 'never')), false);
});
