//! Row decoding and value encoding for both dialects, written once: the error mapping, the JSON
//! and one-code columns, and [`ModelRow`], which reads every model type from a result row of
//! either database.
//!
//! [`ModelRow`] is implemented by a macro, once per row type, rather than as generic functions,
//! because sqlx's `Row::try_get` needs a `Decode + Type` bound per column type and database;
//! spelled out as generic bounds they would be longer than the decoders themselves.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;

use mamori_core::device_key::PublicKey;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::{StepReads, StoreError};
use crate::model::{
    Amount, Assessment, Authentication, BrowserInfo, CardStatus, Cardholder, Ceilings, Challenge,
    ChallengePreference, Currency, Device, DeviceTrust, Final, Finished, FraudReport,
    IdempotencyKey, Locale, Mail, MailboxMessage, Merchant, MerchantKey, OrderRef, Outcome,
    Progress, State,
};
use crate::risk::History;

/// A unique-key violation is [`StoreError::Conflict`]; anything else is for the logs. Takes
/// either driver's error: sqlx's, or rusqlite's from SQLite's hot path (see [`super::inline`]).
pub(super) fn db<E: DriverError>(error: E) -> StoreError {
    if error.is_unique_violation() {
        StoreError::Conflict
    } else if error.is_pool_timeout() {
        StoreError::Unavailable(error.to_string())
    } else {
        StoreError::Database(error.to_string())
    }
}

/// An error of one of the database drivers the store uses.
pub(super) trait DriverError: std::fmt::Display {
    /// Whether the statement broke a unique or primary key.
    fn is_unique_violation(&self) -> bool;

    /// Whether no connection was free within the pool's acquire timeout.
    fn is_pool_timeout(&self) -> bool;
}

impl DriverError for sqlx::Error {
    fn is_unique_violation(&self) -> bool {
        matches!(self, sqlx::Error::Database(e) if e.is_unique_violation())
    }

    fn is_pool_timeout(&self) -> bool {
        matches!(self, sqlx::Error::PoolTimedOut)
    }
}

impl DriverError for rusqlite::Error {
    fn is_unique_violation(&self) -> bool {
        // The two extended codes sqlx's SQLite driver counts as a unique violation too.
        matches!(
            self,
            rusqlite::Error::SqliteFailure(e, _)
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        )
    }

    fn is_pool_timeout(&self) -> bool {
        // rusqlite has no pool: the store's SQLite connections are its own.
        false
    }
}

/// A rusqlite row with its statement's column names looked up once, read by name as sqlx's
/// `Row::try_get` reads its rows, so that `model_row!` reads it with the very code that reads
/// sqlx's. rusqlite's own by-name `get` walks every column's name (through SQLite) at each
/// call: with the device step's fifty-odd columns, thousands of walks per row, measured at
/// about 4 % of the hot path's CPU.
pub(super) struct NamedRow<'r, 's> {
    /// The row.
    row: &'r rusqlite::Row<'s>,
    /// Each column's position by its name; `None` for a name that more than one column has.
    /// sqlx's rows take the last of such columns where rusqlite's `get` takes the first, so
    /// reading one is refused instead of decoding differently on the two paths.
    columns: HashMap<&'r str, Option<usize>>,
}

impl<'r, 's> NamedRow<'r, 's> {
    /// `row`, its column names looked up.
    pub(super) fn new(row: &'r rusqlite::Row<'s>) -> Self {
        let statement: &'r rusqlite::Statement<'s> = row.as_ref();
        let mut columns = HashMap::with_capacity(statement.column_count());
        for (position, name) in statement.column_names().into_iter().enumerate() {
            columns
                .entry(name)
                .and_modify(|duplicated| *duplicated = None)
                .or_insert(Some(position));
        }
        Self { row, columns }
    }

