//! The device key: a WebCrypto ECDSA P-256 key pair whose private key cannot be exported, kept
//! in IndexedDB (one pair per verifier host, under the device token's storage key), and the
//! proofs of possession signed with it (device-key wire format v1: the public key as the raw
//! 65-byte point, proofs as 64-byte `r || s` signatures, both unpadded base64url).
//!
//! A script on the checkout page can read the device token from `localStorage` and replay it
//! elsewhere, but it can only ask this browser to sign with the key, never copy it out. The
//! pair is stored as the `CryptoKeyPair` object itself (structured clone), so the private key
//! never leaves the browser's key store.
//!
//! Everything fails soft: without `crypto.subtle` (an insecure context), without IndexedDB
//! (blocked site data, some private modes), or when an operation throws or is refused, there is
//! simply no key and no proof, and the verifier decides by the device token alone, as before
//! device keys. IndexedDB is given [`LIMIT_MS`] to open and answer, so a wedged database cannot
//! stall the checkout.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::guard::Listener;
use crate::js;

/// How long one IndexedDB operation (open and read, or open and write) may take, in
/// milliseconds.
const LIMIT_MS: f64 = 1_000.0;

/// The IndexedDB database and its one object store, keyed by the device token's storage key.
const DATABASE: &str = "mamori";
const STORE: &str = "device-keys";

/// The wire format's version line, which starts every signed message.
const PROOF_VERSION: &str = "mamori-device-proof-v1";

/// The public key as `exportKey("raw")` gives it: `0x04 || X || Y`.
const PUBLIC_KEY_LEN: usize = 65;
/// A P-256 signature as WebCrypto gives it: `r || s` (IEEE P1363).
const SIGNATURE_LEN: usize = 64;

/// What a proof is for; it is the message's second line, so a proof made for one use is never
/// accepted for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// At the device step, by a browser that holds a device token and its key.
    Device,
    /// At code entry, with a fresh public key to be registered.
    Register,
}

/// A fresh pair and the body member that registers it at code entry: `{public_key, proof}`.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) pair: Pair,
    pub(crate) wire: JsValue,
}

impl Registration {
    /// A fresh pair with its proof for the code entry of `authentication`, or `None` where
    /// WebCrypto is missing or refuses.
    pub(crate) async fn new(authentication: &str) -> Option<Self> {
        // A key this browser could not keep would only be registered to be lost: the device
        // would then hold a token whose key it cannot prove.
        close(&open(js_sys::Date::now() + LIMIT_MS).await?);
        let pair = Pair::generate().await?;
        let public_key = pair.public_key().await?;
        let proof = pair.prove(Purpose::Register, authentication).await?;
        let wire = js::object([("public_key", public_key.into()), ("proof", proof.into())]);
        Some(Self { pair, wire })
    }
}

/// A `CryptoKeyPair`: `{publicKey, privateKey}`, the private key non-extractable.
#[derive(Debug, Clone)]
pub(crate) struct Pair(JsValue);

impl Pair {
    async fn generate() -> Option<Self> {
        let algorithm = js::object([("name", "ECDSA".into()), ("namedCurve", "P-256".into())]);
        // `false`: the private key can never be exported; the public key of a pair always can.
        let usages = Array::of1(&"sign".into());
        let pair = subtle("generateKey", &[algorithm, false.into(), usages.into()]).await?;
        Some(Self(pair))
    }

    /// The public key in base64url: the 65-byte uncompressed point.
    async fn public_key(&self) -> Option<String> {
        let raw = subtle("exportKey", &["raw".into(), js::prop(&self.0, "publicKey")]).await?;
        base64url_of(&raw, PUBLIC_KEY_LEN)
    }

    /// The proof for `purpose` and the authentication `authentication` in base64url: the
    /// 64-byte signature of `mamori-device-proof-v1\n<purpose>\n<authentication>`.
    pub(crate) async fn prove(&self, purpose: Purpose, authentication: &str) -> Option<String> {
        let purpose = match purpose {
            Purpose::Device => "device",
            Purpose::Register => "register",
        };
        let message = [PROOF_VERSION, "\n", purpose, "\n", authentication].concat();
        let algorithm = js::object([("name", "ECDSA".into()), ("hash", "SHA-256".into())]);
        let message: JsValue = Uint8Array::from(message.as_bytes()).into();
        let signature = subtle(
            "sign",
            &[algorithm, js::prop(&self.0, "privateKey"), message],
        )
        .await?;
        base64url_of(&signature, SIGNATURE_LEN)
    }
}

