// sealtip report envelope v1 in JavaScript: the browser's half of the
// "Formats" section of DESIGN.md (envelope, payload, Padmé), byte-compatible
// with crypto/ in C. Every function that needs cryptography takes an
// initialised libsodium.js *sumo* object as its first argument (`sodium`):
// this module loads no code itself, so the page decides how libsodium.js is
// loaded (WebAssembly or its JavaScript fallback) and node tests inject theirs.
//
// Data flows as async sources of Uint8Array pieces (a Blob/File read in
// 64 KiB slices, a Uint8Array, or an (async) iterable) into async sinks,
// so a 100 MiB attachment is never held whole in JavaScript memory.

export const MAGIC = Uint8Array.of(0x73, 0x65, 0x61, 0x6c, 0x74, 0x69, 0x70); // "sealtip"
export const VERSION = 1;
export const MIN_RECIPIENTS = 1;
export const MAX_RECIPIENTS = 16;
export const KEY_ID_BYTES = 8;
export const RECIPIENT_BYTES = 88; // key id + crypto_box_seal of a 32-byte key
export const HEADER_BYTES = 24;
export const CHUNK_BYTES = 65536;
export const CHUNK_OVERHEAD = 17; // secretstream: 1 tag byte + 16 MAC bytes
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + CHUNK_OVERHEAD;
export const MANIFEST_MAX_BYTES = 1024 * 1024;
export const MANIFEST_MAX_FILES = 1000;
export const MANIFEST_MAX_FIELDS = 256;
export const MANIFEST_MAX_VALUES = 256;
export const MAX_FILE_SIZE = 2 ** 53; // JSON numbers beyond this do not round-trip
export const PUBLIC_KEY_MAX_TEXT = 1024;

const PREFIX_LEN = MAGIC.length + 2; // magic, version byte, recipient count
const FILE_KEY_BYTES = 32;
const SEALED_KEY_BYTES = 80;
const PUBLIC_BLOB_TAG = Uint8Array.of(0x73, 0x74, 0x70, 0x6b); // "stpk"
const SECRETSTREAM_STATE_BYTES = 52;
const SHA256_STATE_BYTES = 104;
const SHA256_BYTES = 32;

// Error codes mirror crypto/status.h (ST_ERR_X -> 'x'), plus 'file_hash' and
// 'file_changed' which only the JavaScript side has.
export class SealtipError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SealtipError';
    this.code = code;
  }
}

function fail(code, message) {
  throw new SealtipError(code, message);
}

// ---------------------------------------------------------------- Padmé ----

// Padded payload length for an unpadded length L (integer 0..2^53): L when L < 2.
export function padmeLength(length) {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FILE_SIZE) {
    fail('argument', `padme length of ${length}: not an integer in 0..2^53`);
  }
  if (length < 2) return length;
  const exponent = bitLength(length) - 1; // E = floor(log2 L)
  const significantBits = bitLength(exponent); // S = floor(log2 E) + 1
  // BigInt keeps the rounding exact whatever the magnitude (no float log).
  const step = 1n << BigInt(exponent - significantBits);
  return Number(((BigInt(length) + step - 1n) / step) * step);
}

// True when a payload length is a Padmé length (padme(P) == P).
export function isPadmeLength(length) {
  return Number.isInteger(length) && length >= 0 && length <= MAX_FILE_SIZE &&
    padmeLength(length) === length;
}

function bitLength(positiveInteger) {
  return BigInt(positiveInteger).toString(2).length;
}

// ------------------------------------------------------------- lengths ----

// Bytes of the preamble (magic through secretstream header) for n recipients.
export function preambleLength(recipientCount) {
  return PREFIX_LEN + RECIPIENT_BYTES * recipientCount + HEADER_BYTES;
}

// Envelope bytes for a payload length: lets the page show upload progress up front.
export function envelopeLength(payloadLength, recipientCount) {
  const chunkCount = payloadLength === 0 ? 1 : Math.ceil(payloadLength / CHUNK_BYTES);
  return preambleLength(recipientCount) + payloadLength + chunkCount * CHUNK_OVERHEAD;
}

// The exact length of the envelope sealReport makes of report ({recipients,
// form, lang, fields, files: [{name, type, size}]}), known before any file is
// read: the manifest with a placeholder hash, as a SHA-256 in hex always has
// 64 digits. The page checks it against the server's limit, and chooses
// how to hash by it.
export function plannedEnvelopeLength(report) {
  const manifest = encodeManifest({
    form: report.form,
    lang: report.lang,
    fields: report.fields ?? {},
    files: report.files.map((file) => ({ name: file.name, type: file.type, size: file.size, sha256: '0'.repeat(64) })),
  });
  const fileBytes = report.files.reduce((total, file) => total + file.size, 0);
  return envelopeLength(padmeLength(4 + manifest.length + fileBytes), report.recipients.length);
}

// ---------------------------------------------------------------- keys -----

// key id = first 8 bytes of BLAKE2b-256(box_pk).
export function keyId(sodium, boxPk) {
  requireBytes(boxPk, 32, 'box public key');
  return sodium.crypto_generichash(32, boxPk, null).slice(0, KEY_ID_BYTES);
}

// Human fingerprint: BLAKE2b-256("stpk"||box_pk||sign_pk)[0..20] as "xxxx xxxx ..." (10 groups).
export function fingerprint(sodium, boxPk, signPk) {
  requireBytes(boxPk, 32, 'box public key');
  requireBytes(signPk, 32, 'signing public key');
  const digest = sodium.crypto_generichash(32, concatBytes([PUBLIC_BLOB_TAG, boxPk, signPk]), null);
  const hex = sodium.to_hex(digest.slice(0, 20));
  return hex.match(/.{4}/g).join(' ');
}

// Parses a public key file strictly -> {boxPk, signPk, keyId (hex), fingerprint}; 'key_format' otherwise.
export function parsePublicKeyFile(sodium, text) {
  if (typeof text !== 'string' || text.length > PUBLIC_KEY_MAX_TEXT) {
    fail('key_format', 'public key file: not text of at most 1024 characters');
  }
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const lines = body.split('\n');
  if (lines.length !== 2) fail('key_format', 'public key file: expected exactly two lines');
  const [comment, encoded] = lines;
  if (!comment.startsWith('untrusted comment: ') || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(comment)) {
    fail('key_format', 'public key file: first line must be "untrusted comment: ..." without control characters');
  }
  const blob = decodeCanonicalBase64(sodium, encoded, 4 + 32 + 32);
  if (!equalBytes(blob.subarray(0, 4), PUBLIC_BLOB_TAG)) {
    fail('key_format', 'public key file: the key does not start with "stpk"');
  }
  const boxPk = blob.slice(4, 36);
  const signPk = blob.slice(36, 68);
  return {
    boxPk,
    signPk,
    keyId: sodium.to_hex(keyId(sodium, boxPk)),
    fingerprint: fingerprint(sodium, boxPk, signPk),
  };
}

