//! The merchant backend's routes, authenticated by the merchant's secret key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use mamori_core::token::{
    Currency, Method, Reason, SECRET_KEY_PREFIX, TransStatus, encode_secret_key,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::extract::{JsonBody, bearer};
use crate::card::{CardNumber, is_reference};
use crate::error::ApiError;
use crate::model::{
    Authentication, BrowserInfo, ChallengePreference, MerchantKey, State as AuthState,
};
use crate::secrets::{hex, random_bytes, random_id};
use crate::state::AppState;
use crate::tokens::result_outcome;

/// The largest amount accepted, in minor units: far above any card purchase, far below `i64`.
const MAX_AMOUNT: u64 = 1_000_000_000_000;

/// The merchant whose live secret key is the bearer token.
///
/// # Errors
///
/// [`ApiError::Unauthorized`] for a missing, malformed, unknown, retired or wrong key; all
/// alike from outside.
pub async fn authenticate_merchant(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<MerchantKey, ApiError> {
    let presented = bearer(headers).ok_or(ApiError::Unauthorized("no bearer token"))?;
    let kid = presented
        .strip_prefix(SECRET_KEY_PREFIX)
        .and_then(|rest| rest.rsplit_once('.'))
        .map(|(kid, _)| kid)
        .ok_or(ApiError::Unauthorized("not a secret key"))?;
    let key = state
        .store
        .key_by_kid(kid)
        .await?
        .ok_or(ApiError::Unauthorized("unknown kid"))?;
    let expected = encode_secret_key(&key.kid, &key.secret);
    let same: bool = expected.as_bytes().ct_eq(presented.as_bytes()).into();
    if !same {
        return Err(ApiError::Unauthorized("wrong secret"));
    }
    if !key.is_live(state.now()) {
        return Err(ApiError::Unauthorized("retired key"));
    }
    Ok(key)
}

/// `POST /v1/authentications`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    card_number: Option<String>,
    card_ref: Option<String>,
    amount: u64,
    currency: String,
    order_ref: String,
    #[serde(default)]
    challenge_preference: Option<String>,
}

/// Starts an authentication. Succeeds for any well-formed card number, enrolled or not: only
/// the merchant's later `GET` says which (see the crate docs on enumeration).
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = authenticate_merchant(&state, &headers).await?;
    let card_ref = match (&request.card_number, &request.card_ref) {
        (Some(number), None) => CardNumber::parse(number)
            .ok_or(ApiError::InvalidCardNumber)?
            .reference(&state.secrets.card_key),
        (None, Some(reference)) if is_reference(reference) => reference.clone(),
        (None, Some(_)) => {
            return Err(ApiError::InvalidRequest(
                "card_ref must be 64 lowercase hex digits.",
            ));
        }
        _ => {
            return Err(ApiError::InvalidRequest(
                "Exactly one of card_number and card_ref is required.",
            ));
        }
    };
    if !(1..=MAX_AMOUNT).contains(&request.amount) {
        return Err(ApiError::InvalidRequest(
            "amount must be a positive integer in minor units.",
        ));
    }
    if Currency::new(&request.currency).is_none() {
        return Err(ApiError::InvalidRequest(
            "currency must be an ISO 4217 code such as JPY.",
        ));
    }
    let order_ok = (1..=128).contains(&request.order_ref.chars().count())
        && !request.order_ref.chars().any(char::is_control);
    if !order_ok {
        return Err(ApiError::InvalidRequest(
            "order_ref must be 1 to 128 characters without control characters.",
        ));
    }
    let preference = match request.challenge_preference.as_deref() {
        None => ChallengePreference::NoPreference,
        Some(code) => ChallengePreference::parse(code).ok_or(ApiError::InvalidRequest(
            "challenge_preference must be 01, 02, 03 or 04.",
        ))?,
    };
    let cardholder = state.store.cardholder_by_ref(&card_ref).await?;
    let now = state.now();
    let id = random_id("au_")?;
    let client_secret = format!("cs_{}", hex(&random_bytes::<32>()?));
    let auth = Authentication {
        id: id.clone(),
        merchant_id: key.merchant_id,
        cardholder_id: cardholder.map(|c| c.id),
        amount: i64::try_from(request.amount).unwrap_or(i64::MAX),
        currency: request.currency,
        order_ref: request.order_ref,
        challenge_preference: preference,
        client_secret_hash: Sha256::digest(client_secret.as_bytes()).to_vec(),
        state: AuthState::Pending,
        created_at: now,
        expires_at: now + state.config.security.authentication_lifetime,
        risk_score: None,
        risk_reasons: Vec::new(),
        device_id: None,
        fingerprint: None,
        ip: None,
        browser: BrowserInfo::default(),
        code_digest: None,
        code_expires_at: None,
        attempts: 0,
        resends: 0,
        last_sent_at: None,
        outcome: None,
    };
    state.store.insert_authentication(&auth).await?;
    state.metrics.authentication("created");
    tracing::info!(authentication = %id, merchant = %auth.merchant_id, "authentication created");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "client_secret": client_secret, "expires_at": auth.expires_at })),
    ))
}

/// `GET /v1/authentications/{id}`: the state, the result and why. An authentication past its
/// lifetime is expired here, so a merchant polling an abandoned one gets its final answer.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = authenticate_merchant(&state, &headers).await?;
    let auth = state
        .store
        .authentication(&id)
        .await?
        .filter(|a| a.merchant_id == key.merchant_id)
        .ok_or(ApiError::NotFound)?;
    let auth = expire_if_due(&state, auth).await?;
    let outcome = auth.outcome.as_ref();
    Ok(Json(json!({
        "id": auth.id,
        "state": auth.state.as_str(),
        "status": outcome.map(|o| o.status),
        "eci": outcome.map(|o| o.eci),
        "method": outcome.map(|o| o.method),
        "trans_status_reason": outcome.and_then(|o| o.reason),
        "reasons": auth.risk_reasons,
        "risk_score": auth.risk_score,
        "amount": auth.amount,
        "currency": auth.currency,
        "order_ref": auth.order_ref,
        "created_at": auth.created_at,
        "expires_at": auth.expires_at,
        "result_token": outcome.map(|o| &o.result_token),
    })))
}

/// Moves an unfinished authentication past its lifetime to `expired` (`U`, reason 14) and
/// answers the current row either way.
///
/// # Errors
///
/// [`ApiError::Internal`] on store or signing failures.
pub async fn expire_if_due(
    state: &AppState,
    auth: Authentication,
) -> Result<Authentication, ApiError> {
    if auth.state.is_final() || state.now() < auth.expires_at {
        return Ok(auth);
    }
    let method = if auth.state == AuthState::Challenging {
        Method::Challenge
    } else {
        Method::Frictionless
    };
    let outcome = result_outcome(
        state,
        &auth,
        TransStatus::Unavailable,
        method,
        Some(Reason::TIMED_OUT),
    )
    .await?;
    let moved = state
        .store
        .conclude(
            &auth.id,
            state.now(),
            auth.state,
            AuthState::Expired,
            &outcome,
            None,
        )
        .await?;
    if moved {
        state.metrics.authentication("expired");
    }
    // Whether this call or a concurrent one moved it, the row now holds the final state.
    state
        .store
        .authentication(&auth.id)
        .await?
        .ok_or(ApiError::NotFound)
}
