//! Outgoing mail: the transactional outbox, its delivery worker, and SMTP, the one way out of a
//! production verifier (the demo's in-database mailbox lives in `demo::mailbox`, built only
//! with the `demo` feature).
//!
//! A state change that owes the cardholder a mail inserts the rendered mail into the `outbox`
//! table in the same transaction, so a crash can lose neither the change nor the mail. An
//! alert is queued only if its card had none of its kind within `mail.alert_window` (the store
//! decides, in that transaction), so a stolen card number cannot flood its cardholder.
//!
//! The worker claims due rows with one conditional `UPDATE` (several workers, even on several
//! verifier instances, never claim one row twice), codes before alerts so that no burst of
//! alerts delays a code past its lifetime. It claims only as many as it has free delivery
//! slots (`mail.concurrency`), sends them at once over pooled SMTP connections, and claims
//! again as each slot frees up. While a mail is being sent its claim is renewed, so however
//! slow the relay no other worker takes the mail over and sends it a second time. Then the row
//! is marked sent — erasing the bodies, so a code lives in the database only while it is in
//! flight — or scheduled for a retry with exponential backoff, or given up after
//! `mail.max_attempts`, which erases the bodies too.
//!
//! Layout: this module is the outbox worker; [`smtp`] builds each message as it goes out;
//! [`pool`] keeps the connections to the relay (`TCP_NODELAY`, reused between mails, STARTTLS
//! or TLS, never a silent downgrade); [`headers`] gives every mail
//! its `Message-ID`, `Auto-Submitted` and thread headers; [`dkim`] signs it, at send time, so a
//! rotated key applies to mail already queued; [`templates`] writes the mails themselves.

pub mod dkim;
pub mod headers;
pub mod pool;
pub mod smtp;
pub mod templates;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::{Delivery, MailConfig};
use crate::metrics::Metrics;
use crate::model::Mail;
use crate::store::Store;

pub use smtp::SmtpMailer;

/// A send still under way after this many SMTP timeouts is taken for hung: the SMTP pool
/// drops it with its connection, freeing its delivery slot, and the outbox no longer renews its
/// claim, so that the mail is retried by a worker once the lease runs out. (A mail's
/// transaction may take longer than one `mail.smtp.timeout`, which bounds opening a connection;
/// a relay that stops answering mid-send must not hold the mail and its slot for ever.)
const HUNG_AFTER_TIMEOUTS: u32 = 10;

/// Delivers one mail.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `mail`; the error text goes to the outbox row and the logs.
    async fn send(&self, mail: &Mail) -> Result<(), String>;
}

/// The mailer the configuration asks for.
///
/// # Errors
///
/// See [`SmtpMailer::new`]; and `mail.delivery = "mailbox"`, which only `mamori demo` serves
/// (with `demo::mailbox::MailboxMailer`): a production verifier never keeps live
/// codes in a page anyone can read.
pub fn mailer_for(config: &MailConfig) -> Result<Arc<dyn Mailer>, String> {
    match config.delivery {
        Delivery::Smtp => Ok(Arc::new(SmtpMailer::new(config)?)),
        Delivery::Mailbox => Err(MAILBOX_REFUSED.to_owned()),
    }
}

/// Why `mamori serve` refuses the demo mailbox.
pub const MAILBOX_REFUSED: &str = "mail.delivery = \"mailbox\" is only for `mamori demo`: it \
    shows every code at /demo/mailbox without a login. A verifier delivers over SMTP \
    (mail.delivery = \"smtp\" with [mail.smtp]).";

/// The delivery worker.
pub struct Outbox {
    /// Where rows come from.
    pub store: Arc<dyn Store>,
    /// Where they go.
    pub mailer: Arc<dyn Mailer>,
    /// Decides when a row is due.
    pub clock: Arc<dyn Clock>,
    /// Counts deliveries.
    pub metrics: Arc<Metrics>,
    /// Retry policy and polling.
    pub config: MailConfig,
    /// Rung by every request that queued mail, so codes go out at once rather than at the
    /// next poll.
    pub wake: Arc<Notify>,
}

