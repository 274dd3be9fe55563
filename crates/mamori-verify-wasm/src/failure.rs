//! What a refusal looks like from JavaScript: an `Error` with a stable `code`.

use mamori_core::token::{KeyError, TokenError};
use wasm_bindgen::JsValue;

/// A refused call: a stable code for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The `code` property of the thrown error.
    pub(crate) code: &'static str,
    /// The error's message.
    pub(crate) message: String,
}

impl Failure {
    /// The call's options are not what [`crate::verify_result`] takes.
    pub(crate) fn options(message: impl Into<String>) -> Self {
        Self {
            code: "invalid_options",
            message: message.into(),
        }
    }

    /// JavaScript refused to parse JSON this crate wrote; a bug, never the caller's fault.
    pub(crate) fn internal() -> Self {
        Self {
            code: "internal",
            message: "mamori: internal error".into(),
        }
    }

    /// The JavaScript error to throw: `Error(message)` with `name` and `code` set.
    pub(crate) fn into_js(self) -> JsValue {
        let error = js_sys::Error::new(&self.message);
        error.set_name("MamoriVerifyError");
        // Setting a property on a fresh `Error` object cannot fail.
        let _ = js_sys::Reflect::set(&error, &"code".into(), &self.code.into());
        error.into()
    }
}

impl From<TokenError> for Failure {
    fn from(error: TokenError) -> Self {
        Self {
            code: error.code(),
            message: format!("mamori: {error}"),
        }
    }
}

impl From<KeyError> for Failure {
    fn from(error: KeyError) -> Self {
        // The message says what is wrong with the key's shape, never anything of its secret.
        Self {
            code: "invalid_key",
            message: format!("mamori: {error}"),
        }
    }
}
