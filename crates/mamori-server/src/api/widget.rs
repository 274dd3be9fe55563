//! The widget's routes: the device step and the challenge, authenticated by the
//! authentication's `client_secret` and the page's `Origin`.
//!
//! [`gate`] runs before every handler here: it checks the secret (hashed, compared in constant
//! time) and the origin against the merchant's list, hands the loaded rows to the handler, and
//! adds the CORS headers to whatever the handler answers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mamori_core::fingerprint::{Browser, Fingerprint};
use mamori_core::otp;
use mamori_core::token::{Method, Reason, TransStatus};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::extract::{Empty, JsonBody, bearer};
use super::merchant::expire_if_due;
use crate::error::ApiError;
use crate::mail::templates::{Alert, PurchaseFacts, alert_mail, code_mail};
use crate::model::{
    Authentication, Cardholder, Device, Merchant, NewMail, SandboxMailbox, State as AuthState,
};
use crate::risk::{self, CardFacts, Decision, DeviceEvidence, Purchase};
use crate::sandbox::{self, SandboxCard};
use crate::secrets::{random_bytes, random_id};
use crate::state::AppState;
use crate::store::{
    Acceptance, CodeIssue, DeviceNext, DeviceStep, HistoryQuery, Resend, WrongCode,
};
use crate::text::mask_email;
use crate::tokens::{device_match, device_token, report_url, result_outcome};

/// What [`gate`] proved, for the handler.
#[derive(Debug)]
pub struct WidgetContext {
    /// The authentication, as read by the gate.
    pub auth: Authentication,
    /// Its merchant.
    pub merchant: Merchant,
}

/// Checks the client secret and the origin; see the module docs.
pub async fn gate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let origin = request.headers().get(header::ORIGIN).cloned();
    if request.method() == HttpMethod::OPTIONS {
        // Preflights carry no credentials; they are answered for any origin so the real
        // request can come through and be refused with a readable `origin_not_allowed`.
        return Ok(preflight(origin));
    }
    let secret = bearer(request.headers()).ok_or(ApiError::Unauthorized("no client secret"))?;
    let presented = Sha256::digest(secret.as_bytes());
    let auth = state.store.authentication(&id).await?;
    // Compare against a dummy for an unknown id, so both failures take the same path.
    let stored = auth
        .as_ref()
        .map_or(&[0u8; 32][..], |a| &a.client_secret_hash[..]);
    let matches: bool = presented.as_slice().ct_eq(stored).into();
    let auth = match (auth, matches) {
        (Some(auth), true) => auth,
        (None, _) => return Err(ApiError::Unauthorized("unknown authentication id")),
        (Some(_), false) => return Err(ApiError::Unauthorized("wrong client secret")),
    };
    let merchant = state
        .store
        .merchant(&auth.merchant_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("merchant of {} missing", auth.id)))?;
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| merchant.origins.iter().any(|m| m == o));
    let origin = match origin {
        Some(origin) if allowed => origin,
        other => {
            tracing::info!(authentication = %id, origin = ?other, "origin not allowed");
            return Err(ApiError::OriginNotAllowed(other));
        }
    };
    request
        .extensions_mut()
        .insert(Arc::new(WidgetContext { auth, merchant }));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    Ok(response)
}

fn preflight(origin: Option<HeaderValue>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// The preflight handler; [`gate`] answers before it is reached.
pub async fn options() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The browser facts the widget sends.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserData {
    language: Option<String>,
    timezone: Option<String>,
    user_agent: Option<String>,
}

/// `POST …/device`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    fingerprint: Fingerprint,
    #[serde(default)]
    device_token: Option<String>,
    #[serde(default)]
    browser: Option<BrowserData>,
}

fn bounded(value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => {
            Err(ApiError::InvalidRequest(
                "browser fields must be short and without control characters.",
            ))
        }
        other => Ok(other),
    }
}

fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<String> {
    if let Some(name) = &state.config.client_ip_header {
        let forwarded = headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip().to_string())
}

/// The challenge screen's facts, from the stored row.
fn challenge_json(state: &AppState, auth: &Authentication, cardholder: &Cardholder) -> Value {
    let s = &state.config.security;
    let last_sent = auth.last_sent_at.unwrap_or(auth.created_at);
    json!({
        "masked_email": mask_email(&cardholder.email),
        "code_length": otp::CODE_LEN,
        "expires_at": auth.code_expires_at,
        "attempts_left": (s.max_attempts - auth.attempts).max(0),
        "resends_left": (s.max_resends - auth.resends).max(0),
        "resend_available_at": last_sent + s.resend_cooldown,
        "locale": cardholder.locale.as_str(),
    })
}

/// A one-line description of the browser for alert mail.
fn browser_summary(auth: &Authentication) -> String {
    let b = &auth.browser;
    let family = match b.user_agent.as_deref().map(Browser::from_user_agent) {
        Some(Browser::Chromium) => "Chromium",
        Some(Browser::Firefox) => "Firefox",
        Some(Browser::Safari) => "Safari",
        Some(Browser::Other) | None => "unknown browser",
    };
    let mut parts = vec![family.to_owned()];
    parts.extend(b.language.clone());
    parts.extend(b.timezone.clone());
    parts.join(", ")
}

fn facts<'a>(
    auth: &'a Authentication,
    merchant: &'a Merchant,
    cardholder: &'a Cardholder,
    browser: &'a str,
    report_url: &'a str,
) -> PurchaseFacts<'a> {
    PurchaseFacts {
        recipient: &cardholder.email,
        locale: cardholder.locale,
        merchant: &merchant.name,
        sandbox: auth.sandbox_card.map(|_| SandboxMailbox {
            merchant_id: merchant.id.clone(),
            authentication_id: auth.id.clone(),
        }),
        amount: auth.amount,
        currency: &auth.currency,
        time: auth.created_at,
        browser,
        report_url,
    }
}

