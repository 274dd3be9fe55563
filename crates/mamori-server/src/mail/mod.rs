//! Outgoing mail: the transactional outbox, its delivery worker, and SMTP, the one way out of a
//! production verifier (the demo's in-database mailbox lives in `demo::mailbox`, built only
//! with the `demo` feature).
//!
//! A state change that owes the cardholder a mail inserts the rendered mail into the `outbox`
//! table in the same transaction, so a crash can lose neither the change nor the mail. The
//! worker claims due rows with one conditional `UPDATE` (several workers, even on several
//! verifier instances, never send one row twice), delivers them, and either marks them sent —
//! erasing the bodies, so a code lives in the database only while it is in flight — or
//! schedules a retry with exponential backoff, giving up after `mail.max_attempts`.

pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::{Delivery, MailConfig, TlsMode};
use crate::metrics::Metrics;
use crate::model::Mail;
use crate::store::Store;

/// Mails claimed per round.
const BATCH: i64 = 16;

/// Seconds a claim lasts; longer than any SMTP timeout, so a live worker never loses its claim.
const LEASE: i64 = 120;

/// Delivers one mail.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `mail`; the error text goes to the outbox row and the logs.
    async fn send(&self, mail: &Mail) -> Result<(), String>;
}

/// Delivery over SMTP with lettre.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for the configured relay.
    ///
    /// # Errors
    ///
    /// A message when the `from` address or the TLS setup is invalid.
    pub fn new(config: &MailConfig) -> Result<Self, String> {
        let smtp = &config.smtp;
        let builder = match smtp.tls {
            TlsMode::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
            }
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| e.to_string())?,
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| e.to_string())?,
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(smtp.timeout)));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let from = config.from.parse().map_err(|e| format!("mail.from: {e}"))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
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
    /// Delivers until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let poll = self.config.poll_interval.duration();
        loop {
            if *shutdown.borrow() {
                return;
            }
            let delivered = self.round().await;
            if delivered == BATCH {
                // A full batch: there may be more due right now.
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims and delivers one batch; answers how many rows it claimed.
    pub async fn round(&self) -> i64 {
        let now = self.clock.now();
        let mails = match self.store.claim_mail(now, LEASE, BATCH).await {
            Ok(mails) => mails,
            Err(e) => {
                tracing::error!(error = %e, "outbox: claim failed");
                return 0;
            }
        };
        let claimed = i64::try_from(mails.len()).unwrap_or(BATCH);
        for mail in mails {
            self.deliver(&mail).await;
        }
        claimed
    }

    async fn deliver(&self, mail: &Mail) {
        match self.mailer.send(mail).await {
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
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = MailConfig::default();
        let waits: Vec<_> = (1..=12).map(|n| backoff(&config, n)).collect();
        assert_eq!(&waits[..5], &[5, 10, 20, 40, 80]);
        assert_eq!(waits[11], 3600);
        assert_eq!(backoff(&config, 1000), 3600);
    }
}
