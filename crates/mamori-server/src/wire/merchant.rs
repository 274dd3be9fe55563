//! The merchant backend's requests and answers: starting an authentication, reading it, and a
//! sandbox merchant's kept mail.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::Type;
use utoipa::openapi::schema::{Object, SchemaType};

use super::{Eci, Method, Status};
use crate::model;

/// `POST /v1/authentications`: the purchase to authenticate. Exactly one of `card_number` and
/// `card_ref` is required (checked after parsing: `400 invalid_request`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateAuthentication)]
pub struct CreateRequest {
    /// 12 to 19 digits, Luhn-valid; never stored in clear.
    pub card_number: Option<String>,
    /// The card's keyed reference, for merchants that never see the number.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub card_ref: Option<String>,
    /// In the currency's minor unit.
    #[schema(minimum = 1)]
    pub amount: u64,
    /// ISO 4217 alphabetic code.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// The merchant's order reference, bound into the result token.
    #[schema(min_length = 1, max_length = 128)]
    pub order_ref: String,
    /// The 3-D Secure challenge preference: `01` (no preference, the default), `02` (no
    /// challenge requested), `03` (challenge requested), `04` (challenge mandated).
    #[serde(default)]
    #[schema(schema_with = challenge_preference)]
    pub challenge_preference: Option<String>,
}

/// The values of [`CreateRequest::challenge_preference`]; any other string is refused after
/// parsing, with a message naming them.
fn challenge_preference() -> Object {
    let codes = ["01", "02", "03", "04"].map(Value::from);
    Object::builder()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(codes.into_iter().chain([Value::Null])))
        .description(Some(
            "The 3-D Secure challenge preference; `01` when absent or null.",
        ))
        .build()
}

/// `201` to `POST /v1/authentications`: what the widget needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Created {
    /// The authentication id (`au_…`).
    pub id: String,
    /// The widget's credential for this authentication only (`cs_…`).
    pub client_secret: String,
    /// When the authentication expires.
    pub expires_at: i64,
}

/// Where an authentication is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthenticationState {
    /// Created; the widget has not sent the device step yet.
    Pending,
    /// A code was sent; waiting for the cardholder.
    Challenging,
    /// Authenticated, frictionless or by code.
    Succeeded,
    /// Too many wrong codes, or refused by a sandbox test card.
    Failed,
    /// Refused by the risk engine.
    Rejected,
    /// Outlived its lifetime.
    Expired,
    /// Cancelled by the cardholder.
    Cancelled,
}

impl From<model::State> for AuthenticationState {
    fn from(state: model::State) -> Self {
        match state {
            model::State::Pending => Self::Pending,
            model::State::Challenging => Self::Challenging,
            model::State::Succeeded => Self::Succeeded,
            model::State::Failed => Self::Failed,
            model::State::Rejected => Self::Rejected,
            model::State::Expired => Self::Expired,
            model::State::Cancelled => Self::Cancelled,
        }
    }
}

/// `200` to `GET /v1/authentications/{id}`: the state, the result and why. Every member is
/// always present; the result's members are `null` until the authentication is final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthenticationView {
    /// The authentication id.
    pub id: String,
    /// Where it is in its life.
    pub state: AuthenticationState,
    /// The result's `transStatus`.
    #[schema(required = true)]
    pub status: Option<Status>,
    /// The result's electronic commerce indicator.
    #[schema(required = true)]
    pub eci: Option<Eci>,
    /// How the result was reached.
    #[schema(required = true)]
    pub method: Option<Method>,
    /// The 3-D Secure `transStatusReason` (two digits) when the status is not `Y`.
    #[schema(required = true, pattern = "^[0-9]{2}$")]
    pub trans_status_reason: Option<String>,
    /// The risk engine's reasons (`no_device_token`, `card_blocked`, …).
    pub reasons: Vec<String>,
    /// The risk score, 0 to 100, once assessed.
    #[schema(required = true, minimum = 0, maximum = 100)]
    pub risk_score: Option<i64>,
    /// In the currency's minor unit.
    pub amount: i64,
    /// ISO 4217 alphabetic code.
    pub currency: String,
    /// The merchant's order reference.
    pub order_ref: String,
    /// When it was created.
    pub created_at: i64,
    /// When it expires (or expired).
    pub expires_at: i64,
    /// The signed result token, once final.
    #[schema(required = true)]
    pub result_token: Option<String>,
}

/// `200` to `GET /v1/sandbox/mail`: the mail a sandbox merchant's test cards caused, newest
/// first. None of it is ever sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxMail {
    /// Newest first.
    pub mail: Vec<KeptMail>,
}

/// One kept mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeptMail {
    /// Its number.
    pub id: i64,
    /// The authentication it is about, if any.
    #[schema(required = true)]
    pub authentication_id: Option<String>,
    /// What it is (`code`, `alert_failed`, …).
    pub kind: String,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// When it was kept.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use serde_json::from_str;

    use super::*;

    #[test]
    fn the_create_request_takes_what_the_handler_takes() {
        let minimal: CreateRequest =
            from_str(r#"{"card_ref":"ab","amount":1,"currency":"JPY","order_ref":"o"}"#).unwrap();
        assert_eq!(
            (minimal.card_number, minimal.challenge_preference),
            (None, None)
        );
        let extra = r#"{"card_ref":"ab","amount":1,"currency":"JPY","order_ref":"o","x":1}"#;
        assert!(from_str::<CreateRequest>(extra).is_err());
        let negative = r#"{"card_ref":"ab","amount":-1,"currency":"JPY","order_ref":"o"}"#;
        assert!(from_str::<CreateRequest>(negative).is_err());
    }
}
