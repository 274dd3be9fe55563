//! What only SQLite does: opening one file in WAL mode with a writer connection, read-only
//! connections and the hot path's own connections (see [`super::inline`]), starting write
//! transactions with the write lock, its migration files, and its outbox claim.
//!
//! SQLite lets one connection write at a time. Every write of the verifier takes the process's
//! one write turn (see [`super::inline`]) before it writes, on sqlx's writer connection or in a
//! batch of the hot path's writer thread, so concurrent requests queue in the process, in
//! order, instead of contending for the file's write lock (which SQLite resolves by sleeping
//! and retrying, milliseconds at a time); reads go to read-only connections, which WAL lets run
//! while a write commits. Another process on the same file (the `mamori` CLI beside a running
//! verifier) still queues on the lock, with `busy_timeout`.
//!
//! # Durability
//!
//! Every connection runs with `synchronous = NORMAL` in WAL mode: a commit writes its pages to
//! the WAL without `fsync`. A crash of the process loses nothing it committed (the pages are
//! in the operating system's cache, and the next open replays the WAL); a power cut or an
//! operating-system crash can lose the transactions committed since the last checkpoint, never
//! corrupt the file. Checkpoints (`fsync` of the WAL, then of the database) run once the WAL
//! holds 1000 pages, as SQLite's own `wal_autocheckpoint` would: after a commit of sqlx's
//! writer connection, or after a batch on the hot path's writer thread.
//!
//! Every write transaction starts with `BEGIN IMMEDIATE`, so it takes the write lock first and
//! never has to upgrade a read snapshot, which in SQLite can fail with `SQLITE_BUSY` instead of
//! waiting. The same lock makes a second process opening the file wait while the first migrates
//! it. A write that is one statement runs without `BEGIN`: it commits by itself, atomically.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::StoreError;
use super::inline::HotPath;
use super::rows::db;
use super::sql_store::{BeginWrite, Pool, SqlStore};
use super::writes::Writes;

/// The migrations, in order; see [`Writes::apply_migrations`].
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_sandbox_idempotency.sql"),
    include_str!("../../migrations/sqlite/0003_one_shape.sql"),
    include_str!("../../migrations/sqlite/0004_mail_order.sql"),
    include_str!("../../migrations/sqlite/0005_rate_limits.sql"),
    include_str!("../../migrations/sqlite/0006_order_ref.sql"),
    include_str!("../../migrations/sqlite/0007_device_trust.sql"),
    include_str!("../../migrations/sqlite/0008_currency_ceilings.sql"),
    include_str!("../../migrations/sqlite/0009_mail_thread.sql"),
    include_str!("../../migrations/sqlite/0010_cases.sql"),
    include_str!("../../migrations/sqlite/0011_webhooks.sql"),
    include_str!("../../migrations/sqlite/0012_admin.sql"),
    include_str!("../../migrations/sqlite/0013_live_expiry.sql"),
    include_str!("../../migrations/sqlite/0014_history_indexes.sql"),
    include_str!("../../migrations/sqlite/0015_webhook_claims.sql"),
    include_str!("../../migrations/sqlite/0016_contact_epoch.sql"),
];

/// Claims due mail, codes first (see `outbox_due`, the index it walks in that order): `$1` the
/// lease's end, `$2` now, `$3` the batch size. SQLite has no row
/// locks to skip: the write lock that `claim_mail` takes like every write makes claims run one
/// after another, so the subquery's rows are still due when they are updated. The outer
/// conditions repeat the inner ones, as in the PostgreSQL statement.
pub(super) const CLAIM_MAIL: &str = "UPDATE outbox SET attempts = attempts + 1, claimed_until = $1 \
     WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND NOT failed \
         AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) \
         ORDER BY priority, next_attempt_at, id LIMIT $3) \
     AND sent_at IS NULL AND NOT failed \
     AND (claimed_until IS NULL OR claimed_until <= $2) \
     RETURNING id, kind, recipient, subject, text_body, html_body, attempts, thread";

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for its turn on a connection before failing, rather than hanging
/// while another process holds the file.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Read-only connections. Each runs its statements on a thread of its own, so a few are enough
/// to keep a machine's cores busy while the writer commits.
const READERS: u32 = 4;

