//! The typed, ergonomic layer: `client.project("acme/app").job_token_scope().projects().add(…)`.
//!
//! Handles take projects and groups by id or full path, and do what a careful script would:
//! changing the scope answers the fresh state (PATCH, then GET, since GitLab's PATCH answers
//! `204` with no body), paths are resolved to the ids GitLab's POST and DELETE require, lists
//! come whole, and against GitLab the operations its REST API lacks go through its GraphQL API.

use futures::stream::BoxStream;
use http::StatusCode;
use jobscope_types::api::{
    AllowlistEntry, AllowlistGroup, AllowlistGroupCreated, AllowlistProject,
    AllowlistProjectCreated, ApplicationSettings, AuditEvent, AuthLog, Autopopulation, CiJob,
    Group, JobTokenDecision, JobTokenScope, Member, PersonalAccessToken, Project, ReachableProject,
    User, Version,
};
use jobscope_types::{
    AccessLevel, JobId, NamespaceId, NamespaceRef, ProjectId, ProjectRef, UserId,
};
use serde::Deserialize;

use crate::client::{Client, Flavor};
use crate::endpoint::{Endpoint, Pageable};
use crate::endpoints::ci::{Allowed, CreateJob, CurrentJob, FinishJob, GetJob, JobOutcome};
use crate::endpoints::groups::{DeleteGroup, GetGroup, ListGroupProjects, ListSubgroups};
use crate::endpoints::members::{
    AddMember, GetMember, ListMembers, MemberSource, RemoveMember, UpdateMember,
};
use crate::endpoints::meta::{CurrentUser, GetVersion};
use crate::endpoints::projects::{DeleteProject, GetProject};
use crate::endpoints::scope::*;
use crate::endpoints::settings::{GetSettings, UpdateSettings};
use crate::endpoints::tokens::{
    CreatePersonalAccessToken, GetPersonalAccessToken, ListPersonalAccessTokens,
    RevokePersonalAccessToken, RotatePersonalAccessToken, TokenRef,
};
use crate::endpoints::users::{
    ChangeUserState, CreateUser, DeleteUser, GetUser, ListUsers, UserAction,
};
use crate::entry::{AuthLogEntry, AutopopulateOutcome, Entry, Target, TargetRef};
use crate::error::{Error, Result};
use crate::gitlab;

impl Client {
    /// A project, by id or full path.
    pub fn project(&self, project: impl Into<ProjectRef>) -> ProjectHandle {
        ProjectHandle {
            client: self.clone(),
            project: project.into(),
        }
    }

    /// A group, by id or full path.
    pub fn group(&self, group: impl Into<NamespaceRef>) -> GroupHandle {
        GroupHandle {
            client: self.clone(),
            group: group.into(),
        }
    }

    /// Users (administrators).
    pub fn users(&self) -> Users {
        Users {
            client: self.clone(),
        }
    }

    /// Personal access tokens.
    pub fn tokens(&self) -> Tokens {
        Tokens {
            client: self.clone(),
        }
    }

