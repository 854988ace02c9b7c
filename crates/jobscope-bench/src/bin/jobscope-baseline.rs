//! `jobscope-baseline`: the minimal axum server that jobscope's HTTP throughput is compared
//! with (issue 6, goals 2 and 3). Every request, whatever its method and path, gets
//! `200 {"status":"ok"}` with `content-type: application/json`.
//!
//! It runs like `jobscope serve`: a multi-threaded tokio runtime built with the same builder
//! and the same defaults (one worker per CPU the process may use, so `taskset -c 0` gives
//! one), and `axum::serve` with connection info.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use clap::Parser;

/// A constant-JSON HTTP server: the baseline of jobscope's throughput benchmarks.
#[derive(Parser, Debug)]
#[command(name = "jobscope-baseline", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,

    /// Write the bound address to this file once listening (for `--listen 127.0.0.1:0`).
    #[arg(long)]
    port_file: Option<PathBuf>,
}

const BODY: &str = r#"{"status":"ok"}"#;

async fn constant() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], BODY)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    if let Some(path) = &args.port_file {
        std::fs::write(path, addr.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("jobscope-baseline is listening on {addr}");
    let app = Router::new().fallback(constant);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // As crates/jobscope/src/main.rs builds it for `serve`.
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")
        .and_then(|runtime| runtime.block_on(serve(args)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jobscope-baseline: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
