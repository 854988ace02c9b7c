//! The job token scope endpoints: GitLab's eight, and jobscope's policy, authentication log,
//! autopopulation and reverse lookup routes.

use jobscope_types::{NamespaceId, ProjectId, ProjectRef};

use super::endpoint;
use crate::endpoint::{Body, Endpoint, JsonBody, Pageable, QueryPairs};

fn base(project: &ProjectRef) -> String {
    format!("projects/{}/job_token_scope", project.to_segment())
}

/// `GET /projects/:id/job_token_scope`.
#[derive(Clone, Debug)]
pub struct GetScope {
    project: ProjectRef,
}

impl GetScope {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        GetScope {
            project: project.into(),
        }
    }
}

endpoint!(GetScope, GET, |s| base(&s.project));

/// `PATCH /projects/:id/job_token_scope` with `enabled` (answers `204`, no body).
#[derive(Clone, Debug)]
pub struct UpdateScope {
    project: ProjectRef,
    enabled: bool,
}

impl UpdateScope {
    pub fn new(project: impl Into<ProjectRef>, enabled: bool) -> Self {
        UpdateScope {
            project: project.into(),
            enabled,
        }
    }
}

endpoint!(
    UpdateScope,
    PATCH,
    |s| base(&s.project),
    body = |s| JsonBody::new().set("enabled", s.enabled).build()
);

/// `GET /projects/:id/job_token_scope/allowlist` (the project itself is listed too).
#[derive(Clone, Debug)]
pub struct ListProjectAllowlist {
    project: ProjectRef,
}

impl ListProjectAllowlist {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        ListProjectAllowlist {
            project: project.into(),
        }
    }
}

endpoint!(ListProjectAllowlist, GET, |s| format!(
    "{}/allowlist",
    base(&s.project)
));
impl Pageable for ListProjectAllowlist {}

/// `GET /projects/:id/job_token_scope/groups_allowlist`.
#[derive(Clone, Debug)]
pub struct ListGroupAllowlist {
    project: ProjectRef,
}

impl ListGroupAllowlist {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        ListGroupAllowlist {
            project: project.into(),
        }
    }
}

endpoint!(ListGroupAllowlist, GET, |s| format!(
    "{}/groups_allowlist",
    base(&s.project)
));
impl Pageable for ListGroupAllowlist {}

/// Fine-grained permissions of an entry: jobscope takes them on REST; GitLab only through
/// GraphQL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    pub default_permissions: Option<bool>,
    pub job_token_policies: Option<Vec<String>>,
}

impl Permissions {
    /// Nothing set: GitLab's defaults (default permissions, no policies).
    pub fn is_empty(&self) -> bool {
        self.default_permissions.is_none() && self.job_token_policies.is_none()
    }

    fn apply(&self, body: JsonBody) -> JsonBody {
        body.set_opt("default_permissions", self.default_permissions)
            .set_opt("job_token_policies", self.job_token_policies.clone())
    }
}

/// `POST /projects/:id/job_token_scope/allowlist` with `target_project_id` (an id: GitLab
/// takes no path here).
#[derive(Clone, Debug)]
pub struct AddProjectToAllowlist {
    project: ProjectRef,
    target: ProjectId,
    permissions: Permissions,
}

impl AddProjectToAllowlist {
    pub fn new(project: impl Into<ProjectRef>, target: ProjectId) -> Self {
        AddProjectToAllowlist {
            project: project.into(),
            target,
            permissions: Permissions::default(),
        }
    }

    /// jobscope only: the entry's fine-grained permissions.
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = permissions;
        self
    }
}

impl Endpoint for AddProjectToAllowlist {
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn path(&self) -> String {
        format!("{}/allowlist", base(&self.project))
    }
    fn body(&self) -> Option<Body> {
        self.permissions
            .apply(JsonBody::new().set("target_project_id", self.target.get()))
            .build()
    }
}

/// `POST /projects/:id/job_token_scope/groups_allowlist` with `target_group_id`.
#[derive(Clone, Debug)]
pub struct AddGroupToAllowlist {
    project: ProjectRef,
    target: NamespaceId,
    permissions: Permissions,
}

impl AddGroupToAllowlist {
    pub fn new(project: impl Into<ProjectRef>, target: NamespaceId) -> Self {
        AddGroupToAllowlist {
            project: project.into(),
            target,
            permissions: Permissions::default(),
        }
    }

    /// jobscope only: the entry's fine-grained permissions.
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = permissions;
        self
    }
}

impl Endpoint for AddGroupToAllowlist {
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn path(&self) -> String {
        format!("{}/groups_allowlist", base(&self.project))
    }
    fn body(&self) -> Option<Body> {
        self.permissions
            .apply(JsonBody::new().set("target_group_id", self.target.get()))
            .build()
    }
}

/// `DELETE /projects/:id/job_token_scope/allowlist/:target_project_id`.
#[derive(Clone, Debug)]
pub struct RemoveProjectFromAllowlist {
    project: ProjectRef,
    target: ProjectId,
}

impl RemoveProjectFromAllowlist {
    pub fn new(project: impl Into<ProjectRef>, target: ProjectId) -> Self {
        RemoveProjectFromAllowlist {
            project: project.into(),
            target,
        }
    }
}

endpoint!(RemoveProjectFromAllowlist, DELETE, |s| format!(
    "{}/allowlist/{}",
    base(&s.project),
    s.target
));

