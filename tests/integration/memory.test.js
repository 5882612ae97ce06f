// Promise 3: memory per connection is bounded whatever the upload size.
// Four concurrent 24 MiB uploads must not grow the server's peak RSS by
// anything like their size: the body streams through a 64 KiB buffer into
// a spool file, and from there into sqlite 64 KiB at a time.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import * as h from './helpers.js';

const PAYLOAD = 24 * 1024 * 1024; // a Padmé length (3 · 2^23)
const PREAMBLE = 8 + 1 + 88 + 24; // one recipient
const LENGTH = PREAMBLE + PAYLOAD + 17 * (PAYLOAD / 65536);

test('memory: four concurrent 24 MiB uploads stay within a bounded RSS', async (t) => {
  const srv = await h.startServer({ maxReportBytes: 30000000 });
  t.after(() => srv.stop());
  // Warm up every path once (spool, writer, sqlite) before the baseline.
  assert.strictEqual((await h.post(srv, h.vector('basic'))).status, 201);
  const before = h.peakRssKiB(srv.child.pid);
  // The server checks layout, not ciphertext: alice's preamble followed by
  // random bytes of a canonical length is accepted and stored as is.
  const pre = h.vector('basic').subarray(0, PREAMBLE);
  const bodies = Array.from({ length: 4 }, () => Buffer.concat([pre, crypto.randomBytes(LENGTH - PREAMBLE)]));
  const results = await Promise.all(bodies.map((b) => h.post(srv, b)));
  for (const r of results) assert.strictEqual(r.status, 201, String(r.body));
  const after = h.peakRssKiB(srv.child.pid);
  const grewMiB = (after - before) / 1024;
  console.log(`peak RSS growth: ${grewMiB.toFixed(1)} MiB`);
  assert.ok(grewMiB < 32, `peak RSS grew by ${grewMiB.toFixed(1)} MiB for ${(4 * LENGTH / 1048576).toFixed(0)} MiB of uploads`);
  const ex = h.parseExport(h.exportDb(srv.db, { after: 0 }).file);
  assert.strictEqual(ex.entries.length, 4);
  for (const r of results) {
    const receipt = JSON.parse(r.body);
    const sent = bodies.find((b) => h.leafHash(b) === receipt.leaf_hash);
    assert.ok(sent && ex.entries[receipt.index - 1].envelope.equals(sent));
  }
});
