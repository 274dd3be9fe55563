//! Operations routes: liveness, readiness, metrics, the OpenAPI document.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openapi;
use crate::state::AppState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(json!({"status": "ready"}))),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            Err(ApiError::Unavailable)
        }
    }
}

/// `GET /metrics`: Prometheus text — the process's counters and latencies, and the outbox's
/// backlog, which is the database's and so the same on every instance.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    let name = "mamori_outbox_owed";
    let _ = writeln!(
        text,
        "# HELP {name} Mail the outbox has neither sent nor given up.\n# TYPE {name} gauge"
    );
    // Without the database there is no backlog to tell; the series is left out, which an
    // alert on its absence notices, rather than reported as zero.
    match state.store.mail_owed().await {
        Ok(owed) => {
            let _ = writeln!(text, "{name} {owed}");
        }
        Err(e) => tracing::error!(error = %e, "outbox backlog unavailable for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// `GET /openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document(&state.config.public_url))
}