/// `DELETE /projects/:id/job_token_scope/groups_allowlist/:target_group_id`.
#[derive(Clone, Debug)]
pub struct RemoveGroupFromAllowlist {
    project: ProjectRef,
    target: NamespaceId,
}

impl RemoveGroupFromAllowlist {
    pub fn new(project: impl Into<ProjectRef>, target: NamespaceId) -> Self {
        RemoveGroupFromAllowlist {
            project: project.into(),
            target,
        }
    }
}

endpoint!(RemoveGroupFromAllowlist, DELETE, |s| format!(
    "{}/groups_allowlist/{}",
    base(&s.project),
    s.target
));

/// jobscope only: `PATCH /projects/:id/job_token_scope/allowlist/:target_project_id`.
#[derive(Clone, Debug)]
pub struct UpdateProjectEntry {
    project: ProjectRef,
    target: ProjectId,
    permissions: Permissions,
}

impl UpdateProjectEntry {
    pub fn new(
        project: impl Into<ProjectRef>,
        target: ProjectId,
        permissions: Permissions,
    ) -> Self {
        UpdateProjectEntry {
            project: project.into(),
            target,
            permissions,
        }
    }
}

endpoint!(
    UpdateProjectEntry,
    PATCH,
    |s| format!("{}/allowlist/{}", base(&s.project), s.target),
    body = |s| s.permissions.apply(JsonBody::new()).build()
);

/// jobscope only: `PATCH /projects/:id/job_token_scope/groups_allowlist/:target_group_id`.
#[derive(Clone, Debug)]
pub struct UpdateGroupEntry {
    project: ProjectRef,
    target: NamespaceId,
    permissions: Permissions,
}

impl UpdateGroupEntry {
    pub fn new(
        project: impl Into<ProjectRef>,
        target: NamespaceId,
        permissions: Permissions,
    ) -> Self {
        UpdateGroupEntry {
            project: project.into(),
            target,
            permissions,
        }
    }
}

endpoint!(
    UpdateGroupEntry,
    PATCH,
    |s| format!("{}/groups_allowlist/{}", base(&s.project), s.target),
    body = |s| s.permissions.apply(JsonBody::new()).build()
);

/// jobscope only: `GET /projects/:id/job_token_scope/auth_logs`, newest first.
#[derive(Clone, Debug)]
pub struct ListAuthLogs {
    project: ProjectRef,
}

impl ListAuthLogs {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        ListAuthLogs {
            project: project.into(),
        }
    }
}

endpoint!(ListAuthLogs, GET, |s| format!(
    "{}/auth_logs",
    base(&s.project)
));
impl Pageable for ListAuthLogs {}

/// jobscope only: `POST /projects/:id/job_token_scope/autopopulate[?dry_run=true]`.
#[derive(Clone, Debug)]
pub struct Autopopulate {
    project: ProjectRef,
    dry_run: bool,
}

impl Autopopulate {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        Autopopulate {
            project: project.into(),
            dry_run: false,
        }
    }

    /// Only say what would be added.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
}

impl Endpoint for Autopopulate {
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn path(&self) -> String {
        format!("{}/autopopulate", base(&self.project))
    }
    fn query(&self) -> Vec<(String, String)> {
        QueryPairs::new()
            .push_opt("dry_run", self.dry_run.then_some("true"))
            .build()
    }
    fn idempotent(&self) -> bool {
        // A dry run changes nothing; a real run replaces what it added before, so running it
        // twice ends in the same state.
        true
    }
}

/// jobscope only: `DELETE /projects/:id/job_token_scope/autopopulated`.
#[derive(Clone, Debug)]
pub struct ClearAutopopulated {
    project: ProjectRef,
}

impl ClearAutopopulated {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        ClearAutopopulated {
            project: project.into(),
        }
    }
}

endpoint!(ClearAutopopulated, DELETE, |s| format!(
    "{}/autopopulated",
    base(&s.project)
));

/// jobscope only: `GET /projects/:id/job_token_scope/reachable`: the projects whose
/// allowlists admit this project's job tokens.
#[derive(Clone, Debug)]
pub struct ListReachable {
    project: ProjectRef,
}

impl ListReachable {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        ListReachable {
            project: project.into(),
        }
    }
}

endpoint!(ListReachable, GET, |s| format!(
    "{}/reachable",
    base(&s.project)
));
impl Pageable for ListReachable {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_bodies() {
        let p = ProjectRef::from("acme/app.x");
        assert_eq!(
            GetScope::new(p.clone()).path(),
            "projects/acme%2Fapp%2Ex/job_token_scope"
        );
        let add = AddProjectToAllowlist::new(7, ProjectId(9)).permissions(Permissions {
            default_permissions: Some(false),
            job_token_policies: Some(vec!["read_jobs".into()]),
        });
        assert_eq!(add.path(), "projects/7/job_token_scope/allowlist");
        assert_eq!(
            add.body(),
            Some(Body::Json(serde_json::json!({
                "target_project_id": 9, "default_permissions": false,
                "job_token_policies": ["read_jobs"]})))
        );
        assert!(!add.idempotent());
        assert_eq!(
            RemoveGroupFromAllowlist::new(p, NamespaceId(4)).path(),
            "projects/acme%2Fapp%2Ex/job_token_scope/groups_allowlist/4"
        );
        assert_eq!(
            Autopopulate::new(1).dry_run(true).query(),
            vec![("dry_run".to_owned(), "true".to_owned())]
        );
        assert_eq!(
            UpdateScope::new(1, false).body(),
            Some(Body::Json(serde_json::json!({"enabled": false})))
        );
    }
}
