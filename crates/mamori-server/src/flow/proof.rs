//! Device-bound keys in the flow: whether a device step's proof identifies a keyed device, and
//! the key a browser registers with its code (see [`mamori_core::device_key`] for the format).
//!
//! A device token and a fingerprint are strings any script on the checkout page can read and
//! replay from another machine; the private key is not (WebCrypto, non-extractable). So a device
//! with a public key is identified only by a signature over this authentication's id, which the
//! verifier chose at random and which admits one device step. A device without a key (a browser
//! without WebCrypto or IndexedDB, or one trusted before keys) is still identified by its token
//! alone — weaker, and counted (`mamori_device_proofs_total{result="unbound"}`).

use mamori_core::device_key::{self, DeviceKeyError, PublicKey, Purpose, Signature};

use crate::model::{AuthenticationId, Device};

/// What a device step's proof says about the device its token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofCheck {
    /// Keyed, and the proof verifies for this authentication.
    Valid,
    /// Keyed, and the proof does not verify (another key, another authentication, another
    /// purpose): a copied token, or a browser whose key store was cleared.
    Invalid,
    /// Keyed, and no proof came with the step.
    Missing,
    /// No key: identified by its token alone.
    Unbound,
}

impl ProofCheck {
    /// Whether the device counts as this browser's.
    pub fn identifies(self) -> bool {
        matches!(self, Self::Valid | Self::Unbound)
    }

    /// The `result` label of `mamori_device_proofs_total`.
    pub fn metric(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Missing => "missing",
            Self::Unbound => "unbound",
        }
    }
}

/// Checks `proof` (purpose `device`) against `device`'s key for `authentication`.
pub fn check(
    device: &Device,
    authentication: &AuthenticationId,
    proof: Option<&Signature>,
) -> ProofCheck {
    match (&device.public_key, proof) {
        (None, _) => ProofCheck::Unbound,
        (Some(_), None) => ProofCheck::Missing,
        (Some(key), Some(proof)) => {
            match device_key::verify(key, Purpose::Device, authentication.as_str(), proof) {
                Ok(()) => ProofCheck::Valid,
                Err(_) => ProofCheck::Invalid,
            }
        }
    }
}

/// A public key whose holder proved possession for this authentication (purpose `register`):
/// only such a key is bound to the device a correct code trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenKey(PublicKey);

impl ProvenKey {
    /// Checks `proof` by `key` for `authentication`.
    ///
    /// # Errors
    ///
    /// [`DeviceKeyError::Signature`] when it does not verify.
    pub fn verify(
        authentication: &AuthenticationId,
        key: PublicKey,
        proof: &Signature,
    ) -> Result<Self, DeviceKeyError> {
        device_key::verify(&key, Purpose::Register, authentication.as_str(), proof)?;
        Ok(Self(key))
    }

    /// The key.
    pub fn key(&self) -> &PublicKey {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{self, SigningKey};

    use super::*;
    use crate::model::{DeviceId, MerchantId};

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    fn public(key: &SigningKey) -> PublicKey {
        let point = key.verifying_key().to_sec1_point(false);
        PublicKey::from_sec1(point.as_bytes()).unwrap()
    }

    fn sign(key: &SigningKey, purpose: Purpose, auth: &AuthenticationId) -> Signature {
        let signature: ecdsa::Signature = key.sign(&device_key::message(purpose, auth.as_str()));
        Signature::from_p1363(&signature.to_bytes()).unwrap()
    }

    fn device(key: Option<PublicKey>) -> Device {
        Device {
            id: DeviceId::from_static("dv_1"),
            merchant_id: MerchantId::from_static("m_1"),
            fingerprint: "{}".into(),
            public_key: key,
            created_at: 0,
            expires_at: 100,
            revoked_at: None,
        }
    }

    #[test]
    fn a_keyed_device_needs_a_proof_for_this_authentication() {
        let (key, other) = (signing_key(7), signing_key(9));
        let (auth, elsewhere) = (
            AuthenticationId::mint().unwrap(),
            AuthenticationId::mint().unwrap(),
        );
        let keyed = device(Some(public(&key)));
        assert_eq!(
            check(&keyed, &auth, Some(&sign(&key, Purpose::Device, &auth))),
            ProofCheck::Valid
        );
        assert_eq!(check(&keyed, &auth, None), ProofCheck::Missing);
        for wrong in [
            sign(&other, Purpose::Device, &auth),
            sign(&key, Purpose::Device, &elsewhere),
            sign(&key, Purpose::Register, &auth),
        ] {
            assert_eq!(check(&keyed, &auth, Some(&wrong)), ProofCheck::Invalid);
        }
        assert_eq!(check(&device(None), &auth, None), ProofCheck::Unbound);
        assert!(ProofCheck::Unbound.identifies() && !ProofCheck::Missing.identifies());
    }

    #[test]
    fn a_registered_key_proves_possession_for_this_authentication() {
        let key = signing_key(7);
        let auth = AuthenticationId::mint().unwrap();
        let good = sign(&key, Purpose::Register, &auth);
        assert!(ProvenKey::verify(&auth, public(&key), &good).is_ok());
        let device_step = sign(&key, Purpose::Device, &auth);
        assert_eq!(
            ProvenKey::verify(&auth, public(&key), &device_step),
            Err(DeviceKeyError::Signature)
        );
    }
}
