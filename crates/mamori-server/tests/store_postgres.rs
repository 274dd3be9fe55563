//! The store conformance suite against the PostgreSQL backend, and the races that only exist
//! when several verifier instances share one database: each instance here is its own
//! [`PostgresStore`] with its own connection pool, so their statements meet only in the
//! database.
//!
//! Needs `MAMORI_TEST_POSTGRES_URL` (set by `cargo xtask test`); fails without it.

// The helpers below run only inside tests, where a panic is the failure report (clippy.toml
// allows it in `#[test]` functions but cannot see that helpers are test code too).
#![allow(clippy::unwrap_used)]

mod old_devices;
mod postgres_db;

use std::sync::Arc;

use mamori_core::token::{Eci, Method, Reason, TransStatus};
use mamori_server::config::DatabaseConnections;
use mamori_server::model::{
    Amount, Assessment, Authentication, AuthenticationId, BrowserInfo, CardStatus, Cardholder,
    CardholderId, CaseId, CaseState, Ceilings, ChallengePreference, Currency, Dedupe, Device,
    DeviceId, FraudReport, KeyId, Locale, Merchant, MerchantId, MerchantKey, NewMail, OrderRef,
    Outcome, Progress, ProtectionCase, ReportId, State,
};
use mamori_server::risk::RiskReason;
use mamori_server::store::{
    self, Accept, Acceptance, CodeIssue, DeviceNext, DeviceWrite, Limits, PostgresStore, Store,
    StoreOptions, TrustWrite, WrongCode, conformance,
};
use postgres_db::{TestDb, with_database};
use sqlx::Row;
use tokio::task::JoinSet;

const NOW: i64 = 1_800_000_000;
const LIMITS: Limits = Limits {
    max_attempts: 5,
    max_resends: 3,
    resend_cooldown: 30,
};

/// Two instances over one fresh database.
async fn two_instances(db: &TestDb) -> [Arc<dyn Store>; 2] {
    let a: Arc<dyn Store> = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    [a, b]
}

fn outcome(status: TransStatus) -> Outcome {
    Outcome {
        status,
        eci: if status == TransStatus::Authenticated {
            Eci::Authenticated
        } else {
            Eci::NotAuthenticated
        },
        method: Method::Challenge,
        reason: (status != TransStatus::Authenticated).then_some(Reason::MAX_CHALLENGES),
        result_token: format!("token-{status:?}"),
    }
}

fn mail(kind: &str) -> NewMail {
    NewMail {
        kind: kind.into(),
        recipient: "holder@example.com".into(),
        subject: format!("subject {kind}"),
        text: format!("text {kind}"),
        html: format!("<p>{kind}</p>"),
        sandbox: None,
        dedupe: None,
        thread: None,
    }
}

/// A new browser of the merchant `challenging` makes, for a code to trust.
fn new_device(id: &str) -> Device {
    Device {
        id: DeviceId::parse(id).unwrap(),
        merchant_id: MerchantId::from_static("m_multi"),
        fingerprint: "{}".into(),
        public_key: None,
        created_at: NOW,
        expires_at: NOW + 1000,
        revoked_at: None,
    }
}

/// A pending authentication of `amount` yen on the shared card `ch_multi` at `m_multi`.
fn pending(id: &AuthenticationId, order: &str, amount: i64) -> Authentication {
    Authentication {
        id: id.clone(),
        merchant_id: MerchantId::from_static("m_multi"),
        cardholder_id: Some(CardholderId::from_static("ch_multi")),
        amount: Amount::new(amount).unwrap(),
        currency: Currency::new("JPY").unwrap(),
        order_ref: OrderRef::parse(order.into()).unwrap(),
        challenge_preference: ChallengePreference::NoPreference,
        client_secret_hash: vec![2; 32],
        created_at: NOW,
        expires_at: NOW + 900,
        sandbox_card: None,
        progress: Progress::Pending,
    }
}

