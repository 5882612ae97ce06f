// Benchmark (not a test): time for the page's code to encrypt one attachment
// in headless Chromium, with WebAssembly and without (--jitless, like Tor
// Browser "Safer"), each as a ratio to `sealtip seal` on the same bytes in
// the same run. The browser runs exactly what the page runs (web/seal.js:
// hash pass, seal pass into a Blob, leaf hash, with the page's choice of
// native hashing without WebAssembly); the upload is not timed.
//   node tests/browser/bench.js [MiB with WebAssembly, default 100] [MiB without, default 8]
// Without WebAssembly everything is interpreted (about 0.3 MiB/s here), so
// that mode uses a smaller attachment; the ratio is per byte all the same.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import * as h from './helpers.js';
import { SEALTIP } from '../integration/helpers.js';

const MIB = 1024 * 1024;
const wasmMiB = Number(process.argv[2] || 100);
const jitlessMiB = Number(process.argv[3] || 8);

// node:test's `t.after` is what the helpers use for cleanup; collect them here.
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

function sealtipSeconds(pub, file, dir) {
  const out = path.join(dir, 'bench.env');
  fs.rmSync(out, { force: true });
  const start = performance.now();
  const result = spawnSync(SEALTIP, ['seal', '-r', pub, '--field', 'what=bench', '--file', file, '-o', out]);
  const seconds = (performance.now() - start) / 1000;
  if (result.status !== 0) throw new Error(`sealtip seal failed: ${result.stderr}`);
  return seconds;
}

async function browserSeconds(server, file, jitless) {
  const context = await h.launch(t, { jitless });
  const page = context.pages()[0] || await context.newPage();
  await h.openPage(page, server);
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-file';
    document.body.append(input);
  });
  await page.setInputFiles('#bench-file', file);
  return page.evaluate(async () => {
    const { sealForUpload } = await import('./seal.js');
    const config = await (await fetch('api/v1/config')).json();
    const sodium = window.sodium;
    const recipients = config.recipients.map((r) => sodium.from_base64(r.box_pk, sodium.base64_variants.ORIGINAL));
    const start = performance.now();
    await sealForUpload(sodium, {
      recipients, form: 'bribery-report/1', lang: 'en', fields: { what: 'bench' },
      files: [document.getElementById('bench-file').files[0]],
    });
    return (performance.now() - start) / 1000;
  });
}

async function main() {
  const server = await h.startPageServer(t);
  const dir = h.tmpdir('sealtip-bench-page-');
  for (const [mode, mib, jitless] of [['WebAssembly', wasmMiB, false], ['no WebAssembly (--jitless)', jitlessMiB, true]]) {
    const file = h.writeRandomFile(dir, `attachment-${mib}.bin`, mib * MIB);
    const native = sealtipSeconds(server.pub, file, dir);
    const browser = await browserSeconds(server, file, jitless);
    console.log(`page encryption, ${mode}, ${mib} MiB: ${browser.toFixed(2)} s (${(mib / browser).toFixed(1)} MiB/s); ` +
      `sealtip seal ${native.toFixed(2)} s (${(mib / native).toFixed(0)} MiB/s); ratio ${(browser / native).toFixed(1)}x`);
    fs.rmSync(file);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
