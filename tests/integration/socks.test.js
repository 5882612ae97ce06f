// sealtip submit, fetch and audit --url through a SOCKS5 proxy, as a
// reporter or an auditor reaches an onion service through Tor: the proxy
// is asked for the host name (never an address resolved here), one run
// keeps one random log-in (Tor's circuit isolation), and an .onion URL
// without a proxy is refused before any resolver hears its name.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as h from './helpers.js';

const ONION = 'sealtipreports2example3abcdefghijklmnopqrstuvwxyz234567abcdefgh.onion';

// sealtip ARGS without blocking this process, which runs the proxy.
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(h.SEALTIP, args);
    const [out, err] = [[], []];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

// A SOCKS5 proxy that behaves as Tor's SOCKS port: it takes no log-in or
// a user name and password (preferring the log-in when offered, as Tor
// does for isolation), CONNECT by host name, and connects ONION to srv. A
// reply code other than 0 is answered to every request instead.
async function socksProxy(t, srv, { reply = 0, method = 2 } = {}) {
  const requests = [];
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0), state = 'hello', user = null;
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (state === 'hello' && buf.length >= 2 && buf.length >= 2 + buf[1]) {
        const offered = [...buf.subarray(2, 2 + buf[1])];
        const chosen = offered.includes(method) ? method : offered.includes(0) ? 0 : 0xff;
        buf = buf.subarray(2 + buf[1]);
        sock.write(Buffer.from([5, chosen]));
        state = chosen === 2 ? 'login' : 'request';
      }
      if (state === 'login' && buf.length >= 2 && buf.length >= 3 + buf[1] && buf.length >= 3 + buf[1] + buf[2 + buf[1]]) {
        const ulen = buf[1], plen = buf[2 + ulen];
        user = { name: buf.subarray(2, 2 + ulen).toString(), password: buf.subarray(3 + ulen, 3 + ulen + plen).toString() };
        buf = buf.subarray(3 + ulen + plen);
        sock.write(Buffer.from([1, 0]));
        state = 'request';
      }
      if (state === 'request' && buf.length >= 5 && buf.length >= 7 + buf[4]) {
        const req = { command: buf[1], type: buf[3], host: buf.subarray(5, 5 + buf[4]).toString(), port: buf.readUInt16BE(5 + buf[4]), user };
        requests.push(req);
        const rest = buf.subarray(7 + buf[4]);
        state = 'done';
        const code = reply !== 0 ? reply : req.type !== 3 ? 8 : req.host !== ONION ? 4 : 0;
        if (code !== 0) {
          sock.end(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        const up = net.connect({ host: srv.host, port: srv.port, localAddress: '127.0.0.1' }, () => {
          // The bound address as a name, the longest form of a reply.
          sock.write(Buffer.concat([Buffer.from([5, 0, 0, 3, 9]), Buffer.from('localhost'), Buffer.from([0, 80])]));
          if (rest.length > 0) up.write(rest);
          sock.pipe(up);
          up.pipe(sock);
        });
        up.on('error', () => sock.destroy());
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { address: `127.0.0.1:${server.address().port}`, requests };
}

test('socks: submit, fetch and audit --url reach an onion service through the proxy', async (t) => {
  const TOKEN = 'socks-test-token-0123456789abcdef';
  const srv = await h.startServer({ token: TOKEN });
  t.after(() => srv.stop());
  const proxy = await socksProxy(t, srv);
  const dir = h.tmpdir('sealtip-socks-');
  const env = path.join(dir, 'basic.env');
  fs.writeFileSync(env, h.vector('basic'));
  const receipt = path.join(dir, 'receipt.json');

  let r = await run(['submit', `http://${ONION}/`, env, '--socks', proxy.address, '-o', receipt]);
  assert.deepStrictEqual([r.status, r.stderr], [0, '']);
  assert.strictEqual(JSON.parse(fs.readFileSync(receipt, 'utf8')).leaf_hash, h.leafHash(h.vector('basic')).toString('base64'));
  // Every connection asked for the name and port, with one log-in.
  assert.ok(proxy.requests.length >= 2, JSON.stringify(proxy.requests));
  const login = proxy.requests[0].user;
  assert.match(login.name, /^[0-9a-f]{32}$/);
  assert.strictEqual(login.password, login.name);
  for (const req of proxy.requests)
    assert.deepStrictEqual(req, { command: 1, type: 3, host: ONION, port: 80, user: login });

  // Another run, another log-in: another circuit.
  const before = proxy.requests.length;
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, TOKEN + '\n');
  const exported = path.join(dir, 'export.bin');
  r = await run(['fetch', `http://${ONION}`, '--token-file', tokenFile, '--socks', proxy.address, '-o', exported]);
  assert.deepStrictEqual([r.status, r.stderr], [0, '']);
  assert.strictEqual(h.parseExport(fs.readFileSync(exported)).entries.length, 1);
  assert.strictEqual(proxy.requests.length, before + 1);
  assert.notStrictEqual(proxy.requests[before].user.name, login.name);
  assert.strictEqual(proxy.requests[before].host, ONION);

  r = await run(['audit', '--url', `http://${ONION}/`, '--socks', proxy.address, '--checkpoint', receipt]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /^audit ok: /);
  for (const req of proxy.requests.slice(before + 1)) assert.strictEqual(req.host, ONION);
});

test('socks: a proxy that takes no log-in, an IPv6 proxy address form, the port given', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  const proxy = await socksProxy(t, srv, { method: 0 });
  const dir = h.tmpdir('sealtip-socks-');
  const env = path.join(dir, 'basic.env');
  fs.writeFileSync(env, h.vector('basic'));
  const r = await run(['submit', `http://${ONION}:80/`, env, '--socks', proxy.address, '-o', path.join(dir, 'r.json')]);
  assert.deepStrictEqual([r.status, r.stderr], [0, '']);
  for (const req of proxy.requests) assert.deepStrictEqual([req.type, req.host, req.port, req.user], [3, ONION, 80, null]);
  // [::1]:PORT parses (nothing listens there: refused, not a usage error).
  const v6 = await run(['submit', `http://${ONION}/`, env, '--socks', '[::1]:1', '-o', path.join(dir, 'r2.json')]);
  assert.strictEqual(v6.status, 1);
  assert.match(v6.stderr, /^sealtip: the SOCKS proxy ::1 port 1: (Connection refused|Cannot assign requested address|Network is unreachable|Address family not supported by protocol) \(is Tor running\?\)\n$/);
});

