//! The second baseline: an axum handler that makes one durable SQLite insert per request.
//!
//! The empty handler measures what HTTP costs; this one measures what HTTP plus the least a
//! verifier can write per request costs, done the plain way: one rusqlite connection behind a
//! mutex, WAL with `synchronous = NORMAL` (the verifier's durability), SQLite's automatic
//! checkpoints, and each request's row its own transaction. The row is shaped like a purchase
//! (a random 128-bit id as text, the card, the amount, the time) with one index on card and
//! time, as a history query needs. A frictionless authentication writes twice (the merchant's
//! create and the device step), so it can run at most about half this handler's rate if each
//! request commits alone: the share the verifier reaches of it says how much of the gap to the
//! empty handler is the write itself.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use rusqlite::Connection;

/// The table and its index.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS purchases (\
     id TEXT PRIMARY KEY, card INTEGER NOT NULL, amount INTEGER NOT NULL, \
     created_at INTEGER NOT NULL) WITHOUT ROWID;\
     CREATE INDEX IF NOT EXISTS purchases_by_card ON purchases (card, created_at);";

/// The one statement each request runs.
const INSERT: &str = "INSERT INTO purchases (id, card, amount, created_at) VALUES (?1, ?2, ?3, ?4)";

/// Cards the rows are spread over, as many as the load generator's default.
const CARDS: u64 = 256;

/// The handler's state: the connection and a request counter that picks the card.
struct Store {
    connection: Mutex<Connection>,
    requests: AtomicU64,
}

/// Serves the insert handler on `127.0.0.1:0` with its database in `dir`, prints
/// `listening <address>` on stdout for the load generator, then serves until killed.
///
/// # Errors
///
/// When the database cannot be opened, the listener cannot be bound or the server stops with
/// an I/O error.
pub(crate) async fn serve(dir: &Path) -> Result<(), crate::http::Failure> {
    std::fs::create_dir_all(dir)?;
    let connection = Connection::open(dir.join("insert.db"))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.execute_batch(SCHEMA)?;
    let store = Arc::new(Store {
        connection: Mutex::new(connection),
        requests: AtomicU64::new(0),
    });
    crate::empty::serve_app(Router::new().fallback(insert).with_state(store)).await?;
    Ok(())
}

/// Reads the request's body (as the verifier must) and inserts one row; `500` if the insert
/// fails.
async fn insert(State(store): State<Arc<Store>>, body: Bytes) -> StatusCode {
    let n = store.requests.fetch_add(1, Ordering::Relaxed);
    let id = format!("{:032x}", rand_id(n));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let row = (
        id,
        i64::try_from(n % CARDS).unwrap_or(0),
        i64::try_from(body.len()).unwrap_or(0),
        i64::try_from(now).unwrap_or(i64::MAX),
    );
    let connection = store
        .connection
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let inserted = connection
        .prepare_cached(INSERT)
        .and_then(|mut statement| statement.execute(row));
    match inserted {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A 128-bit id that looks random to the index (SplitMix64 over the request number, twice), as
/// the verifier's random ids do: rows land all over the primary key's B-tree rather than at its
/// end.
fn rand_id(n: u64) -> u128 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (u128::from(mix(n)) << 64) | u128::from(mix(!n))
}
