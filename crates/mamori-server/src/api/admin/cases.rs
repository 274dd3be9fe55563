//! Protection cases in the admin API (paths relative to `/admin/v1`):
//!
//! - `GET /cases[?state=open|under_review|refunded|declined]` → `{"items": [case…]}`, oldest
//!   first;
//! - `GET /cases/{id}` → the case (404 for an unknown id);
//! - `POST /cases/{id}/state` `{"state", "note"?}` → `{"case", "previous_state"}`; a move the
//!   rule forbids, or one that lost a race, is `409 case_state` with nothing changed.
//!
//! Each handler takes [`Admin`] first (nothing runs before the admin token is checked), parses, calls one operation of [`crate::flow::case`] and renders its answer.

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::Admin;
use crate::api::extract::JsonBody;
use crate::error::ApiError;
use crate::model::{CaseId, CaseState};
use crate::state::AppState;
use crate::wire::cases::{CaseList, CaseView, MoveRequest, MovedView};

/// The cases' routes, relative to `/admin/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/{id}", get(show))
        .route("/cases/{id}/state", post(move_case))
}

/// `GET /cases[?state=…]`.
pub(crate) async fn list(
    _admin: Admin,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<CaseList>, ApiError> {
    let filter = state_filter(query.as_deref())?;
    let cases = state.flow().cases(filter).await?;
    Ok(Json(CaseList {
        items: cases.iter().map(CaseView::from).collect(),
    }))
}

/// `GET /cases/{id}`.
pub(crate) async fn show(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let id = CaseId::parse(&id).ok_or(ApiError::NotFound)?;
    let case = state.flow().case(&id).await?;
    Ok(Json(CaseView::from(&case)))
}

/// `POST /cases/{id}/state`.
pub(crate) async fn move_case(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<MoveRequest>,
) -> Result<Json<MovedView>, ApiError> {
    let id = CaseId::parse(&id).ok_or(ApiError::NotFound)?;
    let moved = state
        .flow()
        .move_case(&id, request.state.into(), request.note.as_deref())
        .await?;
    Ok(Json(MovedView {
        case: CaseView::from(&moved.case),
        previous_state: moved.previous.into(),
    }))
}

/// The list's query: nothing, or exactly `state=<a case state>`; anything else is refused
/// rather than ignored, so a misspelt filter never answers every case.
fn state_filter(query: Option<&str>) -> Result<Option<CaseState>, ApiError> {
    const REFUSAL: ApiError =
        ApiError::InvalidRequest("the only filter is state=open|under_review|refunded|declined");
    match query {
        None | Some("") => Ok(None),
        Some(query) => {
            let value = query.strip_prefix("state=").ok_or(REFUSAL)?;
            CaseState::parse(value).map(Some).ok_or(REFUSAL)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_takes_one_state_filter_or_none() {
        assert_eq!(state_filter(None).unwrap(), None);
        assert_eq!(state_filter(Some("")).unwrap(), None);
        for state in CaseState::ALL {
            let query = format!("state={}", state.as_str());
            assert_eq!(state_filter(Some(&query)).unwrap(), Some(state));
        }
        for bad in [
            "state=closed",
            "state=",
            "State=open",
            "state=open&state=declined",
            "open",
            "state=open&x=1",
        ] {
            assert!(state_filter(Some(bad)).is_err(), "{bad}");
        }
    }
}
