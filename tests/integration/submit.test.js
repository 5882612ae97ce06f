// sealtip submit checks the server's receipt as the page does: its leaf hash
// is the envelope's, and its inclusion proof verifies against a checkpoint
// signed with the log key the server announces. A proxy in front of the real
// server changes its answers; every failure exits 1, writes no receipt file
// and puts the server's answer on stdout (it is evidence).
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as h from './helpers.js';

// sealtip ARGS without blocking: the proxy answers from this very process.
function submit(args) {
  return new Promise((resolve) => {
    const child = spawn(h.SEALTIP, ['submit', ...args]);
    const [out, err] = [[], []];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

// Forwards every request to srv; change(method, url, body) may rewrite an
// answer. With sized false, the answers go without Content-Length, as many
// proxies send them: in chunks to an HTTP/1.1 request, to the close to 1.0.
async function proxy(t, srv, change, { sized = true, seen = [] } = {}) {
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} HTTP/${req.httpVersion}`);
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      const out = http.request({ host: srv.host, port: srv.port, method: req.method, path: req.url, headers: req.headers, localAddress: '127.0.0.1' }, (answer) => {
        const got = [];
        answer.on('data', (d) => got.push(d));
        answer.on('end', () => {
          const body = change(req.method, req.url, Buffer.concat(got));
          const { 'content-length': _length, ...rest } = answer.headers;
          const headers = sized ? { ...rest, 'content-length': body.length } : rest;
          res.writeHead(answer.statusCode, headers);
          res.end(body);
        });
      });
      out.end(Buffer.concat(parts));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

const json = (body, edit) => Buffer.from(JSON.stringify(edit(JSON.parse(body))));

test('submit: a receipt that does not check out is refused; the answer goes to stdout', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  const dir = h.tmpdir('sealtip-submit-');
  const envs = ['basic', 'two-recipients', 'chunk-boundary'].map((name) => {
    const file = path.join(dir, name + '.env');
    fs.writeFileSync(file, h.vector(name));
    return file;
  });
  // Two reports first, so that every proof has hashes in it.
  let mode = 'pass';
  let first = null;
  const url = await proxy(t, srv, (method, target, body) => {
    if (target === '/api/v1/config' && mode === 'other key')
      return json(body, (c) => ({ ...c, log: { ...c.log, verifier_key: 'other.example/log+5c0d117f+AcOcel1IZwSc3NtwkdOIa/TygQQe5MmUnu8iK2ffTlk7' } }));
    if (method !== 'POST') return body;
    if (mode === 'pass') return body;
    if (mode === 'another envelope') return first;
    if (mode === 'bad proof') return json(body, (r) => { const p = Buffer.from(r.inclusion_proof[0], 'base64'); p[0] ^= 1; r.inclusion_proof[0] = p.toString('base64'); return r; });
    if (mode === 'no proof') return json(body, ({ inclusion_proof: _gone, ...r }) => r);
    return body;
  });
  for (const env of envs.slice(0, 2)) {
    const receipt = path.join(dir, path.basename(env) + '.json');
    const r = await submit([url, env, '-o', receipt]);
    assert.strictEqual(r.status, 0, r.stderr);
    first = first || fs.readFileSync(receipt).subarray(0, -1);
  }

  const cases = [
    ['another envelope', /: the receipt's leaf_hash is not this envelope's: the server did not record it as sent; its answer follows on standard output$/],
    ['bad proof', /: receipt: its inclusion proof of entry \d+ does not verify against its own checkpoint at size \d+; its answer follows on standard output$/],
    ['no proof', /: the answer to the upload is not a receipt with an inclusion proof; its answer follows on standard output$/],
    ['other key', /: \/api\/v1\/config: no usable log verifier key; nothing was sent$/],
  ];
  for (const [name, said] of cases) {
    mode = name;
    const before = h.dbState(srv);
    const receipt = path.join(dir, 'refused.json');
    const r = await submit([url, envs[2], '-o', receipt]);
    assert.strictEqual(r.status, 1, name);
    assert.strictEqual(r.stderr.split('\n').length, 2, name + ': one line: ' + r.stderr);
    assert.match(r.stderr.trimEnd(), said, name);
    assert.strictEqual(fs.existsSync(receipt), false, name + ': no receipt file');
    if (name === 'other key') {
      assert.strictEqual(r.stdout, '');
      assert.strictEqual(h.dbState(srv), before, 'nothing sent');
    } else {
      assert.strictEqual(typeof JSON.parse(r.stdout).index, 'number', name + ': the answer on stdout');
    }
  }
});

test('submit: asks HTTP/1.0, so an answer without a length comes whole, not in chunks', async (t) => {
  const srv = await h.startServer({});
  t.after(() => srv.stop());
  const dir = h.tmpdir('sealtip-submit-unsized-');
  const env = path.join(dir, 'basic.env');
  fs.writeFileSync(env, h.vector('basic'));
  const seen = [];
  const url = await proxy(t, srv, (method, target, body) => body, { sized: false, seen });
  const receipt = path.join(dir, 'receipt.json');
  const r = await submit([url, env, '-o', receipt]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(JSON.parse(fs.readFileSync(receipt, 'utf8')).index, 0);
  assert.deepStrictEqual(seen, ['GET /api/v1/config HTTP/1.0', 'GET /api/v1/challenge HTTP/1.0', 'POST /api/v1/reports HTTP/1.0']);
});
