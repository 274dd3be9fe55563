//! The device token: kept in the merchant origin's `localStorage`, sent with the device step
//! together with a proof signed by the device key (`key`), replaced after each successful
//! challenge. Clearing site data removes it, and the next purchase is challenged, as with
//! SafeKey. Storage that is blocked or full fails soft: the cardholder is simply challenged.

use mamori_core::device_key::Purpose;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::fingerprint;
use crate::js;
use crate::key;

/// The storage key for tokens of the verifier at `verifier` (an http(s) URL): one per verifier
/// host, since a token is only meaningful to the verifier that signed it.
pub(crate) fn storage_key(verifier: &str) -> String {
    let host = verifier
        .split_once("://")
        .map_or(verifier, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    ["mamori.device.", host].concat()
}

/// The stored token, if any.
pub(crate) fn load(key: &str) -> Option<String> {
    js::call(&storage(), "getItem", &[key.into()])
        .ok()?
        .as_string()
}

/// Stores `token`, replacing the previous one.
pub(crate) fn store(key: &str, token: &str) {
    let _ = js::call(&storage(), "setItem", &[key.into(), token.into()]);
}

/// The body of the device step of `authentication`: the fingerprint, the stored token, the
/// device key's proof (only with a token, and only where the key is there and signs) and what
/// the browser says about its language, time zone and user agent.
pub(crate) async fn evidence(storage_key: &str, authentication: &str) -> JsValue {
    // Started first: the fingerprint is collected in idle time while IndexedDB answers.
    let collecting = fingerprint::page();
    let navigator = js::prop(&js::global(), "navigator");
    let language = js::string(&navigator, "language");
    let user_agent = js::string(&navigator, "userAgent");
    let browser_data = js::object([
        ("language", language.into()),
        ("timezone", fingerprint::time_zone().into()),
        ("user_agent", user_agent.into()),
    ]);
    let token = load(storage_key);
    let proof = match token {
        Some(_) => device_proof(storage_key, authentication).await,
        // A key without its token proves nothing the verifier could look up.
        None => None,
    };
    // The collection never rejects; `undefined` would only leave the fingerprint out.
    let wire = JsFuture::from(collecting).await.unwrap_or_default();
    let body = js::object([
        ("fingerprint", wire),
        ("device_token", token.into()),
        ("browser", browser_data),
    ]);
    if let Some(proof) = proof {
        js::set(&body, "device_proof", &proof.into());
    }
    body
}

/// The stored key's proof for the device step of `authentication`.
async fn device_proof(storage_key: &str, authentication: &str) -> Option<String> {
    let pair = key::load(storage_key).await?;
    pair.prove(Purpose::Device, authentication).await
}

/// `localStorage`, or `undefined` where site data is blocked (its getter throws there), which
/// makes every call on it fail soft.
fn storage() -> JsValue {
    js::prop(&js::global(), "localStorage")
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_key_per_verifier_host() {
        assert_eq!(
            super::storage_key("https://safekey.issuer.example:8443/base"),
            "mamori.device.safekey.issuer.example:8443"
        );
    }
}
