//! Why an authentication was decided as it was: a risk engine reason, or a sandbox test card.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::risk::RiskReason;
use crate::sandbox::SandboxCard;

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
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Risk(reason) => reason.as_str(),
            Self::Sandbox(card) => card.reason(),
        }
    }

    /// Reads [`DecisionReason::as_str`] back.
    pub fn parse(name: &str) -> Option<Self> {
        RiskReason::parse(name)
            .map(Self::Risk)
            .or_else(|| SandboxCard::from_reason(name).map(Self::Sandbox))
    }
}

impl From<RiskReason> for DecisionReason {
    fn from(reason: RiskReason) -> Self {
        Self::Risk(reason)
    }
}

impl Serialize for DecisionReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
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
            assert_eq!(DecisionReason::parse(reason.as_str()), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            assert_eq!(
                serde_json::from_str::<DecisionReason>(&json).unwrap(),
                reason
            );
        }
        assert_eq!(
            DecisionReason::Sandbox(SandboxCard::Attempted).as_str(),
            "sandbox_attempted"
        );
        assert_eq!(DecisionReason::parse("made_up"), None);
        assert!(serde_json::from_str::<DecisionReason>("\"made_up\"").is_err());
    }
}
