//! `mamori-bench load`: the verifier throughput suite, written as JSON for the report.
//!
//! The empty baseline, the one-insert baseline, the verifier on SQLite and the verifier on
//! PostgreSQL run side by side as four processes, and the runs are interleaved (for each client
//! count: the baselines, then each store and operation), so a change in the shared machine's load between minutes lands on all
//! of them rather than on one, and their ratios stay fair.
//!
//! After the runs, each store is grown by `--growth` (100 000) frictionless authentications in
//! one bounded run of their own, and its size is read before and after: the growth per 100 000
//! authentications is measured, not extrapolated from the few thousand the timed runs create.
//!
//! `--servers`, `--operations` and `--clients` pick a subset by hand, e.g. `--servers sqlite
//! --operations challenge --clients 64 --growth 0` measures one thing in half a minute.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cards;
use crate::flows::{self, Context};
use crate::http::{Connection, Failure};
use crate::load::{self, Holder, Measured, Plan, Scenario};
use crate::size::{self, Reading};
use crate::smtp::Sink;
use crate::stats::Summary;
use crate::verifier::{self, Server, Setup, Usage, Verifier};

/// Client counts every operation is measured at, challenges included: with mail delivered
/// concurrently over kept-open connections, 256 waiting clients measure the verifier, not a
/// queue behind one SMTP connection. Each run is bounded by its window plus, for a challenge,
/// the 30 s a client waits at most for its mail.
pub(crate) const CLIENTS: [usize; 4] = [1, 8, 64, 256];

/// Concurrent challenges while trusting each card's device before the runs.
const TRUST_CLIENTS: usize = 32;

/// Clients that create the authentications of the growth step: about the peak of the
/// frictionless runs, so the step ends soon.
const GROWTH_CLIENTS: usize = 64;

/// The growth step's bound on each store: at the ~1,100 authentications/s of today's stores,
/// 100 000 take about 90 s; a store too slow for them in this time is measured over what it
/// created, and the report says so.
pub(crate) const GROWTH_LIMIT: Duration = Duration::from_secs(300);

/// The order number of the purchase that checks a verifier demands device proofs: apart from
/// the runs' (counted from 0) and the trusting challenges' (from `u64::MAX / 2`).
const PROBE_ORDER: u64 = u64::MAX / 4;

/// A server the suite can measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ServerKind {
    /// The empty axum handler, the baseline.
    Empty,
    /// The axum handler that makes one SQLite insert per request, the second baseline.
    Insert,
    /// The verifier on SQLite.
    Sqlite,
    /// The verifier on PostgreSQL (needs `--postgres`).
    Postgres,
}

/// The suite's bounds and choices, from the command line.
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
    /// The servers to measure; empty means all (PostgreSQL when a URL is given).
    pub(crate) servers: Vec<ServerKind>,
    /// The verifiers' operations to measure; empty means all.
    pub(crate) operations: Vec<Scenario>,
    /// The client counts to measure.
    pub(crate) clients: Vec<usize>,
    /// Frictionless authentications the growth step creates on each store; 0 skips it.
    pub(crate) growth: u64,
}

impl Options {
    fn measures(&self, server: ServerKind) -> bool {
        self.servers.is_empty() || self.servers.contains(&server)
    }
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
    /// The mails the verifiers' outboxes delivered to the receiver, ms: median and p95 of a
    /// mail's SMTP transaction (`MAIL FROM` to the final `.`), then of `DATA` to the final `.`;
    /// `None` if no mail came.
    pub(crate) smtp_ms: Option<[f64; 4]>,
    /// Each store's growth step; empty when it was skipped.
    #[serde(default)]
    pub(crate) growth: Vec<Growth>,
}

/// One run: a target, an operation, a client count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Run {
    /// `empty`, `insert`, `sqlite` or `postgres`.
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
    /// What the load generator used over the window (absent from results written before it
    /// was measured).
    #[serde(default)]
    pub(crate) client: Option<Usage>,
    /// The store before and after the whole run (warm-up included).
    pub(crate) store: Option<[Reading; 2]>,
}

