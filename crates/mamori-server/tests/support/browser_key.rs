//! The browser's device key, as WebCrypto would make it: an ECDSA P-256 key pair whose public
//! half goes on the wire as a raw SEC1 point and whose signatures are P1363 `r || s`.

use mamori_core::device_key::{self, PublicKey, Purpose, Signature};
use mamori_server::model::AuthenticationId;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{self, SigningKey};
use serde_json::{Value, json};

/// One browser's key pair.
pub struct BrowserKey(SigningKey);

impl BrowserKey {
    /// A fresh random key pair.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        Self(SigningKey::from_slice(&seed).unwrap())
    }

    /// The public key, base64url.
    pub fn public(&self) -> String {
        let point = self.0.verifying_key().to_sec1_point(false);
        PublicKey::from_sec1(point.as_bytes())
            .unwrap()
            .to_base64url()
    }

    /// A signature for `purpose` at `authentication`, base64url.
    pub fn sign(&self, purpose: Purpose, authentication: &AuthenticationId) -> String {
        let message = device_key::message(purpose, authentication.as_str());
        let signature: ecdsa::Signature = self.0.sign(&message);
        Signature::from_p1363(&signature.to_bytes())
            .unwrap()
            .to_base64url()
    }

    /// The device step's proof at `authentication`.
    pub fn proof(&self, authentication: &AuthenticationId) -> String {
        self.sign(Purpose::Device, authentication)
    }

    /// The `device_key` member registering this key with a code at `authentication`.
    pub fn registration(&self, authentication: &AuthenticationId) -> Value {
        json!({"public_key": self.public(),
               "proof": self.sign(Purpose::Register, authentication)})
    }
}
