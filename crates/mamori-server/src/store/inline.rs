//! SQLite's hot path: the statements of a frictionless purchase, read in the requesting task on
//! read connections of the store's own and written by one writer thread that commits
//! concurrent requests' writes together, instead of on sqlx's connection threads.
//!
//! sqlx runs each SQLite connection on a thread of its own, and every statement is a hand-off
//! to that thread and back: two wake-ups through the scheduler for a lookup that SQLite answers
//! in microseconds. Here the hot path has its own rusqlite connections, each statement a
//! `prepare_cached` statement bound by `$N` (see [`bind`]):
//!
//! - **Reads** ([`HotPath::read`]) run inline, on the tokio worker the request already runs
//!   on, on one of a few read-only connections (one per core and one more, so that every
//!   worker finds a free one and reads run on every core at once). A commit empties a
//!   reader's page cache (SQLite keeps no page of a snapshot that changed), so a reader reads
//!   again, with `pread`, each page it needs after each batch rather than after each write.
//!   The file is not mapped into memory (`mmap_size`): the file grows with every
//!   checkpoint, and each reader then remaps it; measured, that cost more CPU per purchase
//!   (unmapping, page faults) than the copies it saved.
//! - **Writes** ([`HotPath::write`]: the authentication's insert, the device step's
//!   self-committing update) are sent, with owned parameters, to a thread that owns the write
//!   connection. The thread takes everything queued (at most [`MAX_BATCH`]), runs it in one
//!   transaction, each write in a savepoint of its own, commits once, and only then answers
//!   each write. One commit per batch instead of one per statement: each page the batch
//!   touched (the table's leaf, each index's leaf) is appended to the WAL once, the file lock
//!   is taken once, and the readers' page caches are invalidated once. Writes queue while a
//!   batch commits, so the batches grow with the load and no write waits for a timer.
//!
//! # What a batch promises
//!
//! - A write is answered only after the `COMMIT` of its batch returned: an answered write is
//!   in the WAL, and survives the process being killed (see `super::sqlite` for power loss).
//! - A write that fails (a unique violation is [`StoreError::Conflict`]) is rolled back to its
//!   savepoint and answered with its error; the others of its batch still commit.
//! - If `BEGIN` or `COMMIT` fails, or a savepoint cannot be rolled back, every write of the
//!   batch is answered with that error and nothing of it is kept. So too when a write's error
//!   rolls back the whole transaction (`SQLITE_FULL`, an I/O error, a trigger's
//!   `RAISE(ROLLBACK)`): every write is answered with that write's error.
//! - A panic in a batch answers each of its writes with an error and keeps none of them; the
//!   thread goes on with the next batch. Each batch starts outside any transaction: one left
//!   open (by a panic, or a `COMMIT` and then a `ROLLBACK` that failed) is rolled back first,
//!   or, if that fails, the connection is closed and opened again. Should the thread end all
//!   the same, the store's `ping` fails, so that readiness reports it.
//! - A request dropped after its write was sent (its client went away) does not withdraw it:
//!   the write commits unanswered, as a statement already sent to a database server would.
//!   Dropping the store waits for the writer thread to commit what is queued and to close its
//!   connection, so a write sent just before the process shuts down is not lost. Nothing can
//!   hold the write turn then (a turn borrows the store), so the wait is that of the last
//!   batches: microseconds, or at most `busy_timeout` each while another process holds the
//!   file's write lock. A process killed, or exiting without dropping the store, loses the
//!   writes not yet committed.
//!
//! # The write turn
//!
//! SQLite lets one connection write at a time; two connections of one process writing the same
//! file would meet at the file lock, where SQLite's busy handler sleeps and retries,
//! milliseconds at a time. So every write of the process takes the one write turn first
//! ([`HotPath::write_turn`], a fair `tokio::sync::Mutex`): each batch, on the writer thread
//! (with `blocking_lock`, outside the runtime), and every body of `db_write!`, which runs on
//! sqlx's writer connection. The order is always the turn, then a connection; readers never
//! take the turn; and no write body takes the turn again or sends a hot write (they call only
//! connection-level helpers), so nothing waits for a turn it holds. The writer thread takes
//! the turn after its first write arrives and drains the queue inside it, so writes that
//! arrive while a `db_write!` body holds the turn join that batch.
//!
//! A `db_write!` body dropped mid-transaction (its request cancelled) releases the turn while
//! sqlx's `ROLLBACK` is still queued on its connection's thread: the next batch's `BEGIN
//! IMMEDIATE` then finds the file's write lock held and waits in SQLite's busy handler (at
//! most `busy_timeout`) until the rollback has run, rather than failing.
//!
//! # Checkpoints
//!
//! A commit that leaves [`CHECKPOINT_PAGES`] or more in the WAL is followed, on the writer
//! thread and still in the turn, by a `PASSIVE` checkpoint: in the turn, because a checkpoint
//! running beside a stream of commits never catches up with the end of the WAL, and SQLite
//! starts the WAL over from its beginning only when one has (measured without the turn, the WAL
//! grew to 900 MB in 15 seconds of frictionless load). Its writes and `fsync`s delay the next
//! batch, never a tokio worker: reads go on meanwhile. The write connection's own automatic
//! checkpoints are off.
//!
//! # Measured
//!
//! Against the store where every hot statement ran inline on one connection behind one mutex,
//! interleaved in the same minutes on a 2-core machine shared with other builds
//! (`mamori-bench load --servers empty,sqlite --operations frictionless --clients 8,64
//! --growth 0 --window 5 --warmup 1`, three rounds; the first two on a quiet machine, the
//! empty handler at 60,000–73,000 requests/s):
//!
//! - 64 clients: 1.24–1.62× the purchases per second (3,180 against 1,963 at best: 5.2 % of
//!   the empty handler instead of 2.8 %), 370–420 µs of server CPU per purchase instead of
//!   444–503, 2 context switches instead of 3–5; p99 33 ms instead of 41 in the quietest
//!   round, 95 against 40 and 158 against 268 in the other two;
//! - 8 clients: 1.01–1.24× the purchases, 397–491 µs of CPU instead of 396–440;
//! - 256 clients (once): 1.28×, 330 µs of CPU instead of 376, p99 168 ms instead of 181;
//! - written to disk: 53–65 KB per purchase instead of 107–109 KB (the server's
//!   `write_bytes`, WAL and checkpoints), because each batch writes a page it shares once.
//!   Most pages are not shared: the authentications' random ids and the history indexes put
//!   each write on leaves of its own.
//!
//! What limits next, from a profile at 64 clients: the writer thread is about 38 % of the
//! verifier's CPU, most of it `pwrite` of WAL frames (16 % of all samples) and the
//! checkpoints' `fsync` (4.5 %); the readers' `pread` of pages their emptied caches need again
//! is 9.5 %, and allocation (SQLite's page cache refills among it) about 8 %.
//!
//! # Limits
//!
//! - **Another process.** The `mamori` CLI writing beside a running verifier holds the file's
//!   write lock for its short transactions; a batch's `BEGIN IMMEDIATE` then waits in SQLite's
//!   busy handler, at most `busy_timeout`. That blocks only the writer thread (and, behind the
//!   turn, the other writes), never a tokio worker. Reads never wait for a writer in WAL mode.
//!   Measured once with the CLI enrolling 200 cards in a loop (each run of it opening the
//!   file, checking the migrations and inserting) beside 8 frictionless clients: no error,
//!   1,674 purchases/s with a p99 of 25 ms, against 1,001/s and 86 ms for the single inline
//!   connection in the same minutes.
//! - **Blocking a worker.** A read blocks its tokio worker while it runs: index lookups on a
//!   warm file, tens of microseconds (the device step's one read of the card's history, the
//!   longest, about 50 µs with a hundred purchases on the card).
//! - **In-memory databases** (`sqlite::memory:`, tests only) are one shared cache, in which a
//!   connection reading a table that another is writing gets `SQLITE_LOCKED` at once instead
//!   of waiting. There the hot path opens a single connection, which the writer thread and the
//!   reads share (a read waits for a batch to commit). sqlx's own connections on that cache
//!   wait for ours with `sqlite3_unlock_notify`; ours do not wait for theirs, so a hot read
//!   that meets a `db_write!` transaction there fails, as it did before the writer thread, and
//!   so does a batch whose `BEGIN IMMEDIATE` meets one whose `ROLLBACK` is still queued (the
//!   busy handler that makes a file's batch wait is not asked on a shared cache). A write of a
//!   batch likewise fails at once with `SQLITE_LOCKED` when one of sqlx's read connections is
//!   reading its table.
//! - Everything off the hot path (merchant changes, challenges, mail, webhooks, the admin API)
//!   stays on sqlx: it is not frequent enough for its hand-offs to matter.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::hooks::Wal;
use rusqlite::types::{ToSql, ToSqlOutput, Value};
use rusqlite::{Connection, OpenFlags, Statement};
use tokio::sync::{Mutex as TurnMutex, MutexGuard as TurnGuard, oneshot};

