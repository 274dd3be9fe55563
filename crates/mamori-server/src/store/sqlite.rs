//! The SQLite backend: one file, WAL mode, embedded migrations.
//!
//! WAL lets readers run while one writer commits, and `busy_timeout` makes concurrent writers
//! queue instead of failing. Every write transaction starts with its conditional `UPDATE` (or
//! `INSERT`), so it takes the write lock first and never has to upgrade a read snapshot, which
//! in SQLite can fail with `SQLITE_BUSY` instead of waiting.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

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
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_sandbox_idempotency.sql"),
    include_str!("../../migrations/sqlite/0003_one_shape.sql"),
];

/// A store in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path/to/file.db`) and
    /// applies the migrations it lacks.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the file cannot be opened or a migration fails.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
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
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
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
            sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        // IMMEDIATE takes the write lock up front (see the module docs).
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}

row_decoders!(SqliteRow);

/// Queues `mail` in the outbox, or keeps a sandbox merchant's mail in its mailbox unsent.
async fn insert_mail(
    tx: &mut Transaction<'static, Sqlite>,
    mail: &NewMail,
    now: i64,
) -> Result<(), StoreError> {
    if mail.sandbox.is_some() {
        return insert_mailbox(tx, mail, now).await;
    }
    sqlx::query(
        "INSERT INTO outbox (kind, recipient, subject, text_body, html_body, created_at, \
         attempts, next_attempt_at, failed) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0)",
    )
    .bind(&mail.kind)
    .bind(&mail.recipient)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// Puts `mail` in the mailbox table: the demo's delivered mail, or a sandbox merchant's kept
/// mail when `mail.sandbox` says whose.
async fn insert_mailbox(
    tx: &mut Transaction<'static, Sqlite>,
    mail: &NewMail,
    now: i64,
) -> Result<(), StoreError> {
    let sandbox = mail.sandbox.as_ref();
    sqlx::query(
        "INSERT INTO mailbox (kind, recipient, subject, text_body, html_body, delivered_at, \
         merchant_id, authentication_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    tx: &mut Transaction<'static, Sqlite>,
    a: &Authentication,
) -> Result<(), StoreError> {
    let reasons =
        serde_json::to_string(&a.risk_reasons).map_err(|e| StoreError::Database(e.to_string()))?;
    sqlx::query(
        "INSERT INTO authentications (id, merchant_id, cardholder_id, amount, currency, \
         order_ref, challenge_preference, client_secret_hash, state, created_at, expires_at, \
         risk_reasons, attempts, resends, sandbox_card) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    tx: &mut Transaction<'static, Sqlite>,
    key: &IdempotencyKey,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO idempotency_keys (merchant_id, key, request_hash, authentication_id, \
         created_at) VALUES (?, ?, ?, ?, ?)",
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
    tx: &mut Transaction<'static, Sqlite>,
    device: &Device,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO devices (id, cardholder_id, merchant_id, fingerprint, created_at, \
         expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
impl Store for SqliteStore {
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
        sqlx::query("INSERT INTO merchants (id, name, sandbox, created_at) VALUES (?, ?, ?, ?)")
            .bind(&merchant.id)
            .bind(&merchant.name)
            .bind(merchant.sandbox)
            .bind(merchant.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for origin in &merchant.origins {
            sqlx::query("INSERT INTO merchant_origins (merchant_id, origin) VALUES (?, ?)")
                .bind(&merchant.id)
                .bind(origin)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query(
            "INSERT INTO merchant_keys (kid, merchant_id, secret, created_at, retire_at) \
             VALUES (?, ?, ?, ?, ?)",
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
        let Some(row) =
            sqlx::query("SELECT id, name, sandbox, created_at FROM merchants WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?
        else {
            return Ok(None);
        };
        let origins = sqlx::query(
            "SELECT origin FROM merchant_origins WHERE merchant_id = ? ORDER BY origin",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|row| row.try_get("origin"))
        .collect::<Result<Vec<String>, _>>()
        .map_err(db)?;
        Ok(Some(Merchant {
            id: row.try_get("id").map_err(db)?,
            name: row.try_get("name").map_err(db)?,
            sandbox: row.try_get("sandbox").map_err(db)?,
            created_at: row.try_get("created_at").map_err(db)?,
            origins,
        }))
    }

    async fn merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        let ids = sqlx::query("SELECT id FROM merchants ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let mut merchants = Vec::with_capacity(ids.len());
        for row in ids {
            let id: String = row.try_get("id").map_err(db)?;
            if let Some(merchant) = self.merchant(&id).await? {
                merchants.push(merchant);
            }
        }
        Ok(merchants)
    }

    async fn merchant_keys(&self, merchant_id: &str) -> Result<Vec<MerchantKey>, StoreError> {
        sqlx::query(
            "SELECT kid, merchant_id, secret, created_at, retire_at FROM merchant_keys \
             WHERE merchant_id = ? ORDER BY created_at DESC, rowid DESC",
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
             WHERE kid = ?",
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
            "UPDATE merchant_keys SET retire_at = ? WHERE merchant_id = ? \
             AND (retire_at IS NULL OR retire_at > ?)",
        )
        .bind(retire_at)
        .bind(&key.merchant_id)
        .bind(retire_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO merchant_keys (kid, merchant_id, secret, created_at, retire_at) \
             VALUES (?, ?, ?, ?, ?)",
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
             frictionless_ceiling, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        sqlx::query("SELECT * FROM cardholders WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(cardholder_from_row)
            .transpose()
    }

    async fn cardholder_by_ref(&self, card_ref: &str) -> Result<Option<Cardholder>, StoreError> {
        sqlx::query("SELECT * FROM cardholders WHERE card_ref = ?")
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
        let done = sqlx::query("UPDATE cardholders SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let Some(row) = sqlx::query("SELECT * FROM devices WHERE id = ?")
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
            "UPDATE devices SET revoked_at = ? WHERE cardholder_id = ? AND revoked_at IS NULL",
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
        sqlx::query("SELECT * FROM idempotency_keys WHERE merchant_id = ? AND key = ?")
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
        sqlx::query("SELECT * FROM authentications WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(auth_from_row)
            .transpose()
    }

    async fn history(&self, q: &HistoryQuery<'_>) -> Result<History, StoreError> {
        // One round trip: every count is a scalar subquery. A `NULL` key (no card, no device,
        // no address) matches no row, so its counts are zero.
        let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM authentications \
                WHERE cardholder_id = ?1 AND created_at >= ?2 AND id <> ?3) AS card_recent, \
             (SELECT COUNT(*) FROM authentications \
                WHERE device_id = ?4 AND created_at >= ?2 AND id <> ?3) AS device_recent, \
             (SELECT COUNT(*) FROM authentications \
                WHERE ip = ?5 AND created_at >= ?2 AND id <> ?3) AS ip_recent, \
             (SELECT COUNT(*) FROM authentications WHERE cardholder_id = ?1 \
                AND created_at >= ?6 AND id <> ?3 AND state = 'failed') AS failed_challenges, \
             (SELECT COALESCE(SUM(attempts), 0) FROM authentications \
                WHERE cardholder_id = ?1 AND created_at >= ?6 AND id <> ?3) AS wrong_codes, \
             (SELECT COUNT(*) FROM fraud_reports \
                WHERE cardholder_id = ?1 AND resolved_at IS NULL) AS open_reports, \
             (SELECT MAX(amount) FROM authentications \
                WHERE cardholder_id = ?1 AND state = 'succeeded' AND id <> ?3) AS usual_max, \
             (SELECT language FROM authentications WHERE cardholder_id = ?1 \
                AND state = 'succeeded' AND id <> ?3 ORDER BY finished_at DESC LIMIT 1) \
                AS last_language, \
             (SELECT timezone FROM authentications WHERE cardholder_id = ?1 \
                AND state = 'succeeded' AND id <> ?3 ORDER BY finished_at DESC LIMIT 1) \
                AS last_timezone",
        )
        .bind(q.cardholder_id)
        .bind(q.short_since)
        .bind(q.authentication_id)
        .bind(q.device_id)
        .bind(q.ip)
        .bind(q.long_since)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(History {
            card_recent: row.try_get("card_recent").map_err(db)?,
            device_recent: row.try_get("device_recent").map_err(db)?,
            ip_recent: row.try_get("ip_recent").map_err(db)?,
            failed_challenges: row.try_get("failed_challenges").map_err(db)?,
            wrong_codes: row.try_get("wrong_codes").map_err(db)?,
            open_report: row.try_get::<i64, _>("open_reports").map_err(db)? > 0,
            usual_max_amount: row.try_get("usual_max").map_err(db)?,
            last_language: row.try_get("last_language").map_err(db)?,
            last_timezone: row.try_get("last_timezone").map_err(db)?,
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
                "UPDATE authentications SET risk_score = ?, risk_reasons = ?, device_id = ?, \
                 fingerprint = ?, ip = ?, language = ?, timezone = ?, user_agent = ?, \
                 state = ?, status = ?, eci = ?, method = ?, reason = ?, result_token = ?, \
                 finished_at = ? \
                 WHERE id = ? AND state = 'pending' AND expires_at > ?",
            )
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
            .bind(&outcome.result_token)
            .bind(now),
            DeviceNext::Challenge(code) => sqlx::query(
                "UPDATE authentications SET risk_score = ?, risk_reasons = ?, device_id = ?, \
                 fingerprint = ?, ip = ?, language = ?, timezone = ?, user_agent = ?, \
                 state = 'challenging', code_digest = ?, code_expires_at = ?, last_sent_at = ? \
                 WHERE id = ? AND state = 'pending' AND expires_at > ?",
            )
            .bind(step.risk_score)
            .bind(reasons)
            .bind(&step.device_id)
            .bind(&step.fingerprint)
            .bind(&step.ip)
            .bind(&step.browser.language)
            .bind(&step.browser.timezone)
            .bind(&step.browser.user_agent)
            .bind(&code.digest)
            .bind(code.expires_at)
            .bind(now),
        };
        let done = query
            .bind(id)
            .bind(now)
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
        // Clearing `code_digest` in the same statement is what makes the code single-use.
        let done = sqlx::query(
            "UPDATE authentications SET state = 'succeeded', code_digest = NULL, status = ?, \
             eci = ?, method = ?, reason = ?, result_token = ?, finished_at = ?, \
             device_id = COALESCE(?, device_id) \
             WHERE id = ? AND state = 'challenging' AND code_digest = ? \
             AND code_expires_at > ? AND attempts < ? AND expires_at > ?",
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
        .bind(now)
        .bind(limits.max_attempts)
        .bind(now)
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
        let row = sqlx::query(
            "UPDATE authentications SET attempts = attempts + 1, \
             state = CASE WHEN attempts + 1 >= ?1 THEN 'failed' ELSE state END, \
             code_digest = CASE WHEN attempts + 1 >= ?1 THEN NULL ELSE code_digest END, \
             status = CASE WHEN attempts + 1 >= ?1 THEN ?2 ELSE status END, \
             eci = CASE WHEN attempts + 1 >= ?1 THEN ?3 ELSE eci END, \
             method = CASE WHEN attempts + 1 >= ?1 THEN ?4 ELSE method END, \
             reason = CASE WHEN attempts + 1 >= ?1 THEN ?5 ELSE reason END, \
             result_token = CASE WHEN attempts + 1 >= ?1 THEN ?6 ELSE result_token END, \
             finished_at = CASE WHEN attempts + 1 >= ?1 THEN ?7 ELSE finished_at END \
             WHERE id = ?8 AND state = 'challenging' AND attempts < ?1 AND expires_at > ?7 \
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
            "UPDATE authentications SET code_digest = ?, code_expires_at = ?, \
             resends = resends + 1, last_sent_at = ? \
             WHERE id = ? AND state = 'challenging' AND expires_at > ? AND resends < ? \
             AND last_sent_at <= ?",
        )
        .bind(&code.digest)
        .bind(code.expires_at)
        .bind(now)
        .bind(id)
        .bind(now)
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
            "UPDATE authentications SET state = ?, code_digest = NULL, status = ?, eci = ?, \
             method = ?, reason = ?, result_token = ?, finished_at = ? \
             WHERE id = ? AND state = ? AND expires_at <= ?"
        } else {
            "UPDATE authentications SET state = ?, code_digest = NULL, status = ?, eci = ?, \
             method = ?, reason = ?, result_token = ?, finished_at = ? \
             WHERE id = ? AND state = ? AND expires_at > ?"
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
            .bind(now)
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
             resolved_at) VALUES (?, ?, ?, ?, NULL) ON CONFLICT (authentication_id) DO NOTHING",
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
            "UPDATE devices SET revoked_at = ? WHERE cardholder_id = ? AND revoked_at IS NULL",
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
        let sql = if open_only {
            "SELECT * FROM fraud_reports WHERE resolved_at IS NULL ORDER BY created_at, id"
        } else {
            "SELECT * FROM fraud_reports ORDER BY created_at, id"
        };
        sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(report_from_row)
            .collect()
    }

    async fn report_for(&self, authentication_id: &str) -> Result<Option<FraudReport>, StoreError> {
        sqlx::query("SELECT * FROM fraud_reports WHERE authentication_id = ?")
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
            "UPDATE fraud_reports SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
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
        // The outer conditions repeat the inner ones so that a backend which re-checks a row
        // after waiting for its lock (PostgreSQL) cannot hand one row to two workers.
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, claimed_until = ?1 \
             WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND failed = 0 \
                 AND next_attempt_at <= ?2 AND (claimed_until IS NULL OR claimed_until <= ?2) \
                 ORDER BY id LIMIT ?3) \
             AND sent_at IS NULL AND failed = 0 \
             AND (claimed_until IS NULL OR claimed_until <= ?2) \
             RETURNING id, kind, recipient, subject, text_body, html_body, attempts",
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
            "UPDATE outbox SET sent_at = ?, claimed_until = NULL, text_body = '', \
             html_body = '', last_error = NULL WHERE id = ? AND attempts = ? AND sent_at IS NULL",
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
            "UPDATE outbox SET claimed_until = NULL, last_error = ?, \
             next_attempt_at = COALESCE(?, next_attempt_at), failed = ? \
             WHERE id = ? AND attempts = ? AND sent_at IS NULL",
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
        sqlx::query("SELECT * FROM mailbox ORDER BY id DESC LIMIT ?")
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
        sqlx::query("SELECT * FROM mailbox WHERE merchant_id = ? ORDER BY id DESC LIMIT ?")
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
