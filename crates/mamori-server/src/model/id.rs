//! The verifier's identifiers, one type per kind, so a merchant id cannot be passed where a
//! cardholder id is meant, and an id from a URL, a token, the command line or a row is checked
//! once, where it enters.
//!
//! An id is its kind's prefix (`au_`, `m_`, `ch_`, `dv_`, `fr_`, `pc_`, `at_`) and a body of
//! ASCII letters, digits, `_` and `-`, at most [`MAX_LEN`] bytes in all. The verifier mints bodies of 32 random
//! hex digits (`au_3f9c…`); the fixed ids in use (`m_demo`, `ch_demo1`, `ch_sandbox`) fit the
//! same rule, as do ids of existing databases, which only ever held these two forms.
//!
//! A merchant key's id ([`KeyId`]) is the exception: it is the `kid` of the tokens the key
//! signs, and keys were named freely before they were minted as `k_…` (the demo's key is
//! `demo`), so it is anything a token's `kid` may be (`mamori_core::token`'s rule: 1 to 64 of
//! `A-Z a-z 0-9 - _ .`), with no prefix.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::secrets::{RandomError, hex, random_bytes};

/// The longest id of any kind, in bytes: a token's `kid`'s limit, since ids travel in token
/// headers and claims.
pub const MAX_LEN: usize = mamori_core::token::MAX_KID_LEN;

/// What the ids of one kind look like.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// What every id of the kind starts with; empty for none.
    prefix: &'static str,
    /// Whether the body may hold `.` too (key ids, as a `kid` may).
    dots: bool,
}

impl Shape {
    /// Whether `text` is an id of this shape: the prefix, then a non-empty body of the allowed
    /// characters, [`MAX_LEN`] bytes at most. A `const fn`, so fixed ids are checked at build
    /// time ([`AuthenticationId::from_static`] and its siblings).
    const fn accepts(self, text: &str) -> bool {
        let bytes = text.as_bytes();
        let prefix = self.prefix.as_bytes();
        if bytes.len() <= prefix.len() || bytes.len() > MAX_LEN {
            return false;
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let fits = if i < prefix.len() {
                b == prefix[i]
            } else {
                b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (self.dots && b == b'.')
            };
            if !fits {
                return false;
            }
            i += 1;
        }
        true
    }
}

/// A text that is not an id of the kind asked for (the command line's error); it says what an
/// id of the kind looks like.
#[derive(Debug, Clone, Copy)]
pub struct IdError {
    /// The kind, e.g. `a merchant id`.
    kind: &'static str,
    /// What ids of the kind look like.
    shape: Shape,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Shape { prefix, dots } = self.shape;
        let characters = if dots {
            "ASCII letters, digits, `_`, `-` and `.`"
        } else {
            "ASCII letters, digits, `_` and `-`"
        };
        write!(f, "not {}: ", self.kind)?;
        if prefix.is_empty() {
            write!(f, "1 to {MAX_LEN} {characters}")
        } else {
            write!(
                f,
                "`{prefix}` followed by {characters}, {MAX_LEN} characters in all at most"
            )
        }
    }
}

impl std::error::Error for IdError {}

/// Defines one id type per entry: its shape, how it is minted and its conversions.
macro_rules! ids {
    ($(
        $(#[$doc:meta])*
        $name:ident {
            prefix: $prefix:literal,
            dots: $dots:literal,
            minted: $mint:literal followed by $bytes:literal random bytes in hex,
            kind: $kind:literal,
        }
    )*) => {$(
        $(#[$doc])*
        ///
        /// Made only by [`parse`](Self::parse) (or `str::parse`), [`mint`](Self::mint) or
        /// [`from_static`](Self::from_static), so it always holds a well-formed id; there is
        /// deliberately no `From<&str>` and no `Deref` to the text.
        // `Cow`, so that a fixed id can be a `const` (borrowed) while parsed and minted ones
        // own their text.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            const SHAPE: Shape = Shape {
                prefix: $prefix,
                dots: $dots,
            };

            /// The id `text`, if it is one of this kind.
            pub fn parse(text: &str) -> Option<Self> {
                Self::SHAPE
                    .accepts(text)
                    .then(|| Self(Cow::Owned(text.to_owned())))
            }

            /// A fixed id, such as the demo's. Use it in a `const` (item or block), so a
            /// malformed id fails the build.
            ///
            /// # Panics
            ///
            /// When `text` is not an id of this kind — at compile time in a `const`.
            pub const fn from_static(text: &'static str) -> Self {
                assert!(
                    Self::SHAPE.accepts(text),
                    concat!("not ", $kind)
                );
                Self(Cow::Borrowed(text))
            }

            #[doc = concat!("A fresh id: `", $mint, "` and ", stringify!($bytes),
                " random bytes in hex.")]
            ///
            /// # Errors
            ///
            /// [`RandomError`] when the operating system's random source fails.
            pub fn mint() -> Result<Self, RandomError> {
                let body = hex(&random_bytes::<$bytes>()?);
                Ok(Self(Cow::Owned(format!("{}{body}", $mint))))
            }

            /// The id as text: as stored, signed into tokens and shown.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text).ok_or(IdError {
                    kind: $kind,
                    shape: Self::SHAPE,
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0.into_owned()
            }
        }
    )*};
}

