// The checkout page of a Vue shop: `mamori/vue`'s <MamoriChallenge> rendered for the order and
// dropped when the shopper leaves (see ../frameworks/shop.js), with a render function (the
// runtime-only build: no template compiler, so no `unsafe-eval` in the page's policy).

import { createApp, h, shallowRef } from 'vue';
import { MamoriChallenge } from 'mamori/vue';

import { startShop } from '../frameworks/shop.js';

const current = shallowRef(null);

createApp({
  render() {
    const order = current.value;
    if (!order) return h('section', { 'data-shop': 'route' });
    const widget = h(MamoriChallenge, {
      key: order.authentication,
      verifier: order.verifier,
      authentication: order.authentication,
      clientSecret: order.clientSecret,
      mode: 'dialog',
      theme: order.theme,
      'data-shop': 'mamori',
      onReady: order.on.ready,
      onChallenge: order.on.challenge,
      onResend: order.on.resend,
      onResult: order.on.result,
      onError: order.on.error,
      onExpired: order.on.expired,
      onCancel: order.on.cancel,
    });
    return h('section', { 'data-shop': 'route' }, [widget]);
  },
}).mount(document.querySelector('[data-shop=widget]'));

startShop((order) => {
  current.value = order;
});
