// Large request headers: every request gets a whole answer, and a report is
// stored only when its receipt can be sent. libmicrohttpd 0.9.75 builds an
// answer's headers in the memory the request's headers leave; with too
// little left it closed the connection unanswered, after the report had
// been stored (docs/api.md, "Request headers").
import test from 'node:test';
import assert from 'node:assert';
import * as h from './helpers.js';

const LIMIT = 32768;  // CONFIG_MAX_HEADER_BYTES
const RECORD = 64;    // HTTP_RECORD_BYTES: counted for each header line

// Bytes the request line and headers take as the server counts them: the
// block itself up to its blank line, and a record for each header line.
function counted(head) {
  const lines = head.split('\r\n').length - 3; // request line, blank line, ''
  return Buffer.byteLength(head, 'latin1') + RECORD * lines;
}

// A whole answer: status line, headers, and exactly Content-Length bytes.
function parseWhole(text, what) {
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, what + ': no whole answer, got ' + JSON.stringify(text.slice(0, 80)));
  const lines = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
  assert.ok(m, what + ': status line ' + JSON.stringify(lines[0]));
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = Buffer.from(text.slice(end + 4), 'latin1');
  assert.strictEqual(body.length, Number(headers['content-length']), what + ': body cut short');
  return { status: Number(m[1]), headers, body };
}

function assertTooLarge(r, what) {
  assert.strictEqual(r.status, 431, what);
  assert.strictEqual(r.headers['content-type'], 'application/json', what);
  assert.deepStrictEqual(JSON.parse(r.body), {
    error: 'headers_too_large',
    message: 'the request line and headers are larger than this server accepts',
  }, what);
  for (const [name, re] of Object.entries(h.SECURITY_HEADERS)) assert.match(r.headers[name] || '', re, what + ': ' + name);
}

async function treeSize(srv) {
  const r = await h.request(srv, 'GET', '/api/v1/log/checkpoint');
  assert.strictEqual(r.status, 200);
  return Number(r.body.toString().split('\n')[1]);
}

function postHead(env, extra) {
  return `POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: ${env.length}\r\n${extra}Connection: close\r\n\r\n`;
}

// One POST of a valid report and one GET with the same extra headers:
// either answered in full (201 / 200) or refused with our 431 exactly
// when the count passes the limit; a 431 leaves the database as it was.
async function probe(srv, extra, what, tally) {
  const env = h.vector('basic');
  const post = postHead(env, extra);
  const before = h.dbState(srv);
  const p = parseWhole(await h.raw(srv, Buffer.concat([Buffer.from(post, 'latin1'), env])), 'POST ' + what);
  if (counted(post) > LIMIT) {
    assertTooLarge(p, 'POST ' + what);
    assert.strictEqual(h.dbState(srv), before, 'POST ' + what + ': database changed');
  } else {
    assert.strictEqual(p.status, 201, 'POST ' + what + ': ' + p.body);
    assert.strictEqual(JSON.parse(p.body).leaf_hash, h.leafHash(env), 'POST ' + what);
    tally.created++;
  }
  const get = `GET /api/v1/config HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`;
  const g = parseWhole(await h.raw(srv, Buffer.from(get, 'latin1')), 'GET ' + what);
  if (counted(get) > LIMIT) assertTooLarge(g, 'GET ' + what);
  else assert.strictEqual(g.status, 200, 'GET ' + what);
}

test('headers: one long header, every request answered or refused before its body is read', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const tally = { created: 0 };
  // Across the former limit (32 KiB of connection memory) and ours.
  for (let n = 28 * 1024; n <= 33 * 1024; n += 100)
    await probe(srv, `X-Pad: ${'a'.repeat(n)}\r\n`, `X-Pad of ${n}`, tally);
  // Stored exactly when a receipt said so.
  assert.ok(tally.created > 0);
  assert.strictEqual(await treeSize(srv), tally.created);
  assert.strictEqual(h.parseExport(h.exportDb(srv.db, { check: true }).file).entries.length, tally.created);

  // Next to libmicrohttpd's own limit (64 KiB of connection memory): within
  // about 1 KiB of it there is no room for any answer (docs/api.md), and
  // the connection is closed unanswered, refused before the body is read.
  // Otherwise a whole 431, ours or its own. Nothing is stored either way.
  const env = h.vector('basic');
  const before = h.dbState(srv);
  let unanswered = 0;
  for (let n = 63 * 1024; n <= 66 * 1024; n += 100) {
    const head = postHead(env, `X-Pad: ${'a'.repeat(n)}\r\n`);
    const text = await h.raw(srv, Buffer.concat([Buffer.from(head, 'latin1'), env]));
    if (text === '') {
      unanswered++;
      assert.ok(n > 63500 && n < 65536, `no answer at ${n}`);
    } else {
      assert.strictEqual(parseWhole(text, `X-Pad of ${n}`).status, 431, `X-Pad of ${n}`);
    }
    assert.strictEqual(h.dbState(srv), before, `X-Pad of ${n}: database changed`);
  }
  console.log(`unanswered next to 64 KiB: ${unanswered} of 31`);
  assert.ok(unanswered < 15, `${unanswered} unanswered`);
  assert.strictEqual(await treeSize(srv), tally.created);
});

test('headers: many short header lines count by their records, every request answered', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const tally = { created: 0 };
  // 9 bytes of text each but a record of 48 in libmicrohttpd's memory: in
  // the former 32 KiB, 435 of them (3.9 KiB of text) left no room for an
  // answer, and the report was stored unanswered.
  for (let k = 300; k <= 800; k += 5) {
    let extra = '';
    for (let i = 0; i < k; i++) extra += `X${String(i).padStart(3, '0')}: v\r\n`;
    await probe(srv, extra, `${k} header lines`, tally);
  }
  assert.ok(tally.created > 0);
  assert.strictEqual(await treeSize(srv), tally.created);
});
