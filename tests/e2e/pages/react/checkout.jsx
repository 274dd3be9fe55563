// The checkout page of a React shop: `mamori/react`'s <MamoriChallenge> rendered for the order
// and dropped when the shopper leaves (see ../frameworks/shop.js). Built by esbuild with React's
// development build and under <StrictMode>, which mounts, unmounts and mounts every effect again
// at once: the page must still make one device check per purchase.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MamoriChallenge } from 'mamori/react';

import { startShop } from '../frameworks/shop.js';

const root = createRoot(document.querySelector('[data-shop=widget]'));

startShop((order) =>
  root.render(
    <StrictMode>
      <section data-shop="route">
        {order && (
          <MamoriChallenge
            key={order.authentication}
            verifier={order.verifier}
            authentication={order.authentication}
            clientSecret={order.clientSecret}
            mode="dialog"
            theme={order.theme}
            data-shop="mamori"
            onReady={order.on.ready}
            onChallenge={order.on.challenge}
            onResend={order.on.resend}
            onResult={order.on.result}
            onError={order.on.error}
            onExpired={order.on.expired}
            onCancel={order.on.cancel}
          />
        )}
      </section>
    </StrictMode>,
  ),
);
