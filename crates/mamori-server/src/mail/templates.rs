//! The cardholder's mail, in Japanese and English, each as plain text and HTML.
//!
//! Every value that comes from a merchant or a browser (merchant name, order details, user
//! agent) is escaped before it enters the HTML part.

use crate::model::{Amount, CODE_MAIL, Currency, Locale, NewMail, SandboxMailbox};
use crate::text::{escape_html, format_amount, format_time};

/// The purchase a mail is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseFacts<'a> {
    /// The cardholder's address.
    pub recipient: &'a str,
    /// The cardholder's language.
    pub locale: Locale,
    /// The merchant's display name.
    pub merchant: &'a str,
    /// A sandbox merchant's mail says so in the subject, and is kept in this mailbox instead of
    /// being sent.
    pub sandbox: Option<SandboxMailbox>,
    /// The amount.
    pub amount: Amount,
    /// Its currency.
    pub currency: Currency,
    /// When the purchase was attempted.
    pub time: i64,
    /// The browser, as reported by the widget, for alerts.
    pub browser: &'a str,
    /// The one-click "I did not make this purchase" link.
    pub report_url: &'a str,
}

/// Which fraud alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// Too many wrong codes: someone may be guessing.
    ChallengeFailed,
    /// The issuer refused a purchase.
    Rejected,
    /// A new browser was trusted after a correct code.
    NewDevice,
}

impl Alert {
    /// Every alert.
    pub const ALL: [Self; 3] = [Self::ChallengeFailed, Self::Rejected, Self::NewDevice];

    /// The outbox `kind`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::ChallengeFailed => "alert_failed",
            Self::Rejected => "alert_rejected",
            Self::NewDevice => "alert_new_device",
        }
    }
}

/// The mail carrying a one-time code.
pub fn code_mail(facts: &PurchaseFacts<'_>, code: &str, expires_at: i64) -> NewMail {
    let amount = format_amount(facts.amount, facts.currency);
    let expiry = format_time(expires_at, facts.locale);
    let (subject, intro, validity, warning, report) = match facts.locale {
        Locale::Ja => (
            format!("【{}】ご本人確認コード", facts.merchant),
            format!("{} でのお買い物（{amount}）のご本人確認コードです。", facts.merchant),
            format!("有効期限は {expiry} です。コードは一度だけ使えます。"),
            "このコードは誰にも教えないでください。カード会社や加盟店がコードを尋ねることはありません。"
                .to_owned(),
            "お心当たりがない場合は、こちらからお知らせください（登録済みの端末は無効になります）:"
                .to_owned(),
        ),
        Locale::En => (
            format!("Your verification code for {}", facts.merchant),
            format!(
                "Here is your verification code for a purchase of {amount} at {}.",
                facts.merchant
            ),
            format!("It is valid until {expiry} and can be used once."),
            "Do not share it with anyone. Your card issuer and the shop will never ask for it."
                .to_owned(),
            "If this wasn't you, tell us here (your trusted browsers will be signed out):"
                .to_owned(),
        ),
    };
    let text = format!(
        "{intro}\n\n    {code}\n\n{validity}\n{warning}\n\n{report}\n{}\n",
        facts.report_url
    );
    let body = format!(
        "<p>{}</p>\n<p style=\"font-size:32px;font-weight:bold;letter-spacing:6px;\
         font-family:monospace\">{}</p>\n<p>{}</p>\n<p>{}</p>\n<p>{} <a href=\"{}\">{}</a></p>",
        escape_html(&intro),
        escape_html(code),
        escape_html(&validity),
        escape_html(&warning),
        escape_html(&report),
        escape_html(facts.report_url),
        escape_html(facts.report_url),
    );
    finish(facts, CODE_MAIL, subject, text, &body)
}

