//! What every request handler shares.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use tokio::sync::Notify;

use crate::api::throttle::AdminLockouts;
use crate::api::widget_files::{WidgetDirError, WidgetFiles};
use crate::clock::Clock;
use crate::config::Config;
use crate::flow::Flow;
use crate::metrics::Metrics;
use crate::secrets::Secrets;
use crate::store::Store;

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
    /// Rung after queuing webhook events, so their worker delivers at once.
    pub webhook_wake: Arc<Notify>,
    /// The widget's files served at `/widget/`, when `widget_dir` is set.
    pub widget_files: Option<WidgetFiles>,
    /// The newest rate-limit window this process has forgotten the earlier ones for (see
    /// [`crate::api::throttle`]).
    pub rate_windows_forgotten: Arc<AtomicI64>,
    /// The client addresses this process has seen fail admin authentication too often in the
    /// current window (see [`crate::api::throttle`]).
    pub admin_lockouts: Arc<AdminLockouts>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `store` with `config`, `secrets` and `clock`, serving no widget files yet
    /// (see [`Self::load_widget`]).
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        secrets: Secrets,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            config: Arc::new(config),
            secrets: Arc::new(secrets),
            clock,
            metrics: Arc::new(Metrics::default()),
            outbox_wake: Arc::new(Notify::new()),
            webhook_wake: Arc::new(Notify::new()),
            widget_files: None,
            rate_windows_forgotten: Arc::new(AtomicI64::new(i64::MIN)),
            admin_lockouts: Arc::new(AdminLockouts::default()),
        }
    }

    /// Reads the widget's release files from the configured `widget_dir`, if any.
    ///
    /// # Errors
    ///
    /// [`WidgetDirError`] when the directory is set but holds no complete release.
    pub fn load_widget(mut self) -> Result<Self, WidgetDirError> {
        self.widget_files = match &self.config.widget_dir {
            Some(dir) => Some(WidgetFiles::load(dir)?),
            None => None,
        };
        Ok(self)
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The purchase's operations over this state, for one request.
    pub fn flow(&self) -> Flow<'_> {
        Flow {
            store: self.store.as_ref(),
            config: &self.config,
            secrets: &self.secrets,
            clock: self.clock.as_ref(),
            metrics: &self.metrics,
            outbox: &self.outbox_wake,
            webhooks: &self.webhook_wake,
        }
    }
}
