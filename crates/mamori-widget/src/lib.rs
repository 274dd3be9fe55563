//! The mamori widget: on a merchant's checkout page it proves the device (fingerprint and
//! stored device token) to the card issuer's verifier and, when the verifier asks for it, shows
//! the one-time-code challenge.
//!
//! JavaScript sees only [`mount`] and [`Handle`]; the script-tag loader and the
//! `<mamori-challenge>` element (`www/`) are built on them. Nothing runs until `mount` is
//! called.
//!
//! # Layout
//!
//! - `options`: the `mount` options, checked up front.
//! - `widget`: the flow of one mounted widget and its state.
//! - `ui`, `style.css`: the challenge's DOM in a Shadow DOM, and its stylesheet.
//! - `texts`: Japanese and English texts, and how the language is chosen.
//! - `events`: the `mamori:*` events raised on the merchant's element.
//! - `api`: the verifier's endpoints and their answers as Rust types; time limits and repeats.
//! - `transport`: the `Transport` trait and its `fetch` implementation.
//! - `device`: the device token in `localStorage` and the device step's evidence.
//! - `key`: the device key (WebCrypto, IndexedDB) and the proofs signed with it.
//! - `fingerprint`, `graphics`: the signals of the fingerprint schema.
//! - `guard`: event listeners and intervals removed on drop.
//! - `js`: reading and writing plain JavaScript objects.
//! - `browser_tests`: the flow and the fingerprint in headless Chromium, with a scripted transport.
//!
//! What the browser does natively is hand-written JavaScript beside them, imported through
//! wasm-bindgen (its `snippets/`, bundled into the script-tag loader and shipped in the npm
//! package): `ui.js` (building the DOM, listening, redrawing), `net.js` (`fetch`), `store.js`
//! (IndexedDB) and `signals.js` (the fingerprint's readings, idle callbacks). The WebAssembly
//! keeps the flow and what must agree with the verifier byte for byte: code normalisation,
//! component hashing, the fingerprint's wire form, the device key's messages and encodings, and
//! the strict reading of the verifier's answers.

mod api;
mod device;
mod events;
mod fingerprint;
mod graphics;
mod guard;
mod js;
mod key;
mod options;
mod texts;
mod transport;
mod ui;
mod widget;

// Two attributes, not `cfg(all(test, …))`: clippy's `allow-*-in-tests` (clippy.toml) sees a
// test module only by a plain `#[cfg(test)]`.
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
mod browser_tests;

use std::rc::Rc;

/// A free-list allocator of about a kilobyte instead of dlmalloc's five: the widget makes few,
/// small allocations, so dlmalloc's coalescing and size classes would only cost download size.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

use wasm_bindgen::prelude::*;

/// Mounts the widget in `element` and starts the authentication.
///
/// `options`: `{verifier, authentication, clientSecret, lang?, mode?: "inline" | "dialog",
/// theme?: "light" | "dark" | "auto" | {accent: "#006fcf", …}}`. Progress is reported by
/// `mamori:*` events on `element`.
///
/// # Errors
///
/// Throws a `TypeError` when `element` is not an element or an option is missing or malformed.
#[wasm_bindgen]
pub fn mount(element: JsValue, options: JsValue) -> Result<Handle, JsValue> {
    let element: web_sys::Element = element
        .dyn_into()
        .map_err(|_| js_sys::TypeError::new("mamori: mount needs an element"))?;
    let options =
        options::Options::from_js(&options).map_err(|message| js_sys::TypeError::new(&message))?;
    let transport = transport::Fetch::new(&options.verifier, &options.client_secret);
    let widget = widget::Widget::start(
        &element,
        &options,
        Box::new(transport),
        api::Timing::DEFAULT,
        widget::Clock::System,
    )?;
    Ok(Handle { widget })
}

/// A mounted widget. It stays alive until [`Handle::destroy`], even if the page drops the
/// handle.
#[wasm_bindgen]
pub struct Handle {
    widget: Rc<widget::Widget>,
}

#[wasm_bindgen]
impl Handle {
    /// Removes every node, listener and timer of the widget and abandons requests in flight.
    /// Calling it again does nothing.
    pub fn destroy(&self) {
        self.widget.destroy();
    }
}
