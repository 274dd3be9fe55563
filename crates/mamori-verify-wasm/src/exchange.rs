//! The bytes a pre-keyed verifier and its JavaScript half (`www/npm/verify-call.js`) exchange
//! through WebAssembly memory, instead of strings and objects converted on every call.
//!
//! Why: with the keyed HMAC kept, most of a call's cost was the boundary. wasm-bindgen copies a
//! string in with a JavaScript loop over its characters (about 0.6 µs for a 450-byte token),
//! and a claims object built with `JSON.parse` costs about 0.7 µs; `TextEncoder.encodeInto`
//! writes the token straight into this buffer in about 50 ns, and the claims come back as a
//! few numbers and one run of UTF-8 that JavaScript decodes once and slices.
//!
//! Each verifier owns one buffer of [`BYTES`], read by JavaScript through a `DataView` (no
//! alignment needed). In: the token's UTF-8, then the order's `authentication`, `reference` and `currency`,
//! back to back, their byte lengths passed as arguments. Out, after a success, overwriting the
//! input (JavaScript reads the same offsets):
//!
//! | bytes | as | what |
//! |---|---|---|
//! | 0..24 | 3 × f64 | `iat`, `exp`, `txn.amount` |
//! | 24..64 | 10 × u32 | UTF-16 lengths of `iss`, `aud`, `sub`, `jti`, `txn.ref`, `txn.currency`, `status`, `eci`, `method`, `reason` (0: absent) |
//! | 64..68 | u32 | byte length of the strings' UTF-8 |
//! | 72.. | UTF-8 | the strings, back to back |
//!
//! UTF-16 lengths, because that is what JavaScript's `slice` counts. Anything that does not fit
//! (a token over the profile's 4 KiB refuses itself) takes wasm-bindgen's ordinary string path.

use mamori_core::token::{Method, ResultClaims};

/// The buffer's size: room for a 4 KiB token and its order going in, and for any claims a 4 KiB
/// token can carry coming out.
pub(crate) const BYTES: usize = 8192;

/// Where the strings' UTF-8 starts.
const TEXT: usize = 72;

/// The caller's order, as byte ranges of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lengths {
    /// The token's byte length.
    pub(crate) token: usize,
    /// `authentication`, `reference`, `currency`: present together or not at all.
    pub(crate) order: Option<[usize; 3]>,
}

/// The inputs, read from the buffer as UTF-8.
pub(crate) struct Input<'a> {
    /// The token.
    pub(crate) token: &'a str,
    /// `authentication`, `reference`, `currency`.
    pub(crate) order: Option<[&'a str; 3]>,
}

/// Reads the inputs JavaScript wrote.
///
/// `None` when the lengths overrun the buffer or a slice is not UTF-8; neither happens with
/// `encodeInto`, which writes only whole characters and reports what it wrote.
pub(crate) fn input(buffer: &[u8], lengths: Lengths) -> Option<Input<'_>> {
    let (token, mut rest) = split(buffer, lengths.token)?;
    let order = match lengths.order {
        None => None,
        Some(order) => {
            let mut strings = [""; 3];
            for (string, len) in strings.iter_mut().zip(order) {
                (*string, rest) = split(rest, len)?;
            }
            Some(strings)
        }
    };
    Some(Input { token, order })
}

fn split(bytes: &[u8], len: usize) -> Option<(&str, &[u8])> {
    let (head, rest) = bytes.split_at_checked(len)?;
    Some((core::str::from_utf8(head).ok()?, rest))
}

/// Writes verified claims in the output layout.
///
/// `false` when they do not fit; then nothing JavaScript reads has meaning, and the caller
/// answers another way.
pub(crate) fn output(claims: &ResultClaims, buffer: &mut [u8]) -> bool {
    let reason = claims
        .reason
        .map(|r| [b'0' + r.number() / 10, b'0' + r.number() % 10]);
    let reason = reason.as_ref().map_or(&[][..], |r| &r[..]);
    let method: &[u8] = match claims.method {
        Method::Frictionless => b"frictionless",
        Method::Challenge => b"challenge",
    };
    let strings: [&[u8]; 10] = [
        claims.iss.as_bytes(),
        claims.aud.as_bytes(),
        claims.sub.as_bytes(),
        claims.jti.as_bytes(),
        claims.txn.reference.as_bytes(),
        claims.txn.currency.as_str().as_bytes(),
        claims.status.code().as_bytes(),
        claims.eci.code().as_bytes(),
        method,
        reason,
    ];
    let text: usize = strings.iter().map(|s| s.len()).sum();
    let Some(out) = buffer.get_mut(..TEXT + text) else {
        return false;
    };
    // JSON numbers in JavaScript are f64; `JSON.parse` would round the same way.
    let numbers = [
        claims.iat as f64,
        claims.exp as f64,
        claims.txn.amount as f64,
    ];
    for (slot, number) in out.chunks_exact_mut(8).zip(numbers) {
        slot.copy_from_slice(&number.to_le_bytes());
    }
    let mut at = TEXT;
    for (i, string) in strings.iter().enumerate() {
        // Every string here comes from a token of at most 4 KiB, so its length fits a u32.
        let units = utf16_len(string) as u32;
        out[24 + 4 * i..28 + 4 * i].copy_from_slice(&units.to_le_bytes());
        out[at..at + string.len()].copy_from_slice(string);
        at += string.len();
    }
    out[64..68].copy_from_slice(&(text as u32).to_le_bytes());
    true
}