    /// CI jobs and the access decision (jobscope only, but `current_job`).
    pub fn ci(&self) -> Ci {
        Ci {
            client: self.clone(),
        }
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<Version> {
        self.query(&GetVersion).await
    }

    /// `GET /user`: who the credentials belong to.
    pub async fn current_user(&self) -> Result<User> {
        self.query(&CurrentUser).await
    }

    /// `GET /application/settings` (administrators).
    pub async fn settings(&self) -> Result<ApplicationSettings> {
        self.query(&GetSettings).await
    }

    /// `PUT /application/settings` (administrators); answers the new settings.
    pub async fn update_settings(&self, update: &UpdateSettings) -> Result<ApplicationSettings> {
        self.query(update).await
    }
}

#[derive(Deserialize)]
struct ProjectIdent {
    id: ProjectId,
    path_with_namespace: String,
}

#[derive(Deserialize)]
struct GroupIdent {
    id: NamespaceId,
    full_path: String,
}

/// A project's id and full path, from `GET /projects/:id`.
async fn resolve_project(client: &Client, project: &ProjectRef) -> Result<(ProjectId, String)> {
    let p: ProjectIdent = client.query(&GetProject::new(project.clone())).await?;
    Ok((p.id, p.path_with_namespace))
}

/// A group's id and full path, from `GET /groups/:id`.
async fn resolve_group(client: &Client, group: &NamespaceRef) -> Result<(NamespaceId, String)> {
    let g: GroupIdent = client.query(&GetGroup::new(group.clone())).await?;
    Ok((g.id, g.full_path))
}

/// A project id, without a request when the reference already is one.
async fn project_id(client: &Client, project: &ProjectRef) -> Result<ProjectId> {
    match project {
        ProjectRef::Id(id) => Ok(*id),
        ProjectRef::Path(_) => Ok(resolve_project(client, project).await?.0),
    }
}

async fn group_id(client: &Client, group: &NamespaceRef) -> Result<NamespaceId> {
    match group {
        NamespaceRef::Id(id) => Ok(*id),
        NamespaceRef::Path(_) => Ok(resolve_group(client, group).await?.0),
    }
}

/// A group's full path from its `web_url` (list items carry no path): the URL after the host
/// and GitLab's `/groups/` prefix.
fn group_path_from_url(client: &Client, web_url: &str, fallback: &str) -> String {
    let host = client.host_url();
    let rest = web_url.strip_prefix(&host).unwrap_or_else(|| {
        // Another host name (a server behind a proxy): drop scheme and authority.
        web_url
            .split_once("://")
            .and_then(|(_, r)| r.split_once('/'))
            .map(|(_, r)| r)
            .unwrap_or("")
    });
    let rest = rest.trim_start_matches('/');
    let rest = rest.strip_prefix("groups/").unwrap_or(rest);
    if rest.is_empty() {
        fallback.to_owned()
    } else {
        rest.trim_end_matches('/').to_owned()
    }
}

/// One project.
#[derive(Clone, Debug)]
pub struct ProjectHandle {
    client: Client,
    project: ProjectRef,
}

impl ProjectHandle {
    pub fn reference(&self) -> &ProjectRef {
        &self.project
    }

    /// `GET /projects/:id`.
    pub async fn get(&self) -> Result<Project> {
        self.client
            .query(&GetProject::new(self.project.clone()))
            .await
    }

    /// The project's id (asks the server when it was given by path).
    pub async fn id(&self) -> Result<ProjectId> {
        project_id(&self.client, &self.project).await
    }

    /// The project's id and full path.
    pub async fn resolve(&self) -> Result<(ProjectId, String)> {
        resolve_project(&self.client, &self.project).await
    }

    /// `DELETE /projects/:id`.
    pub async fn delete(&self) -> Result<()> {
        self.client
            .ignore(&DeleteProject::new(self.project.clone()))
            .await
    }

    /// The project's members.
    pub fn members(&self) -> Members {
        Members {
            client: self.client.clone(),
            source: MemberSource::Project(self.project.clone()),
        }
    }

    /// The project's audit events, newest first.
    pub fn audit_events(&self) -> BoxStream<'static, Result<AuditEvent>> {
        self.client.paged(
            &crate::endpoints::audit_events::ListProjectAuditEvents::new(self.project.clone()),
        )
    }

    /// The project's CI/CD job token scope: the setting and both allowlists.
    pub fn job_token_scope(&self) -> Scope {
        Scope {
            client: self.client.clone(),
            project: self.project.clone(),
        }
    }
}

/// A project's job token scope.
#[derive(Clone, Debug)]
pub struct Scope {
    client: Client,
    project: ProjectRef,
}

impl Scope {
    /// `GET …/job_token_scope`: whether access to the project is limited (`inbound_enabled`,
    /// instance enforcement included).
    pub async fn get(&self) -> Result<JobTokenScope> {
        self.client
            .query(&GetScope::new(self.project.clone()))
            .await
    }

