// The topology shop's page as a merchant with a bundler builds it: the widget imported from the
// packed `mamori` npm package; esbuild bundles this file, and the shop serves the .wasm next to
// the bundle. The verifier's origin comes from the page (a meta tag the shop writes).
import { defineElement, mount } from 'mamori';

import { startCheckout } from './checkout.js';

const verifier = document.querySelector('meta[name="mamori-verifier"]').content;
defineElement('mamori-challenge', { verifier });
startCheckout({ mount: (element, options) => mount(element, { verifier, ...options }) });