/// A merchant, a card and an authentication challenging with code digest `[9; 32]`.
async fn challenging(store: &dyn Store) -> AuthenticationId {
    store
        .insert_merchant(
            &Merchant {
                id: MerchantId::from_static("m_multi"),
                name: "Shop".into(),
                origins: vec!["https://shop.example".into()],
                sandbox: false,
                created_at: NOW,
                webhook: false,
            },
            &MerchantKey {
                kid: KeyId::from_static("k_multi"),
                merchant_id: MerchantId::from_static("m_multi"),
                secret: vec![1; 32],
                created_at: NOW,
                retire_at: None,
            },
        )
        .await
        .unwrap();
    store
        .insert_cardholder(&Cardholder {
            id: CardholderId::from_static("ch_multi"),
            card_ref: "ref_multi".into(),
            last4: "0005".into(),
            email: "holder@example.com".into(),
            locale: Locale::En,
            status: CardStatus::Active,
            frictionless_ceilings: Ceilings::parse("JPY:50000").unwrap(),
            created_at: NOW,
            contact_epoch: 0,
        })
        .await
        .unwrap();
    let id = AuthenticationId::from_static("au_multi");
    store
        .insert_authentication(&pending(&id, "order-1", 12_800), None)
        .await
        .unwrap();
    let step = Assessment {
        risk_score: 40,
        risk_reasons: vec![RiskReason::NoDeviceToken.into()],
        device_id: None,
        fingerprint: None,
        ip: Some("192.0.2.1".into()),
        browser: BrowserInfo::default(),
    };
    let next = DeviceNext::Challenge(CodeIssue {
        digest: vec![9; 32],
        expires_at: NOW + 600,
    });
    assert!(
        store
            .record_device_step(&id, NOW, &step, &next, Some(&mail("code")), &[])
            .await
            .unwrap()
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_suite() {
    let db = TestDb::create().await;
    let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    conformance::run_all(store).await.unwrap();
}

// The hot path's connections (`store/pg_hot.rs`): given back only after a completed statement.

/// Each of `store::pg_hot_checks` as a test of its own (`hot_path::<check>`), against this
/// suite's server.
macro_rules! hot_path_checks {
    ($($check:ident),* $(,)?) => {
        mod hot_path {
            use mamori_server::store;

            $(
                #[tokio::test]
                async fn $check() {
                    store::pg_hot_checks::$check(&super::postgres_db::admin_url()).await;
                }
            )*
        }
    };
}

hot_path_checks!(
    a_finished_statement_returns_its_connection,
    a_statement_dropped_midway_keeps_its_place_until_it_ends,
    a_database_error_returns_the_connection,
    a_terminated_backend_is_not_reused,
    another_error_closes_the_connection,
    the_bound_holds_and_a_full_set_times_out,
    a_connection_past_its_lifetime_is_closed_by_finish,
    session_options_hold_on_every_connection,
    a_failed_connect_frees_its_place,
    an_expired_connection_is_not_reused,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_migrate_once() {
    let db = TestDb::create().await;
    let mut opening = JoinSet::new();
    for _ in 0..4 {
        let url = db.url.clone();
        opening.spawn(async move { PostgresStore::open(&url).await });
    }
    while let Some(opened) = opening.join_next().await {
        opened.unwrap().unwrap().ping().await.unwrap();
    }
    // And a later start finds nothing left to do.
    let reopened = PostgresStore::open(&db.url).await.unwrap();
    assert!(reopened.merchants().await.unwrap().is_empty());
    let mut conn = db.connect().await;
    let versions: Vec<i64> = sqlx::query("SELECT version FROM schema_version ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    // One version per migration file, each once.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    let expected: Vec<i64> = (1..=i64::try_from(files).unwrap()).collect();
    assert_eq!(versions, expected, "each migration recorded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_accepted_once_across_instances() {
    let db = TestDb::create().await;
    let instances = two_instances(&db).await;
    let id = challenging(instances[0].as_ref()).await;
    let mut tasks = JoinSet::new();
    for n in 0..100 {
        let store = Arc::clone(&instances[n % 2]);
        let id = id.clone();
        tasks.spawn(async move {
            let device = new_device(&format!("dv_multi_{n}"));
            let accept = Acceptance {
                digest: &[9; 32],
                outcome: &outcome(TransStatus::Authenticated),
                trust: Some(TrustWrite {
                    device: DeviceWrite::New(&device),
                    cardholder_id: &CardholderId::from_static("ch_multi"),
                    expires_at: NOW + 1000,
                    alert: Some(&mail("alert_new_device")),
                }),
                events: &[],
            };
            store
                .accept_code(&id, NOW + 1, &LIMITS, &accept)
                .await
                .unwrap()
        });
    }
    let mut wins = 0;
    while let Some(accepted) = tasks.join_next().await {
        wins += usize::from(accepted.unwrap() == Accept::Accepted { trusted: true });
    }
    assert_eq!(wins, 1, "100 correct codes over two instances");
    let stored = instances[1].authentication(&id).await.unwrap().unwrap();
    assert_eq!(stored.state(), State::Succeeded);
    // A final row still holding a code does not even read back (`StoreError::Corrupt`).
    assert_eq!(stored.challenge(), None);
    let alerts = instances[1].claim_mail(NOW + 10, 60, 100).await.unwrap();
    assert_eq!(
        alerts
            .iter()
            .filter(|m| m.kind == "alert_new_device")
            .count(),
        1,
        "only the winner queued its alert"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_counted_once_across_instances() {
    let db = TestDb::create().await;
    let instances = two_instances(&db).await;
    let id = challenging(instances[0].as_ref()).await;
    let failure = outcome(TransStatus::NotAuthenticated);
    let mut tasks = JoinSet::new();
    for n in 0..10 {
        let store = Arc::clone(&instances[n % 2]);
        let id = id.clone();
        let failure = failure.clone();
        tasks.spawn(async move {
            store
                .reject_code(&id, NOW + 1, &LIMITS, &failure, &mail("alert_failed"), &[])
                .await
                .unwrap()
        });
    }
    let mut left = Vec::new();
    let (mut failed, mut refused) = (0, 0);
    while let Some(answer) = tasks.join_next().await {
        match answer.unwrap() {
            WrongCode::Counted { attempts_left } => left.push(attempts_left),
            WrongCode::Failed => failed += 1,
            WrongCode::NotChallenging => refused += 1,
        }
    }
    left.sort_unstable();
    assert_eq!(
        (left, failed, refused),
        (vec![1, 2, 3, 4], 1, 5),
        "each entry counted once, the fifth fails, the rest find it finished"
    );
    let stored = instances[1].authentication(&id).await.unwrap().unwrap();
    assert_eq!((stored.state(), stored.attempts()), (State::Failed, 5));
    assert_eq!(stored.outcome(), Some(&failure));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_workers_on_two_instances_claim_disjoint_mail() {
    let db = TestDb::create().await;
    let instances = two_instances(&db).await;
    for n in 0..200 {
        instances[n % 2]
            .enqueue_mail(&mail(&format!("bulk{n}")), NOW)
            .await
            .unwrap();
    }
    // Eight workers per instance, each claiming small batches until nothing is due.
    let mut workers = JoinSet::new();
    for n in 0..16 {
        let store = Arc::clone(&instances[n % 2]);
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_mail(NOW, 60, 7).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for m in batch {
                    assert!(store.mail_sent(m.id, m.attempts, NOW).await.unwrap());
                    mine.push(m.id);
                }
            }
        });
    }
    let mut ids = Vec::new();
    while let Some(claimed) = workers.join_next().await {
        ids.extend(claimed.unwrap());
    }
    let claims = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (claims, ids.len()),
        (200, 200),
        "200 mails, each claimed exactly once"
    );
}

/// Two instances refusing the same card at the same moment queue one alert between them: the
/// window is decided in the database, not in either process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_for_one_card_from_two_instances_queue_once() {
    let db = TestDb::create().await;
    let instances = two_instances(&db).await;
    challenging(instances[0].as_ref()).await;
    // The code mail `challenging` queued.
    let code = instances[0].claim_mail(NOW, 60, 10).await.unwrap();
    assert_eq!(code.len(), 1);
    let alert = NewMail {
        dedupe: Some(Dedupe {
            cardholder_id: CardholderId::from_static("ch_multi"),
            window: 3600,
        }),
        ..mail("alert_rejected")
    };
    let mut requests = JoinSet::new();
    for n in 0..16 {
        let store = Arc::clone(&instances[n % 2]);
        let alert = alert.clone();
        requests.spawn(async move { store.enqueue_mail(&alert, NOW).await });
    }
    while let Some(done) = requests.join_next().await {
        done.unwrap().unwrap();
    }
    let queued = instances[1].claim_mail(NOW, 60, 100).await.unwrap();
    assert_eq!(
        queued.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
        ["alert_rejected"],
        "sixteen concurrent alerts over two instances queue one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_skips_mail_another_worker_holds_instead_of_waiting() {
    let db = TestDb::create().await;
    let store = PostgresStore::open(&db.url).await.unwrap();
    for n in 0..4 {
        store
            .enqueue_mail(&mail(&format!("m{n}")), NOW)
            .await
            .unwrap();
    }
    // Another worker, mid-claim: it holds the two oldest rows and does not let go.
    let mut other = db.connect().await;
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    let held: Vec<i64> = sqlx::query("SELECT id FROM outbox ORDER BY id LIMIT 2 FOR UPDATE")
        .fetch_all(&mut other)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    // Waiting for those rows would last as long as the other transaction: for ever here, so
    // the time limit only turns a hang into a failure.
    let claimed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        store.claim_mail(NOW, 60, 10),
    )
    .await
    .expect("the claim must skip locked rows, not wait for them")
    .unwrap();
    let claimed: Vec<i64> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(claimed.len(), 2, "{claimed:?}");
    assert!(
        claimed.iter().all(|id| !held.contains(id)),
        "{claimed:?} vs {held:?}"
    );
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let rest: Vec<i64> = store
        .claim_mail(NOW, 60, 10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(rest, held, "released rows are claimable");
}

/// An instance opens at most `database_connections` + 2 connections however many requests
/// wait: with every statement held up behind a lock, exactly the hot path's share (60 %,
/// rounded), the pool's (the rest) and the 2 rate-limit counters' are open, each running its
/// own kind of statement, and the requests beyond them wait in the instance instead of opening
/// more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_opens_at_most_its_configured_connections() {
    let db = TestDb::create().await;
    // 7 is 4 for the hot path (4.2 rounded) and 3 for the pool: not the default's 6 and 4.
    let (hot, pool, counters) = (4, 3, 2);
    let application = "mamori_sized";
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}application_name={application}", db.url);
    let sized = StoreOptions {
        connections: DatabaseConnections::new(7).unwrap(),
    };
    let store = store::open_with(&url, &sized).await.unwrap();
    let card = CardholderId::from_static("ch_multi");
    challenging(store.as_ref()).await;

    let mut hold = db.connect().await;
    sqlx::query("BEGIN").execute(&mut hold).await.unwrap();
    sqlx::query("LOCK TABLE cardholders, rate_limits IN ACCESS EXCLUSIVE MODE")
        .execute(&mut hold)
        .await
        .unwrap();
    // Five times as many requests of each kind as either set has connections.
    let mut requests = JoinSet::new();
    for n in 0..20 {
        let (hot_store, card) = (Arc::clone(&store), card.clone());
        requests.spawn(async move { hot_store.cardholder(&card).await.map(drop) });
        let pool_store = Arc::clone(&store);
        requests.spawn(async move { pool_store.cardholders().await.map(drop) });
        let (counting_store, bucket) = (Arc::clone(&store), format!("bucket-{n}"));
        requests.spawn(async move { counting_store.count_request(&bucket, NOW).await.map(drop) });
    }

    // Our sessions by what they run: a hot statement, a pool statement or a count.
    let ours = "SELECT CASE \
           WHEN query LIKE '%FROM cardholders WHERE%' THEN 'hot' \
           WHEN query LIKE '%FROM cardholders ORDER BY%' THEN 'pool' \
           WHEN query LIKE 'INSERT INTO rate_limits%' THEN 'counter' \
           ELSE query END AS kind, \
         COUNT(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting, COUNT(*) AS open \
         FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1 \
         GROUP BY kind ORDER BY kind";
    until_waiting_for_locks(&db, hot + pool + counters, || false).await;
    let mut watcher = db.connect().await;
    let sessions: Vec<(String, i64, i64)> = sqlx::query(ours)
        .bind(application)
        .fetch_all(&mut watcher)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    assert_eq!(
        sessions,
        [
            ("counter".to_owned(), counters, counters),
            ("hot".to_owned(), hot, hot),
            ("pool".to_owned(), pool, pool),
        ],
        "(kind, waiting for the lock, open) of the instance's sessions"
    );

    sqlx::query("COMMIT").execute(&mut hold).await.unwrap();
    while let Some(request) = requests.join_next().await {
        request.unwrap().unwrap();
    }
    let open: i64 = sqlx::query(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1",
    )
    .bind(application)
    .fetch_one(&mut watcher)
    .await
    .unwrap()
    .get(0);
    assert!(
        open <= hot + pool + counters,
        "{open} sessions after the load"
    );
}

#[tokio::test]
async fn the_url_scheme_picks_the_backend() {
    let db = TestDb::create().await;
    let pg = store::open(&db.url).await.unwrap();
    let long = db.url.replacen("postgres://", "postgresql://", 1);
    store::open(&long).await.unwrap().ping().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("m.db").display());
    let sqlite = store::open(&sqlite_url).await.unwrap();
    // Each went to its own database: what one holds the other does not.
    let id = challenging(pg.as_ref()).await;
    assert!(pg.authentication(&id).await.unwrap().is_some());
    assert!(sqlite.authentication(&id).await.unwrap().is_none());
    assert!(store::open("mysql://localhost/db").await.is_err());
}

#[tokio::test]
async fn sslmode_in_the_url_controls_tls() {
    let db = TestDb::create().await;
    let mut conn = db.connect().await;
    let ssl: String = sqlx::query("SHOW ssl")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let require = format!("{}{separator}sslmode=require", db.url);
    let opened = PostgresStore::open(&require).await;
    if ssl == "on" {
        // A server with TLS accepts the encrypted connection `require` insists on.
        let store = opened.unwrap();
        store.ping().await.unwrap();
    } else {
        // The throwaway cluster has no TLS: `require` must refuse rather than fall back.
        let error = opened.unwrap_err().to_string();
        assert!(
            error.to_lowercase().contains("ssl") || error.to_lowercase().contains("tls"),
            "{error}"
        );
    }
    let disable = format!("{}{separator}sslmode=disable", db.url);
    PostgresStore::open(&disable)
        .await
        .unwrap()
        .ping()
        .await
        .unwrap();
}

#[test]
fn the_test_database_url_keeps_everything_but_the_name() {
    assert_eq!(
        with_database("postgres://mamori@127.0.0.1:5432/postgres", "x"),
        "postgres://mamori@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgresql://u:p@db.example/postgres?sslmode=require", "x"),
        "postgresql://u:p@db.example/x?sslmode=require"
    );
    assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
}

