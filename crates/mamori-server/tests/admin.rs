//! The issuer admin API (`/admin/v1`) over HTTP: who gets in, what each route changes, and that
//! a refusal changes nothing. Every answer is checked against the OpenAPI document on the way
//! (the test server's checker).

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mamori_server::clock::Clock;
use mamori_server::config::{Bounded, Networks, TrustedProxies};
use mamori_server::model::{AuthenticationId, MerchantId};
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

/// `GET /admin/v1{path}` with `token`, which must answer `200`.
async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let (status, body) = server
        .admin_call(Method::GET, path, Some(token), None)
        .await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn only_a_live_admin_token_gets_in_and_every_refusal_looks_alike() {
    // More refusals than the failures an address may have in a window: this test is about
    // what each refusal says, `a_client_that_keeps_failing_*` about the lockout.
    let server = TestServer::start_with(Options {
        tweak: |config| {
            config.rate_limits.admin_failures_per_address = Bounded::constant::<100>();
        },
        ..Options::default()
    })
    .await;
    let live = server.admin_token().await;
    let (revoked_record, revoked) =
        mamori_server::admin::create_token(server.store.as_ref(), "old", START)
            .await
            .unwrap();
    assert!(
        server
            .store
            .revoke_admin_token(&revoked_record.id, START)
            .await
            .unwrap()
    );
    let before = get(&server, &live, "/cardholders").await;

    let unknown = format!("mamori_admin_{}", "ab".repeat(32));
    let refused: [(&str, Option<&str>); 6] = [
        ("no header", None),
        ("a merchant key", Some(&server.merchant_key)),
        ("a revoked token", Some(&revoked)),
        ("an unknown token", Some(&unknown)),
        (
            "a token with a character changed",
            Some(&live[..live.len() - 1]),
        ),
        ("not a token", Some("admin")),
    ];
    let enrol = json!({"cardholders": [{"card": "4111111111111111", "email": "n@example.com"}]});
    let mut answers = Vec::new();
    for (what, auth) in refused {
        for (method, path, body) in [
            (Method::GET, "/cardholders", None),
            (Method::POST, "/cardholders", Some(enrol.clone())),
            (Method::POST, "/merchants/m_test/keys", None),
            (Method::GET, "/reports", None),
        ] {
            let (status, body) = server.admin_call(method.clone(), path, auth, body).await;
            assert_eq!(status, 401, "{what}: {method} {path}: {body}");
            answers.push(body);
        }
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "every refusal is the same answer: {answers:?}"
    );
    assert_eq!(answers[0]["error"], "unauthorized");

    // A basic scheme is no bearer token either.
    let response = server
        .http
        .get(server.url("/admin/v1/cardholders"))
        .basic_auth("admin", Some(&live))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    assert_eq!(
        get(&server, &live, "/cardholders").await,
        before,
        "nothing enrolled"
    );
    let keys = server
        .store
        .merchant_keys(&"m_test".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "no key rotated");
}

#[tokio::test]
async fn enrolling_many_answers_each_card_in_order_and_a_bad_one_stops_nothing() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let before = ids(&get(&server, &token, "/cardholders").await);
    let request = json!({"cardholders": [
        {"card": "4111 1111 1111 1111", "email": "one@example.com", "locale": "en",
         "ceilings": ["JPY:30000", "USD:10000"]},
        {"card": "4111111111111112", "email": "luhn@example.com"},
        {"card": "5555555555554444", "email": "not an address"},
        {"card": "5555555555554444", "email": "two@example.com", "locale": "fr"},
        {"card": "5555555555554444", "email": "two@example.com", "ceilings": ["JPY:1,USD:1"]},
        {"card": CARD, "email": "again@example.com"},
        {"card": "6011111111111117", "email": "three@example.com"},
    ]});
    let (status, body) = server
        .admin_call(Method::POST, "/cardholders", Some(&token), Some(request))
        .await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    let outcomes: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["outcome"].as_str().unwrap(),
                i["error"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("enrolled", ""),
            ("refused", "invalid_card_number"),
            ("refused", "invalid_request"),
            ("refused", "invalid_request"),
            ("refused", "invalid_request"),
            ("refused", "card_already_enrolled"),
            ("enrolled", ""),
        ]
    );
    assert!(items[2]["message"].as_str().unwrap().contains("email"));
    assert!(items[3]["message"].as_str().unwrap().contains("locale"));
    assert!(items[4]["message"].as_str().unwrap().contains("ceiling"));
    let first = &items[0]["cardholder"];
    assert_eq!(first["last4"], "1111");
    assert_eq!(first["email"], "one@example.com");
    assert_eq!(first["locale"], "en");
    assert_eq!(first["status"], "active");
    assert_eq!(first["ceilings"], json!(["JPY:30000", "USD:10000"]));
    assert_eq!(items[6]["cardholder"]["locale"], "ja", "the default locale");
    assert_eq!(items[6]["cardholder"]["ceilings"], json!(["JPY:50000"]));

    // Enrolled in the same second, so listed in id order: compared as sets.
    let listed = || async {
        let mut ids = ids(&get(&server, &token, "/cardholders").await);
        ids.sort();
        ids
    };
    let after = listed().await;
    let mut expected = before;
    expected.push(first["id"].as_str().unwrap().to_owned());
    expected.push(items[6]["cardholder"]["id"].as_str().unwrap().to_owned());
    expected.sort();
    assert_eq!(after, expected, "exactly the two good cards, nothing else");
    assert_eq!(
        get(
            &server,
            &token,
            &format!("/cardholders/{}", first["id"].as_str().unwrap())
        )
        .await,
        *first
    );

    // A request of the wrong shape is refused whole.
    for bad in [
        json!({"cardholders": []}),
        json!({"cardholders": [{"card": CARD}]}),
        json!({"cardholders": [{"card": CARD, "email": "x@example.com", "pin": "1"}]}),
        json!({"cards": []}),
    ] {
        let (status, body) = server
            .admin_call(
                Method::POST,
                "/cardholders",
                Some(&token),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"card": CARD, "email": "x@example.com"}))
        .collect();
    let (status, body) = server
        .admin_call(
            Method::POST,
            "/cardholders",
            Some(&token),
            Some(json!({ "cardholders": many })),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(listed().await, expected);
}