impl Outbox {
    /// Delivers until `shutdown` turns true, then waits for the deliveries under way.
    ///
    /// The worker claims only as many mails as it has free delivery slots, and claims again as
    /// soon as one frees up: a code queued while the worker is busy waits for one free slot,
    /// not for a whole claimed batch of alerts, and is then claimed ahead of them.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let poll = self.config.poll_interval.duration();
        let concurrency = usize::try_from(self.config.concurrency.get()).unwrap_or(1);
        let slots = Arc::new(Semaphore::new(concurrency));
        let outbox = Arc::new(self);
        let mut deliveries = JoinSet::new();
        while !*shutdown.borrow() {
            while let Some(joined) = deliveries.try_join_next() {
                log_panic(joined);
            }
            let slot = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => slot,
                // A dropped sender can say nothing more: stop as if told to.
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
            let mails = outbox.claim(wanted).await;
            let claimed_all = mails.len() == wanted;
            for (mail, slot) in mails.into_iter().zip(free) {
                let outbox = Arc::clone(&outbox);
                deliveries.spawn(async move {
                    outbox.deliver(&mail).await;
                    drop(slot);
                });
            }
            if claimed_all {
                // Every free slot found a mail: there may be more due right now.
                continue;
            }
            tokio::select! {
                () = outbox.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        // A mail sent but not yet marked would be sent again once its lease ran out.
        while let Some(joined) = deliveries.join_next().await {
            log_panic(joined);
        }
    }

    /// Claims up to `wanted` due mails, codes first.
    async fn claim(&self, wanted: usize) -> Vec<Mail> {
        let now = self.clock.now();
        let limit = i64::try_from(wanted).unwrap_or(i64::MAX);
        match self
            .store
            .claim_mail(now, self.config.lease.get(), limit)
            .await
        {
            Ok(mails) => mails,
            Err(e) => {
                tracing::error!(error = %e, "outbox: claim failed");
                Vec::new()
            }
        }
    }

    /// Delivers one claimed mail, holding its claim until the send ends, and records how it
    /// went.
    async fn deliver(&self, mail: &Mail) {
        let result = self.holding_claim(mail, self.mailer.send(mail)).await;
        self.settle(mail, result).await;
    }

    /// Runs `delivery`, renewing `mail`'s claim every third of `mail.lease` until it ends or is
    /// taken for hung ([`HUNG_AFTER_TIMEOUTS`]): two renewals can fail (a slow database) before
    /// another worker may claim the mail.
    ///
    /// A claim lost during a send (renewals failed for a whole lease, or the process stalled)
    /// is logged, but the send is not cut short: once its body is out the relay may hold the
    /// mail already, and only the relay's answer tells. The stale claim then settles nothing.
    async fn holding_claim<T>(&self, mail: &Mail, delivery: impl Future<Output = T>) -> T {
        let hung = tokio::time::Instant::now()
            + self
                .config
                .smtp
                .timeout
                .duration()
                .saturating_mul(HUNG_AFTER_TIMEOUTS);
        let mut renewing = true;
        let lease_ms = u64::try_from(self.config.lease.get())
            .unwrap_or(1)
            .saturating_mul(1000);
        let mut ticks = tokio::time::interval(Duration::from_millis(lease_ms / 3));
        // The first tick is immediate; the claim is fresh then.
        ticks.tick().await;
        tokio::pin!(delivery);
        loop {
            tokio::select! {
                result = &mut delivery => return result,
                _ = ticks.tick(), if renewing => {
                    if tokio::time::Instant::now() >= hung {
                        tracing::error!(id = mail.id, "outbox: send hung; letting the claim lapse");
                        renewing = false;
                    } else {
                        renewing = self.renew(mail).await;
                    }
                }
            }
        }
    }

    /// Extends `mail`'s claim by a lease; answers whether to keep renewing it: not once it is
    /// no longer ours.
    async fn renew(&self, mail: &Mail) -> bool {
        let until = self.clock.now().saturating_add(self.config.lease.get());
        match self.store.renew_mail(mail.id, mail.attempts, until).await {
            Ok(true) => true,
            Ok(false) => {
                tracing::error!(
                    id = mail.id,
                    attempts = mail.attempts,
                    "outbox: claim lost during a send; another worker may send this mail too"
                );
                false
            }
            Err(e) => {
                // The lease still has two renewals' worth left: try again at the next one.
                tracing::error!(id = mail.id, error = %e, "outbox: cannot renew claim");
                true
            }
        }
    }

    /// Records how the delivery of `mail` went.
    async fn settle(&self, mail: &Mail, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.metrics.mail_delivery(&mail.kind, "sent");
                tracing::info!(id = mail.id, kind = %mail.kind, "mail delivered");
                if let Err(e) = self
                    .store
                    .mail_sent(mail.id, mail.attempts, self.clock.now())
                    .await
                {
                    tracing::error!(id = mail.id, error = %e, "outbox: cannot mark mail sent");
                }
            }
            Err(error) => {
                let retry_at = (mail.attempts < self.config.max_attempts)
                    .then(|| self.clock.now() + backoff(&self.config, mail.attempts));
                let result = if retry_at.is_some() {
                    "retry"
                } else {
                    "failed"
                };
                self.metrics.mail_delivery(&mail.kind, result);
                tracing::warn!(id = mail.id, kind = %mail.kind, attempts = mail.attempts,
                    retry_at, %error, "mail delivery failed");
                if let Err(e) = self
                    .store
                    .mail_failed(mail.id, mail.attempts, retry_at, &error)
                    .await
                {
                    tracing::error!(id = mail.id, error = %e, "outbox: cannot release mail");
                }
            }
        }
    }
}

