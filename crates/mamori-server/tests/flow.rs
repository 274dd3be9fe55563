//! The purchase flow over HTTP against a real verifier on 127.0.0.1:0.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mamori_core::device_key::Purpose;
use mamori_core::token::{
    self, ExpectedOrder, KeySet, Reason, ResultError, SigningKey, TokenError, TransStatus,
    Validation,
};
use mamori_server::config::Delivery;
use mamori_server::flow::challenge::CodeAnswer;
use mamori_server::model::{CardStatus, DeviceId, State};
use mamori_server::secrets::Secrets;
use serde_json::{Value, json};
use support::browser_key::BrowserKey;
use support::*;

/// The series counting created authentications.
const CREATED: &str = "mamori_authentications_total{outcome=\"created\"}";

fn merchant_keys() -> KeySet {
    KeySet::from(SigningKey::new("k1", SECRET).unwrap())
}

/// The claims a result token vouches for, whatever its status: the tests read `N` and `U`
/// results too, which verification refuses with their claims.
fn claims(result_token: &Value, now: i64) -> mamori_core::token::ResultClaims {
    match token::verify_result(
        result_token.as_str().unwrap(),
        &merchant_keys(),
        &Validation::result(MERCHANT, now as u64),
        None,
    ) {
        Ok(claims) => claims,
        Err(ResultError::Status(claims)) => *claims,
        Err(error) => panic!("result token refused: {error}"),
    }
}

#[tokio::test]
async fn challenge_then_frictionless_on_the_known_device() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("laptop");
    let first = server.create(CARD, 12_800, "01").await;
    let body = server.device(&first, &fp, None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    assert!(
        stored_fingerprint(&server, &first).await.is_some(),
        "a challenge keeps the fingerprint for the device a correct code trusts"
    );
    let challenge = &body["challenge"];
    assert_eq!(challenge["masked_email"], "h***@example.com");
    assert_eq!(challenge["code_length"], 6);
    assert_eq!(challenge["attempts_left"], 5);
    assert_eq!(challenge["resends_left"], 3);
    assert_eq!(challenge["expires_at"], START + 600);
    assert_eq!(challenge["resend_available_at"], START + 30);
    assert_eq!(challenge["locale"], "en");

    // The code arrives over real SMTP: headers, both parts, the code, the report link.
    let mail = server.next_mail().await;
    assert_eq!(mail.envelope_to, "holder0@example.com");
    assert_eq!(mail.subject, "Your verification code for Test <Shop> & Co");
    assert!(
        mail.raw.contains("From: mamori <no-reply@localhost>"),
        "{}",
        mail.raw
    );
    assert!(mail.raw.contains("To: holder0@example.com"));
    assert!(mail.raw.contains("multipart/alternative"));
    assert!(mail.text.contains("¥12,800"), "{}", mail.text);
    assert!(
        mail.html.contains("Test &lt;Shop&gt; &amp; Co"),
        "{}",
        mail.html
    );
    let code = mail.code();
    assert!(mail.html.contains(&code));
    assert!(mail.report_url().starts_with(&server.url("/report/")));

    // Entered with full-width digits and a space, as a Japanese keyboard might.
    let wide: String = code
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect();
    let (status, body) = server
        .verify(&first, &format!("{} {}", &wide[..9], &wide[9..]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "authenticated");
    assert_eq!(body["status"], "Y");
    let c = claims(&body["result_token"], START);
    assert_eq!(c.status, TransStatus::Authenticated);
    assert_eq!(c.sub, first.id.as_str());
    assert_eq!(c.eci.code(), "05");
    let device_token = body["device_token"].as_str().unwrap().to_owned();
    let alert = server.next_mail().await;
    assert_eq!(alert.subject, "A new browser was trusted");
    assert_eq!(
        stored_fingerprint(&server, &first).await,
        None,
        "the device holds it now"
    );

    // The result token is bound to the authentication and the order.
    let keys = merchant_keys();
    let validation = Validation::result(MERCHANT, START as u64);
    let order_ref = c.txn.reference.clone();
    let order = ExpectedOrder {
        authentication: first.id.as_str(),
        reference: &order_ref,
        amount: 12_800,
        currency: "JPY",
    };
    let token = body["result_token"].as_str().unwrap();
    assert!(token::verify_result(token, &keys, &validation, Some(&order)).is_ok());
    let changed = ExpectedOrder {
        amount: 1_280,
        ..order
    };
    assert_eq!(
        token::verify_result(token, &keys, &validation, Some(&changed)),
        Err(ResultError::Token(TokenError::Amount))
    );

    // The same browser with its token: frictionless, no mail.
    server.clock.advance(60);
    let second = server.create(CARD, 9_800, "01").await;
    let body = server.device(&second, &fp, Some(&device_token)).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
    let c = claims(&body["result_token"], START + 60);
    assert_eq!(c.method, mamori_core::token::Method::Frictionless);
    assert_eq!(stored_fingerprint(&server, &second).await, None);
    let view = server.get(&second.id).await;
    assert_eq!(view["state"], "succeeded");
    assert_eq!(view["method"], "frictionless");
    assert_eq!(view["reasons"], json!([]));
    assert_eq!(view["risk_score"], 0);
    assert_eq!(view["result_token"], body["result_token"]);

    let first_view = server.get(&first.id).await;
    assert_eq!(first_view["method"], "challenge");
    assert_eq!(first_view["reasons"], json!(["no_device_token"]));
}

/// The fingerprint `created`'s row keeps.
async fn stored_fingerprint(server: &TestServer, created: &Created) -> Option<String> {
    let auth = server.store.authentication(&created.id).await.unwrap();
    auth.unwrap()
        .assessment()
        .and_then(|a| a.fingerprint.clone())
}

#[tokio::test]
async fn known_device_is_challenged_when_risk_says_so() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("phone");
    let token = server.trust_device(CARD, &fp).await;

    // (what, amount, challenge preference, device token, fingerprint, expected reasons)
    type Case<'a> = (&'a str, u64, &'a str, Option<&'a str>, Value, Value);
    let cases: [Case<'_>; 4] = [
        (
            "cleared token",
            1000,
            "01",
            None,
            fp.clone(),
            json!(["no_device_token"]),
        ),
        (
            "high amount",
            50_001,
            "01",
            Some(&token),
            fp.clone(),
            json!(["amount_over_ceiling", "amount_unusual"]),
        ),
        (
            "mandate",
            1000,
            "04",
            Some(&token),
            fp.clone(),
            json!(["challenge_mandated"]),
        ),
        (
            "changed fingerprint",
            1000,
            "01",
            Some(&token),
            fingerprint("another"),
            json!(["fingerprint_changed"]),
        ),
    ];
    for (name, amount, preference, device_token, fp, reasons) in cases {
        let created = server.create(CARD, amount, preference).await;
        let body = server.device(&created, &fp, device_token).await;
        assert_eq!(body["outcome"], "challenge", "{name}: {body}");
        let view = server.get(&created.id).await;
        assert_eq!(view["state"], "challenging", "{name}");
        assert_eq!(view["reasons"], reasons, "{name}");
        server.next_mail_matching("Your verification code").await;
    }

    // An hour later, so the card's velocity from the purchases above has passed. A ceiling is
    // in yen: USD 499.99 is no small purchase under ¥50,000, it has no ceiling.
    server.clock.advance(3601);
    let dollars = server.create_in(CARD, 49_999, "USD").await;
    let body = server.device(&dollars, &fp, Some(&token)).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    assert_eq!(
        server.get(&dollars.id).await["reasons"],
        json!(["no_ceiling_for_currency"])
    );
    server.next_mail_matching("Your verification code").await;

    // A forged device token (another key) is no better than none.
    let forged = token::sign_device(
        &mamori_core::token::DeviceClaims {
            iss: server.base.clone(),
            aud: MERCHANT.into(),
            sub: "ch_0".into(),
            did: "dv_forged".into(),
            iat: START as u64 + 3601,
            exp: START as u64 + 3700,
        },
        &SigningKey::new("device-1", &[9; 32]).unwrap(),
    );
    let created = server.create(CARD, 1000, "01").await;
    let body = server
        .device(&created, &fingerprint("phone"), Some(&forged))
        .await;
    assert_eq!(body["outcome"], "challenge");
    assert_eq!(
        server.get(&created.id).await["reasons"],
        json!(["device_not_trusted"])
    );

    // A device token trusted for one card does not vouch for another card.
    let created = server.create(CARD_JA, 1000, "01").await;
    let body = server
        .device(&created, &fingerprint("phone"), Some(&token))
        .await;
    assert_eq!(body["outcome"], "challenge");
    assert_eq!(
        server.get(&created.id).await["reasons"],
        json!(["device_not_trusted"])
    );
}

