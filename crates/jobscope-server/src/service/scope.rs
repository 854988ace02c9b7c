//! The CI/CD job token scope of a project: its "limit access to this project" setting and
//! its allowlists of projects and groups (GitLab's eight job token scope endpoints, and
//! jobscope's REST for fine-grained policies). Every change writes its audit event in the
//! same transaction.

use jobscope_store::{
    Conflict, GROUP_LINK_LIMIT, GroupLink, LinkDirection, Namespace, NewLink, PROJECT_LINK_LIMIT,
    PageRequest, Paged, Project, ProjectLink, StoreError,
};
use jobscope_types::api::{AllowlistGroupCreated, AllowlistProjectCreated, JobTokenScope};
use jobscope_types::{NamespaceId, ProjectId};

use super::audit::{self, Author, Target};
use crate::access::{self, AdminProject};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const MSG_TARGET_PROJECT_UNAUTHORIZED: &str = "The target_project that you are attempting to access does not exist or you don't have permission to perform this action";
pub const MSG_INSUFFICIENT_PERMISSIONS: &str =
    "Insufficient permissions to modify the job token scope";

/// Fine-grained permissions requested for a new or changed entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    pub default_permissions: bool,
    pub job_token_policies: Vec<String>,
}

impl Default for Permissions {
    fn default() -> Self {
        Permissions {
            default_permissions: true,
            job_token_policies: Vec::new(),
        }
    }
}

/// The effective inbound flag: the instance setting, or the project's own.
pub async fn effective_inbound_enabled(state: &AppState, project: &Project) -> ApiResult<bool> {
    if project.inbound_scope_enabled {
        return Ok(true);
    }
    let settings = state.store.instance_settings().await?;
    Ok(settings.enforce_ci_inbound_job_token_scope_enabled)
}

pub async fn show(state: &AppState, admin: &AdminProject) -> ApiResult<JobTokenScope> {
    let project = admin.project();
    Ok(JobTokenScope {
        inbound_enabled: effective_inbound_enabled(state, project).await?,
        outbound_enabled: project.outbound_scope_enabled,
    })
}

/// Stores the project's inbound flag (audited when it changes). The instance setting, when
/// on, still overrides a stored `false` (as on GitLab).
pub async fn set_inbound(
    state: &AppState,
    author: &Author,
    admin: &AdminProject,
    enabled: bool,
) -> ApiResult<()> {
    let project = admin.project();
    let event = audit::inbound_changed(author, project, enabled);
    state
        .store
        .set_inbound_scope_enabled(project.id, enabled, Some(event))
        .await?;
    Ok(())
}

/// The project allowlist page, each target with its entry (none for the project itself).
pub async fn list_projects(
    state: &AppState,
    admin: &AdminProject,
    page: PageRequest,
) -> ApiResult<Paged<(Project, Option<ProjectLink>)>> {
    let source = admin.project().id;
    let projects = state.store.allowlist_projects(source, page).await?;
    let links = state
        .store
        .project_links(source, LinkDirection::Inbound)
        .await?;
    Ok(projects.map(|p| {
        let link = links.iter().find(|l| l.target_project_id == p.id).cloned();
        (p, link)
    }))
}

pub async fn list_groups(
    state: &AppState,
    admin: &AdminProject,
    page: PageRequest,
) -> ApiResult<Paged<(Namespace, Option<GroupLink>)>> {
    let source = admin.project().id;
    let groups = state.store.allowlist_groups(source, page).await?;
    let links = state.store.group_links(source).await?;
    Ok(groups.map(|g| {
        let link = links.iter().find(|l| l.target_group_id == g.id).cloned();
        (g, link)
    }))
}

/// A target project for a new entry: it must exist and the caller must be able to read it.
/// Both failures answer the same way (security requirement C1.5: no existence oracle).
async fn readable_target(
    state: &AppState,
    caller: &Caller,
    target: Option<ProjectId>,
) -> ApiResult<Project> {
    let not_found = || ApiError::not_found("target_project_id not found");
    let project = match target {
        Some(id) => access::project_by_id(state, id).await?,
        None => None,
    }
    .ok_or_else(not_found)?;
    if access::can_read_project(state, Some(caller), &project).await? {
        Ok(project)
    } else {
        Err(not_found())
    }
}

async fn readable_target_group(
    state: &AppState,
    caller: &Caller,
    target: Option<NamespaceId>,
) -> ApiResult<Namespace> {
    let not_found = || ApiError::not_found("target_group_id not found");
    let group = match target {
        Some(id) => state.store.namespace(id).await?,
        None => None,
    }
    .filter(Namespace::is_group)
    .ok_or_else(not_found)?;
    if access::can_read_group(state, Some(caller), &group).await? {
        Ok(group)
    } else {
        Err(not_found())
    }
}

