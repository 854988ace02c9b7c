//! Counts and latencies of one load generator thread, their merge, and the report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in nanoseconds, from 1 ns to one hour, with 3 significant digits:
/// every recorded value is within 0.1 % of the true one.
const HIGHEST_NS: u64 = 3_600_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// What one thread saw.
#[derive(Clone, Debug)]
pub struct Stats {
    latency: Histogram<u64>,
    /// Answers by status, whatever the status.
    pub statuses: BTreeMap<u16, u64>,
    /// Connection and protocol errors by kind (no answer was counted for these).
    pub socket_errors: BTreeMap<String, u64>,
    /// Every answer, warm-up and the end included (the others count only the measured
    /// period).
    pub all_answers: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        // Constant bounds that `new_with_bounds` accepts (1 ≤ low, high ≥ 2·low, digits ≤ 5).
        let latency = Histogram::new_with_bounds(1, HIGHEST_NS, SIGNIFICANT_DIGITS)
            .expect("constant histogram bounds are valid");
        Stats {
            latency,
            statuses: BTreeMap::new(),
            socket_errors: BTreeMap::new(),
            all_answers: 0,
        }
    }

    /// One answer.
    pub fn record(&mut self, status: u16, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.latency.saturating_record(ns);
        *self.statuses.entry(status).or_default() += 1;
    }

    /// One connection or protocol error.
    pub fn error(&mut self, kind: &str) {
        match self.socket_errors.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.socket_errors.insert(kind.to_owned(), 1);
            }
        }
    }

    pub fn merge(&mut self, other: &Stats) {
        // Both histograms have the same bounds, so `add` cannot fail; saturate otherwise.
        if self.latency.add(&other.latency).is_err() {
            for v in other.latency.iter_recorded() {
                self.latency
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        for (s, n) in &other.statuses {
            *self.statuses.entry(*s).or_default() += n;
        }
        for (k, n) in &other.socket_errors {
            *self.socket_errors.entry(k.clone()).or_default() += n;
        }
        self.all_answers += other.all_answers;
    }

    /// Answers counted.
    pub fn answers(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// The latency percentiles, in microseconds.
    pub fn latency_summary(&self) -> LatencySummary {
        let h = &self.latency;
        let us = |ns: u64| ns as f64 / 1000.0;
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p99_9: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// Latency percentiles in microseconds (each within 0.1 % of the recorded values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

/// The outcome of one run (`--json` prints this).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `closed` (as fast as answers come) or `open` (a fixed rate).
    pub mode: &'static str,
    pub url: String,
    /// Distinct requests sent round robin.
    pub distinct_requests: usize,
    pub connections: usize,
    pub threads: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    /// The requested total rate (open loop only).
    pub target_rate: Option<f64>,
    /// Answers that arrived during the measured period (any status).
    pub requests: u64,
    /// Every answer of the run, warm-up included (to relate to the CPU the server used
    /// over the whole run).
    pub answers_total: u64,
    /// `requests` per second of the measured period.
    pub rps: f64,
    /// Answers with the expected status.
    pub ok: u64,
    pub expect_status: u16,
    /// Answers with another status, by status.
    pub status_errors: BTreeMap<String, u64>,
    /// Connection and protocol errors, by kind.
    pub socket_errors: BTreeMap<String, u64>,
    /// All the errors: `status_errors` plus `socket_errors`.
    pub errors: u64,
    /// Requests still without an answer when the run ended (after a grace period).
    pub unfinished: u64,
    /// Open loop: requests that were due but never sent because every connection was busy
    /// (a sign that the server could not keep up with the rate).
    pub backlog: Option<u64>,
    /// Latency of the answers of the measured period; open loop measures it from the time
    /// each request was due.
    pub latency_us: LatencySummary,
    /// Wall time of the whole run (connecting, warm-up, measurement, the end), in seconds.
    pub wall_s: f64,
    /// CPU time the load generator used over `wall_s` (Linux only): `cpu_s / wall_s` near
    /// the number of threads means the load generator itself was the limit.
    pub cpu_s: Option<f64>,
}

impl Report {
    /// The human-readable summary.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let rate = match self.target_rate {
            Some(r) => format!("open loop at {r:.0} requests/s"),
            None => "closed loop".to_owned(),
        };
        let _ = writeln!(
            s,
            "{} ({} distinct request{}): {rate}, {} connections, {} thread{}, {:.1} s measured after {:.1} s of warm-up",
            self.url,
            self.distinct_requests,
            if self.distinct_requests == 1 { "" } else { "s" },
            self.connections,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.duration_s,
            self.warmup_s,
        );
        let _ = writeln!(
            s,
            "  requests:   {} in {:.1} s = {:.1} requests/s",
            self.requests, self.duration_s, self.rps
        );
        if self.errors == 0 {
            let _ = writeln!(
                s,
                "  errors:     none (every answer was {})",
                self.expect_status
            );
        } else {
            let mut parts: Vec<String> = self
                .status_errors
                .iter()
                .map(|(st, n)| format!("status {st}: {n}"))
                .collect();
            parts.extend(self.socket_errors.iter().map(|(k, n)| format!("{k}: {n}")));
            let _ = writeln!(
                s,
                "  errors:     {} ({}; expected status {})",
                self.errors,
                parts.join(", "),
                self.expect_status
            );
        }
        if self.unfinished > 0 {
            let _ = writeln!(
                s,
                "  unfinished: {} requests had no answer at the end",
                self.unfinished
            );
        }
        if let Some(b) = self.backlog.filter(|b| *b > 0) {
            let _ = writeln!(
                s,
                "  backlog:    {b} requests were due but never sent (every connection busy)"
            );
        }
        if let Some(cpu) = self.cpu_s {
            let _ = writeln!(
                s,
                "  load generator CPU: {cpu:.2} s in {:.2} s ({:.0} % of one core)",
                self.wall_s,
                100.0 * cpu / self.wall_s.max(1e-9)
            );
        }
        let l = &self.latency_us;
        let _ = writeln!(
            s,
            "  latency:    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (mean {})",
            fmt_us(l.p50),
            fmt_us(l.p90),
            fmt_us(l.p99),
            fmt_us(l.p99_9),
            fmt_us(l.max),
            fmt_us(l.mean),
        );
        s
    }
}

/// `85 µs`, `1.23 ms`, `2.500 s`.
pub fn fmt_us(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{:.3} s", us / 1_000_000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= want * 0.001 + 1e-9
    }

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let mut s = Stats::new();
        for ns in 1..=100_000u64 {
            s.record(200, Duration::from_nanos(ns * 10));
        }
        let l = s.latency_summary();
        // 10 ns … 1 ms, uniform: p50 = 500 µs, p99 = 990 µs, max = 1 ms.
        assert!(close(l.p50, 500.0), "{l:?}");
        assert!(close(l.p90, 900.0), "{l:?}");
        assert!(close(l.p99, 990.0), "{l:?}");
        assert!(close(l.p99_9, 999.0), "{l:?}");
        assert!(close(l.max, 1000.0), "{l:?}");
        assert!(close(l.mean, 500.005), "{l:?}");
        assert_eq!(s.answers(), 100_000);
    }

    #[test]
    fn merges_and_keeps_tails() {
        let mut a = Stats::new();
        let mut b = Stats::new();
        for _ in 0..990 {
            a.record(200, Duration::from_micros(100));
        }
        for _ in 0..10 {
            b.record(404, Duration::from_millis(50));
        }
        b.error("connect: refused");
        b.error("connect: refused");
        a.merge(&b);
        let l = a.latency_summary();
        assert!(close(l.p50, 100.0) && close(l.p99, 100.0), "{l:?}");
        assert!(close(l.p99_9, 50_000.0) && close(l.max, 50_000.0), "{l:?}");
        assert_eq!(a.statuses[&200], 990);
        assert_eq!(a.statuses[&404], 10);
        assert_eq!(a.socket_errors["connect: refused"], 2);
        // Longer than the histogram's range: counted at its top, not lost.
        a.record(200, Duration::from_secs(7200));
        assert_eq!(a.answers(), 1001);
        assert!(a.latency_summary().max >= 3.5e9);
    }

    #[test]
    fn empty_and_formatting() {
        assert_eq!(Stats::new().latency_summary(), LatencySummary::default());
        assert_eq!(fmt_us(85.4), "85 µs");
        assert_eq!(fmt_us(1234.0), "1.23 ms");
        assert_eq!(fmt_us(2_500_000.0), "2.500 s");
    }
}
