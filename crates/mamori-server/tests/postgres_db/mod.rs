//! A fresh PostgreSQL database per test, on the server `cargo xtask test` provides.
//!
//! `cargo xtask test` starts a throwaway cluster (or uses the user's `DATABASE_URL`) and passes
//! a superuser URL in `MAMORI_TEST_POSTGRES_URL`. Each test creates `mamori_test_<random>` on
//! it and drops it afterwards, even when the test panics. Without the variable the tests fail
//! and say why: a skipped test would hide a backend that was never tested.

// Each test crate uses part of this module; a panic is how test code reports failure.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::str::FromStr;

use mamori_server::secrets::{hex, random_bytes};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

/// The variable `cargo xtask test` sets.
pub const URL_VARIABLE: &str = "MAMORI_TEST_POSTGRES_URL";

/// The server's superuser URL; panics with instructions when it is not set.
pub fn admin_url() -> String {
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{URL_VARIABLE} is not set: the PostgreSQL tests need a server. Run them through \
             `cargo xtask test` (which starts a throwaway PostgreSQL cluster, or uses \
             DATABASE_URL), or set {URL_VARIABLE}=postgres://user@host:port/postgres to a role \
             allowed to create databases."
        ),
    }
}

/// `url` with its database replaced by `name`, keeping the user, host and parameters.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..authority_end])
}

/// An empty database that is dropped with this value.
pub struct TestDb {
    /// Where it is: hand this to `PostgresStore::open` or a config file.
    pub url: String,
    name: String,
    admin: String,
}

impl TestDb {
    /// Creates a fresh database.
    pub async fn create() -> Self {
        let admin = admin_url();
        let name = format!("mamori_test_{}", hex(&random_bytes::<8>().unwrap()));
        let mut conn = connect(&admin).await;
        // A name of hex digits after a fixed prefix: nothing to quote.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        conn.close().await.ok();
        Self {
            url: with_database(&admin, &name),
            name,
            admin,
        }
    }

    /// A direct connection, for checks the store does not offer.
    pub async fn connect(&self) -> PgConnection {
        connect(&self.url).await
    }
}

async fn connect(url: &str) -> PgConnection {
    PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("{URL_VARIABLE} is not a PostgreSQL URL: {e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its
        // own runtime does the async work. FORCE ends sessions a killed server left behind.
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut conn = connect(&admin).await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) && !std::thread::panicking() {
            panic!("cannot drop test database {}", self.name);
        }
    }
}
