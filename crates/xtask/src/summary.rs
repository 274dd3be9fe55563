//! Reading test output and reporting on the whole run: the result lines that libtest and
//! wasm-bindgen-test-runner print, the golden-vector digests, and the closing summary whose last
//! line is the test total.

use std::collections::BTreeSet;
use std::ops::AddAssign;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::cmd;

/// Where a test result line starts. libtest prints one per test binary (unit tests, each
/// integration test, doctests) and wasm-bindgen-test-runner prints the same shape:
/// `test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in …`.
const RESULT_PREFIX: &str = "test result: ";

/// Where a golden-vector digest line starts. The vectors harness of mamori-core prints one per
/// vector file: `mamori-vectors: <file> <cases> <sha256 of the transcript, hex>`.
const VECTOR_PREFIX: &str = "mamori-vectors: ";

/// Tests that passed, failed and were skipped, summed over result lines, and how many of those
/// lines ran nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    /// libtest's `ignored`, node's `skipped` and `todo`: tests that exist and did not run.
    pub(crate) skipped: u64,
    /// Test binaries (a libtest result line per unit-test, integration-test or doctest binary)
    /// and node test files (`# empty file`, see `tests/reporters/empty-files.mjs`) that ran
    /// no test at all.
    pub(crate) empty_targets: u64,
}

impl Counts {
    /// Sums every result line in `output`.
    ///
    /// A line is found anywhere, not only at the start, because a test printing with
    /// `--nocapture` can leave a partial line in front of it.
    pub(crate) fn parse(output: &str) -> Self {
        let mut counts = Self::default();
        for line in output.lines() {
            // node's test runner (TAP reporter) closes with `# pass N`, `# fail N` and
            // `# cancelled N`; a test cancelled (say, by a failed `before` hook) did not pass.
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["#", "pass", n] => counts.passed += n.parse::<u64>().unwrap_or(0),
                ["#", "fail" | "cancelled", n] => counts.failed += n.parse::<u64>().unwrap_or(0),
                ["#", "skipped" | "todo", n] => counts.skipped += n.parse::<u64>().unwrap_or(0),
                ["#", "empty", "file", ..] => counts.empty_targets += 1,
                _ => {}
            }
            let Some(start) = line.find(RESULT_PREFIX) else {
                continue;
            };
            let mut binary = Self::default();
            for clause in line[start + RESULT_PREFIX.len()..].split(';') {
                let words: Vec<&str> = clause.split_whitespace().collect();
                if let [.., number, label] = words.as_slice() {
                    match (number.parse::<u64>(), *label) {
                        (Ok(n), "passed") => binary.passed += n,
                        (Ok(n), "failed") => binary.failed += n,
                        (Ok(n), "ignored") => binary.skipped += n,
                        _ => {}
                    }
                }
            }
            if binary.passed + binary.failed + binary.skipped == 0 {
                binary.empty_targets = 1;
            }
            counts += binary;
        }
        counts
    }

    /// Why a suite with these counts failed even though its command succeeded: a failed test
    /// the exit status did not carry, a skipped test (a suite runs every test it has — a
    /// feature that cannot be tested here is said so in a closing note, not hidden as a skip),
    /// or a test binary with no tests (a target that should say `test = false`, or a harness
    /// that found nothing).
    pub(crate) fn problem(self) -> Option<String> {
        if self.is_empty() {
            Some("ran no tests".to_owned())
        } else if self.failed > 0 {
            Some(format!("{} tests failed", self.failed))
        } else if self.skipped > 0 {
            Some(format!("{} tests were skipped or ignored", self.skipped))
        } else if self.empty_targets > 0 {
            Some(format!(
                "{} test binaries or files ran no tests",
                self.empty_targets
            ))
        } else {
            None
        }
    }

    /// Whether no test ran at all, which for a suite means something is wired wrong (a filter
    /// that matches nothing, a harness that found no tests) rather than that all is well.
    pub(crate) fn is_empty(self) -> bool {
        self.passed == 0 && self.failed == 0
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.empty_targets += other.empty_targets;
    }
}

