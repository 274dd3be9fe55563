//! Provisioning: what builds and tests need beyond the native Rust toolchain — a wasm32 standard
//! library, Chromium with chromedriver, and the wasm-bindgen CLI at the version in Cargo.lock.
//!
//! Everything is looked for first and installed only when missing, so a run on a provisioned
//! machine costs a few process spawns. The wasm32 toolchain is, in order of preference:
//!
//! 1. the active rustup toolchain, if it has both the wasm32 standard library (for the browser
//!    tests) and `rust-src` (for the release build, which rebuilds the standard library with
//!    `-Zbuild-std` to take the size levers);
//! 2. Debian's `rustc-web`, building the standard library from `rust-web-src`
//!    (`-Zbuild-std`), if those packages are installed;
//! 3. the rustup one again after `rustup target add` and `rustup component add rust-src`, which
//!    can hang where they cannot download, so each gets a time limit;
//! 4. the Debian packages, installed with apt.
//!
//! Either way the release build is the same recipe (`-Zbuild-std` with immediate-abort panics),
//! so a fresh machine and a provisioned one ship the same widget. Trying what is installed before
//! rustup downloads keeps repeat runs on machines like the old CI one, where rustup could not
//! download, from waiting out the time limits every time.
//!
//! What cannot be installed here (not root, not Debian) stops provisioning with the exact
//! command the user should run.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Error;
use crate::{cmd, postgres};

/// The target every wasm crate is built for.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// How long each rustup download may take before we fall back to the Debian packages. A
/// download that works takes well under this; where the network blocks it, it hangs instead of
/// failing.
const RUSTUP_LIMIT: Duration = Duration::from_secs(60);

/// What `-Zbuild-std` rebuilds: the standard library, with the abort-only panic runtime the
/// `wasm-release` profile's `panic = "abort"` links.
const BUILD_STD: &str = "-Zbuild-std=std,panic_abort";

/// Debian's second Rust toolchain (`rustc-web`); its cargo, rustc and rustdoc must be used
/// together, because mixing in another rustdoc fails on "incompatible version of rustc".
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";
/// The linker for wasm32, a link to `lld-22` that `rustc-web` does not pull in.
const DEBIAN_LLD: &str = "/usr/bin/rust-lld";
/// The standard library source from `rust-web-src`, built by `-Zbuild-std`.
const DEBIAN_STD_SOURCE: &str = "/usr/lib/rustlib/src/rust/library";

/// Debian's Chromium and its WebDriver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Everything the wasm builds and browser tests need, found or installed.
pub(crate) struct Tools {
    /// Builds for wasm32.
    pub(crate) wasm: WasmToolchain,
    /// The WebDriver wasm-bindgen-test-runner drives Chromium through.
    chromedriver: PathBuf,
    /// Runs a wasm32 test binary in the browser, at the version of `wasm-bindgen` in Cargo.lock.
    test_runner: PathBuf,
    /// Where `initdb` and `pg_ctl` are, or `None` when the user's `DATABASE_URL` is used.
    postgres_programs: Option<PathBuf>,
}

impl Tools {
    /// The `wasm-bindgen` CLI beside the test runner, at the same (locked) version.
    pub(crate) fn wasm_bindgen(&self) -> PathBuf {
        self.test_runner.with_file_name("wasm-bindgen")
    }

    /// The PostgreSQL server for this run: the user's, or a throwaway cluster started now.
    ///
    /// # Errors
    ///
    /// When the throwaway cluster cannot be started.
    pub(crate) fn postgres(&self) -> Result<postgres::Server, Error> {
        match (postgres::external(), &self.postgres_programs) {
            (Some(url), _) => Ok(postgres::Server::External(url)),
            (None, Some(programs)) => {
                postgres::Cluster::start(programs).map(postgres::Server::Throwaway)
            }
            (None, None) => Err(Error("no PostgreSQL programs and no DATABASE_URL".into())),
        }
    }

