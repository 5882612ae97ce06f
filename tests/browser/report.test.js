// A whole report through the real page in real Chromium: every field filled
// (English, Khmer), two attachments (file input and drag-and-drop), sent,
// receipt read and saved; then `sealtip export` + `sealtip open` give back
// every field and every byte. Also: with WebAssembly really gone (--jitless,
// like Tor Browser "Safer"), no request elsewhere, the typed text never
// leaves in plaintext, no storage, no CSP violation or console error.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';
import { runTool } from '../integration/helpers.js';

const FORM = JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'form.json'), 'utf8'));
const STRINGS = {
  en: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'en.json'), 'utf8')),
  km: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'km.json'), 'utf8')),
};

// What a reporter types, per language; the marker is added to every text.
const TEXTS = {
  en: {
    what: 'The officer at the immigration office asked for a Rolex "to stop the deportation" of my brother.\nHe said: pay by Friday.',
    official_name: 'Mr. Sok (Deputy Chief)',
    official_position: 'Deputy chief, second floor',
    institution: 'Immigration office, Phnom Penh',
    place: 'Room 12 — behind the counter',
    when: 'Tuesday 3 March 2026, about 10:30',
    cash_amount: '1,500',
    cash_currency: 'USD',
    demanded_details: 'Rolex Submariner, steel; also an iPhone 17 for his assistant.',
    other: 'Two other families were asked the same week. 🙏',
  },
  km: {
    what: 'មន្ត្រីនៅការិយាល័យអន្តោប្រវេសន៍បានទាមទារនាឡិកា Rolex «ដើម្បីបញ្ឈប់ការនិរទេស» បងប្រុសរបស់ខ្ញុំ។\nគាត់និយាយថា៖ ត្រូវបង់មុនថ្ងៃសុក្រ។',
    official_name: 'លោក សុខ (អនុប្រធាន)',
    official_position: 'អនុប្រធាននាយកដ្ឋាន',
    institution: 'ការិយាល័យអន្តោប្រវេសន៍ ភ្នំពេញ',
    place: 'បន្ទប់លេខ ១២ នៅក្រោយបញ្ជរ',
    when: 'ថ្ងៃអង្គារ ទី៣ ខែមីនា ឆ្នាំ២០២៦ ម៉ោងប្រហែល ១០:៣០',
    cash_amount: '៦ ០០០ ០០០',
    cash_currency: 'រៀល (KHR)',
    demanded_details: 'នាឡិកា Rolex Submariner និងទូរស័ព្ទ iPhone សម្រាប់ជំនួយការរបស់គាត់។',
    other: 'គ្រួសារពីរផ្សេងទៀតក៏ត្រូវគេទាមទារដូចគ្នាក្នុងសប្តាហ៍តែមួយ។',
  },
};
const CHOICES = { demanded: ['cash', 'goods', 'other'], goods: ['watch', 'phone'], knowledge: 'witnessed' };

// Sizes: 20 MiB through the file input with WebAssembly. Without it every
// byte is sealed by interpreted JavaScript (about 0.7 MiB/s in this Chromium
// on a 2-core machine, file hashes native): 20 MiB + 4321 bytes (not a
// multiple of the chunk size) takes about 30 s, the whole suite about 70 s.
const BIG_BYTES = 20 * 1024 * 1024;
const JITLESS_BIG_BYTES = 20 * 1024 * 1024 + 4321;

function expectedAnswers(lang, marker) {
  const answers = {};
  for (const field of FORM.fields) {
    if (field.id in CHOICES) answers[field.id] = CHOICES[field.id];
    else answers[field.id] = `${TEXTS[lang][field.id]} ${marker}`;
  }
  return answers;
}

async function fillEveryField(page, answers) {
  for (const field of FORM.fields) {
    const value = answers[field.id];
    if (field.type === 'checkboxes') for (const option of value) await page.check(`#field-${field.id}-${option}`);
    else if (field.type === 'radio') await page.check(`#field-${field.id}-${value}`);
    else await page.fill(`#field-${field.id}`, value);
  }
}

// Drops a file on the drop zone the way a browser does: a DataTransfer
// holding a File, in a real drop event.
async function dropFile(page, name, type, bytes) {
  const transfer = await page.evaluateHandle(({ name, type, data }) => {
    const dataTransfer = new DataTransfer();
    dataTransfer.items.add(new File([new Uint8Array(data)], name, { type }));
    return dataTransfer;
  }, { name, type, data: [...bytes] });
  await page.dispatchEvent('#dropzone', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: transfer });
}

function contains(haystack, marker) {
  return Buffer.from(haystack).includes(Buffer.from(marker, 'utf8'));
}

