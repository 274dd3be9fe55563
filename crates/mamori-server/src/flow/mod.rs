//! The purchase as domain operations: starting an authentication, the device step, the code
//! check, resending, cancelling, expiry and the cardholder's report.
//!
//! Each operation reads what it needs, decides with a pure function (unit-tested here like
//! [`crate::risk`]), and asks the store for one atomic change whose conditional SQL is the
//! guard against a concurrent request on any instance: the loser sees `false` and answers from
//! the row the winner left. Nothing here knows HTTP: handlers parse a request, call one
//! operation on [`Flow`] and render its answer; a refusal is a [`FlowError`], mapped to an HTTP
//! error in one place (`crate::api::refusal`).
//!
//! - [`create`]: starting an authentication (card, idempotency, client secret) and reading it.
//! - [`device`]: the device step — risk assessment, then frictionless, challenge or rejected.
//! - [`challenge`]: the challenge's facts, codes, the code check and resends.
//! - [`finish`]: cancelling and expiring.
//! - [`report`]: "I did not make this purchase".
//! - [`case`]: the protection case a report opens, and the issuer's moves through it.
//! - [`selfservice`]: the cardholder's own page (trusted browsers, open cases).
//! - [`notice`]: the facts every code mail and alert is rendered from.
//! - [`proof`]: device-bound keys — the device step's proof, and the key registered with a code.

pub mod case;
pub mod challenge;
pub mod create;
pub mod device;
mod error;
pub mod finish;
#[cfg(test)]
mod fixtures;
pub mod notice;
pub mod proof;
pub mod report;
pub mod selfservice;

use tokio::sync::Notify;

pub use error::FlowError;

use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::{Authentication, Cardholder, Final, Outcome};
use crate::sandbox;
use crate::secrets::Secrets;
use crate::store::{Limits, Store};
use crate::tokens::{Tokens, Verdict};
use crate::webhooks::NewEvent;

/// What every operation works over: the store, settings, keys, time, counters and the outbox's
/// doorbell. Borrowed from [`crate::AppState::flow`] for one request.
#[derive(Clone, Copy)]
pub struct Flow<'a> {
    /// Persistence.
    pub store: &'a dyn Store,
    /// The loaded configuration.
    pub config: &'a Config,
    /// Derived server keys.
    pub secrets: &'a Secrets,
    /// The time source.
    pub clock: &'a dyn Clock,
    /// Counters.
    pub metrics: &'a Metrics,
    /// Rung after mail is queued, so the outbox worker delivers at once.
    pub outbox: &'a Notify,
    /// Rung after webhook events are queued, so their worker delivers at once.
    pub webhooks: &'a Notify,
}

impl std::fmt::Debug for Flow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow").finish_non_exhaustive()
    }
}

impl<'a> Flow<'a> {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The signing desk.
    pub fn tokens(&self) -> Tokens<'a> {
        Tokens::new(self.config, self.secrets)
    }

    /// The limits the store's conditional updates check.
    pub fn limits(&self) -> Limits {
        let s = &self.config.security;
        Limits {
            max_attempts: s.max_attempts.get(),
            max_resends: s.max_resends.get(),
            resend_cooldown: s.resend_cooldown.get(),
        }
    }

    /// Signs `verdict` on `auth` with its merchant's newest live key.
    async fn outcome(&self, auth: &Authentication, verdict: Verdict) -> Result<Outcome, FlowError> {
        let keys = self.store.merchant_keys(&auth.merchant_id).await?;
        Ok(self.tokens().result(&keys, auth, verdict, self.now())?)
    }

    /// The authentication's cardholder: the enrolled one, the sandbox's stand-in, or none.
    async fn cardholder_of(&self, auth: &Authentication) -> Result<Option<Cardholder>, FlowError> {
        if auth.sandbox_card.is_some() {
            return Ok(Some(sandbox::cardholder()));
        }
        match &auth.cardholder_id {
            Some(id) => Ok(self.store.cardholder(id).await?),
            None => Ok(None),
        }
    }

    /// The authentication, expired first if its lifetime is over; refused when final.
    async fn live(&self, auth: Authentication) -> Result<Authentication, FlowError> {
        let auth = self.expire_if_due(auth).await?;
        if auth.is_final() {
            return Err(FlowError::AuthenticationFinished);
        }
        Ok(auth)
    }

    /// Tells the outbox worker that mail is waiting.
    fn mail_queued(&self) {
        self.outbox.notify_one();
    }

    /// `authentication.finished` for `auth` ending as `end` with `outcome`: to its merchant's
    /// endpoint, if it has a live one when the change is stored.
    fn finished_event(
        &self,
        auth: &Authentication,
        end: Final,
        outcome: &Outcome,
    ) -> Result<NewEvent, FlowError> {
        Ok(NewEvent::authentication_finished(
            auth,
            end,
            outcome,
            self.now(),
        )?)
    }

    /// Tells the webhook worker that events may be waiting (an owner without a live endpoint
    /// got none; the worker then finds nothing, at the cost of one claim).
    fn events_queued(&self) {
        self.webhooks.notify_one();
    }
}
