//! The client: where requests get their URL, credentials and retries, and where answers become
//! values or errors.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::auth::Auth;
use crate::endpoint::{Body, Endpoint};
use crate::error::{Error, Result};
use crate::retry::{RetryPolicy, parse_retry_after, transient};
use crate::transport::{HttpRequest, HttpResponse, HttpTransport, TlsOptions, Transport};

/// Which server the client talks to. jobscope has every GitLab endpoint the client uses plus
/// its own (the decision endpoint, policies and the authentication log over REST); against
/// GitLab the client uses GitLab's GraphQL API for what its REST API lacks, and reports
/// [`Error::Unsupported`] for what GitLab has not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flavor {
    Jobscope { version: String },
    GitLab { version: String },
}

impl Flavor {
    pub fn is_jobscope(&self) -> bool {
        matches!(self, Flavor::Jobscope { .. })
    }

    /// "jobscope 0.1.0", "GitLab 18.6.0-ee".
    pub fn describe(&self) -> String {
        match self {
            Flavor::Jobscope { version } => format!("jobscope {version}"),
            Flavor::GitLab { version } => format!("GitLab {version}"),
        }
    }
}

/// Turns what a user types as a host into the API's base URL: `gitlab.example.com`,
/// `https://gitlab.example.com/`, `http://127.0.0.1:8080/api/v4` and
/// `https://example.com/gitlab` (a relative URL root) all work; without a scheme, `https`.
pub fn api_base(host: &str) -> Result<Url> {
    let host = host.trim();
    if host.is_empty() {
        return Err(Error::Config("no GitLab or jobscope host given".into()));
    }
    let with_scheme = if host.contains("://") {
        host.to_owned()
    } else {
        format!("https://{host}")
    };
    let mut url = Url::parse(&with_scheme)
        .map_err(|e| Error::Config(format!("the host {host:?} is not a usable URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Config(format!(
            "the host {host:?} must be an http or https URL"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::Config(format!(
            "the host {host:?} must not carry a query, a fragment or credentials"
        )));
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/api/v4").unwrap_or(path).to_owned();
    url.set_path(&format!("{path}/api/v4/"));
    Ok(url)
}

/// Sets up a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    host: String,
    auth: Auth,
    transport: Option<Arc<dyn Transport>>,
    retry: RetryPolicy,
    timeout: Duration,
    tls: TlsOptions,
    flavor: Option<Flavor>,
}

impl ClientBuilder {
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// A personal, project or group access token (`PRIVATE-TOKEN`).
    pub fn private_token(self, token: impl Into<String>) -> Self {
        self.auth(Auth::private_token(token))
    }

    /// An OAuth 2 access token (`Authorization: Bearer`).
    pub fn oauth_token(self, token: impl Into<String>) -> Self {
        self.auth(Auth::oauth(token))
    }

    /// A CI/CD job token (`JOB-TOKEN`).
    pub fn job_token(self, token: impl Into<String>) -> Self {
        self.auth(Auth::job_token(token))
    }

    /// Use this transport instead of HTTP (tests use [`crate::mock::MockTransport`]).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The time limit of one request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trust these PEM certificates too (a private CA).
    pub fn ca_certificates(mut self, pem: Vec<u8>) -> Self {
        self.tls.ca_pem = Some(pem);
        self
    }

    /// Accept any TLS certificate. Only for throwaway test servers.
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.tls.insecure = yes;
        self
    }

    /// Skip detecting the server (`GET /version`) and assume this one.
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.flavor = Some(flavor);
        self
    }

    pub fn build(self) -> Result<Client> {
        let api = api_base(&self.host)?;
        // Fail now, not at the first request, on a token no header can carry.
        self.auth.header()?;
        let transport: Arc<dyn Transport> = match self.transport {
            Some(t) => t,
            None => Arc::new(HttpTransport::new(self.timeout, &self.tls)?),
        };
        let flavor = tokio::sync::OnceCell::new();
        if let Some(f) = self.flavor {
            let _ = flavor.set(f);
        }
        Ok(Client {
            inner: Arc::new(Inner {
                api,
                auth: self.auth,
                transport,
                retry: self.retry,
                flavor,
            }),
        })
    }
}

/// An API client for one server and one set of credentials. Cheap to clone; clones share the
/// connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api: Url,
    auth: Auth,
    transport: Arc<dyn Transport>,
    retry: RetryPolicy,
    flavor: tokio::sync::OnceCell<Flavor>,
}

