// Receipts in the real page against the real server: the page verifies the
// 201's receipt (leaf hash, signed checkpoint, inclusion proof); the saved
// receipt file verifies in node with independent code (node:crypto only);
// "Check my report" says "still on record" after the log grew, and never
// says it when the server lies (a changed root, a changed signature byte, a
// changed consistency proof, a rollback to an older signed checkpoint, a
// different log key) or when the receipt file was changed.
import test from 'node:test';
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.js';
import { request, exportDb, parseExport } from '../integration/helpers.js';

const STRINGS = {
  en: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'en.json'), 'utf8')),
  km: JSON.parse(fs.readFileSync(path.join(h.ROOT, 'web', 'i18n', 'km.json'), 'utf8')),
};
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (whole, name) => String(values[name]));

// ---- independent verification: RFC 9162 §2.1.3.2, C2SP signed note ----

const sha = (...parts) => { const x = crypto.createHash('sha256'); for (const p of parts) x.update(p); return x.digest(); };
const node = (l, r) => sha(Buffer.from([1]), l, r);
const b64 = (s, len) => {
  const b = Buffer.from(s, 'base64');
  assert.strictEqual(b.toString('base64'), s, 'canonical base64');
  if (len !== undefined) assert.strictEqual(b.length, len);
  return b;
};

function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

function openCheckpoint(note, vkey) {
  const [name, idHex, keyB64] = [vkey.slice(0, vkey.indexOf('+')), vkey.split('+')[1], vkey.split('+').slice(2).join('+')];
  const raw = b64(keyB64, 33);
  assert.strictEqual(raw[0], 1);
  const pk = raw.subarray(1);
  const id = sha(Buffer.from(name), Buffer.from([0x0a, 0x01]), pk).subarray(0, 4);
  assert.strictEqual(id.toString('hex'), idHex);
  const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]), format: 'der', type: 'spki' });
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const [line, ...rest] = note.slice(split + 2).split('\n');
  assert.deepStrictEqual(rest, ['']);
  const m = /^\u2014 (\S+) (\S+)$/.exec(line);
  assert.ok(m && m[1] === name, 'signature line by the log key');
  const sig = b64(m[2], 68);
  assert.ok(sig.subarray(0, 4).equals(id));
  assert.ok(crypto.verify(null, Buffer.from(text), key, sig.subarray(4)), 'Ed25519 signature');
  const lines = text.split('\n');
  assert.strictEqual(lines[0], name);
  return { size: Number(lines[1]), root: b64(lines[2], 32) };
}

// ---- the page ----

async function newPage(t, server, options) {
  const context = await h.launch(t, options);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  await h.openPage(page, server);
  return { context, page, seen };
}

// Sends one short report from a freshly loaded page -> the receipt status.
async function sendReport(page, server, what) {
  await h.openPage(page, server);
  await page.fill('#field-what', what);
  await page.click('#send');
  await page.waitForSelector('#receipt-status[data-outcome]', { timeout: 60000 });
  return { outcome: await page.getAttribute('#receipt-status', 'data-outcome'), text: await page.textContent('#receipt-status') };
}

async function checkFile(page, file) {
  await page.evaluate(() => { delete document.getElementById('check-result').dataset.outcome; });
  await page.setInputFiles('#check-file', file);
  await page.waitForFunction(() => {
    const outcome = document.getElementById('check-result').dataset.outcome;
    return outcome && outcome !== 'working';
  }, null, { timeout: 30000 });
  return { outcome: await page.getAttribute('#check-result', 'data-outcome'), text: await page.textContent('#check-result') };
}

const isPath = (name) => (url) => new URL(url).pathname === name;

