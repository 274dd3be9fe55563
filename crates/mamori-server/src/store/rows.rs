//! Row decoding and value encoding for both dialects, written once: the error mapping, the JSON
//! and one-code columns, and [`ModelRow`], which reads every model type from a result row of
//! either database.
//!
//! [`ModelRow`] is implemented by a macro, once per row type, rather than as generic functions,
//! because sqlx's `Row::try_get` needs a `Decode + Type` bound per column type and database;
//! spelled out as generic bounds they would be longer than the decoders themselves.

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::StoreError;
use crate::model::{
    Amount, Authentication, BrowserInfo, CardStatus, Cardholder, ChallengePreference, Currency,
    Device, FraudReport, IdempotencyKey, Locale, Mail, MailboxMessage, Merchant, MerchantKey,
    OrderRef, Outcome, State,
};
use crate::risk::History;

/// A unique-key violation is [`StoreError::Conflict`]; anything else is for the logs.
pub(super) fn db(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Database(error.to_string()),
    }
}

/// A JSON column, or [`StoreError::Corrupt`] naming it.
pub(super) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt(column))
}

/// Reads a one-code enum from its JSON string form (`"Y"`, `"05"`, `"challenge"`, `"19"`).
pub(super) fn parse_code<T: serde::de::DeserializeOwned>(
    text: Option<String>,
    column: &'static str,
) -> Result<Option<T>, StoreError> {
    text.map(|text| parse_json(&serde_json::Value::String(text).to_string(), column))
        .transpose()
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
    fn cardholder(&self) -> Result<Cardholder, StoreError>;
    /// A `devices` row.
    fn device(&self) -> Result<Device, StoreError>;
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
    /// The one row of the history query.
    fn history(&self) -> Result<History, StoreError>;
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

/// Implements [`ModelRow`] for the row type `$row`.
macro_rules! model_row {
    ($row:ty) => {
        impl ModelRow for $row {
            fn authentication(&self) -> Result<Authentication, StoreError> {
                let state: String = self.try_get("state").map_err(db)?;
                let preference: String = self.try_get("challenge_preference").map_err(db)?;
                let reasons: String = self.try_get("risk_reasons").map_err(db)?;
                let status = parse_code(self.try_get("status").map_err(db)?, "status")?;
                let eci = parse_code(self.try_get("eci").map_err(db)?, "eci")?;
                let method = parse_code(self.try_get("method").map_err(db)?, "method")?;
                let reason = parse_code(self.try_get("reason").map_err(db)?, "reason")?;
                let result_token: Option<String> = self.try_get("result_token").map_err(db)?;
                let outcome = match (status, eci, method, result_token) {
                    (Some(status), Some(eci), Some(method), Some(result_token)) => Some(Outcome {
                        status,
                        eci,
                        method,
                        reason,
                        result_token,
                    }),
                    _ => None,
                };
                Ok(Authentication {
                    id: self.try_get("id").map_err(db)?,
                    merchant_id: self.try_get("merchant_id").map_err(db)?,
                    cardholder_id: self.try_get("cardholder_id").map_err(db)?,
                    amount: Amount::new(self.try_get("amount").map_err(db)?)
                        .ok_or(StoreError::Corrupt("amount"))?,
                    currency: Currency::new(&self.try_get::<String, _>("currency").map_err(db)?)
                        .ok_or(StoreError::Corrupt("currency"))?,
                    order_ref: OrderRef::parse(self.try_get("order_ref").map_err(db)?)
                        .ok_or(StoreError::Corrupt("order_ref"))?,
                    challenge_preference: ChallengePreference::parse(&preference)
                        .ok_or(StoreError::Corrupt("challenge_preference"))?,
                    client_secret_hash: self.try_get("client_secret_hash").map_err(db)?,
                    state: State::parse(&state).ok_or(StoreError::Corrupt("state"))?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    expires_at: self.try_get("expires_at").map_err(db)?,
                    risk_score: self.try_get("risk_score").map_err(db)?,
                    risk_reasons: parse_json(&reasons, "risk_reasons")?,
                    device_id: self.try_get("device_id").map_err(db)?,
                    fingerprint: self.try_get("fingerprint").map_err(db)?,
                    ip: self.try_get("ip").map_err(db)?,
                    browser: BrowserInfo {
                        language: self.try_get("language").map_err(db)?,
                        timezone: self.try_get("timezone").map_err(db)?,
                        user_agent: self.try_get("user_agent").map_err(db)?,
                    },
                    code_digest: self.try_get("code_digest").map_err(db)?,
                    code_expires_at: self.try_get("code_expires_at").map_err(db)?,
                    sandbox_card: self
                        .try_get::<Option<String>, _>("sandbox_card")
                        .map_err(db)?
                        .map(|name| {
                            crate::sandbox::SandboxCard::parse(&name)
                                .ok_or(StoreError::Corrupt("sandbox_card"))
                        })
                        .transpose()?,
                    attempts: self.try_get("attempts").map_err(db)?,
                    resends: self.try_get("resends").map_err(db)?,
                    last_sent_at: self.try_get("last_sent_at").map_err(db)?,
                    outcome,
                })
            }

            fn cardholder(&self) -> Result<Cardholder, StoreError> {
                let locale: String = self.try_get("locale").map_err(db)?;
                let status: String = self.try_get("status").map_err(db)?;
                Ok(Cardholder {
                    id: self.try_get("id").map_err(db)?,
                    card_ref: self.try_get("card_ref").map_err(db)?,
                    last4: self.try_get("last4").map_err(db)?,
                    email: self.try_get("email").map_err(db)?,
                    locale: Locale::parse(&locale).ok_or(StoreError::Corrupt("locale"))?,
                    status: CardStatus::parse(&status).ok_or(StoreError::Corrupt("status"))?,
                    frictionless_ceiling: self.try_get("frictionless_ceiling").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                })
            }

            fn merchant_key(&self) -> Result<MerchantKey, StoreError> {
                Ok(MerchantKey {
                    kid: self.try_get("kid").map_err(db)?,
                    merchant_id: self.try_get("merchant_id").map_err(db)?,
                    secret: self.try_get("secret").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    retire_at: self.try_get("retire_at").map_err(db)?,
                })
            }

            fn report(&self) -> Result<FraudReport, StoreError> {
                Ok(FraudReport {
                    id: self.try_get("id").map_err(db)?,
                    cardholder_id: self.try_get("cardholder_id").map_err(db)?,
                    authentication_id: self.try_get("authentication_id").map_err(db)?,
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
                    merchant_id: self.try_get("merchant_id").map_err(db)?,
                    authentication_id: self.try_get("authentication_id").map_err(db)?,
                })
            }

            fn idempotency_key(&self) -> Result<IdempotencyKey, StoreError> {
                Ok(IdempotencyKey {
                    merchant_id: self.try_get("merchant_id").map_err(db)?,
                    key: self.try_get("key").map_err(db)?,
                    request_hash: self.try_get("request_hash").map_err(db)?,
                    authentication_id: self.try_get("authentication_id").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                })
            }

            fn device(&self) -> Result<Device, StoreError> {
                Ok(Device {
                    id: self.try_get("id").map_err(db)?,
                    cardholder_id: self.try_get("cardholder_id").map_err(db)?,
                    merchant_id: self.try_get("merchant_id").map_err(db)?,
                    fingerprint: self.try_get("fingerprint").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
                    expires_at: self.try_get("expires_at").map_err(db)?,
                    revoked_at: self.try_get("revoked_at").map_err(db)?,
                })
            }

            fn merchant(&self) -> Result<Merchant, StoreError> {
                Ok(Merchant {
                    id: self.try_get("id").map_err(db)?,
                    name: self.try_get("name").map_err(db)?,
                    origins: Vec::new(),
                    sandbox: self.try_get("sandbox").map_err(db)?,
                    created_at: self.try_get("created_at").map_err(db)?,
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
        }
    };
}

model_row!(SqliteRow);
model_row!(PgRow);
