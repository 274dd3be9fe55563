//! `cargo xtask test`: every check and test suite CI runs, in order, then one summary.
//!
//! Steps keep going after a failure, so one run shows everything that is wrong; the command fails
//! at the end if any step failed. A suite fails on a non-zero exit, on any failed test, on any
//! skipped or ignored test, on a test binary that ran no tests and on running no test at all. The native and the wasm runs of the golden vectors must also print
//! the same digests, which is how "identical natively and in WebAssembly" is checked.
//!
//! Adding a suite is one entry in [`steps`].

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, ExitCode};

use crate::provision::{self, Tools};
use crate::summary::{self, Counts, Summary};
use crate::{cmd, e2e, mailcheck, package, postgres, topology};

/// Runs provisioning and every step, and prints the summary, whose last line is the test total.
pub(crate) fn run(root: &Path) -> ExitCode {
    let mut summary = Summary::default();
    let tools = match provision::run(root) {
        Ok(tools) => Some(tools),
        Err(error) => {
            println!("\nprovisioning failed: {error}");
            summary.record("provision", None, None, Err(error.to_string()));
            None
        }
    };

    // Lives until the end of the run; dropping it stops and deletes a throwaway cluster.
    let postgres = match tools.as_ref().map(Tools::postgres) {
        Some(Ok(server)) => {
            println!("    PostgreSQL for the tests: {}", server.url());
            Some(server)
        }
        Some(Err(error)) => {
            println!("\nPostgreSQL could not be started: {error}");
            summary.record("postgres", None, None, Err(error.to_string()));
            None
        }
        None => None,
    };

    let mut native_vectors = BTreeSet::new();
    let mut wasm_vectors = BTreeSet::new();
    for step in steps(root, tools.as_ref(), postgres.as_ref()) {
        let finished = match step.command {
            Some(mut command) => cmd::step(step.name, &mut command).map_err(|e| e.to_string()),
            None => Err("not run: its tools could not be provisioned".to_owned()),
        };
        let finished = match finished {
            Ok(finished) => finished,
            Err(why) => {
                let counts = step.kind.runs_tests().then(Counts::default);
                summary.record(step.name, None, counts, Err(why));
                continue;
            }
        };
        let counts = step
            .kind
            .runs_tests()
            .then(|| Counts::parse(&finished.stdout));
        let outcome = if !finished.success {
            Err("exited with an error".to_owned())
        } else {
            counts.and_then(Counts::problem).map_or(Ok(()), Err)
        };
        if let Kind::Suite {
            vectors: Some(platform),
        } = step.kind
        {
            let digests = summary::vector_digests(&finished.stdout);
            match platform {
                Platform::Native => native_vectors = digests,
                Platform::Wasm => wasm_vectors = digests,
            }
        }
        summary.record(step.name, Some(finished.elapsed), counts, outcome);
    }

    let agreement = summary::compare_vectors(&native_vectors, &wasm_vectors);
    if let Ok(files) = &agreement {
        println!("\nnative and wasm agree on {files} golden-vector files");
    }
    summary.record(
        "golden vectors: native = wasm",
        None,
        None,
        agreement.map(drop),
    );
    summary.print()
}