#[tokio::test]
async fn devices_from_before_0007_become_devices_trusted_by_their_card() {
    let db = TestDb::create().await;
    let mut conn = db.connect().await;
    for sql in old_devices::before_0007!("postgres") {
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
    sqlx::raw_sql(old_devices::SEED)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let store = PostgresStore::open(&db.url).await.unwrap();
    old_devices::check(&store).await;
}

/// Webhook events queued on two instances and claimed by eight workers on each: every event
/// once, as with mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_workers_on_two_instances_claim_disjoint_events() {
    use mamori_server::webhooks::{NewEvent, Owner};
    let db = TestDb::create().await;
    let instances = two_instances(&db).await;
    instances[0]
        .set_webhook(&Owner::Issuer, "https://issuer.example/", &[1; 80], NOW)
        .await
        .unwrap();
    for n in 0..200 {
        let event = NewEvent {
            owner: Owner::Issuer,
            message_id: format!("msg_{n}"),
            event_type: "authentication.failed",
            body: "{}".into(),
        };
        instances[n % 2].enqueue_event(&event, NOW).await.unwrap();
    }
    let mut workers = JoinSet::new();
    for n in 0..16 {
        let store = Arc::clone(&instances[n % 2]);
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_webhook_events(NOW, 60, 7).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for e in batch {
                    assert!(store.webhook_delivered(e.id, e.claim, NOW).await.unwrap());
                    mine.push(e.id);
                }
            }
        });
    }
    let mut ids = Vec::new();
    while let Some(claimed) = workers.join_next().await {
        ids.extend(claimed.unwrap());
    }
    let claims = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((claims, ids.len()), (200, 200), "each event claimed once");
}

