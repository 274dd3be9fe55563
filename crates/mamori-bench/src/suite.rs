//! `mamori-bench load`: the verifier throughput suite, written as JSON for the report.
//!
//! The empty baseline, the verifier on SQLite and the verifier on PostgreSQL run side by side as
//! three processes, and the runs are interleaved (for each client count: baseline, then each
//! store and operation), so a change in the shared machine's load between minutes lands on all
//! of them rather than on one, and their ratios stay fair.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cards;
use crate::flows::Context;
use crate::http::Failure;
use crate::load::{self, Holder, Plan, Scenario};
use crate::size::{self, Reading};
use crate::smtp::Sink;
use crate::stats::Summary;
use crate::verifier::{self, Server, Setup, Usage, Verifier};

/// Client counts every operation is measured at.
pub(crate) const CLIENTS: [usize; 4] = [1, 8, 64, 256];

/// Challenge round trips stop at 64 clients: the outbox sends one mail at a time, so 256
/// clients only queue longer for the same rate, and one such run takes half a minute to drain.
const CHALLENGE_CLIENTS: usize = 64;

/// Concurrent challenges while trusting each card's device before the runs.
const TRUST_CLIENTS: usize = 32;

/// The suite's bounds, from the command line.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The `mamori` release binary.
    pub(crate) mamori: PathBuf,
    /// A PostgreSQL superuser URL, or `None` to measure SQLite only.
    pub(crate) postgres: Option<String>,
    /// Databases, configurations and logs go here.
    pub(crate) work_dir: PathBuf,
    /// Simulated cardholders.
    pub(crate) cards: usize,
    /// Warm-up per run.
    pub(crate) warmup: Duration,
    /// Measured window per run.
    pub(crate) window: Duration,
    /// At most this many operations per measured window.
    pub(crate) max_operations: u64,
}

/// Everything the suite measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Results {
    /// Simulated cardholders.
    pub(crate) cards: usize,
    /// Warm-up per run, seconds.
    pub(crate) warmup_seconds: f64,
    /// Measured window per run, seconds.
    pub(crate) window_seconds: f64,
    /// The cap on operations per window.
    pub(crate) max_operations: u64,
    /// One entry per run, in the order they ran.
    pub(crate) runs: Vec<Run>,
    /// SMTP sessions the verifiers' outboxes held with the receiver, ms: median and p95 of the
    /// whole session, then of `DATA` to the final `.`; `None` if no mail came.
    pub(crate) smtp_ms: Option<[f64; 4]>,
}

/// One run: a target, an operation, a client count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Run {
    /// `empty`, `sqlite` or `postgres`.
    pub(crate) target: String,
    /// The operation.
    pub(crate) scenario: Scenario,
    /// Concurrent clients.
    pub(crate) clients: usize,
    /// Successful operations in the window.
    pub(crate) operations: u64,
    /// Their HTTP requests.
    pub(crate) requests: u64,
    /// Failed operations in the window.
    pub(crate) errors: u64,
    /// The first failure.
    pub(crate) first_error: Option<String>,
    /// Length of the window, seconds.
    pub(crate) seconds: f64,
    /// Operation latency, microseconds: median, p95, p99, max.
    pub(crate) latency_us: Option<[f64; 4]>,
    /// What the server used over the window.
    pub(crate) server: Option<Usage>,
    /// The store before and after the whole run (warm-up included).
    pub(crate) store: Option<[Reading; 2]>,
}

/// A verifier under test with its database.
struct Target {
    name: &'static str,
    verifier: Verifier,
    database_url: String,
    holders: Vec<Holder>,
    context: Arc<Context>,
}

