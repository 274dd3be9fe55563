//! Bad input, headers and operations routes.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use mamori_server::config::{Config, Delivery};
use mamori_server::model::{KeyId, MerchantId, State};
use reqwest::Method;
use serde_json::{Value, json};
use support::*;
use tower::ServiceExt;

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    auth: Option<String>,
    origin: Option<&'static str>,
    content_type: Option<&'static str>,
    body: Option<String>,
    status: u16,
    code: &'static str,
}

#[tokio::test]
async fn bad_input_gets_a_stable_json_error_and_changes_nothing() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    server.next_mail().await;
    let before = server
        .store
        .authentication(&created.id)
        .await
        .unwrap()
        .unwrap();

    let key = Some(server.merchant_key.clone());
    let wrong_key = Some(mamori_core::token::encode_secret_key("k1", &[1; 32]));
    let unknown_kid = Some(mamori_core::token::encode_secret_key("k9", SECRET));
    let cs = Some(created.secret.clone());
    let id = &created.id;
    let create = "/v1/authentications".to_owned();
    let good = json!({"card_number": CARD, "amount": 100, "currency": "JPY", "order_ref": "o"});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        Some(body.to_string())
    };
    let json_ct = Some("application/json");
    let big = Some(format!("{{\"code\":\"{}\"}}", " ".repeat(17 * 1024)));
    let device = format!("/v1/authentications/{id}/device");
    let verify = format!("/v1/authentications/{id}/challenge/verify");
    let resend = format!("/v1/authentications/{id}/challenge/resend");
    let case = |name,
                method,
                path: &String,
                auth: &Option<String>,
                origin,
                content_type,
                body: Option<String>,
                status,
                code| Case {
        name,
        method,
        path: path.clone(),
        auth: auth.clone(),
        origin,
        content_type,
        body,
        status,
        code,
    };
    let post = Method::POST;
    let cases = vec![
        case(
            "create without credentials",
            post.clone(),
            &create,
            &None,
            None,
            json_ct,
            Some(good.to_string()),
            401,
            "unauthorized",
        ),
        case(
            "create with a wrong secret",
            post.clone(),
            &create,
            &wrong_key,
            None,
            json_ct,
            Some(good.to_string()),
            401,
            "unauthorized",
        ),
        case(
            "create with an unknown kid",
            post.clone(),
            &create,
            &unknown_kid,
            None,
            json_ct,
            Some(good.to_string()),
            401,
            "unauthorized",
        ),
        case(
            "create with a client secret",
            post.clone(),
            &create,
            &cs,
            None,
            json_ct,
            Some(good.to_string()),
            401,
            "unauthorized",
        ),
        case(
            "create as text/plain",
            post.clone(),
            &create,
            &key,
            None,
            Some("text/plain"),
            Some(good.to_string()),
            415,
            "unsupported_media_type",
        ),
        case(
            "create without content type",
            post.clone(),
            &create,
            &key,
            None,
            None,
            Some(good.to_string()),
            415,
            "unsupported_media_type",
        ),
        case(
            "create with broken JSON",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            Some("{\"amount\":".into()),
            400,
            "invalid_body",
        ),
        case(
            "create with an unknown field",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("extra", json!(1)),
            400,
            "invalid_body",
        ),
        case(
            "create without amount",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            Some(json!({"card_number": CARD, "currency": "JPY", "order_ref": "o"}).to_string()),
            400,
            "invalid_body",
        ),
        case(
            "create with a negative amount",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("amount", json!(-5)),
            400,
            "invalid_body",
        ),
        case(
            "create with a zero amount",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("amount", json!(0)),
            400,
            "invalid_request",
        ),
        case(
            "create with a fractional amount",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("amount", json!(1.5)),
            400,
            "invalid_body",
        ),
        case(
            "create with a lowercase currency",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("currency", json!("jpy")),
            400,
            "invalid_request",
        ),
        case(
            "create with a bad Luhn digit",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("card_number", json!("378282246310006")),
            400,
            "invalid_card_number",
        ),
        case(
            "create with card number and reference",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("card_ref", json!("a".repeat(64))),
            400,
            "invalid_request",
        ),
        case(
            "create with a malformed reference",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            Some(
                json!({"card_ref": "xyz", "amount": 1, "currency": "JPY", "order_ref": "o"})
                    .to_string(),
            ),
            400,
            "invalid_request",
        ),
        case(
            "create with an empty order reference",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("order_ref", json!("")),
            400,
            "invalid_request",
        ),
        case(
            "create with preference 05",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            with("challenge_preference", json!("05")),
            400,
            "invalid_request",
        ),
        case(
            "create with an oversize body",
            post.clone(),
            &create,
            &key,
            None,
            json_ct,
            big.clone(),
            413,
            "payload_too_large",
        ),
        case(
            "get an unknown id",
            Method::GET,
            &"/v1/authentications/au_nope".to_owned(),
            &key,
            None,
            None,
            None,
            404,
            "not_found",
        ),
        case(
            "get an id of another kind",
            Method::GET,
            &"/v1/authentications/m_test".to_owned(),
            &key,
            None,
            None,
            None,
            404,
            "not_found",
        ),
        case(
            "get a malformed id",
            Method::GET,
            &"/v1/authentications/au_%E2%80%A6".to_owned(),
            &key,
            None,
            None,
            None,
            404,
            "not_found",
        ),
        case(
            "get without credentials",
            Method::GET,
            &format!("/v1/authentications/{id}"),
            &None,
            None,
            None,
            None,
            401,
            "unauthorized",
        ),
        case(
            "device step for an unknown id",
            post.clone(),
            &"/v1/authentications/au_nope/device".to_owned(),
            &cs,
            Some(ORIGIN),
            json_ct,
            Some("{}".into()),
            401,
            "unauthorized",
        ),
        case(
            "device step for a malformed id",
            post.clone(),
            &format!("/v1/authentications/{}/device", "a".repeat(300)),
            &cs,
            Some(ORIGIN),
            json_ct,
            Some("{}".into()),
            401,
            "unauthorized",
        ),
        case(
            "device step for an id of another kind",
            post.clone(),
            &"/v1/authentications/ch_0/device".to_owned(),
            &cs,
            Some(ORIGIN),
            json_ct,
            Some("{}".into()),
            401,
            "unauthorized",
        ),
        case(
            "device step with a wrong secret",
            post.clone(),
            &device,
            &Some("cs_wrong".into()),
            Some(ORIGIN),
            json_ct,
            Some("{}".into()),
            401,
            "unauthorized",
        ),
        case(
            "device step with the merchant key",
            post.clone(),
            &device,
            &key,
            Some(ORIGIN),
            json_ct,
            Some("{}".into()),
            401,
            "unauthorized",
        ),
        case(
            "device step without origin",
            post.clone(),
            &device,
            &cs,
            None,
            json_ct,
            Some("{}".into()),
            403,
            "origin_not_allowed",
        ),
        case(
            "device step from another origin",
            post.clone(),
            &device,
            &cs,
            Some("https://evil.example"),
            json_ct,
            Some("{}".into()),
            403,
            "origin_not_allowed",
        ),
        case(
            "device step with fingerprint v2",
            post.clone(),
            &device,
            &cs,
            Some(ORIGIN),
            json_ct,
            Some(
                json!({"fingerprint": {"v": 2, "browser": "chromium", "components": {}}})
                    .to_string(),
            ),
            400,
            "invalid_body",
        ),
        case(
            "verify five digits",
            post.clone(),
            &verify,
            &cs,
            Some(ORIGIN),
            json_ct,
            Some(json!({"code": "12345"}).to_string()),
            400,
            "invalid_code",
        ),
        case(
            "verify letters",
            post.clone(),
            &verify,
            &cs,
            Some(ORIGIN),
            json_ct,
            Some(json!({"code": "12345a"}).to_string()),
            400,
            "invalid_code",
        ),
        case(
            "verify a number",
            post.clone(),
            &verify,
            &cs,
            Some(ORIGIN),
            json_ct,
            Some(json!({"code": 123456}).to_string()),
            400,
            "invalid_body",
        ),
        case(
            "verify with an extra field",
            post.clone(),
            &verify,
            &cs,
            Some(ORIGIN),
            json_ct,
            Some(json!({"code": "123456", "x": 1}).to_string()),
            400,
            "invalid_body",
        ),
        case(
            "verify as form data",
            post.clone(),
            &verify,
            &cs,
            Some(ORIGIN),
            Some("application/x-www-form-urlencoded"),
            Some("code=123456".into()),
            415,
            "unsupported_media_type",
        ),
        case(
            "verify an oversize body",
            post.clone(),
            &verify,
            &cs,
            Some(ORIGIN),
            json_ct,
            big,
            413,
            "payload_too_large",
        ),
        case(
            "resend with an array",
            post.clone(),
            &resend,
            &cs,
            Some(ORIGIN),
            json_ct,
            Some("[]".into()),
            400,
            "invalid_body",
        ),
        case(
            "an unknown route",
            Method::GET,
            &"/v2/nothing".to_owned(),
            &None,
            None,
            None,
            None,
            404,
            "not_found",
        ),
        case(
            "a wrong method",
            Method::DELETE,
            &create,
            &key,
            None,
            None,
            None,
            405,
            "method_not_allowed",
        ),
    ];
    for case in cases {
        let mut request = server
            .http
            .request(case.method.clone(), server.url(&case.path));
        if let Some(auth) = &case.auth {
            request = request.bearer_auth(auth);
        }
        if let Some(origin) = case.origin {
            request = request.header("origin", origin);
        }
        if let Some(ct) = case.content_type {
            request = request.header("content-type", ct);
        }
        if let Some(body) = case.body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, case.status, "{}: {body}", case.name);
        assert_eq!(body["error"], case.code, "{}", case.name);
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            case.name
        );
        assert_eq!(headers["content-type"], "application/json", "{}", case.name);
        assert_eq!(headers["cache-control"], "no-store", "{}", case.name);
        assert_eq!(
            headers["x-content-type-options"], "nosniff",
            "{}",
            case.name
        );
        assert_eq!(
            headers["strict-transport-security"], "max-age=31536000; includeSubDomains",
            "{}",
            case.name
        );
        if case.code == "origin_not_allowed" {
            let expected = case.origin.map(|o| o.to_owned());
            let got = headers
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(got, expected, "{}", case.name);
        }
    }

    // Nothing changed: same row, no extra authentication, no mail.
    let after = server
        .store
        .authentication(&created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(after.state(), State::Challenging);
    assert_eq!(after.attempts(), 0);
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("mamori_authentications_total{outcome=\"created\"} 1\n"),
        "{metrics}"
    );
    server.drained().await;
    assert!(server.mail.as_mut().unwrap().try_recv().is_err());
}

