// What the server must not know or say: no client address, no user agent,
// no time finer than the day, in the database or anything it prints.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';

const UA = 'Mozilla/5.0 (SealtipProbe; rv:77.7) Gecko/20100101 UniqueAgent-4f9c2e';

test('privacy: no client address or user agent is stored or logged', async (t) => {
  // The server listens on 127.0.0.2 and every client connects from
  // 127.0.0.1, so the only way "127.0.0.1" can show up is if the server
  // recorded a peer address.
  const srv = await h.startServer({ host: '127.0.0.2', token: 'privacy-test-token-123' });
  const headers = { 'User-Agent': UA, 'X-Forwarded-For': '127.0.0.1', Cookie: 'a=b', Referer: 'http://127.0.0.1/' };
  for (const name of h.GOOD) assert.strictEqual((await h.post(srv, h.vector(name), headers)).status, 201);
  assert.strictEqual((await h.post(srv, h.vector('bad-version-2'), headers)).status, 422);
  assert.strictEqual((await h.request(srv, 'GET', '/', { headers })).status, 200);
  assert.strictEqual((await h.request(srv, 'GET', '/nope', { headers })).status, 404);
  assert.strictEqual((await h.request(srv, 'GET', '/api/v1/export', { headers })).status, 401);
  const r = await h.post(srv, h.vector('basic'), headers);
  assert.strictEqual(r.headers['set-cookie'], undefined);
  const files = () => fs.readdirSync(srv.data).map((f) => path.join(srv.data, f));
  const check = (what, buf) => {
    const s = buf.toString('latin1');
    assert.ok(!s.includes('127.0.0.1'), what + ' holds the client address');
    assert.ok(!s.includes('UniqueAgent-4f9c2e'), what + ' holds the user agent');
    assert.ok(!s.includes('SealtipProbe'), what + ' holds the user agent');
  };
  for (const f of files()) check(f, fs.readFileSync(f));
  // Owner only: the folder and every file in it.
  assert.strictEqual(fs.statSync(srv.data).mode & 0o777, 0o700);
  for (const f of files()) assert.strictEqual(fs.statSync(f).mode & 0o777, 0o600, f);
  const exit = await srv.stop();
  assert.strictEqual(exit.code, 0);
  for (const f of files()) check(f, fs.readFileSync(f));
  check('server stdout', Buffer.from(srv.stdout, 'latin1'));
  check('server stderr', Buffer.from(srv.stderr, 'latin1'));
  // Only the database, the log key and its mark are in the data folder: no spool file, no log.
  assert.deepStrictEqual(fs.readdirSync(srv.data).filter((f) => !/^(reports\.db(-wal|-shm)?|log\.key(\.used)?)$/.test(f)), []);
  // Days only: the export's entries carry YYYY-MM-DD and nothing finer.
  const ex = h.parseExport(h.exportDb(srv.db).file);
  for (const e of ex.entries) assert.match(e.day, /^\d{4}-\d{2}-\d{2}$/);
  // The schema has no column that could hold more (when the sqlite3 CLI exists).
  const q = spawnSync('sqlite3', [srv.db, "SELECT name FROM pragma_table_info('reports') ORDER BY cid"], { encoding: 'utf8' });
  if (q.status === 0) assert.deepStrictEqual(q.stdout.trim().split('\n'), ['idx', 'day', 'size', 'leaf_hash', 'envelope']);
});
