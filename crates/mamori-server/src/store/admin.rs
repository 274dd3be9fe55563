//! [`AdminStore`]: what the issuer's admin API keeps and changes beyond the rest of the store —
//! its own tokens, a card's address, language and ceilings, unenrolment, a merchant's origins.
//!
//! Statements live here, written once for both dialects like those of [`super::sql`].
//!
//! # Changing a card's address
//!
//! A new address travels only inside an [`AddressMove`], with the address it replaces and the
//! notice to that address: [`CardholderChange`] has no address, so no caller can change one
//! without its notice. The move is conditional on the address the caller read; when it writes
//! a different address, the same statement raises the card's contact epoch by one, which ends
//! every self-service link mailed before it (see [`crate::tokens`]), and the same transaction
//! queues the notice, so the notice goes out exactly when the change happens, to the address
//! it replaced, even with two changes racing on two instances.
//!
//! # Unenrolling keeps the card's row
//!
//! A card's authentications and reports name it and must stay for the issuer's records, so
//! unenrolling marks the row `unenrolled` instead of deleting it, revokes its trust in every
//! browser, and frees its card reference for a later enrolment: the stored reference becomes
//! `<reference>:unenrolled:<cardholder id>`, which no lookup by reference matches (a purchase
//! with the card is then not enrolled) and which is unique as the id is. The reference itself
//! moves to `former_card_ref`, indexed, so that the card's unenrolled rows are found by it.
//!
//! Unenrolling then enrolling the card again with another address moves its mail as surely as
//! a change of address does, so [`AdminStore::enrol_cardholder`] queues the same notice to the
//! address of the card's last unenrolled row (its **predecessor**) in the transaction that
//! inserts the new card, after checking that the predecessor is still the one the caller read.

use async_trait::async_trait;
use sqlx::Row;

use super::rows::{ModelRow, db, parse_id};
use super::sql_store::{BeginWrite, Pool, SqlStore, db_read, db_write};
use super::writes::Writes;
use super::{StoreError, sql};
use crate::model::{
    AdminTokenId, Cardholder, CardholderId, Ceilings, FraudReport, Locale, MerchantId, NewMail,
    ReportId,
};

/// `$1` id, `$2` name, `$3` digest, `$4` created_at.
const INSERT_ADMIN_TOKEN: &str =
    "INSERT INTO admin_tokens (id, name, digest, created_at) VALUES ($1, $2, $3, $4)";
/// `$1` digest.
const ADMIN_TOKEN_BY_DIGEST: &str = "SELECT * FROM admin_tokens WHERE digest = $1";
/// No parameters; oldest first.
const ADMIN_TOKENS: &str = "SELECT * FROM admin_tokens ORDER BY created_at, id";
/// `$1` now, `$2` id.
const REVOKE_ADMIN_TOKEN: &str =
    "UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
/// `$1` now, `$2` id, `$3` the oldest last use that is still fresh: writes only when the last
/// recorded use is older, so a busy token costs one write a minute, not one per request.
const TOUCH_ADMIN_TOKEN: &str = "UPDATE admin_tokens SET last_used_at = $1 \
     WHERE id = $2 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < $3)";
/// `$1` email, `$2` locale, `$3` frictionless_ceilings (each `NULL` to keep), `$4` id, `$5` the
/// address the card must still have (`NULL`, with `$1`, for a change that moves no address). A
/// different address raises the contact epoch (every `SET` expression reads the row as it was).
const CHANGE_CARDHOLDER: &str = "UPDATE cardholders SET email = COALESCE($1, email), \
     locale = COALESCE($2, locale), \
     frictionless_ceilings = COALESCE($3, frictionless_ceilings), \
     contact_epoch = contact_epoch + CASE WHEN $1 IS NOT NULL AND $1 <> email THEN 1 ELSE 0 END \
     WHERE id = $4 AND status <> 'unenrolled' AND ($5 IS NULL OR email = $5) RETURNING *";
