//! What only SQLite does: opening one file in WAL mode, starting write transactions with the
//! write lock, its migration files, and its outbox claim.
//!
//! WAL lets readers run while one writer commits, and `busy_timeout` makes concurrent writers
//! queue instead of failing. Every write transaction starts with `BEGIN IMMEDIATE`, so it takes
//! the write lock first and never has to upgrade a read snapshot, which in SQLite can fail with
//! `SQLITE_BUSY` instead of waiting. The same lock makes a second process opening the file wait
//! while the first migrates it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::StoreError;
use super::rows::db;
use super::sql_store::{BeginWrite, Pool, SqlStore};
use super::writes::Writes;

/// The migrations, in order; see [`Writes::apply_migrations`].
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_sandbox_idempotency.sql"),
    include_str!("../../migrations/sqlite/0003_one_shape.sql"),
];

/// Claims due mail: `$1` the lease's end, `$2` now, `$3` the batch size. SQLite has no row
/// locks to skip: the write lock that `claim_mail` takes like every write makes claims run one
/// after another, so the subquery's rows are still due when they are updated. The outer
/// conditions repeat the inner ones, as in the PostgreSQL statement.
pub(super) const CLAIM_MAIL: &str = "UPDATE outbox SET attempts = attempts + 1, claimed_until = $1 \
     WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND NOT failed \
         AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) \
         ORDER BY id LIMIT $3) \
     AND sent_at IS NULL AND NOT failed \
     AND (claimed_until IS NULL OR claimed_until <= $2) \
     RETURNING id, kind, recipient, subject, text_body, html_body, attempts";

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
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL loses no committed data on an application crash, only possibly
            // the last transactions on a power cut; FULL would fsync every commit.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(db)?;
        let mut tx = pool.begin_write().await?;
        tx.apply_migrations(MIGRATIONS).await?;
        tx.commit().await.map_err(db)?;
        Ok(SqlStore::new(Pool::Sqlite(pool)))
    }
}

impl BeginWrite for SqlitePool {
    type Database = Sqlite;

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        // IMMEDIATE takes the write lock up front (see the module docs).
        self.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}
