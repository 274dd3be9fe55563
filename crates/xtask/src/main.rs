//! `cargo xtask`: the project's own tooling, in plain Rust so that it runs wherever cargo does.
//!
//! # Layout
//!
//! - `provision`: finds or installs what builds and tests need beyond the native Rust toolchain
//!   (a wasm32 standard library, Chromium with chromedriver, the wasm-bindgen CLI).
//! - `test`: `cargo xtask test`, the ordered list of checks and test suites CI runs.
//! - `summary`: reads test output (result lines, golden-vector digests) and prints the totals.
//! - `demo`: `cargo xtask demo`, the demo shop on a local verifier.
//! - `e2e`: the end-to-end suite's provisioning and its runs (script tag, npm import).
//! - `topology`: the topology suite (`mamori serve`, SMTP, a shop on another origin) and the
//!   interop test of the merchant guide's verification snippets: provisioning and runs.
//! - `production`: `cargo xtask production`, the verifier built as `deploy/` does, checked to hold
//!   no demo and no conformance suite, then the demo build the end-to-end suites run.
//! - `package`: `cargo xtask package`, the widget and wasm verifier built for release and packaged.
//! - `postgres`: a throwaway PostgreSQL cluster for the test run, or the user's `DATABASE_URL`.
//! - `bench`: `cargo xtask bench`, every benchmark against its peers, and BENCHMARKS.md.
//! - `fuzz`: `cargo xtask fuzz`, the libFuzzer targets of `fuzz/` for a fixed time each.
//! - `cmd`: runs child processes with a header, their output streamed and kept, and a wall time.

// A command-line tool talks to its user on stdout and stderr; that is its whole interface.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod cmd;
mod demo;
mod e2e;
mod fuzz;
mod mailcheck;
mod package;
mod postgres;
mod production;
mod provision;
mod summary;
mod test;
mod topology;
mod venv;

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: cargo xtask <command>

Commands:
  test       provision, then run formatting, lints, docs and every test suite, natively and
             as wasm32 in headless Chromium (what CI runs); the last line is the test total
  demo       provision, build the widget and the verifier, then run the demo shop on
             http://127.0.0.1:8080 (Ctrl-C stops it)
  package    build the widget and the wasm verifier for release: script-tag assets in
             target/www, the npm package in target/npm/mamori; prints sizes and SRI hashes
  bench      provision, build for release, measure against peers (jsonwebtoken, fast-jwt,
             jose, an empty axum handler, FingerprintJS) and rewrite BENCHMARKS.md (about 15 min)
  bench verify
             only result-token verification in Node (mamori/verify against fast-jwt, jose and
             jsonwebtoken), rewriting only its section of BENCHMARKS.md (a few minutes)
  fuzz [--seconds N] [target…]
             install cargo-fuzz if needed, then run each fuzz target of fuzz/ (all by
             default) for N seconds (default 60); fails on a crash, naming its input
  production build `mamori` without features, as deploy/ does, and check it has no `demo`
             command, demo key or conformance suite; then build it with the demo
  provision  find or install the wasm32 toolchain, Chromium and the wasm-bindgen CLI
  help       show this message
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["test"] => return test::run(&root),
        ["demo"] => demo::run(&root),
        ["provision"] => provision::run(&root).map(drop),
        ["package"] => package::run(&root),
        ["production"] => production::run(&root),
        ["bench"] => bench::run(&root, bench::Part::All),
        ["bench", "verify"] => bench::run(&root, bench::Part::NodeVerify),
        ["fuzz", rest @ ..] => fuzz::run(&root, rest),
        [] | ["help" | "-h" | "--help"] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("unknown arguments: {}\n\n{USAGE}", args.join(" "));
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nerror: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, where every command runs.
///
/// Taken from where this crate was compiled rather than from the current directory, so that
/// `cargo xtask` behaves the same from any subdirectory.
fn workspace_root() -> PathBuf {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    // Only cosmetic: a canonical path reads better in printed command lines.
    root.canonicalize().unwrap_or(root)
}

/// Why an xtask command could not finish. The message says what went wrong and, where the user
/// has to act, the exact command to run.
#[derive(Debug)]
struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
