//! The options objects and the key list, read strictly: a misspelt member (`audiance`) is
//! refused rather than silently ignored, since ignoring `order` would skip the amount check.
//!
//! Two shapes: [`Setup`], what a pre-keyed verifier is made with (read once, by serde), and
//! [`Options`], the one-shot `verifyResult`'s setup and call in one object. A pre-keyed
//! verifier's per-call options are checked by its JavaScript half (`www/npm/verify-call.js`),
//! which hands this crate plain strings and numbers, and [`call_number`] here.

use mamori_core::token::{KeySet, SigningKey};
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::failure::Failure;

/// `{audience, leeway?, allowAttempted?}`: what a pre-keyed verifier keeps for every call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Setup {
    /// The merchant id the token must be for.
    pub(crate) audience: String,
    /// Clock tolerance in seconds; the core's default when absent.
    pub(crate) leeway: Option<u64>,
    /// Whether status `A` counts as a success; `false` when absent.
    #[serde(rename = "allowAttempted", default)]
    pub(crate) allow_attempted: bool,
}

/// `{audience, now?, leeway?, allowAttempted?, order?}` as JavaScript passes it to
/// `verifyResult`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Options {
    /// The merchant id the token must be for.
    pub(crate) audience: String,
    /// The time to verify at, in whole seconds since the Unix epoch; the clock when absent.
    pub(crate) now: Option<u64>,
    /// Clock tolerance in seconds; the core's default when absent.
    pub(crate) leeway: Option<u64>,
    /// Whether status `A` counts as a success; `false` when absent.
    #[serde(rename = "allowAttempted", default)]
    pub(crate) allow_attempted: bool,
    /// The order about to be captured, which the token must authenticate exactly.
    pub(crate) order: Option<Order>,
}

/// `{authentication, reference, amount, currency}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Order {
    /// The authentication id the merchant's backend created for the order (the token's `sub`).
    pub(crate) authentication: String,
    /// The merchant's order reference.
    pub(crate) reference: String,
    /// The amount in the currency's minor unit.
    pub(crate) amount: u64,
    /// The ISO 4217 alphabetic code.
    pub(crate) currency: String,
}

impl Options {
    /// What a verifier for this one call is made with.
    pub(crate) fn setup(&self) -> Setup {
        Setup {
            audience: self.audience.clone(),
            leeway: self.leeway,
            allow_attempted: self.allow_attempted,
        }
    }
}

/// Reads options of either shape from a JavaScript value, through its JSON text.
///
/// Going through `JSON.stringify` keeps the reading in serde (one strict parser for both the
/// native tests and JavaScript) at the cost of a copy of a few hundred bytes, paid once per
/// verifier, or once per one-shot call.
///
/// # Errors
///
/// `invalid_options` unless the value is an object of exactly the documented members.
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, Failure> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| Failure::options("mamori: options must be an object"))?;
    from_json(&text)
}

/// Reads options of either shape from their JSON text.
///
/// # Errors
///
/// `invalid_options`, with serde's description of the first problem.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::options(format!("mamori: options: {e}")))
}

/// A whole number of a call's options (`now`, an order's `amount`) as JavaScript passes it:
/// a non-negative integer no larger than `Number.MAX_SAFE_INTEGER`, so it is exact.
///
/// # Errors
///
/// `invalid_options`, naming the member.
pub(crate) fn call_number(value: f64, name: &str) -> Result<u64, Failure> {
    /// `Number.MAX_SAFE_INTEGER`: above it a JavaScript number may not be the one written.
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if value.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&value) {
        // Checked just above: a whole number in u64's range, so the cast is exact.
        Ok(value as u64)
    } else {
        Err(Failure::options(format!(
            "mamori: options: {name} must be a non-negative whole number"
        )))
    }
}
/// Reads a secret key string or an array of them.
///
/// # Errors
///
/// `invalid_key` for anything else, or when a string is not a secret key.
pub(crate) fn secret_keys(value: &JsValue) -> Result<Vec<String>, Failure> {
    let not_keys = || Failure {
        code: "invalid_key",
        message: "mamori: secret key must be a string or an array of strings".into(),
        claims: None,
    };
    if let Some(key) = value.as_string() {
        return Ok(vec![key]);
    }
    if !js_sys::Array::is_array(value) {
        return Err(not_keys());
    }
    js_sys::Array::from(value)
        .iter()
        .map(|key| key.as_string().ok_or_else(not_keys))
        .collect()
}

