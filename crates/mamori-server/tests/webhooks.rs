//! The webhook worker against a real HTTP receiver on 127.0.0.1: signatures a receiver can
//! check, the same `webhook-id` on every retry, retries after a 500 and after `Retry-After`,
//! `410 Gone` disabling the endpoint, a timeout, and no event delivered twice by two workers;
//! and through a whole verifier, one `authentication.finished` per purchase in each final
//! state. Time is a manual clock: the tests move it to make retries due, and prove that
//! something was not due by waiting for the worker to count a read of the due events made after
//! the clock moved, never by waiting a while.

// A panic is how a test helper reports a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mamori_server::clock::{Clock, ManualClock};
use mamori_server::config::{Bounded, WebhookConfig};
use mamori_server::metrics::Metrics;
use mamori_server::secrets::Secrets;
use mamori_server::store::{self, Store};
use mamori_server::webhooks::{Client, Dispatcher, NewEvent, Owner, Secret};
use serde_json::Value;
use support::{
    CARD, CARD_BLOCKED, MERCHANT, Options, START as SERVER_START, TestServer, fingerprint,
};
use tokio::sync::{Notify, watch};

const START: i64 = 1_800_000_000;
const KEY: [u8; 32] = [42; 32];

/// One delivery as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    timestamp: i64,
    signature: String,
    body: String,
}

/// What the receiver answers, in order; after the script, 200.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Vec<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
    RetryAfter(u16, u32),
    Slow(Duration),
    /// A status with a body the verifier must not copy anywhere.
    Telling(u16, &'static str),
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/json");
    receiver.seen.lock().unwrap().push(Seen {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap(),
        signature: header("webhook-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let reply = {
        let mut script = receiver.script.lock().unwrap();
        (!script.is_empty()).then(|| script.remove(0))
    };
    match reply {
        None => StatusCode::OK.into_response(),
        Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Reply::RetryAfter(code, seconds)) => {
            let mut response = StatusCode::from_u16(code).unwrap().into_response();
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
            response
        }
        Some(Reply::Telling(code, body)) => {
            (StatusCode::from_u16(code).unwrap(), body).into_response()
        }
        Some(Reply::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK.into_response()
        }
    }
}

/// A receiver on 127.0.0.1 answering `script`; its URL.
async fn receiver(script: Vec<Reply>) -> (Receiver, String) {
    let receiver = Receiver {
        script: Arc::new(Mutex::new(script)),
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, url)
}

struct Setup {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    secret: Secret,
    owner: Owner,
    _dir: tempfile::TempDir,
}

/// A store with the issuer's endpoint at `url`.
async fn setup(url: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hooks.db").display());
    let store = store::open(&db).await.unwrap();
    let secret = Secret::generate().unwrap();
    let owner = Owner::Issuer;
    store
        .set_webhook(&owner, url, &secret.seal(&KEY).unwrap(), START)
        .await
        .unwrap();
    Setup {
        store,
        clock: Arc::new(ManualClock::new(START)),
        secret,
        owner,
        _dir: dir,
    }
}

fn event(owner: &Owner, n: usize) -> NewEvent {
    NewEvent {
        owner: owner.clone(),
        message_id: format!("msg_test_{n}"),
        event_type: "authentication.failed",
        body: format!("{{\"type\":\"authentication.failed\",\"data\":{{\"n\":{n}}}}}"),
    }
}

/// A running worker, with the counters it keeps in `/metrics`.
struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// Rings the worker as a request that queued an event does.
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

/// What the worker has counted so far.
#[derive(Debug, Clone, Copy)]
struct Counts {
    /// Reads of the due events (`mamori_webhook_polls_total`).
    polls: u64,
    /// Events claimed by them (`mamori_webhook_claimed_total`).
    claimed: u64,
    /// Attempts recorded, whatever their outcome (`mamori_webhook_deliveries_total`).
    settled: u64,
}

impl Worker {
    /// The value of the series `series` (name and labels, as `/metrics` spells them), 0 when
    /// it is not there yet.
    fn metric(&self, series: &str) -> u64 {
        self.metrics
            .render()
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0, |value| value.parse().unwrap())
    }

    fn counts(&self) -> Counts {
        let text = self.metrics.render();
        // The sum of the counter `name`'s series, whatever their labels.
        let sum = |name: &str| -> u64 {
            text.lines()
                .filter_map(|line| line.rsplit_once(' '))
                .filter(|(series, _)| {
                    *series == name
                        || series
                            .strip_prefix(name)
                            .is_some_and(|l| l.starts_with('{'))
                })
                .map(|(_, value)| value.parse::<u64>().unwrap())
                .sum()
        };
        Counts {
            polls: sum("mamori_webhook_polls_total"),
            claimed: sum("mamori_webhook_claimed_total"),
            settled: sum("mamori_webhook_deliveries_total"),
        }
    }

    /// Waits until every attempt claimed so far is recorded (its event delivered, due again or
    /// given up).
    async fn settled(&self) {
        until("the attempts recorded", || {
            let counts = self.counts();
            counts.claimed == counts.settled
        })
        .await;
    }

    /// Rings the worker and waits for a read of the due events that began after this call:
    /// what is due at the clock's time now has then had its chance to be claimed. Returns the
    /// events claimed since this call.
    ///
    /// A read under way at the call may have read the clock before it; the one after it
    /// cannot have. Reads follow one another, so the second read counted after the call began
    /// after it. The worker claims and counts before it sends, so a claim that read made is
    /// counted by the time the read is.
    async fn poll(&self) -> u64 {
        let before = self.counts();
        for n in 1..=2 {
            // A ring while the worker is reading is kept for its next wait: never lost.
            self.wake.notify_one();
            until("a read of the due events", || {
                self.counts().polls >= before.polls + n
            })
            .await;
        }
        self.counts().claimed - before.claimed
    }

    /// Stops the worker; it returns once the attempts under way are recorded.
    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap();
    }
}

