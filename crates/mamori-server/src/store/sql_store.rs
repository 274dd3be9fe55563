//! [`SqlStore`], the one implementation of [`Store`] for both databases.
//!
//! Each method is written once inside `db_read!` or `db_write!`, which compile its body once per
//! pool type: a statement (a constant of [`super::sql`]) has one set of binds, and sqlx checks
//! them against both databases' types. A method that writes anything runs in `db_write!`, which
//! on SQLite is its writer connection, in the process's one write turn. The statements of a
//! frictionless purchase run through `db_hot!` instead, which on SQLite reads inline in the
//! requesting task and writes on the hot path's batching writer thread (see [`super::inline`]).
//! Where the dialects really differ the method matches on [`Pool`] itself, or calls what
//! [`super::sqlite`] and [`super::postgres`] define for it — the rate-limit counts, for one, are
//! in memory on SQLite and on connections of their own on PostgreSQL; the list is in the module
//! docs of [`super`].

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Transaction};

use super::hot::HotRows;
use super::inline::{HotPath, Param};
use super::pg_hot::HotConnections;
use super::request_counts::RequestCounts;
use super::rows::{ModelRow, code_of, db, merchants, to_json};
use super::webhooks::QueueEvents;
use super::writes::{LockCard, Writes, authentication_binds};
use super::{
    Accept, Acceptance, CaseOpening, CodeIssue, DeviceNext, Limits, Resend, StepQuery, StepReads,
    Store, StoreError, WrongCode, cases, postgres, sql, sqlite,
};
use crate::model::{
    Assessment, Authentication, AuthenticationId, CardStatus, Cardholder, CardholderId, Device,
    DeviceId, DeviceTrust, Final, FraudReport, IdempotencyKey, KeyId, Mail, MailboxMessage,
    Merchant, MerchantId, MerchantKey, NewMail, OrderRef, Outcome, ReportId, State,
};
use crate::webhooks::NewEvent;

/// A store in a SQLite file or a PostgreSQL database; opened by
/// [`SqliteStore::open`](super::SqliteStore::open),
/// [`PostgresStore::open`](super::PostgresStore::open) or [`super::open`].
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) pool: Pool,
    /// The merchant rows every purchase reads, kept for two seconds (see [`super::hot`]).
    pub(super) hot: Arc<HotRows>,
}

/// The connection pools of the database a store uses.
#[derive(Debug, Clone)]
pub(super) enum Pool {
    /// One SQLite file: a writer connection and read-only connections on sqlx's threads, and
    /// the hot path's own read connections and writer thread; every write takes the one write
    /// turn (see [`super::sqlite`] and [`super::inline`]).
    Sqlite {
        /// The writer connection of every write off the hot path.
        writer: SqlitePool,
        /// Read-only connections for every read off the hot path.
        readers: SqlitePool,
        /// The hot path's read connections, used in the requesting task, its writer thread,
        /// and the process's one write turn (see [`super::inline`]).
        inline: Arc<HotPath>,
        /// The rate-limit counts, in memory (see [`super::request_counts`]).
        counts: Arc<RequestCounts>,
    },
    /// A PostgreSQL database, possibly shared by several instances.
    Postgres {
        /// Every statement but the hot path's and the rate-limit counts.
        pool: PgPool,
        /// The hot path's connections, given back without a test round trip (see
        /// [`super::pg_hot`]).
        hot: Arc<HotConnections>,
        /// The rate-limit counts, committed without waiting for their WAL record to reach the
        /// disk (see [`super::postgres`]); one statement each, so on connections given back
        /// without a test round trip too.
        counters: Arc<HotConnections>,
    },
}

/// How each dialect starts a write transaction (see [`super::sqlite`] for why SQLite's is
/// different).
pub(super) trait BeginWrite {
    /// The database the pool connects to.
    type Database: sqlx::Database;
    /// Starts a transaction that will write.
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Database>, StoreError>;
}

/// Runs `$body` with `$pool` bound to the pool the store reads from, whichever dialect it is:
/// the body is written once and compiled once per pool type.
macro_rules! db_read {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite { readers: $pool, .. } => $body,
            Pool::Postgres { pool: $pool, .. } => $body,
        }
    };
}

