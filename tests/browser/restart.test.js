// The start's state machine against a bad line, in real Chromium against
// the real server: a "Try again" whose wait ends while the person types, a
// late libsodium that another try brought in.
import test from 'node:test';
import assert from 'node:assert';
import * as h from './helpers.js';

const focused = (page) => page.evaluate(() => document.activeElement.id || document.activeElement.tagName);

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
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let asked;
  const second = new Promise((resolve) => { asked = resolve; });
  const { page, seen } = await pageWithConfig(t, server, async (route, n) => {
    if (n === 1) return route.fulfill({ status: 503, body: 'down' });
    if (n === 2) {
      asked();
      await held; // a slow circuit
    }
    return route.continue();
  });
  await page.waitForSelector('#start-retry:not([hidden])');
  await page.fill('#field-what', 'The clerk asked');
  await page.click('#start-retry');
  await second;
  // Back to the answer while the keys come.
  await page.click('#field-what');
  await page.press('#field-what', 'End');
  await page.keyboard.type(' for fifty');
  release();
  await page.waitForSelector('#send:not([disabled])');
  assert.strictEqual(await focused(page), 'field-what');
  await page.keyboard.type(' dollars');
  assert.strictEqual(await page.inputValue('#field-what'), 'The clerk asked for fifty dollars');
  assert.strictEqual(seen.requests.filter((request) => request.method() === 'POST').length, 0);

  seen.check({ allow: /HTTP 503 for .*\/api\/v1\/config|status of 503/ });
});

test('a "Try again" that fails again while the person types leaves the focus where they type', async (t) => {
  const server = await h.startPageServer(t);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let asked;
  const second = new Promise((resolve) => { asked = resolve; });
  const { page, seen } = await pageWithConfig(t, server, async (route, n) => {
    if (n === 2) {
      asked();
      await held;
    }
    return route.fulfill({ status: 503, body: 'down' });
  });
  await page.waitForSelector('#start-retry:not([hidden])');
  await page.click('#start-retry');
  await second;
  await page.click('#field-what');
  await page.keyboard.type('The clerk');
  release();
  await page.waitForSelector('#start-retry:not([hidden])');
  assert.strictEqual(await focused(page), 'field-what');
  await page.keyboard.type(' asked');
  assert.strictEqual(await page.inputValue('#field-what'), 'The clerk asked');
  seen.check({ allow: /HTTP 503 for .*\/api\/v1\/config|status of 503/ });
});
