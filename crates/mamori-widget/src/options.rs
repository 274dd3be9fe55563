//! The options of `mount`, read from a plain JavaScript object and checked once, up front, so a
//! merchant's typo fails at `mount` with a message instead of half-way through a purchase.

use wasm_bindgen::{JsCast, JsValue};

use crate::js;

/// How the challenge is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In the page, inside the host element.
    Inline,
    /// In a modal `<dialog>` in the top layer, opened only when a challenge is needed.
    Dialog,
}

/// Validated `mount` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// The verifier's base URL, without a trailing slash.
    pub(crate) verifier: String,
    /// The authentication id the merchant's backend created (`au_…`).
    pub(crate) authentication: String,
    /// Its client secret (`cs_…`), scoped to this one authentication.
    pub(crate) client_secret: String,
    /// A language tag that overrides the page's.
    pub(crate) lang: Option<String>,
    pub(crate) mode: Mode,
    /// CSS custom properties to set, as `(--mamori-name, value)`.
    pub(crate) theme: Vec<(String, String)>,
}

impl Options {
    /// Reads `{verifier, authentication, clientSecret, lang?, mode?, theme?}`.
    ///
    /// `theme` is a colour scheme, `"light"`, `"dark"` or `"auto"` (the default: the
    /// cardholder's `prefers-color-scheme`), or maps names to CSS values: `{accent: "#006fcf"}`
    /// sets `--mamori-accent`.
    ///
    /// # Errors
    ///
    /// A sentence naming the first missing or malformed option.
    pub(crate) fn from_js(value: &JsValue) -> Result<Self, String> {
        let required = |name: &str| {
            js::string(value, name)
                .filter(|text| !text.trim().is_empty())
                .ok_or_else(|| ["mamori: option `", name, "` must be a non-empty string"].concat())
        };
        let verifier = required("verifier")?;
        let verifier = verifier.trim().trim_end_matches('/').to_owned();
        if !(verifier.starts_with("https://") || verifier.starts_with("http://")) {
            return Err("mamori: option `verifier` must be an http(s) URL".into());
        }
        let mode = match js::string(value, "mode").as_deref() {
            None | Some("inline") => Mode::Inline,
            Some("dialog") => Mode::Dialog,
            Some(_) => return Err("mamori: option `mode` must be \"inline\" or \"dialog\"".into()),
        };
        Ok(Self {
            verifier,
            authentication: required("authentication")?,
            client_secret: required("clientSecret")?,
            lang: js::string(value, "lang"),
            mode,
            theme: theme(&js::prop(value, "theme"))?,
        })
    }
}

/// A colour scheme as the custom property the stylesheet reads (`--mamori-color-scheme`, whose
/// default `light dark` follows the cardholder's preference), or the theme's entries whose names
/// are plain identifiers and whose values are strings.
fn theme(value: &JsValue) -> Result<Vec<(String, String)>, String> {
    if let Some(scheme) = value.as_string() {
        return match scheme.as_str() {
            "auto" => Ok(Vec::new()),
            "light" | "dark" => Ok(vec![("--mamori-color-scheme".into(), scheme)]),
            _ => Err(
                "mamori: option `theme` must be \"light\", \"dark\", \"auto\" or an \
                      object of custom properties"
                    .into(),
            ),
        };
    }
    if !value.is_object() {
        return Ok(Vec::new());
    }
    Ok(js_sys::Object::entries(value.unchecked_ref())
        .iter()
        .filter_map(|entry| {
            let name = js::prop(&entry, "0").as_string()?;
            let css = js::prop(&entry, "1").as_string()?;
            let plain =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            plain.then(|| (["--mamori-", &name].concat(), css))
        })
        .collect())
}
