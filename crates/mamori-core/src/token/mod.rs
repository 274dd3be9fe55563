//! Result and device tokens: JWS compact serialization, HS256 only, verified by a strict profile.
//!
//! A token is `base64url(header) . base64url(claims) . base64url(HMAC-SHA256 tag)` with the header
//! `{"alg":"HS256","typ":…,"kid":…}` (RFC 7515, RFC 7519). Being standard JWS, any JWT library
//! can check it; [`verify_result`] is stricter than most. The checks run in this order, and each
//! failure has its own [`TokenError`]:
//!
//! 1. at most [`MAX_TOKEN_LEN`] bytes, exactly three non-empty segments;
//! 2. canonical unpadded base64url everywhere;
//! 3. the header is exactly `alg`, `typ`, `kid`; `alg` is `HS256` (never `none`, never an
//!    asymmetric algorithm a public key could be confused with); `typ` is the kind asked for;
//!    `kid` names a key in the caller's [`KeySet`];
//! 4. the tag, compared in constant time — the claims are not parsed before this passes;
//! 5. the claims parse strictly, `iat` is not in the future and `exp` not in the past (both
//!    with the caller's leeway), the lifetime is within bounds, `aud` is the caller;
//! 6. for results, when the caller passes its order: reference, amount and currency match.
//!
//! Time and keys are arguments: the crate has no clock and no key store.

mod claims;
mod error;
mod keys;

use alloc::string::String;

use hmac::Mac;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::b64;

pub use claims::{
    Currency, DeviceClaims, Eci, Method, Reason, ResultClaims, TransStatus, Transaction,
};
pub use error::TokenError;
pub use keys::{
    KeyError, KeySet, MAX_KID_LEN, MIN_SECRET_LEN, SECRET_KEY_PREFIX, SigningKey, encode_secret_key,
};

/// The longest token accepted, in bytes. Ours are well under 1 KiB; the bound stops a hostile
/// token from costing more than a few hashes before it is refused.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The `typ` header of result tokens.
pub const RESULT_TYPE: &str = "mamori-result+jwt";

/// The `typ` header of device tokens.
pub const DEVICE_TYPE: &str = "mamori-device+jwt";

/// How long a merchant has to redeem a result token, in seconds (10 minutes).
pub const RESULT_LIFETIME: u64 = 10 * 60;

/// How long a device stays trusted, in seconds (180 days).
pub const DEVICE_LIFETIME: u64 = 180 * 24 * 60 * 60;

/// The default tolerance for clock differences between verifier and merchant, in seconds.
pub const DEFAULT_LEEWAY: u64 = 30;

/// The only algorithm of the profile.
const ALGORITHM: &str = "HS256";

/// Length of an HS256 tag.
const TAG_LEN: usize = 32;

/// What the caller expects of a token besides its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation<'a> {
    /// The audience the token must name: the merchant id.
    pub audience: &'a str,
    /// The current time, in seconds since the Unix epoch.
    pub now: u64,
    /// Clock tolerance for `iat` and `exp`, in seconds.
    pub leeway: u64,
    /// The longest `exp - iat` accepted, in seconds.
    pub max_lifetime: u64,
}

impl<'a> Validation<'a> {
    /// Checks for a result token: [`RESULT_LIFETIME`] and [`DEFAULT_LEEWAY`].
    pub fn result(audience: &'a str, now: u64) -> Self {
        Self {
            audience,
            now,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: RESULT_LIFETIME,
        }
    }

    /// Checks for a device token: [`DEVICE_LIFETIME`] and [`DEFAULT_LEEWAY`].
    pub fn device(audience: &'a str, now: u64) -> Self {
        Self {
            audience,
            now,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEVICE_LIFETIME,
        }
    }
}

/// The order a merchant's backend is about to capture; a result token must be for exactly it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedOrder<'a> {
    /// The merchant's order reference.
    pub reference: &'a str,
    /// The amount in the currency's minor unit.
    pub amount: u64,
    /// The ISO 4217 alphabetic currency code.
    pub currency: &'a str,
}

/// Signs result claims with `key`.
pub fn sign_result(claims: &ResultClaims, key: &SigningKey) -> String {
    sign(claims, RESULT_TYPE, key)
}

/// Signs device claims with `key`.
pub fn sign_device(claims: &DeviceClaims, key: &SigningKey) -> String {
    sign(claims, DEVICE_TYPE, key)
}

