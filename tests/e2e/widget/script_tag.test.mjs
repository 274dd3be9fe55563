// The script-tag build (`target/www/mamori.js`, bundled and minified), which the other files
// here do not load: it loads its WebAssembly by its pinned hash, defines the element, and its
// fingerprint Worker, whose script is the minified source text of its functions, still runs.

import { test } from 'node:test';

import { inPage } from './support.mjs';

test('the minified script tag loads, mounts and fingerprints in its Worker', () =>
  inPage(async () => {
    const { h } = window;
    // Every message a Worker of the page posts.
    const posted = [];
    const Real = window.Worker;
    window.Worker = class extends Real {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (event) => posted.push(event.data));
      }
    };
    const script = document.createElement('script');
    // Nothing listens on port 2: the device step ends in a network error after its tries.
    script.dataset.verifier = 'http://127.0.0.1:2';
    script.src = '/www/mamori.js';
    await new Promise((resolve, reject) => {
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    h.ok(customElements.get('mamori-challenge'), 'the element is defined');
    const host = document.createElement('div');
    document.body.append(host);
    const errors = [];
    host.addEventListener('mamori:error', (event) => errors.push(event.detail));
    const handle = await window.mamori.mount(host, { authentication: 'au_1', clientSecret: 'cs_1' });
    for (let i = 0; i < 750 && errors.length === 0; i++) await h.sleep(20);
    h.eq(errors.map((e) => [e.code, e.fatal]), [['network', true]]);
    h.eq(posted.length, 1, 'one Worker answered');
    h.ok(/^[0-9a-f]{64}$/.test(posted[0].canvas), `the Worker hashed the canvas: ${JSON.stringify(posted[0])}`);
    handle.destroy();
    h.eq(host.childElementCount, 0);
  }));