/// Logs a delivery task that panicked (its slot was freed as it unwound).
fn log_panic(joined: Result<(), tokio::task::JoinError>) {
    if let Err(e) = joined {
        tracing::error!(error = %e, "outbox: a delivery panicked");
    }
}

/// Seconds to wait after the `attempts`-th failed delivery: `base · 2^(attempts-1)`, capped.
pub fn backoff(config: &MailConfig, attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    config
        .backoff_base
        .get()
        .saturating_mul(1_i64 << exponent)
        .min(config.backoff_max.get())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Barrier;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::Bounded;
    use crate::model::{CODE_MAIL, NewMail};

    /// Records the order sends start in and how many run at once; each send waits at a
    /// barrier of `concurrency`, so the worker must keep that many under way to progress.
    struct Recording {
        started: Mutex<Vec<String>>,
        in_flight: AtomicUsize,
        most: AtomicUsize,
        barrier: Barrier,
    }

    #[async_trait]
    impl Mailer for Recording {
        async fn send(&self, mail: &Mail) -> Result<(), String> {
            self.started.lock().unwrap().push(mail.kind.clone());
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            self.barrier.wait().await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn mail(kind: &str) -> NewMail {
        NewMail {
            kind: kind.into(),
            recipient: "taro@example.com".into(),
            subject: kind.into(),
            text: kind.into(),
            html: kind.into(),
            sandbox: None,
            dedupe: None,
            thread: None,
        }
    }

    /// Nine mails queued at once, alerts first: the worker sends three at a time, never more,
    /// starts the codes before any alert, and marks every mail sent once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_worker_sends_codes_first_a_bounded_number_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("outbox.db").display());
        let store = crate::store::open(&url).await.unwrap();
        for kind in [
            "alert_1", "alert_2", "alert_3", "alert_4", "alert_5", "alert_6",
        ] {
            store.enqueue_mail(&mail(kind), 1_000).await.unwrap();
        }
        for _ in 0..3 {
            store.enqueue_mail(&mail(CODE_MAIL), 1_000).await.unwrap();
        }
        let recording = Arc::new(Recording {
            started: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            barrier: Barrier::new(3),
        });
        let config = MailConfig {
            concurrency: Bounded::constant::<3>(),
            ..MailConfig::default()
        };
        let outbox = Outbox {
            store: Arc::clone(&store),
            mailer: recording.clone(),
            clock: Arc::new(ManualClock::new(1_000)),
            metrics: Arc::new(Metrics::default()),
            config,
            wake: Arc::new(Notify::new()),
        };
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(outbox.run(stopped));
        tokio::time::timeout(Duration::from_secs(10), async {
            while recording.started.lock().unwrap().len() < 9
                || recording.in_flight.load(Ordering::SeqCst) > 0
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("every mail sent within 10 s");
        stop.send(true).unwrap();
        worker.await.unwrap();

        let started = recording.started.lock().unwrap().clone();
        assert_eq!(started.len(), 9, "each mail sent once: {started:?}");
        assert!(started[..3].iter().all(|k| k == CODE_MAIL), "{started:?}");
        assert_eq!(recording.most.load(Ordering::SeqCst), 3);
        // The worker waited for the last deliveries to be marked before it stopped.
        let owed = store.claim_mail(1_000_000, 60, 100).await.unwrap();
        assert!(owed.is_empty(), "{owed:?}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = MailConfig::default();
        let waits: Vec<_> = (1..=12).map(|n| backoff(&config, n)).collect();
        assert_eq!(&waits[..5], &[5, 10, 20, 40, 80]);
        assert_eq!(waits[11], 3600);
        assert_eq!(backoff(&config, 1000), 3600);
    }
}
