//! PostgreSQL's hot path: a small set of connections of the store's own for the self-committing
//! statements of a frictionless purchase (`db_hot!` in `sql_store.rs`), returned to the set
//! without the test round trip sqlx's pool makes on every release. The rate-limit counts, one
//! statement per request, have a set of their own (their sessions commit asynchronously).
//!
//! sqlx 0.9's pool pings each connection as it comes back (`PoolConnection::return_to_pool`,
//! with no option to turn it off), so a one-statement use costs two round trips to the
//! database and two wake-ups of the backend. The hot statements are single self-committing
//! statements, so the set can know without asking whether a connection is clean: it is, once
//! its statement completed — with rows or with an ordinary error the database itself answered
//! — and only then is it handed to the next request, by [`Lease::finish`]. A `FATAL` answer (a
//! restart, `pg_terminate_backend`, `idle_session_timeout`) is the server closing the session,
//! so that connection is closed, and only the one request that met it fails. A connection
//! whose statement failed any other way (I/O, protocol, decoding) may be in the middle of a
//! message; it is closed too, so it never serves another request.
//!
//! A [`Lease`] dropped before its statement ended (the client went away, a timeout fired) is
//! the one case where the set asks: PostgreSQL does not notice a closed socket while a
//! statement runs or waits on a lock, so closing the connection at once would free its place
//! while its backend lives on, and repeated disconnects during a lock wait (another instance's
//! migration) would grow the backends without bound. Instead a task keeps the connection and
//! its permit, sends a `Sync` and reads up to its answer (sqlx's `ping`, which first drains the
//! statement's remaining messages), then gives the connection back; if that fails or takes
//! longer than [`DRAIN_TIMEOUT`], it closes the connection. Every connection runs with
//! `statement_timeout` = [`STATEMENT_TIMEOUT`], so a statement stuck behind a lock ends by
//! itself well within that — unless the URL's `options` set a `statement_timeout` of their
//! own, which is then kept as the operator's choice.
//!
//! # Bounds and lifetimes
//!
//! A semaphore bounds how many connections exist: a permit is held by a lease, then by the task
//! draining or closing its connection, and released only when the connection is back in the
//! idle list or closed (PostgreSQL's `Terminate` sent). A connection is opened only when no
//! idle one is left, so the connections that exist never exceed the bound. A request that
//! cannot get a connection within the acquire timeout fails with [`StoreError::Unavailable`]
//! (answered `503`), as on sqlx's pool, instead of hanging; as on the pool, a connect that
//! PostgreSQL refuses for now (restarting, no slot free) is retried until then. Idle
//! connections past their idle timeout or their maximum lifetime are closed when the set next
//! hands out a connection, one per acquirer at a time, before it opens another — a check of
//! two instants over a handful of entries, no timer task — and one past its maximum lifetime
//! is closed rather than taken back after its statement.
//! Each connection's maximum lifetime is shortened by a random 0–5 %, so that the connections
//! of one burst do not all expire, and reconnect, in the same instant. (A verifier that gets
//! no requests at all keeps its idle connections open, at most the bound's few.) Connections
//! are opened with the store's connect options (TLS, statement cache, application name, the
//! counters' `synchronous_commit`), so a statement prepared once per connection is reused as
//! on the pool.
//!
//! Transactions, and every statement outside the hot path, stay on sqlx's pool, whose ping
//! costs little against a transaction's own round trips; see `postgres.rs` for how the
//! connections of an instance are split between the two.
//!
//! # Measured
//!
//! A frictionless purchase on PostgreSQL went from 12 round trips to the database (four hot
//! statements and two rate-limit counts, each followed by the release ping) to 5 (the card is
//! now found by the insert itself, see `sql::INSERT_AUTHENTICATION`): `strace` of the verifier
//! under load counts 12.0 and then 5.0 writes to PostgreSQL's socket per purchase (per two
//! HTTP answers). Against main's binary,
//! interleaved in the same minutes, 4 rounds on 2 cores shared with other builds (so the
//! throughput figures swing by ±30 % from round to round; CPU and context switches are
//! steadier):
//!
//! | clients | purchases/s, median of the per-round ratios | verifier CPU per purchase | context switches |
//! |---|---|---|---|
//! | 8 | 1.28× (1,118 → 1,515/s) | 404 → 270 µs | 8.7 → 5.8 |
//! | 64 | 1.26× (992 → 1,316/s) | 438 → 312 µs | 8.6 → 6.6 |
//! | 256 | 1.07× (1,076 → 1,225/s) | 455 → 350 µs | 8.4 → 6.0 |
//!
//! p99 stayed within the noise (64 clients: 98 → 108 ms; 256: 319 → 267 ms). The rest of a
//! purchase's time is PostgreSQL's own work and the machine's other load, not the verifier:
//! `mamori-bench load --servers empty,postgres --operations frictionless --clients 8,64,256
//! --growth 0 --window 5 --warmup 1` against a cluster with `fsync=off`, as `cargo xtask bench`
//! runs it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError, PgSeverity};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::StoreError;
use super::rows::db;

