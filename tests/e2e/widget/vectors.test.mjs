// The WebAssembly's functions against mamori-core's golden vectors, through the packaged glue
// (`widget/mamori_widget.js`): code normalisation, and the device key's signed messages and
// wire encodings (the fingerprint's component hashes are in fingerprint.test.mjs).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { root } from '../support/env.mjs';
import { inPage } from './support.mjs';

const vectors = (name) =>
  JSON.parse(readFileSync(join(root, 'crates/mamori-core/tests/vectors', `${name}.json`), 'utf8')).cases;

test("codes are normalised as mamori-core's golden vectors say", () =>
  inPage(
    async (cases) => {
      const { h } = window;
      const { normalizeCode } = await import('/pkg/widget/mamori_widget.js');
      h.ok(cases.length > 20, 'the normalisation vectors');
      for (const c of cases) h.eq(normalizeCode(c.input), c.expect.ok, c.id);
      // A lone surrogate (which TextEncoder writes as U+FFFD) is no digit.
      h.eq(normalizeCode('123\uD800456'), undefined, 'lone surrogate');
    },
    vectors('otp').filter((c) => c.op === 'normalize'),
  ));

test("device-key messages and wire encodings agree with mamori-core's golden vectors", () =>
  inPage(
    async (cases) => {
      const { h } = window;
      const wasm = await import('/pkg/widget/mamori_widget.js');
      const bytes = (text) =>
        Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
      let verified = 0;
      for (const c of cases) {
        const key = bytes(c.public_key);
        const signature = bytes(c.signature);
        // 65 bytes with the uncompressed prefix come back as the vector wrote them (whether the
        // point is on the curve is the verifier's check); anything else is refused.
        const uncompressed = key.length === 65 && key[0] === 4;
        h.eq(wasm.publicKeyWire(key), uncompressed ? c.public_key : undefined, c.id);
        if (signature.length !== 64) h.eq(wasm.signatureWire(signature), undefined, c.id);
        else if (c.expect.ok || c.expect.error === 'signature') {
          h.eq(wasm.signatureWire(signature), c.signature, c.id);
          // The message bytes: WebCrypto verifies the vector's signature over them exactly when
          // mamori-core does.
          const publicKey = await crypto.subtle.importKey('raw', key, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
          const message = wasm.deviceKeyMessage(c.purpose === 'register', c.authentication_id);
          h.ok(message instanceof Uint8Array, 'the message is bytes');
          const valid = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, signature, message);
          h.eq(valid, c.expect.ok === true, c.id);
          verified += 1;
        }
      }
      h.eq(verified, 8, 'the vectors with a well-formed key and signature');
    },
    vectors('device_key').filter((c) => !c.signature.includes('=') && /^[A-Za-z0-9_-]*$/.test(c.signature + c.public_key)),
  ));
