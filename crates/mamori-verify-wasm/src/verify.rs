//! The verification itself, in plain Rust so it is tested natively like the rest of the
//! workspace; `lib.rs` only moves values across the JavaScript boundary.
//!
//! A [`Verifier`] is keyed once: the secret keys are parsed and each HMAC is keyed when it is
//! made (the keyed SHA-256 state is what [`KeySet`] keeps), so a call only hashes the token.

use mamori_core::token::{self, DEFAULT_LEEWAY, ExpectedOrder, KeySet, ResultClaims, Validation};

use crate::failure::Failure;
use crate::options::{self, Options, Setup};

/// The merchant's keys, keyed, and the checks every call applies.
#[derive(Debug)]
pub(crate) struct Verifier {
    keys: KeySet,
    audience: String,
    leeway: u64,
    allow_attempted: bool,
}

impl Verifier {
    /// Parses and keys the merchant's secret `keys` once, for `setup`.
    ///
    /// # Errors
    ///
    /// `invalid_key` for a malformed key or two keys with one id.
    pub(crate) fn new(keys: &[String], setup: Setup) -> Result<Self, Failure> {
        Ok(Self {
            keys: options::key_set(keys)?,
            audience: setup.audience,
            leeway: setup.leeway.unwrap_or(DEFAULT_LEEWAY),
            allow_attempted: setup.allow_attempted,
        })
    }

    /// Verifies `token` at `now` (seconds since the Unix epoch), bound to `order` when given.
    ///
    /// # Errors
    ///
    /// The token's [`token::ResultError`] (a status refusal keeps its claims).
    pub(crate) fn verify(
        &self,
        token: &str,
        order: Option<&ExpectedOrder<'_>>,
        now: u64,
    ) -> Result<ResultClaims, Failure> {
        let validation = Validation {
            leeway: self.leeway,
            allow_attempted: self.allow_attempted,
            ..Validation::result(&self.audience, now)
        };
        Ok(token::verify_result(token, &self.keys, &validation, order)?)
    }
}

impl Verifier {
    /// One call of a pre-keyed verifier, its values as JavaScript passed them: the order's
    /// `authentication`, `reference` and `currency` with its `amount`, and `now` in seconds
    /// (`clock` when absent).
    ///
    /// # Errors
    ///
    /// `invalid_options` for a number that is not a non-negative whole number, or an order
    /// without its amount; else as [`Self::verify`].
    pub(crate) fn call(
        &self,
        token: &str,
        order: Option<[&str; 3]>,
        amount: Option<f64>,
        now: Option<f64>,
        clock: impl FnOnce() -> u64,
    ) -> Result<ResultClaims, Failure> {
        let now = match now {
            Some(now) => options::call_number(now, "now")?,
            None => clock(),
        };
        let order = match (order, amount) {
            (None, None) => None,
            (Some([authentication, reference, currency]), Some(amount)) => Some(ExpectedOrder {
                authentication,
                reference,
                amount: options::call_number(amount, "order.amount")?,
                currency,
            }),
            _ => {
                return Err(Failure::options(
                    "mamori: options: order needs authentication, reference, amount and currency",
                ));
            }
        };
        self.verify(token, order.as_ref(), now)
    }
}

/// The one-shot form: verifies `token` with the merchant's secret `keys` as `options` ask, at
/// `options.now` or else at `clock` (seconds since the Unix epoch), through a [`Verifier`] made
/// for this call.
///
/// # Errors
///
/// `invalid_key` for a malformed key, else the token's [`token::ResultError`].
pub(crate) fn verify(
    token: &str,
    keys: &[String],
    options: &Options,
    clock: u64,
) -> Result<ResultClaims, Failure> {
    let order = options.order.as_ref().map(|order| ExpectedOrder {
        authentication: &order.authentication,
        reference: &order.reference,
        amount: order.amount,
        currency: &order.currency,
    });
    Verifier::new(keys, options.setup())?.verify(
        token,
        order.as_ref(),
        options.now.unwrap_or(clock),
    )
}

#[cfg(test)]
mod tests {
    use mamori_core::token::{
        Currency, Eci, Method, SigningKey, TransStatus, Transaction, encode_secret_key,
    };

    use super::*;
    use crate::options::{Order, Setup};

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

    #[test]
    fn a_verifier_keyed_once_checks_each_call_on_its_own() {
        let key = encode_secret_key("k1", &[1; 32]);
        let signer = SigningKey::from_secret_key(&key).expect("valid key");
        let token = token::sign_result(&claims(), &signer);
        let setup = Setup {
            audience: "m_shop".into(),
            leeway: Some(0),
            allow_attempted: false,
        };
        let verifier = Verifier::new(&[key], setup).expect("valid key");
        let order = |authentication, amount| ExpectedOrder {
            authentication,
            reference: "order-42",
            amount,
            currency: "JPY",
        };
        assert_eq!(
            verifier.verify(&token, Some(&order("au_1", 12_800)), NOW),
            Ok(claims())
        );
        let code = |result: Result<ResultClaims, Failure>| result.err().map(|f| f.code);
        assert_eq!(
            code(verifier.verify(&token, Some(&order("au_1", 1)), NOW)),
            Some("amount")
        );
        assert_eq!(
            code(verifier.verify(&token, Some(&order("au_2", 12_800)), NOW)),
            Some("authentication")
        );
        // Its leeway of 0 holds: one second past `exp` is late.
        assert_eq!(
            code(verifier.verify(&token, None, NOW + 601)),
            Some("expired")
        );
        assert_eq!(verifier.verify(&token, None, NOW + 600), Ok(claims()));
        // The same verifier still accepts the token after refusing it: a call keeps nothing.
        assert_eq!(
            verifier.verify(&token, Some(&order("au_1", 12_800)), NOW),
            Ok(claims())
        );
    }

    #[test]
    fn a_verifier_refuses_malformed_keys_when_made() {
        let setup = || Setup {
            audience: "m_shop".into(),
            leeway: None,
            allow_attempted: false,
        };
        let refused = Verifier::new(&["sk_live_1".into()], setup()).err();
        assert_eq!(refused.map(|f| f.code), Some("invalid_key"));
        let none = Verifier::new(&[], setup()).map(|v| v.keys.len());
        assert_eq!(none.ok(), Some(0));
    }
}
