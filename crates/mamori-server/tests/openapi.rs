//! The OpenAPI document against the router and against the checker that holds every HTTP
//! scenario to it: every documented operation is routed, nothing undocumented is routed on a
//! documented path, and the checker refuses answers that stray from the document.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use mamori_server::config::{Config, Delivery};
use serde_json::{Value, json};
use support::openapi::Checker;
use support::*;
use tower::ServiceExt;

const JSON: Option<&str> = Some("application/json");
const DEVICE: Option<&str> = Some("/v1/authentications/{id}/device");

fn document() -> Value {
    serde_json::to_value(mamori_server::openapi::document("http://127.0.0.1")).unwrap()
}

/// A verifier with a widget release, so `/widget/{file}` is routed too.
async fn app() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("mamori-0123456789abcdef.js"), "/* loader */").unwrap();
    std::fs::write(www.join("mamori-fedcba9876543210.wasm"), b"\0asm").unwrap();
    std::fs::write(
        www.join("manifest.json"),
        r#"{"version":"0.1.0","script":"mamori-0123456789abcdef.js","integrity":"sha384-x",
            "wasm":"mamori-fedcba9876543210.wasm","wasm_integrity":"sha384-y"}"#,
    )
    .unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let store = mamori_server::store::SqliteStore::open(&url).await.unwrap();
    let mut config = Config::default();
    config.mail.delivery = Delivery::Smtp;
    config.widget_dir = Some(www);
    let state = mamori_server::AppState::new(
        config,
        Arc::new(store),
        mamori_server::secrets::Secrets::derive(&[1; 32]),
        Arc::new(mamori_server::clock::ManualClock::new(START)),
    )
    .load_widget()
    .unwrap();
    (mamori_server::app(state), dir)
}

/// Both ways round, as far as a router can be asked: each documented operation is answered by
/// a route (not the fallback, not `405`), and each documented path answers every other method
/// `405`; each answer, unauthenticated and bodiless as the requests are, is a documented one. A
/// route on a path the document lacks is caught by the checker when a scenario calls it.
#[tokio::test]
async fn every_documented_operation_is_routed_and_nothing_else_on_its_paths() {
    let (app, _dir) = app().await;
    // An unrouted request meets this fallback instead of the router's `not_found`, which a
    // handler may answer too. Every answer is checked against the document on the way.
    let checker = Arc::new(Checker::new(support::openapi::demo_route));
    let app = support::openapi::checked(
        app.fallback(|| async { StatusCode::IM_A_TEAPOT }),
        Arc::clone(&checker),
    );
    let doc = document();
    let mut operations = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        let path = template
            .replace("{id}", "au_doc")
            .replace("{token}", "x")
            .replace("{device_id}", "dv_doc")
            .replace("{file}", "manifest.json");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            let documented = item[method.as_str().to_ascii_lowercase()].is_object();
            let request = Request::builder()
                .method(method.clone())
                .uri(&path)
                .header("origin", ORIGIN)
                .body(Body::empty())
                .unwrap();
            let status = app.clone().oneshot(request).await.unwrap().status();
            if documented {
                operations += 1;
                assert!(
                    status != StatusCode::IM_A_TEAPOT && status != StatusCode::METHOD_NOT_ALLOWED,
                    "documented {method} {template} → {status}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "undocumented {method} {template}"
                );
            }
        }
    }
    assert_eq!(operations, 20 + 27, "the verifier's and the admin API's");
    assert_eq!(
        checker.checked(),
        6 * doc["paths"].as_object().unwrap().len()
    );
    assert_eq!(checker.failures(), Vec::<String>::new());
}

