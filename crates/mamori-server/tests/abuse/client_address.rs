//! The client address a device step records, from a real socket: the peer's, or behind a
//! trusted proxy the rightmost forwarded entry that is not a trusted proxy's.

use crate::support::*;
use mamori_server::config::TrustedProxies;
use serde_json::json;

/// The address the device step of a new purchase records, sent with `forwarded` as
/// `X-Forwarded-For`.
async fn recorded(server: &TestServer, forwarded: Option<&str>) -> Option<String> {
    let created = server.create(CARD, 1000, "01").await;
    let mut request = server
        .http
        .post(server.url(&format!("/v1/authentications/{}/device", created.id)))
        .bearer_auth(&created.secret)
        .header("origin", ORIGIN)
        .json(&json!({"fingerprint": fingerprint("addr")}));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let auth = server
        .store
        .authentication(&created.id)
        .await
        .unwrap()
        .unwrap();
    auth.assessment().unwrap().ip.clone()
}

#[tokio::test]
async fn without_trusted_proxies_the_header_is_ignored() {
    let server = TestServer::start().await;
    assert_eq!(
        recorded(&server, Some("198.51.100.7")).await.as_deref(),
        Some("127.0.0.1")
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_clients_own_entries_are_ignored() {
    let server = TestServer::start_with(Options {
        tweak: |config| {
            config.trusted_proxies = TrustedProxies::try_from("127.0.0.0/8, 10.0.0.0/8").unwrap();
        },
        ..Options::default()
    })
    .await;
    // The client wrote `6.6.6.6`; the proxy appended what it saw, then a second proxy its own.
    assert_eq!(
        recorded(&server, Some("6.6.6.6, 198.51.100.7, 10.0.0.9"))
            .await
            .as_deref(),
        Some("198.51.100.7")
    );
    assert_eq!(
        recorded(&server, None).await.as_deref(),
        Some("127.0.0.1"),
        "no header: the proxy itself"
    );
}
