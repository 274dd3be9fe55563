// The shop opened from an origin the merchant did not register: the verifier refuses the
// widget, which says why in words and raises a fatal `mamori:error`; no code is mailed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';
import { startProxy } from '../support/proxy.mjs';

let env;
let proxy;

before(async () => {
  env = await setup();
  proxy = await startProxy(env.verifier.url);
});
after(async () => {
  await proxy?.close();
  await env?.close();
});

test('an unregistered origin is refused with a clear error', async () => {
  const buyer = await env.cardholder({ locale: 'en' });
  const shop = await env.shopper({ locale: 'en-US', origin: proxy.origin });
  assert.ok(shop.page.url().startsWith(proxy.origin));
  await shop.buy({ ...buyer, amount: 4_800 });
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'error', verdict.text);
  assert.equal(verdict.code, 'origin_not_allowed');
  const status = await shop.widget('status').innerText();
  assert.match(status, /not registered with the card issuer/);
  assert.ok(await shop.widget('challenge').isHidden());
  assert.deepEqual(await shop.events(), ['mamori:ready', 'mamori:error']);
  assert.equal(await env.mailbox.count({ to: buyer.email }), 0, 'no code was mailed');
});
