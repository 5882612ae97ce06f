// The proof of work (docs/api.md, "Proof of work"), run as a module Web
// Worker so the page stays responsive: find a nonce such that
// SHA-256(challenge || leaf_hash || nonce) starts with `bits` zero bits.
// Plain JavaScript, no WebAssembly: it must run under --jitless (Tor Browser
// at "Safer") too. The input is always 42 + 32 + 8 = 82 bytes, so the first
// 64-byte block is hashed once and each try costs one compression of the
// second block, where the nonce sits.
//
// Messages in: {challenge: Uint8Array(42), leaf: Uint8Array(32), bits}.
// Messages out: {tries} now and then, then {nonce: hex string, tries}.
// Also importable (node tests): sha256, solve, solveNative, leadingZeroBits.

export const CHALLENGE_BYTES = 42;
export const LEAF_BYTES = 32;
export const NONCE_BYTES = 8;

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// One compression: state (8 words) is updated in place from the 16 words
// of the block in w (a 64-word scratch array whose tail is overwritten).
function compress(state, w) {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15];
    const b = w[i - 2];
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i] + w[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0;
    d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0; state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0; state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0; state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0; state[7] = (state[7] + h) | 0;
}

function readWord(bytes, at) {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) | 0;
}

// SHA-256 of any Uint8Array (FIPS 180-4): for the tests and the check of
// the solver's answer; the solver itself uses the two-block shortcut.
export function sha256(message) {
  const length = message.length;
  const padded = new Uint8Array((((length + 9 + 63) >> 6) << 6));
  padded.set(message);
  padded[length] = 0x80;
  const bits = length * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const state = new Int32Array(INITIAL);
  const w = new Int32Array(64);
  for (let at = 0; at < padded.length; at += 64) {
    for (let i = 0; i < 16; i++) w[i] = readWord(padded, at + 4 * i);
    compress(state, w);
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setInt32(4 * i, state[i]);
  return out;
}

export function leadingZeroBits(hash) {
  let n = 0;
  for (const byte of hash) {
    if (byte === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(byte) - 24;
  }
  return n;
}

// Zero bits at the top of a 32-bit word, at least `bits` of them (bits <= 32)?
function enoughZeros(word, bits) {
  return bits === 0 || Math.clz32(word) >= bits;
}

// Counts nonces up from start until one works -> {nonce: Uint8Array(8), tries}.
// onProgress(tries) is called every `every` tries. bits is at most 32, so
// only the first word of the hash is ever looked at.
export function solve(challenge, leaf, bits, { start = 0, every = 1 << 14, onProgress = () => {} } = {}) {
  if (challenge.length !== CHALLENGE_BYTES || leaf.length !== LEAF_BYTES) throw new Error('bad proof-of-work input');
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error('bad proof-of-work difficulty');
  const first = new Uint8Array(64);
  first.set(challenge);
  first.set(leaf.subarray(0, 22), 42);
  const mid = new Int32Array(INITIAL);
  const w = new Int32Array(64);
  for (let i = 0; i < 16; i++) w[i] = readWord(first, 4 * i);
  compress(mid, w);
  // Second block: leaf[22..32] | nonce (8) | 0x80 | zeros | length 656 bits.
  const tail = new Uint8Array(64);
  tail.set(leaf.subarray(22), 0);
  tail[18] = 0x80;
  tail[62] = (82 * 8) >> 8;
  tail[63] = (82 * 8) & 0xff;
  const fixed = new Int32Array(16);
  for (let i = 0; i < 16; i++) fixed[i] = readWord(tail, 4 * i);
  const state = new Int32Array(8);
  // The nonce is high:low, two 32-bit big-endian words at byte 10 of the
  // block: high spans words 2 and 3, low words 3 and 4.
  let high = Math.floor(start / 0x100000000) >>> 0;
  let low = start >>> 0;
  const leafTail = fixed[2] & 0xffff0000;
  for (let tries = 1; ; tries++) {
    for (let i = 0; i < 16; i++) w[i] = fixed[i];
    w[2] = leafTail | (high >>> 16);
    w[3] = (high << 16) | (low >>> 16);
    w[4] = (low << 16) | 0x8000;
    for (let i = 0; i < 8; i++) state[i] = mid[i];
    compress(state, w);
    if (enoughZeros(state[0], bits)) {
      const nonce = new Uint8Array(8);
      const view = new DataView(nonce.buffer);
      view.setUint32(0, high);
      view.setUint32(4, low);
      return { nonce, tries };
    }
    if (tries % every === 0) onProgress(tries);
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
  }
}

// The same search with the browser's native SHA-256, a batch of digests at
// a time. For V8 without JIT (no WebAssembly: Tor Browser at "Safer"),
// where it is about 4 times faster than the interpreted loop above (88k
// against 20k hashes/s measured in headless Chromium --jitless).
export async function solveNative(challenge, leaf, bits, { start = 0, batch = 512, onProgress = () => {} } = {}) {
  if (challenge.length !== CHALLENGE_BYTES || leaf.length !== LEAF_BYTES) throw new Error('bad proof-of-work input');
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error('bad proof-of-work difficulty');
  const input = new Uint8Array(CHALLENGE_BYTES + LEAF_BYTES + NONCE_BYTES);
  input.set(challenge);
  input.set(leaf, CHALLENGE_BYTES);
  for (let next = start, tries = 0; ; next += batch) {
    const pending = [];
    for (let i = 0; i < batch; i++) {
      const message = input.slice();
      const view = new DataView(message.buffer);
      view.setUint32(74, Math.floor((next + i) / 0x100000000));
      view.setUint32(78, (next + i) >>> 0);
      pending.push(crypto.subtle.digest('SHA-256', message));
    }
    const digests = await Promise.all(pending);
    for (let i = 0; i < batch; i++) {
      if (enoughZeros(new DataView(digests[i]).getInt32(0), bits)) {
        const nonce = new Uint8Array(8);
        const view = new DataView(nonce.buffer);
        view.setUint32(0, Math.floor((next + i) / 0x100000000));
        view.setUint32(4, (next + i) >>> 0);
        return { nonce, tries: tries + i + 1 };
      }
    }
    tries += batch;
    onProgress(tries);
  }
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// As a worker: one job per message.
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
  self.onmessage = async (event) => {
    const { challenge, leaf, bits } = event.data;
    const onProgress = (tries) => self.postMessage({ tries });
    try {
      const native = typeof WebAssembly === 'undefined' && self.crypto && self.crypto.subtle;
      const result = native ? await solveNative(challenge, leaf, bits, { onProgress })
        : solve(challenge, leaf, bits, { onProgress });
      self.postMessage({ nonce: toHex(result.nonce), tries: result.tries });
    } catch (error) {
      self.postMessage({ error: error.message });
    }
  };
}
