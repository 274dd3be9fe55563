//! The sections of BENCHMARKS.md, one function each. Each reads its results, renders its
//! tables, and records how the run did against DESIGN.md's budgets.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::Budget;
use super::inputs::{self, Estimate, Load, NodeVerify, Step, Widget};
use crate::load::Scenario;
use crate::stats::Summary;
use crate::suite::{CLIENTS, GROWTH_LIMIT, Growth, Run};

/// DESIGN.md: the widget's JavaScript and wasm together, gzipped (the same bound
/// `cargo xtask package` checks).
const WIDGET_GZIP_BUDGET: u64 = 15 * 1024;
/// [`WIDGET_GZIP_BUDGET`] as its budget row says it.
const WIDGET_BUDGET: &str = "≤ 15 KB";
/// DESIGN.md: median fingerprint collection in headless Chromium, ms.
const FINGERPRINT_BUDGET_MS: f64 = 10.0;
/// [`FINGERPRINT_BUDGET_MS`] as its budget row says it.
const FINGERPRINT_BUDGET: &str = "≤ 10 ms";
/// DESIGN.md: native verification against `jsonwebtoken`.
const VERIFY_RATIO_BUDGET: f64 = 3.0;
/// [`VERIFY_RATIO_BUDGET`] as its budget row says it.
const VERIFY_BUDGET: &str = "≥ 3× `jsonwebtoken`";
/// A pre-keyed verifier in Node against `fast-jwt` without its cache, the fastest HS256 verifier
/// merchants pick in Node.
const FAST_JWT_KEYED_BUDGET: f64 = 2.0;
/// The one-shot `verifyResult` in Node against `fast-jwt` without its cache.
const FAST_JWT_ONE_SHOT_BUDGET: f64 = 1.0;
/// The Node budgets' rows.
const NODE_KEYED: &str = "result-token verify, wasm in Node, `createVerifier`";
const NODE_KEYED_BUDGET: &str = "≥ 2× `fast-jwt` (uncached)";
const NODE_ONE_SHOT: &str = "result-token verify, wasm in Node, one-shot `verifyResult`";
const NODE_ONE_SHOT_BUDGET: &str = "≥ 1× `fast-jwt` (uncached)";
/// DESIGN.md: frictionless authentications per second on SQLite against the empty handler.
const THROUGHPUT_SHARE_BUDGET: f64 = 0.30;
/// DESIGN.md: the same on PostgreSQL, a database in another process.
const POSTGRES_SHARE_BUDGET: f64 = 0.10;
/// Challenge round trips per second with the loopback SMTP receiver, on each store.
const CHALLENGE_RATE_BUDGET: f64 = 200.0;

/// The budget summary table.
pub(crate) fn budgets(budgets: &[Budget]) -> String {
    let rows = budgets
        .iter()
        .map(|b| {
            let verdict = match b.met {
                Some(true) => "met",
                Some(false) => "**not met**",
                None => "not measured",
            };
            vec![
                b.what.to_owned(),
                b.budget.to_owned(),
                b.measured.clone(),
                verdict.to_owned(),
            ]
        })
        .collect::<Vec<_>>();
    let mut md = table(&["what", "budget", "this run", "verdict"], &rows);
    md.push_str("\nWhy a budget is not met is explained in its section.\n\n");
    md
}

/// 1. Native verification: criterion, mamori-core against `jsonwebtoken`.
pub(crate) fn native(criterion: &Path, budgets: &mut Vec<Budget>) -> String {
    let mut md = String::from("## 1. Result-token verification, native\n\n");
    md.push_str(
        "criterion, one process: mamori-core's `token::verify_result` against the \
         `jsonwebtoken` crate's HS256 `decode` with validation, on the same token (same claims, \
         same key). Both check the signature, `exp`, `iat` and `aud`; mamori-core also checks \
         the header's `typ` and `kid`, the binding to the authentication (`sub`) and the \
         order (reference, amount, currency) and the status, which `jsonwebtoken` cannot, so \
         the comparison does not favour mamori. Source: \
         `crates/mamori-core/benches/verify.rs`. Times are criterion's median per \
         verification with the 95 % confidence interval of that median.\n\n",
    );
    let (ours, theirs) = match (
        inputs::estimate(criterion, "verify_result/mamori-core"),
        inputs::estimate(criterion, "verify_result/jsonwebtoken"),
    ) {
        (Ok(ours), Ok(theirs)) => (ours, theirs),
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(md, "Not measured: {e}\n");
            budgets.push(unmeasured("result-token verify, native", VERIFY_BUDGET));
            return md;
        }
    };
    let ratio = theirs.median / ours.median;
    let row = |name: &str, e: &Estimate, ratio: &str| {
        vec![
            name.to_owned(),
            format!("{:.0}", e.median),
            format!("{:.0}–{:.0}", e.low, e.high),
            format!("{:.0}", 1e9 / e.median),
            ratio.to_owned(),
        ]
    };
    md.push_str(&table(
        &[
            "implementation",
            "ns/verify (median)",
            "95 % CI",
            "verifications/s",
            "speed vs jsonwebtoken",
        ],
        &[
            row("mamori-core", &ours, &format!("**{ratio:.2}×**")),
            row("jsonwebtoken (crate)", &theirs, "1×"),
        ],
    ));
    budgets.push(Budget {
        what: "result-token verify, native",
        budget: VERIFY_BUDGET,
        measured: format!("{ratio:.2}×"),
        met: Some(ratio >= VERIFY_RATIO_BUDGET),
    });

    md.push_str(
        "\n**Cost against token size.** The same claims with a longer order reference, up to \
         the profile's 4 KiB limit:\n\n",
    );
    let mut rows = Vec::new();
    for size in inputs::token_sizes(criterion) {
        let ours = inputs::estimate(
            criterion,
            &format!("verify_result_by_size/mamori-core/{size}"),
        );
        let theirs = inputs::estimate(
            criterion,
            &format!("verify_result_by_size/jsonwebtoken/{size}"),
        );
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            rows.push(vec![
                size.to_string(),
                format!("{:.0}", ours.median),
                format!("{:.2}", ours.median / size as f64),
                format!("{:.0}", theirs.median),
                format!("{:.2}×", theirs.median / ours.median),
            ]);
        }
    }
    md.push_str(&table(
        &[
            "token bytes",
            "mamori-core ns",
            "mamori-core ns/byte",
            "jsonwebtoken ns",
            "speed vs jsonwebtoken",
        ],
        &rows,
    ));
    md.push('\n');
    md
}

