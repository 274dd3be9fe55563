//! The simulated browsers' device keys: what the widget does with WebCrypto, done with `ring`.
//!
//! A browser that passes a challenge makes a fresh ECDSA P-256 key pair and registers its
//! public key with a `register` proof; at each later device step it sends a `device` proof for
//! that purchase. Both proofs sign [`mamori_core::device_key::message`], the verifier's own
//! definition of the signed bytes, so the load generator cannot drift from the wire format.
//!
//! `ring` signs, not the `p256` crate: the load generator shares the machine's cores with the
//! server under test, and `ring`'s P-256 signing (assembly, with precomputed tables) costs a
//! small fraction of `p256`'s portable code (about 25 µs against 400 µs per signature, measured
//! side by side on the 2-core benchmark machine), so the client takes as little as it can from
//! the server it measures. (The verifier verifies with `ring` too, for the same reason.)

use std::sync::Arc;

use mamori_core::device_key::{self, PublicKey, Purpose, Signature};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

use crate::http::Failure;

/// One browser's non-extractable device key. Cloning shares the same key, as a card's copies
/// share one browser.
#[derive(Clone)]
pub(crate) struct BrowserKey {
    pair: Arc<EcdsaKeyPair>,
    random: SystemRandom,
}

impl BrowserKey {
    /// A fresh key pair, as `crypto.subtle.generateKey` makes at code entry.
    ///
    /// # Errors
    ///
    /// When the system's random source fails.
    pub(crate) fn generate() -> Result<Self, Failure> {
        let random = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
            .map_err(|_| "generating a P-256 key pair failed")?;
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
                .map_err(|e| format!("reading the generated P-256 key pair: {e}"))?;
        Ok(Self {
            pair: Arc::new(pair),
            random,
        })
    }

    /// The public key on the wire: the uncompressed SEC1 point, unpadded base64url (what
    /// `exportKey("raw")` gives the widget).
    ///
    /// # Errors
    ///
    /// When `ring`'s point is not what the wire format takes, which would be a bench bug.
    pub(crate) fn public_key(&self) -> Result<String, Failure> {
        let key = PublicKey::from_sec1(self.pair.public_key().as_ref())
            .map_err(|e| format!("ring's public key: {e}"))?;
        Ok(key.to_base64url())
    }

    /// The proof for `purpose` at `authentication_id`: the P1363 `r || s` signature over the
    /// wire format's message, unpadded base64url.
    ///
    /// # Errors
    ///
    /// When the system's random source fails (ECDSA needs a fresh nonce per signature).
    pub(crate) fn proof(
        &self,
        purpose: Purpose,
        authentication_id: &str,
    ) -> Result<String, Failure> {
        let message = device_key::message(purpose, authentication_id);
        let signature = self
            .pair
            .sign(&self.random, &message)
            .map_err(|_| "signing a device proof failed")?;
        let signature = Signature::from_p1363(signature.as_ref())
            .map_err(|e| format!("ring's signature: {e}"))?;
        Ok(signature.to_base64url())
    }
}

impl std::fmt::Debug for BrowserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrowserKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use mamori_core::device_key::{DeviceKeyError, verify};

    use super::*;

    /// The verifier's own parsing and verification accept what the bench sends, for the purpose
    /// and authentication it was made for and no other.
    #[test]
    fn proofs_verify_with_the_verifiers_check_and_only_for_their_message() {
        let key = BrowserKey::generate().unwrap();
        let public_key = PublicKey::from_base64url(&key.public_key().unwrap()).unwrap();
        let proof =
            Signature::from_base64url(&key.proof(Purpose::Device, "au_1").unwrap()).unwrap();
        assert_eq!(verify(&public_key, Purpose::Device, "au_1", &proof), Ok(()));
        assert_eq!(
            verify(&public_key, Purpose::Device, "au_2", &proof),
            Err(DeviceKeyError::Signature)
        );
        assert_eq!(
            verify(&public_key, Purpose::Register, "au_1", &proof),
            Err(DeviceKeyError::Signature)
        );
        let other =
            PublicKey::from_base64url(&BrowserKey::generate().unwrap().public_key().unwrap())
                .unwrap();
        assert_eq!(
            verify(&other, Purpose::Device, "au_1", &proof),
            Err(DeviceKeyError::Signature)
        );
    }
}
