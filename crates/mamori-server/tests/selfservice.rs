//! The cardholder's self-service page over HTTP against a real verifier on 127.0.0.1:0: the
//! link every mail carries, the card's trusted browsers and removing one, its open cases, and
//! the refusals (a forged or expired link, another card's browser).

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mamori_server::admin;
use mamori_server::clock::Clock;
use mamori_server::model::{CardholderId, CaseState, DeviceId, MerchantId};
use mamori_server::store::CardholderChange;
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

/// The self-service link in a mail's text part.
fn selfservice_url(mail: &ReceivedMail) -> String {
    mail.text
        .lines()
        .find(|l| l.contains("/me/"))
        .unwrap_or_else(|| panic!("no self-service link in {}", mail.text))
        .trim()
        .to_owned()
}

/// Runs a challenge for `card` in the browser `fp`; answers the device token it trusts and the
/// self-service link its code mail carried.
async fn trust(server: &mut TestServer, card: &str, fp: &Value) -> (DeviceId, String) {
    let created = server.create(card, 1000, "01").await;
    let body = server.device(&created, fp, None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    let subject = if card == CARD_JA {
        "ご本人確認コード"
    } else {
        "verification code"
    };
    let mail = server.next_mail_matching(subject).await;
    let link = selfservice_url(&mail);
    assert!(
        mail.html.contains(&format!("href=\"{link}\"")),
        "{}",
        mail.html
    );
    let (status, body) = server.verify(&created, &mail.code()).await;
    assert_eq!(status, 200, "{body}");
    let token = body["device_token"].as_str().unwrap();
    let claims = server
        .state
        .flow()
        .tokens()
        .device_claims(
            token,
            &MerchantId::from_static(MERCHANT),
            server.clock.now(),
        )
        .unwrap();
    (DeviceId::parse(&claims.did).unwrap(), token.to_owned())
}

/// The outcome of a purchase in the browser holding `device_token`.
async fn purchase(server: &TestServer, card: &str, fp: &Value, device_token: &str) -> Value {
    let created = server.create(card, 2000, "01").await;
    server.device(&created, fp, Some(device_token)).await["outcome"].clone()
}

async fn page(server: &TestServer, url: &str) -> (u16, String) {
    let response = server.http.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'") && csp.contains("form-action 'self'"),
        "the strict policy: {csp}"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    (status, response.text().await.unwrap())
}

/// Posts the page's remove form for `device` (its action is relative to the page), following
/// the redirect back.
async fn remove(server: &TestServer, link: &str, device: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{link}/browsers/{device}/remove"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn removing_one_browser_leaves_the_other_trusted() {
    let mut server = TestServer::start().await;
    let (laptop_fp, phone_fp) = (fingerprint("laptop"), fingerprint("phone"));
    let (laptop, laptop_token) = trust(&mut server, CARD, &laptop_fp).await;
    // The new-browser alert carries the link too. (The next one is within the alert window:
    // not sent.)
    let alert = server.next_mail_matching("new browser").await;
    assert!(selfservice_url(&alert).starts_with(&server.url("/me/ch_0.")));
    server.clock.advance(60);
    let (phone, phone_token) = trust(&mut server, CARD, &phone_fp).await;
    let link = {
        // The newest mail's link, as the cardholder would follow it.
        let created = server.create(CARD, 3000, "03").await;
        server
            .device(&created, &laptop_fp, Some(&laptop_token))
            .await;
        selfservice_url(&server.next_mail_matching("verification code").await)
    };

    let (status, html) = page(&server, &link).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("•••• 0005"), "{html}");
    assert!(html.contains("Test &lt;Shop&gt; &amp; Co"), "{html}");
    assert!(html.contains("You have no open reports."), "{html}");
    assert!(!html.contains("<script"), "no script: {html}");
    let laptop_at = html.find(&format!("data-device=\"{laptop}\"")).unwrap();
    let phone_at = html.find(&format!("data-device=\"{phone}\"")).unwrap();
    assert!(laptop_at < phone_at, "oldest first");
    let token = link.rsplit_once("/me/").unwrap().1;
    assert!(
        html.contains(&format!(
            "<form method=\"post\" action=\"{token}/browsers/{laptop}/remove\""
        )),
        "{html}"
    );

    let removed = remove(&server, &link, laptop.as_str()).await;
    assert_eq!(removed.status(), 200);
    assert_eq!(
        removed.url().as_str(),
        format!("{link}?removed=1"),
        "redirected back to the page"
    );
    let html = removed.text().await.unwrap();
    assert!(html.contains("The browser was removed."), "{html}");
    assert!(!html.contains(laptop.as_str()), "{html}");
    assert!(html.contains(phone.as_str()), "{html}");

    // Removing it again finds nothing to remove.
    let again = remove(&server, &link, laptop.as_str()).await;
    assert_eq!(again.status(), 404);

    assert_eq!(
        purchase(&server, CARD, &phone_fp, &phone_token).await,
        "frictionless",
        "the browser kept stays trusted"
    );
    assert_eq!(
        purchase(&server, CARD, &laptop_fp, &laptop_token).await,
        "challenge",
        "the removed browser is challenged"
    );
}

