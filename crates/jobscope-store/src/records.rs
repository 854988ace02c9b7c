//! What the store keeps, as the rest of jobscope sees it. These are domain records, not wire
//! types: the server turns them into GitLab's JSON shapes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, NaiveDate, Utc};
use jobscope_types::{AccessLevel, NamespaceId, ProjectId, TokenId, UserId, Visibility};

/// Whether a user may sign in and use the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserState {
    Active,
    Blocked,
    Deactivated,
}

impl UserState {
    pub const fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Blocked => "blocked",
            UserState::Deactivated => "deactivated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserState::Active),
            "blocked" => Some(UserState::Blocked),
            "deactivated" => Some(UserState::Deactivated),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name: String,
    pub state: UserState,
    pub admin: bool,
    pub external: bool,
    pub bot: bool,
    pub can_create_group: bool,
    pub projects_limit: i64,
    /// The user's personal namespace (`namespaces.kind = 'user'`).
    pub namespace_id: NamespaceId,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.state == UserState::Active
    }
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub name: String,
    pub admin: bool,
    pub external: bool,
    pub bot: bool,
    pub can_create_group: bool,
    pub projects_limit: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub admin: Option<bool>,
    pub external: Option<bool>,
    pub can_create_group: Option<bool>,
    pub projects_limit: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NamespaceKind {
    Group,
    User,
}

impl NamespaceKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            NamespaceKind::Group => "group",
            NamespaceKind::User => "user",
        }
    }
}

/// A group or a user's personal namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    pub id: NamespaceId,
    pub kind: NamespaceKind,
    pub name: String,
    pub path: String,
    pub full_path: String,
    /// Names from the root down, joined with " / " (GitLab's `full_name`).
    pub full_name: String,
    pub parent_id: Option<NamespaceId>,
    /// Ids from the root group down to this namespace itself (GitLab's `traversal_ids`).
    pub traversal_ids: Vec<NamespaceId>,
    pub visibility: Visibility,
    pub description: String,
    /// The owner of a personal namespace; `None` for groups.
    pub owner_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl Namespace {
    pub fn is_group(&self) -> bool {
        self.kind == NamespaceKind::Group
    }

    /// Ancestor group ids, nearest first (the direct parent, then its parent, ...).
    pub fn ancestor_ids_nearest_first(&self) -> impl Iterator<Item = NamespaceId> + '_ {
        self.traversal_ids.iter().rev().skip(1).copied()
    }

    /// This namespace and its ancestors, nearest (itself) first.
    pub fn self_and_ancestor_ids(&self) -> impl Iterator<Item = NamespaceId> + '_ {
        self.traversal_ids.iter().rev().copied()
    }

    pub fn depth(&self) -> usize {
        self.traversal_ids.len()
    }
}

#[derive(Clone, Debug)]
pub struct NewGroup {
    pub name: String,
    pub path: String,
    pub parent_id: Option<NamespaceId>,
    pub visibility: Visibility,
    pub description: String,
    /// Made an Owner member of the new group.
    pub creator: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub description: Option<String>,
    pub visibility: Visibility,
    pub namespace: Namespace,
    pub default_branch: Option<String>,
    pub topics: Vec<String>,
    pub creator_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// Stored "limit access to this project" flag (before the instance setting is applied).
    pub inbound_scope_enabled: bool,
    /// The deprecated outbound flag, reported as `outbound_enabled`.
    pub outbound_scope_enabled: bool,
}

impl Project {
    pub fn name_with_namespace(&self) -> String {
        format!("{} / {}", self.namespace.full_name, self.name)
    }
}

#[derive(Clone, Debug)]
pub struct NewProject {
    pub name: String,
    pub path: String,
    pub namespace_id: NamespaceId,
    pub description: Option<String>,
    pub visibility: Visibility,
    pub default_branch: Option<String>,
    pub topics: Vec<String>,
    pub creator_id: Option<UserId>,
    /// Made a Maintainer member of the new project (GitLab does this for a creator whose
    /// inherited role is lower).
    pub add_creator_as: Option<(UserId, AccessLevel)>,
    pub created_at: DateTime<Utc>,
}

