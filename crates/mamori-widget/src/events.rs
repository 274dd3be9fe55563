//! The `mamori:*` events the widget raises on the merchant's element.
//!
//! They bubble, so a page can listen on any ancestor. Every authentication that is not cut
//! short by a fatal error ends in exactly one `mamori:result`, whatever the way there
//! (frictionless, a code, too many wrong codes, expiry or cancel).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, Element};

use crate::js;

/// Raised once the widget is mounted and about to check the device.
pub(crate) const READY: &str = "mamori:ready";
/// A code was emailed and the challenge is shown.
pub(crate) const CHALLENGE: &str = "mamori:challenge";
/// A new code was emailed.
pub(crate) const RESEND: &str = "mamori:resend";
/// The authentication is over: `{status, resultToken}` for the merchant's backend.
pub(crate) const RESULT: &str = "mamori:result";
/// Something went wrong: `{code, message, fatal, retryable}`.
pub(crate) const ERROR: &str = "mamori:error";
/// The code (or the whole authentication) ran out of time.
pub(crate) const EXPIRED: &str = "mamori:expired";
/// The cardholder cancelled: `{status, resultToken}`, followed by `mamori:result`.
pub(crate) const CANCEL: &str = "mamori:cancel";

/// Dispatches `name` on `host` with `detail`.
pub(crate) fn emit(host: &Element, name: &str, detail: &JsValue) {
    let init = js::object([("bubbles", true.into()), ("detail", detail.clone())]);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, init.unchecked_ref()) {
        // The return value only says whether a listener called `preventDefault`.
        let _ = host.dispatch_event(&event);
    }
}

/// The detail of `mamori:error`. `retryable` says whether the same step may succeed later (see
/// `ApiError::retryable`), so a merchant knows whether to offer "try again" or give up.
pub(crate) fn error_detail(code: &str, message: &str, fatal: bool, retryable: bool) -> JsValue {
    js::object([
        ("code", code.into()),
        ("message", message.into()),
        ("fatal", fatal.into()),
        ("retryable", retryable.into()),
    ])
}
