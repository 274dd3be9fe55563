//! The result files of one `cargo xtask bench`, read into types: criterion's estimates, the
//! Node and browser scripts' JSON, the load suite's JSON, xtask's step log, and the machine.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::http::Failure;
use crate::suite;

/// One criterion benchmark: its median time per iteration and the 95 % confidence interval of
/// that median, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Estimate {
    /// Median, ns.
    pub(crate) median: f64,
    /// Lower bound of the median's 95 % interval, ns.
    pub(crate) low: f64,
    /// Upper bound, ns.
    pub(crate) high: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Point,
}

#[derive(Deserialize)]
struct Point {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// Reads `<criterion>/<id>/new/estimates.json`.
///
/// # Errors
///
/// When the file is missing or not criterion's format.
pub(crate) fn estimate(criterion: &Path, id: &str) -> Result<Estimate, Failure> {
    let path = criterion.join(id).join("new/estimates.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let estimates: Estimates = serde_json::from_str(&text)?;
    Ok(Estimate {
        median: estimates.median.point_estimate,
        low: estimates.median.confidence_interval.lower_bound,
        high: estimates.median.confidence_interval.upper_bound,
    })
}

/// The token sizes the size group measured: the directory names under
/// `verify_result_by_size/mamori-core`, ascending.
pub(crate) fn token_sizes(criterion: &Path) -> Vec<u64> {
    let mut sizes: Vec<u64> = fs::read_dir(criterion.join("verify_result_by_size/mamori-core"))
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    sizes.sort_unstable();
    sizes
}

/// `bench/verify.mjs`'s output.
#[derive(Debug, Deserialize)]
pub(crate) struct NodeVerify {
    /// `process.version`.
    pub(crate) node: String,
    /// Length of the token, bytes.
    pub(crate) token_bytes: u64,
    /// Warm-up per library, ms.
    pub(crate) warmup_ms: f64,
    /// Length of a round, ms.
    pub(crate) round_ms: f64,
    /// Per library, in the order they were listed (mamori first).
    pub(crate) libraries: Vec<NodeLibrary>,
}

/// One library's rounds.
#[derive(Debug, Deserialize)]
pub(crate) struct NodeLibrary {
    /// Display name.
    pub(crate) name: String,
    /// Its npm version.
    pub(crate) version: String,
    /// Verifications per second, one value per round.
    pub(crate) ops_per_second: Vec<f64>,
}

/// `bench/widget.mjs`'s output.
#[derive(Debug, Deserialize)]
pub(crate) struct Widget {
    /// Chromium's version.
    pub(crate) chromium: String,
    /// `@fingerprintjs/fingerprintjs`'s version.
    pub(crate) fingerprintjs: String,
    /// `@thumbmarkjs/thumbmarkjs`'s version.
    #[serde(default)]
    pub(crate) thumbmarkjs: Option<String>,
    /// The WebGL renderer the browser reports.
    #[serde(default)]
    pub(crate) renderer: Option<String>,
    /// Reference costs measured on pages of their own.
    #[serde(default)]
    pub(crate) references: Vec<Reference>,
    /// Requests to anything but loopback that the page attempted (and that were refused).
    pub(crate) blocked_requests: u64,
    /// Sizes of `mamori.js`, `mamori.wasm` and `fp.min.js`.
    pub(crate) sizes: std::collections::BTreeMap<String, Size>,
    /// One entry per page load.
    pub(crate) samples: Vec<WidgetSample>,
}

/// A file's transfer size.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct Size {
    /// Raw bytes.
    pub(crate) bytes: u64,
    /// gzip -9 bytes.
    pub(crate) gzip: u64,
}

/// What two costly signals cost by themselves on a fresh page, ms.
#[derive(Debug, Deserialize)]
pub(crate) struct Reference {
    /// A WebGL context and its renderer string.
    pub(crate) webgl_ms: f64,
    /// A 2D canvas with text, read back as a data URL.
    pub(crate) canvas_ms: f64,
}

/// One page load's timings, ms.
#[derive(Debug, Deserialize)]
pub(crate) struct WidgetSample {
    /// The widget's fingerprint collection.
    pub(crate) fingerprint_ms: f64,
    /// `mount()` to the code input shown.
    pub(crate) mount_to_interactive_ms: f64,
    /// `FingerprintJS.load()`.
    pub(crate) fpjs_load_ms: f64,
    /// `agent.get()`.
    pub(crate) fpjs_get_ms: f64,
    /// The main-thread time of the fingerprint's steps (its `mamori:fingerprint` measures).
    #[serde(default)]
    pub(crate) fingerprint_main_thread_ms: Option<f64>,
    /// Long tasks (≥ 50 ms) that overlapped a fingerprint step.
    #[serde(default)]
    pub(crate) fingerprint_long_tasks: Option<u64>,
    /// A second device step's fingerprint in the same page.
    #[serde(default)]
    pub(crate) second_fingerprint_ms: Option<f64>,
    /// ThumbmarkJS's `get()`.
    #[serde(default)]
    pub(crate) thumbmark_get_ms: Option<f64>,
}

/// One step of xtask's run: what it ran and how long it took.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// What the step is.
    pub(crate) title: String,
    /// Wall time, seconds.
    pub(crate) seconds: f64,
    /// The exact command line.
    pub(crate) command: String,
}

/// Reads xtask's `steps.tsv`: `title<TAB>seconds<TAB>command` per line.
///
/// # Errors
///
/// When the file cannot be read.
pub(crate) fn steps(path: &Path) -> Result<Vec<Step>, Failure> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            Some(Step {
                title: fields.next()?.to_owned(),
                seconds: fields.next()?.parse().ok()?,
                command: fields.next()?.to_owned(),
            })
        })
        .collect())
}

/// Reads a JSON result file.
///
/// # Errors
///
/// When it is missing or malformed.
pub(crate) fn json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Failure> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// The load suite's results.
pub(crate) type Load = suite::Results;

/// The machine line's facts.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    /// CPU model name.
    pub(crate) cpu: String,
    /// Cores the OS offers.
    pub(crate) cores: usize,
    /// Memory, GiB.
    pub(crate) memory_gib: f64,
    /// OS name and kernel.
    pub(crate) os: String,
    /// `rustc --version`.
    pub(crate) rustc: String,
}

/// Reads the machine from `/proc`, `/etc/os-release` and `rustc`.
pub(crate) fn machine() -> Machine {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim())
        })
        .unwrap_or("unknown")
        .to_owned();
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: f64 = meminfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0.0);
    let os_release = fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os_name = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map_or("Linux", |v| v.trim_matches('"'))
        .to_owned();
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        memory_gib: memory_kib / 1024.0 / 1024.0,
        os: format!("{os_name}, Linux {}", kernel.trim()),
        rustc,
    }
}
