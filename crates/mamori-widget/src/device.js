// The device: its token, its key and the device step's evidence.
//
// The device token is kept in the merchant origin's `localStorage`, sent with the device step
// together with a proof signed by the device key, and replaced after each successful challenge.
// Clearing site data removes it, and the next purchase is challenged, as with SafeKey. Storage
// that is blocked or full fails soft: the cardholder is simply challenged.
//
// The device key is a WebCrypto ECDSA P-256 key pair whose private key cannot be exported, kept
// in IndexedDB (one pair per verifier host, under the device token's storage key; `store.js`), as
// the `CryptoKeyPair` object itself (structured clone), so the private key never leaves the
// browser's key store. A script on the checkout page can read the device token and replay it
// elsewhere, but it can only ask this browser to sign with the key, never copy it out. The bytes
// signed and the wire encodings are `mamori-core`'s, from the WebAssembly.
//
// Everything fails soft: without `crypto.subtle` (an insecure context), without IndexedDB
// (blocked site data, some private modes), or when an operation throws or is refused, there is
// simply no key and no proof, and the verifier decides by the device token alone. IndexedDB is
// given `LIMIT_MS` to open and answer, so a wedged database cannot stall the checkout.

import { deviceKeyMessage, publicKeyWire, signatureWire } from './mamori_widget.js';
import { page, timeZone } from './signals.js';
import { exchange as storeExchange } from './store.js';

// How long one IndexedDB exchange (open, then read or write) may take, in milliseconds.
const LIMIT_MS = 1000;

// The storage key for tokens of the verifier at `verifier` (an http(s) URL): one per verifier
// host, since a token is only meaningful to the verifier that signed it.
export function storageKey(verifier) {
  const rest = verifier.includes('://') ? verifier.slice(verifier.indexOf('://') + 3) : verifier;
  return `mamori.device.${rest.split('/')[0]}`;
}

// `localStorage`'s getter throws where site data is blocked: every use fails soft.
const storage = (method, ...args) => {
  try {
    return localStorage[method](...args) ?? undefined;
  } catch {
    return undefined;
  }
};

// Stores `token` under `key`, replacing the previous one.
export const storeToken = (key, token) => storage('setItem', key, token);

// `method(...args)` on the object store, in a transaction of its own: `{result}` once committed,
// or `null` when IndexedDB is missing, fails or takes more than `LIMIT_MS`. A purchase makes at most three: the read at the device step, and
// for a challenge a probe that IndexedDB works before a key is registered and the write once it
// is accepted.
const exchange = (method, args) =>
  storeExchange(method, args, LIMIT_MS).then(
    (result) => ({ result }),
    () => null,
  );

// `crypto.subtle[method](...args)`; rejects where `crypto.subtle` is missing (an insecure
// context), the call throws or its promise rejects.
const subtle = async (method, ...args) => crypto.subtle[method](...args);

// The proof of `pair` for the device step (`register` false) or the registration at code entry
// (`register` true) of `authentication`, in its wire form; undefined where signing fails.
async function prove(pair, register, authentication) {
  try {
    const message = deviceKeyMessage(register, authentication);
    const signature = await subtle('sign', { name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, message);
    return signatureWire(new Uint8Array(signature));
  } catch {
    return undefined;
  }
}

// A fresh pair and the body member that registers it at code entry, `{pair, wire: {public_key,
// proof}}`; undefined where WebCrypto is missing or refuses, or IndexedDB could not keep the
// pair: a key this browser could not keep would only be registered to be lost, and the device
// would then hold a token whose key it cannot prove.
export async function registration(authentication) {
  if (!(await exchange('count', []))) return undefined;
  try {
    // `false`: the private key can never be exported; the public key of a pair always can.
    const pair = await subtle('generateKey', { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const publicKey = publicKeyWire(new Uint8Array(await subtle('exportKey', 'raw', pair.publicKey)));
    const proof = await prove(pair, true, authentication);
    return publicKey && proof ? { pair, wire: { public_key: publicKey, proof } } : undefined;
  } catch {
    return undefined;
  }
}

// Puts `pair` under `key`, or deletes what is there when `pair` is undefined, so that the stored
// key always belongs to the stored device token. Waits until the write is committed (or failed,
// or out of time), so that a page leaving right after the result keeps it.
export async function replaceKey(key, pair) {
  await (pair ? exchange('put', [pair, key]) : exchange('delete', [key]));
}

// The body of the device step of `authentication`: the fingerprint, the stored token, the device
// key's proof (only with a token, and only where the key is there and signs) and what the browser
// says about its language, time zone and user agent.
export async function evidence(key, authentication) {
  // Started first: the fingerprint is collected in idle time while IndexedDB answers.
  const collecting = page();
  let language;
  let userAgent;
  try {
    ({ language, userAgent } = navigator);
  } catch {}
  const token = storage('getItem', key);
  const body = {
    fingerprint: undefined,
    device_token: token,
    browser: { language, timezone: timeZone(), user_agent: userAgent },
  };
  // A key without its token proves nothing the verifier could look up.
  if (token !== undefined) {
    const stored = (await exchange('get', [key]))?.result;
    // Anything else there (written by another version, or by a script) is no key.
    if (stored?.privateKey?.type === 'private') {
      const proof = await prove(stored, false, authentication);
      if (proof) body.device_proof = proof;
    }
  }
  body.fingerprint = await collecting;
  return body;
}
