// How the page behaves for a person in a hurry, in real Chromium against the
// real server: retry without retyping, a prompt before losing unsent text,
// keyboard only, labels and errors for screen readers, languages, the
// <noscript> text, width 360, and screenshots kept in tests/artifacts/.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';
import { request, runTool } from '../integration/helpers.js';

const STRINGS = {
  en: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'en.json'), 'utf8')),
  km: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'km.json'), 'utf8')),
};

// The switch loads the language file, then re-labels everything at once.
async function switchLanguage(page, lang) {
  await page.selectOption('#language', lang);
  await page.waitForFunction((wanted) => document.documentElement.lang === wanted, lang);
}

async function newPage(t, server, options) {
  const context = await h.launch(t, options);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  await h.openPage(page, server);
  return { context, page, seen };
}

test('a failed upload is retried without typing again; one report is stored', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  let posts = 0;
  await page.route('**/api/v1/reports', (route) => (++posts === 1 ? route.abort('connectionreset') : route.continue()));
  const what = 'The clerk wanted $50 "for the stamp".\nI did not pay.';
  await page.fill('#field-what', what);
  await page.check('#field-demanded-cash');
  await page.setInputFiles('#files', { name: 'stamp.txt', mimeType: 'text/plain', buffer: Buffer.from('stamp fee 50 USD\n') });
  await page.click('#send');

  await page.waitForSelector('#failure:not([hidden])');
  assert.strictEqual(await page.textContent('#failure-text'),
    STRINGS.en.ui.upload_failed.replace('{reason}', STRINGS.en.ui.reason_network));
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'retry');
  assert.strictEqual(await page.inputValue('#field-what'), what, 'the text is still there');
  assert.strictEqual(await page.locator('#file-list li').count(), 1, 'the file is still there');
  assert.strictEqual(h.exportAndOpen(server).length, 0, 'nothing stored yet');

  await page.click('#retry');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(posts, 2);
  assert.strictEqual(await page.textContent('#receipt-index'), '0');
  seen.check({ allow: /net::ERR_CONNECTION_RESET/ });
  const reports = h.exportAndOpen(server);
  assert.strictEqual(reports.length, 1);
  assert.deepStrictEqual(reports[0].manifest.fields, { what, demanded: ['cash'] });
  assert.deepStrictEqual(Object.values(reports[0].files).map(String), ['stamp fee 50 USD\n']);
});

test('changed after a failed upload: the old envelope is not resent; Send seals what is on screen', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  let posts = 0;
  await page.route('**/api/v1/reports', (route) => (++posts === 1 ? route.abort('connectionreset') : route.continue()));
  // No autofill memory, no spell-check service for the answers.
  assert.deepStrictEqual(await page.$$eval('#report input[type=text], #report textarea',
    (controls) => [...new Set(controls.map((c) => `${c.getAttribute('autocomplete')} ${c.getAttribute('spellcheck')}`))]),
  ['off false']);
  assert.strictEqual(await page.getAttribute('#report', 'autocomplete'), 'off');
  await page.fill('#field-what', 'The guard asked for my phone.');
  await page.setInputFiles('#files', [
    { name: 'face.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('a photo that shows my face') },
    { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('guard 7, gate B\n') },
  ]);
  await page.click('#send');
  await page.waitForSelector('#failure:not([hidden])');
  assert.strictEqual(await page.isVisible('#retry'), true);

  // Second thoughts: the photo goes, the text changes.
  await page.click('#file-list li:first-child button.remove');
  assert.strictEqual(await page.isVisible('#retry'), false, 'no resending what is no longer on screen');
  await page.fill('#field-what', 'The guard asked for my phone. I said no.');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(posts, 2);
  const reports = h.exportAndOpen(server);
  assert.strictEqual(reports.length, 1);
  assert.deepStrictEqual(reports[0].manifest.fields, { what: 'The guard asked for my phone. I said no.' });
  assert.deepStrictEqual(reports[0].manifest.files.map((f) => f.name), ['note.txt']);
  // Sent: nothing of it stays in the page, shown or hidden.
  assert.strictEqual(await page.locator('#file-list li').count(), 0);
  assert.strictEqual(await page.textContent('#failure-text'), '');
  seen.check({ allow: /net::ERR_CONNECTION_RESET/ });
});