/// The checker runs on the test server's answers: the scenarios' passing means something.
#[tokio::test]
async fn the_test_server_checks_every_answer() {
    let server = TestServer::start().await;
    let before = server.checker.checked();
    let created = server.create(CARD, 1000, "01").await;
    let (status, _) = server.widget(&created, "/cancel", json!({})).await;
    assert_eq!(status, 200);
    let response = server
        .http
        .get(server.url("/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(server.checker.checked(), before + 3);
    assert!(server.checker.failures().is_empty());
}

fn checker() -> Checker {
    Checker::new(support::openapi::demo_route)
}

fn check(route: Option<&str>, status: u16, body: &Value) -> Result<(), String> {
    let body = body.to_string();
    checker().check("POST", route, status, JSON, Some(body.as_bytes()))
}

#[test]
fn documented_answers_pass() {
    let frictionless = json!({"outcome": "frictionless", "status": "Y", "result_token": "t"});
    check(DEVICE, 200, &frictionless).unwrap();
    let finished = json!({"error": "authentication_finished", "message": "Finished."});
    check(DEVICE, 409, &finished).unwrap();
    let cooldown = json!({"error": "resend_cooldown", "message": "Wait.", "retry_after": 12});
    check(
        Some("/v1/authentications/{id}/challenge/resend"),
        429,
        &cooldown,
    )
    .unwrap();
    let not_found = json!({"error": "not_found", "message": "No such resource."});
    check(None, 404, &not_found).unwrap();
}

/// Each way an answer can stray from the document is refused, with the reason.
#[test]
fn the_checker_refuses_what_the_document_does_not_say() {
    let refused = |route, status, body: Value, why: &str| {
        let failure = check(route, status, &body).unwrap_err();
        assert!(failure.contains(why), "{failure}");
    };
    // A member missing, one too many, a value outside its enum, a wrong type, another
    // variant's member.
    refused(
        DEVICE,
        200,
        json!({"outcome": "frictionless", "status": "Y"}),
        "result_token",
    );
    refused(
        DEVICE,
        200,
        json!({"outcome": "frictionless", "status": "Y", "result_token": "t", "extra": 1}),
        "extra",
    );
    refused(
        DEVICE,
        200,
        json!({"outcome": "frictionless", "status": "K", "result_token": "t"}),
        "does not match",
    );
    refused(
        DEVICE,
        200,
        json!({"outcome": "challenge", "challenge": {"masked_email": "a***@b.c",
            "code_length": 6, "expires_at": "soon", "attempts_left": 5, "resends_left": 3,
            "resend_available_at": 0, "locale": "en"}}),
        "soon",
    );
    refused(
        DEVICE,
        200,
        json!({"outcome": "rejected", "status": "R", "result_token": "t",
            "challenge": {}}),
        "does not match",
    );
    refused(DEVICE, 200, json!(null), "does not match");
    // An error code under a status that does not have it, or one the route never answers.
    refused(
        DEVICE,
        409,
        json!({"error": "unauthorized", "message": "x"}),
        "does not match",
    );
    refused(
        DEVICE,
        409,
        json!({"error": "resend_limit", "message": "x"}),
        "does not match",
    );
    // A cooldown without its `retry_after`.
    refused(
        Some("/v1/authentications/{id}/challenge/resend"),
        429,
        json!({"error": "resend_cooldown", "message": "x"}),
        "retry_after",
    );
    // An undocumented status, route or method, and the fallbacks' own answers.
    refused(DEVICE, 418, json!({}), "status is not documented");
    refused(Some("/v1/secret"), 200, json!({}), "not in the document");
    let wrong = json!({"error": "unauthorized", "message": "x"});
    refused(None, 404, wrong, "expected error not_found");
    let failure = checker()
        .check("DELETE", DEVICE, 200, JSON, Some(b"{}"))
        .unwrap_err();
    assert!(failure.contains("405 method_not_allowed"), "{failure}");
    // A body that is not JSON, a media type the document does not list, a body where it
    // gives none.
    let failure = checker()
        .check("POST", DEVICE, 200, JSON, Some(b"<html>"))
        .unwrap_err();
    assert!(failure.contains("not JSON"), "{failure}");
    let failure = checker()
        .check("POST", DEVICE, 200, Some("text/html"), Some(b"<p>"))
        .unwrap_err();
    assert!(failure.contains("text/html is not documented"), "{failure}");
    let failure = checker()
        .check("OPTIONS", DEVICE, 204, None, Some(b"{}"))
        .unwrap_err();
    assert!(failure.contains("no body"), "{failure}");
}
