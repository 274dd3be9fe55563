//! The server's own secrets and its randomness.
//!
//! One 32-byte master secret; each purpose gets its own key derived from it with HMAC-SHA256
//! over a label, so a key leaked from one use (say, report links) says nothing about another
//! (device tokens). Randomness comes from the operating system's CSPRNG.
//!
//! The master secret is made exactly once, by `mamori init` ([`create_file`]), and then read by
//! every command and every instance ([`Secrets::load`]). It is never invented on the way: a
//! verifier that made up its own secret because its file was missing would treat every card as
//! unenrolled and every trusted device as new, and — beside other instances — would reject the
//! codes they mailed. Only the throwaway `mamori demo` creates one when it has none
//! ([`Secrets::load_or_create`]). Instead of the file, the secret may come from the environment
//! (`MAMORI_MASTER_SECRET` or `MAMORI_MASTER_SECRET_FILE`, see [`crate::config`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use mamori_core::token::{KeySet, SigningKey};
use sha2::Sha256;

use crate::config::Config;

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
    /// Derives each authentication's client secret from its id, so a retried create answers
    /// the same secret without it ever being stored.
    pub client_secret_key: [u8; 32],
    /// Seals webhook endpoints' signing secrets in the database (`webhooks::sign`).
    pub webhook_key: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// A master secret given directly — from the environment — instead of in the secrets file.
///
/// Its `Debug` shows nothing of it, so it can sit in [`Config`].
#[derive(Clone, PartialEq, Eq)]
pub struct MasterSecret([u8; 32]);

impl MasterSecret {
    /// Parses 64 hex digits (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Option<Self> {
        parse_hex32(text.trim()).map(Self)
    }
}

impl std::fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterSecret(<redacted>)")
    }
}

/// The master secret cannot be had.
#[derive(Debug)]
pub enum SecretsError {
    /// The secrets file does not exist (and nothing else provides the secret).
    Missing(PathBuf),
    /// `mamori init` found a secrets file already there.
    Exists(PathBuf),
    /// Reading or writing the file failed.
    Io(PathBuf, std::io::Error),
    /// The file does not hold 64 hex digits.
    Format(PathBuf),
    /// The operating system's random source failed.
    Random,
}

impl std::fmt::Display for SecretsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(path) => write!(
                f,
                "the secrets file {} does not exist. Create it once with `mamori --config \
                 <file> init` and give every instance that same file (or set \
                 MAMORI_MASTER_SECRET_FILE)",
                path.display()
            ),
            Self::Exists(path) => write!(
                f,
                "the secrets file {} already exists; it is not replaced, because every \
                 enrolled card, trusted device and pending code is keyed by it. Remove it \
                 yourself only if you mean to start over",
                path.display()
            ),
            Self::Io(path, e) => write!(f, "secrets file {}: {e}", path.display()),
            Self::Format(path) => write!(
                f,
                "the secrets file {} must hold 64 hex digits, as `mamori init` writes it",
                path.display()
            ),
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
        let client_secret_key = derive(master, b"mamori-client-secret-key-v1");
        let webhook_key = derive(master, b"mamori-webhook-key-v1");
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
            client_secret_key,
            webhook_key,
        }
    }

    /// The keys of a configured verifier: from the environment's master secret when
    /// [`Config::master_secret`] holds one, otherwise from [`Config::secrets_file`], which must
    /// exist. Never creates anything (see the module docs).
    ///
    /// # Errors
    ///
    /// [`SecretsError::Missing`] when there is no file, and the others when it is unreadable or
    /// malformed.
    pub fn load(config: &Config) -> Result<Self, SecretsError> {
        match &config.master_secret {
            Some(MasterSecret(master)) => Ok(Self::derive(master)),
            None => Ok(Self::derive(&read_file(&config.secrets_file)?)),
        }
    }

    /// Reads the master secret from `path`, creating the file (mode 0600) with a fresh secret
    /// if it does not exist. Only for sandboxes that keep nothing of value: `mamori demo` and
    /// the benchmarks.
    ///
    /// # Errors
    ///
    /// [`SecretsError`] when the file cannot be read, written or parsed.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretsError> {
        match create_file(path) {
            Ok(()) | Err(SecretsError::Exists(_)) => Ok(Self::derive(&read_file(path)?)),
            Err(e) => Err(e),
        }
    }
}

