//! The transport: what actually moves bytes. A trait, so that tests (ours and yours) can
//! answer requests without a network; [`HttpTransport`] is the real one (reqwest, rustls).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use url::Url;

/// A fully built request: URL, headers (credentials included) and body.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
}

/// A received answer, body read in full.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HttpResponse {
    /// A header as text (`None` when absent or not text).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why a request did not complete.
#[derive(Clone, Debug)]
pub struct TransportError {
    /// True when the request certainly did not reach the server (the connection was never
    /// made), so that even a non-idempotent request may be sent again.
    pub not_sent: bool,
    pub message: String,
}

/// Sends one request and reads its answer.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// TLS and timeout settings for [`HttpTransport`].
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Extra PEM certificates to trust (a private CA), besides the system's.
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate. Only for throwaway test servers.
    pub insecure: bool,
}

/// The real transport: HTTP/1.1 and HTTP/2 over rustls, proxies from the environment.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    pub fn new(timeout: Duration, tls: &TlsOptions) -> Result<HttpTransport, crate::Error> {
        // reqwest is built without a default crypto provider (to keep the C toolchain out of
        // the build); use ring unless the application installed one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("jobscope-client/", env!("CARGO_PKG_VERSION")))
            // A redirect would drop or leak the credentials; GitLab's API does not redirect.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &tls.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                crate::Error::Config(format!("cannot read the CA certificate: {e}"))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if tls.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder
            .build()
            .map_err(|e| crate::Error::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(HttpTransport { client })
    }
}

#[async_trait::async_trait]
impl Transport for HttpTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = self
            .client
            .request(request.method, request.url)
            .headers(request.headers);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(|e| TransportError {
            not_sent: e.is_connect(),
            message: describe(&e),
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| TransportError {
            not_sent: false,
            message: describe(&e),
        })?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// reqwest's error with its causes, without the URL (the caller adds it).
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        let text = err.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    let joined = parts.join(": ");
    match e.url() {
        Some(url) => joined.replace(&format!(" ({url})"), ""),
        None => joined,
    }
}
