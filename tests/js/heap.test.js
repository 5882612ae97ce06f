// What web/envelope.js hands to libsodium.js must not stay in libsodium's
// heap afterwards: the wrappers copy each argument into the module's heap and
// free the copy without clearing it, so a plaintext chunk, an attachment
// piece or a key given to them stays readable in HEAPU8. Checked with the
// build the page loads (the UMD files web/build.sh bundles, which carry the
// JavaScript fallback), with WebAssembly and without it (node --jitless runs
// the fallback, as Tor Browser "Safer" does), each in a child process of its
// own so that nothing else has touched its heap.
// Run: node --test tests/js/heap.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const CHILD_FLAG = '--heap-child';

// Occurrences of needle (bytes or text) in libsodium's whole heap.
function countInHeap(module, needle) {
  const heap = Buffer.from(module.HEAPU8.buffer, module.HEAPU8.byteOffset, module.HEAPU8.length);
  const bytes = Buffer.from(needle);
  let count = 0;
  for (let at = heap.indexOf(bytes); at !== -1; at = heap.indexOf(bytes, at + 1)) count++;
  return count;
}

// An X25519 pair made by node, not by libsodium.js, so that the secret key
// enters libsodium's heap only through envelope.js.
function nodeKeyPair() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('x25519');
  return {
    boxPk: new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')),
    boxSk: new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d, 'base64url')),
  };
}

// The child: seals a report (the page's path: file hash pass with libsodium,
// then the seal pass), then opens it (the reader's path). It watches every
// _malloc/_free on the module, the wrappers' and envelope.js's alike, and
// counts the blocks freed while holding a secret (a leftover there is only
// overwritten if the allocator happens to reuse the block), then what is
// still anywhere in the heap after each step. Prints one JSON line.
async function child() {
  process.on('unhandledRejection', (reason) => {
    // The fallback's one leftover rejection, as the page ignores it (web/app.js).
    if (!/WebAssembly is not defined/.test(String(reason && reason.message))) throw reason;
  });
  const require = createRequire(import.meta.url);
  const sodium = require('libsodium-wrappers-sumo');
  await sodium.ready;
  const envelope = await import('../../web/envelope.js');
  const module = sodium.libsodium;

  const fieldMarker = `FIELD-${crypto.randomBytes(12).toString('hex')}`;
  const fileMarker = `FILE-${crypto.randomBytes(12).toString('hex')}`;
  // 150 000 bytes, the marker in the first, second and third chunk.
  const attachment = crypto.randomBytes(150000);
  for (const offset of [1000, 70000, 149000]) attachment.write(fileMarker, offset, 'latin1');
  const keyPair = nodeKeyPair();
  const secrets = {
    fieldMarker: [Buffer.from(fieldMarker)],
    fileMarker: [Buffer.from(fileMarker)],
    fileKey: [], // filled as libsodium makes it
    fileSha256: [crypto.createHash('sha256').update(attachment).digest()],
    boxSk: [Buffer.from(keyPair.boxSk)],
  };
  const tally = () => Object.fromEntries(Object.keys(secrets).map((name) => [name, 0]));

  // The file key, read where libsodium writes it.
  const keygen = module._crypto_secretstream_xchacha20poly1305_keygen;
  module._crypto_secretstream_xchacha20poly1305_keygen = (key) => {
    keygen(key);
    secrets.fileKey.push(Buffer.from(module.HEAPU8.slice(key, key + 32)));
  };
  const freedHolding = tally();
  const sizes = new Map();
  const malloc = module._malloc;
  const free = module._free;
  module._malloc = (length) => {
    const address = malloc(length);
    sizes.set(address, length);
    return address;
  };
  module._free = (address) => {
    const block = Buffer.from(module.HEAPU8.slice(address, address + (sizes.get(address) || 0)));
    for (const [name, values] of Object.entries(secrets)) {
      if (values.some((value) => block.includes(value))) freedHolding[name]++;
    }
    sizes.delete(address);
    free(address);
  };
  const leftInHeap = () => {
    const left = tally();
    for (const [name, values] of Object.entries(secrets)) {
      left[name] = values.reduce((total, value) => total + countInHeap(module, value), 0);
    }
    return left;
  };

  // The search sees the heap: a marker put there is found once.
  const probe = malloc(fieldMarker.length);
  module.HEAPU8.set(Buffer.from(fieldMarker), probe);
  const probeCount = countInHeap(module, fieldMarker);
  module.HEAPU8.fill(0, probe, probe + fieldMarker.length);
  free(probe);

  const pieces = [];
  await envelope.sealReport(sodium, {
    recipients: [keyPair.boxPk],
    form: 'bribery-report/1',
    lang: 'en',
    fields: { what: `He asked for 500 dollars. ${fieldMarker}` },
    files: [{ name: 'ledger.bin', type: 'application/octet-stream', size: attachment.length, data: new Uint8Array(attachment) }],
  }, async (piece) => { pieces.push(piece); });
  const afterSeal = { freed: { ...freedHolding }, left: leftInHeap() };

  const opened = await envelope.openReport(sodium, keyPair, new Uint8Array(Buffer.concat(pieces)));
  const afterOpen = { freed: { ...freedHolding }, left: leftInHeap() };

  // The same envelope cut in its third chunk, inside the attachment: the
  // reader fails with the hash of a half-read file under way.
  const whole = Buffer.concat(pieces);
  const cut = whole.subarray(0, envelope.preambleLength(1) + 2 * envelope.SEALED_CHUNK_BYTES + 100);
  let cutError = null;
  try {
    await envelope.openReport(sodium, keyPair, new Uint8Array(cut));
  } catch (error) {
    cutError = error.code;
  }
  const afterCutOpen = { freed: { ...freedHolding }, left: leftInHeap() };
  console.log(JSON.stringify({
    webAssembly: typeof WebAssembly,
    probeCount,
    fileKeys: secrets.fileKey.length,
    openedField: opened.manifest.fields.what.endsWith(fieldMarker),
    openedFile: Buffer.from(opened.files[0]).equals(attachment),
    afterSeal,
    afterOpen,
    cutError,
    afterCutOpen,
  }));
}

