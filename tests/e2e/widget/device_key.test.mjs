// The device key in the flow: the proofs the widget sends verify (checked here with
// `crypto.subtle.verify` over the exact message bytes), the key is stored only once a code is
// accepted, and without IndexedDB or `crypto.subtle` the flow goes on with no proof and no key.

import { test } from 'node:test';

import { inPage } from './support.mjs';

// Installs `window.k`: the key helpers the tests share, in the page.
function helpers() {
  const { h } = window;
  const host = 'https://keys.test';
  const slot = h.device.storageKey(host);
  const bytes = (text) =>
    Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  window.k = {
    host,
    slot,
    token: () => localStorage.getItem(slot),
    // The pair stored for the verifier, if any.
    stored: () => h.store.exchange('get', [slot], 1000),
    // A key pair and a token stored, as a trusted browser holds them; the public key in
    // base64url.
    async trusted() {
      const made = await h.device.registration('setup');
      h.ok(made, 'headless Chromium has WebCrypto and IndexedDB');
      await h.device.replaceKey(slot, made.pair);
      h.ok((await window.k.stored())?.privateKey, 'the pair is stored');
      localStorage.setItem(slot, 'dt.stored');
      return made.wire.public_key;
    },
    // Whether `proof` is `publicKey`'s signature of the proof message for `purpose` and the
    // tests' authentication `au_test`; both in base64url, as on the wire.
    async verifies(publicKey, proof, purpose) {
      const curve = { name: 'ECDSA', namedCurve: 'P-256' };
      const key = await crypto.subtle.importKey('raw', bytes(publicKey), curve, true, ['verify']);
      const message = new TextEncoder().encode(`mamori-device-proof-v1\n${purpose}\nau_test`);
      return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, bytes(proof), message);
    },
    mount: (script) => h.mount({ script, verifier: host }),
    // `object[name]` redefined by `descriptor`; answers the function that restores it.
    shadow(object, name, descriptor) {
      const original = Object.getOwnPropertyDescriptor(object, name);
      Object.defineProperty(object, name, { configurable: true, ...descriptor });
      return () => (original ? Object.defineProperty(object, name, original) : delete object[name]);
    },
  };
}

test('code entry registers a fresh key, stored only once a code is accepted', () =>
  inPage(async (install) => {
    new Function(`(${install})()`)();
    const { h, k } = window;
    const script = new h.Script();
    script.reply(200, h.challengeJson(600, 30));
    const m = await k.mount(script);
    h.eq(m.script.body(0).device_proof, undefined, 'no token, no proof');

    m.script.reply(200, '{"outcome":"wrong_code","attempts_left":4}');
    await m.enter('111111');
    const registered = m.script.lastField('device_key');
    const { public_key: publicKey, proof } = registered;
    h.eq([publicKey.length, proof.length], [87, 86]);
    h.ok(await k.verifies(publicKey, proof, 'register'));
    h.ok(!(await k.verifies(publicKey, proof, 'device')), 'a registration is no device proof');
    h.eq(await k.stored(), undefined, 'nothing is kept after a wrong code');
    h.eq(k.token(), null);

    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('222222');
    await m.until('mamori:result');
    h.eq(m.script.lastField('device_key'), registered, 'one key per widget, sent again with the next code');
    h.eq(k.token(), 'dt.new');
    h.ok(await k.stored(), 'stored once authenticated');
    // The stored pair signs the next device step's proof: the one registered.
    const next = new h.Script();
    next.reply(200, h.FRICTIONLESS);
    const again = await k.mount(next);
    h.ok(await k.verifies(publicKey, again.script.body(0).device_proof, 'device'), 'the stored pair is the one registered');
    again.widget.destroy();
    m.widget.destroy();
  }, helpers.toString()));

