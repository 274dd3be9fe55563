//! The issuer's admin API at `/admin/v1`: JSON in and out, for card-management systems and
//! the issuer's back office, server to server (no CORS).
//!
//! Every request carries `Authorization: Bearer mamori_admin_…`, a token made by `mamori admin
//! token create` (see [`crate::admin`]); [`Admin`] checks it before anything else, so a
//! missing, malformed, unknown or revoked token, or a merchant key, is `401 unauthorized` and
//! nothing more. Each token has its own rate-limit bucket ([`throttle::Bucket::AdminToken`]).
//!
//! Before the token is looked up, the request reserves a place among its client address's
//! lookups, given back unless the token is refused: an address that has failed
//! `rate_limits.admin_failures_per_address` times in the current window is refused
//! `429 rate_limited` until the window ends, whatever it presents — a correct token too, so a
//! guesser cannot tell a right guess from a wrong one. No number of requests at once gets more
//! failed lookups than that in a window, nor more lookups than that in flight together (a
//! request past it is refused `429` without being remembered; see [`throttle`]). A revoked
//! token is refused without counting (it is its holder's, not a guess), and addresses in
//! `rate_limits.admin_exempt_networks` are not counted at all. The client is the one
//! [`super::forwarded`] finds; a router driven without a socket (no peer address) has none,
//! and is not throttled.
//!
//! Each part of the API is a sub-router with paths relative to `/admin/v1`:
//!
//! - [`cardholders`]: enrol many, list, read, change, block, unblock, unenrol; list a card's
//!   trusted browsers and remove one.
//! - [`cases`]: protection cases: list (by state), read, move.
//! - [`merchants`]: list, read, add, replace origins, rotate key.
//! - [`reports`]: list (open only with `?open=true`), resolve.
//! - [`webhooks`]: the issuer's and each merchant's webhook endpoint: set, show, rotate the
//!   secret, remove.
//!
//! The handlers parse, call the operation of [`crate::admin`] the CLI calls too, and render a
//! [`crate::wire::admin`] type.

pub mod cardholders;
pub mod cases;
pub mod merchants;
pub mod reports;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::extract::bearer;
use super::forwarded;
use super::throttle::{self, Bucket};
use crate::admin::{self as operations, AdminError, LAST_USE_GRANULARITY, Refusal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::AdminToken;

/// Every admin route, relative to `/admin/v1` (where [`crate::api::routes`] nests them).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(cardholders::routes())
        .merge(cases::routes())
        .merge(merchants::routes())
        .merge(reports::routes())
        .merge(webhooks::routes())
}

/// The caller, authenticated by a live admin token; every admin handler takes it first.
///
/// Rejects with [`ApiError::Unauthorized`] (the reason goes to the log only) and with
/// [`ApiError::RateLimited`] from a client address over its failed attempts, or past the
/// token's rate.
#[derive(Debug)]
pub struct Admin(pub AdminToken);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| {
                forwarded::client_address(&state.config, &parts.headers, peer.ip())
            })
            // The operator's exempt networks (the back office's) are not counted, so never
            // locked out.
            .filter(|ip| !state.config.rate_limits.admin_exempt_networks.contains(*ip));
        // The address's place among its lookups is reserved before the lookup, so that no
        // number of requests at once gets more lookups than the limit (see `throttle`).
        let attempt = match client {
            Some(ip) => Some(throttle::reserve_admin_attempt(state, &ip.to_string()).await?),
            None => None,
        };
        // A request cancelled during the lookup (the client hung up) never gets past it: the
        // reservation's drop gives its place back.
        let answer = authenticate(state, &parts.headers).await;
        if let Some(attempt) = attempt {
            match &answer {
                // A live token is no failure, and neither is a revoked one (it is its holder's,
                // not a guess), nor a lookup the store failed (it tested no guess).
                Ok(Ok(_) | Err(Refusal::Revoked)) | Err(_) => attempt.give_back(state).await,
                Ok(Err(_)) => attempt.fail(state).await,
            }
        }
        let token = answer?.map_err(|refusal| ApiError::Unauthorized(refusal.reason()))?;
        throttle::admit(state, Bucket::AdminToken(token.id.as_str())).await?;
        let now = state.now();
        let stale_before = now - LAST_USE_GRANULARITY;
        if token.last_used_at.is_none_or(|at| at < stale_before) {
            // Off the request's path: the answer does not wait for this write, and a failure
            // costs only the precision of "last used".
            let store = Arc::clone(&state.store);
            let id = token.id.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_admin_token(&id, now, stale_before).await {
                    tracing::warn!(token = %id, error = %e, "cannot record an admin token's use");
                }
            });
        }
        Ok(Self(token))
    }
}

/// The live admin token `headers` present, or why there is none.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<AdminToken, Refusal>, ApiError> {
    let Some(presented) = bearer(headers) else {
        return Ok(Err(Refusal::Missing));
    };
    Ok(operations::authenticate(state.store.as_ref(), presented).await?)
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::InvalidCardNumber => Self::InvalidCardNumber,
            AdminError::Invalid(what) => Self::InvalidRequest(what),
            AdminError::InvalidOrigin(_) => Self::InvalidRequest(
                "Each origin must be https://host[:port] or http://host[:port], without a path.",
            ),
            AdminError::AlreadyEnrolled => Self::CardAlreadyEnrolled,
            AdminError::NotFound(_) => Self::NotFound,
            AdminError::Store(e) => e.into(),
            AdminError::Random(e) => e.into(),
        }
    }
}
