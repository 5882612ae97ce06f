// Shared by the browser tests: Debian's Chromium driven by playwright-core,
// the real sealtipd serving the built page (build/web), and the way back
// through `sealtip export` + `sealtip open`. Nothing is mocked.
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  BUILD, ROOT, startServer, runTool, exportDb, parseExport, tmpdir as integrationTmpdir,
} from '../integration/helpers.js';

export { BUILD, ROOT };
export const WEB = path.join(BUILD, 'web');
export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Temp folders (20 MiB attachments, decrypted reports, profiles) go when the
// test process ends: the integration helpers' tmpdir removes them.
export function tmpdir(prefix = 'sealtip-browser-') {
  return integrationTmpdir(prefix);
}

// The page is tested with the puzzle on, at sealtipd's default difficulty
// (CONFIG_DEFAULT_POW_BITS); a test may pass its own powBits.
export const POW_BITS = 18;

// A fresh investigator key and a server sealing to it, serving build/web.
export async function startPageServer(t, options = {}) {
  assert.ok(fs.existsSync(path.join(WEB, 'vendor', 'sodium.js')), `${WEB} is not built: run make web`);
  const dir = tmpdir('sealtip-browser-srv-');
  const keygen = runTool(['keygen', '--unprotected', '-o', path.join(dir, 'inv')]);
  assert.strictEqual(keygen.status, 0, keygen.stderr);
  const server = await startServer({ dir, recipients: [path.join(dir, 'inv.pub')], web: WEB, timeout: 30, powBits: POW_BITS, ...options });
  server.key = path.join(dir, 'inv.key');
  server.pub = path.join(dir, 'inv.pub');
  t.after(() => server.stop());
  return server;
}

// A browser with a fresh profile; jitless: V8 without JIT and WebAssembly,
// like Tor Browser at "Safer"; args: more Chromium switches. Closed after
// the test.
export async function launch(t, { jitless = false, locale = 'en-US', viewport = { width: 1280, height: 900 }, javaScriptEnabled = true, args = [] } = {}) {
  const profile = tmpdir('sealtip-browser-profile-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(jitless ? ['--js-flags=--jitless'] : []), ...args],
    locale,
    viewport,
    javaScriptEnabled,
    acceptDownloads: true,
  });
  t.after(() => context.close());
  return context;
}

