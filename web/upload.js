// Sending a sealed envelope. Kept apart from sealing so that a later step
// (the anti-spam proof of work) can run between the two, and so that a failed
// upload is retried with the same envelope: nothing is typed or encrypted again.

export class UploadError extends Error {
  // code: the server's error code; 'network' when the connection failed
  // before the whole report was sent; 'no_answer' when it was all sent and
  // no answer came, or a gateway's (a proxy's 502/504 page, not sealtipd's
  // JSON) that began well after it was all sent: it may have been stored,
  // nobody can tell; 'stopped'
  // when the person stopped it before the whole report was sent (the server
  // stores nothing of a body cut short); 'stopped_sent' when they stopped it
  // after, or too near the end to tell (it may have been stored).
  // retryAfter: the answer's Retry-After in seconds, or null.
  constructor(code, message, status = 0, retryAfter = null) {
    super(message);
    this.name = 'UploadError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// Retry-After as delay-seconds only (RFC 9110, section 10.2.3): the other
// form, an HTTP-date, would be read against this device's clock, which need
// not agree with the server's.
function retryAfterSeconds(value) {
  const text = value === null ? '' : value.trim();
  return /^[0-9]{1,9}$/.test(text) ? Number(text) : null;
}

function stoppedError() {
  return new UploadError('stopped', 'stopped before the report was all sent');
}

// A Stop may come after the last byte left this browser but before the page
// heard so: the browser reports upload progress only now and then (Chromium
// about every 100 ms, Firefox every 50 ms). So the whole body may have left
// if what remained at the last report is no more than STOP_LAST_BYTES (a
// stalled line can let a buffer's worth go at once), or could have gone in
// STOP_LAG_MS at the fastest pace seen up to now: the whole upload's
// average or the last second's.
const STOP_LAST_BYTES = 1024 * 1024;
const STOP_LAG_MS = 1000;

// -> {update(loaded): at each progress report, mayHaveAllLeft()}. Exported
// for the node tests. Date.now(), not performance.now(), which some phones
// stop while asleep (and the upload may go on meanwhile).
export function uploadProgress(total) {
  const start = Date.now();
  let loaded = 0;
  const reports = [{ at: start, loaded: 0 }]; // the last one before the last second, and those since
  return {
    update(bytes) {
      const at = Date.now();
      loaded = bytes;
      reports.push({ at, loaded });
      while (reports.length > 2 && reports[1].at <= at - 1000) reports.shift();
    },
    mayHaveAllLeft() {
      const now = Date.now();
      const average = loaded / Math.max(1, now - start);
      const lastSecond = (loaded - reports[0].loaded) / Math.max(1000, now - reports[0].at);
      return total - loaded <= Math.max(STOP_LAST_BYTES, Math.max(average, lastSecond) * STOP_LAG_MS);
    },
  };
}

// Chromium says the whole body went (upload progress at its total, then
// load) right before any answer's headers, even one a proxy gave while most
// of the body was still here (nginx's 413 from Content-Length); otherwise it
// reports progress only every 100 ms. So the body counts as all sent before
// the answer only if the browser said so at least this long before the
// answer began (early answers came 1-3 ms after it, on loopback). An answer
// that comes sooner after the last byte is not told from an early one: read
// by its status, at worst it gets a report stored twice, which is harmless.
const SENT_BEFORE_ANSWER_MS = 50;

// Statuses a gateway gives about its upstream (a timeout, a connection
// lost): after the whole body went, sealtipd may have stored the report.
const GATEWAY_STATUSES = new Set([500, 502, 503, 504]);

// An answer that is not sealtipd's JSON -> the UploadError it means.
// sentBeforeAnswer: the browser said the whole body went well before the
// answer began (SENT_BEFORE_ANSWER_MS).
function proxyAnswerError(request, sentBeforeAnswer) {
  const status = request.status;
  if (sentBeforeAnswer && GATEWAY_STATUSES.has(status)) {
    // A proxy's 502/504 may come after sealtipd stored the report (its own
    // timeout, or the answer lost on the way back), so nobody can tell, as
    // when no answer came at all.
    return new UploadError('no_answer', `HTTP ${status} from something other than the server, after the report was sent`);
  }
  // Read by its status, as sealtipd's would be: a proxy's own 413 (its body
  // size limit) is "too large", its early 502 "busy".
  return new UploadError(`http_${status}`, `HTTP ${status}`, status, retryAfterSeconds(request.getResponseHeader('Retry-After')));
}

// POSTs the envelope Blob to /api/v1/reports -> {receipt, text}: the parsed
// 201 answer and its exact text (what the saved receipt holds).
// XMLHttpRequest rather than fetch: only it reports upload progress.
// pow: the Sealtip-Pow header value, or null when the server asks none.
// answerMs: how long to wait for the answer once everything was sent; a
// server that stores reports answers in well under a second, so a page
// still waiting after this is told no_answer instead of waiting for ever.
// signal: an AbortSignal, the Stop button's: the request is aborted.
export function postEnvelope(envelope, onProgress = () => {}, pow = null, answerMs = 120000, signal = null) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(stoppedError());
      return;
    }
    const request = new XMLHttpRequest();
    const progress = uploadProgress(envelope.size);
    let sent = false;
    let sentAt = 0; // Date.now() when the browser first said so
    let answeredAt = 0; // Date.now() when the answer's headers came
    let stopped = false;
    let timer = null;
    const stop = () => {
      stopped = true;
      request.abort();
    };
    const end = () => {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', stop);
    };
    const failed = () => {
      end();
      if (stopped) {
        reject(sent || progress.mayHaveAllLeft()
          ? new UploadError('stopped_sent', 'stopped after the report was sent, or too near the end to tell')
          : stoppedError());
        return;
      }
      reject(sent ? new UploadError('no_answer', 'no answer came after the report was sent')
        : new UploadError('network', 'the connection failed'));
    };
    const allSent = () => {
      if (sent) return;
      sent = true;
      sentAt = Date.now();
      timer = setTimeout(() => request.abort(), answerMs);
      onProgress(envelope.size, envelope.size);
    };
    request.open('POST', 'api/v1/reports');
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    if (pow) request.setRequestHeader('Sealtip-Pow', pow);
    request.withCredentials = false;
    // Firefox, and so Tor Browser, fires the upload's load only once the
    // answer begins (XMLHttpRequestMainThread::OnStartRequest): its last
    // progress event is the first to say that everything was sent.
    request.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      progress.update(event.loaded);
      if (event.loaded >= event.total) allSent();
      else onProgress(event.loaded, event.total);
    };
    request.upload.onload = allSent;
    request.onreadystatechange = () => {
      if (request.readyState === XMLHttpRequest.HEADERS_RECEIVED) answeredAt = Date.now();
    };
    request.onerror = failed;
    request.ontimeout = failed;
    request.onabort = failed;
    request.onload = () => {
      end();
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // a proxy's HTML error page: reported by its status below
      }
      const code = body && typeof body.error === 'string' ? body.error : null;
      if (request.status === 201 && body && Number.isInteger(body.index) && typeof body.leaf_hash === 'string') {
        resolve({ receipt: body, text: request.responseText });
      } else if (code === null) {
        reject(proxyAnswerError(request, sent && answeredAt - sentAt >= SENT_BEFORE_ANSWER_MS));
      } else {
        reject(new UploadError(code, body.message ? body.message : `HTTP ${request.status}`,
          request.status, retryAfterSeconds(request.getResponseHeader('Retry-After'))));
      }
    };
    if (signal) signal.addEventListener('abort', stop);
    request.send(envelope);
  });
}

