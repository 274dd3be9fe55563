//! One purchase being authenticated, and where it is in its life: each state carries exactly
//! the data that state has, so a pending authentication has no code, a challenging one always
//! has one, and a final one always has its signed result.

use super::{
    Amount, AuthenticationId, BrowserInfo, CardholderId, ChallengePreference, Currency,
    DecisionReason, DeviceId, MerchantId, OrderRef, Outcome, State,
};
use crate::sandbox::SandboxCard;

/// One purchase being authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    /// `au_…`.
    pub id: AuthenticationId,
    /// The merchant that created it.
    pub merchant_id: MerchantId,
    /// The enrolled card, or `None` for a card the issuer does not know.
    pub cardholder_id: Option<CardholderId>,
    /// Amount in the currency's minor unit.
    pub amount: Amount,
    /// ISO 4217 alphabetic code.
    pub currency: Currency,
    /// The merchant's order reference.
    pub order_ref: OrderRef,
    /// What the merchant asked for.
    pub challenge_preference: ChallengePreference,
    /// SHA-256 of the client secret: the secret itself is never stored.
    pub client_secret_hash: Vec<u8>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// After this it can only expire.
    pub expires_at: i64,
    /// The test card of a sandbox merchant's authentication, which decides its outcome.
    pub sandbox_card: Option<SandboxCard>,
    /// Where it is in its life.
    pub progress: Progress,
}

/// Where an authentication is in its life, with what that state holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Created by the merchant; the widget has not sent the device step yet.
    Pending,
    /// Assessed, and a code is out.
    Challenging {
        /// What the device step found.
        assessment: Assessment,
        /// The code and its counters.
        challenge: Challenge,
    },
    /// Nothing can change any more.
    Finished(Finished),
}

/// What the device step found and recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assessment {
    /// 0–100.
    pub risk_score: i64,
    /// Why it was decided as it was, stored so the merchant's `GET` can say.
    pub risk_reasons: Vec<DecisionReason>,
    /// The device the browser's token (and, for a keyed device, its proof) identified, trusted
    /// for this card or not: a correct code trusts this same device.
    pub device_id: Option<DeviceId>,
    /// Canonical JSON of the presented fingerprint, kept only from a device step that starts a
    /// challenge until a correct code gives it to the trusted device; a challenge that ends
    /// otherwise (failed, cancelled, expired) keeps it.
    pub fingerprint: Option<String>,
    /// The client's address, for velocity.
    pub ip: Option<String>,
    /// The browser's language, timezone and user agent.
    pub browser: BrowserInfo,
}

/// A running challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Digest of the current code (`mamori_core::otp::digest`).
    pub code_digest: Vec<u8>,
    /// When the current code stops matching.
    pub code_expires_at: i64,
    /// Wrong codes entered so far (across resends).
    pub attempts: i64,
    /// Codes sent after the first.
    pub resends: i64,
    /// When the last code was sent.
    pub last_sent_at: i64,
}

/// How an authentication ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Final {
    /// Authenticated, frictionless or by code.
    Succeeded,
    /// The cardholder entered too many wrong codes.
    Failed,
    /// The risk engine refused the purchase.
    Rejected,
    /// The authentication outlived its lifetime before it finished.
    Expired,
    /// The cardholder cancelled the challenge.
    Cancelled,
}

impl Final {
    /// The spelling in the API and the database.
    pub fn as_str(self) -> &'static str {
        State::from(self).as_str()
    }

    /// The final state `state` is, if it is one.
    pub fn of(state: State) -> Option<Self> {
        Some(match state {
            State::Pending | State::Challenging => return None,
            State::Succeeded => Self::Succeeded,
            State::Failed => Self::Failed,
            State::Rejected => Self::Rejected,
            State::Expired => Self::Expired,
            State::Cancelled => Self::Cancelled,
        })
    }
}

impl From<Final> for State {
    fn from(end: Final) -> Self {
        match end {
            Final::Succeeded => Self::Succeeded,
            Final::Failed => Self::Failed,
            Final::Rejected => Self::Rejected,
            Final::Expired => Self::Expired,
            Final::Cancelled => Self::Cancelled,
        }
    }
}

/// A finished authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// How it ended.
    pub end: Final,
    /// Its signed result.
    pub outcome: Outcome,
    /// What the device step found, if it ran before the end.
    pub assessment: Option<Assessment>,
    /// Wrong codes entered before the end.
    pub attempts: i64,
    /// Codes resent before the end.
    pub resends: i64,
}

impl Authentication {
    /// Its state's name.
    pub fn state(&self) -> State {
        match &self.progress {
            Progress::Pending => State::Pending,
            Progress::Challenging { .. } => State::Challenging,
            Progress::Finished(finished) => finished.end.into(),
        }
    }

    /// Whether nothing can change any more.
    pub fn is_final(&self) -> bool {
        matches!(self.progress, Progress::Finished(_))
    }

    /// The signed result, once final.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.progress {
            Progress::Finished(finished) => Some(&finished.outcome),
            _ => None,
        }
    }

    /// What the device step found, once it ran.
    pub fn assessment(&self) -> Option<&Assessment> {
        match &self.progress {
            Progress::Pending => None,
            Progress::Challenging { assessment, .. } => Some(assessment),
            Progress::Finished(finished) => finished.assessment.as_ref(),
        }
    }

    /// The running challenge, while challenging.
    pub fn challenge(&self) -> Option<&Challenge> {
        match &self.progress {
            Progress::Challenging { challenge, .. } => Some(challenge),
            _ => None,
        }
    }

    /// Wrong codes entered so far.
    pub fn attempts(&self) -> i64 {
        match &self.progress {
            Progress::Pending => 0,
            Progress::Challenging { challenge, .. } => challenge.attempts,
            Progress::Finished(finished) => finished.attempts,
        }
    }

    /// Codes resent so far.
    pub fn resends(&self) -> i64 {
        match &self.progress {
            Progress::Pending => 0,
            Progress::Challenging { challenge, .. } => challenge.resends,
            Progress::Finished(finished) => finished.resends,
        }
    }
}
