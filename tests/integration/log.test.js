// The Merkle log through the real sealtipd: receipts, the checkpoint and
// proof endpoints, the verifier key in config / stdout / --print-verifier-key,
// restarts, and refused requests that add no leaf. Every check here is made
// by an independent JavaScript implementation (node:crypto only) of RFC 9162
// §2.1 and the C2SP signed-note and tlog-checkpoint formats. At the end,
// sealtipd's own log lines: none dates a report (docs/server.md, "What is
// logged").
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';

// ---- RFC 9162 §2.1, written from the RFC ----

const sha = (...parts) => { const x = crypto.createHash('sha256'); for (const p of parts) x.update(p); return x.digest(); };
const leafOf = (data) => sha(Buffer.from([0]), data);
const node = (l, r) => sha(Buffer.from([1]), l, r);

// MTH(D[n]) over leaf hashes, straight from the definition.
function mth(leaves) {
  if (leaves.length === 0) return sha(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

// §2.1.3.2
function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = node(p, r);
      if ((fn & 1) === 0) while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = node(r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}

// §2.1.4.2 (with the m == n and m == 0 cases the RFC leaves to callers).
function verifyConsistency(m, n, rootM, rootN, proof) {
  if (m > n) return false;
  if (m === n) return proof.length === 0 && rootM.equals(rootN);
  if (m === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const pathv = (m & (m - 1)) === 0 ? [rootM, ...proof] : proof.slice();
  let fn = m - 1, sn = n - 1;
  while ((fn & 1) === 1) { fn >>= 1; sn >>= 1; }
  let fr = pathv[0], sr = pathv[0];
  for (const c of pathv.slice(1)) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      fr = node(c, fr); sr = node(c, sr);
      if ((fn & 1) === 0) while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      sr = node(sr, c);
    }
    fn >>= 1; sn >>= 1;
  }
  return fr.equals(rootM) && sr.equals(rootN) && sn === 0;
}

// ---- C2SP signed-note and tlog-checkpoint ----

const canonB64 = (s, len) => {
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s || (len !== undefined && b.length !== len)) throw new Error('bad base64: ' + s);
  return b;
};

// "<name>+<hex key id>+<base64(0x01 || pk)>"
function parseVerifierKey(vkey) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey);
  assert.ok(m, 'verifier key syntax: ' + vkey);
  const raw = canonB64(m[3], 33);
  assert.strictEqual(raw[0], 0x01, 'Ed25519 type byte');
  const pk = raw.subarray(1);
  const id = sha(Buffer.from(m[1], 'utf8'), Buffer.from([0x0a, 0x01]), pk).subarray(0, 4);
  assert.strictEqual(id.toString('hex'), m[2], 'key id = SHA-256(name || 0x0A || 0x01 || pk)[:4]');
  // Ed25519 raw key wrapped as SubjectPublicKeyInfo (RFC 8410).
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]);
  return { name: m[1], id, key: crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }) };
}

// Returns the signed text, or throws.
function openNote(note, v) {
  const split = note.lastIndexOf('\n\n');
  assert.ok(split >= 0, 'note has a blank line');
  const text = note.slice(0, split + 1);
  const sigs = note.slice(split + 2);
  assert.ok(sigs.endsWith('\n'));
  let found = 0, ok = false;
  for (const line of sigs.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    assert.ok(m, 'signature line: ' + JSON.stringify(line));
    const sig = canonB64(m[2]);
    if (m[1] !== v.name || !sig.subarray(0, 4).equals(v.id)) continue;
    found++;
    assert.strictEqual(sig.length, 68);
    ok = crypto.verify(null, Buffer.from(text, 'utf8'), v.key, sig.subarray(4));
  }
  assert.strictEqual(found, 1, 'exactly one signature by the log key');
  assert.ok(ok, 'Ed25519 signature verifies');
  return text;
}

function openCheckpoint(note, v) {
  const text = openNote(note, v);
  const lines = text.split('\n');
  assert.strictEqual(lines.pop(), '', 'text ends with a newline');
  assert.ok(lines.length >= 3);
  assert.strictEqual(lines[0], v.name, 'origin is the key name');
  assert.match(lines[1], /^(0|[1-9][0-9]*)$/);
  return { origin: lines[0], size: Number(lines[1]), root: canonB64(lines[2], 32) };
}

const b64s = (arr) => arr.map((s) => canonB64(s, 32));

async function getJson(srv, p) {
  const r = await h.request(srv, 'GET', p);
  return { status: r.status, json: JSON.parse(r.body.toString('utf8')), headers: r.headers };
}

