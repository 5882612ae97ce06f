// Receipts of the report log (docs/api.md "Log"): C2SP signed-note verifier
// keys and notes, C2SP tlog-checkpoint, and RFC 9162 §2.1 inclusion and
// consistency proofs with SHA-256. SHA-256 is crypto.subtle's (native even
// where WebAssembly is off, as in Tor Browser "Safer"), or libsodium.js's
// where the page has no crypto.subtle (not a secure context: plain http to a
// name other than localhost); Ed25519 is libsodium.js's
// crypto_sign_verify_detached (the `sodium` object passed in: WebCrypto
// Ed25519 is not available everywhere). No other dependency.
//
// Strict: anything that is not exactly the format is refused with a
// ReceiptError whose `code` says what (the page and the tests use the code).

export class ReceiptError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'ReceiptError';
    this.code = code;
  }
}

const fail = (code, message) => { throw new ReceiptError(code, message); };
const encoder = new TextEncoder();
const MAX_SIGNATURES = 100; // C2SP signed-note: verifiers may refuse more
const MAX_NOTE_BYTES = 1024 * 1024; // crypto/note.h's NOTE_MAX_BYTES

// ------------------------------------------------------------ helpers ----

// SHA-256 of the parts joined. `sodium` (libsodium.js) is needed only where
// crypto.subtle is missing; without either this throws a plain Error, not a
// ReceiptError: nothing was found wrong, the check could not run.
export async function sha256(sodium, ...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const all = new Uint8Array(length);
  let at = 0;
  for (const part of parts) { all.set(part, at); at += part.length; }
  if (globalThis.crypto && globalThis.crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  if (!sodium) throw new Error('no SHA-256 here: neither crypto.subtle nor libsodium');
  return sodium.crypto_hash_sha256(all);
}

export function equalBytes(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// Standard base64 with padding, canonical only (re-encoding gives the same
// text), of exactly `length` bytes when given.
export function fromBase64(text, length, code = 'bad_base64') {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) fail(code, 'not base64');
  let binary;
  try {
    binary = atob(text);
  } catch {
    fail(code, 'not base64');
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (toBase64(bytes) !== text) fail(code, 'not canonical base64');
  if (length !== undefined && bytes.length !== length) fail(code, `expected ${length} bytes, got ${bytes.length}`);
  return bytes;
}

export function toBase64(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

// Text that came as bytes (a saved file, a server's answer), as crypto/note.c
// and jansson read it: UTF-8 or nothing, a byte order mark kept as a
// character (so it is refused where a note or JSON text begins), never
// replaced.
export function strictText(bytes, code) {
  if (typeof bytes === 'string') {
    // A string may hold what no UTF-8 can: a lone surrogate.
    if (/[\ud800-\udfff]/u.test(bytes)) fail(code, 'not UTF-8');
    return bytes;
  }
  if (!(bytes instanceof Uint8Array)) fail(code, 'not text');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail(code, 'not UTF-8');
  }
}

// jansson's limits (jansson_config.h's JSON_PARSER_MAX_DEPTH; an integer
// is a long long, strtoll's range).
const JSON_MAX_DEPTH = 2048;
const JSON_INT_MIN = -(2n ** 63n);
const JSON_INT_MAX = 2n ** 63n - 1n;

// JSON.parse, held to what jansson (JSON_REJECT_DUPLICATES) accepts in C: no
// name twice in one object (RFC 8259 §4 leaves that to the reader; the
// auditor refuses it), no lone surrogate escape (RFC 8259 §8.2; jansson
// refuses "\ud800"), no integer beyond a long long and no number beyond a
// double (jansson: "too big integer", "real number overflow"; JSON.parse
// gives an inexact Number or Infinity), no more than 2048 arrays and
// objects one inside the other ("maximum parsing depth reached").
export function strictJSON(text, code) {
  text = strictText(text, code);
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    fail(code, 'not JSON');
  }
  // JSON.parse checked the syntax: strings, numbers and brackets can be
  // told apart.
  const open = [];
  let depth = 0;
  const token = /"(?:[^"\\]|\\.)*"|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|[{}[\]]/gs;
  let match;
  while ((match = token.exec(text)) !== null) {
    const t = match[0];
    if (t === '{' || t === '[') {
      if (++depth > JSON_MAX_DEPTH) fail(code, 'JSON nested too deep');
      if (t === '{') open.push(new Set());
    } else if (t === '}' || t === ']') {
      depth--;
      if (t === '}') open.pop();
    } else if (t[0] !== '"') {
      if (match[1] === undefined && match[2] === undefined) {
        // 20 characters hold any long long ("-9223372036854775808").
        if (t.length > 20 || BigInt(t) < JSON_INT_MIN || BigInt(t) > JSON_INT_MAX) fail(code, 'an integer beyond 64 bits');
      } else if (!Number.isFinite(Number(t))) {
        fail(code, 'a number beyond a double');
      }
    } else {
      const decoded = JSON.parse(t);
      if (/[\ud800-\udfff]/u.test(decoded)) fail(code, 'a lone surrogate in a JSON string');
      if (/^\s*:/.test(text.slice(token.lastIndex))) {
        const names = open[open.length - 1];
        // jansson takes no NUL in a name, even with JSON_ALLOW_NUL.
        if (names.has(decoded) || decoded.includes('\0')) fail(code, 'a name twice in one object, or with a NUL');
        names.add(decoded);
      }
    }
  }
  return value;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const U64_MAX = 2n ** 64n - 1n;

