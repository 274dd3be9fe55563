//! What every request handler shares.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::secrets::Secrets;
use crate::store::{Limits, Store};

/// The verifier's shared state: cheap to clone (every field is an `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// Derived server keys.
    pub secrets: Arc<Secrets>,
    /// The time source; tests pass a [`crate::clock::ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// Prometheus counters.
    pub metrics: Arc<Metrics>,
    /// Rung after queuing mail, so the outbox worker delivers at once.
    pub outbox_wake: Arc<Notify>,
    /// Whether `/demo/mailbox` is served.
    pub demo_mailbox: bool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `store` with `config`, `secrets` and `clock`; the demo mailbox is served when
    /// the configuration delivers mail to it.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        secrets: Secrets,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let demo_mailbox = config.mail.delivery == crate::config::Delivery::Mailbox;
        Self {
            store,
            config: Arc::new(config),
            secrets: Arc::new(secrets),
            clock,
            metrics: Arc::new(Metrics::default()),
            outbox_wake: Arc::new(Notify::new()),
            demo_mailbox,
        }
    }

    /// The limits the store's conditional updates check.
    pub fn limits(&self) -> Limits {
        let s = &self.config.security;
        Limits {
            max_attempts: s.max_attempts,
            max_resends: s.max_resends,
            resend_cooldown: s.resend_cooldown,
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