/// 2. Verification in Node: the npm package against `fast-jwt`, `jose` and `jsonwebtoken`.
pub(crate) fn node(path: &Path, budgets: &mut Vec<Budget>) -> String {
    let mut md = String::from("## 2. Result-token verification in Node\n\n");
    let verify: NodeVerify = match inputs::json(path) {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(md, "Not measured: {e}\n");
            budgets.push(unmeasured(NODE_KEYED, NODE_KEYED_BUDGET));
            budgets.push(unmeasured(NODE_ONE_SHOT, NODE_ONE_SHOT_BUDGET));
            return md;
        }
    };
    let _ = write!(
        md,
        "`bench/verify.mjs`, Node {node}, one process, one {bytes}-byte token: the npm \
         package's `mamori/verify` (mamori-core as WebAssembly) as a verifier made once with \
         `createVerifier` and as the one-shot `verifyResult` (which parses the key and keys the \
         HMAC on every call), against `fast-jwt`'s `createVerifier` without and with its cache, \
         `jose`'s `jwtVerify` and `jsonwebtoken`'s `verify`, each given the same key, audience \
         and clock (`jose` also the `typ`); mamori also checks the order and the status, which \
         the others cannot. fast-jwt's cache returns the payload it kept for a token it has \
         verified before, so its row is the cost of a lookup on a replayed token; mamori has \
         no such cache, since a merchant must refuse a replay rather than answer it faster. \
         Each must accept the token and refuse it with one signature character changed before \
         it is timed. After a {warmup:.0} ms warm-up each, {rounds} rounds of {round:.0} ms, \
         the libraries interleaved in rotating order. `jose` is asynchronous (WebCrypto); its \
         calls are awaited one after another, as a request handler would. The ± is half the \
         interquartile range of the rounds.\n\n",
        node = verify.node,
        bytes = verify.token_bytes,
        warmup = verify.warmup_ms,
        round = verify.round_ms,
        rounds = verify
            .libraries
            .first()
            .map_or(0, |l| l.ops_per_second.len()),
    );
    let medians: Vec<Option<Summary>> = verify
        .libraries
        .iter()
        .map(|l| Summary::of(&l.ops_per_second))
        .collect();
    let ours = medians.first().copied().flatten();
    let rows = verify
        .libraries
        .iter()
        .zip(&medians)
        .map(|(library, summary)| {
            let Some(s) = summary else {
                return vec![library.name.clone(), library.version.clone(), "–".into()];
            };
            let ratio = ours.map_or("–".into(), |o| format!("{:.2}×", o.median / s.median));
            vec![
                library.name.clone(),
                library.version.clone(),
                format!("{:.0} ± {:.0} %", s.median, s.relative_spread() * 100.0),
                format!("{:.0}–{:.0}", s.min, s.max),
                format!("{:.2}", 1e6 / s.median),
                ratio,
            ]
        })
        .collect::<Vec<_>>();
    let first = verify.libraries.first().map_or("–", |l| l.name.as_str());
    md.push_str(&table(
        &[
            "library",
            "version",
            "verifications/s (median)",
            "range of rounds",
            "µs/verify",
            &format!("{first} is"),
        ],
        &rows,
    ));
    md.push('\n');
    let median = |name: &str| {
        verify
            .libraries
            .iter()
            .zip(&medians)
            .find(|(l, _)| l.name == name)
            .and_then(|(_, s)| *s)
            .map(|s| s.median)
    };
    let fast_jwt = median("fast-jwt");
    let mut ratio_budget = |what, budget, ours: Option<f64>, at_least| {
        let ratio = ours.zip(fast_jwt).map(|(o, f)| o / f);
        budgets.push(Budget {
            what,
            budget,
            measured: ratio.map_or("–".into(), |r| format!("{r:.2}×")),
            met: ratio.map(|r| r >= at_least),
        });
    };
    ratio_budget(
        NODE_KEYED,
        NODE_KEYED_BUDGET,
        median("mamori createVerifier"),
        FAST_JWT_KEYED_BUDGET,
    );
    ratio_budget(
        NODE_ONE_SHOT,
        NODE_ONE_SHOT_BUDGET,
        median("mamori verifyResult"),
        FAST_JWT_ONE_SHOT_BUDGET,
    );
    md.push_str(
        "Where a verification's time goes, from a CPU profile of `createVerifier` in a loop \
         (`node --cpu-prof`): about two thirds is mamori-core's work in WebAssembly, and more \
         than half of that is SHA-256 (the HMAC over the claims: seven compressions in \
         software, the key's own header being hashed once per key, where fast-jwt's \
         `node:crypto` HMAC runs OpenSSL's native, hardware-assisted code); the rest is the \
         checks themselves (the header compared with the key's, base64url decoded into the \
         stack, the claims read by a scanner of the JSON mamori writes, strings copied into \
         the claims) and writing the claims out to JavaScript. The JavaScript around it \
         (checking the call's options, copying the token and order into wasm memory, building \
         the claims object from one decoded string) and its garbage collection are about a \
         quarter. The one-shot `verifyResult` also parses the key, keys the HMAC and reads its \
         options through `JSON.stringify` on every call.\n\n",
    );
    md
}

