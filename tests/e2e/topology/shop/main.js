// The topology shop's page with the widget from the verifier's script tag: the loader, which
// runs first (both scripts are deferred), has set `window.mamori` and `<mamori-challenge>`.
import { startCheckout } from './checkout.js';

startCheckout({ mount: window.mamori.mount });
