//! Running the load: connections spread over threads, each thread a single-threaded tokio
//! runtime (as wrk gives each thread its own event loop), and in open loop a pacing thread that
//! releases requests at the set rate.
//!
//! Closed loop: every connection sends a request, reads the whole answer, and sends the next
//! at once; the latency of a request is from just before its bytes are written to the end of
//! its answer.
//!
//! Open loop (`rate`): request number `k` is due at `start + k / rate`. A pacing thread adds
//! one permit to a semaphore as each request falls due; a free connection takes a permit and
//! the next number, sends, and measures the latency from the time that request was *due*.
//! When every connection is busy, due requests wait, and that wait counts in their latency:
//! the figures are corrected for coordinated omission, as wrk2's are.
//!
//! Answers that arrive during the warm-up are not counted; answers that arrive after the end
//! are not counted either. The run waits at most [`GRACE`] after the end for answers still
//! outstanding, then reports them as unfinished.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::response::{Parsed, parse_response};
use crate::stats::{Report, Stats};

/// How long to wait for outstanding answers after the end.
pub const GRACE: Duration = Duration::from_secs(2);
/// Initial read buffer of a connection (grown for larger answers).
const READ_BUFFER: usize = 64 * 1024;
/// Larger answers are an error.
const MAX_RESPONSE: usize = 256 * 1024 * 1024;
/// Pause after a failed connect before the next attempt.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    /// Shown in the report.
    pub url: String,
    /// The requests, already encoded; sent round robin.
    pub requests: Vec<Vec<u8>>,
    pub connections: usize,
    pub threads: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// Total requests per second (open loop); `None` for closed loop.
    pub rate: Option<f64>,
    pub expect_status: u16,
}

impl Config {
    /// Refuses what cannot be run.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.requests.is_empty() {
            bail!("no requests to send");
        }
        if self.connections == 0 {
            bail!("--connections must be at least 1");
        }
        if self.threads == 0 {
            bail!("--threads must be at least 1");
        }
        if self.duration.is_zero() {
            bail!("--duration must be more than 0");
        }
        if let Some(r) = self.rate
            && !(r.is_finite() && r > 0.0)
        {
            bail!("--rate must be a positive number of requests per second");
        }
        if !(100..=999).contains(&self.expect_status) {
            bail!("--expect-status must be an HTTP status (100-999)");
        }
        Ok(())
    }
}

/// Open-loop pacing shared by the pacing thread and the connections.
struct Pacing {
    rate: f64,
    permits: Semaphore,
    /// The number of the next request to send (its due time is `start + n / rate`).
    taken: AtomicU64,
}

struct Shared {
    config: Config,
    next_request: AtomicUsize,
    start: OnceLock<Instant>,
    barrier: Barrier,
    setup_error: Mutex<Option<String>>,
    pacing: Option<Pacing>,
}

impl Shared {
    fn fail_setup(&self, msg: String) {
        if let Ok(mut e) = self.setup_error.lock() {
            e.get_or_insert(msg);
        }
    }
}

/// The times of one run, fixed once every connection is open.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    measure_from: Instant,
    end: Instant,
}

