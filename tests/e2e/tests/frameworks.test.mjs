// The npm package's framework components, each on a checkout page built with esbuild from the
// packed package (pages/react, pages/vue; npm run only): `mamori/react`'s <MamoriChallenge>
// under React's development build and <StrictMode>, and `mamori/vue`'s. Each completes a
// challenged purchase with one device check. Each, mounted with `theme: 'dark'` (which it
// passes on) and unmounted in the middle of a challenge (the page's route changes), leaves no
// node and no listener behind: the listeners on the window and anywhere in the document
// (shadow roots included) are those the page had before the purchase, the component's
// detached <div> has none and is empty, and no request follows.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { frameworkPaths } from '../support/assets.mjs';
import { widget } from '../support/env.mjs';
import { setup } from '../support/fixture.mjs';
import { purchase } from '../support/shop.mjs';
import { until } from '../support/wait.mjs';

// Run in the page before its own scripts: keeps the page's running intervals (the widget's
// countdown is one), so that a test can see one left behind rather than wait for it to fire.
function watchIntervals() {
  const running = new Set();
  const original = { setInterval, clearInterval };
  window.setInterval = (...args) => {
    const id = original.setInterval.call(window, ...args);
    running.add(id);
    return id;
  };
  window.clearInterval = (id) => {
    running.delete(id);
    original.clearInterval.call(window, id);
  };
  window.__intervals = () => running.size;
}

let env;

before(async () => {
  assert.equal(widget, 'npm', 'the framework pages are built by the npm run only (run.mjs --widget=npm)');
  env = await setup();
});
after(() => env?.close());

// The device checks the page makes, counted as they go.
function deviceChecks(page) {
  const seen = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/v1\/authentications\/[^/]+\/device$/.test(request.url())) {
      seen.push(request.url());
    }
  });
  return seen;
}

// The event listeners on the window, on the document and every node in it, shadow roots
// included, and on `window.__host` when the page has set it, each as `type on node`, sorted:
// through the DevTools protocol, which sees every listener a script added.
async function listeners(cdp) {
  const nodes = new Map();
  const describe = async (backendNodeId) => {
    if (backendNodeId === undefined) return 'window';
    if (!nodes.has(backendNodeId)) {
      const { node } = await cdp.send('DOM.describeNode', { backendNodeId });
      const attributes = node.attributes ?? [];
      const hook = ['data-shop', 'data-mamori', 'id'].map((name) => attributes.indexOf(name)).find((at) => at >= 0);
      nodes.set(backendNodeId, hook === undefined ? node.nodeName : `${node.nodeName}[${attributes[hook]}=${attributes[hook + 1]}]`);
    }
    return nodes.get(backendNodeId);
  };
  const on = async (expression, depth) => {
    const { result } = await cdp.send('Runtime.evaluate', { expression });
    if (!result.objectId) return null;
    const found = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId, depth, pierce: true });
    const described = [];
    for (const listener of found.listeners) described.push(`${listener.type} on ${await describe(listener.backendNodeId)}`);
    return described.sort();
  };
  return { window: await on('window', 0), document: await on('document', -1), host: await on('window.__host', -1) };
}