test('a refused proof of work (429) gets a new challenge and one automatic retry', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  let posts = 0;
  const sent = [];
  // The first POST goes with its proof of work spoiled, as after a restart.
  await page.route('**/api/v1/reports', (route) => {
    const headers = route.request().headers();
    sent.push(headers['sealtip-pow']);
    if (++posts > 1) return route.continue();
    return route.continue({ headers: { ...headers, 'sealtip-pow': headers['sealtip-pow'].replace(/nonce=.*/, 'nonce=zz') } });
  });
  await page.fill('#field-what', 'A fee for a birth certificate.');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(posts, 2);
  const challenges = seen.requests.filter((request) => request.url() === `${server.url}/api/v1/challenge`);
  assert.strictEqual(challenges.length, 2, 'a new challenge for the retry');
  assert.notStrictEqual(sent[0].slice(0, 66), sent[1].slice(0, 66));
  seen.check({ allow: /HTTP 429 for .*\/api\/v1\/reports|status of 429/ });
  assert.strictEqual(h.exportAndOpen(server).length, 1);
  // The server refused the spoiled proof: counted, and said at the stop.
  await server.stop();
  assert.deepStrictEqual(server.stdout.match(/report refused: .*$/mg), ['report refused: 429 pow_malformed (1 time)']);
});

test('a server answer the page cannot use is said plainly: no size limit, a malformed challenge', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  // No limit in the config: the page says so before anything is typed.
  await page.route('**/api/v1/config', async (route) => {
    const response = await route.fetch();
    const { limits: _dropped, ...config } = await response.json();
    await route.fulfill({ response, json: config });
  });
  await page.reload();
  await page.waitForFunction((text) => document.getElementById('startup').textContent === text,
    STRINGS.en.ui.start_failed.replace('{reason}', 'the server sent no report size limit'));
  assert.strictEqual(await page.isDisabled('#send'), true);
  await page.unroute('**/api/v1/config');

  // A challenge that is not the server's format: named, and no upload tried.
  let posts = 0;
  await page.route('**/api/v1/reports', (route) => { posts++; return route.continue(); });
  await page.route('**/api/v1/challenge', (route) => route.fulfill({ json: { challenge: 'not base64url!', bits: 18, expires_in: 300 } }));
  await h.openPage(page, server);
  await page.fill('#field-what', 'A fee for a residence permit.');
  await page.click('#send');
  await page.waitForSelector('#failure:not([hidden])');
  assert.strictEqual(await page.textContent('#failure-text'), STRINGS.en.ui.upload_failed.replace('{reason}',
    STRINGS.en.ui.reason_server.replace('{code}', 'bad_challenge')));
  assert.strictEqual(await page.inputValue('#field-what'), 'A fee for a residence permit.');
  assert.strictEqual(posts, 0);
  // The server's own challenge again: "try again" sends the report.
  await page.unroute('**/api/v1/challenge');
  await page.click('#retry');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(posts, 1);
  seen.check();
  assert.strictEqual(h.exportAndOpen(server).length, 1);
});

test('a second 429 is shown, with the text kept and nothing stored', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  let posts = 0;
  await page.route('**/api/v1/reports', (route) => {
    posts++;
    const headers = { ...route.request().headers() };
    delete headers['sealtip-pow'];
    return route.continue({ headers });
  });
  await page.fill('#field-what', 'A fee for a birth certificate.');
  await page.click('#send');
  await page.waitForSelector('#failure:not([hidden])');
  assert.strictEqual(posts, 2, 'one automatic retry, not more');
  assert.strictEqual(await page.textContent('#failure-text'), STRINGS.en.ui.upload_failed.replace('{reason}',
    STRINGS.en.ui.reason_pow));
  assert.strictEqual(await page.inputValue('#field-what'), 'A fee for a birth certificate.');
  seen.check({ allow: /HTTP 429 for .*\/api\/v1\/reports|status of 429/ });
  assert.strictEqual(h.exportAndOpen(server).length, 0);
});

