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
use mamori_server::model::{
    Amount, Assessment, Authentication, AuthenticationId, BrowserInfo, CardStatus, Cardholder,
    CardholderId, Ceilings, ChallengePreference, Currency, Dedupe, KeyId, Locale, Merchant,
    MerchantId, MerchantKey, NewMail, OrderRef, Outcome, Progress, State,
};
use mamori_server::risk::RiskReason;
use mamori_server::store::{
    self, Acceptance, CodeIssue, DeviceNext, Limits, PostgresStore, Store, WrongCode, conformance,
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
        })
        .await
        .unwrap();
    let id = AuthenticationId::from_static("au_multi");
    store
        .insert_authentication(
            &Authentication {
                id: id.clone(),
                merchant_id: MerchantId::from_static("m_multi"),
                cardholder_id: Some(CardholderId::from_static("ch_multi")),
                amount: Amount::new(12_800).unwrap(),
                currency: Currency::new("JPY").unwrap(),
                order_ref: OrderRef::parse("order-1".into()).unwrap(),
                challenge_preference: ChallengePreference::NoPreference,
                client_secret_hash: vec![2; 32],
                created_at: NOW,
                expires_at: NOW + 900,
                sandbox_card: None,
                progress: Progress::Pending,
            },
            None,
        )
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

#[tokio::test]
async fn hot_path_a_finished_statement_returns_its_connection() {
    store::pg_hot_checks::a_finished_statement_returns_its_connection(&postgres_db::admin_url())
        .await;
}

#[tokio::test]
async fn hot_path_a_statement_dropped_midway_closes_its_connection() {
    store::pg_hot_checks::a_statement_dropped_midway_closes_its_connection(
        &postgres_db::admin_url(),
    )
    .await;
}

#[tokio::test]
async fn hot_path_a_database_error_returns_the_connection() {
    store::pg_hot_checks::a_database_error_returns_the_connection(&postgres_db::admin_url()).await;
}

#[tokio::test]
async fn hot_path_another_error_closes_the_connection() {
    store::pg_hot_checks::another_error_closes_the_connection(&postgres_db::admin_url()).await;
}

#[tokio::test]
async fn hot_path_the_bound_holds_and_a_full_set_times_out() {
    store::pg_hot_checks::the_bound_holds_and_a_full_set_times_out(&postgres_db::admin_url()).await;
}

#[tokio::test]
async fn hot_path_an_expired_connection_is_not_reused() {
    store::pg_hot_checks::an_expired_connection_is_not_reused(&postgres_db::admin_url()).await;
}

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
            let accept = Acceptance {
                digest: &[9; 32],
                outcome: &outcome(TransStatus::Authenticated),
                trust: None,
                mail: Some(&mail("alert_new_device")),
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
        wins += usize::from(accepted.unwrap());
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
                    assert!(
                        store
                            .webhook_delivered(e.id, e.attempts, NOW)
                            .await
                            .unwrap()
                    );
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
