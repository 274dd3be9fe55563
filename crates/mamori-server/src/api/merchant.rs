//! The merchant backend's routes, authenticated by the merchant's secret key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
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
    Authentication, BrowserInfo, ChallengePreference, IdempotencyKey, MerchantKey,
    State as AuthState,
};
use crate::sandbox::SandboxCard;
use crate::secrets::{hex, hmac_sha256, random_id};
use crate::state::AppState;
use crate::store::StoreError;
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

/// The longest `Idempotency-Key` accepted (Stripe's limit).
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Starts an authentication. Succeeds for any well-formed card number, enrolled or not: only
/// the merchant's later `GET` says which (see the crate docs on enumeration). A sandbox
/// merchant may name only the test cards of [`crate::sandbox`].
///
/// With an `Idempotency-Key`, a retried request (same key, same request) answers the
/// authentication the first one created — same id, same client secret, nothing new stored or
/// counted — and another request under a used key is `409 idempotency_key_reused`.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateRequest>,
) -> Result<Response, ApiError> {
    let key = authenticate_merchant(&state, &headers).await?;
    let idempotency = idempotency_key(&headers)?;
    let merchant = state
        .store
        .merchant(&key.merchant_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("key {} has no merchant", key.kid)))?;
    let (card_ref, sandbox_card) = card_of(&state, merchant.sandbox, &request)?;
    let purchase = checked_purchase(&request)?;
    let request_hash = request_hash(&card_ref, &request, purchase.preference);
    if let Some(used) = &idempotency {
        if let Some(first) = state.store.idempotency_key(&merchant.id, used).await? {
            return replay(&state, &first, &request_hash).await;
        }
    }
    let cardholder = match sandbox_card {
        Some(_) => None,
        None => state.store.cardholder_by_ref(&card_ref).await?,
    };
    let now = state.now();
    let id = random_id("au_")?;
    let client_secret = client_secret(&state, &id);
    let auth = Authentication {
        id: id.clone(),
        merchant_id: merchant.id.clone(),
        cardholder_id: cardholder.map(|c| c.id),
        amount: purchase.amount,
        currency: request.currency,
        order_ref: request.order_ref,
        challenge_preference: purchase.preference,
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
        sandbox_card,
        attempts: 0,
        resends: 0,
        last_sent_at: None,
        outcome: None,
    };
    match idempotency {
        None => state.store.insert_authentication(&auth).await?,
        Some(used) => {
            let record = IdempotencyKey {
                merchant_id: merchant.id.clone(),
                key: used,
                request_hash,
                authentication_id: id.clone(),
                created_at: now,
            };
            match state
                .store
                .insert_authentication_with_key(&auth, &record)
                .await
            {
                Ok(()) => {}
                // A concurrent request with the same key stored first: answer as its retry.
                Err(StoreError::Conflict) => {
                    let first = state
                        .store
                        .idempotency_key(&merchant.id, &record.key)
                        .await?
                        .ok_or_else(|| ApiError::Internal("idempotency key vanished".into()))?;
                    return replay(&state, &first, &record.request_hash).await;
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
    state.metrics.authentication("created");
    tracing::info!(authentication = %id, merchant = %auth.merchant_id, "authentication created");
    Ok(created(&auth, client_secret, false))
}

/// The fields of a create request that are checked rather than copied.
struct Purchase {
    amount: i64,
    preference: ChallengePreference,
}

fn checked_purchase(request: &CreateRequest) -> Result<Purchase, ApiError> {
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
    Ok(Purchase {
        // At most MAX_AMOUNT, far below i64::MAX.
        amount: i64::try_from(request.amount).unwrap_or(i64::MAX),
        preference,
    })
}

/// The card reference, and the test card when the merchant is a sandbox.
fn card_of(
    state: &AppState,
    sandbox: bool,
    request: &CreateRequest,
) -> Result<(String, Option<SandboxCard>), ApiError> {
    match (&request.card_number, &request.card_ref) {
        (Some(number), None) => {
            let number = CardNumber::parse(number).ok_or(ApiError::InvalidCardNumber)?;
            let card = match sandbox {
                true => {
                    Some(SandboxCard::from_number(&number).ok_or(ApiError::SandboxCardRequired)?)
                }
                false => None,
            };
            Ok((number.reference(&state.secrets.card_key), card))
        }
        // A reference hides the number, so it cannot be a test card.
        (None, Some(_)) if sandbox => Err(ApiError::SandboxCardRequired),
        (None, Some(reference)) if is_reference(reference) => Ok((reference.clone(), None)),
        (None, Some(_)) => Err(ApiError::InvalidRequest(
            "card_ref must be 64 lowercase hex digits.",
        )),
        _ => Err(ApiError::InvalidRequest(
            "Exactly one of card_number and card_ref is required.",
        )),
    }
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters, or absent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    let valid =
        (1..=MAX_IDEMPOTENCY_KEY).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(ApiError::InvalidRequest(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// What makes two create requests the same: the card (as its reference, never the number),
/// amount, currency, order and preference. Lengths prefix the strings, so no two requests
/// share an encoding.
fn request_hash(
    card_ref: &str,
    request: &CreateRequest,
    preference: ChallengePreference,
) -> Vec<u8> {
    let mut hash = Sha256::new();
    for field in [
        card_ref,
        &request.amount.to_string(),
        &request.currency,
        &request.order_ref,
        preference.as_str(),
    ] {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field.as_bytes());
    }
    hash.finalize().to_vec()
}

/// An authentication's client secret: keyed by the server, derived from its id, so it can be
/// answered again to a retried request and is never stored (only its SHA-256 is).
fn client_secret(state: &AppState, authentication_id: &str) -> String {
    let mac = hmac_sha256(
        &state.secrets.client_secret_key,
        &[b"mamori-client-secret-v1\0", authentication_id.as_bytes()],
    );
    format!("cs_{}", hex(&mac))
}

/// The answer to a retried request: the first request's authentication, if it was the same.
async fn replay(
    state: &AppState,
    first: &IdempotencyKey,
    request_hash: &[u8],
) -> Result<Response, ApiError> {
    // The hash is of the merchant's own request, no secret: a plain comparison is enough.
    if first.request_hash != request_hash {
        return Err(ApiError::IdempotencyKeyReused);
    }
    let auth = state
        .store
        .authentication(&first.authentication_id)
        .await?
        .ok_or_else(|| ApiError::Internal("idempotency key without its authentication".into()))?;
    let secret = client_secret(state, &auth.id);
    Ok(created(&auth, secret, true))
}

/// `201 {id, client_secret, expires_at}`; a replay says so in `Idempotent-Replayed`.
fn created(auth: &Authentication, client_secret: String, replayed: bool) -> Response {
    let body =
        json!({ "id": auth.id, "client_secret": client_secret, "expires_at": auth.expires_at });
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
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

/// How many kept mails `GET /v1/sandbox/mail` answers.
const SANDBOX_MAIL_LIMIT: i64 = 50;

/// `GET /v1/sandbox/mail`: a sandbox merchant's kept mail, newest first, for its tests to read
/// codes and alerts from. Live merchants get `404`: their mail goes to cardholders only.
pub async fn sandbox_mail(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let key = authenticate_merchant(&state, &headers).await?;
    let merchant = state.store.merchant(&key.merchant_id).await?;
    if !merchant.is_some_and(|m| m.sandbox) {
        return Err(ApiError::NotFound);
    }
    let mail: Vec<Value> = state
        .store
        .sandbox_mail(&key.merchant_id, SANDBOX_MAIL_LIMIT)
        .await?
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "authentication_id": m.authentication_id,
                "kind": m.kind,
                "to": m.recipient,
                "subject": m.subject,
                "text": m.text,
                "html": m.html,
                "created_at": m.delivered_at,
            })
        })
        .collect();
    Ok(Json(json!({ "mail": mail })))
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