test('leaving with unsent text asks first; an untouched page does not', async (t) => {
  const server = await h.startPageServer(t);
  const { context, page } = await newPage(t, server);
  const dialogs = [];
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.type());
    await dialog.dismiss(); // stay on the page
  });
  await page.click('#field-what');
  await page.keyboard.type('A Rolex to stop a deportation');
  await page.close({ runBeforeUnload: true });
  await page.waitForTimeout(500);
  assert.deepStrictEqual(dialogs, ['beforeunload']);
  assert.strictEqual(page.isClosed(), false, 'dismissing the prompt keeps the page and the text');
  assert.strictEqual(await page.inputValue('#field-what'), 'A Rolex to stop a deportation');

  const untouched = await context.newPage();
  const untouchedDialogs = [];
  untouched.on('dialog', (dialog) => { untouchedDialogs.push(dialog.type()); dialog.accept(); });
  await h.openPage(untouched, server);
  await untouched.click('#field-what'); // activation, but nothing typed
  await Promise.all([untouched.waitForEvent('close'), untouched.close({ runBeforeUnload: true })]);
  assert.deepStrictEqual(untouchedDialogs, []);
});

test('keyboard only: every control is reached with Tab, and the report is sent with the keyboard', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  const controls = await page.$$eval('#report input, #report textarea, #report button', (nodes) => nodes.map((node) => node.id));
  const order = [];
  for (let step = 0; step < 60 && !order.includes('send'); step++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => document.activeElement.id));
  }
  // Radio buttons form one Tab stop: the group's first button stands for it.
  const expected = controls.filter((id) => !/^field-knowledge-(?!took_part)/.test(id));
  assert.deepStrictEqual(order.filter((id) => controls.includes(id)), expected);
  assert.strictEqual(order[0], 'language', 'the language switch comes first');

  // Fill in with keys alone, from the top.
  await page.focus('#language');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Keyboard only: asked for perfume.');
  for (let i = 0; i < 6; i++) await page.keyboard.press('Tab'); // to "Cash"
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'field-demanded-cash');
  await page.keyboard.press('Space');
  await page.focus('#field-knowledge-took_part');
  await page.keyboard.press('ArrowDown'); // radio group: arrows choose
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'field-knowledge-witnessed');
  await page.focus('#send');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'receipt', 'focus moves to the receipt');
  await page.keyboard.press('Tab');
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'save-receipt');
  seen.check();
  const [report] = h.exportAndOpen(server);
  assert.deepStrictEqual(report.manifest.fields,
    { what: 'Keyboard only: asked for perfume.', demanded: ['cash'], knowledge: 'witnessed' });
});

test('Enter in a one-line answer, on a checkbox or a radio button sends nothing; only Send sends', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  const url = page.url();
  await page.fill('#field-what', 'The district officer asked for money to release my brother.');
  await page.click('#field-official_name');
  await page.keyboard.type('Sok Dara');
  await page.keyboard.press('Enter'); // meant: the next question
  await page.focus('#field-demanded-cash');
  await page.keyboard.press('Space'); // ticks it
  await page.keyboard.press('Enter');
  await page.focus('#field-knowledge-took_part');
  await page.keyboard.press('Enter');
  // Sealing starts at once after a press that sends, and the challenge follows.
  await page.waitForTimeout(2000);
  assert.strictEqual(await page.isHidden('#progress'), true, 'no encrypting');
  assert.strictEqual(await page.isHidden('#failure'), true);
  assert.strictEqual(await page.isVisible('#report'), true);
  assert.strictEqual(page.url(), url, 'no native submission either');
  assert.deepStrictEqual(seen.requests.filter((r) => r.method() === 'POST' || r.url().endsWith('/api/v1/challenge')).map((r) => r.url()), []);
  assert.strictEqual(h.exportAndOpen(server).length, 0, 'nothing stored');
  assert.strictEqual(await page.inputValue('#field-official_name'), 'Sok Dara');

  // The keyboard still sends, from the Send button itself.
  await page.focus('#send');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#receipt:not([hidden])');
  seen.check();
  const reports = h.exportAndOpen(server);
  assert.strictEqual(reports.length, 1);
  assert.deepStrictEqual(reports[0].manifest.fields, {
    what: 'The district officer asked for money to release my brother.', official_name: 'Sok Dara', demanded: ['cash'],
  });
});