ids! {
    /// An authentication, one purchase: `au_…`, the `sub` of its result token and the `{id}` of
    /// its URLs.
    AuthenticationId {
        prefix: "au_",
        dots: false,
        minted: "au_" followed by 16 random bytes in hex,
        kind: "an authentication id",
    }

    /// A merchant: `m_…`, the `aud` of its result and device tokens.
    MerchantId {
        prefix: "m_",
        dots: false,
        minted: "m_" followed by 16 random bytes in hex,
        kind: "a merchant id",
    }

    /// An enrolled card and its holder: `ch_…`, the `sub` of device tokens.
    CardholderId {
        prefix: "ch_",
        dots: false,
        minted: "ch_" followed by 16 random bytes in hex,
        kind: "a cardholder id",
    }

    /// A trusted browser: `dv_…`, the `did` of its device token.
    DeviceId {
        prefix: "dv_",
        dots: false,
        minted: "dv_" followed by 16 random bytes in hex,
        kind: "a device id",
    }

    /// A fraud report: `fr_…`.
    ReportId {
        prefix: "fr_",
        dots: false,
        minted: "fr_" followed by 16 random bytes in hex,
        kind: "a report id",
    }

    /// A protection case, opened by a fraud report: `pc_…`.
    CaseId {
        prefix: "pc_",
        dots: false,
        minted: "pc_" followed by 16 random bytes in hex,
        kind: "a case id",
    }

    /// A merchant key: the `kid` of the tokens it signs and the middle of its secret-key string.
    /// Any `kid` a token may carry (see the module docs); minted as `k_…`.
    KeyId {
        prefix: "",
        dots: true,
        minted: "k_" followed by 8 random bytes in hex,
        kind: "a key id",
    }

    /// A token of the issuer's admin API: `at_…`, what `mamori admin token revoke` names.
    AdminTokenId {
        prefix: "at_",
        dots: false,
        minted: "at_" followed by 16 random bytes in hex,
        kind: "an admin token id",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key id the store takes is one `mamori-core` signs with, and the other way round: the
    /// two rules are written twice (one is a `const fn` here), so they are checked to agree.
    #[test]
    fn key_ids_follow_mamori_cores_rule() {
        let mut samples: Vec<String> = (0..=MAX_LEN + 1).map(|n| "k".repeat(n)).collect();
        samples.extend(
            ["k.1", "k_1-2", "k 1", "k/1", "k\"1", "ｋ", "k\n", ".", "-"].map(str::to_owned),
        );
        for kid in samples {
            let signs = mamori_core::token::SigningKey::new(&kid, &[7; 32]).is_ok();
            assert_eq!(KeyId::parse(&kid).is_some(), signs, "{kid:?}");
        }
    }

    /// Everything no id of any kind may be, whatever its prefix.
    fn malformed(prefix: &str) -> Vec<String> {
        vec![
            String::new(),
            prefix.to_owned(),
            format!("{prefix}{}", "a".repeat(MAX_LEN + 1 - prefix.len())),
            format!("{prefix}caf\u{e9}"),
            format!("{prefix}\u{ff11}"),
            format!("{prefix}a\nb"),
            format!("{prefix}a\0"),
            format!("{prefix}a\u{7f}"),
            format!("{prefix}a b"),
            format!("{prefix}a/b"),
            format!("{prefix}a%2F"),
            format!(" {prefix}a"),
        ]
    }

    #[test]
    fn authentication_ids() {
        let minted = AuthenticationId::mint().unwrap();
        assert_eq!(minted.as_str().len(), 3 + 32);
        assert_ne!(minted, AuthenticationId::mint().unwrap());
        assert_eq!(AuthenticationId::parse(minted.as_str()), Some(minted));
        for fixed in [
            "au_test",
            "au_1",
            "au_multi",
            "au_hist_2",
            "au_01JD8Z7Q3N4V",
        ] {
            assert_eq!(AuthenticationId::parse(fixed).unwrap(), fixed);
        }
        for other in ["m_test", "ch_1", "dv_1", "fr_1", "k_a", "AU_1", "au1"] {
            assert_eq!(AuthenticationId::parse(other), None, "{other}");
        }
        for bad in malformed("au_") {
            assert_eq!(AuthenticationId::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn merchant_ids() {
        let minted = MerchantId::mint().unwrap();
        assert_eq!(minted.as_str().len(), 2 + 32);
        assert_eq!(MerchantId::parse(minted.as_str()), Some(minted));
        for fixed in [
            "m_demo",
            "m_test",
            "m_hist",
            "m_sandbox_mail",
            "m_shop-2026a",
        ] {
            assert_eq!(MerchantId::parse(fixed).unwrap(), fixed);
        }
        for other in ["au_1", "ch_1", "demo", "mm_1"] {
            assert_eq!(MerchantId::parse(other), None, "{other}");
        }
        for bad in malformed("m_") {
            assert_eq!(MerchantId::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cardholder_ids() {
        let minted = CardholderId::mint().unwrap();
        assert_eq!(CardholderId::parse(minted.as_str()), Some(minted));
        for fixed in ["ch_sandbox", "ch_demo1", "ch_hist", "ch_0"] {
            assert_eq!(CardholderId::parse(fixed).unwrap(), fixed);
        }
        for other in ["m_test", "au_1", "dv_1", "ch"] {
            assert_eq!(CardholderId::parse(other), None, "{other}");
        }
        for bad in malformed("ch_") {
            assert_eq!(CardholderId::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn device_ids() {
        let minted = DeviceId::mint().unwrap();
        assert_eq!(DeviceId::parse(minted.as_str()), Some(minted));
        for fixed in ["dv_1", "dv_fraud", "dv_once_3"] {
            assert_eq!(DeviceId::parse(fixed).unwrap(), fixed);
        }
        for other in ["ch_1", "au_1", "fr_1"] {
            assert_eq!(DeviceId::parse(other), None, "{other}");
        }
        for bad in malformed("dv_") {
            assert_eq!(DeviceId::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn report_ids() {
        let minted = ReportId::mint().unwrap();
        assert_eq!(ReportId::parse(minted.as_str()), Some(minted));
        for fixed in ["fr_1", "fr_nope"] {
            assert_eq!(ReportId::parse(fixed).unwrap(), fixed);
        }
        for other in ["dv_1", "au_1", "m_1"] {
            assert_eq!(ReportId::parse(other), None, "{other}");
        }
        for bad in malformed("fr_") {
            assert_eq!(ReportId::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn case_ids() {
        let minted = CaseId::mint().unwrap();
        assert_eq!(minted.as_str().len(), 3 + 32);
        assert_eq!(CaseId::parse(minted.as_str()), Some(minted));
        for other in ["fr_1", "au_1", "pc", "PC_1"] {
            assert_eq!(CaseId::parse(other), None, "{other}");
        }
        for bad in malformed("pc_") {
            assert_eq!(CaseId::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn key_ids_are_any_kid() {
        let minted = KeyId::mint().unwrap();
        assert!(minted.as_str().starts_with("k_"));
        assert_eq!(minted.as_str().len(), 2 + 16);
        assert_eq!(KeyId::parse(minted.as_str()), Some(minted));
        // Named before keys were minted: the demo's, the tests', a dotted one.
        for fixed in ["demo", "k1", "k_a", "m_keys-k1", "2026.11"] {
            assert_eq!(KeyId::parse(fixed).unwrap(), fixed);
            assert!(
                mamori_core::token::SigningKey::new(fixed, &[0; 32]).is_ok(),
                "a key id is a kid: {fixed}"
            );
        }
        for bad in malformed("") {
            assert_eq!(KeyId::parse(&bad), None, "{bad:?}");
        }
        assert_eq!(
            KeyId::parse(&"k".repeat(MAX_LEN)).unwrap().as_str().len(),
            64
        );
    }

    #[test]
    fn fixed_ids_are_checked_at_build_time() {
        const DEMO: MerchantId = MerchantId::from_static("m_demo");
        assert_eq!(DEMO, "m_demo");
        assert_eq!(DEMO, MerchantId::parse("m_demo").unwrap());
    }

    #[test]
    #[should_panic(expected = "not a cardholder id")]
    fn a_malformed_fixed_id_is_refused() {
        let _ = CardholderId::from_static("m_demo");
    }

    #[test]
    fn text_forms() {
        let id = ReportId::parse("fr_1").unwrap();
        assert_eq!(id.to_string(), "fr_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"fr_1\"");
        assert_eq!(String::from(id.clone()), "fr_1");
        assert_eq!("fr_1".parse::<ReportId>().unwrap(), id);
        assert_eq!(
            "m_1".parse::<ReportId>().unwrap_err().to_string(),
            "not a report id: `fr_` followed by ASCII letters, digits, `_` and `-`, 64 characters \
             in all at most"
        );
        assert_eq!(
            "".parse::<KeyId>().unwrap_err().to_string(),
            "not a key id: 1 to 64 ASCII letters, digits, `_`, `-` and `.`"
        );
    }
}