#[tokio::test]
async fn cors_for_registered_origins() {
    let server = TestServer::start().await;
    let created = server.create(CARD, 5000, "01").await;
    let path = server.url(&format!("/v1/authentications/{}/device", created.id));
    let preflight = server
        .http
        .request(Method::OPTIONS, &path)
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], ORIGIN);
    assert_eq!(h["access-control-allow-methods"], "POST");
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization, content-type"
    );

    let (status, _) = server
        .widget(
            &created,
            "/device",
            json!({"fingerprint": fingerprint("a")}),
        )
        .await;
    assert_eq!(status, 200);
    let response = server
        .http
        .post(&path)
        .bearer_auth(&created.secret)
        .header("origin", ORIGIN)
        .json(&json!({"fingerprint": fingerprint("a")}))
        .send()
        .await
        .unwrap();
    // A repeated device step on a challenge in progress answers the same challenge.
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(response.headers()["vary"], "Origin");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["outcome"], "challenge");
}

async fn oneshot_state(delivery: Delivery) -> (mamori_server::AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let store = mamori_server::store::SqliteStore::open(&url).await.unwrap();
    let mut config = Config::default();
    config.mail.delivery = delivery;
    let state = mamori_server::AppState::new(
        config,
        Arc::new(store),
        mamori_server::secrets::Secrets::derive(&[1; 32]),
        Arc::new(mamori_server::clock::ManualClock::new(START)),
    );
    (state, dir)
}

