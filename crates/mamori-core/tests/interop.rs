//! Our tokens are standard JWS: the `jsonwebtoken` crate accepts what we sign, and we accept
//! what it signs with our header and claims.
#![cfg(not(target_arch = "wasm32"))]
// Helpers of a test crate are test code too: a panic is how they report a broken fixture.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use mamori_core::token::{
    self, Currency, Eci, KeySet, Method, ResultClaims, ResultError, SigningKey, TokenError,
    TransStatus, Transaction, Validation,
};

const SECRET: &[u8] = b"an issuer secret of at least 32 bytes";
const KID: &str = "m_shop-2026a";

fn claims(now: u64) -> ResultClaims {
    ResultClaims {
        iss: "https://safekey.issuer.example".into(),
        aud: "m_shop".into(),
        sub: "au_1".into(),
        iat: now,
        exp: now + 600,
        jti: "rt_1".into(),
        txn: Transaction {
            reference: "order-42".into(),
            amount: 12_800,
            currency: Currency::new("JPY").expect("valid currency"),
        },
        status: TransStatus::Authenticated,
        eci: Eci::Authenticated,
        method: Method::Challenge,
        reason: None,
    }
}

/// `jsonwebtoken` checks `exp` against the real clock, so these tokens are issued now.
fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

#[test]
fn jsonwebtoken_accepts_our_tokens() {
    let now = now();
    let ours = token::sign_result(&claims(now), &SigningKey::new(KID, SECRET).expect("key"));
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.set_audience(&["m_shop"]);
    let decoded =
        jsonwebtoken::decode::<ResultClaims>(&ours, &DecodingKey::from_secret(SECRET), &validation)
            .expect("jsonwebtoken verifies a mamori token");
    assert_eq!(decoded.claims, claims(now));
    assert_eq!(decoded.header.kid.as_deref(), Some(KID));
    assert_eq!(decoded.header.typ.as_deref(), Some(token::RESULT_TYPE));
}

#[test]
fn we_accept_jsonwebtoken_tokens_with_our_profile() {
    let now = now();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    header.typ = Some(token::RESULT_TYPE.into());
    let theirs = jsonwebtoken::encode(&header, &claims(now), &EncodingKey::from_secret(SECRET))
        .expect("jsonwebtoken signs");
    let keys = KeySet::from(SigningKey::new(KID, SECRET).expect("key"));
    let verified = token::verify_result(&theirs, &keys, &Validation::result("m_shop", now), None);
    assert_eq!(verified, Ok(claims(now)));
}

#[test]
fn we_refuse_jsonwebtoken_tokens_outside_our_profile() {
    let now = now();
    let keys = KeySet::from(SigningKey::new(KID, SECRET).expect("key"));
    let validation = Validation::result("m_shop", now);
    let sign = |header: &Header| {
        jsonwebtoken::encode(header, &claims(now), &EncodingKey::from_secret(SECRET))
            .expect("signs")
    };
    // Its default header has no kid, which our profile requires.
    let plain = sign(&Header::new(Algorithm::HS256));
    assert_eq!(
        token::verify_result(&plain, &keys, &validation, None),
        Err(ResultError::Token(TokenError::Header))
    );
    let mut hs512 = Header::new(Algorithm::HS512);
    hs512.kid = Some(KID.into());
    hs512.typ = Some(token::RESULT_TYPE.into());
    assert_eq!(
        token::verify_result(&sign(&hs512), &keys, &validation, None),
        Err(ResultError::Token(TokenError::Algorithm))
    );
}
