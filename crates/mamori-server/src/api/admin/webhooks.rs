//! The admin API's webhook endpoints, relative to `/admin/v1`: the issuer's at `/webhook`, a
//! merchant's at `/merchants/{id}/webhook`. `PUT` sets the URL and answers a new secret (shown
//! once), `POST …/secrets` rotates it (the old one keeps signing for a day), `GET` shows the
//! endpoint, `DELETE` removes it. The logic is [`crate::webhooks::manage`], shared with
//! `mamori webhooks`.
//!
//! These handlers change who receives the issuer's events: each takes [`Admin`] first, so
//! nothing runs before the caller's admin token is checked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::Admin;
use crate::api::extract::JsonBody;
use crate::error::ApiError;
use crate::model::MerchantId;
use crate::state::AppState;
use crate::webhooks::Owner;
use crate::webhooks::manage::{Endpoints, ManageError};
use crate::wire::webhooks::{SetWebhook, WebhookEndpoint, WebhookSecret};

/// The webhook routes, paths relative to `/admin/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/webhook",
            get(show_issuer).put(set_issuer).delete(remove_issuer),
        )
        .route("/webhook/secrets", post(rotate_issuer))
        .route(
            "/merchants/{id}/webhook",
            get(show_merchant).put(set_merchant).delete(remove_merchant),
        )
        .route("/merchants/{id}/webhook/secrets", post(rotate_merchant))
}

/// `GET /webhook`.
async fn show_issuer(
    _admin: Admin,
    State(state): State<AppState>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    show(&state, &Owner::Issuer).await
}

/// `PUT /webhook`.
async fn set_issuer(
    _admin: Admin,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<SetWebhook>,
) -> Result<Json<WebhookSecret>, ApiError> {
    set(&state, &Owner::Issuer, &request).await
}

/// `POST /webhook/secrets`.
async fn rotate_issuer(
    _admin: Admin,
    State(state): State<AppState>,
) -> Result<Json<WebhookSecret>, ApiError> {
    rotate(&state, &Owner::Issuer).await
}

/// `DELETE /webhook`.
async fn remove_issuer(
    _admin: Admin,
    State(state): State<AppState>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &Owner::Issuer).await
}

/// `GET /merchants/{id}/webhook`.
async fn show_merchant(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    show(&state, &merchant(&id)?).await
}

/// `PUT /merchants/{id}/webhook`.
async fn set_merchant(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<SetWebhook>,
) -> Result<Json<WebhookSecret>, ApiError> {
    set(&state, &merchant(&id)?, &request).await
}

/// `POST /merchants/{id}/webhook/secrets`.
async fn rotate_merchant(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookSecret>, ApiError> {
    rotate(&state, &merchant(&id)?).await
}

/// `DELETE /merchants/{id}/webhook`.
async fn remove_merchant(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &merchant(&id)?).await
}

/// The merchant a path names; an id that cannot exist is as missing as one that does not.
fn merchant(id: &str) -> Result<Owner, ApiError> {
    MerchantId::parse(id)
        .map(Owner::Merchant)
        .ok_or(ApiError::NotFound)
}

fn endpoints(state: &AppState) -> Endpoints<'_> {
    Endpoints {
        store: state.store.as_ref(),
        key: &state.secrets.webhook_key,
        now: state.now(),
        allow_private_addresses: state.config.webhooks.allow_private_addresses,
    }
}

async fn set(
    state: &AppState,
    owner: &Owner,
    request: &SetWebhook,
) -> Result<Json<WebhookSecret>, ApiError> {
    Ok(Json(
        endpoints(state)
            .set(owner, &request.url)
            .await
            .map_err(refusal)?,
    ))
}

async fn rotate(state: &AppState, owner: &Owner) -> Result<Json<WebhookSecret>, ApiError> {
    Ok(Json(endpoints(state).rotate(owner).await.map_err(refusal)?))
}

async fn show(state: &AppState, owner: &Owner) -> Result<Json<WebhookEndpoint>, ApiError> {
    Ok(Json(endpoints(state).show(owner).await.map_err(refusal)?))
}

async fn remove(state: &AppState, owner: &Owner) -> Result<StatusCode, ApiError> {
    endpoints(state).remove(owner).await.map_err(refusal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The answer to a refused change: a bad URL is the caller's to fix (the message says which
/// rule), a missing merchant or endpoint is 404, a store without a free connection is 503 like
/// on every other route, the rest is ours.
fn refusal(error: ManageError) -> ApiError {
    match error {
        ManageError::InvalidUrl(why) => ApiError::InvalidRequest(why),
        ManageError::NoSuchMerchant | ManageError::NoEndpoint => ApiError::NotFound,
        ManageError::Random(e) => e.into(),
        ManageError::Store(e) => e.into(),
    }
}