async fn call(app: axum::Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn operations_routes() {
    let (state, _dir) = oneshot_state(Delivery::Smtp).await;
    let app = mamori_server::app(state);
    let (status, headers, body) = call(app.clone(), "/healthz").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let (status, _, _) = call(app.clone(), "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, body) = call(app.clone(), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(body.contains("# TYPE mamori_authentications_total counter"));
    let healthz = "method=\"GET\",route=\"/healthz\",status=\"200\"";
    let count = format!("mamori_http_request_duration_seconds_count{{{healthz}}} 1");
    assert!(body.contains(&count), "{body}");
    let (status, _, body) = call(app.clone(), "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // The generated document, for this verifier's URL; tests/openapi.rs holds the routes to it.
    let generated = mamori_server::openapi::document(&Config::default().public_url);
    assert_eq!(doc, serde_json::to_value(generated).unwrap());
    let (status, _, _) = call(app.clone(), "/demo/mailbox").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no mailbox outside the demo");
    let (status, _, body) = call(app, "/report/au_x.1.00").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("invalid_report_link"));
}

/// A release directory as `cargo xtask package` writes it.
fn widget_release(dir: &std::path::Path) -> std::path::PathBuf {
    let www = dir.join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("mamori.js"), "/* loader */").unwrap();
    std::fs::write(www.join("mamori-0123456789abcdef.js"), "/* loader */").unwrap();
    std::fs::write(www.join("mamori-fedcba9876543210.wasm"), b"\0asm").unwrap();
    // Precompressed as the package writes them: the wasm's matches (and is told apart from
    // what the verifier would make by the name in its header); the loader's is stale.
    std::fs::write(
        www.join("mamori-fedcba9876543210.wasm.gz"),
        gzip_named(b"\0asm", "precompressed"),
    )
    .unwrap();
    std::fs::write(
        www.join("mamori.js.gz"),
        gzip_named(b"/* older */", "stale"),
    )
    .unwrap();
    std::fs::write(www.join(".secret.json"), "{}").unwrap();
    std::fs::write(www.join("notes.txt"), "not a release file").unwrap();
    std::fs::write(
        www.join("manifest.json"),
        r#"{"version":"0.1.0","script":"mamori-0123456789abcdef.js","integrity":"sha384-x",
            "wasm":"mamori-fedcba9876543210.wasm","wasm_integrity":"sha384-y"}"#,
    )
    .unwrap();
    www
}

