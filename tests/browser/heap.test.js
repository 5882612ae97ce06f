// After a report is sent, nothing of it is left in libsodium.js's heap: the
// wrappers free their copies of what they are given without clearing them,
// so the page hands plaintext and keys to libsodium through buffers it wipes
// itself (web/envelope.js). Checked in real Chromium against the real
// server, with WebAssembly and without it (--jitless, like Tor Browser
// "Safer", where nothing else overwrites the heap), for a marker typed in
// two fields and a marker inside an attachment: no block of the heap is
// freed while it holds one (a leftover is only overwritten if the allocator
// happens to reuse that block: with WebAssembly the leaf hash usually does),
// and once the receipt is shown neither is anywhere in
// window.sodium.libsodium.HEAPU8.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';

// 200 000 bytes: four chunks, the marker in each of them.
const ATTACHMENT_BYTES = 200000;
const MARKER_OFFSETS = [1000, 70000, 140000, 199000];

// Occurrences of each text in libsodium's heap, found in the page. The
// first byte is found with the native indexOf: the JIT may be off.
function countInHeap(texts) {
  const heap = window.sodium.libsodium.HEAPU8;
  return texts.map((text) => {
    const bytes = new TextEncoder().encode(text);
    let count = 0;
    for (let at = heap.indexOf(bytes[0]); at !== -1; at = heap.indexOf(bytes[0], at + 1)) {
      let matched = 1;
      while (matched < bytes.length && heap[at + matched] === bytes[matched]) matched++;
      if (matched === bytes.length) count++;
    }
    return count;
  });
}

// Watches every _malloc/_free on libsodium's module (the wrappers' and
// envelope.js's alike): window.__freedHolding[i] counts the blocks freed
// while holding texts[i].
function watchFrees(texts) {
  const module = window.sodium.libsodium;
  const needles = texts.map((text) => new TextEncoder().encode(text));
  const holds = (block, bytes) => {
    for (let at = block.indexOf(bytes[0]); at !== -1; at = block.indexOf(bytes[0], at + 1)) {
      let matched = 1;
      while (matched < bytes.length && block[at + matched] === bytes[matched]) matched++;
      if (matched === bytes.length) return true;
    }
    return false;
  };
  const sizes = new Map();
  const malloc = module._malloc;
  const free = module._free;
  window.__freedHolding = texts.map(() => 0);
  module._malloc = (length) => {
    const address = malloc(length);
    sizes.set(address, length);
    return address;
  };
  module._free = (address) => {
    const block = module.HEAPU8.subarray(address, address + (sizes.get(address) || 0));
    needles.forEach((bytes, index) => { if (holds(block, bytes)) window.__freedHolding[index]++; });
    sizes.delete(address);
    free(address);
  };
}

async function sendAndSearch(t, jitless) {
  const fieldMarker = `FIELD-${crypto.randomBytes(12).toString('hex')}`;
  const fileMarker = `FILE-${crypto.randomBytes(12).toString('hex')}`;
  const dir = h.tmpdir();
  const attachment = crypto.randomBytes(ATTACHMENT_BYTES);
  for (const offset of MARKER_OFFSETS) attachment.write(fileMarker, offset, 'latin1');
  const file = path.join(dir, 'ledger.pdf');
  fs.writeFileSync(file, attachment);

  const server = await h.startPageServer(t);
  const context = await h.launch(t, { jitless });
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  await h.openPage(page, server);
  assert.strictEqual(await page.evaluate(() => typeof WebAssembly), jitless ? 'undefined' : 'object');

  await page.evaluate(watchFrees, [fieldMarker, fileMarker]);
  await page.fill('#field-what', `The clerk asked for 200 dollars to stamp the permit. ${fieldMarker}`);
  await page.fill('#field-official_name', `Mr. Dara ${fieldMarker}`);
  await page.setInputFiles('#files', file);
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 120000 });
  await page.waitForSelector('#receipt-status[data-outcome]', { timeout: 60000 });
  assert.strictEqual(await page.getAttribute('#receipt-status', 'data-outcome'), 'verified');

  const freed = await page.evaluate(() => window.__freedHolding);
  const left = await page.evaluate(countInHeap, [fieldMarker, fileMarker]);
  // The search sees the heap: a marker put there is found once.
  const probeMarker = `PROBE-${fieldMarker}`;
  const probeAt = await page.evaluate((marker) => {
    const module = window.sodium.libsodium;
    const address = module._malloc(marker.length);
    module.HEAPU8.set(new TextEncoder().encode(marker), address);
    return address;
  }, probeMarker);
  const [probe] = await page.evaluate(countInHeap, [probeMarker]);
  await page.evaluate(({ address, length }) => {
    const module = window.sodium.libsodium;
    module.HEAPU8.fill(0, address, address + length);
    module._free(address);
  }, { address: probeAt, length: probeMarker.length });
  seen.check();

  // What was searched for really went through the page: the report opens
  // offline with both markers in it.
  const [report] = h.exportAndOpen(server);
  assert.ok(report.manifest.fields.what.endsWith(fieldMarker));
  assert.ok(Object.values(report.files)[0].equals(attachment), 'the attachment, byte for byte');
  return { freed: { field: freed[0], file: freed[1] }, left: { field: left[0], file: left[1] }, probe };
}

for (const [mode, jitless] of [['with WebAssembly', false], ['without WebAssembly (--jitless)', true]]) {
  test(`${mode}: after the receipt, neither the typed text nor the attachment is in libsodium's heap`, async (t) => {
    const { freed, left, probe } = await sendAndSearch(t, jitless);
    assert.strictEqual(probe, 1, 'the search finds a marker put in the heap');
    assert.deepStrictEqual(freed, { field: 0, file: 0 }, 'blocks freed while holding a marker');
    assert.deepStrictEqual(left, { field: 0, file: 0 }, 'markers left in the heap');
  });
}
