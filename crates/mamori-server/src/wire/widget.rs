//! The widget's requests and the answers it reads: the device step, the code, a resend and a
//! cancel. The widget's parser (`mamori-widget`'s `api.js`) reads exactly these, which the
//! golden answers in `tests/golden/` hold it to.

use mamori_core::fingerprint::{Browser, Fingerprint, SCHEMA};
use mamori_core::otp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use super::Status;
use crate::model;

/// `POST /v1/authentications/{id}/device`: the device's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    /// The hashed signals; parsed strictly (known components, 32 hex digits each).
    #[schema(schema_with = fingerprint)]
    pub fingerprint: Fingerprint,
    /// The device token this browser stored, if any; `null` or absent when it has none.
    #[serde(default)]
    pub device_token: Option<String>,
    /// The browser's language, time zone and user agent.
    #[serde(default)]
    pub browser: Option<BrowserData>,
    /// The device key's ECDSA P-256 signature (IEEE P1363 `r || s`, unpadded base64url) over
    /// `mamori-device-proof-v1\ndevice\n<authentication id>`; sent only when the browser holds
    /// both a device token and a device key. A device registered with a key is identified only
    /// with it. Malformed: `400 invalid_request`.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{86}$")]
    pub device_proof: Option<String>,
}

/// The schema of a [`Fingerprint`], from `mamori-core`'s component schema.
fn fingerprint() -> Object {
    let browsers = [
        Browser::Chromium,
        Browser::Firefox,
        Browser::Safari,
        Browser::Other,
    ]
    .map(|b| serde_json::to_value(b).unwrap_or_default());
    let hash = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9a-f]{32}$"));
    let ids = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(SCHEMA.iter().map(|c| c.id)));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "The hashed signals, as the widget computes them with mamori-core.",
        ))
        .property(
            "v",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some([1])),
        )
        .required("v")
        .property(
            "browser",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(browsers)),
        )
        .required("browser")
        .property(
            "components",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property_names(Some(ids))
                .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
                    Schema::Object(hash.build()),
                )))),
        )
        .required("components")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .build()
}

/// The browser facts the widget sends with the device step. Each is evidence, not a
/// requirement: one that is not what it says is ignored, and the step goes on without it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserData {
    /// A BCP 47 language tag (`ja-JP`, `zh-Hant-TW`): language, script, region and variants,
    /// at most 35 characters, no extensions.
    pub language: Option<String>,
    /// An IANA time zone name (`Asia/Tokyo`).
    pub timezone: Option<String>,
    /// The `User-Agent`; at most 512 characters, without control characters. Only its browser
    /// family is ever shown.
    pub user_agent: Option<String>,
}

/// `POST …/challenge/verify`: the code the cardholder typed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Six ASCII or full-width digits; spaces and hyphens are ignored.
    pub code: String,
    /// The browser's fresh device key, to be bound to the device the correct code trusts.
    /// Malformed, or a proof that does not verify: `400 invalid_request`, checked before the
    /// code (no attempt is counted).
    #[serde(default)]
    pub device_key: Option<DeviceKey>,
}

/// A device key registered at code entry: WebCrypto's ECDSA P-256 key pair, private half
/// non-extractable in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceKey {
    /// The 65-byte uncompressed SEC1 point `0x04 || X || Y` (`exportKey("raw", …)`), unpadded
    /// base64url.
    #[schema(pattern = "^[A-Za-z0-9_-]{87}$")]
    pub public_key: String,
    /// Its signature (P1363 `r || s`, unpadded base64url) over
    /// `mamori-device-proof-v1\nregister\n<authentication id>`: possession of the private key.
    #[schema(pattern = "^[A-Za-z0-9_-]{86}$")]
    pub proof: String,
}

/// The body of the routes that take no parameters: exactly `{}`. (A derived `Deserialize` of
/// an empty struct would also accept `[]`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Empty;

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        if map.is_empty() {
            Ok(Self)
        } else {
            Err(serde::de::Error::custom("expected an empty object {}"))
        }
    }
}

impl utoipa::PartialSchema for Empty {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("Exactly `{}`."))
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
            .into()
    }
}

impl ToSchema for Empty {}

/// `200` to the device step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeviceOutcome {
    /// Nothing for the cardholder to do: `Y`, or `A` for a sandbox test card.
    Frictionless {
        /// `Y`, or `A` for a sandbox test card.
        status: Status,
        /// The signed result for the merchant's backend.
        result_token: String,
    },
    /// A code was emailed (or, on a reloaded page, is still running).
    Challenge {
        /// What the challenge screen shows.
        challenge: Challenge,
    },
    /// Refused: `R` whatever the cause, or `N`/`U` for a sandbox test card.
    Rejected {
        /// `R`; `N` or `U` for a sandbox test card.
        status: Status,
        /// The signed result for the merchant's backend.
        result_token: String,
    },
}

