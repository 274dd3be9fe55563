//! The server's own secrets and its randomness.
//!
//! One 32-byte master secret lives in a file; each purpose gets its own key derived from it
//! with HMAC-SHA256 over a label, so a key leaked from one use (say, report links) says nothing
//! about another (device tokens). Randomness comes from the operating system's CSPRNG.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use mamori_core::token::{KeySet, SigningKey};
use sha2::Sha256;

/// The derived keys.
pub struct Secrets {
    /// Signs and verifies device tokens; merchants never see it.
    pub device_keys: KeySet,
    /// The key that signs new device tokens.
    pub device_key: SigningKey,
    /// Keys the digests of one-time codes.
    pub otp_key: [u8; 32],
    /// Keys card references (HMAC of the card number).
    pub card_key: [u8; 32],
    /// Signs report links.
    pub report_key: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// The secrets file is missing and could not be made, or holds no secret.
#[derive(Debug)]
pub enum SecretsError {
    /// Reading or writing the file failed.
    Io(std::io::Error),
    /// The file is not 64 hex digits.
    Format,
    /// The operating system's random source failed.
    Random,
}

impl std::fmt::Display for SecretsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "secrets file: {e}"),
            Self::Format => f.write_str("secrets file must hold 64 hex digits"),
            Self::Random => f.write_str("the operating system's random source failed"),
        }
    }
}

impl std::error::Error for SecretsError {}

impl Secrets {
    /// Derives every key from `master`.
    pub fn derive(master: &[u8; 32]) -> Self {
        let otp_key = derive(master, b"mamori-otp-key-v1");
        let card_key = derive(master, b"mamori-card-key-v1");
        let report_key = derive(master, b"mamori-report-key-v1");
        let device_secret = derive(master, b"mamori-device-key-v1");
        // A 32-byte secret and a fixed, valid kid: `SigningKey::new` cannot refuse them, but
        // if it ever did, the fallback is an empty key set that trusts no device.
        let device_key = SigningKey::new("device-1", &device_secret);
        let (device_keys, device_key) = match device_key {
            Ok(key) => (KeySet::from(key.clone()), key),
            Err(_) => (KeySet::new(), fallback_key(&device_secret)),
        };
        Self {
            device_keys,
            device_key,
            otp_key,
            card_key,
            report_key,
        }
    }

    /// Reads the master secret from `path`, creating the file (mode 0600) with a fresh secret
    /// if it does not exist.
    ///
    /// # Errors
    ///
    /// [`SecretsError`] when the file cannot be read, written or parsed.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let master = parse_hex32(text.trim()).ok_or(SecretsError::Format)?;
                Ok(Self::derive(&master))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let master = random_bytes::<32>().map_err(|_| SecretsError::Random)?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(SecretsError::Io)?;
                writeln!(file, "{}", hex(&master)).map_err(SecretsError::Io)?;
                Ok(Self::derive(&master))
            }
            Err(e) => Err(SecretsError::Io(e)),
        }
    }
}

fn fallback_key(secret: &[u8; 32]) -> SigningKey {
    // Only reached if the invariant above broke; "x" is a valid kid, and the result only
    // matters for signing tokens nobody can verify.
    match SigningKey::new("x", secret) {
        Ok(key) => key,
        Err(_) => fallback_key(&[0x5a; 32]),
    }
}

/// HMAC-SHA256(master, label).
fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    hmac_sha256(master, &[label])
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of every length, so this never fails.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The operating system's random source failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomError;

impl std::fmt::Display for RandomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the operating system's random source failed")
    }
}

impl std::error::Error for RandomError {}

/// `N` bytes from the operating system's CSPRNG.
///
/// # Errors
///
/// [`RandomError`] when the source fails.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).map_err(|_| RandomError)?;
    Ok(bytes)
}

/// A fresh identifier: `prefix` and 128 random bits in hex.
///
/// # Errors
///
/// [`RandomError`] when the source fails.
pub fn random_id(prefix: &str) -> Result<String, RandomError> {
    Ok(format!("{prefix}{}", hex(&random_bytes::<16>()?)))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let digits = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(digits, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_stable() {
        let a = Secrets::derive(&[1; 32]);
        let b = Secrets::derive(&[1; 32]);
        assert_eq!(a.otp_key, b.otp_key);
        assert_ne!(a.otp_key, a.card_key);
        assert_ne!(a.card_key, a.report_key);
        assert_ne!(Secrets::derive(&[2; 32]).otp_key, a.otp_key);
        assert_eq!(a.device_key.kid(), "device-1");
        assert_eq!(format!("{a:?}"), "Secrets { .. }");
    }

    #[test]
    fn secrets_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let first = Secrets::load_or_create(&path).unwrap();
        let second = Secrets::load_or_create(&path).unwrap();
        assert_eq!(first.otp_key, second.otp_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            Secrets::load_or_create(&path),
            Err(SecretsError::Format)
        ));
    }

    #[test]
    fn ids_and_hex() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        let id = random_id("au_").unwrap();
        assert_eq!(id.len(), 3 + 32);
        assert_ne!(id, random_id("au_").unwrap());
        assert_eq!(parse_hex32(&hex(&[7; 32])), Some([7; 32]));
    }
}
