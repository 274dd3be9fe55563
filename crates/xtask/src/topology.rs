//! The topology suite (`tests/e2e/topology`) and the interop test of the merchant guide's
//! verification snippets (`tests/interop`): what they need beyond the end-to-end suite, and the
//! commands that run them.
//!
//! The topology suite deploys mamori as an issuer and a merchant would: `mamori serve` from a
//! configuration file (after `mamori init`), mail over SMTP to a receiver in the test process,
//! and the merchant's shop as a separate Node process on another origin (127.0.0.2) that loads
//! the widget from the verifier (script tag) or from the npm package, and verifies results with
//! `mamori/verify` or with `jose`. It runs once per way of loading the widget, with the
//! end-to-end suite's npm packages, after `cargo xtask package` and the `mamori` build.
//!
//! The interop test runs the guide's snippets — `jose` in Node, PyJWT and plain HMAC in Python —
//! against the golden token vectors. It needs `tests/interop`'s npm packages (`jose`) and a
//! Python virtual environment with a pinned PyJWT, made here under `target/interop/venv`.

use std::path::Path;
use std::process::Command;

use crate::e2e::{self, Widget};
use crate::venv::Venv;
use crate::{Error, summary};

/// The interop test's directory, with its own package.json and committed package-lock.json.
const INTEROP_DIR: &str = "tests/interop";

/// The PyJWT release the Python snippet is tested with.
const PYJWT: &str = "pyjwt==2.15.1";

/// Installs the interop test's npm packages (`npm ci`, when stale) and its Python environment
/// (a venv with [`PYJWT`], when missing or holding another version).
///
/// # Errors
///
/// When `npm ci` fails, or Python 3 with `venv` and `pip` cannot be found or installed.
pub(crate) fn provision(root: &Path) -> Result<(), Error> {
    e2e::npm_ci(root, INTEROP_DIR, "jose")?;
    venv(root).provision(
        &[PYJWT],
        "for the merchant guide's PyJWT snippet (tests/interop)",
    )
}

/// The topology suite, run once with the widget loaded as `widget`. TAP goes to stdout for the
/// summary, the readable report to stderr.
pub(crate) fn command(root: &Path, widget: Widget) -> Command {
    let mut command = Command::new("node");
    command
        .current_dir(root)
        .arg(root.join("tests/e2e/topology/run.mjs"))
        .arg(format!("--widget={}", widget.name()))
        .args(summary::node_reporters(root))
        .env("MAMORI_BIN", e2e::mamori_binary(root))
        // Story 1 hands its live result token to the guide's snippets too.
        .env("MAMORI_INTEROP_PYTHON", venv(root).python());
    command
}

/// The interop test: the guide's snippets against the golden vectors, and the guide showing
/// each snippet as it is.
pub(crate) fn interop_command(root: &Path) -> Command {
    let mut command = Command::new("node");
    command
        .current_dir(root)
        .arg("--test")
        .args(summary::node_reporters(root))
        .arg(root.join(INTEROP_DIR).join("interop.test.mjs"))
        .env("MAMORI_INTEROP_PYTHON", venv(root).python());
    command
}

/// The virtual environment.
fn venv(root: &Path) -> Venv {
    Venv::at(root.join("target/interop/venv"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd;

    #[test]
    fn the_suites_report_tap_on_stdout_with_the_venv_python() {
        let root = Path::new("/repo");
        for command in [command(root, Widget::ScriptTag), interop_command(root)] {
            let line = cmd::display(&command);
            assert!(
                line.contains("--test-reporter=tap --test-reporter-destination=stdout"),
                "{line}"
            );
            let python = command
                .get_envs()
                .find(|(name, _)| *name == "MAMORI_INTEROP_PYTHON")
                .and_then(|(_, value)| value);
            assert_eq!(
                python,
                Some(Path::new("/repo/target/interop/venv/bin/python").as_os_str())
            );
        }
        assert!(
            cmd::display(&command(root, Widget::Npm))
                .contains("node /repo/tests/e2e/topology/run.mjs --widget=npm")
        );
    }
}
