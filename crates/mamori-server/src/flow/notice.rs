//! The mail the flow queues: a code or an alert about one purchase, with its report link.

use mamori_core::fingerprint::Browser;

use super::Flow;
use crate::mail::templates::{self, Alert, PurchaseFacts};
use crate::model::{
    Authentication, BrowserInfo, Cardholder, Dedupe, Merchant, NewMail, SandboxMailbox,
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
    /// The mail carrying `code`, valid until `expires_at`.
    pub fn code_mail(&self, to: Parties<'_>, code: &str, expires_at: i64) -> NewMail {
        let (summary, url) = self.context(to);
        templates::code_mail(&facts(to, &summary, &url), code, expires_at)
    }

    /// The fraud alert `alert` about the purchase, queued only if the card had no alert of
    /// this kind within `mail.alert_window`: someone holding the card number cannot flood its
    /// cardholder.
    pub fn alert_mail(&self, to: Parties<'_>, alert: Alert) -> NewMail {
        let (summary, url) = self.context(to);
        NewMail {
            dedupe: Some(Dedupe {
                cardholder_id: to.cardholder.id.clone(),
                window: self.config.mail.alert_window.get(),
            }),
            ..templates::alert_mail(&facts(to, &summary, &url), alert)
        }
    }

    /// The browser line and the report link of a mail to `to`.
    fn context(&self, to: Parties<'_>) -> (String, String) {
        let url = self.tokens().report_url(&to.auth.id, self.now());
        (browser_summary(to.browser), url)
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
pub fn browser_summary(browser: Option<&BrowserInfo>) -> String {
    let Some(b) = browser else {
        return "unknown browser".to_owned();
    };
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

    #[test]
    fn the_summary_names_family_language_and_zone() {
        let browser = BrowserInfo {
            language: Some("ja-JP".into()),
            timezone: Some("Asia/Tokyo".into()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko Firefox/128.0".into(),
            ),
        };
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
