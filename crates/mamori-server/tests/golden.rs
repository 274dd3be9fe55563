//! Golden answers for the widget: every answer its parser reads, produced here by the real
//! verifier and compared with `tests/golden/*.json`, which the widget's browser tests feed to
//! that parser. A change to one of these answers fails here first, and then says what the
//! widget must read.
//!
//! The manual clock makes times exact; result and device tokens, which carry random ids, are
//! checked to be compact JWS and stand in the files as `<result_token>` and `<device_token>`.
//! `MAMORI_BLESS=1 cargo test -p mamori-server --test golden` rewrites the files from the
//! live answers (then review the diff: it is a wire-format change).

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;

use serde_json::{Value, json};
use support::*;

const DEVICE: &str = "POST /v1/authentications/{id}/device";
const VERIFY: &str = "POST /v1/authentications/{id}/challenge/verify";
const RESEND: &str = "POST /v1/authentications/{id}/challenge/resend";
const CANCEL: &str = "POST /v1/authentications/{id}/cancel";

/// Every golden answer, each made by one test below.
const NAMES: [&str; 15] = [
    "device-frictionless",
    "device-challenge",
    "device-rejected",
    "verify-wrong-code",
    "verify-authenticated",
    "verify-failed",
    "verify-expired",
    "resend",
    "cancel",
    "error-origin-not-allowed",
    "error-unauthorized",
    "error-authentication-finished",
    "error-invalid-code",
    "error-resend-cooldown",
    "error-resend-limit",
];

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Whether `text` is a compact JWS: three base64url parts, the last a signature.
fn is_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Compares one live answer with `tests/golden/<name>.json` (or writes it when blessing).
fn golden(name: &str, request: &str, status: u16, body: &Value) {
    assert!(NAMES.contains(&name), "{name} is not in NAMES");
    let mut body = body.clone();
    for token in ["result_token", "device_token"] {
        if let Some(value) = body.get_mut(token).filter(|v| v.is_string()) {
            assert!(is_jws(value.as_str().unwrap()), "{name}: {token} {value}");
            *value = Value::String(format!("<{token}>"));
        }
    }
    let live = json!({"request": request, "status": status, "body": body});
    let path = directory().join(format!("{name}.json"));
    if std::env::var_os("MAMORI_BLESS").is_some() {
        std::fs::create_dir_all(directory()).unwrap();
        let text = serde_json::to_string_pretty(&live).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (MAMORI_BLESS=1 writes it)", path.display()));
    let stored: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(live, stored, "{name} no longer matches {}", path.display());
}

/// The goldens' one code entry that is sure to be wrong.
fn other_code(code: &str) -> String {
    code.bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect()
}

/// A challenge, its refusals, a wrong code, a resend, the right code, and the trusted browser
/// coming back frictionless.
#[tokio::test]
async fn a_challenge_and_a_trusted_browser() {
    let mut server = TestServer::start().await;
    let fp = fingerprint("golden");
    let created = server.create(CARD, 1000, "01").await;
    let (status, body) = server
        .widget(&created, "/device", json!({"fingerprint": fp}))
        .await;
    golden("device-challenge", DEVICE, status, &body);
    let code = server.next_mail().await.code();

    let (status, body) = server
        .widget(&created, "/challenge/resend", json!({}))
        .await;
    golden("error-resend-cooldown", RESEND, status, &body);
    let (status, body) = server.verify(&created, "12").await;
    golden("error-invalid-code", VERIFY, status, &body);
    let (status, body) = server.verify(&created, &other_code(&code)).await;
    golden("verify-wrong-code", VERIFY, status, &body);

    server.clock.advance(30);
    let (status, body) = server
        .widget(&created, "/challenge/resend", json!({}))
        .await;
    golden("resend", RESEND, status, &body);
    let code = server.next_mail().await.code();
    let (status, body) = server.verify(&created, &code).await;
    golden("verify-authenticated", VERIFY, status, &body);
    let token = body["device_token"].as_str().unwrap().to_owned();
    let (status, body) = server.verify(&created, &code).await;
    golden("error-authentication-finished", VERIFY, status, &body);

    let again = server.create(CARD, 1000, "01").await;
    let body = server.device(&again, &fp, Some(&token)).await;
    golden("device-frictionless", DEVICE, 200, &body);
}

#[tokio::test]
async fn a_rejected_card() {
    let server = TestServer::start().await;
    let created = server.create(CARD_BLOCKED, 1000, "01").await;
    let body = server.device(&created, &fingerprint("golden"), None).await;
    golden("device-rejected", DEVICE, 200, &body);
}

#[tokio::test]
async fn five_wrong_codes() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 1000, "01").await;
    server.device(&created, &fingerprint("golden"), None).await;
    let wrong = other_code(&server.next_mail().await.code());
    for _ in 0..4 {
        server.verify(&created, &wrong).await;
    }
    let (status, body) = server.verify(&created, &wrong).await;
    golden("verify-failed", VERIFY, status, &body);
}

#[tokio::test]
async fn an_expired_authentication() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 1000, "01").await;
    server.device(&created, &fingerprint("golden"), None).await;
    let code = server.next_mail().await.code();
    server.clock.advance(15 * 60);
    let (status, body) = server.verify(&created, &code).await;
    golden("verify-expired", VERIFY, status, &body);
}

#[tokio::test]
async fn a_cancel() {
    let server = TestServer::start().await;
    let created = server.create(CARD, 1000, "01").await;
    server.device(&created, &fingerprint("golden"), None).await;
    let (status, body) = server.widget(&created, "/cancel", json!({})).await;
    golden("cancel", CANCEL, status, &body);
}

#[tokio::test]
async fn no_resend_left() {
    let server = TestServer::start().await;
    let created = server.create(CARD, 1000, "01").await;
    server.device(&created, &fingerprint("golden"), None).await;
    for _ in 0..3 {
        server.clock.advance(30);
        let (status, _) = server
            .widget(&created, "/challenge/resend", json!({}))
            .await;
        assert_eq!(status, 200);
    }
    server.clock.advance(30);
    let (status, body) = server
        .widget(&created, "/challenge/resend", json!({}))
        .await;
    golden("error-resend-limit", RESEND, status, &body);
}

/// The gate's refusals: a page on another origin, and a wrong client secret.
#[tokio::test]
async fn refusals_at_the_gate() {
    let server = TestServer::start().await;
    let created = server.create(CARD, 1000, "01").await;
    let body = json!({"fingerprint": fingerprint("golden")});
    let send = |origin: &'static str, secret: String| {
        server
            .http
            .post(server.url(&format!("/v1/authentications/{}/device", created.id)))
            .bearer_auth(secret)
            .header("origin", origin)
            .json(&body)
            .send()
    };
    let response = send("https://evil.example", created.secret.clone())
        .await
        .unwrap();
    let status = response.status().as_u16();
    golden(
        "error-origin-not-allowed",
        DEVICE,
        status,
        &response.json().await.unwrap(),
    );
    let response = send(ORIGIN, "cs_wrong".into()).await.unwrap();
    let status = response.status().as_u16();
    golden(
        "error-unauthorized",
        DEVICE,
        status,
        &response.json().await.unwrap(),
    );
}

/// The files are exactly [`NAMES`]: none left over from an answer no longer made.
#[test]
fn every_golden_file_is_made_here() {
    let mut files: Vec<String> = std::fs::read_dir(directory())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected: Vec<String> = NAMES.iter().map(|n| format!("{n}.json")).collect();
    expected.sort();
    assert_eq!(files, expected);
}