/// A store grown by frictionless authentications alone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Growth {
    /// `sqlite` or `postgres`.
    pub(crate) target: String,
    /// Concurrent clients.
    pub(crate) clients: usize,
    /// Authentications the step set out to create (`--growth`).
    pub(crate) requested: u64,
    /// The store before and after.
    pub(crate) store: [Reading; 2],
    /// Failed authentications.
    pub(crate) errors: u64,
    /// Wall time of the step, seconds.
    pub(crate) seconds: f64,
}

/// A verifier under test with its database.
struct Target {
    name: &'static str,
    verifier: Verifier,
    database_url: String,
    holders: Vec<Holder>,
    context: Arc<Context>,
}

impl Target {
    /// One measured run of `scenario` on this server with its cardholders, who come back with
    /// the devices they trusted meanwhile.
    async fn run(&mut self, scenario: Scenario, plan: Plan) -> Measured {
        let holders = std::mem::take(&mut self.holders);
        let (measured, back) = load::run(
            scenario,
            plan,
            &self.verifier.server,
            &self.context,
            holders,
        )
        .await;
        self.holders = back;
        measured
    }
}

/// Runs the suite.
///
/// # Errors
///
/// When a server cannot be started or a database cannot be prepared. Failed operations are
/// not errors here: they are counted and reported.
pub(crate) async fn run(options: &Options) -> Result<Results, Failure> {
    if options.servers.contains(&ServerKind::Postgres) && options.postgres.is_none() {
        return Err("--servers postgres needs --postgres".into());
    }
    let operations = if options.operations.is_empty() {
        vec![Scenario::Frictionless, Scenario::Challenge]
    } else {
        options.operations.clone()
    };
    std::fs::create_dir_all(&options.work_dir)?;
    let sink = Sink::start().await?;
    let empty = if options.measures(ServerKind::Empty) {
        Some(Server::empty()?)
    } else {
        None
    };
    let mut empty_holders = holders(&sink, options.cards, "empty");
    let insert_dir = options.work_dir.join("insert");
    let _ = std::fs::remove_dir_all(&insert_dir);
    let insert = if options.measures(ServerKind::Insert) {
        Some(Server::insert(&insert_dir)?)
    } else {
        None
    };
    let mut insert_holders = holders(&sink, options.cards, "insert");

    let sqlite_dir = options.work_dir.join("sqlite");
    // A database left by an earlier run would hold the same cards already.
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    let sqlite_url = format!("sqlite://{}", sqlite_dir.join("mamori.db").display());
    let sqlite = async {
        if options.measures(ServerKind::Sqlite) {
            target("sqlite", options, &sink, &sqlite_dir, sqlite_url)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let postgres_dir = options.work_dir.join("postgres");
    let _ = std::fs::remove_dir_all(&postgres_dir);
    let postgres = async {
        match &options.postgres {
            Some(server_url) if options.measures(ServerKind::Postgres) => {
                let url = size::fresh_postgres(server_url).await?;
                target("postgres", options, &sink, &postgres_dir, url)
                    .await
                    .map(Some)
            }
            _ => Ok(None),
        }
    };
    // Both verifiers trust their cards' devices at the same time: each has its own outbox,
    // and mail is what that step waits for.
    let (sqlite, postgres) = tokio::join!(sqlite, postgres);
    let mut targets: Vec<Target> = sqlite?.into_iter().chain(postgres?).collect();

    let mut runs = Vec::new();
    let empty_context = Arc::new(Context::new(String::new()));
    for &clients in &options.clients {
        let plan = Plan {
            clients,
            warmup: options.warmup,
            window: options.window,
            max_operations: options.max_operations,
        };
        for (name, baseline, holders) in [
            ("empty", &empty, &mut empty_holders),
            ("insert", &insert, &mut insert_holders),
        ] {
            if let Some(server) = baseline {
                let (measured, back) = load::run(
                    Scenario::Empty,
                    plan,
                    server,
                    &empty_context,
                    std::mem::take(holders),
                )
                .await;
                *holders = back;
                runs.push(record(name, Scenario::Empty, clients, measured, None));
                log(runs.last());
            }
        }
        for &scenario in &operations {
            for target in &mut targets {
                let before = size::read(&target.database_url).await.ok();
                let measured = target.run(scenario, plan).await;
                let after = size::read(&target.database_url).await.ok();
                let store = before.zip(after).map(|(b, a)| [b, a]);
                runs.push(record(target.name, scenario, clients, measured, store));
                log(runs.last());
            }
        }
    }
    let mut growth = Vec::new();
    if options.growth > 0 {
        for target in &mut targets {
            match grow(target, options.growth).await {
                Ok(grown) => growth.push(grown),
                Err(e) => log_line(&format!("{}: store growth not measured: {e}", target.name)),
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
        growth,
    })
}

/// Creates `count` frictionless authentications on `target` (at most [`GROWTH_LIMIT`]) and
/// reads its store before and after.
async fn grow(target: &mut Target, count: u64) -> Result<Growth, Failure> {
    let plan = Plan {
        clients: GROWTH_CLIENTS,
        warmup: Duration::ZERO,
        window: GROWTH_LIMIT,
        max_operations: count,
    };
    let before = size::read(&target.database_url).await?;
    let started = Instant::now();
    let measured = target.run(Scenario::Frictionless, plan).await;
    let seconds = started.elapsed().as_secs_f64();
    let after = size::read(&target.database_url).await?;
    let grown = Growth {
        target: target.name.to_owned(),
        clients: GROWTH_CLIENTS,
        requested: count,
        store: [before, after],
        errors: measured.errors,
        seconds,
    };
    log_line(&format!(
        "{:<9} growth: {} authentications in {seconds:.0} s, {:.1} MB → {:.1} MB, errors {}",
        grown.target,
        after.authentications - before.authentications,
        before.bytes as f64 / 1e6,
        after.bytes as f64 / 1e6,
        grown.errors,
    ));
    Ok(grown)
}

/// Starts the verifier on `database_url`, trusts a device (and binds its key) for every card,
/// and checks that the verifier demands the key's proof from a trusted device.
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
    let first = holders.first().ok_or("no cards to measure with")?;
    let mut connection = Connection::open(verifier.server.address).await?;
    flows::keyed_device_needs_its_proof(&mut connection, &context, &first.card, PROBE_ORDER)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
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
        client: measured.client,
        store,
    }
}

/// One progress line on stderr, so a long suite shows it is alive.
fn log_line(line: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("    {line}");
    }
}

/// The progress line of a run.
fn log(run: Option<&Run>) {
    let Some(run) = run else { return };
    let rate = run.operations as f64 / run.seconds.max(1e-9);
    let p50 = run.latency_us.map_or(0.0, |l| l[0] / 1000.0);
    let p99 = run.latency_us.map_or(0.0, |l| l[2] / 1000.0);
    let usage = run.server.unwrap_or_default();
    let per_op = 1.0 / (run.operations.max(1) as f64);
    let cpu = (usage.user + usage.system) * 1e6 * per_op;
    let switches = usage.switches as f64 * per_op;
    let client = run.client.unwrap_or_default();
    let client_cpu = (client.user + client.system) * 1e6 * per_op;
    log_line(&format!(
        "{:<9} {:<12} {:>3} clients: {rate:>8.0} ops/s  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  \
         server {cpu:>5.0} µs CPU {switches:>4.0} cs/op  client {client_cpu:>4.0} µs CPU/op  \
         errors {}{}",
        run.target,
        format!("{:?}", run.scenario).to_lowercase(),
        run.clients,
        run.errors,
        run.first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    ));
}
