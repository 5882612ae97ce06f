// Static files and the headers every kind of response carries.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';

function assertSecurityHeaders(r, what) {
  for (const [name, re] of Object.entries(h.SECURITY_HEADERS))
    assert.match(r.headers[name] || '', re, what + ': ' + name);
  assert.strictEqual(r.headers['set-cookie'], undefined, what + ': cookie');
  assert.ok(!/unsafe-inline|'unsafe-eval'/.test(r.headers['content-security-policy']), what);
  assert.ok(!/\d/.test(r.headers.server || ''), what + ': Server header with a version');
}

test('static: MIME types, ETag and 304, HEAD', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const want = {
    '/': 'text/html; charset=utf-8',
    '/index.html': 'text/html; charset=utf-8',
    '/app.js': 'text/javascript; charset=utf-8',
    '/style.css': 'text/css; charset=utf-8',
    '/form.json': 'application/json',
    '/x.wasm': 'application/wasm',
    '/logo.svg': 'image/svg+xml',
    '/sub/page.html': 'text/html; charset=utf-8',
  };
  for (const [p, type] of Object.entries(want)) {
    const r = await h.request(srv, 'GET', p);
    assert.strictEqual(r.status, 200, p);
    assert.strictEqual(r.headers['content-type'], type, p);
    const file = path.join(srv.dir, 'web', p === '/' ? 'index.html' : p.slice(1));
    assert.ok(r.body.equals(fs.readFileSync(file)), p);
    assertSecurityHeaders(r, p);
    const etag = r.headers.etag;
    assert.match(etag, /^"[^"]+"$/, 'strong ETag');
    const again = await h.request(srv, 'GET', p, { headers: { 'If-None-Match': etag } });
    assert.strictEqual(again.status, 304, p);
    assert.strictEqual(again.body.length, 0);
    assertSecurityHeaders(again, p + ' 304');
    const other = await h.request(srv, 'GET', p, { headers: { 'If-None-Match': '"nope"' } });
    assert.strictEqual(other.status, 200);
  }
  const head = await h.request(srv, 'HEAD', '/app.js');
  assert.strictEqual(head.status, 200);
  assert.strictEqual(head.body.length, 0);
  // A change of content changes the tag.
  const before = (await h.request(srv, 'GET', '/app.js')).headers.etag;
  fs.writeFileSync(path.join(srv.dir, 'web', 'app.js'), 'console.log("changed");\n');
  const after = await h.request(srv, 'GET', '/app.js', { headers: { 'If-None-Match': before } });
  assert.strictEqual(after.status, 200);
  assert.notStrictEqual(after.headers.etag, before);
});

test('static: traversal, encoded dots, NUL, backslash, hidden files, symlinks, directories → 404', async (t) => {
  const dir = h.tmpdir();
  h.makeWeb(path.join(dir, 'web'));
  fs.writeFileSync(path.join(dir, 'outside.txt'), 'outside\n');
  fs.symlinkSync(path.join(dir, 'outside.txt'), path.join(dir, 'web', 'link.txt'));
  fs.symlinkSync(dir, path.join(dir, 'web', 'linkdir'));
  const srv = await h.startServer({ dir });
  t.after(() => srv.stop());
  const attempts = [
    '/../Makefile', '/%2e%2e/Makefile', '/%2E%2E/outside.txt', '/..%2foutside.txt', '/web/..%2fMakefile',
    '/sub/../../outside.txt', '/sub/%2e%2e/%2e%2e/outside.txt', '/a%00b', '/index.html%00.png',
    '/sub%5c..%5c..%5coutside.txt', '/sub\\page.html', '/.hidden', '/%2ehidden', '/sub/', '/sub',
    '/link.txt', '/linkdir/outside.txt', '//etc/passwd', '/%', '/%zz', '/./index.html',
  ];
  for (const p of attempts) {
    const text = await h.raw(srv, 'GET ' + p + ' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { waitMs: 3000 });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    assert.ok(status === 404 || status === 400, p + ' gave ' + status);
    assert.ok(!text.includes('outside') && !text.includes('secret') && !text.includes('MAKE'), p + ' leaked');
    if (status === 404) assert.match(text, /content-security-policy: default-src 'none'/i, p);
  }
});

// A NUL byte sent as such (not %00) inside the request target: libmicrohttpd
// hands the handler the path up to it, so GET /index.html<NUL>x was served
// index.html and POST /api/v1/reports<NUL>x stored its body. No file or
// endpoint is named with a NUL: each is 404, with the one error body.
test('a raw NUL byte in the request target is 404, for files and endpoints alike; nothing stored', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const notFound = '{"error":"not_found","message":"no such resource"}';
  const env = h.vector('basic');
  const before = h.dbState(srv);
  const cases = [
    ['GET', '/index.html\0x'], ['GET', '/index.html\0'], ['GET', '/\0'], ['GET', '/sub/page.html\0.png'],
    ['GET', '/api/v1/config\0x'], ['GET', '/api/v1/challenge\0'], ['GET', '/api/v1/log/checkpoint\0'],
    ['GET', '/api/v1/log/consistency\0?from=0&to=0'], ['GET', '/api/v1/log/consistency?from=0&to=0\0'],
    ['POST', '/api/v1/reports\0x'],
  ];
  for (const [method, target] of cases) {
    const what = method + ' ' + JSON.stringify(target);
    const body = method === 'POST' ? env.toString('latin1') : '';
    const lengthHeader = method === 'POST' ? 'Content-Length: ' + env.length + '\r\n' : '';
    const text = await h.raw(srv, Buffer.from(method + ' ' + target + ' HTTP/1.1\r\nHost: x\r\n' + lengthHeader +
      'Connection: close\r\n\r\n' + body, 'latin1'), { waitMs: 3000 });
    assert.match(text, /^HTTP\/1\.1 404 /, what);
    assert.strictEqual(text.slice(text.indexOf('\r\n\r\n') + 4), notFound, what);
    assert.match(text, /\r\ncontent-type: application\/json\r\n/i, what);
    assert.match(text, /\r\ncontent-security-policy: default-src 'none'/i, what);
  }
  // The same requests without the NUL are served (the path is what differs).
  assert.strictEqual((await h.request(srv, 'GET', '/index.html')).status, 200);
  assert.strictEqual((await h.request(srv, 'GET', '/api/v1/config')).status, 200);
  assert.strictEqual(h.dbState(srv), before, 'database changed');
  assert.strictEqual((await h.post(srv, env)).status, 201);
});

