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
//! A backend that verifies many tokens with one key makes a verifier once and calls it: the
//! key is parsed and the HMAC keyed when it is made, so a call costs only the token's own work.
//!
//! ```js
//! import { createVerifier } from 'mamori/verify';
//!
//! const verifyResult = createVerifier(process.env.MAMORI_SECRET_KEY, { audience: 'm_shop' });
//! const claims = verifyResult(resultToken, {
//!   order: { authentication: 'au_…', reference: 'order-42', amount: 12800, currency: 'JPY' },
//! });
//! ```
//!
//! `createVerifier` is JavaScript (`www/npm/verify-call.js`) around this crate's [`Verifier`]:
//! it checks the call's options strictly, writes the token and order into the verifier's buffer
//! in wasm memory, and builds the claims object from what the verifier writes back (`exchange`
//! says why and how).
//!
//! A refused token throws an `Error` whose `code` is the stable snake_case code of
//! [`ResultError::code`](mamori_core::token::ResultError::code): one per broken rule
//! (`expired`, `authentication`, `amount`, `signature`, …), or `status` for a genuine token whose
//! status is not a success, which also carries the verified claims as `claims` (to log `status`
//! and `reason`); or `invalid_key` / `invalid_options` when the call itself is wrong.
//!
//! # Layout
//!
//! - `options`: the options objects and the key list, read strictly.
//! - `verify`: the verification itself, in plain Rust (unit-tested natively): a verifier keyed
//!   once, and the one-shot form built on it.
//! - `exchange`: the bytes a [`Verifier`]'s calls exchange through wasm memory.
//! - `failure`: what a refusal looks like from JavaScript.
//!
//! This crate is kept apart from the widget so the browser bundle never carries it.

mod exchange;
mod failure;
mod options;
mod verify;

use mamori_core::token::ResultClaims;
use wasm_bindgen::prelude::*;

use crate::failure::Failure;

/// Verifies a result token and returns its claims as a plain object: the bindings' own one-shot
/// form, for code that instantiates the wasm itself (`initSync`). The package's entries export
/// the `verifyResult` of `www/npm/verify-call.js` instead, built on [`Verifier`] and faster; both
/// take the same arguments and give the same answers.
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
        let options: options::Options = options::from_js(&options)?;
        let claims = verify::verify(token, &keys, &options, now_seconds())?;
        claims_to_js(&claims)
    };
    run().map_err(Failure::into_js)
}

/// A verifier keyed once with the merchant's secret keys, with the buffer its calls exchange
/// through (see `exchange`); `createVerifier` in `www/npm/verify-call.js` is how merchants make
/// and call one.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verifier {
    verifier: verify::Verifier,
    buffer: Box<[u8]>,
}

#[wasm_bindgen]
impl Verifier {
    /// Parses and keys `secret_keys` (a secret key string or an array of them) for `setup`,
    /// `{audience, leeway?, allowAttempted?}`.
    ///
    /// # Errors
    ///
    /// Throws `invalid_key` or `invalid_options`, as `verifyResult` would.
    #[wasm_bindgen(constructor)]
    pub fn new(secret_keys: JsValue, setup: JsValue) -> Result<Verifier, JsValue> {
        let run = || {
            let keys = options::secret_keys(&secret_keys)?;
            verify::Verifier::new(&keys, options::from_js(&setup)?)
        };
        let verifier = run().map_err(Failure::into_js)?;
        Ok(Self {
            verifier,
            buffer: vec![0; exchange::BYTES].into_boxed_slice(),
        })
    }

    /// Where the exchange buffer starts in the module's memory. It never moves: it is allocated
    /// once and never resized.
    pub fn buffer(&self) -> u32 {
        // wasm32 addresses are 32 bits.
        self.buffer.as_ptr() as usize as u32
    }

    /// Verifies the token and order JavaScript wrote into the buffer, given their byte
    /// lengths (no `authentication` length: no order), at `now` (seconds; the clock when
    /// absent), and on success writes the claims there for JavaScript to read.
    ///
    /// # Errors
    ///
    /// Throws as `verifyResult` does; `invalid_options` for a number that is not a
    /// non-negative whole number, or an order without its amount.
    pub fn verify(
        &mut self,
        token: u32,
        authentication: Option<u32>,
        reference: u32,
        currency: u32,
        amount: Option<f64>,
        now: Option<f64>,
    ) -> Result<(), JsValue> {
        let lengths = exchange::Lengths {
            token: token as usize,
            order: authentication.map(|a| [a as usize, reference as usize, currency as usize]),
        };
        let claims = exchange::input(&self.buffer, lengths)
            .ok_or_else(Failure::internal)
            .and_then(|input| {
                self.verifier
                    .call(input.token, input.order, amount, now, now_seconds)
            });
        self.answer(claims)
    }

    /// [`Self::verify`] for a token or order too long for the buffer, passed as strings (the
    /// profile then refuses the token as too long).
    ///
    /// # Errors
    ///
    /// As [`Self::verify`].
    #[wasm_bindgen(js_name = verifyStrings)]
    pub fn verify_strings(
        &mut self,
        token: &str,
        authentication: Option<String>,
        reference: Option<String>,
        currency: Option<String>,
        amount: Option<f64>,
        now: Option<f64>,
    ) -> Result<(), JsValue> {
        let order = match (&authentication, &reference, &currency) {
            (Some(a), Some(r), Some(c)) => Some([a.as_str(), r.as_str(), c.as_str()]),
            _ => None,
        };
        let claims = self.verifier.call(token, order, amount, now, now_seconds);
        self.answer(claims)
    }

    /// Writes the claims into the buffer, or throws the refusal.
    fn answer(&mut self, claims: Result<ResultClaims, Failure>) -> Result<(), JsValue> {
        let claims = claims.map_err(Failure::into_js)?;
        if exchange::output(&claims, &mut self.buffer) {
            Ok(())
        } else {
            Err(Failure::internal().into_js())
        }
    }
}

/// The module's memory, where JavaScript reads and writes a [`Verifier`]'s buffer.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The claims as a plain JavaScript object.
///
/// # Errors
///
/// `internal` if JavaScript refuses the JSON written here, which would be a bug.
fn claims_to_js(claims: &ResultClaims) -> Result<JsValue, Failure> {
    // Claims are plain strings and integers: serialising them into memory cannot fail, and the
    // JSON text is what `JSON.parse` then reads.
    let json = serde_json::to_string(claims).unwrap_or_default();
    js_sys::JSON::parse(&json).map_err(|_| Failure::internal())
}

/// The current time in whole seconds, from the JavaScript clock.
fn now_seconds() -> u64 {
    // `Date.now()` is a non-negative integer of milliseconds well inside u64.
    (js_sys::Date::now() / 1000.0) as u64
}
