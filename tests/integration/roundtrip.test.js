// The whole path: sealtip seal → POST → sealtip export → sealtip open gives
// back the exact fields and files.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';

test('round trip: seal, submit, export, open', async (t) => {
  const dir = h.tmpdir('sealtip-rt-');
  const kg = h.runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]);
  assert.strictEqual(kg.status, 0, kg.stderr);
  const srv = await h.startServer({ recipients: [path.join(dir, 'inv.pub')] });
  t.after(() => srv.stop());

  const big = crypto.randomBytes(200000); // crosses several 64 KiB chunks
  fs.writeFileSync(path.join(dir, 'ledger.bin'), big);
  fs.writeFileSync(path.join(dir, 'note.txt'), 'paid at the checkpoint\n');
  const reports = [
    { fields: { what: 'The officer asked for $300 to release the truck', demanded: 'cash' }, files: [] },
    { fields: { what: 'មន្ត្រីបានទាមទារនាឡិកា Rolex', place: 'Phnom Penh', demanded: ['goods', 'other'] }, files: ['ledger.bin', 'note.txt'] },
    { fields: { what: 'An iPhone "gift" was demanded to stop a deportation' }, files: ['note.txt'] },
  ];
  const receipts = [];
  for (const [i, rep] of reports.entries()) {
    const out = path.join(dir, 'r' + i + '.env');
    const args = ['seal', '-r', path.join(dir, 'inv.pub'), '-o', out];
    for (const [k, v] of Object.entries(rep.fields))
      for (const one of [].concat(v)) args.push('--field', k + '=' + one);
    for (const f of rep.files) args.push('--file', path.join(dir, f));
    const r = h.runTool(args, { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const env = fs.readFileSync(out);
    const res = await h.post(srv, env);
    assert.strictEqual(res.status, 201, String(res.body));
    const receipt = JSON.parse(res.body);
    assert.strictEqual(receipt.leaf_hash, h.leafHash(env));
    receipts.push(receipt);
  }

  // Export while the server runs, then open each stored envelope offline.
  const ex = h.parseExport(h.exportDb(srv.db, { check: true }).file);
  assert.strictEqual(ex.entries.length, reports.length);
  const envDir = path.join(dir, 'exported');
  fs.mkdirSync(envDir);
  for (const e of ex.entries) fs.writeFileSync(path.join(envDir, String(e.index).padStart(6, '0') + '.env'), e.envelope);
  const outDir = path.join(dir, 'opened');
  const inputs = ex.entries.map((e) => path.join(envDir, String(e.index).padStart(6, '0') + '.env'));
  const op = h.runTool(['open', '-k', path.join(dir, 'inv.key'), '-o', outDir].concat(inputs), { encoding: 'utf8' });
  assert.strictEqual(op.status, 0, op.stderr);
  for (const [i, rep] of reports.entries()) {
    const folder = path.join(outDir, String(receipts[i].index).padStart(6, '0'));
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'report.json'), 'utf8'));
    for (const [k, v] of Object.entries(rep.fields)) assert.deepStrictEqual(manifest.fields[k], v, k);
    assert.deepStrictEqual(manifest.files.map((f) => f.name), rep.files);
    const got = fs.readdirSync(path.join(folder, 'files')).sort();
    assert.strictEqual(got.length, rep.files.length);
    for (const f of rep.files) {
      const match = got.find((g) => g.endsWith(f));
      assert.ok(match, f + ' missing in ' + got);
      assert.ok(fs.readFileSync(path.join(folder, 'files', match)).equals(fs.readFileSync(path.join(dir, f))), f);
    }
  }

  // The export file itself opens too: one folder per index, same bytes.
  const exportFile = path.join(dir, 'export.bin');
  fs.writeFileSync(exportFile, h.exportDb(srv.db, {}).file);
  const direct = path.join(dir, 'direct');
  const od = h.runTool(['open', '-k', path.join(dir, 'inv.key'), '-o', direct, exportFile], { encoding: 'utf8' });
  assert.strictEqual(od.status, 0, od.stderr);
  assert.match(od.stdout, /opened 3 reports, indexes 0 to 2, into /);
  for (const r of receipts) {
    const a = path.join(direct, 'report-' + String(r.index).padStart(6, '0'));
    const b = path.join(outDir, String(r.index).padStart(6, '0'));
    assert.ok(fs.readFileSync(path.join(a, 'report.json')).equals(fs.readFileSync(path.join(b, 'report.json'))));
    assert.deepStrictEqual(fs.readdirSync(path.join(a, 'files')).sort(), fs.readdirSync(path.join(b, 'files')).sort());
  }

  // A damaged or cut export leaves nothing behind, and says which entry.
  const bytes = fs.readFileSync(exportFile);
  const flipped = Buffer.from(bytes);
  flipped[h.parseExport(bytes).entries[0].offset + 59 + 100] ^= 1; // inside the first entry's envelope
  const cut = bytes.subarray(0, bytes.length - 10);
  for (const [name, data, reason] of [['flipped.bin', flipped, /entry 0/], ['cut.bin', cut, /truncated|end/]]) {
    fs.writeFileSync(path.join(dir, name), data);
    const empty = path.join(dir, 'empty-' + name);
    fs.mkdirSync(empty);
    const bad = h.runTool(['open', '-k', path.join(dir, 'inv.key'), '-o', empty, path.join(dir, name)], { encoding: 'utf8' });
    assert.strictEqual(bad.status, 1, name);
    assert.match(bad.stderr, reason, name);
    assert.match(bad.stderr, new RegExp(name));
    assert.deepStrictEqual(fs.readdirSync(empty), [], name + ': nothing may be written');
  }
});
