// Shared by the integration tests: start the real sealtipd on a loopback
// port with a fresh data folder, talk raw HTTP, read export files.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = path.resolve(ROOT, process.env.SEALTIP_BUILD || 'build');
const SEALTIPD = path.join(BUILD, 'sealtipd');
const SEALTIP = path.join(BUILD, 'sealtip');
const VECTORS = path.join(ROOT, 'tests', 'vectors', 'shared');
const GOOD = ['basic', 'two-recipients', 'chunk-boundary', 'hostile-names'];

function vector(name) {
  return fs.readFileSync(path.join(VECTORS, name + '.env'));
}

// Every folder made here (keys, databases, decrypted reports) goes when the
// test process ends, pass or fail: runs must not pile up in /tmp.
const tempDirs = [];
process.on('exit', () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tmpdir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix || 'sealtip-it-'));
  tempDirs.push(dir);
  return dir;
}

// Starts sealtipd; resolves once it printed its listening line.
async function startServer(opts = {}) {
  const dir = opts.dir || tmpdir();
  const data = path.join(dir, 'data');
  const args = ['--data', data, '--listen', (opts.host || '127.0.0.1') + ':' + (opts.port || 0)];
  // A recipient is a vector name (alice, bob, carol) or a path to a .pub file.
  for (const r of opts.recipients || ['alice', 'bob'])
    args.push('--recipient', r.includes('/') ? r : path.join(VECTORS, r + '.pub'));
  args.push('--web', opts.web || path.join(dir, 'web'));
  args.push('--timeout', String(opts.timeout || 2));
  if (opts.maxReportBytes) args.push('--max-report-bytes', String(opts.maxReportBytes));
  // The tests say so: no proof of work unless one asks for it (powBits).
  args.push('--pow-bits', String(opts.powBits || 0));
  if (opts.powTtl) args.push('--pow-ttl', String(opts.powTtl));
  if (opts.token) {
    const tf = path.join(dir, 'token');
    fs.writeFileSync(tf, opts.token + '\n', { mode: 0o600 });
    args.push('--export-token-file', tf);
  }
  if (!opts.web && !fs.existsSync(path.join(dir, 'web'))) makeWeb(path.join(dir, 'web'));
  const child = spawn(SEALTIPD, opts.rawArgs || args.concat(opts.extraArgs || []),
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd, env: opts.env ? { ...process.env, ...opts.env } : process.env });
  const srv = { child, dir, data, db: path.join(data, 'reports.db'), stdout: '', stderr: '', args };
  child.stdout.on('data', (b) => { srv.stdout += b.toString('latin1'); });
  child.stderr.on('data', (b) => { srv.stderr += b.toString('latin1'); });
  // 'close', not 'exit': only then has all it wrote been read, the lines
  // of its stop too ('exit' can come first).
  srv.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sealtipd did not start:\n' + srv.stdout + srv.stderr)), 10000);
    const check = () => {
      const m = /^listening on http:\/\/([0-9.]+):(\d+)\//m.exec(srv.stdout);
      if (m) {
        clearTimeout(timer);
        srv.host = m[1];
        srv.port = Number(m[2]);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error('sealtipd exited:\n' + srv.stdout + srv.stderr));
    });
  });
  srv.url = 'http://' + srv.host + ':' + srv.port;
  // Stopping also checks the server's health: under ASan/UBSan any report
  // on stderr, or an unclean exit after SIGTERM, fails the test.
  srv.stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const exit = await srv.exited;
    if (/Sanitizer|runtime error:/.test(srv.stderr)) throw new Error('sealtipd sanitizer report:\n' + srv.stderr);
    if (signal === 'SIGTERM' && exit.code !== 0 && exit.signal !== 'SIGKILL')
      throw new Error('sealtipd exited with ' + JSON.stringify(exit) + ':\n' + srv.stderr);
    return exit;
  };
  return srv;
}