/// Builds the key set, refusing malformed keys and repeated key ids.
///
/// # Errors
///
/// `invalid_key`, naming what is wrong with the key's shape.
pub(crate) fn key_set(keys: &[String]) -> Result<KeySet, Failure> {
    let mut set = KeySet::new();
    for key in keys {
        set.insert(SigningKey::from_secret_key(key)?)?;
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_members() {
        let options = from_json::<Options>(
            r#"{"audience":"m_shop","now":1800000000,"allowAttempted":true,
                "order":{"authentication":"au_1","reference":"o-1","amount":12800,"currency":"JPY"}}"#,
        );
        assert_eq!(
            options,
            Ok(Options {
                audience: "m_shop".into(),
                now: Some(1_800_000_000),
                leeway: None,
                allow_attempted: true,
                order: Some(Order {
                    authentication: "au_1".into(),
                    reference: "o-1".into(),
                    amount: 12_800,
                    currency: "JPY".into(),
                }),
            })
        );
    }

    #[test]
    fn refuses_misspellings_and_fractions() {
        for bad in [
            r#"{"audiance":"m_shop"}"#,
            r#"{"audience":"m_shop","now":1800000000.5}"#,
            r#"{"audience":"m_shop","order":{"authentication":"au_1","reference":"o","amount":1,"currency":"JPY","x":1}}"#,
            r#"{"audience":"m_shop","order":{"authentication":"au_1","reference":"o","amount":-1,"currency":"JPY"}}"#,
            // An order without its authentication: an older call, refused rather than unbound.
            r#"{"audience":"m_shop","order":{"reference":"o","amount":1,"currency":"JPY"}}"#,
            r#"{"audience":"m_shop","allow_attempted":true}"#,
            r#"{"audience":"m_shop","allowAttempted":"yes"}"#,
            "{}",
            "[]",
        ] {
            let refused = from_json::<Options>(bad).err().map(|f| f.code);
            assert_eq!(refused, Some("invalid_options"), "{bad}");
        }
    }

    #[test]
    fn a_setup_has_no_call_members() {
        let setup = from_json::<Setup>(r#"{"audience":"m_shop","leeway":5,"allowAttempted":true}"#);
        assert_eq!(
            setup,
            Ok(Setup {
                audience: "m_shop".into(),
                leeway: Some(5),
                allow_attempted: true,
            })
        );
        // The time and the order belong to each call, not to the verifier.
        for bad in [
            r#"{"audience":"m_shop","now":1800000000}"#,
            r#"{"audience":"m_shop","order":{"authentication":"au_1","reference":"o","amount":1,"currency":"JPY"}}"#,
            r#"{"audience":"m_shop","leeway":-1}"#,
            r#"{"leeway":5}"#,
        ] {
            let refused = from_json::<Setup>(bad).err().map(|f| f.code);
            assert_eq!(refused, Some("invalid_options"), "{bad}");
        }
    }

    #[test]
    fn call_numbers_are_exact_whole_numbers() {
        assert_eq!(call_number(0.0, "now").ok(), Some(0));
        assert_eq!(call_number(12_800.0, "amount").ok(), Some(12_800));
        assert_eq!(
            call_number(9_007_199_254_740_991.0, "amount").ok(),
            Some(9_007_199_254_740_991)
        );
        for bad in [-1.0, 0.5, 9_007_199_254_740_992.0, f64::NAN, f64::INFINITY] {
            let refused = call_number(bad, "amount").err().map(|f| f.code);
            assert_eq!(refused, Some("invalid_options"), "{bad}");
        }
    }

    #[test]
    fn key_sets_refuse_malformed_and_repeated_keys() {
        let key = mamori_core::token::encode_secret_key("k1", &[7; 32]);
        assert_eq!(
            key_set(std::slice::from_ref(&key)).map(|s| s.len()).ok(),
            Some(1)
        );
        let twice = key_set(&[key.clone(), key]).err().map(|f| f.code);
        assert_eq!(twice, Some("invalid_key"));
        let malformed = key_set(&["sk_live_123".into()]).err().map(|f| f.code);
        assert_eq!(malformed, Some("invalid_key"));
    }
}
