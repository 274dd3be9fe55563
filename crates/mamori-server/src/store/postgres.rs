//! The PostgreSQL backend: one database shared by any number of verifier instances.
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
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

use super::rows::{code_of, db, parse_code, parse_json, row_decoders};
use super::{
    Acceptance, CodeIssue, DeviceNext, DeviceStep, HistoryQuery, Limits, Resend, Store, StoreError,
    WrongCode,
};
use crate::model::{
    Authentication, BrowserInfo, CardStatus, Cardholder, ChallengePreference, Device, FraudReport,
    IdempotencyKey, Locale, Mail, MailboxMessage, Merchant, MerchantKey, NewMail, Outcome, State,
};
use crate::risk::History;

/// The migrations, in order. A database remembers how many it applied in `schema_version`;
/// a file is never edited once released, only followed by a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_sandbox_idempotency.sql"),
    include_str!("../../migrations/postgres/0003_one_shape.sql"),
];

/// The advisory lock key held while migrating ("mamori" in ASCII): instances starting together
/// wait for the first one instead of creating the same tables twice.
const MIGRATION_LOCK: i64 = 0x6d61_6d6f_7269;

/// Connections per instance. Each request holds one for a few short statements, so a handful
/// serves hundreds of concurrent requests; kept small because every instance opens its own
/// and PostgreSQL's default `max_connections` is 100.
const MAX_CONNECTIONS: u32 = 10;

/// How long a request waits for a free connection before failing (as `503`), rather than
/// hanging while the database is unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections are replaced after this long, so a failover or a DNS change behind the URL is
/// picked up without restarting the instance.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Idle connections beyond the first are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A store in one PostgreSQL database, shareable by several verifier instances.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// optionally `?sslmode=require` and friends) and applies the migrations it lacks. The
    /// database must exist.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the URL is malformed, the server cannot be reached or
    /// refuses the login, or a migration fails.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url).map_err(db)?;
        // Shows which sessions are ours in `pg_stat_activity`, unless the URL says otherwise.
        if options.get_application_name().is_none() {
            options = options.application_name("mamori");
        }
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .max_lifetime(MAX_LIFETIME)
            .idle_timeout(IDLE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(db)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        // DDL is transactional in PostgreSQL: a failed migration leaves nothing behind, and the
        // transaction-scoped advisory lock is released with the commit.
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let applied: Option<i64> = sqlx::query("SELECT MAX(version) FROM schema_version")
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(db)?;
        let applied = usize::try_from(applied.unwrap_or(0)).unwrap_or(0);
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(db)?;
            let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(db)
    }
}

row_decoders!(PgRow);

fn merchant_from_row(row: &PgRow) -> Result<Merchant, StoreError> {
    Ok(Merchant {
        id: row.try_get("id").map_err(db)?,
        name: row.try_get("name").map_err(db)?,
        origins: row.try_get("origins").map_err(db)?,
        sandbox: row.try_get("sandbox").map_err(db)?,
        created_at: row.try_get("created_at").map_err(db)?,
    })
}

/// Selects merchants with their origins gathered into one array, so one statement reads a
/// merchant whole; `$tail` filters, groups and orders.
macro_rules! merchant_select {
    ($tail:literal) => {
        concat!(
            "SELECT m.id, m.name, m.sandbox, m.created_at, ",
            "COALESCE(array_agg(o.origin ORDER BY o.origin) FILTER (WHERE o.origin IS NOT NULL), ",
            "'{}') AS origins ",
            "FROM merchants m LEFT JOIN merchant_origins o ON o.merchant_id = m.id ",
            $tail
        )
    };
}

