//! [`CaseStore`]: protection cases, which a fraud report opens
//! ([`Store::report_fraud`](super::Store::report_fraud), in the report's transaction) and the
//! issuer moves through their states.
//!
//! A move is one conditional `UPDATE` from the state the caller read: of two concurrent moves
//! of one case, the database lets exactly one happen, and the cardholder's mail about it is
//! queued in the same transaction, so a mail is never sent for a move that did not happen.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::StoreError;
use super::rows::{db, parse_code, parse_id, parse_json};
use super::sql_store::{BeginWrite, Pool, SqlStore, db_read, db_write};
use super::webhooks::QueueEvents;
use crate::model::{Amount, CardholderId, CaseId, CaseState, Currency, NewMail, ProtectionCase};
use crate::webhooks::NewEvent;

/// `$1` id, `$2` report_id, `$3` authentication_id, `$4` cardholder_id, `$5` merchant_id,
/// `$6` merchant_name, `$7` amount, `$8` currency, `$9` purchased_at, `$10` browser, `$11`
/// method, `$12` status, `$13` reason, `$14` risk_reasons, `$15` state, `$16` note, `$17`
/// created_at, `$18` updated_at.
pub(super) const INSERT_CASE: &str = "INSERT INTO protection_cases (id, report_id, \
     authentication_id, cardholder_id, merchant_id, merchant_name, amount, currency, \
     purchased_at, browser, method, status, reason, risk_reasons, state, note, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
     $17, $18)";
/// Every case, oldest first.
const CASES: &str = "SELECT * FROM protection_cases ORDER BY created_at, id";
/// `$1` state; oldest first. Its own statement rather than `$1 IS NULL OR state = $1`, which
/// neither planner can answer from `protection_cases_by_state`.
const CASES_IN_STATE: &str = "SELECT * FROM protection_cases WHERE state = $1 \
     ORDER BY created_at, id";
/// `$1` id.
const CASE: &str = "SELECT * FROM protection_cases WHERE id = $1";
/// `$1` cardholder_id; the cases not decided yet, oldest first.
const UNRESOLVED_CASES_OF: &str = "SELECT * FROM protection_cases WHERE cardholder_id = $1 \
     AND state IN ('open', 'under_review') ORDER BY created_at, id";
/// `$1` to, `$2` note (`NULL` keeps the last one), `$3` now, `$4` id, `$5` from: the move
/// happens only if the case is still where the caller saw it.
const MOVE_CASE: &str = "UPDATE protection_cases SET state = $1, note = COALESCE($2, note), \
     updated_at = $3 WHERE id = $4 AND state = $5";

/// A case to open with its report, and the cardholder's mail saying so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseOpening<'a> {
    /// The case, in state [`CaseState::Open`].
    pub case: &'a ProtectionCase,
    /// The "case opened" mail.
    pub mail: &'a NewMail,
    /// The webhook events of the report (`fraud_report.created`), queued with it.
    pub events: &'a [NewEvent],
}

/// A move of a case from the state its caller read to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseMove<'a> {
    /// Which case.
    pub id: &'a CaseId,
    /// The state the caller read; the move happens only from it.
    pub from: CaseState,
    /// The new state.
    pub to: CaseState,
    /// The issuer's note; `None` keeps the last one.
    pub note: Option<&'a str>,
    /// Seconds since the Unix epoch.
    pub now: i64,
    /// The cardholder's mail about the move, queued with it.
    pub mail: &'a NewMail,
    /// The webhook events of the move (`protection_case.updated`), queued with it.
    pub events: &'a [NewEvent],
}