/// What a membership is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberSource {
    Project(ProjectId),
    Namespace(NamespaceId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub source: MemberSource,
    pub user: User,
    pub access_level: AccessLevel,
    pub expires_at: Option<NaiveDate>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewMember {
    pub source: MemberSource,
    pub user_id: UserId,
    pub access_level: AccessLevel,
    pub expires_at: Option<NaiveDate>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// One of a user's direct memberships, with the place in the hierarchy it applies to. This is
/// what the access rules need to compute inherited roles without further queries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Membership {
    Namespace {
        id: NamespaceId,
        /// The namespace's traversal ids (root first, itself last).
        traversal_ids: Vec<NamespaceId>,
        level: AccessLevel,
    },
    Project {
        id: ProjectId,
        /// The traversal ids of the project's namespace.
        namespace_traversal_ids: Vec<NamespaceId>,
        level: AccessLevel,
    },
}

/// A personal access token. The secret itself is never kept; only its digest, which is not
/// part of this record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalAccessToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub revoked: bool,
    pub expires_at: Option<NaiveDate>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl PersonalAccessToken {
    /// GitLab: a token expires at the start of its `expires_at` day (UTC).
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires_at.is_some_and(|d| d <= today)
    }

    pub fn is_active(&self, today: NaiveDate) -> bool {
        !self.revoked && !self.is_expired(today)
    }
}

#[derive(Clone, Debug)]
pub struct NewPersonalAccessToken {
    pub user_id: UserId,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<NaiveDate>,
    /// Hex SHA-256 of the full token string.
    pub token_digest: String,
    pub created_at: DateTime<Utc>,
}

/// A signed-in browser session of the web UI. The session id itself (the cookie's value) never
/// reaches the store: it is looked up by its digest, as tokens are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSession {
    /// Hex digest of the session id the browser holds.
    pub id_digest: String,
    pub user_id: UserId,
    /// The personal access token the user signed in with (its id, never the token): checked
    /// again on every request, so revoking it ends the session.
    pub token_id: TokenId,
    /// The per-session secret every form and script request must carry (CSRF protection).
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end of the session, however active it is.
    pub expires_at: DateTime<Utc>,
}

/// Instance-wide settings (`/application/settings`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceSettings {
    pub enforce_ci_inbound_job_token_scope_enabled: bool,
    pub default_project_visibility: Visibility,
    pub default_group_visibility: Visibility,
    pub default_projects_limit: i64,
    pub max_personal_access_token_lifetime: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default)]
pub struct InstanceSettingsPatch {
    pub enforce_ci_inbound_job_token_scope_enabled: Option<bool>,
    pub default_project_visibility: Option<Visibility>,
    pub default_group_visibility: Option<Visibility>,
    pub default_projects_limit: Option<i64>,
    pub max_personal_access_token_lifetime: Option<Option<i64>>,
}

/// Direction of a project link. Only inbound links are created by the REST API; outbound ones
/// are the deprecated "limit access from this project" list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkDirection {
    Outbound,
    Inbound,
}

impl LinkDirection {
    pub const fn as_i64(self) -> i64 {
        match self {
            LinkDirection::Outbound => 0,
            LinkDirection::Inbound => 1,
        }
    }
}

/// An entry of a project's allowlist naming another project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectLink {
    pub source_project_id: ProjectId,
    pub target_project_id: ProjectId,
    pub direction: LinkDirection,
    pub added_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub job_token_policies: Vec<String>,
    pub default_permissions: bool,
    pub autopopulated: bool,
}

/// An entry of a project's allowlist naming a group (and so every project below it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupLink {
    pub source_project_id: ProjectId,
    pub target_group_id: NamespaceId,
    pub added_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub job_token_policies: Vec<String>,
    pub default_permissions: bool,
    pub autopopulated: bool,
}

/// A new allowlist entry; the store enforces uniqueness and the per-project limit atomically.
#[derive(Clone, Debug)]
pub struct NewLink<T> {
    pub source_project_id: ProjectId,
    pub target: T,
    pub added_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub job_token_policies: Vec<String>,
    pub default_permissions: bool,
    pub autopopulated: bool,
}

/// A CI job's state. A job's token is valid only while the job is `Running`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Running,
    Success,
    Failed,
    Canceled,
}

impl JobStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Success => "success",
            JobStatus::Failed => "failed",
            JobStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(JobStatus::Running),
            "success" => Some(JobStatus::Success),
            "failed" => Some(JobStatus::Failed),
            "canceled" => Some(JobStatus::Canceled),
            _ => None,
        }
    }
}

/// A CI job, as the CI system reported it. Its token is kept only as a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: jobscope_types::JobId,
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub name: String,
    pub ref_name: String,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct NewJob {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub name: String,
    pub ref_name: String,
    /// Hex SHA-256 of the job token.
    pub token_digest: String,
    pub created_at: DateTime<Utc>,
}

