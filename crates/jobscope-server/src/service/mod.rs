//! What the API does, without HTTP: each function takes the state, the authenticated caller
//! and (for protected actions) the authorization proof from [`crate::access`], and returns
//! records or an [`crate::error::ApiError`].

pub mod audit;
pub mod autopopulate;
pub mod decision;
pub mod groups;
pub mod jobs;
pub mod members;
pub mod projects;
pub mod reachable;
pub mod scope;
pub mod settings;
pub mod tokens;
pub mod users;

use chrono::{DateTime, Utc};

/// The current time, truncated to microseconds so that what is stored and what is answered
/// are the same instant on every backend.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.with_nanosecond((t.timestamp_subsec_nanos() / 1000) * 1000)
        .unwrap_or(t)
}

use chrono::Timelike;
