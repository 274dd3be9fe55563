//! The admin API's protection-case routes (`/admin/v1/cases`) over HTTP against a real
//! verifier: a report's case is listed, shown, moved with its mail, and refused moves change
//! nothing; nothing is answered without an admin token. Every answer is checked against the
//! OpenAPI document on the way (the test server's checker).

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

/// `method /admin/v1{path}` as [`TestServer::admin_call`], the method by name.
async fn call_as(
    server: &TestServer,
    auth: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    server.admin_call(method, path, auth, body).await
}

/// A report's case, opened as a cardholder opens one: a purchase in a stranger's browser,
/// reported through its mail's signed link; answers the server and a live admin token.
async fn reported() -> (TestServer, String, support::Created) {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 30_000, "03").await;
    server.device(&created, &fingerprint("thief"), None).await;
    let report = server.next_mail().await.report_url();
    assert_eq!(
        server.http.post(&report).send().await.unwrap().status(),
        200
    );
    server
        .next_mail_matching("We have received your report")
        .await;
    let token = server.admin_token().await;
    (server, token, created)
}

#[tokio::test]
async fn a_reports_case_is_listed_shown_and_moved() {
    let (mut server, token, created) = reported().await;

    let (status, body) = call_as(&server, Some(&token), "GET", "/cases", None).await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    let case = &items[0];
    assert_eq!(case["state"], "open");
    assert_eq!(case["authentication_id"], created.id.as_str());
    assert_eq!(case["merchant_name"], "Test <Shop> & Co");
    assert_eq!(case["amount"], 30_000);
    assert_eq!(case["currency"], "JPY");
    assert_eq!(case["note"], Value::Null);
    let id = case["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("pc_"), "{id}");

    assert_eq!(
        call_as(&server, Some(&token), "GET", "/cases?state=open", None)
            .await
            .1["items"][0]["id"],
        id
    );
    assert_eq!(
        call_as(&server, Some(&token), "GET", "/cases?state=refunded", None).await,
        (200, json!({"items": []}))
    );
    let (status, body) = call_as(&server, Some(&token), "GET", "/cases?state=closed", None).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_request")));
    let (status, body) = call_as(&server, Some(&token), "GET", &format!("/cases/{id}"), None).await;
    assert_eq!((status, &body["id"]), (200, &json!(id)));
    for unknown in ["/cases/pc_nope", "/cases/fr_1", "/cases/pc_nope/state"] {
        let method = if unknown.ends_with("/state") {
            "POST"
        } else {
            "GET"
        };
        let body = (method == "POST").then(|| json!({"state": "refunded"}));
        let (status, answer) = call_as(&server, Some(&token), method, unknown, body).await;
        assert_eq!(
            (status, &answer["error"]),
            (404, &json!("not_found")),
            "{unknown}"
        );
    }

    let path = format!("/cases/{id}/state");
    let (status, body) = call_as(
        &server,
        Some(&token),
        "POST",
        &path,
        Some(json!({"state": "under_review", "note": "asked the shop"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["previous_state"], "open");
    assert_eq!(body["case"]["state"], "under_review");
    assert_eq!(body["case"]["note"], "asked the shop");
    let mail = server.next_mail_matching("We are reviewing").await;
    assert!(mail.text.contains("¥30,000"), "{}", mail.text);

    // Refused: a move the rule forbids, a state that does not exist, a stray member, a note
    // over 2000 characters; each changes nothing.
    for (request, code) in [
        (json!({"state": "open"}), "case_state"),
        (json!({"state": "closed"}), "invalid_body"),
        (json!({"state": "refunded", "by": "me"}), "invalid_body"),
        (
            json!({"state": "refunded", "note": "x".repeat(2001)}),
            "invalid_request",
        ),
        (
            json!({"state": "refunded", "note": "あ".repeat(2001)}),
            "invalid_request",
        ),
    ] {
        let (status, body) =
            call_as(&server, Some(&token), "POST", &path, Some(request.clone())).await;
        assert_eq!(body["error"], code, "{request}: {body}");
        let expected = if code == "case_state" { 409 } else { 400 };
        assert_eq!(status, expected, "{request}");
    }
    let (_, body) = call_as(&server, Some(&token), "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(
        (&body["state"], &body["note"]),
        (&json!("under_review"), &json!("asked the shop"))
    );

    let (status, body) = call_as(
        &server,
        Some(&token),
        "POST",
        &path,
        Some(json!({"state": "refunded"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["previous_state"], "under_review");
    assert_eq!(
        body["case"]["note"], "asked the shop",
        "no note keeps the last one"
    );
    let mail = server.next_mail_matching("refunded").await;
    assert!(
        mail.text.contains("will not be charged to you"),
        "{}",
        mail.text
    );
    let (status, body) = call_as(
        &server,
        Some(&token),
        "POST",
        &path,
        Some(json!({"state": "declined"})),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (409, &json!("case_state")),
        "decided stays decided"
    );
}

/// Without a live admin token every case route is `401` and nothing moves.
#[tokio::test]
async fn no_case_route_answers_without_an_admin_token() {
    let (server, token, _) = reported().await;
    let (_, cases) = call_as(&server, Some(&token), "GET", "/cases", None).await;
    let id = cases["items"][0]["id"].as_str().unwrap().to_owned();
    let unknown = format!("mamori_admin_{}", "ab".repeat(32));
    for auth in [
        None,
        Some(server.merchant_key.as_str()),
        Some(unknown.as_str()),
    ] {
        for (method, path, body) in [
            ("GET", "/cases".to_owned(), None),
            ("GET", format!("/cases/{id}"), None),
            (
                "POST",
                format!("/cases/{id}/state"),
                Some(json!({"state": "refunded"})),
            ),
        ] {
            let (status, answer) = call_as(&server, auth, method, &path, body).await;
            assert_eq!(
                (status, &answer["error"]),
                (401, &json!("unauthorized")),
                "{auth:?}: {method} {path}"
            );
        }
    }
    let (_, case) = call_as(&server, Some(&token), "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(case["state"], "open", "not moved");
}