/// A webhook claim skips events another worker has locked instead of waiting for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_claim_skips_events_another_worker_holds() {
    use mamori_server::store::WebhookStore as _;
    use mamori_server::webhooks::{NewEvent, Owner};
    let db = TestDb::create().await;
    let store = PostgresStore::open(&db.url).await.unwrap();
    store
        .set_webhook(&Owner::Issuer, "https://issuer.example/", &[1; 80], NOW)
        .await
        .unwrap();
    for n in 0..4 {
        let event = NewEvent {
            owner: Owner::Issuer,
            message_id: format!("msg_{n}"),
            event_type: "authentication.failed",
            body: "{}".into(),
        };
        store.enqueue_event(&event, NOW).await.unwrap();
    }
    let mut other = db.connect().await;
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    let held: Vec<i64> =
        sqlx::query("SELECT id FROM webhook_events ORDER BY id LIMIT 2 FOR UPDATE")
            .fetch_all(&mut other)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
    let claimed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        store.claim_webhook_events(NOW, 60, 10),
    )
    .await
    .expect("the claim must skip locked rows, not wait for them")
    .unwrap();
    let claimed: Vec<i64> = claimed.iter().map(|e| e.id).collect();
    assert_eq!(claimed.len(), 2, "{claimed:?}");
    assert!(
        claimed.iter().all(|id| !held.contains(id)),
        "{claimed:?} vs {held:?}"
    );
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
}

