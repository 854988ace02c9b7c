//! The access decision: may a CI job token from project A, acting as user U, act on project
//! B (spec §7)? Pure code: everything it needs is passed in, nothing is read or written.
//!
//! Steps, in order:
//! 0. Visibility. A project the job's user cannot read is reported as not found (404 before
//!    403), so a job token cannot probe which private projects exist.
//! 1. Scope. A == B is always in scope. Otherwise, when B's effective inbound flag is on (the
//!    instance setting or B's own), A must be on B's allowlist: a project entry naming A, or
//!    a group entry naming any group above A (at any depth). With the flag off, every
//!    project is in scope (GitLab's legacy mode).
//! 2. Being on the allowlist adds no permission: U acts with U's own role in B. Visibility
//!    never widens scope: an out-of-scope token is refused on public projects too.
//! 3. Fine-grained policies, for allowlisted cross-project access while the allowlist is
//!    enforced: the nearest entry decides (the project entry, else the group entry nearest to
//!    A). An entry with default permissions allows; otherwise the requested policy must be
//!    among the entry's policies (`admin_X` implies `read_X`), and a request naming no policy
//!    is refused.
//! 4. The role a policy needs in B (a table below; public and internal projects let readers
//!    use `read_*` policies).

use jobscope_store::{GroupEntries, GroupLink, Membership, Project, ProjectLink, User};
use jobscope_types::policies;
use jobscope_types::{AccessLevel, Visibility};

use crate::access::rules;

/// Everything one decision needs.
pub struct Request<'a> {
    /// A: the job's project.
    pub origin: &'a Project,
    /// B: the project the job wants to act on.
    pub target: &'a Project,
    /// U: the job's user, and U's direct memberships.
    pub user: &'a User,
    pub memberships: &'a [Membership],
    /// `enforce_ci_inbound_job_token_scope_enabled`.
    pub instance_enforced: bool,
    /// B's inbound project entry naming A, if any.
    pub project_link: Option<&'a ProjectLink>,
    /// B's group entries (at most 200 through the API), indexed by group.
    pub group_entries: &'a GroupEntries,
    /// The permission the caller wants (a policy name), if it names one.
    pub policy: Option<&'a str>,
}

/// How the job was admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via<'a> {
    SameProject,
    ScopeDisabled,
    Project(&'a ProjectLink),
    Group(&'a GroupLink),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowed<'a> {
    pub via: Via<'a>,
    /// U's role in B (administrators: Owner), if any.
    pub access_level: Option<AccessLevel>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// U cannot read B: answered like a project that does not exist.
    NotVisible,
    /// Out of scope: "Authentication by CI/CD job token not allowed from A to B."
    NotAllowed,
    /// The nearest entry has fine-grained permissions that do not include what was asked
    /// (`required` is empty when nothing was asked).
    Policy { required: Vec<String> },
    /// U's role in B is below what the policy needs.
    Role { needed: AccessLevel },
}

/// The role a policy needs in the target project (approximating GitLab's per-endpoint
/// abilities): reading needs Reporter (Guest for releases and work items), changing needs
/// Developer (Maintainer for secure files and Terraform state).
pub fn role_for_policy(policy: &str) -> AccessLevel {
    match policy {
        "read_releases" | "read_work_items" => AccessLevel::Guest,
        "admin_secure_files" | "admin_terraform_state" => AccessLevel::Maintainer,
        p if p.starts_with("read_") => AccessLevel::Reporter,
        _ => AccessLevel::Developer,
    }
}

/// The entry that decides for A on B: the project entry, else the nearest group entry. One
/// indexed lookup per namespace from A's up to its root, whatever the size of the allowlist.
pub fn nearest_entry<'a>(
    origin: &Project,
    project_link: Option<&'a ProjectLink>,
    group_entries: &'a GroupEntries,
) -> Option<Via<'a>> {
    if let Some(l) = project_link {
        return Some(Via::Project(l));
    }
    if group_entries.is_empty() {
        return None;
    }
    origin
        .namespace
        .self_and_ancestor_ids()
        .find_map(|ns| group_entries.get(ns))
        .map(Via::Group)
}

