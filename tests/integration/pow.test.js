// Proof of work (docs/api.md, "Proof of work"): the challenge endpoint, a
// solved submission stored, and every refusal a 429 with its own code and
// the database left exactly as it was.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import * as h from './helpers.js';

const BITS = 12;

function assertRefused(r, status, code) {
  assert.strictEqual(r.status, status, String(r.body));
  assert.match(r.headers['content-type'], /^application\/json/);
  const e = JSON.parse(r.body);
  assert.deepStrictEqual(Object.keys(e).sort(), ['error', 'message']);
  assert.strictEqual(e.error, code);
  assert.ok(e.message.length > 10 && !e.message.includes('\n'));
  for (const [name, re] of Object.entries(h.SECURITY_HEADERS)) assert.match(r.headers[name] || '', re, name);
}

async function challenge(srv) {
  const r = await h.request(srv, 'GET', '/api/v1/challenge');
  assert.strictEqual(r.status, 200);
  return JSON.parse(r.body);
}

function leafOf(envelope) {
  return crypto.createHash('sha256').update(Buffer.from([0])).update(envelope).digest();
}

// A nonce whose work has fewer than bits leading zero bits.
function weakNonce(c, leaf, bits) {
  const prefix = Buffer.concat([Buffer.from(c, 'base64url'), leaf]);
  for (let n = 0; ; n++) {
    const nonce = Buffer.alloc(8);
    nonce.writeBigUInt64BE(BigInt(n));
    const d = crypto.createHash('sha256').update(prefix).update(nonce).digest();
    if (d.readUInt16BE(0) >> (16 - bits) !== 0) return nonce.toString('hex');
  }
}

test('pow: challenge endpoint and config', async (t) => {
  const srv = await h.startServer({ powBits: BITS });
  t.after(() => srv.stop());
  const r = await h.request(srv, 'GET', '/api/v1/challenge');
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.headers['cache-control'], 'no-store');
  assert.match(r.headers['content-type'], /^application\/json/);
  const c = JSON.parse(r.body);
  assert.deepStrictEqual(Object.keys(c).sort(), ['bits', 'challenge', 'expires_in']);
  assert.strictEqual(c.bits, BITS);
  assert.strictEqual(c.expires_in, 300);
  assert.match(c.challenge, /^[A-Za-z0-9_-]{56}$/);
  const bytes = Buffer.from(c.challenge, 'base64url');
  assert.strictEqual(bytes.length, 42);
  assert.strictEqual(bytes[0], 1);
  assert.strictEqual(bytes[1], BITS);
  const expiry = Number(bytes.readBigUInt64BE(2));
  const now = Math.floor(Date.now() / 1000);
  assert.ok(expiry >= now + 298 && expiry <= now + 301, `expiry ${expiry} now ${now}`);
  // Fresh randomness every time.
  assert.notStrictEqual((await challenge(srv)).challenge, c.challenge);
  assert.strictEqual(JSON.parse((await h.request(srv, 'GET', '/api/v1/config')).body).pow_bits, BITS);
  const post = await h.request(srv, 'POST', '/api/v1/challenge', { body: Buffer.from('x') });
  assertRefused(post, 405, 'method_not_allowed');
  assert.match(srv.stdout, new RegExp(`^proof of work ${BITS} bits, challenges valid 300 s$`, 'm'));
});

