// Webhooks in the topology suite: the merchant's and the issuer's receivers (small Node HTTP
// servers, as a merchant's backend would run) verify every delivery with the `standardwebhooks`
// package. The merchant gets `authentication.finished` once for every purchase of the run
// (challenged, frictionless, cancelled, failed); the issuer gets `authentication.failed` after
// five wrong codes; events still owed while the verifier is stopped — the receiver answering
// 503 meanwhile — are delivered once after it starts again; and an event whose verifier is
// killed (SIGKILL) mid-attempt is sent again, with the same id, once its claim's lease lapses.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { until } from '../../support/wait.mjs';
import { setup } from '../support/fixture.mjs';
import { startReceiver } from '../support/webhooks.mjs';

let env;
let merchant;
let issuer;
let buyer;
let trusted;

// `mamori webhooks set …owner --url URL --json`; the receiver keeps the secret it prints.
async function register(receiver, ...owner) {
  const out = await env.verifier.cli('webhooks', 'set', ...owner, '--url', receiver.url, '--json');
  const { url, secret } = JSON.parse(out);
  assert.equal(url, receiver.url);
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.secret = secret;
}

// The merchant's `authentication.finished` for `authentication`, once delivered.
async function finished(authentication) {
  await until(() => merchant.of('authentication.finished').some((d) => d.data.authentication_id === authentication), {
    timeout: 15_000,
    what: `authentication.finished for ${authentication}`,
  });
  return merchant.of('authentication.finished').find((d) => d.data.authentication_id === authentication);
}

before(async () => {
  env = await setup();
  merchant = await startReceiver();
  issuer = await startReceiver();
  await register(merchant, '--merchant', env.merchants.shop.id);
  await register(issuer, '--issuer');
  buyer = await env.cardholder({ locale: 'en' });
  trusted = await env.shopper({ verify: 'jose' });
});
after(async () => {
  await env?.close();
  await merchant?.close();
  await issuer?.close();
});