pub fn decide<'a>(r: &Request<'a>) -> Result<Allowed<'a>, Denied> {
    // A project the user cannot see is not found, whatever the scope says: answering
    // "not allowed from A to B" would confirm that B exists and name it.
    if !rules::can_read_project(Some((r.user, r.memberships)), r.target) {
        return Err(Denied::NotVisible);
    }
    let same = r.origin.id == r.target.id;
    let enforced = r.instance_enforced || r.target.inbound_scope_enabled;
    let via = if same {
        Via::SameProject
    } else if !enforced {
        Via::ScopeDisabled
    } else {
        nearest_entry(r.origin, r.project_link, r.group_entries).ok_or(Denied::NotAllowed)?
    };
    let entry_permissions = match via {
        Via::Project(l) => Some((l.default_permissions, &l.job_token_policies)),
        Via::Group(g) => Some((g.default_permissions, &g.job_token_policies)),
        Via::SameProject | Via::ScopeDisabled => None,
    };
    if let Some((false, granted)) = entry_permissions {
        let Some(wanted) = r.policy else {
            return Err(Denied::Policy {
                required: Vec::new(),
            });
        };
        if !policies::grants(granted, wanted) {
            return Err(Denied::Policy {
                required: vec![wanted.to_owned()],
            });
        }
    }
    let access_level = rules::effective_project_level(r.user, r.memberships, r.target);
    if let Some(policy) = r.policy {
        let needed = role_for_policy(policy);
        let public_read = policy.starts_with("read_")
            && (r.target.visibility == Visibility::Public
                || (r.target.visibility == Visibility::Internal && !r.user.external));
        if access_level < Some(needed) && !public_read {
            return Err(Denied::Role { needed });
        }
    }
    Ok(Allowed { via, access_level })
}

