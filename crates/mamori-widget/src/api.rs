//! The verifier's browser-facing API (docs/api.md): one method per endpoint, answers read into
//! Rust types so the flow never touches raw JSON.

use wasm_bindgen::JsValue;

use crate::js;
use crate::transport::{Reply, Transport};

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
}

/// The API of one authentication.
pub(crate) struct Api {
    transport: Box<dyn Transport>,
    /// `/v1/authentications/{id}`, the id URL-encoded.
    path: String,
}

impl Api {
    pub(crate) fn new(transport: Box<dyn Transport>, authentication: &str) -> Self {
        let id: String = js_sys::encode_uri_component(authentication).into();
        Self {
            transport,
            path: ["/v1/authentications/", &id].concat(),
        }
    }

    /// `POST …/device` with the fingerprint, device token and browser data in `body`.
    pub(crate) async fn device(&self, body: &JsValue) -> Result<DeviceOutcome, ApiError> {
        let reply = self.post("/device", body).await?;
        match js::string(&reply, "outcome").as_deref() {
            Some("frictionless" | "rejected") => finished(&reply).map(DeviceOutcome::Finished),
            Some("challenge") => {
                challenge(&js::prop(&reply, "challenge")).map(DeviceOutcome::Challenge)
            }
            _ => Err(ApiError::Malformed),
        }
    }

    /// `POST …/challenge/verify` with a code already normalised to six ASCII digits.
    pub(crate) async fn verify(&self, code: &str) -> Result<VerifyOutcome, ApiError> {
        let body = js::object([("code", code.into())]);
        let reply = self.post("/challenge/verify", &body).await?;
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
            .post("/challenge/resend", &js_sys::Object::new())
            .await?;
        challenge(&js::prop(&reply, "challenge"))
    }

    /// `POST …/cancel`.
    pub(crate) async fn cancel(&self) -> Result<Finished, ApiError> {
        finished(&self.post("/cancel", &js_sys::Object::new().into()).await?)
    }

    /// Abandons requests in flight.
    pub(crate) fn abort(&self) {
        self.transport.abort();
    }

    /// Sends `body` and returns the body of a 2xx answer.
    async fn post(&self, endpoint: &str, body: &JsValue) -> Result<JsValue, ApiError> {
        let text = js_sys::JSON::stringify(body)
            .ok()
            .and_then(|text| text.as_string())
            .ok_or(ApiError::Malformed)?;
        let path = [self.path.as_str(), endpoint].concat();
        let Reply { status, body } = self
            .transport
            .post(&path, text)
            .await
            .map_err(|_| ApiError::Network)?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let code = js::string(&body, "error").unwrap_or_else(|| {
            if status >= 500 {
                "server_error"
            } else {
                "bad_response"
            }
            .into()
        });
        Err(ApiError::Refused {
            status,
            code,
            retry_after: js::count(&body, "retry_after"),
        })
    }
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
