// A busy server, in real Chromium against the real server: a 503 with a
// short Retry-After is waited out with a countdown and the same envelope
// goes again by itself, at most three times per press; the proof of work
// goes again with it when the refusal left it unspent; a change to the form
// during the wait stops it. The requests are counted by a proxy in front.
import test from 'node:test';
import assert from 'node:assert';
import net from 'node:net';
import * as h from './helpers.js';
import { powHeader, sleep } from '../integration/helpers.js';

// The 503 and 429 the tests cause are console errors in Chromium.
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
  proxy.url = await h.serveOnLoopback(t, (request, response) => {
    if (request.url === '/api/v1/challenge') proxy.challenges++;
    if (request.method === 'POST' && request.url === '/api/v1/reports') {
      proxy.posts.push(request.headers['sealtip-pow']);
      const answer = proxy.refuse(proxy.posts.length);
      if (answer) {
        // Once the body is in, so that the page surely hears it; the real
        // server's answer from the headers is the first test's.
        request.resume();
        request.on('end', () => {
          response.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
          response.end(JSON.stringify(answer.body));
        });
        return;
      }
    }
    request.pipe(h.forward(server, request, response));
  });
  return proxy;
}

async function newPage(t, url) {
  const context = await h.launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, url);
  await h.openPage(page, { url });
  // How many times the countdown was shown, however briefly.
  await page.evaluate(() => {
    window.sealtipTestWaits = 0;
    const waiting = document.getElementById('waiting');
    new MutationObserver(() => { if (!waiting.hidden) window.sealtipTestWaits++; })
      .observe(waiting, { attributes: true, attributeFilter: ['hidden'] });
  });
  return { page, seen };
}

const waitsShown = (page) => page.evaluate(() => window.sealtipTestWaits);

test('a busy server (503, Retry-After: 5): a countdown, then the same envelope and proof of work again by itself, and a receipt', async (t) => {
  const server = await h.startPageServer(t, { extraArgs: ['--max-uploads', '1'] });
  const proxy = await countingProxy(t, server);
  const { page, seen } = await newPage(t, proxy.url);
  // The one upload slot, held by an upload whose body never comes.
  const body = Buffer.alloc(4096, 0x55);
  const holder = net.connect({ host: server.host, port: server.port });
  holder.on('error', () => {});
  const pow = await powHeader(server, body);
  holder.write(`POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nSealtip-Pow: ${pow}\r\n\r\n`);
  await sleep(500);

  const what = 'The inspector asked for 100 USD to sign the form.';
  await page.fill('#field-what', what);
  await page.click('#send');
  await page.waitForSelector('#waiting:not([hidden])');
  const countdown = [5, 4, 3, 2, 1].map((seconds) => h.words('en', 'status_busy_wait', { seconds }));
  assert.ok(countdown.includes(await page.textContent('#wait-status')), await page.textContent('#wait-status'));
  assert.strictEqual(await page.isVisible('#progress'), false);
  assert.strictEqual(await page.isVisible('#failure'), false);
  // The form stays open during the wait (a change stops it); Send does not.
  assert.strictEqual(await page.isEnabled('#field-what'), true);
  assert.strictEqual(await page.isDisabled('#send'), true);
  assert.strictEqual(proxy.posts.length, 1);

  holder.destroy(); // the slot is free again
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 30000 });
  assert.strictEqual(proxy.posts.length, 2, 'one automatic retry');
  assert.strictEqual(proxy.challenges, 1, 'the proof of work the busy server did not spend went again');
  assert.match(proxy.posts[0], /^challenge=[A-Za-z0-9_-]{56}; leaf=[0-9a-f]{64}; nonce=[0-9a-f]{16}$/);
  assert.strictEqual(proxy.posts[1], proxy.posts[0]);
  assert.strictEqual(await waitsShown(page), 1);
  const reports = h.exportAndOpen(server);
  assert.strictEqual(reports.length, 1);
  assert.strictEqual(reports[0].manifest.fields.what, what);
  seen.check({ allow: REFUSALS });
  // The server refused once, as busy: counted, and said at the stop.
  await server.stop();
  assert.deepStrictEqual(server.stdout.match(/report refused: .*$/mg), ['report refused: 503 busy (1 time)']);
});

