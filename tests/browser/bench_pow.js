// Benchmark (not a test): the page's proof-of-work solver (web/pow-worker.js)
// in headless Chromium, served by the real sealtipd under its CSP, with the
// JIT and without it (--jitless, like Tor Browser "Safer"): tries per
// second of the JavaScript SHA-256 loop and of the Web Crypto batches the
// worker uses when WebAssembly is missing, and what 2^bits tries cost at
// the server's default difficulty here and on a phone assumed 8 times
// slower (docs/api.md, "Proof of work").
//   node tests/browser/bench_pow.js [seconds per measure, default 2]
import * as h from './helpers.js';

const seconds = Number(process.argv[2] || 2);
const PHONE_FACTOR = 8;
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

async function rates(server, jitless) {
  const context = await h.launch(t, { jitless });
  const page = context.pages()[0] || await context.newPage();
  await h.openPage(page, server);
  return page.evaluate(async (ms) => {
    const { solve, solveNative } = await import('./pow-worker.js');
    const challenge = new Uint8Array(42);
    const leaf = new Uint8Array(32);
    const measure = async (run) => {
      let tries = 0;
      const start = performance.now();
      // 32 bits are never found in time: the progress callback stops it.
      await run((n) => {
        tries = n;
        if (performance.now() - start > ms) throw new Error('enough');
      }).catch(() => {});
      return tries / ((performance.now() - start) / 1000);
    };
    solve(challenge, leaf, 10); // warm up
    return {
      js: await measure(async (onProgress) => solve(challenge, leaf, 32, { every: 4096, onProgress })),
      native: await measure((onProgress) => solveNative(challenge, leaf, 32, { onProgress })),
      wasm: typeof WebAssembly !== 'undefined',
    };
  }, seconds * 1000);
}

async function main() {
  const server = await h.startPageServer(t);
  for (const jitless of [false, true]) {
    const r = await rates(server, jitless);
    // What the worker picks: the JavaScript loop, or Web Crypto without WebAssembly.
    const used = r.wasm ? r.js : r.native;
    const mean = 2 ** h.POW_BITS / used;
    console.log(`proof of work, ${jitless ? 'no JIT (--jitless)' : 'JIT'}: JavaScript ${Math.round(r.js)} tries/s, ` +
      `Web Crypto ${Math.round(r.native)} tries/s; the worker uses ${r.wasm ? 'JavaScript' : 'Web Crypto'}: ` +
      `2^${h.POW_BITS} tries ${mean.toFixed(2)} s here, ${(mean * PHONE_FACTOR).toFixed(1)} s on a phone ${PHONE_FACTOR}x slower`);
  }
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
