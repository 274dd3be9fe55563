//! Protection cases: what a fraud report opens, and the issuer's way through it.
//!
//! A case starts `open` and ends `refunded` or `declined`, possibly after `under_review`:
//!
//! ```text
//! open ──▶ under_review ──▶ refunded | declined
//!   └──────────────────────▶ refunded | declined
//! ```
//!
//! Which moves are allowed is [`CaseState::can_move_to`]'s one rule; the store applies a move
//! only from the state the caller read, so two concurrent moves never both happen.

use mamori_core::token::{Method, Reason, TransStatus};

use super::{
    Amount, AuthenticationId, CardholderId, CaseId, Currency, DecisionReason, MerchantId, ReportId,
};

/// Where a protection case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseState {
    /// Just reported; while open, the cardholder is not charged the amount.
    Open,
    /// The issuer is looking into it.
    UnderReview,
    /// Decided for the cardholder: the amount is not charged, or is given back.
    Refunded,
    /// Decided against the cardholder's report.
    Declined,
}

impl CaseState {
    /// Every state, in the order a case passes through them.
    pub const ALL: [Self; 4] = [
        Self::Open,
        Self::UnderReview,
        Self::Refunded,
        Self::Declined,
    ];

    /// The spelling in the API, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::UnderReview => "under_review",
            Self::Refunded => "refunded",
            Self::Declined => "declined",
        }
    }

    /// Reads [`CaseState::as_str`] back.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// Whether a case in this state may move to `to`: open → under review, refunded or
    /// declined; under review → refunded or declined; nothing else (a decided case stays
    /// decided, and no state moves to itself).
    pub fn can_move_to(self, to: Self) -> bool {
        matches!(
            (self, to),
            (
                Self::Open,
                Self::UnderReview | Self::Refunded | Self::Declined
            ) | (Self::UnderReview, Self::Refunded | Self::Declined)
        )
    }

    /// Whether the issuer has not decided yet (open or under review): what the cardholder's
    /// page lists.
    pub fn is_unresolved(self) -> bool {
        matches!(self, Self::Open | Self::UnderReview)
    }
}

impl std::fmt::Display for CaseState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fraud report's case: the reported charge as it was, and where the issuer is with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectionCase {
    /// `pc_…`.
    pub id: CaseId,
    /// The report that opened it (one case per report).
    pub report_id: ReportId,
    /// The purchase reported.
    pub authentication_id: AuthenticationId,
    /// The card.
    pub cardholder_id: CardholderId,
    /// The merchant charged.
    pub merchant_id: MerchantId,
    /// Its display name when the case opened.
    pub merchant_name: String,
    /// The amount charged.
    pub amount: Amount,
    /// Its currency.
    pub currency: Currency,
    /// When the purchase was attempted.
    pub purchased_at: i64,
    /// The browser the purchase was made in, as alert mail describes it
    /// ([`crate::flow::notice::browser_summary`]).
    pub browser: String,
    /// How it was authenticated, when it reached an outcome.
    pub method: Option<Method>,
    /// The result's `transStatus`, when it reached an outcome.
    pub status: Option<TransStatus>,
    /// The result's `transStatusReason`, when not `Y`.
    pub reason: Option<Reason>,
    /// Why the risk engine decided as it did.
    pub risk_reasons: Vec<DecisionReason>,
    /// Where the case is.
    pub state: CaseState,
    /// The issuer's last note, if any.
    pub note: Option<String>,
    /// Seconds since the Unix epoch: when the report opened it.
    pub created_at: i64,
    /// When its state last changed (its opening, at first).
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back() {
        for state in CaseState::ALL {
            assert_eq!(CaseState::parse(state.as_str()), Some(state));
        }
        assert_eq!(CaseState::parse("closed"), None);
        assert_eq!(CaseState::parse("Open"), None);
    }

    #[test]
    fn the_allowed_moves_and_no_others() {
        use CaseState::{Declined, Open, Refunded, UnderReview};
        let allowed = [
            (Open, UnderReview),
            (Open, Refunded),
            (Open, Declined),
            (UnderReview, Refunded),
            (UnderReview, Declined),
        ];
        for from in CaseState::ALL {
            for to in CaseState::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
    }
}
