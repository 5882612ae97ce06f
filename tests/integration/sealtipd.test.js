// sealtipd's command line and config file.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import * as h from './helpers.js';

function run(args) {
  return spawnSync(h.SEALTIPD, args, { encoding: 'utf8', timeout: 10000 });
}

test('sealtipd: --help, usage errors, bad keys', () => {
  const help = run(['--help']);
  assert.strictEqual(help.status, 0);
  for (const opt of ['--data', '--recipient', '--listen', '--web', '--config', '--export-token-file', '--max-report-bytes', '--timeout'])
    assert.ok(help.stdout.includes(opt), opt);
  const dir = h.tmpdir();
  const pub = path.join(h.VECTORS, 'alice.pub');
  assert.strictEqual(run(['--recipient', pub]).status, 2, 'no --data');
  assert.strictEqual(run(['--data', dir]).status, 2, 'no --recipient');
  assert.strictEqual(run(['--data', dir, '--recipient', pub, '--bogus', 'x']).status, 2);
  assert.strictEqual(run(['--data', dir, '--recipient', pub, '--max-report-bytes', '12x']).status, 2);
  const tooBig = run(['--data', dir, '--recipient', pub, '--max-report-bytes', '2000000000']);
  assert.strictEqual(tooBig.status, 2);
  // A number out of range says the range.
  assert.match(tooBig.stderr, /^sealtipd: command line: max-report-bytes: '2000000000' is not a number from 1024 to \d+$/m);
  const notKey = path.join(dir, 'not.pub');
  fs.writeFileSync(notKey, 'untrusted comment: nope\nAAAA\n');
  const bad = run(['--data', dir, '--recipient', notKey, '--listen', '127.0.0.1:0']);
  assert.strictEqual(bad.status, 1);
  assert.match(bad.stderr, /not\.pub/);
  const twice = run(['--data', dir, '--recipient', pub, '--recipient', pub, '--listen', '127.0.0.1:0']);
  assert.strictEqual(twice.status, 1);
  const badListen = run(['--data', dir, '--recipient', pub, '--listen', 'nowhere']);
  assert.strictEqual(badListen.status, 1);
  // A port past 65535 is refused, not wrapped round to another one.
  for (const port of ['65536', '70000', '']) {
    const r = run(['--data', dir, '--recipient', pub, '--listen', '127.0.0.1:' + port]);
    assert.deepStrictEqual([r.status, r.stderr], [1, `sealtipd: --listen 127.0.0.1:${port}: expected HOST:PORT, PORT 0 to 65535\n`]);
  }
  // The origin is the log key's name, which people compare by eye: nothing
  // that reorders (U+202E) or hides (U+200B, U+00AD) is taken; nothing is made.
  for (const origin of ['evil.example/\u202elog', 'evil.example/l\u200bog', 'evil.example/l\u00adog', 'a b']) {
    const data = path.join(dir, 'never');
    const r = run(['--data', data, '--recipient', pub, '--origin', origin, '--print-verifier-key']);
    assert.deepStrictEqual([r.status, r.stdout, r.stderr, fs.existsSync(data)], [2, '',
      "sealtipd: command line: origin must be at most 255 bytes of UTF-8 without spaces, '+', control or invisible characters\n", false]);
  }
  const shortToken = path.join(dir, 'short.token');
  fs.writeFileSync(shortToken, 'short\n');
  assert.strictEqual(run(['--data', dir, '--recipient', pub, '--listen', '127.0.0.1:0', '--export-token-file', shortToken]).status, 1);
});

