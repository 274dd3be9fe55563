// A cardholder's purchases on one device and then on others: the first is challenged, the
// device is trusted, later ones pass frictionless until the device or the amount changes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DEMO } from '../support/cards.mjs';
import { widget } from '../support/env.mjs';
import { setup } from '../support/fixture.mjs';
import { purchase } from '../support/shop.mjs';

const TARO = { card: DEMO.taro, email: 'taro@example.jp' };

let env;
let shop;

before(async () => {
  env = await setup();
  shop = await env.shopper();
});
after(() => env?.close());

test('the page loads the widget the way this run is about', async () => {
  const loaded = await shop.page.evaluate(() => ({
    scriptTag: Boolean(document.querySelector('script[src="/widget/mamori.js"]')),
    global: typeof window.mamori?.mount === 'function',
  }));
  const scriptTag = widget === 'script';
  assert.deepEqual(loaded, { scriptTag, global: scriptTag });
});

test('first purchase on a new device: code from the mailbox, accepted, device trusted', async () => {
  assert.deepEqual(await shop.deviceTokens(), []);
  const { challenged, verdict } = await purchase(shop, env.mailbox, { ...TARO, amount: 12_800 });
  assert.ok(challenged, 'a new device is challenged');
  assert.equal(verdict.result, 'accepted', verdict.text);
  assert.equal(verdict.amount, '12800');
  assert.equal(verdict.method, 'challenge');
  assert.ok(verdict.reasons.includes('no_device_token'), verdict.reasons);
  assert.deepEqual(await shop.events(), ['mamori:ready', 'mamori:challenge', 'mamori:result']);
  const [token, ...others] = await shop.deviceTokens();
  assert.equal(others.length, 0);
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url'));
  assert.equal(header.typ, 'mamori-device+jwt');
});

test('second purchase on the same device: frictionless, no code', async () => {
  const mails = await env.mailbox.count({ to: TARO.email, kind: 'code' });
  const { challenged, verdict } = await purchase(shop, env.mailbox, { ...TARO, amount: 3_200 });
  assert.ok(!challenged);
  assert.equal(verdict.result, 'accepted', verdict.text);
  assert.equal(verdict.method, 'frictionless');
  assert.deepEqual(await shop.events(), ['mamori:ready', 'mamori:result']);
  assert.equal(await env.mailbox.count({ to: TARO.email, kind: 'code' }), mails, 'no code was mailed');
});

test('an amount over the card ceiling on the trusted device: challenged', async () => {
  const { challenged, verdict } = await purchase(shop, env.mailbox, { ...TARO, amount: 60_000 });
  assert.ok(challenged);
  assert.equal(verdict.result, 'accepted', verdict.text);
  assert.ok(verdict.reasons.includes('amount_over_ceiling'), verdict.reasons);
});

test('after clearing localStorage: challenged again', async () => {
  await shop.page.evaluate(() => localStorage.clear());
  const { challenged, verdict } = await purchase(shop, env.mailbox, { ...TARO, amount: 3_200 });
  assert.ok(challenged);
  assert.equal(verdict.result, 'accepted', verdict.text);
  assert.ok(verdict.reasons.includes('no_device_token'), verdict.reasons);
});

test('from another device: challenged', async () => {
  const other = await env.shopper();
  const { challenged, verdict } = await purchase(other, env.mailbox, { ...TARO, amount: 3_200 });
  assert.ok(challenged);
  assert.equal(verdict.result, 'accepted', verdict.text);
  // And the first device, trusted again by its last challenge, still passes.
  const again = await purchase(shop, env.mailbox, { ...TARO, amount: 3_200 });
  assert.ok(!again.challenged);
  assert.equal(again.verdict.result, 'accepted');
});

test('a blocked card and a card that is not enrolled: refused alike, no challenge', async () => {
  const seen = [];
  for (const card of [DEMO.blocked, DEMO.notEnrolled]) {
    const buyer = await env.shopper();
    // The verifier's own answer to the widget, as the browser (and anyone in it) receives it.
    const answered = buyer.page.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/v1\/authentications\/[^/]+\/device$/.test(new URL(r.url()).pathname),
    );
    const { challenged, verdict } = await purchase(buyer, env.mailbox, { card, email: '-', amount: 1_000 });
    assert.ok(!challenged);
    assert.equal(verdict.result, 'refused', verdict.text);
    assert.equal(verdict.status, 'R');
    const response = await answered;
    const { result_token: token, ...answer } = await response.json();
    seen.push({
      status: response.status(),
      answer,
      token: sameForEveryPurchase(token),
      text: await buyer.widget('status').innerText(),
    });
  }
  assert.equal(seen[0].answer.outcome, 'rejected');
  assert.equal(seen[0].token.claims.status, 'R');
  assert.deepEqual(seen[0], seen[1], 'the browser cannot tell a blocked card from an unknown one');
});

// A result token's header and claims without what is each purchase's own: the authentication
// (`sub`), the token's id, its times and the order's reference.
function sameForEveryPurchase(token) {
  const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url')));
  for (const own of ['sub', 'jti', 'iat', 'exp']) {
    assert.ok(own in claims, `the token has ${own}`);
    delete claims[own];
  }
  assert.equal(typeof claims.txn?.ref, 'string');
  delete claims.txn.ref;
  return { header, claims };
}

test('the shop ran under its CSP (no inline script) without an error or a violation', async () => {
  const response = await shop.page.goto(shop.page.url());
  const csp = response.headers()['content-security-policy'];
  const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.equal(scriptSrc, "script-src 'self' 'wasm-unsafe-eval'");
  assert.equal(await shop.page.locator('script:not([src])').count(), 0, 'no inline script');
  assert.deepEqual(shop.problems, []);
});
