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

/// The bit of [`INVALID`] that no valid value (0 to 63) has.
const INVALID_BIT: u8 = 0x80;

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

/// Decodes canonical unpadded base64url into a new vector.
///
/// # Errors
///
/// As [`decode_into`].
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, NotCanonical> {
    let mut out = alloc::vec![0; decoded_len(input.len())];
    decode_into(input, &mut out)?;
    Ok(out)
}

/// How many bytes `encoded_len` characters of unpadded base64url decode to (a length that
/// leaves a lone character is refused by decoding, whatever this says).
pub(crate) const fn decoded_len(encoded_len: usize) -> usize {
    encoded_len / 4 * 3 + (encoded_len % 4).saturating_sub(1)
}

/// Decodes canonical unpadded base64url into the start of `out`, which must hold
/// [`decoded_len`] bytes, and returns that part: the hot path of token verification decodes
/// into buffers on the stack.
///
/// Every character is looked up and the results are checked once at the end, instead of a
/// branch per character: decoding a refused input costs the same as an accepted one, and
/// nothing about which character was wrong comes out.
///
/// # Errors
///
/// [`NotCanonical`] for padding, foreign characters, a length that leaves a lone character, or
/// non-zero unused bits in the final character; also when `out` is too short, which the
/// callers here rule out by sizing it with [`decoded_len`].
pub(crate) fn decode_into<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], NotCanonical> {
    if input.len() % 4 == 1 {
        return Err(NotCanonical);
    }
    let out = out
        .get_mut(..decoded_len(input.len()))
        .ok_or(NotCanonical)?;
    // The OR of every looked-up value: valid ones are below 64, `INVALID` has the top bit.
    let mut seen = 0u8;
    let mut value = |byte: u8| {
        let v = DECODE[usize::from(byte)];
        seen |= v;
        u32::from(v)
    };
    // Eight characters (48 bits) at a time while they last, then four.
    let (octets, quads) = input.split_at(input.len() / 8 * 8);
    let (octet_slots, quad_slots) = out.split_at_mut(octets.len() / 8 * 6);
    for (chunk, slot) in octets.chunks_exact(8).zip(octet_slots.chunks_exact_mut(6)) {
        let mut n = 0u64;
        for &byte in chunk {
            n = n << 6 | u64::from(value(byte));
        }
        // Byte by byte: a 6-byte `copy_from_slice` becomes a call to `memcpy` in WebAssembly.
        if let [a, b, c, d, e, f] = slot {
            [*a, *b, *c, *d, *e, *f] = [
                (n >> 40) as u8,
                (n >> 32) as u8,
                (n >> 24) as u8,
                (n >> 16) as u8,
                (n >> 8) as u8,
                n as u8,
            ];
        }
    }
    let mut chunks = quads.chunks_exact(4);
    let mut slots = quad_slots.chunks_exact_mut(3);
    for (chunk, slot) in (&mut chunks).zip(&mut slots) {
        let n =
            value(chunk[0]) << 18 | value(chunk[1]) << 12 | value(chunk[2]) << 6 | value(chunk[3]);
        if let [a, b, c] = slot {
            [*a, *b, *c] = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        }
    }
    // Bits of the final character that no output byte takes must be zero, so that no other
    // spelling decodes to the same bytes.
    let unused = match (chunks.remainder(), slots.into_remainder()) {
        (&[a, b], [x]) => {
            let n = value(a) << 18 | value(b) << 12;
            *x = (n >> 16) as u8;
            n & 0xffff
        }
        (&[a, b, c], [x, y]) => {
            let n = value(a) << 18 | value(b) << 12 | value(c) << 6;
            *x = (n >> 16) as u8;
            *y = (n >> 8) as u8;
            n & 0xff
        }
        _ => 0,
    };
    if seen & INVALID_BIT != 0 || unused != 0 {
        return Err(NotCanonical);
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
        assert_eq!(decode(b"Zm9v\xff"), Err(NotCanonical), "not ASCII");
        assert_eq!(decode(b"Zm9\0"), Err(NotCanonical), "NUL");
    }

    #[test]
    fn decodes_into_a_buffer_of_its_length_only() {
        let mut out = [0u8; 8];
        assert_eq!(decode_into(b"Zm9vYmE", &mut out), Ok(&b"fooba"[..]));
        assert_eq!(
            decode_into(b"Zm9vYmFyZm9vYg", &mut [0; 10]),
            Ok(&b"foobarfoob"[..])
        );
        assert_eq!(decode_into(b"Zm9vYmFy", &mut out[..5]), Err(NotCanonical));
        for len in 0..12 {
            if len % 4 != 1 {
                let mut text = String::new();
                encode_into(&vec![0xa5; decoded_len(len)], &mut text);
                assert_eq!(text.len(), len);
            }
        }
    }
}
