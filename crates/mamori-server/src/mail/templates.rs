//! The cardholder's mail, in Japanese and English, each as plain text and HTML.
//!
//! Every value that comes from a merchant or a browser (merchant name, order details, user
//! agent) is escaped before it enters the HTML part. Every mail to a real card ends with the
//! link to the cardholder's own page (trusted browsers, open cases), but one: the notice to a
//! card's former address, which carries no link at all (see [`address_changed_mail`]).

use crate::model::{Amount, CODE_MAIL, CaseState, Currency, Locale, NewMail, SandboxMailbox};
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
    /// The cardholder's self-service page; `None` for a sandbox purchase, which has no card.
    pub selfservice_url: Option<&'a str>,
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
    let (footer_text, footer_html) = selfservice_footer(facts.locale, facts.selfservice_url);
    let text = format!(
        "{intro}\n\n    {code}\n\n{validity}\n{warning}\n\n{report}\n{}\n{footer_text}",
        facts.report_url
    );
    let body = format!(
        "<p>{}</p>\n<p style=\"font-size:32px;font-weight:bold;letter-spacing:6px;\
         font-family:monospace\">{}</p>\n<p>{}</p>\n<p>{}</p>\n<p>{} <a href=\"{}\">{}</a></p>{footer_html}",
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
    let (footer_text, footer_html) = selfservice_footer(facts.locale, facts.selfservice_url);
    let text = format!(
        "{what}\n\n{details}\n\n{report}\n{}\n{footer_text}",
        facts.report_url
    );
    let rows: String = details
        .lines()
        .map(|line| format!("<li>{}</li>", escape_html(line)))
        .collect();
    let body = format!(
        "<p>{}</p>\n<ul>{rows}</ul>\n<p>{} <a href=\"{}\">{}</a></p>{footer_html}",
        escape_html(&what),
        escape_html(report),
        escape_html(facts.report_url),
        escape_html(facts.report_url),
    );
    finish(facts, alert.kind(), subject, text, &body)
}

/// The protection case a case mail is about: the reported purchase, and who is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts<'a> {
    /// The cardholder's address.
    pub recipient: &'a str,
    /// The cardholder's language.
    pub locale: Locale,
    /// The merchant's display name, as recorded in the case.
    pub merchant: &'a str,
    /// The amount reported.
    pub amount: Amount,
    /// Its currency.
    pub currency: Currency,
    /// When the purchase was attempted.
    pub time: i64,
    /// The cardholder's self-service page.
    pub selfservice_url: &'a str,
}

/// The outbox `kind` of the mail saying a case is now in `state`.
pub fn case_kind(state: CaseState) -> &'static str {
    match state {
        CaseState::Open => "case_open",
        CaseState::UnderReview => "case_under_review",
        CaseState::Refunded => "case_refunded",
        CaseState::Declined => "case_declined",
    }
}

