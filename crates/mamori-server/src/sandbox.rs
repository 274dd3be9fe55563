//! Sandbox merchants: test cards that force each outcome, on any verifier.
//!
//! A merchant registered with `mamori merchant add --sandbox` builds and tests its integration
//! against a real verifier without touching a real cardholder:
//!
//! - it can start authentications only for the [`CARDS`] below; any other card number (and any
//!   `card_ref`) is refused with `400 sandbox_card_required`, so a sandbox key can never probe,
//!   challenge or lock a real card;
//! - the card decides the outcome; the risk engine, velocity and trusted devices are not
//!   consulted, so a test run gives the same answer every time;
//! - the challenge card's code is always [`CODE`], and its mail (like every mail of a sandbox
//!   authentication) is never sent: it is kept for the merchant to read with its own key at
//!   `GET /v1/sandbox/mail`.
//!
//! A live merchant's authentication for a test number is an ordinary unknown card (`R`).

use mamori_core::token::{Method, Reason, TransStatus};

use crate::card::CardNumber;
use crate::model::{CardStatus, Cardholder, CardholderId, Ceilings, Locale};

/// The one-time code of the challenge card, on every verifier.
pub const CODE: &str = "123456";

/// The address sandbox mail is written to; `.invalid` can never be delivered (RFC 2606).
pub const EMAIL: &str = "cardholder@sandbox.invalid";

/// A test card and the outcome it forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SandboxCard {
    /// Frictionless `Y`.
    Frictionless,
    /// A challenge whose code is [`CODE`]; then `Y`, or `N` after five wrong codes.
    Challenge,
    /// `N` at the device step (reason `01`).
    NotAuthenticated,
    /// `U` at the device step (reason `22`, the issuer's technical problem).
    Unavailable,
    /// `R` at the device step (reason `12`).
    Rejected,
    /// `A` at the device step (reason `13`, attempted).
    Attempted,
}

/// The test card numbers (15 digits, Luhn-valid), as documented in docs/api.md.
pub const CARDS: &[(&str, SandboxCard)] = &[
    ("370000000000010", SandboxCard::Frictionless),
    ("370000000000028", SandboxCard::Challenge),
    ("370000000000036", SandboxCard::NotAuthenticated),
    ("370000000000044", SandboxCard::Unavailable),
    ("370000000000051", SandboxCard::Rejected),
    ("370000000000069", SandboxCard::Attempted),
];

/// A final answer the device step gives at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forced {
    /// The result's status.
    pub status: TransStatus,
    /// Its reason, for anything but `Y`.
    pub reason: Option<Reason>,
}

impl SandboxCard {
    /// The test card a number is, if it is one.
    pub fn from_number(number: &CardNumber) -> Option<Self> {
        CARDS
            .iter()
            .find(|(digits, _)| CardNumber::parse(digits).as_ref() == Some(number))
            .map(|&(_, card)| card)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Frictionless => "frictionless",
            Self::Challenge => "challenge",
            Self::NotAuthenticated => "not_authenticated",
            Self::Unavailable => "unavailable",
            Self::Rejected => "rejected",
            Self::Attempted => "attempted",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        CARDS
            .iter()
            .map(|&(_, card)| card)
            .find(|card| card.as_str() == name)
    }

    /// What the device step answers: `None` for the challenge card, which sends a code.
    pub fn forced(self) -> Option<Forced> {
        let forced = |status, reason: Option<u8>| {
            Some(Forced {
                status,
                reason: reason.and_then(Reason::new),
            })
        };
        match self {
            Self::Challenge => None,
            Self::Frictionless => forced(TransStatus::Authenticated, None),
            Self::NotAuthenticated => forced(TransStatus::NotAuthenticated, Some(1)),
            Self::Unavailable => forced(TransStatus::Unavailable, Some(22)),
            Self::Rejected => forced(TransStatus::Rejected, Some(12)),
            Self::Attempted => forced(TransStatus::Attempted, Some(13)),
        }
    }

    /// How a forced outcome was reached: the frictionless card as a frictionless purchase, the
    /// others as decided without a challenge too.
    pub fn method(self) -> Method {
        match self {
            Self::Challenge => Method::Challenge,
            _ => Method::Frictionless,
        }
    }
}

/// The cardholder every sandbox authentication stands for: never stored, never mailed.
pub fn cardholder() -> Cardholder {
    Cardholder {
        id: const { CardholderId::from_static("ch_sandbox") },
        card_ref: String::new(),
        last4: String::new(),
        email: EMAIL.into(),
        locale: Locale::En,
        status: CardStatus::Active,
        frictionless_ceilings: Ceilings::default(),
        created_at: 0,
        contact_epoch: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_card_is_valid_and_named_once() {
        for (digits, card) in CARDS {
            let number = CardNumber::parse(digits).unwrap();
            assert_eq!(SandboxCard::from_number(&number), Some(*card));
            assert_eq!(SandboxCard::parse(card.as_str()), Some(*card));
        }
        let real = CardNumber::parse("378282246310005").unwrap();
        assert_eq!(SandboxCard::from_number(&real), None);
        assert_eq!(SandboxCard::parse("nope"), None);
    }

    #[test]
    fn each_card_forces_its_status() {
        let statuses: Vec<_> = CARDS
            .iter()
            .map(|(_, card)| card.forced().map(|f| f.status))
            .collect();
        assert_eq!(
            statuses,
            [
                Some(TransStatus::Authenticated),
                None,
                Some(TransStatus::NotAuthenticated),
                Some(TransStatus::Unavailable),
                Some(TransStatus::Rejected),
                Some(TransStatus::Attempted),
            ]
        );
        for (_, card) in CARDS {
            if let Some(forced) = card.forced() {
                let needs_reason = forced.status != TransStatus::Authenticated;
                assert_eq!(forced.reason.is_some(), needs_reason, "{card:?}");
            }
        }
    }
}