/// A worker over `store` with `concurrency` slots and a one-second timeout.
fn start(store: &Arc<dyn Store>, clock: &Arc<ManualClock>, concurrency: i64) -> Worker {
    // The receivers listen on 127.0.0.1 over plain HTTP: loopback needs the opt-in.
    start_allowing(store, clock, concurrency, true)
}

/// [`start`], with `webhooks.allow_private_addresses` as given.
fn start_allowing(
    store: &Arc<dyn Store>,
    clock: &Arc<ManualClock>,
    concurrency: i64,
    allow_private_addresses: bool,
) -> Worker {
    let wake = Arc::new(Notify::new());
    let metrics = Arc::new(Metrics::default());
    let dispatcher = Dispatcher {
        store: Arc::clone(store),
        client: Client::new(Duration::from_secs(1), allow_private_addresses).unwrap(),
        clock: Arc::clone(clock) as Arc<dyn Clock>,
        metrics: Arc::clone(&metrics),
        config: WebhookConfig {
            timeout: Bounded::constant::<1>(),
            concurrency: Bounded::new(concurrency).unwrap(),
            lease: Bounded::constant::<60>(),
            allow_private_addresses,
            retention: Bounded::constant::<30>(),
        },
        key: KEY,
        wake: Arc::clone(&wake),
    };
    let (stop, stopped) = watch::channel(false);
    Worker {
        stop,
        task: tokio::spawn(dispatcher.run(stopped)),
        wake,
        metrics,
    }
}

/// Waits (up to 10 s) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within 10 s"));
}