    /// Turns "limit access to this project" on or off and answers the state the server then
    /// reports (`PATCH` answers nothing, so a `GET` follows). With the instance setting that
    /// enforces every allowlist, `enabled: false` still reads back `inbound_enabled: true`.
    pub async fn set_enabled(&self, enabled: bool) -> Result<JobTokenScope> {
        self.client
            .ignore(&UpdateScope::new(self.project.clone(), enabled))
            .await?;
        self.get().await
    }

    /// The project allowlist.
    pub fn projects(&self) -> ProjectAllowlist {
        Allowlist::new(self.clone())
    }

    /// The group allowlist.
    pub fn groups(&self) -> GroupAllowlist {
        Allowlist::new(self.clone())
    }

    async fn flavor(&self) -> Result<Flavor> {
        self.client.flavor().await
    }

    /// Every entry of both allowlists with its permissions (the project itself, which GitLab
    /// lists in its own project allowlist, is not an entry and is left out). From jobscope's
    /// REST lists, or GitLab's GraphQL allowlist query (falling back to its REST lists, with
    /// default permissions, on a GitLab too old to have one).
    pub async fn entries(&self) -> Result<Vec<Entry>> {
        let flavor = self.flavor().await?;
        if !flavor.is_jobscope() {
            let (_, path) = resolve_project(&self.client, &self.project).await?;
            match gitlab::entries(&self.client, &path).await {
                Ok(entries) => return Ok(entries),
                Err(Error::GraphQl { messages })
                    if messages.iter().any(|m| m.contains("doesn't exist on type")) =>
                {
                    tracing::debug!("GitLab has no allowlist GraphQL query; using REST");
                }
                Err(e) => return Err(e),
            }
        }
        let (self_id, self_path) = match &self.project {
            ProjectRef::Id(id) => (Some(*id), None),
            ProjectRef::Path(p) => (None, Some(p.to_ascii_lowercase())),
        };
        let projects: Vec<AllowlistProject> = self.projects().list().await?;
        let groups: Vec<AllowlistGroup> = self.groups().list().await?;
        let mut out = Vec::new();
        for p in projects {
            let is_self = Some(p.project.id) == self_id
                || self_path.as_deref()
                    == Some(p.project.path_with_namespace.to_ascii_lowercase().as_str());
            if is_self {
                continue;
            }
            out.push(Entry {
                target: Target::Project(p.project.id),
                path: p.project.path_with_namespace,
                web_url: Some(p.project.web_url),
                default_permissions: p.entry.default_permissions,
                job_token_policies: p.entry.job_token_policies,
                autopopulated: p.entry.autopopulated,
                added_by: p.entry.added_by.map(|u| u.username),
                added_at: p.entry.added_at,
            });
        }
        for g in groups {
            out.push(Entry {
                target: Target::Group(g.group.id),
                path: group_path_from_url(&self.client, &g.group.web_url, &g.group.name),
                web_url: Some(g.group.web_url),
                default_permissions: g.entry.default_permissions,
                job_token_policies: g.entry.job_token_policies,
                autopopulated: g.entry.autopopulated,
                added_by: g.entry.added_by.map(|u| u.username),
                added_at: g.entry.added_at,
            });
        }
        Ok(out)
    }

