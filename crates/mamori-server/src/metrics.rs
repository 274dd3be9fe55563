//! Prometheus metrics, kept by hand: a few labelled counters and one latency histogram.
//!
//! A `std::sync::Mutex` (not tokio's) guards the maps: it is held for a map update only, never
//! across an `.await`, and uncontended locking is cheaper than an async lock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The verifier's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    latencies: Mutex<BTreeMap<String, Histogram>>,
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
        "mamori_mail_deliveries_total",
        "Outbox delivery attempts by kind and result (sent, retry, failed).",
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

    /// Counts a delivery attempt.
    pub fn mail_delivery(&self, kind: &str, result: &'static str) {
        let kind = kind.replace(['"', '\\', '\n'], "_");
        self.add(
            "mamori_mail_deliveries_total",
            format!("kind=\"{kind}\",result=\"{result}\""),
        );
    }

    /// Records a request's latency under its route pattern (never the raw path, which holds
    /// ids and would grow the map without bound).
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let route = route.replace(['"', '\\', '\n'], "_");
        let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
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
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
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
        for (labels, h) in &latencies {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.authentication("frictionless");
        m.authentication("frictionless");
        m.challenge("success");
        m.mail_delivery("code", "sent");
        m.request("POST", "/v1/authentications", 201, Duration::from_millis(3));
        let text = m.render();
        assert!(text.contains("mamori_authentications_total{outcome=\"frictionless\"} 2"));
        assert!(text.contains("mamori_challenge_results_total{result=\"success\"} 1"));
        assert!(text.contains("mamori_mail_deliveries_total{kind=\"code\",result=\"sent\"} 1"));
        let series = "method=\"POST\",route=\"/v1/authentications\",status=\"201\"";
        assert!(text.contains(&format!("_bucket{{{series},le=\"0.0025\"}} 0")));
        assert!(text.contains(&format!("_bucket{{{series},le=\"0.005\"}} 1")));
        assert!(text.contains(&format!("_count{{{series}}} 1")));
    }
}