/// Waits until `statements` statements on `db` wait for a lock (a table's, a row's), or `done`
/// says there is no need: the point where the store has reached what a test's open transaction
/// holds. Polls rather than sleeping a guess; the bound only turns a hang into a failure.
async fn until_waiting_for_locks(db: &TestDb, statements: i64, done: impl Fn() -> bool) {
    let mut watcher = db.connect().await;
    for _ in 0..3000 {
        let waiting: i64 = sqlx::query(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watcher)
        .await
        .unwrap()
        .get(0);
        if waiting >= statements || done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("fewer than {statements} statements waited for a lock");
}

/// An endpoint and its secrets are read in one snapshot, by both reads: a reader never pairs
/// the URL from before a change with the secrets from after it. The change (a new URL and a new
/// secret, one transaction) holds `webhook_secrets` locked until the read waits for it, which
/// is where a read in two statements would straddle the change: its endpoint read before, its
/// secrets after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_and_its_secrets_are_read_in_one_snapshot() {
    use mamori_server::store::WebhookStore as _;
    use mamori_server::webhooks::Owner;
    let db = TestDb::create().await;
    let store = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    store
        .set_webhook(&Owner::Issuer, "https://before.example/", &[1; 80], NOW)
        .await
        .unwrap();
    for (round, live) in [false, true].into_iter().enumerate() {
        // Round 0 replaces secret 1 with 2, round 1 replaces 2 with 3.
        let (new_url, old_secret) = (
            format!("https://{round}.example/"),
            1 + u8::try_from(round).unwrap(),
        );
        let mut change = db.connect().await;
        sqlx::query("BEGIN").execute(&mut change).await.unwrap();
        sqlx::query("LOCK TABLE webhook_secrets IN ACCESS EXCLUSIVE MODE")
            .execute(&mut change)
            .await
            .unwrap();
        let read = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                if live {
                    let endpoint = store.live_webhook(&Owner::Issuer, NOW).await.unwrap();
                    endpoint.map(|e| (e.url, e.secrets))
                } else {
                    let endpoint = store.webhook(&Owner::Issuer, NOW).await.unwrap();
                    endpoint.map(|e| (e.url, e.secrets))
                }
            })
        };
        until_waiting_for_locks(&db, 1, || false).await;
        let old_url: String = sqlx::query("SELECT url FROM webhook_endpoints")
            .fetch_one(&mut change)
            .await
            .unwrap()
            .get(0);
        sqlx::query("UPDATE webhook_endpoints SET url = $1")
            .bind(&new_url)
            .execute(&mut change)
            .await
            .unwrap();
        sqlx::query("UPDATE webhook_secrets SET secret = $1")
            .bind(&[old_secret + 1; 80][..])
            .execute(&mut change)
            .await
            .unwrap();
        sqlx::query("COMMIT").execute(&mut change).await.unwrap();
        let (url, secrets) = read.await.unwrap().unwrap();
        let sealed: Vec<u8> = secrets.iter().map(|s| s.sealed[0]).collect();
        let consistent = (url == old_url && sealed == [old_secret])
            || (url == new_url && sealed == [old_secret + 1]);
        assert!(consistent, "live: {live}, read {url} with {sealed:?}");
    }
}

