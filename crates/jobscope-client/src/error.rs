//! The client's one error type.
//!
//! Every failure a caller can act on has its own variant: the server refused the request
//! ([`Error::Api`], with the status and GitLab's message verbatim), the network failed
//! ([`Error::Transport`]), an answer could not be read ([`Error::Decode`]), a list changed or
//! was cut short while it was paged ([`Error::Pagination`]), or the server does not have the
//! operation at all ([`Error::Unsupported`], for example jobscope's decision endpoint asked of
//! GitLab). Messages never contain a token.

use http::StatusCode;
use jobscope_types::api::ErrorBody;

/// What went wrong, as a caller needs to know it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status. `message` is GitLab's message as sent
    /// (`{"message": …}`, `{"error": …}` or an OAuth `error_description`), or the status
    /// text when the body carried none.
    #[error("{}", api_display(*status, message))]
    Api {
        status: StatusCode,
        message: String,
        /// The parsed error body, when the answer was GitLab-shaped JSON.
        body: Option<Box<ErrorBody>>,
        /// For 429: how long the server asked to wait (`Retry-After`).
        retry_after: Option<std::time::Duration>,
    },
    /// GraphQL (used only against GitLab, for what its REST API lacks) reported errors.
    #[error("GitLab GraphQL: {}", messages.join("; "))]
    GraphQl { messages: Vec<String> },
    /// The request did not complete: connection refused, TLS, timeout, reset.
    #[error("cannot reach {url}: {message}")]
    Transport { url: String, message: String },
    /// A success answer that is not what the endpoint promises.
    #[error("unexpected answer to {what}: {message}")]
    Decode { what: String, message: String },
    /// Paging could not be completed without losing items.
    #[error("incomplete list from {what}: {message}")]
    Pagination { what: String, message: String },
    /// The server has no such operation (for example jobscope's decision endpoint, asked of
    /// GitLab), or not with these credentials (GitLab's GraphQL refuses job tokens).
    #[error("{operation} is not available on {server}: {reason}")]
    Unsupported {
        operation: String,
        server: String,
        reason: String,
    },
    /// The client was set up wrongly: an unusable host URL, a token with characters no HTTP
    /// header can carry, an unreadable CA certificate.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// The HTTP status of an [`Error::Api`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// GitLab's message of an [`Error::Api`].
    pub fn api_message(&self) -> Option<&str> {
        match self {
            Error::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// A 404 from the server.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Error {
        Error::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    pub(crate) fn unsupported(
        operation: impl Into<String>,
        server: impl Into<String>,
        reason: impl Into<String>,
    ) -> Error {
        Error::Unsupported {
            operation: operation.into(),
            server: server.into(),
            reason: reason.into(),
        }
    }

    /// Builds the error for a non-success answer.
    pub(crate) fn from_response(
        status: StatusCode,
        body: &[u8],
        retry_after: Option<std::time::Duration>,
    ) -> Error {
        let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
        let from_body = parsed
            .as_ref()
            .map(ErrorBody::text)
            .filter(|t| !t.is_empty());
        let message = match from_body {
            Some(m) => m,
            None => fallback_message(status, body),
        };
        Error::Api {
            status,
            message,
            body: parsed.map(Box::new),
            retry_after,
        }
    }
}

/// A message for an answer without a GitLab-shaped body: a short plain-text body as it is,
/// otherwise the status text (an HTML error page from a proxy says nothing useful).
fn fallback_message(status: StatusCode, body: &[u8]) -> String {
    let reason = status.canonical_reason().unwrap_or("error").to_owned();
    let Ok(text) = std::str::from_utf8(body) else {
        return reason;
    };
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') || text.len() > 300 || text.contains('\n') {
        return reason;
    }
    text.to_owned()
}

/// GitLab's messages mostly start with the status (`404 Project Not Found`); the status is
/// added only to those that do not (`400 Bad Request: target_project_id is missing`).
fn api_display(status: StatusCode, message: &str) -> String {
    if message.starts_with(status.as_str()) {
        message.to_owned()
    } else {
        format!("{status}: {message}")
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_from_gitlab_bodies() {
        let e = Error::from_response(
            StatusCode::NOT_FOUND,
            br#"{"message":"404 Project Not Found"}"#,
            None,
        );
        assert_eq!(e.to_string(), "404 Project Not Found");
        assert!(e.is_not_found());
        let e = Error::from_response(
            StatusCode::BAD_REQUEST,
            br#"{"error":"target_project_id is missing"}"#,
            None,
        );
        assert_eq!(e.api_message(), Some("target_project_id is missing"));
        let e = Error::from_response(
            StatusCode::FORBIDDEN,
            br#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api"}"#,
            None,
        );
        assert_eq!(
            e.api_message(),
            Some("The request requires higher privileges than provided by the access token.")
        );
        let e = Error::from_response(
            StatusCode::BAD_GATEWAY,
            b"<html><body>Bad gateway</body></html>",
            None,
        );
        assert_eq!(e.api_message(), Some("Bad Gateway"));
        let e = Error::from_response(StatusCode::SERVICE_UNAVAILABLE, b"try later", None);
        assert_eq!(e.api_message(), Some("try later"));
        let e = Error::from_response(
            StatusCode::BAD_REQUEST,
            br#"{"message":{"base":["Target project is already in the job token scope"]}}"#,
            None,
        );
        assert_eq!(
            e.api_message(),
            Some(r#"{"base":["Target project is already in the job token scope"]}"#)
        );
    }
}
