//! Why an operation of the flow refused or failed.

use crate::secrets::RandomError;
use crate::store::StoreError;
use crate::tokens::IssueError;

/// A refusal the caller can act on, or a fault on our side.
#[derive(Debug)]
pub enum FlowError {
    /// The authentication is already final (or became so meanwhile).
    AuthenticationFinished,
    /// A code step before the device step started the challenge.
    ChallengeNotStarted,
    /// A resend before the cooldown passed.
    ResendCooldown {
        /// Seconds until a resend is possible.
        retry_after: i64,
    },
    /// No resend left.
    ResendLimit,
    /// No such authentication (for this merchant), or a sandbox-only resource asked for by a
    /// live merchant.
    NotFound,
    /// A sandbox merchant named a card that is not one of the test cards.
    SandboxCardRequired,
    /// The `Idempotency-Key` was used before with another request.
    IdempotencyKeyReused,
    /// The merchant has a live authentication of this order reference already.
    OrderInProgress(crate::model::OrderRef),
    /// The report link is invalid, expired, or names nothing reportable.
    InvalidReportLink,
    /// No protection case with this id.
    UnknownCase,
    /// The case cannot move to `to` from where it is (or another move came first); nothing
    /// changed.
    CaseState {
        /// Where the case is.
        from: crate::model::CaseState,
        /// Where it was asked to go.
        to: crate::model::CaseState,
    },
    /// A case note over the length limit, or with control characters.
    InvalidCaseNote,
    /// The self-service link is invalid, expired, or names a card no longer enrolled.
    InvalidSelfServiceLink,
    /// The browser is not one the card trusts now; nothing changed.
    UnknownBrowser,
    /// Something on our side failed; the detail is for the log only.
    Internal(String),
    /// The database had no connection free in time; a retry later may succeed. The detail is
    /// for the log only.
    Unavailable(String),
}

impl From<StoreError> for FlowError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Self::Unavailable(error.to_string()),
            _ => Self::Internal(error.to_string()),
        }
    }
}

impl From<IssueError> for FlowError {
    fn from(error: IssueError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<RandomError> for FlowError {
    fn from(error: RandomError) -> Self {
        Self::Internal(error.to_string())
    }
}
