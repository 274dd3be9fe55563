//! The mail the flow queues: a code or an alert about one purchase, with its report link.

use mamori_core::fingerprint::Browser;

use super::Flow;
use crate::mail::templates::{self, Alert, PurchaseFacts};
use crate::model::{Authentication, Cardholder, Merchant, NewMail, SandboxMailbox};

/// Who a purchase's mail goes to and what it is about.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    /// The purchase.
    pub auth: &'a Authentication,
    /// Its merchant.
    pub merchant: &'a Merchant,
    /// The recipient.
    pub cardholder: &'a Cardholder,
}

impl Flow<'_> {
    /// The mail carrying `code`, valid until `expires_at`.
    pub fn code_mail(&self, to: Parties<'_>, code: &str, expires_at: i64) -> NewMail {
        let (summary, url) = self.context(to.auth);
        templates::code_mail(&facts(to, &summary, &url), code, expires_at)
    }

    /// The fraud alert `alert` about the purchase.
    pub fn alert_mail(&self, to: Parties<'_>, alert: Alert) -> NewMail {
        let (summary, url) = self.context(to.auth);
        templates::alert_mail(&facts(to, &summary, &url), alert)
    }

    /// The browser line and the report link of a mail about `auth`.
    fn context(&self, auth: &Authentication) -> (String, String) {
        let url = self.tokens().report_url(&auth.id, self.now());
        (browser_summary(auth), url)
    }
}

fn facts<'a>(to: Parties<'a>, browser: &'a str, report_url: &'a str) -> PurchaseFacts<'a> {
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
        browser,
        report_url,
    }
}

/// A one-line description of the browser for alert mail: its family, language and time zone.
pub fn browser_summary(auth: &Authentication) -> String {
    let b = &auth.browser;
    let family = match b.user_agent.as_deref().map(Browser::from_user_agent) {
        Some(Browser::Chromium) => "Chromium",
        Some(Browser::Firefox) => "Firefox",
        Some(Browser::Safari) => "Safari",
        Some(Browser::Other) | None => "unknown browser",
    };
    let mut parts = vec![family.to_owned()];
    parts.extend(b.language.clone());
    parts.extend(b.timezone.clone());
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BrowserInfo;

    fn with_browser(browser: BrowserInfo) -> Authentication {
        let mut auth = crate::flow::create::tests::authentication();
        auth.browser = browser;
        auth
    }

    #[test]
    fn the_summary_names_family_language_and_zone() {
        let auth = with_browser(BrowserInfo {
            language: Some("ja-JP".into()),
            timezone: Some("Asia/Tokyo".into()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko Firefox/128.0".into(),
            ),
        });
        assert_eq!(browser_summary(&auth), "Firefox, ja-JP, Asia/Tokyo");
    }

    #[test]
    fn an_unreported_browser_is_unknown() {
        let auth = with_browser(BrowserInfo::default());
        assert_eq!(browser_summary(&auth), "unknown browser");
    }
}
