//! Criterion benchmark of the pure decision function, `jobscope_server::decision::decide`
//! (issue 6, goal 1): no HTTP, no store. The cases and sizes are described in
//! `support/mod.rs`. Run it through `bench/run`, or:
//!
//! ```sh
//! cargo bench -p jobscope-server --bench decision -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Criterion reports the mean and median per call; `decision_latency.rs` adds p50/p99.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jobscope_server::decision::decide;

use support::{Case, Fixture, Size};

fn decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide");
    for case in Case::ALL {
        for size in Size::ALL {
            let fixture = Fixture::new(case, size);
            let request = fixture.request();
            group.bench_with_input(
                BenchmarkId::new(case.name(), size.name()),
                &request,
                |b, r| b.iter(|| decide(black_box(r)).is_ok()),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, decision);
criterion_main!(benches);
