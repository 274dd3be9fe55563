// The topology shop's checkout page: the form, the widget mounted for the authentication the
// shop's backend created, and the result token handed back to that backend for its verdict.
// `widget.mount(element, {authentication, clientSecret})` comes from the script tag (main.js) or
// the npm package (bundle.js); `<mamori-challenge>` is defined by either.
//
// Query: `merchant` (shop | sandbox), `verify` (mamori | jose: how the backend verifies),
// `ui` (mount | element). The verdict's facts go on data-* attributes of [data-shop=outcome],
// each widget event on an item of [data-shop=events] with its detail as JSON: what the suite reads.

export function startCheckout(widget) {
  const params = new URLSearchParams(location.search);
  const $ = (name) => document.querySelector(`[data-shop="${name}"]`);
  const form = $('form');
  const host = $('widget');
  const outcome = $('outcome');
  const log = $('events');

  // The key of this checkout attempt: sent again with a retried request, it makes the same order.
  let attempt = crypto.randomUUID();
  // The purchase in progress: its authentication id and, when mounted by call, its handle.
  let current = null;

  const show = (result, facts = {}) => {
    for (const key of Object.keys(outcome.dataset)) if (key !== 'shop') delete outcome.dataset[key];
    for (const [key, value] of Object.entries(facts)) outcome.dataset[key] = String(value ?? '');
    outcome.dataset.result = result;
    outcome.textContent = `${result} ${JSON.stringify(facts)}`;
  };

  const post = async (path, body) => {
    const answer = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return answer.json();
  };

  for (const name of ['ready', 'challenge', 'resend', 'result', 'error', 'expired', 'cancel']) {
    host.addEventListener(`mamori:${name}`, (event) => {
      const item = document.createElement('li');
      item.dataset.event = event.type;
      item.dataset.detail = JSON.stringify(event.detail ?? {});
      item.textContent = event.type;
      log.append(item);
    });
  }

  host.addEventListener('mamori:result', async (event) => {
    const purchase = current;
    // The status in the event is not trusted: the backend verifies the signed token.
    const verdict = await post('/api/confirm', {
      authentication: purchase.authentication,
      resultToken: event.detail.resultToken,
    });
    if (current === purchase) show(verdict.result ?? 'error', verdict);
  });
  host.addEventListener('mamori:error', (event) => {
    if (event.detail.fatal) show('error', { code: event.detail.code });
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    current?.handle?.destroy();
    current = null;
    host.replaceChildren();
    log.replaceChildren();
    show('starting');
    const session = await post('/api/checkout', {
      card: $('card').value.replace(/[\s-]/g, ''),
      amount: Number($('amount').value),
      merchant: params.get('merchant') ?? 'shop',
      verify: params.get('verify') ?? 'mamori',
      attempt,
    });
    attempt = crypto.randomUUID();
    if (!session.authentication) {
      show('error', { code: session.error, httpStatus: session.status });
      return;
    }
    current = { authentication: session.authentication };
    if (params.get('ui') === 'element') {
      // The merchant guide's first example: the element mounts itself once it is in the page.
      const element = document.createElement('mamori-challenge');
      element.setAttribute('authentication', session.authentication);
      element.setAttribute('client-secret', session.clientSecret);
      host.append(element);
    } else {
      const purchase = current;
      const handle = await widget.mount(host, {
        authentication: session.authentication,
        clientSecret: session.clientSecret,
      });
      if (current === purchase) purchase.handle = handle;
      else handle.destroy();
    }
  });
}
