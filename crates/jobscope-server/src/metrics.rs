//! Prometheus metrics: requests by route, latency histograms, decisions by reason, the
//! listener's connections, the store's pool and the read cache, rendered in Prometheus' text
//! format at `/-/metrics` (see [`crate::monitoring`]).
//!
//! The hot path is a handful of relaxed atomic increments in arrays sized once from the
//! route table: no lock, no allocation and no formatting per request. Recording a request
//! costs one hash of the matched route template (to find its slot), two clock reads and three
//! increments; all text is produced when `/-/metrics` is scraped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Method, Request, Response};
use jobscope_store::PoolStatus;

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "<unmatched>";

/// Methods with a label of their own; anything else is `OTHER`.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER",
];

/// Status labels: the codes this server answers, then a class for any other code.
const STATUSES: [&str; 20] = [
    "200", "201", "204", "304", "400", "401", "403", "404", "405", "409", "413", "415", "422",
    "429", "500", "503", "1xx", "2xx", "3xx", "4xx", /* 5xx below */
];
/// The codes of the first labels of [`STATUSES`], in the same order.
const CODES: [u16; 16] = [
    200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503,
];
const STATUS_5XX: usize = STATUSES.len();
const STATUS_SLOTS: usize = STATUSES.len() + 1;

fn status_label(i: usize) -> &'static str {
    STATUSES.get(i).copied().unwrap_or("5xx")
}

fn status_slot(code: u16) -> usize {
    // A code with a label of its own, else its class.
    if let Some(i) = CODES.iter().position(|c| *c == code) {
        return i;
    }
    match code / 100 {
        1 => 16,
        2 => 17,
        3 => 18,
        4 => 19,
        _ => STATUS_5XX,
    }
}

fn method_slot(m: &Method) -> usize {
    match *m {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// Upper bounds of the latency buckets, in nanoseconds (100 µs to 10 s); one more bucket
/// counts what is slower.
const BUCKETS_NS: [u64; 16] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];
const BUCKET_SLOTS: usize = BUCKETS_NS.len() + 1;

/// How a decision ended: allowed (and how), or denied (and why).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// The job's own project.
    AllowedSameProject,
    /// The target's allowlist is not enforced.
    AllowedScopeDisabled,
    /// A project entry names the job's project.
    AllowedProjectEntry,
    /// A group entry names a group above the job's project.
    AllowedGroupEntry,
    /// The target does not exist or the job's user cannot read it.
    DeniedNotFound,
    /// The job's project is not on the target's allowlist.
    DeniedNotAllowed,
    /// The entry's fine-grained permissions do not include the policy asked for.
    DeniedPolicy,
    /// The job's user lacks the role the policy needs.
    DeniedRole,
}

impl DecisionOutcome {
    const ALL: [DecisionOutcome; 8] = [
        DecisionOutcome::AllowedSameProject,
        DecisionOutcome::AllowedScopeDisabled,
        DecisionOutcome::AllowedProjectEntry,
        DecisionOutcome::AllowedGroupEntry,
        DecisionOutcome::DeniedNotFound,
        DecisionOutcome::DeniedNotAllowed,
        DecisionOutcome::DeniedPolicy,
        DecisionOutcome::DeniedRole,
    ];

    /// The `result` and `reason` labels.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            DecisionOutcome::AllowedSameProject => ("allowed", "same_project"),
            DecisionOutcome::AllowedScopeDisabled => ("allowed", "scope_disabled"),
            DecisionOutcome::AllowedProjectEntry => ("allowed", "project_entry"),
            DecisionOutcome::AllowedGroupEntry => ("allowed", "group_entry"),
            DecisionOutcome::DeniedNotFound => ("denied", "not_found"),
            DecisionOutcome::DeniedNotAllowed => ("denied", "not_allowed"),
            DecisionOutcome::DeniedPolicy => ("denied", "policy"),
            DecisionOutcome::DeniedRole => ("denied", "role"),
        }
    }
}

