//! The two graphics signals: a hash of a fixed canvas drawing, and the WebGL vendor and
//! renderer. Both depend on the GPU, driver and font stack, which is what makes them worth the
//! most in the schema, and both cost more than all the other signals together: drawing text and
//! creating a WebGL context take milliseconds whatever the code does (without a GPU, about
//! 10 ms each in Chromium).
//!
//! So they are read in a dedicated Worker on an `OffscreenCanvas` ([`off_thread`]), where the
//! page's main thread only starts it and hashes its answer. Where no Worker runs (a Content
//! Security Policy without `worker-src blob:`, no `Worker`, no `OffscreenCanvas` in it) they are
//! read on the main thread ([`canvas_hash`], [`webgl`]) by the same JavaScript functions on the
//! same kind of canvas, so a device gives the same values on either path. Either way the canvas
//! is drawn once, on a context kept in memory for reading back, and read twice; the two
//! read-backs are compared and the pixels' SHA-256 is the canvas value, computed in the Worker
//! by `crypto.subtle` (hashing the 57,600 bytes is most of the canvas's cost after drawing) or
//! here on the main thread. The component hashing of that value stays in `mamori-core`.

use std::cell::OnceCell;

use js_sys::{Promise, Uint8Array};
use sha2::{Digest, Sha256};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::js;

#[wasm_bindgen(module = "/src/signals.js")]
extern "C" {
    /// Two read-backs of the fixed picture drawn on a fresh canvas, `[Uint8Array, Uint8Array]`,
    /// or `undefined`.
    #[wasm_bindgen(js_name = canvasReadBacks)]
    fn canvas_read_backs() -> JsValue;
    /// `[vendor, renderer]` from a new WebGL context, or `undefined`.
    #[wasm_bindgen(js_name = webgl)]
    fn read_webgl() -> JsValue;
    /// Starts reading both graphics signals in a dedicated Worker: a promise of its answer,
    /// read with [`from_worker`], or of `undefined` where no Worker answers within `timeout_ms`
    /// milliseconds. The main thread's part is making the Worker.
    #[wasm_bindgen(js_name = offThread)]
    pub(crate) fn off_thread(timeout_ms: u32) -> Promise;
}

/// The canvas hash and the WebGL strings in the Worker's answer; each `None` where the Worker
/// did not read it (or no Worker answered), and the main thread then reads it itself. The canvas
/// is `Some(None)` where the Worker found its read-backs noisy, which the main thread's would be
/// too: left out, as [`canvas_hash`] leaves it.
pub(crate) fn from_worker(answer: &JsValue) -> (Option<Option<String>>, Option<(String, String)>) {
    // The SHA-256 of the pixels in hex, as the Worker's `crypto.subtle` computed it, checked
    // for its form: it goes into the fingerprint as it is.
    let canvas = js::prop(answer, "canvas")
        .as_string()
        .and_then(|canvas| match canvas.as_str() {
            "noisy" => Some(None),
            digest
                if digest.len() == 64
                    && digest
                        .bytes()
                        .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Some(Some(canvas))
            }
            _ => None,
        });
    (canvas, strings(&js::prop(answer, "webgl")))
}

/// The hex SHA-256 of the drawing's pixels, if two read-backs of one drawing agree; read on the
/// main thread.
///
/// Browsers that resist fingerprinting add noise to read-backs, so two that differ mean the
/// value is noise and it is left absent: one component missing costs the device less trust than
/// a value that changes every time. Drawing once and reading twice catches that noise without
/// paying for a second drawing; `willReadFrequently` keeps the canvas in memory, where a
/// read-back is a copy rather than a round trip to the GPU.
pub(crate) fn canvas_hash() -> Option<String> {
    hash_if_steady(&canvas_read_backs())
}

/// `[first, second]` read-backs hashed if they are equal; compared before hashing, so one
/// SHA-256 of the pixels instead of two.
fn hash_if_steady(read_backs: &JsValue) -> Option<String> {
    let pixels = |index: &str| {
        let pixels = js::prop(read_backs, index);
        pixels
            .is_object()
            .then(|| Uint8Array::new(&pixels).to_vec())
    };
    let first = pixels("0")?;
    (pixels("1")? == first).then(|| hex(&Sha256::digest(&first)))
}

thread_local! {
    /// The WebGL strings read on the main thread, once per page: creating a context is the
    /// costliest reading of all, and cannot change its answer while the page lives.
    static WEBGL: OnceCell<Option<(String, String)>> = const { OnceCell::new() };
}

/// The unmasked WebGL vendor and renderer, or the plain ones where the debug extension is
/// gone (recent Chromium reports the unmasked strings there); read on the main thread, once per
/// page.
pub(crate) fn webgl() -> Option<(String, String)> {
    WEBGL.with(|cell| cell.get_or_init(|| strings(&read_webgl())).clone())
}

/// `[vendor, renderer]` as two strings, if both are.
fn strings(pair: &JsValue) -> Option<(String, String)> {
    js::prop(pair, "0")
        .as_string()
        .zip(js::prop(pair, "1").as_string())
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
