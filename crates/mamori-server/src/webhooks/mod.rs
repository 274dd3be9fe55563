//! Webhooks per Standard Webhooks v1: the events the verifier sends to the issuer's and each
//! merchant's endpoint, and the worker that delivers them from their outbox.
//!
//! A state change that owes an owner an event queues it in the same transaction (see
//! `store::webhooks`), so a crash can lose neither; an owner without a live endpoint gets no
//! row. The worker works like the mail outbox's ([`crate::mail::Outbox`]): it claims due
//! events with a lease fenced by the count of claims (several instances on one PostgreSQL
//! database never claim one event twice), as many as it has free delivery slots
//! (`webhooks.concurrency`), renews each claim while its attempt is under way, and is woken at
//! once by the requests that queue events. Each attempt is signed afresh ([`sign`]) with the
//! endpoint's live secrets and POSTed ([`deliver`]); then:
//!
//! - a `2xx` marks the event delivered;
//! - `410 Gone` disables the endpoint and gives up every event still owed to it (visible in
//!   `mamori webhooks show`; `mamori webhooks set` makes it live again) — unless the endpoint
//!   was set again while the attempt was in flight: the old URL's answer then disables
//!   nothing, and the event goes to the new URL at once;
//! - anything else is retried on the spec's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
//!   10 h, with jitter), or after the endpoint's `Retry-After` when that is longer, and given
//!   up after the eighth attempt.
//!
//! A process killed mid-attempt leaves its claim to lapse; another worker then sends the event
//! again, with the same `webhook-id`. Receivers de-duplicate by it, as the spec asks: in the
//! normal path each `webhook-id` arrives once.
//!
//! Layout: [`event`] the events and their bodies, [`sign`] signatures and secrets, [`deliver`]
//! one HTTP attempt and the retry schedule, [`manage`] setting and rotating endpoints (the CLI
//! and the admin API); this module the worker.

pub mod deliver;
pub mod event;
pub mod manage;
pub mod sign;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::WebhookConfig;
use crate::metrics::Metrics;
use crate::secrets::random_bytes;
use crate::store::Store;

pub use deliver::{Answer, Client, EndpointUrl};
pub use event::{Disabled, Endpoint, Event, LiveEndpoint, NewEvent, Owner, SealedSecret};
pub use sign::Secret;

/// How often the worker looks for due events when nothing wakes it: retries come due with
/// time, not with a request.
const POLL: Duration = Duration::from_secs(1);

/// How often settled events older than `webhooks.retention` are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Events deleted per statement. Bounded so that no one statement holds the database's write
/// lock (all of SQLite's; on PostgreSQL, the rows and the WAL of one long transaction) for
/// long: the requests writing authentications get their turn between batches.
const PRUNE_BATCH: i64 = 1000;

