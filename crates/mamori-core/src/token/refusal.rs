//! Why a result token gives the merchant no claims to capture on: a broken rule, or a verified
//! token whose status is not an authentication.

use alloc::boxed::Box;
use core::fmt;

use super::{ResultClaims, TokenError};

/// A result token was refused by [`verify_result`](super::verify_result).
///
/// The two cases differ in what the merchant may trust. [`ResultError::Token`] means the token
/// itself is not to be believed (forged, expired, for another merchant or order), so it carries
/// nothing from it. [`ResultError::Status`] means the token is genuine, for this merchant and
/// this order, and says the cardholder was *not* authenticated: it carries the verified claims
/// so the merchant can log `status` and `reason`, and must not capture.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResultError {
    /// The token breaks a rule of the strict profile, or is for another order.
    Token(TokenError),
    /// The token is valid, but its status is not `Y` (nor `A` when the caller allows attempts).
    Status(Box<ResultClaims>),
}

impl ResultError {
    /// A stable snake_case code: [`TokenError::code`] for a broken rule, `status` for a valid
    /// token that is not an authentication.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Token(error) => error.code(),
            Self::Status(_) => "status",
        }
    }

    /// The verified claims of a token refused for its status; `None` for a broken rule, whose
    /// claims are not to be trusted.
    pub fn claims(&self) -> Option<&ResultClaims> {
        match self {
            Self::Token(_) => None,
            Self::Status(claims) => Some(claims),
        }
    }
}

impl From<TokenError> for ResultError {
    fn from(error: TokenError) -> Self {
        Self::Token(error)
    }
}

impl fmt::Display for ResultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(error) => fmt::Display::fmt(error, f),
            Self::Status(claims) => write!(
                f,
                "the cardholder was not authenticated (status {})",
                claims.status.code()
            ),
        }
    }
}

impl core::error::Error for ResultError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Token(error) => Some(error),
            Self::Status(_) => None,
        }
    }
}