test('sealtipd: config file, overridden by the command line', async (t) => {
  const dir = h.tmpdir();
  h.makeWeb(path.join(dir, 'web'));
  const conf = path.join(dir, 'sealtipd.conf');
  fs.writeFileSync(conf, [
    '# sealtipd settings',
    'data = ' + path.join(dir, 'data'),
    'recipient = ' + path.join(h.VECTORS, 'alice.pub'),
    'recipient = ' + path.join(h.VECTORS, 'bob.pub'),
    '  max-report-bytes   =  50000  ',
    'web = ' + path.join(dir, 'web'),
    'timeout = 2',
    'listen = 127.0.0.1:0',
    'pow-bits = 0',
    '',
  ].join('\n'));
  const srv = await h.startServer({ dir, rawArgs: ['--config', conf, '--max-report-bytes', '60000'] });
  t.after(() => srv.stop());
  const cfg = JSON.parse((await h.request(srv, 'GET', '/api/v1/config')).body);
  assert.strictEqual(cfg.limits.max_report_bytes, 60000);
  assert.strictEqual(cfg.recipients.length, 2);
  assert.strictEqual((await h.post(srv, h.vector('two-recipients'))).status, 201);
  assert.strictEqual((await h.post(srv, h.vector('chunk-boundary'))).status, 413);
  // The first stdout line names the real port; recipients follow.
  const lines = srv.stdout.split('\n');
  assert.match(lines[0], /^listening on http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(lines[1], /^recipient [0-9a-f]{16} fingerprint ([0-9a-f]{4} ){9}[0-9a-f]{4}$/);

  const badConf = path.join(dir, 'bad.conf');
  fs.writeFileSync(badConf, 'data = /tmp\nwhat = ever\n');
  // What a config file holds is not a usage error: sealtipd cannot start (1).
  const r = run(['--config', badConf]);
  assert.deepStrictEqual([r.status, r.stderr], [1, `sealtipd: ${badConf}:2: unknown setting 'what'\n`]);
  fs.writeFileSync(badConf, 'timeout = abc\n');
  const badValue = run(['--config', badConf, '--data', dir]);
  assert.deepStrictEqual([badValue.status, badValue.stderr],
    [1, `sealtipd: ${badConf}:1: timeout: 'abc' is not a number from 1 to 3600\n`]);
  const missing = run(['--config', path.join(dir, 'none.conf'), '--data', dir]);
  assert.deepStrictEqual([missing.status, missing.stderr], [1, `sealtipd: ${path.join(dir, 'none.conf')}: No such file or directory\n`]);
});

// sealtipd started with its stdout somewhere the listening line cannot be
// read from: on a free port found here, and polled until it answers.
// stdout: 'closed' (sh's >&-), 'devnull', or a file descriptor to pass.
async function startBlind(t, stdout) {
  const dir = h.tmpdir();
  h.makeWeb(path.join(dir, 'web'));
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const args = ['--data', path.join(dir, 'data'), '--recipient', path.join(h.VECTORS, 'alice.pub'),
    '--recipient', path.join(h.VECTORS, 'bob.pub'), '--listen', '127.0.0.1:' + port,
    '--web', path.join(dir, 'web'), '--pow-bits', '0'];
  let child;
  if (stdout === 'closed') {
    child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" >&-', h.SEALTIPD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  } else if (stdout === 'devnull') {
    const devnull = fs.openSync('/dev/null', 'w');
    child = spawn(h.SEALTIPD, args, { stdio: ['ignore', devnull, 'pipe'] });
    fs.closeSync(devnull);
  } else {
    child = spawn(h.SEALTIPD, args, { stdio: ['ignore', stdout, 'pipe'] });
  }
  const srv = { host: '127.0.0.1', port, child, data: path.join(dir, 'data'), stderr: '' };
  child.stderr.on('data', (b) => { srv.stderr += b; });
  srv.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => child.kill('SIGKILL'));
  let res;
  for (let i = 0; i < 100 && !res; i++) {
    try {
      res = await h.request(srv, 'GET', '/api/v1/config');
    } catch {
      await h.sleep(50);
    }
  }
  assert.ok(res, 'sealtipd never answered: ' + srv.stderr);
  assert.strictEqual(res.status, 200);
  return srv;
}