/// How long a request waits for a connection, and how long a connection lives.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// How many connections may exist at once.
    pub connections: usize,
    /// How long [`HotConnections::acquire`] waits, opening a connection included.
    pub acquire_timeout: Duration,
    /// A connection older than this is closed instead of reused.
    pub max_lifetime: Duration,
    /// An idle connection unused for this long is closed instead of reused.
    pub idle_timeout: Duration,
}

/// How long PostgreSQL may run one hot statement before it cancels it itself: far beyond any
/// hot statement's own time, it only ends a statement stuck behind a lock (another instance's
/// migration), whose connection still counts against the bound meanwhile.
const STATEMENT_TIMEOUT: &str = "30s";

/// How long the connection of a lease dropped midway gets to finish its statement before it is
/// closed; it keeps its place in the bound until then.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(35);

/// The pause before the first retry of a connect PostgreSQL refused for now; it doubles after
/// each refusal up to [`CONNECT_RETRY_LAST`].
const CONNECT_RETRY_FIRST: Duration = Duration::from_millis(50);

/// The longest pause between two connect attempts.
const CONNECT_RETRY_LAST: Duration = Duration::from_secs(1);

/// How long a polite close may take before the connection is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The hot path's connections (see the module docs).
pub(super) struct HotConnections {
    /// How each connection is opened: the store's options.
    options: PgConnectOptions,
    /// Connections whose last statement completed, most recently used last. Shared with the
    /// tasks that drain the connections of dropped leases.
    idle: Arc<Mutex<Vec<Idle>>>,
    /// One permit per connection that may exist, held by a lease or by the task closing or
    /// draining its connection.
    permits: Arc<Semaphore>,
    /// The bound and the timeouts.
    limits: Limits,
}

/// A connection waiting for its next statement.
struct Idle {
    /// The connection, clean: its last statement completed.
    connection: PgConnection,
    /// When it reaches its maximum lifetime.
    retires: Instant,
    /// When its last statement completed.
    since: Instant,
}

/// A connection lent to one statement; it goes back to the set only through
/// [`Lease::finish`]. A lease dropped otherwise leaves its connection to a task that waits for
/// the statement to end, and the connection keeps its place in the bound until then.
pub(super) struct Lease<'a> {
    /// The connection and its place in the bound; taken by [`Lease::finish`].
    held: Option<Held>,
    /// The set it goes back to.
    set: &'a HotConnections,
}

/// A leased connection with what it needs to outlive its lease.
struct Held {
    /// The connection lent.
    connection: PgConnection,
    /// When it reaches its maximum lifetime.
    retires: Instant,
    /// The connection's place in the bound; released only once the connection is back in
    /// `idle` or closed, so the connections that exist never exceed the bound.
    permit: OwnedSemaphorePermit,
}

impl HotConnections {
    /// A set that opens its connections with `options`, lazily: none is open until the first
    /// statement.
    pub(super) fn new(options: PgConnectOptions, limits: Limits) -> Self {
        Self {
            options: with_statement_timeout(options),
            idle: Arc::new(Mutex::new(Vec::with_capacity(limits.connections))),
            permits: Arc::new(Semaphore::new(limits.connections)),
            limits,
        }
    }

