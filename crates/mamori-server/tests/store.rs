//! The store conformance suite against the SQLite backend.

// A panic is how a test helper reports a failure.
#![allow(clippy::unwrap_used)]

mod old_devices;

use std::sync::Arc;

use mamori_server::store::{SqliteStore, Store, conformance};
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mamori.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url).await.unwrap());
    conformance::run_all(store).await.unwrap();
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mamori.db").display());
    SqliteStore::open(&url).await.unwrap().ping().await.unwrap();
    let reopened = SqliteStore::open(&url).await.unwrap();
    reopened.ping().await.unwrap();
    assert!(reopened.merchants().await.unwrap().is_empty());
}

#[tokio::test]
async fn devices_from_before_0007_become_devices_trusted_by_their_card() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mamori.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .unwrap();
    for sql in old_devices::before_0007!("sqlite") {
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
    sqlx::raw_sql(old_devices::SEED)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let store = SqliteStore::open(&url).await.unwrap();
    old_devices::check(&store).await;
}

/// A database from before migration 0006 may hold several live authentications of one order
/// (an abandoned checkout and its retry): the migration must apply, keep the newest one as the
/// order's live authentication, and leave the older ones as they were.
#[tokio::test]
async fn migration_0006_keeps_the_newest_of_duplicate_live_orders() {
    use mamori_server::model::{AuthenticationId, MerchantId, OrderRef};
    use sqlx::{Connection, Row};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mamori.db");
    let url = format!("sqlite://{}", path.display());
    let before_0006 = [
        include_str!("../migrations/sqlite/0001_initial.sql"),
        include_str!("../migrations/sqlite/0002_sandbox_idempotency.sql"),
        include_str!("../migrations/sqlite/0003_one_shape.sql"),
        include_str!("../migrations/sqlite/0004_mail_order.sql"),
        include_str!("../migrations/sqlite/0005_rate_limits.sql"),
    ];
    let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE schema_version (version BIGINT NOT NULL)")
        .execute(&mut conn)
        .await
        .unwrap();
    for (n, migration) in before_0006.iter().enumerate() {
        sqlx::raw_sql(*migration).execute(&mut conn).await.unwrap();
        sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
            .bind(n as i64 + 1)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::raw_sql(
        "INSERT INTO merchants (id, name, sandbox, created_at) VALUES ('m_old', 'Old', 0, 1)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for (id, state, created_at) in [
        ("au_abandoned", "pending", 100),
        ("au_retry", "pending", 200),
        ("au_done", "cancelled", 300),
    ] {
        sqlx::query(
            "INSERT INTO authentications (id, merchant_id, amount, currency, order_ref, \
             challenge_preference, client_secret_hash, state, created_at, expires_at, \
             risk_reasons, attempts, resends) \
             VALUES ($1, 'm_old', 100, 'JPY', 'order-1', '01', x'01', $2, $3, $4, '[]', 0, 0)",
        )
        .bind(id)
        .bind(state)
        .bind(created_at)
        .bind(created_at + 900)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    let store = SqliteStore::open(&url).await.unwrap();
    let live = store
        .live_authentication_for_order(
            &MerchantId::parse("m_old").unwrap(),
            &OrderRef::parse("order-1".into()).unwrap(),
        )
        .await
        .unwrap()
        .map(|a| a.id);
    assert_eq!(live, AuthenticationId::parse("au_retry"));
    let abandoned = store
        .authentication(&AuthenticationId::parse("au_abandoned").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(abandoned.state().as_str(), "pending", "left as it was");

    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let marked: Vec<String> = sqlx::query("SELECT id FROM authentications WHERE legacy_duplicate")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(marked, ["au_abandoned"]);
}