test('busy four times (Retry-After: 1): three automatic tries, then the failure and "Try sending again", all with one proof', async (t) => {
  const server = await h.startPageServer(t);
  const proxy = await countingProxy(t, server, (n) => (n <= 4 ? refusal('busy', '1') : null));
  const { page, seen } = await newPage(t, proxy.url);
  await page.selectOption('#language', 'km');
  await page.waitForFunction(() => document.documentElement.lang === 'km');
  await page.fill('#field-what', 'មន្ត្រីបានសុំលុយ ១០០ ដុល្លារ។');
  await page.click('#send');
  await page.waitForFunction((text) => document.getElementById('wait-status').textContent === text,
    h.words('km', 'status_busy_wait', { seconds: 1 }));
  await page.waitForSelector('#failure:not([hidden])', { timeout: 30000 });
  assert.strictEqual(await page.textContent('#failure-text'), h.refusedWith('km', 'reason_busy'));
  assert.strictEqual(await page.isVisible('#retry'), true);
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'retry');
  assert.strictEqual(await page.isVisible('#waiting'), false);
  await sleep(1500);
  assert.strictEqual(proxy.posts.length, 4, 'the first send and three automatic ones, not more');
  assert.strictEqual(await waitsShown(page), 3);
  assert.strictEqual(proxy.challenges, 1);

  proxy.refuse = () => null;
  await page.click('#retry');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(proxy.posts.length, 5);
  assert.strictEqual(proxy.challenges, 1, 'the proof was kept for the press of "Try sending again" too');
  assert.deepStrictEqual(new Set(proxy.posts).size, 1);
  assert.strictEqual(h.exportAndOpen(server).length, 1);
  seen.check({ allow: REFUSALS });
});

test('no Retry-After, one outside 1..60 s, or not a 503: no automatic retry; a proof left unspent is kept for "Try sending again"', async (t) => {
  const server = await h.startPageServer(t);
  const answers = [
    refusal('busy', null), refusal('busy', '120'), refusal('busy', '61'), refusal('busy', '0'),
    refusal('busy', 'Fri, 31 Dec 2100 23:59:59 GMT'), refusal('busy', '1.5'), refusal('busy', '-1'),
    refusal('pow_busy', null), // the spent set was full: nothing recorded
    refusal('quota_full', '1', 507), // not a 503: Retry-After does not count
  ];
  const proxy = await countingProxy(t, server, (n) => answers[n - 1] || null);
  const { page, seen } = await newPage(t, proxy.url);
  await page.fill('#field-what', 'A fee for a driving licence.');
  for (const [i, answer] of answers.entries()) {
    await page.click(i === 0 ? '#send' : '#retry');
    await page.waitForSelector('#failure:not([hidden])');
    const what = `${answer.body.error} ${answer.headers['Retry-After']}`;
    const reason = answer.status === 507 ? 'reason_storage' : 'reason_busy';
    assert.strictEqual(await page.textContent('#failure-text'), h.refusedWith('en', reason), what);
    assert.strictEqual(await page.isVisible('#retry'), true, what);
  }
  await sleep(1500);
  assert.strictEqual(proxy.posts.length, answers.length, 'one POST per press');
  assert.strictEqual(await waitsShown(page), 0, 'no countdown');

  await page.click('#retry');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(proxy.posts.length, answers.length + 1);
  assert.strictEqual(proxy.challenges, 1, 'every press sent the one proof');
  assert.strictEqual(new Set(proxy.posts).size, 1);
  assert.strictEqual(h.exportAndOpen(server).length, 1);
  seen.check({ allow: REFUSALS });
});

test('a refusal that may have spent the proof (shutting_down) is retried by itself with a new challenge', async (t) => {
  const server = await h.startPageServer(t);
  const proxy = await countingProxy(t, server, (n) => (n === 1 ? refusal('shutting_down', '1') : null));
  const { page, seen } = await newPage(t, proxy.url);
  await page.fill('#field-what', 'A fee for a land title.');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 30000 });
  assert.strictEqual(proxy.posts.length, 2);
  assert.strictEqual(await waitsShown(page), 1);
  assert.strictEqual(proxy.challenges, 2, 'a new challenge: the server checks the proof before this refusal');
  assert.notStrictEqual(proxy.posts[1].slice(0, 66), proxy.posts[0].slice(0, 66));
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

test('a change to the form during the wait stops the automatic send; Send then seals what is on screen', async (t) => {
  const server = await h.startPageServer(t);
  const proxy = await countingProxy(t, server, (n) => (n === 1 ? refusal('busy', '3') : null));
  const { page, seen } = await newPage(t, proxy.url);
  await page.fill('#field-what', 'The officer asked for a watch.');
  await page.click('#send');
  await page.waitForSelector('#waiting:not([hidden])');
  await page.focus('#field-what');
  await page.keyboard.type(' A Rolex.');
  assert.strictEqual(await page.isVisible('#waiting'), false);
  assert.strictEqual(await page.textContent('#failure-text'), h.words('en', 'upload_stopped'));
  assert.strictEqual(await page.isVisible('#retry'), false);
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'field-what', 'typing goes on where it was');
  assert.strictEqual(await page.inputValue('#field-what'), 'The officer asked for a watch. A Rolex.');
  await sleep(4000);
  assert.strictEqual(proxy.posts.length, 1, 'nothing sent after the change');

  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(proxy.posts.length, 2);
  assert.strictEqual(proxy.challenges, 2, 'a new envelope, a new proof');
  const reports = h.exportAndOpen(server);
  assert.strictEqual(reports.length, 1);
  assert.strictEqual(reports[0].manifest.fields.what, 'The officer asked for a watch. A Rolex.');
  seen.check({ allow: REFUSALS });
});