/// Queues `mail` in the outbox, or keeps a sandbox merchant's mail in its mailbox unsent.
async fn insert_mail(
    tx: &mut Transaction<'static, Postgres>,
    mail: &NewMail,
    now: i64,
) -> Result<(), StoreError> {
    if mail.sandbox.is_some() {
        return insert_mailbox(tx, mail, now).await;
    }
    sqlx::query(
        "INSERT INTO outbox (kind, recipient, subject, text_body, html_body, created_at, \
         attempts, next_attempt_at, failed) VALUES ($1, $2, $3, $4, $5, $6, 0, $6, FALSE)",
    )
    .bind(&mail.kind)
    .bind(&mail.recipient)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// Puts `mail` in the mailbox table: the demo's delivered mail, or a sandbox merchant's kept
/// mail when `mail.sandbox` says whose.
async fn insert_mailbox(
    tx: &mut Transaction<'static, Postgres>,
    mail: &NewMail,
    now: i64,
) -> Result<(), StoreError> {
    let sandbox = mail.sandbox.as_ref();
    sqlx::query(
        "INSERT INTO mailbox (kind, recipient, subject, text_body, html_body, delivered_at, \
         merchant_id, authentication_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&mail.kind)
    .bind(&mail.recipient)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .bind(sandbox.map(|s| &s.merchant_id))
    .bind(sandbox.map(|s| &s.authentication_id))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

async fn insert_auth(
    tx: &mut Transaction<'static, Postgres>,
    a: &Authentication,
) -> Result<(), StoreError> {
    let reasons =
        serde_json::to_string(&a.risk_reasons).map_err(|e| StoreError::Database(e.to_string()))?;
    sqlx::query(
        "INSERT INTO authentications (id, merchant_id, cardholder_id, amount, currency, \
         order_ref, challenge_preference, client_secret_hash, state, created_at, expires_at, \
         risk_reasons, attempts, resends, sandbox_card) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&a.id)
    .bind(&a.merchant_id)
    .bind(&a.cardholder_id)
    .bind(a.amount)
    .bind(&a.currency)
    .bind(&a.order_ref)
    .bind(a.challenge_preference.as_str())
    .bind(&a.client_secret_hash)
    .bind(a.state.as_str())
    .bind(a.created_at)
    .bind(a.expires_at)
    .bind(reasons)
    .bind(a.attempts)
    .bind(a.resends)
    .bind(a.sandbox_card.map(crate::sandbox::SandboxCard::as_str))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

async fn insert_idempotency_key(
    tx: &mut Transaction<'static, Postgres>,
    key: &IdempotencyKey,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO idempotency_keys (merchant_id, key, request_hash, authentication_id, \
         created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.merchant_id)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(&key.authentication_id)
    .bind(key.created_at)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

async fn insert_device(
    tx: &mut Transaction<'static, Postgres>,
    device: &Device,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO devices (id, cardholder_id, merchant_id, fingerprint, created_at, \
         expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&device.id)
    .bind(&device.cardholder_id)
    .bind(&device.merchant_id)
    .bind(&device.fingerprint)
    .bind(device.created_at)
    .bind(device.expires_at)
    .bind(device.revoked_at)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn insert_merchant(
        &self,
        merchant: &Merchant,
        key: &MerchantKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO merchants (id, name, sandbox, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&merchant.id)
        .bind(&merchant.name)
        .bind(merchant.sandbox)
        .bind(merchant.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO merchant_origins (merchant_id, origin) SELECT $1, unnest($2::TEXT[])",
        )
        .bind(&merchant.id)
        .bind(&merchant.origins)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO merchant_keys (kid, merchant_id, secret, created_at, retire_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&merchant.id)
        .bind(&key.secret)
        .bind(key.created_at)
        .bind(key.retire_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn merchant(&self, id: &str) -> Result<Option<Merchant>, StoreError> {
        sqlx::query(merchant_select!("WHERE m.id = $1 GROUP BY m.id"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(merchant_from_row)
            .transpose()
    }

    async fn merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        sqlx::query(merchant_select!(
            "GROUP BY m.id ORDER BY m.created_at, m.id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(merchant_from_row)
        .collect()
    }

    async fn merchant_keys(&self, merchant_id: &str) -> Result<Vec<MerchantKey>, StoreError> {
        sqlx::query(
            "SELECT kid, merchant_id, secret, created_at, retire_at FROM merchant_keys \
             WHERE merchant_id = $1 ORDER BY created_at DESC, seq DESC",
        )
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(key_from_row)
        .collect()
    }

    async fn key_by_kid(&self, kid: &str) -> Result<Option<MerchantKey>, StoreError> {
        sqlx::query(
            "SELECT kid, merchant_id, secret, created_at, retire_at FROM merchant_keys \
             WHERE kid = $1",
        )
        .bind(kid)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(key_from_row)
        .transpose()
    }

    async fn rotate_key(&self, key: &MerchantKey, retire_at: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE merchant_keys SET retire_at = $1 WHERE merchant_id = $2 \
             AND (retire_at IS NULL OR retire_at > $1)",
        )
        .bind(retire_at)
        .bind(&key.merchant_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO merchant_keys (kid, merchant_id, secret, created_at, retire_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&key.merchant_id)
        .bind(&key.secret)
        .bind(key.created_at)
        .bind(key.retire_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn insert_cardholder(&self, c: &Cardholder) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cardholders (id, card_ref, last4, email, locale, status, \
             frictionless_ceiling, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&c.id)
        .bind(&c.card_ref)
        .bind(&c.last4)
        .bind(&c.email)
        .bind(c.locale.as_str())
        .bind(c.status.as_str())
        .bind(c.frictionless_ceiling)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn cardholder(&self, id: &str) -> Result<Option<Cardholder>, StoreError> {
        sqlx::query("SELECT * FROM cardholders WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(cardholder_from_row)
            .transpose()
    }

    async fn cardholder_by_ref(&self, card_ref: &str) -> Result<Option<Cardholder>, StoreError> {
        sqlx::query("SELECT * FROM cardholders WHERE card_ref = $1")
            .bind(card_ref)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(cardholder_from_row)
            .transpose()
    }

    async fn cardholders(&self) -> Result<Vec<Cardholder>, StoreError> {
        sqlx::query("SELECT * FROM cardholders ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(cardholder_from_row)
            .collect()
    }

    async fn set_card_status(&self, id: &str, status: CardStatus) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE cardholders SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let Some(row) = sqlx::query("SELECT * FROM devices WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        Ok(Some(Device {
            id: row.try_get("id").map_err(db)?,
            cardholder_id: row.try_get("cardholder_id").map_err(db)?,
            merchant_id: row.try_get("merchant_id").map_err(db)?,
            fingerprint: row.try_get("fingerprint").map_err(db)?,
            created_at: row.try_get("created_at").map_err(db)?,
            expires_at: row.try_get("expires_at").map_err(db)?,
            revoked_at: row.try_get("revoked_at").map_err(db)?,
        }))
    }

    async fn revoke_devices(&self, cardholder_id: &str, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE devices SET revoked_at = $1 WHERE cardholder_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(cardholder_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn insert_authentication(&self, a: &Authentication) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_auth(&mut tx, a).await?;
        tx.commit().await.map_err(db)
    }

    async fn insert_authentication_with_key(
        &self,
        a: &Authentication,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_auth(&mut tx, a).await?;
        // A key taken meanwhile is a unique violation: `Conflict`, and the transaction (with
        // the authentication) is rolled back as it drops.
        insert_idempotency_key(&mut tx, key).await?;
        tx.commit().await.map_err(db)
    }

    async fn idempotency_key(
        &self,
        merchant_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyKey>, StoreError> {
        sqlx::query("SELECT * FROM idempotency_keys WHERE merchant_id = $1 AND key = $2")
            .bind(merchant_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(idempotency_from_row)
            .transpose()
    }

    async fn authentication(&self, id: &str) -> Result<Option<Authentication>, StoreError> {
        sqlx::query("SELECT * FROM authentications WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(auth_from_row)
            .transpose()
    }

    async fn history(&self, q: &HistoryQuery<'_>) -> Result<History, StoreError> {
        // One round trip for every count. A missing key (`NULL`) matches no row, so its counts
        // are zero and its lookups empty, as when the SQLite backend skips them.
        let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM authentications \
                 WHERE cardholder_id = $1 AND created_at >= $4 AND id <> $6) AS card_recent, \
             (SELECT COUNT(*) FROM authentications \
                 WHERE device_id = $2 AND created_at >= $4 AND id <> $6) AS device_recent, \
             (SELECT COUNT(*) FROM authentications \
                 WHERE ip = $3 AND created_at >= $4 AND id <> $6) AS ip_recent, \
             (SELECT COUNT(*) FROM authentications \
                 WHERE cardholder_id = $1 AND created_at >= $5 AND id <> $6 \
                 AND state = 'failed') AS failed_challenges, \
             (SELECT COALESCE(SUM(attempts), 0)::BIGINT FROM authentications \
                 WHERE cardholder_id = $1 AND created_at >= $5 AND id <> $6) AS wrong_codes, \
             EXISTS (SELECT 1 FROM fraud_reports \
                 WHERE cardholder_id = $1 AND resolved_at IS NULL) AS open_report, \
             (SELECT MAX(amount) FROM authentications \
                 WHERE cardholder_id = $1 AND state = 'succeeded' AND id <> $6) \
                 AS usual_max_amount, \
             last.language, last.timezone \
             FROM (SELECT 1) AS one LEFT JOIN LATERAL ( \
                 SELECT language, timezone FROM authentications \
                 WHERE cardholder_id = $1 AND state = 'succeeded' AND id <> $6 \
                 ORDER BY finished_at DESC NULLS LAST LIMIT 1) AS last ON TRUE",
        )
        .bind(q.cardholder_id)
        .bind(q.device_id)
        .bind(q.ip)
        .bind(q.short_since)
        .bind(q.long_since)
        .bind(q.authentication_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(History {
            card_recent: row.try_get("card_recent").map_err(db)?,
            device_recent: row.try_get("device_recent").map_err(db)?,
            ip_recent: row.try_get("ip_recent").map_err(db)?,
            failed_challenges: row.try_get("failed_challenges").map_err(db)?,
            wrong_codes: row.try_get("wrong_codes").map_err(db)?,
            open_report: row.try_get("open_report").map_err(db)?,
            usual_max_amount: row.try_get("usual_max_amount").map_err(db)?,
            last_language: row.try_get("language").map_err(db)?,
            last_timezone: row.try_get("timezone").map_err(db)?,
        })
    }

    async fn record_device_step(
        &self,
        id: &str,
        now: i64,
        step: &DeviceStep,
        next: &DeviceNext,
        mail: Option<&NewMail>,
    ) -> Result<bool, StoreError> {
        let reasons = serde_json::to_string(&step.risk_reasons)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let mut tx = self.write().await?;
        let query = match next {
            DeviceNext::Conclude { state, outcome } => sqlx::query(
                "UPDATE authentications SET risk_score = $3, risk_reasons = $4, device_id = $5, \
                 fingerprint = $6, ip = $7, language = $8, timezone = $9, user_agent = $10, \
                 state = $11, status = $12, eci = $13, method = $14, reason = $15, \
                 result_token = $16, finished_at = $2 \
                 WHERE id = $1 AND state = 'pending' AND expires_at > $2",
            )
            .bind(id)
            .bind(now)
            .bind(step.risk_score)
            .bind(reasons)
            .bind(&step.device_id)
            .bind(&step.fingerprint)
            .bind(&step.ip)
            .bind(&step.browser.language)
            .bind(&step.browser.timezone)
            .bind(&step.browser.user_agent)
            .bind(state.as_str())
            .bind(code_of(&outcome.status))
            .bind(code_of(&outcome.eci))
            .bind(code_of(&outcome.method))
            .bind(outcome.reason.as_ref().map(code_of))
            .bind(&outcome.result_token),
            DeviceNext::Challenge(code) => sqlx::query(
                "UPDATE authentications SET risk_score = $3, risk_reasons = $4, device_id = $5, \
                 fingerprint = $6, ip = $7, language = $8, timezone = $9, user_agent = $10, \
                 state = 'challenging', code_digest = $11, code_expires_at = $12, \
                 last_sent_at = $2 \
                 WHERE id = $1 AND state = 'pending' AND expires_at > $2",
            )
            .bind(id)
            .bind(now)
            .bind(step.risk_score)
            .bind(reasons)
            .bind(&step.device_id)
            .bind(&step.fingerprint)
            .bind(&step.ip)
            .bind(&step.browser.language)
            .bind(&step.browser.timezone)
            .bind(&step.browser.user_agent)
            .bind(&code.digest)
            .bind(code.expires_at),
        };
        let done = query.execute(&mut *tx).await.map_err(db)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(mail) = mail {
            insert_mail(&mut tx, mail, now).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn accept_code(
        &self,
        id: &str,
        now: i64,
        limits: &Limits,
        accept: &Acceptance<'_>,
    ) -> Result<bool, StoreError> {
        let Acceptance {
            digest,
            outcome,
            device,
            mail,
        } = *accept;
        let mut tx = self.write().await?;
        // Clearing `code_digest` in the same statement is what makes the code single-use: a
        // concurrent acceptance waits for this row lock, re-reads the row, and no longer matches.
        let done = sqlx::query(
            "UPDATE authentications SET state = 'succeeded', code_digest = NULL, status = $1, \
             eci = $2, method = $3, reason = $4, result_token = $5, finished_at = $6, \
             device_id = COALESCE($7, device_id) \
             WHERE id = $8 AND state = 'challenging' AND code_digest = $9 \
             AND code_expires_at > $6 AND attempts < $10 AND expires_at > $6",
        )
        .bind(code_of(&outcome.status))
        .bind(code_of(&outcome.eci))
        .bind(code_of(&outcome.method))
        .bind(outcome.reason.as_ref().map(code_of))
        .bind(&outcome.result_token)
        .bind(now)
        .bind(device.map(|d| d.id.as_str()))
        .bind(id)
        .bind(digest)
        .bind(limits.max_attempts)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(device) = device {
            insert_device(&mut tx, device).await?;
        }
        if let Some(mail) = mail {
            insert_mail(&mut tx, mail, now).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn reject_code(
        &self,
        id: &str,
        now: i64,
        limits: &Limits,
        failure: &Outcome,
        alert: &NewMail,
    ) -> Result<WrongCode, StoreError> {
        let mut tx = self.write().await?;
        // One statement counts the entry and, when it was the last one allowed, fails the
        // authentication: no window in which a fifth wrong code is counted but not acted on.
        // Concurrent entries queue on the row lock and each re-checks `attempts < $1`.
        let row = sqlx::query(
            "UPDATE authentications SET attempts = attempts + 1, \
             state = CASE WHEN attempts + 1 >= $1 THEN 'failed' ELSE state END, \
             code_digest = CASE WHEN attempts + 1 >= $1 THEN NULL ELSE code_digest END, \
             status = CASE WHEN attempts + 1 >= $1 THEN $2 ELSE status END, \
             eci = CASE WHEN attempts + 1 >= $1 THEN $3 ELSE eci END, \
             method = CASE WHEN attempts + 1 >= $1 THEN $4 ELSE method END, \
             reason = CASE WHEN attempts + 1 >= $1 THEN $5 ELSE reason END, \
             result_token = CASE WHEN attempts + 1 >= $1 THEN $6 ELSE result_token END, \
             finished_at = CASE WHEN attempts + 1 >= $1 THEN $7 ELSE finished_at END \
             WHERE id = $8 AND state = 'challenging' AND attempts < $1 AND expires_at > $7 \
             RETURNING attempts, state",
        )
        .bind(limits.max_attempts)
        .bind(code_of(&failure.status))
        .bind(code_of(&failure.eci))
        .bind(code_of(&failure.method))
        .bind(failure.reason.as_ref().map(code_of))
        .bind(&failure.result_token)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(row) = row else {
            return Ok(WrongCode::NotChallenging);
        };
        let attempts: i64 = row.try_get("attempts").map_err(db)?;
        let state: String = row.try_get("state").map_err(db)?;
        let answer = if state == State::Failed.as_str() {
            insert_mail(&mut tx, alert, now).await?;
            WrongCode::Failed
        } else {
            WrongCode::Counted {
                attempts_left: limits.max_attempts - attempts,
            }
        };
        tx.commit().await.map_err(db)?;
        Ok(answer)
    }

    async fn resend_code(
        &self,
        id: &str,
        now: i64,
        code: &CodeIssue,
        limits: &Limits,
        mail: &NewMail,
    ) -> Result<Resend, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE authentications SET code_digest = $1, code_expires_at = $2, \
             resends = resends + 1, last_sent_at = $3 \
             WHERE id = $4 AND state = 'challenging' AND expires_at > $3 AND resends < $5 \
             AND last_sent_at <= $6",
        )
        .bind(&code.digest)
        .bind(code.expires_at)
        .bind(now)
        .bind(id)
        .bind(limits.max_resends)
        .bind(now - limits.resend_cooldown)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() != 1 {
            return Ok(Resend::Refused);
        }
        insert_mail(&mut tx, mail, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(Resend::Sent)
    }

    async fn conclude(
        &self,
        id: &str,
        now: i64,
        from: State,
        to: State,
        outcome: &Outcome,
        mail: Option<&NewMail>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let sql = if to == State::Expired {
            "UPDATE authentications SET state = $1, code_digest = NULL, status = $2, eci = $3, \
             method = $4, reason = $5, result_token = $6, finished_at = $7 \
             WHERE id = $8 AND state = $9 AND expires_at <= $7"
        } else {
            "UPDATE authentications SET state = $1, code_digest = NULL, status = $2, eci = $3, \
             method = $4, reason = $5, result_token = $6, finished_at = $7 \
             WHERE id = $8 AND state = $9 AND expires_at > $7"
        };
        let done = sqlx::query(sql)
            .bind(to.as_str())
            .bind(code_of(&outcome.status))
            .bind(code_of(&outcome.eci))
            .bind(code_of(&outcome.method))
            .bind(outcome.reason.as_ref().map(code_of))
            .bind(&outcome.result_token)
            .bind(now)
            .bind(id)
            .bind(from.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(mail) = mail {
            insert_mail(&mut tx, mail, now).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn report_fraud(&self, report: &FraudReport) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "INSERT INTO fraud_reports (id, cardholder_id, authentication_id, created_at, \
             resolved_at) VALUES ($1, $2, $3, $4, NULL) \
             ON CONFLICT (authentication_id) DO NOTHING",
        )
        .bind(&report.id)
        .bind(&report.cardholder_id)
        .bind(&report.authentication_id)
        .bind(report.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE devices SET revoked_at = $1 WHERE cardholder_id = $2 AND revoked_at IS NULL",
        )
        .bind(report.created_at)
        .bind(&report.cardholder_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn reports(&self, open_only: bool) -> Result<Vec<FraudReport>, StoreError> {
        sqlx::query(
            "SELECT * FROM fraud_reports WHERE NOT $1 OR resolved_at IS NULL \
             ORDER BY created_at, id",
        )
        .bind(open_only)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(report_from_row)
        .collect()
    }

    async fn report_for(&self, authentication_id: &str) -> Result<Option<FraudReport>, StoreError> {
        sqlx::query("SELECT * FROM fraud_reports WHERE authentication_id = $1")
            .bind(authentication_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(report_from_row)
            .transpose()
    }

    async fn resolve_report(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE fraud_reports SET resolved_at = $1 WHERE id = $2 AND resolved_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn enqueue_mail(&self, mail: &NewMail, now: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_mail(&mut tx, mail, now).await?;
        tx.commit().await.map_err(db)
    }

    async fn claim_mail(&self, now: i64, lease: i64, limit: i64) -> Result<Vec<Mail>, StoreError> {
        // The CTE locks the rows it picks and skips rows another worker has locked, so two
        // workers claiming at once take disjoint batches without waiting for each other.
        // `MATERIALIZED` makes it run once, before the update. A row another claim updated and
        // committed after this statement's snapshot is re-checked against the CTE's `WHERE`
        // when it is locked, so it is not claimed again within its lease; the update repeats
        // the conditions so that this holds even if the locking clause were ever dropped.
        sqlx::query(
            "WITH due AS MATERIALIZED ( \
                 SELECT id FROM outbox WHERE sent_at IS NULL AND NOT failed \
                 AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) \
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox SET attempts = outbox.attempts + 1, claimed_until = $1 \
             FROM due WHERE outbox.id = due.id \
             AND outbox.sent_at IS NULL AND NOT outbox.failed \
             AND (outbox.claimed_until IS NULL OR outbox.claimed_until <= $2) \
             RETURNING outbox.id, kind, recipient, subject, text_body, html_body, attempts",
        )
        .bind(now + lease)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(mail_from_row)
        .collect::<Result<Vec<_>, _>>()
        .map(|mut mails| {
            mails.sort_by_key(|m| m.id);
            mails
        })
    }

    async fn mail_sent(&self, id: i64, attempts: i64, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET sent_at = $1, claimed_until = NULL, text_body = '', \
             html_body = '', last_error = NULL \
             WHERE id = $2 AND attempts = $3 AND sent_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(attempts)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn mail_failed(
        &self,
        id: i64,
        attempts: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET claimed_until = NULL, last_error = $1, \
             next_attempt_at = COALESCE($2, next_attempt_at), failed = $3 \
             WHERE id = $4 AND attempts = $5 AND sent_at IS NULL",
        )
        .bind(error)
        .bind(retry_at)
        .bind(retry_at.is_none())
        .bind(id)
        .bind(attempts)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn deliver_to_mailbox(&self, mail: &Mail, now: i64) -> Result<(), StoreError> {
        let delivered = NewMail {
            kind: mail.kind.clone(),
            recipient: mail.recipient.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            sandbox: None,
        };
        let mut tx = self.write().await?;
        insert_mailbox(&mut tx, &delivered, now).await?;
        tx.commit().await.map_err(db)
    }

    async fn mailbox(&self, limit: i64) -> Result<Vec<MailboxMessage>, StoreError> {
        sqlx::query("SELECT * FROM mailbox ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(mailbox_from_row)
            .collect()
    }

    async fn sandbox_mail(
        &self,
        merchant_id: &str,
        limit: i64,
    ) -> Result<Vec<MailboxMessage>, StoreError> {
        sqlx::query("SELECT * FROM mailbox WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(merchant_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(mailbox_from_row)
            .collect()
    }
}
