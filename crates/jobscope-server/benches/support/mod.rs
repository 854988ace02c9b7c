//! Inputs for the decision benchmarks (issue 6, goal 1), shared by `decision.rs` (criterion)
//! and `decision_latency.rs` (per-call percentiles).
//!
//! The shape, the same in every case:
//! - A, the origin project, sits in a namespace 21 levels deep: the root group `1`, then
//!   groups `2` … `21`, so A's namespace is 20 levels below the root group.
//! - B, the target project, is private, in its own group `5000`, with its allowlist enforced
//!   (B's own flag; the instance setting is off).
//! - U, the job's user, is a Developer of B's group and a member of 10 unrelated groups.
//! - Every request names the policy `read_deployments`; the matching entries grant
//!   `admin_deployments` and `read_jobs` (not default permissions), so the policy check runs
//!   and finds `read_deployments` through `admin_X` ⇒ `read_X`.
//!
//! The cases, each at three sizes of B's allowlist (`Size`):
//! - `project_hit`: B has a project entry naming A. `decide` is handed that one entry, as
//!   `service/decision.rs` hands it what the store's indexed lookup found; the other project
//!   entries exist only in the store and never reach `decide`.
//! - `group_hit_depth20`: no project entry; a group entry names the root group, 20 levels
//!   above A's namespace. It is the last of B's group entries, and the root is the last
//!   ancestor `decide` tries (nearest first), so this is the slowest way to be admitted.
//! - `miss`: neither; the answer is `Denied::NotAllowed` after every ancestor was tried.

use chrono::{DateTime, Utc};
use jobscope_server::decision::{Allowed, Denied, Request, Via, decide};
use jobscope_store::{
    GroupEntries, GroupLink, LinkDirection, Membership, Namespace, NamespaceKind, Project,
    ProjectLink, User, UserState,
};
use jobscope_types::{AccessLevel, NamespaceId, ProjectId, UserId, Visibility};

/// The policy every request names.
pub const POLICY: &str = "read_deployments";
/// Levels between the allowlisted root group and A's namespace.
pub const DEPTH: i64 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    ProjectHit,
    GroupHitDepth20,
    Miss,
}

impl Case {
    pub const ALL: [Case; 3] = [Case::ProjectHit, Case::GroupHitDepth20, Case::Miss];

    pub fn name(self) -> &'static str {
        match self {
            Case::ProjectHit => "project_hit",
            Case::GroupHitDepth20 => "group_hit_depth20",
            Case::Miss => "miss",
        }
    }
}

/// How many project and group entries B's allowlist holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// No entries but the one a hit needs (the miss has none at all).
    Empty,
    /// 200 project + 200 group entries: the API's limits.
    Limit,
    /// 2000 + 2000: ten times the limits, built directly.
    TenTimes,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Empty, Size::Limit, Size::TenTimes];

    pub fn entries(self) -> usize {
        match self {
            Size::Empty => 0,
            Size::Limit => 200,
            Size::TenTimes => 2000,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Size::Empty => "0+0",
            Size::Limit => "200+200",
            Size::TenTimes => "2000+2000",
        }
    }
}

/// Everything a [`Request`] borrows, for one case and size.
pub struct Fixture {
    pub case: Case,
    origin: Project,
    target: Project,
    user: User,
    memberships: Vec<Membership>,
    /// B's project entries, as the store holds them.
    project_links: Vec<ProjectLink>,
    /// Index into `project_links` of the entry naming A (what the store's lookup returns).
    project_hit: Option<usize>,
    /// B's group entries, indexed as the store hands them to `decide`.
    group_entries: GroupEntries,
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("a valid timestamp")
}

fn namespace(traversal: &[i64], owner_is_group: bool) -> Namespace {
    let id = *traversal.last().expect("a traversal path is never empty");
    let path: Vec<String> = traversal.iter().map(|i| format!("g{i}")).collect();
    Namespace {
        id: NamespaceId(id),
        kind: if owner_is_group {
            NamespaceKind::Group
        } else {
            NamespaceKind::User
        },
        name: format!("g{id}"),
        path: format!("g{id}"),
        full_path: path.join("/"),
        full_name: path.join(" / "),
        parent_id: traversal.iter().rev().nth(1).map(|p| NamespaceId(*p)),
        traversal_ids: traversal.iter().map(|i| NamespaceId(*i)).collect(),
        visibility: Visibility::Private,
        description: String::new(),
        owner_id: None,
        created_at: at(),
    }
}

