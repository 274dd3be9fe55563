//! The admin API's protection-case routes (`api::admin::cases`) over a live verifier's state:
//! a report's case is listed, shown, moved with its mail, and refused moves change nothing.
//!
//! The routes are mounted here at `/admin/v1` on their own, without the admin token extractor
//! the admin API's router puts in front of them.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, header};
use mamori_server::api;
use serde_json::{Value, json};
use support::*;
use tower::ServiceExt;

/// `method path` with `body` (JSON when given) against the case routes; `(status, JSON)`.
async fn call(server: &TestServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let router = axum::Router::new().nest("/admin/v1", api::admin::cases::routes());
    let app = api::finish(router, server.state.clone());
    let request = Request::builder()
        .method(method)
        .uri(format!("/admin/v1{path}"));
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_reports_case_is_listed_shown_and_moved() {
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

    let (status, body) = call(&server, "GET", "/cases", None).await;
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
        call(&server, "GET", "/cases?state=open", None).await.1["items"][0]["id"],
        id
    );
    assert_eq!(
        call(&server, "GET", "/cases?state=refunded", None).await,
        (200, json!({"items": []}))
    );
    let (status, body) = call(&server, "GET", "/cases?state=closed", None).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_request")));
    let (status, body) = call(&server, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!((status, &body["id"]), (200, &json!(id)));
    for unknown in ["/cases/pc_nope", "/cases/fr_1", "/cases/pc_nope/state"] {
        let method = if unknown.ends_with("/state") {
            "POST"
        } else {
            "GET"
        };
        let body = (method == "POST").then(|| json!({"state": "refunded"}));
        let (status, answer) = call(&server, method, unknown, body).await;
        assert_eq!(
            (status, &answer["error"]),
            (404, &json!("not_found")),
            "{unknown}"
        );
    }

    let path = format!("/cases/{id}/state");
    let (status, body) = call(
        &server,
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
        let (status, body) = call(&server, "POST", &path, Some(request.clone())).await;
        assert_eq!(body["error"], code, "{request}: {body}");
        let expected = if code == "case_state" { 409 } else { 400 };
        assert_eq!(status, expected, "{request}");
    }
    let (_, body) = call(&server, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(
        (&body["state"], &body["note"]),
        (&json!("under_review"), &json!("asked the shop"))
    );

    let (status, body) = call(&server, "POST", &path, Some(json!({"state": "refunded"}))).await;
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
    let (status, body) = call(&server, "POST", &path, Some(json!({"state": "declined"}))).await;
    assert_eq!(
        (status, &body["error"]),
        (409, &json!("case_state")),
        "decided stays decided"
    );
}
