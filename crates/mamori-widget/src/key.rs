//! The device key: a WebCrypto ECDSA P-256 key pair whose private key cannot be exported, kept
//! in IndexedDB (one pair per verifier host, under the device token's storage key), and the
//! proofs of possession signed with it, in the wire format of `mamori_core::device_key`.
//!
//! A script on the checkout page can read the device token from `localStorage` and replay it
//! elsewhere, but it can only ask this browser to sign with the key, never copy it out. The
//! pair is stored as the `CryptoKeyPair` object itself (structured clone), so the private key
//! never leaves the browser's key store.
//!
//! Everything fails soft: without `crypto.subtle` (an insecure context), without IndexedDB
//! (blocked site data, some private modes), or when an operation throws or is refused, there is
//! simply no key and no proof, and the verifier decides by the device token alone, as before
//! device keys. IndexedDB (db `mamori`, store `device-keys`, in `store.js`) is given
//! [`LIMIT_MS`] to open and answer, so a wedged database cannot stall the checkout.

use js_sys::{Array, Promise, Uint8Array};
use mamori_core::device_key::{self, PublicKey, Purpose, Signature};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::js;

/// How long one IndexedDB exchange (open, then read or write) may take, in milliseconds.
const LIMIT_MS: f64 = 1_000.0;

/// A fresh pair and the body member that registers it at code entry: `{public_key, proof}`.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) pair: Pair,
    pub(crate) wire: JsValue,
}

impl Registration {
    /// A fresh pair with its proof for the code entry of `authentication`, or `None` where
    /// WebCrypto is missing or refuses, or IndexedDB could not keep the pair.
    pub(crate) async fn new(authentication: &str) -> Option<Self> {
        // A key this browser could not keep would only be registered to be lost: the device
        // would then hold a token whose key it cannot prove.
        if !usable().await {
            return None;
        }
        let pair = Pair::generate().await?;
        let public_key = pair.public_key().await?;
        let proof = pair.prove(Purpose::Register, authentication).await?;
        let wire = js::object([("public_key", public_key.into()), ("proof", proof.into())]);
        Some(Self { pair, wire })
    }
}

/// A `CryptoKeyPair`: `{publicKey, privateKey}`, the private key non-extractable.
#[derive(Debug)]
pub(crate) struct Pair(JsValue);

impl Pair {
    async fn generate() -> Option<Self> {
        let algorithm = js::object([("name", "ECDSA".into()), ("namedCurve", "P-256".into())]);
        // `false`: the private key can never be exported; the public key of a pair always can.
        let usages = Array::of1(&"sign".into());
        let pair = subtle("generateKey", &[algorithm, false.into(), usages.into()]);
        let pair = pair.await.ok()?;
        Some(Self(pair))
    }

    /// The public key's wire form: the 65-byte uncompressed point in base64url.
    async fn public_key(&self) -> Option<String> {
        let raw = subtle("exportKey", &["raw".into(), js::prop(&self.0, "publicKey")]);
        let raw = raw.await.ok()?;
        let key = PublicKey::from_sec1(&bytes(&raw)?).ok()?;
        Some(key.to_base64url())
    }

    /// The proof for `purpose` at the authentication `authentication`, in its wire form: the
    /// 64-byte `r || s` signature of [`device_key::message`] in base64url.
    pub(crate) async fn prove(&self, purpose: Purpose, authentication: &str) -> Option<String> {
        let algorithm = js::object([("name", "ECDSA".into()), ("hash", "SHA-256".into())]);
        let message = device_key::message(purpose, authentication);
        let message: JsValue = Uint8Array::from(message.as_slice()).into();
        let private = js::prop(&self.0, "privateKey");
        let signature = subtle("sign", &[algorithm, private, message]).await.ok()?;
        let signature = Signature::from_p1363(&bytes(&signature)?).ok()?;
        Some(signature.to_base64url())
    }
}

/// The pair stored under `key`, if there is one and IndexedDB answers in time.
pub(crate) async fn load(key: &str) -> Option<Pair> {
    let pair = exchange("get", &[key.into()]).await?;
    // Anything else there (written by another version, or by a script) is no key.
    let private = js::prop(&pair, "privateKey");
    (js::prop(&private, "type").as_string().as_deref() == Some("private")).then_some(Pair(pair))
}

/// Puts `pair` under `key`, or deletes what is there when `pair` is `None`, so that the stored
/// key always belongs to the stored device token. Waits until the write is committed (or
/// failed, or out of time), so that a page leaving right after the result keeps it.
pub(crate) async fn replace(key: &str, pair: Option<&Pair>) {
    let (method, args) = match pair {
        Some(pair) => ("put", [pair.0.clone(), key.into()]),
        // `delete` takes the key alone and ignores the second argument.
        None => ("delete", [key.into(), JsValue::UNDEFINED]),
    };
    let _ = exchange(method, &args).await;
}

/// Whether IndexedDB works here: a read that answers in time.
async fn usable() -> bool {
    exchange("count", &[]).await.is_some()
}

#[wasm_bindgen(module = "/src/store.js")]
extern "C" {
    /// `method(...args)` on the object store in a transaction of its own: a promise of the
    /// request's result once committed, rejected on failure or after `limit` milliseconds.
    #[wasm_bindgen(js_name = exchange)]
    fn store_exchange(method: &str, args: Vec<JsValue>, limit: f64) -> Promise;
}

/// `method(...args)` on the object store, in a transaction of its own: the request's result
/// once the transaction has committed; `None` when IndexedDB is missing or fails, or when
/// opening and committing take more than [`LIMIT_MS`] together.
///
/// Reads and writes alike are one `readwrite` transaction whose commit is awaited: one path
/// for both. A purchase makes at most three: the read at the device step, and for a challenge
/// a probe that IndexedDB works before a key is registered and the write once it is accepted.
async fn exchange(method: &str, args: &[JsValue]) -> Option<JsValue> {
    let exchanged = store_exchange(method, args.to_vec(), LIMIT_MS);
    JsFuture::from(exchanged).await.ok()
}

/// `crypto.subtle[method](...args)`; fails where `crypto.subtle` is missing (an insecure
/// context), the call throws or its promise rejects.
fn subtle(method: &str, args: &[JsValue]) -> JsFuture {
    let subtle = js::prop(&js::prop(&js::global(), "crypto"), "subtle");
    let result = js::call(&subtle, method, args);
    JsFuture::from(result.map_or_else(|e| Promise::reject(&e), |r| Promise::resolve(&r)))
}

/// The bytes of `buffer`, if it is an `ArrayBuffer`.
fn bytes(buffer: &JsValue) -> Option<Vec<u8>> {
    buffer
        .is_instance_of::<js_sys::ArrayBuffer>()
        .then(|| Uint8Array::new(buffer).to_vec())
}
