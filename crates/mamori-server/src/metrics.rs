//! Prometheus metrics, kept by hand: a few labelled counters and one latency histogram.
//!
//! Every label value comes from a closed set, so no request can add a series: a series, once
//! made, is kept for the life of the process, and a label copied from the request (a made-up
//! method, a path) would let anyone grow `/metrics` and this memory without bound.
//!
//! - `method`: one of the methods of RFC 9110 and `PATCH`, else `other` ([`method_label`]).
//! - `route`: the matched route pattern (`/v1/authentications/{id}`), never the path, else
//!   `unmatched`: the router's routes are the set.
//! - `status`: the exact code. Only the verifier's own handlers and axum's answers make one, a
//!   handful of codes; and a `StatusCode` is a number of three digits in any case.
//! - `kind` of a delivery: a kind the mail templates make, else `other` ([`mail_kind`]).
//! - `outcome` and `result`: `&'static str` constants of the callers.
//!
//! A `std::sync::Mutex` (not tokio's) guards the maps: it is held for a map update only, never
//! across an `.await`, and uncontended locking is cheaper than an async lock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::{Method, StatusCode};

use crate::mail::templates::{self, Alert};
use crate::model::{CODE_MAIL, CaseState};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The verifier's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    latencies: Mutex<BTreeMap<RequestLabels, Histogram>>,
}

/// A request's series: method, route and status, each from a closed set (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counter names and their help text.
const COUNTERS: &[(&str, &str)] = &[
    (
        "mamori_authentications_total",
        "Authentications by outcome (created, frictionless, challenge, rejected, authenticated, \
         failed, expired, cancelled).",
    ),
    (
        "mamori_challenge_results_total",
        "Code entries by result (success, wrong, failure).",
    ),
    (
        "mamori_device_proofs_total",
        "Device steps whose token named a live device, by proof result (valid, invalid, \
         missing, unbound: a device without a key, identified by its token alone).",
    ),
    (
        "mamori_mail_deliveries_total",
        "Outbox delivery attempts by kind and result (sent, retry, failed).",
    ),
    (
        "mamori_webhook_deliveries_total",
        "Webhook delivery attempts by outcome (delivered, retry, failed, gone).",
    ),
    (
        "mamori_webhook_polls_total",
        "Times the webhook worker read which events are due; flat while it is stalled or the \
         database does not answer.",
    ),
    (
        "mamori_webhook_claimed_total",
        "Webhook events claimed for a delivery attempt; less the attempts counted in \
         mamori_webhook_deliveries_total, those under way.",
    ),
];

impl Metrics {
    /// Counts an authentication outcome.
    pub fn authentication(&self, outcome: &'static str) {
        self.add(
            "mamori_authentications_total",
            format!("outcome=\"{outcome}\""),
        );
    }

    /// Counts a code entry.
    pub fn challenge(&self, result: &'static str) {
        self.add(
            "mamori_challenge_results_total",
            format!("result=\"{result}\""),
        );
    }

    /// Counts a device proof check (see `crate::flow::proof::ProofCheck::metric`).
    pub fn device_proof(&self, result: &'static str) {
        self.add("mamori_device_proofs_total", format!("result=\"{result}\""));
    }

    /// Counts a delivery attempt; a kind the templates do not make counts as `other`.
    pub fn mail_delivery(&self, kind: &str, result: &'static str) {
        let kind = mail_kind(kind);
        self.add(
            "mamori_mail_deliveries_total",
            format!("kind=\"{kind}\",result=\"{result}\""),
        );
    }

    /// Counts a webhook delivery attempt by its outcome: `delivered`, `retry`, `failed` (given
    /// up) or `gone` (the endpoint answered 410 and was disabled).
    pub fn webhook_delivery(&self, outcome: &'static str) {
        self.add(
            "mamori_webhook_deliveries_total",
            format!("outcome=\"{outcome}\""),
        );
    }

    /// Counts one read of the due webhook events, which claimed `claimed` of them for an
    /// attempt. Both counters move under one lock, so a reader that sees the read counted sees
    /// its claims too.
    pub fn webhook_poll(&self, claimed: usize) {
        let mut map = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(("mamori_webhook_claimed_total", String::new()))
            .or_default() += u64::try_from(claimed).unwrap_or(u64::MAX);
        *map.entry(("mamori_webhook_polls_total", String::new()))
            .or_default() += 1;
    }

