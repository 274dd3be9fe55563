//! One-time codes: uniform generation, forgiving input, and storage only as a keyed digest.
//!
//! A code is six decimal digits. [`Code::from_random`] draws it from caller-supplied random bytes
//! by rejection sampling, so every code is equally likely. [`normalize`] reads what a person
//! types, pastes or autofills — ASCII or full-width digits, with spaces and hyphens — and refuses
//! anything else. The verifier stores only [`digest`], an HMAC under a server key bound to the
//! authentication, and checks an entry with [`verify`] in constant time.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Digits in a code.
pub const CODE_LEN: usize = 6;

/// Random bytes [`Code::from_random`] wants: eight 4-byte draws, so that all of them being
/// rejected (each with probability 2.25e-4) happens about once in 10^29 codes.
pub const RANDOM_LEN: usize = 32;

/// The longest input [`normalize`] reads, in characters; more is refused, not truncated.
pub const MAX_INPUT_CHARS: usize = 32;

/// Length of a [`digest`].
pub const DIGEST_LEN: usize = 32;

/// Codes are `draw % 10^6` for draws below this multiple of 10^6, the largest that fits in a
/// `u32`; draws at or above it are rejected, which keeps the remainder uniform.
const ACCEPT_BELOW: u32 = (u32::MAX / 1_000_000) * 1_000_000;

/// Domain separation for [`digest`], so the key can never be made to sign anything else.
const DIGEST_CONTEXT: &[u8] = b"mamori-otp-v1";

/// Why a code could not be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtpError {
    /// Every draw of the random bytes was rejected; the source is almost surely broken.
    Randomness,
    /// The input holds a character that is not a digit, a space or a hyphen.
    Character,
    /// The input does not hold exactly [`CODE_LEN`] digits, or is longer than
    /// [`MAX_INPUT_CHARS`].
    Length,
}

impl OtpError {
    /// A stable snake_case code for logs, APIs and the golden vectors.
    pub fn code(self) -> &'static str {
        match self {
            Self::Randomness => "randomness",
            Self::Character => "character",
            Self::Length => "length",
        }
    }
}

impl fmt::Display for OtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Randomness => "random source produced no usable draw",
            Self::Character => "code may contain only digits, spaces and hyphens",
            Self::Length => "code must have exactly 6 digits",
        })
    }
}

impl core::error::Error for OtpError {}

/// A six-digit code. `Debug` masks it, so a code never reaches a log by accident.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code([u8; CODE_LEN]);

impl Code {
    /// Draws a code uniformly from `random`, which must come from a CSPRNG.
    ///
    /// # Errors
    ///
    /// [`OtpError::Randomness`] when all eight draws are rejected.
    pub fn from_random(random: &[u8; RANDOM_LEN]) -> Result<Self, OtpError> {
        random
            .chunks_exact(4)
            .map(|draw| u32::from_be_bytes([draw[0], draw[1], draw[2], draw[3]]))
            .find(|draw| *draw < ACCEPT_BELOW)
            .map(|draw| Self::from_number(draw % 1_000_000))
            .ok_or(OtpError::Randomness)
    }

    /// The code as six ASCII digit bytes.
    pub fn as_bytes(&self) -> &[u8; CODE_LEN] {
        &self.0
    }

    /// The code as ASCII digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this never takes the fallback.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    fn from_number(mut number: u32) -> Self {
        let mut digits = [b'0'; CODE_LEN];
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (number % 10) as u8;
            number /= 10;
        }
        Self(digits)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(******)")
    }
}

/// Reads a code as a person enters it.
///
/// Accepts ASCII digits and full-width digits (`０`–`９`, as Japanese input methods produce), and
/// skips ASCII and ideographic spaces, tabs, and the hyphens and dashes people put in the middle
/// (`-`, `‐`, `‑`, `‒`, `–`, `—`, `−`, `ー`, `－`).
///
/// # Errors
///
/// [`OtpError::Character`] for any other character, [`OtpError::Length`] unless there are
/// exactly six digits in at most [`MAX_INPUT_CHARS`] characters.
pub fn normalize(input: &str) -> Result<Code, OtpError> {
    normalize_chars(input.chars())
}

