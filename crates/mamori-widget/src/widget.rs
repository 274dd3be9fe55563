//! The flow of one mounted widget: device step, then (if asked) the challenge with its code
//! entry, resend, cancel and countdowns, until a result or `destroy`.
//!
//! State lives in one `Rc<Widget>`. Callbacks registered with the browser hold only a `Weak` to
//! it, so the widget is owned by its `Handle` alone and nothing keeps it alive in a cycle;
//! requests in flight hold an `Rc` until they resume and then stop at the `destroyed` flag.
//! No `RefCell` borrow is held across an `await` or while an event is dispatched, because a
//! merchant's listener may call back into the widget (typically `destroy`) synchronously.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use mamori_core::otp;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

use crate::api::{Api, ApiError, Challenge, DeviceOutcome, Finished, Timing, VerifyOutcome};
use crate::device;
use crate::events::{self, CANCEL, CHALLENGE, ERROR, EXPIRED, READY, RESEND, RESULT};
use crate::guard::Interval;
use crate::js;
use crate::key::{self, Registration};
use crate::options::Options;
use crate::texts::{self, Texts};
use crate::transport::Transport;
use crate::ui::{self, Action, Controls, Listening, Tone, Ui};

/// How often the countdowns are redrawn, in milliseconds.
const TICK_MS: i32 = 1000;

/// Where the widget reads the time for its countdowns.
#[derive(Clone)]
pub(crate) enum Clock {
    /// The browser's: `Date.now()`.
    System,
    /// Milliseconds since the epoch as a browser test sets them, so a countdown is checked at
    /// exact instants rather than against real time with a margin. Only the browser tests
    /// (wasm32) set one; a native test build would leave it unused.
    #[cfg(test)]
    #[cfg(target_arch = "wasm32")]
    Manual(Rc<Cell<f64>>),
}

impl Clock {
    /// Milliseconds since the Unix epoch, as `Date.now()` counts.
    fn now(&self) -> f64 {
        match self {
            Self::System => js_sys::Date::now(),
            #[cfg(test)]
            #[cfg(target_arch = "wasm32")]
            Self::Manual(now) => now.get(),
        }
    }
}

/// One mounted widget.
pub(crate) struct Widget {
    host: Element,
    texts: &'static Texts,
    api: Api,
    /// The authentication's id, which the device key's proofs sign.
    authentication: String,
    /// Where the device token and the device key are stored: one of each per verifier host.
    device_key: String,
    /// The fresh device key sent with every code entry, made at the first one (`None` inside
    /// when this browser cannot make one); stored only when a code is accepted.
    registration: OnceCell<Option<Registration>>,
    ui: Ui,
    state: RefCell<State>,
    listeners: RefCell<Option<Listening>>,
    ticker: RefCell<Option<Interval>>,
    clock: Clock,
    destroyed: Cell<bool>,
}

/// Where the flow is.
#[derive(Default)]
struct State {
    /// Set during a challenge.
    challenge: Option<Challenge>,
    /// A request is in flight; every control that sends one is disabled meanwhile, which is
    /// what keeps a double click or a retry from submitting a code twice.
    busy: bool,
    /// The code's expiry was announced (it is announced once).
    expired: bool,
    /// A result was reached or a fatal error shown; nothing more is sent.
    over: bool,
}

impl Widget {
    /// Builds the UI in `host` and starts the device step (after the caller returns, so a
    /// listener it adds right after `mount` still sees `mamori:ready`). Requests wait and are
    /// tried again as `timing` says; countdowns read `clock`.
    ///
    /// # Errors
    ///
    /// When the DOM refuses to build the UI.
    pub(crate) fn start(
        host: &Element,
        options: &Options,
        transport: Box<dyn Transport>,
        timing: Timing,
        clock: Clock,
    ) -> Result<Rc<Self>, JsValue> {
        let texts = texts::choose(options.lang.as_deref(), &js::global());
        let ui = Ui::build(host, options.mode, texts, &options.theme)?;
        let widget = Rc::new(Self {
            host: host.clone(),
            texts,
            api: Api::new(transport, &options.authentication, timing),
            authentication: options.authentication.clone(),
            device_key: device::storage_key(&options.verifier),
            registration: OnceCell::new(),
            ui,
            state: RefCell::default(),
            listeners: RefCell::default(),
            ticker: RefCell::default(),
            clock,
            destroyed: Cell::new(false),
        });
        widget.listen();
        spawn_local(Rc::clone(&widget).device_step());
        Ok(widget)
    }