/// 3. The verifier under load, against the empty handler.
pub(crate) fn verifier(path: &Path, budgets: &mut Vec<Budget>) -> String {
    let mut md = String::from("## 3. Verifier throughput and latency\n\n");
    let load: Load = match inputs::json(path) {
        Ok(load) => load,
        Err(e) => {
            let _ = writeln!(md, "Not measured: {e}\n");
            budgets.push(unmeasured(
                "frictionless authentications, SQLite",
                "≥ 30 % of an empty axum handler's req/s",
            ));
            return md;
        }
    };
    let _ = write!(
        md,
        "`mamori-bench load` (`crates/mamori-bench`): the `mamori` release binary (`mamori \
         --config … serve`, tokio's default runtime, default logging to a file) on SQLite and \
         on PostgreSQL, an empty axum handler (same runtime, `200` with no body) as the \
         baseline, and a second baseline that makes one SQLite insert per request (below); \
         each a process of its own, all running side by side, the runs interleaved. A closed-loop Rust load generator on the same two cores (so it takes \
         CPU from the server: every number here is lower than on a machine with a separate \
         client) drives N clients, each with its own kept-alive HTTP/1.1 connection and its \
         own cards, for {warmup:.0} s of warm-up and then a {window:.0} s measured window \
         (at most {max} operations). Operations: **frictionless** = the merchant's `POST \
         /v1/authentications` + the widget's device step from a browser that proves its device \
         key: the trusted device token and `device_proof`, an ECDSA P-256 signature over this \
         authentication's id, which the verifier checks before it recognises the device (one \
         P-256 verification per purchase) → result token (2 requests). That is the path every \
         browser with WebCrypto takes; the weaker fallback of a browser without it (device \
         token alone, no key) is not what is measured here. **challenge** = create + device \
         step from a new browser → the code mail, delivered by the verifier's outbox over SMTP \
         to a loopback receiver in the load generator, which hands the code to the waiting \
         client → `challenge/verify` with a fresh device key and its registration proof (one \
         more P-256 verification) → result and device token (3 requests and a mail); **empty** \
         = one `POST` with a device-step body. The load generator signs the proofs with `ring` \
         (one signature per frictionless purchase, one key pair and signature per challenge), \
         on the same cores as the server. {cards} cards, each with a device trusted and its key \
         bound by one challenge before the runs; before the runs each verifier must also \
         challenge a trusted device whose proof does not verify, so a verifier that ignored \
         keys could not pass for one that checks them. Each request carries its card's own \
         client address in `x-forwarded-for` (as behind a load balancer) and the velocity limits are raised, since every simulated card buys \
         many times a minute; the history queries still run on every device step. Latency is \
         per operation (all its requests, and for a challenge the wait for the mail). Server \
         CPU and context switches come from `/proc` for the server process over the window, and \
         the load generator's CPU from `/proc` for its own process (its SMTP receiver \
         included).\n\n",
        warmup = load.warmup_seconds,
        window = load.window_seconds,
        max = load.max_operations,
        cards = load.cards,
    );
    let groups = group(&load.runs);
    let Some(empty) = peak(&groups, "empty", Scenario::Empty) else {
        // A subset run by hand (`--servers sqlite`): what needs no baseline is still shown.
        md.push_str("Not measured: the baseline has no runs.\n");
        budgets.push(challenge_budget(&groups));
        md.push_str(&challenge_note(&load, &groups));
        md.push_str(&store_growth(&load.growth));
        return md;
    };
    let empty_rate = rate(empty);

    md.push_str("**Peak throughput** (the client count with the most operations per second):\n\n");
    let mut rows = Vec::new();
    for ((_, target, scenario), runs) in &groups {
        let Some(run) = best(runs) else { continue };
        let usage = run.server.unwrap_or_default();
        let per_op = 1.0 / run.operations.max(1) as f64;
        let cpu = (usage.user + usage.system) * 1e6 * per_op;
        let system_share = usage.system / (usage.user + usage.system).max(1e-9);
        let client_cpu = run.client.map_or("–".into(), |client| {
            format!("{:.0}", (client.user + client.system) * 1e6 * per_op)
        });
        rows.push(vec![
            target.clone(),
            operation_name(target, *scenario).to_owned(),
            run.clients.to_string(),
            format!("{:.0}", rate(run)),
            format!("{:.0}", run.requests as f64 / run.seconds.max(1e-9)),
            latency(run, 0),
            latency(run, 2),
            format!("{cpu:.0} ({:.0} % kernel)", system_share * 100.0),
            format!("{:.0}", usage.switches as f64 * per_op),
            client_cpu,
            format!("{:.1} %", rate(run) / empty_rate * 100.0),
            run.errors.to_string(),
        ]);
    }
    md.push_str(&table(
        &[
            "server",
            "operation",
            "clients",
            "operations/s",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "server CPU µs/op",
            "context switches/op",
            "load generator CPU µs/op",
            "ops/s vs empty req/s",
            "errors",
        ],
        &rows,
    ));

    let sqlite = peak(&groups, "sqlite", Scenario::Frictionless);
    let share = sqlite.map(|run| rate(run) / empty_rate);
    let insert_rate = peak(&groups, "insert", Scenario::Empty).map(rate);
    budgets.push(share_budget(
        "frictionless authentications, SQLite",
        "≥ 30 % of an empty axum handler's req/s",
        sqlite,
        [empty_rate, insert_rate.unwrap_or(0.0)],
        THROUGHPUT_SHARE_BUDGET,
    ));
    let postgres = peak(&groups, "postgres", Scenario::Frictionless);
    if postgres.is_some() {
        budgets.push(share_budget(
            "frictionless authentications, PostgreSQL",
            "≥ 10 % of an empty axum handler's req/s",
            postgres,
            [empty_rate, insert_rate.unwrap_or(0.0)],
            POSTGRES_SHARE_BUDGET,
        ));
    }
    if let (Some(run), Some(share)) = (sqlite, share) {
        md.push_str(&throughput_note(run, empty, share));
    }
    if let (Some(run), Some(insert_rate)) = (sqlite, insert_rate) {
        md.push_str(&insert_note(run, insert_rate));
    }
    budgets.push(challenge_budget(&groups));

    md.push_str(
        "\n**Scaling with concurrent clients** (operations/s, and p50 / p99 latency in ms):\n\n",
    );
    let mut headers = vec!["server".to_owned(), "operation".to_owned()];
    headers.extend(CLIENTS.iter().map(|c| format!("{c} clients")));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows = groups
        .iter()
        .map(|((_, target, scenario), runs)| {
            let mut row = vec![target.clone(), operation_name(target, *scenario).to_owned()];
            for clients in CLIENTS {
                row.push(
                    runs.iter()
                        .find(|r| r.clients == clients)
                        .map_or("–".into(), |r| {
                            format!("{:.0} · {} / {}", rate(r), latency(r, 0), latency(r, 2))
                        }),
                );
            }
            row
        })
        .collect::<Vec<_>>();
    md.push_str(&table(&headers, &rows));
    md.push_str(&challenge_note(&load, &groups));
    md.push_str(&store_growth(&load.growth));
    md
}