    /// A connection for one statement: the most recently used idle one, or a new one while
    /// fewer than the bound exist.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when no connection is free within the acquire timeout
    /// (opening one included), [`StoreError::Database`] when opening one fails.
    pub(super) async fn acquire(&self) -> Result<Lease<'_>, StoreError> {
        let leased = async {
            // The semaphore is never closed, so `acquire` fails only on a closed one.
            let permit = Arc::clone(&self.permits)
                .acquire_owned()
                .await
                .map_err(db_closed)?;
            let (connection, retires) = match self.take_idle().await {
                Some(idle) => (idle.connection, idle.retires),
                None => (self.connect().await?, self.retirement(Instant::now())),
            };
            Ok(Lease {
                held: Some(Held {
                    connection,
                    retires,
                    permit,
                }),
                set: self,
            })
        };
        tokio::time::timeout(self.limits.acquire_timeout, leased)
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "no PostgreSQL connection for the hot path within {:?}",
                    self.limits.acquire_timeout
                ))
            })?
    }

    /// A new connection, retried with a growing pause while PostgreSQL refuses connections for
    /// now (it is restarting, or has no slot free), as sqlx's pool does: the caller's acquire
    /// timeout ends the attempts, so a database that stays away answers `503`, not `500`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] at once for any other failure (a wrong password, no such
    /// database), which retrying would not mend.
    async fn connect(&self) -> Result<PgConnection, StoreError> {
        let mut pause = CONNECT_RETRY_FIRST;
        loop {
            match self.options.connect().await {
                Ok(connection) => return Ok(connection),
                Err(error) if refused_for_now(&error) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(CONNECT_RETRY_LAST);
                }
                Err(error) => return Err(db(error)),
            }
        }
    }

    /// When a connection opened at `opened` reaches its maximum lifetime: shortened by a random
    /// 0–5 %, so that connections opened in one burst do not all expire in the same instant.
    fn retirement(&self, opened: Instant) -> Instant {
        // Without randomness the full lifetime is as good a lifetime as any.
        let per_mille = getrandom::u32().map_or(0, |random| random % 50);
        opened + self.limits.max_lifetime - self.limits.max_lifetime * per_mille / 1000
    }

    /// The most recently used idle connection still within its lifetimes, closing the ones
    /// that are not first, so that a connection opened next never exists beside them beyond
    /// the bound.
    ///
    /// The caller holds one permit, so it closes one expired connection at a time and looks
    /// again only once it is gone: the expired ones not yet closed stay in the list, where
    /// they still count, so a concurrent acquirer closes one of them (or takes a live one)
    /// instead of opening a connection beside them.
    async fn take_idle(&self) -> Option<Idle> {
        loop {
            let now = Instant::now();
            let stale = {
                let mut idle = self
                    .idle
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                // A handful of entries: checking them on each acquire is cheaper than a timer.
                // `remove`, not `swap_remove`: the list stays in the order connections came back,
                // so the newest is the last.
                match idle.iter().position(|entry| self.expired(entry, now)) {
                    Some(index) => idle.remove(index),
                    None => return idle.pop(),
                }
            };
            // Closed outside the lock: closing writes to the socket.
            close(stale.connection).await;
        }
    }

    /// Whether `idle` has outlived its idle timeout or the maximum lifetime.
    fn expired(&self, idle: &Idle, now: Instant) -> bool {
        now.duration_since(idle.since) >= self.limits.idle_timeout || now >= idle.retires
    }

    /// How many connections are idle now.
    #[cfg(feature = "conformance")]
    fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }
}

