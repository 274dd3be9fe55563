//! What only PostgreSQL does: connecting as many connections as the configuration's
//! `database_connections` says ([`StoreOptions`]), split between sqlx's pool and the hot path's
//! set, beside two for rate-limit counts; migrating under an advisory lock, its migration
//! files, and its outbox claim.
//!
//! Nothing that must hold across instances lives in process memory: attempt counts, the single
//! use of a code, resend cooldowns, velocity counts, key rotation and the outbox are rows, and
//! every change that must not race is one conditional statement. Under PostgreSQL's default
//! READ COMMITTED isolation a statement that finds its row locked by another transaction waits,
//! then re-evaluates its `WHERE` clause against the row that transaction committed; so of two
//! instances accepting the same code, the second finds `code_digest` already cleared and changes
//! nothing. The outbox claim locks the rows it takes with `FOR UPDATE SKIP LOCKED`, so workers
//! on several instances take disjoint batches instead of queuing behind each other.
//!
//! Migrations are embedded and applied at start under an advisory lock, so instances started
//! together migrate once. TLS is chosen by the URL's `sslmode` (`disable`, `prefer` — the
//! default —, `require`, `verify-ca`, `verify-full`; `sslrootcert=` names a CA file).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use super::pg_hot::{self as hot, HotConnections};
use super::rows::db;
use super::sql_store::{BeginWrite, Pool, SqlStore};
use super::writes::Writes;
use super::{StoreError, StoreOptions};
use crate::config::DatabaseConnections;

/// The migrations, in order; see [`Writes::apply_migrations`].
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_sandbox_idempotency.sql"),
    include_str!("../../migrations/postgres/0003_one_shape.sql"),
    include_str!("../../migrations/postgres/0004_mail_order.sql"),
    include_str!("../../migrations/postgres/0005_rate_limits.sql"),
    include_str!("../../migrations/postgres/0006_order_ref.sql"),
    include_str!("../../migrations/postgres/0007_device_trust.sql"),
    include_str!("../../migrations/postgres/0008_currency_ceilings.sql"),
    include_str!("../../migrations/postgres/0009_mail_thread.sql"),
    include_str!("../../migrations/postgres/0010_cases.sql"),
    include_str!("../../migrations/postgres/0011_webhooks.sql"),
    include_str!("../../migrations/postgres/0012_admin.sql"),
    include_str!("../../migrations/postgres/0013_live_expiry.sql"),
    include_str!("../../migrations/postgres/0014_history_indexes.sql"),
    include_str!("../../migrations/postgres/0015_webhook_claims.sql"),
    include_str!("../../migrations/postgres/0016_contact_epoch.sql"),
];

/// The advisory lock key held while migrating ("mamori" in ASCII): instances starting together
/// wait for the first one instead of creating the same tables twice.
const MIGRATION_LOCK: i64 = 0x6d61_6d6f_7269;

/// `$1` the lock key; held until the transaction ends.
const LOCK_MIGRATIONS: &str = "SELECT pg_advisory_xact_lock($1)";

/// Claims due mail, codes first (see `outbox_due`, the index it walks in that order): `$1` the
/// lease's end, `$2` now, `$3` the batch size.
///
/// The CTE locks the rows it picks and skips rows another worker has locked, so two workers
/// claiming at once take disjoint batches without waiting for each other. `MATERIALIZED` makes
/// it run once, before the update. A row another claim updated and committed after this
/// statement's snapshot is re-checked against the CTE's `WHERE` when it is locked, so it is not
/// claimed again within its lease; the update repeats the conditions so that this holds even if
/// the locking clause were ever dropped.
pub(super) const CLAIM_MAIL: &str = "WITH due AS MATERIALIZED ( \
         SELECT id FROM outbox WHERE sent_at IS NULL AND NOT failed \
         AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) \
         ORDER BY priority, next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
     UPDATE outbox SET attempts = outbox.attempts + 1, claimed_until = $1 \
     FROM due WHERE outbox.id = due.id \
     AND outbox.sent_at IS NULL AND NOT outbox.failed \
     AND (outbox.claimed_until IS NULL OR outbox.claimed_until <= $2) \
     RETURNING outbox.id, kind, recipient, subject, text_body, html_body, attempts, thread";

/// The hot path's share, in fifths, of the connections for everything but the rate-limit
/// counts ([`StoreOptions::connections`]); see [`split`].
///
/// The hot statements are most of a frictionless load's, the pool's most of a challenge's:
/// each set has its own connections, so neither starves the other. Three fifths keeps the
/// default 10 at the 6 for the hot path and 4 for the pool measured in `pg_hot`'s docs.
const HOT_FIFTHS: u32 = 3;

/// Connections for the rate-limit counts, beside [`StoreOptions::connections`]: a set like the
/// hot path's (see [`super::pg_hot`]), as each count is one statement. Their sessions commit
/// with `synchronous_commit = off`: a count is answered once PostgreSQL has applied it, without
/// waiting for its WAL record to be flushed, which would otherwise cost every request a disk
/// flush of its own. A database crash can lose the counts of the last moments (never corrupt
/// them, nor anything else), which at worst lets a client make a few more requests in that
/// window; every other statement still commits durably.
const COUNTER_CONNECTIONS: u32 = 2;

