// The start's state machine against a bad line, in real Chromium against
// the real server: a "Try again" whose wait ends while the person types, a
// late libsodium that another try brought in.
import test from 'node:test';
import assert from 'node:assert';
import * as h from './helpers.js';

const focused = (page) => page.evaluate(() => document.activeElement.id || document.activeElement.tagName);

// A point a request waits at: reached resolves when it got there, open()
// lets it go on.
function gate() {
  let open;
  let reach;
  const opened = new Promise((resolve) => { open = resolve; });
  const reached = new Promise((resolve) => { reach = resolve; });
  return { reached, open, pass: () => { reach(); return opened; } };
}

// A page whose config requests go to answer(route, n) (n counts them from 1).
async function pageWithConfig(t, server, answer) {
  const context = await h.launch(t);
  const page = context.pages()[0] || await context.newPage();
  const seen = await h.watch(page, server.url);
  let configs = 0;
  await page.route('**/api/v1/config', (route) => answer(route, ++configs));
  await page.goto(server.url + '/');
  return { page, seen };
}

test('a "Try again" whose wait ends while the person types takes no focus: a space is not a press of Send', async (t) => {
  const server = await h.startPageServer(t);
  const slow = gate();
  const { page, seen } = await pageWithConfig(t, server, async (route, n) => {
    if (n === 1) return route.fulfill({ status: 503, body: 'down' });
    if (n === 2) await slow.pass(); // a slow circuit
    return route.continue();
  });
  await page.waitForSelector('#start-retry:not([hidden])');
  await page.fill('#field-what', 'The clerk asked');
  await page.click('#start-retry');
  await slow.reached;
  // Back to the answer while the keys come.
  await page.click('#field-what');
  await page.press('#field-what', 'End');
  await page.keyboard.type(' for fifty');
  slow.open();
  await page.waitForSelector('#send:not([disabled])');
  assert.strictEqual(await focused(page), 'field-what');
  await page.keyboard.type(' dollars');
  assert.strictEqual(await page.inputValue('#field-what'), 'The clerk asked for fifty dollars');
  assert.strictEqual(seen.requests.filter((request) => request.method() === 'POST').length, 0);

  seen.check({ allow: /HTTP 503 for .*\/api\/v1\/config|status of 503/ });
});

test('a "Try again" that fails again while the person types leaves the focus where they type', async (t) => {
  const server = await h.startPageServer(t);
  const slow = gate();
  const { page, seen } = await pageWithConfig(t, server, async (route, n) => {
    if (n === 2) await slow.pass();
    return route.fulfill({ status: 503, body: 'down' });
  });
  await page.waitForSelector('#start-retry:not([hidden])');
  await page.click('#start-retry');
  await slow.reached;
  await page.click('#field-what');
  await page.keyboard.type('The clerk');
  slow.open();
  await page.waitForSelector('#start-retry:not([hidden])');
  assert.strictEqual(await focused(page), 'field-what');
  await page.keyboard.type(' asked');
  assert.strictEqual(await page.inputValue('#field-what'), 'The clerk asked');
  seen.check({ allow: /HTTP 503 for .*\/api\/v1\/config|status of 503/ });
});

test('libsodium brought in by the check view\'s "Try again" after the start gave up on it: the start runs again by itself', async (t) => {
  const server = await h.startPageServer(t);
  // The first download of libsodium's script never ends; later ones do.
  const { page, seen, scripts } = await h.pageWithSodiumHeld(t, server, (request, response, n) => {
    if (n > 1) request.pipe(h.forward(server, request, response));
  });
  await page.waitForSelector('#field-what');
  await page.fill('#field-what', 'Typed on a bad line.');
  await page.clock.fastForward(61000);
  await page.waitForSelector('#start-retry:not([hidden])'); // the config came; libsodium did not
  await page.click('#check-open');
  await page.setInputFiles('#check-file', { name: 'receipt-3.json', mimeType: 'application/json', buffer: Buffer.from('{}') });
  await page.clock.fastForward(61000);
  await page.waitForSelector('#check-retry:not([hidden])');
  await page.click('#check-retry'); // a second download, which comes
  await page.waitForSelector('#check-result[data-outcome="bad_file"]', { timeout: 60000 });
  assert.deepStrictEqual(scripts, ['/vendor/sodium.js', '/vendor/sodium.js?try=2']);
  await page.click('#check-back');
  // libsodium is here and the config came: no "could not start… try again"
  // left on screen that is no longer so.
  await page.waitForSelector('#send:not([disabled])', { timeout: 20000 });
  assert.deepStrictEqual([await page.isHidden('#startup'), await page.isHidden('#start-retry')], [true, true]);
  assert.strictEqual(await page.inputValue('#field-what'), 'Typed on a bad line.');
  seen.check();
});
