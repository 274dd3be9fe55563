//! The cardholder's "I did not make this purchase" page.
//!
//! The link in every code mail and alert carries a signed, expiring token naming the
//! authentication. `GET` shows the purchase in the cardholder's language with a confirm
//! button (a plain form: no script needed); `POST` records the report, revokes all the card's
//! trusted devices, and from then on every purchase on the card is challenged until the issuer
//! resolves the report (`mamori reports resolve`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;
use crate::model::{Authentication, Cardholder, FraudReport, Locale, Merchant};
use crate::secrets::random_id;
use crate::state::AppState;
use crate::text::{escape_html, format_amount, format_time};
use crate::tokens::check_report_token;

struct Reported {
    auth: Authentication,
    cardholder: Cardholder,
    merchant: Merchant,
}

async fn load(state: &AppState, token: &str) -> Result<Reported, ApiError> {
    let id = check_report_token(state, token).ok_or(ApiError::InvalidReportLink)?;
    let auth = state
        .store
        .authentication(&id)
        .await?
        .ok_or(ApiError::InvalidReportLink)?;
    let cardholder_id = auth
        .cardholder_id
        .as_deref()
        .ok_or(ApiError::InvalidReportLink)?;
    let cardholder = state
        .store
        .cardholder(cardholder_id)
        .await?
        .ok_or(ApiError::InvalidReportLink)?;
    let merchant = state
        .store
        .merchant(&auth.merchant_id)
        .await?
        .ok_or(ApiError::InvalidReportLink)?;
    Ok(Reported {
        auth,
        cardholder,
        merchant,
    })
}

/// `GET /report/{token}`.
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let r = load(&state, &token).await?;
    let already = state.store.report_for(&r.auth.id).await?.is_some();
    let locale = r.cardholder.locale;
    let (title, intro, button, done) = match locale {
        Locale::Ja => (
            "不正利用のご報告",
            "次のお取引にお心当たりがない場合は、下のボタンを押してください。\
             このカードで登録済みのブラウザはすべて無効になり、今後のお買い物では確認コードが必要になります。",
            "このお取引に心当たりはありません",
            "このお取引はすでにご報告いただいています。",
        ),
        Locale::En => (
            "Report a purchase you did not make",
            "If you did not make this purchase, press the button below. Every browser trusted \
             for this card will be signed out, and future purchases will need a code.",
            "I did not make this purchase",
            "This purchase has already been reported.",
        ),
    };
    let action = if already {
        format!("<p><strong>{}</strong></p>", escape_html(done))
    } else {
        // The form posts back to this same URL, token included.
        format!(
            "<form method=\"post\"><button type=\"submit\" \
             style=\"font-size:1.1em;padding:.6em 1.2em\">{}</button></form>",
            escape_html(button)
        )
    };
    let body = format!(
        "<p>{}</p>\n{}\n{action}",
        escape_html(intro),
        purchase_table(&r, locale)
    );
    Ok(page(locale, title, &body, StatusCode::OK))
}

/// `POST /report/{token}`.
pub async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let r = load(&state, &token).await?;
    let report = FraudReport {
        id: random_id("fr_")?,
        cardholder_id: r.cardholder.id.clone(),
        authentication_id: r.auth.id.clone(),
        created_at: state.now(),
        resolved_at: None,
    };
    let recorded = state.store.report_fraud(&report).await?;
    if recorded {
        tracing::warn!(report = %report.id, authentication = %r.auth.id,
            cardholder = %r.cardholder.id, "fraud reported; devices revoked");
    }
    let locale = r.cardholder.locale;
    let (title, text) = match locale {
        Locale::Ja => (
            "ご報告ありがとうございました",
            "ご報告を受け付けました。このカードで登録済みのブラウザはすべて無効にしました。\
             確認が済むまで、お買い物のたびに確認コードをお送りします。",
        ),
        Locale::En => (
            "Thank you for telling us",
            "We have recorded your report and signed out every browser trusted for this card. \
             Until we have reviewed it, every purchase will need a code.",
        ),
    };
    let body = format!(
        "<p>{}</p>\n{}",
        escape_html(text),
        purchase_table(&r, locale)
    );
    Ok(page(locale, title, &body, StatusCode::OK))
}

fn purchase_table(r: &Reported, locale: Locale) -> String {
    let (shop, amount, time, card) = match locale {
        Locale::Ja => ("加盟店", "金額", "日時", "カード"),
        Locale::En => ("Shop", "Amount", "Time", "Card"),
    };
    let rows = [
        (shop, r.merchant.name.clone()),
        (amount, format_amount(r.auth.amount, &r.auth.currency)),
        (time, format_time(r.auth.created_at, locale)),
        (card, format!("•••• {}", r.cardholder.last4)),
    ];
    let rows: String = rows
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th style=\"text-align:left;padding-right:1em\">{}</th><td>{}</td></tr>",
                escape_html(k),
                escape_html(v)
            )
        })
        .collect();
    format!("<table>{rows}</table>")
}

fn page(locale: Locale, title: &str, body: &str, status: StatusCode) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head>\n<body style=\"font-family:sans-serif;line-height:1.6;\
         max-width:36em;margin:2em auto;padding:0 1em\">\n<h1>{}</h1>\n{body}\n</body></html>\n",
        locale.as_str(),
        escape_html(title),
        escape_html(title),
    );
    (status, Html(html)).into_response()
}