    /// The authentication log: which projects' job tokens reached this one, newest first.
    pub async fn auth_log(&self) -> Result<Vec<AuthLogEntry>> {
        if !self.flavor().await?.is_jobscope() {
            let (_, path) = resolve_project(&self.client, &self.project).await?;
            return gitlab::auth_log(&self.client, &path).await;
        }
        let rows: Vec<AuthLog> = self
            .client
            .all(&ListAuthLogs::new(self.project.clone()))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuthLogEntry {
                origin_project_id: r.origin_project.id,
                origin_project_path: r.origin_project.path_with_namespace,
                last_authorized_at: r.last_authorized_at,
                job_token_policies: r.job_token_policies,
            })
            .collect())
    }

    /// Adds the projects of the authentication log to the allowlist (compacted into groups
    /// when they do not fit), replacing earlier autopopulated entries; with `dry_run`, only
    /// says what it would add (jobscope only: GitLab's mutation has no dry run).
    pub async fn autopopulate(&self, dry_run: bool) -> Result<AutopopulateOutcome> {
        let flavor = self.flavor().await?;
        if flavor.is_jobscope() {
            let a: Autopopulation = self
                .client
                .query(&Autopopulate::new(self.project.clone()).dry_run(dry_run))
                .await?;
            let mut added: Vec<TargetRef> = a
                .projects
                .into_iter()
                .map(|p| TargetRef {
                    target: Target::Project(p.id),
                    path: p.path_with_namespace,
                })
                .collect();
            added.extend(a.groups.into_iter().map(|g| TargetRef {
                target: Target::Group(g.id),
                path: group_path_from_url(&self.client, &g.web_url, &g.name),
            }));
            return Ok(AutopopulateOutcome {
                dry_run: a.dry_run,
                added,
                replaced: Some(a.replaced),
                inbound_enabled: a.inbound_enabled,
            });
        }
        if dry_run {
            return Err(Error::unsupported(
                "a dry run of autopopulation",
                flavor.describe(),
                "GitLab's ciJobTokenScopeAutopopulateAllowlist mutation has no dry run",
            ));
        }
        let (_, path) = resolve_project(&self.client, &self.project).await?;
        gitlab::autopopulate(&self.client, &path).await?;
        let added = self
            .entries()
            .await?
            .into_iter()
            .filter(|e| e.autopopulated)
            .map(|e| TargetRef {
                target: e.target,
                path: e.path,
            })
            .collect();
        Ok(AutopopulateOutcome {
            dry_run: false,
            added,
            replaced: None,
            inbound_enabled: self.get().await?.inbound_enabled,
        })
    }

    /// Removes every entry autopopulation added.
    pub async fn clear_autopopulated(&self) -> Result<()> {
        if self.flavor().await?.is_jobscope() {
            return self
                .client
                .ignore(&ClearAutopopulated::new(self.project.clone()))
                .await;
        }
        let (_, path) = resolve_project(&self.client, &self.project).await?;
        gitlab::clear_autopopulated(&self.client, &path).await
    }

    /// The projects whose allowlists admit this project's job tokens (jobscope only; GitLab
    /// has no reverse lookup, its issue 452263).
    pub async fn reachable(&self) -> Result<Vec<ReachableProject>> {
        let flavor = self.flavor().await?;
        if !flavor.is_jobscope() {
            return Err(Error::unsupported(
                "the reverse lookup (which allowlists admit a project)",
                flavor.describe(),
                "GitLab has no such API (gitlab-org/gitlab#452263)",
            ));
        }
        self.client
            .all(&ListReachable::new(self.project.clone()))
            .await
    }
}

/// Converts jobscope's PATCH answer, with the target's path.
fn entry_from(e: AllowlistEntry, path: String, added_by: Option<String>) -> Entry {
    use crate::entry::AllowlistItem;
    Entry {
        target: e.target(),
        path,
        web_url: None,
        default_permissions: e.default_permissions,
        job_token_policies: e.job_token_policies,
        autopopulated: e.autopopulated,
        added_by,
        added_at: Some(e.created_at),
    }
}

/// Fills what a partial permission change leaves out from the entry as it is (GitLab's
/// mutation needs both values).
fn complete(permissions: &Permissions, current: Option<&Entry>) -> (bool, Vec<String>) {
    let default_permissions = permissions
        .default_permissions
        .or(current.map(|e| e.default_permissions))
        .unwrap_or(true);
    let policies = permissions
        .job_token_policies
        .clone()
        .or(current.map(|e| e.job_token_policies.clone()))
        .unwrap_or_default();
    (default_permissions, policies)
}

