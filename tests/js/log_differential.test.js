// Differential test of the two verifiers of the log: the page's
// (web/receipt.js) and the auditor's (crypto/note.c, crypto/tlog.c,
// src/audit_given.c, driven through $SEALTIP_BUILD/tools/log_verify). The
// same inputs, valid and mutated, go to both; every one must get the same
// answer (accepted, with the same tree size, or refused). A difference means
// a reporter told "still on record" where an auditor finds the log tampered
// with, or the other way round. The inputs are fixed (a seeded generator,
// a fixed key), so a failure names the same input on every run.
// Run: SEALTIP_BUILD=build node --test tests/js/log_differential.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
const { default: sodium } = await import('libsodium-wrappers-sumo');
await sodium.ready;
const r = await import('../../web/receipt.js');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = process.env.SEALTIP_BUILD ? path.resolve(root, process.env.SEALTIP_BUILD) : path.join(root, 'build');
const tool = path.join(buildDir, 'tools', 'log_verify');

const enc = new TextEncoder();
const H = (...parts) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return new Uint8Array(h.digest()); };
const hex = (b) => Buffer.from(b).toString('hex');
const b64 = (b) => Buffer.from(b).toString('base64');
const cat = (...parts) => Uint8Array.from(Buffer.concat(parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p))));

// A fixed PRNG (xorshift32) so every run makes the same inputs.
let seed = 0x5ea17195;
const rand = (n) => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed % n; };

// ---- RFC 9162 §2.1 definitions (a reference, not either verifier) ----
const leafOf = (d) => H(Uint8Array.of(0), d);
const node = (a, b) => H(Uint8Array.of(1), a, b);
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
const mth = (ls) => (ls.length === 0 ? H() : ls.length === 1 ? ls[0] : node(mth(ls.slice(0, split(ls.length))), mth(ls.slice(split(ls.length)))));
function pathOf(m, ls) {
  if (ls.length <= 1) return [];
  const k = split(ls.length);
  return m < k ? [...pathOf(m, ls.slice(0, k)), mth(ls.slice(k))] : [...pathOf(m - k, ls.slice(k)), mth(ls.slice(0, k))];
}
function subproof(m, ls, b) {
  if (m === ls.length) return b ? [] : [mth(ls)];
  const k = split(ls.length);
  return m <= k ? [...subproof(m, ls.slice(0, k), b), mth(ls.slice(k))] : [...subproof(m - k, ls.slice(k), false), mth(ls.slice(0, k))];
}
const LEAVES = Array.from({ length: 40 }, (_, i) => leafOf(enc.encode(`entry ${i}`)));
const rootAt = (n) => mth(LEAVES.slice(0, n));

// ---- the log key and C2SP signed notes ----
const NAME = 'reports.example.org/log';
const keys = sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(7));
const keyIdOf = (name, pk) => H(enc.encode(name), Uint8Array.of(0x0a, 0x01), pk).slice(0, 4);
const verifierKeyOf = (name, pk) => `${name}+${hex(keyIdOf(name, pk))}+${b64(cat(Uint8Array.of(1), pk))}`;
const KEY = verifierKeyOf(NAME, keys.publicKey);
const other = sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(9));
const sigLine = (text, name = NAME, sk = keys.privateKey, pk = keys.publicKey) =>
  cat('\u2014 ', name, ' ', b64(cat(keyIdOf(name, pk), sodium.crypto_sign_detached(text, sk))), '\n');
// text (bytes or string) signed by the log key, then the blank line and the line.
const signed = (text, ...extra) => { const t = typeof text === 'string' ? enc.encode(text) : text; return cat(t, '\n', sigLine(t), ...extra); };
const cpText = (n, rootHash = rootAt(n), ext = '') => `${NAME}\n${n}\n${b64(rootHash)}\n${ext}`;

// ---- the C side: one process, one line a case ----
function runC(lines) {
  const run = spawnSync(tool, [], { input: lines.join('\n') + '\n', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, `log_verify failed: ${run.stderr}`);
  const out = run.stdout.toString().split('\n');
  out.pop();
  assert.equal(out.length, lines.length);
  return out;
}

// ---- the JS side: ok (with a size) or the ReceiptError's code ----
async function js(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (!(error instanceof r.ReceiptError)) throw error;
    return { ok: false, code: error.code };
  }
}

