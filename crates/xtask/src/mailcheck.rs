//! The mail checks (`crates/mamori-server/tests/mail_checks.rs`): every template signed,
//! delivered over SMTP, and checked by dkimpy and SpamAssassin's local rules. SpamAssassin comes
//! from Debian (provisioning installs it with the other packages); dkimpy, with PyNaCl for
//! Ed25519 signatures, comes from PyPI into a virtual environment under `target/mail/venv`.

use std::path::Path;
use std::process::Command;

use crate::venv::Venv;
use crate::{Error, cmd};

/// The Python packages the checks verify DKIM signatures with, pinned.
const PACKAGES: &[&str] = &["dkimpy==1.1.8", "pynacl==1.6.2"];

/// Makes the virtual environment with [`PACKAGES`], when missing or holding other versions.
///
/// # Errors
///
/// When Python 3 with `venv` and `pip` cannot be found or installed, or PyPI is unreachable.
pub(crate) fn provision(root: &Path) -> Result<(), Error> {
    venv(root).provision(PACKAGES, "to verify the mails' DKIM signatures")
}

/// The mail checks, with the scores printed (`--nocapture`).
pub(crate) fn command(root: &Path) -> Command {
    let mut command = cmd::cargo(root);
    command
        .args([
            "test",
            "--package",
            "mamori-server",
            "--test",
            "mail_checks",
            "--",
            "--nocapture",
        ])
        .env("MAMORI_MAIL_PYTHON", venv(root).python());
    command
}

/// The virtual environment.
fn venv(root: &Path) -> Venv {
    Venv::at(root.join("target/mail/venv"))
}
