// make run's demo (src/demo.sh), as the README tells a new user to use it:
// every command it prints works as printed, from a report sealed on the
// command line to the investigator reading it, and a second start offers a
// report name that is not taken yet.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as h from './helpers.js';

// A loopback port that was free a moment ago (the demo prints its address,
// so port 0 would not do).
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts src/demo.sh in cwd; resolves with its output once the server listens.
async function startDemo(cwd, listen) {
  // BUILD as make run leaves it: cwd/build is the build under test (make
  // exports its own BUILD, e.g. build/asan, to the tests' environment).
  const child = spawn('sh', [path.join(h.ROOT, 'src', 'demo.sh')], {
    cwd, env: Object.assign({}, process.env, { LISTEN: listen, BUILD: 'build' }), stdio: ['ignore', 'pipe', 'pipe'],
  });
  const demo = { child, out: '', err: '' };
  child.stdout.on('data', (b) => { demo.out += b; });
  child.stderr.on('data', (b) => { demo.err += b; });
  demo.exited = new Promise((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 500 && !/^listening on /m.test(demo.out); i++) {
    if (child.exitCode !== null) break;
    await h.sleep(20);
  }
  assert.match(demo.out, /^listening on /m, demo.out + demo.err);
  return demo;
}

async function stopDemo(demo) {
  demo.child.kill('SIGTERM');
  await demo.exited;
}

// The printed commands: indented lines that run build/sealtip.
function printedCommands(out) {
  return out.split('\n').filter((line) => /^ {2}build\/sealtip /.test(line)).map((line) => line.trim());
}

// Runs one printed command as a shell would, without blocking the event loop.
function sh(cwd, command) {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => { out += b; });
    child.stderr.on('data', (b) => { err += b; });
    child.on('exit', (status) => resolve({ status, out, err }));
  });
}

test('demo: the commands make run prints work as printed', async (t) => {
  const cwd = h.tmpdir('sealtip-demo-');
  fs.symlinkSync(path.resolve(h.BUILD), path.join(cwd, 'build'));
  const listen = `127.0.0.1:${await freePort()}`;
  let demo = await startDemo(cwd, listen);
  t.after(() => demo.child.kill('SIGKILL'));

  assert.match(demo.out, new RegExp(`^ {2}page: {9}http://${listen.replace(/\./g, '\\.')}/$`, 'm'));
  assert.match(demo.out, /DEMO key, not passphrase-protected: var\/demo-investigator-UNPROTECTED\.key/);
  const commands = printedCommands(demo.out);
  assert.deepStrictEqual(commands.map((c) => c.split(' ')[1]), ['seal', 'submit', 'export', 'open', 'fetch']);
  assert.match(commands[0], / -o var\/report-1\.env$/);
  assert.match(commands[1], / -o var\/receipt-1\.json$/);

  for (const command of commands) {
    const r = await sh(cwd, command);
    assert.strictEqual(r.status, 0, `${command}\n${r.out}${r.err}`);
  }
  // The report came back, read with the demo key; both ways out agree.
  const text = fs.readFileSync(path.join(cwd, 'var', 'reports', 'report-000000', 'report.txt'), 'utf8');
  assert.match(text, /^ {4}\| Asked for a Rolex to stop a deportation$/m);
  assert.ok(fs.readFileSync(path.join(cwd, 'var', 'export.bin')).equals(fs.readFileSync(path.join(cwd, 'var', 'export-http.bin'))));
  const receipt = JSON.parse(fs.readFileSync(path.join(cwd, 'var', 'receipt-1.json'), 'utf8'));
  assert.strictEqual(receipt.index, 0);
  assert.strictEqual(fs.statSync(path.join(cwd, 'var')).mode & 0o777, 0o700);

  // Started again: same key, and the next report name is a free one.
  await stopDemo(demo);
  demo = await startDemo(cwd, listen);
  const again = printedCommands(demo.out);
  assert.match(again[0], / -o var\/report-2\.env$/);
  assert.match(again[1], / -o var\/receipt-2\.json$/);
  await stopDemo(demo);
});