test('every control has a <label for>; a missing answer is an error tied to its field', async (t) => {
  const server = await h.startPageServer(t);
  const { page, seen } = await newPage(t, server);
  const unlabelled = await page.$$eval('input, textarea, select', (nodes) => nodes
    .filter((node) => { const label = document.querySelector(`label[for="${node.id}"]`); return !label || label.textContent.trim() === ''; })
    .map((node) => node.id || node.outerHTML));
  assert.deepStrictEqual(unlabelled, []);
  assert.ok(await page.locator('input, textarea, select').count() >= 22, 'the form was rendered from form.json');

  await page.fill('#field-place', 'Siem Reap');
  await page.click('#send');
  const what = page.locator('#field-what');
  assert.strictEqual(await what.getAttribute('aria-invalid'), 'true');
  assert.deepStrictEqual((await what.getAttribute('aria-describedby')).split(' '), ['field-what-hint', 'field-what-error']);
  assert.strictEqual(await page.textContent('#field-what-error'), STRINGS.en.ui.error_required_what);
  assert.strictEqual(await page.isVisible('#field-what-error'), true);
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'field-what');
  assert.strictEqual(await page.getAttribute('#field-place', 'aria-invalid'), null);

  // The error follows a language switch; typed text stays.
  await switchLanguage(page, 'km');
  assert.strictEqual(await page.textContent('#field-what-error'), STRINGS.km.ui.error_required_what);
  assert.strictEqual(await page.inputValue('#field-place'), 'Siem Reap');

  // Answered: the error goes on the next try.
  await page.fill('#field-what', 'ត្រូវគេទាមទារប្រាក់');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.strictEqual(await what.getAttribute('aria-invalid'), null);
  seen.check();
  assert.strictEqual(seen.requests.filter((r) => r.method() === 'POST').length, 1, 'the empty form sent nothing');
});

test('files over the server limit are refused before any work, tied to the file input', async (t) => {
  const server = await h.startPageServer(t, { maxReportBytes: 1024 * 1024 });
  const { page, seen } = await newPage(t, server);
  await page.fill('#field-what', 'Too big');
  await page.setInputFiles('#files', { name: 'video.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(1024 * 1024) });
  await page.click('#send');
  assert.strictEqual(await page.getAttribute('#files', 'aria-invalid'), 'true');
  assert.strictEqual(await page.textContent('#files-error'), STRINGS.en.ui.error_too_large.replace('{max}', '1.0 MB'));
  assert.strictEqual(await page.isHidden('#progress'), true);
  // Removed, the report goes.
  await page.click('#file-list button');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])');
  seen.check();
  assert.strictEqual(seen.requests.filter((r) => r.method() === 'POST').length, 1);
});

