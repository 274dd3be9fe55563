//! The writes several store methods make inside their transaction — queuing mail, inserting an
//! authentication, an idempotency key, a device and its trust — and applying migrations, written
//! once and implemented for both dialects' connections by one macro.
//!
//! They are methods of a connection rather than of a transaction so that a method whose whole
//! change is one of them can run it as a single self-committing statement (one round trip to
//! the database instead of three); inside a transaction they are called on the transaction,
//! which dereferences to its connection.

use sqlx::{PgConnection, Row, SqliteConnection};

use super::rows::{db, to_json};
use super::sql;
use super::sql_store::bind_all;
use super::{DeviceWrite, StoreError};
use crate::model::{
    Authentication, Cardholder, CardholderId, DeviceId, IdempotencyKey, MerchantKey, NewMail,
};

/// A connection of either database, usually inside a write transaction, whose methods then
/// change nothing visible until the caller commits.
pub(super) trait Writes {
    /// Applies the `migrations` (in order, from the first) this database has not recorded yet.
    /// A database remembers how many it applied in `schema_version`; a file is never edited
    /// once released, only followed by a new one.
    async fn apply_migrations(&mut self, migrations: &[&'static str]) -> Result<(), StoreError>;
    /// Queues `mail` in the outbox, or keeps a sandbox merchant's mail in its mailbox unsent.
    /// An alert whose card had one of its kind within the window is dropped instead (see
    /// [`NewMail::dedupe`]); a sandbox merchant's kept mail is exempt, as it reaches no one and
    /// its tests must read every alert they cause.
    async fn insert_mail(&mut self, mail: &NewMail, now: i64) -> Result<(), StoreError>;
    /// Puts `mail` in the mailbox table: the demo's delivered mail, or a sandbox merchant's kept
    /// mail when `mail.sandbox` says whose.
    async fn insert_mailbox(&mut self, mail: &NewMail, now: i64) -> Result<(), StoreError>;
    /// Stores a new authentication, of the card enrolled under `card_ref` unless it names its
    /// cardholder (see [`super::Store::insert_authentication`]); [`StoreError::OrderInProgress`]
    /// (nothing stored) when the merchant has a live one of the same order.
    async fn insert_authentication(
        &mut self,
        a: &Authentication,
        card_ref: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Stores an enrolled card; [`StoreError::Conflict`] when its reference is enrolled already.
    async fn insert_cardholder(&mut self, c: &Cardholder) -> Result<(), StoreError>;
    /// Records an idempotency key; [`StoreError::Conflict`] when the merchant used it already.
    async fn insert_idempotency_key(&mut self, key: &IdempotencyKey) -> Result<(), StoreError>;
    /// Stores a merchant's signing key; [`StoreError::Conflict`] when its `kid` is taken.
    async fn insert_merchant_key(&mut self, key: &MerchantKey) -> Result<(), StoreError>;
    /// Stores the device a successful challenge made, or refreshes the one it identified.
    async fn write_device(&mut self, device: &DeviceWrite<'_>) -> Result<(), StoreError>;
    /// Trusts `device_id` for `cardholder_id` until `expires_at`, or slides that trust.
    async fn upsert_trust(
        &mut self,
        device_id: &DeviceId,
        cardholder_id: &CardholderId,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
}

/// Hands the parameters of [`sql::INSERT_AUTHENTICATION`] for the authentication `$a` of the
/// card `$card_ref`, as one bracketed list, to `$then!` after its other arguments: the list is
/// written once for the insert inside a transaction and the self-committing one of the hot
/// path.
macro_rules! authentication_binds {
    ($a:ident, $card_ref:ident, $then:ident!($($args:tt)*)) => {
        $then!($($args)* [
            $a.id.as_str(),
            $a.merchant_id.as_str(),
            $a.cardholder_id.as_ref().map(CardholderId::as_str),
            $a.amount.get(),
            $a.currency.as_str(),
            $a.order_ref.as_str(),
            $a.challenge_preference.as_str(),
            &$a.client_secret_hash,
            $a.state().as_str(),
            $a.created_at,
            $a.expires_at,
            to_json(&$a.assessment().map_or(&[][..], |x| &x.risk_reasons))?,
            $a.attempts(),
            $a.resends(),
            $a.sandbox_card.map(crate::sandbox::SandboxCard::as_str),
            $card_ref,
        ])
    };
}
pub(super) use authentication_binds;

/// Implements [`Writes`] for `$connection`.
macro_rules! writes {
    ($connection:ty) => {
        impl Writes for $connection {
            async fn apply_migrations(
                &mut self,
                migrations: &[&'static str],
            ) -> Result<(), StoreError> {
                sqlx::query(sql::CREATE_SCHEMA_VERSION)
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                let applied: Option<i64> = sqlx::query(sql::SCHEMA_VERSION)
                    .fetch_one(&mut *self)
                    .await
                    .and_then(|row| row.try_get(0))
                    .map_err(db)?;
                let applied = usize::try_from(applied.unwrap_or(0)).unwrap_or(0);
                for (index, migration) in migrations.iter().enumerate().skip(applied) {
                    sqlx::raw_sql(*migration)
                        .execute(&mut *self)
                        .await
                        .map_err(db)?;
                    let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
                    sqlx::query(sql::RECORD_MIGRATION)
                        .bind(version)
                        .execute(&mut *self)
                        .await
                        .map_err(db)?;
                }
                Ok(())
            }

            async fn insert_mail(&mut self, mail: &NewMail, now: i64) -> Result<(), StoreError> {
                if mail.sandbox.is_some() {
                    return self.insert_mailbox(mail, now).await;
                }
                if let Some(dedupe) = &mail.dedupe {
                    let opened = sqlx::query(sql::OPEN_ALERT_WINDOW)
                        .bind(dedupe.cardholder_id.as_str())
                        .bind(&mail.kind)
                        .bind(now.saturating_add(dedupe.window))
                        .bind(now)
                        .execute(&mut *self)
                        .await
                        .map_err(db)?;
                    if opened.rows_affected() == 0 {
                        return Ok(());
                    }
                }
                sqlx::query(sql::INSERT_OUTBOX)
                    .bind(&mail.kind)
                    .bind(&mail.recipient)
                    .bind(&mail.subject)
                    .bind(&mail.text)
                    .bind(&mail.html)
                    .bind(now)
                    .bind(mail.priority())
                    .bind(mail.thread.as_ref().map(ToString::to_string))
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn insert_mailbox(&mut self, mail: &NewMail, now: i64) -> Result<(), StoreError> {
                let sandbox = mail.sandbox.as_ref();
                sqlx::query(sql::INSERT_MAILBOX)
                    .bind(&mail.kind)
                    .bind(&mail.recipient)
                    .bind(&mail.subject)
                    .bind(&mail.text)
                    .bind(&mail.html)
                    .bind(now)
                    .bind(sandbox.map(|s| s.merchant_id.as_str()))
                    .bind(sandbox.map(|s| s.authentication_id.as_str()))
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn insert_authentication(
                &mut self,
                a: &Authentication,
                card_ref: Option<&str>,
            ) -> Result<(), StoreError> {
                let inserted = authentication_binds!(
                    a,
                    card_ref,
                    bind_all!(sqlx::query(sql::INSERT_AUTHENTICATION),)
                )
                .execute(&mut *self)
                .await
                .map_err(db)?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::OrderInProgress);
                }
                Ok(())
            }

            async fn insert_cardholder(&mut self, c: &Cardholder) -> Result<(), StoreError> {
                sqlx::query(sql::INSERT_CARDHOLDER)
                    .bind(c.id.as_str())
                    .bind(&c.card_ref)
                    .bind(&c.last4)
                    .bind(&c.email)
                    .bind(c.locale.as_str())
                    .bind(c.status.as_str())
                    .bind(c.frictionless_ceilings.to_string())
                    .bind(c.created_at)
                    .bind(c.contact_epoch)
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn insert_idempotency_key(
                &mut self,
                key: &IdempotencyKey,
            ) -> Result<(), StoreError> {
                sqlx::query(sql::INSERT_IDEMPOTENCY_KEY)
                    .bind(key.merchant_id.as_str())
                    .bind(&key.key)
                    .bind(&key.request_hash)
                    .bind(key.authentication_id.as_str())
                    .bind(key.created_at)
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn insert_merchant_key(&mut self, key: &MerchantKey) -> Result<(), StoreError> {
                sqlx::query(sql::INSERT_MERCHANT_KEY)
                    .bind(key.kid.as_str())
                    .bind(key.merchant_id.as_str())
                    .bind(&key.secret)
                    .bind(key.created_at)
                    .bind(key.retire_at)
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn write_device(&mut self, device: &DeviceWrite<'_>) -> Result<(), StoreError> {
                match *device {
                    DeviceWrite::New(device) => {
                        sqlx::query(sql::INSERT_DEVICE)
                            .bind(device.id.as_str())
                            .bind(device.merchant_id.as_str())
                            .bind(&device.fingerprint)
                            .bind(device.public_key.as_ref().map(|k| &k.as_bytes()[..]))
                            .bind(device.created_at)
                            .bind(device.expires_at)
                            .bind(device.revoked_at)
                            .execute(&mut *self)
                            .await
                            .map_err(db)?;
                    }
                    DeviceWrite::Refresh {
                        id,
                        fingerprint,
                        public_key,
                        expires_at,
                    } => {
                        let done = sqlx::query(sql::REFRESH_DEVICE)
                            .bind(fingerprint)
                            .bind(expires_at)
                            .bind(public_key.map(|k| &k.as_bytes()[..]))
                            .bind(id.as_str())
                            .execute(&mut *self)
                            .await
                            .map_err(db)?;
                        if done.rows_affected() != 1 {
                            // Devices are never deleted: an identified one is still there.
                            return Err(StoreError::Corrupt("devices.id"));
                        }
                    }
                }
                Ok(())
            }

            async fn upsert_trust(
                &mut self,
                device_id: &DeviceId,
                cardholder_id: &CardholderId,
                now: i64,
                expires_at: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(sql::UPSERT_TRUST)
                    .bind(device_id.as_str())
                    .bind(cardholder_id.as_str())
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                Ok(())
            }
        }
    };
}

writes!(SqliteConnection);
writes!(PgConnection);

/// Orders a transaction against the others that touch a card's trust (see [`sql::LOCK_CARD`]).
pub(super) trait LockCard {
    /// Holds `cardholder_id`'s row lock to the end of the transaction, where the database needs
    /// one to order it.
    async fn lock_card(&mut self, cardholder_id: &CardholderId) -> Result<(), StoreError>;
}

impl LockCard for PgConnection {
    async fn lock_card(&mut self, cardholder_id: &CardholderId) -> Result<(), StoreError> {
        sqlx::query(sql::LOCK_CARD)
            .bind(cardholder_id.as_str())
            .execute(&mut *self)
            .await
            .map_err(db)?;
        Ok(())
    }
}

impl LockCard for SqliteConnection {
    /// Nothing: SQLite runs write transactions one at a time (each begins with the file's write
    /// lock), which orders them already; the lock's no-op update would only rewrite the card's
    /// page.
    async fn lock_card(&mut self, _: &CardholderId) -> Result<(), StoreError> {
        Ok(())
    }
}
