//! The two graphics signals: a hash of a fixed canvas drawing, and the WebGL vendor and
//! renderer. Both depend on the GPU, driver and font stack, which is what makes them worth the
//! most in the schema, and both cost more than the other signals, so they are read last.
//!
//! Main-thread time is what they cost, so each does the least work that still gives a
//! trustworthy value: the canvas is drawn once, on a context kept in memory for reading back,
//! and read twice; the WebGL strings, which cannot change while the page lives, are read from
//! one context per page.

use std::cell::OnceCell;

use js_sys::Uint8Array;
use sha2::{Digest, Sha256};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::js;

/// The hex SHA-256 of the drawing's pixels, if two read-backs of one drawing agree.
///
/// Browsers that resist fingerprinting add noise to read-backs, so two that differ mean the
/// value is noise and it is left absent: one component missing costs the device less trust than
/// a value that changes every time. Drawing once and reading twice catches that noise without
/// paying for a second drawing; `willReadFrequently` keeps the canvas in memory, where a
/// read-back is a copy rather than a round trip to the GPU.
pub(crate) fn canvas_hash(window: &JsValue) -> Option<String> {
    let context = draw_canvas(window);
    let read = || {
        let pixels = canvas_pixels(&context);
        pixels
            .is_object()
            .then(|| Uint8Array::new(&pixels).to_vec())
    };
    let first = read()?;
    // Compared before hashing: one SHA-256 of the pixels instead of two.
    (read()? == first).then(|| hex(&Sha256::digest(&first)))
}

#[wasm_bindgen(module = "/src/signals.js")]
extern "C" {
    /// The fixed picture drawn on a fresh canvas of `window`'s document: its 2D context, or
    /// `undefined`.
    #[wasm_bindgen(js_name = drawCanvas)]
    fn draw_canvas(window: &JsValue) -> JsValue;
    /// A read-back of the drawing as a `Uint8Array`, or `undefined`.
    #[wasm_bindgen(js_name = canvasPixels)]
    fn canvas_pixels(context: &JsValue) -> JsValue;
    /// `[vendor, renderer]` from a new WebGL context of `window`'s document, or `undefined`.
    #[wasm_bindgen(js_name = webgl)]
    fn read_webgl(window: &JsValue) -> JsValue;
}

thread_local! {
    /// The WebGL strings, read once per page: creating a context is the costliest reading of
    /// all, and a second device step in the same page (a second `mount`) needs the same answer.
    static WEBGL: OnceCell<Option<(String, String)>> = const { OnceCell::new() };
}

/// The unmasked WebGL vendor and renderer, or the plain ones where the debug extension is
/// gone (recent Chromium reports the unmasked strings there); read once per page.
pub(crate) fn webgl(window: &JsValue) -> Option<(String, String)> {
    WEBGL.with(|cell| {
        cell.get_or_init(|| {
            let strings = read_webgl(window);
            js::prop(&strings, "0")
                .as_string()
                .zip(js::prop(&strings, "1").as_string())
        })
        .clone()
    })
}

/// Lowercase hex, without going through `core::fmt`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|byte| {
            [
                DIGITS[usize::from(byte >> 4)],
                DIGITS[usize::from(byte & 15)],
            ]
        })
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
