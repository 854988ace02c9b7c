//! Projects.

use jobscope_types::{NamespaceId, ProjectRef, UserId, Visibility};

use super::endpoint;
use crate::endpoint::{Endpoint, JsonBody, Pageable, QueryPairs};

/// `GET /projects`.
#[derive(Clone, Debug, Default)]
pub struct ListProjects {
    search: Option<String>,
    membership: Option<bool>,
    owned: Option<bool>,
}

impl ListProjects {
    pub fn new() -> Self {
        ListProjects::default()
    }

    pub fn search(mut self, s: impl Into<String>) -> Self {
        self.search = Some(s.into());
        self
    }

    /// Only projects the caller is a member of.
    pub fn membership(mut self, yes: bool) -> Self {
        self.membership = Some(yes);
        self
    }

    pub fn owned(mut self, yes: bool) -> Self {
        self.owned = Some(yes);
        self
    }
}

impl Endpoint for ListProjects {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn path(&self) -> String {
        "projects".into()
    }
    fn query(&self) -> Vec<(String, String)> {
        QueryPairs::new()
            .push_opt("search", self.search.as_ref())
            .push_opt("membership", self.membership)
            .push_opt("owned", self.owned)
            .build()
    }
}

impl Pageable for ListProjects {}

/// `POST /projects` (or `POST /projects/user/:user_id` for an administrator creating a
/// project for someone).
#[derive(Clone, Debug)]
pub struct CreateProject {
    name: String,
    path: Option<String>,
    namespace: Option<NamespaceId>,
    for_user: Option<UserId>,
    visibility: Option<Visibility>,
    description: Option<String>,
}

impl CreateProject {
    pub fn new(name: impl Into<String>) -> Self {
        CreateProject {
            name: name.into(),
            path: None,
            namespace: None,
            for_user: None,
            visibility: None,
            description: None,
        }
    }

    pub fn path(mut self, p: impl Into<String>) -> Self {
        self.path = Some(p.into());
        self
    }

    /// The group (or personal namespace) to create it in; the caller's own by default.
    pub fn namespace(mut self, ns: NamespaceId) -> Self {
        self.namespace = Some(ns);
        self
    }

    /// Create it in this user's personal namespace (administrators).
    pub fn for_user(mut self, user: UserId) -> Self {
        self.for_user = Some(user);
        self
    }

    pub fn visibility(mut self, v: Visibility) -> Self {
        self.visibility = Some(v);
        self
    }

    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
}

endpoint!(
    CreateProject,
    POST,
    |s| match s.for_user {
        Some(u) => format!("projects/user/{u}"),
        None => "projects".into(),
    },
    body = |s| JsonBody::new()
        .set("name", s.name.clone())
        .set_opt("path", s.path.clone())
        .set_opt("namespace_id", s.namespace.map(|n| n.get()))
        .set_opt("visibility", s.visibility.map(|v| v.as_str()))
        .set_opt("description", s.description.clone())
        .build()
);

/// `GET /projects/:id` (id or full path).
#[derive(Clone, Debug)]
pub struct GetProject {
    project: ProjectRef,
}

impl GetProject {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        GetProject {
            project: project.into(),
        }
    }
}

endpoint!(GetProject, GET, |s| format!(
    "projects/{}",
    s.project.to_segment()
));

/// `DELETE /projects/:id`.
#[derive(Clone, Debug)]
pub struct DeleteProject {
    project: ProjectRef,
}

impl DeleteProject {
    pub fn new(project: impl Into<ProjectRef>) -> Self {
        DeleteProject {
            project: project.into(),
        }
    }
}

endpoint!(DeleteProject, DELETE, |s| format!(
    "projects/{}",
    s.project.to_segment()
));
