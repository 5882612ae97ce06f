// The report page: renders the form from form.json in the chosen language,
// seals the report in this browser (envelope.js + libsodium.js) and only
// then, when the person presses send, posts the ciphertext. Nothing is
// written to any browser storage; the sealed envelope lives in memory (a
// Blob) until it is sent, so a failed upload is retried without retyping.
import { parsePublicKeyFile, keyId, fingerprint, plannedEnvelopeLength } from './envelope.js';
import { sealForUpload } from './seal.js';
import { loadLanguages, loadStrings, chooseLanguage, translate, hasString, applyStrings } from './i18n.js';
import { renderForm, readAnswers, missingRequired, tooLong, setError, fieldElementId } from './form.js';
import { postEnvelope, proveWork, UploadError } from './upload.js';
import { verifyReceipt, receiptFile, openReceiptFile, checkStillOnRecord, ReceiptError } from './receipt.js';

// libsodium.js's JavaScript fallback (no WebAssembly: Tor Browser "Safer")
// works, but first leaves this one rejection behind; any other stays loud.
window.addEventListener('unhandledrejection', (event) => {
  const reason = event.reason;
  if (/WebAssembly is not defined/.test(String(reason && reason.message ? reason.message : reason))) {
    event.preventDefault();
  }
});

const $ = (id) => document.getElementById(id);
const page = {
  strings: null,
  definition: null,
  sodium: null,
  sodiumReady: null, // a promise of libsodium, for the check view even if the keys fail
  sodiumPending: false, // whether sodiumReady is still loading
  sodiumTries: 0, // libsodium's scripts added
  connects: 0, // tries to start (connect) begun
  resumeAfter: null, // the connect that gave up on libsodium alone, while its download goes on
  config: null,
  recipients: [], // {boxPk, keyId, fingerprint, computed}, checked by checkRecipients
  files: [], // File objects, in the order shown
  envelope: null, // {blob, leafHash (base64), sealedTo (key ids), pow (proveWork's, while unspent), mayBeStored} sealed and not yet accepted
  refusal: null, // {code, sealedTo} after a 422, until the keys asked for again check out
  receipt: null, // {receipt, text} once the server stored the report
  receiptFile: null, // what "Save the receipt" writes (receipt.js receiptFile)
  mainView: null, // while the check view shows: which main sections were hidden
  checkRuns: 0, // receipt checks begun: only the latest says its outcome
  checkText: null, // the receipt file's text after a check that may go otherwise if run again
  busy: false,
  waiting: null, // {cancel} while a refused send waits out Retry-After
  stopper: null, // an AbortController while a send can be stopped (the Stop button)
  languageSwitches: 0,
  messages: new Map(), // element id -> [key, values]: re-said on a language switch
  fieldErrors: new Map(), // control id -> [key, values]
};

// values may hold a message of its own (inner: a failure's {reason}),
// translated whenever the outer one is, so a language switch re-says both.
function t(key, values = {}) {
  const filled = {};
  for (const [name, value] of Object.entries(values)) {
    filled[name] = value !== null && typeof value === 'object' ? t(value.key, value.values) : value;
  }
  return translate(page.strings, key, filled);
}

function inner(key, values = {}) {
  return { key, values };
}

// A start that could not finish, for a reason said in the page's words.
class StartError extends Error {
  constructor(key) {
    super(key);
    this.reason = inner(key);
  }
}

// Puts a translatable message in an element (and remembers it for a switch).
function say(id, key, values = {}) {
  page.messages.set(id, [key, values]);
  $(id).textContent = t(key, values);
}

function showFieldError(controlId, key, values = {}) {
  page.fieldErrors.set(controlId, [key, values]);
  setError(controlId, t(key, values));
}

function clearFieldErrors() {
  for (const controlId of page.fieldErrors.keys()) setError(controlId, null);
  page.fieldErrors.clear();
}

function megabytes(bytes) {
  return t('ui.megabytes', { n: (bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 1) });
}

// A file's size as people read it: a small file is not "0.00 MB".
function fileSize(bytes) {
  return bytes < 1024 * 1024 ? t('ui.kilobytes', { n: Math.ceil(bytes / 1024) }) : megabytes(bytes);
}