/// `$1` the card reference: the last unenrolled card that had it (see the module docs), the
/// one row that holds it as `former_card_ref`.
const UNENROLLED_PREDECESSOR: &str = "SELECT * FROM cardholders \
     WHERE former_card_ref = $1 AND status = 'unenrolled'";
/// `$1` id of the card being unenrolled: its reference is no longer the former reference of any
/// older unenrolled card, so that exactly the last unenrolled one holds it (a unique index
/// keeps it so). Unenrolments of one reference are ordered by the reference itself (unique
/// among enrolled cards: one is enrolled at a time), not by clocks.
const HAND_OVER_FORMER_REF: &str = "UPDATE cardholders SET former_card_ref = NULL \
     WHERE former_card_ref = (SELECT card_ref FROM cardholders WHERE id = $1 \
         AND status <> 'unenrolled')";
/// `$1` id: see the module docs. `former_card_ref` keeps the reference as it was (every `SET`
/// expression reads the row before the update).
const UNENROL_CARDHOLDER: &str = "UPDATE cardholders SET status = 'unenrolled', \
     former_card_ref = card_ref, card_ref = card_ref || ':unenrolled:' || id \
     WHERE id = $1 AND status <> 'unenrolled'";
/// `$1` id: a no-op that tells whether the merchant exists and, on PostgreSQL, locks its row
/// until the transaction ends, so two replacements of its origins run one after the other.
const LOCK_MERCHANT: &str = "UPDATE merchants SET name = name WHERE id = $1";
/// `$1` merchant_id.
const DELETE_ORIGINS: &str = "DELETE FROM merchant_origins WHERE merchant_id = $1";
/// `$1` id.
const REPORT: &str = "SELECT * FROM fraud_reports WHERE id = $1";

/// A token of the admin API, as stored: never the token itself, only its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    /// `at_…`.
    pub id: AdminTokenId,
    /// What the issuer called it (which system holds it).
    pub name: String,
    /// SHA-256 of the whole token text.
    pub digest: Vec<u8>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// The last request it authenticated, to the minute; `None` before the first.
    pub last_used_at: Option<i64>,
    /// When it stopped authenticating anything.
    pub revoked_at: Option<i64>,
}

/// What a change of a card's details sets; `None` keeps the stored value. A new address is not
/// one of them: it travels only in an [`AddressMove`], with its notice (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardholderChange {
    /// The language of its mail and pages.
    pub locale: Option<Locale>,
    /// The frictionless ceilings, replacing every stored one.
    pub ceilings: Option<Ceilings>,
}

/// A change of a card's address, with the notice to the address it replaces (see the module
/// docs): the only way to give a card a new address.
#[derive(Debug, Clone, Copy)]
pub struct AddressMove<'a> {
    /// The card's address as the caller read it: the change applies only while it still is.
    pub from: &'a str,
    /// The card's new address.
    pub to: &'a str,
    /// The notice to `from`, queued with the change when `to` differs from it.
    pub notice: &'a NewMail,
    /// When the change is made, for the outbox.
    pub now: i64,
}

/// A card's enrolment, as its caller read the card's unenrolled predecessor (see the module
/// docs).
#[derive(Debug, Clone, Copy)]
pub struct Succession<'a> {
    /// The last unenrolled card with the new card's reference when the caller looked
    /// ([`AdminStore::unenrolled_predecessor`]); `None` for a card never enrolled before.
    pub predecessor: Option<&'a CardholderId>,
    /// The notice to the predecessor's address, when the new card's address is another.
    pub notice: Option<&'a NewMail>,
    /// When the card is enrolled, for the outbox.
    pub now: i64,
}

