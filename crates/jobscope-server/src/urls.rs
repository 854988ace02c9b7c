//! Absolute URLs: from `--external-url` when configured, else from the request's `Host`.

use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::http::uri::Authority;

use crate::error::ApiError;
use crate::state::AppState;

/// The instance's base URL without a trailing slash, e.g. `https://gitlab.example.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    base: String,
}

impl BaseUrl {
    pub fn new(base: &str) -> Self {
        BaseUrl {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn from_parts(parts: &Parts, state: &AppState) -> Self {
        if let Some(url) = &state.config.external_url {
            return BaseUrl::new(url.as_str());
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(Authority::as_str))
            .filter(|h| Authority::from_str(h).is_ok() && !h.contains('@'))
            .unwrap_or("localhost");
        let scheme = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|s| *s == "https" || *s == "http")
            .unwrap_or("http");
        BaseUrl {
            base: format!("{scheme}://{host}"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// `base` + `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The host name alone, for `git@host:path.git` URLs.
    pub fn host(&self) -> &str {
        let rest = self
            .base
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.base);
        let authority = rest.split('/').next().unwrap_or(rest);
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    }

    /// The path part of the base URL ("" or "/gitlab"), for instances under a sub-path.
    pub fn path_prefix(&self) -> &str {
        let rest = self
            .base
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.base);
        rest.find('/').map(|i| &rest[i..]).unwrap_or("")
    }
}

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(BaseUrl::from_parts(parts, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_prefix() {
        let b = BaseUrl::new("https://gl.example:8443/gitlab/");
        assert_eq!(b.as_str(), "https://gl.example:8443/gitlab");
        assert_eq!(b.host(), "gl.example");
        assert_eq!(b.path_prefix(), "/gitlab");
        assert_eq!(BaseUrl::new("http://h").path_prefix(), "");
    }
}