#[tokio::test]
async fn five_wrong_codes_fail_and_alert() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let code = server.next_mail().await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let (status, body) = server.verify(&created, wrong).await;
        assert_eq!(
            (status, &body["outcome"]),
            (200, &json!("wrong_code")),
            "{body}"
        );
        assert_eq!(body["attempts_left"], left);
    }
    let (status, body) = server.verify(&created, wrong).await;
    assert_eq!(status, 200);
    assert_eq!(body["outcome"], "failed");
    assert_eq!(body["status"], "N");
    let c = claims(&body["result_token"], START);
    assert_eq!(c.status, TransStatus::NotAuthenticated);
    assert_eq!(c.reason, Some(Reason::MAX_CHALLENGES));
    let alert = server.next_mail().await;
    assert!(
        alert.subject.contains("too many times"),
        "{}",
        alert.subject
    );
    assert!(alert.text.contains("/report/"));

    // Finished: even the right code is refused now, and nothing changes.
    let (status, body) = server.verify(&created, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("authentication_finished"))
    );
    let view = server.get(&created.id).await;
    assert_eq!(view["state"], "failed");
    assert_eq!(view["trans_status_reason"], "19");
}

#[tokio::test]
async fn authentications_expire() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let code = server.next_mail().await.code();
    server.clock.advance(15 * 60);
    let (status, body) = server.verify(&created, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "expired");
    assert_eq!(body["status"], "U");
    let c = claims(&body["result_token"], START + 900);
    assert_eq!(c.reason, Some(Reason::TIMED_OUT));
    assert_eq!(server.get(&created.id).await["state"], "expired");

    // A code outlives neither its own ten minutes...
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let code = server.next_mail().await.code();
    server.clock.advance(10 * 60);
    let (_, body) = server.verify(&created, &code).await;
    assert_eq!(body["outcome"], "wrong_code", "{body}");

    // ...nor is a pending authentication usable after its lifetime.
    let created = server.create(CARD, 5000, "01").await;
    server.clock.advance(15 * 60);
    let (status, body) = server
        .widget(
            &created,
            "/device",
            json!({"fingerprint": fingerprint("x")}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("authentication_finished"))
    );
    assert_eq!(server.get(&created.id).await["status"], "U");
}

