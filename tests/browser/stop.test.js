// The Stop button, in real Chromium against the real server, through a
// node proxy that slows or holds what passes and counts it: stopped during
// the upload (nothing stored, the envelope dropped, what was typed kept),
// during the proof of work (no POST, the worker ended), during the
// Retry-After countdown, and after the whole report was sent (it may be
// stored: said so, and "Try sending again" offered).
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';
import { exportDb, parseExport, sleep } from '../integration/helpers.js';

const STRINGS = {
  en: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'en.json'), 'utf8')),
  km: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'km.json'), 'utf8')),
};

function words(lang, key, values = {}) {
  return STRINGS[lang].ui[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

// The 503 the countdown test causes is a console error in Chromium.
const REFUSALS = /HTTP 503 for .*\/api\/v1\/reports|status of 503/;

// Rows in the server's database.
function rows(server) {
  return parseExport(exportDb(server.db).file).entries.length;
}

// The reports the server's log says it stored: counted, and written at
// the stop (docs/server.md, "What is logged"), so this stops it.
async function loggedAtStop(server) {
  await server.stop();
  const counts = [...server.stdout.matchAll(/^sealtipd: \d{4}-\d\d-\d\d(?: to the stop)?: (\d+) reports? stored, \d+ bytes$/mg)];
  assert.ok(counts.length > 0, server.stdout);
  return counts.reduce((n, m) => n + Number(m[1]), 0);
}

// A proxy in front of the real server, on its own loopback port, that
// counts what passes: challenges asked, and those the browser gave up on
// while held; report POSTs (Content-Length and Sealtip-Pow of each), those
// whose body came whole and those the browser cut short, which the server
// then gets cut short too. The tests set how it behaves: slowBody (bytes
// per second: a POST's body is read at that pace), holdChallenge (the
// challenge is never answered), holdAnswer (a report reaches the server,
// but its answer never comes back).
async function stopProxy(t, server) {
  const proxy = {
    challenges: 0, challengesCut: 0, posts: [], bodyBytes: 0, whole: 0, cut: 0, answersHeld: 0,
    slowBody: 0, holdChallenge: false, holdAnswer: false,
  };
  proxy.url = await h.serveOnLoopback(t, (request, response) => {
    const isPost = request.method === 'POST' && request.url === '/api/v1/reports';
    if (request.url === '/api/v1/challenge') {
      proxy.challenges++;
      if (proxy.holdChallenge) {
        response.on('close', () => { if (!response.writableFinished) proxy.challengesCut++; });
        request.resume();
        return;
      }
    }
    const upstream = h.forward(server, request, response, (answer) => {
      if (!isPost || !proxy.holdAnswer) return false;
      proxy.answersHeld++;
      answer.resume();
      return true;
    });
    if (!isPost) {
      request.pipe(upstream);
      return;
    }
    proxy.posts.push({ length: Number(request.headers['content-length']), pow: request.headers['sealtip-pow'] });
    request.on('error', () => {});
    request.on('data', (chunk) => {
      proxy.bodyBytes += chunk.length;
      upstream.write(chunk);
      if (proxy.slowBody > 0) {
        request.pause();
        setTimeout(() => request.resume(), (chunk.length / proxy.slowBody) * 1000);
      }
    });
    request.on('end', () => {
      proxy.whole++;
      upstream.end();
    });
    request.on('close', () => {
      if (request.complete) return;
      proxy.cut++;
      upstream.destroy();
    });
  });
  return proxy;
}

async function newPage(t, url, options = {}) {
  const context = await h.launch(t, options);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, url);
  await h.openPage(page, { url });
  return { page, seen };
}

async function until(condition, what, ms = 30000) {
  for (const end = Date.now() + ms; !condition();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const focused = (page) => page.evaluate(() => document.activeElement.id);
const fileNames = (page) => page.$$eval('#file-list li bdi', (names) => names.map((name) => name.textContent));

test('Stop during the upload: nothing stored, "nothing was sent", what was typed and the files kept, the envelope dropped', async (t) => {
  // sealtipd often notices a body cut short only at its idle timeout (the
  // end of the connection came right behind bytes it had not read yet:
  // libmicrohttpd 0.9.75 with epoll), and waits for it when it stops; a
  // short one keeps the end of the test quick.
  const server = await h.startPageServer(t, { timeout: 5 });
  const proxy = await stopProxy(t, server);
  const { page, seen } = await newPage(t, proxy.url, { viewport: { width: 360, height: 800 } });
  const dir = h.tmpdir();
  // Larger than what loopback buffers take at once (about 6 MB here), so
  // that the upload is still going when Stop is pressed.
  const photo = h.writeRandomFile(dir, 'photo-with-my-face.jpg', 16 * 1024 * 1024);
  const note = path.join(dir, 'receipt-scan.txt');
  fs.writeFileSync(note, 'a scan of the receipt the officer wrote');
  const what = 'The officer asked for 300 USD to release the car.';
  await page.fill('#field-what', what);
  await page.fill('#field-place', 'Checkpoint on the road to the border');
  await page.setInputFiles('#files', [photo, note]);
  assert.strictEqual(await page.isVisible('#stop'), false, 'no Stop before Send');

  proxy.slowBody = 256 * 1024;
  await page.click('#send');
  await page.waitForFunction(() => /^Sending… \d+%$/.test(document.getElementById('progress-status').textContent));
  await until(() => proxy.bodyBytes >= 1024 * 1024, 'a MiB of the body at the proxy');
  assert.strictEqual(await page.isVisible('#stop'), true);
  assert.strictEqual(await page.textContent('#stop'), words('en', 'stop'));
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'no sideways scrolling at 360 px');
  await page.screenshot({ path: h.screenshotPath('sending-en-360.png'), fullPage: true });
  assert.strictEqual(proxy.posts.length, 1);
  assert.strictEqual(proxy.whole, 0);

  await page.click('#stop');
  assert.strictEqual(await page.textContent('#failure-text'), words('en', 'stopped_nothing_sent'));
  assert.strictEqual(await page.isVisible('#failure'), true);
  assert.strictEqual(await page.isVisible('#retry'), false, 'no "Try sending again": the envelope is dropped');
  assert.strictEqual(await page.isVisible('#progress'), false);
  assert.strictEqual(await page.isVisible('#stop'), false);
  assert.strictEqual(await focused(page), 'send');
  assert.strictEqual(await page.isEnabled('#send'), true);
  assert.strictEqual(await page.inputValue('#field-what'), what);
  assert.strictEqual(await page.inputValue('#field-place'), 'Checkpoint on the road to the border');
  assert.deepStrictEqual(await fileNames(page), ['photo-with-my-face.jpg', 'receipt-scan.txt']);

  // The bytes already on their way still reach the server, then the end of
  // the connection: the body is cut short, and the server stores nothing.
  proxy.slowBody = 0;
  await until(() => proxy.cut === 1, 'the proxy to see the POST cut short');
  assert.ok(proxy.bodyBytes < proxy.posts[0].length, `${proxy.bodyBytes} of ${proxy.posts[0].length} bytes`);
  await sleep(1000);
  assert.strictEqual(rows(server), 0);
  assert.strictEqual(proxy.posts.length, 1, 'no POST after Stop');
  assert.strictEqual(proxy.whole, 0);
  assert.strictEqual(proxy.challenges, 1);

  // The wrong photo removed, Send seals what is on screen: a new envelope,
  // a new challenge, a smaller body.
  await page.click('#file-list li:first-child button.remove');
  assert.deepStrictEqual(await fileNames(page), ['receipt-scan.txt']);
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(await page.isVisible('#stop'), false);
  assert.strictEqual(proxy.posts.length, 2);
  assert.strictEqual(proxy.challenges, 2);
  assert.strictEqual(proxy.whole, 1);
  assert.strictEqual(proxy.cut, 1);
  assert.ok(proxy.posts[1].length < 1024 * 1024, `${proxy.posts[1].length} bytes`);
  const leaf = (post) => /leaf=([0-9a-f]{64})/.exec(post.pow)[1];
  assert.notStrictEqual(leaf(proxy.posts[1]), leaf(proxy.posts[0]));
  assert.strictEqual(rows(server), 1);
  const [report] = h.exportAndOpen(server);
  assert.strictEqual(report.manifest.fields.what, what);
  assert.deepStrictEqual(report.manifest.files.map((file) => file.name), ['receipt-scan.txt']);
  seen.check();
  assert.strictEqual(await loggedAtStop(server), 1);
});

test('Stop while the challenge is asked, then during the proof of work: no POST, the worker ended, nothing more shown', async (t) => {
  // 2^30 tries expected: minutes of work, Stop comes long before.
  const server = await h.startPageServer(t, { powBits: 30 });
  const proxy = await stopProxy(t, server);
  const { page, seen } = await newPage(t, proxy.url);
  const workers = [];
  page.on('worker', (worker) => {
    const entry = { closed: false };
    worker.on('close', () => { entry.closed = true; });
    workers.push(entry);
  });
  // Every message the proof-of-work worker sends the page, counted.
  await page.evaluate(() => {
    window.sealtipTestPowMessages = 0;
    const PageWorker = window.Worker;
    window.Worker = class extends PageWorker {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', () => { window.sealtipTestPowMessages++; });
      }
    };
  });
  const what = 'A fee to get the land title signed.';
  await page.fill('#field-what', what);

  proxy.holdChallenge = true;
  await page.click('#send');
  await page.waitForFunction((text) => document.getElementById('progress-status').textContent === text,
    words('en', 'status_pow', { percent: 0 }));
  await until(() => proxy.challenges === 1, 'the challenge at the proxy');
  await page.click('#stop');
  assert.strictEqual(await page.textContent('#failure-text'), words('en', 'stopped_nothing_sent'));
  assert.strictEqual(await focused(page), 'send');
  await until(() => proxy.challengesCut === 1, 'the held challenge given up by the browser');
  assert.strictEqual(workers.length, 0, 'no worker without a challenge');

  proxy.holdChallenge = false;
  await page.click('#send');
  await page.waitForFunction(() => window.sealtipTestPowMessages > 20);
  assert.strictEqual(workers.length, 1);
  assert.strictEqual(await page.isVisible('#stop'), true);
  await page.click('#stop');
  assert.strictEqual(await page.textContent('#failure-text'), words('en', 'stopped_nothing_sent'));
  assert.strictEqual(await page.isVisible('#retry'), false);
  assert.strictEqual(await focused(page), 'send');
  assert.strictEqual(await page.inputValue('#field-what'), what);
  await until(() => workers[0].closed, 'the worker to be ended', 5000);
  await sleep(200);
  const messages = await page.evaluate(() => window.sealtipTestPowMessages);
  const status = await page.textContent('#progress-status');
  await sleep(1500);
  assert.strictEqual(await page.evaluate(() => window.sealtipTestPowMessages), messages, 'no message from the worker after Stop');
  assert.strictEqual(await page.textContent('#progress-status'), status);
  assert.strictEqual(await page.textContent('#failure-text'), words('en', 'stopped_nothing_sent'));
  assert.strictEqual(proxy.challenges, 2);
  assert.strictEqual(proxy.posts.length, 0);
  assert.strictEqual(seen.requests.filter((request) => request.method() === 'POST').length, 0);
  assert.strictEqual(rows(server), 0);
  seen.check({ allow: /net::ERR_ABORTED/ });
  assert.strictEqual(await loggedAtStop(server), 0);
});

test('Stop during the Retry-After countdown, reached with Tab (in Khmer, 360 px): nothing sent by itself afterwards', async (t) => {
  const server = await h.startPageServer(t);
  const proxy = await stopProxy(t, server);
  const { page, seen } = await newPage(t, proxy.url, { locale: 'km', viewport: { width: 360, height: 800 } });
  await page.waitForFunction(() => document.documentElement.lang === 'km');
  // The first POST refused as a busy server refuses, with Retry-After: 5.
  await page.route('**/api/v1/reports', (route) => route.fulfill({ status: 503, headers: { 'Retry-After': '5' },
    json: { error: 'busy', message: 'refused by the test' } }), { times: 1 });
  const what = 'មន្ត្រីបានសុំលុយ ២០០ ដុល្លារ។';
  await page.fill('#field-what', what);
  await page.click('#send');
  await page.waitForSelector('#waiting:not([hidden])');
  assert.strictEqual(await page.isVisible('#stop'), true);
  assert.strictEqual(await page.textContent('#stop'), words('km', 'stop'));
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'no sideways scrolling at 360 px');
  await page.screenshot({ path: h.screenshotPath('waiting-km-360.png'), fullPage: true });

  // From the last answer, Tab reaches Stop past the disabled Send.
  await page.focus('#field-other');
  for (let step = 0; step < 10 && await focused(page) !== 'stop'; step++) await page.keyboard.press('Tab');
  assert.strictEqual(await focused(page), 'stop');
  await page.keyboard.press('Enter');
  assert.strictEqual(await page.isVisible('#waiting'), false);
  assert.strictEqual(await page.isVisible('#stop'), false);
  assert.strictEqual(await page.textContent('#failure-text'), words('km', 'stopped_nothing_sent'));
  assert.strictEqual(await page.isVisible('#retry'), false);
  assert.strictEqual(await focused(page), 'send');
  assert.strictEqual(await page.inputValue('#field-what'), what);
  await sleep(6000);
  assert.strictEqual(proxy.challenges, 1);
  assert.strictEqual(proxy.posts.length, 0, 'the refused POST never reached the proxy, and none followed');
  assert.strictEqual(await page.textContent('#failure-text'), words('km', 'stopped_nothing_sent'));

  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(proxy.challenges, 2, 'a new envelope, a new proof');
  assert.strictEqual(proxy.posts.length, 1);
  assert.strictEqual(rows(server), 1);
  assert.strictEqual(h.exportAndOpen(server)[0].manifest.fields.what, what);
  seen.check({ allow: REFUSALS });
  assert.strictEqual(await loggedAtStop(server), 1);
});