    /// The column `name` as a `T`.
    ///
    /// # Errors
    ///
    /// `InvalidColumnName` when no column, or more than one, has that name; what rusqlite's
    /// `get` returns for the column's value.
    pub(super) fn try_get<T: rusqlite::types::FromSql, N: AsRef<str>>(
        &self,
        name: N,
    ) -> rusqlite::Result<T> {
        let name = name.as_ref();
        match self.columns.get(name) {
            Some(Some(position)) => self.row.get(*position),
            Some(None) => Err(rusqlite::Error::InvalidColumnName(format!(
                "{name} (the name of more than one column)"
            ))),
            None => Err(rusqlite::Error::InvalidColumnName(name.to_owned())),
        }
    }
}

/// A JSON column, or [`StoreError::Corrupt`] naming it.
pub(super) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt(column))
}

/// An id column, or [`StoreError::Corrupt`] naming it when the text is not an id of its kind.
pub(super) fn parse_id<T: FromStr>(text: String, column: &'static str) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(column))
}

/// A nullable id column, as [`parse_id`].
pub(super) fn parse_optional_id<T: FromStr>(
    text: Option<String>,
    column: &'static str,
) -> Result<Option<T>, StoreError> {
    text.map(|text| parse_id(text, column)).transpose()
}

/// Reads a one-code enum from its JSON string form (`"Y"`, `"05"`, `"challenge"`, `"19"`).
pub(super) fn parse_code<T: serde::de::DeserializeOwned>(
    text: String,
    column: &'static str,
) -> Result<T, StoreError> {
    parse_json(&serde_json::Value::String(text).to_string(), column)
}

/// The wire spelling of a one-code enum, as stored.
pub(super) fn code_of<T: serde::Serialize>(value: &T) -> String {
    // These enums serialise to a JSON string; anything else cannot happen.
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

/// JSON text for a JSON column.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Database(e.to_string()))
}

/// A result row of either database, read as the model types. Each method reads the columns it
/// names, so a statement must select them (`SELECT *`, or the columns listed).
pub(super) trait ModelRow {
    /// An `authentications` row.
    fn authentication(&self) -> Result<Authentication, StoreError>;
    /// A `cardholders` row.
    fn cardholder(&self) -> Result<Cardholder, StoreError> {
        self.cardholder_in(Columns::OWN)
    }
    /// A cardholder from `columns`.
    fn cardholder_in(&self, columns: Columns) -> Result<Cardholder, StoreError>;
    /// A `devices` row.
    fn device(&self) -> Result<Device, StoreError> {
        self.device_in(Columns::OWN)
    }
    /// A device from `columns`.
    fn device_in(&self, columns: Columns) -> Result<Device, StoreError>;
    /// A `device_trust` row.
    fn trust(&self) -> Result<DeviceTrust, StoreError> {
        self.trust_in(Columns::OWN)
    }
    /// A trust from `columns`.
    fn trust_in(&self, columns: Columns) -> Result<DeviceTrust, StoreError>;
    /// A `merchants` row, without its origins (see [`merchants`]).
    fn merchant(&self) -> Result<Merchant, StoreError>;
    /// The `origin` a merchant row was joined with; `None` for a merchant without origins.
    fn origin(&self) -> Result<Option<String>, StoreError>;
    /// A `merchant_keys` row.
    fn merchant_key(&self) -> Result<MerchantKey, StoreError>;
    /// A `fraud_reports` row.
    fn report(&self) -> Result<FraudReport, StoreError>;
    /// An `outbox` row as claimed.
    fn mail(&self) -> Result<Mail, StoreError>;
    /// A `mailbox` row.
    fn mailbox_message(&self) -> Result<MailboxMessage, StoreError>;
    /// An `idempotency_keys` row.
    fn idempotency_key(&self) -> Result<IdempotencyKey, StoreError>;
    /// The history counts of a row that selects them under their own names (`card_recent`, …,
    /// `last_timezone`).
    fn history(&self) -> Result<History, StoreError>;
    /// The one row of [`super::sql::DEVICE_STEP_READS`]: the authentication under its own
    /// column names, the joined rows under [`Columns::CARDHOLDER`], [`Columns::DEVICE`] and
    /// [`Columns::TRUST`] (all `NULL` when there is none), and the history counts.
    fn step_reads(&self) -> Result<StepReads, StoreError>;
}