/// What tells the two allowlists apart: how targets are named, resolved and sent.
pub trait AllowlistKind: Send + Sync + 'static {
    /// How a caller names a target (`ProjectRef`, `NamespaceRef`).
    type Ref: Clone + Send + Sync;
    /// A target's id (`ProjectId`, `NamespaceId`).
    type Id: Copy + Send + Sync;
    /// An item of GitLab's list.
    type Listed: serde::de::DeserializeOwned + Send + 'static;
    /// GitLab's `201` answer.
    type Created: serde::de::DeserializeOwned;

    fn target(id: Self::Id) -> Target;
    fn resolve(
        client: &Client,
        target: &Self::Ref,
    ) -> impl std::future::Future<Output = Result<(Self::Id, String)>> + Send;
    fn id(
        client: &Client,
        target: &Self::Ref,
    ) -> impl std::future::Future<Output = Result<Self::Id>> + Send;
    fn list(project: ProjectRef) -> impl Pageable + 'static;
    fn add(source: ProjectId, target: Self::Id, permissions: Permissions) -> impl Endpoint;
    fn remove(source: ProjectId, target: Self::Id) -> impl Endpoint;
    fn update(project: ProjectRef, target: Self::Id, permissions: Permissions) -> impl Endpoint;
}

/// The project allowlist's kind.
#[derive(Clone, Copy, Debug)]
pub enum Projects {}

impl AllowlistKind for Projects {
    type Ref = ProjectRef;
    type Id = ProjectId;
    type Listed = AllowlistProject;
    type Created = AllowlistProjectCreated;

    fn target(id: ProjectId) -> Target {
        Target::Project(id)
    }
    async fn resolve(client: &Client, target: &ProjectRef) -> Result<(ProjectId, String)> {
        resolve_project(client, target).await
    }
    async fn id(client: &Client, target: &ProjectRef) -> Result<ProjectId> {
        project_id(client, target).await
    }
    fn list(project: ProjectRef) -> impl Pageable + 'static {
        ListProjectAllowlist::new(project)
    }
    fn add(source: ProjectId, target: ProjectId, permissions: Permissions) -> impl Endpoint {
        AddProjectToAllowlist::new(source, target).permissions(permissions)
    }
    fn remove(source: ProjectId, target: ProjectId) -> impl Endpoint {
        RemoveProjectFromAllowlist::new(source, target)
    }
    fn update(project: ProjectRef, target: ProjectId, permissions: Permissions) -> impl Endpoint {
        UpdateProjectEntry::new(project, target, permissions)
    }
}

/// The group allowlist's kind.
#[derive(Clone, Copy, Debug)]
pub enum Groups {}

impl AllowlistKind for Groups {
    type Ref = NamespaceRef;
    type Id = NamespaceId;
    type Listed = AllowlistGroup;
    type Created = AllowlistGroupCreated;

    fn target(id: NamespaceId) -> Target {
        Target::Group(id)
    }
    async fn resolve(client: &Client, target: &NamespaceRef) -> Result<(NamespaceId, String)> {
        resolve_group(client, target).await
    }
    async fn id(client: &Client, target: &NamespaceRef) -> Result<NamespaceId> {
        group_id(client, target).await
    }
    fn list(project: ProjectRef) -> impl Pageable + 'static {
        ListGroupAllowlist::new(project)
    }
    fn add(source: ProjectId, target: NamespaceId, permissions: Permissions) -> impl Endpoint {
        AddGroupToAllowlist::new(source, target).permissions(permissions)
    }
    fn remove(source: ProjectId, target: NamespaceId) -> impl Endpoint {
        RemoveGroupFromAllowlist::new(source, target)
    }
    fn update(project: ProjectRef, target: NamespaceId, permissions: Permissions) -> impl Endpoint {
        UpdateGroupEntry::new(project, target, permissions)
    }
}

/// One of a project's two allowlists: [`ProjectAllowlist`] or [`GroupAllowlist`].
#[derive(Clone, Debug)]
pub struct Allowlist<K> {
    scope: Scope,
    kind: std::marker::PhantomData<K>,
}

/// A project's project allowlist: targets are projects, by id or path.
pub type ProjectAllowlist = Allowlist<Projects>;

/// A project's group allowlist: targets are groups (their projects and subgroups' projects).
pub type GroupAllowlist = Allowlist<Groups>;

impl<K: AllowlistKind> Allowlist<K> {
    fn new(scope: Scope) -> Self {
        Allowlist {
            scope,
            kind: std::marker::PhantomData,
        }
    }

    fn client(&self) -> &Client {
        &self.scope.client
    }