// stdout on a character device that is not a terminal (/dev/null, as under
// systemd's StandardOutput=null): glibc asks isatty with an ioctl on its first
// printf, which the seccomp filter kills. The server must start, store and
// stop cleanly all the same.
test('sealtipd: stdout on /dev/null, under the sandbox', async (t) => {
  const srv = await startBlind(t, 'devnull');
  assert.strictEqual((await h.post(srv, h.vector('basic'))).status, 201);
  assert.strictEqual((await h.post(srv, h.vector('two-recipients'))).status, 201);
  srv.child.kill('SIGTERM');
  assert.deepStrictEqual(await srv.exited, { code: 0, signal: null }, srv.stderr);
});

// Started with stdout closed, the first thing opened would take fd 1 (here
// the listening socket) and every log line would be written into it. The
// server puts /dev/null there first.
test('sealtipd: started with stdout closed, fd 1 is /dev/null', async (t) => {
  const srv = await startBlind(t, 'closed');
  assert.strictEqual(fs.readlinkSync(`/proc/${srv.child.pid}/fd/1`), '/dev/null');
  assert.strictEqual((await h.post(srv, h.vector('basic'))).status, 201);
  srv.child.kill('SIGTERM');
  assert.deepStrictEqual(await srv.exited, { code: 0, signal: null }, srv.stderr);
  const exp = h.exportDb(path.join(srv.data, 'reports.db'), { check: true });
  assert.strictEqual(h.parseExport(exp.file).entries.length, 1);
});

// Whoever reads sealtipd's stdout may stop reading (a full pipe, a stalled
// journal). Receipts must not wait for it. And no line comes per report
// (docs/server.md, "What is logged"): 5,000 receipts with the reader gone,
// then, once it is back, the one count the stop writes. (A reader that
// stays away while lines come: tests/unit/test_serverlog.c, dropped and
// counted lines.)
test('sealtipd: a stdout nobody reads never holds back a receipt', async (t) => {
  const dir = h.tmpdir();
  const fifo = path.join(dir, 'stdout.fifo');
  assert.strictEqual(spawnSync('mkfifo', [fifo]).status, 0);
  // Read-write, so opening does not wait for a reader; nothing reads it yet.
  const fd = fs.openSync(fifo, 'r+');
  t.after(() => fs.closeSync(fd));
  const srv = await startBlind(t, fd);
  // At about 40 bytes a line, 5,000 lines would fill the 64 KiB pipe and
  // the queue more than once over.
  const env = h.vector('basic');
  const N = 5000;
  let next = 0, ok = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < N) {
      next++;
      const r = await h.post(srv, env);
      assert.strictEqual(r.status, 201, String(r.body));
      ok++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  assert.strictEqual(ok, N);
  console.log(`# ${N} receipts in ${Date.now() - started} ms with stdout unread`);
  // The reader comes back: the start-up lines, then the stop's.
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  reader.stdout.on('data', (b) => { out += b; });
  t.after(() => reader.kill());
  srv.child.kill('SIGTERM');
  assert.deepStrictEqual(await srv.exited, { code: 0, signal: null }, srv.stderr);
  for (let i = 0; i < 200 && !/connections cut/.test(out); i++) await h.sleep(50);
  const served = out.slice(out.indexOf('proof of work off\n') + 'proof of work off\n'.length);
  assert.match(served, new RegExp('^sealtipd: stopping\n' +
    `sealtipd: \\d{4}-\\d\\d-\\d\\d to the stop: ${N} reports stored, ${N * env.length} bytes\n` +
    `sealtipd: stopped; ${N} reports stored in \\d+ commits\n` +
    'sealtipd: connections cut: 0 at the header deadline, 0 over the waiting budget\n$'));
  assert.doesNotMatch(srv.stderr, /dropped/);
  const exp = h.exportDb(path.join(srv.data, 'reports.db'), { check: true });
  assert.strictEqual(h.parseExport(exp.file).entries.length, N);
});
