//! Endpoints as data: each REST call is a value that says its method, path, query and body.
//!
//! The client sends any [`Endpoint`] with [`Client::query`](crate::Client::query) (decoding the
//! answer into a type the caller picks), [`Client::ignore`](crate::Client::ignore) (for `204`
//! answers), or, for lists, [`Client::paged`](crate::Client::paged) and
//! [`Client::all`](crate::Client::all). The typed handles ([`crate::ProjectHandle`], …) are
//! built on these; reach for the endpoints directly for what the handles do not cover.

use http::Method;
use serde_json::Value;

/// A request body. Bodies are sent as JSON, which GitLab and jobscope accept on every route.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Json(Value),
}

/// One REST call under `/api/v4`.
pub trait Endpoint: Send + Sync {
    fn method(&self) -> Method;

    /// The path below `/api/v4/`, with `:id` segments already encoded
    /// (`projects/acme%2Fapp/job_token_scope`).
    fn path(&self) -> String;

    /// Query parameters (for lists, filters; paging is added by the client).
    fn query(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn body(&self) -> Option<Body> {
        None
    }

    /// Whether sending it twice has the effect of sending it once, so that the client may
    /// retry it after a transient failure (`502`, `503`, `504`, a dropped connection).
    fn idempotent(&self) -> bool {
        self.method() != Method::POST
    }
}

/// A marker for endpoints that answer a paginated JSON array.
pub trait Pageable: Endpoint {}

/// Builds a JSON object body from the fields that are set.
#[derive(Default)]
pub(crate) struct JsonBody(serde_json::Map<String, Value>);

impl JsonBody {
    pub(crate) fn new() -> Self {
        JsonBody::default()
    }

    pub(crate) fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn set_opt<V: Into<Value>>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    pub(crate) fn build(self) -> Option<Body> {
        Some(Body::Json(Value::Object(self.0)))
    }
}

/// Builds query pairs from the parameters that are set.
#[derive(Default)]
pub(crate) struct QueryPairs(Vec<(String, String)>);

impl QueryPairs {
    pub(crate) fn new() -> Self {
        QueryPairs::default()
    }

    pub(crate) fn push(mut self, key: &str, value: impl ToString) -> Self {
        self.0.push((key.to_owned(), value.to_string()));
        self
    }

    pub(crate) fn push_opt<V: ToString>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.push(key, v),
            None => self,
        }
    }

    pub(crate) fn build(self) -> Vec<(String, String)> {
        self.0
    }
}