/// A card the issuer blocks (or unenrols) while its code is on the way: the right code then
/// authenticates nothing and trusts no browser; the purchase ends `R`.
#[tokio::test]
async fn a_right_code_for_a_card_blocked_meanwhile_is_rejected() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let code = server.next_mail().await.code();
    let card = server
        .store
        .authentication(&created.id)
        .await
        .unwrap()
        .unwrap()
        .cardholder_id
        .unwrap();
    assert!(
        server
            .store
            .set_card_status(&card, CardStatus::Blocked)
            .await
            .unwrap()
    );
    let (status, body) = server.verify(&created, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["outcome"], &body["status"]),
        (&json!("failed"), &json!("R"))
    );
    assert!(body.get("device_token").is_none(), "{body}");
    let c = claims(&body["result_token"], START);
    assert_eq!(c.status, TransStatus::Rejected);
    assert_eq!(c.reason, Some(Reason::NOT_PERMITTED));
    let stored = server
        .store
        .authentication(&created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state(), State::Rejected);
    assert!(
        server
            .store
            .trusted_browsers(&card, START)
            .await
            .unwrap()
            .is_empty(),
        "no browser trusted"
    );
}

/// A purchase abandoned at the challenge ends by itself once its lifetime is over: the
/// verifier's sweeper expires it without any request reading it (so its merchant's webhook
/// endpoint hears of it), with the same signed `U` a late read gets.
#[tokio::test]
async fn an_abandoned_authentication_expires_without_being_read() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    server.next_mail().await;
    server.clock.advance(15 * 60 - 1);
    let stored = || async {
        server
            .store
            .authentication(&created.id)
            .await
            .unwrap()
            .unwrap()
    };
    // A sweep a second before its lifetime is over finds nothing to end.
    assert_eq!(server.state.flow().expire_overdue().await.unwrap(), 0);
    assert_eq!(stored().await.state(), State::Challenging);
    server.clock.advance(1);
    eventually(|| async { stored().await.state() == State::Expired }).await;
    let outcome = stored().await.outcome().cloned().unwrap();
    assert_eq!(outcome.status, TransStatus::Unavailable);
    assert_eq!(outcome.reason, Some(Reason::TIMED_OUT));
}

#[tokio::test]
async fn resends_have_a_cooldown_and_a_limit() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let first = server.next_mail().await.code();

    let (status, body) = server
        .widget(&created, "/challenge/resend", json!({}))
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "resend_cooldown");
    assert_eq!(body["retry_after"], 30);

    let mut latest = first.clone();
    for n in 1..=3 {
        server.clock.advance(30);
        let (status, body) = server
            .widget(&created, "/challenge/resend", json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["challenge"]["resends_left"], 3 - n);
        latest = server.next_mail().await.code();
    }
    server.clock.advance(30);
    let (status, body) = server
        .widget(&created, "/challenge/resend", json!({}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("resend_limit"))
    );

    // The replaced code no longer works (unless the draw repeated it); the latest does.
    if first != latest {
        let (_, body) = server.verify(&created, &first).await;
        assert_eq!(body["outcome"], "wrong_code");
    }
    let (_, body) = server.verify(&created, &latest).await;
    assert_eq!(body["outcome"], "authenticated", "{body}");
}

#[tokio::test]
async fn the_report_link_revokes_devices_and_forces_challenges() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("laptop");
    let token = server.trust_device(CARD, &fp).await;
    let created = server.create(CARD, 2000, "01").await;
    assert_eq!(
        server.device(&created, &fp, Some(&token)).await["outcome"],
        "frictionless"
    );

    // A purchase the cardholder did not make: its code mail carries the report link.
    let other = server.create(CARD, 30_000, "03").await;
    server.device(&other, &fingerprint("thief"), None).await;
    let link = server.next_mail().await.report_url();
    let page = server.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Test &lt;Shop&gt; &amp; Co"), "{html}");
    assert!(html.contains("¥30,000") && html.contains("<form method=\"post\">"));
    let confirmed = server.http.post(&link).send().await.unwrap();
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed.text().await.unwrap().contains("signed out"));
    let again = server
        .http
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("already been reported"));

    // The trusted browser is trusted no more, and the open report keeps forcing challenges.
    let next = server.create(CARD, 2000, "01").await;
    assert_eq!(
        server.device(&next, &fp, Some(&token)).await["outcome"],
        "challenge"
    );
    let view = server.get(&next.id).await;
    assert_eq!(
        view["reasons"],
        json!(["device_not_trusted", "open_fraud_report"])
    );
    // The cardholder's code authenticates the purchase, but while the report is open no
    // browser is trusted again: no device token.
    let code = server
        .next_mail_matching("Your verification code")
        .await
        .code();
    let (_, body) = server.verify(&next, &code).await;
    assert_eq!(body["outcome"], "authenticated", "{body}");
    assert!(body["device_token"].is_null(), "{body}");

    let reports = server.store.reports(true).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].authentication_id, other.id);

    // A tampered link is refused.
    let tampered = format!("{}0", link);
    let response = server.http.get(&tampered).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_correct_codes_succeed_once() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let code = server.next_mail().await.code();
    let server = std::sync::Arc::new(server);
    let created = std::sync::Arc::new(created);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (server, created, code) = (server.clone(), created.clone(), code.clone());
        tasks.spawn(async move { server.verify(&created, &code).await });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        outcomes.push(done.unwrap());
    }
    let successes = outcomes.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(successes, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|(s, _)| *s != 200)
            .all(|(s, b)| *s == 409 && b["error"] == "authentication_finished"),
        "{outcomes:?}"
    );
    // Exactly one device was trusted, and its browser is frictionless with the winner's token.
    let view = server.get(&created.id).await;
    assert_eq!(view["state"], "succeeded");
    let (_, won) = outcomes.iter().find(|(s, _)| *s == 200).unwrap();
    let token = won["device_token"].as_str().unwrap();
    let body = server
        .device(
            &server.create(CARD, 900, "01").await,
            &fingerprint("x"),
            Some(token),
        )
        .await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
    // One alert: the code, then the alert, are delivered, and nothing else was queued with them.
    eventually(|| async {
        let metrics = server.metrics().await;
        metrics
            .contains("mamori_mail_deliveries_total{kind=\"alert_new_device\",result=\"sent\"} 1\n")
    })
    .await;
    let metrics = server.metrics().await;
    let deliveries = metrics
        .lines()
        .filter(|l| l.starts_with("mamori_mail_deliveries_total"))
        .count();
    assert_eq!(deliveries, 2, "the code and one alert: {metrics}");
}

