//! Standard Webhooks v1 signatures, and the endpoint secrets they are made with.
//!
//! A delivery's `webhook-signature` is `v1,` and the standard base64 of HMAC-SHA256, keyed by
//! the secret's bytes, over `{webhook-id}.{webhook-timestamp}.{body}`; with several live
//! secrets (a rotation's overlap) the signatures are joined by spaces, newest first, and a
//! receiver accepts the delivery when any one verifies. A secret is shown to its owner as
//! `whsec_` and the base64 of 32 random bytes, the form every Standard Webhooks library reads.
//!
//! # Secrets at rest
//!
//! A copy of the database must not let anyone sign a delivery an endpoint would accept, so a
//! secret is stored sealed under a key derived from the master secret
//! ([`crate::secrets::Secrets::webhook_key`]): a fresh 16-byte nonce, the secret XORed with
//! HMAC-SHA256(key, "enc" ‖ nonce), and HMAC-SHA256(key, "tag" ‖ nonce ‖ ciphertext) over
//! both (HMAC as a pseudo-random function in counter mode, encrypt-then-MAC: the only
//! primitives the verifier already has). A sealed secret whose tag does not verify — edited,
//! or sealed under another master secret — is refused, never used.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use crate::secrets::{RandomError, hmac_sha256, random_bytes};

/// The prefix of a secret's printed form.
const PREFIX: &str = "whsec_";

/// Bytes of a secret mamori makes (the spec asks for 24 to 64).
const SECRET_LEN: usize = 32;

/// Bytes of a sealed secret: nonce, ciphertext, tag.
const SEALED_LEN: usize = 16 + SECRET_LEN + 32;

/// An endpoint's signing secret: its raw bytes, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// A fresh secret of 32 bytes from the operating system's CSPRNG.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when the source fails.
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(random_bytes::<SECRET_LEN>()?.to_vec()))
    }

    /// Reads a printed secret: `whsec_` (optional, as in the reference libraries) and standard
    /// base64 of at least 24 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
        let bytes = STANDARD.decode(encoded).ok()?;
        (bytes.len() >= 24 && bytes.len() <= 64).then_some(Self(bytes))
    }

    /// The printed form, `whsec_…`, shown to the endpoint's owner once.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// One `v1,…` signature of `body` sent as message `id` at `timestamp`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        let mac = hmac_sha256(
            &self.0,
            &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
        );
        format!("v1,{}", STANDARD.encode(mac))
    }

    /// This secret sealed under `key` for the database (see the module docs). Only secrets
    /// mamori makes ([`Self::generate`], 32 bytes) are sealed; [`Self::unseal`] refuses any
    /// other length.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when no nonce can be had.
    pub fn seal(&self, key: &[u8; 32]) -> Result<Vec<u8>, RandomError> {
        let nonce = random_bytes::<16>()?;
        let pad = hmac_sha256(key, &[b"enc", &nonce]);
        let mut sealed = Vec::with_capacity(SEALED_LEN);
        sealed.extend_from_slice(&nonce);
        // Only mamori's own 32-byte secrets are sealed; the pad covers exactly that many.
        sealed.extend(self.0.iter().zip(pad).map(|(byte, pad)| byte ^ pad));
        let tag = hmac_sha256(key, &[b"tag", &sealed]);
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    /// The secret `sealed` holds, if it was sealed under `key` and is unchanged.
    pub fn unseal(key: &[u8; 32], sealed: &[u8]) -> Option<Self> {
        if sealed.len() != SEALED_LEN {
            return None;
        }
        let (body, tag) = sealed.split_at(16 + SECRET_LEN);
        let expected = hmac_sha256(key, &[b"tag", body]);
        if !bool::from(expected.ct_eq(tag)) {
            return None;
        }
        let (nonce, ciphertext) = body.split_at(16);
        let pad = hmac_sha256(key, &[b"enc", nonce]);
        Some(Self(
            ciphertext
                .iter()
                .zip(pad)
                .map(|(byte, pad)| byte ^ pad)
                .collect(),
        ))
    }
}

/// The `webhook-signature` header: one signature per live secret, space-separated.
pub fn signature_header(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries (the `sign` tests of
    /// `standard-webhooks/libraries`, e.g. `javascript/src/index.test.ts`): a receiver's
    /// library accepts what matches it.
    #[test]
    fn signs_the_reference_libraries_test_vector() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn several_secrets_sign_side_by_side() {
        let old = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let new = Secret::generate().unwrap();
        let header = signature_header(&[new.clone(), old.clone()], "msg_1", 5, b"{}");
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(
            parts,
            [new.sign("msg_1", 5, b"{}"), old.sign("msg_1", 5, b"{}")]
        );
    }

    #[test]
    fn a_printed_secret_reads_back() {
        let secret = Secret::generate().unwrap();
        let printed = secret.expose();
        assert!(printed.starts_with("whsec_"), "{printed}");
        assert_eq!(Secret::parse(&printed), Some(secret));
        assert_eq!(
            Secret::parse("whsec_c2hvcnQ="),
            None,
            "5 bytes is too short"
        );
        assert_eq!(Secret::parse("whsec_not base64!"), None);
    }

    #[test]
    fn a_sealed_secret_opens_only_under_its_key_and_unchanged() {
        let key = [7; 32];
        let secret = Secret::generate().unwrap();
        let sealed = secret.seal(&key).unwrap();
        assert_eq!(Secret::unseal(&key, &sealed), Some(secret.clone()));
        assert!(!sealed.windows(32).any(|w| w == secret.0.as_slice()));
        assert_eq!(Secret::unseal(&[8; 32], &sealed), None);
        let mut edited = sealed.clone();
        edited[20] ^= 1;
        assert_eq!(Secret::unseal(&key, &edited), None);
        assert_eq!(Secret::unseal(&key, &sealed[..40]), None);
    }
}