function makeWeb(dir) {
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>sealtip</title>\n');
  fs.writeFileSync(path.join(dir, 'app.js'), 'console.log("hi");\n');
  fs.writeFileSync(path.join(dir, 'style.css'), 'body{}\n');
  fs.writeFileSync(path.join(dir, 'form.json'), '{}\n');
  fs.writeFileSync(path.join(dir, 'x.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  fs.writeFileSync(path.join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  fs.writeFileSync(path.join(dir, 'sub', 'page.html'), '<p>sub</p>\n');
  fs.writeFileSync(path.join(dir, '.hidden'), 'secret\n');
}

// One HTTP request with node's client (keep-alive off); body is collected.
function request(srv, method, urlPath, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: srv.host, port: srv.port, method, path: urlPath, agent: false, localAddress: '127.0.0.1',
      headers: Object.assign(body !== undefined ? { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length } : {}, headers),
    }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error('request timed out')));
    if (body !== undefined) req.end(body); else req.end();
  });
}

function post(srv, body, headers) {
  return request(srv, 'POST', '/api/v1/reports', { body, headers });
}

// Raw bytes over a socket; resolves with everything the server sent before
// it closed (or after idleMs of silence once something arrived).
function raw(srv, bytes, { closeAfterWrite = false, waitMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port: srv.port, host: srv.host, localAddress: '127.0.0.1' });
    const parts = [];
    const timer = setTimeout(() => { sock.destroy(); resolve(Buffer.concat(parts).toString('latin1')); }, waitMs);
    sock.on('connect', () => {
      sock.write(bytes);
      if (closeAfterWrite) sock.end();
    });
    sock.on('data', (d) => parts.push(d));
    sock.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(parts).toString('latin1')); });
    sock.on('error', (e) => { if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return; clearTimeout(timer); reject(e); });
  });
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest();
}

function leafHash(envelope) {
  return crypto.createHash('sha256').update(Buffer.from([0])).update(envelope).digest('base64');
}

// Proof of work (docs/api.md): the first nonce, counting from 0, such that
// SHA-256(challenge || leaf || nonce) has `bits` leading zero bits.
function powSolve(challenge, leaf, bits) {
  const prefix = Buffer.concat([Buffer.from(challenge, 'base64url'), leaf]);
  const nonce = Buffer.alloc(8);
  for (let n = 0; ; n++) {
    nonce.writeBigUInt64BE(BigInt(n));
    const d = crypto.createHash('sha256').update(prefix).update(nonce).digest();
    let zeros = 0;
    while (zeros < bits && ((d[zeros >> 3] >> (7 - (zeros & 7))) & 1) === 0) zeros++;
    if (zeros >= bits) return nonce.toString('hex');
  }
}

function powHeaderFor(challenge, bits, envelope) {
  const leaf = crypto.createHash('sha256').update(Buffer.from([0])).update(envelope).digest();
  return `challenge=${challenge}; leaf=${leaf.toString('hex')}; nonce=${powSolve(challenge, leaf, bits)}`;
}

// GET /api/v1/challenge and solve it for envelope -> the Sealtip-Pow value.
async function powHeader(srv, envelope) {
  const c = JSON.parse((await request(srv, 'GET', '/api/v1/challenge')).body);
  return powHeaderFor(c.challenge, c.bits, envelope);
}

// POST with a solved proof of work.
async function postPow(srv, body) {
  return post(srv, body, { 'Sealtip-Pow': await powHeader(srv, body) });
}

// Hash of the database and its WAL: what "nothing changed" means on disk.
function dbState(srv) {
  const h = crypto.createHash('sha256');
  for (const suffix of ['', '-wal']) {
    const f = srv.db + suffix;
    h.update(suffix + ':');
    if (fs.existsSync(f)) h.update(fs.readFileSync(f));
  }
  return h.digest('hex');
}

