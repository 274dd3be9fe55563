// Someone else tries the card: five wrong codes fail the purchase and mail the cardholder a
// fraud alert; the cardholder reports it from the mail, and the browser they trusted is
// challenged again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';
import { purchase } from '../support/shop.mjs';

let env;
let buyer;
let trusted;

before(async () => {
  env = await setup();
  buyer = await env.cardholder({ locale: 'en' });
  trusted = await env.shopper({ locale: 'en-US' });
});
after(() => env?.close());

// A six-digit code that is not `code`.
const wrong = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

test('the cardholder trusts a browser', async () => {
  const first = await purchase(trusted, env.mailbox, { ...buyer, amount: 2_000 });
  assert.ok(first.challenged);
  assert.equal(first.verdict.result, 'accepted', first.verdict.text);
  const second = await purchase(trusted, env.mailbox, { ...buyer, amount: 2_000 });
  assert.ok(!second.challenged, 'trusted: frictionless');
  assert.equal(second.verdict.result, 'accepted', second.verdict.text);
});

test('five wrong codes on another device: failed, the shop refuses, a fraud alert is mailed', async () => {
  const intruder = await env.shopper({ locale: 'en-US' });
  await intruder.buy({ ...buyer, amount: 98_000 });
  await intruder.challenge();
  const code = env.mailbox.code(await env.mailbox.next({ to: buyer.email, kind: 'code', after: 1 }));
  for (let left = 4; left >= 1; left -= 1) {
    await intruder.enter(wrong(code));
    // The widget says how many tries are left; wait for this entry's count.
    await intruder.page.locator(`[data-mamori=status]:text-matches("\\\\b${left}\\\\b")`).waitFor();
  }
  await intruder.enter(wrong(code));
  const verdict = await intruder.verdict();
  assert.equal(verdict.result, 'refused', verdict.text);
  assert.deepEqual([verdict.status, verdict.reason], ['N', '19']);
  assert.ok(await intruder.widget('challenge').isHidden(), 'the challenge is closed');

  const alert = await env.mailbox.next({ to: buyer.email, kind: 'alert_failed' });
  assert.match(alert.subject, /entered wrongly too many times/);
  assert.match(alert.text, /¥98,000/);
  assert.match(alert.text, /\/report\//);
});

test('the report link in the alert signs out the trusted browser', async () => {
  const [alert] = await env.mailbox.matching({ to: buyer.email, kind: 'alert_failed' });
  const mail = await env.mailbox.open(alert);
  await mail.locator('a[href*="/report/"]').click();
  await mail.getByRole('button', { name: 'I did not make this purchase' }).click();
  await mail.getByRole('heading', { name: 'Thank you for telling us' }).waitFor();

  const after = await purchase(trusted, env.mailbox, { ...buyer, amount: 2_000 });
  assert.ok(after.challenged, 'the formerly trusted browser is challenged');
  assert.ok(after.verdict.reasons.includes('open_fraud_report'), after.verdict.reasons);
});