/// Where a model's columns are in a row: under their own names, or under their names with a
/// prefix, as a statement that reads several tables into one row aliases them (`ch.id AS
/// ch_id`) so that their `id`s, `status`es and `created_at`s do not collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Columns(&'static str);

impl Columns {
    /// The table's own column names.
    pub(super) const OWN: Self = Self("");
    /// A cardholder joined as `ch_…`.
    pub(super) const CARDHOLDER: Self = Self("ch_");
    /// A device joined as `dv_…`.
    pub(super) const DEVICE: Self = Self("dv_");
    /// A trust joined as `tr_…`.
    pub(super) const TRUST: Self = Self("tr_");

    /// The name `column` has in the row.
    fn name(self, column: &'static str) -> Cow<'static, str> {
        if self.0.is_empty() {
            Cow::Borrowed(column)
        } else {
            Cow::Owned([self.0, column].concat())
        }
    }
}

/// Merchants from rows of merchants joined with their origins, one row per origin, a merchant's
/// rows adjacent: one statement reads merchants whole in either dialect.
pub(super) fn merchants<R: ModelRow>(rows: &[R]) -> Result<Vec<Merchant>, StoreError> {
    let mut merchants: Vec<Merchant> = Vec::new();
    for row in rows {
        let merchant = row.merchant()?;
        let origin = row.origin()?;
        match merchants.last_mut() {
            Some(last) if last.id == merchant.id => last.origins.extend(origin),
            _ => merchants.push(Merchant {
                origins: origin.into_iter().collect(),
                ..merchant
            }),
        }
    }
    Ok(merchants)
}

/// The columns of an `authentications` row that depend on its state, as read.
pub(super) struct StateColumns {
    state: String,
    risk_score: Option<i64>,
    risk_reasons: String,
    device_id: Option<String>,
    fingerprint: Option<String>,
    ip: Option<String>,
    browser: BrowserInfo,
    code_digest: Option<Vec<u8>>,
    code_expires_at: Option<i64>,
    attempts: i64,
    resends: i64,
    last_sent_at: Option<i64>,
    status: Option<String>,
    eci: Option<String>,
    method: Option<String>,
    reason: Option<String>,
    result_token: Option<String>,
}

/// Where a row's authentication is, with what that state holds; a row whose columns do not fit
/// its state (a pending row with a result, a challenge without a code, a final row still
/// holding a code) is [`StoreError::Corrupt`].
pub(super) fn progress(c: StateColumns) -> Result<Progress, StoreError> {
    let state = State::parse(&c.state).ok_or(StoreError::Corrupt("state"))?;
    let assessment = match c.risk_score {
        Some(risk_score) => Some(Assessment {
            risk_score,
            risk_reasons: parse_json(&c.risk_reasons, "risk_reasons")?,
            device_id: parse_optional_id(c.device_id, "device_id")?,
            fingerprint: c.fingerprint,
            ip: c.ip,
            browser: c.browser,
        }),
        None => None,
    };
    let outcome = match (c.status, c.eci, c.method, c.result_token) {
        (Some(status), Some(eci), Some(method), Some(result_token)) => Some(Outcome {
            status: parse_code(status, "status")?,
            eci: parse_code(eci, "eci")?,
            method: parse_code(method, "method")?,
            reason: c.reason.map(|r| parse_code(r, "reason")).transpose()?,
            result_token,
        }),
        _ => None,
    };
    if let Some(end) = Final::of(state) {
        if c.code_digest.is_some() {
            return Err(StoreError::Corrupt("code_digest"));
        }
        return Ok(Progress::Finished(Finished {
            end,
            outcome: outcome.ok_or(StoreError::Corrupt("result_token"))?,
            assessment,
            attempts: c.attempts,
            resends: c.resends,
        }));
    }
    if outcome.is_some() {
        return Err(StoreError::Corrupt("result_token"));
    }
    match (
        state,
        assessment,
        c.code_digest,
        c.code_expires_at,
        c.last_sent_at,
    ) {
        (State::Pending, None, None, _, _) => Ok(Progress::Pending),
        (State::Challenging, Some(assessment), Some(code_digest), Some(expires), Some(sent)) => {
            Ok(Progress::Challenging {
                assessment,
                challenge: Challenge {
                    code_digest,
                    code_expires_at: expires,
                    attempts: c.attempts,
                    resends: c.resends,
                    last_sent_at: sent,
                },
            })
        }
        _ => Err(StoreError::Corrupt("state")),
    }
}

/// Implements [`ModelRow`] for the row type `$row`.
macro_rules! model_row {
    ($row:ty) => {
        impl ModelRow for $row {
            fn authentication(&self) -> Result<Authentication, StoreError> {
                let preference: String = self.try_get("challenge_preference").map_err(db)?;
                let progress = progress(StateColumns {
                    state: self.try_get("state").map_err(db)?,
                    risk_score: self.try_get("risk_score").map_err(db)?,
                    risk_reasons: self.try_get("risk_reasons").map_err(db)?,
                    device_id: self.try_get("device_id").map_err(db)?,
                    fingerprint: self.try_get("fingerprint").map_err(db)?,
                    ip: self.try_get("ip").map_err(db)?,
                    // A value stored before the browser rules, that no longer parses, reads
                    // as absent.
                    browser: BrowserInfo::from_stored(
                        self.try_get("language").map_err(db)?,
                        self.try_get("timezone").map_err(db)?,
                        self.try_get("user_agent").map_err(db)?,
                    ),
                    code_digest: self.try_get("code_digest").map_err(db)?,
                    code_expires_at: self.try_get("code_expires_at").map_err(db)?,
                    attempts: self.try_get("attempts").map_err(db)?,
                    resends: self.try_get("resends").map_err(db)?,
                    last_sent_at: self.try_get("last_sent_at").map_err(db)?,
                    status: self.try_get("status").map_err(db)?,
                    eci: self.try_get("eci").map_err(db)?,
                    method: self.try_get("method").map_err(db)?,
                    reason: self.try_get("reason").map_err(db)?,
                    result_token: self.try_get("result_token").map_err(db)?,
                })?;
                Ok(Authentication {
                    id: parse_id(self.try_get("id").map_err(db)?, "id")?,
                    merchant_id: parse_id(self.try_get("merchant_id").map_err(db)?, "merchant_id")?,
                    cardholder_id: parse_optional_id(
                        self.try_get("cardholder_id").map_err(db)?,
                        "cardholder_id",
                    )?,
                    amount: Amount::new(self.try_get("amount").map_err(db)?)
                        .ok_or(StoreError::Corrupt("amount"))?,
                    currency: Currency::new(&self.try_get::<String, _>("currency").map_err(db)?)
                        .ok_or(StoreError::Corrupt("currency"))?,
                    order_ref: OrderRef::parse(self.try_get("order_ref").map_err(db)?)
                        .ok_or(StoreError::Corrupt("order_ref"))?,
                    challenge_preference: ChallengePreference::parse(&preference)
                        .ok_or(StoreError::Corrupt("challenge_preference"))?,
                    client_secret_hash: self.try_get("client_secret_hash").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    expires_at: self.try_get("expires_at").map_err(db)?,
                    sandbox_card: self
                        .try_get::<Option<String>, _>("sandbox_card")
                        .map_err(db)?
                        .map(|name| {
                            crate::sandbox::SandboxCard::parse(&name)
                                .ok_or(StoreError::Corrupt("sandbox_card"))
                        })
                        .transpose()?,
                    progress,
                })
            }

            fn cardholder_in(&self, c: Columns) -> Result<Cardholder, StoreError> {
                let locale: String = self.try_get(&*c.name("locale")).map_err(db)?;
                let status: String = self.try_get(&*c.name("status")).map_err(db)?;
                let ceilings: String = self
                    .try_get(&*c.name("frictionless_ceilings"))
                    .map_err(db)?;
                Ok(Cardholder {
                    id: parse_id(self.try_get(&*c.name("id")).map_err(db)?, "id")?,
                    card_ref: self.try_get(&*c.name("card_ref")).map_err(db)?,
                    last4: self.try_get(&*c.name("last4")).map_err(db)?,
                    email: self.try_get(&*c.name("email")).map_err(db)?,
                    locale: Locale::parse(&locale).ok_or(StoreError::Corrupt("locale"))?,
                    status: CardStatus::parse(&status).ok_or(StoreError::Corrupt("status"))?,
                    frictionless_ceilings: Ceilings::parse(&ceilings)
                        .ok_or(StoreError::Corrupt("frictionless_ceilings"))?,
                    created_at: self.try_get(&*c.name("created_at")).map_err(db)?,
                    contact_epoch: self.try_get(&*c.name("contact_epoch")).map_err(db)?,
                })
            }

            fn merchant_key(&self) -> Result<MerchantKey, StoreError> {
                Ok(MerchantKey {
                    kid: parse_id(self.try_get("kid").map_err(db)?, "kid")?,
                    merchant_id: parse_id(self.try_get("merchant_id").map_err(db)?, "merchant_id")?,
                    secret: self.try_get("secret").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    retire_at: self.try_get("retire_at").map_err(db)?,
                })
            }

            fn report(&self) -> Result<FraudReport, StoreError> {
                Ok(FraudReport {
                    id: parse_id(self.try_get("id").map_err(db)?, "id")?,
                    cardholder_id: parse_id(
                        self.try_get("cardholder_id").map_err(db)?,
                        "cardholder_id",
                    )?,
                    authentication_id: parse_id(
                        self.try_get("authentication_id").map_err(db)?,
                        "authentication_id",
                    )?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    resolved_at: self.try_get("resolved_at").map_err(db)?,
                })
            }

            fn mail(&self) -> Result<Mail, StoreError> {
                Ok(Mail {
                    id: self.try_get("id").map_err(db)?,
                    kind: self.try_get("kind").map_err(db)?,
                    recipient: self.try_get("recipient").map_err(db)?,
                    subject: self.try_get("subject").map_err(db)?,
                    text: self.try_get("text_body").map_err(db)?,
                    html: self.try_get("html_body").map_err(db)?,
                    attempts: self.try_get("attempts").map_err(db)?,
                    thread: parse_optional_id(self.try_get("thread").map_err(db)?, "thread")?,
                })
            }

            fn mailbox_message(&self) -> Result<MailboxMessage, StoreError> {
                Ok(MailboxMessage {
                    id: self.try_get("id").map_err(db)?,
                    kind: self.try_get("kind").map_err(db)?,
                    recipient: self.try_get("recipient").map_err(db)?,
                    subject: self.try_get("subject").map_err(db)?,
                    text: self.try_get("text_body").map_err(db)?,
                    html: self.try_get("html_body").map_err(db)?,
                    delivered_at: self.try_get("delivered_at").map_err(db)?,
                    merchant_id: parse_optional_id(
                        self.try_get("merchant_id").map_err(db)?,
                        "merchant_id",
                    )?,
                    authentication_id: parse_optional_id(
                        self.try_get("authentication_id").map_err(db)?,
                        "authentication_id",
                    )?,
                })
            }

            fn idempotency_key(&self) -> Result<IdempotencyKey, StoreError> {
                Ok(IdempotencyKey {
                    merchant_id: parse_id(self.try_get("merchant_id").map_err(db)?, "merchant_id")?,
                    key: self.try_get("key").map_err(db)?,
                    request_hash: self.try_get("request_hash").map_err(db)?,
                    authentication_id: parse_id(
                        self.try_get("authentication_id").map_err(db)?,
                        "authentication_id",
                    )?,
                    created_at: self.try_get("created_at").map_err(db)?,
                })
            }

            fn device_in(&self, c: Columns) -> Result<Device, StoreError> {
                let public_key: Option<Vec<u8>> =
                    self.try_get(&*c.name("public_key")).map_err(db)?;
                Ok(Device {
                    id: parse_id(self.try_get(&*c.name("id")).map_err(db)?, "id")?,
                    merchant_id: parse_id(
                        self.try_get(&*c.name("merchant_id")).map_err(db)?,
                        "merchant_id",
                    )?,
                    fingerprint: self.try_get(&*c.name("fingerprint")).map_err(db)?,
                    public_key: public_key
                        .map(|key| {
                            PublicKey::from_sec1(&key)
                                .map_err(|_| StoreError::Corrupt("public_key"))
                        })
                        .transpose()?,
                    created_at: self.try_get(&*c.name("created_at")).map_err(db)?,
                    expires_at: self.try_get(&*c.name("expires_at")).map_err(db)?,
                    revoked_at: self.try_get(&*c.name("revoked_at")).map_err(db)?,
                })
            }

            fn trust_in(&self, c: Columns) -> Result<DeviceTrust, StoreError> {
                Ok(DeviceTrust {
                    device_id: parse_id(
                        self.try_get(&*c.name("device_id")).map_err(db)?,
                        "device_id",
                    )?,
                    cardholder_id: parse_id(
                        self.try_get(&*c.name("cardholder_id")).map_err(db)?,
                        "cardholder_id",
                    )?,
                    created_at: self.try_get(&*c.name("created_at")).map_err(db)?,
                    expires_at: self.try_get(&*c.name("expires_at")).map_err(db)?,
                    revoked_at: self.try_get(&*c.name("revoked_at")).map_err(db)?,
                })
            }

            fn merchant(&self) -> Result<Merchant, StoreError> {
                Ok(Merchant {
                    id: parse_id(self.try_get("id").map_err(db)?, "id")?,
                    name: self.try_get("name").map_err(db)?,
                    origins: Vec::new(),
                    sandbox: self.try_get("sandbox").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    webhook: self.try_get("webhook").map_err(db)?,
                })
            }

            fn origin(&self) -> Result<Option<String>, StoreError> {
                self.try_get("origin").map_err(db)
            }

            fn history(&self) -> Result<History, StoreError> {
                Ok(History {
                    card_recent: self.try_get("card_recent").map_err(db)?,
                    device_recent: self.try_get("device_recent").map_err(db)?,
                    ip_recent: self.try_get("ip_recent").map_err(db)?,
                    failed_challenges: self.try_get("failed_challenges").map_err(db)?,
                    wrong_codes: self.try_get("wrong_codes").map_err(db)?,
                    open_report: self.try_get::<i64, _>("open_reports").map_err(db)? > 0,
                    usual_max_amount: self.try_get("usual_max_amount").map_err(db)?,
                    last_language: self.try_get("last_language").map_err(db)?,
                    last_timezone: self.try_get("last_timezone").map_err(db)?,
                })
            }

            fn step_reads(&self) -> Result<StepReads, StoreError> {
                // A joined row is there when its key column is: every key is `NOT NULL`.
                let joined = |key: &'static str| -> Result<bool, StoreError> {
                    let key: Option<String> = self.try_get(key).map_err(db)?;
                    Ok(key.is_some())
                };
                Ok(StepReads {
                    authentication: self.authentication()?,
                    cardholder: joined("ch_id")?
                        .then(|| self.cardholder_in(Columns::CARDHOLDER))
                        .transpose()?,
                    claimed_device: joined("dv_id")?
                        .then(|| self.device_in(Columns::DEVICE))
                        .transpose()?,
                    claimed_trust: joined("tr_device_id")?
                        .then(|| self.trust_in(Columns::TRUST))
                        .transpose()?,
                    history: self.history()?,
                })
            }
        }
    };
}

