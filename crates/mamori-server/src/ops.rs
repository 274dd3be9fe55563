//! Operations routes: liveness, readiness, metrics, the OpenAPI document, the demo mailbox.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openapi;
use crate::state::AppState;
use crate::text::{escape_html, format_time};

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

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// `GET /openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(openapi::document(&state.config.public_url))
}

/// `GET /demo/mailbox`: the demo's delivered mail, newest first, each as its HTML part in a
/// sandboxed frame (the mail's own HTML cannot run script or reach this page).
pub async fn mailbox(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let messages = state.store.mailbox(50).await?;
    let items: String = messages
        .iter()
        .map(|m| {
            format!(
                "<article style=\"border:1px solid #ccc;margin:1em 0;padding:.5em 1em\">\
                 <p><strong>{}</strong><br>To: {} · {} · <code>{}</code></p>\
                 <iframe sandbox srcdoc=\"{}\" style=\"width:100%;height:22em;border:0\"></iframe>\
                 <details><summary>text</summary><pre>{}</pre></details></article>",
                escape_html(&m.subject),
                escape_html(&m.recipient),
                escape_html(&format_time(m.delivered_at, crate::model::Locale::En)),
                escape_html(&m.kind),
                escape_html(&m.html),
                escape_html(&m.text),
            )
        })
        .collect();
    let empty = if messages.is_empty() {
        "<p>No mail yet.</p>"
    } else {
        ""
    };
    Ok(Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>mamori demo mailbox</title></head>\n<body style=\"font-family:sans-serif;\
         max-width:50em;margin:1em auto\">\n<h1>Demo mailbox</h1>\n{empty}{items}\n</body></html>\n"
    )))
}