#[tokio::test]
async fn a_card_is_changed_blocked_unblocked_and_unenrolled() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let path = "/cardholders/ch_0";
    let card = get(&server, &token, path).await;
    assert_eq!(card["status"], "active");

    let patch = |body: Value| server.admin_call(Method::PATCH, path, Some(&token), Some(body));
    let (status, changed) = patch(json!({"email": "new@example.com", "locale": "ja"})).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["email"], &changed["locale"], &changed["ceilings"]),
        (&json!("new@example.com"), &json!("ja"), &card["ceilings"])
    );
    let (status, changed) = patch(json!({"ceilings": ["USD:500", "JPY:1000"]})).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["ceilings"], json!(["JPY:1000", "USD:500"]));
    assert_eq!(changed["email"], "new@example.com");

    // Bad input: 4xx, nothing changed (a good member beside a bad one included).
    for (bad, code) in [
        (json!({"email": "nobody"}), "invalid_request"),
        (
            json!({"email": "ok@example.com", "locale": "de"}),
            "invalid_request",
        ),
        (json!({"ceilings": ["JPY"]}), "invalid_request"),
        (json!({}), "invalid_request"),
        (json!({"status": "blocked"}), "invalid_body"),
        (json!({"email": 7}), "invalid_body"),
    ] {
        let (status, body) = patch(bad.clone()).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{bad}");
    }
    assert_eq!(get(&server, &token, path).await, changed);

    let (server_ref, token_ref) = (&server, &token);
    let post = |suffix: &str| {
        let path = format!("{path}/{suffix}");
        async move {
            server_ref
                .admin_call(Method::POST, &path, Some(token_ref), None)
                .await
        }
    };
    let (status, blocked) = post("block").await;
    assert_eq!((status, &blocked["status"]), (200, &json!("blocked")));
    let created = server.create(CARD, 1000, "01").await;
    let outcome = server.device(&created, &fingerprint("a"), None).await;
    assert_eq!(outcome["outcome"], "rejected", "a blocked card: {outcome}");
    let (status, active) = post("unblock").await;
    assert_eq!((status, &active["status"]), (200, &json!("active")));

    let (status, gone) = server
        .admin_call(Method::DELETE, path, Some(&token), None)
        .await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(gone["status"], "unenrolled");
    assert_eq!(gone["card_ref"], Value::Null);
    assert_eq!(gone["last4"], card["last4"], "kept for the records");
    let created = server.create(CARD, 1000, "01").await;
    let outcome = server.device(&created, &fingerprint("a"), None).await;
    assert_eq!(outcome["outcome"], "rejected", "not enrolled: {outcome}");
    let view = server.get(&created.id).await;
    assert!(
        view["reasons"].to_string().contains("card_not_enrolled"),
        "{view}"
    );

    // Gone for every change; the record stays readable.
    for (method, suffix) in [
        (Method::DELETE, ""),
        (Method::POST, "/block"),
        (Method::POST, "/unblock"),
    ] {
        let (status, _) = server
            .admin_call(method, &format!("{path}{suffix}"), Some(&token), None)
            .await;
        assert_eq!(status, 404, "{suffix}");
    }
    let (status, _) = patch(json!({"email": "late@example.com"})).await;
    assert_eq!(status, 404);
    assert_eq!(get(&server, &token, path).await, gone);

    // The card enrols again as a new cardholder.
    let (status, body) = server
        .admin_call(
            Method::POST,
            "/cardholders",
            Some(&token),
            Some(json!({"cardholders": [{"card": CARD, "email": "back@example.com"}]})),
        )
        .await;
    assert_eq!(status, 200);
    let again = &body["items"][0]["cardholder"];
    assert_eq!(body["items"][0]["outcome"], "enrolled", "{body}");
    assert_ne!(again["id"], gone["id"]);
    assert_eq!(again["card_ref"], card["card_ref"]);

    for missing in [
        "/cardholders/ch_nobody",
        "/cardholders/m_test",
        "/cardholders/ch_%20",
    ] {
        let (status, body) = server
            .admin_call(Method::GET, missing, Some(&token), None)
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{missing}"
        );
    }
}