/// The mail telling the cardholder their case is now in `state`: what it means for the amount,
/// and what happens next.
///
/// The issuer's note is not part of it: notes are written for the issuer's staff (the admin
/// API, the CLI and the issuer's own `protection_case.updated` webhook), not worded for the
/// cardholder.
pub fn case_mail(facts: &CaseFacts<'_>, state: CaseState) -> NewMail {
    let amount = format_amount(facts.amount, facts.currency);
    let time = format_time(facts.time, facts.locale);
    let merchant = facts.merchant;
    let (subject, paragraphs): (String, Vec<String>) = match (facts.locale, state) {
        (Locale::Ja, CaseState::Open) => (
            format!("【{merchant}】不正利用のご報告を受け付けました"),
            vec![
                format!(
                    "{merchant} でのお取引（{amount}、{time}）について、お心当たりがないとのご報告を受け付けました。"
                ),
                "このカードで登録済みのブラウザはすべて無効にしました。次回のお買い物では確認コードが必要になります。".into(),
                "調査中は、このお取引の金額をお客さまにご請求することはありません。".into(),
                "今後の流れ: カード会社が内容を確認し、結果をメールでお知らせします。お客さまのお手続きは不要です。".into(),
            ],
        ),
        (Locale::Ja, CaseState::UnderReview) => (
            format!("【{merchant}】ご報告のお取引を確認しています"),
            vec![
                format!("{merchant} でのお取引（{amount}、{time}）について、カード会社で確認を進めています。"),
                "確認が終わるまで、この金額をお客さまにご請求することはありません。".into(),
                "結果はメールでお知らせします。".into(),
            ],
        ),
        (Locale::Ja, CaseState::Refunded) => (
            format!("【{merchant}】ご報告のお取引は返金となりました"),
            vec![
                format!("{merchant} でのお取引（{amount}、{time}）は、不正利用として処理しました。"),
                "この金額はお客さまにご請求しません。すでにお支払い済みの場合は返金いたします。".into(),
                "ご報告いただきありがとうございました。".into(),
            ],
        ),
        (Locale::Ja, CaseState::Declined) => (
            format!("【{merchant}】ご報告のお取引の確認結果"),
            vec![
                format!(
                    "{merchant} でのお取引（{amount}、{time}）を確認した結果、不正利用とは判断できませんでした。"
                ),
                "この金額は通常どおりご請求します。".into(),
                "判断にご納得いただけない場合や新たな情報がある場合は、カード裏面の電話番号からカード会社にお問い合わせください。".into(),
            ],
        ),
        (Locale::En, CaseState::Open) => (
            format!("We have received your report about {merchant}"),
            vec![
                format!(
                    "We have recorded your report that you did not make the purchase of {amount} at {merchant} ({time})."
                ),
                "Every browser trusted for this card has been signed out; your next purchase will need a code.".into(),
                "While this case is open, the amount is not charged to you.".into(),
                "What happens next: we will look into it and email you the outcome. You do not need to do anything.".into(),
            ],
        ),
        (Locale::En, CaseState::UnderReview) => (
            format!("We are reviewing your report about {merchant}"),
            vec![
                format!("We are now reviewing the purchase of {amount} at {merchant} ({time}) that you reported."),
                "Until the review is finished, the amount is not charged to you.".into(),
                "We will email you the outcome.".into(),
            ],
        ),
        (Locale::En, CaseState::Refunded) => (
            format!("Your report about {merchant}: refunded"),
            vec![
                format!("We have treated the purchase of {amount} at {merchant} ({time}) as fraud."),
                "The amount will not be charged to you; if you have already paid it, it will be refunded.".into(),
                "Thank you for telling us.".into(),
            ],
        ),
        (Locale::En, CaseState::Declined) => (
            format!("Your report about {merchant}: the outcome of our review"),
            vec![
                format!(
                    "We have reviewed the purchase of {amount} at {merchant} ({time}) and could not treat it as fraud."
                ),
                "The amount will be charged as usual.".into(),
                "If you disagree, or have new information, please contact us on the phone number on the back of your card.".into(),
            ],
        ),
    };
    let (footer_text, footer_html) = selfservice_footer(facts.locale, Some(facts.selfservice_url));
    let text = format!("{}\n{footer_text}", paragraphs.join("\n\n"));
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>\n", escape_html(p)))
        .collect();
    wrap(
        facts.locale,
        facts.recipient,
        None,
        case_kind(state),
        subject,
        text,
        &format!("{body}{footer_html}"),
    )
}

/// The outbox `kind` of the notice to a card's former address.
pub const ADDRESS_CHANGED: &str = "address_changed";

/// A change of a card's address, as its notice to the former address tells it.
///
/// It holds no trace of the new address: see [`address_changed_mail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressChangeFacts<'a> {
    /// The address the change replaced: the notice goes there.
    pub former: &'a str,
    /// The language the card had before the change: the notice's first language.
    pub locale: Locale,
    /// The card's last four digits.
    pub last4: &'a str,
    /// When the change was made.
    pub time: i64,
}

