//! The claims that result and device tokens carry, parsed strictly.
//!
//! Every struct denies unknown members, and serde's derive refuses a member given twice, so a
//! token's JSON has exactly one reading. Amounts are integers in the currency's minor unit (yen
//! for JPY, cents for USD), never floating point.

use alloc::string::String;
use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::canonical;

/// Claims a token carries.
pub(crate) trait Claims: Sized {
    /// The claims of `json`, or `None` unless it is exactly one JSON object of this kind
    /// (every rule of the module docs). The scanner of `canonical` answers for the JSON this
    /// crate writes; serde decides everything else.
    fn parse(json: &[u8]) -> Option<Self>;
}

impl Claims for ResultClaims {
    fn parse(json: &[u8]) -> Option<Self> {
        canonical::result_claims(json).or_else(|| serde_json::from_slice(json).ok())
    }
}

impl Claims for DeviceClaims {
    fn parse(json: &[u8]) -> Option<Self> {
        canonical::device_claims(json).or_else(|| serde_json::from_slice(json).ok())
    }
}

/// What an authentication concluded, signed for the merchant's backend (`typ`
/// `mamori-result+jwt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultClaims {
    /// The verifier that issued the token.
    pub iss: String,
    /// The merchant id the token is for.
    pub aud: String,
    /// The authentication id.
    pub sub: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, in seconds since the Unix epoch: the merchant must redeem it before then.
    pub exp: u64,
    /// A unique token id, so a merchant can refuse to redeem one twice.
    pub jti: String,
    /// The order that was authenticated, as the merchant's backend fixed it.
    pub txn: Transaction,
    /// The 3-D Secure `transStatus`.
    pub status: TransStatus,
    /// The electronic commerce indicator to send with the authorisation.
    pub eci: Eci,
    /// How the cardholder was authenticated.
    pub method: Method,
    /// The 3-D Secure `transStatusReason`, present when `status` is not `Y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

/// A device the cardholder proved, kept by the widget in the merchant origin's storage (`typ`
/// `mamori-device+jwt`, signed with a key only the verifier holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceClaims {
    /// The verifier that issued the token.
    pub iss: String,
    /// The merchant id whose origin stores the token.
    pub aud: String,
    /// The cardholder id the device was trusted for.
    pub sub: String,
    /// The trusted-device id, the handle by which it is revoked.
    pub did: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, in seconds since the Unix epoch.
    pub exp: u64,
}

/// The order an authentication is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// The merchant's order reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The amount in the currency's minor unit.
    pub amount: u64,
    /// The ISO 4217 alphabetic currency code.
    pub currency: Currency,
}

/// The 3-D Secure transaction status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransStatus {
    /// Authenticated (`Y`).
    #[serde(rename = "Y")]
    Authenticated,
    /// Attempted: authentication was not available, proof of the attempt is given (`A`).
    #[serde(rename = "A")]
    Attempted,
    /// Not authenticated (`N`).
    #[serde(rename = "N")]
    NotAuthenticated,
    /// Authentication could not be performed (`U`).
    #[serde(rename = "U")]
    Unavailable,
    /// Rejected by the issuer; do not authorise (`R`).
    #[serde(rename = "R")]
    Rejected,
}

impl TransStatus {
    /// Every status, in the order of the 3-D Secure specification.
    pub const ALL: [Self; 5] = [
        Self::Authenticated,
        Self::Attempted,
        Self::NotAuthenticated,
        Self::Unavailable,
        Self::Rejected,
    ];

    /// The status whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The one-letter code used on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Authenticated => "Y",
            Self::Attempted => "A",
            Self::NotAuthenticated => "N",
            Self::Unavailable => "U",
            Self::Rejected => "R",
        }
    }
}

/// The electronic commerce indicator (Amex and Visa values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Eci {
    /// `05`: fully authenticated.
    #[serde(rename = "05")]
    Authenticated,
    /// `06`: authentication attempted.
    #[serde(rename = "06")]
    Attempted,
    /// `07`: not authenticated.
    #[serde(rename = "07")]
    NotAuthenticated,
}

impl Eci {
    /// Every indicator.
    pub const ALL: [Self; 3] = [Self::Authenticated, Self::Attempted, Self::NotAuthenticated];

    /// The indicator whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    /// The two-digit code used on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Authenticated => "05",
            Self::Attempted => "06",
            Self::NotAuthenticated => "07",
        }
    }
}

/// How the cardholder was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Without interaction: a trusted device and a low-risk purchase.
    Frictionless,
    /// With a one-time code.
    Challenge,
}

impl Method {
    /// Every method.
    pub const ALL: [Self; 2] = [Self::Frictionless, Self::Challenge];

    /// The method whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }

    /// The word used on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Frictionless => "frictionless",
            Self::Challenge => "challenge",
        }
    }
}