#[tokio::test]
async fn unknown_and_blocked_cards_look_alike_to_the_browser() {
    let mut server = TestServer::start().await;
    let mut answers = Vec::new();
    for card in [CARD_UNKNOWN, CARD_BLOCKED] {
        let created = server.create(card, 1000, "01").await;
        let body = server.device(&created, &fingerprint("x"), None).await;
        let c = claims(&body["result_token"], START);
        answers.push((
            body.as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            body["outcome"].clone(),
            c.status,
            c.reason,
        ));
        let view = server.get(&created.id).await;
        let expected = if card == CARD_UNKNOWN {
            "card_not_enrolled"
        } else {
            "card_blocked"
        };
        assert_eq!(view["reasons"], json!([expected]));
        assert_eq!(view["state"], "rejected");
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].1, "rejected");
    assert_eq!(answers[0].2, TransStatus::Rejected);
    // The blocked card's holder hears about it; nobody is mailed for the unknown card.
    let alert = server.next_mail().await;
    assert_eq!(alert.envelope_to, "holder2@example.com");
    assert!(alert.subject.contains("declined"));
}

#[tokio::test]
async fn cancel_ends_the_authentication() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    server.next_mail().await;
    let (status, body) = server.widget(&created, "/cancel", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "cancelled");
    assert_eq!(body["status"], "N");
    assert_eq!(
        claims(&body["result_token"], START).status,
        TransStatus::NotAuthenticated
    );
    let (status, _) = server.widget(&created, "/cancel", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(server.get(&created.id).await["state"], "cancelled");
}

#[tokio::test]
async fn japanese_mail_for_japanese_cardholders() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD_JA, 12_800, "01").await;
    let body = server.device(&created, &fingerprint("x"), None).await;
    assert_eq!(body["challenge"]["locale"], "ja");
    let mail = server.next_mail().await;
    assert!(
        mail.subject.contains("ご本人確認コード"),
        "{}",
        mail.subject
    );
    assert!(
        mail.text.contains("¥12,800") && mail.text.contains("JST"),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("lang=\"ja\""));
    assert_eq!(mail.code().len(), 6);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff() {
    let mut server = TestServer::start_with(Options {
        smtp_refusals: 1,
        ..Options::default()
    })
    .await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    // The first attempt is refused; the retry is due 5 s later on the verifier's clock.
    eventually(|| async {
        let text = server.metrics().await;
        text.contains("mamori_mail_deliveries_total{kind=\"code\",result=\"retry\"} 1")
    })
    .await;
    assert!(
        server.mail.as_mut().unwrap().try_recv().is_err(),
        "nothing delivered yet"
    );
    server.clock.advance(5);
    // Poke the worker the way a request would, rather than waiting for its poll.
    let other = server.create(CARD_JA, 1000, "01").await;
    server.device(&other, &fingerprint("y"), None).await;
    let mut recipients = vec![
        server.next_mail().await.envelope_to,
        server.next_mail().await.envelope_to,
    ];
    recipients.sort();
    assert_eq!(
        recipients,
        vec!["holder0@example.com", "holder1@example.com"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_device_steps_start_one_challenge() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let created = std::sync::Arc::new(server.create(CARD, 5000, "01").await);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (server, created) = (server.clone(), created.clone());
        tasks.spawn(async move { server.device(&created, &fingerprint("x"), None).await });
    }
    while let Some(answer) = tasks.join_next().await {
        assert_eq!(answer.unwrap()["outcome"], "challenge");
    }
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("mamori_authentications_total{outcome=\"challenge\"} 1\n"),
        "{metrics}"
    );
}

