//! Small readers and writers for plain JavaScript objects (options, JSON bodies, event details),
//! so the widget needs no JSON library of its own: the browser's `JSON` does the parsing.

use js_sys::{Number, Object, Reflect};
use wasm_bindgen::JsValue;

/// `object[name]`, or `undefined` when `object` is not an object or the getter throws.
pub(crate) fn prop(object: &JsValue, name: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[name]` if it is a string.
pub(crate) fn string(object: &JsValue, name: &str) -> Option<String> {
    prop(object, name).as_string()
}

/// `object[name]` if it is a number.
pub(crate) fn number(object: &JsValue, name: &str) -> Option<f64> {
    prop(object, name).as_f64()
}

/// `object[name]` if it is a non-negative whole number that fits a `u32`.
pub(crate) fn count(object: &JsValue, name: &str) -> Option<u32> {
    number(object, name)
        .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
        .map(|n| n as u32)
}

/// A plain object built from `(name, value)` pairs, in order.
pub(crate) fn object<const N: usize>(entries: [(&str, JsValue); N]) -> Object {
    let object = Object::new();
    for (name, value) in entries {
        set(&object, name, &value);
    }
    object
}

/// Sets `object[name] = value`.
pub(crate) fn set(object: &Object, name: &str, value: &JsValue) {
    // Defining a data property on a plain, extensible object cannot throw.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

/// `value` as JavaScript's `String(value)` writes it: the shortest decimal that reads back as
/// the same number. Used for fingerprint values so they match what any script would see.
pub(crate) fn decimal(value: f64) -> String {
    Number::from(value)
        .to_string_with_radix(10)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}
