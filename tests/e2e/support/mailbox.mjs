// The demo mailbox (/demo/mailbox), read as a cardholder would: in a browser page of its own.
//
// Mail is delivered by the outbox worker a moment after the request that queued it, so a count
// ("no code was mailed") is taken only once the verifier's /metrics shows the outbox drained
// (`mamori_outbox_owed 0`): a mail queued but not yet delivered is waited for, never missed.

import { until } from './wait.mjs';

export class Mailbox {
  // `context`: a browser context for reading mail (not one of the shopper's devices).
  constructor(context, verifierUrl) {
    this.context = context;
    this.url = verifierUrl;
  }

  // Every message, newest first: `{id, subject, to, kind, text}`.
  async messages() {
    // One page, reloaded for each look: opening a page per look is slower.
    this.inbox ??= await this.context.newPage();
    await this.inbox.goto(`${this.url}/demo/mailbox`);
    return this.inbox.locator('article').evaluateAll((articles) =>
      articles.map((article) => {
        const head = article.querySelector('p').innerText;
        return {
          id: article.querySelector('a[href^="/demo/mailbox/"]').getAttribute('href').split('/').pop(),
          subject: article.querySelector('strong').innerText,
          to: /To: (\S+)/.exec(head)?.[1],
          kind: article.querySelector('code').innerText,
          text: article.querySelector('pre').innerText,
        };
      }),
    );
  }

  async matching({ to, kind }) {
    return (await this.messages()).filter((m) => m.to === to && (!kind || m.kind === kind));
  }

  // How many matching messages there are once the outbox owes none.
  async count(filter) {
    await this.drained();
    return (await this.matching(filter)).length;
  }

  // Resolves once the outbox has delivered (or given up on) every mail queued so far.
  async drained() {
    await until(async () => (await this.owed()) === 0, { what: 'the outbox to drain (mamori_outbox_owed 0)' });
  }

  // The verifier's `mamori_outbox_owed` gauge; an error when /metrics does not show it.
  async owed() {
    const response = await fetch(`${this.url}/metrics`);
    if (!response.ok) throw new Error(`GET /metrics: HTTP ${response.status}`);
    const found = /^mamori_outbox_owed (\d+)$/m.exec(await response.text());
    if (!found) throw new Error('GET /metrics has no mamori_outbox_owed');
    return Number(found[1]);
  }

  // The newest matching message once there are more than `after` of them (mail is delivered
  // by the outbox worker, a moment after the request that queued it).
  async next({ to, kind, after = 0 }) {
    const found = await until(
      async () => {
        const list = await this.matching({ to, kind });
        return list.length > after && list;
      },
      { what: `mail #${after + 1} (${kind}) to ${to}` },
    );
    return found[0];
  }

  // The six-digit code in a code mail's text.
  code(message) {
    const code = /^\s+(\d{6})\s*$/m.exec(message.text)?.[1];
    if (!code) throw new Error(`no code in: ${message.text}`);
    return code;
  }

  // Opens a message's HTML part, as a mail program shows it, in a new page.
  async open(message) {
    const page = await this.context.newPage();
    await page.goto(`${this.url}/demo/mailbox/${message.id}`);
    return page;
  }
}
