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
//! 6. for results, when the caller passes its order: `sub` is the authentication the merchant
//!    created for it, then reference, amount and currency match;
//! 7. for results, the status is `Y`, or `A` when the caller allows attempts
//!    ([`Validation::allow_attempted`]). Any other status is [`ResultError::Status`], which
//!    carries the verified claims (so the merchant can log why) but is an error, so code that
//!    only looks at `Ok` never captures on `N`, `U` or `R`. Because this check comes last, a
//!    token breaking any earlier rule never hands out its claims.
//!
//! Time and keys are arguments: the crate has no clock and no key store.

mod canonical;
mod claims;
mod error;
mod keys;
mod refusal;

use alloc::boxed::Box;
use alloc::string::String;

use hmac::Mac;
use serde::{Deserialize, Serialize};

use crate::b64;

pub use claims::{
    Currency, DeviceClaims, Eci, Method, Reason, ResultClaims, TransStatus, Transaction,
};
pub use error::TokenError;
pub use keys::{
    KeyError, KeySet, MAX_KID_LEN, MIN_SECRET_LEN, SECRET_KEY_PREFIX, SigningKey, encode_secret_key,
};
pub use refusal::ResultError;

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
    /// Whether a result with status `A` (attempted: the issuer could not authenticate but
    /// vouches for the attempt) counts as a success. Off by default: capturing on `A` shifts
    /// liability rules a merchant should opt into knowingly. Device tokens ignore it.
    pub allow_attempted: bool,
}

impl<'a> Validation<'a> {
    /// Checks for a result token: [`RESULT_LIFETIME`], [`DEFAULT_LEEWAY`], only `Y` accepted.
    pub fn result(audience: &'a str, now: u64) -> Self {
        Self {
            audience,
            now,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: RESULT_LIFETIME,
            allow_attempted: false,
        }
    }

    /// Checks for a device token: [`DEVICE_LIFETIME`] and [`DEFAULT_LEEWAY`].
    pub fn device(audience: &'a str, now: u64) -> Self {
        Self {
            audience,
            now,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEVICE_LIFETIME,
            allow_attempted: false,
        }
    }
}

/// The order a merchant's backend is about to capture; a result token must be for exactly it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedOrder<'a> {
    /// The authentication id the merchant's backend created for this order (`id` of
    /// `POST /v1/authentications`), kept server-side with the order. Binding to it refuses a
    /// result of another authentication of the same order, e.g. one made with another card.
    pub authentication: &'a str,
    /// The merchant's order reference.
    pub reference: &'a str,
    /// The amount in the currency's minor unit.
    pub amount: u64,
    /// The ISO 4217 alphabetic currency code.
    pub currency: &'a str,
}

/// Signs result claims with `key`.
pub fn sign_result(claims: &ResultClaims, key: &SigningKey) -> String {
    sign(claims, Kind::Result, key)
}

/// Signs device claims with `key`.
pub fn sign_device(claims: &DeviceClaims, key: &SigningKey) -> String {
    sign(claims, Kind::Device, key)
}

/// Verifies a result token, that it authenticates exactly `order` when given, and that the
/// cardholder was authenticated: the claims come back only for status `Y` (or `A` when
/// [`Validation::allow_attempted`]), so `Ok` is the one answer to capture on.
///
/// # Errors
///
/// [`ResultError::Token`] with the first rule the token breaks, in the order of the
/// [module docs](self); [`ResultError::Status`] with the verified claims when every rule holds
/// but the status is not a success.
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
) -> Result<ResultClaims, ResultError> {
    let claims: ResultClaims = verify(token, Kind::Result, keys)?;
    check_time_and_audience(claims.iat, claims.exp, &claims.aud, validation)?;
    if let Some(order) = order {
        check_order(&claims, order)?;
    }
    match claims.status {
        TransStatus::Authenticated => Ok(claims),
        TransStatus::Attempted if validation.allow_attempted => Ok(claims),
        _ => Err(ResultError::Status(Box::new(claims))),
    }
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
    open_device(token, keys, validation)?.for_audience(validation.audience)
}