/// Runs the load and returns the report.
pub fn run(config: Config) -> anyhow::Result<Report> {
    config.validate()?;
    let threads = config.threads.min(config.connections);
    let (wall_start, cpu_start) = (Instant::now(), process_cpu_seconds());
    // Fail early, with the reason, when nothing listens there.
    std::net::TcpStream::connect_timeout(&config.addr, Duration::from_secs(5))
        .with_context(|| format!("cannot connect to {}", config.addr))?;
    let pacing = config.rate.map(|rate| Pacing {
        rate,
        permits: Semaphore::new(0),
        taken: AtomicU64::new(0),
    });
    let shared = Arc::new(Shared {
        barrier: Barrier::new(threads + usize::from(pacing.is_some())),
        config,
        next_request: AtomicUsize::new(0),
        start: OnceLock::new(),
        setup_error: Mutex::new(None),
        pacing,
    });

    let mut workers = Vec::new();
    for t in 0..threads {
        let shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name(format!("loadgen-{t}"))
            .spawn(move || worker(&shared, t, threads))
            .context("starting a load generator thread")?;
        workers.push(handle);
    }
    let pacer = if shared.pacing.is_some() {
        let shared = Arc::clone(&shared);
        Some(
            std::thread::Builder::new()
                .name("loadgen-pacer".into())
                .spawn(move || pace(&shared))
                .context("starting the pacing thread")?,
        )
    } else {
        None
    };

    let mut stats = Stats::new();
    let mut unfinished = 0;
    let mut failure = None;
    for w in workers {
        match w.join() {
            Ok(Ok((s, u))) => {
                stats.merge(&s);
                unfinished += u;
            }
            Ok(Err(e)) => failure = Some(e),
            Err(_) => failure = Some(anyhow::anyhow!("a load generator thread panicked")),
        }
    }
    let issued = match pacer.map(|p| p.join()) {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => bail!("the pacing thread panicked"),
        None => None,
    };
    if let Some(e) = failure {
        return Err(e);
    }
    if let Ok(Some(e)) = shared.setup_error.lock().map(|e| e.clone()) {
        bail!("{e}");
    }

    let config = &shared.config;
    let backlog = match (&shared.pacing, issued) {
        (Some(p), Some(issued)) => Some(issued.saturating_sub(p.taken.load(Ordering::Relaxed))),
        _ => None,
    };
    let requests = stats.answers();
    let ok = stats
        .statuses
        .get(&config.expect_status)
        .copied()
        .unwrap_or(0);
    let status_errors: std::collections::BTreeMap<String, u64> = stats
        .statuses
        .iter()
        .filter(|(s, _)| **s != config.expect_status)
        .map(|(s, n)| (s.to_string(), *n))
        .collect();
    let errors = status_errors.values().sum::<u64>() + stats.socket_errors.values().sum::<u64>();
    let duration_s = config.duration.as_secs_f64();
    let cpu_s = match (cpu_start, process_cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    Ok(Report {
        mode: if config.rate.is_some() {
            "open"
        } else {
            "closed"
        },
        url: config.url.clone(),
        distinct_requests: config.requests.len(),
        connections: config.connections,
        threads,
        duration_s,
        warmup_s: config.warmup.as_secs_f64(),
        target_rate: config.rate,
        requests,
        answers_total: stats.all_answers,
        rps: requests as f64 / duration_s,
        ok,
        expect_status: config.expect_status,
        status_errors,
        socket_errors: stats.socket_errors.clone(),
        errors,
        unfinished,
        backlog,
        latency_us: stats.latency_summary(),
        wall_s: wall_start.elapsed().as_secs_f64(),
        cpu_s,
    })
}

/// CPU time (user and system) of this process so far, from `/proc/self/stat` (Linux; `None`
/// elsewhere). The kernel reports it in units of `USER_HZ`, which is 100 on Linux.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn window(shared: &Shared) -> Window {
    let start = *shared.start.get_or_init(Instant::now);
    let measure_from = start + shared.config.warmup;
    Window {
        start,
        measure_from,
        end: measure_from + shared.config.duration,
    }
}

/// The pacing thread: releases each request as it falls due; returns how many it released.
fn pace(shared: &Shared) -> u64 {
    shared.barrier.wait();
    let Some(p) = &shared.pacing else { return 0 };
    let w = window(shared);
    if shared
        .setup_error
        .lock()
        .map(|e| e.is_some())
        .unwrap_or(true)
    {
        p.permits.close();
        return 0;
    }
    let mut issued: u64 = 0;
    loop {
        let now = Instant::now();
        if now >= w.end {
            break;
        }
        // Requests 0..=k are due once start + k / rate <= now.
        let due = ((now - w.start).as_secs_f64() * p.rate).floor() as u64 + 1;
        if due > issued {
            p.permits
                .add_permits(usize::try_from(due - issued).unwrap_or(usize::MAX >> 4));
            issued = due;
        }
        let next = w.start + Duration::from_secs_f64(issued as f64 / p.rate);
        std::thread::sleep(next.min(w.end).saturating_duration_since(Instant::now()));
    }
    // Wakes every connection still waiting: the run is over.
    p.permits.close();
    issued
}

