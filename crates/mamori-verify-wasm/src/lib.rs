//! Result-token verification for JavaScript: [`mamori_core::token::verify_result`], compiled to
//! WebAssembly and bound with wasm-bindgen, so a merchant's Node, edge or browser code checks a
//! token with exactly the code the verifier and Rust backends run.
//!
//! ```js
//! import { verifyResult } from 'mamori/verify';
//!
//! // `authentication` is the id your backend got from POST /v1/authentications for this order.
//! const claims = verifyResult(resultToken, process.env.MAMORI_SECRET_KEY, {
//!   audience: 'm_shop',
//!   order: { authentication: 'au_…', reference: 'order-42', amount: 12800, currency: 'JPY' },
//! });
//! // Only here, with status `Y` (or `A` with `allowAttempted: true`), capture the payment.
//! ```
//!
//! A refused token throws an `Error` whose `code` is the stable snake_case code of
//! [`ResultError::code`](mamori_core::token::ResultError::code): one per broken rule
//! (`expired`, `authentication`, `amount`, `signature`, …), or `status` for a genuine token whose
//! status is not a success, which also carries the verified claims as `claims` (to log `status`
//! and `reason`); or `invalid_key` / `invalid_options` when the call itself is wrong.
//!
//! # Layout
//!
//! - `options`: the options object and the key list, read strictly.
//! - `verify`: the verification itself, in plain Rust (unit-tested natively).
//! - `failure`: what a refusal looks like from JavaScript.
//!
//! This crate is kept apart from the widget so the browser bundle never carries it.

mod failure;
mod options;
mod verify;

use mamori_core::token::ResultClaims;
use wasm_bindgen::prelude::*;

/// Verifies a result token and returns its claims as a plain object.
///
/// `secret_keys` is a merchant secret key string (`mamori_sk.<kid>.<secret>`) or an array of
/// them (during a key rotation). `options` is `{audience, now?, leeway?, allowAttempted?,
/// order?: {authentication, reference, amount, currency}}`; `now` defaults to the current time
/// in seconds. Claims come back only for status `Y` (and `A` with `allowAttempted`).
///
/// # Errors
///
/// Throws an `Error` with a `code` property; see the crate docs.
#[wasm_bindgen(js_name = verifyResult)]
pub fn verify_result(
    token: &str,
    secret_keys: JsValue,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || {
        let keys = options::secret_keys(&secret_keys)?;
        let options = options::Options::from_js(&options)?;
        let claims = verify::verify(token, &keys, &options, now_seconds())?;
        claims_to_js(&claims)
    };
    run().map_err(failure::Failure::into_js)
}

/// The claims as a plain JavaScript object.
///
/// # Errors
///
/// `internal` if JavaScript refuses the JSON written here, which would be a bug.
fn claims_to_js(claims: &ResultClaims) -> Result<JsValue, failure::Failure> {
    // Claims are plain strings and integers: serialising them into memory cannot fail, and the
    // JSON text is what `JSON.parse` then reads.
    let json = serde_json::to_string(claims).unwrap_or_default();
    js_sys::JSON::parse(&json).map_err(|_| failure::Failure::internal())
}

/// The current time in whole seconds, from the JavaScript clock.
fn now_seconds() -> u64 {
    // `Date.now()` is a non-negative integer of milliseconds well inside u64.
    (js_sys::Date::now() / 1000.0) as u64
}