/// The admin API's part of the store (see the module docs).
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Stores a new token; [`StoreError::Conflict`] if its id or digest is taken.
    async fn insert_admin_token(&self, token: &AdminToken) -> Result<(), StoreError>;
    /// The token whose digest this is, revoked or not.
    async fn admin_token_by_digest(&self, digest: &[u8]) -> Result<Option<AdminToken>, StoreError>;
    /// Every token, oldest first, revoked ones included.
    async fn admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError>;
    /// Revokes a live token; `false` for an unknown or already revoked one.
    async fn revoke_admin_token(&self, id: &AdminTokenId, now: i64) -> Result<bool, StoreError>;
    /// Records a use at `now` of a live token whose last recorded use is before `stale_before`;
    /// `false` when nothing was written.
    async fn touch_admin_token(
        &self,
        id: &AdminTokenId,
        now: i64,
        stale_before: i64,
    ) -> Result<bool, StoreError>;

    /// Applies `change`, and `moved` if given, to an enrolled card and answers the card as
    /// changed; `None` (nothing changed) for an unknown or unenrolled card.
    ///
    /// With `moved`, the change applies only while the card's address is `moved.from` (else
    /// `None`, nothing changed, nothing queued). When `moved.to` differs from it, the card's
    /// contact epoch rises by one and `moved.notice` is queued in the same transaction; the
    /// same address again moves nothing and mails nothing.
    async fn change_cardholder(
        &self,
        id: &CardholderId,
        change: &CardholderChange,
        moved: Option<AddressMove<'_>>,
    ) -> Result<Option<Cardholder>, StoreError>;
    /// Unenrols a card and revokes its trust in every browser, in one transaction (see the
    /// module docs); `false` (nothing changed) for an unknown or unenrolled card.
    async fn unenrol_cardholder(&self, id: &CardholderId, now: i64) -> Result<bool, StoreError>;
    /// The last unenrolled card whose reference was `card_ref` (see the module docs).
    async fn unenrolled_predecessor(
        &self,
        card_ref: &str,
    ) -> Result<Option<Cardholder>, StoreError>;
    /// Enrols `cardholder` and queues `succession.notice`, in one transaction, if the last
    /// unenrolled card with its reference is still `succession.predecessor`; `false` (nothing
    /// stored or queued) if another has become it since the caller looked.
    /// [`StoreError::Conflict`] if the reference is enrolled already.
    async fn enrol_cardholder(
        &self,
        cardholder: &Cardholder,
        succession: Succession<'_>,
    ) -> Result<bool, StoreError>;

    /// Replaces every origin of a merchant by `origins` (distinct), in one transaction; `false`
    /// (nothing changed) for an unknown merchant.
    async fn replace_origins(
        &self,
        merchant_id: &MerchantId,
        origins: &[String],
    ) -> Result<bool, StoreError>;

    /// The report with this id, resolved or not.
    async fn report(&self, id: &ReportId) -> Result<Option<FraudReport>, StoreError>;
}

/// Reads an `admin_tokens` row of either database (the row types differ, so a macro).
macro_rules! admin_token {
    ($row:expr) => {{
        let row = $row;
        Ok::<_, StoreError>(AdminToken {
            id: parse_id(row.try_get("id").map_err(db)?, "id")?,
            name: row.try_get("name").map_err(db)?,
            digest: row.try_get("digest").map_err(db)?,
            created_at: row.try_get("created_at").map_err(db)?,
            last_used_at: row.try_get("last_used_at").map_err(db)?,
            revoked_at: row.try_get("revoked_at").map_err(db)?,
        })
    }};
}

#[async_trait]
impl AdminStore for SqlStore {
    async fn insert_admin_token(&self, token: &AdminToken) -> Result<(), StoreError> {
        db_write!(self, |pool| {
            sqlx::query(INSERT_ADMIN_TOKEN)
                .bind(token.id.as_str())
                .bind(&token.name)
                .bind(&token.digest)
                .bind(token.created_at)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(())
        })
    }

