// POST /api/v1/reports against the real sealtipd: receipts, stored bytes,
// concurrency, and GET /api/v1/config.
import test from 'node:test';
import assert from 'node:assert';
import * as h from './helpers.js';

test('reports: each shared vector is stored byte for byte with a receipt', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const today = new Date().toISOString().slice(0, 10);
  const sent = [];
  for (const name of h.GOOD) {
    const env = h.vector(name);
    const r = await h.post(srv, env);
    assert.strictEqual(r.status, 201, name + ': ' + r.body);
    assert.match(r.headers['content-type'], /^application\/json/);
    const receipt = JSON.parse(r.body);
    assert.deepStrictEqual(Object.keys(receipt).sort(),
      ['checkpoint', 'day', 'inclusion_proof', 'index', 'leaf_hash', 'size', 'tree_size']);
    assert.strictEqual(receipt.index, sent.length);
    assert.strictEqual(receipt.size, env.length);
    assert.strictEqual(receipt.leaf_hash, h.leafHash(env));
    // The day of the server's clock in UTC; allow a midnight crossing.
    assert.match(receipt.day, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(Math.abs(Date.parse(receipt.day) - Date.parse(today)) <= 86400000);
    sent.push({ env, receipt });
  }
  const ex = h.parseExport(h.exportDb(srv.db, { check: true }).file);
  assert.strictEqual(ex.entries.length, sent.length);
  assert.strictEqual(ex.treeSize, sent.length);
  for (const { env, receipt } of sent) {
    const e = ex.entries[receipt.index];
    assert.ok(e.envelope.equals(env), 'stored bytes differ at ' + receipt.index);
    assert.strictEqual(e.leaf, receipt.leaf_hash);
    assert.strictEqual(e.day, receipt.day);
  }
  // --after N gives only the later ones.
  const tail = h.parseExport(h.exportDb(srv.db, { after: 1 }).file);
  assert.strictEqual(tail.firstIndex, 2);
  assert.deepStrictEqual(tail.entries.map((e) => e.index), [2, 3]);
});

test('reports: 50 concurrent submissions are all acknowledged and all stored', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  const envs = Array.from({ length: 50 }, (_, i) => h.vector(h.GOOD[i % h.GOOD.length]));
  const started = Date.now();
  const results = await Promise.all(envs.map((env) => h.post(srv, env)));
  assert.ok(Date.now() - started < 20000, 'too slow');
  const byIndex = new Map();
  results.forEach((r, i) => {
    assert.strictEqual(r.status, 201, String(r.body));
    const receipt = JSON.parse(r.body);
    assert.ok(!byIndex.has(receipt.index), 'index given twice');
    byIndex.set(receipt.index, envs[i]);
  });
  const ex = h.parseExport(h.exportDb(srv.db, { check: true }).file);
  assert.strictEqual(ex.entries.length, 50);
  for (const e of ex.entries) assert.ok(e.envelope.equals(byIndex.get(e.index)), 'entry ' + e.index);
  // Several uploads share a commit: the log line at shutdown says how many.
  await srv.stop();
  const m = /(\d+) reports stored in (\d+) commits/.exec(srv.stdout);
  assert.ok(m, srv.stdout);
  assert.strictEqual(Number(m[1]), 50);
});

test('config: recipients and limits', async (t) => {
  const srv = await h.startServer({ maxReportBytes: 200000 });
  t.after(() => srv.stop());
  const r = await h.request(srv, 'GET', '/api/v1/config');
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.headers['cache-control'], 'no-store');
  const cfg = JSON.parse(r.body);
  const keys = h.readKeys();
  const ids = cfg.recipients.map((x) => x.key_id).sort();
  assert.deepStrictEqual(ids, [keys.alice.key_id, keys.bob.key_id].sort());
  for (const rec of cfg.recipients) {
    assert.strictEqual(Buffer.from(rec.box_pk, 'base64').length, 32);
    assert.match(rec.fingerprint, /^([0-9a-f]{4} ){9}[0-9a-f]{4}$/);
  }
  assert.strictEqual(cfg.limits.max_report_bytes, 200000);
  assert.strictEqual(cfg.limits.chunk_bytes, 65536);
  const head = await h.request(srv, 'HEAD', '/api/v1/config');
  assert.strictEqual(head.status, 200);
  assert.strictEqual(head.body.length, 0);
});

test('SIGTERM stops the server cleanly and the data survives a restart', async (t) => {
  const dir = h.tmpdir();
  let srv = await h.startServer({ dir });
  const r = await h.post(srv, h.vector('basic'));
  assert.strictEqual(r.status, 201);
  const exit = await srv.stop('SIGTERM');
  assert.strictEqual(exit.code, 0, srv.stdout + srv.stderr);
  assert.match(srv.stdout, /stopped; 1 reports stored/);
  srv = await h.startServer({ dir });
  t.after(() => srv.stop());
  const r2 = await h.post(srv, h.vector('basic'));
  assert.strictEqual(JSON.parse(r2.body).index, 1);
});

test('export: consistent snapshots while submissions stream in', async (t) => {
  const srv = await h.startServer();
  t.after(() => srv.stop());
  let done = false;
  const posting = (async () => {
    const all = [];
    for (let i = 0; i < 120; i++) all.push(h.post(srv, h.vector(h.GOOD[i % 4])));
    const rs = await Promise.all(all);
    done = true;
    return rs;
  })();
  const sizes = [];
  while (!done) {
    // Each export is one read transaction: whole, contiguous, all hashes good.
    const ex = h.parseExport(h.exportDb(srv.db).file);
    ex.entries.forEach((e, i) => assert.strictEqual(e.index, i));
    assert.strictEqual(ex.treeSize, ex.entries.length);
    sizes.push(ex.entries.length);
    await h.sleep(5);
  }
  for (const r of await posting) assert.strictEqual(r.status, 201);
  assert.strictEqual(h.parseExport(h.exportDb(srv.db).file).entries.length, 120);
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i] >= sizes[i - 1]);
});
