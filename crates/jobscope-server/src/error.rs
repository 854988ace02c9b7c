//! The server's error type and the only place that knows GitLab's error bodies.
//!
//! Rules:
//! - Handlers and services return [`ApiError`]; each variant is one of GitLab's error shapes.
//!   Status codes and JSON bodies are produced here and nowhere else.
//! - `{"error": …}` is GitLab's (Grape's) parameter-validation shape, `{"message": …}` the shape
//!   of errors raised by the endpoint code, and the OAuth shape (`error`, `error_description`)
//!   is for token failures.
//! - Storage failures never leak their text to clients: they are logged with the request and
//!   answered with a generic 500/503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobscope_store::StoreError;
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `{"error": "a is missing, b is invalid"}`: Grape parameter validation.
    #[error("invalid parameters: {}", .0.join(", "))]
    Params(Vec<String>),
    /// 400 `{"message": "400 Bad request - <reason>"}`.
    #[error("bad request: {0:?}")]
    BadRequest(Option<String>),
    /// 400 `{"message": {"attr": ["msg", …]}}`: model validation.
    #[error("validation failed: {0:?}")]
    Validation(Vec<(String, Vec<String>)>),
    /// Any status with `{"message": "<text>"}` and no prefix (service messages GitLab passes
    /// through verbatim, e.g. 409 "Member already exists").
    #[error("{1}")]
    Message(StatusCode, String),
    /// Any status with `{"error": [...]}` (GitLab's array-shaped errors).
    #[error("{1:?}")]
    ErrorList(StatusCode, Vec<String>),
    /// 401 `{"message": "401 Unauthorized"}`.
    #[error("unauthorized")]
    Unauthorized,
    /// 401 OAuth `invalid_token` with the description.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// 403 OAuth `insufficient_scope`; the value lists the scopes the route accepts.
    #[error("insufficient scope (needs {0})")]
    InsufficientScope(String),
    /// 403 `{"message": "403 Forbidden"}` or `"403 Forbidden - <reason>"`.
    #[error("forbidden: {0:?}")]
    Forbidden(Option<String>),
    /// 404 `{"message": "404 <what> Not Found"}`.
    #[error("{0} not found")]
    NotFound(String),
    /// 404 `{"message": "404 Not found"}`: a record lookup that failed.
    #[error("record not found")]
    RecordNotFound,
    /// 404 `{"error": "404 Not Found"}`: no such route.
    #[error("no such route")]
    RouteNotFound,
    /// 413 for bodies over the configured limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 403 in plain text: the client's address is banned after too many failed
    /// authentications (GitLab's `Gitlab::Auth::IpBlocked`, rendered as plain text).
    #[error("address banned after repeated failed authentications")]
    AddressBanned,
    /// 429 in plain text, `Retry later`, with GitLab's `RateLimit-*` headers and `Retry-After`.
    #[error("rate limit {} exceeded", .0.name())]
    RateLimited(crate::limits::RateInfo),
    /// 503 with `Retry-After`: more requests in flight than `--max-in-flight`.
    #[error("too many requests in flight")]
    Overloaded,
    /// 503: the store is unreachable or busy beyond its wait.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or corrupted data. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// GitLab's answer to a banned address (`Gitlab::Auth::IpBlocked#message`).
pub const ADDRESS_BANNED_TEXT: &str = "Too many failed authentication attempts from this IP";

/// GitLab's default `rate_limiting_response_text`, with the newline GitLab appends.
pub const RATE_LIMITED_TEXT: &str = "Retry later\n";

impl ApiError {
    pub fn param(msg: impl Into<String>) -> Self {
        ApiError::Params(vec![msg.into()])
    }

    pub fn bad_request(reason: impl Into<String>) -> Self {
        ApiError::BadRequest(Some(reason.into()))
    }

    pub fn forbidden(reason: impl Into<String>) -> Self {
        ApiError::Forbidden(Some(reason.into()))
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound(what.into())
    }

    /// `{"message": "404 Not Found"}` (GitLab's `not_found!` without a resource).
    pub fn plain_not_found() -> Self {
        ApiError::Message(StatusCode::NOT_FOUND, "404 Not Found".into())
    }

