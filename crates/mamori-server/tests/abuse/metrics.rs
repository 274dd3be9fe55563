//! `/metrics` stays the same size whatever clients send: every label is from a closed set.

use std::sync::Arc;

use crate::support::START;
use axum::body::Body;
use axum::http::{Method, Request};
use mamori_server::config::Config;
use tower::ServiceExt;

/// A small deterministic generator (xorshift64), so a failure replays exactly.
struct Tokens(u64);

impl Tokens {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A token of 1 to 12 upper-case letters and digits: a valid, made-up method.
    fn method(&mut self) -> Method {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let len = 1 + (self.next() % 12) as usize;
        let token: Vec<u8> = (0..len)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize])
            .collect();
        Method::from_bytes(&token).unwrap()
    }

    /// A path of one to three random segments, sometimes under a real route's prefix.
    fn path(&mut self) -> String {
        let prefix = ["", "/v1/authentications", "/report", "/widget"][(self.next() % 4) as usize];
        let segments = 1 + self.next() % 3;
        let mut path = prefix.to_owned();
        for _ in 0..segments {
            path.push_str(&format!("/{:x}", self.next()));
        }
        path
    }
}

async fn send(app: &axum::Router, method: Method, path: &str) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(request).await.unwrap();
}

/// The sample lines of the exposition: the series, one a line (comments are not samples).
async fn series(app: &axum::Router) -> Vec<String> {
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
        .collect()
}

#[tokio::test]
async fn odd_methods_and_paths_add_no_series() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let store = mamori_server::store::SqliteStore::open(&url).await.unwrap();
    let state = mamori_server::AppState::new(
        Config::default(),
        Arc::new(store),
        mamori_server::secrets::Secrets::derive(&[1; 32]),
        Arc::new(mamori_server::clock::ManualClock::new(START)),
    );
    let app = mamori_server::app(state);
    let mut tokens = Tokens(0x9e37_79b9_7f4a_7c15);

    // A first flood makes every series odd requests can reach — an odd method on each route
    // (405), a route's own answer to a random id (404, 401), a path no route has (404) — and a
    // first scrape its own (a scrape counts itself after it renders). A second flood of other
    // tokens must add none.
    flood(&app, &mut tokens).await;
    series(&app).await;
    let before = series(&app).await;
    flood(&app, &mut tokens).await;
    let after = series(&app).await;
    assert_eq!(after, before, "the set of series changed");
    assert!(
        before
            .iter()
            .any(|s| s.contains("method=\"other\",route=\"unmatched\",status=\"404\"")),
        "{before:#?}"
    );
    assert!(
        !before.iter().any(|s| s.contains("FOO")),
        "a made-up method is a label: {before:#?}"
    );
}

/// 1,400 requests: made-up methods (`FOO` and random tokens) on random paths and on a route,
/// and `GET` on random paths.
async fn flood(app: &axum::Router, tokens: &mut Tokens) {
    for i in 0..1_200 {
        let method = if i % 5 == 0 {
            Method::from_bytes(b"FOO").unwrap()
        } else {
            tokens.method()
        };
        let path = if i % 2 == 0 {
            tokens.path()
        } else {
            "/healthz".to_owned()
        };
        send(app, method, &path).await;
    }
    for _ in 0..200 {
        send(app, Method::GET, &tokens.path()).await;
    }
}

/// The outbox's backlog as `/metrics` shows it: what an issuer alerts on when mail stops
/// leaving, and what a test waits on before it says no mail was sent.
#[tokio::test]
async fn the_outbox_backlog_is_a_gauge() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let mut server = crate::support::TestServer::start_with(crate::support::Options {
        smtp_gate: Some(Arc::clone(&gate)),
        ..crate::support::Options::default()
    })
    .await;
    let owed = "mamori_outbox_owed";
    assert_eq!(server.metric(owed).await, Some(0));

    let created = server.create(crate::support::CARD, 1000, "01").await;
    let body = server
        .device(&created, &crate::support::fingerprint("laptop"), None)
        .await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    assert_eq!(
        server.metric(owed).await,
        Some(1),
        "the code, held by the receiver"
    );

    gate.add_permits(1);
    server.next_mail_matching("verification code").await;
    server.drained().await;
}
