//! The admin API's webhook endpoint routes (`/admin/v1/webhook`,
//! `/admin/v1/merchants/{id}/webhook`) over HTTP against a real verifier: an endpoint is set,
//! shown, its secret rotated and removed; bad input and unknown merchants change nothing; no
//! route answers without an admin token. Every answer is checked against the OpenAPI document
//! on the way (the test server's checker).

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mamori_server::config::Bounded;
use mamori_server::model::MerchantId;
use mamori_server::webhooks::{Owner, Secret};
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

/// `method /admin/v1{path}` as [`TestServer::admin_call`], the body as JSON text.
async fn call(
    server: &TestServer,
    auth: Option<&str>,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let body = body.map(|text| serde_json::from_str(text).unwrap());
    server.admin_call(method, path, auth, body).await
}

/// The endpoint `owner` has in the store now, if any.
async fn stored(server: &TestServer, owner: &Owner) -> Option<mamori_server::webhooks::Endpoint> {
    server.store.webhook(owner, START).await.unwrap()
}

#[tokio::test]
async fn the_issuers_endpoint_is_set_shown_rotated_and_removed() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let auth = Some(token.as_str());
    let url = Some(r#"{"url":"https://issuer.example/hooks"}"#);
    let (status, set) = call(&server, auth, Method::PUT, "/webhook", url).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["url"], "https://issuer.example/hooks");
    let secret = Secret::parse(set["secret"].as_str().unwrap()).unwrap();
    // Stored sealed under the verifier's key, and opens to the secret answered.
    let endpoint = stored(&server, &Owner::Issuer).await.unwrap();
    assert_eq!(
        Secret::unseal(
            &server.state.secrets.webhook_key,
            &endpoint.secrets[0].sealed
        ),
        Some(secret)
    );

    let (status, rotated) = call(&server, auth, Method::POST, "/webhook/secrets", None).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["secret"], set["secret"]);
    let (status, shown) = call(&server, auth, Method::GET, "/webhook", None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["owner"], "issuer");
    assert_eq!(shown["url"], "https://issuer.example/hooks");
    assert_eq!(shown["secrets"].as_array().unwrap().len(), 2, "{shown}");
    assert!(!shown.to_string().contains("whsec_"), "no secret shown");

    let (status, removed) = call(&server, auth, Method::DELETE, "/webhook", None).await;
    assert_eq!((status, removed), (204, Value::Null));
    assert!(stored(&server, &Owner::Issuer).await.is_none());
    for (method, path) in [
        (Method::GET, "/webhook"),
        (Method::DELETE, "/webhook"),
        (Method::POST, "/webhook/secrets"),
    ] {
        let (status, body) = call(&server, auth, method.clone(), path, None).await;
        assert_eq!(
            (status, &body["error"]),
            (404, &json!("not_found")),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn a_merchants_endpoint_is_its_own() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let auth = Some(token.as_str());
    let path = format!("/merchants/{MERCHANT}/webhook");
    let (status, set) = call(
        &server,
        auth,
        Method::PUT,
        &path,
        Some(r#"{"url":"https://shop.example/hooks"}"#),
    )
    .await;
    assert_eq!(status, 200, "{set}");
    let (status, rotated) = call(
        &server,
        auth,
        Method::POST,
        &format!("{path}/secrets"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["secret"], set["secret"]);
    let (status, shown) = call(&server, auth, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["owner"], MERCHANT);
    assert_eq!(shown["url"], "https://shop.example/hooks");
    assert_eq!(
        call(&server, auth, Method::GET, "/webhook", None).await.0,
        404,
        "the issuer's is another endpoint"
    );
    assert_eq!(
        call(&server, auth, Method::DELETE, &path, None).await.0,
        204
    );
    let owner = Owner::Merchant(MerchantId::from_static(MERCHANT));
    assert!(stored(&server, &owner).await.is_none());
    assert_eq!(call(&server, auth, Method::GET, &path, None).await.0, 404);
}

#[tokio::test]
async fn bad_input_and_unknown_merchants_change_nothing() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let auth = Some(token.as_str());
    for body in [
        r#"{"url":"http://issuer.example/"}"#,
        r#"{"url":"https://user:pw@issuer.example/"}"#,
    ] {
        let (status, error) = call(&server, auth, Method::PUT, "/webhook", Some(body)).await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"], "invalid_request");
    }
    let extra = r#"{"url":"https://issuer.example/","events":[]}"#;
    let (status, error) = call(&server, auth, Method::PUT, "/webhook", Some(extra)).await;
    assert_eq!((status, &error["error"]), (400, &json!("invalid_body")));
    let url = Some(r#"{"url":"https://shop.example/"}"#);
    for path in [
        "/merchants/m_nobody/webhook",
        "/merchants/not-an-id/webhook",
    ] {
        let (status, error) = call(&server, auth, Method::PUT, path, url).await;
        assert_eq!(
            (status, &error["error"]),
            (404, &json!("not_found")),
            "{path}"
        );
    }
    for (method, path) in [
        (Method::GET, "/merchants/m_nobody/webhook"),
        (Method::DELETE, "/merchants/m_nobody/webhook"),
        (Method::POST, "/merchants/m_nobody/webhook/secrets"),
    ] {
        let (status, _) = call(&server, auth, method.clone(), path, None).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    let nobody = Owner::Merchant(MerchantId::from_static("m_nobody"));
    assert!(stored(&server, &nobody).await.is_none());
    assert!(stored(&server, &Owner::Issuer).await.is_none());
}

/// Without a live admin token every webhook route is `401`, and no endpoint is set.
#[tokio::test]
async fn no_webhook_route_answers_without_an_admin_token() {
    // More refusals than the failures an address may have in a window: this test is about
    // the routes, `admin.rs` about the lockout.
    let server = TestServer::start_with(Options {
        tweak: |config| {
            config.rate_limits.admin_failures_per_address = Bounded::constant::<100>();
        },
        ..Options::default()
    })
    .await;
    let merchant = format!("/merchants/{MERCHANT}/webhook");
    let url = Some(r#"{"url":"https://evil.example/"}"#);
    let unknown = format!("mamori_admin_{}", "ab".repeat(32));
    for auth in [
        None,
        Some(server.merchant_key.as_str()),
        Some(unknown.as_str()),
    ] {
        for (method, path, body) in [
            (Method::GET, "/webhook".to_owned(), None),
            (Method::PUT, "/webhook".to_owned(), url),
            (Method::POST, "/webhook/secrets".to_owned(), None),
            (Method::DELETE, "/webhook".to_owned(), None),
            (Method::GET, merchant.clone(), None),
            (Method::PUT, merchant.clone(), url),
            (Method::POST, format!("{merchant}/secrets"), None),
            (Method::DELETE, merchant.clone(), None),
        ] {
            let (status, answer) = call(&server, auth, method.clone(), &path, body).await;
            assert_eq!(
                (status, &answer["error"]),
                (401, &json!("unauthorized")),
                "{auth:?}: {method} {path}"
            );
        }
    }
    let owner = Owner::Merchant(MerchantId::from_static(MERCHANT));
    assert!(stored(&server, &owner).await.is_none());
    assert!(stored(&server, &Owner::Issuer).await.is_none());
}