    async fn admin_token_by_digest(&self, digest: &[u8]) -> Result<Option<AdminToken>, StoreError> {
        db_read!(self, |pool| {
            match sqlx::query(ADMIN_TOKEN_BY_DIGEST)
                .bind(digest)
                .fetch_optional(pool)
                .await
                .map_err(db)?
            {
                Some(row) => Ok(Some(admin_token!(&row)?)),
                None => Ok(None),
            }
        })
    }

    async fn admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(ADMIN_TOKENS)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(|row| admin_token!(row))
                .collect()
        })
    }

    async fn revoke_admin_token(&self, id: &AdminTokenId, now: i64) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(REVOKE_ADMIN_TOKEN)
                .bind(now)
                .bind(id.as_str())
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn touch_admin_token(
        &self,
        id: &AdminTokenId,
        now: i64,
        stale_before: i64,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(TOUCH_ADMIN_TOKEN)
                .bind(now)
                .bind(id.as_str())
                .bind(stale_before)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn change_cardholder(
        &self,
        id: &CardholderId,
        change: &CardholderChange,
        moved: Option<AddressMove<'_>>,
    ) -> Result<Option<Cardholder>, StoreError> {
        let ceilings = change.ceilings.as_ref().map(Ceilings::to_string);
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query(CHANGE_CARDHOLDER)
                .bind(moved.map(|m| m.to))
                .bind(change.locale.map(Locale::as_str))
                .bind(ceilings.as_deref())
                .bind(id.as_str())
                .bind(moved.map(|m| m.from))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
            else {
                return Ok(None);
            };
            let changed = row.cardholder()?;
            // The statement matched the card at `from`, so a different `to` is a move.
            if let Some(moved) = moved.filter(|m| m.to != m.from) {
                tx.insert_mail(moved.notice, moved.now).await?;
            }
            tx.commit().await.map_err(db)?;
            Ok(Some(changed))
        })
    }

    async fn unenrol_cardholder(&self, id: &CardholderId, now: i64) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(HAND_OVER_FORMER_REF)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            let done = sqlx::query(UNENROL_CARDHOLDER)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query(sql::REVOKE_TRUST)
                .bind(now)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(true)
        })
    }

    async fn unenrolled_predecessor(
        &self,
        card_ref: &str,
    ) -> Result<Option<Cardholder>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(UNENROLLED_PREDECESSOR)
                .bind(card_ref)
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(ModelRow::cardholder)
                .transpose()
        })
    }

    async fn enrol_cardholder(
        &self,
        c: &Cardholder,
        succession: Succession<'_>,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Inserting first holds the reference: on PostgreSQL an unenrolment of a card with
            // it commits before the insert goes through (or the insert conflicts), so the
            // predecessor read next is the last there can be.
            tx.insert_cardholder(c).await?;
            let predecessor: Option<String> = sqlx::query(UNENROLLED_PREDECESSOR)
                .bind(&c.card_ref)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .map(|row| row.try_get("id"))
                .transpose()
                .map_err(db)?;
            if predecessor.as_deref() != succession.predecessor.map(CardholderId::as_str) {
                return Ok(false);
            }
            if let Some(notice) = succession.notice {
                tx.insert_mail(notice, succession.now).await?;
            }
            tx.commit().await.map_err(db)?;
            Ok(true)
        })
    }

    async fn replace_origins(
        &self,
        merchant_id: &MerchantId,
        origins: &[String],
    ) -> Result<bool, StoreError> {
        let replaced = db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let found = sqlx::query(LOCK_MERCHANT)
                .bind(merchant_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if found.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query(DELETE_ORIGINS)
                .bind(merchant_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            for origin in origins {
                sqlx::query(sql::INSERT_MERCHANT_ORIGIN)
                    .bind(merchant_id.as_str())
                    .bind(origin)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
            Ok(true)
        });
        // The merchant's kept row holds its origins.
        self.hot.forget();
        replaced
    }

    async fn report(&self, id: &ReportId) -> Result<Option<FraudReport>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(REPORT)
                .bind(id.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(ModelRow::report)
                .transpose()
        })
    }
}