function runTool(args, opts = {}) {
  const r = spawnSync(SEALTIP, args, Object.assign({ encoding: 'latin1', timeout: 60000 }, opts));
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// sealtip export of the whole database (or after N) into a fresh file.
function exportDb(db, { after, check = false } = {}) {
  const out = path.join(tmpdir('sealtip-exp-'), 'export.bin');
  const args = ['export', '--db', db, '-o', out];
  if (after !== undefined) args.push('--after', String(after));
  if (check) args.push('--check');
  const r = runTool(args);
  if (r.status !== 0) throw new Error('sealtip export failed: ' + r.stderr);
  return { file: fs.readFileSync(out), stdout: r.stdout };
}

// Parses an export file v2 (docs/export.md) and checks every hash in it
// (the checkpoint's signature and root are sealtip's to check).
function parseExport(buf) {
  let off = 0;
  const need = (n) => { if (off + n > buf.length) throw new Error('export file truncated'); };
  need(38);
  if (buf.subarray(0, 8).toString('latin1') !== 'sealtipE') throw new Error('bad magic');
  if (buf[8] !== 2) throw new Error('bad version');
  const firstIndex = Number(buf.readBigUInt64LE(9));
  const treeSize = Number(buf.readBigUInt64LE(17));
  const keyLen = buf.readUInt16LE(25);
  const noteLen = buf.readUInt16LE(27);
  const proofSize = Number(buf.readBigUInt64LE(29));
  const proofLen = buf[37];
  let base = Math.min(firstIndex, treeSize);
  let frontierLen = 0;
  for (; base > 0; base = Math.floor(base / 2)) frontierLen += base % 2;
  off = 38;
  need(keyLen + noteLen + 32 * (frontierLen + proofLen));
  const verifierKey = buf.subarray(off, off + keyLen).toString('latin1');
  off += keyLen;
  const checkpoint = buf.subarray(off, off + noteLen).toString('utf8');
  off += noteLen;
  const frontier = [];
  for (let i = 0; i < frontierLen; i++, off += 32) frontier.push(buf.subarray(off, off + 32));
  const proof = [];
  for (let i = 0; i < proofLen; i++, off += 32) proof.push(buf.subarray(off, off + 32));
  const entries = [];
  for (;;) {
    need(1);
    const type = buf[off];
    if (type === 0x01) {
      need(59);
      const at = off;
      const index = Number(buf.readBigUInt64LE(off + 1));
      const day = buf.subarray(off + 9, off + 19).toString('latin1');
      const size = Number(buf.readBigUInt64LE(off + 19));
      const leaf = buf.subarray(off + 27, off + 59).toString('base64');
      off += 59;
      need(size);
      const envelope = buf.subarray(off, off + size);
      off += size;
      if (leafHash(envelope) !== leaf) throw new Error('leaf hash mismatch at ' + index);
      if (index !== firstIndex + entries.length) throw new Error('index out of sequence');
      entries.push({ index, day, size, leaf, envelope, offset: at });
    } else if (type === 0xff) {
      need(41);
      const count = Number(buf.readBigUInt64LE(off + 1));
      const digest = sha256(buf.subarray(0, off + 9));
      if (!digest.equals(buf.subarray(off + 9, off + 41))) throw new Error('file digest mismatch');
      if (count !== entries.length) throw new Error('count mismatch');
      if (off + 41 !== buf.length) throw new Error('trailing bytes');
      return { firstIndex, entries, treeSize, verifierKey, checkpoint, frontier, proofSize, proof };
    } else {
      throw new Error('unknown record type ' + type);
    }
  }
}

// A C2SP checkpoint note "origin\nsize\nroot\n" signed with a server's own
// log key (its data folder's log.key: "stlk", seed, public key), as that
// server would sign it: for statements the server never made.
function signCheckpoint(dataDir, origin, size, root) {
  const raw = fs.readFileSync(path.join(dataDir, 'log.key'));
  const [seed, pk] = [raw.subarray(4, 36), raw.subarray(36, 68)];
  const key = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const text = `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;
  const id = sha256(Buffer.concat([Buffer.from(origin + '\n'), Buffer.from([1]), pk])).subarray(0, 4);
  return text + '\n\u2014 ' + origin + ' ' + Buffer.concat([id, crypto.sign(null, Buffer.from(text), key)]).toString('base64') + '\n';
}

function readKeys() {
  return JSON.parse(fs.readFileSync(path.join(VECTORS, 'keys.json'), 'utf8'));
}

const SECURITY_HEADERS = {
  'content-security-policy': /default-src 'none'.*frame-ancestors 'none'/,
  'referrer-policy': /^no-referrer$/,
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^DENY$/,
  'cross-origin-opener-policy': /^same-origin$/,
  'cross-origin-resource-policy': /^same-origin$/,
  'permissions-policy': /camera=\(\).*geolocation=\(\).*microphone=\(\)/,
};

// Peak resident memory of a process, in KiB (Linux).
function peakRssKiB(pid) {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export {
  ROOT, BUILD, SEALTIPD, SEALTIP, VECTORS, GOOD, vector, tmpdir, startServer, request, post, raw,
  sha256, leafHash, signCheckpoint, powSolve, powHeaderFor, powHeader, postPow, dbState, runTool, exportDb, parseExport, SECURITY_HEADERS, sleep, makeWeb, readKeys, peakRssKiB,
};
