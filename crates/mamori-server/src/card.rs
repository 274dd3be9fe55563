//! Card numbers: checked with Luhn, then kept only as a keyed reference and the last four digits.

use crate::secrets::{hex, hmac_sha256};

/// A card number that passed the Luhn check: 12 to 19 digits.
///
/// `Debug` shows only the last four digits, so a number never reaches a log whole.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber(…{})", self.last4())
    }
}

impl CardNumber {
    /// Reads a card number, ignoring spaces and hyphens.
    ///
    /// # Errors
    ///
    /// `None` when it is not 12–19 digits or fails the Luhn check.
    pub fn parse(text: &str) -> Option<Self> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let valid = (12..=19).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && luhn(&digits);
        valid.then_some(Self(digits))
    }

    /// The last four digits.
    pub fn last4(&self) -> &str {
        // At least 12 ASCII digits, so the slice is in bounds and on a char boundary.
        &self.0[self.0.len().saturating_sub(4)..]
    }

    /// The card reference: hex HMAC-SHA256 of the digits under the server's card key.
    pub fn reference(&self, card_key: &[u8; 32]) -> String {
        hex(&hmac_sha256(
            card_key,
            &[b"mamori-card-v1\0", self.0.as_bytes()],
        ))
    }
}

/// Whether `text` looks like a card reference (64 lowercase hex digits).
pub fn is_reference(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amex_test_numbers_pass_luhn() {
        for pan in [
            "378282246310005",
            "371449635398431",
            "3782 822463 10005",
            "4242424242424242",
        ] {
            assert!(CardNumber::parse(pan).is_some(), "{pan}");
        }
        for bad in [
            "378282246310006",
            "37828224631000x",
            "1234",
            "",
            "37828224631000500000",
        ] {
            assert!(CardNumber::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn reference_is_keyed_and_last4_kept() {
        let pan = CardNumber::parse("378282246310005").unwrap();
        assert_eq!(pan.last4(), "0005");
        let a = pan.reference(&[1; 32]);
        assert!(is_reference(&a));
        assert_ne!(a, pan.reference(&[2; 32]));
        assert_eq!(
            a,
            CardNumber::parse("3782-822463-10005")
                .unwrap()
                .reference(&[1; 32])
        );
        assert_eq!(format!("{pan:?}"), "CardNumber(…0005)");
        assert!(!is_reference("378282246310005"));
    }
}
