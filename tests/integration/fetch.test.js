// sealtip fetch against servers that misbehave: one that stops sending
// mid-file (^C or SIGTERM removes the half-written download and fetch dies
// of the signal), one that answers with another export than asked for.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as h from './helpers.js';

// sealtip fetch ARGS without blocking: the servers here answer from this
// very process. Resolves with {code, signal, stderr}; started(child) is
// called once it runs.
function fetch(args, started = () => {}) {
  return new Promise((resolve) => {
    const child = spawn(h.SEALTIP, ['fetch', ...args]);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    started(child);
  });
}

// A server on a loopback port answering each request with answer(n,
// request) (n counts from 0; the request's first bytes); a folder with a
// token file. -> {url, dir, token}
async function fakeServer(t, prefix, answer) {
  let n = 0;
  const server = net.createServer((sock) => sock.once('data', (d) => sock.end(answer(n++, d.toString('latin1')))));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const dir = h.tmpdir(prefix);
  const token = path.join(dir, 'token');
  fs.writeFileSync(token, 'any-token-of-sixteen-bytes\n', { mode: 0o600 });
  return { url: `http://127.0.0.1:${server.address().port}/`, dir, token };
}

test('fetch: interrupted while the server stalls, nothing is left', async (t) => {
  const srv = await h.startServer({ token: 'fetch-interrupted-token' });
  t.after(() => srv.stop());
  for (const name of h.GOOD) assert.strictEqual((await h.post(srv, h.vector(name))).status, 201);
  const file = h.exportDb(srv.db).file;
  // Headers and the first 500 bytes of a real export, then silence.
  const sockets = [];
  const stalling = net.createServer((sock) => {
    sockets.push(sock);
    sock.once('data', () => sock.write(Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${file.length}\r\n\r\n`),
      file.subarray(0, 500)])));
  });
  await new Promise((resolve) => stalling.listen(0, '127.0.0.1', resolve));
  t.after(() => { for (const s of sockets) s.destroy(); stalling.close(); });
  const dir = h.tmpdir('sealtip-fetch-stall-');
  const token = path.join(dir, 'token');
  fs.writeFileSync(token, 'fetch-interrupted-token\n', { mode: 0o600 });
  const outDir = path.join(dir, 'out');
  fs.mkdirSync(outDir);

  for (const signal of ['SIGINT', 'SIGTERM']) {
    const out = path.join(outDir, 'all.bin');
    let child;
    const exited = fetch([`http://127.0.0.1:${stalling.address().port}/`, '--token-file', token, '-o', out], (c) => { child = c; });
    // The download is under way once its temp file exists.
    for (let i = 0; i < 200 && fs.readdirSync(outDir).length === 0; i++) await h.sleep(25);
    assert.strictEqual(fs.readdirSync(outDir).length, 1, 'a temp file while downloading');
    child.kill(signal);
    const { code, signal: died, stderr } = await exited;
    assert.deepStrictEqual([code, died], [null, signal]);
    assert.strictEqual(stderr, `sealtip: ${out}: interrupted; nothing was written\n`);
    assert.deepStrictEqual(fs.readdirSync(outDir), [], signal + ': nothing left');
  }
});

test('fetch: an export that is not the one asked for is refused, nothing written', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  for (const name of h.GOOD) assert.strictEqual((await h.post(srv, h.vector(name))).status, 201);
  // A valid export of reports 3.. (no proof), whatever the query says.
  const file = h.exportDb(srv.db, { after: 2 }).file;
  const { url, dir, token } = await fakeServer(t, 'sealtip-fetch-other-', () => Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${file.length}\r\nConnection: close\r\n\r\n`), file]));
  const out = path.join(dir, 'out.bin');
  const cases = [
    [['--after', '0'], `sealtip: ${url}: asked for the reports from index 1, the file starts at 3; nothing was written\n`],
    [['--after', '2', '--since-size', '2'], `sealtip: ${url}: asked for a proof from size 2, the file carries none; nothing was written\n`],
  ];
  for (const [args, said] of cases) {
    const r = await fetch([url, '--token-file', token, '-o', out, ...args]);
    assert.deepStrictEqual([r.code, r.stderr], [1, said], args.join(' '));
    assert.deepStrictEqual(fs.readdirSync(dir), ['token'], args.join(' ') + ': nothing written');
  }
  // What it does match is kept.
  assert.strictEqual((await fetch([url, '--token-file', token, '-o', out, '--after', '2'])).code, 0);
  assert.ok(fs.readFileSync(out).equals(file));
});

test('fetch: a status line that is not exactly HTTP/1.x NNN is not an answer', async (t) => {
  const lines = ['HTTP/1.12000 OK', 'HTTP/1.1 -20 OK', 'HTTP/1.1 20 OK', 'HTTP/2.0 200 OK'];
  const { url, dir, token } = await fakeServer(t, 'sealtip-fetch-status-',
    (n) => `${lines[n]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  for (const line of lines) {
    const r = await fetch([url, '--token-file', token, '-o', path.join(dir, 'out.bin')]);
    assert.deepStrictEqual([r.code, r.stderr], [1, `sealtip: ${url}: not an HTTP response\n`], line);
    assert.deepStrictEqual(fs.readdirSync(dir), ['token'], line);
  }
});

test('fetch: asks HTTP/1.0; an answer in chunks all the same is refused, not misread', async (t) => {
  const requests = [];
  // With another header before it, too.
  const before = ['', 'X-Before: 1\r\n'];
  const { url, dir, token } = await fakeServer(t, 'sealtip-fetch-chunked-', (n, request) => {
    requests.push(request.split('\r\n')[0]);
    return `HTTP/1.1 200 OK\r\n${before[n]}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`;
  });
  for (const lines of before) {
    const r = await fetch([url, '--token-file', token, '-o', path.join(dir, 'out.bin')]);
    assert.deepStrictEqual([r.code, r.stderr], [1,
      `sealtip: ${url}: the response comes with Transfer-Encoding, which an HTTP/1.0 request does not allow\n`], JSON.stringify(lines));
    assert.deepStrictEqual(fs.readdirSync(dir), ['token']);
  }
  assert.deepStrictEqual(requests, ['GET /api/v1/export HTTP/1.0', 'GET /api/v1/export HTTP/1.0']);
});

test('fetch: a header line that is not NAME: VALUE refuses the whole answer', async (t) => {
  // Each is read one way here and maybe another by a proxy on the way. The
  // first is the line fuzz_httpclient found hiding every header after it.
  const bad = [
    ['HTTP/1.1 404 Not Found', 'X-Before: 1\r\n\rX\r\n'],
    ['HTTP/1.1 404 Not Found', 'X-Before: 1\r\n folded\r\n'],
    ['HTTP/1.1 404 Not Found', 'No colon here\r\n'],
    ['HTTP/1.1 404 Not Found', ': nameless\r\n'],
    ['HTTP/1.1 404 Not Found', 'X-Bad: a\rb\r\n'],
    ['HTTP/1.1 404 Not Found', 'X-Bad\t: a\r\n'],
    ['HTTP/1.1 404 Not Found', 'X-Bad: a\x01b\r\n'],
    ['HTTP/1.1 404 Not\x02Found', ''],
  ];
  // Blanks, an empty value and obs-text are values all the same.
  const good = [
    ['HTTP/1.1 404', ''],
    ['HTTP/1.1 404 Not\tFound', 'X-Empty:\r\nX-Text: caf\xe9 \t\r\n'],
  ];
  const answers = [...bad, ...good];
  const { url, dir, token } = await fakeServer(t, 'sealtip-fetch-lines-',
    (n) => Buffer.from(`${answers[n][0]}\r\n${answers[n][1]}Content-Length: 0\r\nConnection: close\r\n\r\n`, 'latin1'));
  for (const [i, answer] of answers.entries()) {
    const r = await fetch([url, '--token-file', token, '-o', path.join(dir, 'out.bin')]);
    const why = i < bad.length ? 'a header line of the response is malformed' : 'the server answered 404';
    assert.deepStrictEqual([r.code, r.stderr], [1, `sealtip: ${url}: ${why}\n`], JSON.stringify(answer));
    assert.deepStrictEqual(fs.readdirSync(dir), ['token'], JSON.stringify(answer));
  }
});

test('fetch: an -o that exists is refused before any request (the token is not sent, no export made for nothing)', async (t) => {
  let requests = 0;
  const { url, dir, token } = await fakeServer(t, 'sealtip-fetch-exists-', () => {
    requests++;
    return 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
  });
  const out = path.join(dir, 'export.bin');
  fs.writeFileSync(out, 'kept');
  const r = await fetch([url, '--token-file', token, '-o', out]);
  assert.deepStrictEqual([r.code, r.stderr], [1, `sealtip: ${out}: already exists; not overwriting it\n`]);
  assert.strictEqual(requests, 0, 'no request');
  assert.strictEqual(fs.readFileSync(out, 'utf8'), 'kept');
  assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['export.bin', 'token']);
});
