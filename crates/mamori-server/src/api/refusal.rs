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
            FlowError::Unavailable(detail) => Self::unavailable(&detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::store::StoreError;

    /// The HTTP status a store error answers, straight from a handler and through the flow.
    fn statuses(error: impl Fn() -> StoreError) -> [StatusCode; 2] {
        let direct = ApiError::from(error()).parts().0.status();
        let through_flow = ApiError::from(FlowError::from(error())).parts().0.status();
        [direct, through_flow]
    }

    #[test]
    fn a_saturated_database_answers_503_and_any_other_failure_500() {
        assert_eq!(
            statuses(|| StoreError::Unavailable("no connection within 5s".into())),
            [StatusCode::SERVICE_UNAVAILABLE; 2]
        );
        assert_eq!(
            statuses(|| StoreError::Database("relation does not exist".into())),
            [StatusCode::INTERNAL_SERVER_ERROR; 2]
        );
    }
}