test('language: from Accept-Language, English otherwise, switchable without losing text', async (t) => {
  const server = await h.startPageServer(t);
  for (const [locale, lang] of [['km-KH', 'km'], ['km', 'km'], ['fr-FR', 'en'], ['en-GB', 'en']]) {
    const { page, seen } = await newPage(t, server, { locale });
    assert.strictEqual(await page.getAttribute('html', 'lang'), lang, locale);
    assert.strictEqual(await page.textContent('header h1'), STRINGS[lang].ui.title);
    assert.strictEqual(await page.inputValue('#language'), lang);
    seen.check();
  }
  const { page, seen } = await newPage(t, server, { locale: 'en-US' });
  await page.fill('#field-what', 'typed before switching');
  await switchLanguage(page, 'km');
  assert.strictEqual(await page.getAttribute('html', 'lang'), 'km');
  assert.strictEqual(await page.textContent('label[for="field-what"] span'), STRINGS.km.fields.what.label);
  assert.strictEqual(await page.textContent('label[for="field-goods-watch"]'), STRINGS.km.fields.goods.options.watch);
  assert.strictEqual(await page.textContent('#send'), STRINGS.km.ui.send);
  assert.strictEqual(await page.inputValue('#field-what'), 'typed before switching');
  // No string is missing in either language (a missing one shows its key).
  for (const lang of ['km', 'en']) {
    await switchLanguage(page, lang);
    const text = await page.textContent('main');
    assert.doesNotMatch(text, /\b(ui|fields|files)\.[a-z_]+/, lang);
  }
  seen.check();
});

test('a language whose words do not come: the page stays in its language, the selector too, and says so; loaded ones switch with no request', async (t) => {
  const server = await h.startPageServer(t);
  const context = await h.launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  const asked = [];
  page.on('request', (request) => { if (/\/i18n\/km\.json$/.test(request.url())) asked.push(request.url()); });
  // The line drops every request for the Khmer words.
  await page.route('**/i18n/km.json', (route) => route.abort('connectionreset'));
  await h.openPage(page, server);
  await page.fill('#field-what', 'typed before switching');
  await page.selectOption('#language', 'km');
  await page.waitForSelector('#language-status:not([hidden])');
  assert.deepStrictEqual(await page.evaluate(() => [document.documentElement.lang, document.getElementById('language').value]), ['en', 'en']);
  assert.strictEqual(await page.textContent('#language-status'), STRINGS.en.ui.language_failed);
  assert.strictEqual(await page.textContent('header h1'), STRINGS.en.ui.title);
  assert.strictEqual(await page.getAttribute('#language-status', 'role'), 'status');
  assert.strictEqual(asked.length, 2, 'asked for at the start, and again at the choice');
  // The line is back: chosen again, it switches, and the message goes.
  await page.unroute('**/i18n/km.json');
  await switchLanguage(page, 'km');
  assert.strictEqual(await page.isHidden('#language-status'), true);
  assert.strictEqual(await page.textContent('header h1'), STRINGS.km.ui.title);
  assert.strictEqual(await page.inputValue('#field-what'), 'typed before switching');

  // A fresh page has every language's words from the start: a switch on a
  // line that then drops everything still works, and asks for nothing.
  const fresh = await (await h.launch(t)).newPage();
  const freshSeen = await h.watch(fresh, server.url);
  await h.openPage(fresh, server);
  await fresh.waitForFunction(() => performance.getEntriesByType('resource').some((entry) => entry.name.endsWith('/i18n/km.json')));
  await fresh.route('**', (route) => route.abort('connectionreset'));
  const before = freshSeen.requests.length;
  await switchLanguage(fresh, 'km');
  assert.strictEqual(await fresh.textContent('header h1'), STRINGS.km.ui.title);
  assert.strictEqual(await fresh.isHidden('#language-status'), true);
  assert.strictEqual(freshSeen.requests.length, before);
  freshSeen.check();
  seen.check({ allow: /ERR_CONNECTION_RESET/ });
});

