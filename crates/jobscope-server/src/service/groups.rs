//! Groups: nested namespaces whose members' roles are inherited by everything inside.

use axum::http::StatusCode;
use jobscope_store::{
    Conflict, GroupQuery, Namespace, NewGroup, PageRequest, Paged, Project, ProjectOrder,
    ProjectQuery, SortDirection, StoreError,
};
use jobscope_types::{AccessLevel, NamespaceId, Visibility};

use crate::access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::validate;

pub struct CreateGroup {
    pub name: String,
    pub path: String,
    pub parent_id: Option<Option<i64>>,
    pub visibility: Option<Visibility>,
    pub description: Option<String>,
}

/// GitLab renders group save failures as a Ruby hash inside the message.
fn save_failed(fields: &[(&str, Vec<String>)]) -> ApiError {
    let inner = fields
        .iter()
        .map(|(k, msgs)| {
            let list = msgs
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(":{k}=>[{list}]")
        })
        .collect::<Vec<_>>()
        .join(", ");
    ApiError::Message(
        StatusCode::BAD_REQUEST,
        format!("Failed to save group {{{inner}}}"),
    )
}

pub async fn create(state: &AppState, caller: &Caller, input: CreateGroup) -> ApiResult<Namespace> {
    let parent = match input.parent_id {
        Some(Some(id)) => {
            let not_found = || ApiError::not_found("Group");
            let group = state
                .store
                .namespace(NamespaceId(id))
                .await?
                .filter(Namespace::is_group)
                .ok_or_else(not_found)?;
            if !access::can_read_group(state, Some(caller), &group).await? {
                return Err(not_found());
            }
            let level = access::group_level(state, caller, &group).await?;
            if level < Some(AccessLevel::Maintainer) {
                return Err(ApiError::Forbidden(None));
            }
            Some(group)
        }
        Some(None) => {
            // An explicit empty parent: GitLab's Integer coercion gives nil, a top-level group.
            None
        }
        None => None,
    };
    if parent.is_none() && !(caller.is_admin() || caller.user.can_create_group) {
        return Err(ApiError::Forbidden(None));
    }
    let settings = state.store.instance_settings().await?;
    let visibility = input
        .visibility
        .unwrap_or(settings.default_group_visibility);
    let mut fields: Vec<(&str, Vec<String>)> = Vec::new();
    let name_errors = validate::group_name(&input.name);
    if !name_errors.is_empty() {
        fields.push(("name", name_errors));
    }
    let path_errors = validate::namespace_path(&input.path, parent.is_none());
    if !path_errors.is_empty() {
        fields.push(("path", path_errors));
    }
    if let Some(p) = &parent
        && visibility > p.visibility
    {
        fields.push((
            "visibility_level",
            vec![format!(
                "{visibility} is not allowed since the parent group has a {} visibility.",
                p.visibility
            )],
        ));
    }
    if !fields.is_empty() {
        return Err(save_failed(&fields));
    }
    let new = NewGroup {
        name: input.name,
        path: input.path,
        parent_id: parent.as_ref().map(|p| p.id),
        visibility,
        description: input.description.unwrap_or_default(),
        creator: Some(caller.user.id),
        created_at: super::now(),
    };
    state.store.create_group(new).await.map_err(|e| match e {
        StoreError::Conflict(Conflict::Path) => {
            save_failed(&[("path", vec!["has already been taken".to_owned()])])
        }
        StoreError::Conflict(Conflict::GroupName) => {
            save_failed(&[("name", vec!["has already been taken".to_owned()])])
        }
        StoreError::NotFound => ApiError::not_found("Group"),
        other => other.into(),
    })
}

/// The projects a group page shows (GroupDetail's `projects`): direct ones the caller may see.
pub async fn projects_of(
    state: &AppState,
    caller: Option<&Caller>,
    group: &Namespace,
    include_subgroups: bool,
    page: PageRequest,
) -> ApiResult<Paged<Project>> {
    let query = ProjectQuery {
        namespace: Some((group.id, include_subgroups)),
        order_by: ProjectOrder::CreatedAt,
        sort: SortDirection::Desc,
        ..ProjectQuery::new(access::viewer(caller))
    };
    Ok(state.store.list_projects(&query, page).await?)
}

pub async fn list(
    state: &AppState,
    caller: Option<&Caller>,
    mut query: GroupQuery,
    all_available: Option<bool>,
    owned: bool,
    page: PageRequest,
) -> ApiResult<Paged<Namespace>> {
    query.viewer = access::viewer(caller);
    if let Some(c) = caller {
        let all = all_available.unwrap_or(c.is_admin());
        if owned {
            query.min_access = Some((c.user.id, AccessLevel::Owner));
        } else if !all
            && query.min_access.is_none()
            && query.parent.is_none()
            && query.descendants_of.is_none()
        {
            query.min_access = Some((c.user.id, AccessLevel::Guest));
        }
        if let Some((_, level)) = query.min_access {
            query.min_access = Some((c.user.id, level));
        }
    } else {
        query.min_access = None;
    }
    Ok(state.store.list_groups(&query, page).await?)
}

pub async fn delete(state: &AppState, caller: &Caller, group: &Namespace) -> ApiResult<()> {
    let level = access::group_level(state, caller, group).await?;
    if level < Some(AccessLevel::Owner) {
        return Err(ApiError::Forbidden(None));
    }
    state
        .store
        .delete_group(group.id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("Group"),
            other => other.into(),
        })
}
