// What the page reads whole, in real Chromium against the real server
// (docs/page.md, "Without WebAssembly"): with WebAssembly nothing (every hash
// streams through libsodium); without it (--jitless, like Tor Browser
// "Safer") each file once for its manifest hash and 0x00 || the envelope
// once for the leaf hash, each handed to crypto.subtle.digest, and none over
// NATIVE_HASH_MAX_BYTES. An init script counts every Blob read over 1 MiB
// (files are otherwise read in 1 MiB slices) and every digest input of
// 64 KiB or more (the receipt's own hashes are smaller).
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';
import { NATIVE_HASH_MAX_BYTES } from '../../web/seal.js';

const MIB = 1024 * 1024;
const BIG_BYTES = 3 * MIB + 4321;
const SMALL_BYTES = 200 * 1024;

function countWholeReads() {
  window.__wholeReads = [];
  window.__digests = [];
  const arrayBuffer = Blob.prototype.arrayBuffer;
  Blob.prototype.arrayBuffer = function countedArrayBuffer() {
    if (this.size > 1024 * 1024) window.__wholeReads.push(this.size);
    return arrayBuffer.call(this);
  };
  const digest = SubtleCrypto.prototype.digest;
  SubtleCrypto.prototype.digest = function countedDigest(algorithm, data) {
    if (data.byteLength >= 64 * 1024) window.__digests.push(data.byteLength);
    return digest.call(this, algorithm, data);
  };
}

async function sendAndCount(t, jitless) {
  const dir = h.tmpdir();
  const big = path.join(dir, 'ledger.jpg');
  const small = path.join(dir, 'notes.pdf');
  fs.writeFileSync(big, crypto.randomBytes(BIG_BYTES));
  fs.writeFileSync(small, crypto.randomBytes(SMALL_BYTES));

  const server = await h.startPageServer(t);
  const context = await h.launch(t, { jitless });
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  await page.addInitScript(countWholeReads);
  await h.openPage(page, server);
  assert.strictEqual(await page.evaluate(() => typeof WebAssembly), jitless ? 'undefined' : 'object');

  await page.fill('#field-what', 'The inspector asked for 300 dollars to pass the restaurant.');
  await page.setInputFiles('#files', [big, small]);
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 120000 });
  await page.waitForSelector('#receipt-status[data-outcome]', { timeout: 60000 });
  assert.strictEqual(await page.getAttribute('#receipt-status', 'data-outcome'), 'verified');
  const counted = await page.evaluate(() => ({ wholeReads: window.__wholeReads, digests: window.__digests }));
  seen.check();

  const [report] = h.exportAndOpen(server);
  assert.ok(Object.values(report.files)[0].equals(fs.readFileSync(big)), 'the big attachment, byte for byte');
  return { ...counted, envelopeBytes: report.envelope.length };
}

test('with WebAssembly nothing is read whole: every hash streams', async (t) => {
  const { wholeReads, digests } = await sendAndCount(t, false);
  assert.deepStrictEqual({ wholeReads, digests }, { wholeReads: [], digests: [] });
});

test('without WebAssembly (--jitless) each file and the envelope are read whole once, none over the bound', async (t) => {
  const { wholeReads, digests, envelopeBytes } = await sendAndCount(t, true);
  assert.deepStrictEqual(wholeReads, [BIG_BYTES, envelopeBytes + 1], 'Blob reads over 1 MiB: the big file, then 0x00 || envelope');
  assert.deepStrictEqual(digests, [BIG_BYTES, SMALL_BYTES, envelopeBytes + 1], 'digest inputs of 64 KiB or more');
  for (const size of digests) assert.ok(size <= NATIVE_HASH_MAX_BYTES, `${size} bytes hashed at once`);
});