/// One load generator thread: opens its share of the connections, waits for the others, runs
/// them until the end, and returns its counts and how many requests were left unanswered.
fn worker(shared: &Shared, index: usize, threads: usize) -> anyhow::Result<(Stats, u64)> {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            shared.fail_setup(format!("starting a tokio runtime: {e}"));
            shared.barrier.wait();
            return Ok((Stats::new(), 0));
        }
    };
    let mine: Vec<usize> = (index..shared.config.connections)
        .step_by(threads)
        .collect();
    let conns: Vec<Option<Conn>> = rt.block_on(async {
        let mut out = Vec::with_capacity(mine.len());
        for c in &mine {
            match Conn::open(shared.config.addr).await {
                Ok(conn) => out.push(Some(conn)),
                Err(e) => {
                    shared.fail_setup(format!(
                        "opening connection {} to {}: {e}",
                        c + 1,
                        shared.config.addr
                    ));
                    break;
                }
            }
        }
        out
    });
    shared.barrier.wait();
    if shared
        .setup_error
        .lock()
        .map(|e| e.is_some())
        .unwrap_or(true)
    {
        return Ok((Stats::new(), 0));
    }
    let w = window(shared);
    let stats = RefCell::new(Stats::new());
    let in_flight = Cell::new(0u64);
    rt.block_on(async {
        let all = futures::future::join_all(
            conns
                .into_iter()
                .map(|c| connection(shared, w, c, &stats, &in_flight)),
        );
        let deadline = tokio::time::Instant::from_std(w.end + GRACE);
        tokio::select! {
            _ = all => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    });
    Ok((stats.into_inner(), in_flight.get()))
}

/// One connection's loop. Errors are counted and the connection reopened.
async fn connection(
    shared: &Shared,
    w: Window,
    mut conn: Option<Conn>,
    stats: &RefCell<Stats>,
    in_flight: &Cell<u64>,
) {
    let requests = &shared.config.requests;
    loop {
        // When this request is due (open loop), or `None` to send it now.
        let due = match &shared.pacing {
            None => {
                if Instant::now() >= w.end {
                    return;
                }
                None
            }
            Some(p) => match p.permits.acquire().await {
                Ok(permit) => {
                    permit.forget();
                    let n = p.taken.fetch_add(1, Ordering::Relaxed);
                    Some(w.start + Duration::from_secs_f64(n as f64 / p.rate))
                }
                Err(_) => return,
            },
        };
        let c = match &mut conn {
            Some(c) => c,
            None => match Conn::open(shared.config.addr).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    stats.borrow_mut().error(&format!("connect: {}", e.kind()));
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            },
        };
        let i = shared.next_request.fetch_add(1, Ordering::Relaxed) % requests.len();
        let sent = Instant::now();
        in_flight.set(in_flight.get() + 1);
        let result = c.exchange(&requests[i]).await;
        in_flight.set(in_flight.get() - 1);
        let done = Instant::now();
        match result {
            Ok((status, close)) => {
                let mut s = stats.borrow_mut();
                s.all_answers += 1;
                if done >= w.measure_from && done <= w.end {
                    s.record(status, done - due.unwrap_or(sent));
                }
                drop(s);
                if close {
                    conn = None;
                }
            }
            Err(kind) => {
                stats.borrow_mut().error(&kind);
                conn = None;
            }
        }
    }
}

