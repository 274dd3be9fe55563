//! Owned browser callbacks: an event listener or an interval that is removed when its guard is
//! dropped, as gloo-events and gloo-timers do it.
//!
//! The widget keeps every callback it registers in one of these, so that dropping the widget's
//! state (which `Handle.destroy()` does) unregisters all of them; nothing is ever leaked with
//! `Closure::forget`.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventTarget};

/// An event listener on `target`, removed on drop.
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

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

impl Drop for Listener {
    fn drop(&mut self) {
        // Removing a listener that is registered cannot throw.
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// A `setInterval` timer, cleared on drop.
pub(crate) struct Interval {
    id: i32,
    // Kept alive for as long as the browser may call it; cleared before it is dropped.
    _callback: Closure<dyn FnMut()>,
}

impl Interval {
    /// Calls `callback` every `millis` milliseconds; `None` outside a window.
    pub(crate) fn new(millis: i32, callback: impl FnMut() + 'static) -> Option<Self> {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let id = web_sys::window()?
            .set_interval_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                millis,
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
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.id);
        }
    }
}
