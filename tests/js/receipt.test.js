// web/receipt.js: RFC 6962 / RFC 9162 proofs against the published vectors
// (the same data as tests/unit/test_tlog.c) and against a reference written
// here with node:crypto; C2SP signed notes (the spec's own example and notes
// signed here with libsodium.js); every single-bit change refused.
// Run: node --test tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
const { default: sodium } = await import('libsodium-wrappers-sumo');
await sodium.ready;
const r = await import('../../web/receipt.js');

const H = (...parts) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return new Uint8Array(h.digest()); };
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

// ---- RFC 6962 vectors (tests/unit/test_tlog.c) ----
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(unhex);
const INCLUSION = [
  [0, 1, []],
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
].map(([i, n, p]) => [i, n, p.map(unhex)]);
const CONSISTENCY = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
].map(([m, n, p]) => [m, n, p.map(unhex)]);

// ---- a reference from RFC 9162 §2.1 (definitions, not the verifiers) ----
const leafOf = (d) => H(Uint8Array.of(0), d);
const node = (a, b) => H(Uint8Array.of(1), a, b);
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
const mth = (ls) => (ls.length === 0 ? H() : ls.length === 1 ? ls[0] : node(mth(ls.slice(0, split(ls.length))), mth(ls.slice(split(ls.length)))));
function path(m, ls) {
  if (ls.length <= 1) return [];
  const k = split(ls.length);
  return m < k ? [...path(m, ls.slice(0, k)), mth(ls.slice(k))] : [...path(m - k, ls.slice(k)), mth(ls.slice(0, k))];
}
function subproof(m, ls, b) {
  if (m === ls.length) return b ? [] : [mth(ls)];
  const k = split(ls.length);
  return m <= k ? [...subproof(m, ls.slice(0, k), b), mth(ls.slice(k))] : [...subproof(m - k, ls.slice(k), false), mth(ls.slice(0, k))];
}
const hashes = LEAVES.map(leafOf);

const refused = async (promise, code) => {
  await assert.rejects(promise, (error) => error instanceof r.ReceiptError && (!code || error.code === code));
};

function flips(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length; i++) for (let bit = 0; bit < 8; bit++) {
    const copy = Uint8Array.from(bytes);
    copy[i] ^= 1 << bit;
    out.push(copy);
  }
  return out;
}

test('RFC 6962 roots for sizes 1..8 (reference agrees)', () => {
  for (let n = 1; n <= 8; n++) assert.deepEqual(mth(hashes.slice(0, n)), ROOTS[n - 1]);
});

test('published inclusion proofs verify; every bit of leaf, proof and root, and other index/size, refused', async () => {
  for (const [i, n, proof] of INCLUSION) {
    assert.deepEqual(path(i, hashes.slice(0, n)), proof, 'reference path');
    const root = ROOTS[n - 1];
    assert.equal(await r.verifyInclusion(i, n, hashes[i], proof, root), true);
    for (const bad of flips(hashes[i])) await refused(r.verifyInclusion(i, n, bad, proof, root), 'bad_inclusion');
    for (const bad of flips(root)) await refused(r.verifyInclusion(i, n, hashes[i], proof, bad), 'bad_inclusion');
    for (let k = 0; k < proof.length; k++) {
      for (const bad of flips(proof[k])) {
        const p = proof.slice(); p[k] = bad;
        await refused(r.verifyInclusion(i, n, hashes[i], p, root), 'bad_inclusion');
      }
    }
    for (let j = 0; j < 10; j++) if (j !== i) await refused(r.verifyInclusion(j, n, hashes[i], proof, root));
    await refused(r.verifyInclusion(i, n, hashes[i], [...proof, proof[0] || root], root));
    if (proof.length) await refused(r.verifyInclusion(i, n, hashes[i], proof.slice(1), root));
  }
});

