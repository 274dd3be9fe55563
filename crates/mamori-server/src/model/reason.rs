//! Why an authentication was decided as it was: a risk engine reason, or a sandbox test card.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::risk::RiskReason;
use crate::sandbox::SandboxCard;

/// What a sandbox test card's reason starts with.
const SANDBOX: &str = "sandbox_";

/// One reason of a decision, stored with the authentication and returned by the merchant's
/// `GET`, always by its stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionReason {
    /// A rule of the risk engine.
    Risk(RiskReason),
    /// A sandbox merchant's test card forced the outcome (`sandbox_<card>`).
    Sandbox(SandboxCard),
}

impl DecisionReason {
    /// The stable name: the risk reason's, or `sandbox_` and the test card's.
    pub fn name(self) -> Cow<'static, str> {
        match self {
            Self::Risk(reason) => Cow::Borrowed(reason.as_str()),
            Self::Sandbox(card) => Cow::Owned(format!("{SANDBOX}{}", card.as_str())),
        }
    }

    /// Reads [`DecisionReason::name`] back.
    pub fn parse(name: &str) -> Option<Self> {
        RiskReason::parse(name).map(Self::Risk).or_else(|| {
            let card = name.strip_prefix(SANDBOX)?;
            SandboxCard::parse(card).map(Self::Sandbox)
        })
    }
}

impl From<RiskReason> for DecisionReason {
    fn from(reason: RiskReason) -> Self {
        Self::Risk(reason)
    }
}

impl Serialize for DecisionReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for DecisionReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown decision reason {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_by_its_name() {
        let reasons = RiskReason::ALL
            .iter()
            .map(|&r| DecisionReason::Risk(r))
            .chain(
                crate::sandbox::CARDS
                    .iter()
                    .map(|&(_, c)| DecisionReason::Sandbox(c)),
            );
        for reason in reasons {
            assert_eq!(DecisionReason::parse(&reason.name()), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.name()));
            assert_eq!(
                serde_json::from_str::<DecisionReason>(&json).unwrap(),
                reason
            );
        }
        assert_eq!(
            DecisionReason::Sandbox(SandboxCard::Attempted).name(),
            "sandbox_attempted"
        );
        assert_eq!(DecisionReason::parse("made_up"), None);
        assert!(serde_json::from_str::<DecisionReason>("\"made_up\"").is_err());
    }
}
