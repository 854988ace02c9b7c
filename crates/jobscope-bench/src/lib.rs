//! Benchmark tools for jobscope (issue 6, goals 2 and 3).
//!
//! - `jobscope-loadgen`: an HTTP/1.1 keep-alive load generator in the manner of wrk and wrk2.
//!   Requests are encoded to bytes once, written over plain tokio `TcpStream`s, and answers
//!   are parsed with `httparse` (`Content-Length` and chunked bodies). It runs closed loop (each
//!   connection sends its next request as soon as the answer arrives) or open loop at a fixed
//!   total rate, where latency is measured from the time each request was due, so that a
//!   server that falls behind is charged for the wait (no coordinated omission).
//! - `jobscope-baseline`: the minimal axum server that the throughput figures are compared
//!   with: one handler, any path, a constant JSON body.
//!
//! The pieces that do not need a network are in this library so that they can be tested:
//! [`request`] (the request specifications and their bytes), [`response`] (the answer
//! parser), [`stats`] (counts, the latency histogram and the report) and [`runner`].

pub mod request;
pub mod response;
pub mod runner;
pub mod stats;
