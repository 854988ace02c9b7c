//! Authorization: what a caller may see and do.
//!
//! The rules ([`rules`]) are pure functions of a user, their memberships and the object. The
//! async helpers below load what the rules need and turn a refusal into GitLab's answer, with
//! **404 before 403**: an object the caller may not read is reported as not found, and only a
//! readable one yields 403. Functions named `authorize_*` return a proof value that the
//! service functions for that action require, so an unchecked call does not compile.

use jobscope_store::{Membership, Namespace, Project, User, Viewer};
use jobscope_types::{AccessLevel, NamespaceRef, ProjectId, ProjectRef, Visibility};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub mod rules {
    //! The access rules, without I/O.

    use super::*;

    /// The user's role in a project: the highest of a direct project membership, memberships
    /// of the project's namespace and its ancestors, and ownership of a personal namespace.
    /// Administrators are not special here; see [`effective_project_level`].
    pub fn project_level(
        user: &User,
        memberships: &[Membership],
        project: &Project,
    ) -> Option<AccessLevel> {
        let mut best = None;
        if project.namespace.owner_id == Some(user.id) {
            best = Some(AccessLevel::Owner);
        }
        for m in memberships {
            let level = match m {
                Membership::Project { id, level, .. } if *id == project.id => Some(*level),
                Membership::Namespace { id, level, .. }
                    if project.namespace.traversal_ids.contains(id) =>
                {
                    Some(*level)
                }
                _ => None,
            };
            best = best.max(level);
        }
        best
    }

    /// Administrators act as owners everywhere.
    pub fn effective_project_level(
        user: &User,
        memberships: &[Membership],
        project: &Project,
    ) -> Option<AccessLevel> {
        if user.admin {
            Some(AccessLevel::Owner)
        } else {
            project_level(user, memberships, project)
        }
    }

    /// The user's role in a group: the highest membership of the group or an ancestor.
    pub fn group_level(memberships: &[Membership], group: &Namespace) -> Option<AccessLevel> {
        memberships
            .iter()
            .filter_map(|m| match m {
                Membership::Namespace { id, level, .. } if group.traversal_ids.contains(id) => {
                    Some(*level)
                }
                _ => None,
            })
            .max()
    }

    pub fn effective_group_level(
        user: &User,
        memberships: &[Membership],
        group: &Namespace,
    ) -> Option<AccessLevel> {
        if user.admin {
            Some(AccessLevel::Owner)
        } else {
            group_level(memberships, group)
        }
    }

    /// GitLab's `read_project`: public to all; internal to signed-in users who are not
    /// external; private to members (Guest and above) and administrators.
    pub fn can_read_project(viewer: Option<(&User, &[Membership])>, project: &Project) -> bool {
        match (project.visibility, viewer) {
            (Visibility::Public, _) => true,
            (_, None) => false,
            (_, Some((user, _))) if user.admin => true,
            (Visibility::Internal, Some((user, _))) if !user.external => true,
            (_, Some((user, ms))) => project_level(user, ms, project).is_some(),
        }
    }

    /// GitLab's `read_group`: like projects, and a private group is also visible to members of
    /// anything inside it (a subgroup or a project).
    pub fn can_read_group(viewer: Option<(&User, &[Membership])>, group: &Namespace) -> bool {
        match (group.visibility, viewer) {
            (Visibility::Public, _) => true,
            (_, None) => false,
            (_, Some((user, _))) if user.admin => true,
            (Visibility::Internal, Some((user, _))) if !user.external => true,
            (_, Some((_, ms))) => ms.iter().any(|m| match m {
                Membership::Namespace {
                    id, traversal_ids, ..
                } => group.traversal_ids.contains(id) || traversal_ids.contains(&group.id),
                Membership::Project {
                    namespace_traversal_ids,
                    ..
                } => namespace_traversal_ids.contains(&group.id),
            }),
        }
    }
}

/// The store's list filter for this caller.
pub fn viewer(caller: Option<&Caller>) -> Viewer {
    match caller {
        None => Viewer::Anonymous,
        Some(c) if c.user.admin => Viewer::Admin,
        Some(c) => Viewer::User {
            id: c.user.id,
            external: c.user.external,
        },
    }
}

async fn viewer_parts<'a>(
    state: &AppState,
    caller: Option<&'a Caller>,
) -> ApiResult<Option<(&'a User, &'a [Membership])>> {
    Ok(match caller {
        Some(c) => Some((&c.user, c.memberships(state).await?)),
        None => None,
    })
}

