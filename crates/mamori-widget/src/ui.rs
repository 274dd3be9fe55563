//! The challenge UI: its DOM inside a Shadow DOM, and the small updates the flow makes to it.
//! `ui.js` builds the tree, listens to its controls and redraws them; the flow calls it here.
//!
//! The shadow root hangs off a `<div data-mamori="root">` that the widget adds to the
//! merchant's element and removes on destroy, so mounting again on the same element works and
//! nothing of ours is left behind. Every node the merchant or a test may want carries a `part`
//! (for `::part()` styling) and a `data-mamori` attribute (a stable selector); the stylesheet
//! reads only `--mamori-*` custom properties, which inherit into the shadow tree from the page.

use js_sys::{Array, Function};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement};

use crate::js;
use crate::options::Mode;
use crate::texts::Texts;

/// The widget's stylesheet.
const STYLE: &str = include_str!("style.css");

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
    pub(crate) resend: HtmlElement,
    pub(crate) cancel: HtmlElement,
    /// The `aria-live` region every message goes to.
    pub(crate) status: HtmlElement,
    /// Every node, as `ui.js` answered them, for [`Ui::render`].
    nodes: Array,
}

#[wasm_bindgen(module = "/src/ui.js")]
extern "C" {
    /// `[root, frame, challenge, intro, form, code, submit, resend, cancel, countdown, status]`.
    #[wasm_bindgen(catch, js_name = build)]
    fn build_nodes(
        host: &Element,
        frame: &str,
        css: &str,
        texts: Vec<JsValue>,
        theme: Vec<JsValue>,
        max_length: i32,
    ) -> Result<Array, JsValue>;
    /// Listens to the controls, calling `action` with an [`Action`] number; answers the
    /// function that stops listening.
    #[wasm_bindgen(js_name = listen)]
    fn listen_nodes(
        form: &HtmlElement,
        resend: &HtmlElement,
        cancel: &HtmlElement,
        dialog: Option<&HtmlElement>,
        action: &Closure<dyn FnMut(u32)>,
    ) -> Function;
    #[wasm_bindgen(js_name = setText)]
    fn set_text_js(element: &HtmlElement, text: &str);
    #[wasm_bindgen(js_name = render)]
    #[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
    fn render_nodes(
        nodes: &Array,
        countdown: &str,
        resend: &str,
        resend_open: bool,
        submit_open: bool,
        cancel_open: bool,
        busy: bool,
        locked: bool,
    );
}

/// What the cardholder asked for, as `ui.js` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Submit,
    Resend,
    Cancel,
}

/// The controls' listeners; dropping it removes them.
#[must_use = "the listeners are removed as soon as this is dropped: keep it"]
pub(crate) struct Listening {
    stop: Function,
    // Kept alive for as long as the browser may call it; the listeners go first, on drop.
    _action: Closure<dyn FnMut(u32)>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.stop.call0(&JsValue::UNDEFINED);
    }
}

/// The state of the controls, as [`Ui::render`] draws it.
pub(crate) struct Controls<'a> {
    pub(crate) countdown: &'a str,
    pub(crate) resend: &'a str,
    pub(crate) resend_open: bool,
    pub(crate) submit_open: bool,
    pub(crate) cancel_open: bool,
    pub(crate) busy: bool,
    /// The input takes no typing: a request is in flight or the flow is over.
    pub(crate) locked: bool,
}

impl Ui {
    /// Builds the UI inside `host`, in `texts`' language, with `theme` set on the root.
    ///
    /// The tree is written as one HTML template by `ui.js`, which answers its nodes: far less
    /// code, and fewer imported DOM calls, than building it node by node from here, which
    /// matters for a widget that ships over the network.
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
        let frame = match mode {
            Mode::Inline => "div",
            Mode::Dialog => "dialog",
        };
        let words = [
            texts.lang,
            texts.title,
            texts.label,
            texts.submit,
            texts.resend,
            texts.cancel,
        ];
        let theme = theme
            .iter()
            .flat_map(|(name, value)| [name.into(), value.into()])
            .collect();
        let nodes = build_nodes(
            host,
            frame,
            STYLE,
            words.iter().map(|&w| w.into()).collect(),
            theme,
            MAX_INPUT,
        )?;
        let node = |index: u32| nodes.get(index).unchecked_into::<HtmlElement>();
        Ok(Self {
            root: node(0),
            dialog: (mode == Mode::Dialog).then(|| node(1)),
            challenge: node(2),
            intro: node(3),
            form: node(4),
            input: node(5),
            resend: node(7),
            cancel: node(8),
            status: node(10),
            nodes,
        })
    }

    /// Calls `action` for each of the cardholder's submits, resends and cancels, until the
    /// answer is dropped.
    pub(crate) fn listen(&self, mut action: impl FnMut(Action) + 'static) -> Listening {
        let action = Closure::<dyn FnMut(u32)>::new(move |code| {
            action(match code {
                0 => Action::Submit,
                1 => Action::Resend,
                _ => Action::Cancel,
            });
        });
        let stop = listen_nodes(
            &self.form,
            &self.resend,
            &self.cancel,
            self.dialog.as_ref(),
            &action,
        );
        Listening {
            stop,
            _action: action,
        }
    }

    /// Redraws the countdown and the controls.
    pub(crate) fn render(&self, controls: &Controls<'_>) {
        render_nodes(
            &self.nodes,
            controls.countdown,
            controls.resend,
            controls.resend_open,
            controls.submit_open,
            controls.cancel_open,
            controls.busy,
            controls.locked,
        );
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
    set_text_js(element, text);
}
