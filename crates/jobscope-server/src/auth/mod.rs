//! Authentication: who is calling. An extractor resolves the request's credentials to a
//! [`Caller`] (or none) and applies GitLab's token checks; authorization is a separate,
//! explicit step in [`crate::access`].

pub mod caller;
pub mod job;
pub mod scopes;
pub mod tokens;

pub use caller::{Caller, MaybeCaller};

use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::error::ApiResult;
use crate::state::AppState;

/// Passes an authentication result through, counting a presented credential that was refused
/// (401) as a failed authentication of the client address (the ban of `crate::limits`).
pub(crate) fn count_refusal<T>(
    state: &AppState,
    parts: &Parts,
    result: ApiResult<T>,
) -> ApiResult<T> {
    if let Err(e) = &result
        && e.status() == StatusCode::UNAUTHORIZED
    {
        state
            .limits
            .authentication_failed(&parts.headers, &parts.extensions);
    }
    result
}