/// `bytes` gzipped with `name` as the file name in the gzip header.
fn gzip_named(bytes: &[u8], name: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::GzBuilder::new()
        .filename(name)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `gzip` inflated.
fn gunzip(gzip: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(gzip)
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

async fn widget_app(delivery: Delivery) -> (axum::Router, tempfile::TempDir) {
    let (state, dir) = oneshot_state(delivery).await;
    let mut config = (*state.config).clone();
    config.widget_dir = Some(widget_release(dir.path()));
    let state = mamori_server::AppState {
        config: Arc::new(config),
        ..state
    }
    .load_widget()
    .unwrap();
    (mamori_server::app(state), dir)
}

#[tokio::test]
async fn the_widget_is_served_to_any_origin() {
    let (app, _dir) = widget_app(Delivery::Smtp).await;
    let request = |path: &str, gzip: bool| {
        let mut request = Request::get(path).header("origin", "http://127.0.0.2:9000");
        if gzip {
            request = request.header("accept-encoding", "gzip, br");
        }
        request.body(Body::empty()).unwrap()
    };
    for (path, content_type, cache) in [
        (
            "/widget/mamori-0123456789abcdef.js",
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "/widget/mamori-fedcba9876543210.wasm",
            "application/wasm",
            "public, max-age=31536000, immutable",
        ),
        (
            "/widget/mamori.js",
            "text/javascript; charset=utf-8",
            "public, max-age=300",
        ),
        (
            "/widget/manifest.json",
            "application/json",
            "public, max-age=300",
        ),
    ] {
        let response = app.clone().oneshot(request(path, false)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], content_type, "{path}");
        assert_eq!(headers["cache-control"], cache, "{path}");
        assert_eq!(headers["access-control-allow-origin"], "*", "{path}");
        assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");
        assert!(!headers.contains_key("content-encoding"));
    }
    let response = app
        .clone()
        .oneshot(request("/widget/mamori.js", true))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["vary"], "Accept-Encoding");
    let gzipped = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "a gzip stream");
    assert_eq!(
        gunzip(&gzipped),
        b"/* loader */",
        "a stale .gz is not sent: the file is gzipped anew"
    );
    let response = app
        .clone()
        .oneshot(request("/widget/mamori-fedcba9876543210.wasm", true))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let gzipped = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        gzipped,
        gzip_named(b"\0asm", "precompressed"),
        "the matching .gz is sent as it is"
    );
    for path in [
        "/widget/.secret.json",
        "/widget/notes.txt",
        "/widget/mamori.js.gz",
        "/widget/missing.js",
        "/widget/..%2Fm.db",
        "/assets/mamori.js",
    ] {
        let (status, _, _) = call(app.clone(), path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_widget_dir_without_a_release_is_refused() {
    let (state, dir) = oneshot_state(Delivery::Smtp).await;
    let mut config = (*state.config).clone();
    config.widget_dir = Some(dir.path().to_owned());
    let state = mamori_server::AppState {
        config: Arc::new(config),
        ..state
    };
    let error = state.load_widget().unwrap_err().to_string();
    assert!(error.contains("manifest.json"), "{error}");
    assert!(error.contains("cargo xtask package"), "{error}");
}

#[tokio::test]
async fn serve_routes_nothing_of_the_demo() {
    // Even configured for the mailbox, the production router has no demo route.
    let (app, _dir) = widget_app(Delivery::Mailbox).await;
    for path in ["/demo/mailbox", "/demo/mailbox/1", "/", "/assets/demo/"] {
        let (status, _, _) = call(app.clone(), path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = call(app, "/widget/mamori.js").await;
    assert_eq!(status, StatusCode::OK);
    let mail = Config::parse("[mail]\ndelivery = \"mailbox\"")
        .unwrap()
        .mail;
    let refusal = mamori_server::mail::mailer_for(&mail).err().unwrap();
    assert!(refusal.contains("only for `mamori demo`"), "{refusal}");
}

#[tokio::test]
async fn demo_mode_delivers_to_the_mailbox() {
    let server = TestServer::start_with(Options {
        delivery: Delivery::Mailbox,
        ..Options::default()
    })
    .await;
    let created = server.create(CARD, 4200, "01").await;
    server.device(&created, &fingerprint("x"), None).await;
    let url = server.url("/demo/mailbox");
    let http = server.http.clone();
    eventually(|| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let page = http.get(&url).send().await.unwrap().text().await.unwrap();
            page.contains("Your verification code for Test &lt;Shop&gt; &amp; Co")
        }
    })
    .await;
    let messages = server.store.mailbox(10).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].text.contains("¥4,200"));
    let code = messages[0]
        .text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_owned();
    let html = server
        .http
        .get(server.url(&format!("/demo/mailbox/{}", messages[0].id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&code) && html.starts_with("<!DOCTYPE html>"));
    let (_, body) = server.verify(&created, &code).await;
    assert_eq!(body["outcome"], "authenticated");
}

#[tokio::test]
async fn rotated_keys_overlap_then_retire() {
    let server = TestServer::start().await;
    let new_secret = [42u8; 32];
    server
        .store
        .rotate_key(
            &mamori_server::model::MerchantKey {
                kid: KeyId::from_static("k2"),
                merchant_id: MerchantId::from_static(MERCHANT),
                secret: new_secret.to_vec(),
                created_at: START + 1,
                retire_at: None,
            },
            START + 100,
        )
        .await
        .unwrap();
    let new_key = mamori_core::token::encode_secret_key("k2", &new_secret);
    // Each create is a new order: an order has one live authentication at a time.
    let create = |key: String, order_ref: &str| {
        let body = json!({"card_number": CARD, "amount": 100, "currency": "JPY",
                          "order_ref": order_ref});
        let request = server
            .http
            .post(server.url("/v1/authentications"))
            .bearer_auth(key)
            .json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        create(server.merchant_key.clone(), "o-1").await,
        201,
        "old key in the overlap"
    );
    assert_eq!(create(new_key.clone(), "o-2").await, 201);

    // Results are signed with the newest key.
    let created = server.create(CARD_UNKNOWN, 100, "01").await;
    let (_, answer) = server
        .widget(
            &created,
            "/device",
            json!({"fingerprint": fingerprint("x")}),
        )
        .await;
    let token = answer["result_token"].as_str().unwrap();
    let keys = mamori_core::token::KeySet::from(
        mamori_core::token::SigningKey::new("k2", &new_secret).unwrap(),
    );
    let validation = mamori_core::token::Validation::result(MERCHANT, START as u64);
    // An unknown card's `R`: refused for its status, which only a token that passed every
    // rule, the signature with the new key included, gets to.
    assert!(matches!(
        mamori_core::token::verify_result(token, &keys, &validation, None),
        Err(mamori_core::token::ResultError::Status(claims))
            if claims.status == mamori_core::token::TransStatus::Rejected
    ));

    server.clock.advance(100);
    assert_eq!(
        create(server.merchant_key.clone(), "o-3").await,
        401,
        "old key after retirement"
    );
    assert_eq!(create(new_key, "o-3").await, 201);
}

/// `POST /v1/authentications` with an `Idempotency-Key`, on owned values so it can be spawned.
async fn create_with_key(
    http: reqwest::Client,
    url: String,
    merchant_key: String,
    key: &'static str,
    amount: u64,
) -> (u16, Option<String>, Value) {
    let response = http
        .post(url)
        .bearer_auth(merchant_key)
        .header("idempotency-key", key)
        .json(
            &json!({"card_number": CARD, "amount": amount, "currency": "JPY",
                      "order_ref": "order-idem"}),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, replayed, response.json().await.unwrap())
}

#[tokio::test]
async fn a_retried_create_answers_the_first_authentication() {
    let server = TestServer::start().await;
    let call = |key: &'static str, amount: u64| {
        create_with_key(
            server.http.clone(),
            server.url("/v1/authentications"),
            server.merchant_key.clone(),
            key,
            amount,
        )
    };
    let (status, replayed, first) = call("checkout-41-a", 4100).await;
    assert_eq!((status, replayed), (201, None), "{first}");

    // Retries, twenty at once, as a merchant backend's timeouts make them.
    let retries: Vec<_> = (0..20)
        .map(|_| tokio::spawn(call("checkout-41-a", 4100)))
        .collect();
    for retry in retries {
        let (status, replayed, body) = retry.await.unwrap();
        assert_eq!((status, replayed.as_deref()), (201, Some("true")));
        assert_eq!(body, first, "the same id, client secret and expiry");
    }
    // The replayed client secret is the live one.
    let created = Created::of(&first);
    let answer = server.device(&created, &fingerprint("idem"), None).await;
    assert_eq!(answer["outcome"], "challenge");

    // The same key with another request is refused and answers no authentication.
    let (status, _, body) = call("checkout-41-a", 4200).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "idempotency_key_reused");
    assert!(body.get("id").is_none());

    // Keys are opaque but bounded; without one, every request is new.
    let long = "k".repeat(256);
    for bad in ["", "has space", long.as_str(), "k\u{e9}y"] {
        let response = server
            .http
            .post(server.url("/v1/authentications"))
            .bearer_auth(&server.merchant_key)
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(bad.as_bytes()).unwrap(),
            )
            .json(&json!({"card_number": CARD, "amount": 1, "currency": "JPY", "order_ref": "o"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{bad:?}");
    }
    let a = server.create(CARD, 4100, "01").await;
    let b = server.create(CARD, 4100, "01").await;
    assert_ne!(a.id, b.id);
}

/// A sandbox merchant beside the test server's live one: `(id, secret key)`.
async fn sandbox_merchant(server: &TestServer) -> (String, String) {
    let secret = [9u8; 32];
    server
        .store
        .insert_merchant(
            &mamori_server::model::Merchant {
                id: MerchantId::from_static("m_sandbox"),
                name: "Sandbox Shop".into(),
                origins: vec![ORIGIN.into()],
                sandbox: true,
                created_at: START,
                webhook: false,
            },
            &mamori_server::model::MerchantKey {
                kid: KeyId::from_static("k_sandbox"),
                merchant_id: MerchantId::from_static("m_sandbox"),
                secret: secret.to_vec(),
                created_at: START,
                retire_at: None,
            },
        )
        .await
        .unwrap();
    (
        "m_sandbox".into(),
        mamori_core::token::encode_secret_key("k_sandbox", &secret),
    )
}

async fn sandbox_create(server: &TestServer, key: &str, body: Value) -> (u16, Value) {
    let response = server
        .http
        .post(server.url("/v1/authentications"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn sandbox_mail(server: &TestServer, key: &str) -> (u16, Value) {
    let response = server
        .http
        .get(server.url("/v1/sandbox/mail"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn sandbox_test_cards_force_each_outcome() {
    let server = TestServer::start().await;
    let (_, key) = sandbox_merchant(&server).await;
    let start = |card: &str| {
        let body = json!({"card_number": card, "amount": 500, "currency": "USD", "order_ref": "t"});
        sandbox_create(&server, &key, body)
    };
    for (card, outcome, status, state) in [
        ("370000000000010", "frictionless", "Y", "succeeded"),
        ("3700 0000 0000 036", "rejected", "N", "failed"),
        ("370000000000044", "rejected", "U", "failed"),
        ("370000000000051", "rejected", "R", "rejected"),
        ("370000000000069", "frictionless", "A", "succeeded"),
    ] {
        let (code, body) = start(card).await;
        assert_eq!(code, 201, "{card}: {body}");
        let created = Created::of(&body);
        let answer = server.device(&created, &fingerprint("sandbox"), None).await;
        assert_eq!(
            (answer["outcome"].as_str(), answer["status"].as_str()),
            (Some(outcome), Some(status)),
            "{card}"
        );
        let view = server
            .http
            .get(server.url(&format!("/v1/authentications/{}", created.id)))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(
            (view["status"].as_str(), view["state"].as_str()),
            (Some(status), Some(state)),
            "{card}"
        );
        assert_eq!(view["result_token"], answer["result_token"]);
    }

    // The challenge card: its code is always 123456 and its mail is kept, never sent.
    let (_, body) = start("370000000000028").await;
    let created = Created::of(&body);
    let answer = server.device(&created, &fingerprint("sandbox"), None).await;
    assert_eq!(answer["outcome"], "challenge", "{answer}");
    assert_eq!(answer["challenge"]["masked_email"], "c***@sandbox.invalid");
    let (_, wrong) = server.verify(&created, "654321").await;
    assert_eq!(wrong["outcome"], "wrong_code");
    let (status, right) = server.verify(&created, "123456").await;
    assert_eq!(
        (status, right["outcome"].as_str()),
        (200, Some("authenticated")),
        "{right}"
    );
    assert_eq!(
        right["device_token"],
        Value::Null,
        "a sandbox trusts no device"
    );
    let (status, kept) = sandbox_mail(&server, &key).await;
    assert_eq!(status, 200);
    let mail = &kept["mail"][0];
    assert_eq!(mail["authentication_id"], created.id.as_str());
    assert_eq!(mail["to"], "cardholder@sandbox.invalid");
    assert!(mail["subject"].as_str().unwrap().starts_with("[SANDBOX] "));
    assert!(mail["text"].as_str().unwrap().contains("123456"));
    let outbox = server
        .store
        .claim_mail(START + 1_000_000, 60, 100)
        .await
        .unwrap();
    assert!(
        outbox.is_empty(),
        "nothing of the sandbox reaches the outbox: {outbox:?}"
    );

    // Real cards and card references are refused; the live merchant's sandbox mail is 404.
    for body in [
        json!({"card_number": CARD, "amount": 1, "currency": "JPY", "order_ref": "o"}),
        json!({"card_ref": "0".repeat(64), "amount": 1, "currency": "JPY", "order_ref": "o"}),
    ] {
        let (status, answer) = sandbox_create(&server, &key, body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("sandbox_card_required"))
        );
    }
    let (status, _) = sandbox_mail(&server, &server.merchant_key).await;
    assert_eq!(status, 404);

    // At a live merchant a test number is an unknown card like any other.
    let created = server.create("370000000000010", 500, "01").await;
    let answer = server.device(&created, &fingerprint("live"), None).await;
    assert_eq!(answer["status"], "R");
}

/// Every verifier URL the guides show — `https://safekey.issuer.example/…` anywhere, and the
/// routes docs/api.md lists — is answered by the verifier: a widget file with `200`, a route
/// with anything but the router's fallback.
#[tokio::test]
async fn every_documented_verifier_url_is_served() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (state, dir) = oneshot_state(Delivery::Smtp).await;
    let release = widget_release(dir.path());
    let mut config = (*state.config).clone();
    config.widget_dir = Some(release);
    let state = mamori_server::AppState {
        config: Arc::new(config),
        ..state
    }
    .load_widget()
    .unwrap();
    // An unrouted request meets this fallback instead of the router's `not_found`, which a
    // handler may answer too.
    let unrouted = || async { StatusCode::IM_A_TEAPOT };
    let serve = mamori_server::app(state.clone()).fallback(unrouted);
    let demo = mamori_server::demo::app(state, None).fallback(unrouted);

    let mut urls = Vec::new();
    for doc in [
        "README.md",
        "www/README.md",
        "docs/api.md",
        "crates/mamori-server/README.md",
    ] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (at, _) in text.match_indices("https://safekey.issuer.example/") {
            let rest = &text[at + "https://safekey.issuer.example".len()..];
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '`' | ')' | '\''))
                .unwrap_or(rest.len());
            urls.push((doc, "GET".to_owned(), rest[..end].to_owned()));
        }
        if doc == "docs/api.md" {
            for line in text.lines() {
                for method in ["GET", "POST"] {
                    for (at, _) in line.match_indices(&format!("`{method} /")) {
                        let rest = &line[at + method.len() + 2..];
                        let path = &rest[..rest.find(['`', ' ']).unwrap_or(rest.len())];
                        urls.push((doc, method.to_owned(), path.to_owned()));
                    }
                }
            }
        }
    }
    assert!(urls.len() >= 15, "found only {urls:?}");
    for (doc, method, url) in urls {
        // Placeholders become values; a content-addressed name (`mamori-<hash>.js`, or an
        // example hash) becomes the release's own.
        let mut path = url
            .replace("{id}", "au_doc")
            .replace("{token}", "x")
            .replace("{n}", "1")
            .replace('…', "x");
        if path.starts_with("/widget/mamori-") {
            for (extension, release) in [
                (".js", "/widget/mamori-0123456789abcdef.js"),
                (".wasm", "/widget/mamori-fedcba9876543210.wasm"),
            ] {
                if path.ends_with(extension) {
                    path = release.to_owned();
                }
            }
        }
        let app = if path.starts_with("/demo/") || path == "/" {
            demo.clone()
        } else {
            serve.clone()
        };
        let request = Request::builder()
            .method(method.as_str())
            .uri(&path)
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        if path.starts_with("/widget/") {
            assert_eq!(status, StatusCode::OK, "{doc}: {method} {url}");
            continue;
        }
        assert!(
            status != StatusCode::IM_A_TEAPOT && status != StatusCode::METHOD_NOT_ALLOWED,
            "{doc}: {method} {url} → {status}"
        );
    }
}