for (const framework of ['react', 'vue']) {
  const path = frameworkPaths[framework];

  test(`mamori/${framework}: a challenged purchase completes, with one device check`, async () => {
    const buyer = await env.cardholder();
    const shop = await env.shopper({ path });
    const checks = deviceChecks(shop.page);
    const { challenged, verdict } = await purchase(shop, env.mailbox, { ...buyer, amount: 5_400 });
    assert.ok(challenged, 'a new device is challenged');
    assert.equal(verdict.result, 'accepted', verdict.text);
    assert.equal(verdict.status, 'Y');
    assert.equal(verdict.method, 'challenge');
    assert.equal(verdict.amount, '5400');
    assert.deepEqual(await shop.events(), ['mamori:ready', 'mamori:challenge', 'mamori:result']);
    // React's StrictMode mounted the component twice over: still one widget, one check.
    assert.equal(checks.length, 1, checks.join('\n'));
    assert.equal(await shop.page.locator('[data-shop=route] > [data-shop=mamori] > [data-mamori=root]').count(), 1);

    // The next purchase on this device, mounted anew for its order, is frictionless.
    const next = await purchase(shop, env.mailbox, { ...buyer, amount: 1_200 });
    assert.equal(next.challenged, false);
    assert.equal(next.verdict.result, 'accepted', next.verdict.text);
    assert.equal(next.verdict.method, 'frictionless');
    assert.equal(checks.length, 2, checks.join('\n'));
    assert.equal(await shop.page.locator('[data-mamori=root]').count(), 1, 'the first widget is gone');
    assert.deepEqual(shop.problems, []);
  });

  test(`mamori/${framework}: unmounted during a challenge, it leaves no node or listener behind`, async () => {
    const buyer = await env.cardholder();
    // With a `theme` passed through the component's props.
    const shop = await env.shopper({ path: `${path}?theme=dark` });
    await shop.page.addInitScript(watchIntervals);
    await shop.page.reload();
    const cdp = await shop.page.context().newCDPSession(shop.page);
    // The baseline once the page's script has run: the framework has rendered its route.
    await shop.page.locator('[data-shop=route]').waitFor({ state: 'attached' });
    const beforePurchase = await listeners(cdp);
    const intervalsBefore = await shop.page.evaluate(() => window.__intervals());

    await shop.buy({ ...buyer, amount: 3_300 });
    await shop.challenge();
    // Read with plain DOM calls: a locator's `evaluate` would leave Playwright's own listeners on
    // the window.
    const background = await shop.page.evaluate(() => {
      const root = document.querySelector('[data-shop=mamori] > [data-mamori=root]');
      return getComputedStyle(root.shadowRoot.querySelector('[data-mamori=frame]')).backgroundColor;
    });
    assert.equal(background, 'rgb(31, 32, 35)', 'the dark scheme, as the theme prop says');
    await shop.page.evaluate(() => {
      window.__host = document.querySelector('[data-shop=mamori]');
    });
    const during = await listeners(cdp);
    // What the checks below must see gone: the component's listeners on its <div> (one per
    // event) and the widget's in its shadow root.
    assert.ok(during.host.filter((listener) => listener.startsWith('mamori:')).length >= 7, during.host.join(', '));
    assert.ok(during.host.length > 7, during.host.join(', '));
    const intervalsDuring = await shop.page.evaluate(() => window.__intervals());
    assert.equal(intervalsDuring, intervalsBefore + 1, 'the countdown ticks');

    const requests = [];
    shop.page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
    // The shopper goes back to the cart: the page's route renders no component.
    await shop.page.evaluate(() => {
      location.hash = '#cart';
    });
    await shop.page.locator('[data-shop=mamori]').waitFor({ state: 'detached' });
    // The component's cleanup (which a framework may run a moment after the nodes go) destroys
    // the widget: once the page runs no more intervals than before the purchase, the countdown
    // is stopped, and with it every timer of the widget's challenge (no request was in flight to
    // be tried again).
    await until(async () => (await shop.page.evaluate(() => window.__intervals())) === intervalsBefore, {
      what: `the page's intervals back to ${intervalsBefore}`,
    });

    const left = await listeners(cdp);
    assert.deepEqual(
      { window: left.window, document: left.document },
      { window: beforePurchase.window, document: beforePurchase.document },
    );
    assert.deepEqual(left.host, [], 'listeners on the unmounted <div> or inside it');
    const nodes = await shop.page.evaluate(() => ({
      connected: window.__host.isConnected,
      children: window.__host.childNodes.length,
      widgetNodes: document.querySelectorAll('[data-mamori]').length,
      route: document.querySelector('[data-shop=route]').children.length,
    }));
    assert.deepEqual(nodes, { connected: false, children: 0, widgetNodes: 0, route: 0 });
    assert.deepEqual(requests, [], 'requests after the unmount');
    assert.deepEqual(await shop.events(), ['mamori:ready', 'mamori:challenge']);

    // Nothing of the first widget is in the way (no modal <dialog> left in the top layer): the
    // shopper pays again, and this purchase completes.
    await shop.page.evaluate(() => {
      delete window.__host;
    });
    const again = await purchase(shop, env.mailbox, { ...buyer, amount: 3_300 });
    assert.ok(again.challenged);
    assert.equal(again.verdict.result, 'accepted', again.verdict.text);
    assert.equal(again.verdict.status, 'Y');
    assert.deepEqual(shop.problems, []);
  });
}
