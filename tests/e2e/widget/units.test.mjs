// The widget's small rules, in the page: options, languages and templates, which failures are
// retryable and which are tried again, and the device token's storage key.

import { test } from 'node:test';

import { inPage } from './support.mjs';

test('mount refuses a non-element and missing or malformed options, naming them', () =>
  inPage(async () => {
    const { h } = window;
    const host = document.createElement('div');
    const good = { verifier: 'https://v.test', authentication: 'au_1', clientSecret: 'cs_1' };
    const refused = (element, options) => {
      try {
        h.flow.mount(element, options).destroy();
      } catch (error) {
        h.ok(error instanceof TypeError, String(error));
        return error.message;
      }
      throw new h.AssertionError(`mounted with ${JSON.stringify(options)}`);
    };
    h.eq(refused({}, good), 'mamori: mount needs an element');
    h.eq(refused(host, { ...good, verifier: ' ' }), 'mamori: option `verifier` must be a non-empty string');
    h.eq(refused(host, { ...good, verifier: 'ftp://v.test' }), 'mamori: option `verifier` must be an http(s) URL');
    h.eq(refused(host, { ...good, clientSecret: 7 }), 'mamori: option `clientSecret` must be a non-empty string');
    h.eq(refused(host, { ...good, authentication: undefined }), 'mamori: option `authentication` must be a non-empty string');
    h.eq(refused(host, { ...good, mode: 'popup' }), 'mamori: option `mode` must be "inline" or "dialog"');
    h.ok(refused(host, { ...good, theme: 'blue' }).startsWith('mamori: option `theme` must be'));
    h.eq(refused(host, null), 'mamori: option `verifier` must be a non-empty string');
    h.eq(host.childElementCount, 0, 'nothing mounted');

    const handle = h.flow.mount(host, { ...good, theme: { accent: '#123456', 'bad name': 'x', radius: 4 } });
    h.eq(Object.keys(handle), ['destroy'], 'a handle is `destroy()` alone');
    const root = host.firstElementChild;
    h.eq(root.style.getPropertyValue('--mamori-accent'), '#123456');
    h.eq(root.getAttribute('style').split(';').filter(Boolean).length, 1, 'only plain names with string values');
    handle.destroy();
    const dark = h.flow.mount(host, { ...good, theme: 'dark', mode: 'dialog' });
    h.eq(host.firstElementChild.style.getPropertyValue('--mamori-color-scheme'), 'dark');
    dark.destroy();
  }));

test('languages by primary subtag, templates and the clock', () =>
  inPage(async () => {
    const { h } = window;
    const texts = await import('/pkg/widget/texts.js');
    h.eq(texts.choose('ja-JP').lang, 'ja');
    h.eq(texts.choose('EN_gb').lang, 'en');
    document.documentElement.lang = 'ja';
    h.eq(texts.choose('fr').lang, 'ja', 'then <html lang>');
    document.documentElement.lang = '';
    h.eq(texts.choose('fr').lang, 'en', 'then the browser (en-US)');
    h.eq(texts.fill(texts.choose('en').wrongCode, { n: 4 }), 'Wrong code, 4 tries left.');
    h.eq(texts.clock(599), '9:59');
    h.eq(texts.clock(61), '1:01');
    h.eq(texts.clock(0), '0:00');
  }));

test('what may succeed later is retryable; only no answer and gateway failures are tried again', () =>
  inPage(async () => {
    const { h } = window;
    const { Failure } = h.api;
    h.ok(new Failure('network').retryable);
    for (const status of [500, 503]) h.ok(new Failure('server_error', status).retryable, status);
    h.ok(new Failure('resend_cooldown', 429).retryable);
    for (const [status, code] of [
      [403, 'origin_not_allowed'],
      [401, 'unauthorized'],
      [409, 'authentication_finished'],
      [409, 'resend_limit'],
      [400, 'invalid_code'],
    ]) {
      h.ok(!new Failure(code, status).retryable, code);
    }
    h.ok(!new Failure('bad_response').retryable);
    h.ok(new Failure('network').transient);
    for (const status of [502, 503, 504]) h.ok(new Failure('server_error', status).transient, status);
    for (const status of [500, 429, 409]) h.ok(!new Failure('x', status).transient, status);
    h.ok(!new Failure('bad_response').transient);
  }));

test('one device token per verifier host', () =>
  inPage(async () => {
    const { h } = window;
    h.eq(h.device.storageKey('https://safekey.issuer.example:8443/base'), 'mamori.device.safekey.issuer.example:8443');
  }));
