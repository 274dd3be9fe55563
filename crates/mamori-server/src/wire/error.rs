//! The body of every refusal, `{"error": <stable code>, "message": <English sentence>}`, and
//! the stable codes with the HTTP status each answers with. Which failure is which code is
//! [`crate::ApiError`]'s.

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error answer's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// The stable code; clients branch on it.
    pub error: ErrorCode,
    /// An English sentence for people; it may change.
    pub message: String,
    /// Seconds until the request may succeed; only with `resend_cooldown` and `rate_limited`
    /// (also in the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub retry_after: Option<i64>,
}

/// The stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Missing or invalid credentials; every cause looks alike.
    Unauthorized,
    /// The page's `Origin` is not one of the merchant's.
    OriginNotAllowed,
    /// No such route or resource.
    NotFound,
    /// The route exists, not for this method.
    MethodNotAllowed,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is over the limit.
    PayloadTooLarge,
    /// The body is not the JSON the route takes.
    InvalidBody,
    /// A value is out of range; the message names it.
    InvalidRequest,
    /// The card number fails the Luhn check.
    InvalidCardNumber,
    /// A sandbox merchant named a card that is not a test card.
    SandboxCardRequired,
    /// The `Idempotency-Key` came with another request before.
    IdempotencyKeyReused,
    /// The merchant has a live (pending or challenging) authentication of this `order_ref`;
    /// nothing was created. The message names the order.
    OrderInProgress,
    /// The code is not six digits; costs no attempt.
    InvalidCode,
    /// No code was sent yet: the device step comes first.
    ChallengeNotStarted,
    /// A resend before its cooldown passed; see `retry_after`.
    ResendCooldown,
    /// Too many requests from this merchant key, admin token or client address, or too many
    /// failed admin authentications from this client address; see `retry_after`.
    RateLimited,
    /// No resend left.
    ResendLimit,
    /// The authentication is already final.
    AuthenticationFinished,
    /// The report link is invalid or expired.
    InvalidReportLink,
    /// A failure on the verifier's side.
    Internal,
    /// A dependency (the database) does not answer.
    Unavailable,
    /// The card is enrolled already (admin API); nothing was stored.
    CardAlreadyEnrolled,
    /// The protection case cannot make this move from its state; nothing changed.
    CaseState,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 23] = [
        Self::Unauthorized,
        Self::OriginNotAllowed,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::InvalidBody,
        Self::InvalidRequest,
        Self::InvalidCardNumber,
        Self::SandboxCardRequired,
        Self::IdempotencyKeyReused,
        Self::OrderInProgress,
        Self::InvalidCode,
        Self::ChallengeNotStarted,
        Self::ResendCooldown,
        Self::RateLimited,
        Self::ResendLimit,
        Self::AuthenticationFinished,
        Self::InvalidReportLink,
        Self::Internal,
        Self::Unavailable,
        Self::CardAlreadyEnrolled,
        Self::CaseState,
    ];

    /// The HTTP status every answer with this code has: one status per code, so clients may
    /// branch on either.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::OriginNotAllowed => StatusCode::FORBIDDEN,
            Self::NotFound | Self::InvalidReportLink => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InvalidBody
            | Self::InvalidRequest
            | Self::InvalidCardNumber
            | Self::SandboxCardRequired
            | Self::InvalidCode => StatusCode::BAD_REQUEST,
            Self::IdempotencyKeyReused
            | Self::OrderInProgress
            | Self::ChallengeNotStarted
            | Self::ResendLimit
            | Self::AuthenticationFinished
            | Self::CardAlreadyEnrolled
            | Self::CaseState => StatusCode::CONFLICT,
            Self::ResendCooldown | Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code as it is sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidBody => "invalid_body",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidCardNumber => "invalid_card_number",
            Self::SandboxCardRequired => "sandbox_card_required",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::OrderInProgress => "order_in_progress",
            Self::InvalidCode => "invalid_code",
            Self::ChallengeNotStarted => "challenge_not_started",
            Self::ResendCooldown => "resend_cooldown",
            Self::RateLimited => "rate_limited",
            Self::ResendLimit => "resend_limit",
            Self::AuthenticationFinished => "authentication_finished",
            Self::InvalidReportLink => "invalid_report_link",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::CardAlreadyEnrolled => "card_already_enrolled",
            Self::CaseState => "case_state",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sent_as_named() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    /// The schema lists every variant, so this proves [`ErrorCode::ALL`] does too.
    #[test]
    fn all_is_every_code_once() {
        let schema = serde_json::to_value(<ErrorCode as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema["enum"],
            serde_json::to_value(ErrorCode::ALL).unwrap()
        );
    }

    #[test]
    fn retry_after_is_absent_unless_given() {
        let body = |retry_after| ErrorBody {
            error: ErrorCode::ResendCooldown,
            message: "wait".into(),
            retry_after,
        };
        assert_eq!(
            serde_json::to_string(&body(None)).unwrap(),
            r#"{"error":"resend_cooldown","message":"wait"}"#
        );
        assert_eq!(
            serde_json::to_string(&body(Some(12))).unwrap(),
            r#"{"error":"resend_cooldown","message":"wait","retry_after":12}"#
        );
    }
}
