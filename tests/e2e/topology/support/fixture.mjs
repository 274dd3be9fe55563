// What every topology test file starts with: an SMTP receiver, a verifier (`mamori init`, two
// merchants added with the CLI — a live one and a sandbox — then `mamori serve`), the merchant's
// shop on 127.0.0.2, and a browser; plus helpers for devices, cardholders and purchases.

import { launch, newDevice } from '../../support/browser.mjs';
import { newCardNumber } from '../../support/cards.mjs';
import { freePort } from './net.mjs';
import { SHOP_HOST, ShopPage, startShop } from './shop.mjs';
import { startSmtp } from './smtp.mjs';
import { createVerifier } from './verifier.mjs';

let enrolled = 0;

export async function setup() {
  const env = {};
  try {
    env.smtp = await startSmtp();
    env.verifier = await createVerifier({ smtpPort: env.smtp.port });
    await env.verifier.init();
    const origin = `http://${SHOP_HOST}:${await freePort(SHOP_HOST)}`;
    env.merchants = {
      shop: await env.verifier.addMerchant({ name: 'Shop', origin }),
      sandbox: await env.verifier.addMerchant({ name: 'Sandbox', origin, sandbox: true }),
    };
    await env.verifier.start();
    env.shop = await startShop({ origin, verifier: env.verifier.url, merchants: env.merchants });
    env.browser = await launch();
  } catch (error) {
    await close(env);
    throw error;
  }
  const { smtp, verifier, shop, browser } = env;
  return {
    ...env,
    // A new device: a browser context of its own, in Japan.
    device: (options) => newDevice(browser, options),
    // The checkout opened on `device` (a new one by default) with `query`.
    async shopper(query = {}, device) {
      const context = device ?? (await newDevice(browser));
      const page = new ShopPage(await context.newPage(), shop.origin);
      await page.open(query);
      return page;
    },
    // A card enrolled with `mamori cardholder enroll`: `{id, card, email}`.
    async cardholder({ locale = 'ja', ceiling = 50_000 } = {}) {
      enrolled += 1;
      const card = newCardNumber();
      const email = `holder${enrolled}.${process.pid}@example.jp`;
      const id = await verifier.enroll({ card, email, locale, ceiling });
      return { id, card, email };
    },
    // A purchase through to the shop's verdict, with the code read from the cardholder's mail
    // if challenged: `{challenged, verdict, token}` (`token`: the result token the page got).
    async purchase(page, { card, email, amount }) {
      const before = smtp.matching({ to: email, kind: 'code' }).length;
      await page.buy({ card, amount });
      const challenged = await page.challenged();
      if (challenged) {
        const mail = await smtp.next({ to: email, kind: 'code', after: before });
        await page.enter(smtp.code(mail));
      }
      const verdict = await page.verdict();
      const result = (await page.events()).find((e) => e.type === 'mamori:result');
      return { challenged, verdict, token: result?.detail.resultToken };
    },
    close: () => close(env),
  };
}

async function close({ browser, shop, verifier, smtp }) {
  await browser?.close();
  await shop?.stop();
  await verifier?.close();
  await smtp?.close();
}
