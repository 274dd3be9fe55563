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