/// A fresh code and its stored form; a sandbox authentication's code is always
/// [`sandbox::CODE`].
fn new_code(state: &AppState, auth: &Authentication) -> Result<(otp::Code, CodeIssue), ApiError> {
    let code = match auth.sandbox_card {
        Some(_) => otp::normalize(sandbox::CODE),
        None => otp::Code::from_random(&random_bytes::<{ otp::RANDOM_LEN }>()?),
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let issue = CodeIssue {
        digest: otp::digest(&state.secrets.otp_key, &auth.id, &code).to_vec(),
        expires_at: state.now() + state.config.security.code_lifetime,
    };
    Ok((code, issue))
}

/// The authentication's cardholder: the enrolled one, the sandbox's stand-in, or none.
async fn cardholder_of(
    state: &AppState,
    auth: &Authentication,
) -> Result<Option<Cardholder>, ApiError> {
    if auth.sandbox_card.is_some() {
        return Ok(Some(sandbox::cardholder()));
    }
    match &auth.cardholder_id {
        Some(id) => Ok(state.store.cardholder(id).await?),
        None => Ok(None),
    }
}

/// Refuses to act on a final (or now expired) authentication.
async fn live(state: &AppState, auth: Authentication) -> Result<Authentication, ApiError> {
    let auth = expire_if_due(state, auth).await?;
    if auth.state.is_final() {
        return Err(ApiError::AuthenticationFinished);
    }
    Ok(auth)
}

/// `POST /v1/authentications/{id}/device`: assess and answer frictionless, challenge or
/// rejected.
///
/// An unknown or unenrolled card is rejected exactly like a blocked one (same status, same
/// reason in the token), so the browser cannot tell which; the merchant's `GET` has the detail.
pub async fn device(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<WidgetContext>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<DeviceRequest>,
) -> Result<Json<Value>, ApiError> {
    let auth = live(&state, ctx.auth.clone()).await?;
    let cardholder = cardholder_of(&state, &auth).await?;
    if auth.state == AuthState::Challenging {
        // A reloaded checkout page: show the challenge already running, send no new code.
        if let Some(cardholder) = &cardholder {
            return Ok(Json(json!({
                "outcome": "challenge",
                "challenge": challenge_json(&state, &auth, cardholder),
            })));
        }
        return Err(ApiError::AuthenticationFinished);
    }
    if let Some(card) = auth.sandbox_card {
        return sandbox_device_step(&state, &ctx.merchant, auth, card).await;
    }
    let browser = request.browser.unwrap_or_default();
    let browser = crate::model::BrowserInfo {
        language: bounded(browser.language, 64)?,
        timezone: bounded(browser.timezone, 64)?,
        user_agent: bounded(browser.user_agent, 512)?,
    };
    let token = request.device_token.as_deref().filter(|t| !t.is_empty());
    let (device, device_id) = device_match(&state, &auth, token, &request.fingerprint).await?;
    let ip = client_ip(&state, &headers, connect.map(|Extension(ConnectInfo(p))| p));
    let now = state.now();
    let s = &state.config.security;
    let history = state
        .store
        .history(&HistoryQuery {
            authentication_id: &auth.id,
            cardholder_id: auth.cardholder_id.as_deref(),
            device_id: device_id.as_deref(),
            ip: ip.as_deref(),
            short_since: now - s.velocity_window,
            long_since: now - s.failure_window,
        })
        .await?;
    let purchase = Purchase {
        amount: auth.amount,
        preference: auth.challenge_preference,
        card: cardholder.as_ref().map(|c| CardFacts {
            status: c.status,
            frictionless_ceiling: c.frictionless_ceiling,
        }),
    };
    let evidence = DeviceEvidence {
        device,
        language: browser.language.clone(),
        timezone: browser.timezone.clone(),
    };
    let assessment = risk::assess(&purchase, &evidence, &history, &state.config.risk);
    tracing::info!(authentication = %auth.id, decision = ?assessment.decision,
        score = assessment.score, reasons = ?assessment.reasons, "risk assessed");
    let step = DeviceStep {
        risk_score: assessment.score,
        risk_reasons: assessment
            .reasons
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        device_id,
        fingerprint: Some(request.fingerprint.to_json()),
        ip,
        browser,
    };
    let assessed = Authentication {
        browser: step.browser.clone(),
        ..auth.clone()
    };
    let summary = browser_summary(&assessed);
    let (next, mail, answer) = match (assessment.decision, &cardholder) {
        (Decision::Frictionless, _) => {
            let outcome = result_outcome(
                &state,
                &auth,
                TransStatus::Authenticated,
                Method::Frictionless,
                None,
            )
            .await?;
            let answer = json!({"outcome": "frictionless", "status": "Y",
                "result_token": outcome.result_token});
            let next = DeviceNext::Conclude {
                state: AuthState::Succeeded,
                outcome,
            };
            (next, None, answer)
        }
        (Decision::Challenge, Some(cardholder)) => {
            let (next, mail, answer) =
                start_challenge(&state, &assessed, &ctx.merchant, cardholder, &summary)?;
            (next, Some(mail), answer)
        }
        (Decision::Reject | Decision::Challenge, _) => {
            // One reason for every rejection, whatever the cause (see above).
            let outcome = result_outcome(
                &state,
                &auth,
                TransStatus::Rejected,
                Method::Frictionless,
                Some(Reason::NOT_PERMITTED),
            )
            .await?;
            let answer = json!({"outcome": "rejected", "status": "R",
                "result_token": outcome.result_token});
            let mail = cardholder.as_ref().map(|c| {
                let url = report_url(&state, &auth.id);
                alert_mail(
                    &facts(&assessed, &ctx.merchant, c, &summary, &url),
                    Alert::Rejected,
                )
            });
            let next = DeviceNext::Conclude {
                state: AuthState::Rejected,
                outcome,
            };
            (next, mail, answer)
        }
    };
    let moved = state
        .store
        .record_device_step(&auth.id, now, &step, &next, mail.as_ref())
        .await?;
    if !moved {
        // A concurrent device step won. If it started a challenge, show that challenge (no
        // second code); anything else is final.
        let current = state.store.authentication(&auth.id).await?;
        return match (current, &cardholder) {
            (Some(current), Some(cardholder)) if current.state == AuthState::Challenging => {
                Ok(Json(json!({
                    "outcome": "challenge",
                    "challenge": challenge_json(&state, &current, cardholder),
                })))
            }
            _ => Err(ApiError::AuthenticationFinished),
        };
    }
    if mail.is_some() {
        state.outbox_wake.notify_one();
    }
    state.metrics.authentication(match assessment.decision {
        Decision::Frictionless => "frictionless",
        Decision::Challenge if cardholder.is_some() => "challenge",
        Decision::Challenge | Decision::Reject => "rejected",
    });
    Ok(Json(answer))
}

/// Starts a challenge: a fresh code, the mail carrying it, and the answer showing it.
fn start_challenge(
    state: &AppState,
    auth: &Authentication,
    merchant: &Merchant,
    cardholder: &Cardholder,
    browser_summary: &str,
) -> Result<(DeviceNext, NewMail, Value), ApiError> {
    let (code, issue) = new_code(state, auth)?;
    let url = report_url(state, &auth.id);
    let mail = code_mail(
        &facts(auth, merchant, cardholder, browser_summary, &url),
        code.as_str(),
        issue.expires_at,
    );
    let shown = Authentication {
        code_expires_at: Some(issue.expires_at),
        last_sent_at: Some(state.now()),
        ..auth.clone()
    };
    let answer = json!({"outcome": "challenge",
        "challenge": challenge_json(state, &shown, cardholder)});
    Ok((DeviceNext::Challenge(issue), mail, answer))
}

/// The device step of a sandbox authentication: its test card decides (see [`sandbox`]); no
/// risk assessment, history or device trust is involved, so a test run always answers alike.
async fn sandbox_device_step(
    state: &AppState,
    merchant: &Merchant,
    auth: Authentication,
    card: SandboxCard,
) -> Result<Json<Value>, ApiError> {
    let now = state.now();
    let step = DeviceStep {
        risk_score: 0,
        risk_reasons: vec![format!("sandbox_{}", card.as_str())],
        device_id: None,
        fingerprint: None,
        ip: None,
        browser: crate::model::BrowserInfo::default(),
    };
    let cardholder = sandbox::cardholder();
    let (next, mail, answer) = match card.forced() {
        None => {
            let (next, mail, answer) = start_challenge(state, &auth, merchant, &cardholder, "")?;
            (next, Some(mail), answer)
        }
        Some(forced) => {
            let outcome =
                result_outcome(state, &auth, forced.status, card.method(), forced.reason).await?;
            // The widget knows two final answers: nothing to do (`Y`, `A`) or refused.
            let (kind, final_state) = match forced.status {
                TransStatus::Authenticated | TransStatus::Attempted => {
                    ("frictionless", AuthState::Succeeded)
                }
                TransStatus::Rejected => ("rejected", AuthState::Rejected),
                TransStatus::NotAuthenticated | TransStatus::Unavailable => {
                    ("rejected", AuthState::Failed)
                }
            };
            let answer = json!({"outcome": kind, "status": outcome.status,
                "result_token": outcome.result_token});
            let next = DeviceNext::Conclude {
                state: final_state,
                outcome,
            };
            (next, None, answer)
        }
    };
    let moved = state
        .store
        .record_device_step(&auth.id, now, &step, &next, mail.as_ref())
        .await?;
    if !moved {
        // A concurrent device step won; the widget reloads the authentication's state.
        return Err(ApiError::AuthenticationFinished);
    }
    state.metrics.authentication("sandbox");
    Ok(Json(answer))
}

/// `POST …/challenge/verify`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    code: String,
}

