// The page in Firefox ESR, the browser Tor Browser is built on, driven by
// puppeteer-core over WebDriver BiDi (Debian's firefox-esr; no browser is
// downloaded). The rest of the browser tests run in Chromium; these check
// what Firefox does its own way: WebAssembly switched off as Tor Browser's
// "Safer" level does, resistFingerprinting as Tor Browser sets it, file
// inputs, and the upload events the page reads to tell whether the whole
// report went before an answer (upload.js: Firefox fires the upload's load
// only once the answer begins).
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import * as h from './helpers.js';
import { runTool } from '../integration/helpers.js';

const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const FORM = JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'form.json'), 'utf8'));

// Tor Browser's settings that change what a page can do; safer: its
// "Safer" level, which turns WebAssembly off.
function torBrowserPrefs({ safer }) {
  return {
    'privacy.resistFingerprinting': true,
    'privacy.spoof_english': 2,
    'intl.accept_languages': 'en-US, en',
    ...(safer ? { 'javascript.options.wasm': false } : {}),
  };
}

// Firefox with a fresh profile, closed after the test -> a page in it,
// watched as h.watch does for Chromium: requests, console errors, page
// errors (CSP violations show as console errors in Firefox).
async function firefoxPage(t, server, prefs) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: h.tmpdir('sealtip-firefox-profile-'),
    extraPrefsFirefox: prefs,
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const seen = { requests: [], errors: [] };
  page.on('request', (request) => seen.requests.push({ url: request.url(), method: request.method(), headers: request.headers() }));
  page.on('response', (response) => {
    if (response.status() >= 400) seen.errors.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content-Security-Policy|Content Security Policy/i.test(message.text())) {
      seen.errors.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => seen.errors.push(`page error: ${error.message}`));
  seen.check = ({ allow = null } = {}) => {
    assert.deepStrictEqual(seen.errors.filter((error) => !(allow && allow.test(error))), [], 'console errors');
    // data: URLs leave nothing to the network (Firefox draws its form
    // controls with a font of its own loaded that way, on any page).
    const origin = new URL(server.url).origin;
    assert.deepStrictEqual(seen.requests.map(({ url }) => url)
      .filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin), [], 'requests to other origins');
  };
  await page.goto(server.url + '/');
  await page.waitForSelector('#send:not([disabled])', { timeout: 60000 });
  return { page, seen };
}

// No page.waitForFunction here: puppeteer builds its function with
// Function(), which the page's CSP forbids, and Firefox ESR 140 holds
// WebDriver's own scripts to it (153 does not). waitForSelector is exempt.
const text = (page, selector) => page.$eval(selector, (element) => element.textContent);
const hidden = (page, selector) => page.$eval(selector, (element) => element.hidden);

async function fill(page, selector, value) {
  await page.$eval(selector, (element) => { element.value = ''; });
  await page.type(selector, value);
}

test('Firefox ESR as Tor Browser at "Safer" (no WebAssembly, resistFingerprinting): every field, two files, receipt verified, opened offline', async (t) => {
  const marker = `M${crypto.randomBytes(4).toString('hex')}`;
  const dir = h.tmpdir();
  const big = h.writeRandomFile(dir, 'ledger-photo.jpg', 2 * 1024 * 1024 + 4321);
  const small = path.join(dir, `notes-${marker}.txt`);
  fs.writeFileSync(small, `The deputy chief asked for a Rolex. ${marker}\n`);
  const server = await h.startPageServer(t);
  const { page, seen } = await firefoxPage(t, server, torBrowserPrefs({ safer: true }));

  assert.deepStrictEqual(await page.evaluate(() => [typeof WebAssembly, navigator.userAgent.includes('Firefox/')]), ['undefined', true]);
  assert.strictEqual(await page.$eval('html', (element) => element.lang), 'en');
  const fingerprint = runTool(['fingerprint', server.pub]).stdout.trim().split(/\s{2,}/)[1];
  assert.deepStrictEqual(await page.$$eval('#key-list li', (items) => items.map((item) => item.textContent)), [fingerprint]);

  const answers = {};
  for (const field of FORM.fields) {
    if (field.type === 'checkboxes') {
      answers[field.id] = [field.options[0]];
      await page.click(`#field-${field.id}-${field.options[0]}`);
    } else if (field.type === 'radio') {
      answers[field.id] = field.options[0];
      await page.click(`#field-${field.id}-${field.options[0]}`);
    } else {
      answers[field.id] = `${marker} ${field.type === 'textarea' ? 'line one\nline two ' : ''}${field.id}`.slice(0, field.max_length);
      await fill(page, `#field-${field.id}`, answers[field.id]);
    }
  }
  const input = await page.$('#files');
  await input.uploadFile(big, small);
  await page.waitForSelector('#file-list li:nth-child(2)');
  assert.strictEqual(await page.$$eval('#file-list li', (items) => items.length), 2);

  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 300000 });
  await page.waitForSelector('#receipt-status[data-outcome]', { timeout: 60000 });
  assert.strictEqual(await page.$eval('#receipt-status', (element) => element.dataset.outcome), 'verified');
  assert.strictEqual(await text(page, '#receipt-status'), h.words('en', 'receipt_verified'));
  assert.strictEqual(await hidden(page, '#receipt-mismatch'), true, 'the page computed the leaf hash the server did');
  const shown = { index: Number(await text(page, '#receipt-index')), leaf: await text(page, '#receipt-leaf') };

  // Nothing kept in the browser.
  assert.deepStrictEqual(await page.evaluate(async () => ({
    local: localStorage.length, session: sessionStorage.length, cookie: document.cookie,
    what: document.getElementById('field-what').value,
  })), { local: 0, session: 0, cookie: '', what: '' });
  // One POST, to the server, without the marker in its URL or headers.
  const posts = seen.requests.filter(({ method }) => method === 'POST');
  assert.deepStrictEqual(posts.map(({ url }) => url), [`${server.url}/api/v1/reports`]);
  for (const request of seen.requests) {
    assert.ok(!request.url.includes(marker) && !JSON.stringify(request.headers).includes(marker));
  }
  // libsodium.js's fallback leaves one rejection behind, which app.js's
  // unhandledrejection handler prevents; Firefox's WebDriver BiDi reports
  // a prevented rejection all the same (seen with a bare data: page).
  seen.check({ allow: /^page error: ReferenceError: WebAssembly is not defined/ });

  // Offline: every answer and every byte.
  const [report, ...others] = h.exportAndOpen(server);
  assert.strictEqual(others.length, 0);
  assert.deepStrictEqual({ index: report.index, leaf: report.leaf }, shown);
  assert.deepStrictEqual(report.manifest.fields, answers);
  assert.deepStrictEqual(report.manifest.files.map(({ name, size }) => ({ name, size })), [
    { name: 'ledger-photo.jpg', size: fs.statSync(big).size },
    { name: `notes-${marker}.txt`, size: fs.statSync(small).size },
  ]);
  const opened = Object.values(report.files);
  assert.ok(opened[0].equals(fs.readFileSync(big)), 'the 2 MiB attachment, byte for byte');
  assert.ok(opened[1].equals(fs.readFileSync(small)), 'the small one');
  for (const suffix of ['', '-wal']) {
    if (fs.existsSync(server.db + suffix)) assert.ok(!fs.readFileSync(server.db + suffix).includes(marker), `reports.db${suffix}`);
  }
});

