//! The widget's routes: the device step and the challenge, authenticated by the
//! authentication's `client_secret` and the page's `Origin`.
//!
//! [`gate`] runs before the challenge's and the cancel's handlers: it checks the secret (hashed,
//! compared in constant time) and the origin against the merchant's list, hands the loaded rows
//! to the handler, and adds the CORS headers to whatever the handler answers. The device step,
//! the hot path of every purchase, makes the same checks in the same order itself ([`device`]):
//! it reads its authentication together with the device the body's token claims and everything
//! else the step decides on, in one statement, so it reads the body before the authentication.
//! A wrong secret for an id that exists therefore costs that whole read where an unknown id
//! costs a key lookup, and the time tells the two apart: ids are 128 random bits, each request
//! is counted against its address first, and the answer is the same 401 either way.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mamori_core::device_key::{PublicKey, Signature};
use mamori_core::otp;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::extract::{JsonBody, bearer};
use super::forwarded;
use super::throttle::{self, Bucket};
use crate::error::ApiError;
use crate::flow::challenge::{ChallengeView, CodeAnswer};
use crate::flow::device::{ClaimedDevice, DeviceAnswer, Evidence};
use crate::flow::proof::ProvenKey;
use crate::model::{Authentication, AuthenticationId, BrowserInfo, Merchant};
use crate::state::AppState;
use crate::store::StepReads;
use crate::wire::{
    BrowserData, CancelOutcome, Challenge, DeviceKey, DeviceOutcome, DeviceRequest, Empty,
    ResendAnswer, VerifyOutcome, VerifyRequest,
};

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
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let origin = request.headers().get(header::ORIGIN).cloned();
    if request.method() == HttpMethod::OPTIONS {
        // Preflights carry no credentials; they are answered for any origin so the real
        // request can come through and be refused with a readable `origin_not_allowed`.
        return Ok(preflight(origin));
    }
    let peer = connect.map(|Extension(ConnectInfo(peer))| peer);
    let ip = client_ip(&state, request.headers(), peer);
    if let Err(refused) = admit_address(&state, ip.as_deref(), origin.as_ref()).await {
        return Ok(refused);
    }
    let presented = presented_secret(request.headers())?;
    let auth = authorized(&presented, read_authentication(&state, &id).await?, |a| a)?;
    let (merchant, origin) = admit_origin(&state, &auth, origin).await?;
    request
        .extensions_mut()
        .insert(Arc::new(WidgetContext { auth, merchant }));
    Ok(readable(next.run(request).await, Some(origin)))
}

/// Counts the request against its client address's rate limit: a refusal, readable by a page
/// on `origin` (like `origin_not_allowed`, so the widget can wait), when it is over.
async fn admit_address(
    state: &AppState,
    ip: Option<&str>,
    origin: Option<&HeaderValue>,
) -> Result<(), Response> {
    // Counted before anything is looked up, so a flood of guessed secrets is refused too.
    if let Some(ip) = ip {
        if let Err(refusal) = throttle::admit(state, Bucket::ClientAddress(ip)).await {
            return Err(readable(refusal.into_response(), origin.cloned()));
        }
    }
    Ok(())
}

/// The SHA-256 of the bearer token, the client secret the browser presents.
fn presented_secret(headers: &HeaderMap) -> Result<[u8; 32], ApiError> {
    let secret = bearer(headers).ok_or(ApiError::Unauthorized("no client secret"))?;
    Ok(Sha256::digest(secret.as_bytes()).into())
}

/// The authentication `{id}` names, if any. An `{id}` that is not an authentication id names
/// none: it is unknown like any other.
async fn read_authentication(
    state: &AppState,
    id: &str,
) -> Result<Option<Authentication>, ApiError> {
    match AuthenticationId::parse(id) {
        Some(id) => Ok(state.store.authentication(&id).await?),
        None => Ok(None),
    }
}

/// `found` (an authentication, or rows read with one that `auth` picks out) if its client
/// secret's hash is `presented`.
fn authorized<T>(
    presented: &[u8; 32],
    found: Option<T>,
    auth: impl Fn(&T) -> &Authentication,
) -> Result<T, ApiError> {
    // Compare against a dummy for an unknown id, so both failures take the same path.
    let stored = found
        .as_ref()
        .map_or(&[0u8; 32][..], |found| &auth(found).client_secret_hash[..]);
    let matches: bool = presented.as_slice().ct_eq(stored).into();
    match (found, matches) {
        (Some(found), true) => Ok(found),
        (None, _) => Err(ApiError::Unauthorized("unknown authentication id")),
        (Some(_), false) => Err(ApiError::Unauthorized("wrong client secret")),
    }
}