async function fetchOk(url, signal = null) {
  const response = await fetch(url, { credentials: 'omit', cache: 'no-store', signal });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

// A request whose whole answer did not come within its bound.
class NoAnswer extends Error {}

// read: how the answer is read (its JSON, its text); timeoutMs: how long to
// wait for the whole answer, 0 for the browser's own limit (which may be
// none: a stalled connection is waited for forever). Throws a NoAnswer when
// that time ran out.
async function fetchAnswer(url, read, timeoutMs = 0) {
  const abort = new AbortController();
  let late = false;
  const timer = timeoutMs > 0 ? setTimeout(() => {
    late = true;
    abort.abort();
  }, timeoutMs) : null;
  try {
    return await read(await fetchOk(url, abort.signal));
  } catch (error) {
    throw late ? new NoAnswer(`${url}: no answer within ${timeoutMs / 1000} s`) : error;
  } finally {
    clearTimeout(timer);
  }
}

function fetchJson(url, timeoutMs = 0) {
  return fetchAnswer(url, (response) => response.json(), timeoutMs);
}

// The answer's bytes: a signed note is checked as the bytes that came (as
// sealtip audit does), never as text a decoder repaired (response.text()
// turns a byte that is not UTF-8 into U+FFFD and drops a byte order mark).
function fetchBytes(url, timeoutMs = 0) {
  return fetchAnswer(url, async (response) => new Uint8Array(await response.arrayBuffer()), timeoutMs);
}

// The whole promise, or a NoAnswer after ms.
function within(promise, ms) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new NoAnswer(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// How long libsodium's script (1.3 MB, by far the page's largest file) is
// waited for before connect offers "Try again", and a check says it could
// not be done. A stalled download would otherwise keep "Preparing
// encryption…" (and Send off) forever with nothing to press.
const SODIUM_WAIT_MS = 60000;

// libsodium, loading or loaded (for the keys, and for the check view even
// if the keys fail). Reported by connect, and by a check; a script that did
// not load is asked for again by the next try (of either). afresh (a "Try
// again"): a download still going is not given up, as its bytes may still
// come on a slow line, but a new one starts beside it; whichever ends first
// is used.
function sodiumLoading(afresh = false) {
  if (page.sodiumReady && !(afresh && page.sodiumPending)) return page.sodiumReady;
  const started = loadSodium();
  const ready = page.sodiumReady
    ? Promise.any([page.sodiumReady, started]).catch((error) => { throw error.errors[1]; })
    : started;
  page.sodiumReady = ready;
  page.sodiumPending = true;
  ready.then(() => {
    if (page.sodiumReady !== ready) return;
    page.sodiumPending = false;
    // Whichever download came (the start's, or one a check's "Try again"
    // began beside it), a start that gave up on it runs again.
    if (page.resumeAfter !== null && page.resumeAfter === page.connects) reconnect();
    page.resumeAfter = null;
  }, () => {
    if (page.sodiumReady !== ready) return;
    page.sodiumReady = null;
    page.sodiumPending = false;
  });
  return ready;
}

// One classic script (libsodium + wrappers, see docs/web-crypto.md), added
// only now so that the listener above is in place before it runs. A try
// after the first has a URL of its own: Chromium joins a script to a
// download of the same URL still going, stalled or not, instead of asking
// again.
function loadSodium() {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    page.sodiumTries++;
    script.src = page.sodiumTries === 1 ? 'vendor/sodium.js' : `vendor/sodium.js?try=${page.sodiumTries}`;
    script.onload = () => resolve(window.sodium.ready.then(() => window.sodium));
    script.onerror = () => reject(new Error('vendor/sodium.js did not load'));
    document.head.append(script);
  });
}

// ------------------------------------------------------------ language ----

// Each language's words, once loaded: all of them are asked for at the
// start, so that a switch (often made on a bad line, Khmer readers in Tor
// Browser, which asks for English) needs no request.
const languageStrings = new Map();

// How long a language's words are waited for. Unbounded, a request that
// stalled at the start would be the answer to every later choice of that
// language: a switch that never happens, and nothing said.
const LANGUAGE_ANSWER_MS = 30000;

function stringsOf(lang) {
  if (!languageStrings.has(lang)) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), LANGUAGE_ANSWER_MS);
    const loading = loadStrings(lang, abort.signal).finally(() => clearTimeout(timer));
    languageStrings.set(lang, loading);
    loading.catch(() => languageStrings.delete(lang)); // asked for again at the next choice
  }
  return languageStrings.get(lang);
}

async function setLanguage(lang) {
  const switchNumber = ++page.languageSwitches;
  const strings = await stringsOf(lang);
  if (switchNumber !== page.languageSwitches) return; // a later choice won
  page.strings = strings;
  page.messages.delete('language-status');
  $('language-status').hidden = true;
  applyStrings(document.body, page.strings);
  $('language').value = lang;
  for (const [id, [key, values]] of page.messages) $(id).textContent = t(key, values);
  for (const [controlId, [key, values]] of page.fieldErrors) setError(controlId, t(key, values));
  renderFileList();
  renderKeys();
}

// A choice in the language selector. Words that do not come leave the page
// in its language, the selector showing it, and say so in it.
async function switchLanguage(lang) {
  const switchNumber = page.languageSwitches + 1;
  try {
    await setLanguage(lang);
  } catch {
    if (switchNumber !== page.languageSwitches) return; // a later choice is under way
    $('language').value = page.strings.lang;
    say('language-status', 'ui.language_failed');
    $('language-status').hidden = false;
  }
}

// ------------------------------------------------------------ the keys ----