// Standard base64 with padding, nothing else, and no non-zero spare bits:
// one key file has exactly one spelling.
function decodeCanonicalBase64(sodium, encoded, byteLength) {
  const expectedChars = Math.ceil(byteLength / 3) * 4;
  if (encoded.length !== expectedChars || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
    fail('key_format', `public key file: second line must be ${expectedChars} characters of base64`);
  }
  let bytes;
  try {
    bytes = sodium.from_base64(encoded, sodium.base64_variants.ORIGINAL);
  } catch {
    fail('key_format', 'public key file: invalid base64');
  }
  if (bytes.length !== byteLength ||
      sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL) !== encoded) {
    fail('key_format', 'public key file: base64 is not canonical or has the wrong length');
  }
  return bytes;
}

// ------------------------------------------------------------- sources -----

// Each Blob.slice().arrayBuffer() costs about as much as hashing 64 KiB
// (Chromium 156: 2 s to read 100 MiB in 64 KiB slices, 0.34 s in 1 MiB
// slices), so a Blob is read 1 MiB at a time and yielded in pieces.
const BLOB_READ_BYTES = 1024 * 1024;

// Yields a source as Uint8Array pieces of at most pieceBytes: Uint8Array,
// Blob/File (read slice by slice), or a function returning an (async) iterable.
export async function* readPieces(source, pieceBytes = CHUNK_BYTES) {
  if (source instanceof Uint8Array) {
    for (let offset = 0; offset < source.length; offset += pieceBytes) {
      yield source.subarray(offset, offset + pieceBytes);
    }
  } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
    // One slice at a time: the browser keeps the file on disk, we hold 1 MiB.
    const readBytes = Math.max(pieceBytes, BLOB_READ_BYTES);
    for (let offset = 0; offset < source.size; offset += readBytes) {
      const slice = new Uint8Array(await source.slice(offset, offset + readBytes).arrayBuffer());
      for (let at = 0; at < slice.length; at += pieceBytes) yield slice.subarray(at, at + pieceBytes);
    }
  } else if (typeof source === 'function') {
    for await (const piece of source()) {
      if (!(piece instanceof Uint8Array)) fail('argument', 'a source yielded something other than a Uint8Array');
      yield piece;
    }
  } else {
    fail('argument', 'source must be a Uint8Array, a Blob or a function returning an iterable');
  }
}

// ---------------------------------------------------- libsodium's heap ----

// libsodium.js's wrappers copy every argument into the module's heap and free
// the copy without clearing it (0.8.4: `_free` alone), and return outputs the
// same way: a plaintext chunk, an attachment piece or a key given to one stays
// readable in HEAPU8 until the allocator happens to reuse that block, which
// without WebAssembly (nothing else hashed there) may be never. So every
// secret and every plaintext goes to libsodium through a heap scope instead:
// this module allocates the buffers, calls the exported C function with the
// arguments the wrapper would pass, and zeroes each buffer before freeing it.

// The emscripten module behind the wrappers; 'argument' if this build hides
// it, since nothing handed to libsodium could then be wiped.
function heapModule(sodium) {
  const module = sodium.libsodium;
  if (!module || !module.HEAPU8 || typeof module._malloc !== 'function' || typeof module._free !== 'function') {
    fail('argument', 'libsodium.js does not expose its heap (sodium.libsodium): what it is given could not be wiped');
  }
  return module;
}

// Buffers in libsodium's heap: {module, alloc(length) -> address,
// copyIn(bytes) -> address, read(address, length) -> Uint8Array, release()}.
// release() zeroes and frees every buffer; call it in a finally. HEAPU8 is
// looked up at each use: a heap that grew is a new view.
function createHeapScope(sodium) {
  const module = heapModule(sodium);
  const held = [];
  return {
    module,
    alloc(length) {
      // At least one byte: malloc(0) may return 0, which reads as a failure.
      const size = Math.max(length, 1);
      const address = module._malloc(size);
      if (!address) fail('nomem', `libsodium's heap has no room for ${size} bytes`);
      held.push([address, size]);
      return address;
    },
    copyIn(bytes) {
      const address = this.alloc(bytes.length);
      module.HEAPU8.set(bytes, address);
      return address;
    },
    read(address, length) {
      return module.HEAPU8.slice(address, address + length);
    },
    release() {
      for (const [address, size] of held.splice(0)) {
        module.HEAPU8.fill(0, address, address + size);
        module._free(address);
      }
    },
  };
}

// Runs action(heap) in a heap scope released however it ends -> what action returns.
function withHeap(sodium, action) {
  const heap = createHeapScope(sodium);
  try {
    return action(heap);
  } finally {
    heap.release();
  }
}

// libsodium's status: 0 is success; anything else is 'crypto', naming what refused.
function requireSuccess(status, what) {
  if ((status | 0) !== 0) fail('crypto', `libsodium refused ${what}`);
}

// ----------------------------------------------------------- hashing -------

// Streaming SHA-256 of secret bytes (attachments) inside a heap scope, so no
// piece is left behind: {update(bytes), digest() -> Uint8Array(32), release()}.
// digest() releases too; release() alone ends it early (an error, a Stop).
function createSecretSha256(sodium) {
  const heap = createHeapScope(sodium);
  const { module } = heap;
  let state;
  let input;
  try {
    state = heap.alloc(SHA256_STATE_BYTES);
    input = heap.alloc(CHUNK_BYTES);
    requireSuccess(module._crypto_hash_sha256_init(state), 'crypto_hash_sha256_init');
  } catch (error) {
    heap.release();
    throw error;
  }
  return {
    update(bytes) {
      for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
        const part = bytes.subarray(offset, offset + CHUNK_BYTES);
        module.HEAPU8.set(part, input);
        // The length is a 64-bit integer passed as two 32-bit halves; the
        // wrapper leaves the high half out (undefined, read as 0).
        requireSuccess(module._crypto_hash_sha256_update(state, input, part.length, 0), 'crypto_hash_sha256_update');
      }
    },
    digest() {
      try {
        const out = heap.alloc(SHA256_BYTES);
        requireSuccess(module._crypto_hash_sha256_final(state, out), 'crypto_hash_sha256_final');
        return heap.read(out, SHA256_BYTES);
      } finally {
        heap.release();
      }
    },
    release() {
      heap.release();
    },
  };
}

