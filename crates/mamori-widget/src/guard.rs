//! Owned browser callbacks: an event listener or an interval that is removed when its guard is
//! dropped, as gloo-events and gloo-timers do it.
//!
//! The widget keeps its timer in an [`Interval`] (and its controls' listeners in
//! `ui::Listening`), so that dropping the widget's state (which `Handle.destroy()` does)
//! unregisters all of them; nothing is ever leaked with `Closure::forget`. The browser tests
//! listen to the widget's events with a [`Listener`].

use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
use {
    wasm_bindgen::JsCast,
    web_sys::{Event, EventTarget},
};

use crate::js;

/// An event listener on `target`, removed on drop.
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
#[must_use = "the listener is removed as soon as its guard is dropped: keep the guard"]
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

#[cfg(test)]
#[cfg(target_arch = "wasm32")]
impl Listener {
    /// Registers `callback` for `kind` events on `target`.
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        callback: impl FnMut(Event) + 'static,
    ) -> Self {
        let callback = Closure::<dyn FnMut(Event)>::new(callback);
        // Only a non-callable listener makes this throw, and a `Closure` is always callable.
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Self {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

#[cfg(test)]
#[cfg(target_arch = "wasm32")]
impl Drop for Listener {
    fn drop(&mut self) {
        // Removing a listener that is registered cannot throw.
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// A `setInterval` timer, cleared on drop.
#[must_use = "the timer is cleared as soon as its guard is dropped: keep the guard"]
pub(crate) struct Interval {
    id: JsValue,
    // Kept alive for as long as the browser may call it; cleared before it is dropped.
    _callback: Closure<dyn FnMut()>,
}

impl Interval {
    /// Calls `callback` every `millis` milliseconds; `None` where there are no timers.
    // On the function too: `#[must_use]` on a type does not reach through the `Option`.
    #[must_use = "the timer is cleared as soon as its guard is dropped: keep the guard"]
    pub(crate) fn new(millis: i32, callback: impl FnMut() + 'static) -> Option<Self> {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let function: &JsValue = callback.as_ref();
        let id = js::call(
            &js::global(),
            "setInterval",
            &[function.clone(), millis.into()],
        )
        .ok()?;
        Some(Self {
            id,
            _callback: callback,
        })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        let _ = js::call(
            &js::global(),
            "clearInterval",
            std::slice::from_ref(&self.id),
        );
    }
}
