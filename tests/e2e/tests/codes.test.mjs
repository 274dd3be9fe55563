// Entering the code the ways people do: pasted with spaces, typed in full-width digits, with the
// keyboard alone, and again after asking for a new one.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setup } from '../support/fixture.mjs';

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

// A new cardholder on a new device, at the challenge: `{shop, buyer, code}`.
async function challenged({ locale } = {}) {
  const buyer = await env.cardholder();
  const shop = await env.shopper({ locale });
  await shop.buy({ ...buyer, amount: 4_800 });
  await shop.challenge();
  const mail = await env.mailbox.next({ to: buyer.email, kind: 'code' });
  return { shop, buyer, code: env.mailbox.code(mail) };
}

// Full-width digits (U+FF10…U+FF19), as a Japanese input method types them.
const fullWidth = (code) => [...code].map((d) => String.fromCodePoint(0xff10 + Number(d))).join('');

test('a code pasted with spaces is accepted', async () => {
  const { shop, code } = await challenged();
  await shop.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await shop.page.evaluate((text) => navigator.clipboard.writeText(text), ` ${code.slice(0, 3)} ${code.slice(3)} `);
  const input = shop.code();
  await input.focus();
  await shop.page.keyboard.press('ControlOrMeta+V');
  assert.equal(await input.inputValue(), ` ${code.slice(0, 3)} ${code.slice(3)} `);
  await input.press('Enter');
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'accepted', verdict.text);
});

test('a code typed in full-width digits is accepted', async () => {
  const { shop, code } = await challenged();
  const input = shop.code();
  await input.pressSequentially(fullWidth(code));
  assert.equal(await input.inputValue(), fullWidth(code));
  await input.press('Enter');
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'accepted', verdict.text);
});

test('a purchase completed with the keyboard alone', async () => {
  const buyer = await env.cardholder();
  const shop = await env.shopper();
  const { page } = shop;
  const focused = () => page.evaluate(() => document.activeElement?.id);
  // Tab from the top of the page to the card number field.
  for (let presses = 0; (await focused()) !== 'card'; presses += 1) {
    assert.ok(presses < 10, 'the card field is reachable with Tab');
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(buyer.card);
  await page.keyboard.press('Tab');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('4800');
  await page.keyboard.press('Enter');
  // The challenge takes the focus: the code can be typed at once.
  await shop.challenge();
  const inWidget = await page.evaluate(() => {
    const root = document.querySelector('[data-mamori=root]');
    return root.shadowRoot.activeElement?.dataset.mamori;
  });
  assert.equal(inWidget, 'code');
  const mail = await env.mailbox.next({ to: buyer.email, kind: 'code' });
  await page.keyboard.type(env.mailbox.code(mail));
  await page.keyboard.press('Enter');
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'accepted', verdict.text);
});

test('resend: disabled during the cooldown, the old code then fails and the new one works', async () => {
  const buyer = await env.cardholder();
  const shop = await env.shopper();
  await shop.buy({ ...buyer, amount: 4_800 });
  await shop.challenge();
  const resend = shop.widget('resend');
  assert.ok(await resend.isDisabled(), 'no resend right after the first code');
  const first = env.mailbox.code(await env.mailbox.next({ to: buyer.email, kind: 'code' }));
  // The cooldown (4 s in the suite's configuration) ends and the button comes on by itself.
  await shop.page.locator('[data-mamori=resend]:not([disabled])').waitFor();
  await resend.click();
  await shop.event('mamori:resend');
  assert.ok(await resend.isDisabled(), 'the cooldown starts again');
  const mail = await env.mailbox.next({ to: buyer.email, kind: 'code', after: 1 });
  const second = env.mailbox.code(mail);
  assert.notEqual(second, first);

  await shop.enter(first);
  await shop.page.locator('[data-mamori=code][aria-invalid=true]').waitFor();
  assert.match(await shop.widget('status').innerText(), /4/, 'one attempt spent');
  await shop.enter(second);
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'accepted', verdict.text);
});

test('cancel: the widget reports it and the shop refuses', async () => {
  const buyer = await env.cardholder();
  const shop = await env.shopper();
  await shop.buy({ ...buyer, amount: 4_800 });
  await shop.challenge();
  await shop.widget('cancel').click();
  await shop.event('mamori:cancel');
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'refused', verdict.text);
  assert.deepEqual([verdict.status, verdict.reason], ['N', '01']);
  assert.deepEqual(await shop.events(), ['mamori:ready', 'mamori:challenge', 'mamori:cancel', 'mamori:result']);
});