/// A code checked against a challenge a resend replaced meanwhile (the request read it before
/// the resend committed) is answered from what is stored now: a wrong code, with the attempt
/// counted — never `authentication_finished` while the challenge runs.
#[tokio::test]
async fn a_code_replaced_under_its_check_is_a_wrong_code() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 4_000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let first = server.next_mail_matching("verification code").await.code();
    let read_before = server
        .store
        .authentication(&created.id)
        .await
        .unwrap()
        .unwrap();

    server.clock.advance(30);
    let (status, body) = server
        .widget(&created, "/challenge/resend", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let latest = server.next_mail_matching("verification code").await.code();
    if latest == first {
        return; // the draw repeated the code (one in a million): nothing was replaced
    }

    let merchant = server
        .store
        .merchant(&read_before.merchant_id)
        .await
        .unwrap()
        .unwrap();
    let code = mamori_core::otp::normalize(&first).unwrap();
    let answer = server
        .state
        .flow()
        .check_code(read_before, &merchant, &code, None)
        .await
        .unwrap();
    assert_eq!(answer, CodeAnswer::WrongCode { attempts_left: 4 });
    let stored = server.get(&created.id).await;
    assert_eq!(stored["state"], "challenging", "{stored}");
    let (_, body) = server.verify(&created, &latest).await;
    assert_eq!(body["outcome"], "authenticated", "{body}");
}

/// A code entry and a resend sent together, a thousand times: the entry is answered from the
/// stored state whichever commits first — `authenticated` when the entry won, `wrong_code` when
/// the resend replaced the code first — and never `authentication_finished` while live. (Mail
/// goes to the demo mailbox, read from the store: the race is in the flow, not in SMTP.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_racing_a_resend_is_never_told_the_authentication_finished() {
    let server = TestServer::start_with(Options {
        delivery: Delivery::Mailbox,
        ..Options::default()
    })
    .await;
    let fp = fingerprint("racer");
    let (mut entry_won, mut resend_won, mut last_mail) = (0, 0, 0);
    for n in 0..1_000u64 {
        // Days apart, so no velocity, lockout or alert window carries over.
        server.clock.advance(3 * 86_400);
        let created = server.create(CARD, 1_000 + n, "01").await;
        let body = server.device(&created, &fp, None).await;
        assert_eq!(body["outcome"], "challenge", "{body}");
        let code;
        (last_mail, code) = mailbox_code(&server, last_mail).await;
        server.clock.advance(30);
        let ((_, entry), (resend_status, resend)) = tokio::join!(
            server.verify(&created, &code),
            server.widget(&created, "/challenge/resend", json!({}))
        );
        let stored = server.get(&created.id).await;
        match entry["outcome"].as_str() {
            Some("authenticated") => {
                entry_won += 1;
                assert_eq!(stored["state"], "succeeded", "{stored}");
                assert!(
                    resend_status == 200 || resend["error"] == "authentication_finished",
                    "{resend}"
                );
            }
            Some("wrong_code") => {
                resend_won += 1;
                assert_eq!(resend_status, 200, "{resend}");
                assert_eq!(stored["state"], "challenging", "{stored}");
            }
            _ => panic!("round {n}: {entry} (resend {resend_status} {resend})"),
        }
        if resend_status == 200 {
            (last_mail, _) = mailbox_code(&server, last_mail).await;
        }
    }
    eprintln!("code entry first: {entry_won}, resend first: {resend_won}");
}

/// The first code mail in the demo mailbox after message `after`: its id and code.
async fn mailbox_code(server: &TestServer, after: i64) -> (i64, String) {
    let next_code_mail = || async {
        let newest = server.store.mailbox(20).await.unwrap();
        newest
            .into_iter()
            .rev()
            .find(|m| m.id > after && m.kind == "code")
    };
    // Polled often (the outbox delivers within milliseconds, and this runs a thousand times),
    // with a deadline only to stop a hung run.
    let wait = async {
        loop {
            if let Some(mail) = next_code_mail().await {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    };
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("no code mail after {after} within 10 s"));
    (mail.id, code_in(&mail.text))
}

// Device-bound keys and per-(device, card) trust.

/// Runs a challenge for `card` in a browser presenting `token` (with `proof_by`'s proof) and
/// registering `new_key` with the code; answers the body of the code entry.
async fn challenge_registering(
    server: &mut TestServer,
    card: &str,
    amount: u64,
    fp: &Value,
    token: Option<&str>,
    proof_by: Option<&BrowserKey>,
    new_key: &BrowserKey,
) -> Value {
    let created = server.create(card, amount, "01").await;
    let proof = proof_by.map(|key| key.proof(&created.id));
    let (status, body) = server
        .device_with_proof(&created, fp, token, proof.as_deref())
        .await;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("challenge")),
        "{body}"
    );
    // The code mail, in the cardholder's language.
    let subject = if card == CARD_JA {
        "確認コード"
    } else {
        "Your verification code"
    };
    let code = server.next_mail_matching(subject).await.code();
    let (status, body) = server
        .verify_with_key(&created, &code, new_key.registration(&created.id))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "authenticated", "{body}");
    body
}