// The report's POST answered by a proxy in front of the real server:
// answer(request, response, server) handles it, anything else is passed on.
async function proxyFor(t, server, answer) {
  const proxy = { posts: 0 };
  proxy.url = await h.serveOnLoopback(t, (request, response) => {
    if (request.method === 'POST' && request.url === '/api/v1/reports') {
      proxy.posts++;
      answer(request, response);
      return;
    }
    request.pipe(h.forward(server, request, response));
  });
  return proxy;
}

test('Firefox ESR: a proxy\'s 504 a second after the whole report went is "may be stored"; its own 413 before the body is "too large"', async (t) => {
  const server = await h.startPageServer(t);
  const dir = h.tmpdir();
  const what = 'The officer at the land office asked for 300 USD.';

  // A gateway whose upstream stored the report but whose answer was lost.
  const gateway = await proxyFor(t, server, (request, response) => {
    request.pipe(h.forward(server, request, response, (answer) => {
      h.gatewayTimeoutLater(answer, response);
      return true;
    }));
  });
  let { page, seen } = await firefoxPage(t, { ...server, url: gateway.url }, torBrowserPrefs({ safer: false }));
  assert.strictEqual(await page.evaluate(() => typeof WebAssembly), 'object');
  await fill(page, '#field-what', what);
  await (await page.$('#files')).uploadFile(h.writeRandomFile(dir, 'deed.jpg', 300 * 1024));
  await page.click('#send');
  await page.waitForSelector('#failure:not([hidden])', { timeout: 60000 });
  assert.strictEqual(await text(page, '#failure-text'), h.words('en', 'upload_unknown'));
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'retry');
  assert.strictEqual(gateway.posts, 1);
  assert.strictEqual(h.exportAndOpen(server).length, 1, 'it was stored');
  seen.check({ allow: /HTTP 504 for .*\/api\/v1\/reports/ });

  // An nginx-like proxy refusing from the headers alone (its body size
  // limit), never reading the 16 MiB body.
  const limit = await proxyFor(t, server, (request, response) => {
    request.pause();
    response.writeHead(413, { 'Content-Type': 'text/html' });
    response.end('<html><body><center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>');
  });
  ({ page, seen } = await firefoxPage(t, { ...server, url: limit.url }, torBrowserPrefs({ safer: false })));
  await fill(page, '#field-what', what);
  await (await page.$('#files')).uploadFile(h.writeRandomFile(dir, 'scan.jpg', 16 << 20));
  await page.click('#send');
  await page.waitForSelector('#failure:not([hidden])', { timeout: 120000 });
  assert.strictEqual(await text(page, '#failure-text'), h.refusedWith('en', 'reason_too_large'));
  assert.strictEqual(await page.$eval('#retry', (element) => element.hidden || getComputedStyle(element).display === 'none'), true,
    'sending the same envelope again could not help');
  assert.strictEqual(limit.posts, 1);
  assert.strictEqual(await page.$eval('#field-what', (element) => element.value), what);
  assert.strictEqual(h.exportAndOpen(server).length, 1, 'nothing more reached the server');
  seen.check({ allow: /HTTP 413 for .*\/api\/v1\/reports/ });
});