/// A 3-D Secure `transStatusReason`: two decimal digits, `01` to `99`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reason(u8);

impl Reason {
    /// `01`: card authentication failed.
    pub const CARD_AUTHENTICATION_FAILED: Self = Self(1);
    /// `02`: unknown device.
    pub const UNKNOWN_DEVICE: Self = Self(2);
    /// `04`: exceeds authentication frequency limit.
    pub const FREQUENCY_LIMIT: Self = Self(4);
    /// `09`: security failure.
    pub const SECURITY_FAILURE: Self = Self(9);
    /// `11`: suspected fraud.
    pub const SUSPECTED_FRAUD: Self = Self(11);
    /// `12`: transaction not permitted to cardholder.
    pub const NOT_PERMITTED: Self = Self(12);
    /// `13`: cardholder not enrolled in service.
    pub const NOT_ENROLLED: Self = Self(13);
    /// `14`: transaction timed out.
    pub const TIMED_OUT: Self = Self(14);
    /// `15`: low confidence.
    pub const LOW_CONFIDENCE: Self = Self(15);
    /// `19`: exceeds the maximum number of challenges.
    pub const MAX_CHALLENGES: Self = Self(19);

    /// A reason from its number.
    ///
    /// # Errors
    ///
    /// `None` unless `1 <= code <= 99`.
    pub fn new(code: u8) -> Option<Self> {
        (1..=99).contains(&code).then_some(Self(code))
    }

    /// The reason's number.
    pub fn number(self) -> u8 {
        self.0
    }

    /// The reason as written on the wire: two decimal digits, `01` to `99`.
    pub(crate) fn from_digits(text: &str) -> Option<Self> {
        match *text.as_bytes() {
            [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Self::new((a - b'0') * 10 + (b - b'0')),
            _ => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let digits = [b'0' + self.0 / 10, b'0' + self.0 % 10];
        // Both bytes are ASCII digits, so this never takes the fallback.
        serializer.serialize_str(core::str::from_utf8(&digits).unwrap_or("00"))
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ReasonVisitor;
        impl Visitor<'_> for ReasonVisitor {
            type Value = Reason;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("two decimal digits from 01 to 99")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Reason, E> {
                Reason::from_digits(value)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
            }
        }
        deserializer.deserialize_str(ReasonVisitor)
    }
}

/// An ISO 4217 alphabetic currency code: exactly three ASCII capital letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses a currency code such as `JPY`.
    ///
    /// # Errors
    ///
    /// `None` unless the text is exactly three ASCII capital letters.
    pub fn new(code: &str) -> Option<Self> {
        match *code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Some(Self([a, b, c])),
            _ => None,
        }
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored, so this never takes the fallback.
        core::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CurrencyVisitor;
        impl Visitor<'_> for CurrencyVisitor {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("three ASCII capital letters")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Currency, E> {
                Currency::new(value)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
            }
        }
        deserializer.deserialize_str(CurrencyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `code` and `from_code` are one mapping, and the one serde writes and reads: the claims
    /// scanner (which uses them) and serde (its fallback) agree on every wire value.
    #[test]
    fn codes_are_the_serde_spellings() {
        fn check<T>(all: &[T], code: fn(T) -> &'static str, from: fn(&str) -> Option<T>)
        where
            T: Copy + PartialEq + core::fmt::Debug + Serialize + serde::de::DeserializeOwned,
        {
            for &value in all {
                let quoted = alloc::format!("\"{}\"", code(value));
                assert_eq!(serde_json::to_string(&value).ok(), Some(quoted.clone()));
                assert_eq!(serde_json::from_str::<T>(&quoted).ok(), Some(value));
                assert_eq!(from(code(value)), Some(value));
            }
            assert_eq!(from("x"), None);
        }
        check(&TransStatus::ALL, TransStatus::code, TransStatus::from_code);
        check(&Eci::ALL, Eci::code, Eci::from_code);
        check(&Method::ALL, Method::code, Method::from_code);
    }

    #[test]
    fn reason_is_two_digits() {
        assert_eq!(
            serde_json::to_string(&Reason::TIMED_OUT).ok().as_deref(),
            Some("\"14\"")
        );
        assert_eq!(
            serde_json::from_str::<Reason>("\"19\"").ok(),
            Some(Reason::MAX_CHALLENGES)
        );
        for bad in ["\"00\"", "\"1\"", "\"100\"", "\"1a\"", "19"] {
            assert!(serde_json::from_str::<Reason>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currency_is_three_capitals() {
        assert_eq!(
            Currency::new("JPY").map(|c| c.as_str() == "JPY"),
            Some(true)
        );
        for bad in ["jpy", "JP", "JPYY", "J1Y", "ＪＰＹ"] {
            assert!(Currency::new(bad).is_none(), "{bad}");
        }
    }
}