/// [`normalize`] of the characters of a text, however they were decoded: the widget's
/// WebAssembly takes them as code points, with no UTF-8 check to ship.
///
/// # Errors
///
/// As [`normalize`].
pub fn normalize_chars(input: impl IntoIterator<Item = char>) -> Result<Code, OtpError> {
    let mut digits = [b'0'; CODE_LEN];
    let mut count = 0;
    for (index, c) in input.into_iter().enumerate() {
        if index >= MAX_INPUT_CHARS {
            return Err(OtpError::Length);
        }
        let digit = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '０'..='９' => c as u32 - '０' as u32,
            ' ' | '\t' | '\u{3000}' | '-' | '\u{2010}'..='\u{2014}' | '\u{2212}' | 'ー' | '－' => {
                continue;
            }
            _ => return Err(OtpError::Character),
        };
        let slot = digits.get_mut(count).ok_or(OtpError::Length)?;
        *slot = b'0' + digit as u8;
        count += 1;
    }
    if count != CODE_LEN {
        return Err(OtpError::Length);
    }
    Ok(Code(digits))
}

/// The digest under which the verifier stores `code` for `authentication_id`.
///
/// HMAC-SHA256 over `"mamori-otp-v1" || u32_be(len(id)) || id || digits`. Binding the id means a
/// digest copied to another authentication matches nothing; the key means a stolen table of
/// digests cannot be brute-forced over the million codes without also stealing the key.
pub fn digest(key: &[u8], authentication_id: &str, code: &Code) -> [u8; DIGEST_LEN] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return [0; DIGEST_LEN];
    };
    let id_len = u32::try_from(authentication_id.len()).unwrap_or(u32::MAX);
    mac.update(DIGEST_CONTEXT);
    mac.update(&id_len.to_be_bytes());
    mac.update(authentication_id.as_bytes());
    mac.update(&code.0);
    mac.finalize().into_bytes().into()
}

/// Whether `code` is the one stored as `expected` for `authentication_id`.
///
/// # Security
///
/// The comparison takes the same time wherever the digests differ.
pub fn verify(key: &[u8], authentication_id: &str, code: &Code, expected: &[u8]) -> bool {
    digest(key, authentication_id, code).ct_eq(expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_rejected_at_the_bias_boundary() {
        let mut random = [0xff; RANDOM_LEN];
        assert_eq!(Code::from_random(&random), Err(OtpError::Randomness));
        random[28..].copy_from_slice(&(ACCEPT_BELOW - 1).to_be_bytes());
        assert_eq!(Code::from_random(&random).map(|c| c.0), Ok(*b"999999"));
        random[..4].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(Code::from_random(&random).map(|c| c.0), Ok(*b"000007"));
    }

    #[test]
    fn reads_what_people_type() {
        for input in [
            "123456",
            "123 456",
            "123-456",
            "１２３４５６",
            "１２３ー４５６",
            " 12 34 56 ",
        ] {
            assert_eq!(normalize(input).map(|c| c.0), Ok(*b"123456"), "{input}");
        }
        let code = normalize("０１２ ３４５");
        assert_eq!(code.as_ref().map(Code::as_bytes), Ok(b"012345"));
        assert_eq!(code.as_ref().map(Code::as_str), Ok("012345"));
    }

    #[test]
    fn refuses_everything_else() {
        assert_eq!(normalize("12345a"), Err(OtpError::Character));
        assert_eq!(
            normalize("١٢٣٤٥٦"),
            Err(OtpError::Character),
            "Arabic-Indic digits"
        );
        assert_eq!(normalize("12345"), Err(OtpError::Length));
        assert_eq!(normalize("1234567"), Err(OtpError::Length));
        assert_eq!(normalize(""), Err(OtpError::Length));
        assert_eq!(normalize(&" ".repeat(40)), Err(OtpError::Length));
    }

    #[test]
    fn digest_binds_key_id_and_code() -> Result<(), OtpError> {
        let code = normalize("123456")?;
        let stored = digest(b"key", "au_1", &code);
        assert!(verify(b"key", "au_1", &code, &stored));
        assert!(!verify(b"key", "au_2", &code, &stored));
        assert!(!verify(b"other", "au_1", &code, &stored));
        assert!(!verify(b"key", "au_1", &normalize("123457")?, &stored));
        assert!(!verify(b"key", "au_1", &code, &stored[..31]));
        Ok(())
    }

    #[test]
    fn debug_masks_the_code() -> Result<(), OtpError> {
        assert_eq!(alloc::format!("{:?}", normalize("123456")?), "Code(******)");
        Ok(())
    }
}