/// The device step of a new purchase of `amount` on `card`, signed by `key` if given.
async fn step(
    server: &TestServer,
    card: &str,
    amount: u64,
    fp: &Value,
    token: &str,
    key: Option<&BrowserKey>,
) -> Value {
    let created = server.create(card, amount, "01").await;
    let proof = key.map(|key| key.proof(&created.id));
    let (status, body) = server
        .device_with_proof(&created, fp, Some(token), proof.as_deref())
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The claims of a device token the test server issued.
fn device_claims(server: &TestServer, token: &str, now: i64) -> token::DeviceClaims {
    let keys = Secrets::derive(&server.secrets_master).device_keys;
    token::verify_device(token, &keys, &Validation::device(MERCHANT, now as u64)).unwrap()
}

#[tokio::test]
async fn a_keyed_device_is_identified_only_with_its_proof() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("laptop");
    let key = BrowserKey::generate();
    let body = challenge_registering(&mut server, CARD, 1000, &fp, None, None, &key).await;
    let token = body["device_token"].as_str().unwrap().to_owned();
    server.next_mail_matching("new browser").await;

    // The browser holding the key: frictionless.
    let body = step(&server, CARD, 900, &fp, &token, Some(&key)).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");

    // The same token and fingerprint copied elsewhere prove nothing without the key: no proof,
    // another key's, a proof made for another purchase, a proof for another purpose.
    let thief = BrowserKey::generate();
    let earlier = server.create(CARD, 100, "01").await;
    for (amount, proof) in [
        (901, Proof::Missing),
        (902, Proof::By(&thief)),
        (903, Proof::Replayed(key.proof(&earlier.id))),
        (904, Proof::Registration(&key)),
    ] {
        let created = server.create(CARD, amount, "01").await;
        let proof = match proof {
            Proof::Missing => None,
            Proof::By(other) => Some(other.proof(&created.id)),
            Proof::Replayed(proof) => Some(proof),
            Proof::Registration(key) => Some(key.sign(Purpose::Register, &created.id)),
        };
        let (status, body) = server
            .device_with_proof(&created, &fp, Some(&token), proof.as_deref())
            .await;
        assert_eq!(
            (status, &body["outcome"]),
            (200, &json!("challenge")),
            "{amount}: {body}"
        );
        let view = server.get(&created.id).await;
        let reasons = view["reasons"].as_array().unwrap();
        assert!(
            reasons.contains(&json!("device_not_trusted")),
            "{amount}: {view}"
        );
    }
    let metrics = server.metrics().await;
    for line in [
        "mamori_device_proofs_total{result=\"valid\"} 1\n",
        "mamori_device_proofs_total{result=\"missing\"} 1\n",
        "mamori_device_proofs_total{result=\"invalid\"} 3\n",
    ] {
        assert!(metrics.contains(line), "{line}{metrics}");
    }
    assert!(!metrics.contains("result=\"unbound\""), "{metrics}");
}