/// The notice to a card's former address that its mail now goes to another address: which
/// card, when, and to call the issuer if the cardholder did not ask for it; in both languages,
/// the card's own first.
///
/// # Security
///
/// Whoever changed the address may be taking the card's codes over, so the mail goes where
/// they cannot read it, and gives them nothing to work with:
///
/// - It names **no** address. The new one is chosen by whoever made the change: any part of
///   it (a domain spelled as prose, a one-letter local part that masking shows whole) would be
///   their text in the issuer's mail, and the former mailbox may itself be in the wrong hands.
/// - It is written in Japanese and English alike, the card's language first: the same admin
///   token that changes the address can change the language first, and must not thereby choose
///   a language its cardholder cannot read.
/// - It has no link: nothing in it acts, so a copy forged by the same person cannot lead
///   anywhere the real one would not; its advice is to call the number on the card.
pub fn address_changed_mail(facts: &AddressChangeFacts<'_>) -> NewMail {
    let second = match facts.locale {
        Locale::Ja => Locale::En,
        Locale::En => Locale::Ja,
    };
    let (first_subject, first) = address_changed_text(facts, facts.locale);
    let (second_subject, second_paragraphs) = address_changed_text(facts, second);
    let subject = format!("{first_subject} / {second_subject}");
    let text = format!(
        "{}\n\n----\n\n{}\n",
        first.join("\n\n"),
        second_paragraphs.join("\n\n")
    );
    let section = |locale: Locale, paragraphs: &[String; 4]| {
        let inner: String = paragraphs
            .iter()
            .map(|p| format!("<p>{}</p>\n", escape_html(p)))
            .collect();
        format!("<div lang=\"{}\">\n{inner}</div>\n", locale.as_str())
    };
    let body = format!(
        "{}<hr>\n{}",
        section(facts.locale, &first),
        section(second, &second_paragraphs)
    );
    wrap(
        facts.locale,
        facts.former,
        None,
        ADDRESS_CHANGED,
        subject,
        text,
        &body,
    )
}

/// The subject and paragraphs of [`address_changed_mail`] in one language.
fn address_changed_text(facts: &AddressChangeFacts<'_>, locale: Locale) -> (String, [String; 4]) {
    let time = format_time(facts.time, locale);
    let last4 = facts.last4;
    match locale {
        Locale::Ja => (
            format!("【重要】カード（末尾 {last4}）の登録メールアドレスが変更されました"),
            [
                format!(
                    "末尾 {last4} のカードの登録メールアドレスが、{time} に別のアドレスへ変更されました。"
                ),
                "このカードの確認コードやお知らせは、今後このアドレスには届きません。".into(),
                "お客さまご自身でご依頼された変更であれば、お手続きは不要です。".into(),
                "お心当たりがない場合は、すぐにカード裏面の電話番号からカード会社にご連絡ください。\
                 第三者がこのカードの確認コードを受け取ろうとしているおそれがあります。\
                 このメールにはリンクはありません。"
                    .into(),
            ],
        ),
        Locale::En => (
            format!("Important: the email address for your card ending {last4} was changed"),
            [
                format!(
                    "The email address registered for your card ending {last4} was changed to \
                     another address on {time}."
                ),
                "Verification codes and alerts for this card no longer come to this address."
                    .into(),
                "If you asked for this change, you do not need to do anything.".into(),
                "If you did not, please call the phone number on the back of your card at once: \
                 someone may be trying to receive this card's verification codes. This email \
                 contains no link."
                    .into(),
            ],
        ),
    }
}