/// Verifies a result token and, when `order` is given, that it authenticates exactly that order.
///
/// # Errors
///
/// The first rule the token breaks, in the order of the [module docs](self).
///
/// # Security
///
/// The tag is compared in constant time, and the claims are parsed only after it matched.
/// A merchant must also redeem each `jti` once; this function has no memory to do that.
pub fn verify_result(
    token: &str,
    keys: &KeySet,
    validation: &Validation<'_>,
    order: Option<&ExpectedOrder<'_>>,
) -> Result<ResultClaims, TokenError> {
    let claims: ResultClaims = verify(token, RESULT_TYPE, keys)?;
    check_time_and_audience(claims.iat, claims.exp, &claims.aud, validation)?;
    if let Some(order) = order {
        check_order(&claims.txn, order)?;
    }
    Ok(claims)
}

/// Verifies a device token.
///
/// # Errors
///
/// The first rule the token breaks, in the order of the [module docs](self).
pub fn verify_device(
    token: &str,
    keys: &KeySet,
    validation: &Validation<'_>,
) -> Result<DeviceClaims, TokenError> {
    let claims: DeviceClaims = verify(token, DEVICE_TYPE, keys)?;
    check_time_and_audience(claims.iat, claims.exp, &claims.aud, validation)?;
    Ok(claims)
}

/// The JOSE header: exactly these members, in this order when written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

fn sign<C: Serialize>(claims: &C, typ: &str, key: &SigningKey) -> String {
    let header = Header {
        alg: ALGORITHM,
        typ,
        kid: key.kid(),
    };
    // Serialising plain structs of strings and integers into memory cannot fail; an empty
    // segment would only make the token unverifiable, never valid.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = String::with_capacity((header.len() + claims.len() + TAG_LEN) * 4 / 3 + 4);
    b64::encode_into(&header, &mut token);
    token.push('.');
    b64::encode_into(&claims, &mut token);
    let mut mac = key.mac();
    mac.update(token.as_bytes());
    let tag = mac.finalize().into_bytes();
    token.push('.');
    b64::encode_into(&tag, &mut token);
    token
}

/// Steps 1 to 4 of the profile, then the claims' strict parse.
fn verify<C: DeserializeOwned>(token: &str, typ: &str, keys: &KeySet) -> Result<C, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    let mut segments = token.split('.');
    let (Some(header), Some(claims), Some(tag), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(TokenError::Segments);
    };
    if header.is_empty() || claims.is_empty() || tag.is_empty() {
        return Err(TokenError::Segments);
    }
    let header_json = b64::decode(header.as_bytes()).map_err(|_| TokenError::Encoding)?;
    let claims_json = b64::decode(claims.as_bytes()).map_err(|_| TokenError::Encoding)?;
    let tag = b64::decode(tag.as_bytes()).map_err(|_| TokenError::Encoding)?;

    let parsed: Header<'_> =
        serde_json::from_slice(&header_json).map_err(|_| TokenError::Header)?;
    if parsed.alg != ALGORITHM {
        return Err(TokenError::Algorithm);
    }
    if parsed.typ != typ {
        return Err(TokenError::Type);
    }
    let key = keys.find(parsed.kid).ok_or(TokenError::UnknownKey)?;

    let signing_input = &token[..header.len() + 1 + claims.len()];
    let mut mac = key.mac();
    mac.update(signing_input.as_bytes());
    // `verify_slice` compares in constant time and refuses a tag of any other length.
    mac.verify_slice(&tag).map_err(|_| TokenError::Signature)?;

    serde_json::from_slice(&claims_json).map_err(|_| TokenError::Claims)
}

fn check_time_and_audience(
    iat: u64,
    exp: u64,
    audience: &str,
    validation: &Validation<'_>,
) -> Result<(), TokenError> {
    if iat > validation.now.saturating_add(validation.leeway) {
        return Err(TokenError::IssuedInFuture);
    }
    if exp.saturating_add(validation.leeway) < validation.now {
        return Err(TokenError::Expired);
    }
    if exp <= iat || exp - iat > validation.max_lifetime {
        return Err(TokenError::Lifetime);
    }
    if audience != validation.audience {
        return Err(TokenError::Audience);
    }
    Ok(())
}

