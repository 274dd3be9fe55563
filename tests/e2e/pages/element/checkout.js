// A checkout page that mounts the widget the way the merchant guide's first example does: a
// `<mamori-challenge>` element with the authentication's id and client secret, defined by the
// script tag, whose `mamori:*` events are listened to on the element itself. The demo shop's
// backend (/demo/shop/*) creates the authentication and verifies the result token.
//
// It offers the end-to-end suite the demo shop's hooks (`data-shop=…`, the verdict's facts as
// data-* attributes), so the suite's `Shop` drives both pages alike.

const $ = (name) => document.querySelector(`[data-shop="${name}"]`);
const outcome = $('outcome');
// The element's `theme` attribute, when the page is opened with `?theme=` (the theme test).
const theme = new URLSearchParams(location.search).get('theme');

// The verdict (or failure) as the suite reads it: `data-result` and the other facts.
function show(result, facts = {}) {
  for (const key of Object.keys(outcome.dataset)) if (key !== 'shop') delete outcome.dataset[key];
  Object.assign(outcome.dataset, facts, { result });
  outcome.textContent = `${result} ${JSON.stringify(facts)}`;
}

async function backend(route, body) {
  const response = await fetch(`/demo/shop/${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('widget').replaceChildren();
  $('events').replaceChildren();
  show('starting');
  let order;
  try {
    order = await backend('checkout', { card_number: $('card').value, amount: Number($('amount').value) });
  } catch (error) {
    show('error', { code: 'checkout', why: error.message });
    return;
  }
  const element = document.createElement('mamori-challenge');
  element.setAttribute('authentication', order.authentication);
  element.setAttribute('client-secret', order.client_secret);
  element.setAttribute('mode', 'dialog');
  if (theme !== null) element.setAttribute('theme', theme);
  for (const name of ['ready', 'challenge', 'resend', 'result', 'error', 'expired', 'cancel']) {
    element.addEventListener(`mamori:${name}`, (e) => {
      const item = document.createElement('li');
      item.dataset.event = e.type;
      $('events').append(item);
    });
  }
  element.addEventListener('mamori:result', async (e) => {
    const verdict = await backend('complete', { order_ref: order.order_ref, result_token: e.detail.resultToken });
    show(verdict.outcome, {
      status: verdict.status ?? '',
      method: verdict.method ?? '',
      reason: verdict.reason ?? '',
      amount: verdict.amount ?? '',
      reasons: (verdict.reasons ?? []).join(' '),
    });
  });
  element.addEventListener('mamori:error', (e) => {
    if (e.detail.fatal) show('error', { code: e.detail.code, retryable: String(e.detail.retryable) });
  });
  $('widget').append(element);
});
