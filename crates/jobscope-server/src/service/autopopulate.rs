//! Autopopulation of a project's allowlist from its authentication log (spec §8.3), its
//! preview (`dry_run`), and its undo.

use jobscope_store::{
    GROUP_LINK_LIMIT, LinkDirection, Namespace, NewLink, PROJECT_LINK_LIMIT, PageRequest, Project,
    ScopeChangeSet, StoreError,
};
use jobscope_types::{NamespaceId, ProjectId};

use super::audit::{self, Author};
use crate::access::AdminProject;
use crate::auth::Caller;
use crate::compaction::{self, Node, Path};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The combined budget of groups and projects autopopulation fills (GitLab's
/// `COMPACTION_LIMIT`).
pub const COMPACTION_LIMIT: usize = 200;

fn project_path(p: &Project) -> Path {
    let mut path: Path = if p.namespace.is_group() {
        p.namespace
            .traversal_ids
            .iter()
            .map(|id| Node::Group(*id))
            .collect()
    } else {
        Vec::new()
    };
    path.push(Node::Project(p.id));
    path
}

fn group_path(g: &Namespace) -> Path {
    g.traversal_ids.iter().map(|id| Node::Group(*id)).collect()
}

/// What autopopulation would add (and which earlier autopopulated entries it replaces).
pub struct Plan {
    pub projects: Vec<Project>,
    pub groups: Vec<Namespace>,
    pub replaced_projects: Vec<ProjectId>,
    pub replaced_groups: Vec<NamespaceId>,
}

pub async fn plan(state: &AppState, admin: &AdminProject) -> ApiResult<Plan> {
    let source = admin.project();
    // Accesses still in memory count too.
    state.auth_log.flush().await?;
    let logs = state
        .store
        .authorization_logs(source.id, PageRequest::all())
        .await?;
    let project_links = state
        .store
        .project_links(source.id, LinkDirection::Inbound)
        .await?;
    let group_links = state.store.group_links(source.id).await?;
    // Earlier autopopulated entries are replaced; entries people made are kept and count.
    let kept_projects: Vec<ProjectId> = project_links
        .iter()
        .filter(|l| !l.autopopulated)
        .map(|l| l.target_project_id)
        .collect();
    let kept_groups: Vec<NamespaceId> = group_links
        .iter()
        .filter(|l| !l.autopopulated)
        .map(|l| l.target_group_id)
        .collect();
    let mut existing: Vec<Path> = Vec::new();
    for p in state.store.projects_by_ids(&kept_projects).await? {
        existing.push(project_path(&p));
    }
    for g in state.store.namespaces_by_ids(&kept_groups).await? {
        existing.push(group_path(&g));
    }
    let origins: Vec<Project> = logs
        .items
        .into_iter()
        .map(|l| l.origin)
        .filter(|o| o.id != source.id)
        .collect();
    let candidates: Vec<Path> = origins.iter().map(project_path).collect();
    let candidates = compaction::uncovered(candidates, &existing);
    let limit = COMPACTION_LIMIT.saturating_sub(kept_projects.len() + kept_groups.len());
    let compacted = compaction::compact(candidates.clone(), limit)
        .map_err(|_| ApiError::bad_request("CompactionLimitCannotBeAchievedError"))?;
    if !compaction::validate(&candidates, &compacted) {
        return Err(ApiError::Internal(
            "compaction produced an invalid allowlist".into(),
        ));
    }
    let mut project_ids = Vec::new();
    let mut group_ids = Vec::new();
    for path in &compacted {
        match path.last() {
            Some(Node::Project(id)) => project_ids.push(*id),
            Some(Node::Group(id)) => group_ids.push(*id),
            None => {}
        }
    }
    Ok(Plan {
        projects: origins
            .into_iter()
            .filter(|o| project_ids.contains(&o.id))
            .collect(),
        groups: state.store.namespaces_by_ids(&group_ids).await?,
        replaced_projects: project_links
            .iter()
            .filter(|l| l.autopopulated)
            .map(|l| l.target_project_id)
            .collect(),
        replaced_groups: group_links
            .iter()
            .filter(|l| l.autopopulated)
            .map(|l| l.target_group_id)
            .collect(),
    })
}

/// Applies a plan: replaces earlier autopopulated entries, adds the new ones and enables the
/// allowlist, in one transaction with one audit event per change.
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    author: &Author,
    admin: &AdminProject,
    plan: &Plan,
) -> ApiResult<()> {
    let source = admin.project();
    let now = super::now();
    let mut changes = ScopeChangeSet {
        remove_projects: plan.replaced_projects.clone(),
        remove_groups: plan.replaced_groups.clone(),
        set_inbound: Some(true),
        ..Default::default()
    };
    for p in state.store.projects_by_ids(&plan.replaced_projects).await? {
        changes
            .audit
            .push(audit::project_removed(author, source, &p, &[]));
    }
    for g in state.store.namespaces_by_ids(&plan.replaced_groups).await? {
        changes
            .audit
            .push(audit::group_removed(author, source, &g, &[]));
    }
    for p in &plan.projects {
        changes.add_projects.push(NewLink {
            source_project_id: source.id,
            target: p.id,
            added_by: Some(caller.user.id),
            created_at: now,
            job_token_policies: Vec::new(),
            default_permissions: true,
            autopopulated: true,
        });
        changes
            .audit
            .push(audit::project_added(author, source, p, true, &[]));
    }
    for g in &plan.groups {
        changes.add_groups.push(NewLink {
            source_project_id: source.id,
            target: g.id,
            added_by: Some(caller.user.id),
            created_at: now,
            job_token_policies: Vec::new(),
            default_permissions: true,
            autopopulated: true,
        });
        changes
            .audit
            .push(audit::group_added(author, source, g, true, &[]));
    }
    if !source.inbound_scope_enabled {
        changes
            .audit
            .push(audit::inbound_changed(author, source, true));
    }
    state
        .store
        .apply_scope_changes(source.id, changes, PROJECT_LINK_LIMIT, GROUP_LINK_LIMIT)
        .await
        .map_err(|e| match e {
            StoreError::LimitReached | StoreError::Conflict(_) => ApiError::bad_request(
                "The allowlist changed while it was being autopopulated; try again",
            ),
            other => other.into(),
        })
}

/// Removes every autopopulated entry. Returns how many were removed.
pub async fn clear(state: &AppState, author: &Author, admin: &AdminProject) -> ApiResult<usize> {
    let source = admin.project();
    let projects: Vec<ProjectId> = state
        .store
        .project_links(source.id, LinkDirection::Inbound)
        .await?
        .into_iter()
        .filter(|l| l.autopopulated)
        .map(|l| l.target_project_id)
        .collect();
    let groups: Vec<NamespaceId> = state
        .store
        .group_links(source.id)
        .await?
        .into_iter()
        .filter(|l| l.autopopulated)
        .map(|l| l.target_group_id)
        .collect();
    let mut changes = ScopeChangeSet {
        remove_projects: projects.clone(),
        remove_groups: groups.clone(),
        ..Default::default()
    };
    for p in state.store.projects_by_ids(&projects).await? {
        changes
            .audit
            .push(audit::project_removed(author, source, &p, &[]));
    }
    for g in state.store.namespaces_by_ids(&groups).await? {
        changes
            .audit
            .push(audit::group_removed(author, source, &g, &[]));
    }
    let removed = projects.len() + groups.len();
    if removed > 0 {
        state
            .store
            .apply_scope_changes(source.id, changes, PROJECT_LINK_LIMIT, GROUP_LINK_LIMIT)
            .await?;
    }
    Ok(removed)
}
