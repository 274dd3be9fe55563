//! Arbitrary text as a result token and as a device token, verified against a fixed key set.
//!
//! Verification must never panic, and a token whose claims it hands out (as a success or as a
//! status refusal) must satisfy every rule the caller asked for: the profile's checks are the
//! only thing between a forged string and a purchase.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_core::token::{
    self, ExpectedOrder, KeySet, MAX_TOKEN_LEN, ResultClaims, ResultError, SigningKey, TokenError,
    TransStatus, Validation,
};

/// The key of the golden vectors (`crates/mamori-core/tests/vectors/tokens.json`), so the seed
/// corpus holds tokens that verify and the fuzzer starts from past the signature check.
const SECRET_KEY: &str = "mamori_sk.m_shop-2026a.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// The vectors' audience and clock.
const AUDIENCE: &str = "m_shop";
const NOW: u64 = 1_800_000_100;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut keys = KeySet::new();
    let Ok(key) = SigningKey::from_secret_key(SECRET_KEY) else {
        panic!("the vectors' secret key no longer parses");
    };
    if keys.insert(key).is_err() {
        return;
    }

    let validation = Validation::result(AUDIENCE, NOW);
    let order = ExpectedOrder {
        authentication: "au_01JD8Z7Q3N4V",
        reference: "order-42",
        amount: 12_800,
        currency: "JPY",
    };
    let unbound = token::verify_result(text, &keys, &validation, None);
    let bound = token::verify_result(text, &keys, &validation, Some(&order));
    if let Some(claims) = verified_claims(&unbound) {
        assert!(text.len() <= MAX_TOKEN_LEN);
        assert_eq!(claims.aud, AUDIENCE);
        assert!(claims.exp > claims.iat && claims.exp - claims.iat <= validation.max_lifetime);
        assert!(claims.iat <= NOW + validation.leeway && claims.exp + validation.leeway >= NOW);
        // Only an authentication is a success.
        assert_eq!(unbound.is_ok(), claims.status == TransStatus::Authenticated);
    }
    match (verified_claims(&unbound), &bound) {
        // The order is checked before the status: binding one can only turn verified claims
        // into an order error, never change the status answer.
        (Some(_), Err(ResultError::Token(error))) => assert!(matches!(
            error,
            TokenError::Authentication
                | TokenError::Reference
                | TokenError::Amount
                | TokenError::Currency
        )),
        (Some(claims), _) => {
            assert_eq!(&unbound, &bound);
            assert_eq!(claims.sub, order.authentication);
            assert_eq!(claims.txn.reference, order.reference);
            assert_eq!(claims.txn.amount, order.amount);
            assert_eq!(claims.txn.currency.as_str(), order.currency);
        }
        (None, _) => assert_eq!(unbound, bound, "an order made a refused token valid"),
    }

    let validation = Validation::device(AUDIENCE, NOW);
    if let Ok(claims) = token::verify_device(text, &keys, &validation) {
        assert!(text.len() <= MAX_TOKEN_LEN);
        assert_eq!(claims.aud, AUDIENCE);
        assert!(claims.exp > claims.iat && claims.exp - claims.iat <= validation.max_lifetime);
        // The `typ` header keeps the two kinds apart: one string is never both.
        assert!(verified_claims(&unbound).is_none());
    }
});

/// The claims a result verification vouched for: a success's, or a status refusal's.
fn verified_claims(result: &Result<ResultClaims, ResultError>) -> Option<&ResultClaims> {
    match result {
        Ok(claims) => Some(claims),
        Err(error) => error.claims(),
    }
}