const POW_MAX_BITS = 32; // crypto/pow.h

function fromBase64(text) {
  return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The proof of work for an envelope (docs/api.md, "Proof of work"): asks
// for a challenge, solves it in a Web Worker, and resolves with
// {header: the Sealtip-Pow value, expiresAt: when its challenge ends, in
// Date.now() milliseconds}, or null when the server asks for none.
// leafHash: base64 of the envelope's log leaf hash. onProgress(percent):
// tries made against the 2^bits expected, held below 100 until found.
// answerMs: how long to wait for the challenge before calling it a network
// failure. signal: an AbortSignal, the Stop button's: the challenge request
// is aborted, or the worker ended, and nothing is posted.
export async function proveWork(leafHash, onProgress = () => {}, answerMs = 120000, signal = null) {
  if (signal && signal.aborted) throw stoppedError();
  let answer;
  let response;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), answerMs);
  const stopAsking = () => abort.abort();
  if (signal) signal.addEventListener('abort', stopAsking);
  // The challenge's end counted from before it was asked, on this device's
  // clock: never later than the server's own, however far apart the two
  // clocks are (unless one is set meanwhile: then a 429 gets a new one).
  // Date.now(), not performance.now(), which some phones stop while asleep.
  const asked = Date.now();
  try {
    response = await fetch('api/v1/challenge', { cache: 'no-store', credentials: 'omit', signal: abort.signal });
    answer = await response.json().catch(() => null); // a proxy's HTML error page
  } catch (error) {
    throw signal && signal.aborted ? stoppedError() : new UploadError('network', error.message);
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', stopAsking);
  }
  if (signal && signal.aborted) throw stoppedError();
  // The server's own refusal (busy, stopping) is said as such, not as a
  // broken connection.
  if (!response.ok || !answer || typeof answer.challenge !== 'string' || !Number.isInteger(answer.bits)) {
    const code = answer && typeof answer.error === 'string' ? answer.error : `http_${response.status}`;
    throw new UploadError(code, `the challenge was refused (HTTP ${response.status})`, response.status);
  }
  // The server's own format (docs/api.md: 42 bytes, base64url; at most 32
  // bits): anything else would fail deep in atob or spin the worker forever.
  if (!/^[A-Za-z0-9_-]{56}$/.test(answer.challenge) || answer.bits < 0 || answer.bits > POW_MAX_BITS) {
    throw new UploadError('bad_challenge', 'the server sent a malformed challenge');
  }
  if (answer.bits === 0) return null;
  const challenge = fromBase64(answer.challenge);
  const leaf = fromBase64(leafHash);
  const expected = 2 ** answer.bits;
  const nonce = await new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker('pow-worker.js', { type: 'module' });
    } catch (error) {
      reject(new UploadError('pow_failed', error.message));
      return;
    }
    // Ended, not left to finish: on a phone it would spend the battery for
    // minutes on a proof nobody sends.
    const end = () => {
      worker.onmessage = null;
      worker.onerror = null;
      worker.terminate();
      if (signal) signal.removeEventListener('abort', stop);
    };
    const stop = () => {
      end();
      reject(stoppedError());
    };
    worker.onmessage = (event) => {
      const { tries, nonce: found, error } = event.data;
      if (error || found) end();
      if (error) reject(new UploadError('pow_failed', error));
      else if (found) resolve(found);
      else onProgress(Math.min(99, Math.floor((tries / expected) * 100)));
    };
    worker.onerror = (event) => {
      end();
      reject(new UploadError('pow_failed', event.message || 'the worker failed'));
    };
    if (signal) signal.addEventListener('abort', stop);
    worker.postMessage({ challenge, leaf, bits: answer.bits });
  });
  onProgress(100);
  const ttl = Number.isSafeInteger(answer.expires_in) && answer.expires_in > 0 ? answer.expires_in : 0;
  return { header: `challenge=${answer.challenge}; leaf=${toHex(leaf)}; nonce=${nonce}`, expiresAt: asked + ttl * 1000 };
}