/// Every step, in the order it runs. A step whose tools are missing (`tools` is `None`) is listed
/// without a command and reported as failed.
fn steps(root: &Path, tools: Option<&Tools>, postgres: Option<&postgres::Server>) -> Vec<Step> {
    let cargo = |args: &[&str]| {
        let mut command = cmd::cargo(root);
        command.args(args);
        command
    };
    // The PostgreSQL suites fail with a clear message when this is missing, never skip.
    let mut native_tests = cargo(&["test", "--workspace", "--", "--nocapture"]);
    // The verifier's HTTP scenarios again, each on a fresh PostgreSQL database instead of SQLite.
    // `--workspace`, not `--package`: the same feature set as the run above, so its build is
    // reused instead of compiling the server's dependencies a second time.
    let mut postgres_http = cargo(&[
        "test",
        "--workspace",
        "--test",
        "flow",
        "--test",
        "api",
        "--test",
        "golden",
        "--test",
        "openapi",
        "--test",
        "abuse",
        "--test",
        "admin",
        "--test",
        "admin_lockout_log",
        "--test",
        "admin_cases",
        "--test",
        "admin_webhooks",
        "--test",
        "selfservice",
        "--test",
        "webhooks",
    ]);
    postgres_http.env("MAMORI_TEST_STORE", "postgres");
    if let Some(server) = postgres {
        native_tests.env(postgres::URL_VARIABLE, server.url());
        postgres_http.env(postgres::URL_VARIABLE, server.url());
    }
    let mut doc = cargo(&["doc", "--workspace", "--no-deps"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    // The server's scaffolding features are off in the workspace's docs (no dev-dependencies
    // there) and on in its clippy run (its tests turn them on): each run again the other way,
    // so that neither the production code nor the scaffolding goes unchecked.
    let mut doc_scaffolding = cargo(&[
        "doc",
        "--package",
        "mamori-server",
        "--no-deps",
        "--all-features",
    ]);
    doc_scaffolding.env("RUSTDOCFLAGS", "-D warnings");
    let clippy_production = cargo(&[
        "clippy",
        "--package",
        "mamori-server",
        "--lib",
        "--bins",
        "--",
        "-D",
        "warnings",
    ]);
    // Each wasm crate with wasm-bindgen browser tests adds one such line.
    let browser_test = |package: &str| tools.map(|tools| tools.browser_test(root, package));
    vec![
        Step::check("format", cargo(&["fmt", "--all", "--check"])),
        Step::check(
            "clippy",
            // `--all-targets` leaves out test targets with `test = false`: name the mail
            // checks, which run as a step of their own.
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--test",
                "mail_checks",
                "--",
                "-D",
                "warnings",
            ]),
        ),
        Step::check(
            "clippy of mamori-server without features",
            clippy_production,
        ),
        Step::check("docs", doc),
        Step::check(
            "docs of mamori-server with its scaffolding",
            doc_scaffolding,
        ),
        Step {
            name: "native tests",
            // `--nocapture` so the golden-vector digests printed by passing tests reach stdout.
            command: Some(native_tests),
            kind: Kind::Suite {
                vectors: Some(Platform::Native),
            },
        },
        Step {
            name: "mamori-server HTTP suites on PostgreSQL",
            command: Some(postgres_http),
            kind: Kind::Suite { vectors: None },
        },
        // Every template through dkimpy and SpamAssassin, which provisioning installs.
        Step {
            name: "mail checks: DKIM verifies, SpamAssassin scores at most 0.5, headers, parts",
            command: tools.map(|_| mailcheck::command(root)),
            kind: Kind::Suite { vectors: None },
        },
        Step {
            name: "mamori-core in headless Chromium (wasm32)",
            command: browser_test("mamori-core"),
            kind: Kind::Suite {
                vectors: Some(Platform::Wasm),
            },
        },
        Step::check(
            "package (release wasm, npm package)",
            cargo(&["xtask", "package"]),
        ),
        // The widget is JavaScript around a small WebAssembly module: its suite runs against
        // the package just built. It needs the end-to-end suite's npm packages (Playwright),
        // which provisioning installs.
        Step {
            name: "widget in headless Chromium (flow, fingerprint, device key, answers)",
            command: tools.map(|_| e2e::widget_command(root, &root.join("target/npm/mamori"))),
            kind: Kind::Suite { vectors: None },
        },
        Step {
            name: "npm package in Node",
            command: Some(package::node_test(root, &root.join("target/npm/mamori"))),
            kind: Kind::Suite { vectors: None },
        },
        // The declarations a TypeScript merchant relies on, refusing wrong uses; needs the
        // type test's npm packages, which provisioning installs.
        Step {
            name: "npm package's TypeScript declarations (tsc over the element, script tag, React, Vue)",
            command: tools.map(|_| e2e::types_command(root, &root.join("target/npm/mamori"))),
            kind: Kind::Suite { vectors: None },
        },
        // Builds `mamori` without features and checks it holds no demo; then with the demo,
        // which the next step finds built.
        Step::check(
            "production build has no demo and no conformance suite",
            cargo(&["xtask", "production"]),
        ),
        Step::check(
            "build the verifier with the demo (mamori)",
            e2e::build_verifier(root),
        ),
        // The same scenarios twice: the two ways a merchant loads the widget. They need the
        // suite's npm packages, which provisioning installs.
        Step {
            name: "end to end: widget by script tag",
            command: tools.map(|_| e2e::command(root, e2e::Widget::ScriptTag)),
            kind: Kind::Suite { vectors: None },
        },
        Step {
            name: "end to end: widget by npm import",
            command: tools.map(|_| e2e::command(root, e2e::Widget::Npm)),
            kind: Kind::Suite { vectors: None },
        },
        // The real deployment: `mamori serve`, SMTP, the shop on another origin; again once
        // per way of loading the widget.
        Step {
            name: "topology: mamori serve, SMTP, shop on another origin, widget by script tag",
            command: tools.map(|_| topology::command(root, e2e::Widget::ScriptTag)),
            kind: Kind::Suite { vectors: None },
        },
        Step {
            name: "topology: mamori serve, SMTP, shop on another origin, widget by npm import",
            command: tools.map(|_| topology::command(root, e2e::Widget::Npm)),
            kind: Kind::Suite { vectors: None },
        },
        Step {
            name: "merchant guide's jose, PyJWT and HMAC snippets against the golden vectors",
            command: tools.map(|_| topology::interop_command(root)),
            kind: Kind::Suite { vectors: None },
        },
    ]
}

/// One step of the run.
struct Step {
    /// Shown in headers and the summary.
    name: &'static str,
    /// `None` when the tools it needs could not be provisioned.
    command: Option<Command>,
    kind: Kind,
}

impl Step {
    fn check(name: &'static str, command: Command) -> Self {
        Self {
            name,
            command: Some(command),
            kind: Kind::Check,
        }
    }
}

/// How a step's output is judged.
enum Kind {
    /// By exit status alone: formatting, lints, docs.
    Check,
    /// A test suite printing libtest-style result lines, which are summed; running none is a
    /// failure. `vectors` says which golden-vector run it is, if it prints digests.
    Suite { vectors: Option<Platform> },
}

impl Kind {
    /// Whether steps of this kind run tests, and so report counts (zero when they could not
    /// run).
    fn runs_tests(&self) -> bool {
        matches!(self, Self::Suite { .. })
    }
}

/// Which build of the golden vectors a suite runs.
enum Platform {
    Native,
    Wasm,
}
