//! `cargo xtask bench`: every benchmark against its peers, in one run, and BENCHMARKS.md
//! rewritten from the results.
//!
//! Steps, in order: provisioning and the release wasm build (`package`); the release `mamori`
//! and `mamori-bench` binaries; the Node packages of `bench/` with `npm ci`, so the peers'
//! versions are the ones in the committed lock file; criterion (mamori-core against
//! `jsonwebtoken`); the Node verify script (the npm package against `fast-jwt`, `jose` and
//! `jsonwebtoken`); the verifier load suite on SQLite and a throwaway PostgreSQL cluster
//! against an empty axum handler; the widget and FingerprintJS in headless Chromium; and the
//! report. Results go to `target/bench/`; each step's exact command and wall time go to
//! `target/bench/steps.tsv` and from there into the report.
//!
//! `cargo xtask bench verify` runs only what result-token verification in Node needs (the
//! package, `npm ci`, the Node verify script) and rewrites only that section of BENCHMARKS.md,
//! its budget rows and its step, saying so in the section: a few minutes instead of the whole
//! run's quarter of an hour.
//!
//! A measuring step that fails leaves its section of the report saying so, and the command
//! fails at the end; a failed build stops the run at once. Speed is never asserted here or in
//! `cargo xtask test`: the report states the budgets and whether this run met them.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::Error;
use crate::{cmd, package, provision};

/// Criterion's bounds per benchmark: enough samples for a stable median on a quiet machine,
/// short enough that the ten benchmarks take well under a minute.
const CRITERION_ARGS: &[&str] = &["--warm-up-time", "1", "--measurement-time", "3"];

/// How much of the bench to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Everything, and the whole report.
    All,
    /// Verification in Node, and its section of the report.
    NodeVerify,
}

/// `cargo xtask bench`, or `cargo xtask bench verify` for [`Part::NodeVerify`].
///
/// # Errors
///
/// When provisioning or a build fails, or when any measuring step failed (after the report is
/// written with what was measured).
pub(crate) fn run(root: &Path, part: Part) -> Result<(), Error> {
    let start = Instant::now();
    let results = root.join("target/bench");
    fs::create_dir_all(&results)
        .map_err(|e| Error(format!("creating {}: {e}", results.display())))?;
    let mut log = Log {
        root: root.to_path_buf(),
        path: results.join("steps.tsv"),
        text: String::new(),
        failed: Vec::new(),
    };

    let began = Instant::now();
    let tools = provision::run(root)?;
    let built = package::build(root, &tools)?;
    log.record(
        "provision; release wasm build and packages",
        began.elapsed().as_secs_f64(),
        "cargo xtask package",
    )?;

    // Writing the report needs no optimiser, so the Node part builds it in the dev profile.
    let mut build = cmd::cargo(root);
    let (title, profile) = match part {
        Part::All => {
            build.args(["build", "--release", "--package", "mamori-server"]);
            ("release build of mamori and mamori-bench", "release")
        }
        Part::NodeVerify => {
            build.arg("build");
            ("build of mamori-bench", "debug")
        }
    };
    build.args(["--package", "mamori-bench"]);
    log.require(title, &mut build)?;
    let release = root.join("target/release");
    let bench_bin = root.join("target").join(profile).join("mamori-bench");
    let mamori = release.join("mamori");

    let mut npm = Command::new("npm");
    npm.current_dir(root.join("bench"))
        .args(["ci", "--no-audit", "--no-fund"]);
    log.require("npm ci (bench/package-lock.json)", &mut npm)?;

    let criterion = root.join("target/criterion");
    if part == Part::NodeVerify {
        node_verify(&results, &built.npm, &mut log)?;
        let mut report = report_command(root, &bench_bin, &results, &criterion);
        report.args(["--only", "node"]);
        log.require("rewrite section 2 of BENCHMARKS.md", &mut report)?;
        return finish(start, log);
    }

    // Stale estimates from an earlier run must not stand in for a failed one.
    for group in ["verify_result", "verify_result_by_size"] {
        let _ = fs::remove_dir_all(criterion.join(group));
    }
    let mut native = cmd::cargo(root);
    native
        .args([
            "bench",
            "--package",
            "mamori-core",
            "--bench",
            "verify",
            "--",
        ])
        .args(CRITERION_ARGS);
    log.measure(
        "native verify: mamori-core vs jsonwebtoken (criterion)",
        &mut native,
    )?;

    node_verify(&results, &built.npm, &mut log)?;

    let load_out = fresh(&results.join("load.json"));
    let mut load = Command::new(&bench_bin);
    load.current_dir(root)
        .arg("load")
        .arg("--mamori")
        .arg(&mamori)
        .arg("--work-dir")
        .arg(results.join("work"))
        .arg("--out")
        .arg(&load_out);
    // Lives until the load suite is done; dropping it stops and deletes a throwaway cluster.
    let postgres = match tools.postgres() {
        Ok(server) => {
            load.arg("--postgres").arg(server.url());
            Some(server)
        }
        Err(error) => {
            println!("\nPostgreSQL could not be started ({error}); measuring SQLite only");
            log.failed.push(format!("PostgreSQL: {error}"));
            None
        }
    };
    log.measure(
        "verifier load: empty handler, SQLite, PostgreSQL",
        &mut load,
    )?;
    drop(postgres);

    let widget_out = fresh(&results.join("widget.json"));
    let mut widget = Command::new("node");
    widget
        .current_dir(root)
        .arg("bench/widget.mjs")
        .arg(&widget_out)
        .env("MAMORI_BIN", &mamori)
        .env("MAMORI_WWW", &built.www);
    log.measure("widget and FingerprintJS in headless Chromium", &mut widget)?;

    let mut report = report_command(root, &bench_bin, &results, &criterion);
    report
        .arg("--wall-seconds")
        .arg(format!("{:.0}", start.elapsed().as_secs_f64()));
    log.require("write BENCHMARKS.md", &mut report)?;
    finish(start, log)
}

