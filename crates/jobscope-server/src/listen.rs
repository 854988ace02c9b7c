//! The listener of `jobscope serve`: HTTP/1.1 over plain TCP or TLS (rustls, ring), with
//! limits on request heads, and graceful shutdown.
//!
//! - **TLS**: `--tls-cert` and `--tls-key` (PEM) turn it on; the crypto provider is given to
//!   rustls explicitly, so nothing depends on a process-wide default. The handshake happens
//!   in the connection's task and must finish within the header read timeout.
//! - **Request heads**: larger than `--max-header-bytes` get 431 and the connection is closed;
//!   a client that has not sent a whole request line and headers within
//!   `--header-read-timeout` (slowloris) is disconnected. The same timeout closes keep-alive
//!   connections idle that long.
//! - **Shutdown**: once the signal arrives no connection is accepted; each open connection
//!   finishes the request it is serving (idle ones close at once), and [`run`] returns when
//!   all are done.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use clap::Args;

use crate::durations::parse_positive_duration;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower::ServiceExt;

use crate::metrics::{ConnectionError, Metrics};

/// Default limit of a request's line and headers: generous for tokens and cookies, small
/// enough that a client cannot make the server buffer much.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
/// Smallest accepted `--max-header-bytes`.
pub const MIN_MAX_HEADER_BYTES: usize = 1024;
/// Default `--header-read-timeout`.
pub const DEFAULT_HEADER_READ_TIMEOUT: &str = "30s";

/// TLS and connection limits of `jobscope serve`.
#[derive(Clone, Debug, Args)]
pub struct ListenArgs {
    /// PEM file with the server's certificate chain (leaf first); with `--tls-key`, serve
    /// HTTPS instead of HTTP.
    #[arg(
        long,
        env = "JOBSCOPE_TLS_CERT",
        value_name = "PATH",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM file with the private key of `--tls-cert` (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "JOBSCOPE_TLS_KEY",
        value_name = "PATH",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Largest request line plus headers accepted, in bytes; larger ones get 431 and the
    /// connection is closed.
    #[arg(long, env = "JOBSCOPE_MAX_HEADER_BYTES", value_name = "BYTES",
          default_value_t = DEFAULT_MAX_HEADER_BYTES, value_parser = parse_header_bytes)]
    pub max_header_bytes: usize,

    /// How long a client may take to send a request's line and headers (and to finish the
    /// TLS handshake) before it is disconnected; also how long a keep-alive connection may
    /// stay idle. `500ms`, `10s`, `2m`, or seconds (decimals allowed).
    #[arg(long, env = "JOBSCOPE_HEADER_READ_TIMEOUT", value_name = "DURATION",
          default_value = DEFAULT_HEADER_READ_TIMEOUT, value_parser = parse_positive_duration)]
    pub header_read_timeout: Duration,
}

impl Default for ListenArgs {
    fn default() -> Self {
        ListenArgs {
            tls_cert: None,
            tls_key: None,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            header_read_timeout: Duration::from_secs(30),
        }
    }
}

fn parse_header_bytes(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of bytes"))?;
    if n < MIN_MAX_HEADER_BYTES {
        return Err(format!("must be at least {MIN_MAX_HEADER_BYTES}"));
    }
    Ok(n)
}

/// Reads `--tls-cert` and `--tls-key` into an acceptor, or `None` without them.
pub fn tls_acceptor(args: &ListenArgs) -> anyhow::Result<Option<TlsAcceptor>> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let cert_pem = read(cert)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: not a PEM certificate chain: {e}", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{}: no certificate found", cert.display());
    }
    let key_pem = read(key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| anyhow::anyhow!("{}: not a PEM private key: {e}", key.display()))?;
    // The provider is chosen here rather than installed process-wide: the client side of
    // the binary links rustls too, and an ambiguous default would fail at run time.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .with_context(|| {
            format!(
                "{} and {} do not make a usable certificate and key",
                cert.display(),
                key.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open connections finish.
pub async fn run(
    listener: TcpListener,
    app: Router,
    args: &ListenArgs,
    tls: Option<TlsAcceptor>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(args.header_read_timeout)
        .max_header_size(args.max_header_bytes);
    let (stop_tx, stop_rx) = watch::channel(false);
    let conn = Connection {
        app,
        http: Arc::new(http),
        metrics,
        stop: stop_rx,
    };
    // Every connection task holds a receiver; `closed()` resolves once all have ended.
    let (done_tx, done_rx) = watch::channel(());
    let handshake_timeout = args.header_read_timeout;
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::error!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        conn.metrics.connection_accepted();
        let conn = conn.clone();
        let done = done_rx.clone();
        match &tls {
            None => {
                tokio::spawn(async move {
                    conn.serve(tcp, peer).await;
                    drop(done);
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => conn.serve(stream, peer).await,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            conn.closed_early(ConnectionError::TlsHandshake);
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            conn.closed_early(ConnectionError::TlsHandshake);
                        }
                    }
                    drop(done);
                });
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    done_tx.closed().await;
}

/// What each connection task needs.
#[derive(Clone)]
struct Connection {
    app: Router,
    http: Arc<http1::Builder>,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn serve<I>(mut self, io: I, peer: SocketAddr)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // Handlers see the peer's address as axum's `into_make_service_with_connect_info`
        // gives it.
        let service = self
            .app
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let conn = self
            .http
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let mut conn = pin!(conn);
        let mut stopping = false;
        let result = loop {
            tokio::select! {
                result = conn.as_mut() => break result,
                _ = self.stop.wait_for(|stop| *stop), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        };
        match result {
            Ok(()) => self.metrics.connection_closed(),
            Err(e) => {
                let cause = if e.is_timeout() {
                    ConnectionError::HeaderTimeout
                } else if e.is_parse_too_large() {
                    ConnectionError::HeaderTooLarge
                } else {
                    ConnectionError::Other
                };
                tracing::debug!(%peer, error = %e, "connection closed");
                self.closed_early(cause);
            }
        }
    }

    fn closed_early(&self, cause: ConnectionError) {
        self.metrics.connection_error(cause);
        self.metrics.connection_closed();
    }
}

/// Errors of `accept` that concern one connection only (as hyper's and axum's servers
/// treat them).
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes() {
        assert_eq!(parse_header_bytes("32768"), Ok(32768));
        assert!(parse_header_bytes("100").is_err());
        assert!(parse_header_bytes("x").is_err());
    }
}
