//! The challenge UI: its DOM inside a Shadow DOM, and the small updates the flow makes to it.
//!
//! The shadow root hangs off a `<div data-mamori="root">` that the widget adds to the
//! merchant's element and removes on destroy, so mounting again on the same element works and
//! nothing of ours is left behind. Every node the merchant or a test may want carries a `part`
//! (for `::part()` styling) and a `data-mamori` attribute (a stable selector); the stylesheet
//! reads only `--mamori-*` custom properties, which inherit into the shadow tree from the page.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement, ShadowRootInit, ShadowRootMode};

use crate::js;
use crate::options::Mode;
use crate::texts::Texts;

/// The widget's stylesheet.
const STYLE: &str = include_str!("style.css");

/// The frame's contents, after its opening tag name and up to its closing tag name. Texts are
/// set afterwards, as text, so nothing translated is ever parsed as HTML.
const TEMPLATE: &str = concat!(
    r#" part=frame data-mamori=frame aria-labelledby=mamori-title>"#,
    r#"<section part=challenge data-mamori=challenge hidden>"#,
    r#"<h2 part=title data-mamori=title id=mamori-title></h2>"#,
    r#"<p part=intro data-mamori=intro id=mamori-intro></p>"#,
    r#"<form part=form data-mamori=form novalidate>"#,
    r#"<label part=label data-mamori=label for=mamori-code></label>"#,
    r#"<input part=code data-mamori=code id=mamori-code type=text inputmode=numeric "#,
    r#"autocomplete=one-time-code autocapitalize=off spellcheck=false enterkeyhint=done "#,
    r#"aria-describedby="mamori-intro mamori-countdown">"#,
    r#"<button part=submit data-mamori=submit type=submit></button></form>"#,
    r#"<p part=countdown data-mamori=countdown id=mamori-countdown></p>"#,
    r#"<div part=actions data-mamori=actions>"#,
    r#"<button part=resend data-mamori=resend type=button></button>"#,
    r#"<button part=cancel data-mamori=cancel type=button></button></div></section>"#,
    r#"<p part=status data-mamori=status role=status aria-live=polite aria-atomic=true></p></"#,
);

/// The longest entry the input takes, the same bound `mamori_core::otp::normalize` reads.
const MAX_INPUT: i32 = mamori_core::otp::MAX_INPUT_CHARS as i32;

/// How a status message reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Info,
    Error,
    Success,
}

/// The nodes the flow updates.
pub(crate) struct Ui {
    /// Our child of the merchant's element, the shadow host.
    pub(crate) root: HtmlElement,
    /// The modal, in dialog mode.
    pub(crate) dialog: Option<HtmlElement>,
    /// Everything shown only during a challenge.
    pub(crate) challenge: HtmlElement,
    pub(crate) intro: HtmlElement,
    pub(crate) form: HtmlElement,
    pub(crate) input: HtmlElement,
    pub(crate) submit: HtmlElement,
    pub(crate) resend: HtmlElement,
    pub(crate) cancel: HtmlElement,
    pub(crate) countdown: HtmlElement,
    /// The `aria-live` region every message goes to.
    pub(crate) status: HtmlElement,
}

