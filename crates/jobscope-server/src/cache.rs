//! The read cache in front of the store: what authentication and the decision read on every
//! request (tokens, jobs, users, memberships, projects, namespaces, allowlist entries, the
//! instance settings) is answered from memory once it has been read, so that in steady state
//! a job token check or a personal access token authentication makes no database round trip.
//!
//! Correctness rests on two rules:
//! - **This process's writes** go through [`CachedStore`], which forgets everything after each
//!   write returns and before the caller can acknowledge it, so the next request reads afresh.
//! - **Other processes' writes** are announced by the store ([`Store::watch_changes`]:
//!   PostgreSQL `NOTIFY` on commit, SQLite a counter read every few milliseconds); a
//!   background task ([`CachedStore::spawn_watcher`]) forgets everything on each announcement.
//!   While the announcements cannot be trusted (the watch failed and is being restarted, or
//!   has not started yet in a server that shares its database) the cache is bypassed.
//!
//! A value read before a write and stored after it would outlive the write; a generation
//! counter, bumped on every invalidation and checked under the map's lock before storing,
//! prevents that.
//!
//! Invalidation is coarse (everything) because writes are rare next to checks. Unknown
//! token digests are never cached, so guessing tokens cannot fill memory; each map is also
//! capped.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use jobscope_store::*;
use jobscope_types::{AccessLevel, JobId, NamespaceId, ProjectId, TokenId, UserId};

use crate::metrics::{CacheCounts, StripedCounter};

/// Entries a map may hold before it is emptied (a bound on memory, not an eviction policy):
/// with the largest records (projects with their namespaces, about 1 KiB each) a full map
/// holds about 256 MiB.
const MAP_CAP: usize = 1 << 18;

/// One cached map. Values are cloned out.
struct Map<K, V> {
    inner: RwLock<HashMap<K, V>>,
}

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn new() -> Self {
        Map {
            inner: RwLock::new(HashMap::new()),
        }
    }

    fn get<Q>(&self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.inner.read().ok()?.get(k).cloned()
    }

    /// Stores `v` unless the cache was invalidated since `generation` was read.
    fn put(&self, generation: &AtomicU64, seen: u64, k: K, v: V) {
        if let Ok(mut m) = self.inner.write() {
            if generation.load(Ordering::SeqCst) != seen {
                return;
            }
            if m.len() >= MAP_CAP {
                m.clear();
            }
            m.insert(k, v);
        }
    }

    fn clear(&self) {
        if let Ok(mut m) = self.inner.write() {
            m.clear();
        }
    }
}

/// Personal access tokens by digest, with their ids (to record a use without invalidating).
struct Tokens {
    by_digest: HashMap<String, PersonalAccessToken>,
    digest_of: HashMap<TokenId, String>,
}

/// A [`Store`] that answers the hot reads from memory. See the module documentation.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    generation: AtomicU64,
    /// False while announcements of other processes' changes cannot be relied on.
    trusted: AtomicBool,
    /// Calls that reached the inner store (for tests and metrics).
    calls: AtomicU64,
    /// Reads answered from memory (for metrics; striped, as every request makes several).
    hits: StripedCounter,
    settings: Map<(), InstanceSettings>,
    tokens: RwLock<Tokens>,
    users: Map<UserId, Option<User>>,
    memberships: Map<UserId, Vec<Membership>>,
    projects: Map<ProjectId, Option<Project>>,
    project_paths: Map<String, Project>,
    namespaces: Map<NamespaceId, Option<Namespace>>,
    project_links: Map<(ProjectId, ProjectId, LinkDirection), Option<ProjectLink>>,
    group_links: Map<ProjectId, Vec<GroupLink>>,
    /// The same entries indexed for the decision, shared rather than copied.
    group_entries: Map<ProjectId, Arc<GroupEntries>>,
    jobs: Map<String, Job>,
}

