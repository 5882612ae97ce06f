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
    const child = spawn(h.SEALTIP, ['fetch', `http://127.0.0.1:${stalling.address().port}/`, '--token-file', token, '-o', out]);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
    // The download is under way once its temp file exists.
    for (let i = 0; i < 200 && fs.readdirSync(outDir).length === 0; i++) await h.sleep(25);
    assert.strictEqual(fs.readdirSync(outDir).length, 1, 'a temp file while downloading');
    child.kill(signal);
    const { code, sig } = await exited;
    assert.deepStrictEqual([code, sig], [null, signal]);
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
  const answering = net.createServer((sock) => {
    sock.once('data', () => sock.end(Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${file.length}\r\nConnection: close\r\n\r\n`), file])));
  });
  await new Promise((resolve) => answering.listen(0, '127.0.0.1', resolve));
  t.after(() => answering.close());
  const url = `http://127.0.0.1:${answering.address().port}/`;
  const dir = h.tmpdir('sealtip-fetch-other-');
  const token = path.join(dir, 'token');
  fs.writeFileSync(token, 'any-token-of-sixteen-bytes\n', { mode: 0o600 });
  const out = path.join(dir, 'out.bin');
  const cases = [
    [['--after', '0'], `sealtip: ${url}: asked for the reports from index 1, the file starts at 3; nothing was written\n`],
    [['--after', '2', '--since-size', '2'], `sealtip: ${url}: asked for a proof from size 2, the file carries none; nothing was written\n`],
  ];
  for (const [args, said] of cases) {
    const r = await new Promise((resolve) => {
      const child = spawn(h.SEALTIP, ['fetch', url, '--token-file', token, '-o', out, ...args]);
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    assert.deepStrictEqual([r.code, r.stderr], [1, said], args.join(' '));
    assert.deepStrictEqual(fs.readdirSync(dir), ['token'], args.join(' ') + ': nothing written');
  }
  // What it does match is kept.
  const r = await new Promise((resolve) => {
    const child = spawn(h.SEALTIP, ['fetch', url, '--token-file', token, '-o', out, '--after', '2']);
    child.on('exit', (code) => resolve(code));
  });
  assert.strictEqual(r, 0);
  assert.ok(fs.readFileSync(out).equals(file));
});

test('fetch: a status line that is not exactly HTTP/1.x NNN is not an answer', async (t) => {
  const lines = ['HTTP/1.12000 OK', 'HTTP/1.1 -20 OK', 'HTTP/1.1 20 OK', 'HTTP/2.0 200 OK'];
  let next = 0;
  const server = net.createServer((sock) => {
    const line = lines[next++];
    sock.once('data', () => sock.end(`${line}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${server.address().port}/`;
  const dir = h.tmpdir('sealtip-fetch-status-');
  const token = path.join(dir, 'token');
  fs.writeFileSync(token, 'any-token-of-sixteen-bytes\n', { mode: 0o600 });
  for (const line of lines) {
    const r = await new Promise((resolve) => {
      const child = spawn(h.SEALTIP, ['fetch', url, '--token-file', token, '-o', path.join(dir, 'out.bin')]);
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    assert.deepStrictEqual([r.code, r.stderr], [1, `sealtip: ${url}: not an HTTP response\n`], line);
    assert.deepStrictEqual(fs.readdirSync(dir), ['token'], line);
  }
});