/// A correct code on `ch_multi`'s challenging purchase that trusts the browser
/// `dv_at_the_change`, accepted on `accepting` while `change` runs on another instance: the
/// acceptance is held at its device insert (another transaction locks `devices`) until `change`
/// has run to its end or waits too, so `change` meets an acceptance whose trust is not committed
/// yet, the order in which, under READ COMMITTED, neither would see the other's rows. Answers
/// what the acceptance answered and the card's trust in that browser afterwards.
async fn accepting_during<F>(
    db: &TestDb,
    accepting: &Arc<dyn Store>,
    id: &AuthenticationId,
    change: F,
) -> (Accept, Option<mamori_server::model::DeviceTrust>)
where
    F: Future<Output = bool> + Send + 'static,
{
    let card = CardholderId::from_static("ch_multi");
    let mut hold = db.connect().await;
    sqlx::query("BEGIN").execute(&mut hold).await.unwrap();
    sqlx::query("LOCK TABLE devices IN SHARE MODE")
        .execute(&mut hold)
        .await
        .unwrap();
    let accepted = {
        let (store, id, card) = (Arc::clone(accepting), id.clone(), card.clone());
        tokio::spawn(async move {
            let device = new_device("dv_at_the_change");
            let accept = Acceptance {
                digest: &[9; 32],
                outcome: &outcome(TransStatus::Authenticated),
                trust: Some(TrustWrite {
                    device: DeviceWrite::New(&device),
                    cardholder_id: &card,
                    expires_at: NOW + 1000,
                    alert: None,
                }),
                events: &[],
            };
            store.accept_code(&id, NOW + 6, &LIMITS, &accept).await
        })
    };
    until_waiting_for_locks(db, 1, || false).await;
    let changed = tokio::spawn(change);
    // The change either runs to its end (nothing stops it but the card's lock, if the
    // acceptance took it) or waits for the acceptance too.
    until_waiting_for_locks(db, 2, || changed.is_finished()).await;
    sqlx::query("COMMIT").execute(&mut hold).await.unwrap();
    assert!(changed.await.unwrap(), "the change was made");
    let accepted = accepted.await.unwrap().unwrap();
    let trust = accepting
        .trust(&DeviceId::from_static("dv_at_the_change"), &card)
        .await
        .unwrap();
    (accepted, trust)
}