use super::StoreError;
use super::rows::{NamedRow, db};

/// How many pages the WAL may hold before the writer thread checkpoints it: SQLite's own
/// `wal_autocheckpoint` default.
const CHECKPOINT_PAGES: i32 = 1000;

/// The most writes one batch commits. A bound on how long the turn is held at once (a write
/// takes tens of microseconds), far above the concurrent requests of a verifier's few cores.
const MAX_BATCH: usize = 256;

/// The writer connection's page cache, in KiB. SQLite's default (2 MiB) holds a fraction of
/// the indexes the hot path walks once the file has grown; measured under frictionless load
/// when every hot statement still ran on one connection, the larger cache took 10–15 % less CPU
/// per purchase at 64 clients. It is a bound, filled only with pages actually read, and the
/// writer's own commits leave it valid, so it stays warm from batch to batch.
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// Each read connection's page cache, in KiB. Another connection's commit empties a reader's
/// cache, so under load a reader holds only the pages it read since the last batch, far below
/// any bound; the writer's 64 MiB would buy nothing there, and between bursts of writes would
/// let each of the (cores + 1) readers grow to it (over 1 GiB on a 16-core host). Four times
/// SQLite's default, so that a quiet verifier's reads of the hot indexes stay in memory: a
/// judgement, not a measurement.
const READER_CACHE_KIB: i64 = 8 * 1024;

/// How many prepared statements each connection keeps: every statement of the hot path, with
/// room for the ones added later.
const STATEMENT_CACHE: usize = 64;

/// The savepoint each write of a batch runs in.
const SAVEPOINT: &str = "SAVEPOINT hot_write";
/// Undoes a failed write's changes; the savepoint stays open until released.
const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO hot_write";
/// Closes a write's savepoint, keeping its changes in the batch's transaction.
const RELEASE_SAVEPOINT: &str = "RELEASE hot_write";

thread_local! {
    /// The WAL's size in pages after the last commit on this thread, as SQLite's WAL hook
    /// reports it. The hook runs inside `sqlite3_step`, on the thread that commits (the writer
    /// thread), and takes no state of its own (rusqlite takes a plain `fn`), so it leaves the
    /// count here for [`write_batches`] to read right after the commit.
    static WAL_PAGES: Cell<i32> = const { Cell::new(0) };
}