/// A new address is told to the former one, over SMTP, in both languages, the card's current
/// one first: the card and the time, no address, no link. The same address respelled, or a
/// language alone, tells no one; and setting the language first does not choose the only one the
/// notice is written in.
#[tokio::test]
async fn a_new_address_is_told_to_the_former_one_and_nothing_else_is() {
    let mut server = TestServer::start().await;
    let token = server.admin_token().await;
    let path = "/cardholders/ch_1";
    let card = get(&server, &token, path).await;
    assert_eq!(card["locale"], "ja");
    let former = card["email"].as_str().unwrap().to_owned();
    let (local, _) = former.split_once('@').unwrap();

    // Nothing to tell: the same address with its domain in capitals, and a language (English,
    // which this card's Japanese cardholder may not read).
    for body in [
        json!({"email": format!("{local}@EXAMPLE.COM")}),
        json!({"locale": "en", "ceilings": ["JPY:2000"]}),
    ] {
        let (status, changed) = server
            .admin_call(Method::PATCH, path, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(status, 200, "{body}: {changed}");
        assert_eq!(changed["email"], former.as_str(), "{body}");
    }

    let (status, changed) = server
        .admin_call(
            Method::PATCH,
            path,
            Some(&token),
            Some(json!({"email": "x@no-action-needed-routine-update.example.org"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed["email"],
        "x@no-action-needed-routine-update.example.org"
    );
    // The first mail since the card was read: had the changes above queued one, it would be.
    let notice = server.next_mail().await;
    assert_eq!(notice.envelope_to, former);
    assert!(
        notice.subject.contains(card["last4"].as_str().unwrap()),
        "{}",
        notice.subject
    );
    // The card's language now (English) first, and Japanese too.
    assert!(
        notice.subject.starts_with("Important") && notice.subject.contains("メールアドレス"),
        "{}",
        notice.subject
    );
    for part in [&notice.text, &notice.html] {
        let (english, japanese) = (part.find("another address"), part.find("別のアドレス"));
        assert!(english.is_some() && english < japanese, "{part}");
        // No part of the new address, chosen by whoever made the change, and no address at all.
        assert!(!part.contains("routine-update"), "the new address: {part}");
        assert!(!part.contains('@'), "an address: {part}");
        assert!(!part.contains("http"), "a link: {part}");
    }

    // One notice only: the next mail is the new address's own code.
    let created = server.create(CARD_JA, 3000, "03").await;
    server.device(&created, &fingerprint("x"), None).await;
    let next = server.next_mail().await;
    assert_eq!(
        next.envelope_to,
        "x@no-action-needed-routine-update.example.org"
    );
    assert!(
        next.subject.contains("verification code"),
        "{}",
        next.subject
    );
}

/// Unenrolling a card and enrolling it again with another address tells the address it had,
/// as a change of address does; enrolling it again with the same address tells no one.
#[tokio::test]
async fn a_card_enrolled_again_elsewhere_is_told_to_its_former_address() {
    let mut server = TestServer::start().await;
    let token = server.admin_token().await;
    let card = get(&server, &token, "/cardholders/ch_1").await;
    let former = card["email"].as_str().unwrap().to_owned();
    let mut id = card["id"].as_str().unwrap().to_owned();
    for email in [former.as_str(), "thief@example.org"] {
        let (status, gone) = server
            .admin_call(
                Method::DELETE,
                &format!("/cardholders/{id}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{gone}");
        server.clock.advance(1);
        let (status, body) = server
            .admin_call(
                Method::POST,
                "/cardholders",
                Some(&token),
                Some(json!({"cardholders": [{"card": CARD_JA, "email": email}]})),
            )
            .await;
        assert_eq!(
            (status, body["items"][0]["outcome"].as_str()),
            (200, Some("enrolled")),
            "{body}"
        );
        id = body["items"][0]["cardholder"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    // The first mail since: had enrolling again with the same address queued one, it would be.
    let notice = server.next_mail().await;
    assert_eq!(notice.envelope_to, former);
    assert!(
        notice.subject.starts_with("【重要】")
            && notice.subject.contains(card["last4"].as_str().unwrap()),
        "{}",
        notice.subject
    );
    for part in [&notice.text, &notice.html] {
        assert!(part.contains("別のアドレス") && part.contains("another address"));
        assert!(!part.contains('@') && !part.contains("http"), "{part}");
    }

    // One notice only: the next mail is the new address's own code.
    let created = server.create(CARD_JA, 3000, "03").await;
    server.device(&created, &fingerprint("x"), None).await;
    let next = server.next_mail().await;
    assert_eq!(next.envelope_to, "thief@example.org");
}

/// Runs a challenge for `card` in the browser `fp`; answers the device id the card now trusts
/// and the browser's device token.
async fn trust(server: &mut TestServer, card: &str, fp: &Value) -> (String, String) {
    let created = server.create(card, 1000, "01").await;
    let body = server.device(&created, fp, None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    let subject = if card == CARD_JA {
        "ご本人確認コード"
    } else {
        "verification code"
    };
    let code = server.next_mail_matching(subject).await.code();
    let (status, body) = server.verify(&created, &code).await;
    assert_eq!(status, 200, "{body}");
    let token = body["device_token"].as_str().unwrap().to_owned();
    let claims = server
        .state
        .flow()
        .tokens()
        .device_claims(
            &token,
            &MerchantId::from_static(MERCHANT),
            server.clock.now(),
        )
        .unwrap();
    (claims.did, token)
}

/// The outcome of a purchase with `card` in the browser `fp` holding `device_token`.
async fn purchase(server: &TestServer, card: &str, fp: &Value, device_token: &str) -> Value {
    let created = server.create(card, 2000, "01").await;
    server.device(&created, fp, Some(device_token)).await["outcome"].clone()
}

fn device_ids(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["device_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_cards_trusted_browsers_are_listed_and_one_removed() {
    let mut server = TestServer::start().await;
    let token = server.admin_token().await;
    let (laptop_fp, phone_fp) = (fingerprint("laptop"), fingerprint("phone"));
    let (laptop, laptop_token) = trust(&mut server, CARD, &laptop_fp).await;
    server.clock.advance(60);
    let (phone, phone_token) = trust(&mut server, CARD, &phone_fp).await;
    // Another card's browser: the Japanese card (ch_1) in the phone.
    let (other, other_token) = trust(&mut server, CARD_JA, &phone_fp).await;

    let devices = "/cardholders/ch_0/devices";
    let listed = get(&server, &token, devices).await;
    assert_eq!(device_ids(&listed), [&laptop, &phone], "oldest first");
    let first = &listed["items"][0];
    assert_eq!(first["merchant_id"], MERCHANT);
    assert_eq!(first["merchant_name"], "Test <Shop> & Co");
    assert_eq!(first["trusted_since"], START);
    assert_eq!(first["last_used"], START, "{first}");
    assert!(first["expires_at"].as_i64().unwrap() > START, "{first}");
    assert_eq!(first["browser"], "Chromium, en-US, Asia/Tokyo", "{first}");
    assert_eq!(listed["items"][1]["trusted_since"], START + 60);

    // Removing one answers what is left; removing it again finds nothing.
    let remove = |card: &str, device: &str| {
        let path = format!("/cardholders/{card}/devices/{device}");
        let (server, token) = (&server, &token);
        async move {
            server
                .admin_call(Method::DELETE, &path, Some(token), None)
                .await
        }
    };
    let (status, left) = remove("ch_0", &laptop).await;
    assert_eq!(status, 200, "{left}");
    assert_eq!(device_ids(&left), [&phone]);
    assert_eq!(get(&server, &token, devices).await, left);
    // Not the card's browser, no browser, an unknown card: 404, nothing changed.
    for (card, device) in [
        ("ch_0", laptop.as_str()),
        ("ch_0", other.as_str()),
        ("ch_0", "dv_nope"),
        ("ch_0", "not-a-device"),
        ("ch_nobody", phone.as_str()),
        ("m_test", phone.as_str()),
    ] {
        let (status, body) = remove(card, device).await;
        assert_eq!(
            (status, &body["error"]),
            (404, &json!("not_found")),
            "{card} {device}"
        );
    }
    assert_eq!(get(&server, &token, devices).await, left);
    let others = get(&server, &token, "/cardholders/ch_1/devices").await;
    assert_eq!(
        device_ids(&others),
        [&other],
        "the other card's trust stays"
    );

    assert_eq!(
        purchase(&server, CARD, &phone_fp, &phone_token).await,
        "frictionless",
        "the browser kept stays trusted"
    );
    assert_eq!(
        purchase(&server, CARD_JA, &phone_fp, &other_token).await,
        "frictionless",
        "and another card's in it"
    );
    assert_eq!(
        purchase(&server, CARD, &laptop_fp, &laptop_token).await,
        "challenge",
        "the removed browser is challenged"
    );

    // An unknown or unenrolled card has no browsers to list or remove.
    let (status, _) = server
        .admin_call(
            Method::GET,
            "/cardholders/ch_nobody/devices",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .admin_call(Method::DELETE, "/cardholders/ch_0", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .admin_call(Method::GET, devices, Some(&token), None)
        .await;
    assert_eq!((status, &body["error"]), (404, &json!("not_found")));
    let (status, _) = remove("ch_0", &phone).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn merchants_are_added_their_origins_replaced_and_keys_rotated() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    // Listed oldest first: after the seeded merchant.
    server.clock.advance(1);
    let (status, created) = server
        .admin_call(
            Method::POST,
            "/merchants",
            Some(&token),
            Some(
                json!({"name": "Shop 2", "origins": ["https://two.example", "https://two.example"],
                    "sandbox": true}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let merchant = &created["merchant"];
    let id = merchant["id"].as_str().unwrap();
    assert_eq!(merchant["origins"], json!(["https://two.example"]));
    assert_eq!(merchant["sandbox"], true);
    let secret = created["secret_key"].as_str().unwrap();
    assert!(secret.starts_with("mamori_sk."));
    let (first_key, _) = merchant_call(&server, secret).await;
    assert_eq!(first_key, 404, "the new merchant's key authenticates");

    let listed = get(&server, &token, "/merchants").await;
    assert_eq!(ids(&listed), ["m_test", id]);
    assert_eq!(listed["items"][1], *merchant);
    assert_eq!(
        get(&server, &token, &format!("/merchants/{id}")).await,
        *merchant
    );

    let origins = format!("/merchants/{id}/origins");
    for (bad, code) in [
        (json!({"origins": []}), "invalid_request"),
        (
            json!({"origins": ["https://ok.example", "https://bad.example/path"]}),
            "invalid_request",
        ),
        (json!({"origins": "https://ok.example"}), "invalid_body"),
    ] {
        let (status, body) = server
            .admin_call(Method::PUT, &origins, Some(&token), Some(bad.clone()))
            .await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{bad}");
    }
    assert_eq!(
        get(&server, &token, &format!("/merchants/{id}")).await,
        *merchant
    );
    let (status, replaced) = server
        .admin_call(
            Method::PUT,
            &origins,
            Some(&token),
            Some(json!({"origins": ["https://b.example", "http://a.example:8080"]})),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        replaced["origins"],
        json!(["http://a.example:8080", "https://b.example"])
    );

    let (status, rotated) = server
        .admin_call(
            Method::POST,
            &format!("/merchants/{id}/keys"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 201, "{rotated}");
    let new_secret = rotated["secret_key"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(
        merchant_call(&server, new_secret).await.0,
        404,
        "the new key works"
    );
    assert_eq!(
        merchant_call(&server, secret).await.0,
        404,
        "the old one during the overlap"
    );
    let keys = get(&server, &token, &format!("/merchants/{id}")).await["keys"].clone();
    assert_eq!(keys[0]["kid"], rotated["kid"]);
    assert_eq!(keys[0]["retire_at"], Value::Null);
    assert_eq!(keys[1]["retire_at"], rotated["older_keys_retire_at"]);

    for (bad, code) in [
        (
            json!({"name": "", "origins": ["https://x.example"]}),
            "invalid_request",
        ),
        (
            json!({"name": "X", "origins": ["x.example"]}),
            "invalid_request",
        ),
        (json!({"name": "X"}), "invalid_body"),
    ] {
        let (status, body) = server
            .admin_call(Method::POST, "/merchants", Some(&token), Some(bad.clone()))
            .await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{bad}");
    }
    assert_eq!(
        ids(&get(&server, &token, "/merchants").await),
        ["m_test", id]
    );
    for (method, path) in [
        (Method::GET, "/merchants/m_nobody"),
        (Method::POST, "/merchants/m_nobody/keys"),
        (Method::GET, "/merchants/ch_0"),
    ] {
        let (status, _) = server.admin_call(method, path, Some(&token), None).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = server
        .admin_call(
            Method::PUT,
            "/merchants/m_nobody/origins",
            Some(&token),
            Some(json!({"origins": ["https://x.example"]})),
        )
        .await;
    assert_eq!(status, 404);
}

/// A merchant route with `secret` as the key: `404` for an authenticated merchant (no such
/// authentication), `401` otherwise.
async fn merchant_call(server: &TestServer, secret: &str) -> (u16, Value) {
    let response = server
        .http
        .get(server.url("/v1/authentications/au_nothing"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn reports_are_listed_and_resolved() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let created = server.create(CARD, 1000, "01").await;
    // Reported as a cardholder does: the signed link of a mail, confirmed.
    let authentication = AuthenticationId::parse(created.id.as_str()).unwrap();
    let link = server
        .state
        .flow()
        .tokens()
        .report_url(&authentication, START);
    let confirmed = server.http.post(&link).send().await.unwrap();
    assert_eq!(confirmed.status(), 200);

    let open = get(&server, &token, "/reports?open=true").await;
    let report = ids(&open);
    assert_eq!(report.len(), 1, "{open}");
    let report = report[0].clone();
    assert_eq!(open["items"][0]["resolved_at"], Value::Null);
    assert_eq!(open["items"][0]["authentication_id"], created.id.as_str());
    let (status, body) = server
        .admin_call(Method::GET, "/reports?open=yes", Some(&token), None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    server.clock.advance(60);
    let (status, resolved) = server
        .admin_call(
            Method::POST,
            &format!("/reports/{report}/resolve"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["resolved_at"], START + 60);
    server.clock.advance(60);
    let (status, again) = server
        .admin_call(
            Method::POST,
            &format!("/reports/{report}/resolve"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (status, &again),
        (200, &resolved),
        "resolving again changes nothing"
    );

    assert_eq!(
        ids(&get(&server, &token, "/reports?open=true").await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&get(&server, &token, "/reports").await),
        [report.as_str()]
    );
    assert_eq!(
        ids(&get(&server, &token, "/reports?open=false").await),
        [report.as_str()]
    );
    let (status, _) = server
        .admin_call(
            Method::POST,
            "/reports/fr_nobody/resolve",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

/// Server to server: the security headers of every answer, and no CORS, whatever the origin.
#[tokio::test]
async fn answers_carry_the_security_headers_and_no_cors() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let response = server
        .http
        .get(server.url("/admin/v1/cardholders"))
        .bearer_auth(&token)
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.get("access-control-allow-origin").is_none());
    let preflight = server
        .http
        .request(Method::OPTIONS, server.url("/admin/v1/cardholders"))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 405);
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn a_tokens_last_use_is_recorded_at_most_once_a_minute() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let last_used = || async { server.store.admin_tokens().await.unwrap()[0].last_used_at };
    assert_eq!(last_used().await, None);
    get(&server, &token, "/reports").await;
    eventually(|| async { last_used().await == Some(START) }).await;
    server.clock.advance(30);
    get(&server, &token, "/reports").await;
    server.clock.advance(31);
    get(&server, &token, "/reports").await;
    eventually(|| async { last_used().await == Some(START + 61) }).await;
}

#[tokio::test]
async fn each_admin_token_has_its_own_rate_limit() {
    let server = TestServer::start_with(Options {
        tweak: |config| {
            config.rate_limits.create_per_key = Bounded::constant::<2>();
        },
        ..Options::default()
    })
    .await;
    let (first, second) = (server.admin_token().await, server.admin_token().await);
    for _ in 0..2 {
        get(&server, &first, "/reports").await;
    }
    let (status, body) = server
        .admin_call(Method::GET, "/reports", Some(&first), None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    get(&server, &second, "/reports").await;
}

// ---- Failed authentications per client address ----

/// The failed authentications an address may have in a window, by default.
const FAILURES: usize = 20;

/// A well-formed admin token that is no one's.
fn wrong_token(n: usize) -> String {
    format!("mamori_admin_{n:064x}")
}

#[tokio::test]
async fn a_client_that_keeps_failing_is_refused_before_any_token_is_looked_up() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let attacker = "203.0.113.9";
    for n in 0..FAILURES {
        let answer = server.admin_reports_from(attacker, &wrong_token(n)).await;
        assert_eq!(
            answer,
            (401, None, Some("unauthorized".into())),
            "failure {n}"
        );
    }

    // From now on every request from the address is refused for the rest of the window (START
    // is the start of one), whatever it presents: a wrong token, none, the correct one.
    let refused = (429, Some("60".to_owned()), Some("rate_limited".to_owned()));
    assert_eq!(
        server.admin_reports_from(attacker, &wrong_token(99)).await,
        refused
    );
    assert_eq!(server.admin_reports_from(attacker, &live).await, refused);
    let response = server
        .http
        .get(server.url("/admin/v1/cardholders"))
        .header("x-forwarded-for", attacker)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "no token at all");

    // Without the token table, a lookup fails (a 500 for another address) — and the locked
    // out address is still answered 429: its requests never reach the table.
    server
        .execute_behind_its_back("ALTER TABLE admin_tokens RENAME TO admin_tokens_hidden")
        .await;
    for token in [live.as_str(), &wrong_token(100)] {
        assert_eq!(server.admin_reports_from(attacker, token).await, refused);
    }
    let (status, _, error) = server.admin_reports_from("203.0.113.50", &live).await;
    assert_eq!(
        (status, error.as_deref()),
        (500, Some("internal")),
        "a lookup needs the table"
    );
    server
        .execute_behind_its_back("ALTER TABLE admin_tokens_hidden RENAME TO admin_tokens")
        .await;

    // Seconds later the wait is shorter; at the window's end the address starts again.
    server.clock.advance(45);
    assert_eq!(
        server.admin_reports_from(attacker, &live).await,
        (429, Some("15".to_owned()), Some("rate_limited".to_owned()))
    );
    server.clock.advance(15);
    assert_eq!(server.admin_reports_from(attacker, &live).await.0, 200);
    for n in 0..FAILURES {
        assert_eq!(
            server.admin_reports_from(attacker, &wrong_token(n)).await.0,
            401
        );
    }
    assert_eq!(server.admin_reports_from(attacker, &live).await.0, 429);
}

/// Many wrong tokens at once from one address: each reserves its place before its lookup, so
/// only the limit's worth are looked up (and answered 401); the rest are refused unlooked.
#[tokio::test]
async fn wrong_tokens_sent_at_once_get_no_more_lookups_than_the_limit() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let attacker = "203.0.113.9";
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..10 * FAILURES {
        let sent = server
            .http
            .get(server.url("/admin/v1/reports"))
            .bearer_auth(wrong_token(n))
            .header("x-forwarded-for", attacker)
            .send();
        requests.spawn(async move { sent.await.unwrap().status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = requests.join_next().await {
        statuses.push(status.unwrap());
    }
    let looked_up = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(
        (looked_up, refused),
        (FAILURES, 9 * FAILURES),
        "{statuses:?}"
    );
    assert_eq!(server.admin_reports_from(attacker, &live).await.0, 429);
}

#[tokio::test]
async fn a_locked_out_client_leaves_every_other_address_alone() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    for n in 0..FAILURES {
        assert_eq!(
            server
                .admin_reports_from("203.0.113.9", &wrong_token(n))
                .await
                .0,
            401
        );
    }
    assert_eq!(server.admin_reports_from("203.0.113.9", &live).await.0, 429);

    // The back office's address: its token works, and its own mistakes are its own.
    assert_eq!(
        server.admin_reports_from("198.51.100.20", &live).await.0,
        200
    );
    let (status, _, error) = server
        .admin_reports_from("198.51.100.20", &wrong_token(0))
        .await;
    assert_eq!((status, error.as_deref()), (401, Some("unauthorized")));
    // A direct peer (no header) is the proxy's own address, counted on its own as well.
    let (status, _) = server
        .admin_call(Method::GET, "/reports", Some(&live), None)
        .await;
    assert_eq!(status, 200);

    // An IPv6 client is counted by its /64: a neighbour in it shares the lockout, the next
    // /64 does not.
    for n in 0..FAILURES {
        let client = format!("2001:db8:1:2::{n:x}");
        assert_eq!(
            server.admin_reports_from(&client, &wrong_token(n)).await.0,
            401
        );
    }
    assert_eq!(
        server
            .admin_reports_from("2001:db8:1:2:ffff::1", &live)
            .await
            .0,
        429
    );
    assert_eq!(
        server.admin_reports_from("2001:db8:1:3::1", &live).await.0,
        200
    );
}

#[tokio::test]
async fn a_correct_token_under_the_limit_works_and_does_not_clear_the_failures() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let client = "198.51.100.30";
    for n in 0..FAILURES - 1 {
        assert_eq!(
            server.admin_reports_from(client, &wrong_token(n)).await.0,
            401
        );
    }
    // One failure short of the limit: the back office's token works as ever.
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    // Succeeding forgives nothing: one more failure reaches the limit.
    assert_eq!(
        server.admin_reports_from(client, &wrong_token(0)).await.0,
        401
    );
    assert_eq!(server.admin_reports_from(client, &live).await.0, 429);
}

#[tokio::test]
async fn the_failures_allowed_per_address_are_configurable() {
    let server = TestServer::start_with(Options {
        tweak: |config| {
            config.trusted_proxies = TrustedProxies::try_from("127.0.0.0/8").unwrap();
            config.rate_limits.admin_failures_per_address = Bounded::constant::<2>();
            config.rate_limits.window = Bounded::constant::<300>();
        },
        ..Options::default()
    })
    .await;
    let live = server.admin_token().await;
    for n in 0..2 {
        assert_eq!(
            server
                .admin_reports_from("203.0.113.9", &wrong_token(n))
                .await
                .0,
            401
        );
    }
    assert_eq!(
        server.admin_reports_from("203.0.113.9", &live).await,
        (429, Some("300".to_owned()), Some("rate_limited".to_owned()))
    );
}

/// The back office's network, listed in `admin_exempt_networks`, is never locked out: not by
/// its own failures, nor by anyone sharing its address. Other addresses still are.
#[tokio::test]
async fn an_exempt_network_is_never_locked_out() {
    let server = TestServer::start_with(Options {
        tweak: |config| {
            config.trusted_proxies = TrustedProxies::try_from("127.0.0.0/8").unwrap();
            config.rate_limits.admin_exempt_networks =
                Networks::try_from("198.51.100.0/24, 2001:db8:b0::/48").unwrap();
        },
        ..Options::default()
    })
    .await;
    let live = server.admin_token().await;
    for client in ["198.51.100.20", "2001:db8:b0:1::7"] {
        for n in 0..2 * FAILURES {
            let (status, _, error) = server.admin_reports_from(client, &wrong_token(n)).await;
            assert_eq!((status, error.as_deref()), (401, Some("unauthorized")));
        }
        assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    }
    for n in 0..FAILURES {
        assert_eq!(
            server
                .admin_reports_from("198.51.101.20", &wrong_token(n))
                .await
                .0,
            401
        );
    }
    assert_eq!(
        server.admin_reports_from("198.51.101.20", &live).await.0,
        429,
        "the next network is counted"
    );
}

/// A revoked token is refused like any other, but it is its holder's (a job nobody updated),
/// not a guess: it is not counted, and does not lock its address out.
#[tokio::test]
async fn a_revoked_token_is_refused_without_counting_as_a_guess() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let (record, revoked) = mamori_server::admin::create_token(server.store.as_ref(), "old", START)
        .await
        .unwrap();
    assert!(
        server
            .store
            .revoke_admin_token(&record.id, START)
            .await
            .unwrap()
    );
    let client = "198.51.100.30";
    for _ in 0..2 * FAILURES {
        let (status, _, error) = server.admin_reports_from(client, &revoked).await;
        assert_eq!((status, error.as_deref()), (401, Some("unauthorized")));
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    // Guesses from the same address still count from zero.
    for n in 0..FAILURES {
        assert_eq!(
            server.admin_reports_from(client, &wrong_token(n)).await.0,
            401
        );
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 429);
}

/// `Authorization: Bearer token` from `client`, as a proxy on loopback forwards it: the parts
/// of a request as the admin extractor sees them behind a socket.
fn forwarded_parts(client: &str, token: &str) -> axum::http::request::Parts {
    let proxy: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
    axum::http::Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .header("x-forwarded-for", client)
        .extension(axum::extract::ConnectInfo(proxy))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// Two instances over one store, as several verifiers share one PostgreSQL database: the
/// second has never seen the address, and refuses it from the shared count alone.
#[tokio::test]
async fn an_address_locked_out_on_one_instance_is_refused_by_another() {
    use axum::extract::FromRequestParts;
    use mamori_server::api::admin::Admin;
    use mamori_server::{ApiError, AppState};

    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    for n in 0..FAILURES {
        let answer = server
            .admin_reports_from("203.0.113.9", &wrong_token(n))
            .await;
        assert_eq!(answer.0, 401);
    }
    let other = AppState::new(
        (*server.state.config).clone(),
        std::sync::Arc::clone(&server.store),
        mamori_server::secrets::Secrets::derive(&server.secrets_master),
        server.clock.clone(),
    );
    let refused = Admin::from_request_parts(&mut forwarded_parts("203.0.113.9", &live), &other)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ApiError::RateLimited { retry_after: 60 }),
        "{refused:?}"
    );
    // The second instance now remembers the lockout too, and refuses without asking the store:
    // with the counts out of reach, it still answers the lockout, not a store failure. (On
    // SQLite the counts are in the verifier's memory, out of this test's reach.)
    if !server.database_url.starts_with("sqlite:") {
        server
            .execute_behind_its_back("ALTER TABLE rate_limits RENAME TO rate_limits_hidden")
            .await;
        let refused = Admin::from_request_parts(&mut forwarded_parts("203.0.113.9", &live), &other)
            .await
            .unwrap_err();
        server
            .execute_behind_its_back("ALTER TABLE rate_limits_hidden RENAME TO rate_limits")
            .await;
        assert!(
            matches!(refused, ApiError::RateLimited { retry_after: 60 }),
            "{refused:?}"
        );
    }
    let admitted = Admin::from_request_parts(&mut forwarded_parts("203.0.113.10", &live), &other)
        .await
        .unwrap();
    assert_eq!(admitted.0.name, "tests");
}

/// Many requests at once with the live token: those past the limit are refused for the moment
/// (too many lookups in flight), but nothing is remembered — the next one gets in.
#[tokio::test]
async fn live_tokens_sent_at_once_never_lock_their_address_out() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let client = "198.51.100.40";
    // The limit's worth of lookups in flight, held: one more is refused, whatever its token.
    let mut in_flight = Vec::new();
    for _ in 0..FAILURES {
        in_flight.push(
            mamori_server::api::throttle::reserve_admin_attempt(&server.state, client)
                .await
                .unwrap(),
        );
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 429);
    for attempt in in_flight {
        attempt.give_back(&server.state).await;
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    // The same through the socket, at whatever concurrency the machine gives.
    for round in 0..3 {
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..2 * FAILURES {
            let sent = server
                .http
                .get(server.url("/admin/v1/reports"))
                .bearer_auth(&live)
                .header("x-forwarded-for", client)
                .send();
            requests.spawn(async move { sent.await.unwrap().status().as_u16() });
        }
        while let Some(status) = requests.join_next().await {
            let status = status.unwrap();
            assert!(status == 200 || status == 429, "round {round}: {status}");
        }
        assert_eq!(
            server.admin_reports_from(client, &live).await.0,
            200,
            "round {round}"
        );
    }
    // Nor do they use up the address's failures.
    for n in 0..FAILURES {
        assert_eq!(
            server.admin_reports_from(client, &wrong_token(n)).await.0,
            401
        );
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 429);
}

/// A typo while the back office has lookups in flight is one failure, not the limit's worth.
#[tokio::test]
async fn one_failure_among_lookups_in_flight_is_one_failure() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let client = "198.51.100.41";
    let mut in_flight = Vec::new();
    for _ in 0..FAILURES - 1 {
        in_flight.push(
            mamori_server::api::throttle::reserve_admin_attempt(&server.state, client)
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        server.admin_reports_from(client, &wrong_token(0)).await.0,
        401
    );
    for attempt in in_flight {
        attempt.give_back(&server.state).await;
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    for n in 1..FAILURES - 1 {
        assert_eq!(
            server.admin_reports_from(client, &wrong_token(n)).await.0,
            401
        );
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    assert_eq!(
        server.admin_reports_from(client, &wrong_token(0)).await.0,
        401,
        "the failure reaching the limit"
    );
    assert_eq!(server.admin_reports_from(client, &live).await.0, 429);
}

/// A lookup the store fails tested no guess: `500`, and the place is given back.
#[tokio::test]
async fn a_lookup_the_store_fails_is_no_failure() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let client = "198.51.100.42";
    server
        .execute_behind_its_back("ALTER TABLE admin_tokens RENAME TO admin_tokens_hidden")
        .await;
    for n in 0..2 * FAILURES {
        let (status, _, error) = server.admin_reports_from(client, &wrong_token(n)).await;
        assert_eq!((status, error.as_deref()), (500, Some("internal")), "{n}");
    }
    server
        .execute_behind_its_back("ALTER TABLE admin_tokens_hidden RENAME TO admin_tokens")
        .await;
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
}

/// Makes PostgreSQL fail the changes to the rate-limit counts that `trigger` (a `CREATE
/// TRIGGER` statement executing `refuse_count_change()`) names: a counter store that refuses
/// part of its work.
async fn refuse_on_rate_limits(server: &TestServer, trigger: &'static str) {
    server
        .execute_behind_its_back(
            "CREATE FUNCTION refuse_count_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
        )
        .await;
    server.execute_behind_its_back(trigger).await;
}

/// A live token whose place cannot be given back (the store refuses to take back a count) is
/// still let in: the place stays counted, and the failure is logged only. On SQLite the counts
/// live in the verifier's memory and cannot fail, so this is PostgreSQL's test.
#[tokio::test]
async fn a_give_back_the_store_fails_still_lets_the_live_token_in() {
    let server = TestServer::behind_a_proxy().await;
    if server.database_url.starts_with("sqlite:") {
        eprintln!("SQLite counts in memory, which cannot fail: nothing to test");
        return;
    }
    let live = server.admin_token().await;
    refuse_on_rate_limits(
        &server,
        "CREATE TRIGGER take_back BEFORE UPDATE ON rate_limits FOR EACH ROW \
         WHEN (NEW.hits < OLD.hits) EXECUTE FUNCTION refuse_count_change()",
    )
    .await;
    let client = "198.51.100.43";
    for n in 0..FAILURES {
        assert_eq!(
            server.admin_reports_from(client, &live).await.0,
            200,
            "request {n}"
        );
    }
    // Every place stayed counted: the address's lookups are full for this window.
    assert_eq!(server.admin_reports_from(client, &live).await.0, 429);
}

/// A request cancelled during its lookup (a proxy gave up on a stalled store) got no answer:
/// its dropped reservation gives its place back, so a run of timeouts never locks the address
/// out.
#[tokio::test]
async fn lookups_cancelled_in_flight_give_their_places_back() {
    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let client = "198.51.100.44";
    for _ in 0..FAILURES {
        let cancelled = mamori_server::api::throttle::reserve_admin_attempt(&server.state, client)
            .await
            .unwrap();
        drop(cancelled);
    }
    // The give-backs run on tasks of their own: wait for them, within a bound.
    let mut status = 0;
    for _ in 0..200 {
        status = server.admin_reports_from(client, &live).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, 200, "the cancelled lookups still hold their places");
    // And the address's failures are untouched.
    for n in 0..FAILURES - 1 {
        assert_eq!(
            server.admin_reports_from(client, &wrong_token(n)).await.0,
            401
        );
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
}

/// Forgetting the ended windows' counts is housekeeping: when the store fails it, the request
/// it came with is still counted and answered. On SQLite the counts live in the verifier's
/// memory and cannot fail, so this is PostgreSQL's test.
#[tokio::test]
async fn a_forget_the_store_fails_still_answers_the_request() {
    let server = TestServer::behind_a_proxy().await;
    if server.database_url.starts_with("sqlite:") {
        eprintln!("SQLite counts in memory, which cannot fail: nothing to test");
        return;
    }
    let live = server.admin_token().await;
    refuse_on_rate_limits(
        &server,
        "CREATE TRIGGER forget BEFORE DELETE ON rate_limits FOR EACH STATEMENT \
         EXECUTE FUNCTION refuse_count_change()",
    )
    .await;
    let client = "198.51.100.45";
    // The first count of the window forgets the ones before it, and fails to.
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
    for n in 0..FAILURES {
        assert_eq!(
            server.admin_reports_from(client, &wrong_token(n)).await.0,
            401
        );
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 429);
}

/// Too many lookups in flight, with the address's failures under the limit, is a moment's
/// crowd: refused with `Retry-After: 1`, not the rest of the window.
#[tokio::test]
async fn too_many_lookups_in_flight_are_refused_for_a_second() {
    use axum::extract::FromRequestParts;
    use mamori_server::ApiError;
    use mamori_server::api::admin::Admin;

    let server = TestServer::behind_a_proxy().await;
    let live = server.admin_token().await;
    let client = "198.51.100.46";
    let mut in_flight = Vec::new();
    for _ in 0..FAILURES {
        in_flight.push(
            mamori_server::api::throttle::reserve_admin_attempt(&server.state, client)
                .await
                .unwrap(),
        );
    }
    let refused = Admin::from_request_parts(&mut forwarded_parts(client, &live), &server.state)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ApiError::RateLimited { retry_after: 1 }),
        "{refused:?}"
    );
    let (status, retry_after, error) = server.admin_reports_from(client, &live).await;
    assert_eq!(
        (status, retry_after.as_deref(), error.as_deref()),
        (429, Some("1"), Some("rate_limited"))
    );
    for attempt in in_flight {
        attempt.give_back(&server.state).await;
    }
    assert_eq!(server.admin_reports_from(client, &live).await.0, 200);
}
