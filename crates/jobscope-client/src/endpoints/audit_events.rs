//! `GET /projects/:id/audit_events` (GitLab Premium; jobscope records every scope change).

use chrono::{DateTime, Utc};
use jobscope_types::ProjectRef;

use crate::endpoint::{Endpoint, Pageable, QueryPairs};

/// `GET /projects/:id/audit_events`, newest first.
#[derive(Clone, Debug)]
pub struct ListProjectAuditEvents {
    project: ProjectRef,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
}

impl ListProjectAuditEvents {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        ListProjectAuditEvents {
            project: project.into(),
            created_after: None,
            created_before: None,
        }
    }

    pub fn created_after(mut self, t: DateTime<Utc>) -> Self {
        self.created_after = Some(t);
        self
    }

    pub fn created_before(mut self, t: DateTime<Utc>) -> Self {
        self.created_before = Some(t);
        self
    }
}

impl Endpoint for ListProjectAuditEvents {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn path(&self) -> String {
        format!("projects/{}/audit_events", self.project.to_segment())
    }
    fn query(&self) -> Vec<(String, String)> {
        let fmt = jobscope_types::api::gitlab_time::format;
        QueryPairs::new()
            .push_opt("created_after", self.created_after.as_ref().map(fmt))
            .push_opt("created_before", self.created_before.as_ref().map(fmt))
            .build()
    }
}

impl Pageable for ListProjectAuditEvents {}
