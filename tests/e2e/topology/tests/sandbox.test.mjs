// Story 8 of the topology suite: a sandbox merchant's test cards, each forcing an outcome, as a
// merchant uses them in its own tests; the challenge card takes the fixed code 123456 and its
// mail is read with the merchant's key from the verifier, never sent over SMTP; a real card is
// refused when the shop creates the authentication.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

// The sandbox's fixed test code.
const CODE = '123456';

// A purchase at the sandbox merchant with a test card on a new device: `{challenged, verdict}`.
async function sandboxPurchase(card, verify = 'mamori') {
  const page = await env.shopper({ merchant: 'sandbox', verify });
  await page.buy({ card, amount: 1_500 });
  const challenged = await page.challenged();
  if (challenged) await page.enter(CODE);
  return { challenged, verdict: await page.verdict() };
}

// The sandbox merchant's mail, newest first.
async function sandboxMail() {
  const answer = await fetch(`${env.verifier.url}/v1/sandbox/mail`, {
    headers: { authorization: `Bearer ${env.merchants.sandbox.key}` },
  });
  assert.equal(answer.status, 200);
  return (await answer.json()).mail;
}

test('8. 370000000000010: frictionless Y', async () => {
  const { challenged, verdict } = await sandboxPurchase('370000000000010');
  assert.ok(!challenged);
  assert.deepEqual([verdict.result, verdict.status, verdict.method], ['accepted', 'Y', 'frictionless']);
});

test('8. 370000000000028: challenged, the fixed code gives Y; its mail is in /v1/sandbox/mail, not at SMTP', async () => {
  const received = env.smtp.messages.length;
  const { challenged, verdict } = await sandboxPurchase('370000000000028', 'jose');
  assert.ok(challenged);
  assert.deepEqual([verdict.result, verdict.status, verdict.method], ['accepted', 'Y', 'challenge']);
  const mail = (await sandboxMail()).filter((m) => m.authentication_id === verdict.authentication);
  assert.equal(mail.length, 1, JSON.stringify(mail));
  assert.equal(mail[0].kind, 'code');
  assert.match(mail[0].text, new RegExp(`^\\s+${CODE}\\s*$`, 'm'));
  // Sandbox mail never leaves the verifier: once the outbox owes nothing, mail it had sent over
  // SMTP would be at the receiver.
  await env.verifier.drained();
  assert.deepEqual(env.smtp.messages.slice(received), [], 'nothing reached the SMTP receiver');
});

for (const [card, status] of [
  ['370000000000036', 'N'],
  ['370000000000044', 'U'],
  ['370000000000051', 'R'],
  ['370000000000069', 'A'],
]) {
  test(`8. ${card}: ${status}, which the shop does not capture`, async () => {
    const { verdict } = await sandboxPurchase(card);
    assert.deepEqual([verdict.result, verdict.status, verdict.why], ['refused', status, 'not_authenticated']);
  });
}

test('8. a real enrolled card at the sandbox merchant: refused with a 4xx when the shop creates it', async () => {
  const real = await env.cardholder();
  const page = await env.shopper({ merchant: 'sandbox' });
  await page.buy({ card: real.card, amount: 1_500 });
  const verdict = await page.verdict();
  assert.equal(verdict.result, 'error');
  assert.match(verdict.httpStatus, /^4\d\d$/);
  assert.deepEqual(env.smtp.matching({ to: real.email }), []);
});
