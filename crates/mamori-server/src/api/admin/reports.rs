//! `/admin/v1/reports`: the cardholders' fraud reports, and resolving them.

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::Admin;
use crate::admin as operations;
use crate::error::ApiError;
use crate::model::ReportId;
use crate::state::AppState;
use crate::wire::admin::{Report, ReportList};

/// The report routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list))
        .route("/reports/{id}/resolve", post(resolve))
}

/// Whether the query asks for open reports only: none, `open=true` or `open=false`, nothing
/// else.
fn open_only(query: Option<&str>) -> Result<bool, ApiError> {
    match query {
        None | Some("" | "open=false") => Ok(false),
        Some("open=true") => Ok(true),
        Some(_) => Err(ApiError::InvalidRequest(
            "The only query parameter is open=true or open=false.",
        )),
    }
}

/// `GET /reports[?open=true]`: reports, oldest first.
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ReportList>, ApiError> {
    let open_only = open_only(query.as_deref())?;
    let items = state
        .store
        .reports(open_only)
        .await?
        .iter()
        .map(Report::from)
        .collect();
    Ok(Json(ReportList { items }))
}

/// `POST /reports/{id}/resolve`: the card is no longer forced to challenge. Resolving a
/// resolved report answers it unchanged.
pub async fn resolve(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Report>, ApiError> {
    let id = ReportId::parse(&id).ok_or(ApiError::NotFound)?;
    let report = operations::resolve_report(state.store.as_ref(), &id, state.now()).await?;
    Ok(Json(Report::from(&report)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_open_true_or_false_or_nothing() {
        assert!(!open_only(None).unwrap());
        assert!(!open_only(Some("")).unwrap());
        assert!(!open_only(Some("open=false")).unwrap());
        assert!(open_only(Some("open=true")).unwrap());
        for bad in [
            "open=1",
            "open=TRUE",
            "open",
            "open=true&open=false",
            "all=true",
        ] {
            assert!(open_only(Some(bad)).is_err(), "{bad}");
        }
    }
}