    /// Records a request's latency under its method's label, its route pattern (`None`:
    /// `unmatched`) and its status. Never the raw path, which holds ids and anything a client
    /// makes up.
    pub fn request(
        &self,
        method: &Method,
        route: Option<&MatchedPath>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let labels = RequestLabels {
            method: method_label(method),
            // A pattern is one of the router's own (escaped when rendered, not per request).
            route: route.map_or_else(|| "unmatched".to_owned(), |r| r.as_str().to_owned()),
            status: status.as_u16(),
        };
        let seconds = elapsed.as_secs_f64();
        let mut map = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
        let h = map.entry(labels).or_default();
        for (bucket, bound) in h.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    fn add(&self, name: &'static str, labels: String) {
        // A panic while holding the lock cannot leave a counter half-written, so a poisoned
        // lock is still safe to use.
        let mut map = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((name, labels)).or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = self
            .counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (name, help) in COUNTERS {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((_, labels), value) in counters.iter().filter(|((n, _), _)| n == name) {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        }
        let name = "mamori_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Request latency by method, route and status.\n# TYPE {name} histogram"
        );
        let latencies = self
            .latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (l, h) in &latencies {
            // Quoting escaped in case a pattern holds a character the exposition reserves.
            let route = l.route.replace(['"', '\\', '\n'], "_");
            let labels = format!(
                "method=\"{}\",route=\"{route}\",status=\"{}\"",
                l.method, l.status
            );
            for (count, bound) in h.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
        out
    }
}

/// The label of `method`: its name when it is one of the standard methods, else `other`.
pub fn method_label(method: &Method) -> &'static str {
    // `Method::as_str` borrows from the method; the labels must be `'static`.
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::CONNECT, "CONNECT"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::PATCH, "PATCH"),
    ];
    STANDARD
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |&(_, name)| name)
}

/// The label of an outbox mail's `kind`: a kind the templates make, else `other` (a row written
/// by another version, or by hand).
pub fn mail_kind(kind: &str) -> &'static str {
    if kind == CODE_MAIL {
        return CODE_MAIL;
    }
    Alert::ALL
        .into_iter()
        .map(Alert::kind)
        .chain(CaseState::ALL.into_iter().map(templates::case_kind))
        .chain([templates::ADDRESS_CHANGED])
        .find(|known| *known == kind)
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Amount, Currency, Locale};

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.authentication("frictionless");
        m.authentication("frictionless");
        m.challenge("success");
        m.mail_delivery("code", "sent");
        m.webhook_poll(0);
        m.webhook_poll(2);
        m.request(
            &Method::POST,
            None,
            StatusCode::CREATED,
            Duration::from_millis(3),
        );
        let text = m.render();
        assert!(text.contains("mamori_authentications_total{outcome=\"frictionless\"} 2"));
        assert!(text.contains("mamori_challenge_results_total{result=\"success\"} 1"));
        assert!(text.contains("mamori_mail_deliveries_total{kind=\"code\",result=\"sent\"} 1"));
        assert!(text.contains("\nmamori_webhook_polls_total 2\n"), "{text}");
        assert!(
            text.contains("\nmamori_webhook_claimed_total 2\n"),
            "{text}"
        );
        let series = "method=\"POST\",route=\"unmatched\",status=\"201\"";
        assert!(text.contains(&format!("_bucket{{{series},le=\"0.0025\"}} 0")));
        assert!(text.contains(&format!("_bucket{{{series},le=\"0.005\"}} 1")));
        assert!(text.contains(&format!("_count{{{series}}} 1")));
    }

    #[test]
    fn labels_come_from_closed_sets() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for odd in ["FOO", "get", "PROPFIND", "X\"Y"] {
            if let Ok(method) = Method::from_bytes(odd.as_bytes()) {
                assert_eq!(method_label(&method), "other", "{odd}");
            }
        }
        // Every kind the templates make is its own label.
        let facts = templates::PurchaseFacts {
            recipient: "taro@example.com",
            locale: Locale::En,
            merchant: "Shop",
            sandbox: None,
            amount: Amount::new(100).unwrap(),
            currency: Currency::new("JPY").unwrap(),
            time: 0,
            browser: "Firefox",
            report_url: "https://v.example/report/x",
            selfservice_url: None,
        };
        let mut made = vec![templates::code_mail(&facts, "012345", 0)];
        for alert in Alert::ALL {
            made.push(templates::alert_mail(&facts, alert));
        }
        let case = templates::CaseFacts {
            recipient: "taro@example.com",
            locale: Locale::En,
            merchant: "Shop",
            amount: Amount::new(100).unwrap(),
            currency: Currency::new("JPY").unwrap(),
            time: 0,
            selfservice_url: "https://v.example/me/x",
        };
        for state in CaseState::ALL {
            made.push(templates::case_mail(&case, state));
        }
        made.push(templates::address_changed_mail(
            &templates::AddressChangeFacts {
                former: "taro@example.com",
                locale: Locale::En,
                last4: "0005",
                time: 0,
            },
        ));
        for mail in made {
            assert_eq!(mail_kind(&mail.kind), mail.kind);
        }
        assert_eq!(mail_kind("alert_\"}"), "other");

        let m = Metrics::default();
        let odd = Method::from_bytes(b"FOO").unwrap();
        for _ in 0..3 {
            m.request(&odd, None, StatusCode::NOT_FOUND, Duration::ZERO);
            m.mail_delivery("made_up", "sent");
        }
        let text = m.render();
        assert!(text.contains("_count{method=\"other\",route=\"unmatched\",status=\"404\"} 3"));
        assert!(text.contains("mamori_mail_deliveries_total{kind=\"other\",result=\"sent\"} 3"));
        assert!(!text.contains("FOO") && !text.contains("made_up"), "{text}");
    }
}
