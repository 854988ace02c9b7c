//! Projects: created in a group or a personal namespace.

use jobscope_store::{
    Conflict, NamespaceKind, NewProject, PageRequest, Paged, Project, ProjectQuery, StoreError,
    User,
};
use jobscope_types::api;
use jobscope_types::{AccessLevel, NamespaceId, Visibility};

use crate::access;
use crate::auth::Caller;
use crate::entities::Entities;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::validate;

pub struct CreateProject {
    pub name: Option<String>,
    pub path: Option<String>,
    pub namespace_id: Option<i64>,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
    pub default_branch: Option<String>,
    pub topics: Vec<String>,
}

fn namespace_invalid() -> ApiError {
    ApiError::validation("namespace", "is not valid")
}

/// Creates a project as `caller`, in `namespace_id` or else in `owner`'s personal namespace
/// (the caller's own, unless an administrator creates it for another user).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    owner: &User,
    input: CreateProject,
) -> ApiResult<Project> {
    let ns_id = input
        .namespace_id
        .map(NamespaceId)
        .unwrap_or(owner.namespace_id);
    let ns = state
        .store
        .namespace(ns_id)
        .await?
        .ok_or_else(namespace_invalid)?;
    let mut add_member = None;
    match ns.kind {
        NamespaceKind::Group => {
            if !access::can_read_group(state, Some(caller), &ns).await? {
                return Err(namespace_invalid());
            }
            let level = access::group_level(state, caller, &ns).await?;
            if level < Some(AccessLevel::Developer) {
                return Err(namespace_invalid());
            }
            if level < Some(AccessLevel::Maintainer) {
                // A Developer who creates a project in a group administers it.
                add_member = Some((caller.user.id, AccessLevel::Maintainer));
            }
        }
        NamespaceKind::User => {
            if ns.owner_id != Some(caller.user.id) && !caller.is_admin() {
                return Err(namespace_invalid());
            }
            if let Some(o) = ns.owner_id {
                add_member = Some((o, AccessLevel::Owner));
            }
        }
    }
    let name = input
        .name
        .clone()
        .or_else(|| input.path.clone())
        .unwrap_or_default();
    let path = match input.path {
        Some(p) => p,
        None => {
            if validate::project_path(&name).is_empty() {
                name.clone()
            } else {
                validate::parameterize(&name)
            }
        }
    };
    let mut fields = Vec::new();
    let name_errors = validate::project_name(&name);
    if !name_errors.is_empty() {
        fields.push(("name".to_owned(), name_errors));
    }
    let path_errors = validate::project_path(&path);
    if !path_errors.is_empty() {
        fields.push(("path".to_owned(), path_errors));
    }
    if !fields.is_empty() {
        return Err(ApiError::Validation(fields));
    }
    let settings = state.store.instance_settings().await?;
    let mut visibility = input
        .visibility
        .unwrap_or(settings.default_project_visibility);
    if ns.kind == NamespaceKind::Group && visibility > ns.visibility {
        // GitLab lowers the visibility to the group's instead of failing.
        visibility = ns.visibility;
    }
    let new = NewProject {
        name,
        path,
        namespace_id: ns.id,
        description: input.description,
        visibility,
        default_branch: input.default_branch,
        topics: input.topics,
        creator_id: Some(caller.user.id),
        add_creator_as: add_member,
        created_at: super::now(),
    };
    state.store.create_project(new).await.map_err(|e| match e {
        StoreError::Conflict(Conflict::Path) => {
            ApiError::validation("path", "has already been taken")
        }
        StoreError::Conflict(Conflict::ProjectName) => {
            ApiError::validation("name", "has already been taken")
        }
        StoreError::Conflict(Conflict::ProjectNameAndPath) => ApiError::Validation(vec![
            ("name".to_owned(), vec!["has already been taken".to_owned()]),
            ("path".to_owned(), vec!["has already been taken".to_owned()]),
        ]),
        StoreError::NotFound => namespace_invalid(),
        other => other.into(),
    })
}

/// The Project entity as the caller sees it (with `permissions` for signed-in callers).
pub async fn entity(
    state: &AppState,
    caller: Option<&Caller>,
    entities: &Entities<'_>,
    project: &Project,
) -> ApiResult<api::Project> {
    let owner = match project.namespace.owner_id {
        Some(id) => state.store.user(id).await?,
        None => None,
    };
    let (permissions, admin_fields) = match caller {
        Some(c) => {
            let ms = c.memberships(state).await?;
            let project_access = ms.iter().find_map(|m| match m {
                jobscope_store::Membership::Project { id, level, .. } if *id == project.id => {
                    Some(*level)
                }
                _ => None,
            });
            let group_access = if project.namespace.is_group() {
                access::rules::group_level(ms, &project.namespace)
            } else {
                None
            };
            let level = access::project_level(state, c, project).await?;
            let as_access = |l: Option<AccessLevel>| {
                l.map(|l| api::MemberAccess {
                    access_level: l.value(),
                    notification_level: Some(3),
                })
            };
            (
                Some(api::ProjectPermissions {
                    project_access: as_access(project_access),
                    group_access: as_access(group_access),
                }),
                level >= Some(AccessLevel::Maintainer),
            )
        }
        None => (None, false),
    };
    Ok(entities.project(project, owner.as_ref(), permissions, admin_fields))
}

pub async fn list(
    state: &AppState,
    caller: Option<&Caller>,
    mut query: ProjectQuery,
    membership: bool,
    owned: bool,
    page: PageRequest,
) -> ApiResult<Paged<Project>> {
    query.viewer = access::viewer(caller);
    match caller {
        Some(c) => {
            if owned {
                query.min_access = Some((c.user.id, AccessLevel::Owner));
            } else if let Some((_, level)) = query.min_access {
                query.min_access = Some((c.user.id, level));
            } else if membership {
                query.min_access = Some((c.user.id, AccessLevel::Guest));
            }
        }
        None => query.min_access = None,
    }
    Ok(state.store.list_projects(&query, page).await?)
}

pub async fn delete(state: &AppState, caller: &Caller, project: &Project) -> ApiResult<()> {
    let level = access::project_level(state, caller, project).await?;
    if level < Some(AccessLevel::Owner) {
        return Err(ApiError::Forbidden(None));
    }
    state
        .store
        .delete_project(project.id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("Project"),
            other => other.into(),
        })
}