/// One keep-alive connection and its read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: vec![0; READ_BUFFER],
            filled: 0,
        })
    }

    /// Sends one request and reads its answer: the status and whether the server closes the
    /// connection. An error is a short description, used as a count key.
    async fn exchange(&mut self, request: &[u8]) -> Result<(u16, bool), String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {}", e.kind()))?;
        loop {
            let (status, close) = self.read_response().await?;
            // 100 Continue and other interim answers precede the real one.
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            return Ok((status, close));
        }
    }

    async fn read_response(&mut self) -> Result<(u16, bool), String> {
        let mut need: Option<usize> = None;
        loop {
            if self.filled > 0 && need.is_none_or(|n| self.filled >= n) {
                match parse_response(&self.buf[..self.filled]) {
                    Ok(Parsed::Complete { status, len, close }) => {
                        self.buf.copy_within(len..self.filled, 0);
                        self.filled -= len;
                        return Ok((status, close));
                    }
                    Ok(Parsed::Incomplete { need: n }) => need = n,
                    Err(e) => return Err(format!("bad response: {e}")),
                }
            }
            let want = need.unwrap_or(0).max(self.filled + 1);
            if want > self.buf.len() {
                if want > MAX_RESPONSE {
                    return Err(format!(
                        "bad response: larger than {} MiB",
                        MAX_RESPONSE >> 20
                    ));
                }
                let grown = want.max(self.buf.len() * 2).min(MAX_RESPONSE);
                self.buf.resize(grown, 0);
            }
            let n = self
                .stream
                .read(&mut self.buf[self.filled..])
                .await
                .map_err(|e| format!("read: {}", e.kind()))?;
            if n == 0 {
                return Err("read: connection closed before the whole answer".to_owned());
            }
            self.filled += n;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::request::{RequestSpec, Target};

    /// A tiny keep-alive server on a thread: answers every request with `answer`.
    fn serve(answer: &'static [u8]) -> SocketAddr {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut pending = Vec::new();
                    loop {
                        let Ok(n) = s.read(&mut buf) else { return };
                        if n == 0 {
                            return;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            pending.drain(..end + 4);
                            if s.write_all(answer).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        addr
    }

    fn config(addr: SocketAddr, rate: Option<f64>) -> Config {
        let target = Target::parse(&format!("http://{addr}")).unwrap();
        Config {
            addr,
            url: format!("http://{addr}/"),
            requests: vec![RequestSpec::get("/").encode(&target)],
            connections: 4,
            threads: 2,
            duration: Duration::from_millis(300),
            warmup: Duration::from_millis(100),
            rate,
            expect_status: 200,
        }
    }

    #[test]
    fn closed_loop_counts_answers() {
        let addr = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let r = run(config(addr, None)).unwrap();
        assert!(r.requests > 10, "{r:?}");
        assert_eq!((r.errors, r.ok), (0, r.requests), "{r:?}");
        assert!(r.latency_us.p50 > 0.0 && r.latency_us.max >= r.latency_us.p99);
    }

    #[test]
    fn open_loop_keeps_the_rate_and_counts_other_statuses() {
        let addr = serve(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnot\r\n0\r\n\r\n",
        );
        let r = run(config(addr, Some(1000.0))).unwrap();
        // About 300 answers in 300 ms; allow for a slow test machine.
        assert!((150..=320).contains(&r.requests), "{r:?}");
        assert_eq!(r.ok, 0);
        assert_eq!(r.status_errors.get("404").copied(), Some(r.requests));
        // A request that fell due in the last instant may be left unsent.
        assert!(r.backlog.is_some_and(|b| b <= 2), "{r:?}");
    }

    #[test]
    fn refuses_what_cannot_run() {
        // A port nothing listens on: bind, note it, close.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = run(config(addr, None)).unwrap_err();
        assert!(format!("{err:#}").contains("cannot connect"), "{err:#}");
        let mut c = config(addr, Some(-1.0));
        assert!(run(c.clone()).is_err());
        c.rate = None;
        c.connections = 0;
        assert!(run(c).is_err());
    }
}
