//! Strict, unpadded base64url (RFC 4648 §5) as JWS compact serialization requires (RFC 7515 §2).
//!
//! Decoding accepts exactly one spelling of every byte string: no padding, no whitespace, no
//! characters outside the URL-safe alphabet, no impossible length, and no set bits in the unused
//! low bits of the last character. So a token can never be re-spelled into a different string that
//! still verifies, which keeps `jti`-style replay checks and log comparisons honest.

use alloc::string::String;
use alloc::vec::Vec;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Marks a byte that is not in the alphabet in [`DECODE`].
const INVALID: u8 = 0xff;

/// Reverse lookup of [`ALPHABET`], built at compile time.
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The input is not canonical unpadded base64url; deliberately says nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotCanonical;

/// Appends the unpadded encoding of `input` to `out`, so a token is built in one allocation.
pub(crate) fn encode_into(input: &[u8], out: &mut String) {
    let symbol = |index: u32| char::from(ALPHABET[(index & 0x3f) as usize]);
    let mut chunks = input.chunks_exact(3);
    for chunk in &mut chunks {
        let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        out.extend([symbol(n >> 18), symbol(n >> 12), symbol(n >> 6), symbol(n)]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend([symbol(n >> 18), symbol(n >> 12)]);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend([symbol(n >> 18), symbol(n >> 12), symbol(n >> 6)]);
        }
        _ => {}
    }
}

/// Decodes canonical unpadded base64url.
///
/// # Errors
///
/// [`NotCanonical`] for padding, foreign characters, a length that leaves a lone character, or
/// non-zero unused bits in the final character.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, NotCanonical> {
    if input.len() % 4 == 1 {
        return Err(NotCanonical);
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let value = |byte: u8| match DECODE[usize::from(byte)] {
        INVALID => Err(NotCanonical),
        v => Ok(u32::from(v)),
    };
    let mut chunks = input.chunks_exact(4);
    for chunk in &mut chunks {
        let n = value(chunk[0])? << 18
            | value(chunk[1])? << 12
            | value(chunk[2])? << 6
            | value(chunk[3])?;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    match *chunks.remainder() {
        [a, b] => {
            let n = value(a)? << 18 | value(b)? << 12;
            if n & 0xffff != 0 {
                return Err(NotCanonical);
            }
            out.push((n >> 16) as u8);
        }
        [a, b, c] => {
            let n = value(a)? << 18 | value(b)? << 12 | value(c)? << 6;
            if n & 0xff != 0 {
                return Err(NotCanonical);
            }
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]);
        }
        _ => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    fn encode(input: &[u8]) -> String {
        let mut out = String::new();
        encode_into(input, &mut out);
        out
    }

    #[test]
    fn rfc4648_vectors_round_trip() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded.as_bytes()), Ok(plain.as_bytes().to_vec()));
        }
    }

    #[test]
    fn url_alphabet_only() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode(b"-_8"), Ok(vec![0xfb, 0xff]));
        assert_eq!(decode(b"+/8"), Err(NotCanonical));
    }

    #[test]
    fn rejects_every_alternative_spelling() {
        assert_eq!(decode(b"Zg=="), Err(NotCanonical), "padding");
        assert_eq!(decode(b"Zh"), Err(NotCanonical), "non-zero trailing bits");
        assert_eq!(decode(b"Zm9"), Err(NotCanonical), "non-zero trailing bits");
        assert_eq!(decode(b"Zm9vY"), Err(NotCanonical), "impossible length");
        assert_eq!(decode(b"Zm 9v"), Err(NotCanonical), "whitespace");
    }
}