test('a language whose words stall (asked for, never answered) is said after 30 s at a switch, and asked for again at the next choice', async (t) => {
  const server = await h.startPageServer(t);
  const context = await h.launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  // The start's request for the Khmer words is held: no answer ever comes.
  const asked = [];
  let heard;
  const held = new Promise((resolve) => { heard = resolve; });
  await page.route('**/i18n/km.json', (route) => {
    asked.push(route.request().url());
    if (asked.length > 1) return route.continue();
    heard();
    return undefined; // held
  });
  await page.clock.install();
  await h.openPage(page, server);
  await held;
  await page.fill('#field-what', 'typed before switching');
  await page.selectOption('#language', 'km');
  await page.clock.fastForward(29000);
  assert.strictEqual(await page.isHidden('#language-status'), true, 'not before the bound');
  await page.clock.fastForward(1500);
  await page.waitForSelector('#language-status:not([hidden])');
  assert.deepStrictEqual(await page.evaluate(() => [document.documentElement.lang, document.getElementById('language').value]), ['en', 'en']);
  assert.strictEqual(await page.textContent('#language-status'), STRINGS.en.ui.language_failed);
  // Chosen again: asked for again (the stalled request is not waited on), and it switches.
  await switchLanguage(page, 'km');
  assert.strictEqual(await page.isHidden('#language-status'), true);
  assert.strictEqual(await page.textContent('header h1'), STRINGS.km.ui.title);
  assert.strictEqual(await page.inputValue('#field-what'), 'typed before switching');
  assert.strictEqual(asked.length, 2);
  seen.check();
});

test('without JavaScript the page says why and what to do instead', async (t) => {
  const server = await h.startPageServer(t);
  const html = (await request(server, 'GET', '/')).body.toString('utf8');
  assert.match(html, /<noscript>[\s\S]*This page needs JavaScript to protect your report[\s\S]*<\/noscript>/);
  assert.match(html, /<noscript>[\s\S]*ទំព័រនេះត្រូវការ JavaScript[\s\S]*<\/noscript>/);

  const context = await h.launch(t, { javaScriptEnabled: false, viewport: { width: 360, height: 800 } });
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  await page.goto(server.url + '/');
  assert.strictEqual(await page.isVisible('#noscript-en'), true);
  assert.strictEqual(await page.isVisible('#noscript-km'), true);
  assert.strictEqual(await page.isVisible('#app'), false, 'no form that could not encrypt');
  await page.screenshot({ path: h.screenshotPath('noscript-360.png'), fullPage: true });
  seen.check();
});

test('readable at 1280 and 360 px in English and Khmer (screenshots in tests/artifacts/)', async (t) => {
  const server = await h.startPageServer(t);
  for (const lang of ['en', 'km']) {
    for (const width of [1280, 360]) {
      const { page, seen } = await newPage(t, server, { locale: lang, viewport: { width, height: 800 } });
      await page.fill('#field-what', lang === 'km' ? 'មន្ត្រីបានទាមទារនាឡិកា Rolex ដើម្បីបញ្ឈប់ការនិរទេស។' : 'The officer asked for a Rolex to stop a deportation.');
      await page.check('#field-demanded-goods');
      await page.check('#field-goods-watch');
      await page.setInputFiles('#files', { name: 'receipt-photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(300000, 1) });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= width, `no sideways scrolling at ${width} px`);
      await page.screenshot({ path: h.screenshotPath(`form-${lang}-${width}.png`), fullPage: true });
      if (width === 360) {
        await page.click('#send');
        await page.waitForSelector('#receipt:not([hidden])');
        await page.waitForSelector('#receipt-status[data-outcome="verified"]');
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= width);
        await page.screenshot({ path: h.screenshotPath(`receipt-${lang}-${width}.png`), fullPage: true });
        // "Check my report" with the receipt just saved (one report per commit here).
        const index = await page.textContent('#receipt-index');
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-receipt')]);
        await page.click('#check-open');
        await page.setInputFiles('#check-file', await download.path());
        await page.waitForSelector('#check-result[data-outcome="ok"]');
        assert.strictEqual(await page.textContent('#check-result'), STRINGS[lang].ui.check_ok_same
          .replace('{index}', index).replace('{day}', new Date().toISOString().slice(0, 10)).replace('{to}', String(Number(index) + 1)));
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= width);
        await page.screenshot({ path: h.screenshotPath(`check-${lang}-${width}.png`), fullPage: true });
      }
      seen.check();
    }
  }
});

