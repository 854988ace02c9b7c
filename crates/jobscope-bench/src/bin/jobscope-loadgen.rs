//! `jobscope-loadgen`: an HTTP/1.1 keep-alive load generator (see the crate documentation).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use jobscope_bench::request::{RequestSpec, Target, parse_header, parse_requests_file};
use jobscope_bench::runner::{self, Config};

/// Sends HTTP/1.1 requests over keep-alive connections, closed loop (as fast as answers
/// come) or open loop at a fixed rate, and reports requests per second, errors and latency
/// percentiles.
///
/// In open loop (`--rate`), latency is measured from the time each request was due, so
/// that waiting for a busy connection counts (no coordinated omission).
#[derive(Parser, Debug)]
#[command(name = "jobscope-loadgen", version)]
struct Args {
    /// Base URL, `http://HOST:PORT` (a path in it prefixes every request's path).
    #[arg(long, value_name = "BASE")]
    url: String,

    /// Path and query of the one request to send (default `/`).
    #[arg(long, value_name = "PATH", conflicts_with = "requests")]
    path: Option<String>,

    /// A header of the request, `'Name: value'` (repeatable). With `--requests`, added to
    /// every request of the file that does not set it.
    #[arg(long = "header", short = 'H', value_name = "'NAME: VALUE'")]
    headers: Vec<String>,

    /// A file of requests, one JSON object per line:
    /// `{"path": "/…", "headers": {"Name": "value"}}` (`"method"` and `"body"` optional).
    /// They are sent round robin over all connections.
    #[arg(long, value_name = "FILE")]
    requests: Option<PathBuf>,

    /// Keep-alive connections.
    #[arg(long, short = 'c', default_value_t = 32)]
    connections: usize,

    /// Threads (each with a single-threaded tokio runtime and its share of the connections).
    #[arg(long, short = 't', default_value_t = 1)]
    threads: usize,

    /// Seconds to measure.
    #[arg(long, short = 'd', default_value_t = 10.0, value_name = "SECS")]
    duration: f64,

    /// Seconds of load before measuring (not counted).
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    warmup: f64,

    /// Open loop at this total rate (requests per second); closed loop without it.
    #[arg(long, value_name = "RPS")]
    rate: Option<f64>,

    /// The status every answer should have; others are counted as errors.
    #[arg(long, default_value_t = 200, value_name = "CODE")]
    expect_status: u16,

    /// Print the summary as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn seconds(name: &str, v: f64, allow_zero: bool) -> anyhow::Result<Duration> {
    if !v.is_finite() || v < 0.0 || (!allow_zero && v == 0.0) || v > 86_400.0 {
        bail!(
            "{name} must be a number of seconds {} 86400",
            if allow_zero {
                "from 0 to"
            } else {
                "above 0 and at most"
            }
        );
    }
    Ok(Duration::from_secs_f64(v))
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jobscope-loadgen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let target = Target::parse(&args.url)?;
    let extra: Vec<(String, String)> = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<anyhow::Result<_>>()?;
    let mut specs = match &args.requests {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            parse_requests_file(&text, &file.display().to_string())?
        }
        None => {
            let spec = RequestSpec::get(args.path.as_deref().unwrap_or("/"));
            spec.validate().context("--path")?;
            vec![spec]
        }
    };
    for spec in &mut specs {
        for (name, value) in &extra {
            if !spec.headers.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                spec.headers.insert(name.clone(), value.clone());
            }
        }
    }
    let addr = target.resolve()?;
    let url = match &args.requests {
        Some(file) => format!("{} (requests from {})", args.url, file.display()),
        None => format!(
            "{}{}",
            args.url.trim_end_matches('/'),
            args.path.as_deref().unwrap_or("/")
        ),
    };
    let config = Config {
        addr,
        url,
        requests: specs.iter().map(|s| s.encode(&target)).collect(),
        connections: args.connections,
        threads: args.threads,
        duration: seconds("--duration", args.duration, false)?,
        warmup: seconds("--warmup", args.warmup, true)?,
        rate: args.rate,
        expect_status: args.expect_status,
    };
    let report = runner::run(config)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
