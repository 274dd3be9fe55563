//! `/admin/v1/merchants`: registering merchants, their origins and their keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};

use super::Admin;
use crate::admin as operations;
use crate::api::extract::JsonBody;
use crate::error::ApiError;
use crate::model::MerchantId;
use crate::state::AppState;
use crate::store::Store;
use crate::wire::admin::{
    KeyRotated, Merchant, MerchantCreated, MerchantList, NewMerchant, Origins,
};

/// The merchant routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/merchants", get(list).post(add))
        .route("/merchants/{id}", get(show))
        .route("/merchants/{id}/origins", put(replace_origins))
        .route("/merchants/{id}/keys", post(rotate_key))
}

/// The merchant `{id}` names; an id of another shape names none.
fn merchant_id(id: &str) -> Result<MerchantId, ApiError> {
    MerchantId::parse(id).ok_or(ApiError::NotFound)
}

/// The merchant and its keys, as answered.
async fn view(store: &dyn Store, merchant: &crate::model::Merchant) -> Result<Merchant, ApiError> {
    let keys = store.merchant_keys(&merchant.id).await?;
    Ok(Merchant::new(merchant, &keys))
}

/// `GET /merchants`: every merchant with its keys, oldest first.
pub async fn list(_: Admin, State(state): State<AppState>) -> Result<Json<MerchantList>, ApiError> {
    let store = state.store.as_ref();
    let mut items = Vec::new();
    for merchant in store.merchants().await? {
        items.push(view(store, &merchant).await?);
    }
    Ok(Json(MerchantList { items }))
}

/// `GET /merchants/{id}`.
pub async fn show(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Merchant>, ApiError> {
    let store = state.store.as_ref();
    let merchant = store
        .merchant(&merchant_id(&id)?)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(store, &merchant).await?))
}

/// `POST /merchants`: `201` with the merchant and its secret key, shown this once.
pub async fn add(
    _: Admin,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<NewMerchant>,
) -> Result<(StatusCode, Json<MerchantCreated>), ApiError> {
    let store = state.store.as_ref();
    let (merchant, issued) = operations::add_merchant(
        store,
        &request.name,
        &request.origins,
        request.sandbox,
        state.now(),
    )
    .await?;
    let created = MerchantCreated {
        merchant: Merchant::new(&merchant, std::slice::from_ref(&issued.key)),
        secret_key: issued.secret_key,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PUT /merchants/{id}/origins`: replaces every origin.
pub async fn replace_origins(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<Origins>,
) -> Result<Json<Merchant>, ApiError> {
    let store = state.store.as_ref();
    let id = merchant_id(&id)?;
    let merchant = operations::replace_origins(store, &id, &request.origins).await?;
    Ok(Json(view(store, &merchant).await?))
}

/// `POST /merchants/{id}/keys`: `201` with a new key's secret, shown this once; the older keys
/// keep working for `security.key_overlap` seconds.
pub async fn rotate_key(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<KeyRotated>), ApiError> {
    let id = merchant_id(&id)?;
    let (issued, retire_at) =
        operations::rotate_key(state.store.as_ref(), &state.config, &id, state.now()).await?;
    let rotated = KeyRotated {
        kid: issued.key.kid.to_string(),
        secret_key: issued.secret_key,
        older_keys_retire_at: retire_at,
    };
    Ok((StatusCode::CREATED, Json(rotated)))
}