// The page seals to the box keys the server serves. Each must hash to its
// key id, and the server must also serve the signing key (the key file's
// text, or sign_pk): the fingerprint shown is computed here from the very key
// the page encrypts to, so a server cannot show one key and seal to another.
// Without it the page refuses: showing the fingerprint the server announces
// would let a server that changed only its config pass for the real one.
function checkRecipients(sodium, recipients) {
  if (!Array.isArray(recipients) || recipients.length === 0) throw new Error('no recipients');
  const base64 = (text) => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
  return recipients.map((recipient) => {
    const boxPk = base64(recipient.box_pk);
    if (sodium.to_hex(keyId(sodium, boxPk)) !== recipient.key_id) throw new Error('key id mismatch');
    let signPk = null;
    if (typeof recipient.public_key === 'string') {
      const key = parsePublicKeyFile(sodium, recipient.public_key);
      if (sodium.to_hex(key.boxPk) !== sodium.to_hex(boxPk)) throw new Error('key file mismatch');
      signPk = key.signPk;
    } else if (typeof recipient.sign_pk === 'string') {
      signPk = base64(recipient.sign_pk);
    }
    if (signPk === null) throw new Error('no signing key');
    const computed = fingerprint(sodium, boxPk, signPk);
    if (computed !== recipient.fingerprint) throw new Error('fingerprint mismatch');
    return { boxPk, keyId: recipient.key_id, fingerprint: computed };
  });
}

function renderKeys() {
  $('key-list').replaceChildren(...page.recipients.map((recipient) => {
    const item = document.createElement('li');
    item.textContent = recipient.fingerprint;
    item.dataset.keyId = recipient.keyId;
    item.title = t('ui.key_computed');
    return item;
  }));
}

// ----------------------------------------------------------- the files ----

function addFiles(fileList) {
  clearError('files');
  const max = page.definition.files.max_count;
  const left = [];
  for (const file of fileList) {
    if (page.files.length >= max) left.push(file.name);
    else page.files.push(file);
  }
  // Which ones were not added, by name: the person chose them.
  if (left.length > 0) showFieldError('files', 'ui.error_too_many_files', { max, names: left.join(', ') });
  forgetEnvelope();
  renderFileList();
}

function clearError(controlId) {
  if (page.fieldErrors.delete(controlId)) setError(controlId, null);
}

function renderFileList() {
  $('file-list').replaceChildren(...page.files.map((file, index) => {
    const item = document.createElement('li');
    // <bdi>: a name with right-to-left controls ("invoice\u202Egpj.exe")
    // cannot reorder the size after it, nor pass an .exe for a .jpg.
    const name = document.createElement('span');
    const bidiIsolated = document.createElement('bdi');
    bidiIsolated.textContent = file.name;
    name.append(bidiIsolated, ` (${fileSize(file.size)})`);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove';
    remove.textContent = t('ui.files_remove');
    remove.setAttribute('aria-label', t('ui.files_remove_named', { name: file.name }));
    remove.addEventListener('click', () => {
      page.files.splice(index, 1);
      clearError('files'); // what it said was about the list before
      forgetEnvelope();
      renderFileList();
      $('files').focus();
    });
    item.append(name, ' ', remove);
    return item;
  }));
}

