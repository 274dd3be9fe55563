//! Browser-supplied text is evidence, never prose: what does not parse is dropped, and mail
//! shows only parsed values and the browser's family.

use crate::support::*;
use serde_json::json;

/// What a page could put in the widget's browser facts to turn a fraud alert into a lure.
const LANGUAGE: &str = "https://evil.example";
const TIMEZONE: &str = "Call +1-800-555-0100 to cancel";
const USER_AGENT: &str = "Mozilla/5.0 Firefox/128.0 (visit evil.example or call 0120-000-000)";

#[tokio::test]
async fn a_device_step_with_lures_for_language_and_zone_succeeds_without_them() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    let (status, body) = server
        .widget(
            &created,
            "/device",
            json!({"fingerprint": fingerprint("lure"),
                   "browser": {"language": LANGUAGE, "timezone": TIMEZONE,
                               "user_agent": USER_AGENT}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "challenge", "{body}");

    // Dropped before it is stored; the user agent kept, for its family.
    let auth = server
        .store
        .authentication(&created.id)
        .await
        .unwrap()
        .unwrap();
    let browser = &auth.assessment().unwrap().browser;
    assert_eq!((&browser.language, &browser.timezone), (&None, &None));
    assert!(browser.user_agent.is_some());

    let code_mail = server.next_mail_matching("Your verification code").await;
    let (status, body) = server.verify(&created, &code_mail.code()).await;
    assert_eq!(status, 200, "{body}");
    let alert = server.next_mail_matching("new browser").await;
    assert!(alert.text.contains("Firefox"), "{}", alert.text);
    for mail in [&code_mail, &alert] {
        for part in [&mail.subject, &mail.text, &mail.html, &mail.raw] {
            for lure in ["evil.example", "800-555", "0120", "Mozilla", "https://evil"] {
                assert!(!part.contains(lure), "{lure} in {part}");
            }
        }
    }
}

#[tokio::test]
async fn valid_facts_reach_the_alert_in_canonical_form() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    let (status, body) = server
        .widget(
            &created,
            "/device",
            json!({"fingerprint": fingerprint("fine"),
                   "browser": {"language": "zh-hant-tw", "timezone": "asia/tokyo",
                               "user_agent": "Mozilla/5.0 Firefox/128.0"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let code = server
        .next_mail_matching("Your verification code")
        .await
        .code();
    server.verify(&created, &code).await;
    let alert = server.next_mail_matching("new browser").await;
    assert!(
        alert.text.contains("Firefox, zh-Hant-TW, Asia/Tokyo"),
        "{}",
        alert.text
    );
}