/// Checks a device token by every rule of [`verify_device`] but the last, the audience, which
/// [`OpenedDevice::for_audience`] then checks: for a caller that learns its audience only by
/// looking up what the token's device id names (the verifier reads a purchase, its merchant and
/// the claimed device in one query). `validation.audience` is not looked at here.
///
/// # Errors
///
/// The first rule the token breaks before the audience, in the order of the
/// [module docs](self).
pub fn open_device(
    token: &str,
    keys: &KeySet,
    validation: &Validation<'_>,
) -> Result<OpenedDevice, TokenError> {
    let claims: DeviceClaims = verify(token, Kind::Device, keys)?;
    check_time(claims.iat, claims.exp, validation)?;
    Ok(OpenedDevice(claims))
}

/// A device token whose tag, claims and times hold, its audience not yet checked: the claims
/// come out only through [`Self::for_audience`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedDevice(DeviceClaims);

impl OpenedDevice {
    /// The device id the verifier signed (`did`): what to look up, not yet a device this
    /// audience may use.
    pub fn did(&self) -> &str {
        &self.0.did
    }

    /// The claims, if the token is for `audience`.
    ///
    /// # Errors
    ///
    /// [`TokenError::Audience`] when `aud` is another.
    pub fn for_audience(self, audience: &str) -> Result<DeviceClaims, TokenError> {
        check_audience(&self.0.aud, audience)?;
        Ok(self.0)
    }
}

/// The two kinds of token, told apart by their `typ` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// [`RESULT_TYPE`].
    Result = 0,
    /// [`DEVICE_TYPE`].
    Device = 1,
}

impl Kind {
    /// Every kind, in the order of their discriminants.
    const ALL: [Self; 2] = [Self::Result, Self::Device];

    /// The `typ` header.
    fn typ(self) -> &'static str {
        match self {
            Self::Result => RESULT_TYPE,
            Self::Device => DEVICE_TYPE,
        }
    }
}

/// The JOSE header: exactly these members, in this order when written.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

/// The base64url header segment of a `kind` token signed with the key `kid`: what
/// [`SigningKey`] keeps, so every token it signs starts with exactly these bytes.
fn header_segment(kind: Kind, kid: &str) -> String {
    // The JSON of a [`Header`], written directly: none of its strings needs escaping (key ids
    // are checked for that when a key is made), and a one-shot verification makes its key on
    // every call.
    let json = [
        "{\"alg\":\"",
        ALGORITHM,
        "\",\"typ\":\"",
        kind.typ(),
        "\",\"kid\":\"",
        kid,
        "\"}",
    ]
    .concat();
    let mut segment = String::with_capacity(json.len().div_ceil(3) * 4);
    b64::encode_into(json.as_bytes(), &mut segment);
    segment
}

fn sign<C: Serialize>(claims: &C, kind: Kind, key: &SigningKey) -> String {
    let header = key.header(kind);
    // As with the header, serialising plain structs of strings and integers cannot fail.
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = String::with_capacity(header.len() + (claims.len() + TAG_LEN) * 4 / 3 + 4);
    token.push_str(header);
    token.push('.');
    let claims_start = token.len();
    b64::encode_into(&claims, &mut token);
    let mut mac = key.mac_after_header(kind);
    mac.update(&token.as_bytes()[claims_start..]);
    let tag = mac.finalize().into_bytes();
    token.push('.');
    b64::encode_into(&tag, &mut token);
    token
}

/// Length of the base64url spelling of an HS256 tag.
const TAG_SEGMENT_LEN: usize = 43;

/// The longest claims JSON a token of [`MAX_TOKEN_LEN`] can carry.
const MAX_CLAIMS_LEN: usize = b64::decoded_len(MAX_TOKEN_LEN);

