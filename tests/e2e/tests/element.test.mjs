// The merchant guide's first integration (www/README.md, "Script tag"): the loader by a pinned
// script tag with its `integrity`, and a `<mamori-challenge>` element carrying the
// authentication's id and client secret, whose `mamori:*` events the page listens to on the
// element. The suite's own page (pages/element) does this over the demo shop's backend; it
// loads the widget by script tag in both runs, since the element is the script tag's.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { elementPath } from '../support/assets.mjs';
import { setup } from '../support/fixture.mjs';
import { purchase } from '../support/shop.mjs';

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

test('<mamori-challenge> from the pinned script tag completes a challenged purchase', async () => {
  const buyer = await env.cardholder();
  const shop = await env.shopper({ path: elementPath });
  const loaded = await shop.page.evaluate(() => ({
    pinned: /^sha384-/.test(document.querySelector('script[src^="/widget/mamori-"]')?.integrity ?? ''),
    element: customElements.get('mamori-challenge') !== undefined,
  }));
  assert.deepEqual(loaded, { pinned: true, element: true });

  const { challenged, verdict } = await purchase(shop, env.mailbox, { ...buyer, amount: 4_800 });
  assert.ok(challenged, 'a new device is challenged');
  assert.equal(verdict.result, 'accepted', verdict.text);
  assert.equal(verdict.status, 'Y');
  assert.equal(verdict.method, 'challenge');
  assert.equal(verdict.amount, '4800');
  // Heard on the element itself, in order.
  assert.deepEqual(await shop.events(), ['mamori:ready', 'mamori:challenge', 'mamori:result']);
  // The element did the mounting: the widget lives in its shadow root.
  assert.equal(await shop.page.locator('[data-shop=widget] > mamori-challenge').count(), 1);
  assert.ok((await shop.page.locator('mamori-challenge [data-mamori]').count()) > 0);
  assert.deepEqual(shop.problems, []);
});

test('<mamori-challenge> reflects its attributes as properties, as its TypeScript type says, but keeps a client secret property out of the DOM', async () => {
  const shop = await env.shopper({ path: elementPath });
  const reflected = await shop.page.evaluate(() => {
    const element = document.createElement('mamori-challenge');
    element.authentication = 'au_1';
    element.clientSecret = 'cs_1';
    element.verifier = 'https://safekey.issuer.example';
    element.mode = 'dialog';
    const attributes = element.getAttributeNames().map((name) => [name, element.getAttribute(name)]);
    const before = element.clientSecret;
    element.setAttribute('client-secret', 'cs_2');
    const written = document.createElement('mamori-challenge');
    written.setAttribute('client-secret', 'cs_3');
    return {
      attributes,
      before,
      after: element.clientSecret,
      fromAttribute: written.clientSecret,
      unset: document.createElement('mamori-challenge').authentication,
    };
  });
  assert.deepEqual(reflected, {
    attributes: [
      ['authentication', 'au_1'],
      ['verifier', 'https://safekey.issuer.example'],
      ['mode', 'dialog'],
    ],
    before: 'cs_1',
    after: 'cs_1',
    fromAttribute: 'cs_3',
    unset: '',
  });
});
