// The page's proof-of-work solver (web/pow-worker.js): its SHA-256 against
// the FIPS 180-4 examples and node's own, and its answers checked with
// node's SHA-256 bit by bit.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import { sha256, solve, solveNative, leadingZeroBits, toHex } from '../../web/pow-worker.js';

// The worker uses the global Web Crypto of browsers; Debian 12's Node 18
// has it only as crypto.webcrypto.
if (globalThis.crypto === undefined) globalThis.crypto = crypto.webcrypto;

const hex = (bytes) => Buffer.from(bytes).toString('hex');

function zeroBitsReference(challenge, leaf, nonce) {
  const d = crypto.createHash('sha256').update(challenge).update(leaf).update(nonce).digest();
  let n = 0;
  while (n < 256 && ((d[n >> 3] >> (7 - (n & 7))) & 1) === 0) n++;
  return n;
}

test('pow js: SHA-256 known answers', () => {
  const ascii = (s) => new TextEncoder().encode(s);
  assert.strictEqual(hex(sha256(ascii(''))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.strictEqual(hex(sha256(ascii('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.strictEqual(hex(sha256(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  assert.strictEqual(hex(sha256(new Uint8Array(1000000).fill(0x61))),
    'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
});

test('pow js: SHA-256 agrees with node at every length around the block edges', () => {
  for (let length = 0; length <= 200; length++) {
    const message = crypto.randomBytes(length);
    assert.strictEqual(hex(sha256(message)), crypto.createHash('sha256').update(message).digest('hex'), `length ${length}`);
  }
});

test('pow js: leading zero bits', () => {
  const h = new Uint8Array(32);
  assert.strictEqual(leadingZeroBits(h), 256);
  h[31] = 1;
  assert.strictEqual(leadingZeroBits(h), 255);
  h[0] = 0x80;
  assert.strictEqual(leadingZeroBits(h), 0);
  h[0] = 0x01;
  assert.strictEqual(leadingZeroBits(h), 7);
  h[0] = 0;
  h[2] = 0x20;
  assert.strictEqual(leadingZeroBits(h), 18);
});

test('pow js: the solver finds the first nonce with enough zero bits', () => {
  for (const bits of [0, 1, 8, 13, 16]) {
    const challenge = crypto.randomBytes(42);
    const leaf = crypto.randomBytes(32);
    let progressed = 0;
    const { nonce, tries } = solve(challenge, leaf, bits, { every: 1024, onProgress: (n) => { progressed = n; } });
    assert.strictEqual(nonce.length, 8);
    assert.strictEqual(Buffer.from(nonce).readBigUInt64BE(), BigInt(tries - 1));
    assert.ok(zeroBitsReference(challenge, leaf, nonce) >= bits, `bits ${bits}`);
    assert.strictEqual(progressed, Math.floor((tries - 1) / 1024) * 1024);
    if (tries > 1) {
      const before = Buffer.alloc(8);
      before.writeBigUInt64BE(BigInt(tries - 2));
      assert.ok(zeroBitsReference(challenge, leaf, before) < bits, 'an earlier nonce worked');
    }
  }
});

test('pow js: nonces carry into the high word', () => {
  const challenge = crypto.randomBytes(42);
  const leaf = crypto.randomBytes(32);
  const start = 0xffffffff - 5;
  const { nonce, tries } = solve(challenge, leaf, 10, { start });
  assert.strictEqual(Buffer.from(nonce).readBigUInt64BE(), BigInt(start + tries - 1));
  assert.ok(tries > 6, 'the test must cross 2^32');
  assert.ok(zeroBitsReference(challenge, leaf, nonce) >= 10);
});

test('pow js: the native (Web Crypto) solver gives the same answer', async () => {
  const challenge = crypto.randomBytes(42);
  const leaf = crypto.randomBytes(32);
  const a = solve(challenge, leaf, 12);
  const b = await solveNative(challenge, leaf, 12, { batch: 100 });
  assert.strictEqual(toHex(b.nonce), toHex(a.nonce));
  assert.strictEqual(b.tries, a.tries);
});

test('pow js: bad inputs are refused', async () => {
  const leaf = new Uint8Array(32);
  assert.throws(() => solve(new Uint8Array(41), leaf, 4), /bad proof-of-work input/);
  assert.throws(() => solve(new Uint8Array(42), new Uint8Array(31), 4), /bad proof-of-work input/);
  assert.throws(() => solve(new Uint8Array(42), leaf, 33), /bad proof-of-work difficulty/);
  assert.throws(() => solve(new Uint8Array(42), leaf, 1.5), /bad proof-of-work difficulty/);
  await assert.rejects(solveNative(new Uint8Array(42), leaf, -1), /bad proof-of-work difficulty/);
});