function setUpDropzone() {
  const zone = $('dropzone');
  zone.addEventListener('click', () => $('files').click());
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if ((!page.busy || page.waiting) && event.dataTransfer) addFiles(event.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser open it (and
  // leave the page with the report in it).
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
}

// ------------------------------------------------------------ progress ----

function showProgress(key, done, total) {
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
  const last = page.messages.get('progress-status');
  if (last && last[0] === key && last[1].percent === percent) return; // no DOM churn per 64 KiB
  $('progress-bar').value = percent;
  say('progress-status', key, { percent });
}

function setBusy(busy) {
  page.busy = busy;
  $('controls').disabled = busy;
  $('report').setAttribute('aria-busy', String(busy));
  $('check-open').disabled = busy;
}

// The Stop button, from the first step of encrypting to the server's answer,
// the countdown included: a person who sees the wrong photo going (one that
// names them) must be able to stop it without closing the page and losing
// what they typed. -> the AbortSignal that every step of the send heeds.
function startStoppable() {
  page.stopper = new AbortController();
  $('stop').hidden = false;
  return page.stopper.signal;
}

function endStoppable() {
  page.stopper = null;
  $('stop').hidden = true;
}

// ------------------------------------------------------------- sending ----

// The exact envelope size before any work (envelope.js).
function plannedEnvelopeBytes(answers) {
  return plannedEnvelopeLength({
    recipients: page.recipients, form: page.definition.id, lang: page.strings.lang, fields: answers, files: page.files,
  });
}

// Sealing runs on this thread, one step at a time with an await between
// steps, so a Stop is heard at the next step: sealReport wipes its keys and
// throws what the progress callback throws.
async function seal(answers, signal) {
  const sealedTo = page.recipients.map((recipient) => recipient.keyId); // to tell a key change after a 422
  const envelope = await sealForUpload(page.sodium, {
    recipients: page.recipients.map((recipient) => recipient.boxPk),
    form: page.definition.id,
    lang: page.strings.lang,
    fields: answers,
    files: page.files,
  }, ({ phase, done, total }) => {
    if (signal.aborted) throw new UploadError('stopped', 'stopped while encrypting');
    showProgress(phase === 'hashing' ? 'ui.status_hashing' : 'ui.status_sealing', done, total);
  });
  if (signal.aborted) throw new UploadError('stopped', 'stopped while encrypting');
  return { ...envelope, sealedTo };
}

async function onSend() {
  if (page.busy || !page.sodium) return;
  clearFieldErrors();
  $('failure').hidden = true;
  const answers = readAnswers(page.definition, $('report'));
  const missing = missingRequired(page.definition, answers);
  for (const fieldId of missing) {
    // A question may have its own words for "please answer"; else the common ones.
    const specific = `ui.error_required_${fieldId}`;
    showFieldError(fieldElementId(fieldId), hasString(page.strings, specific) ? specific : 'ui.error_required');
  }
  const long = tooLong(page.definition, answers);
  for (const { id, length, max } of long) showFieldError(fieldElementId(id), 'ui.error_too_long', { length, max });
  if (missing.length > 0 || long.length > 0) {
    $(fieldElementId(missing.length > 0 ? missing[0] : long[0].id)).focus();
    return;
  }
  const maxBytes = page.config.limits.max_report_bytes;
  if (plannedEnvelopeBytes(answers) > maxBytes) {
    showFieldError('files', 'ui.error_too_large', { max: megabytes(maxBytes) });
    $('files').focus();
    return;
  }
  setBusy(true); // from here on: a second press must not start a second send
  // A file deleted or moved since it was chosen: named now, not as a
  // browser's English message in the middle of encrypting.
  const unreadable = await unreadableFile();
  if (unreadable) {
    setBusy(false);
    showUnreadable(unreadable);
    return;
  }
  $('progress').hidden = false;
  $('slow-note').hidden = typeof WebAssembly !== 'undefined';
  const signal = startStoppable();
  try {
    page.envelope = null;
    page.envelope = await seal(answers, signal);
  } catch (error) {
    if (error.code === 'stopped') {
      stopped(false);
      return;
    }
    // Deleted, moved or changed while it was being encrypted: named as
    // before encrypting, not in the browser's own (English) words.
    const unreadable = await unreadableFile();
    if (unreadable) {
      page.envelope = null;
      setBusy(false);
      endStoppable();
      $('progress').hidden = true;
      showUnreadable(unreadable);
      return;
    }
    fail('ui.seal_failed', { reason: error.message });
    return;
  }
  await send(signal);
}

// The first file of the list that can no longer be read, or null.
async function unreadableFile() {
  for (const file of page.files) {
    try {
      await file.slice(0, 1).arrayBuffer();
    } catch {
      return file;
    }
  }
  return null;
}

function showUnreadable(file) {
  showFieldError('files', 'ui.error_file_unreadable', { name: file.name });
  $('files').focus();
}

// Something changed after sealing: the sealed envelope no longer says what
// is on screen, so "try again" must not send it (a photo removed after a
// failed upload would go anyway); Send seals afresh. Nor may a send waiting
// to try again by itself.
function forgetEnvelope() {
  if (page.waiting) page.waiting.cancel();
  else if (page.busy) return;
  page.envelope = null;
  $('retry').hidden = true;
}

// signal: the Stop button's, when Send made one already for the sealing.
async function send(signal = null) {
  if (!page.envelope) return;
  const stop = signal || startStoppable();
  setBusy(true);
  $('failure').hidden = true;
  $('progress').hidden = false;
  try {
    page.receipt = await proveAndPost(stop);
  } catch (error) {
    if (error.code === 'cancelled') {
      // The person is typing: the message must not take the focus away.
      fail('ui.upload_stopped', {}, false, false);
      return;
    }
    if (error.code === 'stopped' || error.code === 'stopped_sent') {
      stopped(error.code === 'stopped_sent');
      return;
    }
    if (error.code === 'no_answer') {
      page.envelope.mayBeStored = true;
      fail('ui.upload_unknown', {}, true);
      return;
    }
    if (error.status === 422) {
      await refusedAsSealed(error.code);
      return;
    }
    const { reason, retry } = failureReason(error);
    fail('ui.upload_failed', { reason: inner(reason, { code: error.code }) }, retry);
    return;
  }
  showReceipt();
}

// A 422: the server refused the envelope as it was sealed, perhaps because
// the investigators' keys changed since this page loaded. Sending it again
// cannot help, and a reload would lose what was typed: the envelope goes,
// and the keys are asked for again in place as at the start. What the
// refusal meant is said only once they check out (sayRefusal); until then
// the message says only that they are being checked.
async function refusedAsSealed(code) {
  page.refusal = { code, sealedTo: page.envelope.sealedTo };
  page.envelope = null;
  fail('ui.upload_refused_checking', {}, false, false);
  await reconnect();
}

// connect() after a 422, or at the start's "Try again". The focus then goes
// where the person can go on: Send once the keys check out, else "Try
// again" again (focusAfterWait).
async function reconnect() {
  if (!(await connect())) {
    focusAfterWait($('start-retry'));
    return;
  }
  focusAfterWait(page.refusal ? sayRefusal() : $('send'));
}

// After a wait, the focus goes to element only if the person is nowhere
// else: the button pressed (a "Try again", hidden while it runs) or nothing.
// Any wait, one they started by a press included, may end while they type
// (on a slow line they go back to their answer), and a focused Send would
// take their next space or Enter as a press, sending what is half typed.
// Never out of the check view.
function focusAfterWait(element) {
  const active = document.activeElement;
  if (page.mainView) return;
  if (!active || active === document.body || active === $('send') || active === $('start-retry')
    || $('failure').contains(active)) {
    element.focus();
  }
}

// After a 422, with the keys asked for again and checked. Only a key change
// is mended by sealing again, and only unknown_recipient says the keys were
// the cause: the person compares the new fingerprint and presses Send.
// Anything else (the same keys, bad_layout from a bug in this page or a
// proxy) would be refused again, so the page says so and invites no press:
// sending again would loop. -> the element to focus.
function sayRefusal() {
  const { code, sealedTo } = page.refusal;
  page.refusal = null;
  const keyIds = page.recipients.map((recipient) => recipient.keyId);
  const keysChanged = keyIds.length !== sealedTo.length || keyIds.some((id) => !sealedTo.includes(id));
  if (code === 'unknown_recipient' && keysChanged) {
    say('failure-text', 'ui.upload_refused');
    return $('send');
  }
  // Not upload_failed: its "still here, encrypted" is no longer true, the
  // envelope having gone with the refusal.
  say('failure-text', 'ui.upload_refused_fault', { reason: inner('ui.reason_refused', { code }) });
  return $('failure');
}

// The Stop button was pressed. Before the whole envelope was sent nothing
// is stored (sealtipd keeps only a body of its full Content-Length), so the
// envelope is dropped: Send seals afresh what is on screen, without the
// wrong photo once it is removed. After, or when an earlier try of this
// envelope got no answer, it may be stored: said so, and kept for "Try
// sending again", as after no answer.
function stopped(sent) {
  if (sent || (page.envelope && page.envelope.mayBeStored)) {
    page.envelope.mayBeStored = true;
    fail('ui.stopped_maybe_stored', {}, true);
    return;
  }
  page.envelope = null;
  fail('ui.stopped_nothing_sent', {}, false);
}

// What a refusal means for the person, and whether sending the same
// envelope again can help (docs/api.md, "Errors").
const SERVER_BUSY = new Set(['busy', 'shutting_down', 'pow_busy', 'http_502', 'http_503', 'http_504']);
const SERVER_CANNOT_STORE = new Set(['quota_full', 'disk_full', 'storage_failed']);

function failureReason(error) {
  if (error.code === 'network') return { reason: 'ui.reason_network', retry: true };
  if (SERVER_BUSY.has(error.code)) return { reason: 'ui.reason_busy', retry: true };
  if (SERVER_CANNOT_STORE.has(error.code)) return { reason: 'ui.reason_storage', retry: true };
  if (error.status === 429) return { reason: 'ui.reason_pow', retry: true };
  if (error.status === 413) return { reason: 'ui.reason_too_large', retry: false };
  return { reason: 'ui.reason_server', retry: true };
}

// How long to wait for an answer: a few times the server's own idle timeout.
function answerMs() {
  const seconds = page.config.limits.timeout_seconds;
  return Math.max(10, 4 * (Number.isSafeInteger(seconds) && seconds > 0 ? seconds : 30)) * 1000;
}

// Refusals the server gives before it spends a proof of work, so that the
// same proof is good for the next try (code -> status): the quota and the
// upload slot are checked before the proof (src/http_reports.c,
// upload_begin), and a full spent set records nothing (src/pow_gate.c,
// spend). Any other refusal, a cut connection or no answer may come after
// the proof was spent.
const POW_UNSPENT = new Map([['busy', 503], ['quota_full', 507], ['pow_busy', 503]]);
// A kept proof is sent again only with this much of its challenge's validity
// left, for the request to reach the server; a 429 pow_expired would still
// get a new one.
const POW_REUSE_MARGIN_MS = 10000;
// Retry-After is waited for by itself at most this many times per press of
// a send button, and only when it asks for 1..60 seconds.
const AUTO_RETRIES = 3;
const RETRY_AFTER_MAX = 60;

// The envelope's kept proof of work while its challenge is fresh, else a new
// one (the challenge asked for only now, right before sending).
async function proofFor(envelope, signal) {
  if (envelope.pow && Date.now() + POW_REUSE_MARGIN_MS < envelope.pow.expiresAt) return envelope.pow;
  envelope.pow = null;
  showProgress('ui.status_pow', 0, 1);
  envelope.pow = await proveWork(envelope.leafHash, (percent) => showProgress('ui.status_pow', percent, 100), answerMs(), signal);
  return envelope.pow;
}

// The anti-spam proof of work, then the upload. A 429 (the challenge expired
// while the page waited, or the server restarted meanwhile) gets one new
// challenge and one more try, without asking the person. A 503 with a short
// Retry-After (busy: every upload slot taken) is waited out, then the same
// envelope goes again, at most AUTO_RETRIES times.
async function proveAndPost(signal) {
  const envelope = page.envelope;
  let powRetried = false;
  for (let waits = 0; ;) {
    const pow = await proofFor(envelope, signal);
    showProgress('ui.status_uploading', 0, 1);
    try {
      return await postEnvelope(envelope.blob, (loaded, total) => {
        showProgress('ui.status_uploading', loaded, total);
        if (loaded === total) say('progress-status', 'ui.status_storing');
      }, pow && pow.header, answerMs(), signal);
    } catch (error) {
      if (POW_UNSPENT.get(error.code) !== error.status) envelope.pow = null;
      if (error.status === 429 && !powRetried) {
        powRetried = true;
        continue;
      }
      const seconds = error.status === 503 ? error.retryAfter : null;
      if (seconds === null || seconds < 1 || seconds > RETRY_AFTER_MAX || waits >= AUTO_RETRIES) throw error;
      waits++;
      await waitToRetry(seconds, signal);
    }
  }
}

// A countdown of Retry-After seconds. The form is open meanwhile (Send
// aside): a change to it drops the envelope (forgetEnvelope), and with it
// this send, which then ends with 'cancelled'; the Stop button (signal)
// ends it with 'stopped'.
function waitToRetry(seconds, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new UploadError('stopped', 'stopped before sending again'));
      return;
    }
    let left = seconds;
    const stop = () => {
      end();
      reject(new UploadError('stopped', 'stopped before sending again'));
    };
    const end = () => {
      clearInterval(timer);
      signal.removeEventListener('abort', stop);
      page.waiting = null;
      $('waiting').hidden = true;
      page.messages.delete('wait-status');
      $('send').disabled = false;
    };
    const timer = setInterval(() => {
      if (--left > 0) {
        say('wait-status', 'ui.status_busy_wait', { seconds: left });
        return;
      }
      end();
      setBusy(true);
      $('progress').hidden = false;
      resolve();
    }, 1000);
    page.waiting = {
      cancel: () => {
        end();
        setBusy(false);
        reject(new UploadError('cancelled', 'the report changed while the page waited to send it again'));
      },
    };
    signal.addEventListener('abort', stop);
    say('wait-status', 'ui.status_busy_wait', { seconds: left });
    $('progress').hidden = true;
    $('waiting').hidden = false;
    $('send').disabled = true;
    $('controls').disabled = false;
    $('report').setAttribute('aria-busy', 'false');
  });
}

