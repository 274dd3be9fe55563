//! The verifier's HTTP wire format: every JSON body it reads and every JSON answer it gives, as
//! a Rust type.
//!
//! These types are the one definition of the wire. [`crate::openapi`] generates the OpenAPI
//! document from them (`ToSchema`), handlers build their answers from them, and the HTTP
//! suites validate every live answer against that document, so the three cannot drift.
//!
//! Conventions, each visible in the document:
//!
//! - Requests deny unknown members (`deny_unknown_fields`, `additionalProperties: false`), as
//!   the handlers always have: a misspelt member is `400 invalid_body`, never ignored.
//! - Answers are closed too: a member the type does not name is not in the document, and the
//!   suites refuse an answer carrying one.
//! - `null` and absent are different. An `Option` the answer always carries (`null` when there
//!   is nothing) is `required` and nullable in the document; one left out when empty says
//!   `skip_serializing_if` here and is optional there.
//! - Where the wire has a discriminator (`outcome`), the answer is an internally tagged enum,
//!   one variant per value, each with exactly its own members.
//! - Times are whole seconds since the Unix epoch; amounts are in the currency's minor unit.
//!
//! # Layout
//!
//! - [`admin`]: the issuer admin API's requests and answers, which the CLI prints too.
//! - [`merchant`]: the merchant backend's requests and answers.
//! - [`widget`]: the widget's requests and the device step's and the challenge's answers.
//! - [`cases`]: protection cases, as the admin API and `mamori cases --json` show them.
//! - [`error`]: the error body every refusal answers, and its stable codes.
//! - [`ops`]: health, readiness and the widget's release manifest.
//! - [`webhooks`]: the admin API's webhook endpoint documents.
//! - Here: the 3-D Secure vocabulary the answers share ([`Status`], [`Eci`], [`Method`]).

pub mod admin;
pub mod cases;
pub mod error;
pub mod merchant;
pub mod ops;
pub mod webhooks;
pub mod widget;

use mamori_core::token::{self, TransStatus};
use serde::Serialize;
use utoipa::ToSchema;

pub use error::{ErrorBody, ErrorCode};
pub use merchant::{
    AuthenticationState, AuthenticationView, CreateRequest, Created, KeptMail, SandboxMail,
};
pub use ops::{Health, HealthStatus, WidgetManifest};
pub use widget::{
    BrowserData, CancelOutcome, Challenge, DeviceKey, DeviceOutcome, DeviceRequest, Empty, Locale,
    ResendAnswer, VerifyOutcome, VerifyRequest,
};

/// The 3-D Secure `transStatus` of a finished authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum Status {
    /// Authenticated.
    Y,
    /// Attempted: authentication was not available, proof of the attempt is given.
    A,
    /// Not authenticated.
    N,
    /// Authentication could not be performed.
    U,
    /// Rejected by the issuer; do not authorise.
    R,
}

impl From<TransStatus> for Status {
    fn from(status: TransStatus) -> Self {
        match status {
            TransStatus::Authenticated => Self::Y,
            TransStatus::Attempted => Self::A,
            TransStatus::NotAuthenticated => Self::N,
            TransStatus::Unavailable => Self::U,
            TransStatus::Rejected => Self::R,
        }
    }
}

/// The electronic commerce indicator to send with the authorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum Eci {
    /// `05`: fully authenticated.
    #[serde(rename = "05")]
    Authenticated,
    /// `06`: authentication attempted.
    #[serde(rename = "06")]
    Attempted,
    /// `07`: not authenticated.
    #[serde(rename = "07")]
    NotAuthenticated,
}

impl From<token::Eci> for Eci {
    fn from(eci: token::Eci) -> Self {
        match eci {
            token::Eci::Authenticated => Self::Authenticated,
            token::Eci::Attempted => Self::Attempted,
            token::Eci::NotAuthenticated => Self::NotAuthenticated,
        }
    }
}

/// How the cardholder was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Without interaction: a trusted device and a low-risk purchase.
    Frictionless,
    /// With a one-time code.
    Challenge,
}

impl From<token::Method> for Method {
    fn from(method: token::Method) -> Self {
        match method {
            token::Method::Frictionless => Self::Frictionless,
            token::Method::Challenge => Self::Challenge,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::to_value;

    use super::*;

    /// The wire's names are the result token's: one vocabulary for merchants.
    #[test]
    fn the_vocabulary_is_the_result_tokens() {
        for status in [
            TransStatus::Authenticated,
            TransStatus::Attempted,
            TransStatus::NotAuthenticated,
            TransStatus::Unavailable,
            TransStatus::Rejected,
        ] {
            assert_eq!(
                to_value(Status::from(status)).unwrap(),
                to_value(status).unwrap()
            );
        }
        for eci in [
            token::Eci::Authenticated,
            token::Eci::Attempted,
            token::Eci::NotAuthenticated,
        ] {
            assert_eq!(to_value(Eci::from(eci)).unwrap(), to_value(eci).unwrap());
        }
        for method in [token::Method::Frictionless, token::Method::Challenge] {
            assert_eq!(
                to_value(Method::from(method)).unwrap(),
                to_value(method).unwrap()
            );
        }
    }
}