/// A store's peak frictionless authentications per second against `share` of the empty
/// handler's requests per second; the one-insert handler's rate (`0` when it was not measured)
/// is given beside it.
fn share_budget(
    what: &'static str,
    budget: &'static str,
    run: Option<&Run>,
    [empty_rate, insert_rate]: [f64; 2],
    share: f64,
) -> Budget {
    Budget {
        what,
        budget,
        measured: run.map_or("–".into(), |run| {
            let mut measured = format!(
                "{:.1} % ({:.0} authentications/s vs {:.0} req/s; per HTTP request {:.1} %",
                rate(run) / empty_rate * 100.0,
                rate(run),
                empty_rate,
                run.requests as f64 / run.seconds.max(1e-9) / empty_rate * 100.0
            );
            if insert_rate > 0.0 {
                let _ = write!(
                    measured,
                    "; {:.0} % of the one-insert handler's {insert_rate:.0} req/s",
                    rate(run) / insert_rate * 100.0
                );
            }
            measured.push(')');
            measured
        }),
        met: run.map(|run| rate(run) / empty_rate >= share),
    }
}

/// The verifier's frictionless rate on SQLite against the one-insert handler's.
fn insert_note(sqlite: &Run, insert_rate: f64) -> String {
    format!(
        "\nThe one-insert handler (`mamori-bench serve-insert`: the same runtime and request, one \
         rusqlite connection behind a mutex, WAL with `synchronous = NORMAL`, each request's \
         row, shaped like a purchase with one secondary index, committed on its own) answers \
         {insert_rate:.0} req/s at its best: what HTTP plus one durable SQLite write per request \
         costs on this machine, written the plain way. A frictionless authentication makes two \
         requests, each of which writes; the verifier's {:.0} authentications/s are {:.0} % of \
         that handler's requests, {:.0} % of its rate counted in requests.\n",
        rate(sqlite),
        rate(sqlite) / insert_rate * 100.0,
        sqlite.requests as f64 / sqlite.seconds.max(1e-9) / insert_rate * 100.0,
    )
}

