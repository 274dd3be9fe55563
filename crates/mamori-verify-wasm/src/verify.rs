//! The verification itself, in plain Rust so it is tested natively like the rest of the
//! workspace; `lib.rs` only moves values across the JavaScript boundary.

use mamori_core::token::{self, DEFAULT_LEEWAY, ExpectedOrder, ResultClaims, Validation};

use crate::failure::Failure;
use crate::options::{self, Options};

/// Verifies `token` with the merchant's secret `keys` as `options` ask, at `options.now` or else
/// at `clock` (seconds since the Unix epoch).
///
/// # Errors
///
/// `invalid_key` for a malformed key, else the token's [`token::ResultError`] (a status
/// refusal keeps its claims).
pub(crate) fn verify(
    token: &str,
    keys: &[String],
    options: &Options,
    clock: u64,
) -> Result<ResultClaims, Failure> {
    let keys = options::key_set(keys)?;
    let validation = Validation {
        leeway: options.leeway.unwrap_or(DEFAULT_LEEWAY),
        allow_attempted: options.allow_attempted,
        ..Validation::result(&options.audience, options.now.unwrap_or(clock))
    };
    let order = options.order.as_ref().map(|order| ExpectedOrder {
        authentication: &order.authentication,
        reference: &order.reference,
        amount: order.amount,
        currency: &order.currency,
    });
    Ok(token::verify_result(
        token,
        &keys,
        &validation,
        order.as_ref(),
    )?)
}

#[cfg(test)]
mod tests {
    use mamori_core::token::{
        Currency, Eci, Method, SigningKey, TransStatus, Transaction, encode_secret_key,
    };

    use super::*;
    use crate::options::Order;

    const NOW: u64 = 1_800_000_000;

    fn claims() -> ResultClaims {
        ResultClaims {
            iss: "https://verifier.example".into(),
            aud: "m_shop".into(),
            sub: "au_1".into(),
            iat: NOW,
            exp: NOW + 600,
            jti: "j1".into(),
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

    fn options(now: Option<u64>, amount: u64) -> Options {
        Options {
            audience: "m_shop".into(),
            now,
            leeway: None,
            allow_attempted: false,
            order: Some(Order {
                authentication: "au_1".into(),
                reference: "order-42".into(),
                amount,
                currency: "JPY".into(),
            }),
        }
    }

    #[test]
    fn verifies_with_either_key_of_a_rotation() {
        let old = encode_secret_key("2026-05", &[1; 32]);
        let new = encode_secret_key("2026-11", &[2; 32]);
        let signer = SigningKey::from_secret_key(&old).expect("valid key");
        let token = token::sign_result(&claims(), &signer);
        let keys = [new.clone(), old];
        assert_eq!(
            verify(&token, &keys, &options(Some(NOW), 12_800), 0),
            Ok(claims())
        );
        let refused = verify(&token, &[new], &options(Some(NOW), 12_800), 0);
        assert_eq!(refused.err().map(|f| f.code), Some("unknown_key"));
    }

    #[test]
    fn clock_is_used_without_now_and_order_is_checked() {
        let key = encode_secret_key("k1", &[1; 32]);
        let signer = SigningKey::from_secret_key(&key).expect("valid key");
        let token = token::sign_result(&claims(), &signer);
        let keys = [key];
        assert!(verify(&token, &keys, &options(None, 12_800), NOW + 60).is_ok());
        let late = verify(&token, &keys, &options(None, 12_800), NOW + 3600);
        assert_eq!(late.err().map(|f| f.code), Some("expired"));
        let tampered = verify(&token, &keys, &options(Some(NOW), 1_280), 0);
        assert_eq!(tampered.err().map(|f| f.code), Some("amount"));
        let mut other = options(Some(NOW), 12_800);
        if let Some(order) = other.order.as_mut() {
            order.authentication = "au_2".into();
        }
        let other = verify(&token, &keys, &other, 0);
        assert_eq!(other.err().map(|f| f.code), Some("authentication"));
    }

    #[test]
    fn a_status_refusal_carries_the_claims() {
        let key = encode_secret_key("k1", &[1; 32]);
        let signer = SigningKey::from_secret_key(&key).expect("valid key");
        let attempted = ResultClaims {
            status: TransStatus::Attempted,
            eci: Eci::Attempted,
            ..claims()
        };
        let token = token::sign_result(&attempted, &signer);
        let keys = [key];
        let refused = verify(&token, &keys, &options(Some(NOW), 12_800), 0).err();
        assert_eq!(refused.as_ref().map(|f| f.code), Some("status"));
        assert_eq!(
            refused.and_then(|f| f.claims),
            Some(Box::new(attempted.clone()))
        );
        let allowed = Options {
            allow_attempted: true,
            ..options(Some(NOW), 12_800)
        };
        assert_eq!(verify(&token, &keys, &allowed, 0), Ok(attempted));
    }
}