fn project(id: i64, ns: Namespace) -> Project {
    Project {
        id: ProjectId(id),
        name: format!("p{id}"),
        path: format!("p{id}"),
        full_path: format!("{}/p{id}", ns.full_path),
        description: None,
        visibility: Visibility::Private,
        namespace: ns,
        default_branch: Some("main".into()),
        topics: Vec::new(),
        creator_id: None,
        created_at: at(),
        last_activity_at: at(),
        inbound_scope_enabled: true,
        outbound_scope_enabled: false,
    }
}

fn policies() -> Vec<String> {
    vec!["admin_deployments".into(), "read_jobs".into()]
}

fn project_link(target: ProjectId, source: i64) -> ProjectLink {
    ProjectLink {
        source_project_id: target,
        target_project_id: ProjectId(source),
        direction: LinkDirection::Inbound,
        added_by: Some(UserId(1)),
        created_at: at(),
        job_token_policies: policies(),
        default_permissions: false,
        autopopulated: false,
    }
}

fn group_link(target: ProjectId, group: i64) -> GroupLink {
    GroupLink {
        source_project_id: target,
        target_group_id: NamespaceId(group),
        added_by: Some(UserId(1)),
        created_at: at(),
        job_token_policies: policies(),
        default_permissions: false,
        autopopulated: false,
    }
}

impl Fixture {
    pub fn new(case: Case, size: Size) -> Self {
        let chain: Vec<i64> = (1..=DEPTH + 1).collect();
        let origin = project(1, namespace(&chain, true));
        let target_group = 5000;
        let target = project(2, namespace(&[target_group], true));
        let user = User {
            id: UserId(7),
            username: "ci-user".into(),
            email: "ci-user@example.invalid".into(),
            name: "CI user".into(),
            state: UserState::Active,
            admin: false,
            external: false,
            bot: false,
            can_create_group: true,
            projects_limit: 100,
            namespace_id: NamespaceId(9000),
            created_at: at(),
        };
        let mut memberships: Vec<Membership> = (0..10)
            .map(|i| Membership::Namespace {
                id: NamespaceId(6000 + i),
                traversal_ids: vec![NamespaceId(6000 + i)],
                level: AccessLevel::Maintainer,
            })
            .collect();
        memberships.push(Membership::Namespace {
            id: NamespaceId(target_group),
            traversal_ids: vec![NamespaceId(target_group)],
            level: AccessLevel::Developer,
        });

        // Unrelated entries: projects 10_000.. and groups 100_000.. (none is A or above A).
        let n = size.entries();
        let mut project_links: Vec<ProjectLink> = (0..n)
            .map(|i| project_link(target.id, 10_000 + i as i64))
            .collect();
        let mut group_links: Vec<GroupLink> = (0..n)
            .map(|i| group_link(target.id, 100_000 + i as i64))
            .collect();
        let mut project_hit = None;
        match case {
            Case::ProjectHit => {
                // The entry naming A takes one of the `n` places (or is the only one).
                project_links.pop();
                project_links.push(project_link(target.id, origin.id.0));
                project_hit = Some(project_links.len() - 1);
            }
            Case::GroupHitDepth20 => {
                group_links.pop();
                group_links.push(group_link(target.id, chain[0]));
            }
            Case::Miss => {}
        }
        let f = Fixture {
            case,
            origin,
            target,
            user,
            memberships,
            project_links,
            project_hit,
            group_entries: GroupEntries::new(group_links),
        };
        f.check();
        f
    }

    pub fn request(&self) -> Request<'_> {
        Request {
            origin: &self.origin,
            target: &self.target,
            user: &self.user,
            memberships: &self.memberships,
            instance_enforced: false,
            project_link: self.project_hit.map(|i| &self.project_links[i]),
            group_entries: &self.group_entries,
            policy: Some(POLICY),
        }
    }

    /// Panics unless `decide` answers as the case says, so a benchmark never measures the
    /// wrong path.
    fn check(&self) {
        let r = self.request();
        let got = decide(&r);
        match (self.case, got) {
            (
                Case::ProjectHit,
                Ok(Allowed {
                    via: Via::Project(l),
                    access_level: Some(AccessLevel::Developer),
                }),
            ) => assert_eq!(l.target_project_id, self.origin.id),
            (
                Case::GroupHitDepth20,
                Ok(Allowed {
                    via: Via::Group(g),
                    access_level: Some(AccessLevel::Developer),
                }),
            ) => {
                assert_eq!(g.target_group_id, NamespaceId(1));
                let depth = self.origin.namespace.depth() as i64 - 1;
                assert_eq!(depth, DEPTH);
            }
            (Case::Miss, Err(Denied::NotAllowed)) => {}
            (case, got) => panic!("{case:?}: unexpected decision {got:?}"),
        }
    }
}
