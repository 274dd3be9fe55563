//! What both SQL backends share when they read and write rows: the error mapping, the JSON and
//! one-code columns, and the row decoders, written once for any sqlx row type.
//!
//! The decoders are a macro rather than generic functions because sqlx's `Row::try_get` needs a
//! `Decode + Type` bound per column type and database; spelled out as generic bounds they would
//! be longer than the decoders themselves.

use super::StoreError;

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

/// Defines `auth_from_row`, `cardholder_from_row`, `key_from_row`, `report_from_row`,
/// `mail_from_row`, `mailbox_from_row` and `idempotency_from_row` for the row type `$row`, in
/// the module that invokes it (which imports the model types, `sqlx::Row` and this module's
/// helpers).
macro_rules! row_decoders {
    ($row:ty) => {
        fn auth_from_row(row: &$row) -> Result<Authentication, StoreError> {
            let state: String = row.try_get("state").map_err(db)?;
            let preference: String = row.try_get("challenge_preference").map_err(db)?;
            let reasons: String = row.try_get("risk_reasons").map_err(db)?;
            let status = parse_code(row.try_get("status").map_err(db)?, "status")?;
            let eci = parse_code(row.try_get("eci").map_err(db)?, "eci")?;
            let method = parse_code(row.try_get("method").map_err(db)?, "method")?;
            let reason = parse_code(row.try_get("reason").map_err(db)?, "reason")?;
            let result_token: Option<String> = row.try_get("result_token").map_err(db)?;
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
                id: row.try_get("id").map_err(db)?,
                merchant_id: row.try_get("merchant_id").map_err(db)?,
                cardholder_id: row.try_get("cardholder_id").map_err(db)?,
                amount: Amount::new(row.try_get("amount").map_err(db)?)
                    .ok_or(StoreError::Corrupt("amount"))?,
                currency: Currency::new(&row.try_get::<String, _>("currency").map_err(db)?)
                    .ok_or(StoreError::Corrupt("currency"))?,
                order_ref: OrderRef::parse(row.try_get("order_ref").map_err(db)?)
                    .ok_or(StoreError::Corrupt("order_ref"))?,
                challenge_preference: ChallengePreference::parse(&preference)
                    .ok_or(StoreError::Corrupt("challenge_preference"))?,
                client_secret_hash: row.try_get("client_secret_hash").map_err(db)?,
                state: State::parse(&state).ok_or(StoreError::Corrupt("state"))?,
                created_at: row.try_get("created_at").map_err(db)?,
                expires_at: row.try_get("expires_at").map_err(db)?,
                risk_score: row.try_get("risk_score").map_err(db)?,
                risk_reasons: parse_json(&reasons, "risk_reasons")?,
                device_id: row.try_get("device_id").map_err(db)?,
                fingerprint: row.try_get("fingerprint").map_err(db)?,
                ip: row.try_get("ip").map_err(db)?,
                browser: BrowserInfo {
                    language: row.try_get("language").map_err(db)?,
                    timezone: row.try_get("timezone").map_err(db)?,
                    user_agent: row.try_get("user_agent").map_err(db)?,
                },
                code_digest: row.try_get("code_digest").map_err(db)?,
                code_expires_at: row.try_get("code_expires_at").map_err(db)?,
                sandbox_card: row
                    .try_get::<Option<String>, _>("sandbox_card")
                    .map_err(db)?
                    .map(|name| {
                        crate::sandbox::SandboxCard::parse(&name)
                            .ok_or(StoreError::Corrupt("sandbox_card"))
                    })
                    .transpose()?,
                attempts: row.try_get("attempts").map_err(db)?,
                resends: row.try_get("resends").map_err(db)?,
                last_sent_at: row.try_get("last_sent_at").map_err(db)?,
                outcome,
            })
        }

        fn cardholder_from_row(row: &$row) -> Result<Cardholder, StoreError> {
            let locale: String = row.try_get("locale").map_err(db)?;
            let status: String = row.try_get("status").map_err(db)?;
            Ok(Cardholder {
                id: row.try_get("id").map_err(db)?,
                card_ref: row.try_get("card_ref").map_err(db)?,
                last4: row.try_get("last4").map_err(db)?,
                email: row.try_get("email").map_err(db)?,
                locale: Locale::parse(&locale).ok_or(StoreError::Corrupt("locale"))?,
                status: CardStatus::parse(&status).ok_or(StoreError::Corrupt("status"))?,
                frictionless_ceiling: row.try_get("frictionless_ceiling").map_err(db)?,
                created_at: row.try_get("created_at").map_err(db)?,
            })
        }

        fn key_from_row(row: &$row) -> Result<MerchantKey, StoreError> {
            Ok(MerchantKey {
                kid: row.try_get("kid").map_err(db)?,
                merchant_id: row.try_get("merchant_id").map_err(db)?,
                secret: row.try_get("secret").map_err(db)?,
                created_at: row.try_get("created_at").map_err(db)?,
                retire_at: row.try_get("retire_at").map_err(db)?,
            })
        }

        fn report_from_row(row: &$row) -> Result<FraudReport, StoreError> {
            Ok(FraudReport {
                id: row.try_get("id").map_err(db)?,
                cardholder_id: row.try_get("cardholder_id").map_err(db)?,
                authentication_id: row.try_get("authentication_id").map_err(db)?,
                created_at: row.try_get("created_at").map_err(db)?,
                resolved_at: row.try_get("resolved_at").map_err(db)?,
            })
        }

        fn mail_from_row(row: &$row) -> Result<Mail, StoreError> {
            Ok(Mail {
                id: row.try_get("id").map_err(db)?,
                kind: row.try_get("kind").map_err(db)?,
                recipient: row.try_get("recipient").map_err(db)?,
                subject: row.try_get("subject").map_err(db)?,
                text: row.try_get("text_body").map_err(db)?,
                html: row.try_get("html_body").map_err(db)?,
                attempts: row.try_get("attempts").map_err(db)?,
            })
        }

        fn mailbox_from_row(row: &$row) -> Result<MailboxMessage, StoreError> {
            Ok(MailboxMessage {
                id: row.try_get("id").map_err(db)?,
                kind: row.try_get("kind").map_err(db)?,
                recipient: row.try_get("recipient").map_err(db)?,
                subject: row.try_get("subject").map_err(db)?,
                text: row.try_get("text_body").map_err(db)?,
                html: row.try_get("html_body").map_err(db)?,
                delivered_at: row.try_get("delivered_at").map_err(db)?,
                merchant_id: row.try_get("merchant_id").map_err(db)?,
                authentication_id: row.try_get("authentication_id").map_err(db)?,
            })
        }

        fn idempotency_from_row(row: &$row) -> Result<IdempotencyKey, StoreError> {
            Ok(IdempotencyKey {
                merchant_id: row.try_get("merchant_id").map_err(db)?,
                key: row.try_get("key").map_err(db)?,
                request_hash: row.try_get("request_hash").map_err(db)?,
                authentication_id: row.try_get("authentication_id").map_err(db)?,
                created_at: row.try_get("created_at").map_err(db)?,
            })
        }
    };
}

pub(super) use row_decoders;