test('every inclusion proof in trees of 1..8 leaves', async () => {
  for (let n = 1; n <= 8; n++) for (let i = 0; i < n; i++) {
    const proof = path(i, hashes.slice(0, n));
    assert.equal(await r.verifyInclusion(i, n, hashes[i], proof, ROOTS[n - 1]), true, `${i} in ${n}`);
    for (let other = 1; other <= 8; other++) {
      if (other !== n) await refused(r.verifyInclusion(i, n, hashes[i], proof, ROOTS[other - 1]));
    }
  }
});

test('published consistency proofs verify; every bit changed, and other sizes, refused', async () => {
  for (const [m, n, proof] of CONSISTENCY) {
    assert.deepEqual(m === n ? [] : subproof(m, hashes.slice(0, n), true), proof, 'reference proof');
    const [a, b] = [ROOTS[m - 1], ROOTS[n - 1]];
    assert.equal(await r.verifyConsistency(m, n, a, b, proof), true);
    for (const bad of flips(a)) await refused(r.verifyConsistency(m, n, bad, b, proof), 'bad_consistency');
    for (const bad of flips(b)) await refused(r.verifyConsistency(m, n, a, bad, proof), 'bad_consistency');
    for (let k = 0; k < proof.length; k++) {
      for (const bad of flips(proof[k])) {
        const p = proof.slice(); p[k] = bad;
        await refused(r.verifyConsistency(m, n, a, b, p), 'bad_consistency');
      }
    }
    if (m !== n) await refused(r.verifyConsistency(n, m, b, a, proof), 'bad_consistency'); // backwards
    if (m > 1) await refused(r.verifyConsistency(m - 1, n, a, b, proof));
  }
});

test('every consistency proof between trees of 0..8 leaves', async () => {
  const root = (k) => (k === 0 ? H() : ROOTS[k - 1]);
  for (let n = 0; n <= 8; n++) for (let m = 0; m <= n; m++) {
    const proof = m === n || m === 0 ? [] : subproof(m, hashes.slice(0, n), true);
    assert.equal(await r.verifyConsistency(m, n, root(m), root(n), proof), true, `${m}..${n}`);
    if (m > 0 && m < n) await refused(r.verifyConsistency(m, n, root(m), root(n === 8 ? 7 : n + 1), proof));
  }
  await refused(r.verifyConsistency(3, 2, ROOTS[2], ROOTS[1], []), 'bad_consistency');
  await refused(r.verifyConsistency(0, 3, H(), ROOTS[2], [ROOTS[0]]), 'bad_consistency');
  // Size 0 with another root than the empty tree's is a false statement.
  await refused(r.verifyConsistency(0, 3, ROOTS[0], ROOTS[2], []), 'bad_consistency');
  await refused(r.verifyConsistency(0, 0, ROOTS[0], ROOTS[0], []), 'bad_consistency');
});

test('large sizes use arithmetic, not 32-bit operators', async () => {
  // A tree of 2^33 + 1 leaves whose last leaf's proof is one hash: the root
  // of the first 2^33 leaves (any value here).
  const n = 2 ** 33 + 1;
  const left = H(Uint8Array.of(7));
  const leaf = H(Uint8Array.of(9));
  assert.equal(await r.verifyInclusion(n - 1, n, leaf, [left], node(left, leaf)), true);
  await refused(r.verifyInclusion(1, n, leaf, [left], node(left, leaf)));
});

// ---- C2SP signed note ----

// The example of the C2SP signed-note spec (and golang.org/x/mod/sumdb/note).
const SPEC_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const SPEC_NOTE = 'If you think cryptography is the answer to your problem,\n'
  + 'then you don\'t know what your problem is.\n'
  + '\n'
  + '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