/// SQLite's WAL hook: notes the WAL's size (see [`WAL_PAGES`]).
fn note_wal_pages(_: &Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.set(pages);
    Ok(())
}

/// A parameter of a hot statement. `Sync`, so that a list of them borrowed by a statement that
/// also awaits a write's answer keeps the request's future `Send`.
pub(super) type Param<'a> = &'a (dyn ToSql + Sync);

/// A write on its way to the writer thread.
struct Write {
    /// The statement: one of `super::sql`'s constants.
    sql: &'static str,
    /// Its parameters, `$1` first, owned: the request may be gone by the time it runs.
    params: Vec<Value>,
    /// Where the answer goes once the batch has committed: how many rows the write changed.
    answer: oneshot::Sender<Result<u64, StoreError>>,
}

/// The hot path's connections to the SQLite file: read connections used in the requesting
/// task, the writer thread's queue, and the process's one write turn.
#[derive(Debug)]
pub(super) struct HotPath {
    /// Read-only connections, each locked for one statement at a time, never across an
    /// `.await`. On an in-memory database, the writer's one connection (see the module docs).
    readers: Box<[Arc<Mutex<Connection>>]>,
    /// Which reader the next read tries first, so that concurrent reads spread out.
    next_reader: AtomicUsize,
    /// The writer thread's queue. The thread ends when the last sender is dropped with the
    /// store.
    writes: Sender<Write>,
    /// The writer thread, joined on drop. Declared after `writes`, so dropped after it: the
    /// queue is closed when the join starts, and the thread ends once it has committed what
    /// was queued.
    _writer_thread: JoinOnDrop,
    /// Whether the writer thread still runs and can write: cleared as it ends, however it
    /// ends, or when a stuck connection could not be closed (see [`leave_transaction`]), so
    /// that [`HotPath::check_writer`] can tell a verifier whose hot writes would all fail.
    writer_healthy: Arc<AtomicBool>,
    /// The process's one write turn (see the module docs).
    turn: Arc<TurnMutex<()>>,
}

/// Where and how the writer thread opens its connection, again if it has to (see
/// [`leave_transaction`]).
#[derive(Debug)]
struct WriterOptions {
    /// The file, or the in-memory database's shared-cache name.
    path: PathBuf,
    /// Whether `path` names an in-memory database.
    in_memory: bool,
    /// How long a statement waits for another connection's write lock.
    busy_timeout: Duration,
}

/// A thread joined when this is dropped.
#[derive(Debug)]
struct JoinOnDrop(Option<JoinHandle<()>>);

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            // A panic that ended the thread was reported as it happened (by the panic hook and
            // by `check_writer`); there is nothing left to do with it here.
            let _ = thread.join();
        }
    }
}

/// Clears the writer thread's running flag when the thread ends, by returning or unwinding.
struct ClearOnExit(Arc<AtomicBool>);

impl Drop for ClearOnExit {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl HotPath {
    /// Opens the database `path` (already created and migrated by sqlx's writer connection) as
    /// the sqlx connections are opened (WAL, `synchronous = NORMAL`, foreign keys,
    /// `busy_timeout`) and starts the writer thread. With `in_memory`, `path` is the
    /// shared-cache name of the in-memory database sqlx opened (`sqlite::memory:`), which one
    /// connection joins for reads and writes alike.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database cannot be opened or configured, or the
    /// thread cannot be started.
    pub(super) fn open(
        path: &Path,
        in_memory: bool,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = WriterOptions {
            path: path.to_owned(),
            in_memory,
            busy_timeout,
        };
        let writer = Arc::new(Mutex::new(open_writer(&options)?));

        let readers = if in_memory {
            vec![Arc::clone(&writer)]
        } else {
            // One per core (tokio's default worker count) and one more, for a read that finds
            // every other busy.
            let count = std::thread::available_parallelism().map_or(1, NonZeroUsize::get) + 1;
            (0..count)
                .map(|_| {
                    open_connection(path, false, true, busy_timeout)
                        .map(|reader| Arc::new(Mutex::new(reader)))
                })
                .collect::<Result<_, _>>()?
        };

        let turn = Arc::new(TurnMutex::new(()));
        let (writes, queue) = mpsc::channel();
        let thread_turn = Arc::clone(&turn);
        let writer_healthy = Arc::new(AtomicBool::new(true));
        let running = ClearOnExit(Arc::clone(&writer_healthy));
        let healthy = Arc::clone(&writer_healthy);
        let writer_thread = std::thread::Builder::new()
            .name("mamori-sqlite-writer".into())
            .spawn(move || {
                let _running = running;
                write_batches(&writer, &options, &queue, &thread_turn, &healthy);
            })
            .map_err(|error| StoreError::Database(format!("writer thread: {error}")))?;
        Ok(Self {
            readers: readers.into_boxed_slice(),
            next_reader: AtomicUsize::new(0),
            writes,
            _writer_thread: JoinOnDrop(Some(writer_thread)),
            writer_healthy,
            turn,
        })
    }

    /// Whether the writer thread still takes writes, for readiness: a verifier whose hot
    /// writes all fail is not ready, however well its other writes go.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the thread has ended (it ends early only by a panic
    /// outside a batch; a panic in a batch fails that batch alone), or its connection was
    /// stuck in a transaction and could not be closed.
    pub(super) fn check_writer(&self) -> Result<(), StoreError> {
        if self.writer_healthy.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(writer_stopped())
        }
    }

