//! `/admin/v1/cardholders`: enrolling cards (many at once), reading, changing, blocking and
//! unenrolling them, and listing and removing their trusted browsers.

use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use super::Admin;
use crate::admin::{self as operations, Enrolment, parse_ceilings, parse_email, parse_locale};
use crate::api::extract::JsonBody;
use crate::error::ApiError;
use crate::model::{CardStatus, CardholderId, DeviceId};
use crate::state::AppState;
use crate::store::CardholderChange;
use crate::wire::admin::{
    Cardholder, CardholderList, CardholderPatch, EnrolRequest, EnrolResult, EnrolResults,
    TrustedBrowserList,
};

/// The most cards one request enrols: a request stays well inside the body limit and one
/// transaction's worth of time.
const MAX_ENROLMENTS: usize = 100;

/// The cardholder routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cardholders", post(enrol).get(list))
        .route("/cardholders/{id}", get(show).patch(change).delete(unenrol))
        .route("/cardholders/{id}/block", post(block))
        .route("/cardholders/{id}/unblock", post(unblock))
        .route("/cardholders/{id}/devices", get(devices))
        .route(
            "/cardholders/{id}/devices/{device_id}",
            delete(remove_device),
        )
}

/// The cardholder `{id}` names; an id of another shape names none.
fn cardholder_id(id: &str) -> Result<CardholderId, ApiError> {
    CardholderId::parse(id).ok_or(ApiError::NotFound)
}

/// `POST /cardholders`: enrols each card on its own and answers one result per card, in
/// order; a refused card (its error code and message as a single request would answer) does
/// not stop the others.
pub async fn enrol(
    _: Admin,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<EnrolRequest>,
) -> Result<Json<EnrolResults>, ApiError> {
    if request.cardholders.is_empty() || request.cardholders.len() > MAX_ENROLMENTS {
        return Err(ApiError::InvalidRequest(
            "cardholders must hold 1 to 100 cards.",
        ));
    }
    let mut items = Vec::with_capacity(request.cardholders.len());
    for item in request.cardholders {
        let enrolled = match Enrolment::parse(
            &item.card,
            &item.email,
            item.locale.as_deref(),
            item.ceilings.as_deref(),
        ) {
            Ok(enrolment) => {
                operations::enrol(state.store.as_ref(), &state.secrets, enrolment, state.now())
                    .await
            }
            Err(refused) => Err(refused),
        };
        items.push(match enrolled {
            Ok(cardholder) => EnrolResult::Enrolled {
                cardholder: Cardholder::from(&cardholder),
            },
            Err(refused) => {
                let refused = ApiError::from(refused);
                if let ApiError::Internal(detail) = &refused {
                    tracing::error!(detail, "enrolling a card failed");
                }
                let (error, message) = refused.parts();
                EnrolResult::Refused { error, message }
            }
        });
    }
    Ok(Json(EnrolResults { items }))
}

/// `GET /cardholders`: every card, oldest first, unenrolled ones included.
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
) -> Result<Json<CardholderList>, ApiError> {
    let items = state
        .store
        .cardholders()
        .await?
        .iter()
        .map(Cardholder::from)
        .collect();
    Ok(Json(CardholderList { items }))
}

/// `GET /cardholders/{id}`.
pub async fn show(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Cardholder>, ApiError> {
    let cardholder = state
        .store
        .cardholder(&cardholder_id(&id)?)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(Cardholder::from(&cardholder)))
}

/// `PATCH /cardholders/{id}`: a new address, language or ceilings; every member is parsed
/// before anything changes. A new address is told to the former one and ends the card's
/// self-service links (see [`operations::change_cardholder`]).
pub async fn change(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<CardholderPatch>,
) -> Result<Json<Cardholder>, ApiError> {
    let id = cardholder_id(&id)?;
    let email = patch.email.as_deref().map(parse_email).transpose()?;
    let change = CardholderChange {
        locale: patch.locale.as_deref().map(parse_locale).transpose()?,
        ceilings: patch.ceilings.as_deref().map(parse_ceilings).transpose()?,
    };
    let store = state.store.as_ref();
    let changed =
        operations::change_cardholder(store, &id, email.as_deref(), &change, state.now()).await?;
    Ok(Json(Cardholder::from(&changed)))
}

/// `POST /cardholders/{id}/block`: every purchase with the card is rejected.
pub async fn block(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Cardholder>, ApiError> {
    let id = cardholder_id(&id)?;
    let card = operations::set_card_status(state.store.as_ref(), &id, CardStatus::Blocked).await?;
    Ok(Json(Cardholder::from(&card)))
}

/// `POST /cardholders/{id}/unblock`.
pub async fn unblock(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Cardholder>, ApiError> {
    let id = cardholder_id(&id)?;
    let card = operations::set_card_status(state.store.as_ref(), &id, CardStatus::Active).await?;
    Ok(Json(Cardholder::from(&card)))
}

/// `DELETE /cardholders/{id}`: unenrols the card (see [`crate::store::AdminStore`]'s module
/// docs for what is kept) and answers it as it now is.
pub async fn unenrol(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Cardholder>, ApiError> {
    let id = cardholder_id(&id)?;
    let card = operations::unenrol(state.store.as_ref(), &id, state.now()).await?;
    Ok(Json(Cardholder::from(&card)))
}

/// `GET /cardholders/{id}/devices`: the enrolled card's live trusted browsers, oldest first.
pub async fn devices(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TrustedBrowserList>, ApiError> {
    let id = cardholder_id(&id)?;
    let browsers = operations::trusted_browsers(state.store.as_ref(), &id, state.now()).await?;
    Ok(Json(TrustedBrowserList::new(&browsers)))
}

/// `DELETE /cardholders/{id}/devices/{device_id}`: revokes the card's trust in that one browser
/// and answers the browsers the card still trusts; `404` (nothing changed) when the card does
/// not trust it.
pub async fn remove_device(
    _: Admin,
    State(state): State<AppState>,
    Path((id, device_id)): Path<(String, String)>,
) -> Result<Json<TrustedBrowserList>, ApiError> {
    let id = cardholder_id(&id)?;
    // A device id of another shape names no browser: as unknown as one of the right shape.
    let device_id = DeviceId::parse(&device_id).ok_or(ApiError::NotFound)?;
    let now = state.now();
    let store = state.store.as_ref();
    operations::remove_browser(store, &id, &device_id, now).await?;
    let browsers = operations::trusted_browsers(store, &id, now).await?;
    Ok(Json(TrustedBrowserList::new(&browsers)))
}