test('the C2SP signed-note example verifies; every single-bit change refused', async () => {
  const v = await r.parseVerifierKey(SPEC_VKEY);
  assert.equal(v.name, 'PeterNeumann');
  assert.equal(r.verifyNote(sodium, SPEC_NOTE, v), SPEC_NOTE.slice(0, SPEC_NOTE.indexOf('\n\n') + 1));
  const bytes = new TextEncoder().encode(SPEC_NOTE);
  for (const bad of flips(bytes)) assert.throws(() => r.verifyNote(sodium, bad, v), r.ReceiptError);
  assert.equal(r.verifyNote(sodium, bytes, v).length > 0, true);
  // Every bit of the verifier key text (as bytes) changed: refused, or a key that refuses the note.
  for (const bad of flips(new TextEncoder().encode(SPEC_VKEY))) {
    let key;
    try {
      key = await r.parseVerifierKey(new TextDecoder().decode(bad));
    } catch (error) {
      assert.ok(error instanceof r.ReceiptError);
      continue;
    }
    assert.throws(() => r.verifyNote(sodium, SPEC_NOTE, key), r.ReceiptError);
  }
});

async function makeKey(name) {
  const pair = sodium.crypto_sign_keypair();
  const id = H(new TextEncoder().encode(name), Uint8Array.of(0x0a, 0x01), pair.publicKey).slice(0, 4);
  const vkey = `${name}+${Buffer.from(id).toString('hex')}+${b64(Uint8Array.of(1, ...pair.publicKey))}`;
  const sign = (text) => `\u2014 ${name} ${b64(Uint8Array.of(...id, ...sodium.crypto_sign_detached(new TextEncoder().encode(text), pair.privateKey)))}\n`;
  return { vkey, sign, id };
}