// The absolute form of a request target (http://host/path), which a server
// must take as well as /path (RFC 9112, section 3.2.2): answered as the path.
test('an absolute-form target is answered as its path; another scheme, or a way out, is not', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const ask = async (method, target, body = Buffer.alloc(0)) => {
    const lengthHeader = method === 'POST' ? 'Content-Length: ' + body.length + '\r\n' : '';
    const text = await h.raw(srv, Buffer.concat([Buffer.from(method + ' ' + target + ' HTTP/1.1\r\nHost: x\r\n' + lengthHeader +
      'Connection: close\r\n\r\n', 'latin1'), body]), { waitMs: 3000 });
    return { status: Number(text.slice(9, 12)), body: text.slice(text.indexOf('\r\n\r\n') + 4) };
  };
  const index = (await h.request(srv, 'GET', '/')).body.toString('latin1');
  const config = (await h.request(srv, 'GET', '/api/v1/config')).body.toString('latin1');
  assert.deepStrictEqual(await ask('GET', 'http://tips.example/'), { status: 200, body: index });
  assert.deepStrictEqual(await ask('GET', 'http://tips.example'), { status: 200, body: index });
  assert.deepStrictEqual(await ask('GET', 'HTTP://TIPS.EXAMPLE:8080/index.html'), { status: 200, body: index });
  assert.deepStrictEqual(await ask('GET', 'https://tips.example/api/v1/config'), { status: 200, body: config });
  const notFound = '{"error":"not_found","message":"no such resource"}';
  for (const target of ['ftp://tips.example/index.html', 'http://tips.example/../index.html', 'http://tips.example/%2e%2e/index.html',
    'http:/index.html', 'http://tips.example/api/v1/nothing']) {
    assert.deepStrictEqual(await ask('GET', target), { status: 404, body: notFound }, target);
  }
  const before = h.dbState(srv);
  const posted = await ask('POST', 'http://tips.example/api/v1/reports', h.vector('basic'));
  assert.strictEqual(posted.status, 201, posted.body);
  assert.strictEqual(JSON.parse(posted.body).index, 0);
  assert.notStrictEqual(h.dbState(srv), before, 'stored');
});

test('headers: on API, error, 404, 405 and 413 responses too', async (t) => {
  const srv = await h.startServer({ token: 'abcdefghijklmnop-token' });
  t.after(() => srv.stop());
  const responses = {
    config: await h.request(srv, 'GET', '/api/v1/config'),
    created: await h.post(srv, h.vector('basic')),
    unprocessable: await h.post(srv, h.vector('bad-version-2')),
    notFound: await h.request(srv, 'GET', '/api/v2/x'),
    staticNotFound: await h.request(srv, 'GET', '/missing.js'),
    methodNotAllowed: await h.request(srv, 'PATCH', '/api/v1/config', { body: Buffer.from('x') }),
    unauthorized: await h.request(srv, 'GET', '/api/v1/export'),
    export: await h.request(srv, 'GET', '/api/v1/export', { headers: { Authorization: 'Bearer abcdefghijklmnop-token' } }),
    static: await h.request(srv, 'GET', '/'),
  };
  const expect = { config: 200, created: 201, unprocessable: 422, notFound: 404, staticNotFound: 404,
    methodNotAllowed: 405, unauthorized: 401, export: 200, static: 200 };
  for (const [what, r] of Object.entries(responses)) {
    assert.strictEqual(r.status, expect[what], what);
    assertSecurityHeaders(r, what);
    if (what !== 'static') assert.strictEqual(r.headers['cache-control'], 'no-store', what);
  }
});

// Without --web the default is build/web, as make builds it, and never the
// sources in web/: they lack libsodium.js, and hold the build script.
test('static: without --web and without build/web, web/ is not served', async (t) => {
  const cwd = h.tmpdir('sealtip-noweb-');
  fs.mkdirSync(path.join(cwd, 'web'));
  fs.writeFileSync(path.join(cwd, 'web', 'index.html'), '<!doctype html><title>sources</title>');
  fs.writeFileSync(path.join(cwd, 'web', 'build.sh'), 'echo build\n');
  const data = path.join(cwd, 'data');
  const srv = await h.startServer({
    cwd,
    rawArgs: ['--data', data, '--listen', '127.0.0.1:0', '--recipient', path.join(h.VECTORS, 'alice.pub'), '--pow-bits', '0'],
  });
  t.after(() => srv.stop());
  // Said before the listening line, on the other pipe: it may come a moment later.
  const said = /^sealtipd: web folder build\/web: No such file or directory \(static pages disabled\)$/m;
  for (let i = 0; i < 100 && !said.test(srv.stderr); i++) await h.sleep(20);
  assert.match(srv.stderr, said);
  for (const p of ['/', '/index.html', '/build.sh']) {
    const r = await h.request(srv, 'GET', p);
    assert.strictEqual(r.status, 404, p);
    assertSecurityHeaders(r, p);
  }
  assert.strictEqual((await h.request(srv, 'GET', '/api/v1/config')).status, 200);
});
