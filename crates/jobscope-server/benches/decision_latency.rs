//! Per-call latency percentiles of `jobscope_server::decision::decide` (issue 6, goal 1 asks
//! for p50 and p99, which criterion does not report). For each case and size of
//! `support/mod.rs` it times N calls one by one with `std::time::Instant` (after 10,000
//! calls of warm-up) and prints p50, p90, p99, p99.9 and the maximum in nanoseconds. Each
//! figure includes one `Instant::now()` pair; its own cost is printed first ("timer").
//!
//! ```sh
//! cargo bench -p jobscope-server --bench decision_latency -- [--iterations N] [FILTER]
//! ```
//!
//! N defaults to 1,000,000; FILTER keeps the rows whose "case/size" contains it. Run without
//! `--bench` (as `cargo test --benches` does) it makes 1,000 calls per row, as a smoke test.
//! `--warm-up N` changes the 10,000 untimed calls before each row; `--list` prints the row
//! names and exits (`bench/run` uses both to count instructions per call under callgrind).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::hint::black_box;
use std::time::Instant;

use jobscope_server::decision::decide;

use support::{Case, Fixture, Size};

const WARM_UP: usize = 10_000;

struct Args {
    iterations: usize,
    warm_up: usize,
    filter: Option<String>,
}

fn number(it: &mut impl Iterator<Item = String>, flag: &str) -> usize {
    it.next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{flag} needs a number"))
}

fn rows() -> impl Iterator<Item = (Case, Size, String)> {
    Case::ALL.into_iter().flat_map(|case| {
        Size::ALL
            .into_iter()
            .map(move |size| (case, size, format!("{}/{}", case.name(), size.name())))
    })
}

fn args() -> Args {
    let mut bench_mode = false;
    let mut iterations = None;
    let mut warm_up = WARM_UP;
    let mut filter = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => bench_mode = true,
            "--iterations" => iterations = Some(number(&mut it, "--iterations")),
            "--warm-up" => warm_up = number(&mut it, "--warm-up"),
            "--list" => {
                for (_, _, label) in rows() {
                    println!("{label}");
                }
                std::process::exit(0);
            }
            // Flags cargo or criterion users may pass; nothing to do with them here.
            s if s.starts_with("--") => {}
            s => filter = Some(s.to_owned()),
        }
    }
    Args {
        iterations: iterations.unwrap_or(if bench_mode { 1_000_000 } else { 1_000 }),
        warm_up,
        filter,
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(label: &str, samples: &mut [u64]) {
    samples.sort_unstable();
    println!(
        "{label:<32} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
        samples.len(),
        percentile(samples, 50.0),
        percentile(samples, 90.0),
        percentile(samples, 99.0),
        percentile(samples, 99.9),
        samples[samples.len() - 1],
    );
}

fn main() {
    let args = args();
    let mut samples: Vec<u64> = Vec::with_capacity(args.iterations);
    println!(
        "{:<32} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "decide (ns per call)", "calls", "p50", "p90", "p99", "p99.9", "max"
    );

    // What an empty timed region costs: subtract it mentally from the rows below.
    for _ in 0..args.iterations {
        let t0 = Instant::now();
        black_box(());
        samples.push(t0.elapsed().as_nanos() as u64);
    }
    report("timer", &mut samples);

    for (case, size, label) in rows() {
        if args.filter.as_ref().is_some_and(|f| !label.contains(f)) {
            continue;
        }
        // `Fixture::new` calls `decide` once itself, to check the case's answer.
        let fixture = Fixture::new(case, size);
        let request = fixture.request();
        for _ in 0..args.warm_up {
            black_box(decide(black_box(&request)).is_ok());
        }
        samples.clear();
        for _ in 0..args.iterations {
            let t0 = Instant::now();
            let ok = decide(black_box(&request)).is_ok();
            let dt = t0.elapsed();
            black_box(ok);
            samples.push(dt.as_nanos() as u64);
        }
        report(&label, &mut samples);
    }
}