test('Stop after the whole report was sent, before the answer: "may already be stored", and "Try sending again" sends it again', async (t) => {
  const server = await h.startPageServer(t);
  const proxy = await stopProxy(t, server);
  const { page, seen } = await newPage(t, proxy.url);
  const what = 'A fee for a business licence, paid to the clerk.';
  await page.fill('#field-what', what);
  proxy.holdAnswer = true;
  await page.click('#send');
  await page.waitForFunction((text) => document.getElementById('progress-status').textContent === text,
    words('en', 'status_storing'));
  await until(() => proxy.answersHeld === 1, 'the answer held at the proxy');
  assert.strictEqual(proxy.whole, 1);
  assert.strictEqual(rows(server), 1, 'the server stored it; the page cannot know');

  await page.click('#stop');
  assert.strictEqual(await page.textContent('#failure-text'), words('en', 'stopped_maybe_stored'));
  assert.strictEqual(await page.isVisible('#retry'), true);
  assert.strictEqual(await focused(page), 'retry');
  assert.strictEqual(await page.isVisible('#stop'), false);
  assert.strictEqual(await page.inputValue('#field-what'), what);
  await sleep(1000);
  assert.strictEqual(proxy.posts.length, 1);

  proxy.holdAnswer = false;
  await page.click('#retry');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(proxy.posts.length, 2);
  // The proof may have been spent with the first POST: a new challenge.
  assert.strictEqual(proxy.challenges, 2);
  assert.strictEqual(proxy.posts[0].length, proxy.posts[1].length);
  const reports = h.exportAndOpen(server);
  assert.strictEqual(reports.length, 2, 'stored twice, as the page said it might be');
  assert.deepStrictEqual(reports[1].leaf, reports[0].leaf);
  seen.check({ allow: /net::ERR_ABORTED/ });
  assert.strictEqual(await loggedAtStop(server), 2);
});