    /// Marks the writer thread unhealthy, as its end does: for the store's readiness test.
    #[cfg(test)]
    pub(super) fn mark_writer_unhealthy(&self) {
        self.writer_healthy.store(false, Ordering::Release);
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
        decode: impl FnOnce(&NamedRow<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let connection = self.reader();
        let mut statement = connection.prepare_cached(sql).map_err(db)?;
        bind(&mut statement, params)?;
        let mut rows = statement.raw_query();
        match rows.next().map_err(db)? {
            Some(row) => decode(&NamedRow::new(row)).map(Some),
            None => Ok(None),
        }
    }

    /// Sends the write `sql` with `params` to the writer thread; the future answers, once its
    /// batch has committed, how many rows it changed. The write is queued by this call, before
    /// the future is first polled, and commits even if the future is dropped: dropping the
    /// store waits for the writes already queued (see the module docs).
    ///
    /// # Errors
    ///
    /// What SQLite returns; [`StoreError::Conflict`] for a unique violation; the batch's error
    /// when its transaction failed as a whole (see the module docs).
    pub(super) fn write(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + use<> {
        let queued = params
            .iter()
            .map(|param| owned(*param))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|params| {
                let (answer, answered) = oneshot::channel();
                self.writes
                    .send(Write {
                        sql,
                        params,
                        answer,
                    })
                    .map_err(|_| writer_stopped())?;
                Ok(answered)
            });
        async move { queued?.await.map_err(|_| writer_stopped())? }
    }

    /// A read connection: the first free one from where the last read started, or, when every
    /// one is busy, the next one's turn. A statement that panicked left nothing half done that
    /// the next one would see (it was reset as it dropped), so a poisoned lock is taken as is.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let count = self.readers.len();
        for offset in 0..count {
            match self.readers[(start + offset) % count].try_lock() {
                Ok(connection) => return connection,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.readers[start % count])
    }
}

/// Opens one connection of the hot path: read-only, or for writing; on the file `path`, or
/// joining the in-memory database of that shared-cache name.
fn open_connection(
    path: &Path,
    in_memory: bool,
    read_only: bool,
    busy_timeout: Duration,
) -> Result<Connection, StoreError> {
    // No CREATE: the writer connection made the file, and a path that went missing since must
    // fail rather than open an empty database beside it. NO_MUTEX: a `Mutex` here already
    // serialises every use. Read-only, so that a write sent to a reader by mistake fails
    // instead of taking the write lock beside the writer thread.
    let access = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let mut flags = access | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if in_memory {
        // The flags sqlx opens an in-memory database with: its name is then a shared-cache
        // name, not a file.
        flags |= OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
    }
    let connection = Connection::open_with_flags(path, flags).map_err(db)?;
    connection.busy_timeout(busy_timeout).map_err(db)?;
    let cache_kib = if read_only {
        READER_CACHE_KIB
    } else {
        WRITER_CACHE_KIB
    };
    // Negative: KiB rather than pages.
    connection
        .pragma_update(None, "cache_size", -cache_kib)
        .map_err(db)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

/// Opens the writer thread's connection, as the sqlx connections are opened (WAL,
/// `synchronous = NORMAL`, foreign keys, `busy_timeout`), with the WAL hook that counts pages
/// for [`checkpoint`] in place of automatic checkpoints.
fn open_writer(options: &WriterOptions) -> Result<Connection, StoreError> {
    let writer = open_connection(
        &options.path,
        options.in_memory,
        false,
        options.busy_timeout,
    )?;
    writer
        .pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    // The durability the sqlx connections have (see `super::sqlite`).
    writer
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(db)?;
    writer
        .pragma_update(None, "foreign_keys", "ON")
        .map_err(db)?;
    // Checkpoints run after a batch instead (see the module docs): no automatic one, only
    // the count of WAL pages each commit leaves.
    writer
        .pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(db)?;
    writer.wal_hook(Some(note_wal_pages));
    Ok(writer)
}

/// The writer thread: commits what is queued, batch after batch, until the store is dropped.
///
/// A panic in a batch (a bug in SQLite's bindings, a tracing subscriber that panics) would
/// otherwise end the thread and with it every later hot write, so each batch runs under
/// `catch_unwind`: its writes are answered with an error, its transaction rolled back, and the
/// thread goes on with the next batch. The connection was only borrowed by the batch, and
/// [`leave_transaction`] puts it back outside any transaction, so nothing half done carries
/// over. The report of a panic and the checkpoint after a batch log, so they run under their
/// own `catch_unwind` too: a panicking tracing subscriber must not end the thread either.
fn write_batches(
    writer: &Mutex<Connection>,
    options: &WriterOptions,
    queue: &Receiver<Write>,
    turn: &TurnMutex<()>,
    healthy: &AtomicBool,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = queue.recv() {
        #[cfg(test)]
        tests::stop_if_asked(&first);
        // The turn before the rest of the queue: what arrives while a `db_write!` body holds
        // the turn joins this batch.
        let _turn = turn.blocking_lock();
        batch.push(first);
        batch.extend(queue.try_iter().take(MAX_BATCH - 1));
        let mut connection = lock(writer);
        #[cfg(test)]
        tests::watch_waits_if_asked(&connection, &batch);
        let answers = catch_unwind(AssertUnwindSafe(|| {
            leave_transaction(&mut connection, options, healthy);
            WAL_PAGES.set(0);
            commit(&connection, &batch)
        }))
        .unwrap_or_else(|panic| {
            // Now rather than at the next batch, and before logging: an open transaction holds
            // the file's write lock, which `db_write!` bodies would wait for meanwhile.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                leave_transaction(&mut connection, options, healthy);
            }));
            // The report is lost if logging panics too; the writes are refused either way.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                tracing::error!(
                    panic = panic_message(&*panic),
                    writes = batch.len(),
                    "a batch of the SQLite writer thread panicked; its writes are refused"
                );
            }));
            let detail = "the SQLite writer thread panicked in this write's batch";
            batch
                .iter()
                .map(|_| Err(StoreError::Database(detail.into())))
                .collect()
        });
        for (write, answer) in batch.drain(..).zip(answers) {
            // A request that went away does not need its answer; its write is committed.
            let _ = write.answer.send(answer);
        }
        if WAL_PAGES.get() >= CHECKPOINT_PAGES {
            // A checkpoint that panics is tried again after the next batch, like one that fails.
            let _ = catch_unwind(AssertUnwindSafe(|| checkpoint(&connection)));
        }
    }
}

