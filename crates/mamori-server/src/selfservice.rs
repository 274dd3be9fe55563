//! The cardholder's own page, `GET /me/{token}`: the card's trusted browsers, each with a
//! "remove" button, and its cases the issuer has not decided yet.
//!
//! Every mail to a card carries the link (a signed, expiring token naming the card, see
//! [`crate::tokens::Tokens::selfservice_url`]); the page shows that card's data only, in its
//! cardholder's language. Removing is a plain form posting to
//! `POST /me/{token}/browsers/{device_id}/remove`, which answers `303 See Other` back to the
//! page with a status line: no script, and the strict CSP of every page (`form-action 'self'`).
//! A forged or expired link, and a browser the card does not trust, answer a `404` page.

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::flow::FlowError;
use crate::flow::notice::browser_summary;
use crate::flow::selfservice::SelfService;
use crate::model::{CaseState, Locale};
use crate::report::page;
use crate::state::AppState;
use crate::text::{escape_html, format_amount, format_time};

/// The query the page is redirected to after a removal, for its status line.
const REMOVED: &str = "removed=1";

/// The page's words in a language.
struct Words {
    title: &'static str,
    card: &'static str,
    removed: &'static str,
    browsers: &'static str,
    browsers_intro: &'static str,
    no_browsers: &'static str,
    browser: &'static str,
    shop: &'static str,
    trusted_since: &'static str,
    last_used: &'static str,
    never: &'static str,
    remove: &'static str,
    cases: &'static str,
    no_cases: &'static str,
    amount: &'static str,
    state: &'static str,
    reported: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::Ja => Words {
            title: "登録済みのブラウザとご報告",
            card: "カード",
            removed: "ブラウザを削除しました。次回そのブラウザでお買い物をされる際は確認コードが必要です。",
            browsers: "登録済みのブラウザ",
            browsers_intro: "確認コードなしでお買い物ができるブラウザです。お心当たりのないものは削除してください。",
            no_browsers: "登録済みのブラウザはありません。",
            browser: "ブラウザ",
            shop: "加盟店",
            trusted_since: "登録日時",
            last_used: "最終利用",
            never: "—",
            remove: "削除",
            cases: "確認中のご報告",
            no_cases: "確認中のご報告はありません。",
            amount: "金額",
            state: "状況",
            reported: "ご報告日時",
        },
        Locale::En => Words {
            title: "Your trusted browsers and reports",
            card: "Card",
            removed: "The browser was removed. Its next purchase will need a code.",
            browsers: "Trusted browsers",
            browsers_intro: "These browsers can make purchases without a code. Remove any you \
                             do not recognise.",
            no_browsers: "No browser is trusted for this card.",
            browser: "Browser",
            shop: "Shop",
            trusted_since: "Trusted since",
            last_used: "Last used",
            never: "—",
            remove: "Remove",
            cases: "Open reports",
            no_cases: "You have no open reports.",
            amount: "Amount",
            state: "State",
            reported: "Reported",
        },
    }
}

/// A case state as the cardholder reads it.
fn state_label(state: CaseState, locale: Locale) -> &'static str {
    match (locale, state) {
        (Locale::Ja, CaseState::Open) => "受付済み（このお取引の金額はご請求しません）",
        (Locale::Ja, CaseState::UnderReview) => "確認中（このお取引の金額はご請求しません）",
        (Locale::Ja, CaseState::Refunded) => "返金",
        (Locale::Ja, CaseState::Declined) => "ご請求",
        (Locale::En, CaseState::Open) => "Received (the amount is not charged to you)",
        (Locale::En, CaseState::UnderReview) => "Under review (the amount is not charged to you)",
        (Locale::En, CaseState::Refunded) => "Refunded",
        (Locale::En, CaseState::Declined) => "Declined",
    }
}

/// `GET /me/{token}`: the card's trusted browsers and open cases.
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let service = match state.flow().selfservice(&token).await {
        Ok(service) => service,
        Err(error) => return refusal(error),
    };
    let removed = query.as_deref() == Some(REMOVED);
    Ok(render(&service, &token, removed))
}