/// One successful cross-project access by a job token, to be merged into the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRecord {
    pub accessed_project_id: ProjectId,
    pub origin_project_id: ProjectId,
    pub at: DateTime<Utc>,
    /// The job token policies the access needed (empty when none).
    pub policies: Vec<String>,
}

/// One (accessed, origin) pair of a batch of [`AuthorizationRecord`]s after merging: the
/// latest time, and for each policy the latest time it was needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedAuthorization {
    pub accessed_project_id: ProjectId,
    pub origin_project_id: ProjectId,
    pub at: DateTime<Utc>,
    pub policies: std::collections::BTreeMap<String, DateTime<Utc>>,
}

impl MergedAuthorization {
    /// Folds what the log already holds for this pair into it (the later time wins, per
    /// policy too), so that one write can replace the row.
    pub fn absorb(
        &mut self,
        at: DateTime<Utc>,
        policies: &std::collections::BTreeMap<String, DateTime<Utc>>,
    ) {
        self.at = self.at.max(at);
        for (name, t) in policies {
            let mine = self.policies.entry(name.clone()).or_insert(*t);
            *mine = (*mine).max(*t);
        }
    }
}

/// Merges a batch into one entry per (accessed, origin) pair, in pair order, so that a
/// backend writes each row once (and in an order that cannot deadlock with another batch).
pub fn merge_authorizations(records: &[AuthorizationRecord]) -> Vec<MergedAuthorization> {
    let mut merged: std::collections::BTreeMap<(ProjectId, ProjectId), MergedAuthorization> =
        std::collections::BTreeMap::new();
    for r in records {
        let entry = merged
            .entry((r.accessed_project_id, r.origin_project_id))
            .or_insert_with(|| MergedAuthorization {
                accessed_project_id: r.accessed_project_id,
                origin_project_id: r.origin_project_id,
                at: r.at,
                policies: std::collections::BTreeMap::new(),
            });
        entry.at = entry.at.max(r.at);
        for name in &r.policies {
            let t = entry.policies.entry(name.clone()).or_insert(r.at);
            *t = (*t).max(r.at);
        }
    }
    merged.into_values().collect()
}

/// A row of a project's job token authentication log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationLog {
    pub origin: Project,
    pub last_authorized_at: DateTime<Utc>,
    /// Policy name → when it was last needed.
    pub job_token_policies: std::collections::BTreeMap<String, DateTime<Utc>>,
}

/// An audit event to write together with the change it describes.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAuditEvent {
    pub author_id: Option<UserId>,
    /// `Project`, `Group` or `User`.
    pub entity_type: String,
    pub entity_id: i64,
    pub entity_path: String,
    pub event_name: String,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    /// GitLab's `details` object (custom message, author, target, …).
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    pub author_id: Option<UserId>,
    pub entity_type: String,
    pub entity_id: i64,
    pub entity_path: String,
    pub event_name: String,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// A batch of allowlist changes applied in one transaction (autopopulation and its undo).
#[derive(Clone, Debug, Default)]
pub struct ScopeChangeSet {
    pub remove_projects: Vec<ProjectId>,
    pub remove_groups: Vec<NamespaceId>,
    pub add_projects: Vec<NewLink<ProjectId>>,
    pub add_groups: Vec<NewLink<NamespaceId>>,
    /// Set the project's stored inbound flag.
    pub set_inbound: Option<bool>,
    pub audit: Vec<NewAuditEvent>,
}

/// Why an origin project's jobs may reach a project (the reverse lookup).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    Project(ProjectLink),
    Group(GroupLink),
}

/// A project's group entries, indexed by group id: the decision looks one up for each group
/// above the origin project, so the cost of a check depends on the origin's depth and not on
/// how many entries the allowlist holds.
#[derive(Clone, Debug, Default)]
pub struct GroupEntries {
    by_group: HashMap<NamespaceId, GroupLink, BuildHasherDefault<IdHasher>>,
}

impl GroupEntries {
    pub fn new(links: impl IntoIterator<Item = GroupLink>) -> GroupEntries {
        GroupEntries {
            by_group: links.into_iter().map(|l| (l.target_group_id, l)).collect(),
        }
    }

    /// The entry naming `group`, if any.
    pub fn get(&self, group: NamespaceId) -> Option<&GroupLink> {
        self.by_group.get(&group)
    }

    pub fn len(&self) -> usize {
        self.by_group.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_group.is_empty()
    }
}

/// A hasher for integer ids (a multiply and a rotate, as in rustc's FxHasher). The keys are
/// ids the database assigned, so SipHash's resistance to chosen keys buys nothing here.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl IdHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
}
