//! The mail the flow queues: a code or an alert about one purchase, with its report link and
//! the link to the cardholder's own page.

use mamori_core::fingerprint::Browser;

use super::Flow;
use crate::mail::templates::{self, Alert, PurchaseFacts};
use crate::model::{
    Authentication, BrowserInfo, Cardholder, Dedupe, LanguageTag, MailThread, Merchant, NewMail,
    SandboxMailbox,
};

/// Who a purchase's mail goes to and what it is about.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    /// The purchase.
    pub auth: &'a Authentication,
    /// Its merchant.
    pub merchant: &'a Merchant,
    /// The recipient.
    pub cardholder: &'a Cardholder,
    /// The browser the purchase was made in, once the device step reported it.
    pub browser: Option<&'a BrowserInfo>,
}

impl<'a> Parties<'a> {
    /// The parties of `auth`'s mail, with the browser its device step recorded.
    pub fn of(
        auth: &'a Authentication,
        merchant: &'a Merchant,
        cardholder: &'a Cardholder,
    ) -> Self {
        Self {
            auth,
            merchant,
            cardholder,
            browser: auth.assessment().map(|a| &a.browser),
        }
    }
}

impl Flow<'_> {
    /// The mail carrying `code`, valid until `expires_at`, after `sent_before` code mails for
    /// the same purchase (0 for the first, n for the n-th resend): its place in the thread.
    pub fn code_mail(
        &self,
        to: Parties<'_>,
        code: &str,
        expires_at: i64,
        sent_before: i64,
    ) -> NewMail {
        let context = self.context(to);
        // At most `security.max_resends`, a small number.
        let n = u32::try_from(sent_before).unwrap_or(u32::MAX);
        NewMail {
            thread: Some(MailThread::code(&to.auth.id, n)),
            ..templates::code_mail(&context.facts(to), code, expires_at)
        }
    }

    /// The fraud alert `alert` about the purchase, queued only if the card had no alert of
    /// this kind within `mail.alert_window`: someone holding the card number cannot flood its
    /// cardholder.
    pub fn alert_mail(&self, to: Parties<'_>, alert: Alert) -> NewMail {
        let context = self.context(to);
        // A refusal comes at the device step, before any code; the other alerts follow a
        // challenge, whose first code mail they answer.
        let thread = match alert {
            Alert::Rejected => None,
            Alert::ChallengeFailed | Alert::NewDevice => Some(MailThread::after_code(&to.auth.id)),
        };
        NewMail {
            dedupe: Some(Dedupe {
                cardholder_id: to.cardholder.id.clone(),
                window: self.config.mail.alert_window.get(),
            }),
            thread,
            ..templates::alert_mail(&context.facts(to), alert)
        }
    }

    /// The browser line and the links of a mail to `to`. A sandbox purchase's stand-in card
    /// has no page of its own, so its mail carries no self-service link.
    fn context(&self, to: Parties<'_>) -> MailContext {
        let now = self.now();
        let tokens = self.tokens();
        MailContext {
            browser: browser_summary(to.browser),
            report_url: tokens.report_url(&to.auth.id, now),
            selfservice_url: to
                .auth
                .sandbox_card
                .is_none()
                .then(|| tokens.selfservice_url(to.cardholder, now)),
        }
    }
}

/// What a purchase mail says besides the purchase: the browser line and the links.
struct MailContext {
    browser: String,
    report_url: String,
    selfservice_url: Option<String>,
}

impl MailContext {
    /// The facts of a mail to `to` with this context.
    fn facts<'a>(&'a self, to: Parties<'a>) -> PurchaseFacts<'a> {
        PurchaseFacts {
            recipient: &to.cardholder.email,
            locale: to.cardholder.locale,
            merchant: &to.merchant.name,
            sandbox: to.auth.sandbox_card.map(|_| SandboxMailbox {
                merchant_id: to.merchant.id.clone(),
                authentication_id: to.auth.id.clone(),
            }),
            amount: to.auth.amount,
            currency: to.auth.currency,
            time: to.auth.created_at,
            browser: &self.browser,
            report_url: &self.report_url,
            selfservice_url: self.selfservice_url.as_deref(),
        }
    }
}

/// A one-line description of the browser for alert mail: its family, language and time zone.
///
/// Every part is a closed word or a parsed value ([`crate::model::browser`]): a family name,
/// a BCP 47 tag, an IANA zone name. Nothing the browser wrote freely — the user agent string, a
/// language or zone that did not parse — can reach the mail through it.
pub fn browser_summary(browser: Option<&BrowserInfo>) -> String {
    let Some(b) = browser else {
        return "unknown browser".to_owned();
    };
    let family = match b.family() {
        Some(Browser::Chromium) => "Chromium",
        Some(Browser::Firefox) => "Firefox",
        Some(Browser::Safari) => "Safari",
        Some(Browser::Other) | None => "unknown browser",
    };
    let mut parts = vec![family.to_owned()];
    parts.extend(b.language.as_ref().map(LanguageTag::to_string));
    parts.extend(b.timezone.map(|z| z.as_str().to_owned()));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::AppState;
    use crate::clock::ManualClock;
    use crate::config::{Bounded, Config};
    use crate::flow::fixtures;
    use crate::model::{CardStatus, CardholderId, Ceilings, Locale, MerchantId};
    use crate::secrets::Secrets;

    /// An alert carries its card and the configured window for the store to dedupe on; a code
    /// never does.
    #[tokio::test]
    async fn alerts_dedupe_on_their_card_and_codes_never() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("notice.db").display());
        let store = crate::store::open(&url).await.unwrap();
        let mut config = Config::default();
        config.mail.alert_window = Bounded::constant::<120>();
        let clock = Arc::new(ManualClock::new(1_800_000_000));
        let state = AppState::new(config, store, Secrets::derive(&[7; 32]), clock);
        let auth = fixtures::authentication();
        let merchant = Merchant {
            id: MerchantId::from_static("m_test"),
            name: "Shop".into(),
            origins: Vec::new(),
            sandbox: false,
            created_at: 0,
            webhook: false,
        };
        let cardholder = Cardholder {
            id: CardholderId::from_static("ch_test"),
            card_ref: "ref".into(),
            last4: "0005".into(),
            email: "taro@example.com".into(),
            locale: Locale::En,
            status: CardStatus::Active,
            frictionless_ceilings: Ceilings::default(),
            created_at: 0,
            contact_epoch: 0,
        };
        let to = Parties::of(&auth, &merchant, &cardholder);
        let flow = state.flow();
        for alert in Alert::ALL {
            let mail = flow.alert_mail(to, alert);
            assert_eq!(
                mail.dedupe,
                Some(Dedupe {
                    cardholder_id: CardholderId::from_static("ch_test"),
                    window: 120,
                })
            );
            assert_eq!(mail.priority(), 1);
        }
        let code = flow.code_mail(to, "123456", 1_800_000_600, 0);
        assert_eq!(code.dedupe, None);
        assert_eq!(code.priority(), 0);
    }

    #[test]
    fn the_summary_names_family_language_and_zone() {
        let browser = BrowserInfo::parse(
            Some("ja-jp"),
            Some("Asia/Tokyo"),
            Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko Firefox/128.0"),
        );
        assert_eq!(
            browser_summary(Some(&browser)),
            "Firefox, ja-JP, Asia/Tokyo"
        );
    }

    #[test]
    fn an_unreported_browser_is_unknown() {
        assert_eq!(browser_summary(None), "unknown browser");
        assert_eq!(
            browser_summary(Some(&BrowserInfo::default())),
            "unknown browser"
        );
    }
}
