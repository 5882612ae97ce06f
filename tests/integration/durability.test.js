// kill -9 in the middle of a burst: every report that got a 201 must be on
// disk, byte for byte, and the database must pass PRAGMA integrity_check.
import test from 'node:test';
import assert from 'node:assert';
import * as h from './helpers.js';

test('durability: kill -9 during a burst loses no acknowledged report', async (t) => {
  const dir = h.tmpdir();
  const srv = await h.startServer({ dir });
  const acked = new Map(); // index -> envelope
  let killed = false;
  let sent = 0;
  const TOTAL = 400;
  const CONCURRENCY = 16;
  const worker = async (w) => {
    for (let i = w; i < TOTAL && !killed; i += CONCURRENCY) {
      const env = h.vector(h.GOOD[i % h.GOOD.length]);
      sent++;
      try {
        const r = await h.post(srv, env);
        if (r.status === 201) {
          const receipt = JSON.parse(r.body);
          assert.ok(!acked.has(receipt.index));
          acked.set(receipt.index, env);
          if (acked.size === 60 && !killed) {
            killed = true;
            srv.child.kill('SIGKILL');
          }
        } else {
          assert.fail('unexpected status ' + r.status + ' ' + r.body);
        }
      } catch (e) {
        // Connection reset by the kill: not acknowledged, nothing promised.
        if (!killed) throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const exit = await srv.exited;
  assert.strictEqual(exit.signal, 'SIGKILL', 'the server was not killed mid-burst');
  assert.ok(acked.size >= 60);

  // Read the database as the killed server left it (WAL recovery included).
  const ex = h.parseExport(h.exportDb(srv.db, { check: true }).file);
  for (const [index, env] of acked) {
    const e = ex.entries[index];
    assert.ok(e && e.index === index, 'acknowledged report ' + index + ' missing');
    assert.ok(e.envelope.equals(env), 'acknowledged report ' + index + ' altered');
  }
  // Rows are contiguous from 0: nothing half-written became a row.
  ex.entries.forEach((e, i) => assert.strictEqual(e.index, i));

  // A restarted server carries on after the last stored index.
  const again = await h.startServer({ dir });
  t.after(() => again.stop());
  const r = await h.post(again, h.vector('basic'));
  assert.strictEqual(r.status, 201);
  assert.strictEqual(JSON.parse(r.body).index, ex.entries.length);
  const ex2 = h.parseExport(h.exportDb(again.db, { check: true }).file);
  for (const [index, env] of acked) assert.ok(ex2.entries[index].envelope.equals(env));
});

test('durability: SIGTERM during a burst finishes cleanly and keeps every acknowledged report', async () => {
  const srv = await h.startServer();
  const acked = new Map();
  let stopping = false;
  const worker = async (w) => {
    for (let i = w; i < 600 && !(stopping && srv.child.exitCode !== null); i += 16) {
      const env = h.vector(h.GOOD[i % h.GOOD.length]);
      try {
        const r = await h.post(srv, env);
        if (r.status === 201) {
          const receipt = JSON.parse(r.body);
          acked.set(receipt.index, env);
          if (acked.size === 80 && !stopping) {
            stopping = true;
            srv.child.kill('SIGTERM');
          }
        } else {
          // While stopping, new uploads are refused cleanly, never half-taken.
          assert.ok(stopping, 'status ' + r.status + ' before SIGTERM');
          assert.strictEqual(r.status, 503);
          assert.strictEqual(JSON.parse(r.body).error, 'shutting_down');
        }
      } catch (e) {
        if (!stopping || e.code === 'ERR_ASSERTION') throw e; // refused or reset once stopped
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
  const exit = await srv.stop();
  assert.strictEqual(exit.code, 0, srv.stdout + srv.stderr);
  const m = /stopped; (\d+) reports stored/.exec(srv.stdout);
  assert.ok(m, srv.stdout);
  const ex = h.parseExport(h.exportDb(srv.db, { check: true }).file);
  assert.strictEqual(ex.entries.length, Number(m[1]));
  for (const [index, env] of acked) assert.ok(ex.entries[index].envelope.equals(env), 'report ' + index);
});
