//! HMAC signing keys, named by `kid`, and the key sets that verification looks them up in.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{Kind, header_segment};
use crate::b64;

/// The shortest secret accepted: HS256 needs a key at least as long as its 256-bit output
/// (RFC 7518 §3.2).
pub const MIN_SECRET_LEN: usize = 32;

/// The longest key id accepted; ids appear in every token header.
pub const MAX_KID_LEN: usize = 64;

/// How a merchant's secret key starts; see [`encode_secret_key`].
pub const SECRET_KEY_PREFIX: &str = "mamori_sk.";

/// Writes a key id and secret as the one string a merchant keeps: `mamori_sk.<kid>.<secret>`,
/// the secret in base64url. It both authenticates the merchant's API calls and verifies its
/// result tokens ([`SigningKey::from_secret_key`]).
pub fn encode_secret_key(kid: &str, secret: &[u8]) -> String {
    let mut text = String::from(SECRET_KEY_PREFIX);
    text.push_str(kid);
    text.push('.');
    b64::encode_into(secret, &mut text);
    text
}

/// A key could not be made or added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret is shorter than [`MIN_SECRET_LEN`] bytes.
    ShortSecret,
    /// The key id is empty, longer than [`MAX_KID_LEN`], or uses a character outside
    /// `A-Z a-z 0-9 - _ .`.
    InvalidKid,
    /// The key set already holds a key with this id.
    DuplicateKid,
    /// The text is not a secret key of the form `mamori_sk.<kid>.<base64url secret>`.
    Format,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ShortSecret => "secret is shorter than 32 bytes",
            Self::InvalidKid => "key id must be 1-64 characters of A-Z a-z 0-9 - _ .",
            Self::DuplicateKid => "key id is already in the key set",
            Self::Format => "secret key must look like mamori_sk.<kid>.<base64url secret>",
        })
    }
}

impl core::error::Error for KeyError {}

/// An HS256 key and its id.
///
/// The HMAC state is keyed once here and cloned per token, which saves hashing the key's two
/// pads on every signature. The header segment of each kind of token it signs is written once
/// here too, with the HMAC state that has already hashed it: signing copies both, and
/// verification compares a token's header with it byte for byte (falling back to parsing it)
/// and, when it matches, hashes only the rest of the token. `Debug` shows the id only.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    mac: Hmac<Sha256>,
    /// Indexed by [`Kind`].
    headers: [PresetHeader; 2],
}

/// The header a key writes for one kind of token.
#[derive(Clone)]
struct PresetHeader {
    /// The base64url segment.
    segment: String,
    /// The key's HMAC state after the segment and the dot that ends it.
    mac: Hmac<Sha256>,
}

