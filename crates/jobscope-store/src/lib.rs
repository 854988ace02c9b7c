//! The storage seam of jobscope.
//!
//! [`Store`] lists every operation the server needs, in domain terms. Each backend crate
//! (`jobscope-store-sqlite`, later PostgreSQL) owns its SQL and migrations and implements the
//! trait; the conformance suite in [`conformance`] (feature `testing`) is run by each backend's
//! own tests, so all backends behave the same.
//!
//! Rules every implementation keeps:
//! - writes that check a rule and then write (limits, uniqueness) are atomic;
//! - an acknowledged write is durable before the call returns;
//! - secrets never reach the store: tokens arrive as digests.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod error;
pub mod query;
pub mod records;
pub mod secrets;
pub mod snapshot;

#[cfg(feature = "testing")]
pub mod conformance;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use jobscope_types::{AccessLevel, NamespaceId, ProjectId, TokenId, UserId};

pub use error::{Conflict, StoreError, StoreResult};
pub use query::*;
pub use records::*;
pub use secrets::token_digest;

/// GitLab's `PROJECT_LINK_DIRECTIONAL_LIMIT`: project links per source project and direction.
pub const PROJECT_LINK_LIMIT: u64 = 200;
/// GitLab's `GROUP_LINK_LIMIT`: group links per source project.
pub const GROUP_LINK_LIMIT: u64 = 200;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- instance settings -------------------------------------------------------------
    async fn instance_settings(&self) -> StoreResult<InstanceSettings>;
    /// The instance's token salt ([`secrets`]): random, made when the database was created,
    /// and `""` in databases that held tokens before salting existed. Never changes after.
    async fn token_salt(&self) -> StoreResult<String>;
    async fn update_instance_settings(
        &self,
        patch: InstanceSettingsPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceSettings>;

    // ---- users -------------------------------------------------------------------------
    /// Creates the user and its personal namespace. `Conflict::Username` / `Conflict::Email`
    /// (case-insensitive), or `Conflict::Path` when a group already uses the username as path.
    async fn create_user(&self, new: NewUser) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// Ordered by id, newest first (GitLab's default).
    async fn list_users(&self, query: &UserQuery, page: PageRequest) -> StoreResult<Paged<User>>;
    async fn update_user(&self, id: UserId, patch: UserPatch) -> StoreResult<User>;
    async fn set_user_state(&self, id: UserId, state: crate::UserState) -> StoreResult<()>;
    /// Deletes the user, its personal namespace and projects, memberships and tokens.
    async fn delete_user(&self, id: UserId) -> StoreResult<()>;
    async fn count_users(&self) -> StoreResult<u64>;

    // ---- personal access tokens --------------------------------------------------------
    async fn create_personal_access_token(
        &self,
        new: NewPersonalAccessToken,
    ) -> StoreResult<PersonalAccessToken>;
    async fn personal_access_token_by_digest(
        &self,
        digest: &str,
    ) -> StoreResult<Option<PersonalAccessToken>>;
    async fn personal_access_token(&self, id: TokenId) -> StoreResult<Option<PersonalAccessToken>>;
    /// Ordered by id, ascending.
    async fn list_personal_access_tokens(
        &self,
        query: &TokenQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<PersonalAccessToken>>;
    /// Marks the token revoked; `false` when it already was.
    async fn revoke_personal_access_token(&self, id: TokenId) -> StoreResult<bool>;
    /// Revokes `old` and creates `new` in one transaction. `NotFound` if `old` is not active.
    async fn rotate_personal_access_token(
        &self,
        old: TokenId,
        new: NewPersonalAccessToken,
        today: NaiveDate,
    ) -> StoreResult<PersonalAccessToken>;
    async fn touch_personal_access_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()>;

    // ---- web UI sessions -----------------------------------------------------------------
    /// Stores a new session (its `id_digest` is unique; a duplicate is an error).
    async fn create_web_session(&self, session: WebSession) -> StoreResult<()>;
    /// The session with this id digest, expired or not (the caller decides).
    async fn web_session(&self, id_digest: &str) -> StoreResult<Option<WebSession>>;
    /// Records activity: sets `last_seen_at`. No error when the session is gone.
    async fn touch_web_session(&self, id_digest: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Ends a session; `false` when there was none.
    async fn delete_web_session(&self, id_digest: &str) -> StoreResult<bool>;
    /// Deletes every session past its absolute expiry (`expires_at <= now`) or idle since
    /// `idle_before` (`last_seen_at <= idle_before`); returns how many.
    async fn delete_expired_web_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64>;

    // ---- namespaces and groups ---------------------------------------------------------
    /// `NotFound` when the parent does not exist; `Conflict::Path` when the full path is taken
    /// by any namespace or project.
    async fn create_group(&self, new: NewGroup) -> StoreResult<Namespace>;
    async fn namespace(&self, id: NamespaceId) -> StoreResult<Option<Namespace>>;
    /// Case-insensitive.
    async fn namespace_by_full_path(&self, full_path: &str) -> StoreResult<Option<Namespace>>;
    async fn namespaces_by_ids(&self, ids: &[NamespaceId]) -> StoreResult<Vec<Namespace>>;
    /// Groups only (never personal namespaces).
    async fn list_groups(
        &self,
        query: &GroupQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Namespace>>;
    /// Deletes the group, its descendants, their projects, memberships and allowlist entries.
    async fn delete_group(&self, id: NamespaceId) -> StoreResult<()>;

    // ---- projects ----------------------------------------------------------------------
    async fn create_project(&self, new: NewProject) -> StoreResult<Project>;
    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>>;
    /// Case-insensitive.
    async fn project_by_full_path(&self, full_path: &str) -> StoreResult<Option<Project>>;
    async fn projects_by_ids(&self, ids: &[ProjectId]) -> StoreResult<Vec<Project>>;
    async fn list_projects(
        &self,
        query: &ProjectQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Project>>;
    /// Deletes the project with its memberships and every allowlist entry naming it.
    async fn delete_project(&self, id: ProjectId) -> StoreResult<()>;

    // ---- memberships -------------------------------------------------------------------
    /// Every direct membership of the user, with hierarchy information.
    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<Membership>>;
    async fn member(&self, source: MemberSource, user: UserId) -> StoreResult<Option<Member>>;
    /// Direct members, ordered by user id.
    async fn list_members(
        &self,
        source: MemberSource,
        query: &MemberQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Member>>;
    /// Members of any of `sources`, one row per user: the membership with the highest level
    /// (ties: the first source given). Ordered by user id.
    async fn list_members_of_any(
        &self,
        sources: &[MemberSource],
        query: &MemberQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Member>>;
    /// `Conflict::Member` if the user is already a direct member.
    async fn add_member(&self, new: NewMember) -> StoreResult<Member>;
    async fn update_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<Option<NaiveDate>>,
    ) -> StoreResult<Member>;
    async fn remove_member(&self, source: MemberSource, user: UserId) -> StoreResult<bool>;
    /// Direct Owner members of the namespace.
    async fn count_namespace_owners(&self, namespace: NamespaceId) -> StoreResult<u64>;

    // ---- job token scope ----------------------------------------------------------------
    /// Sets the stored inbound flag and returns the previous value. When the value changes
    /// and `audit` is given, the event is written in the same transaction.
    async fn set_inbound_scope_enabled(
        &self,
        project: ProjectId,
        enabled: bool,
        audit: Option<NewAuditEvent>,
    ) -> StoreResult<bool>;
    /// The project itself and every target of its inbound project links, ordered by id.
    async fn allowlist_projects(
        &self,
        source: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<Project>>;
    /// Targets of the project's group links, ordered by group id.
    async fn allowlist_groups(
        &self,
        source: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<Namespace>>;
    async fn project_links(
        &self,
        source: ProjectId,
        direction: LinkDirection,
    ) -> StoreResult<Vec<ProjectLink>>;
    async fn group_links(&self, source: ProjectId) -> StoreResult<Vec<GroupLink>>;
    /// The same entries as [`Store::group_links`], indexed for the decision. Stores build the
    /// index from the list; the read cache keeps it.
    async fn group_entries(&self, source: ProjectId) -> StoreResult<std::sync::Arc<GroupEntries>> {
        Ok(std::sync::Arc::new(GroupEntries::new(
            self.group_links(source).await?,
        )))
    }
    async fn project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        direction: LinkDirection,
    ) -> StoreResult<Option<ProjectLink>>;
    async fn group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
    ) -> StoreResult<Option<GroupLink>>;
    /// Adds an inbound project link and its audit event. Atomically: `LimitReached` when the
    /// source already has `limit` inbound links, else `Conflict::Link` when the link exists.
    async fn add_project_link(
        &self,
        new: NewLink<ProjectId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<ProjectLink>;
    /// Adds a group link, with the same rules as [`Store::add_project_link`].
    async fn add_group_link(
        &self,
        new: NewLink<NamespaceId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<GroupLink>;
    /// Removes an inbound project link, writing `audit` with it; `None` when there was none
    /// (and nothing is written). Returns the removed link.
    async fn remove_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>>;
    async fn remove_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>>;
    /// Changes an entry's fine-grained permissions; `None` when the entry does not exist.
    async fn update_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>>;
    async fn update_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>>;
    /// Applies a batch of allowlist changes to `source` in one transaction: removals first,
    /// then additions (each checked against the limits, `LimitReached` / `Conflict::Link`
    /// abort everything), then the inbound flag, then the audit events.
    async fn apply_scope_changes(
        &self,
        source: ProjectId,
        changes: ScopeChangeSet,
        project_limit: u64,
        group_limit: u64,
    ) -> StoreResult<()>;
    /// Projects whose allowlists name `origin` or one of `origin_groups`, with the entry.
    async fn admissions_of(
        &self,
        origin: ProjectId,
        origin_groups: &[NamespaceId],
    ) -> StoreResult<Vec<(Project, Admission)>>;

    // ---- CI jobs -------------------------------------------------------------------------
    async fn create_job(&self, new: NewJob) -> StoreResult<Job>;
    async fn job(&self, id: jobscope_types::JobId) -> StoreResult<Option<Job>>;
    async fn job_by_token_digest(&self, digest: &str) -> StoreResult<Option<Job>>;
    /// Ends a running job; `None` when the job does not exist or is not running.
    async fn finish_job(
        &self,
        id: jobscope_types::JobId,
        status: JobStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Job>>;
    /// Cancels every running job of the user; returns how many.
    async fn cancel_running_jobs_of(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<u64>;

    // ---- authentication log --------------------------------------------------------------
    /// Merges accesses into the log: one row per (accessed, origin), the latest time, and per
    /// policy the latest time it was needed.
    async fn record_authorizations(&self, records: &[AuthorizationRecord]) -> StoreResult<()>;
    /// Newest first.
    async fn authorization_logs(
        &self,
        accessed: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<AuthorizationLog>>;

    // ---- moving data ---------------------------------------------------------------------
    /// Every row, in id order (one consistent read).
    async fn export(&self) -> StoreResult<snapshot::Snapshot>;
    /// Loads a snapshot into this store, which must be empty (no users); ids are kept and the
    /// id sequences continue after the highest one. All or nothing.
    async fn import(&self, snapshot: &snapshot::Snapshot) -> StoreResult<()>;

    // ---- audit events --------------------------------------------------------------------
    /// Newest first.
    async fn audit_events(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<AuditEvent>>;

    // ---- change announcements ------------------------------------------------------------
    /// Starts watching for committed changes, by any process, to what authentication and the
    /// decision read (users, tokens other than their last use, namespaces, projects,
    /// memberships, allowlists, jobs, instance settings). Changes to the authentication log
    /// and audit events are not announced. A server's caches rely on it (see
    /// `jobscope-server/src/cache.rs`).
    async fn watch_changes(&self) -> StoreResult<Box<dyn ChangeWatch>>;

    // ---- health ----------------------------------------------------------------------------
    /// One round trip to the database, answered by no cache: `Ok` when it can be reached.
    /// Readiness probes call it. The default reads the instance settings.
    async fn ping(&self) -> StoreResult<()> {
        self.instance_settings().await.map(|_| ())
    }

    /// The connection pool's state, for metrics; `None` for a store without a pool. Cheap: it
    /// reads counters and does not wait.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }
}

/// A snapshot of a store's connection pool ([`Store::pool_status`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open, in use or idle.
    pub open: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// The most the pool will open.
    pub max: u32,
}

impl PoolStatus {
    /// Open connections lent to a caller.
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

/// Announcements of committed changes, from [`Store::watch_changes`].
#[async_trait]
pub trait ChangeWatch: Send {
    /// Returns once a change may have been committed since the previous call (or since the
    /// watch started). An error means announcements may have been lost: the caller must
    /// assume anything changed and start a new watch.
    async fn changed(&mut self) -> StoreResult<()>;
}
