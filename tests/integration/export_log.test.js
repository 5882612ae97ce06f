// Export files carry the log's proof (docs/export.md): `sealtip open` checks
// every entry against the signed checkpoint, remembers the log per output
// folder, warns about held-back indexes and refuses rollbacks, forks, forged
// entries and foreign keys; `sealtip audit EXPORTFILE` checks the same offline.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';

function seal(dir, pub, i) {
  const out = path.join(dir, 'r' + i + '.env');
  const r = h.runTool(['seal', '-r', pub, '-o', out, '--field', 'what=report number ' + i], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return fs.readFileSync(out);
}

function exportTo(dir, name, db, args = []) {
  const out = path.join(dir, name);
  const r = h.runTool(['export', '--db', db, '-o', out].concat(args), { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return out;
}

// Recomputes the end record's digest after an edit of the bytes before it.
function redigest(buf) {
  const end = buf.length - 41;
  h.sha256(buf.subarray(0, end + 9)).copy(buf, end + 9);
  return buf;
}

// A C2SP checkpoint note signed by a fresh Ed25519 key named origin.
function foreignNote(origin, size, root) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const pk = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const id = h.sha256(Buffer.concat([Buffer.from(origin + '\n'), Buffer.from([1]), pk])).subarray(0, 4);
  const text = origin + '\n' + size + '\n' + root.toString('base64') + '\n';
  const sig = crypto.sign(null, Buffer.from(text), privateKey);
  const note = text + '\n\u2014 ' + origin + ' ' + Buffer.concat([id, sig]).toString('base64') + '\n';
  const vkey = origin + '+' + id.toString('hex') + '+' + Buffer.concat([Buffer.from([1]), pk]).toString('base64');
  return { note, vkey };
}

// The same export with another key's checkpoint over the same tree.
function resign(buf) {
  const ex = h.parseExport(buf);
  const origin = ex.checkpoint.split('\n')[0];
  const root = Buffer.from(ex.checkpoint.split('\n')[2], 'base64');
  const f = foreignNote(origin, ex.treeSize, root);
  const head = Buffer.alloc(38);
  buf.copy(head, 0, 0, 38);
  head.writeUInt16LE(f.vkey.length, 25);
  head.writeUInt16LE(Buffer.byteLength(f.note), 27);
  const rest = buf.subarray(38 + ex.verifierKey.length + Buffer.byteLength(ex.checkpoint));
  return redigest(Buffer.concat([head, Buffer.from(f.vkey), Buffer.from(f.note), rest]));
}

function open(key, outDir, input, extra = []) {
  return h.runTool(['open', '-k', key, '-o', outDir].concat(extra, [input]), { encoding: 'utf8' });
}

function reportDirs(dir) {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith('report-')).sort() : [];
}

test('export log: open verifies, remembers, warns about gaps, refuses forgeries, rollbacks and forks', async (t) => {
  const dir = h.tmpdir('sealtip-xlog-');
  assert.strictEqual(h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]).status, 0);
  const pub = path.join(dir, 'inv.pub');
  const key = path.join(dir, 'inv.key');
  const envs = [0, 1, 2].map((i) => seal(dir, pub, i));
  const srv = await h.startServer({ recipients: [pub] });
  t.after(() => srv.stop());
  const vkey = JSON.parse((await h.request(srv, 'GET', '/api/v1/config')).body).log.verifier_key;
  const receipts = [];
  const post = async (n) => {
    for (let i = 0; i < n; i++) {
      const res = await h.post(srv, envs[i % 3]);
      assert.strictEqual(res.status, 201);
      receipts.push(JSON.parse(res.body));
    }
  };

  await post(5);
  const all5 = exportTo(dir, 'all5.bin', srv.db);
  const ex5 = h.parseExport(fs.readFileSync(all5));
  assert.strictEqual(ex5.treeSize, 5);
  assert.strictEqual(ex5.verifierKey, vkey);
  assert.match(ex5.checkpoint, /\n5\n/);
  assert.strictEqual(ex5.frontier.length, 0);

  // 1. The whole log, with the published key: verified, remembered.
  const inbox = path.join(dir, 'inbox');
  let r = open(key, inbox, all5, ['--verifier-key', vkey]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /opened 5 reports, indexes 0 to 4/);
  assert.match(r.stdout, /log verified: checkpoint of 5 entries signed by /);
  assert.strictEqual(r.stderr, `sealtip: warning: ${key} is not protected by a passphrase\n`);
  let state = fs.readFileSync(path.join(inbox, '.sealtip-log'), 'utf8');
  assert.match(state, /^sealtip-log 1\nkey .+\nsize 5\nroot [A-Za-z0-9+/=]{44}\nlast 4\n$/);
  assert.strictEqual(fs.statSync(path.join(inbox, '.sealtip-log')).mode & 0o777, 0o600);

  // 2. --after 4: checked through the frontier of leaves 0..4, key remembered.
  await post(3);
  const after4 = exportTo(dir, 'after4.bin', srv.db, ['--after', '4']);
  const exA = h.parseExport(fs.readFileSync(after4));
  assert.deepStrictEqual([exA.firstIndex, exA.treeSize, exA.frontier.length, exA.entries.length], [5, 8, 2, 3]);
  r = open(key, inbox, after4);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /opened 3 reports, indexes 5 to 7/);
  assert.strictEqual(r.stderr, `sealtip: warning: ${key} is not protected by a passphrase\n`);
  assert.match(fs.readFileSync(path.join(inbox, '.sealtip-log'), 'utf8'), /size 8\n.*\nlast 7\n$/s);

  // 3. A gap: index 8 never opened. Loud warning naming it, exit 0; the
  // consistency proof from size 8 (--since-size) checks the new checkpoint.
  await post(3);
  const state8 = fs.readFileSync(path.join(inbox, '.sealtip-log'));
  const withState8 = (name) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, '.sealtip-log'), state8, { mode: 0o600 });
    return d;
  };
  const after8 = exportTo(dir, 'after8.bin', srv.db, ['--after', '8', '--since-size', '8']);
  assert.strictEqual(h.parseExport(fs.readFileSync(after8)).proofSize, 8);
  r = open(key, inbox, after8);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /WARNING: .*after8\.bin: reports 8 to 8 were never opened into .*inbox: this export starts at 9/);
  assert.match(r.stderr, /sealtip export --after 7/);
  assert.doesNotMatch(r.stderr, /cannot check/);
  assert.deepStrictEqual(reportDirs(inbox).length, 10);
  // Without the proof the new checkpoint cannot be linked to the old one: said.
  const noProof = exportTo(dir, 'noproof.bin', srv.db, ['--after', '8']);
  assert.strictEqual(h.parseExport(fs.readFileSync(noProof)).proof.length, 0);
  let d = withState8('noproof');
  r = open(key, d, noProof);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /WARNING: .*noproof\.bin: cannot check that the log's checkpoint of 11 extends the one of 8 remembered in .*\(export with --since-size 8\)/);
  assert.match(r.stderr, /reports 8 to 8 were never opened/);
  // A proof that does not hold: the fork error, nothing written, state kept.
  const badProof = Buffer.from(fs.readFileSync(after8));
  const p8 = h.parseExport(badProof);
  assert.ok(p8.proof.length > 0);
  const proofAt = 38 + p8.verifierKey.length + Buffer.byteLength(p8.checkpoint) + 32 * p8.frontier.length;
  badProof[proofAt + 5] ^= 1;
  fs.writeFileSync(path.join(dir, 'badproof.bin'), redigest(badProof));
  d = withState8('badproof');
  r = open(key, d, path.join(dir, 'badproof.bin'));
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /badproof\.bin: the log was forked or rewritten: its tree of 11 entries does not contain the signed tree of 8/);
  assert.deepStrictEqual(fs.readdirSync(d), ['.sealtip-log']);
  assert.ok(fs.readFileSync(path.join(d, '.sealtip-log')).equals(state8));

  // 4. A rolled-back log: the 5-entry export again after 11 were seen.
  const before = fs.readFileSync(path.join(inbox, '.sealtip-log'));
  const rb = path.join(dir, 'rolled');
  fs.mkdirSync(rb);
  fs.copyFileSync(path.join(inbox, '.sealtip-log'), path.join(rb, '.sealtip-log'));
  r = open(key, rb, all5);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /the log was rolled back: its checkpoint has 5 entries, .* remembers a signed checkpoint of 11; no report from it was kept/);
  assert.deepStrictEqual(fs.readdirSync(rb), ['.sealtip-log']);
  assert.ok(fs.readFileSync(path.join(rb, '.sealtip-log')).equals(before));

  // 5. A forged entry: one envelope byte changed, its leaf hash and the file
  // digest recomputed, so only the signed root can tell.
  const all11 = fs.readFileSync(exportTo(dir, 'all11.bin', srv.db));
  const forged = Buffer.from(all11);
  const e3 = h.parseExport(forged).entries[3];
  forged[e3.offset + 59 + 100] ^= 1;
  const env3 = forged.subarray(e3.offset + 59, e3.offset + 59 + e3.size);
  Buffer.from(h.leafHash(env3), 'base64').copy(forged, e3.offset + 27);
  redigest(forged);
  fs.writeFileSync(path.join(dir, 'forged.bin'), forged);
  const fresh = path.join(dir, 'fresh');
  r = open(key, fresh, path.join(dir, 'forged.bin'), ['--verifier-key', vkey]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /forged\.bin: the entries do not give the signed checkpoint's root: an entry was altered, added or left out; no report from it was kept/);
  assert.strictEqual(fs.existsSync(fresh), false, 'a folder open made for nothing is removed');

  // 6. A checkpoint signed by another key: refused against the given key and
  // against the remembered one; nothing written, state unchanged.
  fs.writeFileSync(path.join(dir, 'resigned.bin'), resign(Buffer.from(all11)));
  r = open(key, fresh, path.join(dir, 'resigned.bin'), ['--verifier-key', vkey]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /the checkpoint is signed by .*, not by the trusted log key /);
  assert.strictEqual(fs.existsSync(fresh), false, 'a folder open made for nothing is removed');
  r = open(key, rb, path.join(dir, 'resigned.bin'));
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /not by the trusted log key/);
  assert.deepStrictEqual(fs.readdirSync(rb), ['.sealtip-log']);
  // A given key that differs from the remembered one is refused outright.
  r = open(key, rb, all5, ['--verifier-key', foreignNote('other', 1, Buffer.alloc(32)).vkey]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /--verifier-key differs from the log key/);

  // 7. First use without a key: trusted with a loud note.
  const tofu = path.join(dir, 'tofu');
  r = open(key, tofu, all5);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /NOTE: .*no log key given or remembered .*trusting the one the file names/);

  // 8. A fork: another server with the same log key but other entries, at
  // the size the folder last saw. sealtipd refuses a log.key without the
  // database that recorded it, so the forger copies both and empties the
  // log's tables.
  const forkDir = h.tmpdir('sealtip-fork-');
  fs.mkdirSync(path.join(forkDir, 'data'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(path.join(srv.data, 'log.key'), path.join(forkDir, 'data', 'log.key'));
  fs.chmodSync(path.join(forkDir, 'data', 'log.key'), 0o600);
  sql(srv.db, `.backup '${path.join(forkDir, 'data', 'reports.db')}'`);
  sql(path.join(forkDir, 'data', 'reports.db'), 'DELETE FROM reports; DELETE FROM tree_nodes; DELETE FROM checkpoints;');
  const fork = await h.startServer({ dir: forkDir, recipients: [pub] });
  t.after(() => fork.stop());
  for (let i = 0; i < 11; i++) assert.strictEqual((await h.post(fork, envs[(i + 1) % 3])).status, 201);
  const forked = exportTo(dir, 'forked.bin', fork.db);
  assert.strictEqual(h.parseExport(fs.readFileSync(forked)).verifierKey, vkey);
  const fk = path.join(dir, 'forkcheck');
  fs.mkdirSync(fk);
  fs.copyFileSync(path.join(inbox, '.sealtip-log'), path.join(fk, '.sealtip-log'));
  r = open(key, fk, forked);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /the log was forked or rewritten: its tree of 11 entries does not contain the signed tree of 11/);
  assert.deepStrictEqual(fs.readdirSync(fk), ['.sealtip-log']);

  // 9. audit EXPORTFILE: passes on the real export, names the entry of a
  // tampered one, checks given checkpoints within the file's range.
  const cpFile = path.join(dir, 'cp8.txt');
  fs.writeFileSync(cpFile, h.parseExport(fs.readFileSync(after4)).checkpoint);
  r = h.runTool(['audit', path.join(dir, 'all11.bin'), '--verifier-key', vkey, '--recipient', pub, '--checkpoint', cpFile], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /^audit ok: .*all11\.bin: export of 11 entries \(indexes 0 to 10\) of a log of 11, \d+ bytes, days \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(no signature covers them\), 1 recipient key id, checkpoint signature and root verified, 1 given checkpoint verified, 0 not checkable from this file\nlog key: the given --verifier-key\n$/);
  r = h.runTool(['audit', after8, '--verifier-key', vkey, '--checkpoint', cpFile], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 given checkpoint verified, 0 not checkable/);
  // A reporter's receipt: its checkpoint and its entry's leaf hash.
  const rc3 = path.join(dir, 'receipt3.json');
  fs.writeFileSync(rc3, JSON.stringify(receipts[3]));
  r = h.runTool(['audit', path.join(dir, 'all11.bin'), '--verifier-key', vkey, '--checkpoint', rc3], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 given checkpoint verified, 0 not checkable/);
  // A receipt that lies about its leaf: its own proof refutes it first;
  // without the proof, the entry in the file does.
  const lied = Object.assign({}, receipts[3], { leaf_hash: receipts[4].leaf_hash });
  fs.writeFileSync(path.join(dir, 'lied.json'), JSON.stringify(lied));
  r = h.runTool(['audit', path.join(dir, 'all11.bin'), '--verifier-key', vkey, '--checkpoint', path.join(dir, 'lied.json')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /lied\.json: receipt: its inclusion proof of entry 3 does not verify against its own checkpoint at size 4$/m);
  delete lied.inclusion_proof;
  fs.writeFileSync(path.join(dir, 'lied.json'), JSON.stringify(lied));
  r = h.runTool(['audit', path.join(dir, 'all11.bin'), '--verifier-key', vkey, '--checkpoint', path.join(dir, 'lied.json')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /all11\.bin: entry 3: not the report the receipt .*lied\.json was issued for \(its leaf_hash differs\)/);
  // A file that starts after entry 3 verifies the receipts' checkpoint of
  // size 4, not the entry: only the receipt's own proof can show its claim.
  // Without it, the receipt is not checkable from this file, true or not.
  const after3 = exportTo(dir, 'after3.bin', srv.db, ['--after', '3']);
  assert.strictEqual(h.parseExport(fs.readFileSync(after3)).firstIndex, 4);
  r = h.runTool(['audit', after3, '--verifier-key', vkey, '--checkpoint', path.join(dir, 'lied.json')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /, 0 given checkpoints verified, 1 not checkable from this file\n/);
  const unproved = Object.assign({}, receipts[3]);
  delete unproved.inclusion_proof;
  fs.writeFileSync(path.join(dir, 'unproved.json'), JSON.stringify(unproved));
  r = h.runTool(['audit', after3, '--verifier-key', vkey, '--checkpoint', path.join(dir, 'unproved.json')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /, 0 given checkpoints verified, 1 not checkable from this file\n/);
  r = h.runTool(['audit', after3, '--verifier-key', vkey, '--checkpoint', rc3], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /, 1 given checkpoint verified, 0 not checkable from this file\n/);
  // The real log's checkpoint of 8 against the fork: another tree.
  r = h.runTool(['audit', forked, '--verifier-key', vkey, '--checkpoint', cpFile], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /checkpoint at size 8 \(.*cp8\.txt\): the entries of this export give another tree: the log was forked or rewritten/);
  // Beyond the file's checkpoint, or below its first entry without a proof: counted, not checked.
  r = h.runTool(['audit', all5, '--verifier-key', vkey, '--checkpoint', cpFile], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /0 given checkpoints verified, 1 not checkable from this file/);
  r = h.runTool(['audit', after4, '--checkpoint', cpFile], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 given checkpoint verified, 0 not checkable/);
  assert.match(r.stdout, /log key: the key the file names/);
  // A checkpoint file signed by another key is refused.
  const alien = foreignNote(ex5.checkpoint.split('\n')[0], 8, Buffer.alloc(32));
  fs.writeFileSync(path.join(dir, 'alien.txt'), alien.note);
  r = h.runTool(['audit', after4, '--verifier-key', vkey, '--checkpoint', path.join(dir, 'alien.txt')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /alien\.txt: checkpoint: does not verify with the log key: .*signed by another key/);
  const flipped = Buffer.from(all11);
  flipped[e3.offset + 59 + 100] ^= 1;
  fs.writeFileSync(path.join(dir, 'flipped.bin'), flipped);
  r = h.runTool(['audit', path.join(dir, 'flipped.bin'), '--verifier-key', vkey], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /audit: .*flipped\.bin: entry 3: leaf hash does not match its envelope/);
  r = h.runTool(['audit', path.join(dir, 'forged.bin'), '--verifier-key', vkey], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /the entries do not give the signed checkpoint's root/);
  r = h.runTool(['audit', path.join(dir, 'resigned.bin'), '--verifier-key', vkey], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /log key replaced/);
  r = h.runTool(['audit', all5, '--verifier-key', vkey, '--recipient', path.join(h.VECTORS, 'alice.pub')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /entry 0: recipient key id [0-9a-f]+ was never a recipient|alice\.pub/);
});

function sql(db, statements) {
  const r = spawnSync('sqlite3', ['-bail', db], { input: statements, encoding: 'utf8' });
  if (r.status !== 0) throw new Error('sqlite3 failed: ' + r.stderr);
  return r.stdout.trim();
}

test('export log: which checkpoint a database copy gives, and what is refused', async (t) => {
  const dir = h.tmpdir('sealtip-xdb-');
  const srv = await h.startServer();
  t.after(() => srv.stop());
  for (let i = 0; i < 3; i++) assert.strictEqual((await h.post(srv, h.vector(h.GOOD[i]))).status, 201);
  await srv.stop();
  const copy = (name) => { const f = path.join(dir, name + '.db'); fs.copyFileSync(srv.db, f); return f; };

  // A row no checkpoint covers (appended behind the server's back): left out, said.
  const extra = copy('extra');
  const env = h.vector(h.GOOD[3]);
  sql(extra, `INSERT INTO reports (idx, day, size, leaf_hash, envelope) VALUES (3, '2026-11-28', ${env.length}, x'${Buffer.from(h.leafHash(env), 'base64').toString('hex')}', x'${env.toString('hex')}');`);
  let r = h.runTool(['export', '--db', extra, '-o', path.join(dir, 'extra.bin')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout.split('\n')[1], '1 newer report not yet under a signed checkpoint left for the next export');
  const ex = h.parseExport(fs.readFileSync(path.join(dir, 'extra.bin')));
  assert.deepStrictEqual([ex.treeSize, ex.entries.length], [3, 3]);
  r = h.runTool(['export', '--db', extra, '--after', '2', '-o', path.join(dir, 'extra-after.bin')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /^exported no reports \(the signed log holds 3\)/);

  // No checkpoint at all, or one the stored key did not sign: no file.
  const none = copy('none');
  sql(none, 'DELETE FROM checkpoints;');
  r = h.runTool(['export', '--db', none, '-o', path.join(dir, 'none.bin')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /none\.db: no signed checkpoint covers the stored reports\n$/);
  const rekeyed = copy('rekeyed');
  sql(rekeyed, "UPDATE meta SET value = 'fuzz.example/sealtip+fb2cef24+AUJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC' WHERE key = 'log_verifier_key';");
  r = h.runTool(['export', '--db', rekeyed, '-o', path.join(dir, 'rekeyed.bin')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /the stored checkpoint does not verify with meta\.log_verifier_key/);
  // A row replaced by another, its hash with it: each row is consistent, the
  // tree is not the signed one. No file.
  const badroot = copy('badroot');
  sql(badroot, 'UPDATE reports SET envelope = (SELECT envelope FROM reports WHERE idx = 0), leaf_hash = (SELECT leaf_hash FROM reports WHERE idx = 0), size = (SELECT size FROM reports WHERE idx = 0) WHERE idx = 1;');
  r = h.runTool(['export', '--db', badroot, '-o', path.join(dir, 'badroot.bin')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /badroot\.db: the reports do not give the signed checkpoint's root \(checkpoint of 3 entries\): the database does not hold the tree it signed\n$/);
  assert.deepStrictEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.bin')).sort(), ['extra-after.bin', 'extra.bin']);

  // An empty log: the server signs size 0 at its first start.
  const empty = await h.startServer();
  t.after(() => empty.stop());
  await empty.stop();
  r = h.runTool(['export', '--db', empty.db, '-o', path.join(dir, 'empty.bin')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  const ee = h.parseExport(fs.readFileSync(path.join(dir, 'empty.bin')));
  assert.deepStrictEqual([ee.treeSize, ee.entries.length, ee.frontier.length], [0, 0, 0]);
  assert.match(ee.checkpoint, /^[^\n]+\n0\n47DEQpj8HBSa\+\/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n/); // SHA-256 of nothing
  assert.strictEqual(h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]).status, 0);
  r = h.runTool(['open', '-k', path.join(dir, 'inv.key'), '-o', path.join(dir, 'eo'), path.join(dir, 'empty.bin')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /empty\.bin: no report opened \(0 entries\)\n.*empty\.bin: log verified: checkpoint of 0 entries signed by /);
  assert.match(fs.readFileSync(path.join(dir, 'eo', '.sealtip-log'), 'utf8'), /\nsize 0\n.*\nlast none\n$/s);
});