test('pow: a solved submission is stored; every refusal is 429 and stores nothing', async (t) => {
  const srv = await h.startServer({ powBits: BITS });
  t.after(() => srv.stop());
  const basic = h.vector('basic');
  const other = h.vector('two-recipients');

  const ok = await h.postPow(srv, basic);
  assert.strictEqual(ok.status, 201, String(ok.body));
  assert.strictEqual(JSON.parse(ok.body).leaf_hash, h.leafHash(basic));
  const before = h.dbState(srv);

  const c = await challenge(srv);
  const good = h.powHeaderFor(c.challenge, BITS, basic);
  const leafHex = leafOf(basic).toString('hex');
  const tampered = Buffer.from(c.challenge, 'base64url');
  tampered[41] ^= 1; // the MAC
  const cases = [
    ['missing', undefined, basic, 'pow_missing'],
    ['empty', '', basic, 'pow_malformed'],
    ['garbage', 'hello', basic, 'pow_malformed'],
    ['short nonce', good.slice(0, -1), basic, 'pow_malformed'],
    ['standard base64', good.replace(/^challenge=.{9}/, 'challenge=+++++++++'), basic, 'pow_malformed'],
    ['bad version', good.replace(/^challenge=A/, 'challenge=B'), basic, 'pow_malformed'],
    ['bad MAC', `challenge=${tampered.toString('base64url')}; leaf=${leafHex}; nonce=${good.slice(-16)}`, basic, 'pow_invalid'],
    ['insufficient work', `challenge=${c.challenge}; leaf=${leafHex}; nonce=${weakNonce(c.challenge, leafOf(basic), BITS)}`, basic, 'pow_insufficient'],
    // Solved for basic, sent with another body: found at the body's end.
    ['body not the claimed envelope', good, other, 'pow_mismatch'],
    // ... which spent the challenge all the same.
    ['reused after a mismatch', good, basic, 'pow_reused'],
  ];
  for (const [what, header, body, code] of cases) {
    const r = await h.post(srv, body, header === undefined ? {} : { 'Sealtip-Pow': header });
    assertRefused(r, 429, code);
    assert.strictEqual(h.dbState(srv), before, what + ': database changed');
  }

  // Reused after success.
  const again = await h.powHeader(srv, other);
  assert.strictEqual((await h.post(srv, other, { 'Sealtip-Pow': again })).status, 201);
  const afterSecond = h.dbState(srv);
  assertRefused(await h.post(srv, other, { 'Sealtip-Pow': again }), 429, 'pow_reused');
  assert.strictEqual(h.dbState(srv), afterSecond, 'reused: database changed');

  // HTTP's own leeway (RFC 9112): whitespace after a header's value is not
  // part of it, and a Content-Length may have leading zeros.
  const chunky = h.vector('chunk-boundary');
  const lenient = await h.raw(srv, Buffer.concat([Buffer.from('POST /api/v1/reports HTTP/1.1\r\nHost: x\r\n' +
    `Sealtip-Pow: ${await h.powHeader(srv, chunky)} \t\r\nContent-Length: 00${chunky.length}\r\nConnection: close\r\n\r\n`),
  chunky]));
  assert.match(lenient, /^HTTP\/1\.1 201 /, lenient);
  const afterLenient = h.dbState(srv);

  // Refused from the headers alone: no body is ever sent.
  const head = (await h.raw(srv,
    'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n', { waitMs: 3000 })).split('\r\n\r\n');
  assert.match(head[0], /^HTTP\/1\.1 429 /);
  assert.strictEqual(JSON.parse(head[1]).error, 'pow_missing');

  // A challenge of another server (or of this one before a restart).
  const srv2 = await h.startServer({ powBits: BITS });
  t.after(() => srv2.stop());
  const foreign = await h.powHeader(srv2, basic);
  assertRefused(await h.post(srv, basic, { 'Sealtip-Pow': foreign }), 429, 'pow_invalid');
  assert.strictEqual(h.dbState(srv), afterLenient, 'foreign: database changed');

  // The log, at the stop: refusals counted by code (never a line each,
  // which would date them), and nothing of the client.
  await srv.stop();
  for (const code of ['pow_missing', 'pow_malformed', 'pow_invalid', 'pow_insufficient', 'pow_mismatch', 'pow_reused'])
    assert.match(srv.stdout, new RegExp(`^sealtipd: \\d{4}-\\d\\d-\\d\\d(?: to the stop)?: report refused: 429 ${code} \\(\\d+ times?\\)$`, 'm'));
  assert.doesNotMatch(srv.stdout + srv.stderr, /127\.0\.0\.1:(?!\d+\/$)/m);
  const ex = h.parseExport(h.exportDb(srv.db).file);
  assert.strictEqual(ex.entries.length, 3);
});

test('pow: an expired challenge is refused (--pow-ttl 1)', async (t) => {
  const srv = await h.startServer({ powBits: BITS, powTtl: 1 });
  t.after(() => srv.stop());
  const basic = h.vector('basic');
  const before = h.dbState(srv);
  const c = await challenge(srv);
  assert.strictEqual(c.expires_in, 1);
  const header = h.powHeaderFor(c.challenge, BITS, basic);
  await h.sleep(2100);
  assertRefused(await h.post(srv, basic, { 'Sealtip-Pow': header }), 429, 'pow_expired');
  assert.strictEqual(h.dbState(srv), before, 'database changed');
  // A fresh one right away works. Expiry is in whole seconds, so with a
  // 1-second validity a challenge taken late in a second lives only until
  // the next: take it just after a second begins (and, should a slow
  // sanitizer build still cross the boundary, a fresh one once more).
  let status;
  for (let attempt = 0; attempt < 3 && status !== 201; attempt++) {
    while (Date.now() % 1000 > 50) await h.sleep(5);
    status = (await h.postPow(srv, basic)).status;
  }
  assert.strictEqual(status, 201);
});

