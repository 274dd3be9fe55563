//! What a refusal looks like from JavaScript: an `Error` with a stable `code`, and the verified
//! claims as `claims` when a genuine token's status is not a success.

use mamori_core::token::{KeyError, ResultClaims, ResultError};
use wasm_bindgen::JsValue;

/// A refused call: a stable code for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The `code` property of the thrown error.
    pub(crate) code: &'static str,
    /// The error's message.
    pub(crate) message: String,
    /// The `claims` property: set only for code `status`, whose token passed every rule.
    pub(crate) claims: Option<Box<ResultClaims>>,
}

impl Failure {
    /// The call's options are not what [`crate::verify_result`] takes.
    pub(crate) fn options(message: impl Into<String>) -> Self {
        Self {
            code: "invalid_options",
            message: message.into(),
            claims: None,
        }
    }

    /// JavaScript refused to parse JSON this crate wrote; a bug, never the caller's fault.
    pub(crate) fn internal() -> Self {
        Self {
            code: "internal",
            message: "mamori: internal error".into(),
            claims: None,
        }
    }

    /// The JavaScript error to throw: `Error(message)` with `name` and `code` set, and `claims`
    /// (a plain object, as `verifyResult` returns on success) for a status refusal.
    pub(crate) fn into_js(self) -> JsValue {
        let error = js_sys::Error::new(&self.message);
        error.set_name("MamoriVerifyError");
        // Setting a property on a fresh `Error` object cannot fail.
        let _ = js_sys::Reflect::set(&error, &"code".into(), &self.code.into());
        if let Some(Ok(claims)) = self.claims.map(|claims| crate::claims_to_js(&claims)) {
            let _ = js_sys::Reflect::set(&error, &"claims".into(), &claims);
        }
        error.into()
    }
}

impl From<ResultError> for Failure {
    fn from(error: ResultError) -> Self {
        let message = format!("mamori: {error}");
        let code = error.code();
        let claims = match error {
            ResultError::Status(claims) => Some(claims),
            _ => None,
        };
        Self {
            code,
            message,
            claims,
        }
    }
}

impl From<KeyError> for Failure {
    fn from(error: KeyError) -> Self {
        // The message says what is wrong with the key's shape, never anything of its secret.
        Self {
            code: "invalid_key",
            message: format!("mamori: {error}"),
            claims: None,
        }
    }
}