/// The link to the cardholder's own page, as the text part's last lines and the HTML part's
/// last paragraph; empty without a link (a sandbox purchase).
fn selfservice_footer(locale: Locale, url: Option<&str>) -> (String, String) {
    let Some(url) = url else {
        return (String::new(), String::new());
    };
    let label = match locale {
        Locale::Ja => "登録済みのブラウザとご報告の状況は、こちらで確認・管理できます:",
        Locale::En => "See and manage your trusted browsers and reports here:",
    };
    (
        format!("\n{label}\n{url}\n"),
        format!(
            "\n<p>{} <a href=\"{}\">{}</a></p>",
            escape_html(label),
            escape_html(url),
            escape_html(url)
        ),
    )
}

fn finish(
    facts: &PurchaseFacts<'_>,
    kind: &str,
    subject: String,
    text: String,
    body: &str,
) -> NewMail {
    wrap(
        facts.locale,
        facts.recipient,
        facts.sandbox.clone(),
        kind,
        subject,
        text,
        body,
    )
}

/// The mail with its subject marked for a sandbox and the HTML body in its document.
fn wrap(
    locale: Locale,
    recipient: &str,
    sandbox: Option<SandboxMailbox>,
    kind: &str,
    subject: String,
    text: String,
    body: &str,
) -> NewMail {
    let subject = if sandbox.is_some() {
        format!("[SANDBOX] {subject}")
    } else {
        subject
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.6;max-width:36em;\
         overflow-wrap:anywhere\">\n{body}\n</body></html>\n",
        locale.as_str(),
        escape_html(&subject),
    );
    NewMail {
        kind: kind.into(),
        recipient: recipient.into(),
        subject,
        text,
        html,
        sandbox,
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
            selfservice_url: Some("https://v.example/me/ch_1.9.ab?z=1&w=2"),
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
    fn purchase_mail_links_the_cardholders_page() {
        for locale in [Locale::Ja, Locale::En] {
            let mails = [
                code_mail(&facts(locale), "012345", 1_800_000_600),
                alert_mail(&facts(locale), Alert::NewDevice),
            ];
            for mail in mails {
                assert!(mail.text.contains("https://v.example/me/ch_1.9.ab?z=1&w=2"));
                assert!(
                    mail.html
                        .contains("href=\"https://v.example/me/ch_1.9.ab?z=1&amp;w=2\"")
                );
            }
        }
        let sandbox = PurchaseFacts {
            selfservice_url: None,
            ..facts(Locale::En)
        };
        assert!(!code_mail(&sandbox, "1", 0).text.contains("/me/"));
    }

    fn case_facts(locale: Locale) -> CaseFacts<'static> {
        CaseFacts {
            recipient: "taro@example.com",
            locale,
            merchant: "Shop <b>",
            amount: Amount::new(12_800).unwrap(),
            currency: Currency::new("JPY").unwrap(),
            time: 1_800_000_000,
            selfservice_url: "https://v.example/me/ch_1.9.ab",
        }
    }

    /// Each state's mail, in each language, says what it must: the purchase, what happens to
    /// the amount, and the link to the cardholder's page.
    #[test]
    fn case_mail_says_what_the_state_means() {
        let expected: [(CaseState, Locale, &[&str]); 8] = [
            (
                CaseState::Open,
                Locale::Ja,
                &[
                    "受け付けました",
                    "ブラウザはすべて無効",
                    "ご請求することはありません",
                    "今後の流れ",
                ],
            ),
            (
                CaseState::Open,
                Locale::En,
                &[
                    "recorded your report",
                    "signed out",
                    "While this case is open, the amount is not charged to you",
                    "What happens next",
                ],
            ),
            (
                CaseState::UnderReview,
                Locale::Ja,
                &["確認を進めています", "ご請求することはありません"],
            ),
            (
                CaseState::UnderReview,
                Locale::En,
                &["reviewing", "the amount is not charged to you"],
            ),
            (
                CaseState::Refunded,
                Locale::Ja,
                &["ご請求しません", "返金いたします"],
            ),
            (
                CaseState::Refunded,
                Locale::En,
                &["will not be charged to you", "refunded"],
            ),
            (
                CaseState::Declined,
                Locale::Ja,
                &["通常どおりご請求します", "お問い合わせください"],
            ),
            (
                CaseState::Declined,
                Locale::En,
                &["charged as usual", "contact us"],
            ),
        ];
        for (state, locale, phrases) in expected {
            let mail = case_mail(&case_facts(locale), state);
            assert_eq!(mail.kind, case_kind(state));
            assert_eq!(mail.recipient, "taro@example.com");
            assert!(mail.subject.contains("Shop <b>"), "{}", mail.subject);
            for part in [&mail.text, &mail.html] {
                assert!(part.contains("¥12,800"), "{state} {locale:?}: {part}");
                for phrase in phrases {
                    assert!(
                        part.contains(phrase),
                        "{state} {locale:?} lacks {phrase:?}: {part}"
                    );
                }
            }
            assert!(mail.text.contains("https://v.example/me/ch_1.9.ab"));
            assert!(
                mail.html
                    .contains("href=\"https://v.example/me/ch_1.9.ab\"")
            );
            assert!(!mail.html.contains("<b>"), "merchant name is escaped");
            assert!(mail.html.contains(&format!("lang=\"{}\"", locale.as_str())));
            assert_eq!(mail.sandbox, None);
        }
    }

    #[test]
    fn case_mail_kinds_are_distinct() {
        let kinds: std::collections::HashSet<_> =
            CaseState::ALL.into_iter().map(case_kind).collect();
        assert_eq!(kinds.len(), CaseState::ALL.len());
        assert!(!kinds.contains(CODE_MAIL) && !kinds.contains(ADDRESS_CHANGED));
    }

    /// The notice goes to the former address, names the card and the time in both languages,
    /// the card's own first, names no address, and carries no link.
    #[test]
    fn the_address_notice_names_no_address_speaks_both_languages_and_links_nowhere() {
        let ja = ["末尾 0005", "別のアドレス", "カード裏面の電話番号", "JST"];
        let en = ["ending 0005", "another address", "back of your card", "UTC"];
        for (locale, first, second) in [(Locale::Ja, ja, en), (Locale::En, en, ja)] {
            let mail = address_changed_mail(&AddressChangeFacts {
                former: "taro@example.com",
                locale,
                last4: "0005",
                time: 1_800_000_000,
            });
            assert_eq!(mail.kind, ADDRESS_CHANGED);
            assert_eq!(mail.recipient, "taro@example.com");
            let subject_first = if locale == Locale::Ja {
                "末尾"
            } else {
                "ending"
            };
            let subject_second = if locale == Locale::Ja {
                "ending"
            } else {
                "末尾"
            };
            let at = |part: &str, phrase: &str| part.find(phrase);
            assert!(
                at(&mail.subject, subject_first) < at(&mail.subject, subject_second),
                "{}",
                mail.subject
            );
            for part in [&mail.text, &mail.html] {
                for (a, b) in first.iter().zip(second) {
                    let (Some(a_at), Some(b_at)) = (at(part, a), at(part, b)) else {
                        panic!("{locale:?} lacks {a:?} or {b:?}: {part}");
                    };
                    assert!(a_at < b_at, "{locale:?}: {a:?} before {b:?}: {part}");
                }
                assert!(!part.contains('@'), "an address: {part}");
                assert!(!part.contains("http"), "a link: {part}");
            }
            assert!(!mail.subject.contains('@'));
            assert!(!mail.html.contains("href"));
            assert!(
                mail.html
                    .contains(&format!("<html lang=\"{}\"", locale.as_str()))
            );
            assert!(
                mail.html.contains("<div lang=\"ja\">") && mail.html.contains("<div lang=\"en\">")
            );
            assert_eq!(
                (&mail.sandbox, &mail.dedupe, &mail.thread),
                (&None, &None, &None)
            );
            assert_eq!(mail.priority(), 1, "after codes");
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
