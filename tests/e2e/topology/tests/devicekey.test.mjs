// The device key (stories 10 and 11 of the topology suite): what a script on the checkout page
// can copy — the origin's localStorage with the device token, and the fingerprint, which another
// context of the same browser on the same machine shares — buys nothing without the key pair the
// widget keeps in IndexedDB; and a second card used in a browser does not take the first card's
// trust away.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

// The bodies of the device steps `page` sends, parsed, in order.
function deviceSteps(page) {
  const bodies = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/v1\/authentications\/[^/]+\/device$/.test(request.url())) {
      bodies.push(JSON.parse(request.postData()));
    }
  });
  return bodies;
}

test('10. the device token copied into a fresh browser context is challenged; the original browser stays trusted', async () => {
  const holder = await env.cardholder({ locale: 'en' });
  const original = await env.shopper({ verify: 'mamori' });
  const sent = deviceSteps(original.page);
  const first = await env.purchase(original, { ...holder, amount: 2_400 });
  assert.ok(first.challenged, 'a new device is challenged');
  assert.deepEqual([first.verdict.result, first.verdict.status], ['accepted', 'Y']);

  // Everything a page script can take from the origin's storage.
  const stolen = await original.page.evaluate(() => ({ ...localStorage }));
  const token = Object.entries(stolen).find(([key]) => key.startsWith('mamori.device.'))?.[1];
  assert.ok(token, `a device token is stored: ${JSON.stringify(Object.keys(stolen))}`);

  // Another context: the same browser and machine (so the same fingerprint), with the copied
  // localStorage and its own, empty, IndexedDB.
  const thief = await env.shopper({ verify: 'mamori' }, await env.device());
  const replayed = deviceSteps(thief.page);
  await thief.page.evaluate((items) => {
    for (const [key, value] of Object.entries(items)) localStorage.setItem(key, value);
  }, stolen);
  await thief.open({ verify: 'mamori' });
  await thief.buy({ card: holder.card, amount: 2_400 });
  assert.ok(await thief.challenged(), 'a copied device token without its key is challenged');
  assert.equal(replayed.at(-1).device_token, token, 'the copied token was sent');
  assert.equal(replayed.at(-1).device_proof, undefined, 'no key, no proof');

  await original.open({ verify: 'mamori' });
  const again = await env.purchase(original, { ...holder, amount: 2_400 });
  assert.ok(!again.challenged, 'the browser holding the key is trusted');
  assert.deepEqual([again.verdict.result, again.verdict.status, again.verdict.method], ['accepted', 'Y', 'frictionless']);
  assert.match(sent.at(-1).device_proof ?? '', /^[\w-]{86}$/, 'the trusted browser proves its key');
  assert.deepEqual(original.problems, []);
  assert.deepEqual(thief.problems, []);
});

test('11. a second card in the same browser keeps the first card\'s trust', async () => {
  const first = await env.cardholder({ locale: 'en' });
  const second = await env.cardholder({ locale: 'en' });
  const shop = await env.shopper({ verify: 'mamori' });
  const buy = async (holder) => {
    await shop.open({ verify: 'mamori' });
    const { challenged, verdict } = await env.purchase(shop, { ...holder, amount: 1_800 });
    assert.deepEqual([verdict.result, verdict.status], ['accepted', 'Y']);
    return challenged;
  };
  assert.ok(await buy(first), 'the first card on a new browser is challenged');
  assert.ok(!(await buy(first)), 'then trusted');
  assert.ok(await buy(second), 'the second card on this browser is challenged');
  assert.ok(!(await buy(second)), 'then trusted');
  assert.ok(!(await buy(first)), 'and the first card is still trusted');
  assert.deepEqual(shop.problems, []);
});