/// GitLab's message for a refusal (the text after "403 Forbidden - "), or `None` for a bare
/// "403 Forbidden".
pub fn denial_message(denied: &Denied, origin: &Project, target: &Project) -> Option<String> {
    match denied {
        Denied::NotAllowed => Some(format!(
            "Authentication by CI/CD job token not allowed from {} to {}.",
            origin.path, target.path
        )),
        Denied::Policy { required } if required.is_empty() => {
            Some("This action is unauthorized for CI/CD job tokens.".to_owned())
        }
        Denied::Policy { required } => Some(format!(
            "Insufficient permissions to access this resource in project {}. The following token permission{} required: {}.",
            target.path,
            if required.len() == 1 { " is" } else { "s are" },
            policies::to_sentence(required)
        )),
        Denied::Role { .. } | Denied::NotVisible => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::{DateTime, Utc};
    use jobscope_store::{LinkDirection, NamespaceKind, UserState};
    use jobscope_types::{NamespaceId, ProjectId, UserId};

    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap()
    }

    /// A group namespace with the given traversal ids (root first).
    fn namespace(traversal: &[i64]) -> jobscope_store::Namespace {
        let id = *traversal.last().unwrap();
        jobscope_store::Namespace {
            id: NamespaceId(id),
            kind: NamespaceKind::Group,
            name: format!("g{id}"),
            path: format!("g{id}"),
            full_path: traversal
                .iter()
                .map(|i| format!("g{i}"))
                .collect::<Vec<_>>()
                .join("/"),
            full_name: format!("g{id}"),
            parent_id: traversal.iter().rev().nth(1).map(|p| NamespaceId(*p)),
            traversal_ids: traversal.iter().map(|i| NamespaceId(*i)).collect(),
            visibility: Visibility::Private,
            description: String::new(),
            owner_id: None,
            created_at: at(),
        }
    }

    fn project(id: i64, traversal: &[i64], visibility: Visibility) -> Project {
        let ns = namespace(traversal);
        Project {
            id: ProjectId(id),
            name: format!("p{id}"),
            path: format!("p{id}"),
            full_path: format!("{}/p{id}", ns.full_path),
            description: None,
            visibility,
            namespace: ns,
            default_branch: None,
            topics: Vec::new(),
            creator_id: None,
            created_at: at(),
            last_activity_at: at(),
            inbound_scope_enabled: true,
            outbound_scope_enabled: false,
        }
    }

    fn user(admin: bool) -> User {
        User {
            id: UserId(7),
            username: "u".into(),
            email: "u@example.invalid".into(),
            name: "u".into(),
            state: UserState::Active,
            admin,
            external: false,
            bot: false,
            can_create_group: true,
            projects_limit: 10,
            namespace_id: NamespaceId(900),
            created_at: at(),
        }
    }

    fn policies(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn project_link(target: &Project, origin: &Project, granted: Option<&[&str]>) -> ProjectLink {
        ProjectLink {
            source_project_id: target.id,
            target_project_id: origin.id,
            direction: LinkDirection::Inbound,
            added_by: None,
            created_at: at(),
            job_token_policies: policies(granted.unwrap_or(&[])),
            default_permissions: granted.is_none(),
            autopopulated: false,
        }
    }

    fn group_link(target: &Project, group: i64, granted: Option<&[&str]>) -> GroupLink {
        GroupLink {
            source_project_id: target.id,
            target_group_id: NamespaceId(group),
            added_by: None,
            created_at: at(),
            job_token_policies: policies(granted.unwrap_or(&[])),
            default_permissions: granted.is_none(),
            autopopulated: false,
        }
    }

    /// A (in g1/g2/g3) and B (private, in g50, where the user is a Developer).
    struct World {
        origin: Project,
        target: Project,
        user: User,
        memberships: Vec<Membership>,
        project_link: Option<ProjectLink>,
        groups: GroupEntries,
        instance_enforced: bool,
    }

    impl World {
        fn new() -> World {
            World {
                origin: project(1, &[1, 2, 3], Visibility::Private),
                target: project(2, &[50], Visibility::Private),
                user: user(false),
                memberships: vec![Membership::Namespace {
                    id: NamespaceId(50),
                    traversal_ids: vec![NamespaceId(50)],
                    level: AccessLevel::Developer,
                }],
                project_link: None,
                groups: GroupEntries::default(),
                instance_enforced: false,
            }
        }

        fn decide<'a>(&'a self, policy: Option<&'a str>) -> Result<Allowed<'a>, Denied> {
            decide(&Request {
                origin: &self.origin,
                target: &self.target,
                user: &self.user,
                memberships: &self.memberships,
                instance_enforced: self.instance_enforced,
                project_link: self.project_link.as_ref(),
                group_entries: &self.groups,
                policy,
            })
        }
    }

    #[test]
    fn an_empty_allowlist_refuses_other_projects_but_not_the_project_itself() {
        let mut w = World::new();
        assert_eq!(w.decide(None), Err(Denied::NotAllowed));
        w.origin = w.target.clone();
        assert_eq!(w.decide(None).unwrap().via, Via::SameProject);
    }

    #[test]
    fn with_enforcement_off_every_project_is_in_scope_unless_the_instance_enforces_it() {
        let mut w = World::new();
        w.target.inbound_scope_enabled = false;
        assert_eq!(w.decide(None).unwrap().via, Via::ScopeDisabled);
        w.instance_enforced = true;
        assert_eq!(w.decide(None), Err(Denied::NotAllowed));
    }

    #[test]
    fn a_project_entry_admits_with_the_users_own_role() {
        let mut w = World::new();
        w.project_link = Some(project_link(&w.target, &w.origin, None));
        let allowed = w.decide(None).unwrap();
        assert!(matches!(allowed.via, Via::Project(_)));
        assert_eq!(allowed.access_level, Some(AccessLevel::Developer));
    }

    #[test]
    fn group_entries_match_any_ancestor_and_the_nearest_one_decides() {
        let mut w = World::new();
        w.groups = GroupEntries::new([
            group_link(&w.target, 1, Some(&["read_jobs"])),
            group_link(&w.target, 2, Some(&["admin_packages"])),
            group_link(&w.target, 99, None),
        ]);
        // g2 is nearer to A (in g1/g2/g3) than g1: its list decides.
        let allowed = w.decide(Some("read_packages")).unwrap();
        assert!(matches!(allowed.via, Via::Group(g) if g.target_group_id == NamespaceId(2)));
        assert_eq!(
            w.decide(Some("read_jobs")),
            Err(Denied::Policy {
                required: vec!["read_jobs".into()]
            })
        );
        // A project entry comes before any group entry.
        w.project_link = Some(project_link(&w.target, &w.origin, Some(&["read_jobs"])));
        assert!(matches!(
            w.decide(Some("read_jobs")).unwrap().via,
            Via::Project(_)
        ));
        // An entry for an unrelated group admits nothing.
        w.project_link = None;
        w.groups = GroupEntries::new([group_link(&w.target, 99, None)]);
        assert_eq!(w.decide(None), Err(Denied::NotAllowed));
    }

    #[test]
    fn fine_grained_entries_refuse_requests_naming_no_policy() {
        let mut w = World::new();
        w.project_link = Some(project_link(&w.target, &w.origin, Some(&["read_jobs"])));
        assert_eq!(w.decide(None), Err(Denied::Policy { required: vec![] }));
        assert!(w.decide(Some("read_jobs")).is_ok());
    }

    #[test]
    fn a_private_target_the_user_cannot_read_is_not_visible_even_when_allowlisted() {
        let mut w = World::new();
        w.project_link = Some(project_link(&w.target, &w.origin, None));
        w.memberships.clear();
        assert_eq!(w.decide(None), Err(Denied::NotVisible));
        w.user = user(true);
        assert_eq!(
            w.decide(None).unwrap().access_level,
            Some(AccessLevel::Owner)
        );
    }

    #[test]
    fn the_policy_needs_a_role_in_the_target_except_reading_public_projects() {
        let mut w = World::new();
        w.project_link = Some(project_link(&w.target, &w.origin, None));
        assert_eq!(
            w.decide(Some("admin_secure_files")),
            Err(Denied::Role {
                needed: AccessLevel::Maintainer
            })
        );
        w.memberships.clear();
        w.target.visibility = Visibility::Public;
        assert!(w.decide(Some("read_jobs")).is_ok());
        assert_eq!(
            w.decide(Some("admin_jobs")),
            Err(Denied::Role {
                needed: AccessLevel::Developer
            })
        );
        // Being public never widens the scope.
        w.project_link = None;
        assert_eq!(w.decide(Some("read_jobs")), Err(Denied::NotAllowed));
    }
}
