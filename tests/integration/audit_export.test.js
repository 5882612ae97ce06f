// sealtip audit EXPORTFILE on what only someone handling the file could make
// of a real export: days changed with the digest recomputed (a day that is no
// date is refused; a real date passes, since no signature covers the days,
// and the summary says so), and a hand-made unsigned empty file (refused:
// sealtipd signs even an empty log). The audit writes nothing.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';

const ALICE = path.join(h.VECTORS, 'alice.pub');
const ctx = {};

// Recomputes the end record's digest after an edit of the bytes before it.
function redigest(buf) {
  const end = buf.length - 41;
  h.sha256(buf.subarray(0, end + 9)).copy(buf, end + 9);
  return buf;
}

// Writes buf into a fresh folder, audits it, and checks the folder and the
// file are as they were.
function auditFile(name, buf, extra = []) {
  const dir = h.tmpdir('sealtip-auditx-');
  const file = path.join(dir, name);
  fs.writeFileSync(file, buf);
  const r = h.runTool(['audit', file].concat(extra), { encoding: 'utf8' });
  assert.deepStrictEqual(fs.readdirSync(dir), [name]);
  assert.ok(fs.readFileSync(file).equals(buf));
  return Object.assign(r, { file });
}

test.before(async () => {
  const srv = await h.startServer({ recipients: ['alice'] });
  ctx.vkey = /^log verifier key (\S+)$/m.exec(srv.stdout)[1];
  ctx.dir = h.tmpdir('sealtip-auditx-src-');
  for (let i = 0; i < 3; i++) {
    const out = path.join(ctx.dir, 'r' + i + '.env');
    const r = h.runTool(['seal', '-r', ALICE, '--field', 'what=report ' + i, '-o', out]);
    assert.strictEqual(r.status, 0, r.stderr);
    const res = await h.post(srv, fs.readFileSync(out));
    assert.strictEqual(res.status, 201, res.body.toString());
  }
  await srv.stop();
  ctx.export = h.exportDb(srv.db).file;
  // The log's checkpoint of 3 entries, as an auditor would have kept it.
  ctx.cp3 = path.join(ctx.dir, 'checkpoint-3.txt');
  const ex = h.parseExport(ctx.export);
  assert.strictEqual(ex.treeSize, 3);
  fs.writeFileSync(ctx.cp3, ex.checkpoint);
  // A log that never had a report: sealtipd signed its empty tree.
  const empty = await h.startServer({ recipients: ['alice'] });
  ctx.emptyKey = /^log verifier key (\S+)$/m.exec(empty.stdout)[1];
  await empty.stop();
  ctx.emptyExport = h.exportDb(empty.db).file;
});

test('audit EXPORTFILE: the untouched export passes, and says the days are not signed', () => {
  const r = auditFile('all.bin', ctx.export, ['--verifier-key', ctx.vkey, '--recipient', ALICE, '--checkpoint', ctx.cp3]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stderr, '');
  const day = h.parseExport(ctx.export).entries[0].day;
  assert.strictEqual(r.stdout, `audit ok: ${r.file}: export of 3 entries (indexes 0 to 2) of a log of 3, ` +
    `${h.parseExport(ctx.export).entries.reduce((n, e) => n + e.size, 0)} bytes, ` +
    `days ${day} to ${day} (no signature covers them), 1 recipient key id, ` +
    'checkpoint signature and root verified, 1 given checkpoint verified, 0 not checkable from this file\n' +
    'log key: the given --verifier-key\n');
});

test('audit EXPORTFILE: a day that is no date is refused, as in the database audit', () => {
  const entries = h.parseExport(ctx.export).entries;
  for (const day of ['2026-02-29', '2026-04-31', '2026-02-31']) {
    // In order with the days around it, so only the calendar can tell.
    const buf = Buffer.from(ctx.export);
    buf.write('2026-01-01', entries[0].offset + 9, 'latin1');
    buf.write(day, entries[1].offset + 9, 'latin1');
    buf.write('2026-05-01', entries[2].offset + 9, 'latin1');
    const r = auditFile('day.bin', redigest(buf), ['--verifier-key', ctx.vkey]);
    assert.strictEqual(r.status, 1, day + ': ' + r.stdout);
    assert.strictEqual(r.stdout, '');
    assert.strictEqual(r.stderr, `sealtip: audit: ${r.file}: entry 1: day is not a valid YYYY-MM-DD day\n`);
  }
  // A real date passes: the days are the server's word, which no signature
  // covers, and anyone handling the file can change them and the digest.
  const buf = Buffer.from(ctx.export);
  for (const e of entries) buf.write('2024-02-29', e.offset + 9, 'latin1');
  const r = auditFile('leap.bin', redigest(buf), ['--verifier-key', ctx.vkey]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stderr, '');
  assert.match(r.stdout, /, days 2024-02-29 to 2024-02-29 \(no signature covers them\), /);
});

test('audit EXPORTFILE: a hand-made unsigned empty export is refused', () => {
  // Header (no key, no checkpoint, tree size 0) and end record: what the
  // reader would take for an empty log.
  const head = Buffer.alloc(38);
  head.write('sealtipE', 0, 'latin1');
  head[8] = 2;
  const end = Buffer.alloc(41);
  end[0] = 0xff;
  const buf = redigest(Buffer.concat([head, end]));
  const line = (file) => `sealtip: audit: ${file}: no signed checkpoint: an unsigned export proves nothing about the log ` +
    '(sealtipd signs even an empty log\'s tree at its first start)\n';
  for (const extra of [['--verifier-key', ctx.vkey, '--checkpoint', ctx.cp3], ['--verifier-key', ctx.vkey], []]) {
    const r = auditFile('unsigned.bin', buf, extra);
    assert.strictEqual(r.status, 1, extra.join(' ') + ': ' + r.stdout);
    assert.strictEqual(r.stdout, '');
    assert.strictEqual(r.stderr, line(r.file));
  }
  // What sealtipd's empty log exports carries its signed empty tree.
  assert.ok(h.parseExport(ctx.emptyExport).checkpoint.length > 0);
  const r = auditFile('empty.bin', ctx.emptyExport, ['--verifier-key', ctx.emptyKey]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, `audit ok: ${r.file}: export of 0 entries of a log of 0, 0 bytes, 0 recipient key ids, ` +
    'checkpoint signature and root verified, 0 given checkpoints verified, 0 not checkable from this file\n' +
    'log key: the given --verifier-key\n');
});
