//! The closed-loop load generator: N clients, each with its own connection and its own cards,
//! each starting its next operation as soon as the last one is answered, for a bounded time and
//! a bounded number of operations.
//!
//! Every run has a warm-up (connections settle, caches and the database's pages fill) whose
//! operations are done but not counted; then the measured window. An operation counts in the
//! window it started in. The server's CPU time over the window is read from `/proc`, which
//! tells what an operation costs the server independently of the client sharing its cores; the
//! load generator's own CPU time over the window is read too, since what it spends (HTTP, JSON,
//! the device proofs it signs) is taken from the server on the same cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{Barrier, mpsc};

use crate::cards::Card;
use crate::flows::{self, Context};
use crate::http::{Connection, Failure};
use crate::verifier::{Server, Usage};

/// What the clients do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scenario {
    /// One request to the empty baseline (the baseline's only operation, not a verifier's).
    #[value(skip)]
    Empty,
    /// A frictionless authentication (2 requests).
    Frictionless,
    /// A challenge round trip (3 requests and a mail).
    Challenge,
}

/// A cardholder as a client drives it: the card and the codes mailed to it.
pub(crate) struct Holder {
    /// The card and its browser's device token.
    pub(crate) card: Card,
    /// Codes the SMTP sink received for this card's address.
    pub(crate) codes: mpsc::UnboundedReceiver<String>,
}

/// The bounds of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Concurrent clients (connections).
    pub(crate) clients: usize,
    /// Done but not counted.
    pub(crate) warmup: Duration,
    /// The measured window.
    pub(crate) window: Duration,
    /// No more operations than this are started in the window, however fast the server.
    pub(crate) max_operations: u64,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    /// Operations that started in the window and succeeded.
    pub(crate) operations: u64,
    /// HTTP requests those operations made.
    pub(crate) requests: u64,
    /// Operations that started in the window and failed.
    pub(crate) errors: u64,
    /// The first failure, for the report.
    pub(crate) first_error: Option<String>,
    /// From the window's start until the last counted operation ended.
    pub(crate) seconds: f64,
    /// Latency of each successful operation, in microseconds.
    pub(crate) latencies_us: Vec<f64>,
    /// What the server used over the window, when `/proc` could be read.
    pub(crate) server: Option<Usage>,
    /// What the load generator used over the window (its SMTP receiver included), when
    /// `/proc` could be read.
    pub(crate) client: Option<Usage>,
}

/// What each client brings back.
struct ClientResult {
    holders: Vec<Holder>,
    operations: u64,
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<f64>,
    last_end: Instant,
}

/// Runs `scenario` against `server` with `holders` shared out round-robin among the clients,
/// and gives the holders back (with the device tokens their challenges earned).
pub(crate) async fn run(
    scenario: Scenario,
    plan: Plan,
    server: &Server,
    context: &Arc<Context>,
    holders: Vec<Holder>,
) -> (Measured, Vec<Holder>) {
    let clients = plan.clients.max(1);
    let mut groups: Vec<Vec<Holder>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, holder) in holders.into_iter().enumerate() {
        if let Some(group) = groups.get_mut(i % clients) {
            group.push(holder);
        }
    }
    let barrier = Arc::new(Barrier::new(clients + 1));
    let counted = Arc::new(AtomicU64::new(0));
    let orders = Arc::new(AtomicU64::new(0));
    // Every client computes the same instants from the moment the barrier opens.
    let (start_tx, start_rx) = tokio::sync::watch::channel(None::<Instant>);
    let mut tasks = Vec::with_capacity(clients);
    for holders in groups {
        let task = ClientTask {
            scenario,
            plan,
            address: server.address,
            context: Arc::clone(context),
            barrier: Arc::clone(&barrier),
            counted: Arc::clone(&counted),
            orders: Arc::clone(&orders),
            start: start_rx.clone(),
        };
        tasks.push(tokio::spawn(task.run(holders)));
    }
    barrier.wait().await;
    let begin = Instant::now();
    // No client has started an operation before this is sent: they wait for it.
    let _ = start_tx.send(Some(begin));
    let window_start = begin + plan.warmup;
    tokio::time::sleep_until(window_start.into()).await;
    let usage_before = server.usage();
    let client_before = Usage::own();

    let mut measured = Measured {
        operations: 0,
        requests: 0,
        errors: 0,
        first_error: None,
        seconds: 0.0,
        latencies_us: Vec::new(),
        server: None,
        client: None,
    };
    let mut holders = Vec::new();
    let mut last_end = window_start;
    for task in tasks {
        let result = match task.await {
            Ok(result) => result,
            Err(e) => {
                measured.errors += 1;
                measured
                    .first_error
                    .get_or_insert(format!("client task: {e}"));
                continue;
            }
        };
        measured.operations += result.operations;
        measured.requests += result.requests;
        measured.errors += result.errors;
        if measured.first_error.is_none() {
            measured.first_error = result.first_error;
        }
        measured.latencies_us.extend(result.latencies_us);
        last_end = last_end.max(result.last_end);
        holders.extend(result.holders);
    }
    measured.seconds = last_end.duration_since(window_start).as_secs_f64();
    measured.server = usage_before
        .zip(server.usage())
        .map(|(before, after)| after.since(before));
    measured.client = client_before
        .zip(Usage::own())
        .map(|(before, after)| after.since(before));
    (measured, holders)
}

