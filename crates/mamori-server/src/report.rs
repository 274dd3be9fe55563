//! The cardholder's "I did not make this purchase" page.
//!
//! The link in every code mail and alert carries a signed, expiring token naming the
//! authentication. `GET` shows the purchase in the cardholder's language with a confirm
//! button (a plain form: no script needed); `POST` records the report, revokes the card's trust
//! in every browser (other cards' trust in those browsers stays) and opens a protection case;
//! from then on every purchase on the card is challenged until the issuer resolves the report
//! (`mamori reports resolve`). The thank-you page links the cardholder's own page
//! ([`crate::selfservice`]), where the case can be followed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;
use crate::flow::report::Reportable;
use crate::model::Locale;
use crate::state::AppState;
use crate::text::{escape_html, format_amount, format_time};

/// The confirmation page's words in a language.
struct Asking {
    title: &'static str,
    intro: &'static str,
    button: &'static str,
    done: &'static str,
}

fn asking(locale: Locale) -> Asking {
    match locale {
        Locale::Ja => Asking {
            title: "不正利用のご報告",
            intro: "次のお取引にお心当たりがない場合は、下のボタンを押してください。\
                    このカードで登録済みのブラウザはすべて無効になり、今後のお買い物では確認コードが必要になります。",
            button: "このお取引に心当たりはありません",
            done: "このお取引はすでにご報告いただいています。",
        },
        Locale::En => Asking {
            title: "Report a purchase you did not make",
            intro: "If you did not make this purchase, press the button below. Every browser \
                    trusted for this card will be signed out, and future purchases will need a \
                    code.",
            button: "I did not make this purchase",
            done: "This purchase has already been reported.",
        },
    }
}

/// Where the thank-you page says the report can be followed.
fn follow(locale: Locale) -> &'static str {
    match locale {
        Locale::Ja => {
            "ご報告の状況は、ご登録のメールアドレスにお送りするメールでお知らせします。\
                       メールのリンクから、登録済みのブラウザもご確認いただけます。"
        }
        Locale::En => {
            "We will tell you how your report goes by email, at the address registered \
                       for your card; its link also shows your trusted browsers."
        }
    }
}

/// The thank-you page's title and text in a language.
fn thanks(locale: Locale) -> (&'static str, &'static str) {
    match locale {
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
    }
}

/// `GET /report/{token}`: the purchase, and a button to report it (a plain form posting back to
/// this same URL, token included: no script needed).
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let r = state.flow().reportable(&token).await?;
    let locale = r.cardholder.locale;
    let words = asking(locale);
    let action = if r.reported {
        format!("<p><strong>{}</strong></p>", escape_html(words.done))
    } else {
        format!(
            "<form method=\"post\"><button type=\"submit\" \
             style=\"font-size:1.1em;padding:.6em 1.2em\">{}</button></form>",
            escape_html(words.button)
        )
    };
    let body = format!(
        "<p>{}</p>\n{}\n{action}",
        escape_html(words.intro),
        purchase_table(&r, locale)
    );
    Ok(page(locale, words.title, &body, StatusCode::OK))
}

/// `POST /report/{token}`: records the report (see [`crate::flow::report`]) and thanks.
pub async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let flow = state.flow();
    let r = flow.report(&token).await?;
    let locale = r.cardholder.locale;
    let (title, text) = thanks(locale);
    // No link to the cardholder's own page here: whoever holds a report link reaches this
    // page, also after the issuer has moved the card to a new address; the case's mail, sent
    // to the card's address, carries that link.
    let body = format!(
        "<p>{}</p>\n{}\n<p>{}</p>",
        escape_html(text),
        purchase_table(&r, locale),
        escape_html(follow(locale))
    );
    Ok(page(locale, title, &body, StatusCode::OK))
}

fn purchase_table(r: &Reportable, locale: Locale) -> String {
    let (shop, amount, time, card) = match locale {
        Locale::Ja => ("加盟店", "金額", "日時", "カード"),
        Locale::En => ("Shop", "Amount", "Time", "Card"),
    };
    let rows = [
        (shop, r.merchant.name.clone()),
        (amount, format_amount(r.auth.amount, r.auth.currency)),
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

/// A page for the cardholder — this report page, and [`crate::selfservice`]'s — with `body`
/// under `title`, in `locale`.
pub(crate) fn page(locale: Locale, title: &str, body: &str, status: StatusCode) -> Response {
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