/// What a copied token comes with.
enum Proof<'a> {
    Missing,
    By(&'a BrowserKey),
    Replayed(String),
    Registration(&'a BrowserKey),
}

#[tokio::test]
async fn an_unbound_device_is_identified_by_its_token_and_counted() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("old-browser");
    // A browser without WebCrypto or IndexedDB: no key with the code, no proof after.
    let token = server.trust_device(CARD, &fp).await;
    let body = step(&server, CARD, 900, &fp, &token, None).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("mamori_device_proofs_total{result=\"unbound\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_second_card_in_the_same_browser_keeps_the_first_cards_trust() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("family-laptop");
    let first_key = BrowserKey::generate();
    let body = challenge_registering(&mut server, CARD, 1000, &fp, None, None, &first_key).await;
    let first_token = body["device_token"].as_str().unwrap().to_owned();
    server.next_mail_matching("new browser").await;

    // The second card is challenged in this browser (the device is known, the card's trust is
    // not), and its code trusts the same device, with the browser's fresh key.
    let key = BrowserKey::generate();
    let body = challenge_registering(
        &mut server,
        CARD_JA,
        1001,
        &fp,
        Some(&first_token),
        Some(&first_key),
        &key,
    )
    .await;
    let token = body["device_token"].as_str().unwrap().to_owned();
    let alert = server.next_mail_matching("ブラウザ").await;
    assert_eq!(alert.envelope_to, "holder1@example.com");
    assert_eq!(
        device_claims(&server, &token, START).did,
        device_claims(&server, &first_token, START).did,
        "one device per browser"
    );

    // Both cards are frictionless in this browser, with its newest token and key.
    for (card, amount) in [(CARD, 900), (CARD_JA, 901)] {
        let body = step(&server, card, amount, &fp, &token, Some(&key)).await;
        assert_eq!(body["outcome"], "frictionless", "{card}: {body}");
    }
    // The replaced key proves nothing any more.
    let body = step(&server, CARD, 902, &fp, &token, Some(&first_key)).await;
    assert_eq!(body["outcome"], "challenge", "{body}");

    // A report on the first card revokes its trust only.
    let created = server.create(CARD, 30_000, "03").await;
    server
        .device_with_proof(&created, &fp, Some(&token), Some(&key.proof(&created.id)))
        .await;
    let link = server
        .next_mail_matching("Your verification code")
        .await
        .report_url();
    assert_eq!(server.http.post(&link).send().await.unwrap().status(), 200);
    let body = step(&server, CARD, 903, &fp, &token, Some(&key)).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    let body = step(&server, CARD_JA, 904, &fp, &token, Some(&key)).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
}

#[tokio::test]
async fn a_rechallenged_device_is_refreshed_and_its_token_agrees_with_its_row() {
    let mut server = TestServer::start().await;
    let key = BrowserKey::generate();
    let before = fingerprint("before-update");
    let body = challenge_registering(&mut server, CARD, 1000, &before, None, None, &key).await;
    let token = body["device_token"].as_str().unwrap().to_owned();
    server.next_mail_matching("new browser").await;
    let did = device_claims(&server, &token, START).did;
    let id = DeviceId::parse(&did).unwrap();
    let lifetime = 180 * 24 * 60 * 60;
    let row = server.store.device(&id).await.unwrap().unwrap();
    assert_eq!(row.expires_at, START + lifetime);

    // Ninety days later the browser has updated: the fingerprint no longer matches, so the
    // purchase is challenged; the code refreshes the device rather than making a new one.
    let later = START + 90 * 24 * 60 * 60;
    server.clock.advance(later - START);
    let after = fingerprint("after-update");
    let renewed_key = BrowserKey::generate();
    let body = challenge_registering(
        &mut server,
        CARD,
        1001,
        &after,
        Some(&token),
        Some(&key),
        &renewed_key,
    )
    .await;
    let renewed = body["device_token"].as_str().unwrap().to_owned();
    let claims = device_claims(&server, &renewed, later);
    assert_eq!(claims.did, did, "the same device");
    let row = server.store.device(&id).await.unwrap().unwrap();
    assert_eq!(row.expires_at, later + lifetime, "expiry slid");
    assert_eq!(claims.exp, row.expires_at as u64, "token and row agree");
    assert_eq!(row.created_at, START);
    assert_eq!(
        serde_json::from_str::<Value>(&row.fingerprint).unwrap(),
        after,
        "fingerprint replaced"
    );
    assert_eq!(
        row.public_key.map(|k| k.to_base64url()),
        Some(renewed_key.public())
    );
    // And the updated browser is frictionless again.
    let body = step(&server, CARD, 900, &after, &renewed, Some(&renewed_key)).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
}

#[tokio::test]
async fn malformed_proofs_and_keys_are_refused_and_change_nothing() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("x");
    let key = BrowserKey::generate();
    let created = server.create(CARD, 1000, "01").await;
    let proof = key.proof(&created.id);
    for bad in [
        "not base64url!".to_owned(),
        format!("{proof}=="),
        proof[..80].to_owned(),
        format!("{proof}AAAA"),
    ] {
        let (status, body) = server
            .device_with_proof(&created, &fp, None, Some(&bad))
            .await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_request")),
            "{bad}: {body}"
        );
    }
    assert_eq!(server.get(&created.id).await["state"], "pending");

    let body = server.device(&created, &fp, None).await;
    assert_eq!(body["outcome"], "challenge");
    let code = server.next_mail().await.code();
    let good = key.registration(&created.id);
    let public = key.public();
    // An off-curve point: a valid key with one bit of Y flipped.
    let mut bytes = public.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let off_curve = String::from_utf8(bytes).unwrap();
    let elsewhere = server.create(CARD, 1001, "01").await;
    let cases = [
        json!({"public_key": off_curve, "proof": good["proof"]}),
        json!({"public_key": format!("{}=", key.public()), "proof": good["proof"]}),
        json!({"public_key": key.public(), "proof": "AAAA"}),
        // Well formed, but not proving possession for this authentication.
        key.registration(&elsewhere.id),
        json!({"public_key": key.public(), "proof": key.proof(&created.id)}),
        json!({"public_key": BrowserKey::generate().public(), "proof": good["proof"]}),
    ];
    for device_key in cases {
        let (status, body) = server
            .verify_with_key(&created, &code, device_key.clone())
            .await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_request")),
            "{device_key}: {body}"
        );
    }
    // Nothing was counted: the first wrong code leaves four attempts.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (_, body) = server.verify(&created, wrong).await;
    assert_eq!(body["attempts_left"], 4, "{body}");
    let (status, body) = server.verify_with_key(&created, &code, good).await;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("authenticated")),
        "{body}"
    );
}

#[tokio::test]
async fn a_device_token_with_a_card_in_sub_still_names_its_device() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("laptop");
    let token = server.trust_device(CARD, &fp).await;
    let mut claims = device_claims(&server, &token, START);
    assert_eq!(
        claims.sub, claims.did,
        "new tokens name the device in sub too"
    );
    // Tokens issued before devices were shared by cards carried the card in `sub`.
    claims.sub = "ch_0123456789abcdef0123456789abcdef".into();
    let old = token::sign_device(&claims, &Secrets::derive(&server.secrets_master).device_key);
    let body = step(&server, CARD, 900, &fp, &old, None).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
}

#[tokio::test]
async fn a_device_token_for_another_merchant_identifies_nothing() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("laptop");
    let token = server.trust_device(CARD, &fp).await;
    // The verifier's own signature on the same device, but for another merchant's origin: the
    // device is read with the purchase, and then refused for its audience.
    let mut claims = device_claims(&server, &token, START);
    claims.aud = "m_other".into();
    let elsewhere =
        token::sign_device(&claims, &Secrets::derive(&server.secrets_master).device_key);
    let created = server.create(CARD, 900, "01").await;
    let (status, body) = server
        .device_with_proof(&created, &fp, Some(&elsewhere), None)
        .await;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("challenge")),
        "{body}"
    );
    let view = server.get(&created.id).await;
    let reasons = view["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("device_not_trusted")), "{view}");
    // The genuine token still identifies the device.
    let body = step(&server, CARD, 901, &fp, &token, None).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
}

/// The merchant's create request for `order_ref`, its status and body.
async fn create_order(server: &TestServer, order_ref: &str, amount: u64) -> (u16, Value) {
    server
        .merchant_post(
            "/v1/authentications",
            json!({"card_number": CARD, "amount": amount, "currency": "JPY",
                   "order_ref": order_ref}),
        )
        .await
}

