//! `GET /version`, `GET /user`.

use super::endpoint;

/// `GET /version` (GitLab's version; jobscope adds `{"jobscope": {"version": …}}`).
#[derive(Clone, Debug, Default)]
pub struct GetVersion;
endpoint!(GetVersion, GET, |_s| "version".into());

/// `GET /user`: who the credentials belong to.
#[derive(Clone, Debug, Default)]
pub struct CurrentUser;
endpoint!(CurrentUser, GET, |_s| "user".into());
