//! Groups, nested through `parent_id`.

use jobscope_types::{NamespaceId, NamespaceRef, Visibility};

use super::endpoint;
use crate::endpoint::{Endpoint, JsonBody, Pageable, QueryPairs};

/// `GET /groups`.
#[derive(Clone, Debug, Default)]
pub struct ListGroups {
    search: Option<String>,
    all_available: Option<bool>,
    top_level_only: Option<bool>,
}

impl ListGroups {
    pub fn new() -> Self {
        ListGroups::default()
    }

    pub fn search(mut self, s: impl Into<String>) -> Self {
        self.search = Some(s.into());
        self
    }

    /// Every group the caller can see, not only those they belong to.
    pub fn all_available(mut self, yes: bool) -> Self {
        self.all_available = Some(yes);
        self
    }

    pub fn top_level_only(mut self, yes: bool) -> Self {
        self.top_level_only = Some(yes);
        self
    }
}

impl Endpoint for ListGroups {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn path(&self) -> String {
        "groups".into()
    }
    fn query(&self) -> Vec<(String, String)> {
        QueryPairs::new()
            .push_opt("search", self.search.as_ref())
            .push_opt("all_available", self.all_available)
            .push_opt("top_level_only", self.top_level_only)
            .build()
    }
}

impl Pageable for ListGroups {}

/// `POST /groups`.
#[derive(Clone, Debug)]
pub struct CreateGroup {
    name: String,
    path: String,
    parent: Option<NamespaceId>,
    visibility: Option<Visibility>,
    description: Option<String>,
}

impl CreateGroup {
    pub fn new(name: impl Into<String>, path: impl Into<String>) -> Self {
        CreateGroup {
            name: name.into(),
            path: path.into(),
            parent: None,
            visibility: None,
            description: None,
        }
    }

    /// Make it a subgroup.
    pub fn parent(mut self, parent: NamespaceId) -> Self {
        self.parent = Some(parent);
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
    CreateGroup,
    POST,
    |_s| "groups".into(),
    body = |s| {
        JsonBody::new()
            .set("name", s.name.clone())
            .set("path", s.path.clone())
            .set_opt("parent_id", s.parent.map(|p| p.get()))
            .set_opt("visibility", s.visibility.map(|v| v.as_str()))
            .set_opt("description", s.description.clone())
            .build()
    }
);

/// `GET /groups/:id` (id or full path).
#[derive(Clone, Debug)]
pub struct GetGroup {
    group: NamespaceRef,
}

impl GetGroup {
    pub fn new(group: impl Into<NamespaceRef>) -> Self {
        GetGroup {
            group: group.into(),
        }
    }
}

endpoint!(
    GetGroup,
    GET,
    |s| format!("groups/{}", s.group.to_segment()),
    query = |_s| vec![("with_projects".into(), "false".into())]
);

/// `DELETE /groups/:id`.
#[derive(Clone, Debug)]
pub struct DeleteGroup {
    group: NamespaceRef,
}

impl DeleteGroup {
    pub fn new(group: impl Into<NamespaceRef>) -> Self {
        DeleteGroup {
            group: group.into(),
        }
    }
}

endpoint!(DeleteGroup, DELETE, |s| format!(
    "groups/{}",
    s.group.to_segment()
));

/// `GET /groups/:id/subgroups` (direct children).
#[derive(Clone, Debug)]
pub struct ListSubgroups {
    group: NamespaceRef,
}

impl ListSubgroups {
    pub fn new(group: impl Into<NamespaceRef>) -> Self {
        ListSubgroups {
            group: group.into(),
        }
    }
}

endpoint!(ListSubgroups, GET, |s| format!(
    "groups/{}/subgroups",
    s.group.to_segment()
));
impl Pageable for ListSubgroups {}

/// `GET /groups/:id/projects`.
#[derive(Clone, Debug)]
pub struct ListGroupProjects {
    group: NamespaceRef,
    include_subgroups: bool,
}

impl ListGroupProjects {
    pub fn new(group: impl Into<NamespaceRef>) -> Self {
        ListGroupProjects {
            group: group.into(),
            include_subgroups: false,
        }
    }

    pub fn include_subgroups(mut self, yes: bool) -> Self {
        self.include_subgroups = yes;
        self
    }
}

endpoint!(
    ListGroupProjects,
    GET,
    |s| format!("groups/{}/projects", s.group.to_segment()),
    query = |s| QueryPairs::new()
        .push_opt("include_subgroups", s.include_subgroups.then_some(true))
        .build()
);
impl Pageable for ListGroupProjects {}