pub async fn can_read_project(
    state: &AppState,
    caller: Option<&Caller>,
    project: &Project,
) -> ApiResult<bool> {
    if project.visibility == Visibility::Public {
        return Ok(true);
    }
    Ok(rules::can_read_project(
        viewer_parts(state, caller).await?,
        project,
    ))
}

pub async fn can_read_group(
    state: &AppState,
    caller: Option<&Caller>,
    group: &Namespace,
) -> ApiResult<bool> {
    if group.visibility == Visibility::Public {
        return Ok(true);
    }
    Ok(rules::can_read_group(
        viewer_parts(state, caller).await?,
        group,
    ))
}

/// The caller's effective role in a project (administrators: Owner).
pub async fn project_level(
    state: &AppState,
    caller: &Caller,
    project: &Project,
) -> ApiResult<Option<AccessLevel>> {
    Ok(rules::effective_project_level(
        &caller.user,
        caller.memberships(state).await?,
        project,
    ))
}

pub async fn group_level(
    state: &AppState,
    caller: &Caller,
    group: &Namespace,
) -> ApiResult<Option<AccessLevel>> {
    Ok(rules::effective_group_level(
        &caller.user,
        caller.memberships(state).await?,
        group,
    ))
}

/// Resolves a project reference, as far as the store knows it (no visibility check).
pub async fn lookup_project(state: &AppState, r: &ProjectRef) -> ApiResult<Option<Project>> {
    Ok(match r {
        ProjectRef::Id(id) => state.store.project(*id).await?,
        ProjectRef::Path(p) => state.store.project_by_full_path(p).await?,
    })
}

/// `:id` of a `/projects/:id/...` route → a project the caller may read, else
/// `404 Project Not Found`.
pub async fn find_project(
    state: &AppState,
    caller: Option<&Caller>,
    raw_id: &str,
) -> ApiResult<Project> {
    let not_found = || ApiError::not_found("Project");
    let r = ProjectRef::parse(raw_id).ok_or_else(not_found)?;
    let project = lookup_project(state, &r).await?.ok_or_else(not_found)?;
    if can_read_project(state, caller, &project).await? {
        Ok(project)
    } else {
        Err(not_found())
    }
}

/// A project looked up by id, visibility ignored (for targets of allowlist operations).
pub async fn project_by_id(state: &AppState, id: ProjectId) -> ApiResult<Option<Project>> {
    Ok(state.store.project(id).await?)
}

/// `:id` of a `/groups/:id/...` route → a group the caller may read, else
/// `404 Group Not Found`.
pub async fn find_group(
    state: &AppState,
    caller: Option<&Caller>,
    raw_id: &str,
) -> ApiResult<Namespace> {
    let not_found = || ApiError::not_found("Group");
    let r = NamespaceRef::parse(raw_id).ok_or_else(not_found)?;
    let ns = match r {
        NamespaceRef::Id(id) => state.store.namespace(id).await?,
        NamespaceRef::Path(p) => state.store.namespace_by_full_path(&p).await?,
    };
    let group = ns.filter(Namespace::is_group).ok_or_else(not_found)?;
    if can_read_group(state, caller, &group).await? {
        Ok(group)
    } else {
        Err(not_found())
    }
}

/// Proof that the caller holds `admin_project` (Maintainer or above, or administrator) on the
/// project. Job token scope changes require it.
#[derive(Debug)]
pub struct AdminProject {
    project: Project,
}

impl AdminProject {
    pub fn project(&self) -> &Project {
        &self.project
    }
}

/// The project behind `raw_id`, if the caller may administer it. 404 when it does not exist
/// or the caller cannot read it; 403 (`forbidden`) when they can read but not administer it.
pub async fn authorize_admin_project(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    forbidden: ApiError,
) -> ApiResult<AdminProject> {
    let project = find_project(state, Some(caller), raw_id).await?;
    admin_project(state, caller, project, forbidden).await
}

/// The same check for a project already loaded and known to be readable.
pub async fn admin_project(
    state: &AppState,
    caller: &Caller,
    project: Project,
    forbidden: ApiError,
) -> ApiResult<AdminProject> {
    let level = project_level(state, caller, &project).await?;
    if level >= Some(AccessLevel::Maintainer) {
        Ok(AdminProject { project })
    } else {
        Err(forbidden)
    }
}