// A checkpoint's tree size: "0" or decimal without a leading zero, any
// uint64 (C2SP tlog-checkpoint, RFC 9162; crypto/note.c reads the same).
// A Number where it is a safe integer, as every real log's is; a BigInt
// beyond 2^53 - 1, which a Number cannot hold exactly.
function parseSize(text, code) {
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(text)) fail(code, 'not a decimal number');
  const n = BigInt(text);
  if (n > U64_MAX) fail(code, 'number too large');
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

// A tree size or index (a safe integer Number, or a BigInt in uint64) as a
// BigInt, for exact arithmetic at any size.
function checkSize(n, code) {
  if (typeof n === 'bigint' ? n < 0n || n > U64_MAX : !Number.isSafeInteger(n) || n < 0) fail(code, 'not a tree size or index');
  return BigInt(n);
}

// ------------------------------------------------------ signed notes ----

// C2SP verifier key "<name>+<hex key id>+<base64(0x01 || Ed25519 pk)>",
// key id = SHA-256(name || 0x0A || 0x01 || pk)[:4].
// sodium: see sha256. -> {name, keyId (4 bytes), publicKey (32 bytes), text}
export async function parseVerifierKey(text, sodium = null) {
  if (typeof text !== 'string') fail('bad_verifier_key', 'not a string');
  // The name has no "+"; the base64 key may.
  const match = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text);
  if (!match) fail('bad_verifier_key', 'not name+id+key');
  const [, name, idHex, keyB64] = match;
  checkKeyName(name, 'bad_verifier_key', true);
  if (!/^[0-9a-f]{8}$/.test(idHex)) fail('bad_verifier_key', 'key id is not 8 lowercase hex digits');
  const raw = fromBase64(keyB64, 33, 'bad_verifier_key');
  if (raw[0] !== 0x01) fail('bad_verifier_key', 'not an Ed25519 key');
  const publicKey = raw.slice(1);
  const keyId = (await sha256(sodium, encoder.encode(name), Uint8Array.of(0x0a, 0x01), publicKey)).slice(0, 4);
  if (hex(keyId) !== idHex) fail('bad_verifier_key', 'key id does not match the key');
  return { name, keyId, publicKey, text };
}