/// Protection cases, over the same database as [`super::Store`].
#[async_trait]
pub trait CaseStore {
    /// Every case in `state` (every case when `None`), oldest first.
    async fn cases(&self, state: Option<CaseState>) -> Result<Vec<ProtectionCase>, StoreError>;
    /// The case with this id.
    async fn case(&self, id: &CaseId) -> Result<Option<ProtectionCase>, StoreError>;
    /// The card's cases the issuer has not decided yet (open or under review), oldest first.
    async fn unresolved_cases_of(
        &self,
        cardholder_id: &CardholderId,
    ) -> Result<Vec<ProtectionCase>, StoreError>;
    /// Moves a case `from` → `to` and queues its mail in the same transaction; `false`, with
    /// nothing changed and no mail, when the move is not allowed
    /// ([`CaseState::can_move_to`]), the case does not exist, or it is no longer in `from`
    /// (another move came first).
    async fn move_case(&self, change: &CaseMove<'_>) -> Result<bool, StoreError>;
}

#[async_trait]
impl CaseStore for SqlStore {
    async fn cases(&self, state: Option<CaseState>) -> Result<Vec<ProtectionCase>, StoreError> {
        db_read!(self, |pool| {
            let query = match state {
                Some(state) => sqlx::query(CASES_IN_STATE).bind(state.as_str()),
                None => sqlx::query(CASES),
            };
            query
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(CaseRow::case)
                .collect()
        })
    }

    async fn case(&self, id: &CaseId) -> Result<Option<ProtectionCase>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(CASE)
                .bind(id.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .as_ref()
                .map(CaseRow::case)
                .transpose()
        })
    }

    async fn unresolved_cases_of(
        &self,
        cardholder_id: &CardholderId,
    ) -> Result<Vec<ProtectionCase>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(UNRESOLVED_CASES_OF)
                .bind(cardholder_id.as_str())
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(CaseRow::case)
                .collect()
        })
    }

    async fn move_case(&self, change: &CaseMove<'_>) -> Result<bool, StoreError> {
        // Checked here too, so that no caller can make a move the rule forbids.
        if !change.from.can_move_to(change.to) {
            return Ok(false);
        }
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(MOVE_CASE)
                .bind(change.to.as_str())
                .bind(change.note)
                .bind(change.now)
                .bind(change.id.as_str())
                .bind(change.from.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            tx.queue_owed(Some(change.mail), change.events, change.now)
                .await?;
            tx.commit().await.map_err(db)?;
            Ok(true)
        })
    }
}

/// A `protection_cases` row of either database.
trait CaseRow {
    /// The case it holds.
    fn case(&self) -> Result<ProtectionCase, StoreError>;
}

/// Implements [`CaseRow`] for the row type `$row`.
macro_rules! case_row {
    ($row:ty) => {
        impl CaseRow for $row {
            fn case(&self) -> Result<ProtectionCase, StoreError> {
                let state: String = self.try_get("state").map_err(db)?;
                let risk_reasons: String = self.try_get("risk_reasons").map_err(db)?;
                let code = |column: &'static str| -> Result<Option<String>, StoreError> {
                    self.try_get(column).map_err(db)
                };
                Ok(ProtectionCase {
                    id: parse_id(self.try_get("id").map_err(db)?, "id")?,
                    report_id: parse_id(self.try_get("report_id").map_err(db)?, "report_id")?,
                    authentication_id: parse_id(
                        self.try_get("authentication_id").map_err(db)?,
                        "authentication_id",
                    )?,
                    cardholder_id: parse_id(
                        self.try_get("cardholder_id").map_err(db)?,
                        "cardholder_id",
                    )?,
                    merchant_id: parse_id(self.try_get("merchant_id").map_err(db)?, "merchant_id")?,
                    merchant_name: self.try_get("merchant_name").map_err(db)?,
                    amount: Amount::new(self.try_get("amount").map_err(db)?)
                        .ok_or(StoreError::Corrupt("amount"))?,
                    currency: Currency::new(&self.try_get::<String, _>("currency").map_err(db)?)
                        .ok_or(StoreError::Corrupt("currency"))?,
                    purchased_at: self.try_get("purchased_at").map_err(db)?,
                    browser: self.try_get("browser").map_err(db)?,
                    method: code("method")?
                        .map(|c| parse_code(c, "method"))
                        .transpose()?,
                    status: code("status")?
                        .map(|c| parse_code(c, "status"))
                        .transpose()?,
                    reason: code("reason")?
                        .map(|c| parse_code(c, "reason"))
                        .transpose()?,
                    risk_reasons: parse_json(&risk_reasons, "risk_reasons")?,
                    state: CaseState::parse(&state).ok_or(StoreError::Corrupt("state"))?,
                    note: self.try_get("note").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    updated_at: self.try_get("updated_at").map_err(db)?,
                })
            }
        }
    };
}

case_row!(SqliteRow);
case_row!(PgRow);
