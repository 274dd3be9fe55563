//! The verifier's browser-facing API (docs/api.md): one method per endpoint, answers read into
//! Rust types so the flow never touches raw JSON.
//!
//! # Surviving the network
//!
//! Every request has a time limit ([`Timing::timeout_ms`]); one that runs out counts as
//! [`ApiError::Network`], like a request that got no answer at all. Only the device step is
//! tried again, after a short wait, when it got no answer or a 502, 503 or 504: the verifier
//! answers a repeated device step with the challenge already running (no second code) or, once
//! the authentication is over, `authentication_finished`, so a repeat cannot mail a code twice
//! or decide twice. A code submission is never repeated by the widget, since each one may cost
//! the cardholder an attempt; nor is a resend (rate-limited) or a cancel. Those are repeated
//! only when the cardholder presses the button again.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::js;
use crate::transport::{Reply, Transport};

/// How long the widget waits for the verifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timing {
    /// The time limit of one request, in milliseconds.
    pub(crate) timeout_ms: f64,
    /// The waits before each further try of a request that is safe to repeat, in milliseconds;
    /// each is stretched or shortened by up to a quarter at random, so that browsers cut off
    /// together do not come back together.
    pub(crate) backoff_ms: [f64; 3],
}

impl Timing {
    /// 15 s per request (a slow mobile network still gets through; a dead one is reported in
    /// time for the cardholder to act), and three more tries after 0.5, 1 and 2 s.
    pub(crate) const DEFAULT: Self = Self {
        timeout_ms: 15_000.0,
        backoff_ms: [500.0, 1_000.0, 2_000.0],
    };
}

/// A challenge as the verifier describes it; times are in milliseconds since the epoch, as
/// `Date.now()` counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Challenge {
    pub(crate) masked_email: String,
    pub(crate) expires_at: f64,
    pub(crate) attempts_left: Option<u32>,
    pub(crate) resends_left: u32,
    pub(crate) resend_available_at: f64,
}

/// A final answer: the 3-D Secure status and the signed result token for the merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finished {
    pub(crate) status: String,
    pub(crate) result_token: String,
}

/// What the device step decided.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DeviceOutcome {
    /// Frictionless (`Y`) or rejected (`R`): nothing for the cardholder to do.
    Finished(Finished),
    /// A code was emailed.
    Challenge(Challenge),
}

/// What a code entry led to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum VerifyOutcome {
    /// Right code; the device token, when given, makes the next purchase frictionless.
    Authenticated(Finished, Option<String>),
    /// Wrong code; the cardholder may try again.
    WrongCode(u32),
    /// Out of attempts (`N`) or out of time (`U`); `true` when it was time.
    Over(Finished, bool),
}

/// Why a call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// No HTTP answer at all.
    Network,
    /// An error answer: its HTTP status, its stable `error` code and, for a cooldown, how many
    /// seconds to wait.
    Refused {
        status: u16,
        code: String,
        retry_after: Option<u32>,
    },
    /// A 200 answer that is not one of the documented shapes.
    Malformed,
}

impl ApiError {
    /// The code raised in `mamori:error` events.
    pub(crate) fn code(&self) -> &str {
        match self {
            Self::Network => "network",
            Self::Refused { code, .. } => code,
            Self::Malformed => "bad_response",
        }
    }

    /// Whether the same request may succeed later: no answer, a failure on the verifier's side
    /// (5xx) or a rate limit (429, such as a resend cooldown). A refusal of what was sent
    /// (wrong origin or secret, a finished authentication, a malformed code) never will.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Self::Network => true,
            Self::Refused { status, .. } => *status >= 500 || *status == 429,
            Self::Malformed => false,
        }
    }

    /// Whether an automatic repeat of a repeatable request is worth it now: no answer, or a
    /// proxy or load balancer in front of the verifier that could not reach it.
    fn transient(&self) -> bool {
        matches!(
            self,
            Self::Network
                | Self::Refused {
                    status: 502..=504,
                    ..
                }
        )
    }
}

