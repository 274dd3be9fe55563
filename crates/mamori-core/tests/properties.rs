//! Property tests: signing and verifying round-trip for any claims, any way of typing a code
//! reads back the same code, and no input makes verification panic.
#![cfg(not(target_arch = "wasm32"))]
// Helpers of a test crate are test code too: a panic is how they report a broken fixture.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use mamori_core::otp;
use mamori_core::token::{
    self, Currency, Eci, ExpectedOrder, KeySet, Method, ResultClaims, ResultError, SigningKey,
    TransStatus, Transaction, Validation,
};
use proptest::prelude::*;

const NOW: u64 = 1_800_000_000;

fn key() -> SigningKey {
    SigningKey::new("k1", &[42; 32]).expect("valid key")
}

prop_compose! {
    fn result_claims()(
        iss in "\\PC{0,40}",
        sub in "[a-z0-9_]{1,30}",
        jti in "\\PC{1,40}",
        reference in "\\PC{1,60}",
        amount in 0u64..=9_007_199_254_740_991,
        currency in "[A-Z]{3}",
        lifetime in 1u64..=600,
        status in prop::sample::select(&[TransStatus::Authenticated, TransStatus::NotAuthenticated, TransStatus::Rejected][..]),
    ) -> ResultClaims {
        ResultClaims {
            iss, aud: "m_shop".into(), sub, iat: NOW, exp: NOW + lifetime, jti,
            txn: Transaction { reference, amount, currency: Currency::new(&currency).expect("3 capitals") },
            status, eci: Eci::Authenticated, method: Method::Frictionless, reason: None,
        }
    }
}

proptest! {
    #[test]
    fn sign_then_verify_round_trips(claims in result_claims()) {
        let signed = token::sign_result(&claims, &key());
        let order = ExpectedOrder {
            authentication: &claims.sub,
            reference: &claims.txn.reference,
            amount: claims.txn.amount,
            currency: claims.txn.currency.as_str(),
        };
        let verified = token::verify_result(
            &signed, &KeySet::from(key()), &Validation::result("m_shop", NOW), Some(&order));
        // Claims come back for `Y` only; any other status carries the same claims as a refusal.
        if claims.status == TransStatus::Authenticated {
            prop_assert_eq!(verified, Ok(claims));
        } else {
            prop_assert_eq!(verified, Err(ResultError::Status(Box::new(claims))));
        }
    }

    #[test]
    fn any_single_character_change_is_refused(claims in result_claims(), index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.=+/-]") {
        let signed = token::sign_result(&claims, &key());
        let at = index.index(signed.len());
        prop_assume!(signed.is_char_boundary(at) && &signed[at..at + 1] != replacement.as_str());
        let changed = format!("{}{}{}", &signed[..at], replacement, &signed[at + 1..]);
        let verified = token::verify_result(
            &changed, &KeySet::from(key()), &Validation::result("m_shop", NOW), None);
        prop_assert!(verified.is_err());
    }

    #[test]
    fn verification_never_panics(text in "\\PC{0,600}") {
        let _ = token::verify_result(&text, &KeySet::from(key()), &Validation::result("m_shop", NOW), None);
    }

    #[test]
    fn every_way_of_typing_a_code_reads_back(
        digits in prop::collection::vec(0u32..10, 6),
        fullwidth in prop::collection::vec(any::<bool>(), 6),
        separators in prop::collection::vec(prop::sample::select(&["", " ", "-", "\u{3000}", "ー", "－"][..]), 7),
    ) {
        let mut typed = String::new();
        for (i, digit) in digits.iter().enumerate() {
            typed.push_str(separators[i]);
            let base = if fullwidth[i] { '０' } else { '0' };
            typed.push(char::from_u32(base as u32 + digit).expect("digit"));
        }
        typed.push_str(separators[6]);
        let expected: String = digits.iter().map(|d| char::from_digit(*d, 10).expect("digit")).collect();
        prop_assert_eq!(otp::normalize(&typed).map(|code| code.as_str().to_owned()), Ok(expected));
    }

    #[test]
    fn generated_codes_are_six_digits_that_normalise_to_themselves(random in any::<[u8; 32]>()) {
        if let Ok(code) = otp::Code::from_random(&random) {
            prop_assert_eq!(otp::normalize(code.as_str()), Ok(code));
        }
    }
}
