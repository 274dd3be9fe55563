//! What the log says about a client address that keeps failing admin authentication: each
//! counted failure its "unauthorized request" line, the failure that locks the address out one
//! line naming it, and the refusals after it only the access log's one `request` line each,
//! like any request. (`admin.rs` tests the answers.)
//!
//! One test in its own binary: it installs the process's global log subscriber, which sees
//! every thread's events (a thread-local one can miss events whose call site another test's
//! thread registered first).

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use mamori_server::config::TrustedProxies;
use support::*;

/// Log output, shared with the subscriber that writes it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The lines logged so far that contain `needle`.
    fn lines(&self, needle: &str) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

/// What the line logged when an address is locked out says.
const LOCKED_OUT: &str = "too many failed authentications";

#[tokio::test]
async fn a_lockout_is_logged_once_per_window_and_each_refusal_after_it_once() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = TestServer::start_with(Options {
        tweak: |config| {
            config.trusted_proxies = TrustedProxies::try_from("127.0.0.0/8").unwrap();
        },
        ..Options::default()
    })
    .await;
    let live = server.admin_token().await;

    // Live traffic, however much of it at once, and a typo among lookups in flight lock
    // nothing out and log no lockout.
    let back_office = "198.51.100.40";
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let sent = server
            .http
            .get(server.url("/admin/v1/reports"))
            .bearer_auth(&live)
            .header("x-forwarded-for", back_office)
            .send();
        requests.spawn(async move { sent.await.unwrap().status().as_u16() });
    }
    while requests.join_next().await.is_some() {}
    assert_eq!(server.admin_reports_from(back_office, &live).await.0, 200);
    let mut in_flight = Vec::new();
    for _ in 0..19 {
        let attempt =
            mamori_server::api::throttle::reserve_admin_attempt(&server.state, back_office);
        in_flight.push(attempt.await.unwrap());
    }
    let typo = format!("mamori_admin_{:064x}", 1);
    assert_eq!(server.admin_reports_from(back_office, &typo).await.0, 401);
    for attempt in in_flight {
        attempt.give_back(&server.state).await;
    }
    assert_eq!(server.admin_reports_from(back_office, &live).await.0, 200);
    assert_eq!(logs.lines(LOCKED_OUT), Vec::<String>::new());
    let before = logs.lines("status=").len();
    let typos = logs.lines("unauthorized request").len();

    let attacker = "203.0.113.9";
    let failures = 20;
    for n in 0..failures {
        let wrong = format!("mamori_admin_{n:064x}");
        assert_eq!(
            server.admin_reports_from(attacker, &wrong).await.0,
            401,
            "failure {n}"
        );
    }
    let locked = logs.lines(LOCKED_OUT);
    assert_eq!(
        locked.len(),
        1,
        "the failure reaching the limit: {locked:?}"
    );
    for needle in [attacker, "WARN", "failures=20", "seconds=60"] {
        assert!(locked[0].contains(needle), "{needle} in {}", locked[0]);
    }
    for _ in 0..50 {
        assert_eq!(server.admin_reports_from(attacker, &live).await.0, 429);
    }
    assert_eq!(
        logs.lines("unauthorized request").len(),
        typos + failures,
        "one line per counted failure, none per refusal"
    );
    // The access log's lines are the ones with a status.
    let access = &logs.lines("status=")[before..];
    let refusals = access.iter().filter(|line| line.contains("status=429"));
    assert_eq!(
        (access.len(), refusals.count()),
        (failures + 50, 50),
        "one access-log line per request, refusals included: {access:?}"
    );
    assert_eq!(logs.lines(LOCKED_OUT).len(), 1, "one line per window");

    // The next window: failing again locks the address out again, and says so once more.
    server.clock.advance(60);
    for n in 0..=failures {
        let wrong = format!("mamori_admin_{n:064x}");
        server.admin_reports_from(attacker, &wrong).await;
    }
    assert_eq!(logs.lines(LOCKED_OUT).len(), 2);
    assert_eq!(
        logs.lines("unauthorized request").len(),
        typos + 2 * failures
    );
}
