// web/seal.js without WebAssembly (node --jitless runs libsodium.js's
// JavaScript fallback, as Tor Browser "Safer" does): crypto.subtle.digest
// is not streaming, so what it hashes is read whole and copied once more;
// seal.js uses it only for inputs of at most nativeHashMaxBytes (a file for
// the manifest, 0x00 || the envelope for the leaf hash) and hashes larger
// ones streaming with libsodium. Checked with a small bound, so that both
// sides of it take seconds: every Blob read and every digest input is
// counted, and the leaf hash and the envelope are checked.
// Run: node --test tests/js/seal.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const CHILD_FLAG = '--seal-child';
const MIB = 1024 * 1024;
// Above the 1 MiB slices readPieces reads files in, so that a whole read shows.
const BOUND = MIB + 64 * 1024;

// The child: one sealForUpload of a fileBytes attachment under the bound,
// printing one JSON line: the largest Blob read, the sizes digest was given,
// the envelope's size, whether its leaf hash is SHA-256(0x00 || envelope)
// and whether it opens to the same attachment.
async function child(fileBytes) {
  process.on('unhandledRejection', (reason) => {
    // The fallback's one leftover rejection, as the page ignores it (web/app.js).
    if (!/WebAssembly is not defined/.test(String(reason && reason.message))) throw reason;
  });
  if (!globalThis.crypto) globalThis.crypto = crypto.webcrypto; // node 18
  const require = createRequire(import.meta.url);
  const sodium = require('libsodium-wrappers-sumo');
  await sodium.ready;
  const { sealForUpload } = await import('../../web/seal.js');
  const { openReport } = await import('../../web/envelope.js');

  const reads = [];
  const arrayBuffer = Blob.prototype.arrayBuffer;
  Blob.prototype.arrayBuffer = function countedArrayBuffer() {
    reads.push(this.size);
    return arrayBuffer.call(this);
  };
  const digests = [];
  const digest = globalThis.crypto.subtle.digest.bind(globalThis.crypto.subtle);
  globalThis.crypto.subtle.digest = (algorithm, data) => {
    digests.push(data.byteLength);
    return digest(algorithm, data);
  };

  const { publicKey, privateKey } = crypto.generateKeyPairSync('x25519');
  const keyPair = {
    boxPk: new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')),
    boxSk: new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d, 'base64url')),
  };
  const bytes = crypto.randomBytes(fileBytes);
  const file = Object.assign(new Blob([bytes], { type: 'image/jpeg' }), { name: 'photo.jpg' });
  const sealed = await sealForUpload(sodium, {
    recipients: [keyPair.boxPk], form: 'bribery-report/1', lang: 'en', fields: { what: 'a bribe' }, files: [file],
  }, () => {}, { nativeHashMaxBytes: BOUND });
  const digestsWhileSealing = digests.slice();

  const envelope = Buffer.from(await arrayBuffer.call(sealed.blob));
  const leaf = crypto.createHash('sha256').update(Buffer.of(0)).update(envelope).digest('base64');
  const opened = await openReport(sodium, keyPair, new Uint8Array(envelope));
  console.log(JSON.stringify({
    webAssembly: typeof WebAssembly,
    largestRead: Math.max(...reads),
    digests: digestsWhileSealing,
    envelopeBytes: envelope.length,
    leafHashRight: sealed.leafHash === leaf,
    opens: Buffer.from(opened.files[0]).equals(bytes) && opened.manifest.files[0].sha256 === crypto.createHash('sha256').update(bytes).digest('hex'),
  }));
}

function runChild(fileBytes) {
  const run = spawnSync(process.execPath, ['--jitless', fileURLToPath(import.meta.url), CHILD_FLAG, String(fileBytes)],
    { encoding: 'utf8', timeout: 300000 });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').pop());
  assert.equal(result.webAssembly, 'undefined');
  assert.equal(result.leafHashRight, true, 'the leaf hash is SHA-256(0x00 || envelope)');
  assert.equal(result.opens, true, 'the envelope opens to the attachment and its sha256');
  return result;
}

const childAt = process.argv.indexOf(CHILD_FLAG);
if (childAt !== -1) {
  await child(Number(process.argv[childAt + 1]));
} else {
  test('a file and an envelope under the bound: each read whole once and hashed natively', () => {
    const result = runChild(100 * 1024);
    assert.ok(result.envelopeBytes + 1 <= BOUND);
    assert.deepEqual(result.digests, [100 * 1024, result.envelopeBytes + 1]);
    assert.equal(result.largestRead, result.envelopeBytes + 1);
  });

  // The file fits, the envelope (manifest, Padmé padding, 17 bytes a chunk)
  // does not: the leaf hash is computed streaming while sealing.
  test('a file under the bound whose envelope is over it: the file natively, the envelope never read whole', () => {
    const result = runChild(BOUND - 16);
    assert.ok(result.envelopeBytes + 1 > BOUND);
    assert.deepEqual(result.digests, [BOUND - 16]);
    assert.equal(result.largestRead, BOUND - 16);
  });

  test('a file over the bound: nothing read whole, nothing hashed natively', () => {
    const result = runChild(BOUND + 1);
    assert.deepEqual(result.digests, []);
    assert.equal(result.largestRead, MIB);
  });
}