// Go's unicode.IsSpace, which the signed-note spec's "Unicode spaces" means
// (JavaScript's \s is another set: it has U+FEFF, not U+0085).
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
// What the log's own name may not hold besides (crypto/note.c's
// is_deceptive): control characters, and Unicode's Default_Ignorable_Code_Point
// set (bidi controls, zero-width characters, the soft hyphen, fillers,
// variation selectors, tags), since people compare the name by eye with the
// published one.
const NOT_IN_OUR_NAME = /[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/u;
const NAME_MAX_BYTES = 255;

// Key names, as C2SP signed-note has them: non-empty, no Unicode space, no
// "+". The log's own (ours) also follows sealtip's rule: at most 255 bytes,
// none of NOT_IN_OUR_NAME. Other keys' names (a witness's) need only the
// spec's, as in crypto/note.c.
function checkKeyName(name, code, ours) {
  if (typeof name !== 'string' || name.length === 0 || name.includes('+') || UNICODE_SPACE.test(name) ||
    (ours && (NOT_IN_OUR_NAME.test(name) || encoder.encode(name).length > NAME_MAX_BYTES))) {
    fail(code, 'bad key name');
  }
}

// Verifies a C2SP signed note (string, or UTF-8 bytes) with one verifier
// (from parseVerifierKey): exactly one signature line by that key (name and
// key id), and it must verify. Lines by other keys are allowed and ignored.
// -> the signed text (through its final newline).
export function verifyNote(sodium, note, verifier) {
  note = strictText(note, 'bad_note');
  if (encoder.encode(note).length > MAX_NOTE_BYTES) fail('bad_note', 'note over 1 MiB');
  // Newlines are the only characters below U+0020 a note may hold (U+007F
  // may be in a witness's name: crypto/note.c's text_valid, Go's note.Open).
  if (/[\x00-\x09\x0b-\x1f]/.test(note)) fail('bad_note', 'control character');
  if (!note.endsWith('\n')) fail('bad_note', 'no final newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) fail('bad_note', 'no blank line before the signatures');
  const text = note.slice(0, split + 1);
  if (text.length < 1 || text === '\n') fail('bad_note', 'empty text');
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) fail('bad_note', 'too many signatures');
  const message = encoder.encode(text);
  let found = 0;
  let valid = false;
  for (const line of lines) {
    const match = /^\u2014 ([^ ]+) ([^ ]+)$/u.exec(line); // spaces in the name: checkKeyName
    if (!match) fail('bad_note', 'malformed signature line');
    checkKeyName(match[1], 'bad_note', false);
    const signature = fromBase64(match[2], undefined, 'bad_note');
    if (signature.length < 5) fail('bad_note', 'signature too short');
    if (match[1] !== verifier.name || !equalBytes(signature.slice(0, 4), verifier.keyId)) continue;
    found++;
    if (signature.length !== 68) fail('bad_signature', 'an Ed25519 signature is 64 bytes');
    let ok = false;
    try {
      ok = sodium.crypto_sign_verify_detached(signature.slice(4), message, verifier.publicKey);
    } catch {
      ok = false;
    }
    valid = ok;
  }
  if (found === 0) fail('no_signature', 'no signature by the log key');
  if (found > 1) fail('bad_note', 'more than one signature by the log key');
  if (!valid) fail('bad_signature', 'the signature does not verify');
  return text;
}

// C2SP tlog-checkpoint text: origin, decimal size, base64 root hash, then
// optional extension lines. -> {origin, size, root (32 bytes)}
export function parseCheckpoint(text) {
  if (typeof text !== 'string' || !text.endsWith('\n')) fail('bad_checkpoint', 'no final newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) fail('bad_checkpoint', 'fewer than three lines');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin.length === 0 || /[\x00-\x1f\x7f]/.test(origin)) fail('bad_checkpoint', 'bad origin line');
  const size = parseSize(sizeText, 'bad_checkpoint');
  const root = fromBase64(rootText, 32, 'bad_checkpoint');
  if (extensions.some((line) => line.length === 0)) fail('bad_checkpoint', 'empty extension line');
  return { origin, size, root };
}

// A signed checkpoint of the log that `verifier` names: the signature
// verifies and the origin is the key's name.
export function openCheckpoint(sodium, note, verifier) {
  const checkpoint = parseCheckpoint(verifyNote(sodium, note, verifier));
  if (checkpoint.origin !== verifier.name) fail('wrong_origin', 'the checkpoint is for another log');
  return checkpoint;
}

// ------------------------------------------------------ RFC 9162 §2.1 ----

// sodium, here and below: see sha256.
const nodeHash = (sodium, left, right) => sha256(sodium, Uint8Array.of(0x01), left, right);

export function leafHashOf(data, sodium = null) {
  return sha256(sodium, Uint8Array.of(0x00), data);
}

// BigInt arithmetic: sizes go up to 2^64 - 1.
const odd = (n) => (n & 1n) === 1n;
const half = (n) => n >> 1n;
const isPowerOfTwo = (n) => n > 0n && (n & (n - 1n)) === 0n;

function checkHashes(list, code) {
  if (!Array.isArray(list) || list.length > 64) fail(code, 'not a proof');
  for (const item of list) if (!(item instanceof Uint8Array) || item.length !== 32) fail(code, 'not a SHA-256 hash');
}

// §2.1.3.2: `leaf` (a leaf hash) is at `index` in the tree of `size` leaves
// whose root is `root`. Throws bad_inclusion otherwise.
export async function verifyInclusion(index, size, leaf, proof, root, sodium = null) {
  const i = checkSize(index, 'bad_inclusion');
  const n = checkSize(size, 'bad_inclusion');
  checkHashes([leaf, root], 'bad_inclusion');
  checkHashes(proof, 'bad_inclusion');
  if (i >= n) fail('bad_inclusion', 'index beyond the tree');
  let fn = i;
  let sn = n - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) fail('bad_inclusion', 'proof too long');
    if (odd(fn) || fn === sn) {
      r = await nodeHash(sodium, p, r);
      if (!odd(fn)) while (!odd(fn) && fn !== 0n) { fn = half(fn); sn = half(sn); }
    } else {
      r = await nodeHash(sodium, r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0n) fail('bad_inclusion', 'proof too short');
  if (!equalBytes(r, root)) fail('bad_inclusion', 'the root does not match');
  return true;
}

// §2.1.4.2: the tree of `to` leaves (root `newRoot`) extends the tree of
// `from` leaves (root `oldRoot`). Throws bad_consistency otherwise.
export async function verifyConsistency(from, to, oldRoot, newRoot, proof, sodium = null) {
  const m = checkSize(from, 'bad_consistency');
  const n = checkSize(to, 'bad_consistency');
  checkHashes([oldRoot, newRoot], 'bad_consistency');
  checkHashes(proof, 'bad_consistency');
  if (m > n) fail('bad_consistency', 'the tree shrank');
  // A tree of 0 leaves has one true root, SHA-256 of nothing (as crypto/tlog.c).
  if (m === 0n && !equalBytes(oldRoot, await sha256(sodium))) fail('bad_consistency', 'not the empty tree\'s root');
  if (m === n) {
    if (proof.length !== 0 || !equalBytes(oldRoot, newRoot)) fail('bad_consistency', 'same size, different roots');
    return true;
  }
  if (m === 0n) {
    if (proof.length !== 0) fail('bad_consistency', 'a proof from the empty tree must be empty');
    return true;
  }
  if (proof.length === 0) fail('bad_consistency', 'empty proof');
  // from is a power of two: the old root is the first node of the path.
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : proof.slice();
  let fn = m - 1n;
  let sn = n - 1n;
  while (odd(fn)) { fn = half(fn); sn = half(sn); }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) fail('bad_consistency', 'proof too long');
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(sodium, c, fr);
      sr = await nodeHash(sodium, c, sr);
      if (!odd(fn)) while (!odd(fn) && fn !== 0n) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await nodeHash(sodium, sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0n) fail('bad_consistency', 'proof too short');
  if (!equalBytes(fr, oldRoot) || !equalBytes(sr, newRoot)) fail('bad_consistency', 'the roots do not match');
  return true;
}

// ------------------------------------------------------------ receipts ----

const proofOf = (list, code) => {
  if (!Array.isArray(list) || list.length > 64) fail(code, 'not a proof');
  return list.map((item) => fromBase64(item, 32, code));
};

// The server's 201 answer checked against what the page knows on its own:
// `leafHash` (base64, computed over the envelope it sent) and the log's
// verifier key. -> {index, treeSize, root, day, verifier}
export async function verifyReceipt(sodium, receipt, { leafHash, verifierKey, origin }) {
  if (receipt === null || typeof receipt !== 'object' || Array.isArray(receipt)) fail('bad_receipt', 'not a receipt');
  const verifier = await parseVerifierKey(verifierKey, sodium);
  if (origin !== undefined && origin !== verifier.name) fail('wrong_origin', 'the key is for another log');
  if (typeof receipt.leaf_hash !== 'string' || receipt.leaf_hash !== leafHash) fail('leaf_mismatch', 'the leaf hash is not that of the report sent');
  const leaf = fromBase64(receipt.leaf_hash, 32, 'bad_receipt');
  if (!Number.isSafeInteger(receipt.index) || receipt.index < 0) fail('bad_receipt', 'bad index');
  if (!Number.isSafeInteger(receipt.tree_size) || receipt.tree_size <= receipt.index) fail('bad_receipt', 'bad tree size');
  if (typeof receipt.checkpoint !== 'string') fail('bad_receipt', 'no checkpoint');
  const checkpoint = openCheckpoint(sodium, receipt.checkpoint, verifier);
  if (checkpoint.size !== receipt.tree_size) fail('bad_receipt', 'the tree size is not the checkpoint\'s');
  await verifyInclusion(receipt.index, checkpoint.size, leaf, proofOf(receipt.inclusion_proof, 'bad_inclusion'), checkpoint.root, sodium);
  return { index: receipt.index, treeSize: checkpoint.size, root: checkpoint.root, day: receipt.day, verifier };
}

export const RECEIPT_FILE_FORMAT = 'sealtip-receipt-1';

// What the page saves: the server's receipt as it came, the leaf hash the
// page computed itself, and the log it belongs to.
export function receiptFile(receipt, { leafHash, origin, verifierKey }) {
  return { format: RECEIPT_FILE_FORMAT, receipt, leaf_hash: leafHash, log: { origin, verifier_key: verifierKey } };
}

// A saved receipt file (its bytes, as read from the file; or its text),
// checked on its own. -> {index, treeSize, root, day, verifier, file}
export async function openReceiptFile(sodium, bytes) {
  const file = strictJSON(bytes, 'bad_receipt_file');
  if (file === null || typeof file !== 'object' || file.format !== RECEIPT_FILE_FORMAT
    || typeof file.leaf_hash !== 'string' || file.log === null || typeof file.log !== 'object') {
    fail('bad_receipt_file', 'not a sealtip receipt');
  }
  if (typeof file.receipt !== 'object' || file.receipt === null || typeof file.receipt.day !== 'string'
    || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(file.receipt.day)) fail('bad_receipt_file', 'no day');
  const checked = await verifyReceipt(sodium, file.receipt, {
    leafHash: file.leaf_hash, verifierKey: file.log.verifier_key, origin: file.log.origin,
  });
  return { ...checked, file };
}

// Is the report still on record? `receipt` from openReceiptFile, `note` the
// server's latest checkpoint, `consistency` a function (from, to) -> promise
// of the proof (array of base64) the server gives.
// -> {index, day, from, to}
export async function checkStillOnRecord(sodium, receipt, note, consistency) {
  const latest = openCheckpoint(sodium, note, receipt.verifier);
  if (latest.size < receipt.treeSize) fail('rolled_back', 'the log is smaller than in the receipt');
  const proof = latest.size === receipt.treeSize ? [] : proofOf(await consistency(receipt.treeSize, latest.size), 'bad_consistency');
  await verifyConsistency(receipt.treeSize, latest.size, receipt.root, latest.root, proof, sodium);
  return { index: receipt.index, day: receipt.day, from: receipt.treeSize, to: latest.size };
}