impl Lease<'_> {
    /// The connection, for one statement.
    // `held` is taken only by `finish`, which consumes the lease, and by `drop`: a lease in
    // hand always holds its connection.
    #[allow(clippy::expect_used)]
    pub(super) fn connection(&mut self) -> &mut PgConnection {
        &mut self
            .held
            .as_mut()
            .expect("a lease holds its connection until it ends")
            .connection
    }

    /// Ends the lease with the statement's `outcome`: the connection goes back to the set when
    /// the statement completed — rows, no row, or an ordinary error the database answered (its
    /// remaining messages up to `ReadyForQuery` are read before the connection's next
    /// statement) — and is closed after any other error, which may have left it midway
    /// through a message. A connection past its maximum lifetime is closed either way.
    ///
    /// # Errors
    ///
    /// The statement's error, as the store reports it.
    pub(super) fn finish<T>(self, outcome: Result<T, sqlx::Error>) -> Result<T, StoreError> {
        let mut lease = self;
        if let Some(held) = lease.held.take() {
            let clean = leaves_connection_clean(&outcome);
            if clean && Instant::now() < held.retires {
                give_back(&lease.set.idle, held);
            } else if clean {
                tokio::spawn(close_holding(held));
            } else {
                // The connection may be midway through a message: its socket is closed without
                // another word on it, and its place in the bound is freed with it.
                drop(held);
            }
        }
        outcome.map_err(db)
    }
}

/// Whether a statement that ended with `outcome` left its connection ready for the next one:
/// it completed with rows or without, or PostgreSQL refused it with an ordinary error and the
/// session goes on. A `FATAL` or `PANIC` error (a restart, `pg_terminate_backend`,
/// `idle_session_timeout`), an operator intervention (class `57P`) or a connection exception
/// (class `08`) means the server is closing the session, so the connection must not be reused.
fn leaves_connection_clean<T>(outcome: &Result<T, sqlx::Error>) -> bool {
    match outcome {
        Ok(_) | Err(sqlx::Error::RowNotFound) => true,
        Err(sqlx::Error::Database(error)) => error
            .try_downcast_ref::<PgDatabaseError>()
            .is_some_and(|error| {
                error.severity() == PgSeverity::Error
                    && !error.code().starts_with("57P")
                    && !error.code().starts_with("08")
            }),
        Err(_) => false,
    }
}

impl Drop for Lease<'_> {
    /// A lease dropped before its statement ended (the request went away, a timeout fired):
    /// PostgreSQL goes on running the statement, or waiting on a lock, without noticing a
    /// closed socket, so the connection keeps its place in the bound until the statement ends.
    /// A task waits for that (a `Sync` after it, answered once the statement is done), then
    /// gives the connection back, or closes it if it does not answer in time.
    fn drop(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        // Without a runtime (one shutting down) nothing can wait: the connection just drops.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let idle = Arc::clone(&self.set.idle);
        runtime.spawn(async move {
            let mut held = held;
            let drained = tokio::time::timeout(DRAIN_TIMEOUT, held.connection.ping()).await;
            if matches!(drained, Ok(Ok(()))) && Instant::now() < held.retires {
                give_back(&idle, held);
            } else {
                close_holding(held).await;
            }
        });
    }
}

/// `options` with `statement_timeout` = [`STATEMENT_TIMEOUT`] appended to its session options
/// (so the counters' `synchronous_commit` stays), unless they already set one: an operator's
/// own `statement_timeout` in the URL wins. A startup option beats `ALTER ROLE … SET`, so an
/// operator who set it that way instead gets ours.
fn with_statement_timeout(options: PgConnectOptions) -> PgConnectOptions {
    let already_set = options
        .get_options()
        .is_some_and(|set| set.to_ascii_lowercase().contains("statement_timeout"));
    if already_set {
        options
    } else {
        options.options([("statement_timeout", STATEMENT_TIMEOUT)])
    }
}

/// Whether a connect failed in a way that passes by itself, the cases sqlx's pool retries: the
/// server refused the TCP connection (it is starting or restarting), or PostgreSQL answered
/// `too_many_connections` (53300, e.g. while it notices connections closed abruptly) or
/// `cannot_connect_now` (57P03, still starting up or shutting down).
fn refused_for_now(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(error) => error.kind() == std::io::ErrorKind::ConnectionRefused,
        sqlx::Error::Database(error) => {
            matches!(error.code().as_deref(), Some("53300" | "57P03"))
        }
        _ => false,
    }
}

