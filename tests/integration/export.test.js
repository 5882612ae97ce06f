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
  // Each parameter once and with a value, whatever the order: a bare name is
  // not an absent one, and a repeated one is not read by whichever came first.
  for (const [query, code] of [['after', 'bad_after'], ['after=1&after=x', 'bad_after'], ['after=x&after=1', 'bad_after'],
    ['after=1&after=1', 'bad_after'], ['since_size', 'bad_since_size'], ['since_size=1&since_size=zz', 'bad_since_size'],
    ['after=1&since_size=2&since_size=2', 'bad_since_size']]) {
    const bad = await h.request(srv, 'GET', '/api/v1/export?' + query, { headers: auth });
    assert.deepStrictEqual([bad.status, JSON.parse(bad.body).error], [400, code], query);
  }
  // Names it does not know are left alone (a later version's options).
  assert.ok((await h.request(srv, 'GET', '/api/v1/export?after=1&future=x', { headers: auth })).body.equals(after.body));

  // The log's proof: checkpoint, frontier, and on request a consistency proof.
  const all = h.parseExport(r.body);
  assert.strictEqual(all.verifierKey, JSON.parse((await h.request(srv, 'GET', '/api/v1/config')).body).log.verifier_key);
  assert.match(all.checkpoint, /^[^\n]+\n4\n[A-Za-z0-9+/]{43}=\n\n\u2014 /);
  assert.deepStrictEqual([all.frontier.length, all.proofSize, all.proof.length], [0, 0, 0]);
  assert.strictEqual(h.parseExport(after.body).frontier.length, 1); // leaves 0..1: one subtree
  const since = await h.request(srv, 'GET', '/api/v1/export?after=1&since_size=3', { headers: auth });
  assert.strictEqual(since.status, 200);
  const sinceEx = h.parseExport(since.body);
  assert.deepStrictEqual([sinceEx.proofSize, sinceEx.proof.length], [3, 3]); // RFC 9162: leaf 2, leaf 3, MTH(0:2)
  const local2 = path.join(h.tmpdir('sealtip-since-'), 'since.bin');
  const ex2 = h.runTool(['export', '--db', srv.db, '--after', '1', '--since-size', '3', '-o', local2]);
  assert.strictEqual(ex2.status, 0, ex2.stderr);
  assert.ok(since.body.equals(fs.readFileSync(local2)), 'the endpoint and sealtip export --since-size differ');
  // A size beyond the log gets no proof (the reader then sees its rollback).
  assert.strictEqual(h.parseExport((await h.request(srv, 'GET', '/api/v1/export?since_size=9', { headers: auth })).body).proofSize, 0);
  const badSince = await h.request(srv, 'GET', '/api/v1/export?since_size=x', { headers: auth });
  assert.strictEqual(badSince.status, 400);
  assert.strictEqual(JSON.parse(badSince.body).error, 'bad_since_size');
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
  assert.match(r.stdout, /\ncheckpoint of 4 entries signed by [^ ]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}, matching every entry\n$/);

  // --since-size asks for the consistency proof: the same file as the endpoint's.
  const proved = path.join(dir, 'proved.bin');
  const rp = h.runTool(['fetch', srv.url, '--token-file', goodTok, '--after', '1', '--since-size', '3', '-o', proved]);
  assert.strictEqual(rp.status, 0, rp.stderr);
  const pe = h.parseExport(fs.readFileSync(proved));
  assert.deepStrictEqual([pe.firstIndex, pe.proofSize, pe.proof.length], [2, 3, 3]);
  const viaHttp = await h.request(srv, 'GET', '/api/v1/export?after=1&since_size=3', { headers: { Authorization: 'Bearer ' + TOKEN } });
  assert.ok(viaHttp.body.equals(fs.readFileSync(proved)));
  assert.strictEqual(h.runTool(['fetch', srv.url, '--token-file', goodTok, '--since-size', 'x', '-o', path.join(dir, 'x.bin')]).status, 2);

  // Usage errors exit 2.
  assert.strictEqual(h.runTool(['fetch', 'ftp://x', '--token-file', goodTok, '-o', path.join(dir, 'x')]).status, 2);
  // A port past 65535 would wrap round in getaddrinfo: the token to another port.
  for (const args of [['fetch', 'http://127.0.0.1:85536/', '--token-file', goodTok, '-o', path.join(dir, 'x')],
    ['submit', 'http://127.0.0.1:65536/', path.join(dir, 'good.token')]]) {
    const r = h.runTool(args);
    assert.strictEqual(r.status, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`^sealtip: ${args[0]}: 'http://127\\.0\\.0\\.1:\\d+/' is not an http://HOST:PORT/ URL\n`));
  }
  assert.strictEqual(h.runTool(['export', '--db', srv.db]).status, 2);
  assert.strictEqual(h.runTool(['export', '--db', srv.db, '--since-size', '-1', '-o', path.join(dir, 's.bin')]).status, 2);
  assert.ok(!fs.existsSync(path.join(dir, 's.bin')));
  // Export of a missing database fails cleanly.
  assert.strictEqual(h.runTool(['export', '--db', path.join(dir, 'none.db'), '-o', path.join(dir, 'n.bin')]).status, 1);
});

// A ^C while `sealtip export` writes (tests/tools/signal_inject.c raises
// it at the first write into the folder): the temp file is removed and
// export dies of the signal, as a shell expects.
test('export: interrupted while writing, it leaves nothing and dies of the signal', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  for (const name of h.GOOD) assert.strictEqual((await h.post(srv, h.vector(name))).status, 201);
  const outDir = h.tmpdir('sealtip-export-intr-');
  const out = path.join(outDir, 'all.bin');
  const env = Object.assign({}, process.env, {
    LD_PRELOAD: path.join(h.BUILD, 'tools', 'signal_inject.so'),
    SEALTIP_TEST_SIGNAL_WRITE_DIR: outDir,
    ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':'),
  });
  const r = h.runTool(['export', '--db', srv.db, '-o', out], { encoding: 'utf8', env });
  assert.deepStrictEqual([r.status, r.signal, r.stdout, r.stderr],
    [null, 'SIGINT', '', `sealtip: ${out}: interrupted; nothing was written\n`]);
  assert.deepStrictEqual(fs.readdirSync(outDir), []);
  // Without the signal the same export goes through.
  assert.strictEqual(h.runTool(['export', '--db', srv.db, '-o', out]).status, 0);
});