model_row!(SqliteRow);
model_row!(PgRow);
model_row!(NamedRow<'_, '_>);

#[cfg(test)]
mod tests {
    use super::*;

    /// A pending row's state columns.
    fn pending() -> StateColumns {
        StateColumns {
            state: "pending".into(),
            risk_score: None,
            risk_reasons: "[]".into(),
            device_id: None,
            fingerprint: None,
            ip: None,
            browser: BrowserInfo::default(),
            code_digest: None,
            code_expires_at: None,
            attempts: 0,
            resends: 0,
            last_sent_at: None,
            status: None,
            eci: None,
            method: None,
            reason: None,
            result_token: None,
        }
    }

    fn challenging() -> StateColumns {
        StateColumns {
            state: "challenging".into(),
            risk_score: Some(40),
            risk_reasons: "[\"no_device_token\"]".into(),
            code_digest: Some(vec![7; 32]),
            code_expires_at: Some(600),
            last_sent_at: Some(0),
            attempts: 2,
            ..pending()
        }
    }

    fn failed() -> StateColumns {
        StateColumns {
            state: "failed".into(),
            code_digest: None,
            status: Some("N".into()),
            eci: Some("07".into()),
            method: Some("challenge".into()),
            reason: Some("19".into()),
            result_token: Some("token".into()),
            attempts: 5,
            ..challenging()
        }
    }