    /// GitLab takes only a numeric `:id` on the allowlists' POST and DELETE.
    async fn source_id(&self) -> Result<ProjectId> {
        project_id(self.client(), &self.scope.project).await
    }

    /// GitLab's list, page by page (the project allowlist includes the project itself, as
    /// GitLab lists it).
    pub fn stream(&self) -> BoxStream<'static, Result<K::Listed>> {
        self.client().paged(&K::list(self.scope.project.clone()))
    }

    /// GitLab's list, every page.
    pub async fn list(&self) -> Result<Vec<K::Listed>> {
        self.client()
            .all(&K::list(self.scope.project.clone()))
            .await
    }

    /// Adds a target (by id or path) with default permissions.
    pub async fn add(&self, target: impl Into<K::Ref>) -> Result<K::Created> {
        self.add_with(target, Permissions::default()).await
    }

    /// Adds a target with fine-grained permissions: one request to jobscope; against GitLab,
    /// its REST POST and then its GraphQL policy mutation.
    pub async fn add_with(
        &self,
        target: impl Into<K::Ref>,
        permissions: Permissions,
    ) -> Result<K::Created> {
        let target = target.into();
        let source = self.source_id().await?;
        if permissions.is_empty() || self.scope.flavor().await?.is_jobscope() {
            let target_id = K::id(self.client(), &target).await?;
            return self
                .client()
                .query(&K::add(source, target_id, permissions))
                .await;
        }
        let (target_id, target_path) = K::resolve(self.client(), &target).await?;
        let created: K::Created = self
            .client()
            .query(&K::add(source, target_id, Permissions::default()))
            .await?;
        gitlab_update(
            &self.scope,
            K::target(target_id),
            &target_path,
            &permissions,
        )
        .await?;
        Ok(created)
    }

    /// Removes a target (by id or path).
    pub async fn remove(&self, target: impl Into<K::Ref>) -> Result<()> {
        let target_id = K::id(self.client(), &target.into()).await?;
        let source = self.source_id().await?;
        self.client().ignore(&K::remove(source, target_id)).await
    }

    /// Changes an entry's permissions (what is not set stays as it is) and answers the entry.
    pub async fn update(
        &self,
        target: impl Into<K::Ref>,
        permissions: Permissions,
    ) -> Result<Entry> {
        let (target_id, target_path) = K::resolve(self.client(), &target.into()).await?;
        if self.scope.flavor().await?.is_jobscope() {
            let e: AllowlistEntry = self
                .client()
                .query(&K::update(
                    self.scope.project.clone(),
                    target_id,
                    permissions,
                ))
                .await?;
            return Ok(entry_from(e, target_path, None));
        }
        gitlab_update(
            &self.scope,
            K::target(target_id),
            &target_path,
            &permissions,
        )
        .await
    }
}

/// Changes an entry's permissions on GitLab (its GraphQL mutation needs both values, so a
/// partial change first reads the entry) and reads the entry back.
async fn gitlab_update(
    scope: &Scope,
    target: Target,
    target_path: &str,
    permissions: &Permissions,
) -> Result<Entry> {
    let (_, project_path) = resolve_project(&scope.client, &scope.project).await?;
    let partial =
        permissions.default_permissions.is_none() || permissions.job_token_policies.is_none();
    let current = if partial {
        gitlab::entries(&scope.client, &project_path).await?
    } else {
        Vec::new()
    };
    let (default_permissions, policies) =
        complete(permissions, current.iter().find(|e| e.target == target));
    gitlab::update_policies(
        &scope.client,
        &project_path,
        target_path,
        default_permissions,
        &policies,
    )
    .await?;
    gitlab::entries(&scope.client, &project_path)
        .await?
        .into_iter()
        .find(|e| e.target == target)
        .ok_or_else(|| {
            Error::decode(
                "GitLab GraphQL",
                format!("{target} is not in the allowlist"),
            )
        })
}

/// One group.
#[derive(Clone, Debug)]
pub struct GroupHandle {
    client: Client,
    group: NamespaceRef,
}

