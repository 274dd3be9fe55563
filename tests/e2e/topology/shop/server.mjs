// The merchant's shop in the real topology: its own Node process on its own origin
// (http://127.0.0.2:<port>), a checkout page served under a strict CSP, and a backend that talks
// to the verifier server to server with the merchant's secret key. Started by the topology suite
// (support/shop.mjs). With the script tag it also serves the merchant guide's own example page
// verbatim at /guide (see guidePage). Everything it needs comes from the environment:
//
//   SHOP_ORIGIN        where to listen, e.g. http://127.0.0.2:41234
//   VERIFIER           the verifier's origin, e.g. http://127.0.0.1:41235
//   SHOP_WIDGET        `script` (the script tag from the verifier) or `npm` (SHOP_BUNDLE's files)
//   SHOP_BUNDLE        for `npm`: the directory with shop.js (esbuild bundle) and the .wasm
//   SHOP_MERCHANTS     JSON {shop: {id, key}, sandbox: {id, key}}
//   MAMORI_PROJECT     a directory where the packed `mamori` npm package is installed
//
// It prints `shop ready` once it listens.

import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { verifyResult as verifyWithJose } from '../../../interop/verify_jose.mjs';

const here = import.meta.dirname;
const origin = new URL(process.env.SHOP_ORIGIN);
const verifier = process.env.VERIFIER;
const widget = process.env.SHOP_WIDGET;
const merchants = JSON.parse(process.env.SHOP_MERCHANTS);

// Verification variant (a): `mamori/verify`, resolved the way the merchant's own project would
// (the package's `exports`, Node conditions) from where the packed package is installed.
const { verifyResult: verifyWithMamori } = await import(
  pathToFileURL(createRequire(join(process.env.MAMORI_PROJECT, 'package.json')).resolve('mamori/verify')).href
);

// By script tag the shop reads the verifier's manifest once, at startup, and pins the
// content-addressed script with its SRI hash; by npm it serves its bundle.
const manifest = await (async () => {
  if (widget === 'npm') return undefined;
  const answer = await fetch(`${verifier}/widget/manifest.json`);
  if (!answer.ok) throw new Error(`GET /widget/manifest.json: ${answer.status}`);
  return answer.json();
})();

// The widget's part of the page.
const widgetTags = (() => {
  if (widget === 'npm') return '<script type="module" src="/bundle/shop.js"></script>';
  return [
    `<script src="${verifier}/widget/${manifest.script}" integrity="${manifest.integrity}"`,
    `        crossorigin="anonymous" data-verifier="${verifier}" defer></script>`,
    '<script type="module" src="/main.js"></script>',
  ].join('\n  ');
})();

const page = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('<!-- verifier -->', `<meta name="mamori-verifier" content="${verifier}">`)
  .replace('<!-- widget -->', widgetTags);

// The policy DESIGN.md and the merchant guide promise is enough.
const CSP = [
  `script-src 'self' ${verifier} 'wasm-unsafe-eval'`,
  `connect-src 'self' ${verifier}`,
  'worker-src blob:',
  "default-src 'self'",
].join('; ');

const STATIC = {
  '/main.js': [join(here, 'main.js'), 'text/javascript'],
  '/checkout.js': [join(here, 'checkout.js'), 'text/javascript'],
};
if (widget === 'npm') {
  const bundle = process.env.SHOP_BUNDLE;
  STATIC['/bundle/shop.js'] = [join(bundle, 'shop.js'), 'text/javascript'];
  STATIC['/bundle/mamori_widget_bg.wasm'] = [join(bundle, 'mamori_widget_bg.wasm'), 'application/wasm'];
}

// Orders by the checkout attempt that made them (the page's idempotency key), and by the
// authentication the verifier gave them; result tokens already redeemed.
const attempts = new Map();
const orders = new Map();
const redeemed = new Set();
let sequence = 0;

// POST /api/checkout {card, amount, merchant, verify, attempt}: one authentication per order,
// created server to server. `attempt` is the page's key for this checkout: sent again (a double
// click, a retried request) it is the same order and the same Idempotency-Key, so the verifier
// answers with the same authentication.
async function checkout({ card, amount, merchant = 'shop', verify = 'mamori', attempt }) {
  const account = merchants[merchant];
  if (!account || !['mamori', 'jose'].includes(verify) || typeof attempt !== 'string') {
    return [400, { error: 'bad_request' }];
  }
  let order = attempts.get(attempt);
  if (!order) {
    sequence += 1;
    order = { reference: `order-${process.pid}-${sequence}`, currency: 'JPY', merchant, verify };
    attempts.set(attempt, order);
  }
  const answer = await fetch(`${verifier}/v1/authentications`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${account.key}`,
      'content-type': 'application/json',
      'idempotency-key': attempt,
    },
    body: JSON.stringify({ card_number: card, amount, currency: order.currency, order_ref: order.reference }),
  });
  const body = await answer.json();
  if (!answer.ok) return [502, { error: body.error ?? 'verifier_error', status: answer.status }];
  orders.set(body.id, { ...order, amount });
  return [200, { authentication: body.id, clientSecret: body.client_secret, expiresAt: body.expires_at, order: order.reference }];
}

// POST /api/confirm {authentication, resultToken}: the shop takes the money only for a token
// that verifies against the authentication it created for this order (kept server-side, in
// `orders`) and the order itself, says `Y` (verification returns claims for nothing else), and
// was not used before.
async function confirm({ authentication, resultToken }) {
  const order = orders.get(authentication);
  if (!order) return [404, { error: 'no_such_order' }];
  const { id: merchantId, key } = merchants[order.merchant];
  const expected = { authentication, reference: order.reference, amount: order.amount, currency: order.currency };
  let claims;
  let why;
  try {
    claims =
      order.verify === 'jose'
        ? await verifyWithJose(resultToken, [key], merchantId, expected)
        : verifyWithMamori(resultToken, key, { audience: merchantId, order: expected });
  } catch (error) {
    // A genuine token that is not an authentication carries its claims: say why it was refused.
    if (!error.claims) {
      return [200, { authentication, result: 'refused', why: error.code ?? error.message, verify: order.verify }];
    }
    claims = error.claims;
    why = 'not_authenticated';
  }
  const verdict = {
    authentication,
    reference: order.reference,
    status: claims.status,
    method: claims.method,
    reason: claims.reason ?? '',
    eci: claims.eci,
    amount: claims.txn.amount,
    verify: order.verify,
  };
  if (why) return [200, { ...verdict, result: 'refused', why }];
  if (redeemed.has(claims.jti)) return [200, { ...verdict, result: 'refused', why: 'replayed' }];
  redeemed.add(claims.jti);
  return [200, { ...verdict, result: 'accepted' }];
}

// The merchant guide's script-tag example, verbatim: the ```html and ```js blocks of the
// "Script tag" section of www/README.md, with only its placeholders filled in — the verifier's
// origin, the pinned script and its integrity, and an authentication created for the page.
const guide = (() => {
  const readme = readFileSync(join(here, '../../../../www/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Script tag'), readme.indexOf('## npm'));
  const block = (language) => {
    const found = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section);
    if (!found) throw new Error(`www/README.md's "Script tag" section has no ${language} block`);
    return found[1];
  };
  return { html: block('html'), js: block('js') };
})();

