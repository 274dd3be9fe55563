// A cardholder buying at a shop on another origin than the verifier (stories 1–5 and 9 of the
// topology suite): the first purchase on a device is challenged with a code that arrives by
// SMTP, the shop's backend verifies the result token and accepts; the device is trusted until
// it changes, its storage is cleared or the amount is over the card's ceiling; a blocked card
// is rejected without a code; and the shop's backend can retry a create safely.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { verify } from '../../../interop/verifiers.mjs';
import { widget } from '../../support/env.mjs';
import { until } from '../../support/wait.mjs';
import { setup } from '../support/fixture.mjs';

let env;
let buyer;
let device;
let shop;
let first;

before(async () => {
  env = await setup();
  buyer = await env.cardholder({ locale: 'en', ceiling: 50_000 });
  device = await env.device();
});
after(() => env?.close());

test('the checkout comes from the shop\'s origin, under its CSP, with the widget loaded as this run says', async () => {
  shop = await env.shopper({ ui: 'element', verify: 'mamori' }, device);
  const response = await shop.page.goto(shop.page.url());
  assert.equal(new URL(shop.page.url()).origin, env.shop.origin);
  assert.notEqual(env.shop.origin, env.verifier.url);
  assert.equal(
    response.headers()['content-security-policy'],
    `script-src 'self' ${env.verifier.url} 'wasm-unsafe-eval'; connect-src 'self' ${env.verifier.url}; worker-src blob:; default-src 'self'`,
  );
  assert.equal(await shop.page.locator('script:not([src])').count(), 0, 'no inline script');
  const scripts = await shop.page.locator('script[src]').evaluateAll((list) =>
    list.map((s) => ({ src: s.src, integrity: s.integrity, crossOrigin: s.crossOrigin, verifier: s.dataset.verifier })),
  );
  const fromVerifier = scripts.filter((s) => s.src.startsWith(`${env.verifier.url}/`));
  if (widget === 'script') {
    const manifest = await (await fetch(`${env.verifier.url}/widget/manifest.json`)).json();
    assert.deepEqual(fromVerifier, [
      {
        src: `${env.verifier.url}/widget/${manifest.script}`,
        integrity: manifest.integrity,
        crossOrigin: 'anonymous',
        verifier: env.verifier.url,
      },
    ]);
    assert.match(manifest.script, /^mamori-[\w-]+\.js$/);
    assert.ok(await shop.page.evaluate(() => typeof window.mamori?.mount === 'function'));
  } else {
    assert.deepEqual(fromVerifier, [], 'the npm build loads nothing from the verifier but its API');
    assert.deepEqual(scripts.map((s) => new URL(s.src).pathname), ['/bundle/shop.js']);
    assert.equal(await shop.page.evaluate(() => typeof window.mamori), 'undefined');
  }
});

