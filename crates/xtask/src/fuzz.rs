//! `cargo xtask fuzz [--seconds N] [target…]`: the libFuzzer targets of `fuzz/`, each built and
//! then run for a fixed time, with a summary of runs and crashes.
//!
//! `cargo-fuzz` is installed when missing. Its sanitizer and coverage flags (`-Zsanitizer`) are
//! nightly-only; like the Debian wasm build (`provision`), we let the machine's stable compiler
//! take them with `RUSTC_BOOTSTRAP=1` rather than require a second toolchain.
//!
//! Each target reads its committed seeds from `fuzz/corpus/<target>` and writes what it learns
//! to `fuzz/target/corpus/<target>`, outside git, which later runs start from. A crash leaves
//! its input under `fuzz/artifacts/<target>/`; the summary names the file and the command that
//! replays it, and the command fails. This is not part of `cargo xtask test`: a useful run takes
//! minutes per target.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;
use crate::cmd;

/// How long each target runs when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;

/// A target of `fuzz/Cargo.toml`.
struct Target {
    name: &'static str,
    /// The Cargo features of the fuzz package it needs.
    features: Option<&'static str>,
}

/// Every target, in the order they run: mamori-core's (quick to build) first, then the request
/// bodies, which need the whole verifier built with sanitizers.
const TARGETS: &[Target] = &[
    Target {
        name: "token_verify",
        features: None,
    },
    Target {
        name: "token_mutate",
        features: None,
    },
    Target {
        name: "otp_normalize",
        features: None,
    },
    Target {
        name: "fingerprint_parse",
        features: None,
    },
    Target {
        name: "api_bodies",
        features: Some("server"),
    },
];

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    seconds: u64,
    /// Names from [`TARGETS`]; empty means all of them.
    targets: Vec<String>,
}

/// What one target's run left behind.
struct Outcome {
    target: &'static Target,
    build: Duration,
    fuzzed: Duration,
    /// Inputs executed, from libFuzzer's final statistics.
    runs: Option<u64>,
    /// Whether the fuzzer exited cleanly after its time.
    success: bool,
    /// The input that crashed it, as libFuzzer reported it.
    artifact: Option<String>,
}

/// `cargo xtask fuzz`, with the arguments after `fuzz`.
///
/// # Errors
///
/// On an unknown argument or target, when `cargo-fuzz` cannot be installed or a target does not
/// build, and when any target crashed (after the summary).
pub(crate) fn run(root: &Path, args: &[&str]) -> Result<(), Error> {
    let options = parse(args)?;
    let targets: Vec<&'static Target> = if options.targets.is_empty() {
        TARGETS.iter().collect()
    } else {
        options
            .targets
            .iter()
            .map(|name| find(name))
            .collect::<Result<_, _>>()?
    };
    install_cargo_fuzz(root)?;

    let seconds = Duration::from_secs(options.seconds);
    let mut outcomes = Vec::new();
    for target in targets {
        outcomes.push(fuzz(root, target, seconds)?);
    }

    println!("\nfuzz summary ({} per target):", cmd::seconds(seconds));
    println!(
        "    {:<18} {:>8} {:>8} {:>12} {:>9}  result",
        "target", "build", "fuzzed", "runs", "runs/s"
    );
    for outcome in &outcomes {
        let runs = outcome.runs.map_or("?".to_owned(), |runs| runs.to_string());
        let rate = outcome.runs.map_or("?".to_owned(), |runs| {
            format!(
                "{:.0}",
                runs as f64 / outcome.fuzzed.as_secs_f64().max(1e-3)
            )
        });
        let result = match (&outcome.artifact, outcome.success) {
            (Some(artifact), _) => format!("CRASH {artifact}"),
            (None, true) => "ok".to_owned(),
            (None, false) => "FAILED (no artifact; see the output above)".to_owned(),
        };
        println!(
            "    {:<18} {:>8} {:>8} {:>12} {:>9}  {result}",
            outcome.target.name,
            cmd::seconds(outcome.build),
            cmd::seconds(outcome.fuzzed),
            runs,
            rate
        );
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.success).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let replays: Vec<String> = failed
        .iter()
        .map(|o| {
            let mut replay = cargo_fuzz(root, "run", o.target);
            replay.arg(o.artifact.as_deref().unwrap_or("<input>"));
            cmd::display(&replay)
        })
        .collect();
    Err(Error(format!(
        "{} fuzz target(s) failed; replay with:\n    {}",
        failed.len(),
        replays.join("\n    ")
    )))
}