/// Why the listener closed a connection early ([`Metrics::connection_error`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionError {
    /// The request line and headers did not arrive within `--header-read-timeout`.
    HeaderTimeout,
    /// The request line and headers exceeded `--max-header-bytes` (answered 431).
    HeaderTooLarge,
    /// The TLS handshake failed or timed out.
    TlsHandshake,
    /// Anything else hyper reports (malformed requests, resets).
    Other,
}

impl ConnectionError {
    const ALL: [ConnectionError; 4] = [
        ConnectionError::HeaderTimeout,
        ConnectionError::HeaderTooLarge,
        ConnectionError::TlsHandshake,
        ConnectionError::Other,
    ];

    fn label(self) -> &'static str {
        match self {
            ConnectionError::HeaderTimeout => "header_timeout",
            ConnectionError::HeaderTooLarge => "header_too_large",
            ConnectionError::TlsHandshake => "tls_handshake",
            ConnectionError::Other => "other",
        }
    }
}

/// FNV-1a: the route templates are short and fixed, so a simple hash beats SipHash here.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A counter that many threads increment often: one cache line per stripe, a thread always
/// uses the same stripe, so increments from different cores do not contend.
pub struct StripedCounter {
    stripes: [Stripe; STRIPES],
}

const STRIPES: usize = 16;

#[repr(align(128))]
#[derive(Default)]
struct Stripe(AtomicU64);

static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
}

impl Default for StripedCounter {
    fn default() -> Self {
        StripedCounter {
            stripes: std::array::from_fn(|_| Stripe::default()),
        }
    }
}

