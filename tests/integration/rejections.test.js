// Every way a submission can be refused: its status, a JSON error, and a
// database left exactly as it was (sha256 of reports.db and its WAL).
import test from 'node:test';
import assert from 'node:assert';
import * as h from './helpers.js';

function assertJsonError(r, status, code) {
  assert.strictEqual(r.status, status, String(r.body));
  assert.match(r.headers['content-type'], /^application\/json/);
  const e = JSON.parse(r.body);
  assert.deepStrictEqual(Object.keys(e).sort(), ['error', 'message']);
  if (code) assert.strictEqual(e.error, code);
  assert.ok(e.message.length > 0);
  for (const [name, re] of Object.entries(h.SECURITY_HEADERS)) assert.match(r.headers[name] || '', re, name);
}

// Raw response text → status, headers, body.
function parseRaw(text) {
  const [head, ...rest] = text.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: Buffer.from(rest.join('\r\n\r\n'), 'latin1') };
}

test('rejections: each refused request changes nothing', async (t) => {
  const srv = await h.startServer({ recipients: ['alice', 'bob'], maxReportBytes: 300000 });
  t.after(() => srv.stop());
  // One stored report first, so "unchanged" is about a real database.
  assert.strictEqual((await h.post(srv, h.vector('basic'))).status, 201);
  const before = h.dbState(srv);
  const basic = h.vector('basic');
  const chunky = h.vector('chunk-boundary');

  const cases = [
    ['bad magic', Buffer.concat([Buffer.from('NOTSEAL\x01'), basic.subarray(8)]), 'bad_magic'],
    ['bad version', h.vector('bad-version-2'), 'bad_version'],
    ['nrecip 0', h.vector('bad-nrecip-0'), 'bad_recipient_count'],
    ['nrecip 17', h.vector('bad-nrecip-17'), 'bad_recipient_count'],
    ['unknown recipient (carol only)', h.vector('bad-not-a-recipient'), 'unknown_recipient'],
    ['not a Padme length', h.vector('bad-not-padme-length'), 'not_padded'],
    ['layout: a valid envelope cut by one byte', chunky.subarray(0, chunky.length - 1), null],
    ['layout: one byte too many', Buffer.concat([chunky, Buffer.from([0])]), null],
    ['layout: only a preamble', basic.subarray(0, 129), 'bad_layout'],
    ['shorter than any preamble', basic.subarray(0, 5), 'bad_layout'],
    ['empty body', Buffer.alloc(0), 'bad_layout'],
  ];
  for (const [what, body, code] of cases) {
    const r = await h.post(srv, body);
    assertJsonError(r, 422, code);
    if (code === null) assert.match(JSON.parse(r.body).error, /^(bad_layout|not_padded)$/, what);
    assert.strictEqual(h.dbState(srv), before, what + ': database changed');
  }

  // 413 comes from the headers alone: no body is ever sent.
  const big = parseRaw(await h.raw(srv,
    'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 300001\r\n\r\n'));
  assert.strictEqual(big.status, 413);
  assert.strictEqual(JSON.parse(big.body).error, 'too_large');
  for (const [name, re] of Object.entries(h.SECURITY_HEADERS)) assert.match(big.headers[name] || '', re, name);

  // 411: no Content-Length (chunked), sent raw.
  const chunked = parseRaw(await h.raw(srv,
    'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
  assert.strictEqual(chunked.status, 411);
  assert.strictEqual(JSON.parse(chunked.body).error, 'length_required');
  const nolen = parseRaw(await h.raw(srv, 'POST /api/v1/reports HTTP/1.0\r\nHost: x\r\n\r\n', { closeAfterWrite: true }));
  assert.strictEqual(nolen.status, 411);

  // Framing two readers could take two ways (RFC 9112 section 6.3): refused
  // from the headers, even with a body that would otherwise be stored.
  for (const framing of [`Content-Length: ${basic.length}\r\nContent-Length: ${basic.length + 1}`,
    `Content-Length: ${basic.length}\r\nTransfer-Encoding: chunked`]) {
    const r = parseRaw(await h.raw(srv, Buffer.concat([
      Buffer.from(`POST /api/v1/reports HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\n`), basic]), { waitMs: 3000 }));
    assert.strictEqual(r.status, 400, framing);
    assert.strictEqual(JSON.parse(r.body).error, 'bad_framing', framing);
  }

  // A GET or HEAD with a body: refused from the headers, and the connection
  // closed, so a body sent a byte at a time cannot hold it (only uploads have
  // a minimum rate).
  for (const request of ['GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n',
    'HEAD /api/v1/config HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n']) {
    const started = Date.now();
    const r = parseRaw(await h.raw(srv, request, { waitMs: 10000 }));
    assert.strictEqual(r.status, 400, request);
    if (request.startsWith('GET')) assert.strictEqual(JSON.parse(r.body).error, 'unexpected_body');
    assert.ok(Date.now() - started < 5000, 'the server closed the connection: ' + request);
  }
  // A Content-Length of 0 is no body.
  const zero = parseRaw(await h.raw(srv, 'GET /api/v1/config HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
  assert.strictEqual(zero.status, 200);

  // A Content-Length that is not a number.
  const badlen = parseRaw(await h.raw(srv,
    'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n', { waitMs: 3000 }));
  assert.ok([400, 411].includes(badlen.status), 'got ' + badlen.status);

  // Body shorter than Content-Length, then the client goes away.
  await h.raw(srv, Buffer.concat([
    Buffer.from('POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: ' + basic.length + '\r\n\r\n'),
    basic.subarray(0, 300)]), { closeAfterWrite: true, waitMs: 3000 });

  // Unknown paths and wrong methods.
  assertJsonError(await h.request(srv, 'GET', '/api/v1/nope'), 404, 'not_found');
  assertJsonError(await h.request(srv, 'POST', '/api/v1/nope', { body: basic }), 404, 'not_found');
  assertJsonError(await h.request(srv, 'GET', '/no-such-file.html'), 404, 'not_found');
  const get = await h.request(srv, 'GET', '/api/v1/reports');
  assertJsonError(get, 405, 'method_not_allowed');
  assert.strictEqual(get.headers.allow, 'POST');
  assertJsonError(await h.request(srv, 'PUT', '/api/v1/reports', { body: basic }), 405);
  assertJsonError(await h.request(srv, 'DELETE', '/api/v1/config'), 405);
  assertJsonError(await h.request(srv, 'POST', '/index.html', { body: basic }), 405);
  // The export endpoint is off without a token file.
  assertJsonError(await h.request(srv, 'GET', '/api/v1/export'), 404);

  await h.sleep(200);
  assert.strictEqual(h.dbState(srv), before, 'database changed');
  // And the server still works.
  const ok = await h.post(srv, basic);
  assert.strictEqual(ok.status, 201);
  assert.strictEqual(JSON.parse(ok.body).index, 1);
  const ex = h.parseExport(h.exportDb(srv.db).file);
  assert.strictEqual(ex.entries.length, 2);
  // No spool file is left behind by any of the above.
  const fs = await import('node:fs');
  const left = fs.readdirSync(srv.data).filter((f) => !/^(reports\.db(-wal|-shm)?|log\.key(\.used)?)$/.test(f));
  assert.deepStrictEqual(left, []);
});
