//! `mamori-bench`: the measurements behind `cargo xtask bench` that need Rust, and the writer of
//! BENCHMARKS.md. xtask builds it in release mode and runs it; it is not meant to be run alone,
//! though every subcommand works by hand.
//!
//! # Layout
//!
//! - `suite`: `mamori-bench load`, the verifier throughput suite (empty and one-insert
//!   baselines, SQLite, PostgreSQL; frictionless and challenge; 1 to 256 clients; store growth over 100 000
//!   authentications), written as JSON. `--servers`, `--operations`, `--clients` and
//!   `--growth 0` cut it down to one measurement that takes a minute.
//! - `load`: the closed-loop load generator and its measured windows.
//! - `flows`: the operations one simulated client performs, each checking its answers.
//! - `http`: one kept-alive HTTP/1.1 connection per client.
//! - `verifier`: the servers under test as child processes: the `mamori` binary on a prepared
//!   database, `serve-empty` and `serve-insert`.
//! - `empty`: the empty axum handler, the baseline.
//! - `insert`: an axum handler that makes one SQLite insert per request, the second baseline.
//! - `smtp`: a loopback SMTP receiver that hands each code mail to the client waiting for it.
//! - `cards`: the simulated cardholders.
//! - `browser_key`: their browsers' device keys, signing the proofs the widget sends.
//! - `size`: the store's size and row count, and a fresh PostgreSQL database.
//! - `report`: `mamori-bench report`, every result file turned into BENCHMARKS.md.
//! - `stats`: percentiles, medians and spreads, one definition for every table.
//!
//! Every server it starts or talks to listens on 127.0.0.1; every run is bounded in time and in
//! operations.

mod browser_key;
mod cards;
mod empty;
mod flows;
mod http;
mod insert;
mod load;
mod report;
mod size;
mod smtp;
mod stats;
mod suite;
mod verifier;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Benchmarks of mamori against its peers; `cargo xtask bench` runs them all.
#[derive(Debug, Parser)]
#[command(name = "mamori-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure verifier throughput and latency against an empty axum handler and a one-insert
    /// handler; write JSON.
    Load {
        /// The `mamori` release binary.
        #[arg(long)]
        mamori: PathBuf,
        /// A PostgreSQL superuser URL on 127.0.0.1; without it only SQLite is measured.
        #[arg(long)]
        postgres: Option<String>,
        /// Where databases, configurations and server logs go.
        #[arg(long)]
        work_dir: PathBuf,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
        /// Simulated cardholders, each with an enrolled card and a trusted browser.
        #[arg(long, default_value_t = 256)]
        cards: usize,
        /// Warm-up seconds per run.
        #[arg(long, default_value_t = 1.0)]
        warmup: f64,
        /// Measured seconds per run.
        #[arg(long, default_value_t = 4.0)]
        window: f64,
        /// At most this many operations per measured window.
        #[arg(long, default_value_t = 200_000)]
        max_operations: u64,
        /// The servers to measure, comma-separated [default: all; `postgres` needs
        /// `--postgres`].
        #[arg(long, value_enum, value_delimiter = ',')]
        servers: Vec<suite::ServerKind>,
        /// The verifiers' operations to measure, comma-separated [default: all].
        #[arg(long, value_enum, value_delimiter = ',')]
        operations: Vec<load::Scenario>,
        /// The client counts to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = suite::CLIENTS)]
        clients: Vec<usize>,
        /// Frictionless authentications to create on each store, after the runs, to measure
        /// its growth; 0 skips that step (about 90 s per store at 1,100/s).
        #[arg(long, default_value_t = 100_000)]
        growth: u64,
    },
    /// Serve the empty baseline on 127.0.0.1 (started by `load`).
    #[command(hide = true)]
    ServeEmpty,
    /// Serve the one-insert baseline on 127.0.0.1 (started by `load`).
    #[command(hide = true)]
    ServeInsert {
        /// Where its database goes.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Write BENCHMARKS.md from the result files of one `cargo xtask bench`.
    Report(report::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::ServeEmpty => {
            runtime().and_then(|rt| rt.block_on(empty::serve()).map_err(Into::into))
        }
        Command::ServeInsert { dir } => runtime().and_then(|rt| rt.block_on(insert::serve(&dir))),
        Command::Load {
            mamori,
            postgres,
            work_dir,
            out,
            cards,
            warmup,
            window,
            max_operations,
            servers,
            operations,
            clients,
            growth,
        } => {
            let options = suite::Options {
                mamori,
                postgres,
                work_dir,
                cards,
                warmup: Duration::from_secs_f64(warmup),
                window: Duration::from_secs_f64(window),
                max_operations,
                servers,
                operations,
                clients,
                growth,
            };
            runtime()
                .and_then(|rt| rt.block_on(suite::run(&options)))
                .and_then(|results| {
                    std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
                    Ok(())
                })
        }
        Command::Report(args) => report::write(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("mamori-bench: {error}");
            }
            ExitCode::FAILURE
        }
    }
}

/// tokio's multi-threaded runtime with its defaults (a worker per core), as `#[tokio::main]`
/// gives `mamori serve`: the baseline runs on the same runtime as the verifier.
fn runtime() -> Result<tokio::runtime::Runtime, http::Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