// GET /guide?card=…&amount=…: the guide's page for a new authentication of this card.
async function guidePage(query) {
  const card = query.get('card');
  const amount = Number(query.get('amount'));
  const [status, created] = await checkout({ card, amount, verify: 'mamori', attempt: randomUUID() });
  if (status !== 200) return [status, 'application/json', JSON.stringify(created)];
  let html = guide.html;
  for (const [placeholder, value] of [
    [/https:\/\/safekey\.issuer\.example/g, verifier],
    [/mamori-[0-9a-f]{16}\.js/g, manifest.script],
    [/sha384-…/g, manifest.integrity],
    [/au_…/g, created.authentication],
    [/cs_…/g, created.clientSecret],
  ]) {
    // A placeholder the guide no longer has would leave the page testing something else.
    if (html.search(placeholder) === -1) throw new Error(`the guide's example lost ${placeholder}`);
    html = html.replace(placeholder, value);
  }
  const page = `<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8"><title>Guide checkout</title>
</head><body>\n${html}</body></html>\n`;
  const session = `checkout=${created.authentication}; Path=/; HttpOnly; SameSite=Strict`;
  return [200, 'text/html; charset=utf-8', page, { 'set-cookie': session }];
}

// POST /checkout/confirm {resultToken}, as the guide's confirm.js sends it: the order is the
// shopper's session's (the cookie guidePage set), never anything the token says, and confirm()
// verifies the token against the authentication the shop created for it. The verdict is kept
// for the test to read (GET /api/verdict?authentication=…), since the guide's page does
// nothing with the answer.
async function guideConfirm({ resultToken }, request) {
  const authentication = sessionOf(request);
  if (!authentication) return [400, { error: 'no_checkout_session' }];
  const [status, verdict] = await confirm({ authentication, resultToken });
  guideVerdicts.set(authentication, verdict);
  return [status, verdict];
}
const guideVerdicts = new Map();

// The checkout a shopper's session is on: the `checkout` cookie names the authentication the
// shop created for it (server-side, the cookie holds no more than that handle).
function sessionOf(request) {
  const cookie = (request.headers.cookie ?? '').split(';').map((c) => c.trim().split('='));
  const found = cookie.find(([name]) => name === 'checkout');
  return found && orders.has(found[1]) ? found[1] : undefined;
}

const API = { '/api/checkout': checkout, '/api/confirm': confirm, '/checkout/confirm': guideConfirm };

const server = createServer(async (request, response) => {
  const path = new URL(request.url, origin).pathname;
  const send = (status, type, body, headers = {}) => {
    response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
    response.end(body);
  };
  try {
    if (request.method === 'POST' && API[path]) {
      let text = '';
      for await (const chunk of request) text += chunk;
      const [status, body] = await API[path](JSON.parse(text), request);
      send(status, 'application/json', JSON.stringify(body));
    } else if (request.method === 'GET' && path === '/') {
      send(200, 'text/html; charset=utf-8', page, { 'content-security-policy': CSP });
    } else if (request.method === 'GET' && path === '/guide' && manifest) {
      const [status, type, body, headers = {}] = await guidePage(new URL(request.url, origin).searchParams);
      send(status, type, body, { 'content-security-policy': CSP, ...headers });
    } else if (request.method === 'GET' && path === '/api/verdict') {
      const verdict = guideVerdicts.get(new URL(request.url, origin).searchParams.get('authentication'));
      send(verdict ? 200 : 404, 'application/json', JSON.stringify(verdict ?? { error: 'no_verdict' }));
    } else if (request.method === 'GET' && path === '/confirm.js') {
      send(200, 'text/javascript', guide.js);
    } else if (request.method === 'GET' && path === '/favicon.ico') {
      send(204, 'image/x-icon', '');
    } else if (request.method === 'GET' && STATIC[path]) {
      const [file, type] = STATIC[path];
      send(200, type, readFileSync(file));
    } else {
      send(404, 'text/plain', 'not found');
    }
  } catch (error) {
    send(500, 'application/json', JSON.stringify({ error: 'shop_error', message: String(error.message) }));
  }
});
server.listen(Number(origin.port), origin.hostname, () => console.log('shop ready'));