async function reportRun(t, { lang, locale, jitless, bigBytes, viaKeyboard = false }) {
  const marker = `M${crypto.randomBytes(4).toString('hex')}`; // short: the currency field holds 20 characters
  const answers = expectedAnswers(lang, marker);
  const dir = h.tmpdir();
  const big = h.writeRandomFile(dir, 'ledger-photo.jpg', bigBytes);
  const small = Buffer.from(`${TEXTS[lang].what}\n${marker}\n`, 'utf8');
  const smallName = lang === 'km' ? `កំណត់ត្រា-${marker}.txt` : `notes-${marker}.txt`;

  const server = await h.startPageServer(t);
  const context = await h.launch(t, { jitless, locale });
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  await h.openPage(page, server);

  // The language came from Accept-Language; the key is the one the server seals to.
  assert.strictEqual(await page.getAttribute('html', 'lang'), lang);
  assert.strictEqual(await page.textContent('header h1'), STRINGS[lang].ui.title);
  assert.strictEqual(await page.evaluate(() => typeof WebAssembly), jitless ? 'undefined' : 'object');
  const fingerprint = runTool(['fingerprint', server.pub]).stdout.trim().split(/\s{2,}/)[1];
  assert.deepStrictEqual(await page.$$eval('#key-list li', (items) => items.map((item) => item.textContent)), [fingerprint]);

  await fillEveryField(page, answers);
  await page.setInputFiles('#files', big);
  await dropFile(page, smallName, 'text/plain', small);
  assert.strictEqual(await page.locator('#file-list li').count(), 2);

  // Every status line shown while sending, however briefly.
  await page.evaluate(() => {
    window.__statuses = [];
    new MutationObserver(() => window.__statuses.push(document.getElementById('progress-status').textContent))
      .observe(document.getElementById('progress-status'), { childList: true, characterData: true, subtree: true });
  });
  // Nothing but the page's own GETs before the person presses send.
  assert.deepStrictEqual(seen.requests.filter((request) => request.method() !== 'GET').map((request) => request.url()), []);
  if (viaKeyboard) {
    await page.focus('#send');
    await page.keyboard.press('Enter');
  } else {
    await page.click('#send');
  }
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 180000 });

  const shown = {
    index: Number(await page.textContent('#receipt-index')),
    day: await page.textContent('#receipt-day'),
    leaf: await page.textContent('#receipt-leaf'),
  };
  assert.strictEqual(await page.isHidden('#receipt-mismatch'), true, 'the page computed the same leaf hash');
  // The page verified the receipt itself: leaf hash, signed checkpoint, inclusion proof.
  await page.waitForSelector('#receipt-status[data-outcome]', { timeout: 60000 });
  assert.strictEqual(await page.getAttribute('#receipt-status', 'data-outcome'), 'verified');
  assert.strictEqual(await page.textContent('#receipt-status'), STRINGS[lang].ui.receipt_verified);
  assert.strictEqual(shown.index, 0);
  assert.strictEqual(shown.day, new Date().toISOString().slice(0, 10));

  // The receipt saved as a file: the server's answer, the page's own leaf
  // hash and the log's key, without any request.
  const requestsBefore = seen.requests.length;
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-receipt')]);
  assert.strictEqual(download.suggestedFilename(), 'receipt-0.json');
  // Before saving, the person was told what the file gives away on a seized device.
  const intro = await page.textContent('[data-text="ui.receipt_intro"]');
  assert.strictEqual(intro, STRINGS[lang].ui.receipt_intro);
  if (lang === 'en') assert.match(intro, /anyone who finds it on your device can tell that a report was sent/);
  const savedFile = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  const saved = savedFile.receipt;
  assert.deepStrictEqual({ index: saved.index, day: saved.day, leaf: saved.leaf_hash }, shown);
  assert.strictEqual(savedFile.leaf_hash, shown.leaf);
  assert.strictEqual(typeof savedFile.log.verifier_key, 'string');
  assert.strictEqual(seen.requests.length, requestsBefore);

  // Sent: nothing kept in the browser, nothing left on screen.
  assert.deepStrictEqual(await page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    databases: (await indexedDB.databases()).length,
    cookie: document.cookie,
    what: document.getElementById('field-what').value,
  })), { local: 0, session: 0, databases: 0, cookie: '', what: '' });
  assert.deepStrictEqual(await context.cookies(), []);

  // Exactly one POST, and only to the server, with its proof of work made
  // for this envelope after one challenge, the progress shown meanwhile.
  const posts = seen.requests.filter((request) => request.method() === 'POST');
  assert.deepStrictEqual(posts.map((request) => request.url()), [`${server.url}/api/v1/reports`]);
  const challenges = seen.requests.filter((request) => request.url() === `${server.url}/api/v1/challenge`);
  assert.strictEqual(challenges.length, 1);
  const pow = /^challenge=([A-Za-z0-9_-]{56}); leaf=([0-9a-f]{64}); nonce=([0-9a-f]{16})$/.exec(await posts[0].headerValue('sealtip-pow'));
  assert.ok(pow, 'the Sealtip-Pow header');
  assert.strictEqual(Buffer.from(pow[2], 'hex').toString('base64'), shown.leaf);
  const work = crypto.createHash('sha256').update(Buffer.from(pow[1], 'base64url')).update(Buffer.from(pow[2], 'hex'))
    .update(Buffer.from(pow[3], 'hex')).digest();
  assert.ok(work.readUInt32BE(0) >>> (32 - h.POW_BITS) === 0, 'the work has the leading zero bits');
  const statuses = await page.evaluate(() => window.__statuses);
  const powPrefix = STRINGS[lang].ui.status_pow.split('{percent}')[0];
  assert.ok(statuses.some((text) => text.startsWith(powPrefix)), `the proof-of-work progress was shown: ${statuses.join(' | ')}`);
  assert.ok(statuses.indexOf(statuses.find((text) => text.startsWith(powPrefix))) <
    statuses.findIndex((text) => text.startsWith(STRINGS[lang].ui.status_uploading.split('{percent}')[0])), 'before the upload');
  seen.check();

  // Offline: the same report, field for field and byte for byte, with the
  // questions in report.txt in the language the form was filled in.
  const labels = path.join(h.ROOT, 'web', 'i18n', `${lang}.json`);
  const [report, ...others] = h.exportAndOpen(server, { labels });
  assert.strictEqual(others.length, 0);
  assert.strictEqual(report.index, shown.index);
  assert.strictEqual(report.leaf, shown.leaf);
  assert.strictEqual(report.envelope.length, saved.size);
  assert.deepStrictEqual(report.manifest.fields, answers);
  assert.strictEqual(report.manifest.lang, lang);
  assert.strictEqual(report.manifest.form, FORM.id);
  assert.deepStrictEqual(report.manifest.files.map(({ name, type, size }) => ({ name, type, size })), [
    { name: 'ledger-photo.jpg', type: 'image/jpeg', size: bigBytes },
    { name: smallName, type: 'text/plain', size: small.length },
  ]);
  const opened = Object.values(report.files);
  assert.strictEqual(opened.length, 2);
  assert.ok(opened[0].equals(fs.readFileSync(big)), 'the 20 MiB attachment, byte for byte');
  assert.ok(opened[1].equals(small), 'the dropped attachment, byte for byte');
  assert.ok(report.reportTxt.includes(`${STRINGS[lang].fields.what.label}\n`), 'report.txt asks in the form\'s language');
  assert.ok(report.reportTxt.includes(`    - ${STRINGS[lang].fields.goods.options.watch}\n`), 'options by their label');
  // report.txt: each typed line, byte for byte, behind its gutter under its
  // question, once the rows a long line wraps onto (behind ": ") are joined.
  const unwrapped = report.reportTxt.replace(/\n {4}(?: {2}| {4})?: /g, '');
  for (const field of FORM.fields.filter(({ type }) => type === 'text' || type === 'textarea')) {
    for (const line of answers[field.id].split('\n')) assert.ok(unwrapped.includes(`    | ${line}\n`), `report.txt has ${field.id}`);
  }

  // The marker is in the decrypted report only: not in anything sent
  // (URLs, headers, bodies), stored, exported or logged.
  assert.ok(contains(report.reportJson, marker));
  for (const request of seen.requests) {
    assert.ok(!request.url().includes(marker));
    assert.ok(!JSON.stringify(await request.allHeaders()).includes(marker));
    const body = request.postDataBuffer();
    if (body) assert.ok(!contains(body, marker), `body of ${request.url()}`);
  }
  // Chromium does not show Blob bodies to playwright; the stored envelope is
  // the POST body: its leaf hash is the one the page computed over what it sent.
  assert.strictEqual(await page.evaluate(() => document.getElementById('receipt-mismatch').hidden), true);
  for (const suffix of ['', '-wal']) {
    if (fs.existsSync(server.db + suffix)) assert.ok(!contains(fs.readFileSync(server.db + suffix), marker), `reports.db${suffix}`);
  }
  assert.ok(!contains(report.exportFile, marker), 'export file');
  assert.ok(!server.stdout.includes(marker) && !server.stderr.includes(marker), 'server output');
  assert.ok(fs.existsSync(server.db), 'the database was checked');
}

test('English, WebAssembly: every field, 20 MiB + dropped file, receipt, export and open', async (t) => {
  await reportRun(t, { lang: 'en', locale: 'en-US', jitless: false, bigBytes: BIG_BYTES });
});

test('Khmer (from Accept-Language km-KH), WebAssembly, sent with the keyboard', async (t) => {
  await reportRun(t, { lang: 'km', locale: 'km-KH', jitless: false, bigBytes: BIG_BYTES, viaKeyboard: true });
});

test('Khmer without WebAssembly (--jitless, like Tor Browser "Safer")', async (t) => {
  await reportRun(t, { lang: 'km', locale: 'km-KH', jitless: true, bigBytes: JITLESS_BIG_BYTES });
});