    /// Removes every node, listener and timer and abandons requests in flight. Idempotent.
    pub(crate) fn destroy(&self) {
        if self.destroyed.replace(true) {
            return;
        }
        self.api.abort();
        // Dropping the guards unregisters the callbacks.
        self.listeners.borrow_mut().take();
        self.ticker.borrow_mut().take();
        self.ui.remove();
    }

    fn listen(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let listening = self.ui.listen(move |action| {
            if let Some(widget) = weak.upgrade() {
                match action {
                    Action::Submit => widget.submit(),
                    Action::Resend => widget.resend(),
                    Action::Cancel => widget.cancel(),
                }
            }
        });
        *self.listeners.borrow_mut() = Some(listening);
    }

    async fn device_step(self: Rc<Self>) {
        self.emit(READY, &js_sys::Object::new());
        self.ui.announce(self.texts.checking, Tone::Info);
        let evidence = device::evidence(&self.device_key, &self.authentication).await;
        if self.destroyed.get() {
            return;
        }
        let outcome = self.api.device(&evidence).await;
        if self.destroyed.get() {
            return;
        }
        match outcome {
            Ok(DeviceOutcome::Finished(finished)) => {
                let tone = if finished.status == "Y" {
                    Some((self.texts.verified, Tone::Success))
                } else {
                    Some((self.texts.unavailable, Tone::Error))
                };
                self.finish(&finished, tone);
            }
            Ok(DeviceOutcome::Challenge(challenge)) => self.begin_challenge(challenge),
            // The API has already tried again where that was safe; without the device step the
            // widget has nothing to show. A retryable error tells the merchant that mounting
            // again later may work.
            Err(error) => self.report(&error, true),
        }
    }

    fn begin_challenge(self: &Rc<Self>, challenge: Challenge) {
        let detail = challenge_detail(&challenge);
        let intro = texts::fill(self.texts.sent_to, &[("email", &challenge.masked_email)]);
        ui::set_text(&self.ui.intro, &intro);
        self.state.borrow_mut().challenge = Some(challenge);
        self.ui.show_challenge();
        self.ui.announce(self.texts.code_sent, Tone::Info);
        let weak = Rc::downgrade(self);
        *self.ticker.borrow_mut() = Interval::new(TICK_MS, move || {
            if let Some(widget) = weak.upgrade() {
                widget.refresh();
            }
        });
        self.refresh();
        self.emit(CHALLENGE, &detail);
    }

    fn submit(self: &Rc<Self>) {
        if !self.can_send() {
            return;
        }
        let Ok(code) = otp::normalize(&self.ui.value()) else {
            // Not six digits: nothing is sent, so no attempt is spent.
            self.ui.set_invalid(true);
            self.ui.announce(self.texts.invalid_code, Tone::Error);
            return;
        };
        if self.state.borrow().expired {
            self.ui.announce(self.texts.expired, Tone::Error);
            return;
        }
        self.set_busy(true);
        self.ui.announce(self.texts.verifying, Tone::Info);
        let widget = Rc::clone(self);
        spawn_local(async move {
            let registration = widget.registration().await;
            if widget.destroyed.get() {
                return;
            }
            let device_key = registration.map(|r| &r.wire);
            let outcome = widget.api.verify(code.as_str(), device_key).await;
            if widget.destroyed.get() {
                return;
            }
            match outcome {
                Ok(VerifyOutcome::Authenticated(finished, device_token)) => {
                    // Token and key are replaced together: the key just registered is the one
                    // the new token's device is bound to.
                    if let Some(token) = device_token {
                        let pair = registration.map(|r| &r.pair);
                        key::replace(&widget.device_key, pair).await;
                        device::store(&widget.device_key, &token);
                        if widget.destroyed.get() {
                            return;
                        }
                    }
                    widget.set_busy(false);
                    widget.finish(&finished, Some((widget.texts.verified, Tone::Success)));
                }
                Ok(VerifyOutcome::WrongCode(left)) => {
                    widget.set_busy(false);
                    if let Some(challenge) = widget.state.borrow_mut().challenge.as_mut() {
                        challenge.attempts_left = Some(left);
                    }
                    widget.ui.clear_input();
                    widget.ui.set_invalid(true);
                    let text = texts::fill(widget.texts.wrong_code, &[("n", &texts::digits(left))]);
                    widget.ui.announce(&text, Tone::Error);
                    widget.ui.focus_input();
                }
                Ok(VerifyOutcome::Over(finished, expired)) => {
                    widget.set_busy(false);
                    if expired {
                        widget.emit(EXPIRED, &js_sys::Object::new());
                    }
                    let text = if expired {
                        widget.texts.expired
                    } else {
                        widget.texts.failed
                    };
                    widget.finish(&finished, Some((text, Tone::Error)));
                }
                // The code stays in the input and submit is enabled again, so the cardholder's
                // own "try again" sends it again. The widget never does that by itself: each
                // submission that reaches the verifier may cost an attempt.
                Err(error) => {
                    widget.set_busy(false);
                    widget.report(&error, false);
                }
            }
        });
    }

