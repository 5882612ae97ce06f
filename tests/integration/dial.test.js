// How sealtip reaches a server: the name lookup and the connection share
// one --timeout. A resolver that stalls (tests/tools/slow_resolver.c) is
// given up on; an address that drops every packet gets only its share of
// the time, so the next address is still tried within it.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as h from './helpers.js';

const SLOW_RESOLVER = path.join(h.BUILD, 'tools', 'slow_resolver.so');

// sealtip fetch ARGS under the shaped resolver -> {code, stderr, seconds}.
function fetch(args, resolverEnv) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(h.SEALTIP, ['fetch', ...args], {
      env: {
        ...process.env, ...resolverEnv, LD_PRELOAD: SLOW_RESOLVER,
        ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':'),
      },
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
  });
}

// A port on 127.0.0.2 that drops every connection attempt: a listener in
// another process that never accepts (its event loop is held), its short
// queue filled first. Gone when the test ends.
async function blackhole(t, port) {
  const child = spawn(process.execPath, ['-e', `
    const s = require('net').createServer();
    s.listen({ host: '127.0.0.2', port: ${port}, backlog: 1 }, () => {
      process.stdout.write('ready\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
    });`]);
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', () => reject(new Error('the blackhole did not start')));
  });
  const fillers = [];
  t.after(() => { for (const s of fillers) s.destroy(); });
  for (let i = 0; i < 4; i++) {
    const s = net.connect({ host: '127.0.0.2', port });
    s.on('error', () => {});
    fillers.push(s);
  }
  await h.sleep(200);
}

function folder(t, prefix) {
  const dir = h.tmpdir(prefix);
  const token = path.join(dir, 'token');
  fs.writeFileSync(token, 'any-token-of-sixteen-bytes\n', { mode: 0o600 });
  return { dir, token, out: path.join(dir, 'out.bin') };
}

test('dial: a resolver that does not answer is given up on after --timeout', async (t) => {
  const { dir, token, out } = folder(t, 'sealtip-dial-resolver-');
  const r = await fetch(['http://reports.sealtip.test:8080/', '--token-file', token, '--timeout', '2', '-o', out],
    { SEALTIP_TEST_RESOLVE_DELAY_MS: '30000' });
  assert.deepStrictEqual([r.code, r.stderr], [1, 'sealtip: reports.sealtip.test: no answer from the name resolver within 2 s\n']);
  assert.ok(r.seconds >= 1.9 && r.seconds < 10, `gave up after ${r.seconds} s`);
  assert.deepStrictEqual(fs.readdirSync(dir), ['token']);
});

test('dial: an address that goes nowhere gets its share of --timeout, then the next is tried', async (t) => {
  // The server that answers, on 127.0.0.1, and the same port dropped on 127.0.0.2.
  const server = net.createServer((sock) => sock.once('data', () => sock.end(
    'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = server.address().port;
  await blackhole(t, port);
  const { dir, token, out } = folder(t, 'sealtip-dial-addresses-');
  const url = `http://reports.sealtip.test:${port}/`;

  // Both addresses: the first gets half of the 4 s, the second answers.
  let r = await fetch([url, '--token-file', token, '--timeout', '4', '-o', out],
    { SEALTIP_TEST_RESOLVE_ADDRS: '127.0.0.2,127.0.0.1' });
  assert.deepStrictEqual([r.code, r.stderr], [1, `sealtip: ${url}: the server answered 404\n`]);
  assert.ok(r.seconds >= 1.9 && r.seconds < 3.9, `reached the second address after ${r.seconds} s`);

  // Only addresses that go nowhere: the whole wait is --timeout, not one per address.
  r = await fetch([url, '--token-file', token, '--timeout', '2', '-o', out],
    { SEALTIP_TEST_RESOLVE_ADDRS: '127.0.0.2,127.0.0.2' });
  assert.deepStrictEqual([r.code, r.stderr], [1, `sealtip: reports.sealtip.test port ${port}: no connection within 2 s\n`]);
  assert.ok(r.seconds >= 1.9 && r.seconds < 3.9, `gave up after ${r.seconds} s`);
  assert.deepStrictEqual(fs.readdirSync(dir), ['token']);
});