/// How long a request waits for a free connection before failing (as `503`), rather than
/// hanging while the database is unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections are replaced after this long, so a failover or a DNS change behind the URL is
/// picked up without restarting the instance.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Idle connections beyond the pool's first, and any of the hot path's, are closed after this
/// long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Opens the PostgreSQL kind of [`SqlStore`], shareable by several verifier instances: the
/// name it had when each backend was its own type.
#[derive(Debug, Clone, Copy)]
pub struct PostgresStore;

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// optionally `?sslmode=require` and friends) and applies the migrations it lacks. The
    /// database must exist.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the URL is malformed, the server cannot be reached or
    /// refuses the login, or a migration fails.
    pub async fn open(url: &str) -> Result<SqlStore, StoreError> {
        Self::open_with(url, &StoreOptions::default()).await
    }

    /// [`Self::open`] with `store_options`' number of connections for everything but the
    /// rate-limit counts, split in two: 60 % of them, rounded to the nearest, for the
    /// self-committing statements of a frictionless purchase (the store's own set, `pg_hot`),
    /// the rest for sqlx's pool — transactions and every other statement. Each request holds
    /// one connection for a few short statements, so a handful serves hundreds of concurrent
    /// requests; every instance opens its own, and PostgreSQL's default `max_connections` is
    /// 100. With the two connections for the rate-limit counts an instance opens at most
    /// `connections + 2`: 12 by default, so eight instances fit with room for an operator's
    /// sessions.
    ///
    /// # Errors
    ///
    /// As [`Self::open`].
    pub async fn open_with(
        url: &str,
        store_options: &StoreOptions,
    ) -> Result<SqlStore, StoreError> {
        let sizes = split(store_options.connections);
        let mut options = PgConnectOptions::from_str(url).map_err(db)?;
        // Shows which sessions are ours in `pg_stat_activity`, unless the URL says otherwise.
        if options.get_application_name().is_none() {
            options = options.application_name("mamori");
        }
        let pool = pool_options(sizes.pool)
            .min_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(db)?;
        // Both connected lazily: a verifier that never counts a request opens no counter
        // connection.
        let hot = HotConnections::new(options.clone(), hot_limits(sizes.hot));
        let counters = HotConnections::new(
            options.options([("synchronous_commit", "off")]),
            hot_limits(COUNTER_CONNECTIONS),
        );
        // DDL is transactional in PostgreSQL: a failed migration leaves nothing behind, and the
        // transaction-scoped advisory lock is released with the commit.
        let mut tx = pool.begin_write().await?;
        sqlx::query(LOCK_MIGRATIONS)
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.apply_migrations(MIGRATIONS).await?;
        tx.commit().await.map_err(db)?;
        Ok(SqlStore::new(Pool::Postgres {
            pool,
            hot: Arc::new(hot),
            counters: Arc::new(counters),
        }))
    }
}

/// How an instance's connections for everything but the rate-limit counts are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Split {
    /// The hot path's set.
    hot: u32,
    /// sqlx's pool.
    pool: u32,
}

/// [`HOT_FIFTHS`] of `connections`, rounded to the nearest (halves up), for the hot path, the
/// rest for the pool. The lower bound of [`DatabaseConnections`], 4, gives 2 and 2: neither set
/// is ever down to one connection.
fn split(connections: DatabaseConnections) -> Split {
    // Lossless: the type bounds the value to 4..=500.
    let total = connections.get() as u32;
    let hot = (total * HOT_FIFTHS + 2) / 5;
    Split {
        hot,
        pool: total - hot,
    }
}

/// The limits of a hot-path set of `connections`: the timeouts of every pool here.
fn hot_limits(connections: u32) -> hot::Limits {
    hot::Limits {
        // Lossless: a `u32` fits a `usize` on every target sqlx supports.
        connections: connections as usize,
        acquire_timeout: ACQUIRE_TIMEOUT,
        max_lifetime: MAX_LIFETIME,
        idle_timeout: IDLE_TIMEOUT,
    }
}

/// A pool of at most `connections`, with the timeouts of every pool here.
fn pool_options(connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .max_lifetime(MAX_LIFETIME)
        .idle_timeout(IDLE_TIMEOUT)
        // No test query before each use: it would double the round trips of every statement.
        // A connection the server dropped fails its next statement (that request answers `500
        // internal` having changed nothing) and is then closed.
        .test_before_acquire(false)
}

impl BeginWrite for PgPool {
    type Database = Postgres;

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        // READ COMMITTED suffices: each conditional statement re-checks its row once it holds
        // the row's lock (see the module docs).
        self.begin().await.map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hot_path_gets_three_fifths_rounded_and_each_set_at_least_two() {
        let split_of = |n| split(DatabaseConnections::new(n).unwrap());
        assert_eq!(split_of(10), Split { hot: 6, pool: 4 }, "the default");
        assert_eq!(split_of(4), Split { hot: 2, pool: 2 });
        assert_eq!(split_of(5), Split { hot: 3, pool: 2 });
        assert_eq!(split_of(7), Split { hot: 4, pool: 3 });
        assert_eq!(
            split_of(500),
            Split {
                hot: 300,
                pool: 200
            }
        );
        for n in 4..=500 {
            let Split { hot, pool } = split_of(n);
            assert_eq!(
                i64::from(hot + pool),
                n,
                "{n}: every connection is used once"
            );
            assert!(hot >= 2 && pool >= 2, "{n}: {hot} + {pool}");
            // Rounded to the nearest: within half a connection of 60 %.
            assert!((i64::from(hot) * 10 - n * 6).abs() <= 5, "{n}: {hot}");
        }
    }
}
