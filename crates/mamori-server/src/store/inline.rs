//! SQLite's hot path: the statements of a frictionless purchase, run in the requesting task on
//! one connection of the store's own, instead of on sqlx's connection threads.
//!
//! sqlx runs each SQLite connection on a thread of its own, and every statement is a hand-off
//! to that thread and back: two wake-ups through the scheduler for a lookup that SQLite answers
//! in microseconds from its page cache. Under frictionless load two thirds of the verifier's
//! CPU went to those threads, mostly to the scheduler (`finish_task_switch`, futex wake-ups),
//! and the read-only connections re-read pages with `pread` because every commit on the writer
//! connection invalidates their page caches. Here a request locks [`InlineConnection`]'s one
//! rusqlite connection, runs its statement (a `prepare_cached` statement, bound by `$N`), and
//! unlocks it, all on the tokio worker it already runs on. Because the hot path's writes go
//! through the same connection as its reads, that connection's page cache stays warm.
//!
//! Measured against the sqlx-only store, interleaved in one run on a shared 2-core machine
//! (`mamori-bench load --servers empty,sqlite,postgres --operations frictionless --growth 0
//! --window 5 --warmup 1`, two rounds each): at 8 clients 1.5–1.6× the purchases per second,
//! 520–590 µs of server CPU per purchase instead of 850–940, 6 context switches instead of 35;
//! at 64 clients 1.3× the purchases, 610–680 µs instead of 1,050–1,120, 3–5 context switches
//! instead of 36–39, p99 59–67 ms instead of 71–78; at 256 clients (once) 1.6×, p99 201 ms
//! instead of 363.
//!
//! # The write turn
//!
//! SQLite lets one connection write at a time; two connections of one process writing the same
//! file would meet at the file lock, where SQLite's busy handler sleeps and retries,
//! milliseconds at a time. So every write of the process takes the one write turn first
//! ([`InlineConnection::write_turn`], a fair `tokio::sync::Mutex`): the inline writes here,
//! and every body of `db_write!`, which runs on sqlx's writer connection. The order is always
//! the turn, then the connection's lock; never the reverse, and no write body takes the turn
//! again (they call only connection-level helpers), so the two cannot deadlock.
//!
//! # Limits
//!
//! - **Blocking a worker.** A statement blocks its tokio worker while it runs. The statements
//!   routed here are index lookups and one-row writes on a warm cache: microseconds. Another
//!   *process* holding the file's write lock (the `mamori` CLI writing beside a running
//!   verifier) makes an inline write wait in SQLite's busy handler, blocking its worker for as
//!   long as that process's transaction lasts (the CLI's are single short transactions), at
//!   most `busy_timeout`. Reads never wait for a writer in WAL mode. Measured with the CLI
//!   enrolling 200 cards in a loop (each run of it opening the file, checking the migrations
//!   and inserting) beside 8 frictionless clients: no error, and a p99 of 44–100 ms against
//!   83–183 ms for the sqlx-only store in the same minutes.
//! - **Checkpoints.** A commit that fills the WAL past `wal_autocheckpoint` pages copies them
//!   into the database file before it returns; on this connection that I/O (and its `fsync`s)
//!   would run on a tokio worker under the lock, stalling every hot statement. Measured, that
//!   cost about a quarter of the throughput. This connection therefore never checkpoints by
//!   itself: a commit that leaves [`CHECKPOINT_PAGES`] or more in the WAL hands a checkpoint to
//!   sqlx's writer connection (its own thread), which runs it in the write turn, so that it
//!   catches up with the end of the WAL and the next commit starts the WAL over.
//! - **One connection.** Every hot statement of the process queues on one lock. Each holds it
//!   for microseconds, so on the few cores a verifier has the lock is rarely contended (under
//!   64 clients, its contended path was under 1 % of the server's CPU).
//! - Everything off the hot path (merchant changes, challenges, mail, webhooks, the admin API)
//!   stays on sqlx: it is not frequent enough for its hand-offs to matter.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::hooks::Wal;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags, Row, Statement};
use tokio::sync::MutexGuard as TurnGuard;

use super::StoreError;
use super::rows::db;

/// How many pages the WAL may hold before an inline commit asks for a checkpoint: SQLite's own
/// `wal_autocheckpoint` default.
pub(super) const CHECKPOINT_PAGES: i32 = 1000;

/// The connection's page cache, in KiB. SQLite's default (2 MiB) holds a fraction of the
/// indexes the hot path walks once the file has grown; measured under frictionless load, the
/// larger cache took 10–15 % less CPU per purchase at 64 clients. It is a bound, filled only
/// with pages actually read.
const CACHE_KIB: i64 = 64 * 1024;