    /// `cargo test` of `package`'s test targets compiled to wasm32 and run in headless Chromium.
    ///
    /// `--nocapture` is passed so that console output of passing tests (the golden-vector
    /// digests) reaches stdout, as it does for native tests. The browser flags come from the
    /// `webdriver.json` next to the package's Cargo.toml, which the runner reads from the
    /// directory cargo runs it in.
    pub(crate) fn browser_test(&self, root: &Path, package: &str) -> Command {
        let mut command = self.wasm.cargo(root, "test");
        command
            .args(["--package", package, "--tests", "--", "--nocapture"])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                &self.test_runner,
            )
            .env("CHROMEDRIVER", &self.chromedriver)
            // The browser even for a test binary that does not say
            // `wasm_bindgen_test_configure!(run_in_browser)`; otherwise it would run in Node.
            .env("WASM_BINDGEN_USE_BROWSER", "1")
            // The default of 20 s is short for a cold Chromium on a loaded two-core CI machine.
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
        command
    }
}

/// Which compiler builds for wasm32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WasmToolchain {
    /// The active rustup toolchain, which has the wasm32 standard library and `rust-src`
    /// installed.
    Rustup,
    /// Debian's `rustc-web`, compiling the standard library from source on the first build.
    Debian,
}

impl WasmToolchain {
    /// A `cargo <subcommand>` in `root` that targets wasm32; the caller adds the rest.
    pub(crate) fn cargo(self, root: &Path, subcommand: &str) -> Command {
        match self {
            Self::Rustup => {
                let mut command = cmd::cargo(root);
                command.args([subcommand, "--target", WASM_TARGET]);
                command
            }
            Self::Debian => {
                let mut command = Command::new(DEBIAN_CARGO);
                command
                    .current_dir(root)
                    .args([subcommand, BUILD_STD, "--target", WASM_TARGET])
                    // Its own target directory: the two compilers must never share artifacts.
                    .arg("--target-dir")
                    .arg(root.join("target").join("wasm"))
                    .env("RUSTC", DEBIAN_RUSTC)
                    .env("RUSTDOC", DEBIAN_RUSTDOC)
                    // `-Zbuild-std` is a nightly flag; this lets the stable compiler take it.
                    .env("RUSTC_BOOTSTRAP", "1");
                command
            }
        }
    }

    /// A `cargo build` for wasm32 that rebuilds the standard library with the caller's
    /// `RUSTFLAGS`, which is what the release build's size levers (immediate-abort panics, no
    /// panic locations) need: the prebuilt standard library was compiled without them.
    pub(crate) fn build_std_cargo(self, root: &Path) -> Command {
        match self {
            Self::Rustup => {
                let mut command = self.cargo(root, "build");
                command
                    .arg(BUILD_STD)
                    // `-Zbuild-std` is a nightly flag; this lets the stable compiler take it.
                    .env("RUSTC_BOOTSTRAP", "1");
                command
            }
            // Debian's toolchain has no prebuilt wasm32 standard library: it always rebuilds it.
            Self::Debian => self.cargo(root, "build"),
        }
    }

    /// The toolchain already installed, preferring rustup's.
    fn installed() -> Option<Self> {
        if rustup_has_wasm_std() && rustup_has_std_source() {
            Some(Self::Rustup)
        } else if debian_toolchain_installed() {
            Some(Self::Debian)
        } else {
            None
        }
    }
}

impl fmt::Display for WasmToolchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rustup => "rustup toolchain with the wasm32 standard library and rust-src",
            Self::Debian => "Debian rustc-web, standard library built from source",
        })
    }
}