impl SigningKey {
    /// Makes a key from its id and secret.
    ///
    /// # Errors
    ///
    /// [`KeyError::ShortSecret`] and [`KeyError::InvalidKid`].
    pub fn new(kid: &str, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(KeyError::ShortSecret);
        }
        if !is_valid_kid(kid) {
            return Err(KeyError::InvalidKid);
        }
        let mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| KeyError::ShortSecret)?;
        let headers = Kind::ALL.map(|kind| {
            let segment = header_segment(kind, kid);
            let mut headed = mac.clone();
            headed.update(segment.as_bytes());
            headed.update(b".");
            PresetHeader {
                segment,
                mac: headed,
            }
        });
        Ok(Self {
            kid: kid.into(),
            mac,
            headers,
        })
    }

    /// Reads a secret key written by [`encode_secret_key`].
    ///
    /// # Errors
    ///
    /// [`KeyError::Format`] when the text is not of that form, then the errors of
    /// [`SigningKey::new`].
    pub fn from_secret_key(text: &str) -> Result<Self, KeyError> {
        let rest = text
            .strip_prefix(SECRET_KEY_PREFIX)
            .ok_or(KeyError::Format)?;
        // The secret's alphabet has no dot, so the last dot ends the key id, which may have dots.
        let (kid, secret) = rest.rsplit_once('.').ok_or(KeyError::Format)?;
        let secret = b64::decode(secret.as_bytes()).map_err(|_| KeyError::Format)?;
        Self::new(kid, &secret)
    }

    /// The key id written to the `kid` header of tokens it signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A fresh HMAC state keyed with this key.
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        self.mac.clone()
    }

    /// The base64url header segment of a `kind` token signed with this key.
    pub(crate) fn header(&self, kind: Kind) -> &str {
        &self.headers[kind as usize].segment
    }

    /// A fresh HMAC state keyed with this key that has hashed [`Self::header`] and its dot.
    pub(crate) fn mac_after_header(&self, kind: Kind) -> Hmac<Sha256> {
        self.headers[kind as usize].mac.clone()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Key ids are printable and need no JSON escaping, so headers can be compared byte for byte.
fn is_valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_LEN).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The keys a verifier accepts, looked up by `kid`.
///
/// Holding several keys at once is how rotation works: the new key signs, and the old one keeps
/// verifying tokens already handed out until the overlap window closes and it is removed.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// An empty key set; it verifies nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateKid`] when a key with the same id is already present, since a
    /// lookup by id must have one answer.
    pub fn insert(&mut self, key: SigningKey) -> Result<(), KeyError> {
        if self.find(key.kid()).is_some() {
            return Err(KeyError::DuplicateKid);
        }
        self.keys.push(key);
        Ok(())
    }

    /// The key with this id, if any.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// The key whose own header for `kind` is exactly `segment`, if any: the header is public,
    /// so a plain comparison is fine.
    pub(crate) fn find_by_header(&self, kind: Kind, segment: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.header(kind) == segment)
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl From<SigningKey> for KeySet {
    fn from(key: SigningKey) -> Self {
        Self {
            keys: alloc::vec![key],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn rejects_short_secrets_and_odd_ids() {
        assert_eq!(
            SigningKey::new("k1", &SECRET[..31]).err(),
            Some(KeyError::ShortSecret)
        );
        for kid in ["", "a b", "ключ", "a\"b", &"k".repeat(65)] {
            assert_eq!(
                SigningKey::new(kid, SECRET).err(),
                Some(KeyError::InvalidKid),
                "{kid}"
            );
        }
    }

    #[test]
    fn key_set_refuses_duplicate_ids() -> Result<(), KeyError> {
        let mut set = KeySet::from(SigningKey::new("k1", SECRET)?);
        set.insert(SigningKey::new("k2", SECRET)?)?;
        assert_eq!(
            set.insert(SigningKey::new("k1", SECRET)?),
            Err(KeyError::DuplicateKid)
        );
        assert_eq!(set.len(), 2);
        assert_eq!(set.find("k2").map(SigningKey::kid), Some("k2"));
        assert!(set.find("k3").is_none());
        Ok(())
    }

    #[test]
    fn secret_keys_round_trip_and_are_strict() -> Result<(), KeyError> {
        let text = encode_secret_key("2026.11", SECRET);
        assert!(text.starts_with("mamori_sk.2026.11."));
        assert_eq!(SigningKey::from_secret_key(&text)?.kid(), "2026.11");
        for bad in [
            "",
            "mamori_sk.",
            "mamori_sk.k1",
            "sk.k1.AAAA",
            &text.replace("mamori_sk", "x"),
        ] {
            assert_eq!(
                SigningKey::from_secret_key(bad).err(),
                Some(KeyError::Format),
                "{bad}"
            );
        }
        let short = encode_secret_key("k1", &SECRET[..16]);
        assert_eq!(
            SigningKey::from_secret_key(&short).err(),
            Some(KeyError::ShortSecret)
        );
        Ok(())
    }

    #[test]
    fn debug_hides_the_secret() -> Result<(), KeyError> {
        let text = alloc::format!("{:?}", SigningKey::new("k1", SECRET)?);
        assert_eq!(text, "SigningKey { kid: \"k1\", .. }");
        Ok(())
    }
}
