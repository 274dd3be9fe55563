//! The claims read from exactly the JSON this crate writes, without serde: the fast path of
//! [`Claims::parse`](super::claims::Claims::parse).
//!
//! `serde_json` writes claims with their members in declaration order, no whitespace, and
//! strings escaped only where JSON requires it. A token's claims nearly always come from that
//! writer, so they are first read by a scanner that accepts that one spelling and nothing else:
//! every member literally in order, strings with no escape or control character, integers in
//! plain digits without a leading zero. On anything else it gives up (`None`) and the caller
//! parses with serde, which alone decides acceptance and refusal. So this path only
//! has to be right where it says yes: there, serde would read the same claims (a property the
//! tests check on mutated inputs as well as on signed claims).

use super::claims::{
    Currency, DeviceClaims, Eci, Method, Reason, ResultClaims, TransStatus, Transaction,
};

/// Result claims from their canonical JSON.
pub(super) fn result_claims(json: &[u8]) -> Option<ResultClaims> {
    let mut r = Reader::new(json)?;
    r.literal("{\"iss\":")?;
    let iss = r.string()?;
    r.literal(",\"aud\":")?;
    let aud = r.string()?;
    r.literal(",\"sub\":")?;
    let sub = r.string()?;
    r.literal(",\"iat\":")?;
    let iat = r.integer()?;
    r.literal(",\"exp\":")?;
    let exp = r.integer()?;
    r.literal(",\"jti\":")?;
    let jti = r.string()?;
    r.literal(",\"txn\":{\"ref\":")?;
    let reference = r.string()?;
    r.literal(",\"amount\":")?;
    let amount = r.integer()?;
    r.literal(",\"currency\":")?;
    let currency = Currency::new(r.string()?)?;
    r.literal("},\"status\":")?;
    let status = TransStatus::from_code(r.string()?)?;
    r.literal(",\"eci\":")?;
    let eci = Eci::from_code(r.string()?)?;
    r.literal(",\"method\":")?;
    let method = Method::from_code(r.string()?)?;
    // `reason` is written only when present.
    let reason = if r.literal(",\"reason\":").is_some() {
        Some(Reason::from_digits(r.string()?)?)
    } else {
        None
    };
    r.literal("}")?;
    r.end()?;
    Some(ResultClaims {
        iss: iss.into(),
        aud: aud.into(),
        sub: sub.into(),
        iat,
        exp,
        jti: jti.into(),
        txn: Transaction {
            reference: reference.into(),
            amount,
            currency,
        },
        status,
        eci,
        method,
        reason,
    })
}

/// Device claims from their canonical JSON.
pub(super) fn device_claims(json: &[u8]) -> Option<DeviceClaims> {
    let mut r = Reader::new(json)?;
    r.literal("{\"iss\":")?;
    let iss = r.string()?;
    r.literal(",\"aud\":")?;
    let aud = r.string()?;
    r.literal(",\"sub\":")?;
    let sub = r.string()?;
    r.literal(",\"did\":")?;
    let did = r.string()?;
    r.literal(",\"iat\":")?;
    let iat = r.integer()?;
    r.literal(",\"exp\":")?;
    let exp = r.integer()?;
    r.literal("}")?;
    r.end()?;
    Some(DeviceClaims {
        iss: iss.into(),
        aud: aud.into(),
        sub: sub.into(),
        did: did.into(),
        iat,
        exp,
    })
}

/// A cursor over canonical JSON; every method gives up with `None` on anything else.
struct Reader<'a> {
    rest: &'a str,
}

impl<'a> Reader<'a> {
    /// Valid UTF-8 only: serde refuses invalid UTF-8 inside a string, and outside strings it
    /// is a syntax error anyway.
    fn new(json: &'a [u8]) -> Option<Self> {
        Some(Self {
            rest: core::str::from_utf8(json).ok()?,
        })
    }

    /// Exactly `text`.
    fn literal(&mut self, text: &str) -> Option<()> {
        self.rest = self.rest.strip_prefix(text)?;
        Some(())
    }

