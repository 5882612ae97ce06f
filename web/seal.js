// Seals one report the way the page does: envelope.js's sealReport into a
// Blob, with the hashing strategy chosen for the browser it runs in.
// A module of its own so that the benchmark (tests/browser/bench.js) times
// exactly what the page runs.
import {
  sealReport, createBlobCollector, subtleSha256Hex, sha256Hex, plannedEnvelopeLength,
} from './envelope.js';

// Without WebAssembly libsodium.js is interpreted JavaScript: its SHA-256
// ran at 0.39 MiB/s in Chromium --jitless (24 MiB in 61 s), while
// crypto.subtle.digest stays native (0.1 s). But subtle.digest is not
// streaming: its input is read whole into one ArrayBuffer, and digest takes
// a copy of that, so for a moment the page holds the input twice (+49 MiB
// of memory for 24 MiB, docs/web-crypto.md). So it is used only for inputs
// (a file; 0x00 || the envelope) up to this size, which caps that moment at
// 2 x 128 MiB and covers every report sealtipd accepts by default
// (max_report_bytes, 100 MiB); larger ones are hashed streaming by libsodium.
export const NATIVE_HASH_MAX_BYTES = 128 * 1024 * 1024;

function nativeHashing() {
  return typeof WebAssembly === 'undefined' && Boolean(globalThis.crypto && globalThis.crypto.subtle);
}

// The log's leaf hash, SHA-256(0x00 || envelope), natively: reads the
// envelope whole once more (see NATIVE_HASH_MAX_BYTES).
async function subtleLeafHash(envelope) {
  const bytes = await new Blob([Uint8Array.of(0), envelope]).arrayBuffer();
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// report: {recipients, form, lang, fields, files: [File]}; onProgress({phase, done, total});
// options: {nativeHashMaxBytes}: the largest input hashed natively in one
// piece (default NATIVE_HASH_MAX_BYTES; the page never sets it, tests do)
// -> {blob: the envelope, leafHash: base64 of its log leaf hash}
export async function sealForUpload(sodium, report, onProgress = () => {}, { nativeHashMaxBytes = NATIVE_HASH_MAX_BYTES } = {}) {
  const native = nativeHashing();
  // Hashing the envelope while it streams costs as much as sealing it when
  // interpreted; natively afterwards it is a fraction of a second.
  const nativeLeaf = native && 1 + plannedEnvelopeLength(report) <= nativeHashMaxBytes;
  const collector = createBlobCollector();
  const result = await sealReport(sodium, {
    ...report,
    files: report.files.map((file) => ({ name: file.name, type: file.type, size: file.size, data: file })),
  }, collector.sink, {
    leafHash: !nativeLeaf,
    sha256Hex: native
      ? (data, onBytes) => (data.size <= nativeHashMaxBytes ? subtleSha256Hex(data, onBytes) : sha256Hex(sodium, data, onBytes))
      : undefined,
    onProgress,
  });
  const blob = collector.toBlob();
  const leafHash = result.leafHash || await subtleLeafHash(blob);
  return { blob, leafHash: sodium.to_base64(leafHash, sodium.base64_variants.ORIGINAL) };
}
