//! Python virtual environments under `target/`, each holding pinned packages from PyPI: the
//! interop test's PyJWT and the mail checks' dkimpy. One is made (or remade) only when it is
//! missing or holds other versions than those pinned.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, cmd};

/// A virtual environment at a directory of its own.
pub(crate) struct Venv {
    dir: PathBuf,
}

impl Venv {
    /// The environment at `dir`, made or not.
    pub(crate) fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Its Python.
    pub(crate) fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// Makes the environment with `packages` (each `name==version`) unless it holds exactly
    /// those already; `purpose` says what for when it is made.
    ///
    /// # Errors
    ///
    /// When Python 3 with `venv` and `pip` cannot be found or installed, or PyPI is unreachable.
    pub(crate) fn provision(&self, packages: &[&str], purpose: &str) -> Result<(), Error> {
        let names: Vec<&str> = packages
            .iter()
            .map(|p| p.split_once("==").map_or(*p, |(name, _)| name))
            .collect();
        let probe = format!(
            "import importlib.metadata as m; print(' '.join(n + '==' + m.version(n) for n in {names:?}))"
        );
        let installed = cmd::probe(Command::new(self.python()).args(["-c", &probe]));
        let wanted = packages.join(" ");
        if installed.as_deref().map(str::trim) == Some(wanted.as_str()) {
            return Ok(());
        }
        println!(
            "    making a Python environment with {wanted} in {}, {purpose}",
            self.dir.display()
        );
        if !create(&self.dir)? {
            return Err(Error(format!(
                "`python3 -m venv {}` failed; Python 3 with its venv module is needed (on \
                 Debian: apt-get install python3-venv)",
                self.dir.display()
            )));
        }
        let mut pip = Command::new(self.python());
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages);
        if !cmd::step(&format!("pip install {wanted}"), &mut pip)?.success {
            return Err(Error(format!(
                "`pip install {wanted}` failed; PyPI must be reachable"
            )));
        }
        Ok(())
    }
}

/// `python3 -m venv`, and once more after installing Debian's `python3-venv` (as root), which
/// Debian's Python lacks until then. Answers whether the environment exists.
fn create(dir: &Path) -> Result<bool, Error> {
    let make = || {
        let mut command = Command::new("python3");
        command.args(["-m", "venv", "--clear"]).arg(dir);
        cmd::step("python3 -m venv", &mut command).map(|f| f.success)
    };
    if make()? {
        return Ok(true);
    }
    let root_user = cmd::probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !(root_user && Path::new("/etc/debian_version").is_file()) {
        return Ok(false);
    }
    println!("    installing python3-venv, which Debian's Python needs for `python3 -m venv`");
    let mut apt = Command::new("apt-get");
    apt.env("DEBIAN_FRONTEND", "noninteractive").args([
        "-o",
        "DPkg::Lock::Timeout=600",
        "install",
        "-y",
        "python3-venv",
    ]);
    if !cmd::step("apt-get install python3-venv", &mut apt)?.success {
        return Ok(false);
    }
    make()
}
