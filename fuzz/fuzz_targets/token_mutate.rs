//! Claims built from the input are signed, then the token is changed in one place and verified.
//!
//! The raw-text target rarely gets past the signature; this one starts from valid tokens. An
//! untouched token must verify back to exactly the claims that were signed (any strings, any
//! numbers) — as `Ok` for an authentication, as a status refusal otherwise — and a token changed
//! anywhere must be refused for a broken rule: the strict profile allows one encoding of each
//! token, so a change whose claims came back would be a forgery or a malleable token.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mamori_core::token::{
    self, Currency, DeviceClaims, Eci, KeySet, Method, Reason, ResultClaims, ResultError,
    SigningKey, TransStatus, Transaction, Validation,
};

const SECRET: &[u8; 32] = b"fuzz secret, exactly 32 bytes ..";

#[derive(Arbitrary, Debug)]
struct Case {
    device: bool,
    iss: String,
    aud: String,
    sub: String,
    /// `jti` of a result, `did` of a device token.
    id: String,
    iat: u64,
    /// `exp - iat`; zero (refused with `Lifetime`) is kept as an input worth trying.
    lifetime: u16,
    reference: String,
    amount: u64,
    currency: [u8; 3],
    status: u8,
    allow_attempted: bool,
    eci: u8,
    challenge: bool,
    reason: Option<u8>,
    change: Change,
}

/// One change to the signed token.
#[derive(Arbitrary, Debug)]
enum Change {
    None,
    Replace { at: u16, byte: u8 },
    Insert { at: u16, byte: u8 },
    Remove { at: u16 },
    Truncate { at: u16 },
}

fuzz_target!(|case: Case| {
    let Ok(key) = SigningKey::new("k1", SECRET) else {
        panic!("a 32-byte secret is refused");
    };
    let keys = KeySet::from(key.clone());
    let iat = case.iat;
    let exp = iat.saturating_add(u64::from(case.lifetime));
    // At `iat`, with no leeway and no lifetime bound, only `exp <= iat` may fail the checks.
    let validation = Validation {
        audience: &case.aud,
        now: iat,
        leeway: 0,
        max_lifetime: u64::MAX,
        allow_attempted: case.allow_attempted,
    };

    let signed = if case.device {
        let claims = DeviceClaims {
            iss: case.iss.clone(),
            aud: case.aud.clone(),
            sub: case.sub.clone(),
            did: case.id.clone(),
            iat,
            exp,
        };
        let signed = token::sign_device(&claims, &key);
        let verified = token::verify_device(&signed, &keys, &validation);
        if exp > iat && signed.len() <= token::MAX_TOKEN_LEN {
            assert_eq!(verified, Ok(claims));
        } else {
            assert!(verified.is_err());
        }
        signed
    } else {
        let letters = case.currency.map(|b| b'A' + b % 26);
        let Some(currency) = std::str::from_utf8(&letters).ok().and_then(Currency::new) else {
            panic!("three capital letters are not a currency");
        };
        let claims = ResultClaims {
            iss: case.iss.clone(),
            aud: case.aud.clone(),
            sub: case.sub.clone(),
            iat,
            exp,
            jti: case.id.clone(),
            txn: Transaction {
                reference: case.reference.clone(),
                amount: case.amount,
                currency,
            },
            status: match case.status % 5 {
                0 => TransStatus::Authenticated,
                1 => TransStatus::Attempted,
                2 => TransStatus::NotAuthenticated,
                3 => TransStatus::Unavailable,
                _ => TransStatus::Rejected,
            },
            eci: match case.eci % 3 {
                0 => Eci::Authenticated,
                1 => Eci::Attempted,
                _ => Eci::NotAuthenticated,
            },
            method: if case.challenge {
                Method::Challenge
            } else {
                Method::Frictionless
            },
            reason: case.reason.and_then(Reason::new),
        };
        let signed = token::sign_result(&claims, &key);
        let verified = token::verify_result(&signed, &keys, &validation, None);
        if exp > iat && signed.len() <= token::MAX_TOKEN_LEN {
            let success = claims.status == TransStatus::Authenticated
                || (claims.status == TransStatus::Attempted && case.allow_attempted);
            if success {
                assert_eq!(verified, Ok(claims));
            } else {
                assert_eq!(verified, Err(ResultError::Status(Box::new(claims))));
            }
        } else {
            assert!(verified.is_err());
        }
        signed
    };

    let mut bytes = signed.clone().into_bytes();
    let len = bytes.len().max(1);
    match case.change {
        Change::None => return,
        Change::Replace { at, byte } => bytes[usize::from(at) % len] = byte,
        Change::Insert { at, byte } => bytes.insert(usize::from(at) % (len + 1), byte),
        Change::Remove { at } => {
            bytes.remove(usize::from(at) % len);
        }
        Change::Truncate { at } => bytes.truncate(usize::from(at) % len),
    }
    let Ok(changed) = String::from_utf8(bytes) else {
        return;
    };
    if changed != signed {
        let accepted = if case.device {
            token::verify_device(&changed, &keys, &validation).is_ok()
        } else {
            // A status refusal carries verified claims, so it counts as accepted here.
            matches!(
                token::verify_result(&changed, &keys, &validation, None),
                Ok(_) | Err(ResultError::Status(_))
            )
        };
        assert!(!accepted, "changed token accepted: {changed}");
    }
});