/// Steps 1 to 4 of the profile, then the claims' strict parse.
///
/// Nothing is allocated on the way to an accepted token but its claims: the segments are
/// decoded into buffers on the stack, and the header is compared with the one each key writes
/// (which is what the verifier's own tokens carry) before it is decoded and parsed. That
/// comparison only takes a shortcut: a header it does not match is decoded and parsed strictly,
/// so a header is accepted or refused, with the same error, whichever way it is read.
fn verify<C: claims::Claims>(token: &str, kind: Kind, keys: &KeySet) -> Result<C, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    let (header, claims, tag) = segments(token).ok_or(TokenError::Segments)?;

    // Step 2 for all three segments before anything else is looked at. The claims go first:
    // until they decode, they may still hide a dot, which makes the token one of more than
    // three segments.
    let mut claims_buffer = [0; MAX_CLAIMS_LEN];
    let claims_json = match b64::decode_into(claims.as_bytes(), &mut claims_buffer) {
        Ok(json) => json,
        Err(_) if claims.contains('.') => return Err(TokenError::Segments),
        Err(_) => return Err(TokenError::Encoding),
    };
    let mut tag_buffer = [0; TAG_LEN];
    let tag = if tag.len() == TAG_SEGMENT_LEN {
        Some(b64::decode_into(tag.as_bytes(), &mut tag_buffer).map_err(|_| TokenError::Encoding)?)
    } else {
        // A tag of any other length never matches, but its spelling is still checked first.
        b64::decode(tag.as_bytes()).map_err(|_| TokenError::Encoding)?;
        None
    };
    // The tag covers `header.claims`; a key's own header is already hashed in its state.
    let mut mac = match keys.find_by_header(kind, header) {
        Some(key) => key.mac_after_header(kind),
        None => {
            let mut mac = key_by_parsed_header(header, kind, keys)?.mac();
            mac.update(header.as_bytes());
            mac.update(b".");
            mac
        }
    };
    mac.update(claims.as_bytes());
    // `verify_slice` compares in constant time.
    let tag = tag.ok_or(TokenError::Signature)?;
    mac.verify_slice(tag).map_err(|_| TokenError::Signature)?;

    C::parse(claims_json).ok_or(TokenError::Claims)
}

/// The header, claims and tag of a compact JWS, each non-empty, or `None` when the token has
/// fewer than three segments or an empty one.
///
/// The claims are what lies between the first dot and the last, so a token of more than three
/// segments shows as claims with a dot: the caller refuses those once decoding them fails,
/// which spares searching the longest segment for a dot it almost never has.
fn segments(token: &str) -> Option<(&str, &str, &str)> {
    let (header, rest) = token.split_once('.')?;
    let (claims, tag) = rest.rsplit_once('.')?;
    let non_empty = !header.is_empty() && !claims.is_empty() && !tag.is_empty();
    non_empty.then_some((header, claims, tag))
}

/// Step 3 for a header that is not exactly one a key in `keys` writes: decoded and parsed, each
/// rule with its own error.
fn key_by_parsed_header<'k>(
    header: &str,
    kind: Kind,
    keys: &'k KeySet,
) -> Result<&'k SigningKey, TokenError> {
    let header_json = b64::decode(header.as_bytes()).map_err(|_| TokenError::Encoding)?;
    let parsed: Header<'_> =
        serde_json::from_slice(&header_json).map_err(|_| TokenError::Header)?;
    if parsed.alg != ALGORITHM {
        return Err(TokenError::Algorithm);
    }
    if parsed.typ != kind.typ() {
        return Err(TokenError::Type);
    }
    keys.find(parsed.kid).ok_or(TokenError::UnknownKey)
}

fn check_time_and_audience(
    iat: u64,
    exp: u64,
    audience: &str,
    validation: &Validation<'_>,
) -> Result<(), TokenError> {
    check_time(iat, exp, validation)?;
    check_audience(audience, validation.audience)
}

/// Step 5's times: `iat` not in the future, `exp` not in the past, the lifetime in bounds.
fn check_time(iat: u64, exp: u64, validation: &Validation<'_>) -> Result<(), TokenError> {
    if iat > validation.now.saturating_add(validation.leeway) {
        return Err(TokenError::IssuedInFuture);
    }
    if exp.saturating_add(validation.leeway) < validation.now {
        return Err(TokenError::Expired);
    }
    if exp <= iat || exp - iat > validation.max_lifetime {
        return Err(TokenError::Lifetime);
    }
    Ok(())
}

