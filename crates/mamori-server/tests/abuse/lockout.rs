//! Locking out a victim: velocity and wrong-code limits run up by an attacker refuse new devices,
//! never the cardholder's trusted browser, and floods of creations or widget calls answer 429.

use crate::support::*;
use mamori_server::config::Bounded;
use serde_json::json;

/// Authentications an attacker creates for the victim's card, never taken further.
const CREATED_BY_THE_ATTACKER: usize = 1_000;

/// The attacker's device step for `created`, from a browser and an address of its own.
async fn attacker_device_step(server: &TestServer, created: &Created, n: u64) -> serde_json::Value {
    let response = server
        .http
        .post(server.url(&format!("/v1/authentications/{}/device", created.id)))
        .bearer_auth(&created.secret)
        .header("origin", ORIGIN)
        .header("x-forwarded-for", format!("203.0.113.{}", n % 250 + 1))
        .json(&json!({"fingerprint": fingerprint(&format!("attacker-{n}"))}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_thousand_attacker_authentications_leave_the_trusted_browser_frictionless() {
    let mut server = TestServer::behind_a_proxy().await;
    let fp = fingerprint("victim");
    let token = server.trust_device(CARD, &fp).await;
    for n in 0..CREATED_BY_THE_ATTACKER {
        let (status, body) = server
            .merchant_post(
                "/v1/authentications",
                json!({"card_number": CARD, "amount": 100, "currency": "JPY",
                       "order_ref": format!("attack-{n}")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // More device steps from new browsers than the hard velocity limit (30): the later ones
    // are refused, the cardholder's browser is not.
    let mut rejected = 0;
    for n in 0..35 {
        let created = server.create(CARD, 100 + n, "01").await;
        let body = attacker_device_step(&server, &created, n).await;
        rejected += usize::from(body["outcome"] == "rejected");
    }
    assert!(
        rejected >= 5,
        "new devices past the limit are refused: {rejected}"
    );

    let purchase = server.create(CARD, 1_200, "01").await;
    let body = server.device(&purchase, &fp, Some(&token)).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
    assert_eq!(body["status"], "Y");
    let view = server.get(&purchase.id).await;
    assert!(
        !view["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("velocity_hard_limit")),
        "{view}"
    );

    // Every refusal queued an alert for the card; the cardholder hears of it once this hour.
    server.drained().await;
    let mut declined = 0;
    let receiver = server.mail.as_mut().unwrap();
    while let Ok(mail) = receiver.try_recv() {
        declined += usize::from(mail.subject.contains("declined"));
    }
    println!("{rejected} refusals, {declined} \"declined\" alerts to the cardholder");
    assert_eq!(declined, 1, "one alert per card per window");
}

#[tokio::test]
async fn wrong_codes_on_the_attackers_own_challenges_do_not_lock_out_the_trusted_browser() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("victim");
    let token = server.trust_device(CARD, &fp).await;
    // Four failed challenges: 20 wrong codes, the card's lockout for new devices.
    for n in 0..4 {
        let created = server.create(CARD, 500 + n, "01").await;
        let body = server
            .device(&created, &fingerprint(&format!("guesser-{n}")), None)
            .await;
        assert_eq!(body["outcome"], "challenge", "{body}");
        for _ in 0..5 {
            let (status, _) = server.verify(&created, "000000").await;
            assert_eq!(status, 200);
        }
    }
    let stranger = server.create(CARD, 700, "01").await;
    let body = server
        .device(&stranger, &fingerprint("guesser-5"), None)
        .await;
    assert_eq!(
        body["outcome"], "rejected",
        "a new device is locked out: {body}"
    );

    // The cardholder's trusted browser may be asked for a code, never refused: and the code
    // (mailed to the cardholder, never to the attacker) completes the purchase.
    let purchase = server.create(CARD, 800, "01").await;
    let body = server.device(&purchase, &fp, Some(&token)).await;
    assert_ne!(body["outcome"], "rejected", "{body}");
    if body["outcome"] == "challenge" {
        // Codes went to the attacker's challenges too; the cardholder's is the one for ¥800.
        let code = loop {
            let mail = server.next_mail_matching("Your verification code").await;
            if mail.text.contains("¥800") {
                break mail;
            }
        };
        let (status, answer) = server.verify(&purchase, &code.code()).await;
        assert_eq!(status, 200);
        assert_eq!(answer["status"], "Y", "{answer}");
    } else {
        assert_eq!(body["status"], "Y", "{body}");
    }
}

#[tokio::test]
async fn creating_authentications_is_limited_per_merchant_key() {
    let server = TestServer::start_with(Options {
        tweak: |config| config.rate_limits.create_per_key = Bounded::constant::<5>(),
        ..Options::default()
    })
    .await;
    for n in 0..5 {
        server.create(CARD, 100 + n, "01").await;
    }
    let response = server
        .http
        .post(server.url("/v1/authentications"))
        .bearer_auth(&server.merchant_key)
        .json(&json!({"card_number": CARD, "amount": 100, "currency": "JPY", "order_ref": "o"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "60");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), body["retry_after"].as_i64()),
        (Some("rate_limited"), Some(60))
    );

    // The next window admits again.
    server.clock.advance(60);
    server.create(CARD, 999, "01").await;
}

#[tokio::test]
async fn widget_requests_are_limited_per_address_and_the_page_can_read_why() {
    let server = TestServer::start_with(Options {
        tweak: |config| config.rate_limits.widget_per_address = Bounded::constant::<3>(),
        ..Options::default()
    })
    .await;
    let created = server.create(CARD, 100, "01").await;
    for _ in 0..3 {
        // Wrong secret or not, every request from the address counts.
        let response = server
            .http
            .post(server.url(&format!("/v1/authentications/{}/cancel", created.id)))
            .bearer_auth("cs_guessed")
            .header("origin", ORIGIN)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
    }
    let response = server
        .http
        .post(server.url(&format!("/v1/authentications/{}/device", created.id)))
        .bearer_auth(&created.secret)
        .header("origin", ORIGIN)
        .json(&json!({"fingerprint": fingerprint("x")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    // The page's script can read how long to wait from the header as well as the body.
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "Retry-After"
    );
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    // Nothing changed: the authentication is still waiting for its device step.
    assert_eq!(server.get(&created.id).await["state"], "pending");
}