test('receipt verified in the page and in node; "Check my report": still on record, and every lie caught', async (t) => {
  const server = await h.startPageServer(t);
  const { context, page, seen } = await newPage(t, server);
  const ui = STRINGS.en.ui;

  // Report 0, and the signed checkpoint of size 1 (for the rollback below).
  assert.strictEqual((await sendReport(page, server, 'First: a bribe at the port.')).outcome, 'verified');
  const oldNote = (await request(server, 'GET', '/api/v1/log/checkpoint')).body.toString('utf8');
  assert.match(oldNote, /^[^\n]+\n1\n/);

  // Report 1: its receipt is the one kept.
  const sent = await sendReport(page, server, 'Second: a phone "for the stamp".');
  assert.deepStrictEqual(sent, { outcome: 'verified', text: ui.receipt_verified });
  assert.strictEqual(await page.isHidden('#receipt-mismatch'), true);
  const requestsBefore = seen.requests.length;
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-receipt')]);
  assert.strictEqual(download.suggestedFilename(), 'receipt-1.json');
  assert.strictEqual(seen.requests.length, requestsBefore, 'saving makes no request');
  const receiptPath = path.join(h.tmpdir(), 'receipt.json');
  await download.saveAs(receiptPath);
  const saved = JSON.parse(fs.readFileSync(receiptPath, 'utf8'));

  // The saved file, in node with node:crypto alone.
  const config = JSON.parse((await request(server, 'GET', '/api/v1/config')).body.toString('utf8'));
  assert.deepStrictEqual(saved.log, { origin: config.log.origin, verifier_key: config.log.verifier_key });
  assert.strictEqual(saved.receipt.index, 1);
  assert.strictEqual(saved.receipt.day, new Date().toISOString().slice(0, 10));
  const stored = parseExport(exportDb(server.db).file).entries.find((entry) => entry.index === 1).envelope;
  const leaf = sha(Buffer.from([0]), stored);
  assert.strictEqual(saved.leaf_hash, leaf.toString('base64'), 'the page\'s leaf hash is SHA-256(0x00 || stored envelope)');
  assert.strictEqual(saved.receipt.leaf_hash, saved.leaf_hash);
  const cp = openCheckpoint(saved.receipt.checkpoint, saved.log.verifier_key);
  assert.strictEqual(cp.size, saved.receipt.tree_size);
  assert.strictEqual(cp.size, 2);
  assert.ok(verifyInclusion(1, cp.size, leaf, saved.receipt.inclusion_proof.map((p) => b64(p, 32)), cp.root), 'inclusion');

  // Two more reports: the log grows to 4.
  for (const what of ['Third: cash at the checkpoint.', 'Fourth: perfume for a licence.']) {
    assert.strictEqual((await sendReport(page, server, what)).outcome, 'verified');
  }

  // The check view, from the link; the file is read, never sent.
  await h.openPage(page, server);
  await page.click('#check-open');
  assert.strictEqual(await page.isVisible('#check'), true);
  assert.strictEqual(await page.isHidden('#report'), true);
  const postsBefore = seen.requests.filter((request) => request.method() !== 'GET').length;
  const ok = await checkFile(page, receiptPath);
  assert.deepStrictEqual(ok, { outcome: 'ok', text: fill(ui.check_ok, { index: 1, day: saved.receipt.day, from: 2, to: 4 }) });

  // The server lies, one way at a time: never "still on record".
  const altered = async (name, pattern, handler, expected = ui.check_altered) => {
    await page.route(pattern, handler);
    const result = await checkFile(page, receiptPath);
    await page.unroute(pattern, handler);
    assert.strictEqual(result.text, expected, name);
    assert.notStrictEqual(result.outcome, 'ok', name);
    return result.outcome;
  };
  const withNote = (change) => async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: change(await response.text()) });
  };
  const lines = (note) => note.split('\n');
  assert.strictEqual(await altered('root changed', isPath('/api/v1/log/checkpoint'), withNote((note) => {
    const l = lines(note);
    l[2] = crypto.randomBytes(32).toString('base64');
    return l.join('\n');
  })), 'bad_signature');
  assert.strictEqual(await altered('signature byte changed', isPath('/api/v1/log/checkpoint'), withNote((note) => {
    const l = lines(note);
    const [dash, name, sig] = l[4].split(' ');
    const bytes = Buffer.from(sig, 'base64');
    bytes[40] ^= 0x01;
    l[4] = [dash, name, bytes.toString('base64')].join(' ');
    return l.join('\n');
  })), 'bad_signature');
  assert.strictEqual(await altered('consistency proof changed', isPath('/api/v1/log/consistency'), async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    const element = Buffer.from(json.proof[0], 'base64');
    element[7] ^= 0x80;
    json.proof[0] = element.toString('base64');
    await route.fulfill({ response, json });
  }), 'bad_consistency');
  assert.strictEqual(await altered('rollback to an older signed checkpoint', isPath('/api/v1/log/checkpoint'),
    withNote(() => oldNote)), 'rolled_back');
  // A different log key (a real one, of the same name) announced in config.
  const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const name = config.log.origin;
  const otherKey = `${name}+${sha(Buffer.from(name), Buffer.from([0x0a, 0x01]), other).subarray(0, 4).toString('hex')}+${Buffer.concat([Buffer.from([1]), other]).toString('base64')}`;
  assert.strictEqual(await altered('the log key changed', isPath('/api/v1/config'), async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    await route.fulfill({ response, json: { ...json, log: { ...json.log, verifier_key: otherKey } } });
  }, ui.check_key_changed), 'key_changed');

  // A receipt file changed by hand is refused before anything is asked.
  const dir = h.tmpdir();
  const otherLeaf = crypto.randomBytes(32).toString('base64');
  for (const [label, change] of [
    ['server leaf hash', (file) => { file.receipt.leaf_hash = otherLeaf; }],
    ['both leaf hashes', (file) => { file.receipt.leaf_hash = otherLeaf; file.leaf_hash = otherLeaf; }],
    ['index', (file) => { file.receipt.index = 0; }],
    ['not a receipt', (file) => { delete file.format; }],
  ]) {
    const copy = JSON.parse(JSON.stringify(saved));
    change(copy);
    const file = path.join(dir, `tampered-${label.replace(/ /g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(copy));
    const result = await checkFile(page, file);
    assert.deepStrictEqual(result, { outcome: 'bad_file', text: ui.check_bad_file }, label);
  }

  // Untouched, it still checks; and back to the form.
  assert.strictEqual((await checkFile(page, receiptPath)).outcome, 'ok');
  await page.click('#check-back');
  assert.strictEqual(await page.isHidden('#check'), true);
  assert.strictEqual(await page.isVisible('#report'), true);

  // Nothing but GETs during the check; nothing stored; the usual rules.
  assert.strictEqual(seen.requests.filter((request) => request.method() !== 'GET').length, postsBefore);
  assert.deepStrictEqual(await page.evaluate(async () => ({
    local: localStorage.length, session: sessionStorage.length, databases: (await indexedDB.databases()).length, cookie: document.cookie,
  })), { local: 0, session: 0, databases: 0, cookie: '' });
  assert.deepStrictEqual(await context.cookies(), []);
  seen.check();
});

test('a server announcing another log key: the receipt is not verified (Khmer), and the check view says so', async (t) => {
  const server = await h.startPageServer(t);
  const context = await h.launch(t, { locale: 'km-KH' });
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  let name = null;
  await page.route(isPath('/api/v1/config'), async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    name = json.log.origin;
    const id = sha(Buffer.from(name), Buffer.from([0x0a, 0x01]), other).subarray(0, 4).toString('hex');
    await route.fulfill({ response, json: { ...json, log: { ...json.log, verifier_key: `${name}+${id}+${Buffer.concat([Buffer.from([1]), other]).toString('base64')}` } } });
  });
  const sent = await sendReport(page, server, 'មន្ត្រីបានទាមទារលុយ។');
  assert.deepStrictEqual(sent, { outcome: 'no_signature', text: STRINGS.km.ui.receipt_unverified });
  assert.notStrictEqual(sent.text, STRINGS.km.ui.receipt_verified);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-receipt')]);
  const file = path.join(h.tmpdir(), 'receipt.json');
  await download.saveAs(file);
  // The file holds the key the page was given: it does not check out on its own.
  await page.click('#check-open');
  const result = await checkFile(page, file);
  assert.deepStrictEqual(result, { outcome: 'bad_file', text: STRINGS.km.ui.check_bad_file });
  seen.check();
});

test('not a secure context (plain http to a name other than localhost, no crypto.subtle): the receipt is verified all the same', async (t) => {
  const server = await h.startPageServer(t);
  // tips.example is this machine: http://tips.example:PORT/ is not
  // localhost, so the page gets no crypto.subtle.
  const context = await h.launch(t, { viewport: { width: 360, height: 740 }, args: ['--host-resolver-rules=MAP tips.example 127.0.0.1'] });
  const page = context.pages()[0] || await context.newPage();
  const origin = `http://tips.example:${server.port}`;
  const seen = await h.watch(page, origin);
  const sent = await sendReport(page, { ...server, url: origin }, 'A fee for a driving licence, asked over plain http.');
  assert.deepStrictEqual(await page.evaluate(() => [window.isSecureContext, typeof crypto.subtle, typeof WebAssembly]),
    [false, 'undefined', 'object']);
  assert.deepStrictEqual(sent, { outcome: 'verified', text: STRINGS.en.ui.receipt_verified });
  // The saved receipt checks there too ("Check my report").
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-receipt')]);
  const file = path.join(h.tmpdir(), 'receipt.json');
  await download.saveAs(file);
  await page.click('#check-open');
  assert.strictEqual((await checkFile(page, file)).outcome, 'ok');
  // Chromium's own word about the origin, not the page's.
  seen.check({ allow: /The Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was untrustworthy/ });
  assert.strictEqual(h.exportAndOpen(server).length, 1);
});

