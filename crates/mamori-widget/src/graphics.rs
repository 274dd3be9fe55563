//! The two graphics signals: a hash of a fixed canvas drawing, and the WebGL vendor and
//! renderer. Both depend on the GPU, driver and font stack, which is what makes them worth the
//! most in the schema, and both cost more than the other signals, so they are read last.
//!
//! Main-thread time is what they cost, so each does the least work that still gives a
//! trustworthy value: the canvas is drawn once, on a context kept in memory for reading back,
//! and read twice; the WebGL strings, which cannot change while the page lives, are read from
//! one context per page.

use std::cell::OnceCell;

use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::ImageData;

use crate::js;

/// `UNMASKED_VENDOR_WEBGL` and `UNMASKED_RENDERER_WEBGL` of `WEBGL_debug_renderer_info`.
const UNMASKED_VENDOR: u32 = 0x9245;
const UNMASKED_RENDERER: u32 = 0x9246;
/// WebGL's plain `VENDOR` and `RENDERER`.
const VENDOR: u32 = 0x1F00;
const RENDERER: u32 = 0x1F01;

/// The text drawn twice, in two fonts: Latin, kana and kanji, punctuation and an emoji exercise
/// different font fallbacks and rasterisers.
const TEXT: &str = "mamori 守り <canvas> 1.0 😃";

/// The hex SHA-256 of the drawing's pixels, if two read-backs of one drawing agree.
///
/// Browsers that resist fingerprinting add noise to read-backs, so two that differ mean the
/// value is noise and it is left absent: one component missing costs the device less trust than
/// a value that changes every time. Drawing once and reading twice catches that noise without
/// paying for a second drawing; `willReadFrequently` keeps the canvas in memory, where a
/// read-back is a copy rather than a round trip to the GPU.
pub(crate) fn canvas_hash(window: &JsValue) -> Option<String> {
    let document = js::prop(window, "document");
    let context = draw(&document).ok()?;
    let read = || -> Result<String, JsValue> {
        let image: ImageData = js::call(
            &context,
            "getImageData",
            &[0.into(), 0.into(), 240.into(), 60.into()],
        )?
        .unchecked_into();
        Ok(hex(&Sha256::digest(&image.data().0)))
    };
    let first = read().ok()?;
    (read().ok()? == first).then_some(first)
}

/// Draws the fixed picture on a fresh canvas; answers its 2D context.
fn draw(document: &JsValue) -> Result<JsValue, JsValue> {
    let canvas = js::call(document, "createElement", &["canvas".into()])?;
    js::set(&canvas, "width", &240.into());
    js::set(&canvas, "height", &60.into());
    let settings = js::object([("willReadFrequently", true.into())]);
    let context = js::call(&canvas, "getContext", &["2d".into(), settings])?;
    let draw = |method: &str, args: &[JsValue]| js::call(&context, method, args);
    let style = |name: &str, value: &str| js::set(&context, name, &value.into());
    style("textBaseline", "alphabetic");
    style("fillStyle", "#f60");
    draw("fillRect", &[100.into(), 1.into(), 62.into(), 20.into()])?;
    style("fillStyle", "#069");
    style("font", "15px 'Arial'");
    draw("fillText", &[TEXT.into(), 2.into(), 15.into()])?;
    style("fillStyle", "rgba(102, 204, 0, 0.7)");
    style("font", "18pt serif");
    draw("fillText", &[TEXT.into(), 4.into(), 45.into()])?;
    style("globalCompositeOperation", "multiply");
    for (x, color) in [(40, "#f2f"), (80, "#2ff"), (60, "#ff2")] {
        style("fillStyle", color);
        draw("beginPath", &[])?;
        let full_turn = core::f64::consts::TAU.into();
        draw(
            "arc",
            &[x.into(), 30.into(), 25.into(), 0.into(), full_turn],
        )?;
        draw("closePath", &[])?;
        draw("fill", &[])?;
    }
    Ok(context)
}

thread_local! {
    /// The WebGL strings, read once per page: creating a context is the costliest reading of
    /// all, and a second device step in the same page (a second `mount`) needs the same answer.
    static WEBGL: OnceCell<Option<(String, String)>> = const { OnceCell::new() };
}

/// The unmasked WebGL vendor and renderer, or the plain ones where the debug extension is
/// gone (recent Chromium reports the unmasked strings there); read once per page.
pub(crate) fn webgl(window: &JsValue) -> Option<(String, String)> {
    WEBGL.with(|cell| cell.get_or_init(|| read_webgl(window)).clone())
}

/// [`webgl`] from a new context, given back to the browser once read.
fn read_webgl(window: &JsValue) -> Option<(String, String)> {
    let document = js::prop(window, "document");
    let canvas = js::call(&document, "createElement", &["canvas".into()]).ok()?;
    let gl = js::call(&canvas, "getContext", &["webgl".into()]).ok()?;
    if !gl.is_object() {
        return None;
    }
    let extension = |name: &str| {
        js::call(&gl, "getExtension", &[name.into()])
            .ok()
            .filter(JsValue::is_object)
    };
    let (vendor, renderer) = if extension("WEBGL_debug_renderer_info").is_some() {
        (UNMASKED_VENDOR, UNMASKED_RENDERER)
    } else {
        (VENDOR, RENDERER)
    };
    let read = |name: u32| {
        js::call(&gl, "getParameter", &[name.into()])
            .ok()?
            .as_string()
    };
    let strings = read(vendor).zip(read(renderer));
    // Give the context back now rather than at garbage collection: browsers cap live contexts.
    if let Some(lose) = extension("WEBGL_lose_context") {
        let _ = js::call(&lose, "loseContext", &[]);
    }
    strings
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