/// `POST /v1/authentications/{id}/challenge/verify`.
pub async fn verify(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<WidgetContext>>,
    JsonBody(request): JsonBody<VerifyRequest>,
) -> Result<Json<Value>, ApiError> {
    let code = otp::normalize(&request.code).map_err(|_| ApiError::InvalidCode)?;
    let auth = match expire_if_due(&state, ctx.auth.clone()).await {
        Ok(auth) if auth.state == AuthState::Expired => return expired_answer(&auth),
        Ok(auth) => auth,
        Err(e) => return Err(e),
    };
    match auth.state {
        AuthState::Pending => return Err(ApiError::ChallengeNotStarted),
        AuthState::Challenging => {}
        _ => return Err(ApiError::AuthenticationFinished),
    }
    let cardholder = cardholder_of(&state, &auth)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("challenge without a card: {}", auth.id)))?;
    let now = state.now();
    let digest = otp::digest(&state.secrets.otp_key, &auth.id, &code);
    let current = auth.code_digest.as_deref().unwrap_or_default();
    let right = otp::verify(&state.secrets.otp_key, &auth.id, &code, current)
        && auth.code_expires_at.is_some_and(|at| at > now);
    let summary = browser_summary(&auth);
    let url = report_url(&state, &auth.id);
    let facts = facts(&auth, &ctx.merchant, &cardholder, &summary, &url);
    if right {
        let outcome = result_outcome(
            &state,
            &auth,
            TransStatus::Authenticated,
            Method::Challenge,
            None,
        )
        .await?;
        // A device whose token was valid stays the same device (its token is renewed); any
        // other browser becomes a new trusted device, and the cardholder hears about it.
        let (device, alert, device_id) = match &auth.device_id {
            // A sandbox authentication trusts no device: each test run starts alike.
            _ if auth.sandbox_card.is_some() => (None, None, None),
            Some(id) => (None, None, Some(id.clone())),
            None => {
                let device = Device {
                    id: random_id("dv_")?,
                    cardholder_id: cardholder.id.clone(),
                    merchant_id: auth.merchant_id.clone(),
                    fingerprint: auth.fingerprint.clone().unwrap_or_else(|| "{}".into()),
                    created_at: now,
                    expires_at: now + state.config.security.device_lifetime,
                    revoked_at: None,
                };
                let id = device.id.clone();
                (
                    Some(device),
                    Some(alert_mail(&facts, Alert::NewDevice)),
                    Some(id),
                )
            }
        };
        let accept = Acceptance {
            digest: &digest,
            outcome: &outcome,
            device: device.as_ref(),
            mail: alert.as_ref(),
        };
        if state
            .store
            .accept_code(&auth.id, now, &state.limits(), &accept)
            .await?
        {
            if alert.is_some() {
                state.outbox_wake.notify_one();
            }
            state.metrics.challenge("success");
            state.metrics.authentication("authenticated");
            let token =
                device_id.map(|id| device_token(&state, &auth.merchant_id, &cardholder.id, &id));
            return Ok(Json(json!({
                "outcome": "authenticated", "status": "Y",
                "result_token": outcome.result_token, "device_token": token,
            })));
        }
        // Another request used the code (or the last attempt) first.
        return Err(ApiError::AuthenticationFinished);
    }
    let failure = result_outcome(
        &state,
        &auth,
        TransStatus::NotAuthenticated,
        Method::Challenge,
        Some(Reason::MAX_CHALLENGES),
    )
    .await?;
    let alert = alert_mail(&facts, Alert::ChallengeFailed);
    match state
        .store
        .reject_code(&auth.id, now, &state.limits(), &failure, &alert)
        .await?
    {
        WrongCode::Counted { attempts_left } => {
            state.metrics.challenge("wrong");
            Ok(Json(
                json!({"outcome": "wrong_code", "attempts_left": attempts_left}),
            ))
        }
        WrongCode::Failed => {
            state.outbox_wake.notify_one();
            state.metrics.challenge("failure");
            state.metrics.authentication("failed");
            Ok(Json(json!({"outcome": "failed", "status": "N",
                "result_token": failure.result_token})))
        }
        WrongCode::NotChallenging => Err(ApiError::AuthenticationFinished),
    }
}

