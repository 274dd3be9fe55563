// The merchant's shop: started as a separate Node process on 127.0.0.2 (another origin than the
// verifier's), and its checkout page driven as a shopper does, through `data-shop` hooks on the
// shop's nodes and `data-mamori` ones on the widget's (Playwright reaches into its open shadow
// root).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { widget } from '../../support/env.mjs';
import { bundleDir, projectDir } from './env.mjs';

// The shop's own loopback address: another origin than the verifier's 127.0.0.1.
export const SHOP_HOST = '127.0.0.2';
const START_LIMIT_MS = 15_000;

// Every verdict but `starting`.
const VERDICT = ['accepted', 'refused', 'error'].map((r) => `[data-shop=outcome][data-result=${r}]`).join(', ');

// Starts the shop on `origin` for the verifier at `verifier`, with the merchants' keys.
export async function startShop({ origin, verifier, merchants }) {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../shop/server.mjs')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      SHOP_ORIGIN: origin,
      VERIFIER: verifier,
      SHOP_WIDGET: widget,
      SHOP_BUNDLE: bundleDir,
      SHOP_MERCHANTS: JSON.stringify(merchants),
      MAMORI_PROJECT: projectDir,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the shop did not start:\n${stderr}`)), START_LIMIT_MS);
    child.once('exit', (code) => reject(new Error(`the shop exited (${code}):\n${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'shop ready') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.removeAllListeners('exit');
  return {
    origin,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

export class ShopPage {
  constructor(page, origin) {
    page.setDefaultTimeout(10_000);
    this.page = page;
    this.origin = origin;
    // Uncaught exceptions and CSP violations on the page: none is expected.
    this.problems = [];
    page.on('pageerror', (error) => this.problems.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy|integrity/i.test(message.text())) this.problems.push(message.text());
    });
  }

  // Opens the checkout with `query` ({merchant, verify, ui}); resolves to the page's response.
  async open(query = {}) {
    const search = new URLSearchParams(query).toString();
    const response = await this.page.goto(`${this.origin}/${search ? `?${search}` : ''}`);
    await this.page.locator('[data-shop=pay]').waitFor();
    return response;
  }

  async buy({ card, amount }) {
    await this.page.locator('[data-shop=card]').fill(card);
    await this.page.locator('[data-shop=amount]').fill(String(amount));
    await this.page.locator('[data-shop=pay]').click();
  }

  code() {
    return this.page.locator('[data-mamori=code]');
  }

  widget(name) {
    return this.page.locator(`[data-mamori=${name}]`);
  }

  // Waits for the challenge to show.
  async challenge() {
    await this.code().waitFor({ state: 'visible' });
  }

  async enter(code) {
    await this.code().fill(code);
    await this.code().press('Enter');
  }

  // Whichever comes first: the challenge (true) or a verdict without one (false).
  async challenged() {
    await this.code().filter({ visible: true }).or(this.page.locator(VERDICT)).first().waitFor({ state: 'visible' });
    return this.code().isVisible();
  }

  // The shop's verdict: the outcome's data-* attributes.
  async verdict() {
    const outcome = this.page.locator(VERDICT);
    await outcome.waitFor();
    return outcome.evaluate((node) => ({ ...node.dataset }));
  }

  // The widget events of the current purchase, in order: `{type, detail}`.
  events() {
    return this.page
      .locator('[data-shop=events] [data-event]')
      .evaluateAll((items) => items.map((i) => ({ type: i.dataset.event, detail: JSON.parse(i.dataset.detail) })));
  }

  // Waits for the `n`-th (from 1) widget event named `type` and returns its detail.
  async event(type, n = 1) {
    const item = this.page.locator(`[data-shop=events] [data-event="${type}"]`).nth(n - 1);
    await item.waitFor({ state: 'attached' });
    return JSON.parse(await item.getAttribute('data-detail'));
  }
}