/// The challenge screen's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// The enrolled address, masked (`t***@example.com`).
    pub masked_email: String,
    /// How many digits the code has.
    #[schema(schema_with = code_length)]
    pub code_length: usize,
    /// When the current code stops matching.
    pub expires_at: i64,
    /// Wrong entries left before the authentication fails.
    #[schema(minimum = 0)]
    pub attempts_left: i64,
    /// Resends left.
    #[schema(minimum = 0)]
    pub resends_left: i64,
    /// The earliest time a resend is accepted.
    pub resend_available_at: i64,
    /// The cardholder's language, for the widget's texts.
    pub locale: Locale,
}

/// [`Challenge::code_length`]: always `mamori-core`'s code length.
fn code_length() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some([otp::CODE_LEN]))
        .build()
}

/// A cardholder's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Japanese.
    Ja,
    /// English.
    En,
}

impl From<model::Locale> for Locale {
    fn from(locale: model::Locale) -> Self {
        match locale {
            model::Locale::Ja => Self::Ja,
            model::Locale::En => Self::En,
        }
    }
}

/// `200` to `POST …/challenge/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum VerifyOutcome {
    /// The right code: `Y`.
    Authenticated {
        /// `Y`.
        status: Status,
        /// The signed result for the merchant's backend.
        result_token: String,
        /// The token that makes this browser a trusted device; always present, `null` for a
        /// sandbox test card (the sandbox trusts no device) and while the card has an open
        /// fraud report (no browser is trusted until the issuer resolves it).
        #[schema(required = true)]
        device_token: Option<String>,
    },
    /// A wrong code (or one past its ten minutes); the cardholder may try again.
    WrongCode {
        /// Entries left.
        #[schema(minimum = 0)]
        attempts_left: i64,
    },
    /// The last wrong code (`N`, reason `19`), or a right one for a card the issuer blocked or
    /// unenrolled during the challenge (`R`, reason `12`).
    Failed {
        /// `N` or `R`.
        status: Status,
        /// The signed result for the merchant's backend.
        result_token: String,
    },
    /// The authentication outlived its lifetime: `U`, reason `14`.
    Expired {
        /// `U`.
        status: Status,
        /// The signed result for the merchant's backend.
        result_token: String,
    },
}

/// `200` to `POST …/challenge/resend`: the new code's challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendAnswer {
    /// What the challenge screen now shows.
    pub challenge: Challenge,
}

/// `200` to `POST …/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum CancelOutcome {
    /// Cancelled: `N`, reason `01`.
    Cancelled {
        /// `N`.
        status: Status,
        /// The signed result for the merchant's backend.
        result_token: String,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::{from_str, json, to_value};

    use super::*;

    #[test]
    fn requests_parse_as_strictly_as_the_handlers_do() {
        assert!(from_str::<Empty>("{}").is_ok());
        for body in ["[]", r#"{"a":1}"#, "null"] {
            assert!(from_str::<Empty>(body).is_err(), "{body}");
        }
        assert!(from_str::<VerifyRequest>(r#"{"code":"123456","extra":1}"#).is_err());
        let fingerprint = r#"{"v":1,"browser":"chromium","components":{}}"#;
        let bare: DeviceRequest = from_str(&format!(r#"{{"fingerprint":{fingerprint}}}"#)).unwrap();
        assert_eq!((bare.device_token, bare.browser), (None, None));
        let nulls =
            format!(r#"{{"fingerprint":{fingerprint},"device_token":null,"browser":null}}"#);
        assert!(from_str::<DeviceRequest>(&nulls).is_ok());
        let unknown = format!(r#"{{"fingerprint":{fingerprint},"browser":{{"os":"x"}}}}"#);
        assert!(from_str::<DeviceRequest>(&unknown).is_err());
    }

    #[test]
    fn answers_say_outcome_and_keep_null_apart_from_absent() {
        let authenticated = VerifyOutcome::Authenticated {
            status: Status::Y,
            result_token: "r".into(),
            device_token: None,
        };
        assert_eq!(
            to_value(authenticated).unwrap(),
            json!({"outcome": "authenticated", "status": "Y", "result_token": "r",
                   "device_token": null})
        );
        assert_eq!(
            to_value(VerifyOutcome::WrongCode { attempts_left: 4 }).unwrap(),
            json!({"outcome": "wrong_code", "attempts_left": 4})
        );
    }
}