/// `POST /me/{token}/browsers/{device_id}/remove`: revokes the card's trust in that browser and
/// sends the cardholder back to the page, which says so.
pub async fn remove(
    State(state): State<AppState>,
    Path((token, device_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if let Err(error) = state.flow().remove_browser(&token, &device_id).await {
        return refusal(error);
    }
    // Relative to this URL (`/me/{token}/browsers/{device_id}/remove`), so the page is found
    // wherever the verifier is mounted.
    let location = format!("../../../{token}?{REMOVED}");
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

/// A refusal as a page: the link's or the browser's `404` (the cardholder's language is not
/// known without a valid link, so it says it in both), anything else as the API's error.
fn refusal(error: FlowError) -> Result<Response, ApiError> {
    let (title, text) = match error {
        FlowError::InvalidSelfServiceLink => (
            "リンクが無効です / This link is invalid",
            "このリンクは無効か、有効期限が切れています。最新のメールのリンクをお使いください。\n\
             This link is invalid or has expired. Please use the link in your latest email.",
        ),
        FlowError::UnknownBrowser => (
            "ブラウザが見つかりません / Browser not found",
            "このブラウザは登録されていないか、すでに削除されています。\n\
             This browser is not trusted for your card, or was removed already.",
        ),
        other => return Err(other.into()),
    };
    let body: String = text
        .lines()
        .map(|line| format!("<p>{}</p>\n", escape_html(line)))
        .collect();
    Ok(page(Locale::En, title, &body, StatusCode::NOT_FOUND))
}

fn render(service: &SelfService, token: &str, removed: bool) -> Response {
    let locale = service.cardholder.locale;
    let w = words(locale);
    let mut body = format!(
        "<p>{} •••• {}</p>\n",
        escape_html(w.card),
        escape_html(&service.cardholder.last4)
    );
    if removed {
        body.push_str(&format!(
            "<p role=\"status\"><strong>{}</strong></p>\n",
            escape_html(w.removed)
        ));
    }
    body.push_str(&format!(
        "<h2>{}</h2>\n<p>{}</p>\n",
        escape_html(w.browsers),
        escape_html(w.browsers_intro)
    ));
    if service.browsers.is_empty() {
        body.push_str(&format!("<p>{}</p>\n", escape_html(w.no_browsers)));
    } else {
        let header = row("th", &[w.browser, w.shop, w.trusted_since, w.last_used, ""]);
        let rows: String = service
            .browsers
            .iter()
            .map(|b| {
                // The form posts relative to this page (`/me/{token}`), token included.
                let action = format!("{token}/browsers/{}/remove", b.device_id);
                let button = format!(
                    "<form method=\"post\" action=\"{}\" style=\"margin:0\">\
                     <button type=\"submit\" data-device=\"{}\">{}</button></form>",
                    escape_html(&action),
                    escape_html(b.device_id.as_str()),
                    escape_html(w.remove)
                );
                let cells = [
                    escape_html(&browser_summary(Some(&b.browser))),
                    escape_html(&b.merchant_name),
                    escape_html(&format_time(b.trusted_since, locale)),
                    escape_html(
                        &b.last_used
                            .map_or_else(|| w.never.to_owned(), |t| format_time(t, locale)),
                    ),
                    button,
                ];
                format!(
                    "<tr>{}</tr>\n",
                    cells.map(|c| format!("<td>{c}</td>")).concat()
                )
            })
            .collect();
        body.push_str(&format!("<table>\n{header}{rows}</table>\n"));
    }
    body.push_str(&format!("<h2>{}</h2>\n", escape_html(w.cases)));
    if service.cases.is_empty() {
        body.push_str(&format!("<p>{}</p>\n", escape_html(w.no_cases)));
    } else {
        let header = row("th", &[w.shop, w.amount, w.state, w.reported]);
        let rows: String = service
            .cases
            .iter()
            .map(|c| {
                row(
                    "td",
                    &[
                        &c.merchant_name,
                        &format_amount(c.amount, c.currency),
                        state_label(c.state, locale),
                        &format_time(c.created_at, locale),
                    ],
                )
            })
            .collect();
        body.push_str(&format!("<table>\n{header}{rows}</table>\n"));
    }
    page(locale, w.title, &body, StatusCode::OK)
}

/// A table row of escaped `cells`, each in a `cell` element (`th` or `td`).
fn row(cell: &str, cells: &[&str]) -> String {
    let cells: String = cells
        .iter()
        .map(|c| {
            format!(
                "<{cell} style=\"text-align:left;padding-right:1em\">{}</{cell}>",
                escape_html(c)
            )
        })
        .collect();
    format!("<tr>{cells}</tr>\n")
}
