//! What the request metrics cost per request: one axum route answering a constant, behind a
//! no-op layer or [`jobscope_server::metrics::MetricsLayer`], on one thread and on two threads at
//! once (the counters of one route shared by both cores). Run:
//!
//! ```sh
//! cargo bench -p jobscope-server --bench metrics -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! The difference between `bare` and `metrics` is the overhead; decision counters are one
//! relaxed increment more.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use jobscope_server::metrics::{Metrics, MetricsLayer};
use tower::ServiceExt;

const ROUTE: &str = "/api/v4/job_token/allowed";

/// The same route behind a layer that does nothing, and behind the metrics layer: any layer
/// boxes the route (the application's stack does anyway), so only the difference is the
/// metrics' cost.
fn routers() -> (Router, Router) {
    let route = Router::new().route(ROUTE, get(|| async { "ok" }));
    let templates = jobscope_server::routes::templates();
    let metrics = Arc::new(Metrics::new(templates.iter().map(String::as_str)));
    let bare = route.clone().layer(tower::layer::util::Identity::new());
    let with = route.layer(MetricsLayer::new(metrics));
    (bare, with)
}

fn one(router: &Router) {
    let req = Request::get(ROUTE).body(Body::empty()).unwrap();
    let resp = futures::executor::block_on(router.clone().oneshot(req)).unwrap();
    black_box(resp.status());
}

/// `iters` requests on each of `threads` threads at once; the time of the slowest.
fn parallel(router: &Router, threads: usize, iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..iters {
                    one(router);
                }
            });
        }
    });
    start.elapsed()
}

fn metrics(c: &mut Criterion) {
    let (bare, with) = routers();
    let mut group = c.benchmark_group("request");
    group.bench_function("bare", |b| b.iter(|| one(&bare)));
    group.bench_function("metrics", |b| b.iter(|| one(&with)));
    group.bench_function("bare_2_threads", |b| {
        b.iter_custom(|iters| parallel(&bare, 2, iters))
    });
    group.bench_function("metrics_2_threads", |b| {
        b.iter_custom(|iters| parallel(&with, 2, iters))
    });
    group.finish();
}

criterion_group!(benches, metrics);
criterion_main!(benches);