impl CachedStore {
    /// A cache in front of `inner`, trusted from the start: right for a process that is the
    /// only writer of its database. A server that may share its database calls
    /// [`CachedStore::spawn_watcher`] before serving.
    pub fn new(inner: Arc<dyn Store>) -> CachedStore {
        CachedStore {
            inner,
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(true),
            calls: AtomicU64::new(0),
            hits: StripedCounter::default(),
            settings: Map::new(),
            tokens: RwLock::new(Tokens {
                by_digest: HashMap::new(),
                digest_of: HashMap::new(),
            }),
            users: Map::new(),
            memberships: Map::new(),
            projects: Map::new(),
            project_paths: Map::new(),
            namespaces: Map::new(),
            project_links: Map::new(),
            group_links: Map::new(),
            group_entries: Map::new(),
            jobs: Map::new(),
        }
    }

    /// How many calls reached the inner store so far.
    pub fn inner_calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Hits, calls that reached the store and invalidations so far, for `/-/metrics`.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            hits: self.hits.get(),
            store_calls: self.calls.load(Ordering::Relaxed),
            invalidations: self.generation.load(Ordering::Relaxed),
        }
    }

    /// Forgets everything.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.settings.clear();
        if let Ok(mut t) = self.tokens.write() {
            t.by_digest.clear();
            t.digest_of.clear();
        }
        self.users.clear();
        self.memberships.clear();
        self.projects.clear();
        self.project_paths.clear();
        self.namespaces.clear();
        self.project_links.clear();
        self.group_links.clear();
        self.group_entries.clear();
        self.jobs.clear();
    }

    /// Starts following the store's announcements of committed changes (other processes'
    /// writes). Returns once the first watch is established, so that nothing committed
    /// afterwards can be missed; until then, and whenever the watch has to be restarted, the
    /// cache is bypassed.
    pub async fn spawn_watcher(self: &Arc<Self>) -> StoreResult<tokio::task::JoinHandle<()>> {
        self.trusted.store(false, Ordering::SeqCst);
        let first = self.inner.watch_changes().await?;
        self.invalidate();
        self.trusted.store(true, Ordering::SeqCst);
        let cache = Arc::clone(self);
        Ok(tokio::spawn(async move { cache.follow(first).await }))
    }

    async fn follow(&self, mut watch: Box<dyn ChangeWatch>) {
        loop {
            match watch.changed().await {
                Ok(()) => self.invalidate(),
                Err(e) => {
                    tracing::warn!(error = %e, "change announcements lost; bypassing the cache");
                    self.trusted.store(false, Ordering::SeqCst);
                    self.invalidate();
                    watch = self.rewatch().await;
                    self.invalidate();
                    self.trusted.store(true, Ordering::SeqCst);
                    tracing::info!("change announcements restored; caching again");
                }
            }
        }
    }

    async fn rewatch(&self) -> Box<dyn ChangeWatch> {
        let mut delay = Duration::from_millis(50);
        loop {
            tokio::time::sleep(delay).await;
            match self.inner.watch_changes().await {
                Ok(w) => return w,
                Err(e) => {
                    tracing::warn!(error = %e, "could not watch for changes yet");
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn trusted(&self) -> bool {
        self.trusted.load(Ordering::SeqCst)
    }

    fn seen(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn count(&self) -> &Arc<dyn Store> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        &self.inner
    }
}

/// A read that only passes through.
macro_rules! read {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        $self.count().$method($($arg),*).await
    };
}

/// A write: passes through, then everything cached is forgotten (whether or not it failed:
/// a failed commit may still have happened).
macro_rules! write {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {{
        let result = $self.count().$method($($arg),*).await;
        $self.invalidate();
        result
    }};
}

/// A cached read: `$map` keyed by `$key`, filled by the inner call when missing.
macro_rules! cached {
    ($self:ident, $map:ident, $key:expr, $method:ident ( $($arg:expr),* )) => {{
        if $self.trusted()
            && let Some(v) = $self.$map.get(&$key)
        {
            $self.hits.incr();
            return Ok(v);
        }
        let seen = $self.seen();
        let v = $self.count().$method($($arg),*).await?;
        if $self.trusted() {
            $self.$map.put(&$self.generation, seen, $key, v.clone());
        }
        Ok(v)
    }};
}

/// A cached read of something that may not exist: only what was found is kept, so that
/// guessed tokens or paths cannot fill memory.
macro_rules! cached_if_found {
    ($self:ident, $map:ident, $key:expr, $method:ident ( $($arg:expr),* )) => {{
        // The key is borrowed for the lookup and only copied when something is stored.
        if $self.trusted()
            && let Some(v) = $self.$map.get($key)
        {
            $self.hits.incr();
            return Ok(Some(v));
        }
        let seen = $self.seen();
        let found = $self.count().$method($($arg),*).await?;
        if let (Some(v), true) = (&found, $self.trusted()) {
            $self.$map.put(&$self.generation, seen, $key.to_owned(), v.clone());
        }
        Ok(found)
    }};
}

#[async_trait]
impl Store for CachedStore {
    async fn instance_settings(&self) -> StoreResult<InstanceSettings> {
        cached!(self, settings, (), instance_settings())
    }
    async fn token_salt(&self) -> StoreResult<String> {
        read!(self.token_salt())
    }
    async fn update_instance_settings(
        &self,
        patch: InstanceSettingsPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceSettings> {
        write!(self.update_instance_settings(patch, at))
    }

    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        write!(self.create_user(new))
    }
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        cached!(self, users, id, user(id))
    }
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        read!(self.user_by_username(username))
    }
    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        read!(self.users_by_ids(ids))
    }
    async fn list_users(&self, query: &UserQuery, page: PageRequest) -> StoreResult<Paged<User>> {
        read!(self.list_users(query, page))
    }
    async fn update_user(&self, id: UserId, patch: UserPatch) -> StoreResult<User> {
        write!(self.update_user(id, patch))
    }
    async fn set_user_state(&self, id: UserId, state: UserState) -> StoreResult<()> {
        write!(self.set_user_state(id, state))
    }
    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        write!(self.delete_user(id))
    }
    async fn count_users(&self) -> StoreResult<u64> {
        read!(self.count_users())
    }

    async fn create_personal_access_token(
        &self,
        new: NewPersonalAccessToken,
    ) -> StoreResult<PersonalAccessToken> {
        write!(self.create_personal_access_token(new))
    }
    async fn personal_access_token_by_digest(
        &self,
        digest: &str,
    ) -> StoreResult<Option<PersonalAccessToken>> {
        if self.trusted()
            && let Some(t) = self
                .tokens
                .read()
                .ok()
                .and_then(|t| t.by_digest.get(digest).cloned())
        {
            self.hits.incr();
            return Ok(Some(t));
        }
        let seen = self.seen();
        let found = self.count().personal_access_token_by_digest(digest).await?;
        // Only tokens that exist are kept: guesses must not fill memory.
        if let (Some(t), true) = (&found, self.trusted())
            && let Ok(mut tokens) = self.tokens.write()
            && self.generation.load(Ordering::SeqCst) == seen
        {
            if tokens.by_digest.len() >= MAP_CAP {
                tokens.by_digest.clear();
                tokens.digest_of.clear();
            }
            tokens.digest_of.insert(t.id, digest.to_owned());
            tokens.by_digest.insert(digest.to_owned(), t.clone());
        }
        Ok(found)
    }
    async fn personal_access_token(&self, id: TokenId) -> StoreResult<Option<PersonalAccessToken>> {
        read!(self.personal_access_token(id))
    }
    async fn list_personal_access_tokens(
        &self,
        query: &TokenQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<PersonalAccessToken>> {
        read!(self.list_personal_access_tokens(query, page))
    }
    async fn revoke_personal_access_token(&self, id: TokenId) -> StoreResult<bool> {
        write!(self.revoke_personal_access_token(id))
    }
    async fn rotate_personal_access_token(
        &self,
        old: TokenId,
        new: NewPersonalAccessToken,
        today: NaiveDate,
    ) -> StoreResult<PersonalAccessToken> {
        write!(self.rotate_personal_access_token(old, new, today))
    }
    /// Recording a use changes nothing a decision reads: the cached token learns the time
    /// instead of being forgotten (so that the next request does not record it again).
    // Sessions are never cached (nothing that is cached depends on them), so their writes
    // pass through without emptying the cache.
    async fn create_web_session(&self, session: WebSession) -> StoreResult<()> {
        read!(self.create_web_session(session))
    }
    async fn web_session(&self, id_digest: &str) -> StoreResult<Option<WebSession>> {
        read!(self.web_session(id_digest))
    }
    async fn touch_web_session(&self, id_digest: &str, at: DateTime<Utc>) -> StoreResult<()> {
        read!(self.touch_web_session(id_digest, at))
    }
    async fn delete_web_session(&self, id_digest: &str) -> StoreResult<bool> {
        read!(self.delete_web_session(id_digest))
    }
    async fn delete_expired_web_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        read!(self.delete_expired_web_sessions(now, idle_before))
    }

    async fn touch_personal_access_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        let result = read!(self.touch_personal_access_token(id, at));
        if result.is_ok()
            && let Ok(mut tokens) = self.tokens.write()
        {
            let Tokens {
                by_digest,
                digest_of,
            } = &mut *tokens;
            if let Some(t) = digest_of.get(&id).and_then(|d| by_digest.get_mut(d)) {
                t.last_used_at = Some(at);
            }
        }
        result
    }

    async fn create_group(&self, new: NewGroup) -> StoreResult<Namespace> {
        write!(self.create_group(new))
    }
    async fn namespace(&self, id: NamespaceId) -> StoreResult<Option<Namespace>> {
        cached!(self, namespaces, id, namespace(id))
    }
    async fn namespace_by_full_path(&self, full_path: &str) -> StoreResult<Option<Namespace>> {
        read!(self.namespace_by_full_path(full_path))
    }
    async fn namespaces_by_ids(&self, ids: &[NamespaceId]) -> StoreResult<Vec<Namespace>> {
        read!(self.namespaces_by_ids(ids))
    }
    async fn list_groups(
        &self,
        query: &GroupQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Namespace>> {
        read!(self.list_groups(query, page))
    }
    async fn delete_group(&self, id: NamespaceId) -> StoreResult<()> {
        write!(self.delete_group(id))
    }

    async fn create_project(&self, new: NewProject) -> StoreResult<Project> {
        write!(self.create_project(new))
    }
    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        cached!(self, projects, id, project(id))
    }
    async fn project_by_full_path(&self, full_path: &str) -> StoreResult<Option<Project>> {
        cached_if_found!(
            self,
            project_paths,
            full_path,
            project_by_full_path(full_path)
        )
    }
    async fn projects_by_ids(&self, ids: &[ProjectId]) -> StoreResult<Vec<Project>> {
        read!(self.projects_by_ids(ids))
    }
    async fn list_projects(
        &self,
        query: &ProjectQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Project>> {
        read!(self.list_projects(query, page))
    }
    async fn delete_project(&self, id: ProjectId) -> StoreResult<()> {
        write!(self.delete_project(id))
    }

    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        cached!(self, memberships, user, memberships_of(user))
    }
    async fn member(&self, source: MemberSource, user: UserId) -> StoreResult<Option<Member>> {
        read!(self.member(source, user))
    }
    async fn list_members(
        &self,
        source: MemberSource,
        query: &MemberQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Member>> {
        read!(self.list_members(source, query, page))
    }
    async fn list_members_of_any(
        &self,
        sources: &[MemberSource],
        query: &MemberQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Member>> {
        read!(self.list_members_of_any(sources, query, page))
    }
    async fn add_member(&self, new: NewMember) -> StoreResult<Member> {
        write!(self.add_member(new))
    }
    async fn update_member(
        &self,
        source: MemberSource,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<Option<NaiveDate>>,
    ) -> StoreResult<Member> {
        write!(self.update_member(source, user, level, expires_at))
    }
    async fn remove_member(&self, source: MemberSource, user: UserId) -> StoreResult<bool> {
        write!(self.remove_member(source, user))
    }
    async fn count_namespace_owners(&self, namespace: NamespaceId) -> StoreResult<u64> {
        read!(self.count_namespace_owners(namespace))
    }

    async fn set_inbound_scope_enabled(
        &self,
        project: ProjectId,
        enabled: bool,
        audit: Option<NewAuditEvent>,
    ) -> StoreResult<bool> {
        write!(self.set_inbound_scope_enabled(project, enabled, audit))
    }
    async fn allowlist_projects(
        &self,
        source: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<Project>> {
        read!(self.allowlist_projects(source, page))
    }
    async fn allowlist_groups(
        &self,
        source: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<Namespace>> {
        read!(self.allowlist_groups(source, page))
    }
    async fn project_links(
        &self,
        source: ProjectId,
        direction: LinkDirection,
    ) -> StoreResult<Vec<ProjectLink>> {
        read!(self.project_links(source, direction))
    }
    async fn group_links(&self, source: ProjectId) -> StoreResult<Vec<GroupLink>> {
        cached!(self, group_links, source, group_links(source))
    }
    async fn group_entries(&self, source: ProjectId) -> StoreResult<Arc<GroupEntries>> {
        cached!(self, group_entries, source, group_entries(source))
    }
    async fn project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        direction: LinkDirection,
    ) -> StoreResult<Option<ProjectLink>> {
        cached!(
            self,
            project_links,
            (source, target, direction),
            project_link(source, target, direction)
        )
    }
    async fn group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
    ) -> StoreResult<Option<GroupLink>> {
        read!(self.group_link(source, target))
    }
    async fn add_project_link(
        &self,
        new: NewLink<ProjectId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<ProjectLink> {
        write!(self.add_project_link(new, limit, audit))
    }
    async fn add_group_link(
        &self,
        new: NewLink<NamespaceId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<GroupLink> {
        write!(self.add_group_link(new, limit, audit))
    }
    async fn remove_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>> {
        write!(self.remove_project_link(source, target, audit))
    }
    async fn remove_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>> {
        write!(self.remove_group_link(source, target, audit))
    }
    async fn update_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>> {
        write!(self.update_project_link(source, target, default_permissions, policies, audit))
    }
    async fn update_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>> {
        write!(self.update_group_link(source, target, default_permissions, policies, audit))
    }
    async fn apply_scope_changes(
        &self,
        source: ProjectId,
        changes: ScopeChangeSet,
        project_limit: u64,
        group_limit: u64,
    ) -> StoreResult<()> {
        write!(self.apply_scope_changes(source, changes, project_limit, group_limit))
    }
    async fn admissions_of(
        &self,
        origin: ProjectId,
        origin_groups: &[NamespaceId],
    ) -> StoreResult<Vec<(Project, Admission)>> {
        read!(self.admissions_of(origin, origin_groups))
    }

    async fn create_job(&self, new: NewJob) -> StoreResult<Job> {
        write!(self.create_job(new))
    }
    async fn job(&self, id: JobId) -> StoreResult<Option<Job>> {
        read!(self.job(id))
    }
    async fn job_by_token_digest(&self, digest: &str) -> StoreResult<Option<Job>> {
        cached_if_found!(self, jobs, digest, job_by_token_digest(digest))
    }
    async fn finish_job(
        &self,
        id: JobId,
        status: JobStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        write!(self.finish_job(id, status, at))
    }
    async fn cancel_running_jobs_of(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<u64> {
        write!(self.cancel_running_jobs_of(user, at))
    }

    /// The authentication log is not cached: writing it changes nothing cached.
    async fn record_authorizations(&self, records: &[AuthorizationRecord]) -> StoreResult<()> {
        read!(self.record_authorizations(records))
    }
    async fn authorization_logs(
        &self,
        accessed: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<AuthorizationLog>> {
        read!(self.authorization_logs(accessed, page))
    }

    async fn export(&self) -> StoreResult<snapshot::Snapshot> {
        read!(self.export())
    }
    async fn import(&self, snapshot: &snapshot::Snapshot) -> StoreResult<()> {
        write!(self.import(snapshot))
    }

    async fn audit_events(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<AuditEvent>> {
        read!(self.audit_events(query, page))
    }

    async fn watch_changes(&self) -> StoreResult<Box<dyn ChangeWatch>> {
        self.inner.watch_changes().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        self.inner.pool_status()
    }
}