// Watches a page for what must never happen: a request to another origin, a
// CSP violation, a console error, an uncaught error. check() asserts none
// happened; requests are kept for the tests' own assertions.
export async function watch(page, origin) {
  const seen = { requests: [], violations: [], errors: [] };
  await page.exposeFunction('__sealtipViolation', (text) => seen.violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__sealtipViolation(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  page.on('request', (request) => seen.requests.push(request));
  page.on('response', (response) => {
    if (response.status() >= 400) seen.errors.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
      seen.errors.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => seen.errors.push(`page error: ${error.message}`));
  // allow: console errors a test causes on purpose (an aborted request).
  seen.check = ({ allow = null } = {}) => {
    assert.deepStrictEqual(seen.violations, [], 'CSP violations');
    assert.deepStrictEqual(seen.errors.filter((error) => !(allow && allow.test(error))), [], 'console errors');
    const elsewhere = seen.requests.map((request) => request.url()).filter((url) => new URL(url).origin !== origin);
    assert.deepStrictEqual(elsewhere, [], 'requests to other origins');
  };
  return seen;
}

// Opens the page and waits until it can send (libsodium ready, keys checked).
export async function openPage(page, server) {
  await page.goto(server.url + '/');
  await page.waitForSelector('#send:not([disabled])', { timeout: 60000 });
}

// Bytes of a file that are not all one value, so a misplaced chunk shows.
export function writeRandomFile(dir, name, size) {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  for (let left = size; left > 0; left -= 1 << 20) fs.writeSync(fd, crypto.randomBytes(Math.min(left, 1 << 20)));
  fs.closeSync(fd);
  return file;
}

// Everything the server stored, opened offline with the investigator key
// (labels: a web/i18n/*.json for report.txt's questions):
// -> [{index, leaf, envelope, exportFile, manifest, reportJson (Buffer), reportTxt, files: {name: Buffer}}].
export function exportAndOpen(server, { labels } = {}) {
  const dir = tmpdir('sealtip-browser-open-');
  const exportFile = path.join(dir, 'export.bin');
  const exported = exportDb(server.db, {}).file;
  fs.writeFileSync(exportFile, exported);
  const out = path.join(dir, 'opened');
  const labelArgs = labels ? ['--labels', labels] : [];
  const opened = runTool(['open', '-k', server.key, ...labelArgs, '-o', out, exportFile], { encoding: 'utf8' });
  assert.strictEqual(opened.status, 0, opened.stderr);
  return parseExport(exported).entries.map((entry) => {
    const folder = path.join(out, `report-${String(entry.index).padStart(6, '0')}`);
    const reportJson = fs.readFileSync(path.join(folder, 'report.json'));
    const filesDir = path.join(folder, 'files');
    const files = {};
    for (const name of fs.existsSync(filesDir) ? fs.readdirSync(filesDir).sort() : []) {
      files[name] = fs.readFileSync(path.join(filesDir, name));
    }
    return {
      index: entry.index,
      leaf: entry.leaf,
      envelope: entry.envelope,
      exportFile: exported,
      manifest: JSON.parse(reportJson.toString('utf8')),
      reportJson,
      reportTxt: fs.readFileSync(path.join(folder, 'report.txt'), 'utf8'),
      files,
    };
  });
}

export function screenshotPath(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

// Serves handler(request, response) on a free loopback port until the test
// ends, for the tests' proxies in front of the real server. -> its URL.
export async function serveOnLoopback(t, handler) {
  const listener = http.createServer(handler);
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    listener.closeAllConnections();
    listener.close();
  });
  return `http://127.0.0.1:${listener.address().port}`;
}

// The same request to the real server; its answer goes back to response
// unless keep(answer) says the caller took it. -> the request to the server,
// for the caller to send the body into.
export function forward(server, request, response, keep = () => false) {
  const target = new URL(server.url);
  const upstream = http.request({ host: target.hostname, port: target.port, method: request.method,
    path: request.url, headers: request.headers }, (answer) => {
    if (keep(answer)) return;
    response.writeHead(answer.statusCode, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => response.destroy());
  return upstream;
}

// A reverse proxy whose upstream stored the report but whose answer never
// got back (its own timeout): the upstream's answer is dropped, and a
// second later the proxy says 504 with an HTML page of its own.
export function gatewayTimeoutLater(answer, response) {
  answer.resume();
  setTimeout(() => {
    response.writeHead(504, { 'Content-Type': 'text/html' });
    response.end('<html><body><h1>504 Gateway Time-out</h1></body></html>');
  }, 1000);
}

// A page in Chromium, its fake clock installed, whose requests for
// libsodium's script go to hold(request, response, n) (n counts them from
// 1; one it leaves unanswered is held) and the rest to the server. Waits
// until the first script was asked for. -> {page, seen, scripts (the URLs
// asked for)}
export async function pageWithSodiumHeld(t, server, hold) {
  const scripts = [];
  let heard;
  const asked = new Promise((resolve) => { heard = resolve; });
  const url = await serveOnLoopback(t, (request, response) => {
    if (request.url.startsWith('/vendor/sodium.js')) {
      scripts.push(request.url);
      hold(request, response, scripts.length);
      heard();
      return;
    }
    request.pipe(forward(server, request, response));
  });
  const context = await launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await watch(page, url);
  await page.clock.install();
  await page.goto(url + '/');
  await asked;
  return { page, seen, scripts };
}

// The page's strings, as web/i18n/ holds them.
export const STRINGS = {
  en: JSON.parse(fs.readFileSync(path.join(ROOT, 'web', 'i18n', 'en.json'), 'utf8')),
  km: JSON.parse(fs.readFileSync(path.join(ROOT, 'web', 'i18n', 'km.json'), 'utf8')),
};

// The page's own words with {name} filled in, as i18n.translate does.
export function words(lang, key, values = {}) {
  return STRINGS[lang].ui[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

// "Sending failed: <reason>", as the page says a refusal.
export function refusedWith(lang, reason) {
  return words(lang, 'upload_failed', { reason: words(lang, reason) });
}