/// Puts a clean connection back in `idle`, then frees its place in the bound.
fn give_back(idle: &Mutex<Vec<Idle>>, held: Held) {
    let Held {
        connection,
        retires,
        permit,
    } = held;
    idle.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(Idle {
            connection,
            retires,
            since: Instant::now(),
        });
    drop(permit);
}

/// Closes a connection politely, keeping its place in the bound until it is gone.
async fn close_holding(held: Held) {
    close(held.connection).await;
    drop(held.permit);
}

/// Closes a connection politely (PostgreSQL's `Terminate`), dropping it if that takes longer
/// than [`CLOSE_TIMEOUT`].
async fn close(connection: PgConnection) {
    // Nothing to do about a connection that fails to close: it is gone either way.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, connection.close()).await;
}

/// The error of acquiring from a closed semaphore, which this set never closes.
fn db_closed(error: tokio::sync::AcquireError) -> StoreError {
    StoreError::Database(error.to_string())
}

impl std::fmt::Debug for HotConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotConnections")
            .field("limits", &self.limits)
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "conformance")]
pub mod checks {
    //! The set's promises, checked against a real server by the PostgreSQL suite
    //! (`tests/store_postgres.rs`), which fails without one rather than skipping. Each check
    //! takes the server's URL and panics, as a test does, when a promise is broken; none
    //! touches a table, so any database serves.

    // A panic is how these checks report a broken promise.
    #![allow(clippy::expect_used)]

    use std::str::FromStr;

    use sqlx::Row;

    use super::*;

    /// A set over `url` with a bound of `connections` and generous timeouts.
    fn set(url: &str, connections: usize) -> HotConnections {
        set_with(url, limits(connections))
    }

    fn set_with(url: &str, limits: Limits) -> HotConnections {
        let options = PgConnectOptions::from_str(url).expect("the test URL parses");
        HotConnections::new(options, limits)
    }

    fn limits(connections: usize) -> Limits {
        Limits {
            connections,
            acquire_timeout: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
        }
    }

    /// The backend process id of a lease's connection, the lease finished cleanly.
    async fn backend_pid(set: &HotConnections) -> i32 {
        let mut lease = set.acquire().await.expect("acquire");
        let row = sqlx::query("SELECT pg_backend_pid()")
            .fetch_one(lease.connection())
            .await;
        lease.finish(row).expect("pid").get(0)
    }

    /// A finished statement gives its connection back, and the next statement reuses it.
    pub async fn a_finished_statement_returns_its_connection(url: &str) {
        let set = set(url, 2);
        let first = backend_pid(&set).await;
        assert_eq!(set.idle_count(), 1);
        assert_eq!(
            backend_pid(&set).await,
            first,
            "a second connection was opened"
        );
        assert_eq!(set.idle_count(), 1);
    }

    /// A statement whose future is dropped while the server is still running it keeps its
    /// connection's place in the bound until the statement ends: no other connection is
    /// opened meanwhile, and the drained connection then serves the next statement.
    pub async fn a_statement_dropped_midway_keeps_its_place_until_it_ends(url: &str) {
        let set = set(url, 1);
        let before = backend_pid(&set).await;
        let sleeping = async {
            let mut lease = set.acquire().await.expect("acquire");
            let slept = sqlx::query("SELECT pg_sleep(1)")
                .execute(lease.connection())
                .await;
            lease.finish(slept)
        };
        let timed_out = tokio::time::timeout(Duration::from_millis(100), sleeping).await;
        assert!(timed_out.is_err(), "pg_sleep(1) finished within 100 ms");
        // The drain that took the dropped lease over holds its place: nothing to lend.
        assert_eq!(
            set.permits.available_permits(),
            0,
            "the dropped statement's place was freed while it still ran"
        );
        assert_eq!(set.idle_count(), 0, "the running connection was given back");
        assert_eq!(
            backend_pid(&set).await,
            before,
            "another connection was opened instead of the drained one"
        );
    }