test('a checkpoint signed here: parsed, origin checked, every single-bit change refused', async () => {
  const origin = 'reports.test.example/log';
  // A key whose id has a hex letter, so that the id in upper case (refused
  // below) differs from it: one in about 40 has digits only.
  let key;
  do key = await makeKey(origin); while (!/[a-f]/.test(Buffer.from(key.id).toString('hex')));
  const other = await makeKey('witness.example/w1');
  const v = await r.parseVerifierKey(key.vkey);
  const text = `${origin}\n8\n${b64(ROOTS[7])}\n`;
  const note = `${text}\n${key.sign(text)}`;
  const cp = r.openCheckpoint(sodium, note, v);
  assert.equal(cp.origin, origin);
  assert.equal(cp.size, 8);
  assert.deepEqual(cp.root, ROOTS[7]);
  // Another key's signature beside it is ignored; two by the log key are not.
  assert.equal(r.openCheckpoint(sodium, `${text}\n${other.sign(text)}${key.sign(text)}`, v).size, 8);
  assert.throws(() => r.verifyNote(sodium, `${text}\n${key.sign(text)}${key.sign(text)}`, v), { code: 'bad_note' });
  assert.throws(() => r.verifyNote(sodium, `${text}\n${other.sign(text)}`, v), { code: 'no_signature' });
  // A witness's name needs only the spec's rule (as crypto/note.c): longer
  // than ours may be, or with U+007F, it is ignored; with a Unicode space
  // (Go's set: U+0085 is one, U+FEFF is not) or a '+', the note is malformed.
  for (const name of ['w'.repeat(256), 'wit\x7fness', 'wit\ufeffness']) {
    const witness = await makeKey(name);
    assert.equal(r.openCheckpoint(sodium, `${text}\n${witness.sign(text)}${key.sign(text)}`, v).size, 8, JSON.stringify(name));
  }
  for (const name of ['wit\u0085ness', 'wit+ness', 'wit\u3000ness']) {
    const witness = await makeKey(name);
    assert.throws(() => r.verifyNote(sodium, `${text}\n${witness.sign(text)}${key.sign(text)}`, v), { code: 'bad_note' }, JSON.stringify(name));
  }
  // The log's own name is compared by eye: nothing that reorders or hides.
  for (const name of ['log\u202egol', 'lo\u200bg', 'a\u009b2J', 'l'.repeat(256), 'log\x7f', 'l\u00adog', 'l\u034fog', 'l\u180eog', 'log\u{e0041}']) {
    await refused(r.parseVerifierKey((await makeKey(name)).vkey), 'bad_verifier_key');
  }
  for (const bad of flips(new TextEncoder().encode(note))) assert.throws(() => r.openCheckpoint(sodium, bad, v), r.ReceiptError);
  // A checkpoint of another origin, correctly signed by a key of that name, is not this log's.
  const third = await makeKey('other.example/log');
  const foreign = `other.example/log\n8\n${b64(ROOTS[7])}\n`;
  assert.throws(() => r.openCheckpoint(sodium, `${foreign}\n${third.sign(foreign)}`, v), { code: 'no_signature' });
  const mislabelled = `other.example/log\n8\n${b64(ROOTS[7])}\n`;
  assert.throws(() => r.openCheckpoint(sodium, `${mislabelled}\n${key.sign(mislabelled)}`, v), { code: 'wrong_origin' });
  // Strict syntax: each of these is refused even when correctly signed.
  for (const body of [`${origin}\n08\n${b64(ROOTS[7])}\n`, `${origin}\n-8\n${b64(ROOTS[7])}\n`, `${origin}\n8\n${b64(ROOTS[7]).slice(0, -1)}\n`,
    `${origin}\n8\n`, `${origin}\n8\n${b64(ROOTS[7].slice(1))}\n`, `${origin}\n 8\n${b64(ROOTS[7])}\n`, `${origin}\n18446744073709551616\n${b64(ROOTS[7])}\n`]) {
    assert.throws(() => r.openCheckpoint(sodium, `${body}\n${key.sign(body)}`, v), r.ReceiptError, JSON.stringify(body));
  }
  // Any uint64 is a tree size (C2SP tlog-checkpoint; crypto/note.c): beyond
  // 2^53 - 1 it comes as a BigInt, exact.
  for (const [line, size] of [['9007199254740991', 9007199254740991], ['99999999999999999', 99999999999999999n], ['18446744073709551615', 2n ** 64n - 1n]]) {
    const body = `${origin}\n${line}\n${b64(ROOTS[7])}\n`;
    assert.equal(r.openCheckpoint(sodium, `${body}\n${key.sign(body)}`, v).size, size);
  }
  for (const bad of [note.replace('\u2014', '-'), note.replace(/\n$/, ''), note.replace('\n\n', '\n'), note.replace(/\n/g, '\r\n'),
    `${note}\u2014 x\n`, note.replace(' ', '  ')]) {
    assert.throws(() => r.verifyNote(sodium, bad, v), r.ReceiptError);
  }
  for (const bad of ['', 'a+b', 'a b+01234567+AAAA', `${key.vkey}=`, key.vkey.replace(/\+([0-9a-f]{8})\+/, (m, id) => `+${id.toUpperCase()}+`),
    key.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'), key.vkey.replace('+A', '+Ag')]) {
    await refused(r.parseVerifierKey(bad), 'bad_verifier_key');
  }
});

test('receipts and receipt files: verified, and every change refused', async () => {
  const origin = 'reports.test.example/log';
  const key = await makeKey(origin);
  const envelopes = LEAVES.slice(0, 5);
  const leaves = envelopes.map(leafOf);
  const note = (n) => { const text = `${origin}\n${n}\n${b64(mth(leaves.slice(0, n)))}\n`; return `${text}\n${key.sign(text)}`; };
  const receipt = { index: 2, leaf_hash: b64(leaves[2]), size: 2, day: '2026-11-28', tree_size: 3, checkpoint: note(3),
    inclusion_proof: path(2, leaves.slice(0, 3)).map(b64) };
  assert.equal(b64(await r.leafHashOf(envelopes[2])), receipt.leaf_hash);
  const own = { leafHash: receipt.leaf_hash, verifierKey: key.vkey, origin };
  const ok = await r.verifyReceipt(sodium, receipt, own);
  assert.equal(ok.index, 2);
  assert.equal(ok.treeSize, 3);
  await refused(r.verifyReceipt(sodium, receipt, { ...own, leafHash: b64(leaves[1]) }), 'leaf_mismatch');
  await refused(r.verifyReceipt(sodium, receipt, { ...own, origin: 'x' }), 'wrong_origin');
  await refused(r.verifyReceipt(sodium, { ...receipt, index: 1 }, own), 'bad_inclusion');
  await refused(r.verifyReceipt(sodium, { ...receipt, tree_size: 4 }, own), 'bad_receipt');
  await refused(r.verifyReceipt(sodium, { ...receipt, inclusion_proof: receipt.inclusion_proof.slice(1) }, own), 'bad_inclusion');

  const text = JSON.stringify(r.receiptFile(receipt, own));
  const opened = await r.openReceiptFile(sodium, text);
  assert.equal(opened.day, '2026-11-28');
  // Every single-bit change of the saved file is refused, unless it is in
  // something the check does not rely on (the stored size, the day's digits,
  // an unknown key's name): then the report's place in the log is unchanged.
  const bytes = new TextEncoder().encode(text);
  for (const bad of flips(bytes)) {
    let changed;
    try {
      changed = await r.openReceiptFile(sodium, new TextDecoder().decode(bad));
    } catch (error) {
      assert.ok(error instanceof r.ReceiptError || error instanceof SyntaxError, String(error));
      continue;
    }
    // Only a change of a field the check does not use (size, day's digits) can pass, and then index/root/size are the same.
    assert.equal(changed.index, 2);
    assert.equal(changed.treeSize, 3);
    assert.deepEqual(changed.root, opened.root);
    assert.equal(changed.file.leaf_hash, receipt.leaf_hash);
    assert.equal(changed.verifier.text, key.vkey);
  }

  // Still on record: the log grew; a rollback, a fork or a bad proof is refused.
  const consistency = async (m, n) => subproof(m, leaves.slice(0, n), true).map(b64);
  assert.deepEqual(await r.checkStillOnRecord(sodium, opened, note(5), consistency), { index: 2, day: '2026-11-28', from: 3, to: 5 });
  assert.deepEqual(await r.checkStillOnRecord(sodium, opened, note(3), consistency), { index: 2, day: '2026-11-28', from: 3, to: 3 });
  await refused(r.checkStillOnRecord(sodium, opened, note(2), consistency), 'rolled_back');
  const forked = [...leaves.slice(0, 2), leafOf(Uint8Array.of(1)), ...leaves.slice(3)];
  const forkText = `${origin}\n5\n${b64(mth(forked))}\n`;
  await refused(r.checkStillOnRecord(sodium, opened, `${forkText}\n${key.sign(forkText)}`, consistency), 'bad_consistency');
  const badProof = async (m, n) => { const p = await consistency(m, n); p[0] = b64(H(Uint8Array.of(3))); return p; };
  await refused(r.checkStillOnRecord(sodium, opened, note(5), badProof), 'bad_consistency');
  const otherKey = await makeKey(origin);
  const text5 = `${origin}\n5\n${b64(mth(leaves))}\n`;
  await refused(r.checkStillOnRecord(sodium, opened, `${text5}\n${otherKey.sign(text5)}`, consistency));
});

// A page that is not a secure context (plain http to a name other than
// localhost) has crypto but no crypto.subtle: the same checks run on
// libsodium's SHA-256, with the same results; without it either, the error
// is not a ReceiptError (nothing was found wrong: the check did not run).
test('without crypto.subtle: every check runs on libsodium\'s SHA-256; without either, no ReceiptError', async (t) => {
  const origin = 'reports.test.example/log';
  const key = await makeKey(origin);
  const leaves = LEAVES.slice(0, 5).map(leafOf);
  const note = (n) => { const text = `${origin}\n${n}\n${b64(mth(leaves.slice(0, n)))}\n`; return `${text}\n${key.sign(text)}`; };
  const receipt = { index: 2, leaf_hash: b64(leaves[2]), size: 2, day: '2026-11-28', tree_size: 3, checkpoint: note(3),
    inclusion_proof: path(2, leaves.slice(0, 3)).map(b64) };
  const own = { leafHash: receipt.leaf_hash, verifierKey: key.vkey, origin };
  const consistency = async (m, n) => subproof(m, leaves.slice(0, n), true).map(b64);

  const real = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  let subtleDigests = 0;
  const counting = { getRandomValues: (a) => webcrypto.getRandomValues(a), subtle: { digest: (...args) => { subtleDigests++; return webcrypto.subtle.digest(...args); } } };
  t.after(() => Object.defineProperty(globalThis, 'crypto', real));
  Object.defineProperty(globalThis, 'crypto', { value: { getRandomValues: (a) => webcrypto.getRandomValues(a) }, configurable: true, writable: true });
  assert.equal(globalThis.crypto.subtle, undefined);

  assert.deepEqual(await r.sha256(sodium, Uint8Array.of(0), LEAVES[3]), hashes[3]);
  assert.deepEqual(await r.leafHashOf(LEAVES[3], sodium), hashes[3]);
  assert.equal((await r.parseVerifierKey(key.vkey, sodium)).text, key.vkey);
  for (const [i, n, proof] of INCLUSION) assert.equal(await r.verifyInclusion(i, n, hashes[i], proof, ROOTS[n - 1], sodium), true);
  await refused(r.verifyInclusion(5, 8, hashes[4], INCLUSION[2][2], ROOTS[7], sodium), 'bad_inclusion');
  for (const [m, n, proof] of CONSISTENCY) assert.equal(await r.verifyConsistency(m, n, ROOTS[m - 1], ROOTS[n - 1], proof, sodium), true);
  await refused(r.verifyConsistency(6, 8, ROOTS[5], ROOTS[6], CONSISTENCY[2][2], sodium), 'bad_consistency');
  assert.equal(await r.verifyConsistency(0, 0, H(), H(), [], sodium), true);

  const ok = await r.verifyReceipt(sodium, receipt, own);
  assert.deepEqual([ok.index, ok.treeSize, ok.root], [2, 3, mth(leaves.slice(0, 3))]);
  await refused(r.verifyReceipt(sodium, { ...receipt, index: 1 }, own), 'bad_inclusion');
  const opened = await r.openReceiptFile(sodium, JSON.stringify(r.receiptFile(receipt, own)));
  assert.deepEqual(await r.checkStillOnRecord(sodium, opened, note(5), consistency), { index: 2, day: '2026-11-28', from: 3, to: 5 });
  const forked = [...leaves.slice(0, 2), leafOf(Uint8Array.of(1)), ...leaves.slice(3)];
  const forkText = `${origin}\n5\n${b64(mth(forked))}\n`;
  await refused(r.checkStillOnRecord(sodium, opened, `${forkText}\n${key.sign(forkText)}`, consistency), 'bad_consistency');

  // Neither crypto.subtle nor libsodium: the check cannot run, and says so
  // with a plain Error, which the page words as "could not be checked".
  for (const attempt of [() => r.verifyReceipt(null, receipt, own), () => r.leafHashOf(LEAVES[3])]) {
    await assert.rejects(attempt(), (error) => !(error instanceof r.ReceiptError) && /neither crypto\.subtle nor libsodium/.test(error.message));
  }

  // With crypto.subtle, it is the one used, as before.
  Object.defineProperty(globalThis, 'crypto', { value: counting, configurable: true, writable: true });
  assert.equal((await r.verifyReceipt(sodium, receipt, own)).index, 2);
  assert.ok(subtleDigests > 0);
});