/// Step 5's last rule: `aud` is the caller.
fn check_audience(audience: &str, expected: &str) -> Result<(), TokenError> {
    if audience != expected {
        return Err(TokenError::Audience);
    }
    Ok(())
}

fn check_order(claims: &ResultClaims, order: &ExpectedOrder<'_>) -> Result<(), TokenError> {
    if claims.sub != order.authentication {
        return Err(TokenError::Authentication);
    }
    let txn = &claims.txn;
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
            authentication: "au_1",
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
        let check = |authentication, reference, amount, currency| {
            let order = ExpectedOrder {
                authentication,
                reference,
                amount,
                currency,
            };
            verify_result(&token, &keys, &validation, Some(&order)).err()
        };
        let refused = |error| Some(ResultError::Token(error));
        assert_eq!(
            check("au_2", "order-1", 12_800, "JPY"),
            refused(TokenError::Authentication)
        );
        assert_eq!(
            check("au_1", "order-2", 12_800, "JPY"),
            refused(TokenError::Reference)
        );
        assert_eq!(
            check("au_1", "order-1", 12_801, "JPY"),
            refused(TokenError::Amount)
        );
        assert_eq!(
            check("au_1", "order-1", 12_800, "USD"),
            refused(TokenError::Currency)
        );
        // The authentication is checked first: a result of another authentication is refused
        // for that, whatever else also differs.
        assert_eq!(
            check("au_2", "order-2", 1, "USD"),
            refused(TokenError::Authentication)
        );
    }

    #[test]
    fn only_an_authentication_gives_claims() {
        let keys = KeySet::from(key("k1"));
        let with_status = |status| ResultClaims {
            status,
            eci: Eci::NotAuthenticated,
            reason: Some(Reason::MAX_CHALLENGES),
            ..claims()
        };
        let strict = Validation::result("m_shop", NOW);
        let lenient = Validation {
            allow_attempted: true,
            ..strict
        };
        for status in [
            TransStatus::NotAuthenticated,
            TransStatus::Unavailable,
            TransStatus::Rejected,
        ] {
            let token = sign_result(&with_status(status), &key("k1"));
            for validation in [&strict, &lenient] {
                let refused = verify_result(&token, &keys, validation, None);
                assert_eq!(
                    refused,
                    Err(ResultError::Status(Box::new(with_status(status))))
                );
                assert_eq!(refused.err().map(|e| e.code()), Some("status"));
            }
        }
        let attempted = sign_result(&with_status(TransStatus::Attempted), &key("k1"));
        let refused = verify_result(&attempted, &keys, &strict, None).err();
        assert_eq!(
            refused.as_ref().and_then(ResultError::claims),
            Some(&with_status(TransStatus::Attempted))
        );
        assert_eq!(
            verify_result(&attempted, &keys, &lenient, None),
            Ok(with_status(TransStatus::Attempted))
        );
    }

    #[test]
    fn a_broken_rule_comes_before_the_status() {
        let declined = ResultClaims {
            status: TransStatus::NotAuthenticated,
            ..claims()
        };
        let token = sign_result(&declined, &key("k1"));
        let keys = KeySet::from(key("k1"));
        let other_order = ExpectedOrder {
            authentication: "au_1",
            reference: "order-2",
            amount: 12_800,
            currency: "JPY",
        };
        let validation = Validation::result("m_shop", NOW);
        assert_eq!(
            verify_result(&token, &keys, &validation, Some(&other_order)),
            Err(ResultError::Token(TokenError::Reference))
        );
        let late = Validation::result("m_shop", NOW + RESULT_LIFETIME + DEFAULT_LEEWAY + 1);
        assert_eq!(
            verify_result(&token, &keys, &late, None),
            Err(ResultError::Token(TokenError::Expired))
        );
    }

    #[test]
    fn leeway_applies_both_ways() {
        let token = sign_result(&claims(), &key("k1"));
        let keys = KeySet::from(key("k1"));
        let at = |now| verify_result(&token, &keys, &Validation::result("m_shop", now), None);
        assert!(at(NOW - DEFAULT_LEEWAY).is_ok());
        assert_eq!(
            at(NOW - DEFAULT_LEEWAY - 1).err(),
            Some(ResultError::Token(TokenError::IssuedInFuture))
        );
        assert!(at(NOW + RESULT_LIFETIME + DEFAULT_LEEWAY).is_ok());
        assert_eq!(
            at(NOW + RESULT_LIFETIME + DEFAULT_LEEWAY + 1).err(),
            Some(ResultError::Token(TokenError::Expired))
        );
    }

    /// A device token's claims, live at `NOW`.
    fn device_claims() -> DeviceClaims {
        DeviceClaims {
            iss: "v".into(),
            aud: "m_shop".into(),
            sub: "ch_1".into(),
            did: "dv_1".into(),
            iat: NOW,
            exp: NOW + 60,
        }
    }

    #[test]
    fn device_token_is_not_a_result_token() {
        let device = device_claims();
        let token = sign_device(&device, &key("d1"));
        let keys = KeySet::from(key("d1"));
        let validation = Validation::result("m_shop", NOW);
        assert_eq!(
            verify_result(&token, &keys, &validation, None).err(),
            Some(ResultError::Token(TokenError::Type))
        );
        let device_validation = Validation::device("m_shop", NOW);
        assert_eq!(verify_device(&token, &keys, &device_validation), Ok(device));
    }

    #[test]
    fn an_opened_device_token_gives_its_claims_only_to_its_audience() {
        let device = device_claims();
        let token = sign_device(&device, &key("d1"));
        let keys = KeySet::from(key("d1"));
        let opened = open_device(&token, &keys, &Validation::device("ignored", NOW));
        let opened = opened.expect("tag and times hold");
        assert_eq!(opened.did(), "dv_1");
        assert_eq!(
            opened.clone().for_audience("m_other"),
            Err(TokenError::Audience)
        );
        assert_eq!(opened.for_audience("m_shop"), Ok(device));
        // Every rule before the audience still refuses the token.
        assert_eq!(
            open_device(
                &token,
                &keys,
                &Validation::device("m_shop", NOW + 61 + DEFAULT_LEEWAY)
            )
            .err(),
            Some(TokenError::Expired)
        );
        assert_eq!(
            open_device(
                &token,
                &KeySet::from(key("d2")),
                &Validation::device("m_shop", NOW)
            )
            .err(),
            Some(TokenError::UnknownKey)
        );
    }

    /// A token of any header and claims JSON, signed with `key`.
    fn sign_json(header: &str, claims: &[u8], key: &SigningKey) -> String {
        let mut token = String::new();
        b64::encode_into(header.as_bytes(), &mut token);
        token.push('.');
        b64::encode_into(claims, &mut token);
        let mut mac = key.mac();
        mac.update(token.as_bytes());
        token.push('.');
        b64::encode_into(&mac.finalize().into_bytes(), &mut token);
        token
    }

    #[test]
    fn signed_headers_are_the_ones_keys_match() {
        let key = key("k1");
        let token = sign_result(&claims(), &key);
        assert!(token.starts_with(&alloc::format!("{}.", key.header(Kind::Result))));
        let device = sign_device(&device_claims(), &key);
        assert!(device.starts_with(&alloc::format!("{}.", key.header(Kind::Device))));
        let header = b64::decode(key.header(Kind::Result).as_bytes()).expect("base64url");
        assert_eq!(
            header,
            br#"{"alg":"HS256","typ":"mamori-result+jwt","kid":"k1"}"#
        );
        // Exactly what serde writes for the header, for every kind and any key id.
        for kid in ["k1", "2026-11.a_B", &"z".repeat(MAX_KID_LEN)] {
            for kind in Kind::ALL {
                let header = Header {
                    alg: ALGORITHM,
                    typ: kind.typ(),
                    kid,
                };
                let mut segment = String::new();
                b64::encode_into(
                    &serde_json::to_vec(&header).expect("serialisable"),
                    &mut segment,
                );
                assert_eq!(header_segment(kind, kid), segment);
            }
        }
    }

    /// Headers and claims spelled otherwise than this crate writes them miss the shortcuts and
    /// are decided by the strict parse, as they always were.
    #[test]
    fn other_spellings_are_parsed_strictly() {
        let keys = KeySet::from(key("k1"));
        let claims_json = serde_json::to_vec(&claims()).expect("serialisable");
        let validation = Validation::result("m_shop", NOW);
        let verify = |header: &str, claims: &[u8]| {
            verify_result(
                &sign_json(header, claims, &key("k1")),
                &keys,
                &validation,
                None,
            )
        };
        for header in [
            r#"{"typ":"mamori-result+jwt","alg":"HS256","kid":"k1"}"#,
            r#"{ "alg": "HS256", "typ": "mamori-result+jwt", "kid": "k1" }"#,
        ] {
            assert_eq!(verify(header, &claims_json), Ok(claims()), "{header}");
        }
        // The header's strings are borrowed, so an escape was and is refused.
        let escaped = r#"{"alg":"HS256","typ":"mamori-result+jwt","kid":"k\u0031"}"#;
        assert_eq!(
            verify(escaped, &claims_json).err(),
            Some(ResultError::Token(TokenError::Header))
        );
        let header = r#"{"alg":"HS256","typ":"mamori-result+jwt","kid":"k1"}"#;
        let spaced = serde_json::to_string_pretty(&claims()).expect("serialisable");
        assert_eq!(verify(header, spaced.as_bytes()), Ok(claims()));
        let escaped = String::from_utf8(claims_json.clone())
            .expect("UTF-8")
            .replace("\"order-1\"", "\"order\\u002d1\"");
        assert_eq!(verify(header, escaped.as_bytes()), Ok(claims()));
        let without_iss = String::from_utf8(claims_json)
            .expect("UTF-8")
            .replace("{\"iss\":\"https://verifier.example\",", "{");
        let reordered = alloc::format!(
            "{},\"iss\":\"https://verifier.example\"}}",
            without_iss.strip_suffix('}').expect("an object")
        );
        assert_eq!(verify(header, reordered.as_bytes()), Ok(claims()));
    }

    /// Whatever the segments hold, a token is refused for its segments exactly when it is not
    /// three non-empty ones, before any other rule.
    #[test]
    fn segments_are_counted_before_anything_is_decoded() {
        let keys = KeySet::from(key("k1"));
        let validation = Validation::result("m_shop", NOW);
        let pieces = ["", "e30", "e3=", "AAAA", "A", "a\u{e9}"];
        // Every way of joining one to four of the pieces with dots.
        let mut tokens: alloc::vec::Vec<String> = pieces.iter().map(|p| String::from(*p)).collect();
        let mut longest = tokens.clone();
        for _ in 1..4 {
            longest = longest
                .iter()
                .flat_map(|token| {
                    pieces
                        .iter()
                        .map(move |piece| alloc::format!("{token}.{piece}"))
                })
                .collect();
            tokens.extend(longest.iter().cloned());
        }
        for token in &tokens {
            let parts: alloc::vec::Vec<&str> = token.split('.').collect();
            let three = parts.len() == 3 && parts.iter().all(|part| !part.is_empty());
            let refused = verify_result(token, &keys, &validation, None).err();
            assert_eq!(
                refused == Some(ResultError::Token(TokenError::Segments)),
                !three,
                "{token:?}: {refused:?}"
            );
        }
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
            TokenError::Authentication,
            TokenError::Reference,
            TokenError::Amount,
            TokenError::Currency,
        ];
        let mut codes: alloc::vec::Vec<_> = all.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|e| !e.to_string().is_empty()));
        // `status` is the one code of a valid token, so no broken rule may share it.
        assert!(!codes.contains(&"status"));
    }
}
