// The export endpoint and `sealtip fetch`: bearer token, 401 for anything
// else, and the same file `sealtip export` writes.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';

const TOKEN = 'x9f2-investigator-export-token';

test('export: wrong or missing token gets 401 and nothing else; right token gets the export file', async (t) => {
  const srv = await h.startServer({ token: TOKEN });
  t.after(() => srv.stop());
  for (const name of h.GOOD) assert.strictEqual((await h.post(srv, h.vector(name))).status, 201);

  const bad = [
    {},
    { Authorization: 'Bearer wrong-token-of-some-length' },
    { Authorization: 'Bearer ' + TOKEN + 'x' },
    { Authorization: 'Bearer ' + TOKEN.slice(0, -1) },
    { Authorization: 'Basic ' + Buffer.from('a:' + TOKEN).toString('base64') },
    { Authorization: TOKEN },
  ];
  for (const headers of bad) {
    const r = await h.request(srv, 'GET', '/api/v1/export', { headers });
    assert.strictEqual(r.status, 401, JSON.stringify(headers));
    assert.deepStrictEqual(JSON.parse(r.body), { error: 'unauthorized', message: 'a valid bearer token is required' });
    assert.ok(!r.body.includes('sealtip'), 'a 401 must carry nothing of the export');
    assert.strictEqual(r.headers['www-authenticate'], 'Bearer realm="sealtip export"');
  }

  const auth = { Authorization: 'Bearer ' + TOKEN };
  const r = await h.request(srv, 'GET', '/api/v1/export', { headers: auth });
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.headers['content-type'], 'application/octet-stream');
  assert.strictEqual(Number(r.headers['content-length']), r.body.length);
  const local = h.exportDb(srv.db).file;
  assert.ok(r.body.equals(local), 'the endpoint and sealtip export differ');
  const ex = h.parseExport(r.body);
  assert.strictEqual(ex.entries.length, 4);
  h.GOOD.forEach((name, i) => assert.ok(ex.entries[i].envelope.equals(h.vector(name))));

  const after = await h.request(srv, 'GET', '/api/v1/export?after=1', { headers: auth });
  assert.strictEqual(after.status, 200);
  assert.ok(after.body.equals(h.exportDb(srv.db, { after: 1 }).file));
  assert.deepStrictEqual(h.parseExport(after.body).entries.map((e) => e.index), [2, 3]);
  const none = h.parseExport((await h.request(srv, 'GET', '/api/v1/export?after=3', { headers: auth })).body);
  assert.strictEqual(none.entries.length, 0);
  assert.strictEqual(none.treeSize, 4);
  const badAfter = await h.request(srv, 'GET', '/api/v1/export?after=-1', { headers: auth });
  assert.strictEqual(badAfter.status, 400);
});

test('fetch: sealtip fetch gets the same file; a wrong token fails and writes nothing', async (t) => {
  const srv = await h.startServer({ token: TOKEN });
  t.after(() => srv.stop());
  for (const name of h.GOOD) assert.strictEqual((await h.post(srv, h.vector(name))).status, 201);
  const dir = h.tmpdir('sealtip-fetch-');
  const goodTok = path.join(dir, 'good.token');
  const badTok = path.join(dir, 'bad.token');
  fs.writeFileSync(goodTok, TOKEN + '\n', { mode: 0o600 });
  fs.writeFileSync(badTok, 'not-the-right-token-at-all\n', { mode: 0o600 });

  const wrong = h.runTool(['fetch', srv.url, '--token-file', badTok, '-o', path.join(dir, 'bad.bin')]);
  assert.strictEqual(wrong.status, 1);
  assert.match(wrong.stderr, /401/);
  assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['bad.token', 'good.token']);

  const out = path.join(dir, 'all.bin');
  const ok = h.runTool(['fetch', srv.url + '/', '--token-file', goodTok, '-o', out]);
  assert.strictEqual(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /fetched 4 reports, indexes 0\.\.3 of 4/);
  assert.ok(fs.readFileSync(out).equals(h.exportDb(srv.db).file));

  // Never overwrites.
  const again = h.runTool(['fetch', srv.url, '--token-file', goodTok, '-o', out]);
  assert.strictEqual(again.status, 1);

  const tail = path.join(dir, 'tail.bin');
  const r = h.runTool(['fetch', srv.url, '--token-file', goodTok, '--after', '2', '-o', tail]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.deepStrictEqual(h.parseExport(fs.readFileSync(tail)).entries.map((e) => e.index), [3]);

  // Usage errors exit 2.
  assert.strictEqual(h.runTool(['fetch', 'ftp://x', '--token-file', goodTok, '-o', path.join(dir, 'x')]).status, 2);
  assert.strictEqual(h.runTool(['export', '--db', srv.db]).status, 2);
  // Export of a missing database fails cleanly.
  assert.strictEqual(h.runTool(['export', '--db', path.join(dir, 'none.db'), '-o', path.join(dir, 'n.bin')]).status, 1);
});