/// The UTF-16 length of valid UTF-8: one unit per character, two for those past U+FFFF (the
/// ones that take four bytes).
fn utf16_len(utf8: &[u8]) -> usize {
    // Claims are nearly always ASCII, which `is_ascii` checks a word at a time.
    if utf8.is_ascii() {
        return utf8.len();
    }
    utf8.iter()
        .map(|&b| match b {
            0x80..=0xBF => 0,
            0xF0..=0xFF => 2,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use mamori_core::token::{Currency, Eci, Reason, TransStatus, Transaction};

    use super::*;

    fn claims() -> ResultClaims {
        ResultClaims {
            iss: "https://verifier.example".into(),
            aud: "m_shop".into(),
            sub: "au_1".into(),
            iat: 1_800_000_000,
            exp: 1_800_000_600,
            jti: "j1".into(),
            txn: Transaction {
                reference: "注文-42 🛒".into(),
                amount: 12_800,
                currency: Currency::new("JPY").expect("valid currency"),
            },
            status: TransStatus::Unavailable,
            eci: Eci::NotAuthenticated,
            method: Method::Frictionless,
            reason: Reason::new(14),
        }
    }

    /// Reads the output back as `verify-call.js` does.
    fn read(buffer: &[u8]) -> (Vec<f64>, Vec<String>) {
        let f64_at =
            |i: usize| f64::from_le_bytes(buffer[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        let u32_at = |at: usize| {
            u32::from_le_bytes(buffer[at..at + 4].try_into().expect("4 bytes")) as usize
        };
        let text = std::str::from_utf8(&buffer[TEXT..TEXT + u32_at(64)]).expect("UTF-8");
        let units: Vec<u16> = text.encode_utf16().collect();
        let mut at = 0;
        let strings = (0..10)
            .map(|i| {
                let len = u32_at(24 + 4 * i);
                at += len;
                String::from_utf16(&units[at - len..at]).expect("whole characters")
            })
            .collect();
        (vec![f64_at(0), f64_at(1), f64_at(2)], strings)
    }

    #[test]
    fn claims_come_out_as_javascript_slices_them() {
        let mut buffer = vec![0; BYTES];
        assert!(output(&claims(), &mut buffer));
        let (numbers, strings) = read(&buffer);
        assert_eq!(numbers, [1_800_000_000.0, 1_800_000_600.0, 12_800.0]);
        assert_eq!(
            strings,
            [
                "https://verifier.example",
                "m_shop",
                "au_1",
                "j1",
                "注文-42 🛒",
                "JPY",
                "U",
                "07",
                "frictionless",
                "14"
            ]
        );
        let without_reason = ResultClaims {
            reason: None,
            status: TransStatus::Authenticated,
            method: Method::Challenge,
            ..claims()
        };
        assert!(output(&without_reason, &mut buffer));
        let (_, strings) = read(&buffer);
        assert_eq!(strings[6..], ["Y", "07", "challenge", ""]);
    }

    #[test]
    fn claims_that_do_not_fit_are_not_written() {
        let mut small = vec![0; 80];
        assert!(!output(&claims(), &mut small));
    }

    #[test]
    fn inputs_are_read_back_to_back() {
        let bytes = b"a.b.cau_1order-42JPYjunk";
        let order = Some([4, 8, 3]);
        let read = input(bytes, Lengths { token: 5, order }).expect("fits");
        assert_eq!(read.token, "a.b.c");
        assert_eq!(read.order, Some(["au_1", "order-42", "JPY"]));
        let bare = input(
            bytes,
            Lengths {
                token: 5,
                order: None,
            },
        )
        .expect("fits");
        assert_eq!(bare.order, None);
        assert!(
            input(
                bytes,
                Lengths {
                    token: 25,
                    order: None
                }
            )
            .is_none()
        );
        let split_char = "注".as_bytes();
        assert!(
            input(
                split_char,
                Lengths {
                    token: 2,
                    order: None
                }
            )
            .is_none()
        );
    }
}