fn parse(args: &[&str]) -> Result<Options, Error> {
    let mut options = Options {
        seconds: DEFAULT_SECONDS,
        targets: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if *arg == "--seconds" {
            options.seconds = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| Error("--seconds takes a whole number above 0".into()))?;
        } else if arg.starts_with('-') {
            return Err(Error(format!(
                "unknown option {arg} for `cargo xtask fuzz`"
            )));
        } else {
            options.targets.push((*arg).to_owned());
        }
    }
    Ok(options)
}

fn find(name: &str) -> Result<&'static Target, Error> {
    TARGETS.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        Error(format!(
            "no fuzz target `{name}`; the targets are {}",
            names.join(", ")
        ))
    })
}

/// Finds `cargo fuzz`, or installs it with the versions its lock file pins.
fn install_cargo_fuzz(root: &Path) -> Result<(), Error> {
    if cmd::probe(cmd::cargo(root).args(["fuzz", "--version"])).is_some() {
        return Ok(());
    }
    println!("    installing cargo-fuzz, which builds and runs the libFuzzer targets (once)");
    let mut install = cmd::cargo(root);
    install.args(["install", "cargo-fuzz", "--locked"]);
    let finished = cmd::step("install cargo-fuzz", &mut install)?;
    if finished.success {
        Ok(())
    } else {
        Err(Error(format!(
            "could not install cargo-fuzz; run:\n    {}",
            cmd::display(&install)
        )))
    }
}

/// `cargo fuzz <subcommand>` for `target`, with the nightly flags allowed on a stable compiler.
fn cargo_fuzz(root: &Path, subcommand: &str, target: &Target) -> Command {
    let mut command = cmd::cargo(root);
    command
        .args(["fuzz", subcommand, "--fuzz-dir"])
        // Absolute, so the artifact paths libFuzzer prints work from any directory.
        .arg(root.join("fuzz"))
        .env("RUSTC_BOOTSTRAP", "1");
    if let Some(features) = target.features {
        command.args(["--features", features]);
    }
    command.arg(target.name);
    command
}

/// Builds `target`, then runs it for `seconds`.
fn fuzz(root: &Path, target: &'static Target, seconds: Duration) -> Result<Outcome, Error> {
    // Built apart from the run so that its time is not counted as fuzzing time.
    let built = cmd::step(
        &format!("build {}", target.name),
        &mut cargo_fuzz(root, "build", target),
    )?;
    if !built.success {
        return Err(Error(format!("fuzz target {} does not build", target.name)));
    }

    let work = root.join("fuzz/target/corpus").join(target.name);
    fs::create_dir_all(&work).map_err(|e| Error(format!("creating {}: {e}", work.display())))?;
    let mut command = cargo_fuzz(root, "run", target);
    command
        .arg(&work)
        .arg(root.join("fuzz/corpus").join(target.name))
        .arg("--")
        .arg(format!("-max_total_time={}", seconds.as_secs()))
        .arg("-print_final_stats=1");
    let title = format!("fuzz {}", target.name);
    println!("\n==> {title}\n    $ {}", cmd::display(&command));
    let start = Instant::now();
    let (success, report) = run_keeping_stderr(&mut command)?;
    let fuzzed = start.elapsed();
    let outcome = if success { "ok" } else { "FAILED" };
    println!("<== {title}: {outcome} in {}", cmd::seconds(fuzzed));
    Ok(Outcome {
        target,
        build: built.elapsed,
        fuzzed,
        runs: executed(&report),
        success,
        artifact: artifact(&report),
    })
}

