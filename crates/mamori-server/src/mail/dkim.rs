//! DKIM (RFC 6376): the signing key from `mail.dkim.key_file`, the signature the outbox worker
//! adds to each mail as it sends it, and the keys and DNS records `mamori dkim keygen` makes.
//!
//! A key file is PEM: PKCS#8 (`BEGIN PRIVATE KEY`, Ed25519 or RSA, what `openssl genpkey`
//! writes) or PKCS#1 (`BEGIN RSA PRIVATE KEY`). RSA keys must have 2048 to 4096 bits: RFC 8301
//! forbids signing with less than 1024, and mailbox providers expect 2048. Ed25519 signatures
//! are RFC 8463's `ed25519-sha256`; since not every verifier knows it yet, keygen makes RSA
//! unless asked otherwise.
//!
//! The signing domain (`d=`) is the `From:` address's domain, so that the signature aligns
//! with the sender for DMARC. Headers and body are canonicalized `relaxed/relaxed`, which
//! survives the header folding and trailing whitespace that relays may change.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
// The PKCS#8 traits are the `pkcs8` crate's, shared by `rsa` and `ed25519-dalek`.
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;

use crate::secrets::random_bytes;

/// The headers every signature covers (RFC 6376 §5.4.1 recommends these and more).
/// `In-Reply-To` and `References` are listed even on a mail without them: signed as absent,
/// they cannot be added on the way (§5.4). Not `Content-Type`: lettre writes a multipart
/// message's `Content-Type` with the body, after signing, so a signature cannot cover it
/// (listing it anyway makes every signature fail to verify).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "MIME-Version",
];

/// The RSA sizes accepted, in bits.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// The algorithm of a DKIM key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Algorithm {
    /// RSA, 2048 bits (`rsa-sha256`): verified everywhere.
    Rsa,
    /// Ed25519 (`ed25519-sha256`, RFC 8463): short keys and signatures, newer.
    Ed25519,
}

/// A private key read from a key file. Short-lived (read, converted for lettre, dropped), so
/// the two variants' sizes need not match.
#[allow(clippy::large_enum_variant)]
enum PrivateKey {
    Rsa(RsaPrivateKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl PrivateKey {
    /// Parses a PEM key file's text.
    fn from_pem(pem: &str) -> Result<Self, String> {
        let pem = pem.trim();
        let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs1_pem(pem)
                .map(Self::Rsa)
                .map_err(|e| format!("not a PKCS#1 RSA private key: {e}"))?
        } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            match RsaPrivateKey::from_pkcs8_pem(pem) {
                Ok(key) => Self::Rsa(key),
                Err(_) => ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                    .map(Self::Ed25519)
                    .map_err(|_| "a PKCS#8 key, but neither RSA nor Ed25519".to_owned())?,
            }
        } else {
            return Err(
                "expected a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, RSA or \
                        Ed25519) or PKCS#1 (`BEGIN RSA PRIVATE KEY`)"
                    .to_owned(),
            );
        };
        if let Self::Rsa(rsa) = &key {
            let bits = rsa.size() * 8;
            if !RSA_BITS.contains(&bits) {
                return Err(format!(
                    "an RSA key of {bits} bits; DKIM keys must have 2048 to 4096"
                ));
            }
        }
        Ok(key)
    }

    /// The key as lettre takes it: PKCS#1 PEM for RSA, the base64 seed for Ed25519.
    fn signing_key(&self) -> Result<DkimSigningKey, String> {
        let (text, algorithm) = match self {
            Self::Rsa(key) => (
                key.to_pkcs1_pem(LineEnding::LF)
                    .map_err(|e| e.to_string())?
                    .to_string(),
                DkimSigningAlgorithm::Rsa,
            ),
            Self::Ed25519(key) => (
                STANDARD.encode(key.to_bytes()),
                DkimSigningAlgorithm::Ed25519,
            ),
        };
        DkimSigningKey::new(&text, algorithm).map_err(|e| e.to_string())
    }

    /// The DNS TXT record's value: `v=DKIM1; k=…; p=…`.
    fn record(&self) -> Result<String, String> {
        let (k, p) = match self {
            Self::Rsa(key) => (
                "rsa",
                STANDARD.encode(
                    key.to_public_key()
                        .to_public_key_der()
                        .map_err(|e| e.to_string())?
                        .as_bytes(),
                ),
            ),
            // RFC 8463 §4.2: the raw 32-byte public key, not a SubjectPublicKeyInfo.
            Self::Ed25519(key) => ("ed25519", STANDARD.encode(key.verifying_key().to_bytes())),
        };
        Ok(format!("v=DKIM1; k={k}; p={p}"))
    }
}

/// The DKIM signer the outbox worker uses: one key, one selector, one domain.
pub struct Signer {
    config: DkimConfig,
}

impl Signer {
    /// Reads the key in `key_file` to sign as `selector._domainkey.domain`.
    ///
    /// # Errors
    ///
    /// A message naming the file when it cannot be read or holds no usable key, or when the
    /// selector or domain is not a DNS name.
    pub fn load(key_file: &Path, selector: &str, domain: &str) -> Result<Self, String> {
        let name = |e: String| format!("mail.dkim.key_file {}: {e}", key_file.display());
        let pem = std::fs::read_to_string(key_file).map_err(|e| name(e.to_string()))?;
        let key = PrivateKey::from_pem(&pem).map_err(name)?;
        Self::new(&key, selector, domain)
    }