function printKey(dir, extra = []) {
  const r = spawnSync(h.SEALTIPD, ['--data', path.join(dir, 'data'), ...extra, '--print-verifier-key'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('log: receipts, checkpoint, proofs, verifier key, restart, refusals', async (t) => {
  const origin = 'reports.test.example/log';
  let srv = await h.startServer({ extraArgs: ['--origin', origin] });
  t.after(() => srv.stop());

  // The verifier key: config, start-up line, --print-verifier-key agree.
  const cfg = (await getJson(srv, '/api/v1/config')).json;
  assert.strictEqual(cfg.log.origin, origin);
  const vkey = cfg.log.verifier_key;
  assert.match(srv.stdout, new RegExp('^log verifier key ' + vkey.replace(/[+/]/g, '\\$&') + '$', 'm'));
  assert.strictEqual(printKey(srv.dir, ['--origin', origin]), vkey);
  assert.doesNotMatch(srv.stdout, /warning: the log origin is the default/);
  const v = parseVerifierKey(vkey);
  assert.strictEqual(v.name, origin);
  assert.strictEqual(fs.statSync(path.join(srv.data, 'log.key')).mode & 0o777, 0o600);

  // The empty log already has a signed checkpoint.
  let r = await h.request(srv, 'GET', '/api/v1/log/checkpoint');
  assert.strictEqual(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain/);
  let cp = openCheckpoint(r.body.toString('utf8'), v);
  assert.strictEqual(cp.size, 0);
  assert.ok(cp.root.equals(sha(Buffer.alloc(0))));

  // 50 reports: some one at a time, some at once (group commits).
  const envs = [], receipts = [];
  const submit = async (env) => {
    const res = await h.post(srv, env);
    assert.strictEqual(res.status, 201, res.body.toString());
    return JSON.parse(res.body);
  };
  for (let i = 0; i < 10; i++) envs.push(h.vector(h.GOOD[i % h.GOOD.length]));
  for (const e of envs) receipts.push(await submit(e));
  const batch = [];
  for (let i = 10; i < 50; i++) batch.push(h.vector(h.GOOD[(i * 7) % h.GOOD.length]));
  for (const rc of await Promise.all(batch.map(submit))) receipts[rc.index] = rc;
  const leaves = [];
  const roots = new Map();
  for (const rc of receipts) {
    assert.ok(rc, 'every index 0..49 was given');
    leaves[rc.index] = canonB64(rc.leaf_hash, 32);
    const c = openCheckpoint(rc.checkpoint, v);
    assert.strictEqual(c.size, rc.tree_size);
    assert.ok(rc.index < c.size);
    roots.set(c.size, c.root);
    // The receipt proves the leaf against its checkpoint.
    assert.ok(verifyInclusion(rc.index, c.size, leaves[rc.index], b64s(rc.inclusion_proof), c.root),
      'receipt ' + rc.index + ' verifies');
    // And one changed bit breaks it.
    const bad = Buffer.from(leaves[rc.index]); bad[0] ^= 1;
    assert.ok(!verifyInclusion(rc.index, c.size, bad, b64s(rc.inclusion_proof), c.root));
  }
  assert.strictEqual(receipts.length, 50);
  // The leaf hashes are those of the bytes sent.
  const sentLeaves = new Set(h.GOOD.map((n) => leafOf(h.vector(n)).toString('base64')));
  for (const l of leaves) assert.ok(sentLeaves.has(l.toString('base64')));
  // Every checkpoint's root is the tree of the leaves before it.
  for (const [size, root] of roots) assert.ok(mth(leaves.slice(0, size)).equals(root), 'root at ' + size);
  assert.ok(roots.size >= 11, 'one checkpoint per commit');

  // The latest checkpoint.
  r = await h.request(srv, 'GET', '/api/v1/log/checkpoint');
  const latestNote = r.body.toString('utf8');
  cp = openCheckpoint(latestNote, v);
  assert.strictEqual(cp.size, 50);
  assert.ok(cp.root.equals(mth(leaves)));

  // Inclusion proofs for several (index, size).
  for (const [i, n] of [[0, 1], [0, 50], [49, 50], [17, 33], [31, 32], [32, 33], [5, 8], [12, 13], [40, 47]]) {
    const res = await getJson(srv, `/api/v1/log/inclusion?index=${i}&size=${n}`);
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.json.index, i);
    assert.strictEqual(res.json.size, n);
    const root = mth(leaves.slice(0, n));
    assert.ok(verifyInclusion(i, n, leaves[i], b64s(res.json.proof), root), `inclusion ${i} in ${n}`);
    assert.ok(!verifyInclusion(i, n, leaves[i], b64s(res.json.proof), mth(leaves.slice(0, n - 1))));
  }
  // Consistency proofs for several (from, to), against roots computed here
  // and against signed checkpoints.
  for (const [m, n] of [[1, 50], [7, 8], [8, 50], [13, 29], [32, 50], [49, 50], [50, 50], [0, 50], [3, 5]]) {
    const res = await getJson(srv, `/api/v1/log/consistency?from=${m}&to=${n}`);
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.json.from, m);
    assert.strictEqual(res.json.to, n);
    const proof = b64s(res.json.proof);
    assert.ok(verifyConsistency(m, n, mth(leaves.slice(0, m)), mth(leaves.slice(0, n)), proof), `consistency ${m}..${n}`);
    if (proof.length > 0) {
      const bad = proof.map((p) => Buffer.from(p)); bad[0][5] ^= 0x10;
      assert.ok(!verifyConsistency(m, n, mth(leaves.slice(0, m)), mth(leaves.slice(0, n)), bad));
    }
  }
  for (const [size, root] of roots) {
    const res = await getJson(srv, `/api/v1/log/consistency?from=${size}&to=50`);
    assert.ok(verifyConsistency(size, 50, root, cp.root, b64s(res.json.proof)), 'checkpoint ' + size + ' is a prefix');
  }

  // Strict parameters: 400 for syntax, 422 for ranges.
  const expect = async (p, status, code) => {
    const res = await getJson(srv, p);
    assert.strictEqual(res.status, status, p);
    assert.strictEqual(res.json.error, code, p);
  };
  for (const q of ['index=abc&size=5', 'index=01&size=5', 'index=1', 'size=5', 'index=1&size=5&x=1',
    'index=1&index=2&size=5', 'index=-1&size=5', 'index=%2B1&size=5', 'index=+1&size=5', 'index=1e3&size=5000',
    'index=&size=5', 'index=1&size=99999999999999999999', 'index=1&size=9223372036854775808', ''])
    await expect('/api/v1/log/inclusion?' + q, 400, 'bad_parameter');
  for (const q of ['from=a&to=5', 'from=1', 'to=2', 'from=1&to=2&to=3', 'from=1&to=02', 'from=1.0&to=2'])
    await expect('/api/v1/log/consistency?' + q, 400, 'bad_parameter');
  await expect('/api/v1/log/inclusion?index=5&size=5', 422, 'out_of_range');
  await expect('/api/v1/log/inclusion?index=0&size=0', 422, 'out_of_range');
  await expect('/api/v1/log/inclusion?index=0&size=51', 422, 'out_of_range');
  await expect('/api/v1/log/consistency?from=6&to=5', 422, 'out_of_range');
  await expect('/api/v1/log/consistency?from=1&to=51', 422, 'out_of_range');
  assert.strictEqual((await h.request(srv, 'POST', '/api/v1/log/checkpoint', { body: Buffer.from('x') })).status, 405);

  // Refused uploads add no leaf and no checkpoint.
  for (const bad of ['bad-nrecip-0', 'bad-not-padme-length', 'bad-truncated', 'bad-version-2']) {
    const res = await h.post(srv, h.vector(bad));
    assert.ok(res.status >= 400 && res.status < 500, bad + ' refused');
  }
  r = await h.request(srv, 'GET', '/api/v1/log/checkpoint');
  assert.strictEqual(r.body.toString('utf8'), latestNote, 'the refusals changed the log');

  // Restart: same key, same checkpoint, and the tree continues.
  await srv.stop();
  srv = await h.startServer({ dir: srv.dir, extraArgs: ['--origin', origin] });
  assert.strictEqual((await getJson(srv, '/api/v1/config')).json.log.verifier_key, vkey);
  r = await h.request(srv, 'GET', '/api/v1/log/checkpoint');
  assert.strictEqual(r.body.toString('utf8'), latestNote);
  const next = await submit(h.vector('basic'));
  assert.strictEqual(next.index, 50);
  leaves.push(leafOf(h.vector('basic')));
  const c51 = openCheckpoint(next.checkpoint, v);
  assert.strictEqual(c51.size, 51);
  assert.ok(c51.root.equals(mth(leaves)));
  assert.ok(verifyInclusion(50, 51, leaves[50], b64s(next.inclusion_proof), c51.root));
  const cons = await getJson(srv, '/api/v1/log/consistency?from=50&to=51');
  assert.ok(verifyConsistency(50, 51, cp.root, c51.root, b64s(cons.json.proof)));
  await srv.stop();

  // Another origin with the same database (or a replaced key) refuses to start.
  await assert.rejects(h.startServer({ dir: srv.dir, extraArgs: ['--origin', 'other.example/log'] }),
    /was started with the verifier key/);
  const keyFile = path.join(srv.data, 'log.key');
  const saved = fs.readFileSync(keyFile);
  fs.unlinkSync(keyFile);
  await assert.rejects(h.startServer({ dir: srv.dir, extraArgs: ['--origin', origin] }),
    /log\.key is missing, and this database's log was started with the verifier key\n  reports\.test\.example\/log\+/);
  assert.ok(!fs.existsSync(keyFile), 'no new key is made for an existing log');
  fs.writeFileSync(keyFile, Buffer.concat([saved.subarray(0, 40), Buffer.alloc(28)]), { mode: 0o600 });
  await assert.rejects(h.startServer({ dir: srv.dir, extraArgs: ['--origin', origin] }),
    /not a sealtip log key/);
  fs.unlinkSync(keyFile);
  fs.writeFileSync(keyFile, saved, { mode: 0o644 });
  fs.chmodSync(keyFile, 0o644);
  await assert.rejects(h.startServer({ dir: srv.dir, extraArgs: ['--origin', origin] }), /must be 0600/);
  fs.chmodSync(keyFile, 0o600);
  srv = await h.startServer({ dir: srv.dir, extraArgs: ['--origin', origin] });
  assert.strictEqual((await getJson(srv, '/api/v1/config')).json.log.verifier_key, vkey);
});

test('log: default origin warns; --print-verifier-key makes the key once', async () => {
  const dir = h.tmpdir();
  // Making the key fixes the origin: said on stderr (stdout is the key).
  const made = spawnSync(h.SEALTIPD, ['--data', path.join(dir, 'data'), '--print-verifier-key'], { encoding: 'utf8' });
  assert.strictEqual(made.status, 0, made.stderr);
  const k1 = made.stdout.trim();
  assert.match(k1, /^sealtip\.example\/log\+[0-9a-f]{8}\+/);
  assert.match(made.stderr, /^sealtipd: warning: the log origin is the default 'sealtip\.example\/log', fixed from now on; a deployment sets its own with --origin \(move log\.key and reports\.db away to start again with one\)$/m);
  const again = spawnSync(h.SEALTIPD, ['--data', path.join(dir, 'data'), '--print-verifier-key'], { encoding: 'utf8' });
  assert.deepStrictEqual([again.status, again.stdout.trim()], [0, k1]);
  assert.doesNotMatch(again.stderr, /origin/);
  assert.strictEqual(fs.statSync(path.join(dir, 'data', 'log.key')).mode & 0o777, 0o600);
  const srv = await h.startServer({ dir });
  try {
    assert.match(srv.stdout, /warning: the log origin is the default/);
    assert.strictEqual((await getJson(srv, '/api/v1/config')).json.log.verifier_key, k1);
  } finally {
    await srv.stop();
  }
  const bad = spawnSync(h.SEALTIPD, ['--data', path.join(dir, 'data'), '--origin', 'has space', '--print-verifier-key'], { encoding: 'utf8' });
  assert.notStrictEqual(bad.status, 0);

  // The database now remembers k1. Another origin, or a lost log.key, is
  // refused as start-up refuses it, and no new key is made to print.
  const keyFile = path.join(dir, 'data', 'log.key');
  const keyBytes = fs.readFileSync(keyFile);
  const other = spawnSync(h.SEALTIPD, ['--data', path.join(dir, 'data'), '--origin', 'other.example/log', '--print-verifier-key'], { encoding: 'utf8' });
  assert.deepStrictEqual([other.status, other.stdout], [1, '']);
  assert.match(other.stderr, /^sealtipd: this database's log was started with the verifier key\n {2}sealtip\.example\/log\+/m);
  fs.rmSync(keyFile);
  const lost = spawnSync(h.SEALTIPD, ['--data', path.join(dir, 'data'), '--print-verifier-key'], { encoding: 'utf8' });
  assert.deepStrictEqual([lost.status, lost.stdout], [1, '']);
  assert.match(lost.stderr, /log\.key/);
  assert.strictEqual(fs.existsSync(keyFile), false, 'a new log.key was made for a log that has one');
  fs.writeFileSync(keyFile, keyBytes, { mode: 0o600 });
  assert.strictEqual(printKey(dir), k1);
});

test('log: a database that lost entries after its checkpoint does not start', async (t) => {
  if (spawnSync('sqlite3', ['-version']).status !== 0) return t.skip('no sqlite3 command');
  let srv = await h.startServer();
  for (const n of ['basic', 'two-recipients', 'chunk-boundary']) assert.strictEqual((await h.post(srv, h.vector(n))).status, 201);
  await srv.stop();
  const q = spawnSync('sqlite3', [srv.db, 'DELETE FROM reports WHERE idx = 2'], { encoding: 'utf8' });
  assert.strictEqual(q.status, 0, q.stderr);
  await assert.rejects(h.startServer({ dir: srv.dir }), /latest checkpoint \(size 3\) does not match the 2 stored entries/);
});

// ---- sealtipd's log lines (stdout, stderr) ----

// What journald would stamp with the time: no line may come when a report
// or a refused upload does. Reports, refusals and failures are counted and
// said at the stop (and at each UTC hour's or day's end: clock.test.js).
async function countsAtStop() {
  const TOKEN = 'log-test-token-0123456789';
  const good = ['basic', 'two-recipients', 'hostile-names'].map(h.vector);
  const goodBytes = good.reduce((n, e) => n + e.length, 0);
  const srv = await h.startServer({ token: TOKEN, extraArgs: ['--max-stored-bytes', String(goodBytes + 100)] });
  const startOut = srv.stdout, startErr = srv.stderr;
  const at = new Date().toISOString();
  try {
    assert.strictEqual((await h.post(srv, h.vector('bad-truncated'))).status, 422);
    assert.strictEqual((await h.post(srv, h.vector('bad-nrecip-0'))).status, 422);
    assert.strictEqual((await h.post(srv, h.vector('bad-truncated'))).status, 422);
    for (const e of good) assert.strictEqual((await h.post(srv, e)).status, 201);
    const full = await h.post(srv, h.vector('basic'));
    assert.strictEqual(full.status, 507);
    assert.strictEqual(JSON.parse(full.body).error, 'quota_full');
    const exp = await h.request(srv, 'GET', '/api/v1/export', { headers: { Authorization: 'Bearer ' + TOKEN } });
    assert.strictEqual(exp.status, 200);
    // Time for a line to arrive, were one written: only the export's, and
    // without a count (the log's size at a known time would date reports).
    await h.sleep(300);
    assert.strictEqual(srv.stdout, startOut + 'sealtipd: export started\n');
    assert.strictEqual(srv.stderr, startErr);
  } finally {
    await srv.stop();
  }
  return { srv, startOut, startErr, at, end: new Date().toISOString(), goodBytes };
}

test('server log: no line when a report comes or is refused; the counts at the stop', async () => {
  // An hour that ends during the run splits the counts over two lines:
  // then once more (the run takes a second or two).
  let run = await countsAtStop();
  if (run.at.slice(0, 13) !== run.end.slice(0, 13)) run = await countsAtStop();
  const { srv, startOut, startErr, goodBytes } = run;
  const day = run.end.slice(0, 10), hour = run.end.slice(11, 13) + ':00';
  assert.strictEqual(srv.stdout.slice(0, startOut.length), startOut);
  assert.strictEqual(srv.stdout.slice(startOut.length),
    'sealtipd: export started\n' +
    'sealtipd: stopping\n' +
    `sealtipd: ${day} to the stop: 3 reports stored, ${goodBytes} bytes\n` +
    `sealtipd: ${day} to the stop: report refused: 422 bad_recipient_count (1 time)\n` +
    `sealtipd: ${day} to the stop: report refused: 422 not_padded (2 times)\n` +
    'sealtipd: stopped; 3 reports stored in 3 commits\n' +
    'sealtipd: connections cut: 0 at the header deadline, 0 over the waiting budget\n');
  // A full quota is for the operator to act on: by the hour, on stderr.
  assert.strictEqual(srv.stderr.slice(0, startErr.length), startErr);
  assert.strictEqual(srv.stderr.slice(startErr.length),
    `sealtipd: ${day} ${hour} UTC to the stop: report refused: 507 quota_full (1 time)\n`);
  // The counts are the database's: three reports of that day, those bytes.
  const entries = h.parseExport(h.exportDb(srv.db).file).entries;
  assert.deepStrictEqual(entries.map((e) => e.day), [day, day, day]);
  assert.strictEqual(entries.reduce((n, e) => n + e.size, 0), goodBytes);
});