test('a challenged purchase, then a frictionless one: authentication.finished for each', async () => {
  const first = await env.purchase(trusted, { ...buyer, amount: 2_000 });
  assert.ok(first.challenged);
  const challenged = await finished(first.verdict.authentication);
  assert.deepEqual(Object.keys(challenged.data).sort(), [
    'amount', 'authentication_id', 'currency', 'eci', 'merchant_id', 'method', 'order_ref', 'reason', 'state', 'status',
  ]);
  assert.deepEqual(
    [challenged.data.merchant_id, challenged.data.amount, challenged.data.currency],
    [env.merchants.shop.id, 2_000, 'JPY'],
  );
  assert.deepEqual([challenged.data.state, challenged.data.status, challenged.data.method], ['succeeded', 'Y', 'challenge']);
  assert.equal(challenged.data.reason, null);
  assert.match(challenged.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const second = await env.purchase(trusted, { ...buyer, amount: 2_000 });
  assert.ok(!second.challenged);
  const frictionless = await finished(second.verdict.authentication);
  assert.deepEqual([frictionless.data.state, frictionless.data.method], ['succeeded', 'frictionless']);
});

test('a cancelled challenge: authentication.finished, cancelled', async () => {
  const shop = await env.shopper();
  await shop.buy({ ...buyer, amount: 4_800 });
  await shop.challenge();
  await shop.widget('cancel').click();
  await shop.event('mamori:cancel');
  const verdict = await shop.verdict();
  const cancelled = await finished(verdict.authentication);
  assert.deepEqual([cancelled.data.state, cancelled.data.status, cancelled.data.reason], ['cancelled', 'N', '01']);
});

test('five wrong codes: authentication.failed to the issuer, authentication.finished (failed) to the merchant', async () => {
  const intruder = await env.shopper();
  const codes = env.smtp.matching({ to: buyer.email, kind: 'code' }).length;
  await intruder.buy({ ...buyer, amount: 98_000 });
  await intruder.challenge();
  const code = env.smtp.code(await env.smtp.next({ to: buyer.email, kind: 'code', after: codes }));
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  for (let left = 4; left >= 1; left -= 1) {
    await intruder.enter(wrong);
    await intruder.page.locator(`[data-mamori=status]:text-matches("\\\\b${left}\\\\b")`).waitFor();
  }
  await intruder.enter(wrong);
  const verdict = await intruder.verdict();
  assert.equal(verdict.status, 'N');

  await until(() => issuer.of('authentication.failed').length === 1, { timeout: 15_000, what: 'authentication.failed' });
  const [failed] = issuer.of('authentication.failed');
  assert.deepEqual(failed.data, {
    authentication_id: verdict.authentication,
    merchant_id: env.merchants.shop.id,
    cardholder_id: buyer.id,
    amount: 98_000,
    currency: 'JPY',
    reason: '19',
  });
  const merchantSide = await finished(verdict.authentication);
  assert.deepEqual([merchantSide.data.state, merchantSide.data.reason], ['failed', '19']);
  assert.deepEqual(issuer.of('authentication.finished'), [], 'the issuer gets no merchant events');
});

test('the verifier stopped while an event is owed: delivered once after it starts again', async () => {
  merchant.unavailable = true;
  // Counted before the purchase: its first attempt may come before the purchase's answer.
  const attemptsBefore = merchant.attempts.length;
  const owed = await env.purchase(trusted, { ...buyer, amount: 2_000 });
  assert.ok(!owed.challenged);
  // Refused (503; its `Retry-After: 1` does not hasten the schedule's 5 s) while the verifier
  // runs …
  await until(() => merchant.attempts.length > attemptsBefore, { timeout: 15_000, what: 'a refused attempt' });
  const id = merchant.attempts.at(-1);
  await env.verifier.stop();
  // … then the receiver is back, and so is the verifier, with the same database.
  merchant.unavailable = false;
  await env.verifier.start();
  const delivered = await finished(owed.verdict.authentication);
  assert.equal(delivered.id, id, 'the same webhook-id as the refused attempts');
  assert.ok(merchant.attempts.filter((a) => a === id).length >= 2);
});

test('the verifier killed mid-attempt: the same webhook-id again after the lease, accepted once', async () => {
  merchant.holding = true;
  const attemptsBefore = merchant.attempts.length;
  const purchase = await env.purchase(trusted, { ...buyer, amount: 3_000 });
  assert.ok(!purchase.challenged);
  // The attempt is in flight: the receiver holds the request open, unanswered …
  await until(() => merchant.attempts.length > attemptsBefore, { timeout: 15_000, what: 'the attempt in flight' });
  const id = merchant.attempts.at(-1);
  await env.verifier.kill();
  merchant.release();
  // … and the verifier dies with it claimed. Started again, it sends the event once the claim's
  // lease (3 s here) has lapsed.
  await env.verifier.start();
  const delivered = await finished(purchase.verdict.authentication);
  assert.equal(delivered.id, id, 'the same webhook-id as the attempt cut short');
  const seen = merchant.attempts.filter((a) => a === id).length;
  assert.ok(seen <= 2, `the receiver saw ${id} ${seen} times`);
  assert.equal(merchant.delivered.filter((d) => d.id === id).length, 1, 'accepted once');
});

test('every delivery verified, none twice', () => {
  assert.deepEqual(merchant.refused, []);
  assert.deepEqual(issuer.refused, []);
  const ids = [...merchant.delivered, ...issuer.delivered].map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length, `duplicates in ${ids}`);
  const authentications = merchant.of('authentication.finished').map((d) => d.data.authentication_id);
  assert.equal(new Set(authentications).size, authentications.length, 'one event per purchase');
  assert.equal(authentications.length, 6, 'challenged, frictionless, cancelled, failed, the owed one and the killed one');
});