    fn new(key: &PrivateKey, selector: &str, domain: &str) -> Result<Self, String> {
        check_dns_name("mail.dkim.selector", selector)?;
        check_dns_name("the domain of mail.from", domain)?;
        let headers = SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect();
        let canonicalization = DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        };
        Ok(Self {
            config: DkimConfig::new(
                selector.to_owned(),
                domain.to_owned(),
                key.signing_key()?,
                headers,
                canonicalization,
            ),
        })
    }

    /// Adds a `DKIM-Signature` header to `message`.
    pub fn sign(&self, message: &mut lettre::Message) {
        message.sign(&self.config);
    }
}

/// A new key for `mamori dkim keygen`: its PKCS#8 PEM (to keep secret) and the DNS TXT
/// record's value to publish.
///
/// # Errors
///
/// When the operating system gives no randomness, or encoding fails (neither should happen).
pub fn generate(algorithm: Algorithm) -> Result<(String, String), String> {
    let key = match algorithm {
        Algorithm::Rsa => {
            let key = RsaPrivateKey::new(&mut rand_core::OsRng, *RSA_BITS.start())
                .map_err(|e| e.to_string())?;
            PrivateKey::Rsa(key)
        }
        Algorithm::Ed25519 => {
            let seed = random_bytes::<32>().map_err(|e| e.to_string())?;
            PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
        }
    };
    let pem = match &key {
        PrivateKey::Rsa(key) => key.to_pkcs8_pem(LineEnding::LF),
        PrivateKey::Ed25519(key) => key.to_pkcs8_pem(LineEnding::LF),
    }
    .map_err(|e| e.to_string())?;
    Ok((pem.to_string(), key.record()?))
}

/// The DNS TXT record's value for the key in `pem` (what [`generate`] returns beside it).
///
/// # Errors
///
/// When `pem` holds no usable key.
pub fn record_of(pem: &str) -> Result<String, String> {
    PrivateKey::from_pem(pem)?.record()
}

/// `record` as a zone-file line for `selector._domainkey.domain`, split into the 255-byte
/// strings a TXT record is made of (an RSA key's record is longer than one).
pub fn zone_line(selector: &str, domain: &str, record: &str) -> String {
    let strings: Vec<String> = record
        .as_bytes()
        .chunks(255)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
        .collect();
    format!(
        "{selector}._domainkey.{domain}. IN TXT ( {} )",
        strings.join(" ")
    )
}

/// A selector or domain: dot-separated labels of letters, digits and inner hyphens.
pub(crate) fn check_dns_name(what: &str, name: &str) -> Result<(), String> {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("{what} must be a DNS name, not {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8463 appendix A's Ed25519 key, as PKCS#8: its record is the RFC's.
    const RFC8463_SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
    const RFC8463_PUBLIC: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    fn rfc8463_pem() -> String {
        let seed: [u8; 32] = STANDARD.decode(RFC8463_SEED).unwrap().try_into().unwrap();
        ed25519_dalek::SigningKey::from_bytes(&seed)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .to_string()
    }

    #[test]
    fn an_ed25519_key_gives_the_rfc_record() {
        assert_eq!(
            record_of(&rfc8463_pem()).unwrap(),
            format!("v=DKIM1; k=ed25519; p={RFC8463_PUBLIC}")
        );
    }

    #[test]
    fn generated_keys_read_back_with_their_record() {
        let (pem, record) = generate(Algorithm::Ed25519).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(record_of(&pem).unwrap(), record);
        assert!(record.starts_with("v=DKIM1; k=ed25519; p="));
    }

    #[test]
    fn rsa_keys_read_as_pkcs1_or_pkcs8_from_2048_bits() {
        let (pkcs8, record) = generate(Algorithm::Rsa).unwrap();
        let key = RsaPrivateKey::from_pkcs8_pem(&pkcs8).unwrap();
        assert_eq!(key.size(), 256);
        let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert_eq!(record_of(&pkcs1).unwrap(), record);
        assert!(record.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "{record}");

        let short = RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        let short = short.to_pkcs1_pem(LineEnding::LF).unwrap();
        let refused = PrivateKey::from_pem(&short).err().unwrap();
        assert!(refused.contains("1024 bits"), "{refused}");
    }

    #[test]
    fn key_files_are_parsed_strictly() {
        let refused = |pem: &str| match PrivateKey::from_pem(pem) {
            Ok(_) => panic!("accepted {pem}"),
            Err(e) => e,
        };
        assert!(refused("").contains("expected a PEM private key"));
        assert!(
            refused("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .contains("expected a PEM private key")
        );
        // A DER SEQUENCE { INTEGER 0 }: PEM and DER, but no key.
        let not_a_key = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----";
        assert!(refused(not_a_key).contains("neither RSA nor Ed25519"));
        assert!(
            refused("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----")
                .contains("not a PKCS#1 RSA private key")
        );
    }

    #[test]
    fn selector_and_domain_must_be_dns_names() {
        let key = PrivateKey::from_pem(&rfc8463_pem()).unwrap();
        assert!(Signer::new(&key, "mamori2026", "issuer.example").is_ok());
        for (selector, domain) in [
            ("", "issuer.example"),
            ("a;b", "issuer.example"),
            ("-a", "issuer.example"),
            ("s", "issuer..example"),
            ("s", "issuer.example."),
        ] {
            assert!(
                Signer::new(&key, selector, domain).is_err(),
                "{selector} {domain}"
            );
        }
    }

    #[test]
    fn long_records_are_split_into_255_byte_strings() {
        let record = format!("v=DKIM1; k=rsa; p={}", "A".repeat(400));
        let line = zone_line("s1", "issuer.example", &record);
        assert!(line.starts_with("s1._domainkey.issuer.example. IN TXT ( \"v=DKIM1; k=rsa; p="));
        let strings: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        assert_eq!(strings.len(), 2);
        assert_eq!(strings[0].len(), 255);
        assert_eq!(strings.concat(), record);
    }
}