/// Adds `target` to the project allowlist, with GitLab's checks in GitLab's order.
pub async fn add_project(
    state: &AppState,
    caller: &Caller,
    author: &Author,
    admin: &AdminProject,
    target: Option<ProjectId>,
    permissions: Permissions,
) -> ApiResult<AllowlistProjectCreated> {
    let source = admin.project();
    let target = readable_target(state, caller, target).await?;
    if target.id == source.id {
        return Err(ApiError::bad_request(
            "Validation failed: Target project can't be the same as the source project",
        ));
    }
    let event = audit::project_added(
        author,
        source,
        &target,
        permissions.default_permissions,
        &permissions.job_token_policies,
    );
    let link = NewLink {
        source_project_id: source.id,
        target: target.id,
        added_by: Some(caller.user.id),
        created_at: super::now(),
        job_token_policies: permissions.job_token_policies,
        default_permissions: permissions.default_permissions,
        autopopulated: false,
    };
    match state
        .store
        .add_project_link(link, PROJECT_LINK_LIMIT, event)
        .await
    {
        Ok(l) => Ok(AllowlistProjectCreated {
            source_project_id: l.source_project_id,
            target_project_id: l.target_project_id,
        }),
        Err(StoreError::LimitReached) => Err(ApiError::bad_request(
            "Validation failed: Source project exceeds the allowable number of project links in this direction",
        )),
        Err(StoreError::Conflict(Conflict::Link)) => Err(ApiError::bad_request(
            "This project is already in the job token allowlist.",
        )),
        Err(StoreError::NotFound) => Err(ApiError::not_found("target_project_id not found")),
        Err(e) => Err(e.into()),
    }
}

/// Removes `target` (already known to exist) from the project allowlist.
pub async fn remove_project(
    state: &AppState,
    caller: &Caller,
    author: &Author,
    admin: &AdminProject,
    target: &Project,
) -> ApiResult<()> {
    let source = admin.project();
    if !access::can_read_project(state, Some(caller), target).await? {
        return Err(ApiError::forbidden(MSG_TARGET_PROJECT_UNAUTHORIZED));
    }
    if target.id == source.id {
        return Err(ApiError::bad_request(
            "Source project cannot be removed from the job token scope",
        ));
    }
    let not_in_scope = || ApiError::bad_request("Target project is not in the job token scope");
    let existing = state
        .store
        .project_link(source.id, target.id, LinkDirection::Inbound)
        .await?
        .ok_or_else(not_in_scope)?;
    let event = audit::project_removed(author, source, target, &existing.job_token_policies);
    state
        .store
        .remove_project_link(source.id, target.id, event)
        .await?
        .map(|_| ())
        .ok_or_else(not_in_scope)
}

/// Adds group `target` to the groups allowlist.
pub async fn add_group(
    state: &AppState,
    caller: &Caller,
    author: &Author,
    admin: &AdminProject,
    target: Option<NamespaceId>,
    permissions: Permissions,
) -> ApiResult<AllowlistGroupCreated> {
    let source = admin.project();
    let group = readable_target_group(state, caller, target).await?;
    let event = audit::group_added(
        author,
        source,
        &group,
        permissions.default_permissions,
        &permissions.job_token_policies,
    );
    let link = NewLink {
        source_project_id: source.id,
        target: group.id,
        added_by: Some(caller.user.id),
        created_at: super::now(),
        job_token_policies: permissions.job_token_policies,
        default_permissions: permissions.default_permissions,
        autopopulated: false,
    };
    match state
        .store
        .add_group_link(link, GROUP_LINK_LIMIT, event)
        .await
    {
        Ok(l) => Ok(AllowlistGroupCreated {
            source_project_id: l.source_project_id,
            target_group_id: l.target_group_id,
        }),
        Err(StoreError::LimitReached) => Err(ApiError::bad_request(
            "Validation failed: Source project exceeds the allowable number of group links",
        )),
        Err(StoreError::Conflict(Conflict::Link)) => Err(ApiError::bad_request(
            "This group is already in the job token allowlist.",
        )),
        Err(StoreError::NotFound) => Err(ApiError::not_found("target_group_id not found")),
        Err(e) => Err(e.into()),
    }
}

/// Removes group `target` (already known to exist) from the groups allowlist. GitLab does not
/// check that the caller can read the group here.
pub async fn remove_group(
    state: &AppState,
    author: &Author,
    admin: &AdminProject,
    target: &Namespace,
) -> ApiResult<()> {
    let source = admin.project();
    let not_in_scope = || ApiError::bad_request("Target group is not in the job token scope");
    let existing = state
        .store
        .group_link(source.id, target.id)
        .await?
        .ok_or_else(not_in_scope)?;
    let event = audit::group_removed(author, source, target, &existing.job_token_policies);
    state
        .store
        .remove_group_link(source.id, target.id, event)
        .await?
        .map(|_| ())
        .ok_or_else(not_in_scope)
}

/// Changes the fine-grained permissions of a project entry.
pub async fn update_project(
    state: &AppState,
    author: &Author,
    admin: &AdminProject,
    target: &Project,
    permissions: Permissions,
) -> ApiResult<ProjectLink> {
    let source = admin.project();
    let event = audit::policies_updated(
        author,
        source,
        Target::Project(target),
        permissions.default_permissions,
        &permissions.job_token_policies,
    );
    state
        .store
        .update_project_link(
            source.id,
            target.id,
            permissions.default_permissions,
            permissions.job_token_policies,
            event,
        )
        .await?
        .ok_or_else(|| ApiError::bad_request("Target project is not in the job token scope"))
}

/// Changes the fine-grained permissions of a group entry.
pub async fn update_group(
    state: &AppState,
    author: &Author,
    admin: &AdminProject,
    target: &Namespace,
    permissions: Permissions,
) -> ApiResult<GroupLink> {
    let source = admin.project();
    let event = audit::policies_updated(
        author,
        source,
        Target::Group(target),
        permissions.default_permissions,
        &permissions.job_token_policies,
    );
    state
        .store
        .update_group_link(
            source.id,
            target.id,
            permissions.default_permissions,
            permissions.job_token_policies,
            event,
        )
        .await?
        .ok_or_else(|| ApiError::bad_request("Target group is not in the job token scope"))
}