/// [`db_read!`] for a body that writes: `$pool` is the pool of SQLite's writer connection, and
/// the body runs holding the process's one write turn (see [`super::inline`]), so it never
/// meets a batch of the hot path's writer thread at the file lock. A body must not call a store
/// method that writes: it would wait for the turn it holds.
macro_rules! db_write {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite {
                writer: $pool,
                inline,
                ..
            } => {
                let _turn = inline.write_turn().await;
                $body
            }
            Pool::Postgres { pool: $pool, .. } => $body,
        }
    };
}

/// One statement of the hot path, its parameters listed once for both dialects: on SQLite a
/// read runs inline in the requesting task and a write is committed by the hot path's writer
/// thread with the writes queued beside it (see [`super::inline`]); on PostgreSQL each runs on
/// a connection of the hot path's own set, given back only once the statement completed (see
/// [`super::pg_hot`]).
///
/// - `optional SQL, [binds], decoder`: the row or `None`, read by the [`ModelRow`] method named.
/// - `execute SQL, [binds]`: a write that commits by itself (on SQLite, with its batch); how
///   many rows it changed. `SQL` is one of [`super::sql`]'s constants (`'static`).
macro_rules! db_hot {
    ($store:expr, optional $sql:expr, [$($bind:expr),* $(,)?], $decode:ident) => {
        match &$store.pool {
            Pool::Sqlite { inline, .. } => {
                inline.read($sql, &[$(&$bind as Param<'_>),*], |row| row.$decode())
            }
            Pool::Postgres { hot, .. } => {
                let mut lease = hot.acquire().await?;
                let fetched = sqlx::query($sql)
                    $(.bind($bind))*
                    .fetch_optional(lease.connection())
                    .await;
                lease.finish(fetched)?.as_ref().map(ModelRow::$decode).transpose()
            }
        }
    };
    ($store:expr, execute $sql:expr, [$($bind:expr),* $(,)?]) => {
        match &$store.pool {
            Pool::Sqlite { inline, .. } => {
                inline.write($sql, &[$(&$bind as Param<'_>),*]).await
            }
            Pool::Postgres { hot, .. } => {
                let mut lease = hot.acquire().await?;
                let done = sqlx::query($sql)
                    $(.bind($bind))*
                    .execute(lease.connection())
                    .await;
                lease.finish(done).map(|done| done.rows_affected())
            }
        }
    };
}

/// `$query` with each of the binds bound in order: the sqlx form of a bind list that is also
/// handed to [`db_hot!`].
macro_rules! bind_all {
    ($query:expr, [$($bind:expr),* $(,)?]) => {
        $query$(.bind($bind))*
    };
}

// The other parts of the store (each its own trait over [`SqlStore`], in its own module)
// write their methods with the same macros.
pub(super) use {bind_all, db_read, db_write};

impl SqlStore {
    /// A store over an opened and migrated `pool`.
    pub(super) fn new(pool: Pool) -> Self {
        Self {
            pool,
            hot: Arc::default(),
        }
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        // Through the writer: a verifier whose writes are stuck is not ready, however well its
        // reads go. On SQLite the hot path's writes have a thread of their own, checked too.
        if let Pool::Sqlite { inline, .. } = &self.pool {
            inline.check_writer()?;
        }
        db_write!(self, |pool| {
            sqlx::query(sql::PING).fetch_one(pool).await.map_err(db)?;
            Ok(())
        })
    }

    async fn insert_merchant(
        &self,
        merchant: &Merchant,
        key: &MerchantKey,
    ) -> Result<(), StoreError> {
        let written = db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sql::INSERT_MERCHANT)
                .bind(merchant.id.as_str())
                .bind(&merchant.name)
                .bind(merchant.sandbox)
                .bind(merchant.created_at)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            for origin in &merchant.origins {
                sqlx::query(sql::INSERT_MERCHANT_ORIGIN)
                    .bind(merchant.id.as_str())
                    .bind(origin)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            tx.insert_merchant_key(key).await?;
            tx.commit().await.map_err(db)
        });
        self.hot.forget();
        written
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        if let Some(kept) = self.hot.merchant(id) {
            return Ok(Some(kept));
        }
        let read = self.hot.generation();
        let merchant = db_read!(self, |pool| {
            let rows = sqlx::query(sql::MERCHANT)
                .bind(id.as_str())
                .fetch_all(pool)
                .await
                .map_err(db)?;
            merchants(&rows).map(|found| found.into_iter().next())
        })?;
        if let Some(merchant) = &merchant {
            self.hot.keep_merchant(read, merchant);
        }
        Ok(merchant)
    }

    async fn merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        db_read!(self, |pool| {
            let rows = sqlx::query(sql::MERCHANTS)
                .fetch_all(pool)
                .await
                .map_err(db)?;
            merchants(&rows)
        })
    }

    async fn merchant_keys(
        &self,
        merchant_id: &MerchantId,
    ) -> Result<Vec<MerchantKey>, StoreError> {
        if let Some(kept) = self.hot.keys(merchant_id) {
            return Ok(kept);
        }
        let read = self.hot.generation();
        let keys: Vec<MerchantKey> = db_read!(self, |pool| {
            sqlx::query(sql::MERCHANT_KEYS)
                .bind(merchant_id.as_str())
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(ModelRow::merchant_key)
                .collect::<Result<_, _>>()
        })?;
        self.hot.keep_keys(read, merchant_id, &keys);
        Ok(keys)
    }

    async fn key_by_kid(&self, kid: &KeyId) -> Result<Option<MerchantKey>, StoreError> {
        if let Some(kept) = self.hot.key(kid) {
            return Ok(Some(kept));
        }
        let read = self.hot.generation();
        let key = db_read!(self, |pool| {
            sqlx::query(sql::KEY_BY_KID)
                .bind(kid.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(ModelRow::merchant_key)
                .transpose()
        })?;
        if let Some(key) = &key {
            self.hot.keep_key(read, key);
        }
        Ok(key)
    }

    async fn rotate_key(&self, key: &MerchantKey, retire_at: i64) -> Result<(), StoreError> {
        let written = db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sql::RETIRE_KEYS)
                .bind(retire_at)
                .bind(key.merchant_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.insert_merchant_key(key).await?;
            tx.commit().await.map_err(db)
        });
        self.hot.forget();
        written
    }

    async fn insert_cardholder(&self, c: &Cardholder) -> Result<(), StoreError> {
        db_write!(self, |pool| {
            let mut connection = pool.acquire().await.map_err(db)?;
            connection.insert_cardholder(c).await
        })
    }

    async fn cardholder(&self, id: &CardholderId) -> Result<Option<Cardholder>, StoreError> {
        db_hot!(self, optional sql::CARDHOLDER, [id.as_str()], cardholder)
    }

    async fn cardholder_by_ref(&self, card_ref: &str) -> Result<Option<Cardholder>, StoreError> {
        db_hot!(self, optional sql::CARDHOLDER_BY_REF, [card_ref], cardholder)
    }

    async fn cardholders(&self) -> Result<Vec<Cardholder>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::CARDHOLDERS)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(ModelRow::cardholder)
                .collect()
        })
    }

    async fn set_card_status(
        &self,
        id: &CardholderId,
        status: CardStatus,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(sql::SET_CARD_STATUS)
                .bind(status.as_str())
                .bind(id.as_str())
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError> {
        db_hot!(self, optional sql::DEVICE, [id.as_str()], device)
    }

    async fn trust(
        &self,
        device_id: &DeviceId,
        cardholder_id: &CardholderId,
    ) -> Result<Option<DeviceTrust>, StoreError> {
        db_hot!(
            self,
            optional sql::TRUST,
            [device_id.as_str(), cardholder_id.as_str()],
            trust
        )
    }

    async fn revoke_trust(
        &self,
        cardholder_id: &CardholderId,
        now: i64,
    ) -> Result<u64, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(sql::REVOKE_TRUST)
                .bind(now)
                .bind(cardholder_id.as_str())
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected())
        })
    }

    async fn insert_authentication(
        &self,
        a: &Authentication,
        card_ref: Option<&str>,
    ) -> Result<(), StoreError> {
        // One statement, which commits by itself: a transaction around it would cost two more
        // round trips to the database.
        let inserted = authentication_binds!(
            a,
            card_ref,
            db_hot!(self, execute sql::INSERT_AUTHENTICATION,)
        )?;
        if inserted == 0 {
            return Err(StoreError::OrderInProgress);
        }
        Ok(())
    }

    async fn insert_authentication_with_key(
        &self,
        a: &Authentication,
        key: &IdempotencyKey,
        card_ref: Option<&str>,
    ) -> Result<(), StoreError> {
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            tx.insert_authentication(a, card_ref).await?;
            // A key taken meanwhile is a unique violation: `Conflict`, and the transaction
            // (with the authentication) is rolled back as it drops.
            tx.insert_idempotency_key(key).await?;
            tx.commit().await.map_err(db)
        })
    }

    async fn idempotency_key(
        &self,
        merchant_id: &MerchantId,
        key: &str,
    ) -> Result<Option<IdempotencyKey>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::IDEMPOTENCY_KEY)
                .bind(merchant_id.as_str())
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(ModelRow::idempotency_key)
                .transpose()
        })
    }

    async fn authentication(
        &self,
        id: &AuthenticationId,
    ) -> Result<Option<Authentication>, StoreError> {
        db_hot!(self, optional sql::AUTHENTICATION, [id.as_str()], authentication)
    }

    async fn live_authentication_for_order(
        &self,
        merchant_id: &MerchantId,
        order_ref: &OrderRef,
    ) -> Result<Option<Authentication>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::LIVE_AUTHENTICATION_FOR_ORDER)
                .bind(merchant_id.as_str())
                .bind(order_ref.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(ModelRow::authentication)
                .transpose()
        })
    }

    async fn due_for_expiry(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Authentication>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::DUE_FOR_EXPIRY)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(ModelRow::authentication)
                .collect()
        })
    }

    async fn device_step_reads(&self, q: &StepQuery<'_>) -> Result<Option<StepReads>, StoreError> {
        db_hot!(
            self,
            optional sql::DEVICE_STEP_READS,
            [
                q.authentication_id.as_str(),
                q.claimed_device.map(DeviceId::as_str),
                q.ip,
                q.short_since,
                q.long_since,
            ],
            step_reads
        )
    }

    async fn record_device_step(
        &self,
        id: &AuthenticationId,
        now: i64,
        step: &Assessment,
        next: &DeviceNext,
        mail: Option<&NewMail>,
        events: &[NewEvent],
    ) -> Result<bool, StoreError> {
        let reasons = to_json(&step.risk_reasons)?;
        let statement = match next {
            DeviceNext::Conclude { .. } => sql::DEVICE_STEP_CONCLUDE,
            DeviceNext::Challenge(_) => sql::DEVICE_STEP_CHALLENGE,
        };
        let store = self;
        // Runs the statement with its parameters `$binds`, listed once below for both ways.
        macro_rules! run {
            ($binds:tt) => {
                if mail.is_none() && events.is_empty() {
                    // Nothing else to write (a frictionless step of a merchant without a
                    // webhook endpoint): the conditional update commits by itself, saving the
                    // round trips of a transaction around it, and on SQLite is committed in
                    // a batch by the hot path's writer thread.
                    let changed = db_hot!(store, execute statement, $binds)?;
                    Ok(changed == 1)
                } else {
                    db_write!(store, |pool| {
                        let mut tx = pool.begin_write().await?;
                        let done = bind_all!(sqlx::query(statement), $binds)
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                        if done.rows_affected() != 1 {
                            return Ok(false);
                        }
                        tx.queue_owed(mail, events, now).await?;
                        tx.commit().await.map_err(db)?;
                        Ok(true)
                    })
                }
            };
        }
        // `$1`–`$10` (see `sql::device_step!`), then the statement's own.
        macro_rules! run_with {
            ($($tail:expr),*) => {
                run!([
                    id.as_str(),
                    now,
                    step.risk_score,
                    &reasons,
                    step.device_id.as_ref().map(DeviceId::as_str),
                    &step.fingerprint,
                    &step.ip,
                    step.browser
                        .language
                        .as_ref()
                        .map(crate::model::LanguageTag::as_str),
                    step.browser.timezone.map(crate::model::TimeZone::as_str),
                    step.browser
                        .user_agent
                        .as_ref()
                        .map(crate::model::UserAgent::as_str),
                    $($tail),*
                ])
            };
        }
        match next {
            DeviceNext::Conclude { end, outcome } => run_with!(
                end.as_str(),
                code_of(&outcome.status),
                code_of(&outcome.eci),
                code_of(&outcome.method),
                outcome.reason.as_ref().map(code_of),
                &outcome.result_token
            ),
            DeviceNext::Challenge(code) => run_with!(&code.digest, code.expires_at),
        }
    }

    async fn accept_code(
        &self,
        id: &AuthenticationId,
        now: i64,
        limits: &Limits,
        accept: &Acceptance<'_>,
    ) -> Result<Accept, StoreError> {
        let Acceptance {
            digest,
            outcome,
            trust,
            events,
        } = *accept;
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Whether the card may trust a browser now, decided before anything is written so
            // that the authentication names only a device that is stored. The lock first, then
            // the read: see `sql::LOCK_CARD`.
            let trust = match trust {
                None => None,
                Some(trust) => {
                    tx.lock_card(trust.cardholder_id).await?;
                    let open_reports: i64 = sqlx::query(sql::OPEN_REPORTS)
                        .bind(trust.cardholder_id.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .and_then(|row| row.try_get(0))
                        .map_err(db)?;
                    (open_reports == 0).then_some(trust)
                }
            };
            let done = sqlx::query(sql::ACCEPT_CODE)
                .bind(code_of(&outcome.status))
                .bind(code_of(&outcome.eci))
                .bind(code_of(&outcome.method))
                .bind(outcome.reason.as_ref().map(code_of))
                .bind(&outcome.result_token)
                .bind(now)
                .bind(trust.as_ref().map(|t| t.device.id().as_str()))
                .bind(id.as_str())
                .bind(digest)
                .bind(limits.max_attempts)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if done.rows_affected() != 1 {
                return Ok(Accept::Refused);
            }
            if let Some(trust) = &trust {
                tx.write_device(&trust.device).await?;
                tx.upsert_trust(
                    trust.device.id(),
                    trust.cardholder_id,
                    now,
                    trust.expires_at,
                )
                .await?;
            }
            // The alert says a browser is newly trusted: it goes only with the trust.
            tx.queue_owed(trust.and_then(|t| t.alert), events, now)
                .await?;
            tx.commit().await.map_err(db)?;
            Ok(Accept::Accepted {
                trusted: trust.is_some(),
            })
        })
    }

    async fn reject_code(
        &self,
        id: &AuthenticationId,
        now: i64,
        limits: &Limits,
        failure: &Outcome,
        alert: &NewMail,
        failure_events: &[NewEvent],
    ) -> Result<WrongCode, StoreError> {
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(sql::REJECT_CODE)
                .bind(limits.max_attempts)
                .bind(code_of(&failure.status))
                .bind(code_of(&failure.eci))
                .bind(code_of(&failure.method))
                .bind(failure.reason.as_ref().map(code_of))
                .bind(&failure.result_token)
                .bind(now)
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            let Some(row) = row else {
                return Ok(WrongCode::NotChallenging);
            };
            let attempts: i64 = row.try_get("attempts").map_err(db)?;
            let state: String = row.try_get("state").map_err(db)?;
            let answer = if state == State::Failed.as_str() {
                tx.queue_owed(Some(alert), failure_events, now).await?;
                WrongCode::Failed
            } else {
                WrongCode::Counted {
                    attempts_left: limits.max_attempts - attempts,
                }
            };
            tx.commit().await.map_err(db)?;
            Ok(answer)
        })
    }

    async fn resend_code(
        &self,
        id: &AuthenticationId,
        now: i64,
        code: &CodeIssue,
        limits: &Limits,
        mail: &NewMail,
    ) -> Result<Resend, StoreError> {
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(sql::RESEND_CODE)
                .bind(&code.digest)
                .bind(code.expires_at)
                .bind(now)
                .bind(id.as_str())
                .bind(limits.max_resends)
                .bind(now - limits.resend_cooldown)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if done.rows_affected() != 1 {
                return Ok(Resend::Refused);
            }
            tx.insert_mail(mail, now).await?;
            tx.commit().await.map_err(db)?;
            Ok(Resend::Sent)
        })
    }

    // The transition, its outcome and what it queues are each one argument of the one
    // conditional change.
    #[allow(clippy::too_many_arguments)]
    async fn conclude(
        &self,
        id: &AuthenticationId,
        now: i64,
        from: State,
        to: Final,
        outcome: &Outcome,
        mail: Option<&NewMail>,
        events: &[NewEvent],
    ) -> Result<bool, StoreError> {
        let statement = if to == Final::Expired {
            sql::CONCLUDE_EXPIRED
        } else {
            sql::CONCLUDE_LIVE
        };
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(statement)
                .bind(to.as_str())
                .bind(code_of(&outcome.status))
                .bind(code_of(&outcome.eci))
                .bind(code_of(&outcome.method))
                .bind(outcome.reason.as_ref().map(code_of))
                .bind(&outcome.result_token)
                .bind(now)
                .bind(id.as_str())
                .bind(from.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            tx.queue_owed(mail, events, now).await?;
            tx.commit().await.map_err(db)?;
            Ok(true)
        })
    }

    async fn report_fraud(
        &self,
        report: &FraudReport,
        opening: &CaseOpening<'_>,
    ) -> Result<bool, StoreError> {
        let case = opening.case;
        let risk_reasons = to_json(&case.risk_reasons)?;
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(sql::INSERT_REPORT)
                .bind(report.id.as_str())
                .bind(report.cardholder_id.as_str())
                .bind(report.authentication_id.as_str())
                .bind(report.created_at)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            // The lock before the revocation: see `sql::LOCK_CARD`.
            tx.lock_card(&report.cardholder_id).await?;
            sqlx::query(sql::REVOKE_TRUST)
                .bind(report.created_at)
                .bind(report.cardholder_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query(cases::INSERT_CASE)
                .bind(case.id.as_str())
                .bind(case.report_id.as_str())
                .bind(case.authentication_id.as_str())
                .bind(case.cardholder_id.as_str())
                .bind(case.merchant_id.as_str())
                .bind(&case.merchant_name)
                .bind(case.amount.get())
                .bind(case.currency.as_str())
                .bind(case.purchased_at)
                .bind(&case.browser)
                .bind(case.method.as_ref().map(code_of))
                .bind(case.status.as_ref().map(code_of))
                .bind(case.reason.as_ref().map(code_of))
                .bind(&risk_reasons)
                .bind(case.state.as_str())
                .bind(case.note.as_deref())
                .bind(case.created_at)
                .bind(case.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.queue_owed(Some(opening.mail), opening.events, report.created_at)
                .await?;
            tx.commit().await.map_err(db)?;
            Ok(true)
        })
    }

    async fn reports(&self, open_only: bool) -> Result<Vec<FraudReport>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::REPORTS)
                .bind(open_only)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(ModelRow::report)
                .collect()
        })
    }

    async fn report_for(
        &self,
        authentication_id: &AuthenticationId,
    ) -> Result<Option<FraudReport>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::REPORT_FOR)
                .bind(authentication_id.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(ModelRow::report)
                .transpose()
        })
    }

    async fn resolve_report(&self, id: &ReportId, now: i64) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(sql::RESOLVE_REPORT)
                .bind(now)
                .bind(id.as_str())
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn count_request(&self, bucket: &str, window_start: i64) -> Result<i64, StoreError> {
        match &self.pool {
            Pool::Sqlite { counts, .. } => Ok(counts.count(bucket, window_start)),
            Pool::Postgres { counters, .. } => {
                let mut lease = counters.acquire().await?;
                let counted = sqlx::query(sql::COUNT_REQUEST)
                    .bind(bucket)
                    .bind(window_start)
                    .fetch_one(lease.connection())
                    .await;
                lease.finish(counted)?.try_get(0).map_err(db)
            }
        }
    }

    async fn uncount_request(&self, bucket: &str, window_start: i64) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite { counts, .. } => {
                counts.uncount(bucket, window_start);
                Ok(())
            }
            Pool::Postgres { counters, .. } => {
                let mut lease = counters.acquire().await?;
                let taken_back = sqlx::query(sql::UNCOUNT_REQUEST)
                    .bind(bucket)
                    .bind(window_start)
                    .execute(lease.connection())
                    .await;
                lease.finish(taken_back).map(|_| ())
            }
        }
    }

    async fn requests_counted(&self, bucket: &str, window_start: i64) -> Result<i64, StoreError> {
        match &self.pool {
            Pool::Sqlite { counts, .. } => Ok(counts.counted(bucket, window_start)),
            Pool::Postgres { counters, .. } => {
                let mut lease = counters.acquire().await?;
                let counted = sqlx::query(sql::REQUESTS_COUNTED)
                    .bind(bucket)
                    .bind(window_start)
                    .fetch_optional(lease.connection())
                    .await;
                lease
                    .finish(counted)?
                    .map_or(Ok(0), |row| row.try_get(0))
                    .map_err(db)
            }
        }
    }

    async fn forget_requests(&self, before: i64) -> Result<u64, StoreError> {
        match &self.pool {
            Pool::Sqlite { counts, .. } => Ok(counts.forget(before)),
            Pool::Postgres { counters, .. } => {
                let mut lease = counters.acquire().await?;
                let done = sqlx::query(sql::FORGET_REQUESTS)
                    .bind(before)
                    .execute(lease.connection())
                    .await;
                Ok(lease.finish(done)?.rows_affected())
            }
        }
    }

    async fn enqueue_mail(&self, mail: &NewMail, now: i64) -> Result<(), StoreError> {
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            tx.insert_mail(mail, now).await?;
            tx.commit().await.map_err(db)
        })
    }

    async fn claim_mail(&self, now: i64, lease: i64, limit: i64) -> Result<Vec<Mail>, StoreError> {
        // The one statement each dialect writes its own way; parameters and result are the same.
        let statement = match self.pool {
            Pool::Sqlite { .. } => sqlite::CLAIM_MAIL,
            Pool::Postgres { .. } => postgres::CLAIM_MAIL,
        };
        let mut mails = db_write!(self, |pool| {
            sqlx::query(statement)
                .bind(now + lease)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(ModelRow::mail)
                .collect::<Result<Vec<_>, _>>()
        })?;
        // `RETURNING` promises no order; the claim's own is codes first, then oldest.
        mails.sort_by_key(|m| (m.priority(), m.id));
        Ok(mails)
    }

    async fn renew_mail(
        &self,
        id: i64,
        attempts: i64,
        claimed_until: i64,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(sql::RENEW_MAIL)
                .bind(claimed_until)
                .bind(id)
                .bind(attempts)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn mail_sent(&self, id: i64, attempts: i64, now: i64) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(sql::MAIL_SENT)
                .bind(now)
                .bind(id)
                .bind(attempts)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn mail_failed(
        &self,
        id: i64,
        attempts: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(sql::MAIL_FAILED)
                .bind(error)
                .bind(retry_at)
                .bind(retry_at.is_none())
                .bind(id)
                .bind(attempts)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn mail_owed(&self) -> Result<i64, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::MAIL_OWED)
                .fetch_one(pool)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(db)
        })
    }

    async fn mail(&self, id: i64) -> Result<Option<Mail>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::OUTBOX_MAIL)
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(ModelRow::mail)
                .transpose()
        })
    }

    async fn deliver_to_mailbox(&self, mail: &Mail, now: i64) -> Result<(), StoreError> {
        let delivered = NewMail {
            kind: mail.kind.clone(),
            recipient: mail.recipient.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            sandbox: None,
            dedupe: None,
            thread: None,
        };
        db_write!(self, |pool| {
            let mut connection = pool.acquire().await.map_err(db)?;
            connection.insert_mailbox(&delivered, now).await
        })
    }

    async fn mailbox(&self, limit: i64) -> Result<Vec<MailboxMessage>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::MAILBOX)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(ModelRow::mailbox_message)
                .collect()
        })
    }

    async fn sandbox_mail(
        &self,
        merchant_id: &MerchantId,
        limit: i64,
    ) -> Result<Vec<MailboxMessage>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(sql::SANDBOX_MAIL)
                .bind(merchant_id.as_str())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(ModelRow::mailbox_message)
                .collect()
        })
    }
}
