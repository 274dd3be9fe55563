//! What a purchase is for: its amount and the merchant's order reference, each a type that
//! cannot hold an invalid value.

use serde::Serialize;

/// An amount in the currency's minor unit (yen, cents): at least 1, at most [`Amount::MAX`].
/// On the wire, a JSON integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    /// The largest amount accepted: far above any card purchase, far below `i64::MAX`, so sums
    /// and comparisons never overflow.
    pub const MAX: i64 = 1_000_000_000_000;

    /// The amount of `minor_units`, if it is positive and at most [`Amount::MAX`].
    pub fn new(minor_units: i64) -> Option<Self> {
        (1..=Self::MAX)
            .contains(&minor_units)
            .then_some(Self(minor_units))
    }

    /// The amount as a request states it (an unsigned JSON integer).
    pub fn from_unsigned(minor_units: u64) -> Option<Self> {
        i64::try_from(minor_units).ok().and_then(Self::new)
    }

    /// Minor units, as stored and compared.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Minor units, as a result token states them.
    pub fn unsigned(self) -> u64 {
        // Positive by construction.
        self.0.unsigned_abs()
    }
}

/// The merchant's order reference: 1 to [`OrderRef::MAX_CHARS`] characters, none of them a
/// control character (it is shown in mail and bound into result tokens). On the wire, a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct OrderRef(String);

impl OrderRef {
    /// The longest reference accepted, in characters.
    pub const MAX_CHARS: usize = 128;

    /// The reference `text`, if it is one.
    pub fn parse(text: String) -> Option<Self> {
        let fits = (1..=Self::MAX_CHARS).contains(&text.chars().count());
        (fits && !text.chars().any(char::is_control)).then_some(Self(text))
    }

    /// The reference as the merchant wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_is_positive_and_bounded() {
        assert_eq!(Amount::new(0), None);
        assert_eq!(Amount::new(-1), None);
        assert_eq!(Amount::new(1).map(Amount::get), Some(1));
        assert_eq!(
            Amount::new(Amount::MAX).map(Amount::unsigned),
            Some(1_000_000_000_000)
        );
        assert_eq!(Amount::new(Amount::MAX + 1), None);
        assert_eq!(Amount::from_unsigned(u64::MAX), None);
        assert_eq!(Amount::from_unsigned(500).map(Amount::get), Some(500));
    }

    #[test]
    fn an_order_reference_has_visible_characters_only() {
        assert!(OrderRef::parse(String::new()).is_none());
        assert!(OrderRef::parse("a\nb".into()).is_none());
        assert!(OrderRef::parse("x".repeat(129)).is_none());
        // Characters, not bytes: 128 kana are 384 bytes and fit.
        assert!(OrderRef::parse("注".repeat(128)).is_some());
        assert_eq!(
            OrderRef::parse("order-42".into())
                .as_ref()
                .map(OrderRef::as_str),
            Some("order-42")
        );
    }
}