const cases = []; // {what, c: line, js: async () => {ok, size?}, sized}
const add = (what, c, jsFn, sized = false) => cases.push({ what: what.length > 200 ? `${what.slice(0, 200)}...` : what, c, js: jsFn, sized });
const verifier = await r.parseVerifierKey(KEY);

// -- verifier keys --
function addKey(what, key) {
  add(`verifier key ${what}: ${JSON.stringify(key)}`, `K ${hex(enc.encode(key))}`, () => js(() => r.parseVerifierKey(key)));
}
{
  const raw = cat(Uint8Array.of(1), keys.publicKey);
  const id = hex(keyIdOf(NAME, keys.publicKey));
  addKey('valid', KEY);
  addKey('upper-case id', `${NAME}+${id.toUpperCase()}+${b64(raw)}`);
  addKey('short id', `${NAME}+${id.slice(1)}+${b64(raw)}`);
  addKey('wrong id', `${NAME}+${id.slice(0, 7)}${id[7] === '0' ? '1' : '0'}+${b64(raw)}`);
  addKey('alg 2', verifierKeyOf(NAME, keys.publicKey).replace(/\+A[A-Za-z0-9/+]+=$/, `+${b64(cat(Uint8Array.of(2), keys.publicKey))}`));
  addKey('no padding', KEY.replace(/=$/, ''));
  addKey('url-safe', KEY.replace(/\//g, '_'));
  addKey('empty name', `+${hex(keyIdOf('', keys.publicKey))}+${b64(raw)}`);
  for (const name of ['a', 'a b', 'a\u00a0b', 'a\u200bb', 'a\u202eb', 'a\u0085b', 'a\x7fb', 'é/log', 'x'.repeat(255), 'x'.repeat(256), '\u1780\u17d2\u179a/log']) {
    addKey(`name ${JSON.stringify(name)}`, verifierKeyOf(name, keys.publicKey));
  }
  addKey('trailing byte', `${KEY}A`);
}

// -- checkpoint notes: made valid then changed in one place, and signed
// again where the change is to the text (so only the parse can refuse) --
function addNote(what, note) {
  add(`note ${what}: ${JSON.stringify(Buffer.from(note).toString('latin1'))}`, `N ${KEY} ${hex(note)}`,
    () => js(async () => r.openCheckpoint(sodium, note, verifier).size), true);
}
{
  for (const n of [0, 1, 2, 7, 39]) addNote(`size ${n}`, signed(cpText(n)));
  const rootB64 = b64(rootAt(5));
  const sizes = ['0', '5', '05', '+5', '-5', ' 5', '5 ', '5.0', '0x5', '', '00', '١', '５',
    '9007199254740991', '9007199254740992', '9007199254740993', '10000000000000000', '99999999999999999',
    '18446744073709551615', '18446744073709551616', '99999999999999999999', '123456789012345678901'];
  for (const s of sizes) addNote(`size line ${JSON.stringify(s)}`, signed(`${NAME}\n${s}\n${rootB64}\n`));
  const roots = [rootB64, rootB64.replace(/=$/, ''), rootB64 + '=', rootB64.replace(/\//g, '_').replace(/\+/g, '-'),
    b64(rootAt(5).slice(0, 31)), b64(cat(rootAt(5), Uint8Array.of(0))), ` ${rootB64}`, `${rootB64} `, hex(rootAt(5)),
    rootB64.slice(0, 42) + (rootB64[42] === 'A' ? 'B' : 'A') + '='];
  for (const rt of roots) addNote(`root line ${JSON.stringify(rt)}`, signed(`${NAME}\n5\n${rt}\n`));
  const exts = ['ext\n', 'a\nb\n', '\n', 'x\n\n', ' \n', '\u2014 x\n', 'x'.repeat(5000) + '\n', 'é\n', '\x7f\n', '\u0085\n', '\ufeff\n'];
  for (const e of exts) addNote(`extension ${JSON.stringify(e)}`, signed(cpText(5, rootAt(5), e)));
  const origins = [NAME, `${NAME} `, ` ${NAME}`, `${NAME}\x7f`, `${NAME}/`, NAME.toUpperCase(), `\ufeff${NAME}`, ''];
  for (const o of origins) addNote(`origin ${JSON.stringify(o)}`, signed(`${o}\n5\n${rootB64}\n`));
  // Text shapes: CR, NUL, tab, missing lines, no final newline.
  for (const t of [`${NAME}\r\n5\r\n${rootB64}\r\n`, `${NAME}\n5\n${rootB64}\r\n`, `${NAME}\n5\n${rootB64}\n\0\n`,
    `${NAME}\n5\n${rootB64}\n\tx\n`, `${NAME}\n5\n`, `${NAME}\n5\n${rootB64}`, `\n${NAME}\n5\n${rootB64}\n`]) {
    addNote(`text ${JSON.stringify(t)}`, signed(t));
  }
  // Bytes that are not UTF-8, or UTF-8 of what must not be there, in the
  // signed text (an extension line) or in another key's signature line.
  const raws = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xef, 0xbf, 0xbd], [0xef, 0xbb, 0xbf], [0xc2, 0x85]];
  for (const raw of raws) {
    addNote(`extension bytes ${hex(raw)}`, signed(cat(cpText(5), Uint8Array.from(raw), '\n')));
    addNote(`leading bytes ${hex(raw)}`, cat(Uint8Array.from(raw), signed(cpText(5))));
    addNote(`witness name bytes ${hex(raw)}`, signed(cpText(5), cat('\u2014 w', Uint8Array.from(raw), ' ', b64(new Uint8Array(68).fill(3)), '\n')));
  }
  // Signature lines.
  const text = enc.encode(cpText(5));
  const good = sigLine(text);
  const wit = (name, bytes) => cat('\u2014 ', name, ' ', b64(bytes), '\n');
  const sigs = {
    'other key, other name': [good, sigLine(text, 'witness.example', other.privateKey, other.publicKey)],
    'other key first': [sigLine(text, 'witness.example', other.privateKey, other.publicKey), good],
    'other key, our name': [good, sigLine(text, NAME, other.privateKey, other.publicKey)],
    'only the other key': [sigLine(text, 'witness.example', other.privateKey, other.publicKey)],
    'twice': [good, good],
    'witness 5 bytes': [good, wit('w', new Uint8Array(5))],
    'witness 4 bytes': [good, wit('w', new Uint8Array(4))],
    'witness 1000 bytes': [good, wit('w', new Uint8Array(1000).fill(1))],
    'witness name 300 bytes': [good, wit('w'.repeat(300), new Uint8Array(68))],
    'witness name with DEL': [good, wit('w\x7f', new Uint8Array(68))],
    'witness name with U+200B': [good, wit('w\u200b', new Uint8Array(68))],
    'witness name with NBSP': [good, wit('w\u00a0x', new Uint8Array(68))],
    'witness name with +': [good, wit('w+x', new Uint8Array(68))],
    'witness name with U+0085': [good, wit('w\u0085x', new Uint8Array(68))],
    'witness name with U+FEFF': [good, wit('w\ufeffx', new Uint8Array(68))],
    'witness name with U+180E': [good, wit('w\u180ex', new Uint8Array(68))],
    'witness, no base64': [good, cat('\u2014 w \n')],
    'witness, two spaces': [good, cat('\u2014 w  ', b64(new Uint8Array(68)), '\n')],
    'witness, no name': [good, cat('\u2014  ', b64(new Uint8Array(68)), '\n')],
    'hyphen, not em dash': [good, cat('- w ', b64(new Uint8Array(68)), '\n')],
    'en dash': [good, cat('\u2013 w ', b64(new Uint8Array(68)), '\n')],
    'our key id, 67 bytes': [cat('\u2014 ', NAME, ' ', b64(cat(keyIdOf(NAME, keys.publicKey), new Uint8Array(63))), '\n')],
    'our key id, 69 bytes': [cat('\u2014 ', NAME, ' ', b64(cat(keyIdOf(NAME, keys.publicKey), new Uint8Array(65))), '\n')],
    'our name, other key id': [good, cat('\u2014 ', NAME, ' ', b64(cat(Uint8Array.of(1, 2, 3, 4), new Uint8Array(64))), '\n')],
    'bad signature': [cat('\u2014 ', NAME, ' ', b64(cat(keyIdOf(NAME, keys.publicKey), new Uint8Array(64))), '\n')],
    'trailing space': [cat(good.slice(0, -1), ' \n')],
    'CR': [cat(good.slice(0, -1), '\r\n')],
    'no final newline': [good.slice(0, -1)],
    'blank line after': [good, cat('\n')],
    'none': [],
    '100 lines': [good, ...Array.from({ length: 99 }, (_, i) => wit(`w${i}`, new Uint8Array(68)))],
    '101 lines': [good, ...Array.from({ length: 100 }, (_, i) => wit(`w${i}`, new Uint8Array(68)))],
  };
  for (const [what, lines] of Object.entries(sigs)) addNote(`signatures: ${what}`, cat(text, '\n', ...lines));
  addNote('two blank lines', cat(text, '\n\n', good));
  addNote('signed blank-line text', signed(cat(cpText(5), '\n', good)));
  addNote('note of 1 MiB - 1 + 1', signed(cpText(5, rootAt(5), 'x'.repeat((1 << 20) - 200) + '\n')));
  addNote('note over 1 MiB', signed(cpText(5, rootAt(5), 'x'.repeat(1 << 20) + '\n')));
  // Every single-bit change of a valid note.
  const base = signed(cpText(3));
  for (let i = 0; i < base.length; i += 1 + rand(3)) {
    const copy = Uint8Array.from(base);
    copy[i] ^= 1 << rand(8);
    addNote(`bit flip at ${i}`, copy);
  }
}

// -- inclusion and consistency proofs --
function addInclusion(what, index, size, leaf, proof, rootHash) {
  const p = proof.length ? proof.map(hex).join(',') : '-';
  add(`inclusion ${what} (index ${index}, size ${size}, ${proof.length} hashes)`, `I ${index} ${size} ${hex(leaf)} ${hex(rootHash)} ${p}`,
    () => js(() => r.verifyInclusion(index, size, leaf, proof, rootHash)));
}
function addConsistency(what, m, n, a, b, proof) {
  const p = proof.length ? proof.map(hex).join(',') : '-';
  add(`consistency ${what} (${m} to ${n}, ${proof.length} hashes)`, `C ${m} ${n} ${hex(a)} ${hex(b)} ${p}`,
    () => js(() => r.verifyConsistency(m, n, a, b, proof)));
}
{
  const X = new Uint8Array(32).fill(0xab);
  for (let n = 1; n <= 33; n++) for (let i = 0; i < n; i++) {
    if (n > 12 && rand(3) !== 0) continue;
    const proof = pathOf(i, LEAVES.slice(0, n));
    const rt = rootAt(n);
    addInclusion('valid', i, n, LEAVES[i], proof, rt);
    addInclusion('other leaf', i, n, LEAVES[(i + 1) % 40], proof, rt);
    addInclusion('index+1', i + 1, n, LEAVES[i], proof, rt);
    addInclusion('size+1', i, n + 1, LEAVES[i], proof, rt);
    if (n > 1) addInclusion('size-1', i, n - 1, LEAVES[i], proof, rt);
    addInclusion('size 2n', i, 2 * n, LEAVES[i], proof, rt);
    addInclusion('extra hash', i, n, LEAVES[i], [...proof, X], rt);
    addInclusion('extra hash first', i, n, LEAVES[i], [X, ...proof], rt);
    if (proof.length) {
      addInclusion('last hash missing', i, n, LEAVES[i], proof.slice(0, -1), rt);
      addInclusion('first hash missing', i, n, LEAVES[i], proof.slice(1), rt);
      addInclusion('reversed', i, n, LEAVES[i], proof.slice().reverse(), rt);
      addInclusion('root as proof', i, n, rt, [], rt);
    }
    addInclusion('leaf is root, size 1', 0, 1, rt, [], rt);
  }
  addInclusion('index = size', 5, 5, LEAVES[5], pathOf(4, LEAVES.slice(0, 5)), rootAt(5));
  addInclusion('size 0', 0, 0, LEAVES[0], [], H());
  addInclusion('huge size', 0, 2 ** 53 - 1, LEAVES[0], pathOf(0, LEAVES.slice(0, 5)), rootAt(5));
  addInclusion('64 hashes', 0, 2 ** 53 - 1, LEAVES[0], Array(64).fill(X), rootAt(5));
  addInclusion('65 hashes', 0, 2 ** 53 - 1, LEAVES[0], Array(65).fill(X), rootAt(5));
  // A proof for a tree of 2^52 + 1 leaves, index 2^52: root = H(X, leaf).
  addInclusion('index 2^52 of 2^52+1', 2 ** 52, 2 ** 52 + 1, LEAVES[0], [X], node(X, LEAVES[0]));
  for (let n = 0; n <= 33; n++) for (let m = 0; m <= n; m++) {
    if (n > 10 && rand(4) !== 0) continue;
    const proof = m === 0 || m === n ? [] : subproof(m, LEAVES.slice(0, n), true);
    const [a, b] = [rootAt(m), rootAt(n)];
    addConsistency('valid', m, n, a, b, proof);
    addConsistency('backwards', n, m, b, a, proof);
    addConsistency('roots swapped', m, n, b, a, proof);
    addConsistency('extra hash', m, n, a, b, [...proof, X]);
    addConsistency('old root first', m, n, a, b, [a, ...proof]);
    if (proof.length) {
      addConsistency('last hash missing', m, n, a, b, proof.slice(0, -1));
      addConsistency('first hash missing', m, n, a, b, proof.slice(1));
      addConsistency('one hash changed', m, n, a, b, proof.map((h, k) => (k === rand(proof.length) ? X : h)));
    }
    if (m > 0) addConsistency('from-1', m - 1, n, a, b, proof);
    addConsistency('to+1', m, n + 1, a, b, proof);
  }
  addConsistency('0 to 0, root not empty', 0, 0, X, X, []);
  addConsistency('0 to 5, root not empty', 0, 5, X, rootAt(5), []);
  addConsistency('5 to 5, other proof', 5, 5, rootAt(5), rootAt(5), [X]);
  addConsistency('huge', 2 ** 52, 2 ** 53 - 1, rootAt(5), rootAt(6), [X, X]);
}

// -- proofs as they come in JSON (the receipt's, the consistency endpoint's) --
function addProofJSON(what, json) {
  const bytes = enc.encode(json);
  add(`proof JSON ${what}: ${json.slice(0, 120)}`, `P ${hex(bytes)}`, () => js(async () => {
    // The page's reading of a proof array: checkStillOnRecord, from the
    // receipt's size 3 to a checkpoint of size 5 (roots that need exactly
    // this proof's hashes would need a real tree; the reading is what is
    // compared here, so a proof that reads but does not verify is "ok").
    const list = JSON.parse(json);
    const receipt = { index: 0, treeSize: 3, root: rootAt(3), verifier };
    try {
      await r.checkStillOnRecord(sodium, receipt, signed(cpText(5)), async () => list);
    } catch (error) {
      if (error instanceof r.ReceiptError && error.code === 'bad_consistency' && error.message === 'the roots do not match') return list.length;
      if (error instanceof r.ReceiptError && /proof too|empty proof/.test(error.message)) return list.length;
      throw error;
    }
    return list.length;
  }), true);
}
{
  const h = b64(LEAVES[1]);
  const lists = {
    valid: [h, h],
    empty: [],
    'no padding': [h.replace(/=$/, '')],
    'url-safe': [b64(H(enc.encode('/'))).replace(/\//g, '_').replace(/\+/g, '-')],
    '31 bytes': [b64(LEAVES[1].slice(0, 31))],
    '33 bytes': [b64(cat(LEAVES[1], Uint8Array.of(0)))],
    'space': [` ${h}`],
    'newline': [`${h.slice(0, 20)}\n${h.slice(20)}`],
    'non-canonical last char': [h.slice(0, 42) + String.fromCharCode(h.charCodeAt(42) + 1) + '='],
    'number': [1],
    'null': [null],
    'nested': [[h]],
    '64 hashes': Array(64).fill(h),
    '65 hashes': Array(65).fill(h),
  };
  for (const [what, list] of Object.entries(lists)) addProofJSON(what, JSON.stringify(list));
  addProofJSON('not an array', JSON.stringify({ 0: h }));
  addProofJSON('string', JSON.stringify(h));
}

// -- receipt files (the page's saved file), every field changed --
const INDEX = 3;
const SIZE = 7;
function receiptFile(change = (f) => f) {
  const file = {
    format: 'sealtip-receipt-1',
    receipt: {
      index: INDEX, leaf_hash: b64(LEAVES[INDEX]), size: 3682, day: '2026-11-28', tree_size: SIZE,
      checkpoint: Buffer.from(signed(cpText(SIZE))).toString('utf8'),
      inclusion_proof: pathOf(INDEX, LEAVES.slice(0, SIZE)).map(b64),
    },
    leaf_hash: b64(LEAVES[INDEX]),
    log: { origin: NAME, verifier_key: KEY },
  };
  return change(file) ?? file;
}
// The auditor is given the key the file names (the page checks the file
// with that key alone), "-" when it names none.
function keyNamed(bytes) {
  try {
    const key = JSON.parse(Buffer.from(bytes).toString('utf8')).log.verifier_key;
    return typeof key === 'string' && /^[^ \n]+$/.test(key) ? key : '-';
  } catch {
    return '-';
  }
}
function addReceipt(what, bytes, key = keyNamed(bytes)) {
  add(`receipt file ${what}: ${Buffer.from(bytes).toString('latin1').slice(0, 160)}`, `R ${key} ${hex(bytes)}`,
    () => js(async () => (await r.openReceiptFile(sodium, bytes)).treeSize), true);
}
const addReceiptJSON = (what, change) => addReceipt(what, enc.encode(JSON.stringify(receiptFile(change))));
{
  addReceiptJSON('valid', (f) => f);
  const values = [undefined, null, -1, 0, 1, 2, 6, 7, 8, 1.5, '3', true, [], {}, 2 ** 53, 2 ** 63, -0];
  for (const field of ['index', 'tree_size']) {
    for (const v of values) addReceiptJSON(`receipt.${field} = ${JSON.stringify(v)}`, (f) => { f.receipt[field] = v; });
  }
  for (const v of [undefined, null, '', 'x', b64(LEAVES[INDEX + 1]), b64(LEAVES[INDEX]).replace(/=$/, ''), 3]) {
    addReceiptJSON(`receipt.leaf_hash = ${JSON.stringify(v)}`, (f) => { f.receipt.leaf_hash = v; });
    addReceiptJSON(`leaf_hash = ${JSON.stringify(v)}`, (f) => { f.leaf_hash = v; });
    addReceiptJSON(`both leaf hashes = ${JSON.stringify(v)}`, (f) => { f.leaf_hash = v; f.receipt.leaf_hash = v; });
  }
  // Both leaf hashes of another entry, with that entry's proof.
  addReceiptJSON('another entry, its proof', (f) => {
    f.leaf_hash = b64(LEAVES[4]); f.receipt.leaf_hash = b64(LEAVES[4]); f.receipt.index = 4;
    f.receipt.inclusion_proof = pathOf(4, LEAVES.slice(0, SIZE)).map(b64);
  });
  for (const v of [undefined, null, '2026-11-28', '2026-1-28', 'yesterday', 20261128, '2026-11-28T00:00']) {
    addReceiptJSON(`receipt.day = ${JSON.stringify(v)}`, (f) => { f.receipt.day = v; });
  }
  for (const v of [undefined, null, 'sealtip-receipt-2', '', 1]) addReceiptJSON(`format = ${JSON.stringify(v)}`, (f) => { f.format = v; });
  for (const v of [undefined, null, 'x', [], 3]) addReceiptJSON(`receipt = ${JSON.stringify(v)}`, (f) => { f.receipt = v; });
  for (const v of [undefined, null, 'other.example/log', `${NAME} `]) addReceiptJSON(`log.origin = ${JSON.stringify(v)}`, (f) => { f.log.origin = v; });
  for (const v of [undefined, null, 'x']) addReceiptJSON(`log = ${JSON.stringify(v)}`, (f) => { f.log = v; });
  addReceiptJSON('extra keys', (f) => { f.x = 1; f.receipt.y = [1, 2]; f.log.z = {}; });
  const proof = pathOf(INDEX, LEAVES.slice(0, SIZE)).map(b64);
  for (const [what, p] of Object.entries({
    'missing': undefined, 'null': null, 'empty': [], 'string': proof[0], 'extra hash': [...proof, proof[0]],
    'one missing': proof.slice(1), 'reversed': proof.slice().reverse(), 'no padding': proof.map((h) => h.replace(/=$/, '')),
    'with a number': [...proof.slice(0, -1), 1], '65 hashes': Array(65).fill(proof[0]),
  })) addReceiptJSON(`inclusion_proof ${what}`, (f) => { f.receipt.inclusion_proof = p; });
  // The checkpoint: each of the notes above (well, a sample), and other sizes.
  for (const n of [SIZE - 1, SIZE + 1, INDEX, 40]) {
    addReceiptJSON(`checkpoint of size ${n}, tree_size ${SIZE}`, (f) => {
      f.receipt.checkpoint = Buffer.from(signed(cpText(n))).toString('utf8');
      f.receipt.inclusion_proof = pathOf(INDEX, LEAVES.slice(0, n)).map(b64);
    });
    addReceiptJSON(`checkpoint of size ${n}, tree_size too`, (f) => {
      f.receipt.checkpoint = Buffer.from(signed(cpText(n))).toString('utf8');
      f.receipt.tree_size = n;
      f.receipt.inclusion_proof = pathOf(INDEX, LEAVES.slice(0, n)).map(b64);
    });
  }
  addReceiptJSON('checkpoint with extension line', (f) => { f.receipt.checkpoint = Buffer.from(signed(cpText(SIZE, rootAt(SIZE), 'ext\n'))).toString('utf8'); });
  addReceiptJSON('checkpoint not a string', (f) => { f.receipt.checkpoint = 1; });
  addReceiptJSON('checkpoint missing', (f) => { delete f.receipt.checkpoint; });
  addReceiptJSON('checkpoint with CR', (f) => { f.receipt.checkpoint = f.receipt.checkpoint.replace(/\n/g, '\r\n'); });
  // JSON text itself.
  const good = JSON.stringify(receiptFile());
  addReceipt('leading spaces', enc.encode(`  \n${good}`));
  addReceipt('trailing newline', enc.encode(`${good}\n`));
  addReceipt('trailing garbage', enc.encode(`${good}x`));
  addReceipt('BOM first', cat(Uint8Array.of(0xef, 0xbb, 0xbf), good));
  addReceipt('duplicate index', enc.encode(good.replace('"index":3', '"index":5,"index":3')));
  addReceipt('duplicate format', enc.encode(good.replace('"format":"sealtip-receipt-1"', '"format":"x","format":"sealtip-receipt-1"')));
  addReceipt('duplicate leaf_hash', enc.encode(good.replace(/,"leaf_hash":/, `,"leaf_hash":"${b64(LEAVES[9])}","leaf_hash":`)));
  addReceipt('index 3.0', enc.encode(good.replace('"index":3', '"index":3.0')));
  addReceipt('index 3e0', enc.encode(good.replace('"index":3', '"index":3e0')));
  addReceipt('tree_size 7.0', enc.encode(good.replace('"tree_size":7', '"tree_size":7.0')));
  addReceipt('index -0', enc.encode(good.replace('"index":3', '"index":-0').replace('"index":-0', '"index":-0')));
  addReceipt('NUL in an extra string', enc.encode(good.replace('"size":3682', '"size":3682,"note":"a\\u0000b"')));
  addReceipt('lone surrogate in an extra string', enc.encode(good.replace('"size":3682', '"size":3682,"note":"a\\ud800b"')));
  addReceipt('invalid UTF-8 in an extra string', cat(good.replace('"size":3682', '"size":3682,"note":"a').split('"note":"a')[0], '"note":"a', Uint8Array.of(0xff), '"', good.split('"size":3682')[1]));
  // Numbers and nesting beyond jansson's limits, in a key neither reads.
  for (const v of ['1e400', '-1e400', '1e-400', '9223372036854775807', '9223372036854775808',
    '-9223372036854775808', '-9223372036854775809', '18446744073709551616', '1'.repeat(30)]) {
    addReceipt(`extra number ${v}`, enc.encode(good.replace('"size":3682', `"size":${v}`)));
  }
  // The file is depth 2; an extra value n deep makes it n + 2 (jansson: 2048).
  for (const n of [2046, 2047]) addReceipt(`extra value ${n} deep`, enc.encode(good.replace('"size":3682', `"size":${'['.repeat(n)}${']'.repeat(n)}`)));
  addReceipt('escaped checkpoint', enc.encode(good.replace(/"checkpoint":"([^"]*)"/, (_, c) => `"checkpoint":"${c.replace(/r/g, '\\u0072')}"`)));
  // A checkpoint whose signed text holds U+FFFD, given in the JSON as an
  // escaped lone surrogate, or as a byte that is not UTF-8.
  {
    const text = cat(cpText(SIZE), '\ufffd\n');
    const note = Buffer.from(signed(text)).toString('utf8');
    addReceiptJSON('checkpoint with U+FFFD extension', (f) => { f.receipt.checkpoint = note; });
    addReceipt('checkpoint with a lone surrogate', enc.encode(JSON.stringify(receiptFile((f) => { f.receipt.checkpoint = note; })).replace('\ufffd', '\\udc00')));
    const [head, tail] = JSON.stringify(receiptFile((f) => { f.receipt.checkpoint = note; })).split('\ufffd');
    addReceipt('checkpoint with a byte 0xff', cat(head, Uint8Array.of(0xff), tail));
    // And the same as a checkpoint note on its own (GET /api/v1/log/checkpoint).
    const bytes = signed(text);
    const at = bytes.indexOf(0xef);
    addNote('U+FFFD in the text, sent as 0xff', cat(bytes.slice(0, at), Uint8Array.of(0xff), bytes.slice(at + 3)));
    addNote('BOM before a valid note', cat(Uint8Array.of(0xef, 0xbb, 0xbf), signed(cpText(5))));
  }
  // Random single-byte changes of the file's text.
  const bytes = enc.encode(good);
  for (let k = 0; k < 400; k++) {
    const copy = Uint8Array.from(bytes);
    const i = rand(copy.length);
    copy[i] = [0x20, 0x22, 0x2c, 0x30 + rand(10), 0x41 + rand(26), 0x61 + rand(26), 0x7b, 0x7d, 0x5c, copy[i] ^ (1 << rand(8))][rand(10)];
    addReceipt(`byte ${i} changed`, copy);
  }
}

test('the page and the auditor accept and refuse the same log inputs', { timeout: 60000 }, async (t) => {
  if (!existsSync(tool)) assert.fail(`${tool} is missing: make ${path.relative(root, tool)}`);
  const answers = runC(cases.map((c) => c.c));
  const disagreements = [];
  for (let k = 0; k < cases.length; k++) {
    const c = cases[k];
    const [word, size] = answers[k].split(' ');
    assert.notEqual(word, 'error', `log_verify could not read case ${c.what}`);
    const cOk = word === 'ok';
    const j = await c.js();
    const same = cOk === j.ok && (!cOk || !c.sized || String(j.value) === size);
    if (!same) disagreements.push(`${c.what}\n    C: ${answers[k]}\n    page: ${j.ok ? `ok ${j.value}` : j.code}`);
  }
  t.diagnostic(`${cases.length} inputs, ${disagreements.length} disagreements`);
  assert.deepEqual(disagreements, [], `${disagreements.length} of ${cases.length} inputs:\n${disagreements.join('\n')}`);
});