/// Finds or installs every tool, saying what it installs and why.
///
/// # Errors
///
/// When something is missing and cannot be installed from here; the message gives the command
/// to run instead.
pub(crate) fn run(root: &Path) -> Result<Tools, Error> {
    println!("\n==> provision");
    let start = Instant::now();

    let mut missing = Vec::new();
    let mut wasm = WasmToolchain::installed();
    if wasm.is_none() {
        wasm = rustup_add();
    }
    if wasm.is_none() {
        missing.push(Packages {
            names: &["rustc-web", "rust-web-src", "lld-22"],
            why: "a Rust compiler with the WebAssembly backend, its std source and the wasm \
                  linker, since rustup could not provide the wasm32 standard library and \
                  rust-src",
            elsewhere: "rustup target add wasm32-unknown-unknown && rustup component add \
                        rust-src",
        });
    }
    let mut chromedriver = find_chromedriver();
    if chromedriver.is_none() {
        missing.push(Packages {
            names: &["chromium", "chromium-driver"],
            why: "the headless browser the wasm tests run in, and its WebDriver",
            elsewhere: "install Chromium and its chromedriver, then set CHROMEDRIVER to the \
                        chromedriver path",
        });
    }
    let external_postgres = postgres::external();
    let mut postgres_programs = postgres::find_programs();
    if external_postgres.is_none() && postgres_programs.is_none() {
        missing.push(Packages {
            names: &["postgresql"],
            why: "the database server the PostgreSQL store and multi-instance tests run against \
                  (each run starts a throwaway cluster of its own)",
            elsewhere: "install PostgreSQL (initdb and pg_ctl), or set DATABASE_URL=postgres://… \
                        to a server the tests may create databases on",
        });
    }
    if cmd::find_in_path("spamassassin").is_none() {
        missing.push(Packages {
            names: &["spamassassin"],
            why: "the spam filter every mail template is scored by (its local rules)",
            elsewhere: "install SpamAssassin so that `spamassassin` is on the PATH",
        });
    }
    if !missing.is_empty() {
        apt_install(&missing)?;
        postgres_programs = postgres_programs.or_else(postgres::find_programs);
        wasm = wasm.or_else(|| debian_toolchain_installed().then_some(WasmToolchain::Debian));
        chromedriver = chromedriver.or_else(find_chromedriver);
    }
    let wasm = wasm.ok_or_else(|| {
        Error(
            "the Debian Rust packages were installed but their files are not where expected".into(),
        )
    })?;
    let chromedriver = chromedriver.ok_or_else(|| {
        Error(format!(
            "Chromium was installed but {CHROMIUM} or {CHROMEDRIVER} is missing"
        ))
    })?;
    println!("    wasm32:       {wasm}");
    println!("    chromedriver: {}", chromedriver.display());
    let postgres_programs = match external_postgres {
        Some(_) => {
            println!("    postgres:     DATABASE_URL");
            None
        }
        None => {
            let programs = postgres_programs.ok_or_else(|| {
                Error("PostgreSQL was installed but its initdb is not where expected".into())
            })?;
            println!("    postgres:     {}", programs.display());
            Some(programs)
        }
    };

    let test_runner = wasm_bindgen(root)?;
    println!("    test runner:  {}", test_runner.display());

    // The end-to-end suite's npm packages (and a Japanese font for its screenshots).
    crate::e2e::provision(root)?;
    // dkimpy for the mail checks.
    crate::mailcheck::provision(root)?;

    println!("<== provision: ready in {}", cmd::seconds(start.elapsed()));
    Ok(Tools {
        wasm,
        chromedriver,
        test_runner,
        postgres_programs,
    })
}

/// Apt packages to install for one need.
struct Packages {
    names: &'static [&'static str],
    /// Why they are needed, shown before installing.
    why: &'static str,
    /// What to do instead on a system without apt.
    elsewhere: &'static str,
}

/// Installs `missing` with apt, or explains what to run when that is not possible from here.
fn apt_install(missing: &[Packages]) -> Result<(), Error> {
    let names: Vec<&str> = missing
        .iter()
        .flat_map(|p| p.names.iter().copied())
        .collect();
    if !Path::new("/etc/debian_version").is_file() || cmd::find_in_path("apt-get").is_none() {
        let steps: Vec<&str> = missing.iter().map(|p| p.elsewhere).collect();
        return Err(Error(format!(
            "missing tools, and this is not a Debian system xtask can install them on; \
             please:\n    {}\nthen run this command again",
            steps.join("\n    ")
        )));
    }
    let install = format!(
        "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y {}",
        names.join(" ")
    );
    let uid = cmd::probe(Command::new("id").arg("-u"));
    if uid.as_deref().map(str::trim) != Some("0") {
        return Err(Error(format!(
            "missing Debian packages ({}), and installing them needs root; run:\n    \
             sudo sh -c '{install}'\nthen run this command again",
            names.join(" ")
        )));
    }
    for packages in missing {
        println!(
            "    installing {}: {}",
            packages.names.join(" "),
            packages.why
        );
    }
    for (title, args) in [
        ("apt-get update", vec!["update"]),
        ("apt-get install", [&["install", "-y"][..], &names].concat()),
    ] {
        let finished = cmd::step(title, apt_get().args(args))?;
        if !finished.success {
            return Err(Error(format!(
                "`{title}` failed; the full command is:\n    {install}"
            )));
        }
    }
    Ok(())
}