thread_local! {
    /// The WAL's size in pages after the last commit on this thread, as SQLite's WAL hook
    /// reports it. The hook runs inside `sqlite3_step`, on the thread that commits, and takes no
    /// state of its own (rusqlite takes a plain `fn`), so it leaves the count here for
    /// [`InlineConnection::write`] to read right after the statement.
    static WAL_PAGES: Cell<i32> = const { Cell::new(0) };
}

/// SQLite's WAL hook: notes the WAL's size (see [`WAL_PAGES`]).
fn note_wal_pages(_: &Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.set(pages);
    Ok(())
}

/// How many prepared statements the connection keeps: every statement of the hot path, with
/// room for the ones added later.
const STATEMENT_CACHE: usize = 64;

/// A parameter of an inline statement. `Sync`, so that a write's parameters can wait for the
/// write turn inside a `Send` future.
pub(super) type Param<'a> = &'a (dyn ToSql + Sync);

/// The store's own connection to the SQLite file, used in the requesting task.
#[derive(Debug)]
pub(super) struct InlineConnection {
    /// The connection; locked for one statement at a time, never across an `.await`.
    connection: Mutex<Connection>,
    /// The process's one write turn (see the module docs).
    turn: tokio::sync::Mutex<()>,
    /// Whether a checkpoint was asked for and has not run yet: one at a time is enough.
    checkpoint_pending: AtomicBool,
}

