//! Ending an authentication without a code: the cardholder cancels, or its lifetime runs out —
//! noticed by the next request that reads it, or by the verifier's sweeper
//! ([`Flow::expire_overdue`]), whichever comes first.

use mamori_core::token::{Method, Reason, TransStatus};

use super::{Flow, FlowError};
use crate::model::{Authentication, Final, Outcome, State};
use crate::tokens::Verdict;

/// The verdict of an authentication that ends in `state` without a correct code, for `why`.
fn ended_without_code(state: State, status: TransStatus, why: Reason) -> Verdict {
    let method = match state {
        State::Challenging => Method::Challenge,
        _ => Method::Frictionless,
    };
    Verdict {
        status,
        method,
        reason: Some(why),
    }
}

/// How many overdue authentications one sweep ends at most; the next sweep takes the rest.
pub const SWEEP_BATCH: i64 = 100;

/// Whether `auth` must be expired at `now`: unfinished, and its lifetime over.
pub fn expiry_due(auth: &Authentication, now: i64) -> bool {
    !auth.is_final() && now >= auth.expires_at
}

impl Flow<'_> {
    /// The cardholder cancels: `N`, reason 01.
    ///
    /// # Errors
    ///
    /// [`FlowError::AuthenticationFinished`] when it is final already (or expired).
    pub async fn cancel(&self, auth: Authentication) -> Result<Outcome, FlowError> {
        let auth = self.live(auth).await?;
        let verdict = ended_without_code(
            auth.state(),
            TransStatus::NotAuthenticated,
            Reason::CARD_AUTHENTICATION_FAILED,
        );
        let outcome = self
            .end(&auth, Final::Cancelled, verdict)
            .await?
            .ok_or(FlowError::AuthenticationFinished)?;
        self.metrics.authentication("cancelled");
        Ok(outcome)
    }

    /// Moves an unfinished authentication past its lifetime to `expired` (`U`, reason 14) and
    /// answers the current row either way.
    ///
    /// # Errors
    ///
    /// [`FlowError::Internal`] on store or signing failures.
    pub async fn expire_if_due(&self, auth: Authentication) -> Result<Authentication, FlowError> {
        if !expiry_due(&auth, self.now()) {
            return Ok(auth);
        }
        self.expire(&auth).await?;
        // Whether this call or a concurrent one moved it, the row now holds the final state.
        self.store
            .authentication(&auth.id)
            .await?
            .ok_or(FlowError::NotFound)
    }

    /// Expires up to [`SWEEP_BATCH`] unfinished authentications whose lifetime is over, so that
    /// a purchase abandoned at the challenge ends — and its merchant's webhook endpoint hears
    /// of it — without anyone reading it. Answers how many it ended (or found ended by a
    /// concurrent request): a full batch means more may be due. One that cannot be ended is
    /// logged and left for the next sweep.
    ///
    /// # Errors
    ///
    /// [`FlowError::Internal`] when the store cannot list them.
    pub async fn expire_overdue(&self) -> Result<usize, FlowError> {
        let due = self.store.due_for_expiry(self.now(), SWEEP_BATCH).await?;
        let mut ended = 0;
        for auth in &due {
            match self.expire(auth).await {
                Ok(()) => ended += 1,
                Err(e) => tracing::warn!(authentication = %auth.id, error = ?e, "cannot expire"),
            }
        }
        Ok(ended)
    }

    /// Moves the unfinished `auth` to `expired` (`U`, reason 14); a concurrent end is left be.
    async fn expire(&self, auth: &Authentication) -> Result<(), FlowError> {
        let verdict = ended_without_code(auth.state(), TransStatus::Unavailable, Reason::TIMED_OUT);
        if self.end(auth, Final::Expired, verdict).await?.is_some() {
            self.metrics.authentication("expired");
        }
        Ok(())
    }

    /// Moves `auth` from its current state to `end` with `verdict`'s signed result; `None`
    /// when a concurrent request ended it first.
    pub(super) async fn end(
        &self,
        auth: &Authentication,
        end: Final,
        verdict: Verdict,
    ) -> Result<Option<Outcome>, FlowError> {
        let outcome = self.outcome(auth, verdict).await?;
        // Queued for the merchant's endpoint if it has a live one: the change is a transaction
        // already, and an owner without an endpoint gets no row.
        let events = [self.finished_event(auth, end, &outcome)?];
        let moved = self
            .store
            .conclude(
                &auth.id,
                self.now(),
                auth.state(),
                end,
                &outcome,
                None,
                &events,
            )
            .await?;
        if moved {
            self.events_queued();
        }
        Ok(moved.then_some(outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::fixtures::{authentication, challenging, finished};

    #[test]
    fn only_an_unfinished_authentication_past_its_lifetime_expires() {
        let auth = authentication();
        assert!(!expiry_due(&auth, auth.expires_at - 1));
        assert!(expiry_due(&auth, auth.expires_at));
        let auth = challenging(0, auth.created_at);
        assert!(expiry_due(&auth, auth.expires_at + 1));
        for end in [
            Final::Succeeded,
            Final::Failed,
            Final::Rejected,
            Final::Cancelled,
        ] {
            let done = finished(end);
            assert!(!expiry_due(&done, done.expires_at + 1), "{end:?}");
        }
    }

    #[test]
    fn the_method_says_whether_a_code_was_asked_for() {
        let pending =
            ended_without_code(State::Pending, TransStatus::Unavailable, Reason::TIMED_OUT);
        assert_eq!(pending.method, Method::Frictionless);
        let challenging = ended_without_code(
            State::Challenging,
            TransStatus::NotAuthenticated,
            Reason::CARD_AUTHENTICATION_FAILED,
        );
        assert_eq!(challenging.method, Method::Challenge);
        assert_eq!(challenging.reason, Some(Reason::CARD_AUTHENTICATION_FAILED));
    }
}
