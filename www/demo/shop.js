// The demo shop's page: a checkout form, the mamori widget, and what a merchant's front end does
// with its events. `widget` is `{ mount }`, from the script tag or from the npm package.
//
// The page holds only what the shop's backend hands it for one purchase (authentication id and
// client secret); the amount is fixed by the backend, and the decision to take the money is the
// backend's, after it verified the result token (/demo/shop/complete).

import { TEXTS, chooseLanguage, fill } from './texts.js';
import { backend } from './backend.js';

export function startShop(widget) {
  const lang = chooseLanguage(location.search, navigator.languages ?? []);
  const texts = TEXTS[lang];
  translate(texts, lang);

  const $ = (name) => document.querySelector(`[data-shop="${name}"]`);
  const form = $('form');
  const host = $('widget');
  const outcome = $('outcome');
  const log = $('events');
  const money = new Intl.NumberFormat(lang === 'ja' ? 'ja-JP' : 'en-JP', {
    style: 'currency',
    currency: 'JPY',
  });

  // One purchase at a time: the order being paid and its widget.
  let current = null;

  // The verdict's facts also go on data-* attributes: what the end-to-end suite reads, in any
  // language.
  const show = (result, text, detail = '', facts = {}) => {
    for (const key of Object.keys(outcome.dataset)) if (key !== 'shop') delete outcome.dataset[key];
    Object.assign(outcome.dataset, facts);
    outcome.dataset.result = result;
    outcome.replaceChildren(text);
    if (detail) {
      const small = document.createElement('small');
      small.textContent = detail;
      outcome.append(document.createElement('br'), small);
    }
  };

  const finish = () => {
    form.querySelector('button').disabled = false;
  };

  // The backend's verdict, in words.
  const report = (verdict) => {
    const facts = {
      status: verdict.status ?? '',
      method: verdict.method ?? '',
      reason: verdict.reason ?? '',
      why: verdict.why ?? '',
      amount: verdict.amount ?? '',
      reasons: (verdict.reasons ?? []).join(' '),
    };
    const signals = verdict.reasons?.length ? fill(texts.signals, { list: verdict.reasons.join(', ') }) : '';
    if (verdict.outcome === 'accepted') {
      const how = verdict.method === 'frictionless' ? texts.how_frictionless : texts.how_challenge;
      show('accepted', fill(texts.accepted, { amount: money.format(verdict.amount) }), [how, signals].join(' '), facts);
    } else if (verdict.outcome === 'pending') {
      show('pending', texts.pending, '', facts);
      return;
    } else {
      const why = texts[`why_${verdict.why === 'not_authenticated' ? verdict.status : verdict.why}`] ?? verdict.why;
      const reason = verdict.reason ? ` (${verdict.status}, ${texts[`reason_${verdict.reason}`] ?? verdict.reason})` : '';
      show('refused', fill(texts.refused, { why: why + reason }), signals, facts);
    }
    finish();
  };

  // Asks the backend for its verdict and shows it; resolves to the verdict (undefined when the
  // backend could not be asked).
  const complete = async (order, resultToken) => {
    try {
      const verdict = await backend('complete', { order_ref: order.order_ref, result_token: resultToken });
      report(verdict);
      return verdict;
    } catch (error) {
      show('error', fill(texts.refused, { why: error.message }));
      finish();
      return undefined;
    }
  };

  // Every `mamori:*` event goes to the log, so a developer sees the sequence.
  for (const name of ['ready', 'challenge', 'resend', 'result', 'error', 'expired', 'cancel']) {
    host.addEventListener(`mamori:${name}`, (event) => {
      const item = document.createElement('li');
      item.dataset.event = event.type;
      const { resultToken, ...rest } = event.detail ?? {};
      const shown = resultToken ? { ...rest, resultToken: `${resultToken.slice(0, 16)}…` } : rest;
      item.textContent = `${event.type} ${JSON.stringify(shown)}`;
      log.append(item);
    });
  }

  // From here on the widget speaks for itself: the shop's own line waits for the verdict.
  host.addEventListener('mamori:ready', () => {
    outcome.replaceChildren();
    delete outcome.dataset.result;
  });
  host.addEventListener('mamori:result', (event) => {
    // Never trust the status in the event: the backend verifies the signed token.
    if (current) complete(current.order, event.detail.resultToken);
  });
  host.addEventListener('mamori:expired', async () => {
    // The code ran out. The backend asks the verifier: if the whole authentication is over, the
    // shop refuses and takes the challenge away; if not, the cardholder can still send a new
    // code from the widget.
    const purchase = current;
    if (!purchase) return;
    const verdict = await complete(purchase.order, undefined);
    if (verdict && verdict.outcome !== 'pending' && current === purchase) purchase.handle?.destroy();
  });
  host.addEventListener('mamori:error', (event) => {
    if (event.detail.fatal) {
      show('error', fill(texts.failed_start, { why: event.detail.message }), '', { code: event.detail.code });
      finish();
    }
  });

  for (const button of document.querySelectorAll('[data-card]')) {
    button.addEventListener('click', () => {
      $('card').value = button.dataset.card;
      $('card').focus();
    });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelector('button').disabled = true;
    current?.handle?.destroy();
    current = null;
    log.replaceChildren();
    show('starting', texts.starting);
    let order;
    try {
      order = await backend('checkout', {
        card_number: $('card').value.replace(/[\s-]/g, ''),
        amount: Number($('amount').value),
      });
    } catch (error) {
      show('error', fill(texts.failed_start, { why: error.message }));
      finish();
      return;
    }
    current = { order };
    try {
      // In the demo the verifier serves this page, so it is this origin. A real shop passes its
      // card issuer's verifier URL and lists it in its own CSP's connect-src.
      current.handle = await widget.mount(host, {
        verifier: location.origin,
        authentication: order.authentication,
        clientSecret: order.client_secret,
        lang,
      });
    } catch (error) {
      show('error', fill(texts.failed_start, { why: error.message }));
      finish();
    }
  });
}

// Puts the page's static texts in `lang`.
function translate(texts, lang) {
  document.documentElement.lang = lang;
  for (const element of document.querySelectorAll('[data-text]')) {
    const text = texts[element.dataset.text];
    if (text) element.textContent = text;
  }
  for (const link of document.querySelectorAll('[data-lang]')) {
    if (link.dataset.lang === lang) link.setAttribute('aria-current', 'true');
  }
  const price = document.querySelector('[data-shop="price"]');
  price.textContent = new Intl.NumberFormat(lang === 'ja' ? 'ja-JP' : 'en-JP', {
    style: 'currency',
    currency: 'JPY',
  }).format(12800);
}