/// The Node verify script: the npm package against fast-jwt, jose and jsonwebtoken.
fn node_verify(results: &Path, npm: &Path, log: &mut Log) -> Result<(), Error> {
    let node_out = fresh(&results.join("node-verify.json"));
    let mut node = Command::new("node");
    node.current_dir(&log.root)
        .arg("bench/verify.mjs")
        .arg(&node_out)
        .env("MAMORI_NPM_PACKAGE", npm);
    log.measure(
        "Node verify: mamori/verify vs fast-jwt vs jose vs jsonwebtoken",
        &mut node,
    )
}

/// `mamori-bench report` over this run's results, into BENCHMARKS.md.
fn report_command(root: &Path, bench_bin: &Path, results: &Path, criterion: &Path) -> Command {
    let mut report = Command::new(bench_bin);
    report
        .current_dir(root)
        .arg("report")
        .arg("--results")
        .arg(results)
        .arg("--criterion")
        .arg(criterion)
        .arg("--out")
        .arg(root.join("BENCHMARKS.md"));
    report
}

/// Says how long the run took, and fails it if a measuring step failed.
fn finish(start: Instant, log: Log) -> Result<(), Error> {
    println!(
        "\nBENCHMARKS.md written; the bench took {}",
        cmd::seconds(start.elapsed())
    );
    if log.failed.is_empty() {
        Ok(())
    } else {
        Err(Error(format!(
            "not everything was measured: {}",
            log.failed.join("; ")
        )))
    }
}

/// `path`, with any result an earlier run left there removed.
fn fresh(path: &Path) -> PathBuf {
    let _ = fs::remove_file(path);
    path.to_path_buf()
}

/// The steps run so far, kept in `steps.tsv` for the report.
struct Log {
    root: PathBuf,
    path: PathBuf,
    text: String,
    failed: Vec<String>,
}

impl Log {
    /// Runs a step that must succeed for the rest to mean anything.
    fn require(&mut self, title: &str, command: &mut Command) -> Result<(), Error> {
        if self.step(title, command)? {
            Ok(())
        } else {
            Err(Error(format!("{title} failed: {}", cmd::display(command))))
        }
    }

    /// Runs a measuring step; a failure is remembered and the run goes on.
    fn measure(&mut self, title: &str, command: &mut Command) -> Result<(), Error> {
        if !self.step(title, command)? {
            self.failed.push(title.to_owned());
        }
        Ok(())
    }

    fn step(&mut self, title: &str, command: &mut Command) -> Result<bool, Error> {
        let finished = cmd::step(title, command)?;
        self.record(
            title,
            finished.elapsed.as_secs_f64(),
            &cmd::display(command),
        )?;
        Ok(finished.success)
    }

    fn record(&mut self, title: &str, seconds: f64, command: &str) -> Result<(), Error> {
        // Paths under the workspace are shown relative to it, and cargo by its name: the
        // report is read on other machines.
        let mut command = command.replace(&format!("{}/", self.root.display()), "");
        if let Some(cargo) = std::env::var_os("CARGO") {
            command = command.replace(&*cargo.to_string_lossy(), "cargo");
        }
        let _ = writeln!(self.text, "{title}\t{seconds:.1}\t{command}");
        fs::write(&self.path, &self.text)
            .map_err(|e| Error(format!("writing {}: {e}", self.path.display())))
    }
}