    /// A string with nothing to unescape: no backslash, no control character (which JSON
    /// requires escaped), so its text is its value.
    fn string(&mut self) -> Option<&'a str> {
        let body = self.rest.strip_prefix('"')?;
        // Bytes, not characters: the three stops are ASCII, which never occurs inside a
        // multi-byte character, so the position found is a character boundary.
        let end = body
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < b' ')?;
        let (value, after) = body.split_at_checked(end)?;
        self.rest = after.strip_prefix('"')?;
        Some(value)
    }

    /// A non-negative integer in plain digits, no leading zero, at most 19 of them (so it fits
    /// a `u64` without an overflow check, which costs a 128-bit multiplication in
    /// WebAssembly; serde decides the rare longer ones).
    fn integer(&mut self) -> Option<u64> {
        let digits = self
            .rest
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (text, after) = self.rest.split_at_checked(digits)?;
        if text.is_empty() || text.len() > 19 || (text.len() > 1 && text.starts_with('0')) {
            return None;
        }
        // 19 digits are below 10^19 < 2^64: no step overflows.
        let value = text
            .bytes()
            .fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
        self.rest = after;
        Some(value)
    }

    /// Nothing left.
    fn end(self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    use super::*;

    fn claims() -> ResultClaims {
        ResultClaims {
            iss: "https://verifier.example/日本".into(),
            aud: "m_shop".into(),
            sub: "au_1".into(),
            iat: 1_800_000_000,
            exp: 1_800_000_600,
            jti: "j1".into(),
            txn: Transaction {
                reference: "注文-42 🛒\u{7f}".into(),
                amount: 9_999_999_999_999_999_999,
                currency: Currency::new("JPY").expect("valid currency"),
            },
            status: TransStatus::NotAuthenticated,
            eci: Eci::NotAuthenticated,
            method: Method::Frictionless,
            reason: Reason::new(19),
        }
    }

    #[test]
    fn reads_what_serde_writes() {
        let json = serde_json::to_vec(&claims()).expect("serialisable");
        assert_eq!(result_claims(&json), Some(claims()));
        let plain = ResultClaims {
            reason: None,
            status: TransStatus::Authenticated,
            ..claims()
        };
        let json = serde_json::to_vec(&plain).expect("serialisable");
        assert_eq!(result_claims(&json), Some(plain));
        let device = DeviceClaims {
            iss: "v".into(),
            aud: "m_shop".into(),
            sub: "ch_1".into(),
            did: "dv_1".into(),
            iat: 0,
            exp: 60,
        };
        let json = serde_json::to_vec(&device).expect("serialisable");
        assert_eq!(device_claims(&json), Some(device));
    }

    #[test]
    fn gives_up_on_any_other_spelling() {
        let canonical =
            String::from_utf8(serde_json::to_vec(&claims()).expect("serialisable")).expect("UTF-8");
        // Each of these is either refused by serde or accepted by it with the same claims;
        // either way this path must leave it to serde.
        for (from, to) in [
            ("{\"iss\"", "{ \"iss\""),
            ("\"au_1\"", "\"au\\u005f1\""),
            ("\"j1\"", "\"j\\n\""),
            ("\"j1\"", "\"j\n\""),
            ("1800000000", "01800000000"),
            ("1800000000", "1800000000.0"),
            ("1800000000", "1.8e9"),
            ("9999999999999999999", "18446744073709551615"),
            ("9999999999999999999", "18446744073709551616"),
            ("\"19\"", "null"),
            ("\"19\"", "\"00\""),
            ("\"JPY\"", "\"jpy\""),
            ("\"N\"", "\"X\""),
            ("}", "} "),
            (",\"eci\"", ",\"eci\":\"07\",\"eci\""),
        ] {
            assert!(canonical.contains(from), "{from}");
            let changed = canonical.replacen(from, to, 1);
            assert_eq!(result_claims(changed.as_bytes()), None, "{changed}");
        }
        let mut not_utf8 = canonical.into_bytes();
        not_utf8.push(0xff);
        assert_eq!(result_claims(&not_utf8), None);
    }

    /// The property the fast path rests on, over mutations of canonical claims.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use alloc::string::String;
        use alloc::vec::Vec;

        use proptest::prelude::*;

        use super::super::*;

        prop_compose! {
            fn canonical_json()(
                iss in "\\PC{0,20}",
                sub in "[a-z0-9_]{1,10}",
                iat in any::<u64>(),
                exp in any::<u64>(),
                reference in "\\PC{1,20}",
                amount in any::<u64>(),
                reason in prop::option::of(1u8..=99),
            ) -> String {
                let claims = ResultClaims {
                    iss, aud: "m_shop".into(), sub, iat, exp, jti: "j1".into(),
                    txn: Transaction { reference, amount, currency: Currency::new("EUR").expect("valid") },
                    status: TransStatus::Rejected, eci: Eci::NotAuthenticated,
                    method: Method::Challenge, reason: reason.and_then(Reason::new),
                };
                String::from_utf8(serde_json::to_vec(&claims).expect("serialisable")).expect("UTF-8")
            }
        }

        proptest! {
            #[test]
            fn where_it_reads_claims_serde_reads_the_same(
                json in canonical_json(),
                edits in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>(), prop::sample::select(&[
                    "", " ", "\"", "\\", "0", "1", "9", "-", "+", ".", "e", ",", ":", "{", "}", "[",
                    "null", "\\u0041", "\\\"", "\n", "\t", "x", "Y", "\u{7f}", "é",
                ][..])), 0..3),
            ) {
                let mut bytes: Vec<u8> = json.into_bytes();
                for (index, replace, text) in edits {
                    let at = index.index(bytes.len() + 1);
                    let end = if replace && at < bytes.len() { at + 1 } else { at };
                    bytes.splice(at..end, text.bytes());
                }
                if let Some(fast) = result_claims(&bytes) {
                    prop_assert_eq!(serde_json::from_slice::<ResultClaims>(&bytes).ok(), Some(fast));
                }
            }
        }
    }
}