    /// The fresh device key for code entry: made at the first call, the same one afterwards.
    async fn registration(&self) -> Option<&Registration> {
        if self.registration.get().is_none() {
            let made = Registration::new(&self.authentication).await;
            // Only one code entry runs at a time (`busy`), so nothing set it meanwhile.
            let _ = self.registration.set(made);
        }
        self.registration.get().and_then(Option::as_ref)
    }

    fn resend(self: &Rc<Self>) {
        let cooling = self
            .state
            .borrow()
            .challenge
            .as_ref()
            .is_none_or(|c| c.resends_left == 0 || c.resend_available_at > self.clock.now());
        if cooling || !self.can_send() {
            return;
        }
        self.set_busy(true);
        let widget = Rc::clone(self);
        spawn_local(async move {
            let outcome = widget.api.resend().await;
            if widget.destroyed.get() {
                return;
            }
            widget.set_busy(false);
            match outcome {
                Ok(challenge) => {
                    let detail = challenge_detail(&challenge);
                    {
                        let mut state = widget.state.borrow_mut();
                        state.challenge = Some(challenge);
                        state.expired = false;
                    }
                    widget.ui.clear_input();
                    widget.ui.set_invalid(false);
                    widget.ui.announce(widget.texts.code_resent, Tone::Info);
                    widget.refresh();
                    widget.ui.focus_input();
                    widget.emit(RESEND, &detail);
                }
                Err(error) => {
                    if let Some(challenge) = widget.state.borrow_mut().challenge.as_mut() {
                        match &error {
                            ApiError::Refused {
                                retry_after: Some(seconds),
                                ..
                            } => {
                                challenge.resend_available_at =
                                    widget.clock.now() + f64::from(*seconds) * 1000.0;
                            }
                            ApiError::Refused { code, .. } if code == "resend_limit" => {
                                challenge.resends_left = 0;
                            }
                            _ => {}
                        }
                    }
                    widget.refresh();
                    widget.report(&error, false);
                }
            }
        });
    }

    fn cancel(self: &Rc<Self>) {
        if !self.can_send() {
            return;
        }
        self.set_busy(true);
        let widget = Rc::clone(self);
        spawn_local(async move {
            let outcome = widget.api.cancel().await;
            if widget.destroyed.get() {
                return;
            }
            widget.set_busy(false);
            match outcome {
                Ok(finished) => {
                    widget.emit(CANCEL, &result_detail(&finished));
                    widget.finish(&finished, Some((widget.texts.cancelled, Tone::Info)));
                }
                Err(error) => widget.report(&error, false),
            }
        });
    }

    /// Ends the flow with a result: stops the clock, closes the challenge, says `message` and
    /// raises `mamori:result`.
    fn finish(&self, finished: &Finished, message: Option<(&str, Tone)>) {
        self.state.borrow_mut().over = true;
        self.ticker.borrow_mut().take();
        self.ui.end_challenge();
        if let Some((text, tone)) = message {
            self.ui.announce(text, tone);
        }
        self.emit(RESULT, &result_detail(finished));
    }

