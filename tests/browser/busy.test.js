// A busy server, in real Chromium against the real server: the proof of
// work goes again with the retry when the refusal left it unspent and its
// challenge is still fresh. The requests are counted by a proxy in front.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as h from './helpers.js';
import { sleep } from '../integration/helpers.js';

const STRINGS = {
  en: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'en.json'), 'utf8')),
  km: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'km.json'), 'utf8')),
};

// The page's own words with {name} filled in, as i18n.translate does.
function words(lang, key, values = {}) {
  return STRINGS[lang].ui[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

function refusedWith(lang, reason) {
  return words(lang, 'upload_failed', { reason: words(lang, reason) });
}

// The refusals the tests cause are console errors in Chromium.
const REFUSALS = /HTTP 50[37] for .*\/api\/v1\/reports|status of 50[37]/;

// A refusal as the server words it; retryAfter null: no Retry-After header.
function refusal(code, retryAfter, status = 503) {
  return { status, headers: retryAfter === null ? {} : { 'Retry-After': retryAfter },
    body: { error: code, message: 'refused by the test proxy' } };
}

// A proxy in front of the real server, on its own loopback port. It counts
// the challenges asked and keeps the Sealtip-Pow of every report POST, and
// passes everything on, except the POSTs that refuse(n) (n: the POST's
// number, from 1) answers itself with {status, headers, body}: those the
// server never sees.
async function countingProxy(t, server, refuse = () => null) {
  const proxy = { challenges: 0, posts: [], refuse };
  const target = new URL(server.url);
  const listener = http.createServer((request, response) => {
    if (request.url === '/api/v1/challenge') proxy.challenges++;
    if (request.method === 'POST' && request.url === '/api/v1/reports') {
      proxy.posts.push(request.headers['sealtip-pow']);
      const answer = proxy.refuse(proxy.posts.length);
      if (answer) {
        // Once the body is in, so that the page surely hears it.
        request.resume();
        request.on('end', () => {
          response.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
          response.end(JSON.stringify(answer.body));
        });
        return;
      }
    }
    const upstream = http.request({ host: target.hostname, port: target.port, method: request.method,
      path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    listener.closeAllConnections();
    listener.close();
  });
  proxy.url = `http://127.0.0.1:${listener.address().port}`;
  return proxy;
}

async function newPage(t, url) {
  const context = await h.launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, url);
  await h.openPage(page, { url });
  return { page, seen };
}

test('busy, pow_busy, quota_full: the proof the server did not spend goes again with "Try sending again"', async (t) => {
  const server = await h.startPageServer(t);
  const answers = [
    refusal('busy', null), refusal('busy', '5'), // the upload slot is checked before the proof
    refusal('pow_busy', null), // the spent set was full: nothing recorded
    refusal('quota_full', null, 507), // the quota is checked before the proof too
  ];
  const proxy = await countingProxy(t, server, (n) => answers[n - 1] || null);
  const { page, seen } = await newPage(t, proxy.url);
  await page.fill('#field-what', 'A fee for a driving licence.');
  for (const [i, answer] of answers.entries()) {
    await page.click(i === 0 ? '#send' : '#retry');
    await page.waitForSelector('#failure:not([hidden])');
    const what = `${answer.body.error} ${answer.headers['Retry-After']}`;
    const reason = answer.status === 507 ? 'reason_storage' : 'reason_busy';
    assert.strictEqual(await page.textContent('#failure-text'), refusedWith('en', reason), what);
    assert.strictEqual(await page.isVisible('#retry'), true, what);
  }
  assert.strictEqual(proxy.posts.length, answers.length, 'one POST per press');

  await page.click('#retry');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(proxy.posts.length, answers.length + 1);
  assert.strictEqual(proxy.challenges, 1, 'every press sent the one proof');
  assert.strictEqual(new Set(proxy.posts).size, 1);
  assert.strictEqual(h.exportAndOpen(server).length, 1);
  seen.check({ allow: REFUSALS });
});

test('a kept proof whose challenge is about to expire is not sent again: a new challenge', async (t) => {
  // Challenges valid 15 s: the page sends a kept proof only with 10 s left.
  const server = await h.startPageServer(t, { powTtl: 15 });
  const proxy = await countingProxy(t, server, (n) => (n <= 2 ? refusal('busy', null) : null));
  const { page, seen } = await newPage(t, proxy.url);
  await page.fill('#field-what', 'A fee for a building permit.');
  await page.click('#send');
  await page.waitForSelector('#failure:not([hidden])');
  await page.click('#retry');
  await page.waitForSelector('#failure:not([hidden])');
  assert.strictEqual(proxy.posts.length, 2);
  assert.strictEqual(proxy.challenges, 1, 'kept while fresh');
  await sleep(6000);
  await page.click('#retry');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(proxy.posts.length, 3);
  assert.strictEqual(proxy.challenges, 2, 'a new challenge with less than 10 s left');
  assert.strictEqual(proxy.posts[1], proxy.posts[0]);
  assert.notStrictEqual(proxy.posts[2].slice(0, 66), proxy.posts[0].slice(0, 66));
  assert.strictEqual(h.exportAndOpen(server).length, 1);
  seen.check({ allow: REFUSALS });
});