/// Runs `command` with its stderr shown as it comes and also kept: libFuzzer reports its
/// statistics and crash artifacts there, not on stdout as [`cmd::step`] expects.
fn run_keeping_stderr(command: &mut Command) -> Result<(bool, String), Error> {
    let mut child = command
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error(format!("cannot start `{}`: {e}", cmd::display(command))))?;
    let mut kept = String::new();
    if let Some(pipe) = child.stderr.take() {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    // Keep reading even if our own stderr is gone: a child blocked on a full
                    // pipe would never exit.
                    let _ = io::stderr().lock().write_all(&line);
                    kept.push_str(&String::from_utf8_lossy(&line));
                }
                Err(e) => return Err(Error(format!("reading the fuzzer's output: {e}"))),
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error(format!("waiting for `{}`: {e}", cmd::display(command))))?;
    Ok((status.success(), kept))
}

/// The number of inputs libFuzzer ran: `stat::number_of_executed_units: N` with
/// `-print_final_stats=1`, printed on a clean exit and after a crash.
fn executed(report: &str) -> Option<u64> {
    report.lines().rev().find_map(|line| {
        line.trim()
            .strip_prefix("stat::number_of_executed_units:")?
            .trim()
            .parse()
            .ok()
    })
}

/// The crashing input libFuzzer saved: `… Test unit written to <path>`.
fn artifact(report: &str) -> Option<String> {
    report.lines().rev().find_map(|line| {
        let (_, path) = line.split_once("Test unit written to ")?;
        Some(path.trim().to_owned())
    })
}

/// The targets `fuzz/Cargo.toml` declares, for the test that keeps [`TARGETS`] in step with it.
#[cfg(test)]
fn declared_targets(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(name) = line.strip_prefix("name = \"").filter(|_| in_bin) {
            names.push(name.trim_end_matches('"').to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seconds_and_targets() {
        assert_eq!(
            parse(&[]).unwrap(),
            Options {
                seconds: DEFAULT_SECONDS,
                targets: vec![]
            }
        );
        assert_eq!(
            parse(&["--seconds", "600", "token_verify", "otp_normalize"]).unwrap(),
            Options {
                seconds: 600,
                targets: vec!["token_verify".into(), "otp_normalize".into()]
            }
        );
        assert!(parse(&["--seconds"]).is_err());
        assert!(parse(&["--seconds", "0"]).is_err());
        assert!(parse(&["--minutes", "1"]).is_err());
        assert!(find("no_such_target").is_err());
    }

    #[test]
    fn every_declared_target_is_listed() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/Cargo.toml");
        let manifest = fs::read_to_string(path).unwrap();
        let mut declared = declared_targets(&manifest);
        let mut listed: Vec<String> = TARGETS.iter().map(|t| t.name.to_owned()).collect();
        declared.sort();
        listed.sort();
        assert_eq!(declared, listed);
    }

    #[test]
    fn reads_runs_and_artifact_from_libfuzzer_output() {
        let clean = "#2097152\tpulse  cov: 512 ft: 1024\nDone 2671294 runs in 11 second(s)\n\
                     stat::number_of_executed_units: 2671294\nstat::peak_rss_mb: 47\n";
        assert_eq!(executed(clean), Some(2_671_294));
        assert_eq!(artifact(clean), None);
        let crash = "==12==ERROR: libFuzzer: deadly signal\nMS: 1 ChangeByte-; base unit: 0\n\
                     artifact_prefix='/r/fuzz/artifacts/otp_normalize/'; Test unit written to \
                     /r/fuzz/artifacts/otp_normalize/crash-da39a3ee\nBase64: MQ==\n\
                     stat::number_of_executed_units: 77\n";
        assert_eq!(executed(crash), Some(77));
        assert_eq!(
            artifact(crash).as_deref(),
            Some("/r/fuzz/artifacts/otp_normalize/crash-da39a3ee")
        );
    }
}