/// Requires the caller to be an administrator (403 otherwise).
pub fn require_admin(caller: &Caller) -> ApiResult<()> {
    if caller.user.admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(None))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use jobscope_store::{NamespaceKind, UserState};
    use jobscope_types::{NamespaceId, UserId};

    use super::rules::*;
    use super::{AccessLevel, Membership, Namespace, Project, ProjectId, User, Visibility};

    fn user(id: i64, admin: bool, external: bool) -> User {
        User {
            id: UserId(id),
            username: format!("u{id}"),
            email: format!("u{id}@x"),
            name: format!("U{id}"),
            state: UserState::Active,
            admin,
            external,
            bot: false,
            can_create_group: true,
            projects_limit: 10,
            namespace_id: NamespaceId(1000 + id),
            created_at: Utc::now(),
        }
    }

    fn ns(ids: &[i64], v: Visibility) -> Namespace {
        Namespace {
            id: NamespaceId(*ids.last().unwrap_or(&0)),
            kind: NamespaceKind::Group,
            name: "g".into(),
            path: "g".into(),
            full_path: "g".into(),
            full_name: "g".into(),
            parent_id: None,
            traversal_ids: ids.iter().map(|i| NamespaceId(*i)).collect(),
            visibility: v,
            description: String::new(),
            owner_id: None,
            created_at: Utc::now(),
        }
    }

    fn project(id: i64, ns_ids: &[i64], v: Visibility) -> Project {
        Project {
            id: ProjectId(id),
            name: "p".into(),
            path: "p".into(),
            full_path: "g/p".into(),
            description: None,
            visibility: v,
            namespace: ns(ns_ids, Visibility::Public),
            default_branch: None,
            topics: vec![],
            creator_id: None,
            created_at: Utc::now(),
            last_activity_at: Utc::now(),
            inbound_scope_enabled: true,
            outbound_scope_enabled: false,
        }
    }

    #[test]
    fn inherited_roles_take_the_highest() {
        let u = user(1, false, false);
        let p = project(7, &[1, 2, 3], Visibility::Private);
        let ms = vec![
            Membership::Namespace {
                id: NamespaceId(1),
                traversal_ids: vec![NamespaceId(1)],
                level: AccessLevel::Reporter,
            },
            Membership::Namespace {
                id: NamespaceId(3),
                traversal_ids: vec![NamespaceId(1), NamespaceId(2), NamespaceId(3)],
                level: AccessLevel::Maintainer,
            },
            Membership::Project {
                id: ProjectId(8),
                namespace_traversal_ids: vec![NamespaceId(1)],
                level: AccessLevel::Owner,
            },
        ];
        assert_eq!(project_level(&u, &ms, &p), Some(AccessLevel::Maintainer));
        assert_eq!(project_level(&u, &[], &p), None);
        assert!(can_read_project(Some((&u, &ms)), &p));
        assert!(!can_read_project(Some((&u, &[])), &p));
        assert!(!can_read_project(None, &p));
        let admin = user(2, true, false);
        assert_eq!(
            effective_project_level(&admin, &[], &p),
            Some(AccessLevel::Owner)
        );
    }

    #[test]
    fn visibility_rules() {
        let normal = user(1, false, false);
        let external = user(2, false, true);
        let internal = project(1, &[1], Visibility::Internal);
        let public = project(2, &[1], Visibility::Public);
        assert!(can_read_project(None, &public));
        assert!(!can_read_project(None, &internal));
        assert!(can_read_project(Some((&normal, &[])), &internal));
        assert!(!can_read_project(Some((&external, &[])), &internal));
        assert!(can_read_project(Some((&external, &[])), &public));
    }

    #[test]
    fn private_group_visible_through_descendants() {
        let u = user(1, false, false);
        let top = ns(&[1], Visibility::Private);
        let sibling = ns(&[9], Visibility::Private);
        let via_project = vec![Membership::Project {
            id: ProjectId(5),
            namespace_traversal_ids: vec![NamespaceId(1), NamespaceId(4)],
            level: AccessLevel::Guest,
        }];
        assert!(can_read_group(Some((&u, &via_project)), &top));
        assert!(!can_read_group(Some((&u, &via_project)), &sibling));
        assert_eq!(group_level(&via_project, &top), None);
        let owner_of_sub = vec![Membership::Namespace {
            id: NamespaceId(4),
            traversal_ids: vec![NamespaceId(1), NamespaceId(4)],
            level: AccessLevel::Owner,
        }];
        assert!(can_read_group(Some((&u, &owner_of_sub)), &top));
        assert_eq!(group_level(&owner_of_sub, &top), None);
        assert_eq!(
            group_level(&owner_of_sub, &ns(&[1, 4, 6], Visibility::Private)),
            Some(AccessLevel::Owner)
        );
    }
}