test('pow: --pow-bits 0 asks nothing, and the challenge says so', async (t) => {
  const srv = await h.startServer({ powBits: 0 });
  t.after(() => srv.stop());
  const c = await challenge(srv);
  assert.strictEqual(c.bits, 0);
  assert.match(c.challenge, /^[A-Za-z0-9_-]{56}$/);
  assert.strictEqual(JSON.parse((await h.request(srv, 'GET', '/api/v1/config')).body).pow_bits, 0);
  assert.strictEqual((await h.post(srv, h.vector('basic'))).status, 201);
  // A header is not looked at.
  assert.strictEqual((await h.post(srv, h.vector('basic'), { 'Sealtip-Pow': 'junk' })).status, 201);
  assert.match(srv.stdout, /^proof of work off$/m);
});

test('pow: sealtip submit solves, posts and keeps the receipt; its failures write nothing', async (t) => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const srv = await h.startServer({ powBits: 16 });
  t.after(() => srv.stop());
  const dir = h.tmpdir();
  const envFile = path.join(dir, 'basic.env');
  fs.writeFileSync(envFile, h.vector('basic'));
  const receiptFile = path.join(dir, 'receipt.json');

  const r = h.runTool(['submit', srv.url, envFile, '-o', receiptFile]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, `report 0 stored; receipt written to ${receiptFile}\n`);
  assert.strictEqual(r.stderr, ''); // no progress: stderr is not a terminal
  const receipt = JSON.parse(fs.readFileSync(receiptFile, 'utf8'));
  assert.strictEqual(receipt.index, 0);
  assert.strictEqual(receipt.leaf_hash, h.leafHash(h.vector('basic')));
  assert.strictEqual(fs.statSync(receiptFile).mode & 0o777, 0o600);
  assert.match(srv.stdout, /^proof of work 16 bits/m);

  // Without -o: the receipt on stdout.
  const two = path.join(dir, 'two.env');
  fs.writeFileSync(two, h.vector('two-recipients'));
  const printed = h.runTool(['submit', srv.url + '/', two]);
  assert.strictEqual(printed.status, 0, printed.stderr);
  assert.strictEqual(JSON.parse(printed.stdout).index, 1);
  const before = h.dbState(srv);

  // Failures: one line, exit 1 (2 for usage), no receipt, nothing stored.
  const bad = path.join(dir, 'bad.env');
  fs.writeFileSync(bad, h.vector('bad-version-2'));
  const cases = [
    [['submit', srv.url, envFile, '-o', receiptFile], 1, /^sealtip: .*receipt\.json: already exists; not overwriting it\n$/],
    [['submit', srv.url, path.join(dir, 'missing.env'), '-o', path.join(dir, 'r1')], 1, /^sealtip: .*missing\.env: No such file or directory\n$/],
    [['submit', srv.url, bad, '-o', path.join(dir, 'r2')], 1, /^sealtip: http:\/\/127\.0\.0\.1:\d+: the server answered 422: .+\n$/],
    [['submit', srv.url], 2, /^sealtip: submit: URL and ENVELOPE are required\n/],
    [['submit', 'ftp://x', envFile], 2, /^sealtip: submit: 'ftp:\/\/x' is not an http:\/\/HOST:PORT\/ URL\n/],
  ];
  for (const [args, status, re] of cases) {
    const f = h.runTool(args);
    assert.strictEqual(f.status, status, args.join(' ') + ': ' + f.stderr);
    assert.match(f.stderr, re);
    assert.strictEqual(f.stdout, '');
  }
  assert.ok(!fs.existsSync(path.join(dir, 'r1')) && !fs.existsSync(path.join(dir, 'r2')));
  assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['bad.env', 'basic.env', 'receipt.json', 'two.env']);
  await h.sleep(100);
  assert.strictEqual(h.dbState(srv), before, 'database changed');
  assert.strictEqual(h.runTool(['submit', '--help']).status, 0);
  // One refusal in all, bad.env's: every solved proof went through at once.
  await srv.stop();
  assert.deepStrictEqual(srv.stdout.match(/report refused: .*$/mg), ['report refused: 422 bad_version (1 time)']);

  // A server without proof of work: the same command works.
  const off = await h.startServer({ powBits: 0 });
  t.after(() => off.stop());
  const o = h.runTool(['submit', off.url, envFile]);
  assert.strictEqual(o.status, 0, o.stderr);
  assert.strictEqual(JSON.parse(o.stdout).index, 0);
});