    #[test]
    fn each_state_reads_with_what_it_holds() {
        assert_eq!(progress(pending()).unwrap(), Progress::Pending);
        match progress(challenging()).unwrap() {
            Progress::Challenging {
                assessment,
                challenge,
            } => {
                assert_eq!(assessment.risk_score, 40);
                assert_eq!(
                    (challenge.code_digest, challenge.attempts),
                    (vec![7; 32], 2)
                );
            }
            other => panic!("{other:?}"),
        }
        match progress(failed()).unwrap() {
            Progress::Finished(finished) => {
                assert_eq!((finished.end, finished.attempts), (Final::Failed, 5));
                assert_eq!(finished.outcome.result_token, "token");
                assert!(finished.assessment.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_row_whose_columns_do_not_fit_its_state_is_corrupt() {
        let cases = [
            (
                "a final row still holding a code",
                StateColumns {
                    code_digest: Some(vec![1; 32]),
                    ..failed()
                },
                "code_digest",
            ),
            (
                "a final row without its result",
                StateColumns {
                    result_token: None,
                    ..failed()
                },
                "result_token",
            ),
            (
                "a pending row with a result",
                StateColumns {
                    state: "pending".into(),
                    ..failed()
                },
                "result_token",
            ),
            (
                "a challenge without a code",
                StateColumns {
                    code_digest: None,
                    ..challenging()
                },
                "state",
            ),
            (
                "a challenge never assessed",
                StateColumns {
                    risk_score: None,
                    ..challenging()
                },
                "state",
            ),
            (
                "an unknown state",
                StateColumns {
                    state: "paused".into(),
                    ..pending()
                },
                "state",
            ),
        ];
        for (name, columns, column) in cases {
            match progress(columns) {
                Err(StoreError::Corrupt(found)) => assert_eq!(found, column, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// A name that two columns share is refused on the rusqlite path rather than read as the
    /// first of them (sqlx would read the last); the other columns still read.
    #[test]
    fn a_column_name_two_columns_share_is_refused() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let mut statement = connection
            .prepare("SELECT 1 AS shared, 2 AS shared, 3 AS own")
            .unwrap();
        let mut rows = statement.query([]).unwrap();
        let row = NamedRow::new(rows.next().unwrap().unwrap());
        let shared = row.try_get::<i64, _>("shared");
        assert!(
            matches!(shared, Err(rusqlite::Error::InvalidColumnName(_))),
            "{shared:?}"
        );
        assert_eq!(row.try_get::<i64, _>("own").unwrap(), 3);
    }
}