/// A fraud alert.
pub fn alert_mail(facts: &PurchaseFacts<'_>, alert: Alert) -> NewMail {
    let amount = format_amount(facts.amount, facts.currency);
    let time = format_time(facts.time, facts.locale);
    let (subject, what, details, report) = match facts.locale {
        Locale::Ja => {
            let (subject, what) = match alert {
                Alert::ChallengeFailed => (
                    "【重要】ご本人確認コードの入力に失敗しました",
                    "ご本人確認コードが規定回数以上誤って入力されたため、お取引を中止しました。",
                ),
                Alert::Rejected => (
                    "【重要】カードのご利用をお断りしました",
                    "次のお取引は安全のためお断りしました。",
                ),
                Alert::NewDevice => (
                    "新しいブラウザを登録しました",
                    "ご本人確認ののち、次のブラウザを信頼済みとして登録しました。",
                ),
            };
            (
                subject.to_owned(),
                what.to_owned(),
                format!(
                    "加盟店: {}\n金額: {amount}\n日時: {time}\nブラウザ: {}",
                    facts.merchant, facts.browser
                ),
                "お心当たりがない場合は、こちらからお知らせください（登録済みの端末は無効になります）:",
            )
        }
        Locale::En => {
            let (subject, what) = match alert {
                Alert::ChallengeFailed => (
                    "Important: verification code entered wrongly too many times",
                    "The verification code was entered wrongly too many times, so the purchase \
                     was stopped.",
                ),
                Alert::Rejected => (
                    "Important: a purchase with your card was declined",
                    "For your safety, we declined this purchase.",
                ),
                Alert::NewDevice => (
                    "A new browser was trusted",
                    "After a correct verification code, this browser is now trusted for your card.",
                ),
            };
            (
                subject.to_owned(),
                what.to_owned(),
                format!(
                    "Shop: {}\nAmount: {amount}\nTime: {time}\nBrowser: {}",
                    facts.merchant, facts.browser
                ),
                "If this wasn't you, tell us here (your trusted browsers will be signed out):",
            )
        }
    };
    let text = format!("{what}\n\n{details}\n\n{report}\n{}\n", facts.report_url);
    let rows: String = details
        .lines()
        .map(|line| format!("<li>{}</li>", escape_html(line)))
        .collect();
    let body = format!(
        "<p>{}</p>\n<ul>{rows}</ul>\n<p>{} <a href=\"{}\">{}</a></p>",
        escape_html(&what),
        escape_html(report),
        escape_html(facts.report_url),
        escape_html(facts.report_url),
    );
    finish(facts, alert.kind(), subject, text, &body)
}

fn finish(
    facts: &PurchaseFacts<'_>,
    kind: &str,
    subject: String,
    text: String,
    body: &str,
) -> NewMail {
    let subject = if facts.sandbox.is_some() {
        format!("[SANDBOX] {subject}")
    } else {
        subject
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.6;max-width:36em;\
         overflow-wrap:anywhere\">\n{body}\n</body></html>\n",
        facts.locale.as_str(),
        escape_html(&subject),
    );
    NewMail {
        kind: kind.into(),
        recipient: facts.recipient.into(),
        subject,
        text,
        html,
        sandbox: facts.sandbox.clone(),
        dedupe: None,
        thread: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthenticationId, MerchantId};

    fn facts(locale: Locale) -> PurchaseFacts<'static> {
        PurchaseFacts {
            recipient: "taro@example.com",
            locale,
            merchant: "Shop <script>",
            sandbox: None,
            amount: Amount::new(12_800).unwrap(),
            currency: Currency::new("JPY").unwrap(),
            time: 1_800_000_000,
            browser: "Chromium, ja-JP, Asia/Tokyo",
            report_url: "https://v.example/report/abc?x=1&y=2",
        }
    }

    #[test]
    fn code_mail_in_both_languages() {
        for locale in [Locale::Ja, Locale::En] {
            let mail = code_mail(&facts(locale), "012345", 1_800_000_600);
            assert_eq!(mail.kind, "code");
            assert!(mail.text.contains("012345") && mail.html.contains("012345"));
            assert!(mail.text.contains("¥12,800") && mail.html.contains("¥12,800"));
            assert!(mail.text.contains("https://v.example/report/abc?x=1&y=2"));
            assert!(
                mail.html
                    .contains("https://v.example/report/abc?x=1&amp;y=2")
            );
            assert!(!mail.html.contains("<script>"), "merchant name is escaped");
            assert!(mail.html.contains("Shop &lt;script&gt;"));
            assert!(mail.html.contains(&format!("lang=\"{}\"", locale.as_str())));
        }
        assert!(code_mail(&facts(Locale::Ja), "1", 0).text.contains("JST"));
        assert!(code_mail(&facts(Locale::En), "1", 0).text.contains("UTC"));
    }

    #[test]
    fn alerts_name_the_purchase() {
        for alert in Alert::ALL {
            for locale in [Locale::Ja, Locale::En] {
                let mail = alert_mail(&facts(locale), alert);
                assert_eq!(mail.kind, alert.kind());
                assert!(mail.text.contains("¥12,800"));
                assert!(mail.text.contains("Chromium, ja-JP"));
                assert!(mail.html.contains("/report/abc"));
                assert!(!mail.html.contains("<script>"));
            }
        }
    }

    #[test]
    fn sandbox_is_marked() {
        let mailbox = SandboxMailbox {
            merchant_id: MerchantId::from_static("m_test"),
            authentication_id: AuthenticationId::from_static("au_1"),
        };
        let f = PurchaseFacts {
            sandbox: Some(mailbox.clone()),
            ..facts(Locale::En)
        };
        let mail = code_mail(&f, "1", 0);
        assert!(mail.subject.starts_with("[SANDBOX] "));
        assert_eq!(mail.sandbox, Some(mailbox));
    }
}
