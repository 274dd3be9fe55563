// Online protection in the topology suite, the whole way an issuer runs it: the issuer's back
// office drives the admin API (`/admin/v1`, a token from `mamori admin token create`) and the
// issuer's and merchant's backends receive signed webhooks, verified with the `standardwebhooks`
// package. Someone else enters five wrong codes; the cardholder's alert carries a report link;
// the report opens a protection case (the cardholder is told the amount is not charged to them)
// and the issuer's receiver gets `fraud_report.created`; the back office moves the case to
// review and then refunds it over the admin API, the cardholder is mailed at each step and the
// issuer's receiver gets `protection_case.updated` each time. The merchant's receiver gets
// `authentication.finished` once for every purchase of the run.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { newCardNumber } from '../../support/cards.mjs';
import { until } from '../../support/wait.mjs';
import { setup } from '../support/fixture.mjs';
import { startReceiver } from '../support/webhooks.mjs';

let env;
let token;
let issuer;
let merchant;
let buyer;
let trusted;
const purchases = [];

// `method /admin/v1{path}` with the back office's token; `{status, body}`.
async function admin(method, path, body) {
  const response = await fetch(`${env.verifier.url}/admin/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

// The receiver's endpoint set over the admin API at `path`; it keeps the secret answered.
async function register(receiver, path) {
  const { status, body } = await admin('PUT', path, { url: receiver.url });
  assert.equal(status, 200, JSON.stringify(body));
  assert.match(body.secret, /^whsec_/);
  receiver.secret = body.secret;
}

// `receiver`'s deliveries of `type` once there are `count` of them.
async function delivered(receiver, type, count) {
  await until(() => receiver.of(type).length >= count, { timeout: 15_000, what: `${count} × ${type}` });
  return receiver.of(type);
}

// A six-digit code that is not `code`.
const wrong = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

before(async () => {
  env = await setup();
  ({ token } = JSON.parse(await env.verifier.cli('admin', 'token', 'create', '--name', 'back office', '--json')));
  issuer = await startReceiver();
  merchant = await startReceiver();
  await register(issuer, '/webhook');
  await register(merchant, `/merchants/${env.merchants.shop.id}/webhook`);
  trusted = await env.shopper({ verify: 'jose' });
});
after(async () => {
  await env?.close();
  await issuer?.close();
  await merchant?.close();
});

test('the back office enrols the card over the admin API; the cardholder trusts a browser', async () => {
  buyer = { card: newCardNumber(), email: `protected.${process.pid}@example.jp` };
  const { status, body } = await admin('POST', '/cardholders', {
    cardholders: [{ card: buyer.card, email: buyer.email, locale: 'en', ceilings: ['JPY:50000'] }],
  });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.items[0].outcome, 'enrolled', JSON.stringify(body));
  buyer.id = body.items[0].cardholder.id;

  for (const expectChallenge of [true, false]) {
    const { challenged, verdict } = await env.purchase(trusted, { ...buyer, amount: 2_000 });
    assert.equal(challenged, expectChallenge);
    assert.equal(verdict.result, 'accepted');
    purchases.push(verdict.authentication);
  }
});

test('five wrong codes elsewhere: N, a fraud alert, and authentication.failed to the issuer', async () => {
  const intruder = await env.shopper({ verify: 'mamori' });
  const codes = env.smtp.matching({ to: buyer.email, kind: 'code' }).length;
  await intruder.buy({ ...buyer, amount: 98_000 });
  await intruder.challenge();
  const code = env.smtp.code(await env.smtp.next({ to: buyer.email, kind: 'code', after: codes }));
  for (let left = 4; left >= 1; left -= 1) {
    await intruder.enter(wrong(code));
    await intruder.page.locator(`[data-mamori=status]:text-matches("\\\\b${left}\\\\b")`).waitFor();
  }
  await intruder.enter(wrong(code));
  const verdict = await intruder.verdict();
  assert.deepEqual([verdict.status, verdict.reason], ['N', '19']);
  purchases.push(verdict.authentication);

  await env.smtp.next({ to: buyer.email, kind: 'alert_failed' });
  const [failed] = await delivered(issuer, 'authentication.failed', 1);
  assert.equal(failed.data.authentication_id, verdict.authentication);
});

test('the report link opens a case: the cardholder is told the amount is not charged, the issuer gets fraud_report.created', async () => {
  const [alert] = env.smtp.matching({ to: buyer.email, kind: 'alert_failed' });
  const link = new RegExp(`${env.verifier.url}/report/\\S+`).exec(alert.text)?.[0];
  assert.ok(link, `a report link in: ${alert.text}`);
  const mail = await (await env.device({ locale: 'en-US' })).newPage();
  await mail.goto(link);
  await mail.getByRole('button', { name: 'I did not make this purchase' }).click();
  await mail.getByRole('heading', { name: 'Thank you for telling us' }).waitFor();

  const opened = await env.smtp.next({ to: buyer.email, kind: 'case_open' });
  assert.match(opened.text, /¥98,000/);
  assert.match(opened.text, /While this case is open, the amount is not charged to you\./);

  const [reported] = await delivered(issuer, 'fraud_report.created', 1);
  const intruded = purchases.at(-1);
  assert.deepEqual(
    {
      authentication_id: reported.data.authentication_id,
      cardholder_id: reported.data.cardholder_id,
      merchant_id: reported.data.merchant_id,
      amount: reported.data.amount,
      currency: reported.data.currency,
    },
    { authentication_id: intruded, cardholder_id: buyer.id, merchant_id: env.merchants.shop.id, amount: 98_000, currency: 'JPY' },
  );
  assert.match(reported.data.case_id, /^pc_/);
  assert.match(reported.data.report_id, /^fr_/);

  const { status, body } = await admin('GET', `/cases/${reported.data.case_id}`);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual([body.state, body.amount, body.merchant_name], ['open', 98_000, 'Shop']);
  const open = await admin('GET', '/cases?state=open');
  assert.ok(open.body.items.some((c) => c.id === reported.data.case_id));
});

test('the back office reviews and refunds the case: mailed each time, protection_case.updated each time', async () => {
  const [{ data: report }] = issuer.of('fraud_report.created');
  const path = `/cases/${report.case_id}/state`;

  const review = await admin('POST', path, { state: 'under_review' });
  assert.equal(review.status, 200, JSON.stringify(review.body));
  assert.deepEqual([review.body.case.state, review.body.previous_state], ['under_review', 'open']);
  const reviewing = await env.smtp.next({ to: buyer.email, kind: 'case_under_review' });
  assert.match(reviewing.text, /the amount is not charged to you/);

  const refund = await admin('POST', path, { state: 'refunded', note: 'chargeback filed with the merchant' });
  assert.equal(refund.status, 200, JSON.stringify(refund.body));
  assert.deepEqual([refund.body.case.state, refund.body.previous_state], ['refunded', 'under_review']);
  const refunded = await env.smtp.next({ to: buyer.email, kind: 'case_refunded' });
  assert.match(refunded.subject, /refunded/);
  assert.match(refunded.text, /will not be charged to you/);
  assert.doesNotMatch(refunded.text, /chargeback filed/, 'the issuer note stays with the issuer');

  const updates = await delivered(issuer, 'protection_case.updated', 2);
  assert.deepEqual(
    updates.map((u) => [u.data.case_id, u.data.previous_state, u.data.state]),
    [
      [report.case_id, 'open', 'under_review'],
      [report.case_id, 'under_review', 'refunded'],
    ],
  );
  assert.equal(updates[1].data.note, 'chargeback filed with the merchant');

  // A decided case moves no further, and nothing is mailed or sent for the refusal.
  const mails = env.smtp.matching({ to: buyer.email }).length;
  const again = await admin('POST', path, { state: 'declined' });
  assert.deepEqual([again.status, again.body.error], [409, 'case_state']);
  assert.equal((await admin('GET', `/cases/${report.case_id}`)).body.state, 'refunded');
  // A mail or an event the refusal queued would be owed until the receivers had it: once
  // nothing is owed, they hold all there is.
  await env.verifier.drained();
  await until(async () => (await admin('GET', '/webhook')).body.pending === 0, {
    what: "the issuer's events delivered",
  });
  assert.equal(env.smtp.matching({ to: buyer.email }).length, mails);
  assert.equal(issuer.of('protection_case.updated').length, 2);
});

test('the merchant gets authentication.finished once for every purchase; every delivery verified, none twice', async () => {
  const finished = await delivered(merchant, 'authentication.finished', purchases.length);
  assert.deepEqual(finished.map((d) => d.data.authentication_id).sort(), [...purchases].sort());
  assert.deepEqual(merchant.refused, []);
  assert.deepEqual(issuer.refused, []);
  const ids = [...merchant.delivered, ...issuer.delivered].map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length, `duplicates in ${ids}`);
  assert.deepEqual(
    issuer.delivered.map((d) => d.type).sort(),
    ['authentication.failed', 'fraud_report.created', 'protection_case.updated', 'protection_case.updated'],
  );
});