/// A panic's message, when it has one.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// Puts the writer connection outside any transaction before a batch begins. A batch that
/// panicked, or whose `COMMIT` and then `ROLLBACK` both failed, can leave its transaction open:
/// every later `BEGIN IMMEDIATE` would fail ("cannot start a transaction within a
/// transaction") while the connection holds the file's write lock, so every `db_write!` would
/// fail too, after the busy timeout. The transaction is rolled back; if even that fails, the
/// connection is closed (which discards the transaction and releases the lock) and opened
/// again. If it cannot be opened again, the old one stays, the batch's `BEGIN` fails, and the
/// next batch tries again. If the stuck connection cannot be closed, it may still hold the
/// lock that every later batch would wait for, so `healthy` is cleared and readiness reports
/// the writer as failed.
fn leave_transaction(connection: &mut Connection, options: &WriterOptions, healthy: &AtomicBool) {
    if connection.is_autocommit() {
        return;
    }
    let Err(error) = run(connection, "ROLLBACK") else {
        return;
    };
    tracing::error!(%error, "the SQLite writer's open transaction cannot be rolled back; reopening");
    match open_writer(options) {
        Ok(fresh) => {
            let stuck = std::mem::replace(connection, fresh);
            if let Err((_, error)) = stuck.close() {
                healthy.store(false, Ordering::Release);
                tracing::error!(%error, "closing the stuck SQLite writer connection failed");
            }
        }
        Err(error) => tracing::error!(%error, "reopening the SQLite writer connection failed"),
    }
}

/// Runs `batch` in one transaction, each write in its savepoint; the answer of each write, in
/// order (see the module docs for what a failure does).
fn commit(connection: &Connection, batch: &[Write]) -> Vec<Result<u64, StoreError>> {
    let committed = run(connection, "BEGIN IMMEDIATE")
        .map_err(|error| error.to_string())
        .and_then(|()| {
            batch
                .iter()
                .map(|write| write_in_savepoint(connection, write))
                .collect::<Result<Vec<_>, _>>()
        })
        .and_then(|answers| {
            run(connection, "COMMIT")
                .map(|()| answers)
                .map_err(|error| error.to_string())
        });
    committed.unwrap_or_else(|detail| {
        // A failed COMMIT leaves the transaction open; an error that rolled it back already
        // (a full disk, say) leaves none. A ROLLBACK that fails leaves it to the next batch's
        // `leave_transaction`.
        if !connection.is_autocommit() {
            if let Err(rollback) = run(connection, "ROLLBACK") {
                tracing::error!(error = %rollback, "rolling back a failed batch failed");
            }
        }
        batch
            .iter()
            .map(|_| Err(StoreError::Database(detail.clone())))
            .collect()
    })
}

/// Runs one write in a savepoint of the batch's transaction: its answer, or what fails the
/// whole batch: an error opening, undoing or releasing its savepoint, or the write's own error
/// when SQLite rolled back the whole transaction with it (`SQLITE_FULL`, an I/O error,
/// `RAISE(ROLLBACK, …)`), which takes the savepoint with it.
fn write_in_savepoint(
    connection: &Connection,
    write: &Write,
) -> Result<Result<u64, StoreError>, String> {
    run(connection, SAVEPOINT).map_err(|error| error.to_string())?;
    #[cfg(test)]
    tests::panic_if_asked(write);
    let answer = execute(connection, write.sql, &write.params);
    if let Err(error) = &answer {
        if connection.is_autocommit() {
            return Err(match error {
                StoreError::Database(detail) => detail.clone(),
                other => other.to_string(),
            });
        }
        run(connection, ROLLBACK_TO_SAVEPOINT).map_err(|error| error.to_string())?;
    }
    run(connection, RELEASE_SAVEPOINT).map_err(|error| error.to_string())?;
    Ok(answer)
}

/// Runs one write; how many rows it changed.
fn execute(connection: &Connection, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(db)?;
    bind(&mut statement, params)?;
    let changed = statement.raw_execute().map_err(db)?;
    // usize → u64 never truncates on the platforms Rust supports.
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

/// Runs a statement without parameters or rows (`BEGIN`, a savepoint), prepared once.
fn run(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.raw_execute().map(drop)
}

/// Copies the WAL into the database file, as far as no reader still needs it; a failure is
/// logged, and the next commit past [`CHECKPOINT_PAGES`] tries again.
fn checkpoint(connection: &Connection) {
    if let Err(error) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "WAL checkpoint failed");
    }
}

/// `param` as an owned value, for the writer thread.
fn owned(param: Param<'_>) -> Result<Value, StoreError> {
    match param.to_sql().map_err(db)? {
        ToSqlOutput::Borrowed(value) => {
            Value::try_from(value).map_err(|error| StoreError::Database(error.to_string()))
        }
        ToSqlOutput::Owned(value) => Ok(value),
        // Zero-filled blobs and pointers, of rusqlite features this crate does not enable.
        _ => Err(StoreError::Database(
            "a parameter that is not a value".into(),
        )),
    }
}

