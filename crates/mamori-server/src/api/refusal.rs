//! Where the flow's refusals become HTTP errors: the one mapping from [`FlowError`] to
//! [`ApiError`].

use crate::error::ApiError;
use crate::flow::FlowError;

impl From<FlowError> for ApiError {
    fn from(error: FlowError) -> Self {
        match error {
            FlowError::AuthenticationFinished => Self::AuthenticationFinished,
            FlowError::ChallengeNotStarted => Self::ChallengeNotStarted,
            FlowError::ResendCooldown { retry_after } => Self::ResendCooldown { retry_after },
            FlowError::ResendLimit => Self::ResendLimit,
            FlowError::NotFound => Self::NotFound,
            FlowError::SandboxCardRequired => Self::SandboxCardRequired,
            FlowError::IdempotencyKeyReused => Self::IdempotencyKeyReused,
            FlowError::OrderInProgress(order_ref) => {
                Self::OrderInProgress(order_ref.as_str().to_owned())
            }
            FlowError::InvalidReportLink => Self::InvalidReportLink,
            FlowError::UnknownCase | FlowError::UnknownBrowser => Self::NotFound,
            FlowError::CaseState { from, to } => Self::CaseState { from, to },
            FlowError::InvalidCaseNote => Self::InvalidRequest(
                "note must be at most 2000 characters, without control characters but line breaks",
            ),
            FlowError::InvalidSelfServiceLink => Self::InvalidReportLink,
            FlowError::Internal(detail) => Self::Internal(detail),
        }
    }
}