    pub fn validation(attr: &str, msg: impl Into<String>) -> Self {
        ApiError::Validation(vec![(attr.to_owned(), vec![msg.into()])])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Params(_) | ApiError::BadRequest(_) | ApiError::Validation(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Message(s, _) | ApiError::ErrorList(s, _) => *s,
            ApiError::Unauthorized | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::InsufficientScope(_) | ApiError::Forbidden(_) | ApiError::AddressBanned => {
                StatusCode::FORBIDDEN
            }
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) | ApiError::RecordNotFound | ApiError::RouteNotFound => {
                StatusCode::NOT_FOUND
            }
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) | ApiError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The plain-text body of the errors GitLab answers in plain text.
    pub fn plain_text(&self) -> Option<&'static str> {
        match self {
            ApiError::AddressBanned => Some(ADDRESS_BANNED_TEXT),
            ApiError::RateLimited(_) => Some(RATE_LIMITED_TEXT),
            _ => None,
        }
    }

    /// The JSON body GitLab sends for this error (a JSON string for the plain-text ones).
    pub fn body(&self) -> Value {
        match self {
            ApiError::Params(msgs) => json!({ "error": msgs.join(", ") }),
            ApiError::BadRequest(None) => json!({ "message": "400 Bad request" }),
            ApiError::BadRequest(Some(r)) => json!({ "message": format!("400 Bad request - {r}") }),
            ApiError::Validation(fields) => {
                let mut m = Map::new();
                for (attr, msgs) in fields {
                    m.insert(attr.clone(), json!(msgs));
                }
                json!({ "message": m })
            }
            ApiError::Message(_, text) => json!({ "message": text }),
            ApiError::ErrorList(_, list) => json!({ "error": list }),
            ApiError::Unauthorized => json!({ "message": "401 Unauthorized" }),
            ApiError::InvalidToken(desc) => {
                json!({ "error": "invalid_token", "error_description": desc })
            }
            ApiError::InsufficientScope(scopes) => json!({
                "error": "insufficient_scope",
                "error_description":
                    "The request requires higher privileges than provided by the access token.",
                "scope": scopes,
            }),
            ApiError::Forbidden(None) => json!({ "message": "403 Forbidden" }),
            ApiError::Forbidden(Some(r)) => json!({ "message": format!("403 Forbidden - {r}") }),
            ApiError::NotFound(what) => json!({ "message": format!("404 {what} Not Found") }),
            ApiError::RecordNotFound => json!({ "message": "404 Not found" }),
            ApiError::RouteNotFound => json!({ "error": "404 Not Found" }),
            ApiError::PayloadTooLarge => json!({ "error": "413 Request Entity Too Large" }),
            ApiError::Unavailable(_) | ApiError::Overloaded => {
                json!({ "message": "503 Service Unavailable" })
            }
            ApiError::AddressBanned => json!(ADDRESS_BANNED_TEXT),
            ApiError::RateLimited(_) => json!(RATE_LIMITED_TEXT),
            ApiError::Internal(_) => json!({ "message": "500 Internal Server Error" }),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::RecordNotFound,
            StoreError::Unavailable(msg) => ApiError::Unavailable(msg),
            // Conflicts and limits are handled where they can happen; one reaching here is a
            // race the service did not anticipate.
            StoreError::Conflict(c) => ApiError::Message(
                StatusCode::CONFLICT,
                format!("409 Conflict - {c:?} already exists"),
            ),
            StoreError::LimitReached => ApiError::bad_request("Limit reached"),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Kept in the response extensions so the request log can show why a 5xx happened.
#[derive(Clone, Debug)]
pub struct ErrorDetail(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Some(text) = self.plain_text() {
            let mut resp = (status, text).into_response();
            if let ApiError::RateLimited(info) = &self {
                info.write_headers(resp.headers_mut(), true);
            }
            return resp;
        }
        let body = self.body().to_string();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let ApiError::InvalidToken(desc) = &self
            && let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer realm=\"Protected by OAuth 2.0\", error=\"invalid_token\", error_description=\"{desc}\""
            ))
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        if let ApiError::Overloaded = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if matches!(self, ApiError::Internal(_) | ApiError::Unavailable(_)) {
            resp.extensions_mut().insert(ErrorDetail(self.to_string()));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_gitlab() {
        assert_eq!(
            ApiError::NotFound("target_project_id not found".into()).body(),
            json!({"message": "404 target_project_id not found Not Found"})
        );
        assert_eq!(
            ApiError::Params(vec![
                "id is invalid".into(),
                "target_project_id is missing".into()
            ])
            .body(),
            json!({"error": "id is invalid, target_project_id is missing"})
        );
        assert_eq!(
            ApiError::bad_request("x").body(),
            json!({"message": "400 Bad request - x"})
        );
        assert_eq!(
            ApiError::forbidden("y").body(),
            json!({"message": "403 Forbidden - y"})
        );
        assert!(
            !ApiError::Internal("secret".into())
                .body()
                .to_string()
                .contains("secret")
        );
    }
}
