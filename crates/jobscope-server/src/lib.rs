//! The jobscope server: GitLab's REST API v4 for CI/CD job token scopes, and the users,
//! tokens, groups, projects and memberships they need.
//!
//! Layout (see ARCHITECTURE.md): [`routes`] (thin handlers, one table of every route) →
//! [`access`] (authorization, 404 before 403) and [`service`] (what each endpoint does) →
//! the [`jobscope_store::Store`] trait. Authentication is the [`auth::MaybeCaller`] extractor;
//! GitLab's error bodies are produced only in [`error`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod auth;
pub mod authlog;
pub mod bootstrap;
pub mod cache;
pub mod compaction;
pub mod config;
pub mod decision;
pub mod durations;
pub mod entities;
pub mod error;
pub mod limits;
pub mod listen;
pub mod metrics;
pub mod monitoring;
pub mod net;
pub mod openapi;
pub mod pagination;
pub mod params;
pub mod routes;
pub mod service;
pub mod state;
pub mod ui;
pub mod urls;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use jobscope_store::Store;
use jobscope_store_sqlite::SqliteStore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::{ServeArgs, ServerConfig};
use crate::error::{ApiError, ErrorDetail};
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The log target of the one-line-per-request access log (`info`). The default filter turns
/// it off; `JOBSCOPE_LOG=info` (or `info,jobscope_server::access=info`) turns it on.
pub const ACCESS_LOG: &str = "jobscope_server::access";

/// The log filter when `JOBSCOPE_LOG` is not set.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,jobscope_server::access=warn";

/// Request ids: a random prefix drawn once per process and a counter, so that ids are unique
/// across the servers behind one load balancer without a system call per request (a UUID v4
/// reads the kernel's random source each time).
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        let random: [u8; 8] = rand::random();
        RequestIds {
            prefix: hex::encode(random).into(),
            next: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut id = String::with_capacity(self.prefix.len() + 16);
        id.push_str(&self.prefix);
        auth::tokens::push_hex(&mut id, &n.to_be_bytes());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::Internal("handler panicked".into()).into_response()
}

/// The whole HTTP application for a state: `/api/v4`, the monitoring endpoints (`/-/…`) and
/// the web UI ([`ui`]), plus metrics, logging, request ids and GitLab's security headers.
pub fn app(state: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request<Body>| {
            // Only the method and the route template: query strings may carry tokens. The
            // field values are borrowed and only formatted when the span is enabled: at
            // `debug`, since a span costs about half a microsecond per request even when no
            // line is written in it. The lines below carry the request id themselves.
            tracing::debug_span!(
                "request",
                method = %req.method(),
                route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("<unmatched>", MatchedPath::as_str),
                request_id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        })
        .on_response(
            |resp: &axum::http::Response<_>, latency: Duration, _span: &tracing::Span| {
                let status = resp.status().as_u16();
                let latency_ms = latency.as_secs_f64() * 1000.0;
                let request_id = resp
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // Failures are always logged; one line for every answer is the access log,
                // off by default (see `ACCESS_LOG`): at tens of thousands of checks a second
                // it would cost more than the checks.
                if let Some(detail) = resp.extensions().get::<ErrorDetail>() {
                    tracing::error!(
                        status,
                        latency_ms,
                        request_id,
                        detail = detail.0.as_str(),
                        "response"
                    );
                } else {
                    tracing::info!(target: ACCESS_LOG, status, latency_ms, request_id, "response");
                }
            },
        );
    // One stack applied once: `Router::layer` boxes each layer it is given around every
    // route, and each box is cloned on every request. Outermost first.
    let stack = tower::ServiceBuilder::new()
        .layer(metrics::MetricsLayer::new(state.metrics.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=0, private, must-revalidate"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(limits::LimitLayer::new(state.limits.clone()));
    routes::api_router()
        .merge(monitoring::router())
        .merge(ui::router())
        .with_state(state)
        .layer(stack)
}

/// Opens the store named by a database URL.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let store = jobscope_store_postgres::PgStore::open(url)
            .await
            .with_context(|| format!("opening the database {}", config::redact_url(url)))?;
        return Ok(Arc::new(store));
    }
    if lower.contains("://") && !lower.starts_with("sqlite:") {
        anyhow::bail!(
            "unsupported database URL scheme in {}",
            config::redact_url(url)
        );
    }
    let store = SqliteStore::open(url)
        .await
        .with_context(|| format!("opening the database {}", config::redact_url(url)))?;
    Ok(Arc::new(store))
}