/// The API of one authentication.
pub(crate) struct Api {
    transport: Box<dyn Transport>,
    /// `/v1/authentications/{id}`, the id URL-encoded.
    path: String,
    timing: Timing,
    /// Set by [`Api::abort`]: a request waiting to be tried again is not tried again.
    aborted: Cell<bool>,
}

impl Api {
    pub(crate) fn new(transport: Box<dyn Transport>, authentication: &str, timing: Timing) -> Self {
        let id: String = js_sys::encode_uri_component(authentication).into();
        Self {
            transport,
            path: ["/v1/authentications/", &id].concat(),
            timing,
            aborted: Cell::new(false),
        }
    }

    /// `POST …/device` with the fingerprint, device token and browser data in `body`.
    pub(crate) async fn device(&self, body: &JsValue) -> Result<DeviceOutcome, ApiError> {
        let reply = self.post("/device", body, true).await?;
        match js::string(&reply, "outcome").as_deref() {
            Some("frictionless" | "rejected") => finished(&reply).map(DeviceOutcome::Finished),
            Some("challenge") => {
                challenge(&js::prop(&reply, "challenge")).map(DeviceOutcome::Challenge)
            }
            _ => Err(ApiError::Malformed),
        }
    }

    /// `POST …/challenge/verify` with a code already normalised to six ASCII digits and, when
    /// the browser made one, the fresh device key to register (`{public_key, proof}`).
    pub(crate) async fn verify(
        &self,
        code: &str,
        device_key: Option<&JsValue>,
    ) -> Result<VerifyOutcome, ApiError> {
        let body = js::object([("code", code.into())]);
        if let Some(device_key) = device_key {
            js::set(&body, "device_key", device_key);
        }
        let reply = self.post("/challenge/verify", &body, false).await?;
        match js::string(&reply, "outcome").as_deref() {
            Some("authenticated") => Ok(VerifyOutcome::Authenticated(
                finished(&reply)?,
                js::string(&reply, "device_token"),
            )),
            Some("wrong_code") => js::count(&reply, "attempts_left")
                .map(VerifyOutcome::WrongCode)
                .ok_or(ApiError::Malformed),
            Some("failed") => Ok(VerifyOutcome::Over(finished(&reply)?, false)),
            Some("expired") => Ok(VerifyOutcome::Over(finished(&reply)?, true)),
            _ => Err(ApiError::Malformed),
        }
    }

    /// `POST …/challenge/resend`: a new code and the challenge that goes with it.
    pub(crate) async fn resend(&self) -> Result<Challenge, ApiError> {
        let reply = self
            .post("/challenge/resend", &js_sys::Object::new(), false)
            .await?;
        challenge(&js::prop(&reply, "challenge"))
    }

    /// `POST …/cancel`.
    pub(crate) async fn cancel(&self) -> Result<Finished, ApiError> {
        finished(
            &self
                .post("/cancel", &js_sys::Object::new().into(), false)
                .await?,
        )
    }

    /// Abandons requests in flight, and the tries still to come.
    pub(crate) fn abort(&self) {
        self.aborted.set(true);
        self.transport.abort();
    }

    /// Sends `body` and returns the body of a 2xx answer; a `repeatable` request is tried again
    /// (see the module docs).
    async fn post(
        &self,
        endpoint: &str,
        body: &JsValue,
        repeatable: bool,
    ) -> Result<JsValue, ApiError> {
        let text = js_sys::JSON::stringify(body)
            .ok()
            .and_then(|text| text.as_string())
            .ok_or(ApiError::Malformed)?;
        let path = [self.path.as_str(), endpoint].concat();
        let mut outcome = self.send(&path, &text).await;
        let waits: &[f64] = if repeatable {
            &self.timing.backoff_ms
        } else {
            &[]
        };
        for wait in waits {
            if !outcome.as_ref().is_err_and(ApiError::transient) {
                break;
            }
            let jitter = 0.75 + 0.5 * js_sys::Math::random();
            // `delay` cannot fail; the result says only that the wait is over.
            let _ = delay(wait * jitter).await;
            if self.aborted.get() {
                break;
            }
            outcome = self.send(&path, &text).await;
        }
        outcome
    }

