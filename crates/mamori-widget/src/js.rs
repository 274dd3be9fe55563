//! Untyped access to JavaScript objects: properties, method calls, plain objects.
//!
//! The widget reads many browser properties and calls many methods once each. Through web-sys
//! every one of them is a separate import with its own glue function in the shipped JavaScript;
//! through these few helpers they all share `Reflect.get`, `Reflect.set` and `Reflect.apply`.
//! That keeps the download inside its budget, at the price of names in strings — which is why
//! the typed web-sys API is still used for the DOM operations the flow depends on.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// The global object (`window` on a page).
pub(crate) fn global() -> JsValue {
    js_sys::global().into()
}

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

/// `object[name] = value`; ignored where the property cannot be set.
pub(crate) fn set(object: &JsValue, name: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

/// `object[method](...args)`.
///
/// # Errors
///
/// What the method threw, or a `TypeError` when there is no such method.
pub(crate) fn call(object: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let function: Function = prop(object, method).unchecked_into();
    Reflect::apply(&function, object, &args.iter().collect::<Array>())
}

/// `new globalThis[name]()`, or `None` where there is no such constructor.
pub(crate) fn construct(name: &str) -> Option<JsValue> {
    let constructor: Function = prop(&global(), name).dyn_into().ok()?;
    Reflect::construct(&constructor, &Array::new()).ok()
}

/// A plain object built from `(name, value)` pairs, in order.
pub(crate) fn object<const N: usize>(entries: [(&str, JsValue); N]) -> JsValue {
    let object: JsValue = Object::new().into();
    for (name, value) in entries {
        set(&object, name, &value);
    }
    object
}
