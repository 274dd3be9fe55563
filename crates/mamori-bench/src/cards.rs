//! The simulated cardholders: a card number, an enrolled address, the address their browser
//! connects from, and the device token and device key that browser holds once it has passed a
//! challenge.

use crate::browser_key::BrowserKey;

/// One enrolled card and the state of its cardholder's browser.
#[derive(Debug, Clone)]
pub(crate) struct Card {
    /// A Luhn-valid 15-digit number in the Amex range.
    pub(crate) number: String,
    /// Where its codes are mailed; the SMTP sink routes by it.
    pub(crate) email: String,
    /// The browser's address, sent as `x-forwarded-for` as a load balancer would, so velocity
    /// is counted per cardholder rather than for the one loopback address.
    pub(crate) ip: String,
    /// The device token from this card's last passed challenge.
    pub(crate) device_token: Option<String>,
    /// The device key registered with that challenge, which proves each later device step.
    pub(crate) device_key: Option<BrowserKey>,
}

/// `count` distinct cards, their addresses tagged with `tag`.
pub(crate) fn cards(count: usize, tag: &str) -> Vec<Card> {
    (0..count)
        .map(|i| Card {
            number: card_number(i),
            email: format!("holder{i}.{tag}@bench.example"),
            // Documentation addresses (RFC 5737): only ever a header value, never connected to.
            ip: format!("198.51.{}.{}", 100 + i / 250 % 100, 1 + i % 250),
            device_token: None,
            device_key: None,
        })
        .collect()
}

/// The `i`-th card number: `37`, twelve digits of `i`, and the Luhn check digit.
fn card_number(i: usize) -> String {
    let payload = format!("37{:012}", i % 1_000_000_000_000);
    let check = luhn_check_digit(&payload);
    format!("{payload}{check}")
}

/// The digit that makes `payload` followed by it pass the Luhn check.
fn luhn_check_digit(payload: &str) -> u32 {
    let sum: u32 = payload
        .bytes()
        .rev()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(position, digit)| {
            // The check digit will sit at position 0, so the payload's last digit is doubled.
            if position % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use mamori_server::card::CardNumber;

    use super::*;

    #[test]
    fn numbers_are_valid_and_distinct() {
        let cards = cards(600, "t");
        for card in &cards {
            assert!(CardNumber::parse(&card.number).is_some(), "{}", card.number);
            assert_eq!(card.number.len(), 15);
        }
        let mut numbers: Vec<_> = cards.iter().map(|c| &c.number).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), 600);
        // A published Amex test number checks out the same way.
        assert_eq!(luhn_check_digit("37828224631000"), 5);
    }
}
