//! The mail checks (`crates/mamori-server/tests/mail_checks.rs`): every template signed,
//! delivered over SMTP, and checked by dkimpy and SpamAssassin's local rules. SpamAssassin comes
//! from Debian (provisioning installs it with the other packages); dkimpy, with PyNaCl for
//! Ed25519 signatures, comes from PyPI into a virtual environment under `target/mail/venv`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, cmd, topology};

/// The Python packages the checks verify DKIM signatures with, pinned.
const PACKAGES: &[&str] = &["dkimpy==1.1.8", "pynacl==1.6.2"];

/// Makes the virtual environment with [`PACKAGES`], when missing or holding other versions.
///
/// # Errors
///
/// When Python 3 with `venv` and `pip` cannot be found or installed, or PyPI is unreachable.
pub(crate) fn provision(root: &Path) -> Result<(), Error> {
    let python = python(root);
    let installed = cmd::probe(Command::new(&python).args([
        "-c",
        "import importlib.metadata as m; print(f\"dkimpy=={m.version('dkimpy')} \
         pynacl=={m.version('pynacl')}\")",
    ]));
    if installed.as_deref().map(str::trim) == Some(PACKAGES.join(" ").as_str()) {
        return Ok(());
    }
    let venv = venv(root);
    println!(
        "    making a Python environment with {} in {}, to verify the mails' DKIM signatures",
        PACKAGES.join(" "),
        venv.display()
    );
    if !topology::create_venv(&venv)? {
        return Err(Error(format!(
            "`python3 -m venv {}` failed; Python 3 with its venv module is needed (on Debian: \
             apt-get install python3-venv)",
            venv.display()
        )));
    }
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(PACKAGES);
    if !cmd::step("pip install dkimpy pynacl", &mut pip)?.success {
        return Err(Error(format!(
            "`pip install {}` failed; PyPI must be reachable",
            PACKAGES.join(" ")
        )));
    }
    Ok(())
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
        .env("MAMORI_MAIL_PYTHON", python(root));
    command
}

/// The virtual environment's directory.
fn venv(root: &Path) -> PathBuf {
    root.join("target/mail/venv")
}

/// The virtual environment's Python.
fn python(root: &Path) -> PathBuf {
    venv(root).join("bin/python")
}