    /// An error the database answers (here a unique violation, the store's `Conflict`) leaves
    /// the connection clean, so it is given back and reused.
    pub async fn a_database_error_returns_the_connection(url: &str) {
        let set = set(url, 1);
        let before = backend_pid(&set).await;
        let mut lease = set.acquire().await.expect("acquire");
        let refused =
            sqlx::query("DO $$ BEGIN RAISE unique_violation USING MESSAGE = 'taken'; END $$")
                .execute(lease.connection())
                .await;
        let refused = lease.finish(refused);
        assert!(
            matches!(refused, Err(StoreError::Conflict)),
            "not a conflict: {refused:?}"
        );
        assert_eq!(set.idle_count(), 1);
        assert_eq!(
            backend_pid(&set).await,
            before,
            "a clean connection was closed"
        );
    }

    /// A connection whose backend was terminated (PostgreSQL answers `FATAL` 57P01 and closes
    /// the session) is not given back: the statement after the failed one runs on a new
    /// backend.
    pub async fn a_terminated_backend_is_not_reused(url: &str) {
        let set = set(url, 1);
        let doomed = backend_pid(&set).await;
        let mut other = PgConnection::connect(url).await.expect("connect");
        let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
            .bind(doomed)
            .fetch_one(&mut other)
            .await
            .expect("terminate");
        assert!(terminated, "backend {doomed} was not terminated");
        other.close().await.expect("close");
        // The idle connection still looks alive to the set; this statement learns otherwise.
        let mut lease = set.acquire().await.expect("acquire");
        let failed = sqlx::query("SELECT 1").execute(lease.connection()).await;
        assert!(
            lease.finish(failed).is_err(),
            "a terminated backend answered"
        );
        assert_eq!(set.idle_count(), 0, "the terminated connection came back");
        assert_ne!(backend_pid(&set).await, doomed);
    }

    /// Any error but one the database answered closes the connection, whatever state it left
    /// the connection in: here a value of the wrong type, refused while reading the row.
    pub async fn another_error_closes_the_connection(url: &str) {
        let set = set(url, 1);
        let before = backend_pid(&set).await;
        let mut lease = set.acquire().await.expect("acquire");
        let misread = sqlx::query_scalar::<_, i32>("SELECT 'text'::text")
            .fetch_one(lease.connection())
            .await;
        assert!(
            !matches!(misread, Ok(_) | Err(sqlx::Error::Database(_))),
            "not a decoding error: {misread:?}"
        );
        assert!(lease.finish(misread).is_err());
        assert_eq!(
            set.idle_count(),
            0,
            "the connection came back after a decoding error"
        );
        assert_ne!(backend_pid(&set).await, before);
    }

