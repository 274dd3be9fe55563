//! The merchant backend's routes, authenticated by the merchant's secret key.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::token::{SECRET_KEY_PREFIX, encode_secret_key};
use subtle::ConstantTimeEq;

use super::extract::{JsonBody, bearer};
use super::throttle::{self, Bucket};
use crate::card::{CardNumber, is_reference};
use crate::error::ApiError;
use crate::flow::create::{CardInput, Created, NewPurchase};
use crate::model::{
    Amount, AuthenticationId, ChallengePreference, Currency, KeyId, MerchantKey, OrderRef,
};
use crate::state::AppState;
use crate::wire::{self, AuthenticationView, CreateRequest, KeptMail, SandboxMail};

/// The longest `Idempotency-Key` accepted (Stripe's limit).
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The merchant whose live secret key is the bearer token.
///
/// Rejects with [`ApiError::Unauthorized`] for a missing, malformed, unknown, retired or wrong
/// key; all alike from outside.
#[derive(Debug)]
pub struct MerchantAuth(pub MerchantKey);

impl FromRequestParts<AppState> for MerchantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = bearer(&parts.headers).ok_or(ApiError::Unauthorized("no bearer token"))?;
        let kid = presented
            .strip_prefix(SECRET_KEY_PREFIX)
            .and_then(|rest| rest.rsplit_once('.'))
            .and_then(|(kid, _)| KeyId::parse(kid))
            .ok_or(ApiError::Unauthorized("not a secret key"))?;
        let key = state
            .store
            .key_by_kid(&kid)
            .await?
            .ok_or(ApiError::Unauthorized("unknown kid"))?;
        let expected = encode_secret_key(key.kid.as_str(), &key.secret);
        let same: bool = expected.as_bytes().ct_eq(presented.as_bytes()).into();
        if !same {
            return Err(ApiError::Unauthorized("wrong secret"));
        }
        if !key.is_live(state.now()) {
            return Err(ApiError::Unauthorized("retired key"));
        }
        Ok(Self(key))
    }
}

/// The purchase a create request names, every field checked; the message of a refusal names
/// the field.
fn purchase(request: CreateRequest) -> Result<NewPurchase, ApiError> {
    let card = match (request.card_number, request.card_ref) {
        (Some(number), None) => {
            CardInput::Number(CardNumber::parse(&number).ok_or(ApiError::InvalidCardNumber)?)
        }
        (None, Some(reference)) if is_reference(&reference) => CardInput::Reference(reference),
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
    let amount = Amount::from_unsigned(request.amount).ok_or(ApiError::InvalidRequest(
        "amount must be a positive integer in minor units.",
    ))?;
    let currency = Currency::new(&request.currency).ok_or(ApiError::InvalidRequest(
        "currency must be an ISO 4217 code such as JPY.",
    ))?;
    let order_ref = OrderRef::parse(request.order_ref).ok_or(ApiError::InvalidRequest(
        "order_ref must be 1 to 128 characters without control characters.",
    ))?;
    let preference = match request.challenge_preference.as_deref() {
        None => ChallengePreference::NoPreference,
        Some(code) => ChallengePreference::parse(code).ok_or(ApiError::InvalidRequest(
            "challenge_preference must be 01, 02, 03 or 04.",
        ))?,
    };
    Ok(NewPurchase {
        card,
        amount,
        currency,
        order_ref,
        preference,
    })
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

/// `POST /v1/authentications`: starts an authentication (see [`crate::flow::create`]);
/// `201 {id, client_secret, expires_at}`, and a replay says so in `Idempotent-Replayed`.
pub async fn create(
    State(state): State<AppState>,
    MerchantAuth(key): MerchantAuth,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateRequest>,
) -> Result<Response, ApiError> {
    throttle::admit(&state, Bucket::MerchantKey(key.kid.as_str())).await?;
    let idempotency = idempotency_key(&headers)?;
    let purchase = purchase(request)?;
    let Created {
        id,
        expires_at,
        client_secret,
        replayed,
    } = state.flow().create(&key, purchase, idempotency).await?;
    let body = wire::Created {
        id: id.into(),
        client_secret,
        expires_at,
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `GET /v1/authentications/{id}`: the state, the result and why. An authentication past its
/// lifetime is expired here, so a merchant polling an abandoned one gets its final answer. An
/// `{id}` that is not an authentication id is as unknown as one that names none: `404`.
pub async fn get(
    State(state): State<AppState>,
    MerchantAuth(key): MerchantAuth,
    Path(id): Path<String>,
) -> Result<Json<AuthenticationView>, ApiError> {
    let id = AuthenticationId::parse(&id).ok_or(ApiError::NotFound)?;
    let auth = state.flow().lookup(&key.merchant_id, &id).await?;
    let outcome = auth.outcome();
    let assessment = auth.assessment();
    Ok(Json(AuthenticationView {
        state: auth.state().into(),
        status: outcome.map(|o| o.status.into()),
        eci: outcome.map(|o| o.eci.into()),
        method: outcome.map(|o| o.method.into()),
        trans_status_reason: outcome.and_then(|o| o.reason).map(|r| r.to_string()),
        reasons: assessment.map_or_else(Vec::new, |a| {
            a.risk_reasons
                .iter()
                .map(|r| r.name().into_owned())
                .collect()
        }),
        risk_score: assessment.map(|a| a.risk_score),
        amount: auth.amount.get(),
        currency: auth.currency.as_str().to_owned(),
        order_ref: auth.order_ref.as_str().to_owned(),
        created_at: auth.created_at,
        expires_at: auth.expires_at,
        result_token: outcome.map(|o| o.result_token.clone()),
        id: auth.id.into(),
    }))
}

/// `GET /v1/sandbox/mail`: a sandbox merchant's kept mail, newest first; `404` for a live
/// merchant.
pub async fn sandbox_mail(
    State(state): State<AppState>,
    MerchantAuth(key): MerchantAuth,
) -> Result<Json<SandboxMail>, ApiError> {
    let mail = state
        .flow()
        .sandbox_mail(&key.merchant_id)
        .await?
        .into_iter()
        .map(|m| KeptMail {
            id: m.id,
            authentication_id: m.authentication_id.map(String::from),
            kind: m.kind,
            to: m.recipient,
            subject: m.subject,
            text: m.text,
            html: m.html,
            created_at: m.delivered_at,
        })
        .collect();
    Ok(Json(SandboxMail { mail }))
}
