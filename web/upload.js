// Sending a sealed envelope. Kept apart from sealing so that a later step
// (the anti-spam proof of work) can run between the two, and so that a failed
// upload is retried with the same envelope: nothing is typed or encrypted again.

export class UploadError extends Error {
  // code: the server's error code, or 'network' when no answer came.
  constructor(code, message, status = 0) {
    super(message);
    this.name = 'UploadError';
    this.code = code;
    this.status = status;
  }
}

// POSTs the envelope Blob to /api/v1/reports -> {receipt, text}: the parsed
// 201 answer and its exact text (what the saved receipt holds).
// XMLHttpRequest rather than fetch: only it reports upload progress.
export function postEnvelope(envelope, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', 'api/v1/reports');
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    request.withCredentials = false;
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    request.upload.onload = () => onProgress(envelope.size, envelope.size);
    request.onerror = () => reject(new UploadError('network', 'the connection failed'));
    request.ontimeout = request.onerror;
    request.onabort = request.onerror;
    request.onload = () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // a proxy's HTML error page: reported by its status below
      }
      if (request.status === 201 && body && Number.isInteger(body.index) && typeof body.leaf_hash === 'string') {
        resolve({ receipt: body, text: request.responseText });
      } else {
        const code = body && typeof body.error === 'string' ? body.error : `http_${request.status}`;
        reject(new UploadError(code, body && body.message ? body.message : `HTTP ${request.status}`, request.status));
      }
    };
    request.send(envelope);
  });
}