fn check_order(txn: &Transaction, order: &ExpectedOrder<'_>) -> Result<(), TokenError> {
    if txn.reference != order.reference {
        return Err(TokenError::Reference);
    }
    if txn.amount != order.amount {
        return Err(TokenError::Amount);
    }
    if txn.currency.as_str() != order.currency {
        return Err(TokenError::Currency);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_800_000_000;

    fn claims() -> ResultClaims {
        ResultClaims {
            iss: "https://verifier.example".into(),
            aud: "m_shop".into(),
            sub: "au_1".into(),
            iat: NOW,
            exp: NOW + RESULT_LIFETIME,
            jti: "j1".into(),
            txn: Transaction {
                reference: "order-1".into(),
                amount: 12_800,
                currency: Currency::new("JPY").expect("valid currency"),
            },
            status: TransStatus::Authenticated,
            eci: Eci::Authenticated,
            method: Method::Challenge,
            reason: None,
        }
    }

    fn key(kid: &str) -> SigningKey {
        SigningKey::new(kid, SECRET).expect("valid key")
    }

    #[test]
    fn round_trip_with_order() {
        let token = sign_result(&claims(), &key("k1"));
        let order = ExpectedOrder {
            reference: "order-1",
            amount: 12_800,
            currency: "JPY",
        };
        let keys = KeySet::from(key("k1"));
        let verified = verify_result(
            &token,
            &keys,
            &Validation::result("m_shop", NOW),
            Some(&order),
        );
        assert_eq!(verified, Ok(claims()));
    }

    #[test]
    fn order_mismatches_are_named() {
        let token = sign_result(&claims(), &key("k1"));
        let keys = KeySet::from(key("k1"));
        let validation = Validation::result("m_shop", NOW);
        let check = |reference, amount, currency| {
            let order = ExpectedOrder {
                reference,
                amount,
                currency,
            };
            verify_result(&token, &keys, &validation, Some(&order)).err()
        };
        assert_eq!(check("order-2", 12_800, "JPY"), Some(TokenError::Reference));
        assert_eq!(check("order-1", 12_801, "JPY"), Some(TokenError::Amount));
        assert_eq!(check("order-1", 12_800, "USD"), Some(TokenError::Currency));
    }

    #[test]
    fn leeway_applies_both_ways() {
        let token = sign_result(&claims(), &key("k1"));
        let keys = KeySet::from(key("k1"));
        let at = |now| verify_result(&token, &keys, &Validation::result("m_shop", now), None);
        assert!(at(NOW - DEFAULT_LEEWAY).is_ok());
        assert_eq!(
            at(NOW - DEFAULT_LEEWAY - 1).err(),
            Some(TokenError::IssuedInFuture)
        );
        assert!(at(NOW + RESULT_LIFETIME + DEFAULT_LEEWAY).is_ok());
        assert_eq!(
            at(NOW + RESULT_LIFETIME + DEFAULT_LEEWAY + 1).err(),
            Some(TokenError::Expired)
        );
    }

    #[test]
    fn device_token_is_not_a_result_token() {
        let device = DeviceClaims {
            iss: "v".into(),
            aud: "m_shop".into(),
            sub: "ch_1".into(),
            did: "dv_1".into(),
            iat: NOW,
            exp: NOW + 60,
        };
        let token = sign_device(&device, &key("d1"));
        let keys = KeySet::from(key("d1"));
        let validation = Validation::result("m_shop", NOW);
        assert_eq!(
            verify_result(&token, &keys, &validation, None).err(),
            Some(TokenError::Type)
        );
        let device_validation = Validation::device("m_shop", NOW);
        assert_eq!(verify_device(&token, &keys, &device_validation), Ok(device));
    }

    #[test]
    fn error_codes_are_distinct() {
        let all = [
            TokenError::TooLong,
            TokenError::Segments,
            TokenError::Encoding,
            TokenError::Header,
            TokenError::Algorithm,
            TokenError::Type,
            TokenError::UnknownKey,
            TokenError::Signature,
            TokenError::Claims,
            TokenError::Expired,
            TokenError::IssuedInFuture,
            TokenError::Lifetime,
            TokenError::Audience,
            TokenError::Reference,
            TokenError::Amount,
            TokenError::Currency,
        ];
        let mut codes: alloc::vec::Vec<_> = all.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|e| !e.to_string().is_empty()));
    }
}
