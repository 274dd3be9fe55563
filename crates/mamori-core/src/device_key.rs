//! Device-bound keys, wire format v1: the message a browser's device key signs, and strict
//! parsing of its public key and signatures.
//!
//! A trusted browser holds an ECDSA P-256 key pair made by WebCrypto with a non-extractable
//! private key (IndexedDB): scripts on the page can sign with it in that browser but cannot copy
//! it elsewhere. The verifier keeps the public key and, at each device step, checks a signature
//! over [`message`] for that purchase's authentication id, which the verifier chose at random
//! and which admits one device step: a proof never replays onto another purchase.
//!
//! On the wire, exactly what WebCrypto produces, in canonical unpadded base64url:
//!
//! - public key: the 65-byte uncompressed SEC1 point `0x04 || X || Y`
//!   (`exportKey("raw", publicKey)`), 87 characters;
//! - signature: ECDSA with SHA-256, the 64-byte IEEE P1363 `r || s` (not DER), 86 characters.
//!
//! WebCrypto does not normalise `s`, so a high-S signature is as valid as its low-S twin. That
//! malleability costs nothing here: a proof is bound to one authentication id, and the verifier
//! never uses a signature's bytes as an identifier.
//!
//! The format (message, lengths, encodings) is always compiled; the curve arithmetic — the
//! on-curve check of a public key and `verify` — only with the `device-key` feature, so the
//! widget, which signs with WebCrypto, does not carry it. Parsing checks use `p256`; `verify`
//! uses ring's assembly natively (the verifier's hot path) and `p256` in WebAssembly, and the
//! golden vectors run on both.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::b64;

/// The bytes of an uncompressed SEC1 P-256 point.
pub const PUBLIC_KEY_LEN: usize = 65;
/// The bytes of a P1363 P-256 signature (`r || s`).
pub const SIGNATURE_LEN: usize = 64;
/// The prefix of every signed message, with its version.
pub const CONTEXT: &str = "mamori-device-proof-v1";

/// What a signature is for, so a proof made for one use cannot serve another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Proving the trusted browser at a device step.
    Device,
    /// Proving possession of a new key when registering it at code entry.
    Register,
}

impl Purpose {
    /// The word in the signed message.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Register => "register",
        }
    }
}

/// A public key or signature was refused.
///
/// Parsing errors say which rule broke, as they concern public data; a signature that does not
/// verify is [`DeviceKeyError::Signature`], with no hint of why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceKeyError {
    /// Not canonical unpadded base64url: padding, a foreign character, or non-zero unused bits.
    Encoding,
    /// Decodes to the wrong number of bytes (a DER signature or a compressed point land here).
    Length,
    /// Not an uncompressed point on P-256 (wrong prefix, coordinates off the curve), or a
    /// signature whose `r` or `s` is zero or not below the group order.
    Invalid,
    /// The signature does not verify for this key, purpose and authentication id.
    Signature,
}

impl DeviceKeyError {
    /// A stable snake_case code for logs and the golden vectors.
    pub fn code(self) -> &'static str {
        match self {
            Self::Encoding => "encoding",
            Self::Length => "length",
            Self::Invalid => "invalid",
            Self::Signature => "signature",
        }
    }
}

impl fmt::Display for DeviceKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Encoding => "not canonical unpadded base64url",
            Self::Length => "wrong length",
            Self::Invalid => "not a valid P-256 value",
            Self::Signature => "device proof does not verify",
        })
    }
}

impl core::error::Error for DeviceKeyError {}

/// The message signed for `purpose` at the authentication `authentication_id`:
/// `mamori-device-proof-v1\n<purpose>\n<authentication id>` in ASCII. The id is taken as bytes
/// (the UTF-8 of the id's text) so that the widget's WebAssembly ships no UTF-8 check.
pub fn message(purpose: Purpose, authentication_id: impl AsRef<[u8]>) -> Vec<u8> {
    let authentication_id = authentication_id.as_ref();
    let mut out = Vec::with_capacity(CONTEXT.len() + 10 + authentication_id.len());
    out.extend_from_slice(CONTEXT.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(purpose.as_str().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(authentication_id);
    out
}

/// Decodes `text` into exactly `N` bytes.
fn decode_exact<const N: usize>(text: &str) -> Result<[u8; N], DeviceKeyError> {
    let bytes = b64::decode(text.as_bytes()).map_err(|_| DeviceKeyError::Encoding)?;
    bytes.try_into().map_err(|_| DeviceKeyError::Length)
}

/// A device's public key: an uncompressed SEC1 P-256 point, on the curve when the `device-key`
/// feature is on (without it, only its encoding is checked).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// Parses the wire form (87 characters of unpadded base64url).
    ///
    /// # Errors
    ///
    /// [`DeviceKeyError::Encoding`], [`DeviceKeyError::Length`] or
    /// [`DeviceKeyError::Invalid`].
    pub fn from_base64url(text: &str) -> Result<Self, DeviceKeyError> {
        Self::from_sec1(&decode_exact::<PUBLIC_KEY_LEN>(text)?)
    }

    /// Parses the 65 raw bytes, as stored.
    ///
    /// # Errors
    ///
    /// [`DeviceKeyError::Length`] or [`DeviceKeyError::Invalid`].
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, DeviceKeyError> {
        let bytes: [u8; PUBLIC_KEY_LEN] = bytes.try_into().map_err(|_| DeviceKeyError::Length)?;
        if bytes[0] != 0x04 {
            return Err(DeviceKeyError::Invalid);
        }
        #[cfg(feature = "device-key")]
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| DeviceKeyError::Invalid)?;
        Ok(Self(bytes))
    }

    /// The 65 raw bytes, as stored.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }

    /// The wire form.
    pub fn to_base64url(&self) -> String {
        let mut out = String::new();
        b64::encode_into(&self.0, &mut out);
        out
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64url())
    }
}