    /// No more connections than the bound are lent at once; a request beyond it fails after
    /// the acquire timeout instead of waiting forever, and a connection given back serves it.
    pub async fn the_bound_holds_and_a_full_set_times_out(url: &str) {
        let set = set_with(
            url,
            Limits {
                acquire_timeout: Duration::from_millis(200),
                ..limits(2)
            },
        );
        let first = set.acquire().await.expect("first");
        let second = set.acquire().await.expect("second");
        let third = set.acquire().await;
        assert!(
            matches!(third, Err(StoreError::Unavailable(_))),
            "a third connection was lent"
        );
        first.finish(Ok(())).expect("finished");
        let third = set.acquire().await.expect("third, after one came back");
        // Dropped unfinished with no statement running: drained at once and given back.
        drop((second, third));
        let both_back = async {
            while set.idle_count() < 2 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), both_back)
            .await
            .expect("the dropped leases' connections came back");
        assert_eq!(set.permits.available_permits(), 2);
    }

    /// A connection past its maximum lifetime when its statement completes is closed, not
    /// given back, and its place in the bound is freed once it is gone.
    pub async fn a_connection_past_its_lifetime_is_closed_by_finish(url: &str) {
        let set = set_with(
            url,
            Limits {
                max_lifetime: Duration::ZERO,
                ..limits(1)
            },
        );
        let before = backend_pid(&set).await;
        assert_eq!(set.idle_count(), 0, "an expired connection came back");
        assert_ne!(
            backend_pid(&set).await,
            before,
            "an expired connection was reused"
        );
    }

    /// The session options the set adds (`statement_timeout`) keep the ones it was given (the
    /// counters' `synchronous_commit = off`), on the first connection and on one opened after
    /// it was closed.
    pub async fn session_options_hold_on_every_connection(url: &str) {
        let options = PgConnectOptions::from_str(url)
            .expect("the test URL parses")
            .options([("synchronous_commit", "off")]);
        let set = HotConnections::new(options, limits(1));
        let mut pids = Vec::new();
        for _ in 0..2 {
            let mut lease = set.acquire().await.expect("acquire");
            let row = sqlx::query(
                "SELECT pg_backend_pid(), current_setting('synchronous_commit'), \
                 current_setting('statement_timeout')",
            )
            .fetch_one(lease.connection())
            .await
            .expect("settings");
            let (pid, commit, timeout): (i32, String, String) =
                (row.get(0), row.get(1), row.get(2));
            assert_eq!(
                (commit.as_str(), timeout.as_str()),
                ("off", STATEMENT_TIMEOUT)
            );
            pids.push(pid);
            // A failed decoding closes the connection, so the next round opens another.
            let misread = sqlx::query_scalar::<_, i32>("SELECT 'text'::text")
                .fetch_one(lease.connection())
                .await;
            assert!(lease.finish(misread).is_err());
        }
        assert_ne!(pids[0], pids[1], "the second round did not reconnect");
    }

    /// A connection that fails to open gives its place in the bound back: the next request
    /// fails the same way, not by waiting out the acquire timeout.
    pub async fn a_failed_connect_frees_its_place(url: &str) {
        let options = PgConnectOptions::from_str(url)
            .expect("the test URL parses")
            .database("mamori_no_such_database");
        let set = HotConnections::new(options, limits(1));
        for _ in 0..2 {
            let refused = set.acquire().await;
            assert!(
                matches!(refused, Err(StoreError::Database(_))),
                "not a connect error: {:?}",
                refused.map(|_| ())
            );
        }
        assert_eq!(set.permits.available_permits(), 1);
    }

    /// An idle connection past its idle timeout is closed on the next acquire, not reused.
    pub async fn an_expired_connection_is_not_reused(url: &str) {
        let set = set_with(
            url,
            Limits {
                // Every idle connection is past it at once (`expired` compares with `>=`).
                idle_timeout: Duration::ZERO,
                ..limits(1)
            },
        );
        let before = backend_pid(&set).await;
        assert_ne!(
            backend_pid(&set).await,
            before,
            "an expired connection was reused"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that refuses connections (restarting) is retried until the acquire timeout,
    /// which then answers `Unavailable` (503), not a database error (500).
    #[tokio::test]
    async fn a_refused_connect_is_retried_until_the_acquire_timeout() {
        // A port nothing listens on: bound, then freed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let options = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(port);
        let set = HotConnections::new(
            options,
            Limits {
                connections: 1,
                acquire_timeout: Duration::from_millis(300),
                max_lifetime: Duration::from_secs(60),
                idle_timeout: Duration::from_secs(60),
            },
        );
        let refused = set.acquire().await.map(|_| ());
        assert!(
            matches!(refused, Err(StoreError::Unavailable(_))),
            "not unavailable: {refused:?}"
        );
        assert_eq!(set.permits.available_permits(), 1);
    }

    #[test]
    fn the_urls_own_statement_timeout_is_kept() {
        let ours = with_statement_timeout(PgConnectOptions::new_without_pgpass());
        assert_eq!(ours.get_options(), Some("-c statement_timeout=30s"));
        let operators = PgConnectOptions::new_without_pgpass()
            .options([("synchronous_commit", "off"), ("statement_timeout", "5s")]);
        let kept = with_statement_timeout(operators);
        assert_eq!(
            kept.get_options(),
            Some("-c synchronous_commit=off -c statement_timeout=5s")
        );
    }
}
