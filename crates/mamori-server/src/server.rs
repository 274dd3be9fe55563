//! Serving: [`run`] binds the router to a listener and drives the mail outbox and webhook
//! workers and the expiry sweeper beside it, all until the shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::api::app;
use crate::flow::finish::SWEEP_BATCH;
use crate::mail::{Mailer, Outbox};
use crate::state::AppState;
use crate::webhooks::{Client, Dispatcher};

/// Serves `state` on `listener`, delivering mail with `mailer`, until `shutdown` resolves; then
/// stops accepting, finishes in-flight requests, and stops the worker.
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    mailer: Arc<dyn Mailer>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state.clone());
    run_router(listener, router, state, mailer, shutdown).await
}

/// [`run`] with another router over the same state: how `mamori demo` serves `demo::app`.
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn run_router(
    listener: TcpListener,
    router: Router,
    state: AppState,
    mailer: Arc<dyn Mailer>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let outbox = Outbox {
        store: Arc::clone(&state.store),
        mailer,
        clock: Arc::clone(&state.clock),
        metrics: Arc::clone(&state.metrics),
        config: state.config.mail.clone(),
        wake: Arc::clone(&state.outbox_wake),
    };
    let worker = tokio::spawn(outbox.run(stop_rx.clone()));
    let sweeper = tokio::spawn(sweep_expired(state.clone(), stop_rx.clone()));
    let hooks = match Client::new(
        state.config.webhooks.timeout.duration(),
        state.config.webhooks.allow_private_addresses,
    ) {
        Ok(client) => Some(tokio::spawn(
            Dispatcher {
                store: Arc::clone(&state.store),
                client,
                clock: Arc::clone(&state.clock),
                metrics: Arc::clone(&state.metrics),
                config: state.config.webhooks.clone(),
                key: state.secrets.webhook_key,
                wake: Arc::clone(&state.webhook_wake),
            }
            .run(stop_rx),
        )),
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; events stay queued");
            None
        }
    };
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    // The receiver may already be gone if the worker ended; nothing to tell it then.
    let _ = stop_tx.send(true);
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "outbox worker panicked");
    }
    if let Some(hooks) = hooks {
        if let Err(e) = hooks.await {
            tracing::error!(error = %e, "webhook worker panicked");
        }
    }
    if let Err(e) = sweeper.await {
        tracing::error!(error = %e, "expiry sweeper panicked");
    }
    result
}

/// How often the sweeper looks for authentications whose lifetime is over: an abandoned
/// purchase ends (and its `authentication.finished` leaves) at most this late. A look is one
/// read of the partial index of live authentications, which holds only the purchases under way.
const EXPIRY_SWEEP: Duration = Duration::from_secs(2);

/// Ends every authentication whose lifetime is over, a batch at a time, until `stop`. Several
/// instances may sweep at once: each end is a conditional change, so one of them makes it. A
/// batch is followed at once by the next only when all of it ended, so rows that cannot be
/// ended wait for the next tick instead of being read again in a loop.
async fn sweep_expired(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EXPIRY_SWEEP);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        while !*stop.borrow() {
            match state.flow().expire_overdue().await {
                Ok(ended) if i64::try_from(ended).is_ok_and(|ended| ended >= SWEEP_BATCH) => {}
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = ?e, "expiry sweep failed");
                    break;
                }
            }
        }
    }
}