impl GroupHandle {
    pub fn reference(&self) -> &NamespaceRef {
        &self.group
    }

    /// `GET /groups/:id` (without its projects).
    pub async fn get(&self) -> Result<Group> {
        self.client.query(&GetGroup::new(self.group.clone())).await
    }

    /// The group's id (asks the server when it was given by path).
    pub async fn id(&self) -> Result<NamespaceId> {
        group_id(&self.client, &self.group).await
    }

    /// The group's id and full path.
    pub async fn resolve(&self) -> Result<(NamespaceId, String)> {
        resolve_group(&self.client, &self.group).await
    }

    /// `DELETE /groups/:id` (its subgroups and projects go with it).
    pub async fn delete(&self) -> Result<()> {
        self.client
            .ignore(&DeleteGroup::new(self.group.clone()))
            .await
    }

    /// Direct subgroups.
    pub async fn subgroups(&self) -> Result<Vec<Group>> {
        self.client
            .all(&ListSubgroups::new(self.group.clone()))
            .await
    }

    /// The group's projects (with `include_subgroups`, those of every subgroup too).
    pub async fn projects(&self, include_subgroups: bool) -> Result<Vec<Project>> {
        self.client
            .all(&ListGroupProjects::new(self.group.clone()).include_subgroups(include_subgroups))
            .await
    }

    pub fn members(&self) -> Members {
        Members {
            client: self.client.clone(),
            source: MemberSource::Group(self.group.clone()),
        }
    }
}

/// A project's or group's members.
#[derive(Clone, Debug)]
pub struct Members {
    client: Client,
    source: MemberSource,
}

impl Members {
    /// Direct members, or with `inherited` also those of the groups above.
    pub async fn list(&self, inherited: bool) -> Result<Vec<Member>> {
        self.client
            .all(&ListMembers::new(self.source.clone()).inherited(inherited))
            .await
    }

    /// One direct member (`404` when the user is not one).
    pub async fn get(&self, user: UserId) -> Result<Member> {
        self.client
            .query(&GetMember::new(self.source.clone(), user))
            .await
    }

    pub async fn add(&self, user: UserId, level: AccessLevel) -> Result<Member> {
        self.client
            .query(&AddMember::new(self.source.clone(), user, level))
            .await
    }

    pub async fn update(&self, user: UserId, level: AccessLevel) -> Result<Member> {
        self.client
            .query(&UpdateMember::new(self.source.clone(), user, level))
            .await
    }

    pub async fn remove(&self, user: UserId) -> Result<()> {
        self.client
            .ignore(&RemoveMember::new(self.source.clone(), user))
            .await
    }
}

/// Users (administrators).
#[derive(Clone, Debug)]
pub struct Users {
    client: Client,
}

impl Users {
    pub async fn list(&self, query: &ListUsers) -> Result<Vec<User>> {
        self.client.all(query).await
    }

    pub async fn create(&self, user: &CreateUser) -> Result<User> {
        self.client.query(user).await
    }

    pub async fn get(&self, id: UserId) -> Result<User> {
        self.client.query(&GetUser::new(id)).await
    }

    /// The user with exactly this username (`None` when there is none).
    pub async fn by_username(&self, username: &str) -> Result<Option<User>> {
        let found: Vec<User> = self
            .client
            .all(&ListUsers::new().username(username))
            .await?;
        Ok(found
            .into_iter()
            .find(|u| u.username.eq_ignore_ascii_case(username)))
    }

    /// A user by id (digits) or username.
    pub async fn find(&self, who: &str) -> Result<User> {
        if let Ok(id) = who.parse::<i64>() {
            return self.get(UserId(id)).await;
        }
        self.by_username(who).await?.ok_or_else(|| Error::Api {
            status: StatusCode::NOT_FOUND,
            message: format!("404 User Not Found ({who})"),
            body: None,
            retry_after: None,
        })
    }

    /// Blocks, unblocks, deactivates or activates a user.
    pub async fn change_state(&self, id: UserId, action: UserAction) -> Result<()> {
        self.client.ignore(&ChangeUserState::new(id, action)).await
    }

