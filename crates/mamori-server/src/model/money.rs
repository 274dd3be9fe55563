//! What a purchase is for: its amount and the merchant's order reference, and how much a card
//! may spend without a code — each a type that cannot hold an invalid value.

use std::fmt;

use serde::Serialize;

use super::Currency;

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

/// A card's frictionless ceilings, one per currency: a purchase above its currency's ceiling is
/// always challenged, and so is any purchase in a currency the card has no ceiling for — an
/// amount means nothing without its currency (¥50,000 is not USD 50,000).
///
/// Stored and typed as `JPY:50000,USD:500`: currencies in order, each once, amounts in the
/// currency's minor unit from 0 (always challenge) to [`Amount::MAX`]. The empty text is no
/// ceiling at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ceilings(Vec<(Currency, i64)>);

impl Ceilings {
    /// The ceilings `text` spells (`JPY:50000,USD:500`, in any order), if each entry is a
    /// currency code, a colon and an amount, and no currency repeats.
    pub fn parse(text: &str) -> Option<Self> {
        let mut entries = Vec::new();
        for entry in text.split(',').filter(|_| !text.is_empty()) {
            let (code, amount) = entry.split_once(':')?;
            let amount: i64 = amount.parse().ok()?;
            let digits_only = amount.to_string().len() == entry.len() - code.len() - 1;
            if !digits_only || !(0..=Amount::MAX).contains(&amount) {
                return None;
            }
            entries.push((Currency::new(code)?, amount));
        }
        entries.sort_unstable();
        let repeats = entries.windows(2).any(|pair| pair[0].0 == pair[1].0);
        (!repeats).then_some(Self(entries))
    }

    /// A single ceiling: `minor_units` in `currency`, if it is from 0 to [`Amount::MAX`].
    pub fn one(currency: Currency, minor_units: i64) -> Option<Self> {
        (0..=Amount::MAX)
            .contains(&minor_units)
            .then(|| Self(vec![(currency, minor_units)]))
    }

    /// The ceiling for purchases in `currency`, if the card has one.
    pub fn get(&self, currency: Currency) -> Option<i64> {
        self.0
            .iter()
            .find(|(code, _)| *code == currency)
            .map(|&(_, amount)| amount)
    }
}

impl fmt::Display for Ceilings {
    /// The stored spelling, which [`Ceilings::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (code, amount)) in self.0.iter().enumerate() {
            let separator = if i == 0 { "" } else { "," };
            write!(f, "{separator}{code}:{amount}")?;
        }
        Ok(())
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

    #[test]
    fn ceilings_are_per_currency_and_read_back_as_written() {
        let ceilings = Ceilings::parse("USD:500,JPY:50000").expect("valid");
        assert_eq!(ceilings.to_string(), "JPY:50000,USD:500");
        assert_eq!(
            Ceilings::parse(&ceilings.to_string()),
            Some(ceilings.clone())
        );
        let jpy = Currency::new("JPY").expect("currency");
        let eur = Currency::new("EUR").expect("currency");
        assert_eq!(ceilings.get(jpy), Some(50_000));
        assert_eq!(ceilings.get(eur), None);
        assert_eq!(Ceilings::parse(""), Some(Ceilings::default()));
        assert_eq!(Ceilings::parse("JPY:0").map(|c| c.get(jpy)), Some(Some(0)));
        assert_eq!(Ceilings::one(jpy, 50_000), Ceilings::parse("JPY:50000"));
        assert_eq!(Ceilings::one(jpy, -1), None);
    }

    #[test]
    fn a_ceiling_text_is_refused_unless_every_entry_is_exact() {
        for bad in [
            "50000",
            "JPY",
            "JPY:",
            ":500",
            "jpy:500",
            "JPY:+500",
            "JPY:-1",
            "JPY: 500",
            "JPY:0500",
            "JPY:500,",
            ",JPY:500",
            "JPY:500,JPY:600",
            "JPY:1000000000001",
            "JPY:500;USD:5",
        ] {
            assert_eq!(Ceilings::parse(bad), None, "{bad:?}");
        }
    }
}