// Keeps everything typed and the sealed envelope; "try again" resends it,
// unless something is changed first (forgetEnvelope).
function fail(key, values, canRetry = false, moveFocus = true) {
  setBusy(false);
  endStoppable();
  $('progress').hidden = true;
  $('failure').hidden = false;
  $('retry').hidden = !canRetry;
  say('failure-text', key, values);
  if (moveFocus) (canRetry ? $('retry') : $('send')).focus();
}

function showReceipt() {
  const { receipt } = page.receipt;
  const leafHash = page.envelope.leafHash;
  const log = page.config.log || {};
  $('receipt-index').textContent = String(receipt.index);
  $('receipt-day').textContent = String(receipt.day);
  $('receipt-leaf').textContent = receipt.leaf_hash;
  $('receipt-mismatch').hidden = receipt.leaf_hash === leafHash;
  // Saved with everything a later check needs: the leaf hash this page
  // computed itself and the log's key as it was when the report was sent.
  page.receiptFile = receiptFile(receipt, { leafHash, origin: log.origin, verifierKey: log.verifier_key });
  checkSentReceipt(receipt, leafHash, log);
  // Sent: the plaintext goes from the screen and from memory we hold.
  page.envelope = null;
  page.files = [];
  renderFileList();
  $('failure').hidden = true;
  $('failure-text').textContent = '';
  $('report').reset();
  $('report').hidden = true;
  $('progress').hidden = true;
  $('receipt').hidden = false;
  $('receipt').focus();
  setBusy(false);
  endStoppable();
}