/// The slowest store's peak challenge round trips against [`CHALLENGE_RATE_BUDGET`].
fn challenge_budget(groups: &Groups<'_>) -> Budget {
    let peaks: Vec<(&str, f64)> = groups
        .iter()
        .filter(|((_, target, scenario), _)| target != "empty" && *scenario == Scenario::Challenge)
        .filter_map(|((_, target, _), runs)| Some((target.as_str(), rate(best(runs)?))))
        .collect();
    let slowest = peaks.iter().map(|(_, r)| *r).min_by(f64::total_cmp);
    Budget {
        what: "challenge round trips, loopback SMTP receiver",
        budget: "≥ 200/s on each store",
        measured: if peaks.is_empty() {
            "–".into()
        } else {
            peaks
                .iter()
                .map(|(target, r)| format!("{target} {r:.0}/s"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        met: slowest.map(|r| r >= CHALLENGE_RATE_BUDGET),
    }
}

/// Why the throughput budget is or is not met, in this run's numbers.
fn throughput_note(sqlite: &Run, empty: &Run, share: f64) -> String {
    let per_op = |run: &Run| {
        let usage = run.server.unwrap_or_default();
        let n = run.operations.max(1) as f64;
        (
            (usage.user + usage.system) * 1e6 / n,
            usage.system * 1e6 / n,
            usage.switches as f64 / n,
        )
    };
    let (cpu, system, switches) = per_op(sqlite);
    let (empty_cpu, _, empty_switches) = per_op(empty);
    let mut md = format!(
        "\nOn SQLite a frictionless authentication costs the verifier {cpu:.0} µs of CPU \
         ({system:.0} µs of it in the kernel) and {switches:.0} context switches; the empty \
         handler's request costs {empty_cpu:.0} µs and {empty_switches:.1}. "
    );
    if share >= THROUGHPUT_SHARE_BUDGET {
        md.push_str("That is within the budget.\n");
    } else {
        md.push_str(
            "The budget is not met. Beside the verifier's own logic (routing, JSON, the risk \
             engine, an HMAC token), each purchase verifies one ECDSA P-256 signature, the \
             device proof (`mamori_core::device_key::verify`, ring's assembly P-256 natively): \
             CPU that no store change saves, paid on every purchase; the rest is mostly the \
             store. On \
             SQLite (`mamori-server/src/store/inline.rs`) a purchase's reads run in the \
             requesting task on one of several read-only connections, and its two writes (the \
             insert, the device step's conditional update) go to one writer thread that commits \
             every write queued at that moment in one transaction (group commit) and answers \
             each only after the commit. What is left is SQLite's own work: each write still \
             appends the pages it touched to the write-ahead log (its random id and the history \
             indexes put most writes on leaf pages of their own, so writes committed together \
             share few pages), the checkpoints that copy the log into the file, and read \
             connections refilling the page cache every commit empties. On PostgreSQL \
             (`mamori-server/src/store/pg_hot.rs`) a purchase is five round trips to the \
             database (two rate-limit counts, the insert, the device step's read and its \
             update) on connections given back without the test round trip sqlx's pool makes; \
             each round trip is two context switches and a wake-up of another process on the \
             same two cores. Fewer pages per write (ids that keep a purchase's rows together, \
             narrower history indexes) and a leaner HTTP path are the next levers; the one-insert handler below says how far a verifier that writes per \
             request can go here.\n",
        );
    }
    md
}

/// What limits the challenge round trips, in this run's numbers.
fn challenge_note(load: &Load, groups: &Groups<'_>) -> String {
    let single = groups
        .iter()
        .find(|((_, t, s), _)| t == "sqlite" && *s == Scenario::Challenge)
        .and_then(|(_, runs)| runs.iter().find(|r| r.clients == 1));
    let (Some(single), Some(peak)) = (single, peak(groups, "sqlite", Scenario::Challenge)) else {
        return String::new();
    };
    let mut md = format!(
        "\nChallenge round trips: on SQLite one client's round trip takes {p50} ms at the \
         median, and the peak is {rate:.0} round trips/s at {clients} clients. Every passed \
         challenge mails its code, and the first from a card's new browser also an alert. The \
         outbox delivers `mail.concurrency` (4 by default) mails at once, each over a \
         kept-open SMTP connection with `TCP_NODELAY` (`mamori-server/src/mail/pool.rs`).",
        p50 = latency(single, 0),
        rate = rate(peak),
        clients = peak.clients,
    );
    if let Some([transaction, transaction_p95, data, _]) = load.smtp_ms {
        let _ = write!(
            md,
            " In this run a mail's SMTP transaction (`MAIL FROM` to the final `.`) took \
             {transaction:.2} ms at the median (p95 {transaction_p95:.2} ms) on loopback, \
             {data:.2} ms of it between `DATA` and the final `.`. Near 40 ms there would mean \
             Nagle's algorithm meeting the receiver's delayed ACK again (the final `.` waiting \
             for the body to be acknowledged), which is what paced mail before the connections \
             set `TCP_NODELAY`.",
        );
    }
    md.push('\n');
    md
}

/// Store growth per 100 000 frictionless authentications, measured by the growth step.
fn store_growth(growth: &[Growth]) -> String {
    let mut md = String::from("\n**Store size.** ");
    if growth.is_empty() {
        md.push_str("Not measured in this run (`mamori-bench load --growth 0`).\n");
        return md;
    }
    let mut rows = Vec::new();
    for grown in growth {
        let [before, after] = grown.store;
        let count = after.authentications - before.authentications;
        if count <= 0 {
            continue;
        }
        let bytes = after.bytes - before.bytes;
        let per = bytes as f64 / count as f64;
        let per_100k = if count == 100_000 {
            format!("{:.1}", bytes as f64 / 1e6)
        } else {
            format!("{:.1} (scaled from {count})", per * 100_000.0 / 1e6)
        };
        rows.push(vec![
            grown.target.clone(),
            count.to_string(),
            format!("{:.0} s", grown.seconds),
            format!("{:.1}", before.bytes as f64 / 1e6),
            format!("{:.1}", after.bytes as f64 / 1e6),
            format!("{per:.0}"),
            per_100k,
            grown.errors.to_string(),
        ]);
    }
    let _ = write!(
        md,
        "After the runs above, each store is grown by frictionless authentications alone \
         ({clients} clients, until {requested} have been created or {limit} s have passed) and \
         its size read before and after: with 100 000 created, the growth per 100 000 is \
         measured, not extrapolated. SQLite: pages in use after a WAL checkpoint. PostgreSQL: \
         `pg_database_size`, which also counts row versions that updates left for VACUUM, so \
         it is an upper bound until autovacuum catches up.\n\n",
        clients = growth[0].clients,
        requested = growth[0].requested,
        limit = GROWTH_LIMIT.as_secs(),
    );
    md.push_str(&table(
        &[
            "store",
            "authentications created",
            "wall time",
            "size before MB",
            "size after MB",
            "bytes/authentication",
            "MB per 100 000",
            "errors",
        ],
        &rows,
    ));
    md.push('\n');
    md
}

/// 4. The widget in headless Chromium, with FingerprintJS and ThumbmarkJS.
pub(crate) fn widget(path: &Path, budgets: &mut Vec<Budget>) -> String {
    let mut md = String::from("## 4. Widget\n\n");
    let widget: Widget = match inputs::json(path) {
        Ok(w) => w,
        Err(e) => {
            let _ = writeln!(md, "Not measured: {e}\n");
            budgets.push(unmeasured(
                "widget transfer size (JS + wasm, gzip)",
                WIDGET_BUDGET,
            ));
            budgets.push(unmeasured(
                "fingerprint main-thread time, headless Chromium, median",
                FINGERPRINT_BUDGET,
            ));
            return md;
        }
    };
    let size = |name: &str| widget.sizes.get(name).copied();
    let mut rows = Vec::new();
    let mut total = (0, 0);
    for name in ["mamori.js", "mamori.wasm"] {
        if let Some(s) = size(name) {
            total = (total.0 + s.bytes, total.1 + s.gzip);
            rows.push(vec![
                format!("`{name}`"),
                s.bytes.to_string(),
                s.gzip.to_string(),
            ]);
        }
    }
    rows.push(vec![
        "**widget total**".into(),
        total.0.to_string(),
        format!("**{}**", total.1),
    ]);
    if let Some(s) = size("fp.min.js") {
        rows.push(vec![
            format!("FingerprintJS {} `fp.min.js`", widget.fingerprintjs),
            s.bytes.to_string(),
            s.gzip.to_string(),
        ]);
    }
    if let (Some(s), Some(version)) = (size("thumbmark.umd.js"), &widget.thumbmarkjs) {
        rows.push(vec![
            format!("ThumbmarkJS {version} `thumbmark.umd.js`"),
            s.bytes.to_string(),
            s.gzip.to_string(),
        ]);
    }
    md.push_str(
        "**Transfer size** of the release script-tag build (`cargo xtask package` → \
         `target/www`), in bytes, gzip at level 9. The widget's figure includes the challenge \
         UI, the API client and the device token as well as the fingerprint; FingerprintJS's \
         and ThumbmarkJS's are their fingerprints alone.\n\n",
    );
    md.push_str(&table(&["file", "bytes", "gzip bytes"], &rows));
    budgets.push(Budget {
        what: "widget transfer size (JS + wasm, gzip)",
        budget: WIDGET_BUDGET,
        measured: format!("{:.1} KB ({} B)", total.1 as f64 / 1024.0, total.1),
        met: Some(total.1 <= WIDGET_GZIP_BUDGET),
    });

    let _ = write!(
        md,
        "\n**In the browser.** `bench/widget.mjs`: headless Chromium {chromium} (Playwright), \
         {n} page loads of a checkout page on a loopback origin with the script tag, the \
         verifier (`mamori` release binary, SQLite) on another loopback port, and \
         FingerprintJS's and ThumbmarkJS's bundles on the same page; the three take turns \
         going first. The widget collects its fingerprint in the browser's idle time, in \
         steps: main-thread time = the sum of its steps (its `mamori:fingerprint` \
         measures), the budget's figure; fingerprint collection = from the widget's \
         `mamori:ready` (the device step begins) to its `fetch` of the device step, idle \
         waits included. Long tasks = tasks of 50 ms or more (`longtask` observer) that \
         overlapped a fingerprint step. Mount to interactive = from `mamori.mount()` (loading and \
         instantiating the wasm, from the HTTP cache after the first page) to \
         `mamori:challenge` (the code input shown), including the device step's round trip to \
         the verifier. FingerprintJS: `load()` and `get()`; ThumbmarkJS: `get()`. Requests \
         leaving loopback would \
         be refused and counted: {blocked}.\n\n",
        chromium = widget.chromium,
        n = widget.samples.len(),
        blocked = widget.blocked_requests,
    );
    let column = |f: fn(&inputs::WidgetSample) -> f64| {
        Summary::of(&widget.samples.iter().map(f).collect::<Vec<_>>())
    };
    let optional = |f: fn(&inputs::WidgetSample) -> Option<f64>| {
        Summary::of(&widget.samples.iter().filter_map(f).collect::<Vec<_>>())
    };
    let fingerprint = optional(|s| s.fingerprint_main_thread_ms);
    let long_tasks: u64 = widget
        .samples
        .iter()
        .filter_map(|s| s.fingerprint_long_tasks)
        .sum();
    let thumbmark_get = optional(|s| s.thumbmark_get_ms);
    let rows: Vec<Vec<String>> = [
        ("mamori: fingerprint main-thread time", fingerprint),
        (
            "mamori: fingerprint collection",
            column(|s| s.fingerprint_ms),
        ),
        (
            "mamori: a second device step's fingerprint",
            optional(|s| s.second_fingerprint_ms),
        ),
        (
            "mamori: mount to interactive",
            column(|s| s.mount_to_interactive_ms),
        ),
        ("FingerprintJS: `get()`", column(|s| s.fpjs_get_ms)),
        ("FingerprintJS: `load()`", column(|s| s.fpjs_load_ms)),
        (
            "FingerprintJS: `load()` + `get()`",
            column(|s| s.fpjs_load_ms + s.fpjs_get_ms),
        ),
        ("ThumbmarkJS: `get()`", thumbmark_get),
    ]
    .into_iter()
    .filter_map(|(name, s)| {
        let s = s?;
        Some(vec![
            name.to_owned(),
            format!("{:.1}", s.median),
            format!("{:.1}", s.p95),
            format!("{:.1}–{:.1}", s.min, s.max),
        ])
    })
    .collect();
    md.push_str(&table(&["measure (ms)", "median", "p95", "range"], &rows));
    let fpjs_get = column(|s| s.fpjs_get_ms);
    if let (Some(ours), Some(theirs)) = (fingerprint, fpjs_get) {
        let _ = write!(
            md,
            "\nAt the median, FingerprintJS's `get()` takes {:.2}× the widget's fingerprint \
             main-thread time",
            theirs.median / ours.median,
        );
        if let Some(thumbmark) = thumbmark_get {
            let _ = write!(
                md,
                " and ThumbmarkJS's {:.2}×",
                thumbmark.median / ours.median
            );
        }
        let _ = writeln!(
            md,
            "; long tasks overlapping a fingerprint step: {long_tasks} in {} page loads. The \
             widget's bundle is {:.1}× the gzipped size of FingerprintJS's.",
            widget.samples.len(),
            total.1 as f64 / size("fp.min.js").map_or(f64::NAN, |s| s.gzip as f64),
        );
    }
    let webgl = Summary::of(
        &widget
            .references
            .iter()
            .map(|r| r.webgl_ms)
            .collect::<Vec<_>>(),
    );
    let canvas = Summary::of(
        &widget
            .references
            .iter()
            .map(|r| r.canvas_ms)
            .collect::<Vec<_>>(),
    );
    if let (Some(ours), Some(webgl), Some(canvas)) = (fingerprint, webgl, canvas) {
        let _ = write!(
            md,
            "\nFor reference, on {n} fresh pages of the same browser, by themselves: creating a \
             WebGL context and reading its renderer took {webgl:.1} ms at the median (renderer: \
             {renderer}), drawing text on a 2D canvas and reading it back {canvas:.1} ms. ",
            n = widget.references.len(),
            webgl = webgl.median,
            canvas = canvas.median,
            renderer = widget.renderer.as_deref().unwrap_or("unknown"),
        );
        if ours.median > FINGERPRINT_BUDGET_MS {
            let _ = write!(
                md,
                "The fingerprint budget is not met: its {:.1} ms of main thread at the median \
                 include the WebGL signal and a canvas drawn once and read back twice, which \
                 without a GPU are rendered in software, on two cores shared with the verifier \
                 and the rest of the machine's work.",
                ours.median
            );
        }
        md.push('\n');
    }
    if total.1 > WIDGET_GZIP_BUDGET {
        let wasm = size("mamori.wasm").map_or(0, |s| s.gzip);
        let _ = writeln!(
            md,
            "\nThe size budget is not met by {} bytes; the wasm module is {} of the {} gzipped \
             bytes ({:.0} %), so that is where it has to be cut.",
            total.1 - WIDGET_GZIP_BUDGET,
            wasm,
            total.1,
            wasm as f64 / total.1 as f64 * 100.0
        );
    }
    budgets.push(Budget {
        what: "fingerprint main-thread time, headless Chromium, median",
        budget: FINGERPRINT_BUDGET,
        measured: fingerprint.map_or("–".into(), |s| {
            format!(
                "{:.1} ms (p95 {:.1} ms), {long_tasks} long tasks",
                s.median, s.p95
            )
        }),
        met: fingerprint.map(|s| s.median <= FINGERPRINT_BUDGET_MS && long_tasks == 0),
    });
    md.push('\n');
    md
}

/// The commands that produced the report, with their wall times.
pub(crate) fn commands(steps: &[Step], wall_seconds: Option<f64>) -> String {
    let mut md = String::from(
        "## How these numbers were made\n\n\
         `cargo xtask bench` ran these steps in this order (each is a command you can run by \
         itself); the Node packages come from `npm ci` on the committed `bench/package-lock.json`, \
         so every run compares the same versions of the peers.\n\n",
    );
    let rows = steps.iter().map(step_cells).collect::<Vec<_>>();
    md.push_str(&table(&["step", "wall time", "command"], &rows));
    if let Some(seconds) = wall_seconds {
        let _ = writeln!(
            md,
            "\nThe whole `cargo xtask bench` took {:.1} minutes, building included; cargo reuses \
             whatever earlier builds left in `target/`, so on a fresh clone the two build steps \
             (release with LTO, and criterion's) take several minutes longer.",
            seconds / 60.0
        );
    }
    md
}

/// One row of the steps table.
pub(crate) fn step_row(step: &Step) -> String {
    format!("| {} |\n", step_cells(step).join(" | "))
}

fn step_cells(step: &Step) -> Vec<String> {
    vec![
        step.title.clone(),
        format!("{:.0} s", step.seconds),
        format!("`{}`", step.command.replace('|', "\\|")),
    ]
}

/// Runs by (target, operation), the baselines first, then SQLite, then PostgreSQL.
type Groups<'a> = BTreeMap<(u8, String, Scenario), Vec<&'a Run>>;

fn group(runs: &[Run]) -> Groups<'_> {
    let mut groups = Groups::new();
    for run in runs {
        let rank = match run.target.as_str() {
            "empty" => 0,
            "insert" => 1,
            "sqlite" => 2,
            _ => 3,
        };
        groups
            .entry((rank, run.target.clone(), run.scenario))
            .or_default()
            .push(run);
    }
    groups
}

/// The best run of `target`'s `scenario`.
fn peak<'a>(groups: &Groups<'a>, target: &str, scenario: Scenario) -> Option<&'a Run> {
    groups
        .iter()
        .find(|((_, t, s), _)| t == target && *s == scenario)
        .and_then(|(_, runs)| best(runs))
}