/// Writes a fresh master secret to `path` (64 hex digits, mode 0600): `mamori init`.
///
/// # Errors
///
/// [`SecretsError::Exists`] when the file is already there (it is never replaced),
/// [`SecretsError::Io`] when it cannot be written, [`SecretsError::Random`].
pub fn create_file(path: &Path) -> Result<(), SecretsError> {
    let master = random_bytes::<32>().map_err(|_| SecretsError::Random)?;
    write_new_file(path, format!("{}\n", hex(&master)).as_bytes())
}

/// Writes `contents` to a new file at `path`, readable by its owner only (mode 0600): a secret
/// the verifier keeps, such as the master secret or a DKIM key.
///
/// # Errors
///
/// [`SecretsError::Exists`] when the file is already there (it is never replaced),
/// [`SecretsError::Io`] when it cannot be written; a half-written file is removed.
pub fn write_new_file(path: &Path, contents: &[u8]) -> Result<(), SecretsError> {
    let mut options = std::fs::OpenOptions::new();
    // `create_new` makes "does it exist?" and "create it" one step: of two `init`s racing, one
    // fails instead of both writing.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => SecretsError::Exists(path.into()),
        _ => SecretsError::Io(path.into(), e),
    })?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(e) = written {
        // A half-written file would be refused by every later command, and by `init` too.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(SecretsError::Io(path.into(), e));
    }
    Ok(())
}

/// Reads and parses a secrets file.
///
/// # Errors
///
/// [`SecretsError::Missing`], [`SecretsError::Io`] or [`SecretsError::Format`].
pub fn read_file(path: &Path) -> Result<[u8; 32], SecretsError> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SecretsError::Missing(path.into()),
        // Not UTF-8 is as malformed as not hex.
        std::io::ErrorKind::InvalidData => SecretsError::Format(path.into()),
        _ => SecretsError::Io(path.into(), e),
    })?;
    parse_hex32(text.trim()).ok_or_else(|| SecretsError::Format(path.into()))
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

/// A fresh identifier: `prefix` and 128 random bits in hex. For what the model does not keep
/// (a result token's `jti`, the demo shop's order references); the model's ids mint themselves
/// as their own types ([`crate::model::id`]).
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
    fn init_creates_once_and_load_never_creates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let config = Config {
            secrets_file: path.clone(),
            ..Config::default()
        };
        assert!(matches!(Secrets::load(&config), Err(SecretsError::Missing(p)) if p == path));
        assert!(!path.exists(), "load never creates the file");

        create_file(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(create_file(&path), Err(SecretsError::Exists(_))));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "not replaced"
        );

        let first = Secrets::load(&config).unwrap();
        let second = Secrets::load_or_create(&path).unwrap();
        assert_eq!(first.otp_key, second.otp_key);

        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            Secrets::load(&config),
            Err(SecretsError::Format(_))
        ));
    }

    #[test]
    fn the_environment_secret_takes_the_place_of_the_file() {
        let master = hex(&[9; 32]);
        let config = Config {
            secrets_file: "/nonexistent/secrets.key".into(),
            master_secret: MasterSecret::parse(&format!("{master}\n")),
            ..Config::default()
        };
        let secrets = Secrets::load(&config).unwrap();
        assert_eq!(secrets.otp_key, Secrets::derive(&[9; 32]).otp_key);
        assert!(MasterSecret::parse("abc").is_none());
        assert!(MasterSecret::parse(&"g".repeat(64)).is_none());
        assert!(!format!("{config:?}").contains(&master));
    }

    #[test]
    fn demo_secrets_are_created_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let first = Secrets::load_or_create(&path).unwrap();
        let second = Secrets::load_or_create(&path).unwrap();
        assert_eq!(first.otp_key, second.otp_key);
    }

    #[test]
    fn ids_and_hex() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        let id = random_id("rt_").unwrap();
        assert_eq!(id.len(), 3 + 32);
        assert_ne!(id, random_id("rt_").unwrap());
        assert_eq!(parse_hex32(&hex(&[7; 32])), Some([7; 32]));
    }
}
