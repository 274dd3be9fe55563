// The demo shop as a shopper uses it, through the page's stable hooks: `data-shop` on the
// shop's own nodes, `data-mamori` on the widget's (Playwright's CSS engine reaches into the
// widget's open Shadow DOM).

import { shopPath } from './assets.mjs';

// Where the shop's verdict appears: every data-result but `starting`.
const VERDICT = ['accepted', 'refused', 'error', 'pending']
  .map((result) => `[data-shop=outcome][data-result=${result}]`)
  .join(', ');

// Longest wait for anything on a page: a purchase takes about a second.
const TIMEOUT_MS = 10_000;

export class Shop {
  constructor(page, verifierUrl) {
    page.setDefaultTimeout(TIMEOUT_MS);
    this.page = page;
    this.url = verifierUrl;
    // What went wrong in the page without failing a step: uncaught exceptions and Content
    // Security Policy violations (an inline script, a request to a foreign origin).
    this.problems = [];
    page.on('pageerror', (error) => this.problems.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) this.problems.push(message.text());
    });
  }

  // Opens the shop (in `lang` when given) at `origin`, the verifier's by default; `path` is
  // another page with the same hooks (the element page).
  async open({ lang, origin = this.url, path = shopPath } = {}) {
    const query = lang ? `?lang=${lang}` : '';
    await this.page.goto(`${origin}${path}${query}`);
    await this.page.locator('[data-shop=pay]').waitFor();
  }

  // Fills the checkout form and presses Pay.
  async buy({ card, amount }) {
    await this.page.locator('[data-shop=card]').fill(card);
    await this.page.locator('[data-shop=amount]').fill(String(amount));
    await this.page.locator('[data-shop=pay]').click();
  }

  // Waits for the challenge and returns the code input.
  async challenge() {
    const input = this.code();
    await input.waitFor({ state: 'visible' });
    return input;
  }

  code() {
    return this.page.locator('[data-mamori=code]');
  }

  widget(name) {
    return this.page.locator(`[data-mamori=${name}]`);
  }

  // Types `code` into the challenge and submits it with Enter.
  async enter(code) {
    const input = this.code();
    await input.fill(code);
    await input.press('Enter');
  }

  // The shop's verdict, once its backend has given one: the outcome's data-* attributes
  // (`result`, `status`, `method`, `reason`, `reasons` as an array, …) and its `text`.
  async verdict() {
    const outcome = this.page.locator(VERDICT);
    await outcome.waitFor();
    const facts = await outcome.evaluate((node) => ({ ...node.dataset, text: node.innerText }));
    return { ...facts, reasons: facts.reasons ? facts.reasons.split(' ') : [] };
  }

  // Waits for the widget event `name` (`mamori:…`) in the shop's event log.
  async event(name) {
    await this.page.locator(`[data-shop=events] [data-event="${name}"]`).waitFor({ state: 'attached' });
  }

  // The names of the widget events of the current purchase, in order.
  events() {
    return this.page.locator('[data-shop=events] [data-event]').evaluateAll((items) => items.map((i) => i.dataset.event));
  }

  // The device tokens the widget keeps in this origin's localStorage.
  deviceTokens() {
    return this.page.evaluate(() =>
      Object.keys(localStorage)
        .filter((key) => key.startsWith('mamori.device.'))
        .map((key) => localStorage.getItem(key)),
    );
  }
}

// A purchase through to the shop's verdict, reading the code from `mailbox` if challenged.
// Returns `{challenged, verdict}`.
export async function purchase(shop, mailbox, { card, email, amount }) {
  const before = await mailbox.count({ to: email, kind: 'code' });
  await shop.buy({ card, amount });
  const input = shop.code();
  const result = shop.page.locator(VERDICT);
  // Whichever comes first: the challenge, or a verdict without one.
  await input.filter({ visible: true }).or(result).first().waitFor({ state: 'visible' });
  const challenged = await input.isVisible();
  if (challenged) {
    const mail = await mailbox.next({ to: email, kind: 'code', after: before });
    await shop.enter(mailbox.code(mail));
  }
  return { challenged, verdict: await shop.verdict() };
}