fn expired_answer(auth: &Authentication) -> Result<Json<Value>, ApiError> {
    let token = auth
        .outcome
        .as_ref()
        .map(|o| o.result_token.clone())
        .ok_or_else(|| ApiError::Internal(format!("expired without outcome: {}", auth.id)))?;
    Ok(Json(
        json!({"outcome": "expired", "status": "U", "result_token": token}),
    ))
}

/// `POST /v1/authentications/{id}/challenge/resend`.
pub async fn resend(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<WidgetContext>>,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<Value>, ApiError> {
    let auth = live(&state, ctx.auth.clone()).await?;
    if auth.state != AuthState::Challenging {
        return Err(ApiError::ChallengeNotStarted);
    }
    let cardholder = cardholder_of(&state, &auth)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("challenge without a card: {}", auth.id)))?;
    let refusal = |auth: &Authentication| {
        let s = &state.config.security;
        let available = auth.last_sent_at.unwrap_or(0) + s.resend_cooldown;
        if auth.state.is_final() {
            ApiError::AuthenticationFinished
        } else if auth.resends >= s.max_resends {
            ApiError::ResendLimit
        } else {
            ApiError::ResendCooldown {
                retry_after: (available - state.now()).max(1),
            }
        }
    };
    let now = state.now();
    let s = &state.config.security;
    if auth.resends >= s.max_resends || now < auth.last_sent_at.unwrap_or(0) + s.resend_cooldown {
        return Err(refusal(&auth));
    }
    let (code, issue) = new_code(&state, &auth)?;
    let summary = browser_summary(&auth);
    let url = report_url(&state, &auth.id);
    let mail = code_mail(
        &facts(&auth, &ctx.merchant, &cardholder, &summary, &url),
        code.as_str(),
        issue.expires_at,
    );
    match state
        .store
        .resend_code(&auth.id, now, &issue, &state.limits(), &mail)
        .await?
    {
        Resend::Sent => {
            state.outbox_wake.notify_one();
            let shown = Authentication {
                code_expires_at: Some(issue.expires_at),
                last_sent_at: Some(now),
                resends: auth.resends + 1,
                ..auth
            };
            Ok(Json(
                json!({"challenge": challenge_json(&state, &shown, &cardholder)}),
            ))
        }
        Resend::Refused => {
            // A concurrent resend or state change won; say which limit now applies.
            let current = state
                .store
                .authentication(&auth.id)
                .await?
                .ok_or(ApiError::NotFound)?;
            Err(refusal(&current))
        }
    }
}

/// `POST /v1/authentications/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<WidgetContext>>,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<Value>, ApiError> {
    let auth = live(&state, ctx.auth.clone()).await?;
    let method = if auth.state == AuthState::Challenging {
        Method::Challenge
    } else {
        Method::Frictionless
    };
    let outcome = result_outcome(
        &state,
        &auth,
        TransStatus::NotAuthenticated,
        method,
        Some(Reason::CARD_AUTHENTICATION_FAILED),
    )
    .await?;
    let moved = state
        .store
        .conclude(
            &auth.id,
            state.now(),
            auth.state,
            AuthState::Cancelled,
            &outcome,
            None,
        )
        .await?;
    if !moved {
        return Err(ApiError::AuthenticationFinished);
    }
    state.metrics.authentication("cancelled");
    Ok(Json(json!({"outcome": "cancelled", "status": "N",
        "result_token": outcome.result_token})))
}