/// The run with the most operations per second.
fn best<'a>(runs: &[&'a Run]) -> Option<&'a Run> {
    runs.iter()
        .copied()
        .max_by(|a, b| rate(a).total_cmp(&rate(b)))
}

fn rate(run: &Run) -> f64 {
    run.operations as f64 / run.seconds.max(1e-9)
}

/// Latency column `i` (0 median, 1 p95, 2 p99, 3 max) in ms.
fn latency(run: &Run, i: usize) -> String {
    run.latency_us
        .and_then(|l| l.get(i).copied())
        .map_or("–".into(), |us| {
            let ms = us / 1000.0;
            if ms < 10.0 {
                format!("{ms:.2}")
            } else {
                format!("{ms:.0}")
            }
        })
}

/// What `target` did in `scenario`: the baselines' one operation is named by the baseline.
fn operation_name(target: &str, scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Empty if target == "insert" => "one SQLite insert",
        Scenario::Empty => "empty handler",
        Scenario::Frictionless => "frictionless",
        Scenario::Challenge => "challenge",
    }
}

fn unmeasured(what: &'static str, budget: &'static str) -> Budget {
    Budget {
        what,
        budget,
        measured: "–".into(),
        met: None,
    }
}

/// A Markdown table.
fn table<S: AsRef<str>>(headers: &[S], rows: &[Vec<String>]) -> String {
    let mut md = String::new();
    let line = |cells: Vec<&str>| format!("| {} |\n", cells.join(" | "));
    md.push_str(&line(headers.iter().map(AsRef::as_ref).collect()));
    md.push_str(&line(headers.iter().map(|_| "---").collect()));
    for row in rows {
        md.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::size::Reading;

    fn grown(target: &str, created: i64, bytes: i64) -> Growth {
        Growth {
            target: target.into(),
            clients: 64,
            requested: 100_000,
            store: [
                Reading {
                    authentications: 1_000,
                    bytes: 4_000_000,
                },
                Reading {
                    authentications: 1_000 + created,
                    bytes: 4_000_000 + bytes,
                },
            ],
            errors: 0,
            seconds: 90.0,
        }
    }

    /// 100 000 created is a measurement and shown as one; fewer are scaled, and say so.
    #[test]
    fn growth_is_shown_measured_or_said_to_be_scaled() {
        let md = store_growth(&[
            grown("sqlite", 100_000, 180_000_000),
            grown("postgres", 40_000, 100_000_000),
        ]);
        assert!(
            md.contains("| sqlite | 100000 | 90 s | 4.0 | 184.0 | 1800 | 180.0 | 0 |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| postgres | 40000 | 90 s | 4.0 | 104.0 | 2500 | 250.0 (scaled from 40000) |"
            ),
            "{md}"
        );
        assert!(store_growth(&[]).contains("Not measured"));
    }
}