test('the device step proves the stored key on every try', () =>
  inPage(async (install) => {
    new Function(`(${install})()`)();
    const { h, k } = window;
    const publicKey = await k.trusted();
    const script = new h.Script();
    script.fail();
    script.reply(200, h.FRICTIONLESS);
    const m = await k.mount(script);
    await m.until('mamori:result');
    h.eq(m.script.paths().length, 2, 'tried again after no answer');
    h.eq(m.script.body(0), m.script.body(1), 'the same proof, for the same authentication');
    const body = m.script.body(0);
    h.eq(body.device_token, 'dt.stored');
    h.eq(body.device_proof.length, 86);
    h.ok(await k.verifies(publicKey, body.device_proof, 'device'));
    h.ok(!(await k.verifies(publicKey, body.device_proof, 'register')));
    m.widget.destroy();

    // A key without its token proves nothing.
    localStorage.removeItem(k.slot);
    const bare = new h.Script();
    bare.reply(200, h.FRICTIONLESS);
    const without = await k.mount(bare);
    h.eq(without.script.body(0).device_proof, undefined);
    without.widget.destroy();
  }, helpers.toString()));

test('without IndexedDB the flow goes on with no proof and no key', () =>
  inPage(async (install) => {
    new Function(`(${install})()`)();
    const { h, k } = window;
    await k.trusted();
    // As where site data is blocked: the getter throws.
    const restore = k.shadow(window, 'indexedDB', {
      get() {
        throw new DOMException('blocked', 'SecurityError');
      },
    });
    const script = new h.Script();
    script.reply(200, h.challengeJson(600, 30));
    const m = await k.mount(script);
    h.eq(m.script.body(0).device_token, 'dt.stored');
    h.eq(m.script.body(0).device_proof, undefined);
    m.script.reply(200, '{"outcome":"wrong_code","attempts_left":4}');
    await m.enter('111111');
    h.eq(m.script.lastField('device_key'), undefined, 'a key this browser cannot keep is not registered');
    // Made once per widget: IndexedDB back, the next code still goes without a key.
    restore();
    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('123456');
    await m.until('mamori:result');
    h.eq(m.script.lastField('device_key'), undefined, 'one attempt at a key per widget');
    h.eq(m.detail('mamori:result', 'status'), 'Y');
    h.eq(k.token(), 'dt.new');
    h.eq(await k.stored(), undefined, 'the old key went with the old token');
    m.widget.destroy();
  }, helpers.toString()));

test('a wedged IndexedDB is given up on', () =>
  inPage(async (install) => {
    new Function(`(${install})()`)();
    const { h, k } = window;
    await k.trusted();
    // An `open` whose request never fires an event.
    const restore = k.shadow(window, 'indexedDB', { value: { open: () => ({}) } });
    const script = new h.Script();
    script.reply(200, h.challengeJson(600, 30));
    const m = await k.mount(script);
    await m.until('mamori:challenge');
    h.eq(m.script.body(0).device_proof, undefined);
    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('123456');
    await m.until('mamori:result');
    h.eq(m.script.lastField('device_key'), undefined);
    h.eq(k.token(), 'dt.new');
    restore();
    m.widget.destroy();
  }, helpers.toString()));

test('without crypto.subtle the flow goes on with no proof and no key', () =>
  inPage(async (install) => {
    new Function(`(${install})()`)();
    const { h, k } = window;
    await k.trusted();
    // As in an insecure context, where `crypto.subtle` is undefined.
    const restore = k.shadow(crypto, 'subtle', { value: undefined });
    const script = new h.Script();
    script.reply(200, h.challengeJson(600, 30));
    const m = await k.mount(script);
    h.eq(m.script.body(0).device_token, 'dt.stored');
    h.eq(m.script.body(0).device_proof, undefined);
    m.script.reply(200, h.AUTHENTICATED);
    await m.enter('123456');
    await m.until('mamori:result');
    h.eq(m.script.lastField('device_key'), undefined);
    h.eq(m.detail('mamori:result', 'status'), 'Y');
    restore();
    h.eq(k.token(), 'dt.new');
    h.eq(await k.stored(), undefined, 'the old key went with the old token');
    m.widget.destroy();
  }, helpers.toString()));