fn apt_get() -> Command {
    let mut command = Command::new("apt-get");
    command
        .env("DEBIAN_FRONTEND", "noninteractive")
        // Wait for another apt (unattended upgrades, a parallel job) instead of failing at once.
        .args(["-o", "DPkg::Lock::Timeout=600"]);
    command
}

/// Whether the active rustup toolchain (the `rustc` in `PATH`, which follows the
/// `RUSTUP_TOOLCHAIN` cargo runs us with) has the wasm32 standard library.
fn rustup_has_wasm_std() -> bool {
    cmd::probe(Command::new("rustc").args(["--print", "sysroot"])).is_some_and(|sysroot| {
        Path::new(sysroot.trim())
            .join("lib/rustlib")
            .join(WASM_TARGET)
            .is_dir()
    })
}

/// Whether the active rustup toolchain has `rust-src`, which `-Zbuild-std` compiles.
fn rustup_has_std_source() -> bool {
    cmd::probe(Command::new("rustc").args(["--print", "sysroot"])).is_some_and(|sysroot| {
        Path::new(sysroot.trim())
            .join("lib/rustlib/src/rust/library")
            .is_dir()
    })
}

/// Tries `rustup target add` and `rustup component add rust-src`, each with a time limit;
/// returns the rustup toolchain if both worked.
fn rustup_add() -> Option<WasmToolchain> {
    cmd::find_in_path("rustup")?;
    let added = rustup_install(
        "the wasm32 standard library",
        "the browser tests",
        &["target", "add", WASM_TARGET],
        rustup_has_wasm_std,
    ) && rustup_install(
        "rust-src",
        "the release build, which compiles the standard library with its size levers",
        &["component", "add", "rust-src"],
        rustup_has_std_source,
    );
    added.then_some(WasmToolchain::Rustup)
}

/// Runs `rustup <args>` (installing `what`, needed by `why`) with a time limit unless
/// `installed` already holds; answers whether it holds afterwards.
fn rustup_install(what: &str, why: &str, args: &[&str], installed: fn() -> bool) -> bool {
    if installed() {
        return true;
    }
    println!(
        "    installing {what} with rustup, for {why} (giving up after {})",
        cmd::seconds(RUSTUP_LIMIT)
    );
    let mut command = Command::new("rustup");
    command.args(args);
    // A failure to start is one more reason to fall back, not to stop.
    cmd::run_with_limit(&mut command, RUSTUP_LIMIT).unwrap_or(false) && installed()
}

fn debian_toolchain_installed() -> bool {
    [
        DEBIAN_CARGO,
        DEBIAN_RUSTC,
        DEBIAN_RUSTDOC,
        DEBIAN_LLD,
        DEBIAN_STD_SOURCE,
    ]
    .iter()
    .all(|path| Path::new(path).exists())
}

/// `$CHROMEDRIVER` if it names a file (how users elsewhere point us at theirs), else Debian's.
fn find_chromedriver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMEDRIVER").map(PathBuf::from) {
        if path.is_file() {
            return Some(path);
        }
        println!(
            "    CHROMEDRIVER={} is not a file; ignoring it",
            path.display()
        );
    }
    (Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file())
        .then(|| PathBuf::from(CHROMEDRIVER))
}