/// The reporters of every node test run: TAP on stdout, which [`Counts::parse`] reads; the
/// readable report on stderr; and `tests/reporters/empty-files.mjs` on stdout, naming each
/// file that declared no test.
pub(crate) fn node_reporters(root: &Path) -> Vec<String> {
    let empty_files = root.join("tests/reporters/empty-files.mjs");
    vec![
        "--test-reporter=tap".to_owned(),
        "--test-reporter-destination=stdout".to_owned(),
        "--test-reporter=spec".to_owned(),
        "--test-reporter-destination=stderr".to_owned(),
        format!("--test-reporter={}", empty_files.display()),
        "--test-reporter-destination=stdout".to_owned(),
    ]
}

/// The golden-vector digest lines in `output`, each as `<file> <cases> <digest>`.
///
/// Found anywhere in a line for the same reason as result lines: under `--nocapture` libtest's
/// `test vectors ... ` can precede the test's own output on the same line.
pub(crate) fn vector_digests(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|line| {
            let start = line.find(VECTOR_PREFIX)? + VECTOR_PREFIX.len();
            Some(
                line[start..]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect()
}

/// Checks that the native and the wasm runs of the golden vectors printed the same digests:
/// same files, same number of cases, same transcript hash. Returns how many files agree.
///
/// # Errors
///
/// A message naming what is missing or differs; either side printing nothing is an error too,
/// since an agreement of two empty sets proves nothing.
pub(crate) fn compare_vectors(
    native: &BTreeSet<String>,
    wasm: &BTreeSet<String>,
) -> Result<usize, String> {
    match (native.is_empty(), wasm.is_empty()) {
        (true, true) => return Err("neither run printed `mamori-vectors:` lines".to_owned()),
        (true, false) => return Err("the native run printed no `mamori-vectors:` lines".to_owned()),
        (false, true) => return Err("the wasm run printed no `mamori-vectors:` lines".to_owned()),
        (false, false) => {}
    }
    if native == wasm {
        return Ok(native.len());
    }
    let mut message = "native and wasm disagree on the golden vectors:".to_owned();
    for line in native.difference(wasm) {
        message.push_str(&format!("\n      native only: {line}"));
    }
    for line in wasm.difference(native) {
        message.push_str(&format!("\n      wasm only:   {line}"));
    }
    Err(message)
}

/// The outcome of every step of a run, printed at the end.
#[derive(Default)]
pub(crate) struct Summary {
    rows: Vec<Row>,
}

struct Row {
    name: String,
    elapsed: Option<Duration>,
    counts: Option<Counts>,
    /// `Err` holds why the step failed.
    outcome: Result<(), String>,
}

impl Summary {
    /// Records one step. `counts` is `Some` for steps that run tests; they add to the total.
    pub(crate) fn record(
        &mut self,
        name: &str,
        elapsed: Option<Duration>,
        counts: Option<Counts>,
        outcome: Result<(), String>,
    ) {
        self.rows.push(Row {
            name: name.to_owned(),
            elapsed,
            counts,
            outcome,
        });
    }

    /// Prints a line per step, then why each failed step failed, then — as the very last line —
    /// the total `N passed, N failed`. Fails if any step failed.
    pub(crate) fn print(&self) -> ExitCode {
        let width = self
            .rows
            .iter()
            .map(|row| row.name.len())
            .max()
            .unwrap_or(0);
        let mut total = Counts::default();
        println!("\nsummary:");
        for row in &self.rows {
            let status = if row.outcome.is_ok() { "ok" } else { "FAILED" };
            let time = row.elapsed.map(cmd::seconds).unwrap_or_default();
            let tests = row.counts.map_or_else(String::new, |c| {
                let skipped = match c.skipped {
                    0 => String::new(),
                    n => format!(", {n} skipped"),
                };
                format!("  {} passed, {} failed{skipped}", c.passed, c.failed)
            });
            let line = format!("  {status:<6}  {:<width$}  {time:>7}{tests}", row.name);
            println!("{}", line.trim_end());
            total += row.counts.unwrap_or_default();
        }
        let failures: Vec<_> = self
            .rows
            .iter()
            .filter_map(|row| Some((&row.name, row.outcome.as_ref().err()?)))
            .collect();
        if !failures.is_empty() {
            println!("\nfailed steps:");
            for (name, why) in &failures {
                println!("  {name}: {why}");
            }
        }
        let skipped = match total.skipped {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        println!("{} passed, {} failed{skipped}", total.passed, total.failed);
        if failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_libtest_and_wasm_bindgen_result_lines() {
        let output = "\
running 2 tests
test a ... ok
test b ... FAILED

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

no tests to run!
test result: ok. 2 passed; 0 failed; 0 ignored; 0 filtered out; finished in 0.03s
test result: ok. 0 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        assert_eq!(
            Counts::parse(output),
            Counts {
                passed: 3,
                failed: 1,
                skipped: 3,
                empty_targets: 0,
            }
        );
    }

    #[test]
    fn a_suite_fails_on_failures_skips_and_empty_targets_whatever_its_exit_status() {
        let clean = "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out;";
        assert_eq!(Counts::parse(clean).problem(), None);
        let empty_doctests = format!(
            "{clean}\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out;"
        );
        let counts = Counts::parse(&empty_doctests);
        assert_eq!((counts.passed, counts.empty_targets), (2, 1));
        assert_eq!(
            counts.problem().as_deref(),
            Some("1 test binaries or files ran no tests")
        );
        let ignored = "test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured;";
        assert_eq!(
            Counts::parse(ignored).problem().as_deref(),
            Some("1 tests were skipped or ignored")
        );
        let failed = "test result: FAILED. 2 passed; 1 failed; 0 ignored;";
        assert_eq!(
            Counts::parse(failed).problem().as_deref(),
            Some("1 tests failed")
        );
        let node = "# pass 4\n# fail 0\n# cancelled 0\n# skipped 1\n# todo 1\n";
        assert_eq!(Counts::parse(node).skipped, 2);
        let emptied = "# empty file /repo/tests/node/verify.test.mjs\n# pass 1\n# fail 0\n";
        assert_eq!(Counts::parse(emptied).empty_targets, 1);
        assert!(Counts::parse(node).problem().is_some());
        assert_eq!(
            Counts::parse("no tests to run!").problem().as_deref(),
            Some("ran no tests")
        );
    }

    #[test]
    fn counts_node_test_runner_tap_totals() {
        let output = "\
TAP version 13
# Subtest: first purchase
ok 1 - first purchase
# Subtest: expiry
not ok 2 - expiry
1..2
# tests 3
# suites 0
# pass 1
# fail 1
# cancelled 1
# skipped 0
# todo 0
# duration_ms 1234.5
";
        assert_eq!(
            Counts::parse(output),
            Counts {
                passed: 1,
                failed: 2,
                ..Counts::default()
            }
        );
        let nothing = "1..0\n# tests 0\n# pass 0\n# fail 0\n# cancelled 0\n";
        assert!(Counts::parse(nothing).is_empty());
    }

    #[test]
    fn no_result_line_means_no_tests() {
        assert!(Counts::parse("no tests to run!\nerror: could not compile\n").is_empty());
        assert!(!Counts::parse("test result: FAILED. 0 passed; 2 failed;").is_empty());
    }

    #[test]
    fn digests_are_found_behind_libtest_progress() {
        let output = "\
test vectors ... mamori-vectors: token.json 12 ab12
mamori-vectors:   otp.json  3 cd34
test vectors ... ok
";
        let digests = vector_digests(output);
        assert_eq!(
            digests.into_iter().collect::<Vec<_>>(),
            ["otp.json 3 cd34", "token.json 12 ab12"]
        );
    }

    #[test]
    fn vectors_must_be_present_on_both_sides_and_equal() {
        let a: BTreeSet<String> = ["otp.json 3 cd34".to_owned()].into();
        let b: BTreeSet<String> = ["otp.json 3 ffff".to_owned()].into();
        assert_eq!(compare_vectors(&a, &a), Ok(1));
        assert!(compare_vectors(&a, &BTreeSet::new()).is_err());
        assert!(compare_vectors(&BTreeSet::new(), &a).is_err());
        assert!(compare_vectors(&BTreeSet::new(), &BTreeSet::new()).is_err());
        let mismatch = compare_vectors(&a, &b).unwrap_err();
        assert!(
            mismatch.contains("native only: otp.json 3 cd34"),
            "{mismatch}"
        );
        assert!(
            mismatch.contains("wasm only:   otp.json 3 ffff"),
            "{mismatch}"
        );
    }
}