fn seen(receiver: &Receiver) -> Vec<Seen> {
    receiver.seen.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_with_the_same_id_after_the_schedule_or_retry_after() {
    let (receiver, url) = receiver(vec![Reply::Status(500), Reply::RetryAfter(503, 600)]).await;
    let s = setup(&url).await;
    s.store
        .enqueue_event(&event(&s.owner, 1), START)
        .await
        .unwrap();
    let worker = start(&s.store, &s.clock, 1);

    until("the first attempt", || seen(&receiver).len() == 1).await;
    // Its retry is scheduled from the time the failure is recorded: before the clock moves.
    worker.settled().await;
    // The schedule's first wait is 5 s (plus at most a tenth): not due a second before.
    s.clock.advance(4);
    assert_eq!(worker.poll().await, 0, "not due yet");
    s.clock.advance(2);
    worker.wake.notify_one();
    until("the retry", || seen(&receiver).len() == 2).await;
    worker.settled().await;
    // The 503 asked for 600 s, longer than the schedule's 5 minutes: it applies.
    s.clock.advance(599);
    assert_eq!(worker.poll().await, 0, "Retry-After is honoured");
    s.clock.advance(1);
    worker.wake.notify_one();
    until("the third attempt", || seen(&receiver).len() == 3).await;
    // Stopping waits for the attempt under way to be recorded.
    worker.stop().await;

    let attempts = seen(&receiver);
    for (n, attempt) in attempts.iter().enumerate() {
        assert_eq!(
            attempt.id, "msg_test_1",
            "the same webhook-id on every attempt"
        );
        assert_eq!(attempt.body, event(&s.owner, 1).body, "the same body");
        // Each attempt is signed afresh, at its own time, with the endpoint's secret.
        let expected = s
            .secret
            .sign(&attempt.id, attempt.timestamp, attempt.body.as_bytes());
        assert_eq!(attempt.signature, expected, "attempt {n}");
    }
    let times: Vec<_> = attempts.iter().map(|a| a.timestamp).collect();
    assert_eq!(times, [START, START + 6, START + 606]);
    let after = s
        .store
        .webhook(&s.owner, s.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert!(after.disabled.is_none());
    assert_eq!(
        (after.pending, after.given_up),
        (0, 0),
        "delivered: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_endpoint_and_gives_up_its_events() {
    let (receiver, url) = receiver(vec![Reply::Status(410)]).await;
    let s = setup(&url).await;
    for n in 0..3 {
        s.store
            .enqueue_event(&event(&s.owner, n), START)
            .await
            .unwrap();
    }
    let worker = start(&s.store, &s.clock, 1);
    until("the attempt", || seen(&receiver).len() == 1).await;
    worker.settled().await;
    let disabled = s
        .store
        .webhook(&Owner::Issuer, START)
        .await
        .unwrap()
        .unwrap();
    // The other two events would be due now, and every retry long before this.
    s.clock.advance(100_000);
    assert_eq!(
        worker.poll().await,
        0,
        "nothing more is claimed for a gone endpoint"
    );
    worker.stop().await;
    assert_eq!(
        seen(&receiver).len(),
        1,
        "nothing more is sent to a gone endpoint"
    );
    assert_eq!(disabled.disabled.unwrap().reason, "HTTP 410 Gone");
    assert_eq!((disabled.pending, disabled.given_up), (0, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_endpoint_times_out_and_is_retried() {
    let (receiver, url) = receiver(vec![Reply::Slow(Duration::from_secs(3))]).await;
    let s = setup(&url).await;
    s.store
        .enqueue_event(&event(&s.owner, 1), START)
        .await
        .unwrap();
    let worker = start(&s.store, &s.clock, 1);
    until("the slow attempt", || seen(&receiver).len() == 1).await;
    // The one-second timeout ends the attempt, two seconds before the receiver would answer
    // 200: it is recorded as not delivered, and is due again later.
    worker.settled().await;
    assert_eq!(
        worker.metric("mamori_webhook_deliveries_total{outcome=\"retry\"}"),
        1
    );
    worker.stop().await;
    let endpoint = s.store.webhook(&s.owner, START).await.unwrap().unwrap();
    assert_eq!(endpoint.pending, 1);
    let retry = s
        .store
        .claim_webhook_events(START + 6, 60, 10)
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].attempts, 2, "the timed-out attempt counted");
}

/// The outbox row's `last_error` for `message_id`, read from the SQLite file under `dir`.
async fn last_error(dir: &tempfile::TempDir, message_id: &str) -> Option<String> {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}", dir.path().join("hooks.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_scalar("SELECT last_error FROM webhook_events WHERE message_id = $1")
        .bind(message_id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// The error the event's first recorded attempt left, once there is one (within 10 s).
async fn recorded_error(dir: &tempfile::TempDir, message_id: &str) -> String {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(error) = last_error(dir, message_id).await {
                return error;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("an attempt recorded within 10 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_answer_is_recorded_by_its_status_line_only() {
    let (receiver, url) = receiver(vec![Reply::Telling(500, "db password: hunter2")]).await;
    let s = setup(&url).await;
    s.store
        .enqueue_event(&event(&s.owner, 1), START)
        .await
        .unwrap();
    let worker = start(&s.store, &s.clock, 1);
    until("the refused attempt", || seen(&receiver).len() == 1).await;
    worker.stop().await;
    assert_eq!(
        last_error(&s._dir, "msg_test_1").await.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
}

/// Without `webhooks.allow_private_addresses`, an endpoint at a loopback address — set
/// before the setting was turned off, or a public name resolving there — fails its attempts
/// without a connection, and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_at_a_private_address_is_never_connected_to() {
    let (receiver, url) = receiver(Vec::new()).await;
    let url = url.replace("http://", "https://");
    let s = setup(&url).await;
    s.store
        .enqueue_event(&event(&s.owner, 1), START)
        .await
        .unwrap();
    let worker = start_allowing(&s.store, &s.clock, 1, false);
    let error = recorded_error(&s._dir, "msg_test_1").await;
    worker.stop().await;
    assert!(seen(&receiver).is_empty(), "nothing reached the receiver");
    assert!(
        error.contains("127.0.0.1, which is not a public address"),
        "{error}"
    );
}

/// A secret this verifier cannot open (sealed under another master secret) sends nothing, and
/// neither spends the event's attempts nor gives it up: it waits the schedule's longest step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unopenable_secret_defers_the_event_without_spending_attempts() {
    let (receiver, url) = receiver(Vec::new()).await;
    let s = setup(&url).await;
    s.store
        .set_webhook(&s.owner, &url, &s.secret.seal(&[9; 32]).unwrap(), START)
        .await
        .unwrap();
    s.store
        .enqueue_event(&event(&s.owner, 1), START)
        .await
        .unwrap();
    let worker = start(&s.store, &s.clock, 1);
    let error = recorded_error(&s._dir, "msg_test_1").await;
    worker.stop().await;
    assert!(error.contains("no secret of the endpoint opens"), "{error}");
    assert!(seen(&receiver).is_empty(), "nothing sent unsigned");
    let early = s
        .store
        .claim_webhook_events(START + 36_000 - 1, 60, 10)
        .await
        .unwrap();
    assert!(
        early.is_empty(),
        "not due before the longest step: {early:?}"
    );
    let due = s
        .store
        .claim_webhook_events(START + 36_000, 60, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1, "the deferred attempt did not count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_deliver_each_event_once() {
    let (receiver, url) = receiver(Vec::new()).await;
    let s = setup(&url).await;
    for n in 0..40 {
        s.store
            .enqueue_event(&event(&s.owner, n), START)
            .await
            .unwrap();
    }
    // A second process's store on the same database file.
    let other: Arc<dyn Store> = {
        let path = s._dir.path().join("hooks.db");
        store::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    };
    let a = start(&s.store, &s.clock, 4);
    let b = start(&other, &s.clock, 4);
    until("every event", || seen(&receiver).len() >= 40).await;
    // Stopping waits for the attempts under way: whatever either worker claimed has reached
    // the receiver by then.
    a.stop().await;
    b.stop().await;
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for attempt in seen(&receiver) {
        *ids.entry(attempt.id).or_default() += 1;
    }
    assert_eq!(ids.len(), 40);
    assert!(ids.values().all(|&n| n == 1), "{ids:?}");
    let endpoint = s.store.webhook(&s.owner, START).await.unwrap().unwrap();
    assert_eq!(endpoint.pending, 0);
}

/// Purchases through the real verifier (`TestServer`) ending in each way a frictionless or
/// challenged purchase can: the merchant's receiver gets one `authentication.finished` for
/// each, with the result token's facts, signed with its secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_final_state_tells_the_merchant_once() {
    let mut server = TestServer::start_with(Options {
        // The receiver listens on 127.0.0.1 over plain HTTP: loopback needs the opt-in.
        tweak: |config| config.webhooks.allow_private_addresses = true,
        ..Options::default()
    })
    .await;
    let (receiver, url) = receiver(Vec::new()).await;
    let secret = Secret::generate().unwrap();
    let key = Secrets::derive(&server.secrets_master).webhook_key;
    let owner = Owner::Merchant(MERCHANT.parse().unwrap());
    server
        .store
        .set_webhook(&owner, &url, &secret.seal(&key).unwrap(), SERVER_START)
        .await
        .unwrap();

    let fp = fingerprint("laptop");
    let challenged = server.create(CARD, 12_800, "01").await;
    server.device(&challenged, &fp, None).await;
    let code = server.next_mail().await.code();
    let (_, body) = server.verify(&challenged, &code).await;
    let device_token = body["device_token"].as_str().unwrap().to_owned();
    server.next_mail().await;
    let frictionless = server.create(CARD, 9_800, "01").await;
    let body = server.device(&frictionless, &fp, Some(&device_token)).await;
    assert_eq!(body["outcome"], "frictionless", "{body}");
    let rejected = server.create(CARD_BLOCKED, 1_000, "01").await;
    server.device(&rejected, &fingerprint("x"), None).await;
    let expired = server.create(CARD, 5_000, "01").await;
    // The three finished so far are delivered before the clock jumps: a jump past an attempt's
    // lease would let the worker claim its event again while the attempt is under way.
    until("three events", || seen(&receiver).len() >= 3).await;
    server.clock.advance(15 * 60);
    // Nobody reads the abandoned one: the verifier's expiry sweeper ends it and tells the
    // merchant.
    until("four events", || seen(&receiver).len() >= 4).await;
    assert_eq!(server.get(&expired.id).await["state"], "expired");
    // Once the merchant is owed nothing, every event queued for it has reached the receiver
    // (which records an attempt before answering it): a fifth would be among what it saw.
    support::eventually(|| async {
        let endpoint = server
            .store
            .webhook(&owner, SERVER_START)
            .await
            .unwrap()
            .unwrap();
        endpoint.pending == 0
    })
    .await;
    let events: Vec<(Seen, Value)> = seen(&receiver)
        .into_iter()
        .map(|s| {
            let body = serde_json::from_str(&s.body).unwrap();
            (s, body)
        })
        .collect();
    assert_eq!(events.len(), 4, "one each, none twice: {events:?}");
    let mut states = Vec::new();
    for (seen, body) in &events {
        assert_eq!(
            seen.signature,
            secret.sign(&seen.id, seen.timestamp, seen.body.as_bytes())
        );
        assert_eq!(body["type"], "authentication.finished");
        let data = &body["data"];
        assert_eq!(data["merchant_id"], MERCHANT);
        let id = data["authentication_id"].as_str().unwrap().parse().unwrap();
        let view = server.get(&id).await;
        for field in [
            "state",
            "status",
            "eci",
            "method",
            "amount",
            "currency",
            "order_ref",
        ] {
            assert_eq!(data[field], view[field], "{field}: {data} against {view}");
        }
        assert_eq!(data["reason"], view["trans_status_reason"]);
        states.push(data["state"].as_str().unwrap().to_owned());
    }
    states.sort();
    assert_eq!(states, ["expired", "rejected", "succeeded", "succeeded"]);
}