test('a receipt check that cannot run in this browser is said as such, not as a receipt that does not check out', async (t) => {
  const server = await h.startPageServer(t);
  const context = await h.launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  // SHA-256 fails here for a reason of the browser's own: nothing about the
  // receipt was found wrong.
  await page.addInitScript(() => {
    SubtleCrypto.prototype.digest = () => Promise.reject(new DOMException('digest failed in this test', 'OperationError'));
  });
  const sent = await sendReport(page, server, 'A fee for a building permit.');
  assert.deepStrictEqual(sent, { outcome: 'not_checked', text: STRINGS.en.ui.receipt_not_checked });
  assert.strictEqual(await page.getAttribute('#receipt-status', 'class'), '');
  // The report is stored, and the receipt can still be saved.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-receipt')]);
  assert.strictEqual(download.suggestedFilename(), `receipt-${await page.textContent('#receipt-index')}.json`);
  assert.strictEqual(h.exportAndOpen(server).length, 1);
  seen.check();
});

test('"Check my report" on a line that stalls: no answer within 30 s is said (English, Khmer), and "Try again" checks again', async (t) => {
  const server = await h.startPageServer(t);
  const context = await h.launch(t, { viewport: { width: 360, height: 740 } });
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  assert.strictEqual((await sendReport(page, server, 'A fee for a market stall.')).outcome, 'verified');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-receipt')]);
  const receiptPath = path.join(h.tmpdir(), 'receipt.json');
  await download.saveAs(receiptPath);
  assert.strictEqual((await sendReport(page, server, 'A fee for a fishing licence.')).outcome, 'verified');

  // The line stalls: each request named in `stall` is held, never answered.
  const stall = new Set();
  const held = [];
  let heard;
  const hear = () => new Promise((resolve) => { heard = resolve; });
  await page.route((url) => url.pathname.startsWith('/api/v1/'), (route) => {
    const name = new URL(route.request().url()).pathname;
    if (!stall.has(name)) return route.continue();
    held.push(name);
    heard();
    return undefined; // held: no answer ever comes
  });
  await h.openPage(page, server);
  await page.clock.install();
  await page.click('#check-open');
  const outcome = () => page.getAttribute('#check-result', 'data-outcome');
  const settled = () => page.waitForFunction(() => {
    const result = document.getElementById('check-result').dataset.outcome;
    return result && result !== 'working';
  });
  const retryShown = () => page.isVisible('#check-retry');

  // The latest checkpoint never comes: after 30 s, said so, with "Try again".
  stall.add('/api/v1/log/checkpoint');
  let waiting = hear();
  await page.setInputFiles('#check-file', receiptPath);
  await waiting;
  assert.deepStrictEqual([await outcome(), await page.textContent('#check-result'), await retryShown()],
    ['working', STRINGS.en.ui.check_working, false]);
  await page.clock.fastForward(29000);
  assert.strictEqual(await outcome(), 'working', 'not before the bound');
  await page.clock.fastForward(1500);
  await settled();
  const noAnswer = (lang) => fill(STRINGS[lang].ui.check_no_answer, { seconds: 30 });
  assert.deepStrictEqual([await outcome(), await page.textContent('#check-result'), await retryShown()],
    ['no_answer', noAnswer('en'), true]);
  assert.strictEqual(await page.getAttribute('#check-result', 'class'), 'problem');
  // Said again in Khmer on a switch, its button too.
  await page.selectOption('#language', 'km');
  await page.waitForFunction(() => document.documentElement.lang === 'km');
  assert.strictEqual(await page.textContent('#check-result'), noAnswer('km'));
  assert.strictEqual(await page.textContent('#check-retry'), STRINGS.km.ui.check_retry);

  // "Try again": the checkpoint comes now, the consistency proof stalls.
  stall.delete('/api/v1/log/checkpoint');
  stall.add('/api/v1/log/consistency');
  waiting = hear();
  await page.click('#check-retry');
  await waiting;
  assert.deepStrictEqual([await outcome(), await retryShown()], ['working', false]);
  await page.clock.fastForward(30500);
  await settled();
  assert.deepStrictEqual([await outcome(), await page.textContent('#check-result'), await retryShown()],
    ['no_answer', noAnswer('km'), true]);
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'check-retry');

  // The server cannot be reached: said as such, also with "Try again".
  stall.clear();
  await page.route('**/api/v1/config', (route) => route.abort('connectionrefused'));
  await page.click('#check-retry');
  await settled();
  assert.deepStrictEqual([await outcome(), await page.textContent('#check-result'), await retryShown()],
    ['failed', STRINGS.km.ui.check_failed, true]);
  await page.unroute('**/api/v1/config');

  // And again, answered: still on record, no "Try again" any more.
  await page.click('#check-retry');
  await settled();
  const saved = JSON.parse(fs.readFileSync(receiptPath, 'utf8'));
  assert.deepStrictEqual([await outcome(), await page.textContent('#check-result'), await retryShown()],
    ['ok', fill(STRINGS.km.ui.check_ok, { index: 0, day: saved.receipt.day, from: 1, to: 2 }), false]);
  assert.deepStrictEqual(held, ['/api/v1/log/checkpoint', '/api/v1/log/consistency']);
  seen.check({ allow: /ERR_CONNECTION_REFUSED/ });
});
