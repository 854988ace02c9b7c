//! jobscope's CI routes: jobs and their tokens, and the access decision.

use jobscope_types::{JobId, ProjectRef, UserId};

use super::endpoint;
use crate::endpoint::{Endpoint, JsonBody, QueryPairs};

/// jobscope only: `POST /ci/jobs`: a job starts (the answer carries its token, once).
#[derive(Clone, Debug)]
pub struct CreateJob {
    project: ProjectRef,
    user: UserId,
    name: Option<String>,
    ref_name: Option<String>,
}

impl CreateJob {
    pub fn new(project: impl Into<ProjectRef>, user: UserId) -> Self {
        CreateJob {
            project: project.into(),
            user,
            name: None,
            ref_name: None,
        }
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn ref_name(mut self, r: impl Into<String>) -> Self {
        self.ref_name = Some(r.into());
        self
    }
}

endpoint!(
    CreateJob,
    POST,
    |_s| "ci/jobs".into(),
    body = |s| {
        JsonBody::new()
            .set("project_id", s.project.to_string())
            .set("user_id", s.user.get())
            .set_opt("name", s.name.clone())
            .set_opt("ref", s.ref_name.clone())
            .build()
    }
);

/// jobscope only: `GET /ci/jobs/:id`.
#[derive(Clone, Debug)]
pub struct GetJob {
    id: JobId,
}

impl GetJob {
    pub fn new(id: JobId) -> Self {
        GetJob { id }
    }
}

endpoint!(GetJob, GET, |s| format!("ci/jobs/{}", s.id));

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    Success,
    Failed,
    Canceled,
}

impl JobOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Success => "success",
            JobOutcome::Failed => "failed",
            JobOutcome::Canceled => "canceled",
        }
    }
}

/// jobscope only: `PUT /ci/jobs/:id` with `status`: the job ends and its token stops working.
#[derive(Clone, Debug)]
pub struct FinishJob {
    id: JobId,
    outcome: JobOutcome,
}

impl FinishJob {
    pub fn new(id: JobId, outcome: JobOutcome) -> Self {
        FinishJob { id, outcome }
    }
}

endpoint!(
    FinishJob,
    PUT,
    |s| format!("ci/jobs/{}", s.id),
    body = |s| JsonBody::new().set("status", s.outcome.as_str()).build()
);

/// `GET /job`: the job a job token belongs to (GitLab has it too).
#[derive(Clone, Debug, Default)]
pub struct CurrentJob;
endpoint!(CurrentJob, GET, |_s| "job".into());

/// jobscope only: `GET /job_token/allowed?project=…[&policy=…]`: may the caller's job token
/// reach `project` (and use `policy` there)?
#[derive(Clone, Debug)]
pub struct Allowed {
    project: ProjectRef,
    policy: Option<String>,
}

impl Allowed {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        Allowed {
            project: project.into(),
            policy: None,
        }
    }

    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }
}

impl Endpoint for Allowed {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn path(&self) -> String {
        "job_token/allowed".into()
    }
    fn query(&self) -> Vec<(String, String)> {
        QueryPairs::new()
            .push("project", &self.project)
            .push_opt("policy", self.policy.as_ref())
            .build()
    }
}