/// Finds `wasm-bindgen-test-runner` at the version of the `wasm-bindgen` crate in Cargo.lock, or
/// installs it. The runner and the crate share a wire format that changes between versions, so
/// only an exact match works.
fn wasm_bindgen(root: &Path) -> Result<PathBuf, Error> {
    let lock_path = root.join("Cargo.lock");
    // `cargo xtask` is `cargo run`, which writes Cargo.lock before xtask starts.
    let lock = std::fs::read_to_string(&lock_path)
        .map_err(|e| Error(format!("reading {}: {e}", lock_path.display())))?;
    let version = locked_version(&lock, "wasm-bindgen").map_err(Error)?;

    let cargo_bin = cargo_home().map(|home| home.join("bin"));
    let candidates = cmd::find_in_path("wasm-bindgen")
        .into_iter()
        .chain(cargo_bin.iter().map(|bin| bin.join("wasm-bindgen")));
    for cli in candidates {
        if let Some(runner) = matching_runner(&cli, &version) {
            return Ok(runner);
        }
    }

    println!(
        "    installing wasm-bindgen-cli {version}: its wasm-bindgen-test-runner must match the \
         wasm-bindgen crate in Cargo.lock (a few minutes, once)"
    );
    // No `--locked`: the registry index can lag behind the lock file published with that crate.
    let mut install = cmd::cargo(root);
    install.args(["install", "wasm-bindgen-cli", "--version", &version]);
    let finished = cmd::step("install wasm-bindgen-cli", &mut install)?;
    let installed = cargo_bin
        .filter(|_| finished.success)
        .and_then(|bin| matching_runner(&bin.join("wasm-bindgen"), &version));
    installed.ok_or_else(|| {
        Error(format!(
            "could not install wasm-bindgen-cli {version}; run:\n    {}",
            cmd::display(&install)
        ))
    })
}

/// The `wasm-bindgen-test-runner` beside the `wasm-bindgen` at `cli`, if that one is `version`.
fn matching_runner(cli: &Path, version: &str) -> Option<PathBuf> {
    let reported = cmd::probe(Command::new(cli).arg("--version"))?;
    // It prints `wasm-bindgen 0.2.130`.
    let matches = reported.split_whitespace().nth(1) == Some(version);
    let runner = cli.with_file_name("wasm-bindgen-test-runner");
    (matches && runner.is_file()).then_some(runner)
}

/// Where `cargo install` puts binaries, under `bin`.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

/// The version of package `name` in the text of a Cargo.lock.
///
/// # Errors
///
/// When the package is absent or locked at more than one version: there would be no single
/// version for its CLI to match.
fn locked_version(lock: &str, name: &str) -> Result<String, String> {
    let mut versions = Vec::new();
    let mut in_package = false;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            in_package = false;
        } else if let Some(value) = toml_string(line, "name") {
            in_package = value == name;
        } else if let Some(value) = toml_string(line, "version") {
            if in_package {
                versions.push(value.to_owned());
            }
        }
    }
    match versions.as_slice() {
        [version] => Ok(version.clone()),
        [] => Err(format!("Cargo.lock has no `{name}` package")),
        _ => Err(format!(
            "Cargo.lock has `{name}` at several versions ({}); pin one in [workspace.dependencies]",
            versions.join(", ")
        )),
    }
}

/// The value of a `key = "value"` line.
fn toml_string<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim()
        .strip_prefix('"')?
        .strip_suffix('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "wasm-bindgen-macro",
]

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.131"
"#;

    #[test]
    fn reads_the_locked_version() {
        assert_eq!(
            locked_version(LOCK, "wasm-bindgen").as_deref(),
            Ok("0.2.130")
        );
        assert!(locked_version(LOCK, "wasm-bindgen-test").is_err());
    }

    #[test]
    fn two_locked_versions_have_no_single_answer() {
        let lock = format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.99\"\n");
        assert!(locked_version(&lock, "wasm-bindgen").is_err());
    }

    #[test]
    fn rustup_release_cargo_rebuilds_std_on_the_stable_compiler() {
        let command = WasmToolchain::Rustup.build_std_cargo(Path::new("/repo"));
        let shown = cmd::display(&command);
        assert!(shown.starts_with("RUSTC_BOOTSTRAP=1 "), "{shown}");
        assert!(
            shown.ends_with(" build --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort"),
            "{shown}"
        );
    }

    #[test]
    fn debian_cargo_builds_std_in_its_own_target_dir() {
        let command = WasmToolchain::Debian.cargo(Path::new("/repo"), "test");
        assert_eq!(
            cmd::display(&command),
            "RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTDOC=/usr/bin/rustdoc /usr/bin/cargo test \
             -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown --target-dir \
             /repo/target/wasm"
        );
    }
}