    /// One try: the answer within the time limit, read into a body or an error.
    async fn send(&self, path: &str, text: &str) -> Result<JsValue, ApiError> {
        let mut reply = self.transport.post(path, text.to_owned());
        let mut limit = delay(self.timing.timeout_ms);
        // Whichever comes first, the answer or the end of the time limit. A request that runs
        // out is left to finish unheard: `destroy` still aborts it, and its answer is dropped.
        let Reply { status, body } = poll_fn(|cx| match reply.as_mut().poll(cx) {
            Poll::Ready(reply) => Poll::Ready(reply.map_err(|_| ApiError::Network)),
            Poll::Pending => Pin::new(&mut limit)
                .poll(cx)
                .map(|_| Err(ApiError::Network)),
        })
        .await?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let code = match js::string(&body, "error") {
            // Whatever a 5xx says (`internal`, `unavailable`, a proxy's page), it is a failure
            // on the verifier's side, and merchants get one code for it.
            _ if status >= 500 => "server_error".into(),
            Some(code) => code,
            None => "bad_response".into(),
        };
        Err(ApiError::Refused {
            status,
            code,
            retry_after: js::count(&body, "retry_after"),
        })
    }
}

/// A future that resolves after `millis` milliseconds. The timer is not cleared when the future
/// is dropped early: it then fires into a promise nobody waits for, which frees its callbacks.
fn delay(millis: f64) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, _| {
        // `setTimeout` exists wherever the widget can run.
        let _ = js::call(
            &js::global(),
            "setTimeout",
            &[resolve.into(), millis.into()],
        );
    }))
}

fn finished(reply: &JsValue) -> Result<Finished, ApiError> {
    Ok(Finished {
        status: js::string(reply, "status").ok_or(ApiError::Malformed)?,
        result_token: js::string(reply, "result_token").ok_or(ApiError::Malformed)?,
    })
}

fn challenge(value: &JsValue) -> Result<Challenge, ApiError> {
    let millis = |name| {
        js::number(value, name)
            .map(|seconds| seconds * 1000.0)
            .ok_or(ApiError::Malformed)
    };
    Ok(Challenge {
        masked_email: js::string(value, "masked_email").ok_or(ApiError::Malformed)?,
        expires_at: millis("expires_at")?,
        attempts_left: js::count(value, "attempts_left"),
        resends_left: js::count(value, "resends_left").unwrap_or(0),
        resend_available_at: millis("resend_available_at").unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::ApiError;

    fn refused(status: u16, code: &str) -> ApiError {
        ApiError::Refused {
            status,
            code: code.into(),
            retry_after: None,
        }
    }

    #[test]
    fn what_may_succeed_later_is_retryable() {
        assert!(ApiError::Network.retryable());
        assert!(refused(500, "server_error").retryable());
        assert!(refused(503, "server_error").retryable());
        assert!(refused(429, "resend_cooldown").retryable());
        for (status, code) in [
            (403, "origin_not_allowed"),
            (401, "unauthorized"),
            (409, "authentication_finished"),
            (409, "resend_limit"),
            (400, "invalid_code"),
        ] {
            assert!(!refused(status, code).retryable(), "{code}");
        }
        assert!(!ApiError::Malformed.retryable());
    }

    #[test]
    fn only_no_answer_and_gateway_failures_are_tried_again() {
        assert!(ApiError::Network.transient());
        for status in [502, 503, 504] {
            assert!(refused(status, "server_error").transient(), "{status}");
        }
        for status in [500, 429, 409] {
            assert!(!refused(status, "x").transient(), "{status}");
        }
        assert!(!ApiError::Malformed.transient());
    }
}
