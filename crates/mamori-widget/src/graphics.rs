//! The two graphics signals: a hash of a fixed canvas drawing, and the WebGL vendor and
//! renderer. Both depend on the GPU, driver and font stack, which is what makes them worth the
//! most in the schema, and both cost more than the other signals, so they are read last.

use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, WebGlRenderingContext, Window};

use crate::js;

/// `UNMASKED_VENDOR_WEBGL` and `UNMASKED_RENDERER_WEBGL` of `WEBGL_debug_renderer_info`.
const UNMASKED_VENDOR: u32 = 0x9245;
const UNMASKED_RENDERER: u32 = 0x9246;

/// The hex SHA-256 of the drawing's pixels, agreed by at least two of three renders.
///
/// Browsers that resist fingerprinting add noise to every read-back, so three renders that all
/// differ mean the value is noise and it is left absent; two that agree outvote a one-off
/// glitch. Renders stop early once `within_deadline` says time is up.
pub(crate) fn canvas_hash(window: &Window, within_deadline: &dyn Fn() -> bool) -> Option<String> {
    let document = window.document()?;
    let mut renders: Vec<String> = Vec::with_capacity(3);
    for _ in 0..3 {
        if !renders.is_empty() && !within_deadline() {
            break;
        }
        let hash = render(&document)?;
        if renders.contains(&hash) {
            return Some(hash);
        }
        renders.push(hash);
    }
    None
}

/// Draws the fixed picture on a fresh canvas and hashes its RGBA pixels.
fn render(document: &web_sys::Document) -> Option<String> {
    let canvas: HtmlCanvasElement = document.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(240);
    canvas.set_height(60);
    let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context.set_text_baseline("alphabetic");
    context.set_fill_style_str("#f60");
    context.fill_rect(100.0, 1.0, 62.0, 20.0);
    context.set_fill_style_str("#069");
    context.set_font("15px 'Arial'");
    context
        .fill_text("mamori 守り <canvas> 1.0 😃", 2.0, 15.0)
        .ok()?;
    context.set_fill_style_str("rgba(102, 204, 0, 0.7)");
    context.set_font("18pt serif");
    context
        .fill_text("mamori 守り <canvas> 1.0 😃", 4.0, 45.0)
        .ok()?;
    context.set_global_composite_operation("multiply").ok()?;
    for (x, color) in [(40.0, "#f2f"), (80.0, "#2ff"), (60.0, "#ff2")] {
        context.set_fill_style_str(color);
        context.begin_path();
        context
            .arc(x, 30.0, 25.0, 0.0, core::f64::consts::TAU)
            .ok()?;
        context.close_path();
        context.fill();
    }
    let pixels = context.get_image_data(0.0, 0.0, 240.0, 60.0).ok()?.data();
    Some(hex(&Sha256::digest(&pixels.0)))
}

/// The unmasked WebGL vendor and renderer, or the plain ones where the debug extension is
/// gone (recent Chromium reports the unmasked strings there).
pub(crate) fn webgl(window: &Window) -> Option<(String, String)> {
    let canvas: HtmlCanvasElement = window
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    let gl: WebGlRenderingContext = canvas.get_context("webgl").ok()??.dyn_into().ok()?;
    let unmasked = gl
        .get_extension("WEBGL_debug_renderer_info")
        .ok()
        .flatten()
        .is_some();
    let (vendor, renderer) = if unmasked {
        (UNMASKED_VENDOR, UNMASKED_RENDERER)
    } else {
        (
            WebGlRenderingContext::VENDOR,
            WebGlRenderingContext::RENDERER,
        )
    };
    let read = |name| gl.get_parameter(name).ok()?.as_string();
    let strings = read(vendor).zip(read(renderer));
    release(&gl);
    strings
}

/// Gives the context back now rather than at garbage collection: browsers cap live contexts.
fn release(gl: &WebGlRenderingContext) {
    let Some(extension) = gl.get_extension("WEBGL_lose_context").ok().flatten() else {
        return;
    };
    if let Ok(lose) = js::prop(&extension, "loseContext").dyn_into::<js_sys::Function>() {
        let _ = lose.call0(&JsValue::from(extension));
    }
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
