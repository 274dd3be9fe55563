// The cardholder's self-service page in the real topology: one card trusted in two browsers
// (two contexts, each with its own storage and device key) at the shop on another origin. The
// cardholder opens the link a mail carries in a third browser (their mail program's), and
// removes one of the two with the page's plain form; the browser kept stays frictionless, the
// removed one is challenged at its next purchase.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

// The device id (`did`) of the device token the shop's origin stores in `shop`'s browser.
async function deviceId(shop) {
  const stored = await shop.page.evaluate(() => ({ ...localStorage }));
  const token = Object.entries(stored).find(([key]) => key.startsWith('mamori.device.'))?.[1];
  assert.ok(token, `a device token is stored: ${JSON.stringify(Object.keys(stored))}`);
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).did;
}

test('removing one of two trusted browsers on the self-service page leaves the other trusted', async () => {
  const holder = await env.cardholder({ locale: 'en' });
  const laptop = await env.shopper({ verify: 'mamori' });
  const phone = await env.shopper({ verify: 'mamori' }, await env.device());
  const buy = async (shop) => {
    await shop.open({ verify: 'mamori' });
    const { challenged, verdict } = await env.purchase(shop, { ...holder, amount: 2_000 });
    assert.deepEqual([verdict.result, verdict.status], ['accepted', 'Y']);
    return challenged;
  };
  assert.ok(await buy(laptop), 'the laptop is challenged, then trusted');
  assert.ok(await buy(phone), 'the phone is challenged, then trusted');
  assert.ok(!(await buy(laptop)) && !(await buy(phone)), 'both are trusted');
  const [laptopDevice, phoneDevice] = [await deviceId(laptop), await deviceId(phone)];
  assert.notEqual(laptopDevice, phoneDevice);

  // The link, from the newest mail to the card (every mail carries it).
  const mail = env.smtp.matching({ to: holder.email }).at(-1);
  const link = new RegExp(`${env.verifier.url}/me/\\S+`).exec(mail.text)?.[0];
  assert.ok(link, `a self-service link to the verifier in: ${mail.text}`);
  const inbox = await (await env.device({ locale: 'en-US' })).newPage();
  await inbox.goto(link);
  await inbox.getByRole('heading', { name: 'Trusted browsers', exact: true }).waitFor();
  const removeButtons = inbox.locator('button[data-device]');
  assert.deepEqual(
    (await removeButtons.evaluateAll((buttons) => buttons.map((b) => b.dataset.device))).sort(),
    [laptopDevice, phoneDevice].sort(),
    'both browsers are listed',
  );
  assert.equal(await inbox.locator('script').count(), 0, 'the page has no script');

  await inbox.locator(`button[data-device="${laptopDevice}"]`).click();
  await inbox.getByRole('status').filter({ hasText: 'The browser was removed.' }).waitFor();
  assert.match(inbox.url(), /\/me\/[^/]+\?removed=1$/, 'back on the page');
  assert.deepEqual(
    await removeButtons.evaluateAll((buttons) => buttons.map((b) => b.dataset.device)),
    [phoneDevice],
    'only the phone is left',
  );

  assert.ok(!(await buy(phone)), 'the browser kept stays frictionless');
  assert.ok(await buy(laptop), 'the removed browser is challenged');
  assert.deepEqual(laptop.problems, []);
  assert.deepEqual(phone.problems, []);
});
