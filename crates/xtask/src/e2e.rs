//! The end-to-end suite (`tests/e2e`): its Node packages and a Japanese font, provisioned, and
//! the command that runs it once for each way a merchant loads the widget.
//!
//! The suite drives the demo shop in headless Chromium (Playwright with the system Chromium)
//! against a `mamori demo` it starts itself, so it needs the native `mamori` binary and the
//! packaged widget (`cargo xtask package`) before it runs. The topology suite shares its
//! packages; what it needs beyond them is provisioned by [`crate::topology`].
//!
//! The type test of the npm package's declarations (`tests/types`) is provisioned here too, with
//! its own pinned TypeScript, React types and Vue, and run by [`types_command`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::{Error, cmd, package, summary};

/// The suite's directory, with its own package.json and committed package-lock.json.
const DIR: &str = "tests/e2e";

/// The type test's directory, with its own package.json and committed package-lock.json.
const TYPES_DIR: &str = "tests/types";

/// A small Debian font with Japanese glyphs: without one, the Japanese screenshots show boxes.
const JAPANESE_FONT: &str = "fonts-ipafont-gothic";

/// How the shop page loads the widget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Widget {
    /// `<script src="/assets/mamori.js">`.
    ScriptTag,
    /// `import { mount } from 'mamori'` from the packed npm package, bundled by esbuild.
    Npm,
}

impl Widget {
    /// The name `run.mjs --widget=` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ScriptTag => "script",
            Self::Npm => "npm",
        }
    }
}

/// Installs what the suite needs beyond Node itself: its npm packages and the type test's
/// (`npm ci`, when `node_modules` is missing or older than the lock file), best effort a
/// Japanese font, and what the topology suite and the interop test need besides.
///
/// # Errors
///
/// When Node.js or npm is missing, `npm ci` fails, or [`crate::topology::provision`] does.
pub(crate) fn provision(root: &Path) -> Result<(), Error> {
    if cmd::find_in_path("node").is_none() || cmd::find_in_path("npm").is_none() {
        // The package build needs them too; Debian's `nodejs` and `npm` packages are enough.
        return Err(Error(
            "Node.js 20 or later with npm is needed (the widget's build, the Node and \
             end-to-end suites); on Debian: apt-get install nodejs npm"
                .to_owned(),
        ));
    }
    npm_ci(
        root,
        DIR,
        "playwright-core, axe-core, esbuild, smtp-server, mailparser, react, react-dom, vue",
    )?;
    npm_ci(root, TYPES_DIR, "typescript, @types/react, react, vue")?;
    japanese_font();
    crate::topology::provision(root)
}

/// `npm ci` in `dir` (relative to `root`) when its `node_modules` is missing or older than its
/// manifests; `packages` names what it installs, for the message.
///
/// # Errors
///
/// When `npm ci` fails.
pub(crate) fn npm_ci(root: &Path, dir: &str, packages: &str) -> Result<(), Error> {
    if !packages_stale(&root.join(dir)) {
        return Ok(());
    }
    println!(
        "    installing the npm packages of {dir} ({packages}) with `npm ci`, because \
         node_modules is missing or older than package-lock.json"
    );
    let mut install = Command::new("npm");
    install
        .current_dir(root.join(dir))
        .args(["ci", "--no-audit", "--no-fund"]);
    if !cmd::step(&format!("npm ci ({dir})"), &mut install)?.success {
        return Err(Error(format!(
            "`npm ci` in {dir} failed; run it there by hand to see why"
        )));
    }
    Ok(())
}

/// The suite, run once with the widget loaded as `widget`. TAP goes to stdout for the
/// summary, the readable report to stderr.
pub(crate) fn command(root: &Path, widget: Widget) -> Command {
    let mut command = Command::new("node");
    command
        .current_dir(root)
        .arg(root.join(DIR).join("run.mjs"))
        .arg(format!("--widget={}", widget.name()))
        .args(summary::node_reporters(root))
        .env("MAMORI_BIN", mamori_binary(root));
    command
}

/// The widget's own suite (`tests/e2e/widget`): its flow, fingerprint, device key and parsing of
/// the verifier's answers, in headless Chromium against the widget of the npm package `npm`
/// (built by `cargo xtask package`), with a scripted transport and no server. It shares the
/// end-to-end suite's npm packages (Playwright). TAP goes to stdout for the summary, the
/// readable report to stderr.
pub(crate) fn widget_command(root: &Path, npm: &Path) -> Command {
    package::node_suite(root, &root.join(DIR).join("widget"), npm)
}

