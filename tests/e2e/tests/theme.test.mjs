// The widget's colour schemes on the element page (pages/element): by default (`theme` auto) it
// follows the cardholder's `prefers-color-scheme`, light or dark, each with no serious axe
// violation (colour contrast included, inside the widget's shadow root) and a screenshot; the
// element's `theme` attribute forces either scheme against the preference; an unknown scheme is
// refused as `invalid_options`.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { elementPath } from '../support/assets.mjs';
import { seriousViolations } from '../support/axe.mjs';
import { artifact, setup } from '../support/fixture.mjs';

// The frame's default background and text colour in each scheme (style.css).
const COLOURS = {
  light: { background: 'rgb(255, 255, 255)', text: 'rgb(27, 27, 27)' },
  dark: { background: 'rgb(31, 32, 35)', text: 'rgb(232, 234, 237)' },
};

let env;

before(async () => {
  env = await setup();
});
after(() => env?.close());

// A shopper whose browser prefers `preference`, on the element page with `theme` (if any), at
// the challenge; returns the shop and the frame's colours.
async function challenged(preference, theme) {
  const buyer = await env.cardholder();
  const shop = await env.shopper({ path: theme ? `${elementPath}?theme=${theme}` : elementPath });
  await shop.page.emulateMedia({ colorScheme: preference });
  await shop.buy({ ...buyer, amount: 2_500 });
  await shop.challenge();
  const colours = await shop.widget('frame').evaluate((frame) => {
    const style = getComputedStyle(frame);
    return { background: style.backgroundColor, text: style.color };
  });
  return { shop, colours };
}

for (const scheme of ['light', 'dark']) {
  test(`theme auto, the cardholder preferring ${scheme}: ${scheme} colours, no serious axe violation`, async () => {
    const { shop, colours } = await challenged(scheme);
    assert.deepEqual(colours, COLOURS[scheme]);
    assert.deepEqual(await seriousViolations(shop.page), []);
    await shop.widget('frame').screenshot({ path: artifact(`challenge-${scheme}`) });
    assert.deepEqual(shop.problems, []);
  });
}

test('theme="dark" and theme="light" win over the preference', async () => {
  const dark = await challenged('light', 'dark');
  assert.deepEqual(dark.colours, COLOURS.dark);
  const light = await challenged('dark', 'light');
  assert.deepEqual(light.colours, COLOURS.light);
});

test('an unknown theme is refused as invalid_options, before any device check', async () => {
  const buyer = await env.cardholder();
  const shop = await env.shopper({ path: `${elementPath}?theme=dim` });
  await shop.buy({ ...buyer, amount: 2_500 });
  const verdict = await shop.verdict();
  assert.equal(verdict.result, 'error');
  assert.equal(verdict.code, 'invalid_options');
  assert.equal(verdict.retryable, 'false');
  assert.equal(await shop.page.locator('[data-mamori]').count(), 0);
});
