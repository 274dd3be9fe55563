//! The one error type of the HTTP API and its single JSON rendering.
//!
//! Every failure answers a [`crate::wire::ErrorBody`]: `{"error": "<stable code>", "message":
//! "<English sentence>"}`. Internal details (a database message, which of "unknown id" and
//! "wrong secret" it was) are never sent: from outside, every authentication failure looks the
//! same. Rendering has no side effects: the detail rides on the response as an [`ErrorDetail`]
//! extension, which the request middleware (`observe` in [`crate::api`]) logs with the
//! request's route and removes.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;
use crate::wire::{ErrorBody, ErrorCode};

/// Why a request failed.
#[derive(Debug)]
pub enum ApiError {
    /// No valid credentials: unknown id, wrong secret, retired key. The detail is logged only.
    Unauthorized(&'static str),
    /// The browser's `Origin` is not one of the merchant's; the response lets that origin read
    /// it, so the widget can say why.
    OriginNotAllowed(Option<HeaderValue>),
    /// No such route or resource.
    NotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is over the limit.
    PayloadTooLarge,
    /// The body is not the JSON the route expects; the message says where.
    InvalidBody(String),
    /// A field is out of range; the message names it.
    InvalidRequest(&'static str),
    /// The card number fails the Luhn check.
    InvalidCardNumber,
    /// A sandbox merchant named a card that is not one of the test cards.
    SandboxCardRequired,
    /// The `Idempotency-Key` was used before with another request.
    IdempotencyKeyReused,
    /// The merchant has a live authentication of this order reference (named here) already.
    OrderInProgress(String),
    /// The code is not six digits (costs no attempt).
    InvalidCode,
    /// The challenge has not started: the device step came first.
    ChallengeNotStarted,
    /// A resend before the cooldown passed.
    ResendCooldown {
        /// Seconds until a resend is possible.
        retry_after: i64,
    },
    /// Over the request rate allowed to a merchant key, an admin token or a client address, or
    /// over the failed admin authentications allowed to a client address.
    RateLimited {
        /// Seconds until the current window ends.
        retry_after: i64,
    },
    /// No resend left.
    ResendLimit,
    /// The authentication is already final.
    AuthenticationFinished,
    /// The report link (or the self-service link) is invalid or expired.
    InvalidReportLink,
    /// The case cannot make this move from where it is; nothing changed.
    CaseState {
        /// Where the case is.
        from: crate::model::CaseState,
        /// Where it was asked to go.
        to: crate::model::CaseState,
    },
    /// Something on our side failed; the detail is logged only.
    Internal(String),
    /// The card is enrolled already.
    CardAlreadyEnrolled,
    /// A dependency (the database) is unreachable.
    Unavailable,
}

impl ApiError {
    /// [`ApiError::Unavailable`] for a dependency that is saturated or unreachable now,
    /// logging `detail`, which the client never sees.
    pub(crate) fn unavailable(detail: &str) -> Self {
        tracing::warn!(detail, "answering 503: a dependency is unavailable");
        Self::Unavailable
    }

    /// The stable code (which fixes the HTTP status) and the message.
    pub fn parts(&self) -> (ErrorCode, String) {
        match self {
            Self::Unauthorized(_) => (
                ErrorCode::Unauthorized,
                "The credentials are missing or invalid.".into(),
            ),
            Self::OriginNotAllowed(_) => (
                ErrorCode::OriginNotAllowed,
                "This page's origin is not registered for the merchant.".into(),
            ),
            Self::NotFound => (ErrorCode::NotFound, "No such resource.".into()),
            Self::MethodNotAllowed => (
                ErrorCode::MethodNotAllowed,
                "This method is not allowed here.".into(),
            ),
            Self::UnsupportedMediaType => (
                ErrorCode::UnsupportedMediaType,
                "The body must be application/json.".into(),
            ),
            Self::PayloadTooLarge => (ErrorCode::PayloadTooLarge, "The body is too large.".into()),
            Self::InvalidBody(detail) => (
                ErrorCode::InvalidBody,
                format!("The body is not valid: {detail}."),
            ),
            Self::InvalidRequest(what) => (ErrorCode::InvalidRequest, (*what).into()),
            Self::InvalidCardNumber => (
                ErrorCode::InvalidCardNumber,
                "The card number is not valid.".into(),
            ),
            Self::SandboxCardRequired => (
                ErrorCode::SandboxCardRequired,
                "A sandbox merchant can authenticate only the documented test cards.".into(),
            ),
            Self::IdempotencyKeyReused => (
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request.".into(),
            ),
            Self::OrderInProgress(order_ref) => (
                ErrorCode::OrderInProgress,
                // Debug-quoted: the merchant's reference may hold any printable text.
                format!(
                    "Order {order_ref:?} already has an authentication in progress; it can be \
                     authenticated again once that one has finished or expired."
                ),
            ),
            Self::InvalidCode => (
                ErrorCode::InvalidCode,
                "The code must be six digits.".into(),
            ),
            Self::ChallengeNotStarted => (
                ErrorCode::ChallengeNotStarted,
                "No code has been sent for this authentication.".into(),
            ),
            Self::ResendCooldown { retry_after } => (
                ErrorCode::ResendCooldown,
                format!("A new code can be sent in {retry_after} seconds."),
            ),
            Self::RateLimited { retry_after } => (
                ErrorCode::RateLimited,
                format!("Too many requests; try again in {retry_after} seconds."),
            ),
            Self::ResendLimit => (
                ErrorCode::ResendLimit,
                "No more codes can be sent for this authentication.".into(),
            ),
            Self::AuthenticationFinished => (
                ErrorCode::AuthenticationFinished,
                "The authentication is already finished.".into(),
            ),
            Self::InvalidReportLink => (
                ErrorCode::InvalidReportLink,
                "This link is invalid or has expired.".into(),
            ),
            Self::CaseState { from, to } => (
                ErrorCode::CaseState,
                format!("A case that is {from} cannot move to {to}."),
            ),
            Self::Internal(_) => (
                ErrorCode::Internal,
                "Something went wrong on our side.".into(),
            ),
            Self::Unavailable => (ErrorCode::Unavailable, "The service is not ready.".into()),
            Self::CardAlreadyEnrolled => (
                ErrorCode::CardAlreadyEnrolled,
                "This card is enrolled already.".into(),
            ),
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.parts().0.as_str()
    }
}

/// What a rendered [`ApiError`] keeps from the client for the log, as a response extension.
///
/// Extensions are never written to the wire; the request middleware still removes this one, so
/// that nothing further out can mistake it for something to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorDetail {
    /// Why credentials were refused ([`ApiError::Unauthorized`]).
    Unauthorized(&'static str),
    /// What failed on our side ([`ApiError::Internal`]).
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (error, message) = self.parts();
        let retry_after = match self {
            Self::ResendCooldown { retry_after } | Self::RateLimited { retry_after } => {
                Some(retry_after)
            }
            _ => None,
        };
        let body = ErrorBody {
            error,
            message,
            retry_after,
        };
        let mut response = (error.status(), Json(body)).into_response();
        match self {
            Self::OriginNotAllowed(Some(origin)) => {
                response
                    .headers_mut()
                    .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            }
            Self::ResendCooldown { retry_after } | Self::RateLimited { retry_after } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            Self::Unauthorized(detail) => {
                response
                    .extensions_mut()
                    .insert(ErrorDetail::Unauthorized(detail));
            }
            Self::Internal(detail) => {
                response
                    .extensions_mut()
                    .insert(ErrorDetail::Internal(detail));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Self::unavailable(&error.to_string()),
            _ => Self::Internal(error.to_string()),
        }
    }
}

impl From<crate::secrets::RandomError> for ApiError {
    fn from(error: crate::secrets::RandomError) -> Self {
        Self::Internal(error.to_string())
    }
}