impl StripedCounter {
    pub fn incr(&self) {
        let i = STRIPE.try_with(|s| *s).unwrap_or(0);
        if let Some(s) = self.stripes.get(i) {
            s.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn get(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// Every metric of one server. Shared by the request layer ([`MetricsLayer`]), the decision
/// service, the listener and `/-/metrics`.
pub struct Metrics {
    /// Route template → route slot.
    index: HashMap<Box<str>, usize, BuildHasherDefault<Fnv>>,
    /// Route labels by slot; the last is [`UNMATCHED`].
    routes: Vec<Box<str>>,
    /// `[route][method][status]`.
    requests: Box<[AtomicU64]>,
    /// `[route][method][bucket]`, each bucket counted on its own (made cumulative when
    /// rendered).
    latency: Box<[AtomicU64]>,
    /// `[route][method]`, in nanoseconds.
    latency_sum_ns: Box<[AtomicU64]>,
    decisions: [AtomicU64; DecisionOutcome::ALL.len()],
    connections_accepted: AtomicU64,
    connections_closed: AtomicU64,
    connection_errors: [AtomicU64; ConnectionError::ALL.len()],
}

impl Metrics {
    /// Metrics for the given route templates (as axum matches them, `/api/v4/...`).
    pub fn new<'a>(templates: impl IntoIterator<Item = &'a str>) -> Metrics {
        let mut routes: Vec<Box<str>> = Vec::new();
        let mut index = HashMap::default();
        for t in templates {
            if !index.contains_key(t) {
                index.insert(Box::from(t), routes.len());
                routes.push(Box::from(t));
            }
        }
        routes.push(Box::from(UNMATCHED));
        let pairs = routes.len() * METHODS.len();
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect::<Box<[_]>>();
        Metrics {
            index,
            requests: zeros(pairs * STATUS_SLOTS),
            latency: zeros(pairs * BUCKET_SLOTS),
            latency_sum_ns: zeros(pairs),
            routes,
            decisions: std::array::from_fn(|_| AtomicU64::new(0)),
            connections_accepted: AtomicU64::new(0),
            connections_closed: AtomicU64::new(0),
            connection_errors: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// The (route, method) slot of a request.
    fn slot(&self, method: &Method, route: Option<&str>) -> usize {
        let unmatched = self.routes.len() - 1;
        let r = route
            .and_then(|t| self.index.get(t).copied())
            .unwrap_or(unmatched);
        r * METHODS.len() + method_slot(method)
    }

    /// Counts one answered request.
    fn record(&self, slot: usize, status: u16, elapsed_ns: u64) {
        let add = |v: &[AtomicU64], i: usize, n: u64| {
            if let Some(c) = v.get(i) {
                c.fetch_add(n, Ordering::Relaxed);
            }
        };
        add(&self.requests, slot * STATUS_SLOTS + status_slot(status), 1);
        let bucket = BUCKETS_NS
            .iter()
            .position(|b| elapsed_ns <= *b)
            .unwrap_or(BUCKETS_NS.len());
        add(&self.latency, slot * BUCKET_SLOTS + bucket, 1);
        add(&self.latency_sum_ns, slot, elapsed_ns);
    }

    /// Counts one decision.
    pub fn decision(&self, outcome: DecisionOutcome) {
        let i = outcome as usize;
        if let Some(c) = self.decisions.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn connection_accepted(&self) {
        self.connections_accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_closed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_error(&self, e: ConnectionError) {
        if let Some(c) = self.connection_errors.get(e as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many requests of a route template (all methods and statuses) were answered.
    pub fn requests_of(&self, route: &str) -> u64 {
        let Some(r) = self.index.get(route).copied() else {
            return 0;
        };
        let per_route = METHODS.len() * STATUS_SLOTS;
        self.requests
            .get(r * per_route..(r + 1) * per_route)
            .map_or(0, |s| s.iter().map(|c| c.load(Ordering::Relaxed)).sum())
    }

    /// The Prometheus text exposition (format 0.0.4). Series of requests and latencies are
    /// listed once they have been counted; the others always.
    pub fn render(&self, extra: &Extra) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);

        out.push_str(
            "# HELP jobscope_http_requests_total HTTP requests answered, by method, route \
             template and status (the code, or its class for uncommon codes).\n\
             # TYPE jobscope_http_requests_total counter\n",
        );
        for (r, route) in self.routes.iter().enumerate() {
            for (m, method) in METHODS.iter().enumerate() {
                let base = (r * METHODS.len() + m) * STATUS_SLOTS;
                for s in 0..STATUS_SLOTS {
                    let n = self.requests.get(base + s).map_or(0, load);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "jobscope_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{}\"}} {n}",
                            escape(route),
                            status_label(s)
                        );
                    }
                }
            }
        }

        out.push_str(
            "# HELP jobscope_http_request_duration_seconds Time from routing a request to its \
             response headers, by method and route template.\n\
             # TYPE jobscope_http_request_duration_seconds histogram\n",
        );
        for (r, route) in self.routes.iter().enumerate() {
            for (m, method) in METHODS.iter().enumerate() {
                let slot = r * METHODS.len() + m;
                let counts: Vec<u64> = (0..BUCKET_SLOTS)
                    .map(|b| self.latency.get(slot * BUCKET_SLOTS + b).map_or(0, load))
                    .collect();
                let total: u64 = counts.iter().sum();
                if total == 0 {
                    continue;
                }
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                let mut cumulative = 0;
                for (b, n) in counts.iter().enumerate() {
                    cumulative += n;
                    let le = BUCKETS_NS
                        .get(b)
                        .map_or_else(|| "+Inf".to_owned(), |ns| seconds(*ns));
                    let _ = writeln!(
                        out,
                        "jobscope_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                    );
                }
                let sum = self.latency_sum_ns.get(slot).map_or(0, load);
                let _ = writeln!(
                    out,
                    "jobscope_http_request_duration_seconds_sum{{{labels}}} {}",
                    seconds(sum)
                );
                let _ = writeln!(
                    out,
                    "jobscope_http_request_duration_seconds_count{{{labels}}} {total}"
                );
            }
        }

        out.push_str(
            "# HELP jobscope_job_token_decisions_total Job token access decisions, by result \
             and reason.\n\
             # TYPE jobscope_job_token_decisions_total counter\n",
        );
        for outcome in DecisionOutcome::ALL {
            let (result, reason) = outcome.labels();
            let n = self.decisions.get(outcome as usize).map_or(0, load);
            let _ = writeln!(
                out,
                "jobscope_job_token_decisions_total{{result=\"{result}\",reason=\"{reason}\"}} {n}"
            );
        }

        let accepted = load(&self.connections_accepted);
        let closed = load(&self.connections_closed);
        let _ = write!(
            out,
            "# HELP jobscope_http_connections_total Connections accepted.\n\
             # TYPE jobscope_http_connections_total counter\n\
             jobscope_http_connections_total {accepted}\n\
             # HELP jobscope_http_connections_open Connections open now.\n\
             # TYPE jobscope_http_connections_open gauge\n\
             jobscope_http_connections_open {}\n\
             # HELP jobscope_http_connection_errors_total Connections closed early, by cause.\n\
             # TYPE jobscope_http_connection_errors_total counter\n",
            accepted.saturating_sub(closed)
        );
        for e in ConnectionError::ALL {
            let n = self.connection_errors.get(e as usize).map_or(0, load);
            let _ = writeln!(
                out,
                "jobscope_http_connection_errors_total{{cause=\"{}\"}} {n}",
                e.label()
            );
        }

        if let Some(pool) = extra.pool {
            let _ = write!(
                out,
                "# HELP jobscope_db_pool_connections Database connections, by state.\n\
                 # TYPE jobscope_db_pool_connections gauge\n\
                 jobscope_db_pool_connections{{state=\"in_use\"}} {}\n\
                 jobscope_db_pool_connections{{state=\"idle\"}} {}\n\
                 # HELP jobscope_db_pool_max_connections The most connections the pool opens.\n\
                 # TYPE jobscope_db_pool_max_connections gauge\n\
                 jobscope_db_pool_max_connections {}\n",
                pool.in_use(),
                pool.idle,
                pool.max
            );
        }
        if let Some(cache) = &extra.cache {
            let _ = write!(
                out,
                "# HELP jobscope_cache_hits_total Reads the read cache answered from memory.\n\
                 # TYPE jobscope_cache_hits_total counter\n\
                 jobscope_cache_hits_total {}\n\
                 # HELP jobscope_cache_store_calls_total Calls the read cache passed to the \
                 database (misses and writes).\n\
                 # TYPE jobscope_cache_store_calls_total counter\n\
                 jobscope_cache_store_calls_total {}\n\
                 # HELP jobscope_cache_invalidations_total Times the read cache was emptied.\n\
                 # TYPE jobscope_cache_invalidations_total counter\n\
                 jobscope_cache_invalidations_total {}\n",
                cache.hits, cache.store_calls, cache.invalidations
            );
        }
        let _ = write!(
            out,
            "# HELP jobscope_build_info The running version.\n\
             # TYPE jobscope_build_info gauge\n\
             jobscope_build_info{{version=\"{}\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        );
        out
    }
}

/// What `/-/metrics` reads from elsewhere when it is scraped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extra {
    pub pool: Option<PoolStatus>,
    pub cache: Option<CacheCounts>,
}

/// The read cache's counters ([`crate::cache::CachedStore::counts`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheCounts {
    pub hits: u64,
    pub store_calls: u64,
    pub invalidations: u64,
}

/// Nanoseconds as seconds, without float formatting noise (`0.00025`, `2.5`, `10`).
fn seconds(ns: u64) -> String {
    let whole = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A label value in the text format: backslash, double quote and newline escaped.
fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if v.contains(['\\', '"', '\n']) {
        std::borrow::Cow::Owned(
            v.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n"),
        )
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

/// The tower layer that counts every answered request ([`Metrics::record`]). Placed outermost
/// in [`crate::app`]'s stack, it sees the final status (panics already turned into 500).
#[derive(Clone)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        MetricsLayer { metrics }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, R> tower::Service<Request<B>> for MetricsService<S>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let slot = self.metrics.slot(
            req.method(),
            req.extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str),
        );
        MetricsFuture {
            inner: self.inner.call(req),
            metrics: self.metrics.clone(),
            slot,
            start: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        metrics: Arc<Metrics>,
        slot: usize,
        start: Instant,
    }
}

impl<F, R, E> Future for MetricsFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        if let Ok(resp) = &out {
            let ns = u64::try_from(this.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            this.metrics.record(*this.slot, resp.status().as_u16(), ns);
        }
        Poll::Ready(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_labels() {
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(STATUSES[i], c.to_string());
        }
        assert_eq!(STATUSES[CODES.len()], "1xx");
    }

    #[test]
    fn slots_and_labels() {
        let m = Metrics::new(["/a", "/b/{id}", "/a"]);
        assert_eq!(m.routes.len(), 3);
        assert_eq!(m.slot(&Method::GET, Some("/a")), 0);
        assert_eq!(m.slot(&Method::POST, Some("/b/{id}")), METHODS.len() + 1);
        assert_eq!(m.slot(&Method::GET, None), 2 * METHODS.len());
        assert_eq!(m.slot(&Method::GET, Some("/nope")), 2 * METHODS.len());
        for code in [200, 204, 404, 429, 503] {
            assert_eq!(status_label(status_slot(code)), code.to_string());
        }
        assert_eq!(status_label(status_slot(302)), "3xx");
        assert_eq!(status_label(status_slot(502)), "5xx");
        assert_eq!(status_label(status_slot(999)), "5xx");
    }

    #[test]
    fn render_counts_and_histograms() {
        let m = Metrics::new(["/api/v4/job_token/allowed"]);
        let slot = m.slot(&Method::GET, Some("/api/v4/job_token/allowed"));
        m.record(slot, 200, 80_000);
        m.record(slot, 200, 300_000);
        m.record(slot, 403, 20_000_000_000);
        m.decision(DecisionOutcome::DeniedNotAllowed);
        let text = m.render(&Extra {
            pool: Some(PoolStatus {
                open: 3,
                idle: 1,
                max: 8,
            }),
            cache: None,
        });
        let labels = "method=\"GET\",route=\"/api/v4/job_token/allowed\"";
        for line in [
            format!("jobscope_http_requests_total{{{labels},status=\"200\"}} 2"),
            format!("jobscope_http_requests_total{{{labels},status=\"403\"}} 1"),
            format!("jobscope_http_request_duration_seconds_bucket{{{labels},le=\"0.0001\"}} 1"),
            format!("jobscope_http_request_duration_seconds_bucket{{{labels},le=\"0.0005\"}} 2"),
            format!("jobscope_http_request_duration_seconds_bucket{{{labels},le=\"10\"}} 2"),
            format!("jobscope_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 3"),
            format!("jobscope_http_request_duration_seconds_sum{{{labels}}} 20.00038"),
            format!("jobscope_http_request_duration_seconds_count{{{labels}}} 3"),
            "jobscope_job_token_decisions_total{result=\"denied\",reason=\"not_allowed\"} 1"
                .to_owned(),
            "jobscope_job_token_decisions_total{result=\"allowed\",reason=\"group_entry\"} 0"
                .to_owned(),
            "jobscope_db_pool_connections{state=\"in_use\"} 2".to_owned(),
            "jobscope_db_pool_connections{state=\"idle\"} 1".to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        assert!(!text.contains("status=\"201\""), "zero series are left out");
        assert_eq!(m.requests_of("/api/v4/job_token/allowed"), 3);
    }

    #[test]
    fn seconds_and_escapes() {
        assert_eq!(seconds(100_000), "0.0001");
        assert_eq!(seconds(2_500_000_000), "2.5");
        assert_eq!(seconds(10_000_000_000), "10");
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }

    #[test]
    fn striped_counter_sums_threads() {
        let c = Arc::new(StripedCounter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| c.incr()))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.get(), 4000);
    }
}