/// The delivery worker.
pub struct Dispatcher {
    /// Where events come from.
    pub store: Arc<dyn Store>,
    /// Makes the attempts.
    pub client: Client,
    /// Decides when an event is due, and each attempt's `webhook-timestamp`.
    pub clock: Arc<dyn Clock>,
    /// Counts reads of the due events, claims and deliveries.
    pub metrics: Arc<Metrics>,
    /// Concurrency and lease.
    pub config: WebhookConfig,
    /// Opens the endpoints' sealed secrets ([`crate::secrets::Secrets::webhook_key`]).
    pub key: [u8; 32],
    /// Rung by every request that queued an event.
    pub wake: Arc<Notify>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the worker does with an event after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Settle {
    /// Delivered.
    Delivered,
    /// The endpoint at this URL, set at this time, is gone (410).
    Gone {
        /// Where the attempt went.
        url: String,
        /// When that endpoint was set.
        created_at: i64,
    },
    /// Not sent, because this verifier cannot sign for the endpoint: try again at this time,
    /// without counting the attempt.
    Deferred {
        /// Why.
        error: String,
        /// When to try again.
        retry_at: i64,
    },
    /// Try again at this time, or give up (`None`).
    Failed {
        /// Why.
        error: String,
        /// When to try again.
        retry_at: Option<i64>,
    },
}

impl Dispatcher {
    /// Delivers until `shutdown` turns true, then waits for the attempts under way.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let concurrency = usize::try_from(self.config.concurrency.get()).unwrap_or(1);
        let slots = Arc::new(Semaphore::new(concurrency));
        let dispatcher = Arc::new(self);
        let mut deliveries = JoinSet::new();
        let mut pruned_at: Option<tokio::time::Instant> = None;
        while !*shutdown.borrow() {
            if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                // Beside the deliveries, not before them: a large backlog of settled events
                // (the first start after an upgrade) must not hold back the owed ones.
                let pruner = Arc::clone(&dispatcher);
                deliveries.spawn(async move { pruner.prune().await });
                pruned_at = Some(tokio::time::Instant::now());
            }
            while let Some(joined) = deliveries.try_join_next() {
                log_panic(joined);
            }
            let slot = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => slot,
                changed = shutdown.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => break,
                },
            };
            // Only a closed semaphore refuses a permit, and this one is never closed.
            let Ok(slot) = slot else { break };
            let mut free = vec![slot];
            while let Ok(slot) = Arc::clone(&slots).try_acquire_owned() {
                free.push(slot);
            }
            let wanted = free.len();
            let events = dispatcher.claim(wanted).await;
            let claimed_all = events.len() == wanted;
            for (event, slot) in events.into_iter().zip(free) {
                let dispatcher = Arc::clone(&dispatcher);
                deliveries.spawn(async move {
                    dispatcher.deliver(&event).await;
                    drop(slot);
                });
            }
            if claimed_all {
                continue;
            }
            tokio::select! {
                () = dispatcher.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        // An event delivered but not yet marked would be sent again once its lease ran out.
        while let Some(joined) = deliveries.join_next().await {
            log_panic(joined);
        }
    }

    /// Deletes the events settled more than `webhooks.retention` days ago, a batch at a time.
    async fn prune(&self) {
        let before = self
            .clock
            .now()
            .saturating_sub(self.config.retention.get().saturating_mul(86_400));
        let mut total = 0;
        loop {
            match self.store.prune_webhook_events(before, PRUNE_BATCH).await {
                Ok(deleted) => {
                    total += deleted;
                    if deleted < PRUNE_BATCH.unsigned_abs() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "webhooks: pruning failed");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(deleted = total, "webhooks: settled events pruned");
        }
    }

    async fn claim(&self, wanted: usize) -> Vec<Event> {
        let limit = i64::try_from(wanted).unwrap_or(i64::MAX);
        match self
            .store
            .claim_webhook_events(self.clock.now(), self.config.lease.get(), limit)
            .await
        {
            Ok(events) => {
                self.metrics.webhook_poll(events.len());
                events
            }
            Err(e) => {
                tracing::error!(error = %e, "webhooks: claim failed");
                Vec::new()
            }
        }
    }

    /// Makes one attempt at `event`, holding its claim meanwhile, and records how it went.
    async fn deliver(&self, event: &Event) {
        let settle = self.holding_claim(event, self.attempt(event)).await;
        self.settle(event, settle).await;
    }

    /// Signs and sends `event` to its owner's endpoint as it is now.
    async fn attempt(&self, event: &Event) -> Settle {
        let now = self.clock.now();
        let endpoint = match self.store.live_webhook(&event.owner, now).await {
            Ok(endpoint) => endpoint,
            Err(e) => return self.retry(event, format!("cannot read the endpoint: {e}"), None),
        };
        let Some(endpoint) = endpoint else {
            // Removed or disabled since the event was queued: nobody is listening.
            return Settle::Failed {
                error: "the endpoint was removed or disabled".into(),
                retry_at: None,
            };
        };
        let url = match EndpointUrl::parse(&endpoint.url, self.config.allow_private_addresses) {
            Ok(url) => url,
            Err(why) => return self.retry(event, why.to_owned(), None),
        };
        let secrets: Vec<Secret> = endpoint
            .secrets
            .iter()
            .filter_map(|s| Secret::unseal(&self.key, &s.sealed))
            .collect();
        if secrets.is_empty() {
            // Sealed under another master secret, or edited: sending unsigned is never right.
            // Nor is giving the event up: the receiver never refused it, and the fault (a
            // verifier started with the wrong master secret, or an endpoint to set again) is
            // the operator's to mend. So the attempt does not count, and the event waits the
            // schedule's longest step, until the verifier can sign again.
            return Settle::Deferred {
                error: "no secret of the endpoint opens (another master secret?); \
                        waiting for the endpoint to be set again"
                    .into(),
                retry_at: now.saturating_add(deliver::LONGEST_STEP),
            };
        }
        let signature =
            sign::signature_header(&secrets, &event.message_id, now, event.body.as_bytes());
        let signed = deliver::Signed {
            id: &event.message_id,
            timestamp: now,
            signature: &signature,
        };
        match self.client.post(&url, signed, &event.body).await {
            Answer::Delivered => Settle::Delivered,
            Answer::Gone => Settle::Gone {
                url: endpoint.url,
                created_at: endpoint.created_at,
            },
            Answer::Failed { error, retry_after } => self.retry(event, error, retry_after),
        }
    }

    /// A failed attempt: the next one per the schedule, or none.
    fn retry(&self, event: &Event, error: String, retry_after: Option<i64>) -> Settle {
        // Jitter needs no cryptographic quality; without randomness the step is unjittered.
        let jitter = random_bytes::<2>().map_or(0, |b| i64::from(u16::from_le_bytes(b) % 1001));
        let retry_at = deliver::next_attempt(event.attempts, retry_after, jitter)
            .map(|wait| self.clock.now().saturating_add(wait));
        Settle::Failed { error, retry_at }
    }

    /// Runs `attempt`, renewing `event`'s claim every third of the lease until it ends. The
    /// attempt is bounded by `webhooks.timeout` (at most two minutes), so it cannot hold the
    /// claim for ever.
    async fn holding_claim<T>(&self, event: &Event, attempt: impl Future<Output = T>) -> T {
        let lease_ms = u64::try_from(self.config.lease.get())
            .unwrap_or(1)
            .saturating_mul(1000);
        let mut ticks = tokio::time::interval(Duration::from_millis(lease_ms / 3));
        // The first tick is immediate; the claim is fresh then.
        ticks.tick().await;
        let mut renewing = true;
        tokio::pin!(attempt);
        loop {
            tokio::select! {
                result = &mut attempt => return result,
                _ = ticks.tick(), if renewing => {
                    let until = self.clock.now().saturating_add(self.config.lease.get());
                    match self.store.renew_webhook_event(event.id, event.claim, until).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::error!(id = event.id, "webhooks: claim lost during an attempt");
                            renewing = false;
                        }
                        Err(e) => tracing::error!(id = event.id, error = %e, "webhooks: cannot renew claim"),
                    }
                }
            }
        }
    }

    /// Records how the attempt at `event` went.
    async fn settle(&self, event: &Event, settle: Settle) {
        let now = self.clock.now();
        let (outcome, stored) = match settle {
            Settle::Delivered => {
                tracing::info!(id = event.id, kind = %event.event_type, "webhook delivered");
                (
                    "delivered",
                    self.store
                        .webhook_delivered(event.id, event.claim, now)
                        .await,
                )
            }
            Settle::Gone { url, created_at } => {
                tracing::warn!(
                    id = event.id,
                    owner = event.owner.as_str(),
                    "webhook endpoint answered 410 Gone; disabled"
                );
                (
                    "gone",
                    self.store
                        .webhook_gone(
                            event.id,
                            event.claim,
                            now,
                            "HTTP 410 Gone",
                            &url,
                            created_at,
                        )
                        .await,
                )
            }
            Settle::Deferred { error, retry_at } => {
                tracing::error!(id = event.id, owner = event.owner.as_str(), retry_at, %error,
                    "webhook not sent");
                (
                    "retry",
                    self.store
                        .webhook_deferred(event.id, event.claim, retry_at, &error)
                        .await,
                )
            }
            Settle::Failed { error, retry_at } => {
                tracing::warn!(id = event.id, kind = %event.event_type, attempts = event.attempts,
                    retry_at, %error, "webhook delivery failed");
                (
                    if retry_at.is_some() {
                        "retry"
                    } else {
                        "failed"
                    },
                    self.store
                        .webhook_failed(event.id, event.claim, retry_at, &error)
                        .await,
                )
            }
        };
        self.metrics.webhook_delivery(outcome);
        if let Err(e) = stored {
            tracing::error!(id = event.id, error = %e, "webhooks: cannot record the attempt");
        }
    }
}

/// Logs a delivery task that panicked (its slot was freed as it unwound).
fn log_panic(joined: Result<(), tokio::task::JoinError>) {
    if let Err(e) = joined {
        tracing::error!(error = %e, "webhooks: a delivery panicked");
    }
}