    /// Shows an error and raises `mamori:error`. Errors the flow cannot continue after (and
    /// those the caller says are) are fatal and end it.
    fn report(&self, error: &ApiError, fatal: bool) {
        let (text, fatal) = match error.code() {
            "network" => (self.texts.network, fatal),
            "invalid_code" => (self.texts.invalid_code, fatal),
            "resend_cooldown" => (self.texts.resend_in, fatal),
            "resend_limit" => (self.texts.resend_limit, fatal),
            "origin_not_allowed" => (self.texts.origin_not_allowed, true),
            "authentication_finished" => (self.texts.finished, true),
            "unauthorized" => (self.texts.unavailable, true),
            _ => (self.texts.unavailable, fatal),
        };
        let seconds = match error {
            ApiError::Refused {
                retry_after: Some(seconds),
                ..
            } => texts::digits(*seconds),
            _ => String::new(),
        };
        let text = texts::fill(text, &[("n", &seconds)]);
        if fatal {
            self.state.borrow_mut().over = true;
            self.ticker.borrow_mut().take();
            self.ui.end_challenge();
        }
        self.refresh();
        self.ui.announce(&text, Tone::Error);
        let detail = events::error_detail(error.code(), &text, fatal, error.retryable());
        self.emit(ERROR, &detail);
    }

    /// Redraws the countdowns and enables exactly the controls that may be used now (every
    /// second while a challenge runs, and after each change).
    pub(crate) fn refresh(&self) {
        let now = self.clock.now();
        let announce_expiry = {
            let mut state = self.state.borrow_mut();
            let Some(challenge) = state.challenge.clone() else {
                return;
            };
            let left = seconds_until(challenge.expires_at, now);
            let countdown = texts::fill(self.texts.expires_in, &[("time", &texts::clock(left))]);
            let newly_expired = left == 0 && !state.expired && !state.over;
            state.expired |= left == 0;

            let cooldown = seconds_until(challenge.resend_available_at, now);
            let (resend_text, resend_open) = if challenge.resends_left == 0 {
                (self.texts.resend.to_owned(), false)
            } else if cooldown > 0 {
                let n = texts::digits(cooldown);
                (texts::fill(self.texts.resend_in, &[("n", &n)]), false)
            } else {
                (self.texts.resend.to_owned(), true)
            };
            let locked = state.busy || state.over;
            self.ui.render(&Controls {
                countdown: &countdown,
                resend: &resend_text,
                resend_open: !locked && resend_open,
                submit_open: !locked && !state.expired,
                cancel_open: !locked,
                busy: state.busy,
                locked,
            });
            newly_expired
        };
        if announce_expiry {
            self.ui.announce(self.texts.expired, Tone::Error);
            self.emit(EXPIRED, &js_sys::Object::new());
        }
    }

    fn can_send(&self) -> bool {
        let state = self.state.borrow();
        !self.destroyed.get() && !state.busy && !state.over && state.challenge.is_some()
    }

    fn set_busy(&self, busy: bool) {
        self.state.borrow_mut().busy = busy;
        self.refresh();
    }

    fn emit(&self, name: &str, detail: &JsValue) {
        if !self.destroyed.get() {
            events::emit(&self.host, name, detail);
        }
    }
}

/// Whole seconds from `now` until `at` (both in milliseconds), rounded up, never negative.
fn seconds_until(at: f64, now: f64) -> u32 {
    let seconds = ((at - now) / 1000.0).ceil();
    if seconds > 0.0 { seconds as u32 } else { 0 }
}

fn result_detail(finished: &Finished) -> JsValue {
    js::object([
        ("status", finished.status.as_str().into()),
        ("resultToken", finished.result_token.as_str().into()),
    ])
}

fn challenge_detail(challenge: &Challenge) -> JsValue {
    js::object([
        ("maskedEmail", challenge.masked_email.as_str().into()),
        ("expiresAt", (challenge.expires_at / 1000.0).into()),
        ("attemptsLeft", challenge.attempts_left.into()),
        ("resendsLeft", challenge.resends_left.into()),
    ])
}