impl Ui {
    /// Builds the UI inside `host`, in `texts`' language, with `theme` set on the root.
    ///
    /// The tree is written as one HTML template and its nodes are then looked up by their
    /// `data-mamori` names: far less code, and fewer imported DOM calls, than building it node
    /// by node, which matters for a widget that ships over the network.
    ///
    /// # Errors
    ///
    /// When the DOM refuses an operation (a host that cannot have children).
    pub(crate) fn build(
        host: &Element,
        mode: Mode,
        texts: &Texts,
        theme: &[(String, String)],
    ) -> Result<Self, JsValue> {
        let document = host
            .owner_document()
            .ok_or_else(|| JsValue::from_str("mamori: element is not in a document"))?;
        let root: HtmlElement = document.create_element("div")?.unchecked_into();
        root.set_attribute("data-mamori", "root")?;
        root.set_attribute("lang", texts.lang)?;
        let style = js::prop(&root, "style");
        for (name, value) in theme {
            js::call(&style, "setProperty", &[name.into(), value.into()])?;
        }
        let shadow = root.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
        let frame = match mode {
            Mode::Inline => "div",
            Mode::Dialog => "dialog",
        };
        // A constructed stylesheet is not subject to the page's `style-src`, so a merchant's
        // strict CSP needs no 'unsafe-inline' for the widget; older browsers get a <style>.
        let adopted = js::construct("CSSStyleSheet").is_some_and(|sheet| {
            js::call(&sheet, "replaceSync", &[STYLE.into()]).is_ok()
                && js_sys::Reflect::set(
                    &shadow,
                    &"adoptedStyleSheets".into(),
                    &[sheet].iter().collect::<js_sys::Array>(),
                )
                .unwrap_or(false)
        });
        let (open, style, close) = if adopted {
            ("", "", "")
        } else {
            ("<style>", STYLE, "</style>")
        };
        let html = [open, style, close, "<", frame, TEMPLATE, frame, ">"].concat();
        js::set(&shadow, "innerHTML", &html.into());
        let find = |name: &str| {
            shadow
                .query_selector(&["[data-mamori=", name, "]"].concat())?
                .map(JsCast::unchecked_into::<HtmlElement>)
                .ok_or_else(|| JsValue::from_str("mamori: template node missing"))
        };
        for (name, text) in [
            ("title", texts.title),
            ("label", texts.label),
            ("submit", texts.submit),
            ("resend", texts.resend),
            ("cancel", texts.cancel),
        ] {
            set_text(&find(name)?, text);
        }
        let input = find("code")?;
        js::set(&input, "maxLength", &MAX_INPUT.into());
        host.append_child(&root)?;
        Ok(Self {
            dialog: (mode == Mode::Dialog).then(|| find("frame")).transpose()?,
            root,
            challenge: find("challenge")?,
            intro: find("intro")?,
            form: find("form")?,
            input,
            submit: find("submit")?,
            resend: find("resend")?,
            cancel: find("cancel")?,
            countdown: find("countdown")?,
            status: find("status")?,
        })
    }

    /// Shows the challenge (opening the dialog in dialog mode) and moves focus to the input.
    pub(crate) fn show_challenge(&self) {
        js::set(&self.challenge, "hidden", &false.into());
        if let Some(dialog) = &self.dialog {
            if !js::prop(dialog, "open").is_truthy() {
                // Throws only when the dialog is not connected; inline focus still works then.
                let _ = js::call(dialog, "showModal", &[]);
            }
        }
        self.focus_input();
    }

    /// Hides the challenge once the authentication is over.
    pub(crate) fn end_challenge(&self) {
        js::set(&self.challenge, "hidden", &true.into());
        self.close_dialog();
    }

    /// Puts `text` in the live region, where screen readers announce it.
    pub(crate) fn announce(&self, text: &str, tone: Tone) {
        let tone = match tone {
            Tone::Info => "info",
            Tone::Error => "error",
            Tone::Success => "success",
        };
        let _ = self.status.set_attribute("data-tone", tone);
        js::set(&self.status, "textContent", &text.into());
    }

    /// Marks the input as holding a refused code, or not.
    pub(crate) fn set_invalid(&self, invalid: bool) {
        let _ = if invalid {
            self.input.set_attribute("aria-invalid", "true")
        } else {
            self.input.remove_attribute("aria-invalid")
        };
    }

    /// What the cardholder typed, pasted or autofilled.
    pub(crate) fn value(&self) -> String {
        js::string(&self.input, "value").unwrap_or_default()
    }

    /// Empties the input, for the next code.
    pub(crate) fn clear_input(&self) {
        js::set(&self.input, "value", &"".into());
    }

    /// Moves focus to the input.
    pub(crate) fn focus_input(&self) {
        let _ = js::call(&self.input, "focus", &[]);
    }

    /// Takes the UI out of the page; the shadow tree goes with its host.
    pub(crate) fn remove(&self) {
        self.close_dialog();
        self.root.remove();
    }

    fn close_dialog(&self) {
        if let Some(dialog) = &self.dialog {
            let _ = js::call(dialog, "close", &[]);
        }
    }
}

/// Sets an element's text only when it changed, so a ticking countdown does not make screen
/// readers re-read a focused button every second.
pub(crate) fn set_text(element: &HtmlElement, text: &str) {
    if js::string(element, "textContent").as_deref() != Some(text) {
        js::set(element, "textContent", &text.into());
    }
}

/// Enables or disables a button.
pub(crate) fn set_disabled(button: &HtmlElement, disabled: bool) {
    js::set(button, "disabled", &disabled.into());
}
