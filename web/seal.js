// Seals one report the way the page does: envelope.js's sealReport into a
// Blob, with the hashing strategy chosen for the browser it runs in.
// A module of its own so that the benchmark (tests/browser/bench.js) times
// exactly what the page runs.
import { sealReport, createBlobCollector, subtleSha256Hex, sha256Hex } from './envelope.js';

// Without WebAssembly libsodium.js is interpreted JavaScript (about 1 MiB/s
// for SHA-256 with the JIT off, as in Tor Browser "Safer"), while
// crypto.subtle.digest stays native. But subtle.digest is not streaming: it
// reads its input whole, so it is used for inputs up to this size only.
const NATIVE_HASH_MAX_BYTES = 256 * 1024 * 1024;

function nativeHashing() {
  return typeof WebAssembly === 'undefined' && Boolean(globalThis.crypto && globalThis.crypto.subtle);
}

// The log's leaf hash, SHA-256(0x00 || envelope), natively.
async function subtleLeafHash(envelope) {
  const bytes = await new Blob([Uint8Array.of(0), envelope]).arrayBuffer();
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// report: {recipients, form, lang, fields, files: [File]}; onProgress({phase, done, total})
// -> {blob: the envelope, leafHash: base64 of its log leaf hash}
export async function sealForUpload(sodium, report, onProgress = () => {}) {
  const native = nativeHashing();
  const fileBytes = report.files.reduce((total, file) => total + file.size, 0);
  const collector = createBlobCollector();
  const result = await sealReport(sodium, {
    ...report,
    files: report.files.map((file) => ({ name: file.name, type: file.type, size: file.size, data: file })),
  }, collector.sink, {
    // Hashing the envelope while it streams costs as much as sealing it when
    // interpreted; natively afterwards it is a fraction of a second.
    leafHash: !native || fileBytes > NATIVE_HASH_MAX_BYTES,
    sha256Hex: native
      ? (data, onBytes) => (data.size <= NATIVE_HASH_MAX_BYTES ? subtleSha256Hex(data, onBytes) : sha256Hex(sodium, data, onBytes))
      : undefined,
    onProgress,
  });
  const blob = collector.toBlob();
  const leafHash = result.leafHash || await subtleLeafHash(blob);
  return { blob, leafHash: sodium.to_base64(leafHash, sodium.base64_variants.ORIGINAL) };
}
