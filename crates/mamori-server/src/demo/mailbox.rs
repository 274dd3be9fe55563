//! The demo's mailbox: mail "delivered" into the database and shown at `/demo/mailbox`, so
//! people trying mamori read their codes without an SMTP server. Only `mamori demo` routes it;
//! `mamori serve` refuses `mail.delivery = "mailbox"` (see [`crate::mail::mailer_for`]).

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::mail::Mailer;
use crate::model::Mail;
use crate::state::AppState;
use crate::store::Store;
use crate::text::{escape_html, format_time};

/// `/demo/mailbox` and `/demo/mailbox/{n}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demo/mailbox", get(mailbox))
        .route("/demo/mailbox/{n}", get(mailbox_message))
}

/// Delivery into the store's demo mailbox.
pub struct MailboxMailer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl MailboxMailer {
    /// A mailer writing to `store`'s mailbox.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl Mailer for MailboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        self.store
            .deliver_to_mailbox(mail, self.clock.now())
            .await
            .map_err(|e| e.to_string())
    }
}

/// How many messages the demo mailbox shows.
const MAILBOX_SIZE: i64 = 100;

/// `GET /demo/mailbox`: the demo's delivered mail, newest first: subject, recipient, the
/// text part, the HTML part rendered as a mail program shows it, and a link to it alone.
///
/// The HTML part is shown in a sandboxed `srcdoc` frame: no script, no same-origin access,
/// and its links open outside the frame (a report link must reach the whole window).
pub async fn mailbox(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let messages = state.store.mailbox(MAILBOX_SIZE).await?;
    let items: String = messages
        .iter()
        .map(|m| {
            format!(
                "<article style=\"border:1px solid #ccc;margin:1em 0;padding:.5em 1em\">\
                 <p><strong>{}</strong><br>To: {} · {} · <code>{}</code> · \
                 <a href=\"/demo/mailbox/{}\">HTML</a></p>\
                 <pre style=\"white-space:pre-wrap;overflow-wrap:anywhere\">{}</pre>\
                 <iframe title=\"HTML\" sandbox=\"allow-popups allow-top-navigation-by-user-activation\" \
                 style=\"width:100%;height:22em;border:1px solid #eee\" srcdoc=\"{}\"></iframe>\
                 </article>",
                escape_html(&m.subject),
                escape_html(&m.recipient),
                escape_html(&format_time(m.delivered_at, crate::model::Locale::En)),
                escape_html(&m.kind),
                m.id,
                escape_html(&m.text),
                escape_html(&m.html),
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

/// `GET /demo/mailbox/{id}`: one message's HTML part, as rendered mail.
pub async fn mailbox_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .store
        .mailbox(MAILBOX_SIZE)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .map(|m| Html(m.html))
        .ok_or(ApiError::NotFound)
}
