//! The store conformance suite against the SQLite backend.

use std::sync::Arc;

use mamori_server::store::{SqliteStore, Store, conformance};

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