// SHA-256 of a source, streaming (sumo's crypto_hash_sha256_*) -> lowercase hex.
export async function sha256Hex(sodium, source, onBytes = () => {}) {
  const hasher = createSecretSha256(sodium);
  try {
    for await (const piece of readPieces(source)) {
      hasher.update(piece);
      onBytes(piece.length);
    }
    return sodium.to_hex(hasher.digest());
  } finally {
    hasher.release();
  }
}

// SHA-256 with the platform's native crypto.subtle -> lowercase hex; same
// contract as sha256Hex without sodium. Holds the whole Blob/Uint8Array in
// memory once, but stays fast where libsodium.js runs interpreted (no WebAssembly).
export async function subtleSha256Hex(source, onBytes = () => {}) {
  if (!(source instanceof Uint8Array) && !(typeof Blob !== 'undefined' && source instanceof Blob)) {
    fail('argument', 'subtleSha256Hex reads a Uint8Array or a Blob');
  }
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(await source.arrayBuffer());
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  onBytes(bytes.length);
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

// Incremental log leaf hash SHA-256(0x00 || envelope): {update(piece), digest() -> Uint8Array}.
export function createLeafHasher(sodium) {
  const state = sodium.crypto_hash_sha256_init();
  sodium.crypto_hash_sha256_update(state, Uint8Array.of(0x00));
  return {
    update(piece) { sodium.crypto_hash_sha256_update(state, piece); },
    digest() { return sodium.crypto_hash_sha256_final(state); },
  };
}

// Log leaf hash SHA-256(0x00 || envelope) of a whole source, streaming -> Uint8Array(32).
export async function leafHash(sodium, source) {
  const hasher = createLeafHasher(sodium);
  for await (const piece of readPieces(source)) hasher.update(piece);
  return hasher.digest();
}

// -------------------------------------------------------- envelope writer --

// Starts an envelope to 1..16 X25519 box public keys: writes the preamble to
// sink now, then {write(bytes), finish(), abort()} seal the payload 64 KiB at
// a time (await each call). Every piece given to the async sink is a fresh
// Uint8Array it may keep.
export async function startEnvelope(sodium, boxPks, sink) {
  if (!Array.isArray(boxPks) || boxPks.length < MIN_RECIPIENTS || boxPks.length > MAX_RECIPIENTS) {
    fail('nrecip', `an envelope has ${MIN_RECIPIENTS} to ${MAX_RECIPIENTS} recipients`);
  }
  boxPks.forEach((boxPk) => requireBytes(boxPk, 32, 'box public key'));
  // The stream state outlives this call (every chunk needs it): wipe() zeroes and frees it.
  const state = allocStreamState(sodium);
  let preamble;
  try {
    preamble = sealPreamble(sodium, state, boxPks);
    await sink(preamble);
  } catch (error) {
    wipeStreamState(sodium, state);
    throw error;
  }

  const pending = new Uint8Array(CHUNK_BYTES); // the one plaintext chunk held back
  let pendingLength = 0;
  let chunkCount = 0;
  let payloadLength = 0;
  let finished = false;
  let wiped = false;

  function wipe() {
    pending.fill(0);
    if (!wiped) wipeStreamState(sodium, state);
    wiped = true;
  }

  // The first chunk carries the preamble as additional data, binding the
  // recipient list to the stream.
  async function sealPending(tag) {
    const ad = chunkCount === 0 ? preamble : null;
    const sealed = pushChunk(sodium, state, pending.subarray(0, pendingLength), ad, tag);
    chunkCount += 1;
    pendingLength = 0;
    await sink(sealed);
  }

  return {
    // Adds payload bytes; a full chunk is sealed (MESSAGE) only once more bytes
    // follow it, so the last chunk can still be tagged FINAL.
    async write(bytes) {
      if (finished) fail('state', 'write after finish');
      if (!(bytes instanceof Uint8Array)) fail('argument', 'payload bytes must be a Uint8Array');
      for (let offset = 0; offset < bytes.length;) {
        if (pendingLength === CHUNK_BYTES) {
          await sealPending(sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
        }
        const take = Math.min(CHUNK_BYTES - pendingLength, bytes.length - offset);
        pending.set(bytes.subarray(offset, offset + take), pendingLength);
        pendingLength += take;
        offset += take;
        payloadLength += take;
      }
    },
    // Seals what is held as the FINAL chunk -> {payloadLength, envelopeLength}.
    async finish() {
      if (finished) fail('state', 'finish called twice');
      finished = true;
      await sealPending(sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
      wipe();
      return { payloadLength, envelopeLength: envelopeLength(payloadLength, boxPks.length) };
    },
    // Wipes the held plaintext and the stream state; the envelope stays unfinished.
    abort() {
      finished = true;
      wipe();
    },
  };
}

// Draws a file key, starts the stream in state and seals the key to each
// recipient -> the preamble. The key is made, used and wiped inside
// libsodium's heap: it never becomes a JavaScript array.
function sealPreamble(sodium, state, boxPks) {
  return withHeap(sodium, (heap) => {
    const { module } = heap;
    const fileKey = heap.alloc(FILE_KEY_BYTES);
    module._crypto_secretstream_xchacha20poly1305_keygen(fileKey);
    const header = heap.alloc(HEADER_BYTES);
    requireSuccess(module._crypto_secretstream_xchacha20poly1305_init_push(state, header, fileKey),
      'crypto_secretstream_xchacha20poly1305_init_push');
    const sealedKey = heap.alloc(SEALED_KEY_BYTES);
    const entries = boxPks.flatMap((boxPk, index) => {
      // (c, m, mlen as two 32-bit halves, pk), as the wrapper calls it.
      requireSuccess(module._crypto_box_seal(sealedKey, fileKey, FILE_KEY_BYTES, 0, heap.copyIn(boxPk)),
        `crypto_box_seal to recipient ${index + 1}`);
      return [keyId(sodium, boxPk), heap.read(sealedKey, SEALED_KEY_BYTES)];
    });
    return concatBytes([MAGIC, Uint8Array.of(VERSION, boxPks.length), ...entries, heap.read(header, HEADER_BYTES)]);
  });
}

// Seals one chunk (ad: Uint8Array or null) -> the sealed chunk, message length + 17 bytes.
function pushChunk(sodium, state, message, ad, tag) {
  return withHeap(sodium, (heap) => {
    const messageAt = heap.copyIn(message);
    const adAt = ad ? heap.copyIn(ad) : 0;
    const sealedLength = message.length + CHUNK_OVERHEAD;
    const sealedAt = heap.alloc(sealedLength);
    // (state, c, clen_p = NULL, m, mlen, ad, adlen, tag), each 64-bit length
    // as two 32-bit halves (high half 0), as the wrapper calls it.
    requireSuccess(heap.module._crypto_secretstream_xchacha20poly1305_push(
      state, sealedAt, 0, messageAt, message.length, 0, adAt, ad ? ad.length : 0, 0, tag),
    'crypto_secretstream_xchacha20poly1305_push');
    return heap.read(sealedAt, sealedLength);
  });
}

// Opens one chunk (cipher of at least 17 bytes, ad: Uint8Array or null) ->
// {message, tag}, or null when it does not authenticate.
function pullChunk(sodium, state, cipher, ad) {
  if (cipher.length < CHUNK_OVERHEAD) fail('argument', `a sealed chunk has at least ${CHUNK_OVERHEAD} bytes`);
  return withHeap(sodium, (heap) => {
    const cipherAt = heap.copyIn(cipher);
    const adAt = ad ? heap.copyIn(ad) : 0;
    const messageLength = cipher.length - CHUNK_OVERHEAD;
    const messageAt = heap.alloc(messageLength);
    const tagAt = heap.alloc(1);
    // (state, m, mlen_p = NULL, tag_p, c, clen, ad, adlen), 64-bit lengths as
    // two 32-bit halves, as the wrapper calls it.
    const status = heap.module._crypto_secretstream_xchacha20poly1305_pull(
      state, messageAt, 0, tagAt, cipherAt, cipher.length, 0, adAt, ad ? ad.length : 0, 0);
    if ((status | 0) !== 0) return null;
    return { message: heap.read(messageAt, messageLength), tag: heap.module.HEAPU8[tagAt] };
  });
}

// A block of libsodium's heap for a secretstream state -> its address; the
// owner frees it with wipeStreamState.
function allocStreamState(sodium) {
  const state = heapModule(sodium)._malloc(SECRETSTREAM_STATE_BYTES);
  if (!state) fail('nomem', `libsodium's heap has no room for ${SECRETSTREAM_STATE_BYTES} bytes`);
  return state;
}

// Zeroes (it holds the key) and frees a secretstream state.
function wipeStreamState(sodium, state) {
  const module = heapModule(sodium);
  module.HEAPU8.fill(0, state, state + SECRETSTREAM_STATE_BYTES);
  module._free(state);
}

// ------------------------------------------------------- payload builder --

// The manifest as compact UTF-8 JSON bytes, keys in the documented order.
export function encodeManifest({ form, lang, fields, files }) {
  const manifest = {
    v: 1,
    form: wellFormed(form),
    lang: wellFormed(lang),
    fields: encodeFields(fields),
    files: files.map((file) => ({
      name: wellFormed(file.name),
      type: wellFormed(file.type),
      size: file.size,
      sha256: file.sha256,
    })),
  };
  validateManifest(manifest, 'argument');
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  if (bytes.length > MANIFEST_MAX_BYTES) fail('too_large', 'the report text is over 1 MiB');
  return bytes;
}

function encodeFields(fields) {
  const encoded = {};
  for (const [id, value] of Object.entries(fields)) {
    encoded[wellFormed(id)] = Array.isArray(value) ? value.map(wellFormed) : wellFormed(value);
  }
  return encoded;
}

// Lone UTF-16 surrogates (possible in pasted text) would become "\ud800"
// escapes that strict JSON readers refuse: replace them like toWellFormed().
function wellFormed(text) {
  if (typeof text !== 'string') fail('argument', 'manifest values must be strings');
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

// Builds and seals one report: hashes each file (first pass), then streams
// u32 manifest length || manifest || files || zero padding through an
// envelope to sink (second pass). files: [{name, type, size, data}] where
// data is a Blob/File, Uint8Array or function returning an iterable.
// options: {onProgress({phase: 'hashing'|'sealing', done, total}), leafHash: bool,
// sha256Hex(data, onBytes) -> Promise<hex> for the first pass (default: libsodium, streaming;
// subtleSha256Hex is the fast choice without WebAssembly)}.
// -> {manifest, manifestBytes, unpaddedLength, payloadLength, envelopeLength, leafHash?}
export async function sealReport(sodium, { recipients, form, lang, fields = {}, files = [] }, sink, options = {}) {
  const onProgress = options.onProgress || (() => {});
  const hashFile = options.sha256Hex || ((data, onBytes) => sha256Hex(sodium, data, onBytes));
  const fileBytes = files.reduce((total, file) => total + file.size, 0);
  let done = 0;
  const hashed = [];
  for (const file of files) {
    let hashedBytes = 0;
    const sha256 = await hashFile(file.data, (count) => {
      hashedBytes += count;
      done += count;
      onProgress({ phase: 'hashing', done, total: fileBytes });
    });
    if (hashedBytes !== file.size) fail('file_changed', `"${file.name}" has ${hashedBytes} bytes, not ${file.size}`);
    // An empty type is what a browser reports for an unknown kind of file.
    hashed.push({ name: file.name, type: file.type ?? '', size: file.size, sha256 });
  }
  const manifestBytes = encodeManifest({ form, lang, fields, files: hashed });
  const unpaddedLength = 4 + manifestBytes.length + fileBytes;
  const payloadLength = padmeLength(unpaddedLength);

  const hasher = options.leafHash ? createLeafHasher(sodium) : null;
  const writer = await startEnvelope(sodium, recipients, async (piece) => {
    if (hasher) hasher.update(piece);
    await sink(piece);
  });
  try {
    return await sealPayload(writer, manifestBytes, files, unpaddedLength, payloadLength, onProgress, hasher);
  } catch (error) {
    writer.abort();
    throw error;
  }
}

// The seal pass of sealReport: length prefix, manifest, files, padding.
async function sealPayload(writer, manifestBytes, files, unpaddedLength, payloadLength, onProgress, hasher) {
  const lengthPrefix = new Uint8Array(4);
  new DataView(lengthPrefix.buffer).setUint32(0, manifestBytes.length, true);
  await writer.write(lengthPrefix);
  await writer.write(manifestBytes);
  let done = 0;
  onProgress({ phase: 'sealing', done, total: payloadLength });
  for (const file of files) {
    let written = 0;
    for await (const piece of readPieces(file.data)) {
      written += piece.length;
      if (written > file.size) break;
      await writer.write(piece);
      done += piece.length;
      onProgress({ phase: 'sealing', done, total: payloadLength });
    }
    // The manifest promised size and sha256: a file edited between the two
    // passes must not yield a report whose manifest lies.
    if (written !== file.size) fail('file_changed', `"${file.name}" changed while it was being encrypted`);
  }
  await writeZeros(writer, payloadLength - unpaddedLength);
  onProgress({ phase: 'sealing', done: payloadLength, total: payloadLength });
  const lengths = await writer.finish();
  const result = {
    manifest: JSON.parse(new TextDecoder().decode(manifestBytes)),
    manifestBytes,
    unpaddedLength,
    payloadLength: lengths.payloadLength,
    envelopeLength: lengths.envelopeLength,
  };
  if (hasher) result.leafHash = hasher.digest();
  return result;
}

async function writeZeros(writer, count) {
  const zeros = new Uint8Array(Math.min(count, CHUNK_BYTES));
  for (let left = count; left > 0; left -= zeros.length) {
    await writer.write(zeros.subarray(0, Math.min(left, zeros.length)));
  }
}

// Collects sink pieces into one Blob, folding them in every few MiB so the
// pieces can be freed and the browser may keep the bytes outside the JS heap.
// -> {sink(piece), toBlob()}
export function createBlobCollector(type = 'application/octet-stream', foldBytes = 4 * 1024 * 1024) {
  let blob = new Blob([], { type });
  let pieces = [];
  let piecesBytes = 0;
  const fold = () => {
    blob = new Blob([blob, ...pieces], { type });
    pieces = [];
    piecesBytes = 0;
  };
  return {
    async sink(piece) {
      pieces.push(piece);
      piecesBytes += piece.length;
      if (piecesBytes >= foldBytes) fold();
    },
    toBlob() {
      fold();
      return blob;
    },
  };
}

// ------------------------------------------------------- envelope reader --

// Opens an envelope as it streams, for the X25519 pair {boxPk, boxSk}: each
// authenticated plaintext chunk goes to onPlaintext(bytes) at once (not final
// until finish() succeeds). -> {update(bytes), finish() -> {payloadLength, recipientKeyIds}}
// Errors are sticky SealtipErrors.
export function createEnvelopeReader(sodium, { boxPk, boxSk }, onPlaintext) {
  requireBytes(boxPk, 32, 'box public key');
  requireBytes(boxSk, 32, 'box secret key');
  const ownKeyId = keyId(sodium, boxPk);
  let preamble = new Uint8Array(preambleLength(MAX_RECIPIENTS));
  let preambleFilled = 0;
  let preambleNeeded = PREFIX_LEN;
  let recipientKeyIds = null;
  let stream = null; // secretstream pull state once the preamble is read
  const chunk = new Uint8Array(SEALED_CHUNK_BYTES);
  let chunkFilled = 0;
  let chunkCount = 0;
  let payloadLength = 0;
  let sawFinal = false;
  let stickyError = null;
  let released = false;

  function releaseStream() {
    if (stream && !released) wipeStreamState(sodium, stream);
    released = true;
  }

  function takePreambleBytes(bytes, offset) {
    const take = Math.min(preambleNeeded - preambleFilled, bytes.length - offset);
    preamble.set(bytes.subarray(offset, offset + take), preambleFilled);
    preambleFilled += take;
    if (preambleFilled === PREFIX_LEN && preambleNeeded === PREFIX_LEN) {
      preambleNeeded = preambleLength(checkPrefix(preamble));
    }
    if (preambleFilled === preambleNeeded && preambleNeeded > PREFIX_LEN) openPreamble();
    return offset + take;
  }

  function openPreamble() {
    preamble = preamble.slice(0, preambleNeeded);
    const recipientCount = preamble[MAGIC.length + 1];
    recipientKeyIds = [];
    const ownSealedKeys = [];
    for (let index = 0; index < recipientCount; index++) {
      const entry = preamble.subarray(PREFIX_LEN + index * RECIPIENT_BYTES, PREFIX_LEN + (index + 1) * RECIPIENT_BYTES);
      const entryKeyId = entry.slice(0, KEY_ID_BYTES);
      recipientKeyIds.push(sodium.to_hex(entryKeyId));
      if (equalBytes(entryKeyId, ownKeyId)) ownSealedKeys.push(entry.subarray(KEY_ID_BYTES));
    }
    if (ownSealedKeys.length === 0) fail('not_recipient', 'this key is not among the recipients of the envelope');
    stream = openStream(sodium, ownSealedKeys, preamble.subarray(preamble.length - HEADER_BYTES), boxPk, boxSk);
    if (stream === null) fail('recipient_auth', 'our recipient entry does not open: corrupted or forged');
  }

  function takeChunkBytes(bytes, offset) {
    if (sawFinal) fail('trailing', 'bytes after the FINAL chunk');
    const take = Math.min(SEALED_CHUNK_BYTES - chunkFilled, bytes.length - offset);
    chunk.set(bytes.subarray(offset, offset + take), chunkFilled);
    chunkFilled += take;
    if (chunkFilled === SEALED_CHUNK_BYTES) openFullChunk();
    return offset + take;
  }

  // A full-size chunk is MESSAGE, or FINAL when the payload ends on a chunk boundary.
  function openFullChunk() {
    const { tag } = openChunk();
    if (tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) sawFinal = true;
    else if (tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
      fail('layout', `chunk ${chunkCount} has tag ${tag}, neither MESSAGE nor FINAL`);
    }
  }

  // The bytes left at the end must be one short FINAL chunk, empty only when it is the only one.
  function openLastShortChunk() {
    if (chunkFilled < CHUNK_OVERHEAD) fail('truncated', 'the envelope ends inside a chunk');
    const cipher = chunk.slice(0, chunkFilled);
    const ad = chunkCount === 0 ? preamble : null;
    const payloadBefore = payloadLength;
    const snapshot = snapshotStreamState(sodium, stream);
    let opened;
    try {
      opened = openChunk();
    } catch (error) {
      if (error.code === 'chunk_auth') diagnoseLastChunk(snapshot, cipher, ad, payloadBefore);
      throw error;
    } finally {
      snapshot.fill(0); // a copy of the stream state holds the key
    }
    const { tag, length } = opened;
    if (tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      fail('layout', `a MESSAGE chunk shorter than ${CHUNK_BYTES} bytes (chunk ${chunkCount})`);
    }
    if (length === 0 && chunkCount > 1) fail('layout', 'an empty FINAL chunk after full chunks');
  }

  // Names the fault after the last chunk failed, or returns: a prefix that
  // authenticates means bytes follow a FINAL chunk ('trailing') or a short
  // MESSAGE chunk ('layout'). Runs only on this error path: first the prefixes
  // that end the payload at a Padmé length (where a FINAL chunk would end),
  // then the others while a budget of 4 MiB of trial decryption lasts.
  function diagnoseLastChunk(snapshot, cipher, ad, payloadBefore) {
    const endsPadded = (length) => isPadmeLength(payloadBefore + length - CHUNK_OVERHEAD);
    const candidates = [];
    for (let length = CHUNK_OVERHEAD; length < cipher.length; length++) {
      if (endsPadded(length)) candidates.push(length);
    }
    let budget = 4 * 1024 * 1024;
    for (let length = CHUNK_OVERHEAD; length < cipher.length && budget > 0; length++) {
      if (!endsPadded(length)) candidates.push(length);
      budget -= length;
    }
    for (const length of candidates) {
      restoreStreamState(sodium, stream, snapshot);
      const opened = pullChunk(sodium, stream, cipher.subarray(0, length), ad);
      if (opened && opened.tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
        fail('trailing', `${cipher.length - length} bytes after the FINAL chunk`);
      }
      if (opened) fail('layout', `a MESSAGE chunk shorter than ${CHUNK_BYTES} bytes (chunk ${chunkCount})`);
    }
  }

  function openChunk() {
    const ad = chunkCount === 0 ? preamble : null;
    const opened = pullChunk(sodium, stream, chunk.subarray(0, chunkFilled), ad);
    chunkCount += 1;
    chunkFilled = 0;
    if (!opened) {
      // Chunks are framed by the canonical layout alone, so a cut, extended or
      // mis-sized chunk shows up here as a failed authentication.
      fail('chunk_auth', `chunk ${chunkCount} failed authentication (corrupted, truncated, mis-sized or followed by extra bytes)`);
    }
    payloadLength += opened.message.length;
    onPlaintext(opened.message);
    return { tag: opened.tag, length: opened.message.length };
  }

  function sticky(action) {
    if (stickyError) throw stickyError;
    try {
      return action();
    } catch (error) {
      stickyError = error;
      releaseStream();
      throw error;
    }
  }

  return {
    // Feeds envelope bytes in any split.
    update(bytes) {
      sticky(() => {
        for (let offset = 0; offset < bytes.length;) {
          offset = stream ? takeChunkBytes(bytes, offset) : takePreambleBytes(bytes, offset);
        }
      });
    },
    // Checks the envelope ended exactly after a canonical FINAL chunk.
    finish() {
      return sticky(() => {
        if (!stream) fail('truncated', 'the envelope ends inside its preamble');
        if (chunkFilled > 0) openLastShortChunk();
        else if (!sawFinal) {
          fail(chunkCount === 0 ? 'truncated' : 'no_final', chunkCount === 0
            ? 'the envelope has no chunk' : 'the stream ends without a FINAL chunk');
        }
        stickyError = new SealtipError('state', 'the reader is finished');
        releaseStream();
        return { payloadLength, recipientKeyIds };
      });
    },
  };
}

// Copies of the 52-byte stream state, for diagnosis only (see
// diagnoseLastChunk); the caller zeroes the copy, which holds the key.
function snapshotStreamState(sodium, state) {
  return heapModule(sodium).HEAPU8.slice(state, state + SECRETSTREAM_STATE_BYTES);
}

function restoreStreamState(sodium, state, snapshot) {
  heapModule(sodium).HEAPU8.set(snapshot, state);
}

// Magic, version and recipient count -> recipient count.
function checkPrefix(prefix) {
  if (!equalBytes(prefix.subarray(0, MAGIC.length), MAGIC)) fail('magic', 'not a sealtip envelope');
  const version = prefix[MAGIC.length];
  if (version !== VERSION) fail('version', `unknown envelope version ${version}`);
  const recipientCount = prefix[MAGIC.length + 1];
  if (recipientCount < MIN_RECIPIENTS || recipientCount > MAX_RECIPIENTS) {
    fail('nrecip', `recipient count ${recipientCount} outside ${MIN_RECIPIENTS}..${MAX_RECIPIENTS}`);
  }
  return recipientCount;
}

// Opens the first of our sealed file keys that opens and starts a pull
// stream with it, the secret key and the file key inside libsodium's heap
// only -> the stream state's address, or null when none opens (corrupted or
// forged).
function openStream(sodium, sealedKeys, header, boxPk, boxSk) {
  return withHeap(sodium, (heap) => {
    const { module } = heap;
    const boxPkAt = heap.copyIn(boxPk);
    const boxSkAt = heap.copyIn(boxSk);
    const sealedAt = heap.alloc(SEALED_KEY_BYTES);
    const fileKey = heap.alloc(FILE_KEY_BYTES);
    for (const sealedKey of sealedKeys) {
      module.HEAPU8.set(sealedKey.subarray(0, SEALED_KEY_BYTES), sealedAt);
      // (m, c, clen as two 32-bit halves, pk, sk), as the wrapper calls it.
      if ((module._crypto_box_seal_open(fileKey, sealedAt, SEALED_KEY_BYTES, 0, boxPkAt, boxSkAt) | 0) !== 0) continue;
      const state = allocStreamState(sodium);
      const status = module._crypto_secretstream_xchacha20poly1305_init_pull(state, heap.copyIn(header), fileKey);
      if ((status | 0) !== 0) {
        wipeStreamState(sodium, state);
        fail('crypto', 'libsodium refused crypto_secretstream_xchacha20poly1305_init_pull');
      }
      return state;
    }
    return null;
  });
}

// ------------------------------------------------------- payload parser ---

// Parses a payload as it streams: handlers {manifest(manifest, rawBytes),
// fileBegin(index, entry), fileData(bytes), fileEnd(index)}, each optional.
// Checks manifest strictness, each file's sha256, zero padding and the Padmé
// length. -> {update(bytes), finish() -> {manifest, unpaddedLength, payloadLength},
// abort()}: a caller whose input failed (the envelope's own error) calls
// abort(), so that the hash of a file cut short is wiped too.
export function createPayloadParser(sodium, handlers = {}) {
  const lengthPrefix = new Uint8Array(4);
  let phase = 'length'; // length -> manifest -> files -> padding
  let filled = 0;
  let manifestBytes = null;
  let manifest = null;
  let fileIndex = -1;
  let fileLeft = 0;
  let fileHash = null;
  let unpaddedLength = 0;
  let received = 0;
  let stickyError = null;

  function takeLength(bytes, offset) {
    const take = Math.min(4 - filled, bytes.length - offset);
    lengthPrefix.set(bytes.subarray(offset, offset + take), filled);
    filled += take;
    if (filled === 4) {
      const manifestLength = new DataView(lengthPrefix.buffer).getUint32(0, true);
      if (manifestLength === 0 || manifestLength > MANIFEST_MAX_BYTES) {
        fail('manifest_len', `manifest length ${manifestLength} outside 1..${MANIFEST_MAX_BYTES}`);
      }
      manifestBytes = new Uint8Array(manifestLength);
      filled = 0;
      phase = 'manifest';
    }
    return offset + take;
  }

  function takeManifest(bytes, offset) {
    const take = Math.min(manifestBytes.length - filled, bytes.length - offset);
    manifestBytes.set(bytes.subarray(offset, offset + take), filled);
    filled += take;
    if (filled === manifestBytes.length) {
      manifest = parseManifest(manifestBytes);
      const fileTotal = manifest.files.reduce((total, file) => total + BigInt(file.size), 0n);
      const unpadded = 4n + BigInt(manifestBytes.length) + fileTotal;
      if (unpadded > BigInt(MAX_FILE_SIZE)) fail('sizes', 'file sizes add up to more than 2^53 bytes');
      unpaddedLength = Number(unpadded);
      if (handlers.manifest) handlers.manifest(manifest, manifestBytes);
      phase = 'files';
      startNextFile();
    }
    return offset + take;
  }

  function startNextFile() {
    for (;;) {
      fileIndex += 1;
      if (fileIndex === manifest.files.length) {
        phase = 'padding';
        return;
      }
      if (handlers.fileBegin) handlers.fileBegin(fileIndex, manifest.files[fileIndex]);
      fileLeft = manifest.files[fileIndex].size;
      fileHash = createSecretSha256(sodium);
      if (fileLeft > 0) return;
      endFile();
    }
  }

  function takeFileBytes(bytes, offset) {
    const take = Math.min(fileLeft, bytes.length - offset);
    const piece = bytes.subarray(offset, offset + take);
    fileHash.update(piece);
    if (handlers.fileData) handlers.fileData(piece);
    fileLeft -= take;
    if (fileLeft === 0) {
      endFile();
      startNextFile();
    }
    return offset + take;
  }

  function endFile() {
    const file = manifest.files[fileIndex];
    const digest = sodium.to_hex(fileHash.digest());
    fileHash = null;
    if (digest !== file.sha256) fail('file_hash', `file ${fileIndex + 1} does not match its sha256`);
    if (handlers.fileEnd) handlers.fileEnd(fileIndex);
  }

  function takePadding(bytes, offset) {
    for (let index = offset; index < bytes.length; index++) {
      if (bytes[index] !== 0) fail('padding', 'padding bytes are not all zero');
    }
    if (received > padmeLength(unpaddedLength)) fail('not_padme', 'payload is longer than its Padmé length');
    return bytes.length;
  }

  const steps = { length: takeLength, manifest: takeManifest, files: takeFileBytes, padding: takePadding };

  function sticky(action) {
    if (stickyError) throw stickyError;
    try {
      return action();
    } catch (error) {
      stickyError = error;
      // The hash of a file cut short holds its last bytes: wipe them now.
      if (fileHash) fileHash.release();
      throw error;
    }
  }

  return {
    // Feeds plaintext payload bytes in any split.
    update(bytes) {
      sticky(() => {
        received += bytes.length;
        for (let offset = 0; offset < bytes.length;) offset = steps[phase](bytes, offset);
      });
    },
    // Checks everything arrived and the total is padme(unpadded).
    finish() {
      return sticky(() => {
        if (phase === 'length' || phase === 'manifest') {
          fail('manifest_len', 'the payload ends before its manifest does');
        }
        if (phase === 'files') fail('sizes', 'the manifest promises more file bytes than the payload holds');
        if (received !== padmeLength(unpaddedLength)) {
          fail('not_padme', `payload length ${received} is not padme(${unpaddedLength})`);
        }
        stickyError = new SealtipError('state', 'the parser is finished');
        return { manifest, unpaddedLength, payloadLength: received };
      });
    },
    // Ends it, wiping what a file's hash still holds; any later call fails.
    abort() {
      if (fileHash) fileHash.release();
      fileHash = null;
      if (!stickyError) stickyError = new SealtipError('state', 'the parser was aborted');
    },
  };
}

// Opens a whole report into memory (tests; the page checking its own output):
// -> {manifest, manifestBytes, files: [Uint8Array], payloadLength, recipientKeyIds}.
export async function openReport(sodium, keyPair, source) {
  let manifestBytes = null;
  const files = [];
  let current = [];
  const parser = createPayloadParser(sodium, {
    manifest(manifest, raw) { manifestBytes = raw; },
    fileBegin() { current = []; },
    fileData(bytes) { current.push(bytes.slice()); },
    fileEnd() { files.push(concatBytes(current)); },
  });
  // The envelope's own errors name the deeper fault, so a payload error is
  // held until the envelope has proved complete and canonical.
  let payloadError = null;
  const reader = createEnvelopeReader(sodium, keyPair, (plaintext) => {
    if (payloadError) return;
    try {
      parser.update(plaintext);
    } catch (error) {
      payloadError = error;
    }
  });
  try {
    for await (const piece of readPieces(source)) reader.update(piece);
    const { recipientKeyIds } = reader.finish();
    if (payloadError) throw payloadError;
    const { manifest, payloadLength } = parser.finish();
    return { manifest, manifestBytes, files, payloadLength, recipientKeyIds };
  } finally {
    parser.abort(); // after finish(), nothing is left to wipe
  }
}

// --------------------------------------------------------- manifest -------

// Strict manifest parse: UTF-8 (fatal), JSON without duplicate keys or lone
// surrogates, then the v1 schema. Unknown keys are kept.
export function parseManifest(bytes) {
  let text;
  try {
    // ignoreBOM keeps a BOM in the text, where the JSON scanner refuses it.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    fail('manifest_json', 'manifest is not valid UTF-8');
  }
  const { value, integerKeys } = parseStrictJson(text);
  validateManifest(value, 'manifest_schema', integerKeys);
  return value;
}

// integerKeys: containers -> keys whose number was written without fraction or
// exponent, so "size": 7.0 is refused like a C reader refuses a JSON real.
function validateManifest(manifest, code, integerKeys = null) {
  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  const isInteger = (holder, key) => Number.isInteger(holder[key]) &&
    (!integerKeys || (integerKeys.get(holder) || new Set()).has(key));
  const check = (condition, message) => { if (!condition) fail(code, `manifest: ${message}`); };
  check(isObject(manifest), 'not an object');
  check(isInteger(manifest, 'v') && manifest.v === 1, '"v" must be the integer 1');
  check(typeof manifest.form === 'string', '"form" must be a string');
  check(typeof manifest.lang === 'string', '"lang" must be a string');
  check(isObject(manifest.fields), '"fields" must be an object');
  const fieldValues = Object.values(manifest.fields);
  check(fieldValues.length <= MANIFEST_MAX_FIELDS, `more than ${MANIFEST_MAX_FIELDS} fields`);
  for (const value of fieldValues) {
    const isStringList = Array.isArray(value) && value.length <= MANIFEST_MAX_VALUES &&
      value.every((item) => typeof item === 'string');
    check(typeof value === 'string' || isStringList, 'each field is a string or a list of strings');
  }
  check(Array.isArray(manifest.files), '"files" must be an array');
  check(manifest.files.length <= MANIFEST_MAX_FILES, `more than ${MANIFEST_MAX_FILES} files`);
  for (const file of manifest.files) {
    check(isObject(file), 'each file is an object');
    check(typeof file.name === 'string' && typeof file.type === 'string', 'file "name" and "type" are strings');
    check(isInteger(file, 'size') && file.size >= 0 && file.size <= MAX_FILE_SIZE, 'file "size" is an integer in 0..2^53');
    check(typeof file.sha256 === 'string' && /^[0-9a-f]{64}$/.test(file.sha256), 'file "sha256" is 64 lowercase hex digits');
  }
}

// ------------------------------------------------------------- JSON -------

const JSON_MAX_DEPTH = 64;

// RFC 8259 JSON that JSON.parse would accept, minus what it silently allows:
// duplicate keys and lone surrogates. -> {value, integerKeys}.
export function parseStrictJson(text) {
  let position = 0;
  const integerKeys = new WeakMap();
  const error = (what) => fail('manifest_json', `manifest is not strict JSON: ${what} at offset ${position}`);

  const skipWhitespace = () => {
    while (position < text.length && ' \t\n\r'.includes(text[position])) position++;
  };

  function parseValue(depth) {
    if (depth > JSON_MAX_DEPTH) error('nested too deeply');
    skipWhitespace();
    const char = text[position];
    if (char === '{') return { value: parseObject(depth) };
    if (char === '[') return { value: parseArray(depth) };
    if (char === '"') return { value: parseString() };
    for (const [word, value] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, position)) {
        position += word.length;
        return { value };
      }
    }
    return parseNumber();
  }

  function parseNumber() {
    const match = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    match.lastIndex = position;
    const found = match.exec(text);
    if (!found) error('unexpected character');
    position = match.lastIndex;
    const value = Number(found[0]);
    // An integer counts as one only if it survived the conversion exactly:
    // 9007199254740993 would silently become 2^53.
    const integerSyntax = found[1] === undefined && found[2] === undefined;
    const integer = integerSyntax && Number.isFinite(value) && BigInt(found[0]) === BigInt(value);
    return { value, integer };
  }

  // Scanned by hand: a regular expression over a 1 MiB string can exhaust
  // the engine's backtracking stack.
  function parseString() {
    const start = position++;
    for (;;) {
      if (position >= text.length) error('unterminated string');
      const code = text.charCodeAt(position);
      if (code === 0x22) break;
      if (code < 0x20) error('control character in a string');
      if (code !== 0x5c) {
        position++;
      } else if (text[position + 1] === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(position + 2, position + 6))) error('bad \\u escape');
        position += 6;
      } else if (position + 1 < text.length && '"\\/bfnrt'.includes(text[position + 1])) {
        position += 2;
      } else {
        error('bad escape');
      }
    }
    position++;
    const value = JSON.parse(text.slice(start, position));
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) {
      error('unpaired surrogate in a string');
    }
    return value;
  }

  function parseObject(depth) {
    const object = {};
    const integers = new Set();
    integerKeys.set(object, integers);
    position++;
    skipWhitespace();
    if (text[position] === '}') {
      position++;
      return object;
    }
    for (;;) {
      skipWhitespace();
      if (text[position] !== '"') error('expected a key');
      const key = parseString();
      if (Object.prototype.hasOwnProperty.call(object, key)) error(`duplicate key ${JSON.stringify(key)}`);
      skipWhitespace();
      if (text[position++] !== ':') error('expected ":"');
      const { value, integer } = parseValue(depth + 1);
      // defineProperty, not assignment: a "__proto__" key must stay plain data.
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      if (integer) integers.add(key);
      skipWhitespace();
      const separator = text[position++];
      if (separator === '}') return object;
      if (separator !== ',') error('expected "," or "}"');
    }
  }

  function parseArray(depth) {
    const array = [];
    const integers = new Set();
    integerKeys.set(array, integers);
    position++;
    skipWhitespace();
    if (text[position] === ']') {
      position++;
      return array;
    }
    for (;;) {
      const { value, integer } = parseValue(depth + 1);
      if (integer) integers.add(String(array.length));
      array.push(value);
      skipWhitespace();
      const separator = text[position++];
      if (separator === ']') return array;
      if (separator !== ',') error('expected "," or "]"');
    }
  }

  const { value } = parseValue(0);
  skipWhitespace();
  if (position !== text.length) error('text after the JSON value');
  return { value, integerKeys };
}

// ------------------------------------------------------------- bytes ------

function requireBytes(value, length, what) {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    fail('argument', `${what} must be a Uint8Array of ${length} bytes`);
  }
}

function concatBytes(parts) {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

function equalBytes(left, right) {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left[index] ^ right[index];
  return difference === 0;
}