/// Runs the suite.
///
/// # Errors
///
/// When a server cannot be started or a database cannot be prepared. Failed operations are
/// not errors here: they are counted and reported.
pub(crate) async fn run(options: &Options) -> Result<Results, Failure> {
    std::fs::create_dir_all(&options.work_dir)?;
    let sink = Sink::start().await?;
    let empty = Server::empty()?;
    let mut empty_holders = holders(&sink, options.cards, "empty");

    let sqlite_dir = options.work_dir.join("sqlite");
    // A database left by an earlier run would hold the same cards already.
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    let sqlite_url = format!("sqlite://{}", sqlite_dir.join("mamori.db").display());
    let postgres_dir = options.work_dir.join("postgres");
    let _ = std::fs::remove_dir_all(&postgres_dir);
    let postgres = async {
        match &options.postgres {
            Some(server_url) => {
                let url = size::fresh_postgres(server_url).await?;
                target("postgres", options, &sink, &postgres_dir, url)
                    .await
                    .map(Some)
            }
            None => Ok(None),
        }
    };
    // Both verifiers trust their cards' devices at the same time: each has its own outbox,
    // and mail is what that step waits for.
    let (sqlite, postgres) = tokio::join!(
        target("sqlite", options, &sink, &sqlite_dir, sqlite_url),
        postgres
    );
    let mut targets = vec![sqlite?];
    targets.extend(postgres?);

    let mut runs = Vec::new();
    let empty_context = Arc::new(Context::new(String::new()));
    for clients in CLIENTS {
        let plan = Plan {
            clients,
            warmup: options.warmup,
            window: options.window,
            max_operations: options.max_operations,
        };
        let (measured, back) =
            load::run(Scenario::Empty, plan, &empty, &empty_context, empty_holders).await;
        empty_holders = back;
        runs.push(record("empty", Scenario::Empty, clients, measured, None));
        log(runs.last());
        for scenario in [Scenario::Frictionless, Scenario::Challenge] {
            if scenario == Scenario::Challenge && clients > CHALLENGE_CLIENTS {
                continue;
            }
            for target in &mut targets {
                let before = size::read(&target.database_url).await.ok();
                let holders = std::mem::take(&mut target.holders);
                let (measured, back) = load::run(
                    scenario,
                    plan,
                    &target.verifier.server,
                    &target.context,
                    holders,
                )
                .await;
                target.holders = back;
                let after = size::read(&target.database_url).await.ok();
                let store = before.zip(after).map(|(b, a)| [b, a]);
                runs.push(record(target.name, scenario, clients, measured, store));
                log(runs.last());
            }
        }
    }
    Ok(Results {
        cards: options.cards,
        warmup_seconds: options.warmup.as_secs_f64(),
        window_seconds: options.window.as_secs_f64(),
        max_operations: options.max_operations,
        runs,
        smtp_ms: smtp_timings(&sink),
    })
}

/// Starts the verifier on `database_url` and trusts a device for every card.
async fn target(
    name: &'static str,
    options: &Options,
    sink: &Sink,
    dir: &Path,
    database_url: String,
) -> Result<Target, Failure> {
    let holders = holders(sink, options.cards, name);
    let cards: Vec<_> = holders.iter().map(|h| h.card.clone()).collect();
    let verifier = verifier::start(&Setup {
        mamori: &options.mamori,
        database_url: &database_url,
        dir,
        smtp_port: sink.port,
        cards: &cards,
    })
    .await?;
    let context = Arc::new(Context::new(verifier.merchant_key.clone()));
    let (failed, holders) =
        load::trust_devices(verifier.server.address, &context, holders, TRUST_CLIENTS).await;
    if failed > 0 {
        return Err(format!(
            "{name}: {failed} of {} cards could not pass their first challenge; see {}",
            options.cards,
            dir.join("verifier.log").display()
        )
        .into());
    }
    Ok(Target {
        name,
        verifier,
        database_url,
        holders,
        context,
    })
}

/// `count` fresh cardholders whose codes `sink` routes to them. Each target gets the same card
/// numbers (its verifier has its own database and keys) but addresses of its own (`tag`), so
/// the sink never confuses two targets' mail.
fn holders(sink: &Sink, count: usize, tag: &str) -> Vec<Holder> {
    cards::cards(count, tag)
        .into_iter()
        .map(|card| Holder {
            codes: sink.register(&card.email),
            card,
        })
        .collect()
}

fn smtp_timings(sink: &Sink) -> Option<[f64; 4]> {
    let timings = sink.timings();
    let sessions: Vec<f64> = timings.iter().map(|t| t.0).collect();
    let data: Vec<f64> = timings.iter().map(|t| t.1).collect();
    let (sessions, data) = (Summary::of(&sessions)?, Summary::of(&data)?);
    Some([sessions.median, sessions.p95, data.median, data.p95])
}

fn record(
    target: &str,
    scenario: Scenario,
    clients: usize,
    measured: load::Measured,
    store: Option<[Reading; 2]>,
) -> Run {
    let latency_us = Summary::of(&measured.latencies_us).map(|s| [s.median, s.p95, s.p99, s.max]);
    Run {
        target: target.to_owned(),
        scenario,
        clients,
        operations: measured.operations,
        requests: measured.requests,
        errors: measured.errors,
        first_error: measured.first_error,
        seconds: measured.seconds,
        latency_us,
        server: measured.server,
        store,
    }
}

/// One progress line per run on stderr, so a long suite shows it is alive.
fn log(run: Option<&Run>) {
    let Some(run) = run else { return };
    let rate = run.operations as f64 / run.seconds.max(1e-9);
    let p50 = run.latency_us.map_or(0.0, |l| l[0] / 1000.0);
    let p99 = run.latency_us.map_or(0.0, |l| l[2] / 1000.0);
    let usage = run.server.unwrap_or_default();
    let per_op = 1.0 / (run.operations.max(1) as f64);
    let cpu = (usage.user + usage.system) * 1e6 * per_op;
    let switches = usage.switches as f64 * per_op;
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "    {:<9} {:<12} {:>3} clients: {rate:>8.0} ops/s  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  \
             server {cpu:>5.0} µs CPU {switches:>4.0} cs/op  errors {}{}",
            run.target,
            format!("{:?}", run.scenario).to_lowercase(),
            run.clients,
            run.errors,
            run.first_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        );
    }
}