/// A device proof: a P1363 `r || s` P-256 signature. `r` and `s` are checked to be in range
/// when the `device-key` feature is on (without it, only the encoding is checked).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    /// Parses the wire form (86 characters of unpadded base64url).
    ///
    /// # Errors
    ///
    /// [`DeviceKeyError::Encoding`], [`DeviceKeyError::Length`] or
    /// [`DeviceKeyError::Invalid`].
    pub fn from_base64url(text: &str) -> Result<Self, DeviceKeyError> {
        Self::from_p1363(&decode_exact::<SIGNATURE_LEN>(text)?)
    }

    /// Parses the 64 raw bytes `r || s`.
    ///
    /// # Errors
    ///
    /// [`DeviceKeyError::Length`] or [`DeviceKeyError::Invalid`].
    pub fn from_p1363(bytes: &[u8]) -> Result<Self, DeviceKeyError> {
        let bytes: [u8; SIGNATURE_LEN] = bytes.try_into().map_err(|_| DeviceKeyError::Length)?;
        #[cfg(feature = "device-key")]
        p256::ecdsa::Signature::from_slice(&bytes).map_err(|_| DeviceKeyError::Invalid)?;
        Ok(Self(bytes))
    }

    /// The 64 raw bytes.
    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }

    /// The wire form.
    pub fn to_base64url(&self) -> String {
        let mut out = String::new();
        b64::encode_into(&self.0, &mut out);
        out
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(..)")
    }
}

/// Checks that `signature` was made by `key` over [`message`]`(purpose, authentication_id)`.
/// A high-S signature verifies like its low-S twin (see the module docs).
///
/// # Errors
///
/// [`DeviceKeyError::Signature`] when it does not verify; [`DeviceKeyError::Invalid`] only for
/// a value that bypassed parsing's checks, which the types prevent.
#[cfg(feature = "device-key")]
pub fn verify(
    key: &PublicKey,
    purpose: Purpose,
    authentication_id: &str,
    signature: &Signature,
) -> Result<(), DeviceKeyError> {
    let signature =
        p256::ecdsa::Signature::from_slice(&signature.0).map_err(|_| DeviceKeyError::Invalid)?;
    // Verification is the same equation for s and n − s; normalising first makes that explicit
    // whatever the library's stance on high-S.
    verify_low_s(
        key,
        &message(purpose, authentication_id),
        &signature.normalize_s(),
    )
}

/// The verification itself, natively: ring's P-256, whose field arithmetic is assembly — on
/// the verifier a frictionless purchase from a keyed browser makes one, and `p256`'s portable
/// arithmetic took six times as long (see the workspace's `ring` dependency). The key's point
/// was checked when it was parsed; ring checks it again.
#[cfg(all(feature = "device-key", not(target_arch = "wasm32")))]
fn verify_low_s(
    key: &PublicKey,
    message: &[u8],
    signature: &p256::ecdsa::Signature,
) -> Result<(), DeviceKeyError> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key.0)
        .verify(message, &signature.to_bytes())
        .map_err(|_| DeviceKeyError::Signature)
}

/// The verification itself, in WebAssembly: `p256` (ring has no wasm32 build here). Nothing in
/// WebAssembly verifies device keys today; the golden vectors run through this path in the
/// browser, so both implementations answer every vector alike.
#[cfg(all(feature = "device-key", target_arch = "wasm32"))]
fn verify_low_s(
    key: &PublicKey,
    message: &[u8],
    signature: &p256::ecdsa::Signature,
) -> Result<(), DeviceKeyError> {
    use p256::ecdsa::signature::Verifier;

    p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.0)
        .map_err(|_| DeviceKeyError::Invalid)?
        .verify(message, signature)
        .map_err(|_| DeviceKeyError::Signature)
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use super::*;

    #[test]
    fn the_message_is_the_three_lines_of_the_format() {
        assert_eq!(
            message(Purpose::Device, "au_123"),
            b"mamori-device-proof-v1\ndevice\nau_123".to_vec()
        );
        assert_eq!(
            message(Purpose::Register, "au_123"),
            b"mamori-device-proof-v1\nregister\nau_123".to_vec()
        );
    }

    #[test]
    fn lengths_and_encodings_are_exact() {
        let key = [4u8; PUBLIC_KEY_LEN];
        let mut text = String::new();
        b64::encode_into(&key, &mut text);
        assert_eq!(text.len(), 87);
        assert_eq!(
            PublicKey::from_base64url(&format!("{text}=")),
            Err(DeviceKeyError::Encoding)
        );
        assert_eq!(
            PublicKey::from_base64url(&text[..84]),
            Err(DeviceKeyError::Length)
        );
        assert_eq!(
            Signature::from_base64url("AAAA"),
            Err(DeviceKeyError::Length)
        );
        assert_eq!(
            PublicKey::from_sec1(&[2u8; PUBLIC_KEY_LEN]),
            Err(DeviceKeyError::Invalid)
        );
    }
}
