//! A scripted transport for tests: it answers an expected sequence of requests with canned
//! responses, and checks each request's method, path, query and JSON body.
//!
//! ```
//! # use jobscope_client::{Client, mock::{MockTransport, MockResponse}};
//! # use http::{Method, StatusCode};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> jobscope_client::Result<()> {
//! let mock = MockTransport::new();
//! mock.expect(Method::GET, "/api/v4/projects/7/job_token_scope")
//!     .respond(MockResponse::json(StatusCode::OK, serde_json::json!({
//!         "inbound_enabled": true, "outbound_enabled": false})));
//! let client = Client::builder("https://gitlab.example.com").transport(mock.clone()).build()?;
//! let scope = client.project(7).job_token_scope().get().await?;
//! assert!(scope.inbound_enabled);
//! mock.assert_done();
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::Value;

use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError};

/// A canned answer.
#[derive(Clone, Debug)]
pub struct MockResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl MockResponse {
    /// A JSON answer (with `Content-Type: application/json`).
    pub fn json(status: StatusCode, body: Value) -> MockResponse {
        MockResponse::raw(status, body.to_string()).header("content-type", "application/json")
    }

    /// An answer without a body (`204`, or a bare error).
    pub fn empty(status: StatusCode) -> MockResponse {
        MockResponse::raw(status, "")
    }

    /// Any body.
    pub fn raw(status: StatusCode, body: impl Into<Bytes>) -> MockResponse {
        MockResponse {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// Adds a header (for example `Link`, `X-Next-Page`, `Retry-After`).
    pub fn header(mut self, name: &str, value: &str) -> MockResponse {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.append(n, v);
        }
        self
    }
}

#[derive(Debug)]
struct Expectation {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    body_contains: Vec<String>,
    answer: Result<MockResponse, String>,
}

/// An expected request, being described.
pub struct Expecting<'a> {
    mock: &'a MockTransport,
    expectation: Option<Expectation>,
}

impl Expecting<'_> {
    /// The JSON body the request must carry.
    pub fn body(mut self, body: Value) -> Self {
        if let Some(e) = self.expectation.as_mut() {
            e.body = Some(body);
        }
        self
    }

    /// Text the request body must contain (for GraphQL queries, whose exact text is long).
    pub fn body_contains(mut self, text: &str) -> Self {
        if let Some(e) = self.expectation.as_mut() {
            e.body_contains.push(text.to_owned());
        }
        self
    }

    /// Answers it.
    pub fn respond(mut self, response: MockResponse) {
        if let Some(mut e) = self.expectation.take() {
            e.answer = Ok(response);
            self.mock.push(e);
        }
    }

    /// Fails it as a network error would (`not_sent` for a refused connection).
    pub fn fail(mut self, message: &str) {
        if let Some(mut e) = self.expectation.take() {
            e.answer = Err(message.to_owned());
            self.mock.push(e);
        }
    }
}

/// A transport that plays a script. Cheap to clone (shared state).
#[derive(Debug, Default)]
pub struct MockTransport {
    script: Mutex<VecDeque<Expectation>>,
    seen: Mutex<Vec<HttpRequest>>,
    problems: Mutex<Vec<String>>,
}

impl MockTransport {
    pub fn new() -> Arc<MockTransport> {
        Arc::new(MockTransport::default())
    }

    /// Expects a request: the method and the path with its query (`/api/v4/projects?x=1`);
    /// query parameters may come in any order.
    pub fn expect(&self, method: Method, path_and_query: &str) -> Expecting<'_> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), pairs(q)),
            None => (path_and_query.to_owned(), Vec::new()),
        };
        Expecting {
            mock: self,
            expectation: Some(Expectation {
                method,
                path,
                query,
                body: None,
                body_contains: Vec::new(),
                answer: Err("no answer set".to_owned()),
            }),
        }
    }

    fn push(&self, e: Expectation) {
        lock(&self.script).push_back(e);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<HttpRequest> {
        lock(&self.seen).clone()
    }

    /// Panics unless every expected request came, in order, as described.
    pub fn assert_done(&self) {
        let problems = lock(&self.problems).clone();
        assert!(
            problems.is_empty(),
            "mock transport: {}",
            problems.join("\n")
        );
        let left: Vec<String> = lock(&self.script)
            .iter()
            .map(|e| format!("{} {}", e.method, e.path))
            .collect();
        assert!(left.is_empty(), "requests expected but not made: {left:?}");
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn pairs(query: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    v.sort();
    v
}

#[async_trait::async_trait]
impl Transport for MockTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        lock(&self.seen).push(request.clone());
        let got = format!("{} {}", request.method, request.url);
        let Some(expected) = lock(&self.script).pop_front() else {
            let problem = format!("unexpected request {got}");
            lock(&self.problems).push(problem.clone());
            return Err(TransportError {
                not_sent: false,
                message: problem,
            });
        };
        let query = pairs(request.url.query().unwrap_or(""));
        let body: Option<Value> = request
            .body
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok());
        let mut mismatch = Vec::new();
        if request.method != expected.method || request.url.path() != expected.path {
            mismatch.push(format!("expected {} {}", expected.method, expected.path));
        }
        if query != expected.query {
            mismatch.push(format!(
                "expected query {:?}, got {query:?}",
                expected.query
            ));
        }
        if let Some(want) = &expected.body
            && body.as_ref() != Some(want)
        {
            mismatch.push(format!("expected body {want}, got {body:?}"));
        }
        let raw = request
            .body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        for text in &expected.body_contains {
            if !raw.contains(text.as_str()) {
                mismatch.push(format!("expected the body to contain {text:?}, got {raw}"));
            }
        }
        if !mismatch.is_empty() {
            let problem = format!("{got}: {}", mismatch.join("; "));
            lock(&self.problems).push(problem.clone());
            return Err(TransportError {
                not_sent: false,
                message: problem,
            });
        }
        match expected.answer {
            Ok(r) => Ok(HttpResponse {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(message) => Err(TransportError {
                not_sent: true,
                message,
            }),
        }
    }
}