// The receipt against what this page knows on its own: the leaf hash of the
// envelope it sent and the log's verifier key (origin included).
async function checkSentReceipt(receipt, leafHash, log) {
  const status = $('receipt-status');
  status.className = '';
  delete status.dataset.outcome;
  say('receipt-status', 'ui.receipt_checking');
  let outcome = 'verified';
  try {
    await verifyReceipt(page.sodium, receipt, { leafHash, verifierKey: log.verifier_key, origin: log.origin });
  } catch (error) {
    // Only a ReceiptError is something found wrong; anything else means
    // the check could not run here, and "does not check out, tell the
    // investigators" would alarm someone whose report was stored.
    outcome = error instanceof ReceiptError ? error.code : 'not_checked';
  }
  const [className, key] = outcome === 'verified' ? ['verified', 'ui.receipt_verified']
    : outcome === 'not_checked' ? ['', 'ui.receipt_not_checked'] : ['warning', 'ui.receipt_unverified'];
  status.className = className;
  status.dataset.outcome = outcome;
  say('receipt-status', key);
}

// The receipt saved as a file straight from memory: no request to anyone.
// Its name does not name the service, for a glance at a seized phone's
// downloads; what it holds still shows a report was sent (the page says so).
function saveReceipt() {
  const { receipt } = page.receipt;
  const text = `${JSON.stringify(page.receiptFile, null, 1)}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `receipt-${receipt.index}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function hasUnsentInput() {
  if (page.receipt || !page.definition) return false;
  return page.files.length > 0 || Object.keys(readAnswers(page.definition, $('report'))).length > 0;
}

// ------------------------------------------------ check my report ----

const MAIN_SECTIONS = ['startup', 'start-retry', 'safety', 'report', 'progress', 'waiting', 'failure', 'receipt', 'next', 'check-link', 'keys'];

// Shows or hides one of MAIN_SECTIONS; while the check view is open, only
// in what "Back to the report form" restores (the start-up's message, whose
// step may end while the person checks a receipt, must not show over it).
function setMainHidden(id, hidden) {
  if (page.mainView && page.mainView.has(id)) page.mainView.set(id, hidden);
  else $(id).hidden = hidden;
}

function showCheckView() {
  if (page.busy || page.mainView) return;
  page.mainView = new Map(MAIN_SECTIONS.map((id) => [id, $(id).hidden]));
  for (const id of MAIN_SECTIONS) $(id).hidden = true;
  $('check').hidden = false;
  $('check').focus();
}

function showMainView() {
  if (!page.mainView) return;
  // A check still running says nothing more; what the last one said, and
  // the receipt kept for its "Try again", go.
  page.checkRuns++;
  page.checkText = null;
  page.messages.delete('check-result');
  const result = $('check-result');
  result.textContent = '';
  result.className = '';
  delete result.dataset.outcome;
  $('check-retry').hidden = true;
  for (const [id, hidden] of page.mainView) $(id).hidden = hidden;
  page.mainView = null;
  $('check').hidden = true;
  $('check-open').focus();
}

function checkOutcome(outcome, key, values = {}) {
  const result = $('check-result');
  result.dataset.outcome = outcome;
  result.className = outcome === 'ok' ? 'ok' : outcome === 'working' ? '' : 'problem';
  say('check-result', key, values);
}

// How long each request of a check is waited for (the config, the latest
// checkpoint, the consistency proof: small answers, as CONFIG_ANSWER_MS's).
// On a stalled connection "Checking…" would otherwise stay forever.
const CHECK_ANSWER_MS = 30000;
// Outcomes that a check run again may change: the server could not be
// reached, did not answer in time, or libsodium did not load.
const CHECK_RETRYABLE = new Set(['failed', 'no_answer']);

// The saved receipt, read here (never sent), against the server's latest
// signed checkpoint and a consistency proof from the receipt's checkpoint
// to it, both verified with the key kept in the receipt.
async function onCheckFile(event) {
  const file = event.target.files[0];
  event.target.value = ''; // the same file can be chosen again
  if (!file) return;
  let text = null;
  try {
    // Bytes, not file.text(): that would repair bytes that are not UTF-8
    // and drop a byte order mark, where sealtip audit refuses the file.
    text = new Uint8Array(await file.arrayBuffer());
  } catch {
    // said as a file that is not a receipt
  }
  await checkReceipt(text, false);
}

// One check of a receipt file's text; again, with the same text, at its
// "Try again" (pressed). Only the latest check says its outcome.
async function checkReceipt(text, pressed) {
  const run = ++page.checkRuns;
  page.checkText = null;
  if (pressed) $('check').focus(); // the button pressed goes while it runs
  $('check-retry').hidden = true;
  checkOutcome('working', 'ui.check_working');
  const [outcome, key, values] = await receiptOutcome(text, pressed);
  if (page.checkRuns !== run) return;
  checkOutcome(outcome, key, values);
  // A file that could not be read is chosen again, not tried again.
  if (CHECK_RETRYABLE.has(outcome) && text !== null) {
    page.checkText = text;
    $('check-retry').hidden = false;
    if (pressed) $('check-retry').focus();
  }
}

// -> [outcome, key, values] for checkOutcome.
async function receiptOutcome(text, pressed) {
  let sodium;
  try {
    sodium = await within(sodiumLoading(pressed), SODIUM_WAIT_MS);
  } catch {
    return ['failed', 'ui.check_failed'];
  }
  let receipt;
  try {
    receipt = await openReceiptFile(sodium, text);
  } catch {
    return ['bad_file', 'ui.check_bad_file'];
  }
  const noAnswer = ['no_answer', 'ui.check_no_answer', { seconds: CHECK_ANSWER_MS / 1000 }];
  let config;
  let note;
  try {
    [config, note] = await Promise.all([
      fetchJson('api/v1/config', CHECK_ANSWER_MS),
      fetchBytes('api/v1/log/checkpoint', CHECK_ANSWER_MS),
    ]);
  } catch (error) {
    return error instanceof NoAnswer ? noAnswer : ['failed', 'ui.check_failed'];
  }
  if (!config || !config.log || config.log.verifier_key !== receipt.verifier.text) {
    return ['key_changed', 'ui.check_key_changed'];
  }
  try {
    const record = await checkStillOnRecord(sodium, receipt, note,
      async (from, to) => (await fetchJson(`api/v1/log/consistency?from=${from}&to=${to}`, CHECK_ANSWER_MS)).proof);
    return ['ok', record.from === record.to ? 'ui.check_ok_same' : 'ui.check_ok', record];
  } catch (error) {
    if (error instanceof ReceiptError) return [error.code, 'ui.check_altered'];
    return error instanceof NoAnswer ? noAnswer : ['failed', 'ui.check_failed'];
  }
}

// ------------------------------------------------------------- start ----

// How long the page's own small files (the languages, the form, the words
// of the first language) are waited for before the page says it could not
// load: on a stalled line the page would otherwise stay blank.
const START_ANSWER_MS = 30000;

async function start() {
  const [languages, definition] = await within(Promise.all([loadLanguages(), fetchJson('form.json')]), START_ANSWER_MS);
  page.definition = definition;
  renderForm(definition, $('fields'));
  $('language').replaceChildren(...languages.map(({ lang, name }) => new Option(name, lang)));
  $('language').addEventListener('change', (event) => {
    forgetEnvelope(); // the manifest names the language
    switchLanguage(event.target.value);
  });
  await within(setLanguage(chooseLanguage(languages)), START_ANSWER_MS);
  for (const { lang } of languages) stringsOf(lang).catch(() => {}); // said at a switch, if it comes to that
  say('startup', 'ui.loading');
  $('app').hidden = false;

  $('send').addEventListener('click', onSend);
  // Without a submit button a form with a single one-line answer is still
  // submitted by Enter: natively, that would put the answers in the URL.
  $('report').addEventListener('submit', (event) => event.preventDefault());
  $('report').addEventListener('input', forgetEnvelope);
  $('report').addEventListener('change', forgetEnvelope);
  $('files').addEventListener('change', (event) => {
    addFiles(event.target.files);
    event.target.value = ''; // the list above is what will be sent
  });
  setUpDropzone();
  $('retry').addEventListener('click', () => send());
  $('stop').addEventListener('click', () => {
    if (page.stopper) page.stopper.abort();
  });
  $('save-receipt').addEventListener('click', saveReceipt);
  $('check-open').addEventListener('click', showCheckView);
  $('check-back').addEventListener('click', showMainView);
  $('check-file').addEventListener('change', onCheckFile);
  $('check-retry').addEventListener('click', () => {
    if (page.checkText !== null) checkReceipt(page.checkText, true);
  });
  window.addEventListener('beforeunload', (event) => {
    if (hasUnsentInput()) {
      event.preventDefault();
      event.returnValue = ''; // older browsers need it to ask
    }
  });

  $('start-retry').addEventListener('click', () => reconnect());
  await connect();
}

// How long the config (keys and limits) is waited for before "Try again" is
// offered: a small JSON that even Tor on a slow phone brings in seconds. A
// stalled connection would otherwise be waited for as long as the browser
// keeps it, Send off and nothing to press.
const CONFIG_ANSWER_MS = 30000;

// Encryption and the server's keys and limits, at the start and again after
// a 422 (refusedAsSealed). The form can be typed into meanwhile, so a
// failure offers "try again" here, not a reload that would lose what was
// typed. Until the keys are checked none is shown and Send is off: the keys
// listed are always those Send seals to. -> whether they were.
async function connect() {
  page.connects++;
  setMainHidden('start-retry', true);
  $('send').disabled = true;
  page.recipients = [];
  renderKeys();
  setMainHidden('startup', false);
  say('startup', 'ui.loading');
  let failure;
  let sodiumLate = false;
  try {
    failure = await loadKeys();
  } catch (error) {
    failure = ['ui.start_failed', { reason: error.reason || error.message }];
    sodiumLate = Boolean(error.onlySodiumLate);
  }
  if (failure) {
    say('startup', ...failure);
    setMainHidden('start-retry', false);
    if (sodiumLate) resumeWhenSodiumComes();
    return false;
  }
  renderKeys();
  page.messages.delete('startup');
  setMainHidden('startup', true);
  $('send').disabled = false;
  return true;
}

// A start that failed only because libsodium's download outlived
// SODIUM_WAIT_MS (the config came): that download may still end (a slow
// line, not a dead one), and the start then runs again by itself, as its
// "Try again" would, unless a try has begun since. A press is not waited
// for, and would only start one more download beside the slow one. Whichever
// download ends first counts, one that a check's "Try again" began beside
// it too (sodiumLoading runs the start again when it does).
function resumeWhenSodiumComes() {
  if (page.sodiumPending) page.resumeAfter = page.connects; // sodiumLoading
}

// libsodium, the config and its keys checked -> null, or the message
// [key, values] of keys that do not check out; throws what stopped it.
async function loadKeys() {
  let config;
  let sodium;
  // Which failed, as each settles (before Promise.all's own rejection).
  let configCame = false;
  let sodiumLate = false;
  const sodiumWait = within(sodiumLoading(true), SODIUM_WAIT_MS);
  const configWait = fetchJson('api/v1/config', CONFIG_ANSWER_MS);
  sodiumWait.catch((error) => { sodiumLate = error instanceof NoAnswer; });
  configWait.then(() => { configCame = true; }, () => {});
  try {
    [sodium, config] = await Promise.all([sodiumWait, configWait]);
  } catch {
    const error = new StartError('ui.reason_network');
    error.onlySodiumLate = sodiumLate && configCame; // resumeWhenSodiumComes
    throw error;
  }
  // Checked now, not at Send: after typing a report is too late to learn
  // that the page cannot tell whether it fits.
  const maxBytes = config && config.limits && config.limits.max_report_bytes;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new StartError('ui.reason_no_limit');
  page.config = config;
  try {
    page.recipients = checkRecipients(sodium, config.recipients);
  } catch {
    return ['ui.key_mismatch', {}];
  }
  page.sodium = sodium;
  return null;
}

start().catch((error) => {
  if (!$('app').hidden) throw error; // once shown, the page says its own failures
  // Even the words could not load: said in every language, as <noscript> is.
  $('start-failed').hidden = false;
});