/// A fraud report and a code's acceptance on the same card, on two instances, at the same
/// moment: whichever commits last, the card trusts no browser afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_and_an_acceptance_at_the_same_moment_leave_no_browser_trusted() {
    use mamori_server::store::CaseOpening;
    let db = TestDb::create().await;
    let [accepting, reporting] = two_instances(&db).await;
    let id = challenging(accepting.as_ref()).await;
    let card = CardholderId::from_static("ch_multi");
    let reported = AuthenticationId::from_static("au_reported");
    // The purchase reported: another of the card's (pending is enough for a report).
    accepting
        .insert_authentication(&pending(&reported, "order-reported", 30_000), None)
        .await
        .unwrap();
    let report = async move {
        let report = FraudReport {
            id: ReportId::from_static("fr_at_the_acceptance"),
            cardholder_id: card.clone(),
            authentication_id: reported.clone(),
            created_at: NOW + 5,
            resolved_at: None,
        };
        let case = ProtectionCase {
            id: CaseId::from_static("pc_at_the_acceptance"),
            report_id: report.id.clone(),
            authentication_id: reported,
            cardholder_id: card,
            merchant_id: MerchantId::from_static("m_multi"),
            merchant_name: "Shop".into(),
            amount: Amount::new(30_000).unwrap(),
            currency: Currency::new("JPY").unwrap(),
            purchased_at: NOW,
            browser: "Chromium".into(),
            method: None,
            status: None,
            reason: None,
            risk_reasons: Vec::new(),
            state: CaseState::Open,
            note: None,
            created_at: report.created_at,
            updated_at: report.created_at,
        };
        let case_mail = mail("case_open");
        let opening = CaseOpening {
            case: &case,
            mail: &case_mail,
            events: &[],
        };
        reporting.report_fraud(&report, &opening).await.unwrap()
    };
    let (accepted, trust) = accepting_during(&db, &accepting, &id, report).await;
    assert!(
        !trust.as_ref().is_some_and(|t| t.is_live(NOW + 10)),
        "accepted {accepted:?}, the browser's trust after the report: {trust:?}"
    );
}

/// Unenrolling a card on one instance while a code of it is accepted on another: the card
/// trusts no browser afterwards, as after a report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unenrolment_and_an_acceptance_at_the_same_moment_leave_no_browser_trusted() {
    let db = TestDb::create().await;
    let [accepting, admin] = two_instances(&db).await;
    let id = challenging(accepting.as_ref()).await;
    let unenrol = async move {
        admin
            .unenrol_cardholder(&CardholderId::from_static("ch_multi"), NOW + 5)
            .await
            .unwrap()
    };
    let (accepted, trust) = accepting_during(&db, &accepting, &id, unenrol).await;
    assert!(
        !trust.as_ref().is_some_and(|t| t.is_live(NOW + 10)),
        "accepted {accepted:?}, the browser's trust after the unenrolment: {trust:?}"
    );
}
