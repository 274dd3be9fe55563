//! The store's size on disk and its number of authentications, read straight from the database
//! (not through the verifier), and a fresh PostgreSQL database for each bench run.

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::http::Failure;

/// The database the bench creates (and drops first) on the PostgreSQL server it is given; the
/// statements spell it out because sqlx takes only literal SQL.
const PG_DATABASE: &str = "mamori_bench";

/// A reading of the store.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Reading {
    /// Rows in `authentications`.
    pub(crate) authentications: i64,
    /// Bytes the database uses: SQLite's pages in use after a WAL checkpoint, or PostgreSQL's
    /// `pg_database_size` (tables, indexes, TOAST, free space maps, and row versions not yet
    /// vacuumed).
    pub(crate) bytes: i64,
}

/// Reads `database_url` (`sqlite://…` or `postgres://…`).
///
/// # Errors
///
/// When the database cannot be reached or queried.
pub(crate) async fn read(database_url: &str) -> Result<Reading, Failure> {
    const COUNT: &str = "SELECT count(*) FROM authentications";
    if database_url.starts_with("sqlite:") {
        let mut db = SqliteConnection::connect(database_url).await?;
        // Moves the write-ahead log into the main file, so the page count is the whole store.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut db)
            .await?;
        let pragma = |name: &'static str| sqlx::query_scalar::<_, i64>(name);
        let pages = pragma("PRAGMA page_count").fetch_one(&mut db).await?;
        let free = pragma("PRAGMA freelist_count").fetch_one(&mut db).await?;
        let page_size = pragma("PRAGMA page_size").fetch_one(&mut db).await?;
        let authentications = sqlx::query_scalar(COUNT).fetch_one(&mut db).await?;
        db.close().await?;
        Ok(Reading {
            authentications,
            bytes: (pages - free) * page_size,
        })
    } else {
        let mut db = PgConnection::connect(database_url).await?;
        let bytes = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&mut db)
            .await?;
        let authentications = sqlx::query_scalar(COUNT).fetch_one(&mut db).await?;
        db.close().await?;
        Ok(Reading {
            authentications,
            bytes,
        })
    }
}

/// Creates an empty database for the verifier on the PostgreSQL server `server_url` (a
/// superuser connection) and answers its URL.
///
/// # Errors
///
/// When the server cannot be reached or refuses.
pub(crate) async fn fresh_postgres(server_url: &str) -> Result<String, Failure> {
    let mut db = PgConnection::connect(server_url).await?;
    // `WITH (FORCE)` (PostgreSQL 13+) ends connections a killed earlier run may have left.
    sqlx::query("DROP DATABASE IF EXISTS mamori_bench WITH (FORCE)")
        .execute(&mut db)
        .await?;
    sqlx::query("CREATE DATABASE mamori_bench")
        .execute(&mut db)
        .await?;
    db.close().await?;
    with_database(server_url, PG_DATABASE).ok_or_else(|| "a PostgreSQL URL without a path".into())
}

/// `url` with its database (the path) replaced by `name`, query parameters kept.
fn with_database(url: &str, name: &str) -> Option<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://")? + 3;
    let host_and_path = &base[authority_end..];
    let host = host_and_path.split('/').next()?;
    let mut out = format!("{}{host}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_database() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "b").as_deref(),
            Some("postgres://u@127.0.0.1:5432/b")
        );
        assert_eq!(
            with_database("postgresql://u:p@h/x?sslmode=disable", "b").as_deref(),
            Some("postgresql://u:p@h/b?sslmode=disable")
        );
        assert_eq!(
            with_database("postgres://h:1", "b").as_deref(),
            Some("postgres://h:1/b")
        );
    }
}