if (process.argv.includes(CHILD_FLAG)) {
  await child();
} else {
  for (const [mode, flags, webAssembly] of [
    ['with WebAssembly', [], 'object'],
    ['without WebAssembly (node --jitless, the JavaScript fallback)', ['--jitless'], 'undefined'],
  ]) {
    test(`${mode}: no field text, attachment byte, file key, attachment hash or secret key is left in libsodium's heap`, () => {
      const run = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), CHILD_FLAG],
        { encoding: 'utf8', timeout: 300000 });
      assert.equal(run.status, 0, run.stderr);
      const result = JSON.parse(run.stdout.trim().split('\n').pop());
      assert.equal(result.webAssembly, webAssembly);
      assert.equal(result.probeCount, 1, 'the search finds a marker put in the heap');
      assert.equal(result.fileKeys, 1, 'the file key was seen where libsodium made it');
      assert.equal(result.openedField, true);
      assert.equal(result.openedFile, true);
      const none = { fieldMarker: 0, fileMarker: 0, fileKey: 0, fileSha256: 0, boxSk: 0 };
      assert.deepEqual(result.afterSeal, { freed: none, left: none }, 'after sealing: blocks freed holding a secret, secrets left');
      assert.deepEqual(result.afterOpen, { freed: none, left: none }, 'after opening');
      assert.equal(result.cutError, 'chunk_auth');
      assert.deepEqual(result.afterCutOpen, { freed: none, left: none }, 'after a cut envelope failed mid-file');
    });
  }

  // A libsodium.js that hides its module cannot have what it is given wiped:
  // refused before anything is sealed or written.
  test('a libsodium.js without its heap (sodium.libsodium) is refused: argument, nothing written', async () => {
    if (!globalThis.crypto) globalThis.crypto = crypto.webcrypto;
    const { default: sodium } = await import('libsodium-wrappers-sumo');
    await sodium.ready;
    const { startEnvelope, sha256Hex, SealtipError } = await import('../../web/envelope.js');
    const hidden = { ...sodium, libsodium: undefined };
    const pieces = [];
    await assert.rejects(startEnvelope(hidden, [nodeKeyPair().boxPk], async (piece) => { pieces.push(piece); }),
      (error) => error instanceof SealtipError && error.code === 'argument' &&
        error.message === 'libsodium.js does not expose its heap (sodium.libsodium): what it is given could not be wiped');
    assert.deepEqual(pieces, []);
    await assert.rejects(sha256Hex(hidden, new Uint8Array(10)), { code: 'argument' });
  });
}