/// The pair stored under `key`, if there is one and IndexedDB answers in time.
pub(crate) async fn load(key: &str) -> Option<Pair> {
    let deadline = js_sys::Date::now() + LIMIT_MS;
    let database = open(deadline).await?;
    let request = transaction(&database, "readonly")
        .and_then(|store| js::call(&store, "get", &[key.into()]).ok());
    let read = match &request {
        Some(request) => done(request, "onsuccess", deadline).await,
        None => None,
    };
    close(&database);
    read?;
    let pair = js::prop(&request?, "result");
    // Anything else there (written by another version, or by a script) is no key.
    let private = js::prop(&pair, "privateKey");
    (js::prop(&private, "type").as_string().as_deref() == Some("private")).then_some(Pair(pair))
}

/// Puts `pair` under `key`, or deletes what is there when `pair` is `None`, so that the stored
/// key always belongs to the stored device token. Waits until the write is committed (or
/// failed, or out of time), so that a page leaving right after the result keeps it.
pub(crate) async fn replace(key: &str, pair: Option<&Pair>) {
    let deadline = js_sys::Date::now() + LIMIT_MS;
    let Some(database) = open(deadline).await else {
        return;
    };
    let written = transaction(&database, "readwrite").filter(|store| {
        let write = match pair {
            Some(pair) => js::call(store, "put", &[pair.0.clone(), key.into()]),
            None => js::call(store, "delete", &[key.into()]),
        };
        write.is_ok()
    });
    if let Some(store) = written {
        let _ = done(&js::prop(&store, "transaction"), "oncomplete", deadline).await;
    }
    close(&database);
}

/// The database, its object store made on first use.
async fn open(deadline: f64) -> Option<JsValue> {
    // `indexedDB`'s getter throws where site data is blocked; `prop` then gives `undefined`,
    // and the call fails.
    let factory = js::prop(&js::global(), "indexedDB");
    let request = js::call(&factory, "open", &[DATABASE.into(), 1.into()]).ok()?;
    let made = request.clone();
    // Kept until the open is over; dropping it removes the listener, even after a time-out.
    let _upgrade = Listener::new(request.unchecked_ref(), "upgradeneeded", move |_| {
        let _ = js::call(
            &js::prop(&made, "result"),
            "createObjectStore",
            &[STORE.into()],
        );
    });
    done(&request, "onsuccess", deadline).await?;
    Some(js::prop(&request, "result"))
}

/// The object store in a new transaction of `mode`.
fn transaction(database: &JsValue, mode: &str) -> Option<JsValue> {
    let transaction = js::call(database, "transaction", &[STORE.into(), mode.into()]).ok()?;
    js::call(&transaction, "objectStore", &[STORE.into()]).ok()
}

fn close(database: &JsValue) {
    let _ = js::call(database, "close", &[]);
}

/// Waits for `target` (a request or a transaction) to fire `handler`'s event; `None` when it
/// fires `error` or `abort` instead, or when `deadline` (`Date.now()` time) comes first.
///
/// The promise's own `resolve` and `reject` are the handlers, so no Rust closure outlives a
/// time-out; a settled promise ignores the calls that come later.
async fn done(target: &JsValue, handler: &str, deadline: f64) -> Option<()> {
    let waiting = Promise::new(&mut |resolve, reject| {
        js::set(target, handler, &resolve);
        js::set(target, "onerror", &reject);
        js::set(target, "onabort", &reject);
        let left = deadline - js_sys::Date::now();
        let _ = js::call(&js::global(), "setTimeout", &[reject.into(), left.into()]);
    });
    JsFuture::from(waiting).await.ok().map(drop)
}

/// `crypto.subtle[method](...args)`, awaited; `None` where `crypto.subtle` is missing (an
/// insecure context), the call throws or its promise rejects.
async fn subtle(method: &str, args: &[JsValue]) -> Option<JsValue> {
    let subtle = js::prop(&js::prop(&js::global(), "crypto"), "subtle");
    let result = js::call(&subtle, method, args).ok()?;
    JsFuture::from(Promise::resolve(&result)).await.ok()
}

/// `buffer` (an `ArrayBuffer`) in base64url, if it is `len` bytes long.
fn base64url_of(buffer: &JsValue, len: usize) -> Option<String> {
    if !buffer.is_instance_of::<js_sys::ArrayBuffer>() {
        return None;
    }
    let bytes = Uint8Array::new(buffer).to_vec();
    (bytes.len() == len).then(|| base64url(&bytes))
}

/// Unpadded base64url (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        // One more symbol than whole bytes: 1 byte → 2 symbols, 2 → 3, 3 → 4.
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64url;

    #[test]
    fn base64url_is_unpadded_and_url_safe() {
        // RFC 4648 §10's vectors, without their padding.
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), encoded);
        }
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(base64url(&[0; 65]).len(), 87);
        assert_eq!(base64url(&[0; 64]).len(), 86);
    }
}