#[tokio::test]
async fn another_cards_browser_cannot_be_removed() {
    let mut server = TestServer::start().await;
    let (laptop_fp, phone_fp) = (fingerprint("laptop"), fingerprint("phone"));
    let (_, _) = trust(&mut server, CARD, &laptop_fp).await;
    let (_, link) = {
        let created = server.create(CARD, 3000, "03").await;
        server
            .device(&created, &fingerprint("elsewhere"), None)
            .await;
        (
            (),
            selfservice_url(&server.next_mail_matching("verification code").await),
        )
    };
    // Another card's browser: the Japanese card in the phone.
    let (phone, phone_token) = trust(&mut server, CARD_JA, &phone_fp).await;

    for device in [phone.as_str(), "dv_nope", "not-a-device"] {
        let response = remove(&server, &link, device).await;
        assert_eq!(response.status(), 404, "{device}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("This browser is not trusted for your card"),
            "{html}"
        );
    }
    let trust = server
        .store
        .trust(&phone, &CardholderId::from_static("ch_1"))
        .await
        .unwrap()
        .unwrap();
    assert!(trust.is_live(START), "the other card's trust stays");
    assert_eq!(
        purchase(&server, CARD_JA, &phone_fp, &phone_token).await,
        "frictionless"
    );
    // Nor does the card's page show it.
    let (_, html) = page(&server, &link).await;
    assert!(!html.contains(phone.as_str()), "{html}");
}

#[tokio::test]
async fn a_forged_or_expired_link_is_refused() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD_JA, 3000, "03").await;
    server.device(&created, &fingerprint("x"), None).await;
    let mail = server.next_mail().await;
    assert!(
        mail.text.contains("登録済みのブラウザとご報告の状況"),
        "{}",
        mail.text
    );
    let link = selfservice_url(&mail);
    let (status, html) = page(&server, &link).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<html lang=\"ja\">") && html.contains("登録済みのブラウザはありません。")
    );

    let token = link.rsplit_once("/me/").unwrap().1;
    let (id, rest) = token.split_once('.').unwrap();
    let forged = [
        format!("{link}0"),
        link.replace(id, "ch_0"),
        server.url(&format!("/me/ch_0.{rest}")),
        server.url("/me/ch_1"),
        server.url("/me/x"),
    ];
    for url in forged {
        let (status, html) = page(&server, &url).await;
        assert_eq!(status, 404, "{url}");
        assert!(
            html.contains("This link is invalid or has expired"),
            "{html}"
        );
        let removed = remove(&server, &url, "dv_any").await;
        assert_eq!(removed.status(), 404, "{url}");
    }
    // A report link is not a self-service link.
    let report = mail.report_url();
    let report_token = report.rsplit_once("/report/").unwrap().1;
    let (status, _) = page(&server, &server.url(&format!("/me/{report_token}"))).await;
    assert_eq!(status, 404);

    server.clock.advance(30 * 24 * 60 * 60);
    let (status, _) = page(&server, &link).await;
    assert_eq!(status, 404, "expired after 30 days");
}

/// The issuer's answers to a lost mailbox — a new address, or unenrolment — end every link the
/// old mailbox holds.
#[tokio::test]
async fn a_new_address_or_unenrolment_ends_the_links_already_mailed() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 3000, "03").await;
    server.device(&created, &fingerprint("x"), None).await;
    let link = selfservice_url(&server.next_mail().await);
    assert_eq!(page(&server, &link).await.0, 200);

    let card = CardholderId::parse("ch_0").unwrap();
    let moved = admin::change_cardholder(
        server.store.as_ref(),
        &card,
        Some("new-address@example.jp"),
        &CardholderChange::default(),
        START,
    )
    .await
    .unwrap();
    assert_eq!(moved.email, "new-address@example.jp");
    assert_eq!(
        page(&server, &link).await.0,
        404,
        "a link to the old address"
    );
    assert_eq!(remove(&server, &link, "dv_any").await.status(), 404);

    // A link to the new address works, until the card is unenrolled.
    let created = server.create(CARD, 3000, "03").await;
    server.device(&created, &fingerprint("x"), None).await;
    let fresh = selfservice_url(&server.next_mail_matching("verification code").await);
    assert_eq!(page(&server, &fresh).await.0, 200);
    assert!(server.store.unenrol_cardholder(&card, START).await.unwrap());
    assert_eq!(page(&server, &fresh).await.0, 404, "an unenrolled card");
}