/// What one request is: enough to send it again.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<Body>,
    pub(crate) idempotent: bool,
    pub(crate) graphql: bool,
}

impl Client {
    /// Starts a client for `host` (see [`api_base`] for the forms it takes).
    pub fn builder(host: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            host: host.into(),
            auth: Auth::None,
            transport: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            tls: TlsOptions::default(),
            flavor: None,
        }
    }

    /// The API's base URL (ends in `/api/v4/`).
    pub fn api_url(&self) -> &Url {
        &self.inner.api
    }

    /// The server's web address (the API's base URL without `/api/v4/`).
    pub fn host_url(&self) -> String {
        let s = self.inner.api.as_str();
        s.strip_suffix("api/v4/")
            .unwrap_or(s)
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The URL of `path` (below `/api/v4/`) with `query`.
    pub(crate) fn url(&self, path: &str, query: &[(String, String)]) -> Result<Url> {
        let mut url = self
            .inner
            .api
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::Config(format!("cannot build a URL for {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }

    pub(crate) fn call_for(&self, endpoint: &dyn Endpoint) -> Result<Call> {
        Ok(Call {
            method: endpoint.method(),
            url: self.url(&endpoint.path(), &endpoint.query())?,
            body: endpoint.body(),
            idempotent: endpoint.idempotent(),
            graphql: false,
        })
    }

    /// Sends an endpoint and returns the raw success answer.
    pub async fn raw(&self, endpoint: &dyn Endpoint) -> Result<HttpResponse> {
        self.send(&self.call_for(endpoint)?).await
    }

    /// Sends an endpoint and decodes its JSON answer as `T` (any type that reads the fields
    /// you need; the `jobscope_types::api` ones read everything jobscope and GitLab send).
    pub async fn query<T: DeserializeOwned>(&self, endpoint: &dyn Endpoint) -> Result<T> {
        let call = self.call_for(endpoint)?;
        let response = self.send(&call).await?;
        decode(&call, &response)
    }

    /// Sends an endpoint and ignores the answer's body (for `204 No Content`).
    pub async fn ignore(&self, endpoint: &dyn Endpoint) -> Result<()> {
        self.raw(endpoint).await.map(|_| ())
    }

    /// Sends a request, retrying as [`RetryPolicy`] says. Non-success answers are errors.
    pub(crate) async fn send(&self, call: &Call) -> Result<HttpResponse> {
        let request = self.request(call)?;
        let retry = &self.inner.retry;
        let mut attempt = 0u32;
        loop {
            let outcome = self.inner.transport.send(request.clone()).await;
            let retry_after = match &outcome {
                Ok(r) if r.status == StatusCode::TOO_MANY_REQUESTS => r
                    .header("retry-after")
                    .and_then(|v| parse_retry_after(v, SystemTime::now())),
                _ => None,
            };
            let wait = match &outcome {
                Ok(r) if r.status == StatusCode::TOO_MANY_REQUESTS => match retry_after {
                    Some(d) if d > retry.max_wait => None,
                    Some(d) => Some(d),
                    None => Some(retry.backoff(attempt + 1)),
                },
                Ok(r) if transient(r.status) && call.idempotent => Some(retry.backoff(attempt + 1)),
                Err(e) if call.idempotent || e.not_sent => Some(retry.backoff(attempt + 1)),
                _ => None,
            };
            if let Some(wait) = wait
                && attempt < retry.max_retries
            {
                attempt += 1;
                tracing::debug!(
                    method = %call.method,
                    path = call.url.path(),
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            return match outcome {
                Ok(r) if r.status.is_success() => Ok(r),
                Ok(r) => Err(Error::from_response(r.status, &r.body, retry_after)),
                Err(e) => Err(Error::Transport {
                    url: display_url(&call.url),
                    message: e.message,
                }),
            };
        }
    }

    fn request(&self, call: &Call) -> Result<HttpRequest> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let auth = if call.graphql {
            self.inner.auth.graphql_header()?
        } else {
            self.inner.auth.header()?
        };
        if let Some((name, value)) = auth {
            headers.insert(name, value);
        }
        let body = match &call.body {
            Some(Body::Json(v)) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Some(Bytes::from(v.to_string()))
            }
            None => None,
        };
        Ok(HttpRequest {
            method: call.method.clone(),
            url: call.url.clone(),
            headers,
            body,
        })
    }

    /// Which server this is (asked once with `GET /version`, then remembered).
    pub async fn flavor(&self) -> Result<Flavor> {
        let flavor = self
            .inner
            .flavor
            .get_or_try_init(|| async {
                let v: Value = self.query(&crate::endpoints::meta::GetVersion).await?;
                let version = v
                    .get("version")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_owned();
                Ok::<_, Error>(match v.get("jobscope").and_then(|j| j.get("version")) {
                    Some(j) => Flavor::Jobscope {
                        version: j.as_str().unwrap_or("unknown").to_owned(),
                    },
                    None => Flavor::GitLab { version },
                })
            })
            .await?;
        Ok(flavor.clone())
    }

    /// Runs a GitLab GraphQL query or mutation (`POST /api/graphql`) and returns its `data`.
    /// Used only against GitLab, for what its REST API lacks.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        mutation: bool,
    ) -> Result<T> {
        if self.inner.auth.is_job_token() {
            return Err(Error::unsupported(
                "this operation",
                "GitLab",
                "it needs GitLab's GraphQL API, which does not accept CI/CD job tokens",
            ));
        }
        let url = self
            .inner
            .api
            .join("../graphql")
            .map_err(|e| Error::Config(format!("cannot build the GraphQL URL: {e}")))?;
        let call = Call {
            method: Method::POST,
            url,
            body: Some(Body::Json(
                serde_json::json!({"query": query, "variables": variables}),
            )),
            idempotent: !mutation,
            graphql: true,
        };
        let response = self.send(&call).await?;
        #[derive(serde::Deserialize)]
        struct Answer<T> {
            data: Option<T>,
            #[serde(default)]
            errors: Vec<GraphQlError>,
        }
        #[derive(serde::Deserialize)]
        struct GraphQlError {
            message: String,
        }
        let answer: Answer<T> = decode(&call, &response)?;
        if !answer.errors.is_empty() {
            return Err(Error::GraphQl {
                messages: answer.errors.into_iter().map(|e| e.message).collect(),
            });
        }
        answer
            .data
            .ok_or_else(|| Error::decode("GitLab GraphQL", "no data in the answer"))
    }
}

/// The URL for messages: no query (it could carry a `private_token` a caller put there).
fn display_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

pub(crate) fn decode<T: DeserializeOwned>(call: &Call, response: &HttpResponse) -> Result<T> {
    let what = || format!("{} {}", call.method, call.url.path());
    if response.body.is_empty() {
        return serde_json::from_slice(b"null").map_err(|_| {
            Error::decode(
                what(),
                format!(
                    "an empty body ({}) where JSON was expected",
                    response.status
                ),
            )
        });
    }
    serde_json::from_slice(&response.body).map_err(|e| Error::decode(what(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_forms() {
        let cases = [
            ("gitlab.example.com", "https://gitlab.example.com/api/v4/"),
            (
                "https://gitlab.example.com/",
                "https://gitlab.example.com/api/v4/",
            ),
            (
                "http://127.0.0.1:8080/api/v4",
                "http://127.0.0.1:8080/api/v4/",
            ),
            (
                "http://127.0.0.1:8080/api/v4/",
                "http://127.0.0.1:8080/api/v4/",
            ),
            (
                "https://example.com/gitlab",
                "https://example.com/gitlab/api/v4/",
            ),
            (" localhost:3000 ", "https://localhost:3000/api/v4/"),
        ];
        for (input, want) in cases {
            assert_eq!(api_base(input).unwrap().as_str(), want, "{input}");
        }
        for bad in [
            "",
            "ftp://x",
            "https://x?y=1",
            "https://user:pw@x",
            "http://",
        ] {
            assert!(matches!(api_base(bad), Err(Error::Config(_))), "{bad}");
        }
    }

    #[test]
    fn urls_keep_encoded_paths() {
        let c = Client::builder("http://h:1")
            .transport(crate::mock::MockTransport::new())
            .build()
            .unwrap();
        let url = c
            .url(
                "projects/a%2Fb%2Ec/job_token_scope",
                &[("page".into(), "2".into())],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://h:1/api/v4/projects/a%2Fb%2Ec/job_token_scope?page=2"
        );
        assert_eq!(c.host_url(), "http://h:1");
    }
}