test('socks: what cannot go through is said in one line, and nothing is written or stored', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  const dir = h.tmpdir('sealtip-socks-');
  const env = path.join(dir, 'basic.env');
  fs.writeFileSync(env, h.vector('basic'));
  const out = path.join(dir, 'receipt.json');
  const stored = h.dbState(srv);
  const cases = [];

  // An onion address without a proxy: refused before any name lookup.
  cases.push([['submit', `http://${ONION}/`, env, '-o', out],
    `sealtip: http://${ONION}/: an onion address is reached only through Tor: give --socks 127.0.0.1:9050 (Tor Browser's: 127.0.0.1:9150); nothing was sent\n`]);
  cases.push([['audit', '--url', `http://${ONION.toUpperCase()}./`],
    `sealtip: http://${ONION.toUpperCase()}./: an onion address is reached only through Tor: give --socks 127.0.0.1:9050 (Tor Browser's: 127.0.0.1:9150); nothing was sent\n`]);
  // Tor's own reply codes for onion services (proposal 304), and RFC 1928's.
  const missing = await socksProxy(t, srv, { reply: 0xf0 });
  cases.push([['submit', `http://${ONION}/`, env, '--socks', missing.address, '-o', out],
    `sealtip: http://${ONION}/: the SOCKS proxy could not connect to ${ONION} port 80: onion service descriptor not found (is the address right, and the service up?)\n`]);
  const unreachable = await socksProxy(t, srv);
  cases.push([['submit', 'http://elsewhere.example:8080/', env, '--socks', unreachable.address, '-o', out],
    'sealtip: http://elsewhere.example:8080/: the SOCKS proxy could not connect to elsewhere.example port 8080: host unreachable\n']);
  // Nothing listening where the proxy should be.
  const closed = net.createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  cases.push([['submit', `http://${ONION}/`, env, '--socks', `127.0.0.1:${closedPort}`, '-o', out],
    `sealtip: the SOCKS proxy 127.0.0.1 port ${closedPort}: Connection refused (is Tor running?)\n`]);
  // Not a SOCKS5 proxy at all: an HTTP server's answer ("H" is 72), and
  // sealtipd, which closes on bytes that are no request.
  const web = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', () => sock.end('HTTP/1.0 400 Bad Request\r\n\r\n'));
  });
  await new Promise((resolve) => web.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => web.close(resolve)));
  cases.push([['submit', `http://${ONION}/`, env, '--socks', `127.0.0.1:${web.address().port}`, '-o', out],
    `sealtip: http://${ONION}/: not a SOCKS5 proxy (it answered version 72)\n`]);
  cases.push([['submit', `http://${ONION}/`, env, '--socks', `${srv.host}:${srv.port}`, '-o', out],
    `sealtip: http://${ONION}/: the SOCKS proxy closed the connection at the greeting\n`]);

  for (const [args, stderr] of cases) {
    const r = await run(args);
    assert.deepStrictEqual([r.status, r.stdout, r.stderr], [1, '', stderr], args.join(' '));
    assert.strictEqual(fs.existsSync(out), false);
  }
  assert.deepStrictEqual(fs.readdirSync(dir), ['basic.env']);
  assert.strictEqual(h.dbState(srv), stored);
});

test('socks: --socks must be HOST:PORT', async () => {
  for (const [cmd, value] of [['submit', 'localhost'], ['submit', '127.0.0.1:0'], ['submit', '127.0.0.1:65536'],
    ['submit', '::1:9050'], ['fetch', ':9050'], ['audit', '127.0.0.1:x']]) {
    const args = cmd === 'submit' ? ['submit', 'http://127.0.0.1:1/', 'x.env', '--socks', value]
      : cmd === 'fetch' ? ['fetch', 'http://127.0.0.1:1/', '--token-file', 't', '-o', 'o', '--socks', value]
        : ['audit', '--url', 'http://127.0.0.1:1/', '--socks', value];
    const r = await run(args);
    assert.strictEqual(r.status, 2, args.join(' ') + ': ' + r.stderr);
    assert.ok(r.stderr.startsWith(`sealtip: ${cmd}: --socks: '${value}' is not HOST:PORT\n`), r.stderr);
  }
});