/// One client's share of a run.
struct ClientTask {
    scenario: Scenario,
    plan: Plan,
    address: SocketAddr,
    context: Arc<Context>,
    barrier: Arc<Barrier>,
    counted: Arc<AtomicU64>,
    orders: Arc<AtomicU64>,
    start: tokio::sync::watch::Receiver<Option<Instant>>,
}

impl ClientTask {
    async fn run(mut self, mut holders: Vec<Holder>) -> ClientResult {
        let mut result = ClientResult {
            holders: Vec::new(),
            operations: 0,
            requests: 0,
            errors: 0,
            first_error: None,
            latencies_us: Vec::new(),
            last_end: Instant::now(),
        };
        let mut connection = Connection::open(self.address).await;
        self.barrier.wait().await;
        let begin = match self.start.wait_for(Option::is_some).await {
            Ok(begin) => begin.unwrap_or_else(Instant::now),
            Err(_) => Instant::now(),
        };
        let window_start = begin + self.plan.warmup;
        let end = window_start + self.plan.window;
        let mut next = 0usize;
        while !holders.is_empty() {
            let started = Instant::now();
            let counting = started >= window_start;
            if started >= end
                || (counting
                    && self.counted.fetch_add(1, Ordering::Relaxed) >= self.plan.max_operations)
            {
                break;
            }
            let index = next % holders.len();
            next += 1;
            let order = self.orders.fetch_add(1, Ordering::Relaxed);
            let outcome = match &mut connection {
                Ok(connection) => self.operation(connection, &mut holders[index], order).await,
                Err(e) => Err(format!("connecting: {e}").into()),
            };
            let finished = Instant::now();
            if counting {
                result.last_end = finished;
                match &outcome {
                    Ok(requests) => {
                        result.operations += 1;
                        result.requests += u64::from(*requests);
                        let micros = finished.duration_since(started).as_secs_f64() * 1e6;
                        result.latencies_us.push(micros);
                    }
                    Err(e) => {
                        result.errors += 1;
                        result.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            if outcome.is_err() {
                // The connection may be what broke; a fresh one costs a loopback handshake.
                connection = Connection::open(self.address).await;
            }
        }
        result.holders = holders;
        result
    }

    async fn operation(
        &self,
        connection: &mut Connection,
        holder: &mut Holder,
        order: u64,
    ) -> Result<u32, Failure> {
        match self.scenario {
            Scenario::Empty => flows::empty(connection, &self.context, &holder.card).await,
            Scenario::Frictionless => {
                flows::frictionless(connection, &self.context, &holder.card, order).await
            }
            Scenario::Challenge => {
                let Holder { card, codes } = holder;
                flows::challenge(connection, &self.context, card, codes, order).await
            }
        }
    }
}

/// Passes one challenge for every holder, `clients` at a time, so that each card's browser
/// holds a trusted device token for the frictionless runs. Answers how many failed.
pub(crate) async fn trust_devices(
    address: SocketAddr,
    context: &Arc<Context>,
    holders: Vec<Holder>,
    clients: usize,
) -> (u64, Vec<Holder>) {
    let clients = clients.max(1);
    let mut groups: Vec<Vec<Holder>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, holder) in holders.into_iter().enumerate() {
        if let Some(group) = groups.get_mut(i % clients) {
            group.push(holder);
        }
    }
    let orders = Arc::new(AtomicU64::new(u64::MAX / 2));
    let tasks: Vec<_> = groups
        .into_iter()
        .map(|mut group| {
            let context = Arc::clone(context);
            let orders = Arc::clone(&orders);
            tokio::spawn(async move {
                let mut failed = 0;
                let Ok(mut connection) = Connection::open(address).await else {
                    return (group.len() as u64, group);
                };
                for holder in &mut group {
                    let order = orders.fetch_add(1, Ordering::Relaxed);
                    let Holder { card, codes } = holder;
                    if flows::challenge(&mut connection, &context, card, codes, order)
                        .await
                        .is_err()
                    {
                        failed += 1;
                    }
                }
                (failed, group)
            })
        })
        .collect();
    let mut failed = 0;
    let mut holders = Vec::new();
    for task in tasks {
        match task.await {
            Ok((f, group)) => {
                failed += f;
                holders.extend(group);
            }
            Err(_) => failed += 1,
        }
    }
    (failed, holders)
}
