//! HMAC signing keys, named by `kid`, and the key sets that verification looks them up in.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit};
use sha2::Sha256;

/// The shortest secret accepted: HS256 needs a key at least as long as its 256-bit output
/// (RFC 7518 §3.2).
pub const MIN_SECRET_LEN: usize = 32;

/// The longest key id accepted; ids appear in every token header.
pub const MAX_KID_LEN: usize = 64;

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
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ShortSecret => "secret is shorter than 32 bytes",
            Self::InvalidKid => "key id must be 1-64 characters of A-Z a-z 0-9 - _ .",
            Self::DuplicateKid => "key id is already in the key set",
        })
    }
}

impl core::error::Error for KeyError {}

/// An HS256 key and its id.
///
/// The HMAC state is keyed once here and cloned per token, which saves hashing the key's two
/// pads on every signature. `Debug` shows the id only.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
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
        Ok(Self {
            kid: kid.into(),
            mac,
        })
    }

    /// The key id written to the `kid` header of tokens it signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A fresh HMAC state keyed with this key.
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        self.mac.clone()
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
    fn debug_hides_the_secret() -> Result<(), KeyError> {
        let text = alloc::format!("{:?}", SigningKey::new("k1", SECRET)?);
        assert_eq!(text, "SigningKey { kid: \"k1\", .. }");
        Ok(())
    }
}
