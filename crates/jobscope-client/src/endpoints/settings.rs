//! `GET/PUT /application/settings` (administrators).

use super::endpoint;
use crate::endpoint::JsonBody;

/// `GET /application/settings`.
#[derive(Clone, Debug, Default)]
pub struct GetSettings;
endpoint!(GetSettings, GET, |_s| "application/settings".into());

/// `PUT /application/settings`: only the fields set are sent.
#[derive(Clone, Debug, Default)]
pub struct UpdateSettings {
    enforce_scope: Option<bool>,
    max_token_lifetime: Option<Option<i64>>,
    default_projects_limit: Option<i64>,
}

impl UpdateSettings {
    pub fn new() -> Self {
        UpdateSettings::default()
    }

    /// `enforce_ci_inbound_job_token_scope_enabled`: every project limits access.
    pub fn enforce_job_token_scope(mut self, on: bool) -> Self {
        self.enforce_scope = Some(on);
        self
    }

    /// `max_personal_access_token_lifetime` in days (`None` removes the limit).
    pub fn max_personal_access_token_lifetime(mut self, days: Option<i64>) -> Self {
        self.max_token_lifetime = Some(days);
        self
    }

    pub fn default_projects_limit(mut self, n: i64) -> Self {
        self.default_projects_limit = Some(n);
        self
    }
}

endpoint!(
    UpdateSettings,
    PUT,
    |_s| "application/settings".into(),
    body = |s| {
        JsonBody::new()
            .set_opt(
                "enforce_ci_inbound_job_token_scope_enabled",
                s.enforce_scope,
            )
            .set_opt("max_personal_access_token_lifetime", s.max_token_lifetime)
            .set_opt("default_projects_limit", s.default_projects_limit)
            .build()
    }
);