test('the fingerprint shown is that of the key the page seals to; a server lying about its key is refused', async (t) => {
  const server = await h.startPageServer(t);
  const other = path.join(h.tmpdir(), 'other');
  assert.strictEqual(runTool(['keygen', '--unprotected', '-o', other]).status, 0);
  const ownFile = fs.readFileSync(server.pub, 'utf8');
  const signPk = (file) => Buffer.from(file.split('\n')[1], 'base64').subarray(36, 68).toString('base64');
  const fingerprintOf = (pub) => runTool(['fingerprint', pub]).stdout.trim().split(/\s{2,}/)[1];
  const context = await h.launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);

  // As served (box and signing keys): the page computes the fingerprint itself.
  await h.openPage(page, server);
  assert.deepStrictEqual(await page.$$eval('#key-list li', (items) => items.map((item) => [item.textContent, item.title])),
    [[fingerprintOf(server.pub), STRINGS.en.ui.key_computed]]);

  // The real server's answer, changed on its way to the page.
  const cases = [
    // Only the key id could be checked: refused, or a server that changed its
    // config alone could show the published fingerprint and seal to its own key.
    { name: 'signing key withheld', change: ({ sign_pk: _withheld, ...r }) => r, ok: false },
    { name: 'key file served', change: (r) => ({ ...r, public_key: ownFile }), ok: true },
    { name: 'signing key served', change: (r) => ({ ...r, sign_pk: signPk(ownFile) }), ok: true },
    { name: 'another key file', change: (r) => ({ ...r, public_key: fs.readFileSync(other + '.pub', 'utf8') }), ok: false },
    { name: 'another fingerprint', change: (r) => ({ ...r, sign_pk: signPk(ownFile), fingerprint: fingerprintOf(other + '.pub') }), ok: false },
    { name: 'another key id', change: (r) => ({ ...r, key_id: '0000000000000000' }), ok: false },
  ];
  for (const { name, change, ok } of cases) {
    await page.route('**/api/v1/config', async (route) => {
      const response = await route.fetch();
      const config = await response.json();
      await route.fulfill({ response, json: { ...config, recipients: config.recipients.map(change) } });
    });
    await page.reload();
    if (ok) {
      await page.waitForSelector('#send:not([disabled])');
      assert.deepStrictEqual(await page.$$eval('#key-list li', (items) => items.map((item) => [item.textContent, item.title])),
        [[fingerprintOf(server.pub), STRINGS.en.ui.key_computed]], name);
    } else {
      await page.waitForFunction((text) => document.getElementById('startup').textContent === text, STRINGS.en.ui.key_mismatch);
      assert.strictEqual(await page.isDisabled('#send'), true, name);
      assert.strictEqual(await page.locator('#key-list li').count(), 0, name);
    }
    await page.unroute('**/api/v1/config');
  }
  seen.check();
});

test('every language file has every string of English, for every question of form.json', () => {
  const form = JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'form.json'), 'utf8'));
  const shape = (value) => (Array.isArray(value) ? `list of ${value.length}`
    : value && typeof value === 'object' ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, shape(value[key])]))
      : typeof value);
  for (const lang of Object.keys(STRINGS)) {
    const { lang: code, name, dir, ...strings } = STRINGS[lang];
    assert.strictEqual(code, lang);
    assert.ok(name && (dir === 'ltr' || dir === 'rtl'));
    const { lang: _l, name: _n, dir: _d, ...english } = STRINGS.en;
    assert.deepStrictEqual(shape(strings), shape(english), `${lang}.json has the shape of en.json`);
    for (const field of form.fields) {
      assert.ok(strings.fields[field.id].label, `${lang}: ${field.id}`);
      for (const option of field.options || []) assert.ok(strings.fields[field.id].options[option], `${lang}: ${field.id}.${option}`);
    }
  }
});