/// Opens the SQLite kind of [`SqlStore`]: the name it had when each backend was its own type.
#[derive(Debug, Clone, Copy)]
pub struct SqliteStore;

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path/to/file.db`) and
    /// applies the migrations it lacks.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the file cannot be opened or a migration fails.
    pub async fn open(url: &str) -> Result<SqlStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db)?
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A file on this machine does not go away between statements; testing it before
            // each use would cost a round trip to the connection's thread per statement.
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // See "Durability" in the module docs; FULL would fsync every commit.
                    .synchronous(SqliteSynchronous::Normal),
            )
            .await
            .map_err(db)?;
        let mut tx = writer.begin_write().await?;
        tx.apply_migrations(MIGRATIONS).await?;
        tx.commit().await.map_err(db)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            // Read-only, so that a write sent to a reader by mistake fails instead of taking
            // the write lock beside the writer.
            .connect_with(options.clone().read_only(true))
            .await
            .map_err(db)?;
        // The file the writer opened, as SQLite resolved it; an in-memory database has none,
        // and the hot path joins it by the name sqlx gave it instead.
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&writer)
                .await
                .map_err(db)?;
        let inline = if file.is_empty() {
            HotPath::open(options.get_filename(), true, BUSY_TIMEOUT)?
        } else {
            HotPath::open(Path::new(&file), false, BUSY_TIMEOUT)?
        };
        Ok(SqlStore::new(Pool::Sqlite {
            writer,
            readers,
            inline: Arc::new(inline),
            counts: Arc::default(),
        }))
    }
}

impl BeginWrite for SqlitePool {
    type Database = Sqlite;

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        // IMMEDIATE takes the write lock up front (see the module docs).
        self.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyId, MerchantId, MerchantKey};
    use crate::store::{Store, StoreError};

    const MERCHANT: MerchantId = MerchantId::from_static("m_old");

    fn key(kid: &str) -> MerchantKey {
        MerchantKey {
            kid: KeyId::parse(kid).unwrap(),
            merchant_id: MERCHANT,
            secret: vec![3; 32],
            created_at: 100,
            retire_at: None,
        }
    }

    async fn kids(store: &SqlStore) -> Vec<String> {
        let keys = store.merchant_keys(&MERCHANT).await.unwrap();
        keys.into_iter().map(|k| k.kid.into()).collect()
    }

    /// A file of the release before migration 3, whose key order came from the rowid, keeps
    /// its keys and their order through the table's rebuild, and its `kid`s stay unique.
    #[tokio::test]
    async fn an_older_database_keeps_its_keys_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let mut tx = pool.begin_write().await.unwrap();
        tx.apply_migrations(&MIGRATIONS[..2]).await.unwrap();
        // Two keys of the same second, the newer one first in `kid` order.
        sqlx::raw_sql(
            "INSERT INTO merchants (id, name, sandbox, created_at) VALUES ('m_old', 'Old', 0, 1);
             INSERT INTO merchant_keys (kid, merchant_id, secret, created_at)
                 VALUES ('k_b', 'm_old', x'03', 100);
             INSERT INTO merchant_keys (kid, merchant_id, secret, created_at)
                 VALUES ('k_a', 'm_old', x'03', 100);",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        pool.close().await;

        let store = SqliteStore::open(&url).await.unwrap();
        assert_eq!(kids(&store).await, ["k_a", "k_b"]);
        store.rotate_key(&key("k_0"), 200).await.unwrap();
        assert_eq!(kids(&store).await, ["k_0", "k_a", "k_b"]);
        assert!(matches!(
            store.rotate_key(&key("k_a"), 300).await,
            Err(StoreError::Conflict)
        ));
    }

    /// A row whose id is not an id of its kind (edited by hand) reads as corrupt, naming the
    /// column, instead of passing an unchecked id on.
    #[tokio::test]
    async fn an_id_that_does_not_parse_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("edited.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        let pool = SqlitePool::connect(&url).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO merchants (id, name, sandbox, created_at) VALUES ('m_old', 'Old', 0, 1);
             INSERT INTO merchant_keys (kid, merchant_id, secret, created_at)
                 VALUES ('k one', 'm_old', x'03', 100);
             INSERT INTO merchants (id, name, sandbox, created_at)
                 VALUES ('ch_not_a_merchant', 'Edited', 0, 2);",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        assert!(matches!(
            store.merchant_keys(&MERCHANT).await,
            Err(StoreError::Corrupt("kid"))
        ));
        assert!(matches!(
            store.merchants().await,
            Err(StoreError::Corrupt("id"))
        ));
    }

    /// An in-memory database (`sqlite::memory:`) is one database for sqlx's connections and
    /// the hot path's: what either writes, the other reads.
    #[tokio::test]
    async fn an_in_memory_store_is_one_database() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        let card = crate::model::Cardholder {
            id: "ch_memory".parse().unwrap(),
            card_ref: "ref".into(),
            last4: "0005".into(),
            email: "t@example.jp".into(),
            locale: crate::model::Locale::parse("ja").unwrap(),
            status: crate::model::CardStatus::Active,
            frictionless_ceilings: crate::model::Ceilings::parse("JPY:70000").unwrap(),
            created_at: 1,
            contact_epoch: 0,
        };
        store.insert_cardholder(&card).await.unwrap();
        assert_eq!(store.cardholder_by_ref("ref").await.unwrap(), Some(card));
    }

    /// A card enrolled before ceilings had a currency keeps its amount, as a yen ceiling.
    #[tokio::test]
    async fn an_older_ceiling_becomes_a_yen_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let before = MIGRATIONS
            .iter()
            .position(|m| m.contains("ADD COLUMN frictionless_ceilings"))
            .unwrap();
        let mut tx = pool.begin_write().await.unwrap();
        tx.apply_migrations(&MIGRATIONS[..before]).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO cardholders (id, card_ref, last4, email, locale, status,
                 frictionless_ceiling, created_at)
             VALUES ('ch_old', 'ref', '0005', 't@example.jp', 'ja', 'active', 70000, 1);",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        pool.close().await;

        let store = SqliteStore::open(&url).await.unwrap();
        let cards = store.cardholders().await.unwrap();
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].frictionless_ceilings.to_string(), "JPY:70000");
    }

    /// A store whose hot path's writer thread has ended is not ready: `ping` fails, though
    /// sqlx's writer connection still answers. (That the thread's end clears the flag is
    /// `inline`'s own test.)
    #[tokio::test]
    async fn ping_fails_once_the_hot_writer_thread_has_ended() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        store.ping().await.unwrap();
        let Pool::Sqlite { inline, .. } = &store.pool else {
            panic!("a SQLite store on another pool");
        };
        inline.mark_writer_unhealthy();
        assert!(
            store.ping().await.is_err(),
            "ping succeeds with the writer thread gone"
        );
    }
}