/// `jobscope export`: the whole instance as one JSON document, to a file or standard output.
pub async fn export(database_url: &str, output: Option<&std::path::Path>) -> anyhow::Result<()> {
    let store = open_store(database_url).await?;
    let snapshot = store
        .export()
        .await
        .with_context(|| format!("reading {}", config::redact_url(database_url)))?;
    let text = serde_json::to_string_pretty(&snapshot)?;
    match output {
        Some(path) => {
            // Written next to the target and renamed, so a reader never sees half a file.
            let tmp = path.with_extension("partial");
            std::fs::write(&tmp, text.as_bytes())
                .with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "Exported {} users, {} projects, {} allowlist entries to {}.",
                snapshot.users.len(),
                snapshot.projects.len(),
                snapshot.project_links.len() + snapshot.group_links.len(),
                path.display()
            );
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// `jobscope import`: loads an export into an empty database.
pub async fn import(database_url: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    let snapshot: jobscope_store::snapshot::Snapshot = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a jobscope export", file.display()))?;
    let store = open_store(database_url).await?;
    match store.import(&snapshot).await {
        Ok(()) => {}
        Err(jobscope_store::StoreError::Conflict(_)) => anyhow::bail!(
            "{} already holds data: import only into a new, empty database",
            config::redact_url(database_url)
        ),
        Err(e) => return Err(e).context("importing"),
    }
    eprintln!(
        "Imported {} users, {} projects, {} allowlist entries into {}.",
        snapshot.users.len(),
        snapshot.projects.len(),
        snapshot.project_links.len() + snapshot.group_links.len(),
        config::redact_url(database_url)
    );
    Ok(())
}

/// `jobscope serve`: opens the store, creates the administrator on first start, listens, and
/// stops gracefully on SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if let Some(t) = &args.root_token {
        bootstrap::check_root_token(t)?;
    }
    // Certificate problems are reported before anything else happens.
    let tls = listen::tls_acceptor(&args.listener)?;
    let store = open_store(&args.database_url).await?;
    let config = ServerConfig::from(&args);
    let state = AppState::new(store.clone(), config)
        .await
        .context("reading the instance's token salt")?;
    // Other processes may share the database: follow their changes before serving anything.
    let watcher = match &state.cache {
        Some(cache) => Some(
            cache
                .spawn_watcher()
                .await
                .context("watching the database for changes")?,
        ),
        None => None,
    };
    if let Some(created) = bootstrap::ensure_root(&state, args.root_token.as_deref()).await? {
        // Printed to standard output only, once; never logged.
        println!(
            "Created the administrator `root`. Its personal access token (shown only now): {}",
            created
        );
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    if let Some(path) = &args.port_file {
        std::fs::write(path, addr.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tracing::info!(%addr, tls = tls.is_some(), "jobscope is listening");
    let flusher =
        authlog::spawn_flusher(&state.auth_log, &state.token_uses, authlog::FLUSH_INTERVAL);
    let auth_log = state.auth_log.clone();
    let token_uses = state.token_uses.clone();
    let metrics = state.metrics.clone();
    listen::run(
        listener,
        app(state),
        &args.listener,
        tls,
        metrics,
        shutdown_signal(),
    )
    .await;
    flusher.abort();
    if let Some(w) = watcher {
        w.abort();
    }
    // Nothing acknowledged is lost: what the log still holds is written before exiting.
    if let Err(e) = auth_log.flush().await {
        tracing::warn!(error = %e, "could not write the job token authentication log");
    }
    if let Err(e) = token_uses.flush().await {
        tracing::warn!(error = %e, "could not record when tokens were last used");
    }
    tracing::info!("jobscope stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