/// Links are bound to the card's contact epoch, not its address: moving the card A → B → A
/// by the admin API does not bring back a link mailed to A before the first move; a link mailed
/// after the last move opens the page.
#[tokio::test]
async fn a_link_from_before_an_address_change_stays_dead_when_the_address_comes_back() {
    let mut server = TestServer::start().await;
    let token = server.admin_token().await;
    let created = server.create(CARD, 3000, "03").await;
    server.device(&created, &fingerprint("x"), None).await;
    let before = selfservice_url(&server.next_mail_matching("verification code").await);
    assert_eq!(page(&server, &before).await.0, 200);

    let original = "holder0@example.com";
    for (to, from) in [
        ("elsewhere@example.org", original),
        (original, "elsewhere@example.org"),
    ] {
        let (status, body) = server
            .admin_call(
                Method::PATCH,
                "/cardholders/ch_0",
                Some(&token),
                Some(json!({ "email": to })),
            )
            .await;
        assert_eq!((status, body["email"].as_str()), (200, Some(to)), "{body}");
        let notice = server.next_mail().await;
        assert_eq!(
            notice.envelope_to, from,
            "the notice goes to the former address"
        );
        assert!(!notice.text.contains("/me/"), "the notice links nowhere");
    }
    assert_eq!(
        page(&server, &before).await.0,
        404,
        "a link from before A -> B -> A"
    );
    assert_eq!(remove(&server, &before, "dv_any").await.status(), 404);

    let created = server.create(CARD, 3000, "03").await;
    server.device(&created, &fingerprint("x"), None).await;
    let mail = server.next_mail_matching("verification code").await;
    assert_eq!(mail.envelope_to, original);
    let after = selfservice_url(&mail);
    assert_ne!(after, before);
    assert_eq!(
        page(&server, &after).await.0,
        200,
        "a link from after the moves"
    );
}

#[tokio::test]
async fn a_report_opens_a_case_that_the_page_lists_and_each_move_is_mailed() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 30_000, "03").await;
    server.device(&created, &fingerprint("thief"), None).await;
    let code_mail = server.next_mail().await;
    let report = code_mail.report_url();
    let thanks = server.http.post(&report).send().await.unwrap();
    assert_eq!(thanks.status(), 200);
    let thanks = thanks.text().await.unwrap();
    // Whoever holds the report link sees this page: it says where the report is followed
    // (the card's own mail) and carries no link to the card's page.
    assert!(
        thanks.contains("We will tell you how your report goes by email")
            && !thanks.contains("/me/"),
        "{thanks}"
    );

    let opened = server
        .next_mail_matching("We have received your report")
        .await;
    assert!(
        opened
            .text
            .contains("While this case is open, the amount is not charged to you."),
        "{}",
        opened.text
    );
    assert!(opened.text.contains("¥30,000"), "{}", opened.text);
    let link = selfservice_url(&opened);
    let (status, html) = page(&server, &link).await;
    assert_eq!(status, 200);
    assert!(html.contains("Open reports"), "{html}");
    assert!(
        html.contains("¥30,000") && html.contains("Received"),
        "{html}"
    );

    let state = server.state.clone();
    let flow = state.flow();
    let case = flow.cases(Some(CaseState::Open)).await.unwrap().remove(0);
    assert_eq!(case.authentication_id, created.id);
    let moved = flow
        .move_case(&case.id, CaseState::UnderReview, Some("called the shop"))
        .await
        .unwrap();
    assert_eq!(moved.previous, CaseState::Open);
    let review = server.next_mail_matching("We are reviewing").await;
    assert!(review.text.contains("the amount is not charged to you"));
    let (_, html) = page(&server, &link).await;
    assert!(html.contains("Under review"), "{html}");

    // A move the rule forbids is refused.
    assert!(
        flow.move_case(&case.id, CaseState::Open, None)
            .await
            .is_err()
    );
    flow.move_case(&case.id, CaseState::Refunded, None)
        .await
        .unwrap();
    let refunded = server.next_mail_matching("refunded").await;
    assert!(refunded.text.contains("will not be charged to you"));
    let (_, html) = page(&server, &link).await;
    assert!(
        html.contains("You have no open reports."),
        "decided: {html}"
    );
    let stored = flow.case(&case.id).await.unwrap();
    assert_eq!(stored.state, CaseState::Refunded);
    assert_eq!(stored.note.as_deref(), Some("called the shop"));
}