test('1. first purchase on a new device: a code by SMTP, Y, verified by mamori/verify, accepted', async () => {
  first = await env.purchase(shop, { ...buyer, amount: 12_800 });
  assert.ok(first.challenged, 'a new device is challenged');
  assert.deepEqual(
    { result: first.verdict.result, status: first.verdict.status, method: first.verdict.method, verify: first.verdict.verify },
    { result: 'accepted', status: 'Y', method: 'challenge', verify: 'mamori' },
  );
  assert.equal(first.verdict.amount, '12800');
  // The <mamori-challenge> element of the guide's first example did the mounting.
  assert.equal(await shop.page.locator('[data-shop=widget] > mamori-challenge').count(), 1);
  const [mail] = env.smtp.matching({ to: buyer.email, kind: 'code' });
  assert.match(mail.subject, /Your verification code for Shop/);
  assert.match(mail.text, /¥12,800/);
  assert.match(mail.html, /<a href="http:\/\/127\.0\.0\.1:\d+\/report\//);
  assert.deepEqual(shop.problems, []);
});

test('1. the live result token verifies with the guide\'s jose, PyJWT and plain-HMAC snippets', async () => {
  const { id, key } = env.merchants.shop;
  const order = {
    authentication: first.verdict.authentication,
    reference: first.verdict.reference,
    amount: 12_800,
    currency: 'JPY',
  };
  const cases = [
    { token: first.token, keys: [key], audience: id, order },
    // The same token against another amount, or another authentication: each must refuse it.
    { token: first.token, keys: [key], audience: id, order: { ...order, amount: 12_801 } },
    { token: first.token, keys: [key], audience: id, order: { ...order, authentication: 'au_other' } },
  ];
  for (const name of ['jose', 'pyjwt', 'hmac']) {
    const [right, wrongAmount, wrongAuthentication] = await verify(name, cases);
    assert.equal(right.ok?.status, 'Y', `${name}: ${JSON.stringify(right)}`);
    assert.equal(right.ok.sub, first.verdict.authentication, name);
    assert.equal(right.ok.iss, env.verifier.url, name);
    assert.ok(wrongAmount.error, `${name} accepted the token for another amount`);
    assert.ok(wrongAuthentication.error, `${name} accepted the token for another authentication`);
  }
});

test('2. the same device again: frictionless Y, no code mailed, verified with jose', async () => {
  const mails = env.smtp.matching({ to: buyer.email, kind: 'code' }).length;
  await shop.open({ verify: 'jose' });
  const { challenged, verdict } = await env.purchase(shop, { ...buyer, amount: 3_200 });
  assert.ok(!challenged, 'the trusted device is not challenged');
  assert.deepEqual(
    { result: verdict.result, status: verdict.status, method: verdict.method, verify: verdict.verify },
    { result: 'accepted', status: 'Y', method: 'frictionless', verify: 'jose' },
  );
  assert.deepEqual((await shop.events()).map((e) => e.type), ['mamori:ready', 'mamori:result']);
  assert.equal(env.smtp.matching({ to: buyer.email, kind: 'code' }).length, mails, 'no code was mailed');
});

test('3. another device is challenged; so is this one with its localStorage cleared', async () => {
  const other = await env.shopper({ verify: 'jose' });
  const elsewhere = await env.purchase(other, { ...buyer, amount: 3_200 });
  assert.ok(elsewhere.challenged, 'another device is challenged');
  assert.equal(elsewhere.verdict.result, 'accepted');

  await shop.page.evaluate(() => localStorage.clear());
  await shop.open({ verify: 'mamori' });
  const cleared = await env.purchase(shop, { ...buyer, amount: 3_200 });
  assert.ok(cleared.challenged, 'a cleared device is challenged');
  assert.deepEqual([cleared.verdict.result, cleared.verdict.status], ['accepted', 'Y']);
});

test('4. a blocked card: rejected (R), the shop refuses, no code is mailed', async () => {
  const blocked = await env.cardholder();
  await env.verifier.block(blocked.id);
  const page = await env.shopper({ verify: 'jose' });
  await page.buy({ card: blocked.card, amount: 1_000 });
  assert.ok(!(await page.challenged()), 'no challenge');
  const verdict = await page.verdict();
  assert.deepEqual([verdict.result, verdict.status, verdict.why], ['refused', 'R', 'not_authenticated']);
  // Once the outbox owes nothing, whatever the purchase queued has reached the receiver.
  // No code, ever; the verifier does tell the cardholder that a purchase was declined (a fraud
  // alert, as on any rejection of an enrolled card), once.
  await env.verifier.drained();
  assert.deepEqual(
    env.smtp.matching({ to: blocked.email }).map((m) => m.kind),
    ['alert_rejected'],
    'a blocked card gets no code, only the declined-purchase alert',
  );
});

test('5. over the card\'s ceiling on the trusted device: challenged', async () => {
  await shop.open({ verify: 'mamori' });
  const small = await env.purchase(shop, { ...buyer, amount: 3_200 });
  assert.ok(!small.challenged, 'trusted again after the last challenge');
  const large = await env.purchase(shop, { ...buyer, amount: 60_000 });
  assert.ok(large.challenged, 'over the ceiling');
  assert.deepEqual([large.verdict.result, large.verdict.status, large.verdict.amount], ['accepted', 'Y', '60000']);
  const reasons = await authentication(large.verdict.authentication);
  assert.ok(reasons.reasons.includes('amount_over_ceiling'), reasons.reasons);
});

test('9. the shop\'s backend retries a create with the same Idempotency-Key: the same authentication', async () => {
  const checkout = async (body) => {
    const answer = await fetch(`${env.shop.origin}/api/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return answer.json();
  };
  const attempt = crypto.randomUUID();
  const order = { card: buyer.card, amount: 4_400, attempt };
  const once = await checkout(order);
  const again = await checkout(order);
  assert.ok(once.authentication, JSON.stringify(once));
  assert.equal(again.authentication, once.authentication, 'a retried create is the same authentication');
  assert.equal(again.clientSecret, once.clientSecret);
  const other = await checkout({ ...order, attempt: crypto.randomUUID() });
  assert.notEqual(other.authentication, once.authentication, 'another key is another authentication');
  const changed = await checkout({ ...order, amount: 4_401 });
  assert.deepEqual(changed, { error: changed.error, status: 409 }, 'the same key with another amount');
  assert.equal((await authentication(once.authentication)).amount, 4_400);
});

// The shop merchant's view of an authentication, server to server.
async function authentication(id) {
  const answer = await fetch(`${env.verifier.url}/v1/authentications/${id}`, {
    headers: { authorization: `Bearer ${env.merchants.shop.key}` },
  });
  assert.equal(answer.status, 200);
  return answer.json();
}

// The merchant guide's script-tag example (www/README.md, "Script tag") exactly as printed —
// only the verifier's origin, the pinned script, its integrity and the authentication filled in
// — served by the shop on its own origin under the guide's CSP. Only the script-tag run has it:
// the npm run loads no script from the verifier.
if (widget === 'script') {
  test("the guide's script-tag example, verbatim under the shop's CSP: a code by SMTP, Y, accepted", async () => {
    const holder = await env.cardholder({ locale: 'ja' });
    const page = await (await env.device()).newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    const before = env.smtp.matching({ to: holder.email, kind: 'code' }).length;
    const response = await page.goto(`${env.shop.origin}/guide?card=${holder.card}&amount=3200`);
    assert.equal(response.status(), 200);
    assert.equal(
      response.headers()['content-security-policy'],
      `script-src 'self' ${env.verifier.url} 'wasm-unsafe-eval'; connect-src 'self' ${env.verifier.url}; worker-src blob:; default-src 'self'`,
    );
    const authentication = await page.locator('mamori-challenge').getAttribute('authentication');
    const mail = await env.smtp.next({ to: holder.email, kind: 'code', after: before });
    await page.locator('[data-mamori=code]').fill(env.smtp.code(mail));
    await page.locator('[data-mamori=submit]').click();
    // The guide's confirm.js posts the token to the shop, which keeps its verdict for us.
    const verdict = await until(
      async () => {
        const answer = await fetch(`${env.shop.origin}/api/verdict?authentication=${authentication}`);
        return answer.ok && answer.json();
      },
      { what: "the shop's verdict on the guide's page" },
    );
    assert.deepEqual(
      [verdict.result, verdict.status, verdict.method],
      ['accepted', 'Y', 'challenge'],
      JSON.stringify(verdict),
    );
    assert.deepEqual(problems, [], 'no page error, no CSP violation');
  });
}
