//! `cargo xtask production`: builds `mamori` as `deploy/` does — without Cargo features — and
//! checks the binary holds no scaffolding; then builds the demo verifier the end-to-end suites
//! run, and checks that it does hold what the first must not.
//!
//! The production build is a debug build of the `mamori` binary alone, not `--release`: the
//! features, not the profile, decide what is compiled in, and a debug build shares every
//! dependency with the demo build after it, so the check costs one more compile of
//! `mamori-server` rather than a second optimised build of everything.
//!
//! On the production binary:
//! - `mamori --help` lists no `demo` command, and `mamori demo --help` is refused;
//! - the file holds neither the demo merchant's secret nor its printed key;
//! - it names no source file of the demo (`src/demo/`) or of the store conformance suite
//!   (`conformance.rs`).
//!
//! The demo build must then list the command and hold the secret, the key and the demo's source
//! files: proof that the inspection sees what it looks for. (A build with `conformance` names
//! `conformance.rs` in its debug information the same way; the demo build does not turn that
//! feature on, so it is not the control for that one.)
//!
//! The demo build comes last so that `target/debug/mamori` is the one `cargo xtask demo` and the
//! end-to-end suites start.

use std::path::Path;
use std::process::Command;

use crate::{Error, cmd, e2e};

/// The demo merchant's secret, as `mamori-server/src/demo/mod.rs` declares it.
const DEMO_SECRET: &str = "mamori-demo-merchant-secret-key!";

/// How the demo prints its merchant key: `mamori_sk.demo.<base64url of DEMO_SECRET>`.
const DEMO_KEY_PREFIX: &str = "mamori_sk.demo.";

/// A source path whose presence (in panic locations and debug information) means the demo was
/// compiled in.
const DEMO_SOURCE: &str = "src/demo/";

/// The file name of the store conformance suite; debug information keeps file names apart from
/// their directories, so the name alone is what a build with the suite holds.
const CONFORMANCE_SOURCE: &str = "conformance.rs";

/// Builds and inspects both binaries.
///
/// # Errors
///
/// When a build fails, a binary cannot be run or read, or a check fails (naming each finding).
pub(crate) fn run(root: &Path) -> Result<(), Error> {
    let mut production = cmd::cargo(root);
    production.args(["build", "--package", "mamori-server", "--bin", "mamori"]);
    build("production build of mamori (no features)", &mut production)?;
    let binary = e2e::mamori_binary(root);
    let found = inspect(&binary)?;
    let mut problems = Vec::new();
    if found.demo_command {
        problems.push("`mamori --help` lists a `demo` command".to_owned());
    }
    if found.demo_runs {
        problems.push("`mamori demo --help` is accepted".to_owned());
    }
    for text in &found.texts {
        problems.push(format!("the binary holds {text:?}"));
    }
    if !problems.is_empty() {
        return Err(Error(format!(
            "the production build holds scaffolding: {}",
            problems.join("; ")
        )));
    }
    println!("    ok: no `demo` command, no demo key, no demo or conformance sources");

    build(
        "the verifier with the demo (mamori)",
        &mut e2e::build_verifier(root),
    )?;
    let found = inspect(&binary)?;
    let missing: Vec<String> = [DEMO_SECRET, DEMO_KEY_PREFIX, DEMO_SOURCE]
        .iter()
        .filter(|text| !found.texts.contains(text))
        .map(|text| format!("{text:?}"))
        .collect();
    if !found.demo_command || !found.demo_runs || !missing.is_empty() {
        return Err(Error(format!(
            "the demo build does not show what the production check looks for (demo command \
             listed: {}, accepted: {}; missing: {}): the check above proves nothing until it does",
            found.demo_command,
            found.demo_runs,
            missing.join(", ")
        )));
    }
    println!("    ok: the demo build has the `demo` command, the demo key and the demo sources");
    Ok(())
}

fn build(title: &str, command: &mut Command) -> Result<(), Error> {
    if cmd::step(title, command)?.success {
        Ok(())
    } else {
        Err(Error(format!("`{}` failed", cmd::display(command))))
    }
}

/// What [`inspect`] finds of the demo and the conformance suite in a `mamori` binary.
struct Found {
    /// `mamori --help` lists `demo` among its commands.
    demo_command: bool,
    /// `mamori demo --help` succeeds.
    demo_runs: bool,
    /// Which of the demo's strings and the scaffolding's source paths the file contains.
    texts: Vec<&'static str>,
}

fn inspect(binary: &Path) -> Result<Found, Error> {
    let help = output(Command::new(binary).arg("--help"))?
        .ok_or_else(|| Error(format!("`{} --help` failed", binary.display())))?;
    // `--help` only, never the command itself: on a build that has it, `demo --help` prints
    // and exits, where `demo` would start serving.
    let demo_runs = output(Command::new(binary).args(["demo", "--help"]))?.is_some();
    let bytes =
        std::fs::read(binary).map_err(|e| Error(format!("reading {}: {e}", binary.display())))?;
    // Every needle is ASCII, which the lossy conversion keeps byte for byte; `contains` then
    // runs the standard library's (optimised) search even in this debug build.
    let text = String::from_utf8_lossy(&bytes);
    let texts = [
        DEMO_SECRET,
        DEMO_KEY_PREFIX,
        DEMO_SOURCE,
        CONFORMANCE_SOURCE,
    ]
    .iter()
    .filter(|needle| text.contains(**needle))
    .copied()
    .collect();
    Ok(Found {
        demo_command: lists_command(&help, "demo"),
        demo_runs,
        texts,
    })
}

/// The command's stdout when it succeeds, `None` when it fails.
///
/// # Errors
///
/// When it cannot be started.
fn output(command: &mut Command) -> Result<Option<String>, Error> {
    let output = command
        .output()
        .map_err(|e| Error(format!("cannot run `{}`: {e}", cmd::display(command))))?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// Whether clap's `--help` text lists `name` in its "Commands:" section.
fn lists_command(help: &str, name: &str) -> bool {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with(' '))
        .any(|line| line.split_whitespace().next() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_off_the_help_text() {
        let help = "mamori: checkout authentication\n\nUsage: mamori [OPTIONS] <COMMAND>\n\n\
                    Commands:\n  init        Create the secrets file\n  \
                    serve       Serve the verifier (not a demo)\n  \
                    demo        Run a seeded demo\n\n\
                    Options:\n      --config <CONFIG>  demo\n";
        assert!(lists_command(help, "serve"));
        assert!(lists_command(help, "demo"));
        let production = help.replace("  demo        Run a seeded demo\n", "");
        assert!(!lists_command(&production, "demo"), "{production}");
        assert!(!lists_command(&production, "Options:"));
    }
}