    pub async fn delete(&self, id: UserId) -> Result<()> {
        self.client.ignore(&DeleteUser::new(id)).await
    }
}

/// Personal access tokens.
#[derive(Clone, Debug)]
pub struct Tokens {
    client: Client,
}

impl Tokens {
    /// Creates a token for a user (administrators); the answer carries it, once.
    pub async fn create(&self, token: &CreatePersonalAccessToken) -> Result<PersonalAccessToken> {
        self.client.query(token).await
    }

    pub async fn list(&self, query: &ListPersonalAccessTokens) -> Result<Vec<PersonalAccessToken>> {
        self.client.all(query).await
    }

    pub async fn get(&self, token: TokenRef) -> Result<PersonalAccessToken> {
        self.client.query(&GetPersonalAccessToken::new(token)).await
    }

    pub async fn revoke(&self, token: TokenRef) -> Result<()> {
        self.client
            .ignore(&RevokePersonalAccessToken::new(token))
            .await
    }

    /// Revokes the token and answers its replacement (with the new secret, once).
    pub async fn rotate(&self, token: &RotatePersonalAccessToken) -> Result<PersonalAccessToken> {
        self.client.query(token).await
    }
}

/// The answer of the decision endpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Allowed, with the entry that admitted the job.
    Allowed(Box<JobTokenDecision>),
    /// Refused, with the server's status and GitLab's message (`403 Forbidden - Authentication
    /// by CI/CD job token not allowed from … to ….`, `404 Project Not Found`, …).
    Denied { status: StatusCode, message: String },
}

/// CI jobs and the decision endpoint.
#[derive(Clone, Debug)]
pub struct Ci {
    client: Client,
}

impl Ci {
    /// jobscope only: a job starts in `project` as `user`; the answer carries its token.
    pub async fn create_job(&self, job: &CreateJob) -> Result<CiJob> {
        self.client.query(job).await
    }

    /// jobscope only.
    pub async fn job(&self, id: JobId) -> Result<CiJob> {
        self.client.query(&GetJob::new(id)).await
    }

    /// jobscope only: the job ends; its token stops working at once.
    pub async fn finish_job(&self, id: JobId, outcome: JobOutcome) -> Result<CiJob> {
        self.client.query(&FinishJob::new(id, outcome)).await
    }

    /// `GET /job` with a job token: the token's own job (GitLab's Job entity).
    pub async fn current_job(&self) -> Result<serde_json::Value> {
        self.client.query(&CurrentJob).await
    }

    /// jobscope only: may this client's job token reach `project` (and use `policy`)?
    pub async fn allowed(
        &self,
        project: impl Into<ProjectRef>,
        policy: Option<&str>,
    ) -> Result<Decision> {
        let mut endpoint = Allowed::new(project);
        if let Some(p) = policy {
            endpoint = endpoint.policy(p);
        }
        match self.client.query::<JobTokenDecision>(&endpoint).await {
            Ok(d) => Ok(Decision::Allowed(Box::new(d))),
            Err(Error::Api {
                status, message, ..
            }) if status == StatusCode::FORBIDDEN
                || (status == StatusCode::NOT_FOUND && message.contains("Project Not Found")) =>
            {
                Ok(Decision::Denied { status, message })
            }
            Err(Error::Api { status, .. }) if status == StatusCode::NOT_FOUND => {
                Err(Error::unsupported(
                    "the decision endpoint (GET /job_token/allowed)",
                    self.client.host_url(),
                    "the server has no such route; it is jobscope's, GitLab has none",
                ))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_paths_from_urls() {
        let c = Client::builder("https://g.example/gitlab")
            .transport(crate::mock::MockTransport::new())
            .build()
            .unwrap();
        assert_eq!(
            group_path_from_url(&c, "https://g.example/gitlab/groups/acme/sub", "sub"),
            "acme/sub"
        );
        assert_eq!(
            group_path_from_url(&c, "http://other:8080/groups/acme", "acme"),
            "acme"
        );
        assert_eq!(group_path_from_url(&c, "", "name"), "name");
    }
}