/// The type test: `tsc --noEmit` over small programs using the packed package `npm` (built by
/// `cargo xtask package`) each way a merchant may, under node's test runner. TAP goes to stdout
/// for the summary, the readable report to stderr.
pub(crate) fn types_command(root: &Path, npm: &Path) -> Command {
    let mut command = Command::new("node");
    command
        .current_dir(root)
        .arg("--test")
        .args(summary::node_reporters(root))
        .arg(root.join(TYPES_DIR).join("types.test.mjs"))
        .env("MAMORI_NPM_PACKAGE", npm);
    command
}

/// `cargo build` of the `mamori` binary the suite and the demo start: with the `demo` feature,
/// which the production build leaves out. The topology suite runs the same binary's `serve`,
/// which the feature does not change.
pub(crate) fn build_verifier(root: &Path) -> Command {
    let mut command = cmd::cargo(root);
    command.args([
        "build",
        "--package",
        "mamori-server",
        "--bin",
        "mamori",
        "--features",
        "demo",
    ]);
    command
}

/// Where [`build_verifier`] leaves the binary.
pub(crate) fn mamori_binary(root: &Path) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target
        .join("debug")
        .join(format!("mamori{}", std::env::consts::EXE_SUFFIX))
}

/// Whether `npm ci` is due: npm writes `node_modules/.package-lock.json` on every install, so
/// it is missing before the first and older than the manifests after they change.
fn packages_stale(dir: &Path) -> bool {
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    let wanted = [dir.join("package-lock.json"), dir.join("package.json")]
        .into_iter()
        .filter_map(modified)
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    installed.is_none_or(|installed| installed < wanted)
}

/// Installs a Japanese font on Debian as root when fontconfig knows none. Only screenshots
/// depend on it, so anything in the way is a note, not a failure.
fn japanese_font() {
    let Some(fonts) = cmd::probe(Command::new("fc-list").arg(":lang=ja")) else {
        return;
    };
    if !fonts.trim().is_empty() {
        return;
    }
    let root_user = cmd::probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !(root_user && Path::new("/etc/debian_version").is_file()) {
        println!(
            "    note: no Japanese font is installed, so the Japanese screenshots of the \
             end-to-end suite will show boxes (on Debian: apt-get install {JAPANESE_FONT})"
        );
        return;
    }
    println!("    installing {JAPANESE_FONT}, so the Japanese screenshots show text, not boxes");
    let installed = ["update", "install"].iter().all(|action| {
        let mut apt = Command::new("apt-get");
        apt.env("DEBIAN_FRONTEND", "noninteractive").args([
            "-o",
            "DPkg::Lock::Timeout=600",
            action,
        ]);
        if *action == "install" {
            apt.args(["-y", JAPANESE_FONT]);
        }
        cmd::step(&format!("apt-get {action}"), &mut apt).is_ok_and(|f| f.success)
    });
    if !installed {
        println!("    note: {JAPANESE_FONT} could not be installed; screenshots may show boxes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_stale_until_installed_after_the_lock_file() {
        let dir = std::env::temp_dir().join(format!("xtask-e2e-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("node_modules")).unwrap();
        std::fs::write(dir.join("package-lock.json"), "{}").unwrap();
        assert!(packages_stale(&dir), "never installed");
        std::fs::write(dir.join("node_modules/.package-lock.json"), "{}").unwrap();
        let lock = std::fs::File::options()
            .write(true)
            .open(dir.join("package-lock.json"))
            .unwrap();
        lock.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1))
            .unwrap();
        assert!(!packages_stale(&dir), "installed after the lock file");
        lock.set_modified(SystemTime::now() + std::time::Duration::from_secs(60))
            .unwrap();
        assert!(packages_stale(&dir), "the lock file changed since");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_suite_runs_through_run_mjs_with_tap_on_stdout() {
        let command = command(Path::new("/repo"), Widget::Npm);
        let line = cmd::display(&command);
        assert!(
            line.contains("node /repo/tests/e2e/run.mjs --widget=npm"),
            "{line}"
        );
        assert!(
            line.contains("--test-reporter=tap --test-reporter-destination=stdout"),
            "{line}"
        );
    }
}