impl InlineConnection {
    /// Opens the database `path` (already created and migrated by sqlx's writer connection) as
    /// the sqlx connections are opened: WAL, `synchronous = NORMAL`, foreign keys,
    /// `busy_timeout`. With `in_memory`, `path` is the shared-cache name of the in-memory
    /// database sqlx opened (`sqlite::memory:`), which this connection joins.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database cannot be opened or configured.
    pub(super) fn open(
        path: &Path,
        in_memory: bool,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        // No CREATE: the writer connection made the file, and a path that went missing since
        // must fail rather than open an empty database beside it. NO_MUTEX: the `Mutex` here
        // already serialises every use.
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if in_memory {
            // The flags sqlx opens an in-memory database with: its name is then a shared-cache
            // name, not a file.
            flags |= OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
        }
        let connection = Connection::open_with_flags(path, flags).map_err(db)?;
        connection.busy_timeout(busy_timeout).map_err(db)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        // The durability the sqlx connections have (see `super::sqlite`).
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(db)?;
        // Checkpoints run on the writer connection instead (see the module docs): no automatic
        // one here, only the count of WAL pages each commit leaves.
        connection
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db)?;
        connection.wal_hook(Some(note_wal_pages));
        // Negative: KiB rather than pages.
        connection
            .pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(db)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self {
            connection: Mutex::new(connection),
            turn: tokio::sync::Mutex::new(()),
            checkpoint_pending: AtomicBool::new(false),
        })
    }

    /// Waits for the process's one write turn; every write holds it until it has committed.
    pub(super) async fn write_turn(&self) -> TurnGuard<'_, ()> {
        self.turn.lock().await
    }

    /// The first row `sql` answers with `params`, read by `decode`; `None` when it answers none.
    ///
    /// # Errors
    ///
    /// What SQLite or `decode` return.
    pub(super) fn read<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        decode: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(sql).map_err(db)?;
        bind(&mut statement, params)?;
        let mut rows = statement.raw_query();
        match rows.next().map_err(db)? {
            Some(row) => decode(row).map(Some),
            None => Ok(None),
        }
    }

    /// Runs the one self-committing statement `sql` with `params` in the write turn; answers
    /// how many rows it changed, and `true` when its commit left the WAL at
    /// [`CHECKPOINT_PAGES`] or more and no checkpoint is pending: the caller then has the WAL
    /// checkpointed and calls [`Self::checkpoint_done`].
    ///
    /// # Errors
    ///
    /// What SQLite returns; [`StoreError::Conflict`] for a unique violation.
    pub(super) async fn write(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<(u64, bool), StoreError> {
        let _turn = self.write_turn().await;
        WAL_PAGES.set(0);
        let changed = {
            let connection = self.lock();
            let mut statement = connection.prepare_cached(sql).map_err(db)?;
            bind(&mut statement, params)?;
            statement.raw_execute().map_err(db)?
        };
        // usize → u64 never truncates on the platforms Rust supports.
        let changed = u64::try_from(changed).unwrap_or(u64::MAX);
        let checkpoint = WAL_PAGES.get() >= CHECKPOINT_PAGES
            && !self.checkpoint_pending.swap(true, Ordering::AcqRel);
        Ok((changed, checkpoint))
    }

    /// Records that the checkpoint [`Self::write`] asked for has run, so that the next commit
    /// past [`CHECKPOINT_PAGES`] asks again.
    pub(super) fn checkpoint_done(&self) {
        self.checkpoint_pending.store(false, Ordering::Release);
    }

    /// The connection, for one statement. A statement that panicked left nothing half done
    /// that the next one would see (its statement was reset as it dropped, and a failed
    /// self-committing statement rolls back by itself), so a poisoned lock is taken as is.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Binds `params` to `statement` by their `$N` names. SQLite numbers parameters in the order
/// they first appear in the text (`$4` before `$2` makes `$4` the second), where PostgreSQL and
/// sqlx's binds number them by `N`; binding by name keeps the one SQL text of `super::sql`.
///
/// # Errors
///
/// [`StoreError::Database`] unless the statement's parameters are exactly `$1` to `$n` for the
/// `n` values given.
fn bind(statement: &mut Statement<'_>, params: &[Param<'_>]) -> Result<(), StoreError> {
    let count = statement.parameter_count();
    if count != params.len() {
        return Err(StoreError::Database(format!(
            "statement takes {count} parameters, {} given",
            params.len()
        )));
    }
    // Names are distinct, `count` of them, each in 1..=count: every value is bound once.
    for index in 1..=count {
        let value = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|number| number.parse::<usize>().ok())
            .and_then(|number| params.get(number.checked_sub(1)?))
            .ok_or_else(|| {
                StoreError::Database(format!("statement parameter {index} is not $1 to ${count}"))
            })?;
        statement.raw_bind_parameter(index, value).map_err(db)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> (tempfile::TempDir, InlineConnection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inline.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (a INTEGER, b TEXT UNIQUE)")
            .unwrap();
        let inline = InlineConnection::open(&path, false, Duration::from_secs(1)).unwrap();
        (dir, inline)
    }

    /// `$2` appearing before `$1` still gets the second value: binding follows the names.
    #[tokio::test]
    async fn parameters_bind_by_their_number_not_their_position() {
        let (_dir, inline) = connection();
        let (changed, _) = inline
            .write("INSERT INTO t (b, a) VALUES ($2, $1)", &[&7_i64, &"seven"])
            .await
            .unwrap();
        assert_eq!(changed, 1);
        let read = inline
            .read(
                "SELECT a, b FROM t WHERE b = $2 AND a = $1",
                &[&7_i64, &"seven"],
                |row| {
                    Ok((
                        row.get::<_, i64>(0).map_err(db)?,
                        row.get::<_, String>(1).map_err(db)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(read, Some((7, "seven".to_owned())));
    }

    #[tokio::test]
    async fn a_parameter_count_that_does_not_match_is_refused() {
        let (_dir, inline) = connection();
        let missing = inline.read("SELECT a FROM t WHERE a = $1 AND b = $2", &[&1_i64], |_| {
            Ok(())
        });
        assert!(
            matches!(missing, Err(StoreError::Database(_))),
            "{missing:?}"
        );
        let gap = inline.read(
            "SELECT a FROM t WHERE a = $1 OR a = $3",
            &[&1_i64, &2_i64],
            |_| Ok(()),
        );
        assert!(matches!(gap, Err(StoreError::Database(_))), "{gap:?}");
    }

    #[tokio::test]
    async fn a_unique_violation_is_a_conflict() {
        let (_dir, inline) = connection();
        let insert = "INSERT INTO t (a, b) VALUES ($1, $2)";
        inline.write(insert, &[&1_i64, &"one"]).await.unwrap();
        let again = inline.write(insert, &[&2_i64, &"one"]).await;
        assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    }

    /// A commit that leaves the WAL at [`CHECKPOINT_PAGES`] asks for a checkpoint, once until
    /// it is done; after it the WAL starts over, and small commits ask for none.
    #[tokio::test]
    async fn a_full_wal_asks_for_one_checkpoint_at_a_time() {
        let (dir, inline) = connection();
        let insert = "INSERT INTO t (a, b) VALUES ($1, $2)";
        // A 4 KiB value fills at least a page per commit.
        let filler = "x".repeat(4096);
        let mut commits = 0;
        loop {
            commits += 1;
            assert!(commits <= CHECKPOINT_PAGES, "no checkpoint asked for");
            let key = format!("{commits}{filler}");
            let (_, checkpoint) = inline.write(insert, &[&commits, &key]).await.unwrap();
            if checkpoint {
                break;
            }
        }
        let (_, again) = inline.write(insert, &[&-1, &"pending"]).await.unwrap();
        assert!(!again, "a second checkpoint while one is pending");

        let checkpointer = Connection::open(dir.path().join("inline.db")).unwrap();
        let (busy, log, copied): (i64, i64, i64) = checkpointer
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .unwrap();
        assert_eq!((busy, copied), (0, log));
        inline.checkpoint_done();
        let (_, after) = inline.write(insert, &[&-2, &"small"]).await.unwrap();
        assert!(!after, "the WAL did not start over");
    }
}