#[tokio::test]
async fn an_order_has_one_live_authentication_at_a_time() {
    let server = TestServer::start().await;
    let merchant = mamori_server::model::MerchantId::from_static(MERCHANT);
    let order = mamori_server::model::OrderRef::parse("order-77".into()).unwrap();
    let live_one = || async {
        server
            .store
            .live_authentication_for_order(&merchant, &order)
            .await
            .unwrap()
            .map(|a| a.id)
    };
    let (status, body) = create_order(&server, "order-77", 7_700).await;
    assert_eq!(status, 201, "{body}");
    let first = Created::of(&body);

    // Another authentication of the same order, even for another amount, while the first is
    // pending: refused, naming the order, and nothing stored.
    let before = server.metric(CREATED).await.unwrap_or(0);
    let (status, body) = create_order(&server, "order-77", 100).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "order_in_progress");
    assert!(
        body["message"].as_str().unwrap().contains("\"order-77\""),
        "{body}"
    );
    assert!(body.get("id").is_none());
    assert_eq!(
        server.metric(CREATED).await.unwrap_or(0),
        before,
        "nothing created"
    );
    assert_eq!(live_one().await, Some(first.id.clone()));
    // Still refused while it is challenging; another order is not affected.
    let answer = server.device(&first, &fingerprint("one-live"), None).await;
    assert_eq!(answer["outcome"], "challenge", "{answer}");
    assert_eq!(create_order(&server, "order-77", 7_700).await.0, 409);
    assert_eq!(create_order(&server, "order-78", 7_700).await.0, 201);

    // Once the first has finished (here cancelled), the order can be authenticated again.
    let (status, _) = server.widget(&first, "/cancel", json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = create_order(&server, "order-77", 7_700).await;
    assert_eq!(status, 201, "{body}");
    let second = Created::of(&body);
    assert_eq!(live_one().await, Some(second.id.clone()));

    // Past its lifetime the second no longer blocks: the create expires it (`U`, reason 14)
    // and goes ahead.
    server.clock.advance(15 * 60);
    let (status, body) = create_order(&server, "order-77", 7_700).await;
    assert_eq!(status, 201, "{body}");
    let third = Created::of(&body);
    let view = server.get(&second.id).await;
    assert_eq!(
        (
            &view["state"],
            &view["status"],
            &view["trans_status_reason"]
        ),
        (&json!("expired"), &json!("U"), &json!("14"))
    );
    assert_eq!(live_one().await, Some(third.id));
}

#[tokio::test]
async fn a_retried_create_of_a_live_order_answers_it() {
    let server = TestServer::start().await;
    let call = || {
        server
            .http
            .post(server.url("/v1/authentications"))
            .bearer_auth(&server.merchant_key)
            .header("idempotency-key", "order-88-a")
            .json(
                &json!({"card_number": CARD, "amount": 8_800, "currency": "JPY",
                          "order_ref": "order-88"}),
            )
            .send()
    };
    let first = call().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    // The retry finds the live authentication it created itself: the same answer, not a 409.
    let retry = call().await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    // Without the key it is another request for the same order.
    assert_eq!(create_order(&server, "order-88", 8_800).await.0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_creates_of_one_order_store_one() {
    let server = TestServer::start().await;
    let before = server.metric(CREATED).await.unwrap_or(0);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = server
            .http
            .post(server.url("/v1/authentications"))
            .bearer_auth(&server.merchant_key)
            .json(
                &json!({"card_number": CARD, "amount": 9_900, "currency": "JPY",
                          "order_ref": "order-race"}),
            );
        tasks.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    let (mut created, mut refused) = (Vec::new(), 0);
    while let Some(answer) = tasks.join_next().await {
        match answer.unwrap() {
            (201, body) => created.push(body["id"].as_str().unwrap().to_owned()),
            (409, body) => {
                assert_eq!(body["error"], "order_in_progress", "{body}");
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((created.len(), refused), (1, 19), "exactly one create wins");
    assert_eq!(server.metric(CREATED).await.unwrap_or(0), before + 1);
    let live = server
        .store
        .live_authentication_for_order(
            &mamori_server::model::MerchantId::from_static(MERCHANT),
            &mamori_server::model::OrderRef::parse("order-race".into()).unwrap(),
        )
        .await
        .unwrap()
        .map(|a| a.id.as_str().to_owned());
    assert_eq!(live.as_ref(), created.first());
}

#[tokio::test]
async fn a_result_verifies_only_for_its_own_authentication() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("bound");
    let device_token = server.trust_device(CARD, &fp).await;
    let other = server.create(CARD, 3_000, "01").await;
    let mine = server.create(CARD, 3_000, "01").await;
    let body = server.device(&mine, &fp, Some(&device_token)).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
    let token = body["result_token"].as_str().unwrap();
    let c = claims(&body["result_token"], START);
    assert_eq!(c.status, TransStatus::Authenticated);
    let order = |authentication| ExpectedOrder {
        authentication,
        reference: &c.txn.reference,
        amount: 3_000,
        currency: "JPY",
    };
    let keys = merchant_keys();
    let validation = Validation::result(MERCHANT, START as u64);
    assert!(
        token::verify_result(token, &keys, &validation, Some(&order(mine.id.as_str()))).is_ok()
    );
    // A `Y` of one authentication checked against another the merchant created: refused.
    assert_eq!(
        token::verify_result(token, &keys, &validation, Some(&order(other.id.as_str()))),
        Err(ResultError::Token(TokenError::Authentication))
    );
}