/// The answer of a write whose writer thread is gone: it can only have panicked, as the store
/// that owns its queue is still there.
fn writer_stopped() -> StoreError {
    StoreError::Database("the SQLite writer thread stopped".into())
}

/// A connection of the hot path. A statement that panicked left nothing half done that the
/// next one would see, so a poisoned lock is taken as is.
fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Binds `params` to `statement` by their `$N` names. SQLite numbers parameters in the order
/// they first appear in the text (`$4` before `$2` makes `$4` the second), where PostgreSQL and
/// sqlx's binds number them by `N`; binding by name keeps the one SQL text of `super::sql`.
///
/// # Errors
///
/// [`StoreError::Database`] unless the statement's parameters are exactly `$1` to `$n` for the
/// `n` values given.
fn bind<P: ToSql>(statement: &mut Statement<'_>, params: &[P]) -> Result<(), StoreError> {
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
pub(super) mod tests {
    use super::*;

    const INSERT: &str = "INSERT INTO t (a, b) VALUES ($1, $2)";
    /// A write of this statement makes its batch panic, once its savepoint is open.
    const PANICS: &str = "INSERT INTO t (a, b) VALUES ($1, 'panics')";
    /// A write of this statement makes the writer thread panic outside any batch, which ends it.
    const STOPS: &str = "INSERT INTO t (a, b) VALUES ($1, 'stops')";

    /// Panics in a batch, for a write of [`PANICS`].
    pub(super) fn panic_if_asked(write: &Write) {
        assert!(write.sql != PANICS, "a write made to panic by a test");
    }

    /// Panics outside a batch, for a write of [`STOPS`].
    pub(super) fn stop_if_asked(write: &Write) {
        assert!(write.sql != STOPS, "a writer thread made to stop by a test");
    }

    /// A write of this statement gives the writer's connection, from its batch on, a busy
    /// handler that tells [`WRITER_WAITS`] each time the connection meets another connection's
    /// write lock. It stands in for the busy timeout's handler (a connection has one), and waits
    /// as that does; that the writer is given its busy timeout is checked on its own.
    const WAITS: &str = "INSERT INTO t (a, b) VALUES ($1, 'waits')";

    /// Rung by the handler [`WAITS`] installs, each time it is asked to wait.
    static WRITER_WAITS: tokio::sync::Notify = tokio::sync::Notify::const_new();

    /// Installs the handler of [`WAITS`] when `batch` holds such a write.
    pub(super) fn watch_waits_if_asked(connection: &Connection, batch: &[Write]) {
        if batch.iter().any(|write| write.sql == WAITS) {
            connection.busy_handler(Some(note_wait)).unwrap();
        }
    }

    /// The busy handler of [`WAITS`]: rings [`WRITER_WAITS`], then waits and asks SQLite to
    /// try again, for at most about five seconds, as the hot path's busy timeout in these tests.
    fn note_wait(earlier_calls: i32) -> bool {
        WRITER_WAITS.notify_one();
        std::thread::sleep(Duration::from_millis(1));
        earlier_calls < 5_000
    }

    /// A file with one table, `b` unique, and the hot path on it; the path for a second
    /// connection of the test's own.
    fn hot_path() -> (tempfile::TempDir, std::path::PathBuf, HotPath) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inline.db");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (a INTEGER, b TEXT UNIQUE)")
            .unwrap();
        drop(setup);
        let hot = HotPath::open(&path, false, Duration::from_secs(5)).unwrap();
        (dir, path, hot)
    }

    fn count(connection: &Connection) -> i64 {
        connection
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    /// `$2` appearing before `$1` still gets the second value: binding follows the names.
    #[tokio::test]
    async fn parameters_bind_by_their_number_not_their_position() {
        let (_dir, _, hot) = hot_path();
        let changed = hot
            .write("INSERT INTO t (b, a) VALUES ($2, $1)", &[&7_i64, &"seven"])
            .await
            .unwrap();
        assert_eq!(changed, 1);
        let read = hot
            .read(
                "SELECT a, b FROM t WHERE b = $2 AND a = $1",
                &[&7_i64, &"seven"],
                |row| {
                    Ok((
                        row.try_get::<i64, _>("a").map_err(db)?,
                        row.try_get::<String, _>("b").map_err(db)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(read, Some((7, "seven".to_owned())));
    }

    #[tokio::test]
    async fn a_parameter_count_that_does_not_match_is_refused() {
        let (_dir, _, hot) = hot_path();
        let missing = hot.read("SELECT a FROM t WHERE a = $1 AND b = $2", &[&1_i64], |_| {
            Ok(())
        });
        assert!(
            matches!(missing, Err(StoreError::Database(_))),
            "{missing:?}"
        );
        let gap = hot.read(
            "SELECT a FROM t WHERE a = $1 OR a = $3",
            &[&1_i64, &2_i64],
            |_| Ok(()),
        );
        assert!(matches!(gap, Err(StoreError::Database(_))), "{gap:?}");
        let write = hot.write(INSERT, &[&1_i64]).await;
        assert!(matches!(write, Err(StoreError::Database(_))), "{write:?}");
    }

    #[tokio::test]
    async fn a_unique_violation_is_a_conflict() {
        let (_dir, _, hot) = hot_path();
        hot.write(INSERT, &[&1_i64, &"one"]).await.unwrap();
        let again = hot.write(INSERT, &[&2_i64, &"one"]).await;
        assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    }

    /// Writes queued while the turn is held commit as one batch once it is free: the one that
    /// breaks the unique key is answered `Conflict`, and every other one commits.
    #[tokio::test]
    async fn a_conflict_in_a_batch_leaves_the_others_committed() {
        let (_dir, path, hot) = hot_path();
        hot.write(INSERT, &[&0_i64, &"taken"]).await.unwrap();
        let turn = hot.write_turn().await;
        // Each call queues its write at once (see `HotPath::write`): all of them are waiting
        // when the turn is released, so the writer thread takes them in one batch.
        let answers: Vec<_> = (1_i64..=9)
            .map(|n| {
                let key = if n == 5 {
                    "taken".to_owned()
                } else {
                    format!("key {n}")
                };
                hot.write(INSERT, &[&n, &key])
            })
            .collect();
        drop(turn);
        for (n, answer) in (1_i64..).zip(answers) {
            match answer.await {
                Err(StoreError::Conflict) if n == 5 => {}
                Ok(1) if n != 5 => {}
                other => panic!("write {n}: {other:?}"),
            }
        }
        let reader = Connection::open(&path).unwrap();
        assert_eq!(count(&reader), 9);
        let conflicting: i64 = reader
            .query_row("SELECT count(*) FROM t WHERE a = 5", [], |row| row.get(0))
            .unwrap();
        assert_eq!(conflicting, 0);
    }

    /// Many requests writing at once are all answered, and every write they were answered for
    /// is there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_are_all_answered_and_all_present() {
        let (_dir, path, hot) = hot_path();
        let hot = Arc::new(hot);
        let writers: Vec<_> = (0_i64..200)
            .map(|n| {
                let hot = Arc::clone(&hot);
                tokio::spawn(async move { hot.write(INSERT, &[&n, &format!("key {n}")]).await })
            })
            .collect();
        for writer in writers {
            assert_eq!(writer.await.unwrap().unwrap(), 1);
        }
        assert_eq!(count(&Connection::open(&path).unwrap()), 200);
    }

    /// A write is answered only once it is committed: another connection, and the hot path's
    /// own readers, see each row as soon as its write is answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_never_precedes_its_commit() {
        let (_dir, path, hot) = hot_path();
        let other = Connection::open(&path).unwrap();
        let seen = "SELECT count(*) AS seen FROM t WHERE a = $1";
        for n in 0_i64..100 {
            hot.write(INSERT, &[&n, &format!("key {n}")]).await.unwrap();
            let there: i64 = other.query_row(seen, [n], |row| row.get(0)).unwrap();
            assert_eq!(there, 1, "row {n} answered before it was committed");
            let read = hot
                .read(seen, &[&n], |row| row.try_get("seen").map_err(db))
                .unwrap();
            assert_eq!(read, Some(1_i64), "row {n} not seen by a reader");
        }
    }

    /// The writer's connection waits up to the busy timeout it was opened with for another
    /// connection's write lock, rather than failing at once.
    #[test]
    fn the_writer_is_given_its_busy_timeout() {
        let (_dir, path, _hot) = hot_path();
        let writer = open_writer(&WriterOptions {
            path,
            in_memory: false,
            busy_timeout: Duration::from_millis(1234),
        })
        .unwrap();
        let waits: i64 = writer
            .query_row("PRAGMA busy_timeout", [], |row| row.get(0))
            .unwrap();
        assert_eq!(waits, 1234);
    }

    /// Another connection (another process, or sqlx's writer with a rollback still queued)
    /// holding the file's write lock makes a batch wait in SQLite's busy handler, not fail,
    /// and it commits once the lock is free.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_waits_for_another_connections_transaction() {
        let (_dir, path, hot) = hot_path();
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (a, b) VALUES (1, 'other')")
            .unwrap();
        let write = tokio::spawn(hot.write(WAITS, &[&2_i64]));
        // The writer's busy handler was asked: its batch met the lock, and is waiting.
        tokio::time::timeout(Duration::from_secs(10), WRITER_WAITS.notified())
            .await
            .expect("the writer met the lock within 10 s");
        assert!(!write.is_finished(), "answered while the file was locked");
        other.execute_batch("COMMIT").unwrap();
        // The handler waits at most about five seconds: the write succeeds once the lock is
        // free.
        assert_eq!(write.await.unwrap().unwrap(), 1);
        assert_eq!(count(&other), 2);
    }

    /// The writer thread checkpoints a WAL that has passed [`CHECKPOINT_PAGES`], so that the
    /// next commit starts the WAL over: after half as many pages again, the WAL file has not
    /// grown past the threshold.
    #[tokio::test]
    async fn a_full_wal_is_checkpointed_and_starts_over() {
        let (_dir, path, hot) = hot_path();
        let page_size: i64 = Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap();
        // A value of a page or more fills at least a page per commit; one write at a time,
        // so one commit per write.
        let filler = "x".repeat(usize::try_from(page_size).unwrap());
        for n in 0..i64::from(CHECKPOINT_PAGES) * 3 / 2 {
            hot.write(INSERT, &[&n, &format!("{n}{filler}")])
                .await
                .unwrap();
        }
        let wal = std::fs::metadata(path.with_extension("db-wal"))
            .unwrap()
            .len();
        // A WAL frame is a page and a 24-byte header; a commit here writes a few pages.
        let frame = u64::try_from(page_size).unwrap() + 24;
        let bound = (u64::try_from(CHECKPOINT_PAGES).unwrap() + 16) * frame;
        assert!(wal <= bound, "WAL of {wal} bytes, more than {bound}");
    }

    /// The hot path on an in-memory database of the shared-cache name `name`, as sqlx opens
    /// `sqlite::memory:`, with the table of [`hot_path`]; the connection that keeps the
    /// database alive, as sqlx's pool does.
    fn in_memory_hot_path(name: &str) -> (Connection, HotPath) {
        let path = std::path::PathBuf::from(format!("file:{name}"));
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_MEMORY
            | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
        let keeper = Connection::open_with_flags(&path, flags).unwrap();
        keeper
            .execute_batch("CREATE TABLE t (a INTEGER, b TEXT UNIQUE)")
            .unwrap();
        let hot = HotPath::open(&path, true, Duration::from_secs(5)).unwrap();
        (keeper, hot)
    }

    /// A panic in a batch answers that batch's writes with an error and keeps none of them;
    /// the thread goes on, and the next write commits.
    #[tokio::test]
    async fn a_panic_in_a_batch_fails_that_batch_alone() {
        let (_dir, path, hot) = hot_path();
        let turn = hot.write_turn().await;
        let before = hot.write(INSERT, &[&1_i64, &"before the panic"]);
        let panicking = hot.write(PANICS, &[&2_i64]);
        drop(turn);
        for answer in [before.await, panicking.await] {
            assert!(matches!(answer, Err(StoreError::Database(_))), "{answer:?}");
        }
        // The panicked batch's transaction was rolled back before its answers, not at the
        // next batch: another connection takes the write lock without waiting at all.
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::ZERO).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; ROLLBACK").unwrap();
        assert_eq!(count(&other), 0);
        hot.write(INSERT, &[&3_i64, &"after the panic"])
            .await
            .unwrap();
        assert_eq!(count(&Connection::open(&path).unwrap()), 1);
        hot.check_writer().unwrap();
    }

    /// A writer thread that ended is reported, for readiness, and its writes fail.
    #[tokio::test]
    async fn a_stopped_writer_thread_is_reported() {
        let (_dir, _, hot) = hot_path();
        hot.check_writer().unwrap();
        let stopped = hot.write(STOPS, &[&1_i64]).await;
        assert!(
            matches!(stopped, Err(StoreError::Database(_))),
            "{stopped:?}"
        );
        // The answer is dropped as the thread unwinds, just before the flag is cleared: wait
        // for the flag, at most five seconds.
        for _ in 0..500 {
            if hot.check_writer().is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            hot.check_writer().is_err(),
            "the stopped thread is still reported running"
        );
        let after = hot.write(INSERT, &[&2_i64, &"after"]).await;
        assert!(matches!(after, Err(StoreError::Database(_))), "{after:?}");
    }

    /// A writer connection left inside a transaction (a batch whose `COMMIT` and `ROLLBACK`
    /// failed) is put back outside it before the next batch, which then commits.
    #[tokio::test]
    async fn a_transaction_left_open_is_rolled_back_before_the_next_batch() {
        let (keeper, hot) = in_memory_hot_path("inline-left-open");
        // In memory, the one reader is the writer's connection.
        lock(&hot.readers[0])
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (a, b) VALUES (0, 'left open')")
            .unwrap();
        assert_eq!(hot.write(INSERT, &[&1_i64, &"next"]).await.unwrap(), 1);
        let kept: Vec<String> = keeper
            .prepare("SELECT b FROM t")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kept, ["next"]);
    }

    /// A write whose error rolls back the whole transaction (here a trigger's
    /// `RAISE(ROLLBACK)`; a full disk does the same) fails its batch with its own error, not
    /// with the savepoint that went with the transaction.
    #[tokio::test]
    async fn a_write_that_rolls_back_the_transaction_fails_its_batch_with_its_own_error() {
        let (_dir, path, hot) = hot_path();
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON t WHEN NEW.a < 0 \
                 BEGIN SELECT RAISE(ROLLBACK, 'refused by the trigger'); END",
            )
            .unwrap();
        let turn = hot.write_turn().await;
        let before = hot.write(INSERT, &[&1_i64, &"before"]);
        let refused = hot.write(INSERT, &[&-1_i64, &"refused"]);
        drop(turn);
        for answer in [before.await, refused.await] {
            match answer {
                Err(StoreError::Database(detail)) if detail.contains("refused by the trigger") => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(count(&Connection::open(&path).unwrap()), 0);
        assert_eq!(hot.write(INSERT, &[&2_i64, &"after"]).await.unwrap(), 1);
    }

    /// Writes queued while the turn is held are committed by one `COMMIT`, counted by a commit
    /// hook on the writer connection (reachable in memory, where it is also the reader).
    #[tokio::test]
    async fn queued_writes_are_committed_together() {
        let (keeper, hot) = in_memory_hot_path("inline-grouped");
        let commits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&commits);
        lock(&hot.readers[0])
            .commit_hook(Some(move || {
                counted.fetch_add(1, Ordering::Relaxed);
                false
            }))
            .unwrap();
        let turn = hot.write_turn().await;
        let answers: Vec<_> = (1_i64..=9)
            .map(|n| hot.write(INSERT, &[&n, &format!("key {n}")]))
            .collect();
        drop(turn);
        for answer in answers {
            assert_eq!(answer.await.unwrap(), 1);
        }
        assert_eq!(commits.load(Ordering::Relaxed), 1);
        assert_eq!(count(&keeper), 9);
    }

    /// Dropping the hot path commits the writes already queued, even those whose futures were
    /// dropped, before it returns.
    #[tokio::test]
    async fn dropping_the_hot_path_commits_what_is_queued() {
        let (_dir, path, hot) = hot_path();
        for n in 0_i64..200 {
            drop(hot.write(INSERT, &[&n, &format!("key {n}")]));
        }
        drop(hot);
        assert_eq!(count(&Connection::open(&path).unwrap()), 200);
    }
}
