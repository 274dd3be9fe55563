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
/// rule), a missing merchant or endpoint is 404, the rest is ours.
fn refusal(error: ManageError) -> ApiError {
    match error {
        ManageError::InvalidUrl(why) => ApiError::InvalidRequest(why),
        ManageError::NoSuchMerchant | ManageError::NoEndpoint => ApiError::NotFound,
        ManageError::Random(e) => ApiError::Internal(e.to_string()),
        ManageError::Store(e) => ApiError::Internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Method, Request};
    use serde_json::Value;
    use tower::ServiceExt as _;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::Config;
    use crate::secrets::Secrets;
    use crate::webhooks::Secret;

    /// The verifier's whole app, and a live admin token of it.
    async fn app() -> (Router, AppState, String, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("admin.db").display());
        let store = crate::store::open(&url).await.unwrap();
        let state = AppState::new(
            Config::default(),
            store,
            Secrets::derive(&[5; 32]),
            Arc::new(ManualClock::new(1_800_000_000)),
        );
        let (_, token) = crate::admin::create_token(state.store.as_ref(), "tests", state.now())
            .await
            .unwrap();
        (crate::api::app(state.clone()), state, token, dir)
    }

    async fn call(
        (app, token): (&Router, &str),
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/admin/v1{path}"))
            .header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn the_issuers_endpoint_is_set_shown_rotated_and_removed() {
        let (app, state, token, _dir) = app().await;
        let app = (&app, token.as_str());
        let url = Some(r#"{"url":"https://issuer.example/hooks"}"#);
        let (status, set) = call(app, Method::PUT, "/webhook", url).await;
        assert_eq!(status, 200, "{set}");
        assert_eq!(set["url"], "https://issuer.example/hooks");
        let secret = Secret::parse(set["secret"].as_str().unwrap()).unwrap();
        // Stored sealed under the verifier's key, and opens to the secret answered.
        let stored = state
            .store
            .webhook(&Owner::Issuer, state.now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Secret::unseal(&state.secrets.webhook_key, &stored.secrets[0].sealed),
            Some(secret)
        );

        let (status, rotated) = call(app, Method::POST, "/webhook/secrets", None).await;
        assert_eq!(status, 200, "{rotated}");
        assert_ne!(rotated["secret"], set["secret"]);
        let (status, shown) = call(app, Method::GET, "/webhook", None).await;
        assert_eq!(status, 200);
        assert_eq!(shown["owner"], "issuer");
        assert_eq!(shown["secrets"].as_array().unwrap().len(), 2, "{shown}");
        assert!(
            shown.to_string().find("whsec_").is_none(),
            "no secret shown"
        );

        assert_eq!(call(app, Method::DELETE, "/webhook", None).await.0, 204);
        assert_eq!(call(app, Method::GET, "/webhook", None).await.0, 404);
        assert_eq!(call(app, Method::DELETE, "/webhook", None).await.0, 404);
        assert_eq!(
            call(app, Method::POST, "/webhook/secrets", None).await.0,
            404
        );
    }

    #[tokio::test]
    async fn bad_input_and_unknown_merchants_change_nothing() {
        let (app, state, token, _dir) = app().await;
        let app = (&app, token.as_str());
        for body in [
            r#"{"url":"http://issuer.example/"}"#,
            r#"{"url":"https://user:pw@issuer.example/"}"#,
        ] {
            let (status, error) = call(app, Method::PUT, "/webhook", Some(body)).await;
            assert_eq!(status, 400, "{body}: {error}");
            assert_eq!(error["error"], "invalid_request");
        }
        let extra = r#"{"url":"https://issuer.example/","events":[]}"#;
        assert_eq!(call(app, Method::PUT, "/webhook", Some(extra)).await.0, 400);
        let url = Some(r#"{"url":"https://shop.example/"}"#);
        for path in [
            "/merchants/m_nobody/webhook",
            "/merchants/not-an-id/webhook",
        ] {
            assert_eq!(call(app, Method::PUT, path, url).await.0, 404, "{path}");
        }
        let owner = Owner::Merchant(MerchantId::parse("m_nobody").unwrap());
        assert!(state.store.webhook(&owner, 0).await.unwrap().is_none());
        assert!(
            state
                .store
                .webhook(&Owner::Issuer, 0)
                .await
                .unwrap()
                .is_none()
        );
    }
}
