// What every test file starts with: a verifier of its own, a browser, a mailbox reader, and
// helpers for new devices and fresh cardholders.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { assets } from './assets.mjs';
import { launch, newDevice } from './browser.mjs';
import { newCardNumber } from './cards.mjs';
import { artifacts, widget } from './env.mjs';
import { Mailbox } from './mailbox.mjs';
import { Shop } from './shop.mjs';
import { startVerifier } from './verifier.mjs';

let enrolled = 0;

// `assets`: another assets directory than this run's (a test that alters the release).
export async function setup({ security, assets: dir } = {}) {
  const verifier = await startVerifier({ assets: dir ?? (await assets()), security });
  const browser = await launch();
  const mailbox = new Mailbox(await browser.newContext(), verifier.url);
  return {
    verifier,
    browser,
    mailbox,
    // A new device (browser context) with the shop open on it.
    async shopper({ locale, lang, origin, path } = {}) {
      const context = await newDevice(browser, { locale });
      const shop = new Shop(await context.newPage(), verifier.url);
      await shop.open({ lang, origin, path });
      return shop;
    },
    // A newly enrolled cardholder: `{card, email}`.
    async cardholder({ locale = 'ja', ceiling = 50_000 } = {}) {
      enrolled += 1;
      const card = newCardNumber();
      const email = `buyer${enrolled}.${process.pid}@example.jp`;
      await verifier.enroll({ card, email, locale, ceiling });
      return { card, email };
    },
    async close() {
      await browser?.close();
      await verifier?.stop();
    },
  };
}

// Where to save a screenshot called `name`, tagged with the widget variant of this run.
export function artifact(name) {
  mkdirSync(artifacts, { recursive: true });
  return join(artifacts, `${name}-${widget}.png`);
}
