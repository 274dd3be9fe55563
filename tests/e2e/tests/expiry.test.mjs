// A code left unused until the authentication runs out: the widget says so (`mamori:expired`)
// and the shop, asking the verifier, refuses the payment. This file's verifier gives codes and
// authentications a few seconds instead of 10 and 15 minutes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';

// Long enough for the device step to finish well inside it, short enough to wait out.
const LIFETIME_S = 6;

let env;

before(async () => {
  env = await setup({ security: { code_lifetime: LIFETIME_S, authentication_lifetime: LIFETIME_S } });
});
after(() => env?.close());

test('an expired challenge: mamori:expired, and the shop refuses', async () => {
  const buyer = await env.cardholder();
  const shop = await env.shopper();
  await shop.buy({ ...buyer, amount: 4_800 });
  await shop.challenge();
  await shop.event('mamori:expired');
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'refused', verdict.text);
  assert.deepEqual([verdict.status, verdict.reason], ['U', '14']);
  // A challenge that can no longer succeed does not stay on the page.
  await shop.widget('root').waitFor({ state: 'detached' });
  // The widget never had a result to give: the shop's verdict came from the verifier.
  const events = await shop.events();
  assert.ok(!events.includes('mamori:result'), events);
});
