// What the React and Vue checkout pages share: the form, the demo shop's backend (/demo/shop/*),
// the verdict and the event log, with the demo shop's hooks (`data-shop=…`), so the suite's
// `Shop` drives these pages as it drives the others. Each page brings only its framework's way
// of rendering the widget: `render(order)` with the authentication to mount for, or `null`.
//
// The widget is shown while the URL's fragment is `#pay`; going anywhere else (the test sets
// `#cart`, as a single-page app's router would) renders nothing, so the component unmounts in
// the middle of whatever it was doing.

const $ = (name) => document.querySelector(`[data-shop="${name}"]`);
const outcome = $('outcome');

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

// The widget's callbacks for `order`, by event name without the `mamori:` prefix: each logs
// its event; `result` has the backend verify the token, a fatal `error` is the verdict.
function callbacks(order) {
  const log = (name) => {
    const item = document.createElement('li');
    item.dataset.event = `mamori:${name}`;
    $('events').append(item);
  };
  const on = {};
  for (const name of ['ready', 'challenge', 'resend', 'result', 'error', 'expired', 'cancel']) {
    on[name] = () => log(name);
  }
  on.result = async ({ resultToken }) => {
    log('result');
    const verdict = await backend('complete', { order_ref: order.order_ref, result_token: resultToken });
    show(verdict.outcome, {
      status: verdict.status ?? '',
      method: verdict.method ?? '',
      reason: verdict.reason ?? '',
      amount: verdict.amount ?? '',
    });
  };
  on.error = ({ fatal, code, retryable }) => {
    log('error');
    if (fatal) show('error', { code, retryable: String(retryable) });
  };
  return on;
}

// Wires the page: `render({authentication, clientSecret, verifier, theme, on})` mounts the widget for
// an order (`on.result(detail)` and so on) in a `<section data-shop="route">`, `render(null)`
// leaves the section empty.
export function startShop(render) {
  let current = null;
  const update = () => render(location.hash === '#pay' ? current : null);
  addEventListener('hashchange', update);
  // The route's own element is on the page from the start, so what a framework adds to the
  // page when it first renders (React's click handler on its root) is there before any order.
  update();
  $('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    current = null;
    update();
    $('events').replaceChildren();
    show('starting');
    let order;
    try {
      order = await backend('checkout', { card_number: $('card').value, amount: Number($('amount').value) });
    } catch (error) {
      show('error', { code: 'checkout', why: error.message });
      return;
    }
    current = {
      verifier: location.origin,
      // `?theme=dark` passes the component a colour scheme.
      theme: new URLSearchParams(location.search).get('theme') ?? undefined,
      authentication: order.authentication,
      clientSecret: order.client_secret,
      on: callbacks(order),
    };
    if (location.hash === '#pay') update();
    else location.hash = '#pay';
  });
}
