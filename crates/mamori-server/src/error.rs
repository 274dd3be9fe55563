//! The one error type of the HTTP API and its single JSON rendering.
//!
//! Every failure answers `{"error": "<stable code>", "message": "<English sentence>"}`. Internal
//! details (a database message, which of "unknown id" and "wrong secret" it was) are never sent:
//! from outside, every authentication failure looks the same. Rendering has no side effects: the
//! detail rides on the response as an [`ErrorDetail`] extension, which the request middleware
//! (`observe` in [`crate::api`]) logs with the request's route and removes.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

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
    /// The code is not six digits (costs no attempt).
    InvalidCode,
    /// The challenge has not started: the device step came first.
    ChallengeNotStarted,
    /// A resend before the cooldown passed.
    ResendCooldown {
        /// Seconds until a resend is possible.
        retry_after: i64,
    },
    /// No resend left.
    ResendLimit,
    /// The authentication is already final.
    AuthenticationFinished,
    /// The report link is invalid or expired.
    InvalidReportLink,
    /// Something on our side failed; the detail is logged only.
    Internal(String),
    /// A dependency (the database) is unreachable.
    Unavailable,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        let (status, code, message): (_, _, String) = match self {
            Self::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "The credentials are missing or invalid.".into(),
            ),
            Self::OriginNotAllowed(_) => (
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This page's origin is not registered for the merchant.".into(),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "No such resource.".into(),
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This method is not allowed here.".into(),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "The body must be application/json.".into(),
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The body is too large.".into(),
            ),
            Self::InvalidBody(detail) => (
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("The body is not valid: {detail}."),
            ),
            Self::InvalidRequest(what) => {
                (StatusCode::BAD_REQUEST, "invalid_request", (*what).into())
            }
            Self::InvalidCardNumber => (
                StatusCode::BAD_REQUEST,
                "invalid_card_number",
                "The card number is not valid.".into(),
            ),
            Self::SandboxCardRequired => (
                StatusCode::BAD_REQUEST,
                "sandbox_card_required",
                "A sandbox merchant can authenticate only the documented test cards.".into(),
            ),
            Self::IdempotencyKeyReused => (
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.".into(),
            ),
            Self::InvalidCode => (
                StatusCode::BAD_REQUEST,
                "invalid_code",
                "The code must be six digits.".into(),
            ),
            Self::ChallengeNotStarted => (
                StatusCode::CONFLICT,
                "challenge_not_started",
                "No code has been sent for this authentication.".into(),
            ),
            Self::ResendCooldown { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "resend_cooldown",
                format!("A new code can be sent in {retry_after} seconds."),
            ),
            Self::ResendLimit => (
                StatusCode::CONFLICT,
                "resend_limit",
                "No more codes can be sent for this authentication.".into(),
            ),
            Self::AuthenticationFinished => (
                StatusCode::CONFLICT,
                "authentication_finished",
                "The authentication is already finished.".into(),
            ),
            Self::InvalidReportLink => (
                StatusCode::NOT_FOUND,
                "invalid_report_link",
                "This link is invalid or has expired.".into(),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side.".into(),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The service is not ready.".into(),
            ),
        };
        (status, code, message)
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.parts().1
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
        let (status, code, message) = self.parts();
        let mut body = json!({ "error": code, "message": message });
        if let Self::ResendCooldown { retry_after } = self {
            body["retry_after"] = json!(retry_after);
        }
        let mut response = (status, Json(body)).into_response();
        match self {
            Self::OriginNotAllowed(Some(origin)) => {
                response
                    .headers_mut()
                    .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            }
            Self::ResendCooldown { retry_after } => {
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
        Self::Internal(error.to_string())
    }
}

impl From<crate::secrets::RandomError> for ApiError {
    fn from(error: crate::secrets::RandomError) -> Self {
        Self::Internal(error.to_string())
    }
}