/// `auth`'s merchant, and the page's origin if it is one of the merchant's.
async fn admit_origin(
    state: &AppState,
    auth: &Authentication,
    origin: Option<HeaderValue>,
) -> Result<(Merchant, HeaderValue), ApiError> {
    let merchant = state
        .store
        .merchant(&auth.merchant_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("merchant of {} missing", auth.id)))?;
    match origin {
        Some(origin) if allowed(&merchant, &origin) => Ok((merchant, origin)),
        other => {
            tracing::info!(authentication = %auth.id, origin = ?other, "origin not allowed");
            Err(ApiError::OriginNotAllowed(other))
        }
    }
}

/// Whether `origin` is one of the merchant's, exactly.
fn allowed(merchant: &Merchant, origin: &HeaderValue) -> bool {
    origin
        .to_str()
        .is_ok_and(|o| merchant.origins.iter().any(|m| m == o))
}

/// `response`, readable by a page on `origin`: its body, and the `Retry-After` of a `429`
/// (a cross-origin script sees only the safelisted headers and those exposed).
fn readable(mut response: Response, origin: Option<HeaderValue>) -> Response {
    let headers = response.headers_mut();
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
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

/// The device route's preflight, answered as [`gate`] answers the others'.
pub async fn device_options(headers: HeaderMap) -> Response {
    preflight(headers.get(header::ORIGIN).cloned())
}

/// The browser facts, each kept only if it is what it claims to be (see
/// [`crate::model::browser`]): one that is not is dropped, and the purchase goes on without it.
fn browser_info(data: &BrowserData) -> BrowserInfo {
    BrowserInfo::parse(
        data.language.as_deref(),
        data.timezone.as_deref(),
        data.user_agent.as_deref(),
    )
}

/// The client's address, as [`super::forwarded`] finds it; unknown without a peer address
/// (a router driven without a socket), since nothing then says whether to believe a header.
fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<String> {
    let peer = peer?.ip();
    Some(forwarded::client_address(&state.config, headers, peer).to_string())
}

/// `POST /v1/authentications/{id}/device`: assess and answer frictionless, challenge or
/// rejected (see [`crate::flow::device`]).
///
/// Its own gate, with [`gate`]'s checks in [`gate`]'s order — client address, client secret,
/// origin, then the body — so a request refused for its secret or origin is refused alike
/// whatever its body. The body is read first all the same: the device its token claims is read
/// with the authentication, in one statement. A body that cannot be read leaves nothing to
/// claim, and the authentication is read alone to make the checks before the body's refusal.
pub async fn device(
    State(state): State<AppState>,
    Path(id): Path<String>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    request: Request,
) -> Result<Response, ApiError> {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let peer = connect.map(|Extension(ConnectInfo(peer))| peer);
    let ip = client_ip(&state, request.headers(), peer);
    if let Err(refused) = admit_address(&state, ip.as_deref(), origin.as_ref()).await {
        return Ok(refused);
    }
    let presented = presented_secret(request.headers())?;
    let flow = state.flow();
    let request = match JsonBody::<DeviceRequest>::from_request(request, &state).await {
        Ok(JsonBody(request)) => request,
        Err(refused) => {
            let auth = authorized(&presented, read_authentication(&state, &id).await?, |a| a)?;
            let (_, origin) = admit_origin(&state, &auth, origin).await?;
            return Ok(readable(refused.into_response(), Some(origin)));
        }
    };
    let claimed = flow.claimed_device(request.device_token.as_deref());
    let reads = match AuthenticationId::parse(&id) {
        Some(id) => flow.device_step_reads(&id, &claimed, ip.as_deref()).await?,
        None => None,
    };
    let reads = authorized(&presented, reads, |r| &r.authentication)?;
    let (merchant, origin) = admit_origin(&state, &reads.authentication, origin).await?;
    let answer = device_step(&state, reads, &merchant, request, claimed, ip).await;
    Ok(readable(answer.into_response(), Some(origin)))
}

/// The device step of an admitted request.
async fn device_step(
    state: &AppState,
    reads: StepReads,
    merchant: &Merchant,
    request: DeviceRequest,
    claimed: ClaimedDevice,
    ip: Option<String>,
) -> Result<Json<DeviceOutcome>, ApiError> {
    let device_proof = request
        .device_proof
        .as_deref()
        .map(Signature::from_base64url)
        .transpose()
        .map_err(|_| ApiError::InvalidRequest(BAD_PROOF))?;
    let evidence = Evidence {
        fingerprint: request.fingerprint,
        device: claimed,
        device_proof,
        browser: request
            .browser
            .as_ref()
            .map(browser_info)
            .unwrap_or_default(),
        ip,
    };
    let answer = state.flow().device_step(reads, merchant, evidence).await?;
    Ok(Json(match answer {
        DeviceAnswer::Frictionless(outcome) => DeviceOutcome::Frictionless {
            status: outcome.status.into(),
            result_token: outcome.result_token,
        },
        DeviceAnswer::Challenge(view) => DeviceOutcome::Challenge {
            challenge: view.into(),
        },
        DeviceAnswer::Rejected(outcome) => DeviceOutcome::Rejected {
            status: outcome.status.into(),
            result_token: outcome.result_token,
        },
    }))
}

const BAD_PROOF: &str =
    "device_proof must be a P-256 signature: 64 bytes r || s, 86 characters of unpadded base64url.";

/// A registered device key whose proof verifies for this authentication.
fn proven_key(auth: &AuthenticationId, key: &DeviceKey) -> Result<ProvenKey, ApiError> {
    let public_key = PublicKey::from_base64url(&key.public_key).map_err(|_| {
        ApiError::InvalidRequest(
            "device_key.public_key must be an uncompressed P-256 point: 65 bytes, 87 characters \
             of unpadded base64url.",
        )
    })?;
    let proof = Signature::from_base64url(&key.proof).map_err(|_| {
        ApiError::InvalidRequest(
            "device_key.proof must be a P-256 signature: 64 bytes r || s, 86 characters of \
             unpadded base64url.",
        )
    })?;
    ProvenKey::verify(auth, public_key, &proof).map_err(|_| {
        ApiError::InvalidRequest("device_key.proof does not verify for this authentication.")
    })
}

/// `POST /v1/authentications/{id}/challenge/verify`.
pub async fn verify(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<WidgetContext>>,
    JsonBody(request): JsonBody<VerifyRequest>,
) -> Result<Json<VerifyOutcome>, ApiError> {
    let code = otp::normalize(&request.code).map_err(|_| ApiError::InvalidCode)?;
    // Checked before the code, so a bad key costs no attempt and changes nothing.
    let key = request
        .device_key
        .as_ref()
        .map(|key| proven_key(&ctx.auth.id, key))
        .transpose()?;
    let answer = state
        .flow()
        .check_code(ctx.auth.clone(), &ctx.merchant, &code, key.as_ref())
        .await?;
    Ok(Json(match answer {
        CodeAnswer::Authenticated {
            outcome,
            device_token,
        } => VerifyOutcome::Authenticated {
            status: outcome.status.into(),
            result_token: outcome.result_token,
            device_token,
        },
        CodeAnswer::WrongCode { attempts_left } => VerifyOutcome::WrongCode { attempts_left },
        CodeAnswer::Failed(outcome) => VerifyOutcome::Failed {
            status: outcome.status.into(),
            result_token: outcome.result_token,
        },
        CodeAnswer::Expired(outcome) => VerifyOutcome::Expired {
            status: outcome.status.into(),
            result_token: outcome.result_token,
        },
    }))
}

/// `POST /v1/authentications/{id}/challenge/resend`.
pub async fn resend(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<WidgetContext>>,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<ResendAnswer>, ApiError> {
    let view = state.flow().resend(ctx.auth.clone(), &ctx.merchant).await?;
    Ok(Json(ResendAnswer {
        challenge: view.into(),
    }))
}

/// `POST /v1/authentications/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<WidgetContext>>,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<CancelOutcome>, ApiError> {
    let outcome = state.flow().cancel(ctx.auth.clone()).await?;
    Ok(Json(CancelOutcome::Cancelled {
        status: outcome.status.into(),
        result_token: outcome.result_token,
    }))
}

impl From<ChallengeView> for Challenge {
    fn from(view: ChallengeView) -> Self {
        Self {
            masked_email: view.masked_email,
            code_length: view.code_length,
            expires_at: view.expires_at,
            attempts_left: view.attempts_left,
            resends_left: view.resends_left,
            resend_available_at: view.resend_available_at,
            locale: view.locale.into(),
        }
    }
}
