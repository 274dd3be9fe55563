// Story 6 of the topology suite: someone else tries the card and enters five wrong codes; the
// purchase fails (N) and the cardholder gets a fraud alert over SMTP. Its report link points at
// the verifier; opened and confirmed in a browser, it signs out the browser the cardholder
// trusted, which is challenged again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';

let env;
let buyer;
let trusted;

before(async () => {
  env = await setup();
  buyer = await env.cardholder({ locale: 'en' });
  trusted = await env.shopper({ verify: 'jose' });
});
after(() => env?.close());

// A six-digit code that is not `code`.
const wrong = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

test('the cardholder trusts a browser', async () => {
  const first = await env.purchase(trusted, { ...buyer, amount: 2_000 });
  assert.ok(first.challenged);
  assert.equal(first.verdict.result, 'accepted');
  const second = await env.purchase(trusted, { ...buyer, amount: 2_000 });
  assert.ok(!second.challenged, 'trusted: frictionless');
  assert.equal(second.verdict.result, 'accepted');
});

test('6. five wrong codes on another device: N, the shop refuses, a fraud alert by SMTP', async () => {
  const intruder = await env.shopper({ verify: 'mamori' });
  const codes = env.smtp.matching({ to: buyer.email, kind: 'code' }).length;
  await intruder.buy({ ...buyer, amount: 98_000 });
  await intruder.challenge();
  const code = env.smtp.code(await env.smtp.next({ to: buyer.email, kind: 'code', after: codes }));
  for (let left = 4; left >= 1; left -= 1) {
    await intruder.enter(wrong(code));
    // The widget says how many tries are left; wait for this entry's count.
    await intruder.page.locator(`[data-mamori=status]:text-matches("\\\\b${left}\\\\b")`).waitFor();
  }
  await intruder.enter(wrong(code));
  const verdict = await intruder.verdict();
  assert.deepEqual([verdict.result, verdict.status, verdict.reason], ['refused', 'N', '19']);

  const alert = await env.smtp.next({ to: buyer.email, kind: 'alert_failed' });
  assert.match(alert.text, /¥98,000/);
  assert.match(alert.text, /Shop/);
});

test('6. the report link in the alert, confirmed in a browser, signs out the trusted browser', async () => {
  const [alert] = env.smtp.matching({ to: buyer.email, kind: 'alert_failed' });
  const link = new RegExp(`${env.verifier.url}/report/\\S+`).exec(alert.text)?.[0];
  assert.ok(link, `a report link to the verifier in: ${alert.text}`);
  // The cardholder's own browser, not the shop's: a mail program opens the link.
  const mail = await (await env.device({ locale: 'en-US' })).newPage();
  await mail.goto(link);
  await mail.getByRole('button', { name: 'I did not make this purchase' }).click();
  await mail.getByRole('heading', { name: 'Thank you for telling us' }).waitFor();

  const again = await env.purchase(trusted, { ...buyer, amount: 2_000 });
  assert.ok(again.challenged, 'the formerly trusted browser is challenged');
  assert.equal(again.verdict.result, 'accepted');
  const answer = await fetch(`${env.verifier.url}/v1/authentications/${again.verdict.authentication}`, {
    headers: { authorization: `Bearer ${env.merchants.shop.key}` },
  });
  assert.ok((await answer.json()).reasons.includes('open_fraud_report'));
});
