//! The PostgreSQL backend, for several jobscope processes sharing one database.
//!
//! # Durability
//!
//! Every connection is opened with `synchronous_commit=on` (a startup option, so it holds
//! from the first statement and overrides role or database defaults): a write is
//! acknowledged only once its commit record is flushed to disk, so an acknowledged write
//! survives a crash of the process, of the server, or of the machine.
//!
//! # Concurrency
//!
//! Processes share nothing but the database, so every rule of the [`Store`] trait is enforced
//! there, inside the write's transaction (`READ COMMITTED`, where each statement sees what
//! committed before it started):
//!
//! - **Allowlist limits and uniqueness.** Each change to a project's allowlist (add, update,
//!   remove, a change set, the inbound flag) first locks the source project's row
//!   (`SELECT … FOR NO KEY UPDATE`). Changes to one project's allowlist are so serialised
//!   across processes, and the count that is checked against the limit is the count that the
//!   insert sees. `NO KEY UPDATE` does not conflict with the `KEY SHARE` locks that foreign key
//!   checks take, so links between two projects in both directions do not deadlock.
//! - **Names and paths.** `create_user`, `create_group`, `create_project` and `update_user`
//!   take transaction-scoped advisory locks on the names they are about to claim (the
//!   lower-cased full path, username, email, project name in its namespace, group name under
//!   its parent), in sorted order, before checking them. Two processes claiming the same path
//!   therefore run one after the other, and the second one sees the first one's row and
//!   reports the precise conflict, in GitLab's order of checks. The namespace a project or
//!   subgroup is created in is locked `FOR SHARE`, so a concurrent rename cannot leave a stale
//!   full path behind.
//! - **Unique indexes are the last guard.** Every rule above is also a unique index (on
//!   `lower(…)` where the rule is case-insensitive); a unique violation (SQLSTATE 23505) is
//!   mapped by constraint name to the matching [`Conflict`], a foreign key violation (23503)
//!   to [`StoreError::NotFound`], as the SQLite backend does.
//! - **Deadlocks and serialization failures** (40P01, 40001) are retried a few times with a
//!   short backoff, then reported as [`StoreError::Unavailable`]. A lock wait is bounded
//!   (`lock_timeout`, as SQLite's busy timeout); running out of it is `Unavailable` too.
//! - **The authentication log** is merged with one `INSERT … ON CONFLICT DO UPDATE` per
//!   (accessed, origin) pair whose per-policy maximum is computed in SQL, so concurrent flushes
//!   never lose a policy time.
//! - `export` reads in one `REPEATABLE READ READ ONLY` transaction; `import` locks every table
//!   against writers, defers the (deferrable) foreign keys to its commit and moves the id
//!   sequences past the imported ids.
//!
//! Database error texts are kept in [`StoreError::Other`] for the server's log; no SQL text is
//! put into an error.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod rows;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use jobscope_store::*;
use jobscope_types::{AccessLevel, JobId, NamespaceId, ProjectId, TokenId, UserId};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::query_builder::Separated;
use sqlx::{AssertSqlSafe, ConnectOptions, PgConnection, Postgres, QueryBuilder};

use rows::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for a row or advisory lock before giving up with
/// `Unavailable` (the SQLite backend's busy timeout).
const LOCK_TIMEOUT: &str = "10s";
/// Connections per process.
const MAX_CONNECTIONS: u32 = 16;
/// How long a call waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts of a write transaction that hit a deadlock or a serialization failure.
const MAX_ATTEMPTS: u32 = 5;
/// The first key of every advisory lock jobscope takes ("jsco"), so that its locks do not
/// collide with another application's locks in the same database.
const LOCK_CLASS: i32 = 0x6a73_636f;
/// Today's date in UTC, as SQLite's `date('now')`.
const TODAY: &str = "(now() AT TIME ZONE 'UTC')::date";

const SERIALIZATION_FAILURE: &str = "concurrent update (serialization failure), retry";
const DEADLOCK: &str = "concurrent update (deadlock), retry";

/// A jobscope store in a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// For migrations: the same connection settings without the lock timeout, so that a
    /// long migration of another process is waited for.
    migrate_options: PgConnectOptions,
}

impl fmt::Debug for PgStore {
    // The connect options hold the password: show where, never how.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("host", &self.migrate_options.get_host())
            .field("port", &self.migrate_options.get_port())
            .field("database", &self.migrate_options.get_database())
            .field("connections", &self.pool.size())
            .finish()
    }
}

/// What a unique index or constraint stands for.
fn conflict_for(constraint: &str) -> Option<Conflict> {
    Some(match constraint {
        "users_username_lower" => Conflict::Username,
        "users_email_lower" => Conflict::Email,
        "routes_pkey" | "namespaces_full_path_lower" | "projects_full_path_lower" => Conflict::Path,
        "projects_namespace_name_lower" => Conflict::ProjectName,
        "namespaces_parent_name_lower" => Conflict::GroupName,
        "namespace_members_pkey" | "project_members_pkey" => Conflict::Member,
        "ci_job_token_project_scope_links_unique" | "ci_job_token_group_scope_links_unique" => {
            Conflict::Link
        }
        "personal_access_tokens_token_digest_key" | "ci_jobs_token_digest_key" => {
            Conflict::TokenDigest
        }
        _ => return None,
    })
}

fn map_err(e: sqlx::Error) -> StoreError {
    enum Kind {
        Conflict(Conflict),
        NotFound,
        Unavailable(String),
        Other,
    }
    let kind = match &e {
        sqlx::Error::RowNotFound => Kind::NotFound,
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            match code.as_str() {
                "23505" => match db.constraint().and_then(conflict_for) {
                    Some(c) => Kind::Conflict(c),
                    None => Kind::Other,
                },
                "23503" => Kind::NotFound,
                "40001" => Kind::Unavailable(SERIALIZATION_FAILURE.to_owned()),
                "40P01" => Kind::Unavailable(DEADLOCK.to_owned()),
                "55P03" => Kind::Unavailable("timed out waiting for a lock".to_owned()),
                "57014" => Kind::Unavailable("statement canceled (timeout)".to_owned()),
                "25006" => Kind::Unavailable("database is read-only".to_owned()),
                c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") => {
                    Kind::Unavailable(format!("database unavailable (SQLSTATE {c})"))
                }
                _ => Kind::Other,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Kind::Unavailable(e.to_string()),
        _ => Kind::Other,
    };
    match kind {
        Kind::Conflict(c) => StoreError::Conflict(c),
        Kind::NotFound => StoreError::NotFound,
        Kind::Unavailable(msg) => StoreError::Unavailable(msg),
        Kind::Other => StoreError::Other(Box::new(e)),
    }
}

fn is_retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Unavailable(m) if m == SERIALIZATION_FAILURE || m == DEADLOCK)
}

/// Pins the output type of a transaction body, so `?` inside it converts to `StoreError`.
fn body<T, F: Future<Output = StoreResult<T>>>(f: F) -> F {
    f
}

/// Runs `$body` in a write transaction bound to `$tx` (a `&mut Tx` in scope of the body) and
/// commits it; on a deadlock or serialization failure the whole transaction is run again.
/// The body is re-run from the start, so it must not consume what it captures.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:block) => {{
        let mut attempt: u32 = 1;
        loop {
            let mut tx = $store.begin().await?;
            let outcome = body(async {
                let $tx = &mut tx;
                $body
            })
            .await;
            let outcome = match outcome {
                Ok(value) => tx.commit().await.map_err(map_err).map(|()| value),
                Err(e) => {
                    // A failed rollback only matters to the connection, which the pool
                    // then discards.
                    let _ = tx.rollback().await;
                    Err(e)
                }
            };
            match outcome {
                Err(e) if is_retryable(&e) && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "retrying a PostgreSQL transaction");
                    backoff(attempt).await;
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}

async fn backoff(attempt: u32) {
    // 10, 20, 40, 80 ms, plus up to 10 ms so that colliding transactions drift apart.
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            % 10,
    );
    let base = 10u64 << attempt.saturating_sub(1).min(6);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

type Tx = sqlx::Transaction<'static, Postgres>;

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, with
    /// libpq's query parameters), applies pending migrations and makes sure the instance
    /// settings row exists.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let (options, migrate_options) = connect_options(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let store = PgStore {
            pool,
            migrate_options,
        };
        store.migrate().await?;
        store.ensure_settings_row().await?;
        Ok(store)
    }

    /// Applies pending migrations (also done by [`PgStore::open`]). Safe to run from several
    /// processes at once: sqlx serialises them with an advisory lock.
    pub async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.migrate_options.connect().await.map_err(map_err)?;
        let result = MIGRATOR
            .run(&mut conn)
            .await
            .map_err(|e| StoreError::Other(Box::new(e)));
        // The session ends either way; a failure to say goodbye changes nothing.
        let _ = sqlx::Connection::close(conn).await;
        result
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn ensure_settings_row(&self) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO instance_settings (id, updated_at) VALUES (1, $1) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(ts(Utc::now()))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Tx> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
            .map_err(map_err)
    }

    async fn paged<T>(
        &self,
        mut count: QueryBuilder<Postgres>,
        mut select: QueryBuilder<Postgres>,
        page: PageRequest,
        map: impl Fn(&PgRow) -> StoreResult<T>,
    ) -> StoreResult<Paged<T>> {
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        select.push(" LIMIT ");
        select.push_bind(clamp_i64(page.per_page));
        select.push(" OFFSET ");
        select.push_bind(clamp_i64(page.offset()));
        let rows = select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let items = rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?;
        Ok(Paged {
            items,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

/// The options of the pool's connections and of the migration connection (the same without
/// the lock timeout). Startup options rather than `SET` after connecting: they apply from the
/// first statement on and take precedence over role and database defaults.
fn connect_options(url: &str) -> StoreResult<(PgConnectOptions, PgConnectOptions)> {
    let base: PgConnectOptions = url
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
    let base = if base.get_application_name().is_none() {
        base.application_name("jobscope")
    } else {
        base
    };
    let migrate = base
        .clone()
        .options([("synchronous_commit", "on"), ("TimeZone", "UTC")]);
    let pool = base.options([
        ("synchronous_commit", "on"),
        ("TimeZone", "UTC"),
        ("lock_timeout", LOCK_TIMEOUT),
    ]);
    Ok((pool, migrate))
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn member_table(source: MemberSource) -> (&'static str, &'static str, i64) {
    match source {
        MemberSource::Project(p) => ("project_members", "project_id", p.get()),
        MemberSource::Namespace(n) => ("namespace_members", "namespace_id", n.get()),
    }
}

fn like_pattern(s: &str) -> String {
    let escaped = s
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

// ---- locks ---------------------------------------------------------------------------------

/// Takes the advisory locks for the names a write is about to claim, in one global order (the
/// keys sorted), held until the transaction ends.
async fn lock_names(conn: &mut PgConnection, keys: &[String]) -> StoreResult<()> {
    let keys: BTreeSet<&String> = keys.iter().collect();
    for key in keys {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(key)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

fn route_key(path: &str) -> String {
    format!("route:{}", path.to_lowercase())
}

/// Locks a project's row for a change to its allowlist; `false` when there is no project.
async fn lock_source_project(conn: &mut PgConnection, id: ProjectId) -> StoreResult<bool> {
    let row: Option<i64> =
        sqlx::query_scalar("SELECT id FROM projects WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
    Ok(row.is_some())
}

// ---- reads shared by several operations ------------------------------------------------------

async fn fetch_user(conn: &mut PgConnection, id: UserId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    row.as_ref().map(user).transpose()
}

/// `lock` is empty or a locking clause (`FOR SHARE`).
async fn fetch_namespace(
    conn: &mut PgConnection,
    id: NamespaceId,
    lock: &str,
) -> StoreResult<Option<Namespace>> {
    let sql = format!("SELECT {NAMESPACE_COLS} FROM namespaces n WHERE n.id = $1 {lock}");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    row.as_ref().map(namespace).transpose()
}

async fn fetch_project(conn: &mut PgConnection, id: ProjectId) -> StoreResult<Option<Project>> {
    let sql = format!(
        "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
         JOIN namespaces n ON n.id = p.namespace_id WHERE p.id = $1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    row.as_ref().map(project).transpose()
}

async fn route_taken(conn: &mut PgConnection, path: &str) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM routes WHERE path_lower = $1)")
        .bind(path.to_lowercase())
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)
}

async fn fetch_member(
    conn: &mut PgConnection,
    source: MemberSource,
    user_id: UserId,
) -> StoreResult<Option<Member>> {
    let (table, col, id) = member_table(source);
    let sql = format!(
        "SELECT {MEMBER_COLS}, {USER_COLS} FROM {table} m JOIN users u ON u.id = m.user_id \
         WHERE m.{col} = $1 AND m.user_id = $2"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(user_id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    row.as_ref().map(|r| member(r, source)).transpose()
}

fn settings_from_row(row: &PgRow) -> StoreResult<InstanceSettings> {
    let pv: String = get(row, "default_project_visibility")?;
    let gv: String = get(row, "default_group_visibility")?;
    Ok(InstanceSettings {
        enforce_ci_inbound_job_token_scope_enabled: get(
            row,
            "enforce_ci_inbound_job_token_scope_enabled",
        )?,
        default_project_visibility: parse_visibility(&pv)?,
        default_group_visibility: parse_visibility(&gv)?,
        default_projects_limit: get(row, "default_projects_limit")?,
        max_personal_access_token_lifetime: get(row, "max_personal_access_token_lifetime")?,
        updated_at: get(row, "updated_at")?,
    })
}

const SETTINGS_COLS: &str = "enforce_ci_inbound_job_token_scope_enabled, \
    default_project_visibility, default_group_visibility, default_projects_limit, \
    max_personal_access_token_lifetime, updated_at";

// ---- list filters --------------------------------------------------------------------------

/// The user's inherited role in project `p` (namespace `n`).
fn push_project_level(qb: &mut QueryBuilder<Postgres>, user: UserId) {
    qb.push(
        "(SELECT MAX(lvl) FROM (\
         SELECT pm.access_level AS lvl FROM project_members pm WHERE pm.project_id = p.id \
         AND pm.user_id = ",
    );
    qb.push_bind(user.get());
    qb.push(format!(
        " AND (pm.expires_at IS NULL OR pm.expires_at > {TODAY}) \
         UNION ALL SELECT nm.access_level FROM namespace_members nm WHERE nm.user_id = "
    ));
    qb.push_bind(user.get());
    qb.push(format!(
        " AND nm.namespace_id = ANY (n.traversal_ids) \
         AND (nm.expires_at IS NULL OR nm.expires_at > {TODAY}) \
         UNION ALL SELECT 50 WHERE n.owner_id = "
    ));
    qb.push_bind(user.get());
    qb.push(") AS levels)");
}

/// The user's inherited role in group `n` (memberships of it and its ancestors).
fn push_group_level(qb: &mut QueryBuilder<Postgres>, user: UserId) {
    qb.push("(SELECT MAX(nm.access_level) FROM namespace_members nm WHERE nm.user_id = ");
    qb.push_bind(user.get());
    qb.push(format!(
        " AND nm.namespace_id = ANY (n.traversal_ids) \
         AND (nm.expires_at IS NULL OR nm.expires_at > {TODAY}))"
    ));
}

/// True when the user may see private group `n` through a membership anywhere in its tree.
fn push_group_member_visible(qb: &mut QueryBuilder<Postgres>, user: UserId) {
    qb.push(
        "(EXISTS (SELECT 1 FROM namespace_members nm JOIN namespaces mn ON mn.id = nm.namespace_id \
         WHERE nm.user_id = ",
    );
    qb.push_bind(user.get());
    qb.push(format!(
        " AND (nm.expires_at IS NULL OR nm.expires_at > {TODAY}) \
         AND (nm.namespace_id = ANY (n.traversal_ids) OR n.id = ANY (mn.traversal_ids))) \
         OR EXISTS (SELECT 1 FROM project_members pm JOIN projects pp ON pp.id = pm.project_id \
         JOIN namespaces pn ON pn.id = pp.namespace_id WHERE pm.user_id = "
    ));
    qb.push_bind(user.get());
    qb.push(format!(
        " AND (pm.expires_at IS NULL OR pm.expires_at > {TODAY}) \
         AND n.id = ANY (pn.traversal_ids)))"
    ));
}

/// `n.traversal_ids @> ARRAY[id]`: `n` is `id` or below it (uses the GIN index).
fn push_in_subtree(qb: &mut QueryBuilder<Postgres>, id: NamespaceId) {
    qb.push(" AND n.traversal_ids @> ARRAY[");
    qb.push_bind(id.get());
    qb.push("]::bigint[]");
}

fn push_project_filters(qb: &mut QueryBuilder<Postgres>, q: &ProjectQuery) {
    qb.push(" WHERE TRUE");
    match q.viewer {
        Viewer::Admin => {}
        Viewer::Anonymous => {
            qb.push(" AND p.visibility = 'public'");
        }
        Viewer::User { id, external } => {
            qb.push(" AND (p.visibility = 'public'");
            if !external {
                qb.push(" OR p.visibility = 'internal'");
            }
            qb.push(" OR ");
            push_project_level(qb, id);
            qb.push(" >= 10)");
        }
    }
    if let Some(search) = &q.search {
        qb.push(" AND (lower(p.name) LIKE ");
        qb.push_bind(like_pattern(search));
        qb.push(" ESCAPE '\\' OR lower(p.path) LIKE ");
        qb.push_bind(like_pattern(search));
        qb.push(" ESCAPE '\\')");
    }
    if let Some(v) = q.visibility {
        qb.push(" AND p.visibility = ");
        qb.push_bind(v.as_str());
    }
    if let Some((user, level)) = q.min_access {
        qb.push(" AND ");
        push_project_level(qb, user);
        qb.push(" >= ");
        qb.push_bind(level.value());
    }
    if let Some((ns, include_descendants)) = q.namespace {
        if include_descendants {
            push_in_subtree(qb, ns);
        } else {
            qb.push(" AND p.namespace_id = ");
            qb.push_bind(ns.get());
        }
    }
}

fn push_group_filters(qb: &mut QueryBuilder<Postgres>, q: &GroupQuery) {
    qb.push(" WHERE n.kind = 'group'");
    match q.viewer {
        Viewer::Admin => {}
        Viewer::Anonymous => {
            qb.push(" AND n.visibility = 'public'");
        }
        Viewer::User { id, external } => {
            qb.push(" AND (n.visibility = 'public'");
            if !external {
                qb.push(" OR n.visibility = 'internal'");
            }
            qb.push(" OR ");
            push_group_member_visible(qb, id);
            qb.push(")");
        }
    }
    if let Some(search) = &q.search {
        qb.push(" AND (lower(n.name) LIKE ");
        qb.push_bind(like_pattern(search));
        qb.push(" ESCAPE '\\' OR lower(n.path) LIKE ");
        qb.push_bind(like_pattern(search));
        qb.push(" ESCAPE '\\')");
    }
    if let Some((user, level)) = q.min_access {
        qb.push(" AND ");
        push_group_level(qb, user);
        qb.push(" >= ");
        qb.push_bind(level.value());
    }
    if let Some(parent) = q.parent {
        qb.push(" AND n.parent_id = ");
        qb.push_bind(parent.get());
    }
    if let Some(ancestor) = q.descendants_of {
        qb.push(" AND n.id <> ");
        qb.push_bind(ancestor.get());
        push_in_subtree(qb, ancestor);
    }
    if q.top_level_only {
        qb.push(" AND n.parent_id IS NULL");
    }
    if let Some(v) = q.visibility {
        qb.push(" AND n.visibility = ");
        qb.push_bind(v.as_str());
    }
}

fn sort_sql(dir: SortDirection) -> &'static str {
    match dir {
        SortDirection::Asc => "ASC",
        SortDirection::Desc => "DESC",
    }
}

fn push_member_filters(qb: &mut QueryBuilder<Postgres>, q: &MemberQuery) {
    if let Some(text) = &q.query {
        qb.push(" AND (lower(u.username) LIKE ");
        qb.push_bind(like_pattern(text));
        qb.push(" ESCAPE '\\' OR lower(u.name) LIKE ");
        qb.push_bind(like_pattern(text));
        qb.push(" ESCAPE '\\')");
    }
    if let Some(ids) = &q.user_ids {
        qb.push(" AND u.id = ANY (");
        qb.push_bind(ids.iter().map(|id| id.get()).collect::<Vec<_>>());
        qb.push(")");
    }
}

#[async_trait]
impl Store for PgStore {
    async fn instance_settings(&self) -> StoreResult<InstanceSettings> {
        let sql = format!("SELECT {SETTINGS_COLS} FROM instance_settings WHERE id = 1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        settings_from_row(&row)
    }

    async fn token_salt(&self) -> StoreResult<String> {
        let salt: String =
            sqlx::query_scalar("SELECT token_salt FROM instance_secrets WHERE id = 1")
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        if !jobscope_store::secrets::is_valid_salt(&salt) {
            return Err(StoreError::Corrupt(
                "instance_secrets.token_salt is not 32 hexadecimal digits".to_owned(),
            ));
        }
        Ok(salt)
    }

    async fn update_instance_settings(
        &self,
        patch: InstanceSettingsPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceSettings> {
        let mut qb = QueryBuilder::<Postgres>::new("UPDATE instance_settings SET updated_at = ");
        qb.push_bind(ts(at));
        if let Some(v) = patch.enforce_ci_inbound_job_token_scope_enabled {
            qb.push(", enforce_ci_inbound_job_token_scope_enabled = ");
            qb.push_bind(v);
        }
        if let Some(v) = patch.default_project_visibility {
            qb.push(", default_project_visibility = ");
            qb.push_bind(v.as_str());
        }
        if let Some(v) = patch.default_group_visibility {
            qb.push(", default_group_visibility = ");
            qb.push_bind(v.as_str());
        }
        if let Some(v) = patch.default_projects_limit {
            qb.push(", default_projects_limit = ");
            qb.push_bind(v);
        }
        if let Some(v) = patch.max_personal_access_token_lifetime {
            qb.push(", max_personal_access_token_lifetime = ");
            qb.push_bind(v);
        }
        qb.push(format!(" WHERE id = 1 RETURNING {SETTINGS_COLS}"));
        // One statement: atomic on its own.
        let row = qb.build().fetch_one(&self.pool).await.map_err(map_err)?;
        settings_from_row(&row)
    }

    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        let new = &new;
        let keys = [
            format!("email:{}", new.email.to_lowercase()),
            format!("username:{}", new.username.to_lowercase()),
            route_key(&new.username),
        ];
        in_tx!(self, |tx| {
            lock_names(tx, &keys).await?;
            // GitLab checks the email first, then the username.
            let email_taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))",
            )
            .bind(&new.email)
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            if email_taken {
                return Err(StoreError::Conflict(Conflict::Email));
            }
            let username_taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))",
            )
            .bind(&new.username)
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            if username_taken {
                return Err(StoreError::Conflict(Conflict::Username));
            }
            if route_taken(tx, &new.username).await? {
                return Err(StoreError::Conflict(Conflict::Path));
            }
            let user_id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, email, name, admin, external, bot, \
                 can_create_group, projects_limit, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(&new.username)
            .bind(&new.email)
            .bind(&new.name)
            .bind(new.admin)
            .bind(new.external)
            .bind(new.bot)
            .bind(new.can_create_group)
            .bind(new.projects_limit)
            .bind(ts(new.created_at))
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            // The namespace's id is drawn first so that its traversal_ids can name it.
            let ns_id: i64 = sqlx::query_scalar(
                "WITH nid AS (SELECT nextval(pg_get_serial_sequence('namespaces', 'id')) AS id) \
                 INSERT INTO namespaces (id, kind, name, path, full_path, full_name, \
                 traversal_ids, visibility, owner_id, created_at) \
                 SELECT nid.id, 'user', $1, $2, $2, $1, ARRAY[nid.id], 'public', $3, $4 \
                 FROM nid RETURNING id",
            )
            .bind(&new.name)
            .bind(&new.username)
            .bind(user_id)
            .bind(ts(new.created_at))
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            sqlx::query("INSERT INTO routes (path_lower, namespace_id) VALUES ($1, $2)")
                .bind(new.username.to_lowercase())
                .bind(ns_id)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            fetch_user(tx, UserId(user_id))
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        fetch_user(&mut conn, id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE lower(u.username) = lower($1)");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = ANY ($1) ORDER BY u.id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ids.iter().map(|id| id.get()).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(user).collect()
    }

    async fn list_users(&self, query: &UserQuery, page: PageRequest) -> StoreResult<Paged<User>> {
        fn filters(qb: &mut QueryBuilder<Postgres>, q: &UserQuery) {
            qb.push(" WHERE TRUE");
            if let Some(username) = &q.username {
                qb.push(" AND lower(u.username) = lower(");
                qb.push_bind(username.clone());
                qb.push(")");
            }
            if let Some(search) = &q.search {
                qb.push(" AND (lower(u.username) LIKE ");
                qb.push_bind(like_pattern(search));
                qb.push(" ESCAPE '\\' OR lower(u.name) LIKE ");
                qb.push_bind(like_pattern(search));
                qb.push(" ESCAPE '\\' OR lower(u.email) LIKE ");
                qb.push_bind(like_pattern(search));
                qb.push(" ESCAPE '\\')");
            }
            if let Some(state) = q.state {
                qb.push(" AND u.state = ");
                qb.push_bind(state.as_str());
            }
            if let Some(external) = q.external {
                qb.push(" AND u.external = ");
                qb.push_bind(external);
            }
            if let Some(admins) = q.admins {
                qb.push(" AND u.admin = ");
                qb.push_bind(admins);
            }
        }
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM users u");
        filters(&mut count, query);
        let mut select = QueryBuilder::new(format!("SELECT {USER_COLS} FROM users u"));
        filters(&mut select, query);
        select.push(" ORDER BY u.id DESC");
        self.paged(count, select, page, user).await
    }

    async fn update_user(&self, id: UserId, patch: UserPatch) -> StoreResult<User> {
        let patch = &patch;
        let mut keys = Vec::new();
        if let Some(username) = &patch.username {
            keys.push(format!("username:{}", username.to_lowercase()));
            keys.push(route_key(username));
        }
        if let Some(email) = &patch.email {
            keys.push(format!("email:{}", email.to_lowercase()));
        }
        in_tx!(self, |tx| {
            lock_names(tx, &keys).await?;
            let locked: Option<i64> =
                sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(id.get())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_err)?;
            if locked.is_none() {
                return Err(StoreError::NotFound);
            }
            let current = fetch_user(tx, id).await?.ok_or(StoreError::NotFound)?;
            if let Some(username) = &patch.username
                && username.to_lowercase() != current.username.to_lowercase()
            {
                let clash: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))",
                )
                .bind(username)
                .fetch_one(&mut **tx)
                .await
                .map_err(map_err)?;
                if clash {
                    return Err(StoreError::Conflict(Conflict::Username));
                }
                if route_taken(tx, username).await? {
                    return Err(StoreError::Conflict(Conflict::Path));
                }
            }
            if let Some(email) = &patch.email {
                let clash: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1) \
                     AND id <> $2)",
                )
                .bind(email)
                .bind(id.get())
                .fetch_one(&mut **tx)
                .await
                .map_err(map_err)?;
                if clash {
                    return Err(StoreError::Conflict(Conflict::Email));
                }
            }
            let mut qb = QueryBuilder::<Postgres>::new("UPDATE users SET ");
            let mut set = qb.separated(", ");
            let mut changes = 0;
            if let Some(v) = &patch.name {
                set.push("name = ").push_bind_unseparated(v.clone());
                changes += 1;
            }
            if let Some(v) = &patch.email {
                set.push("email = ").push_bind_unseparated(v.clone());
                changes += 1;
            }
            if let Some(v) = &patch.username {
                set.push("username = ").push_bind_unseparated(v.clone());
                changes += 1;
            }
            if let Some(v) = patch.admin {
                set.push("admin = ").push_bind_unseparated(v);
                changes += 1;
            }
            if let Some(v) = patch.external {
                set.push("external = ").push_bind_unseparated(v);
                changes += 1;
            }
            if let Some(v) = patch.can_create_group {
                set.push("can_create_group = ").push_bind_unseparated(v);
                changes += 1;
            }
            if let Some(v) = patch.projects_limit {
                set.push("projects_limit = ").push_bind_unseparated(v);
                changes += 1;
            }
            if changes > 0 {
                qb.push(" WHERE id = ");
                qb.push_bind(id.get());
                qb.build().execute(&mut **tx).await.map_err(map_err)?;
            }
            if let Some(username) = &patch.username
                && *username != current.username
            {
                // The personal namespace follows the username; projects in it move with it.
                rename_user_namespace(tx, current.namespace_id, username).await?;
            }
            if let Some(name) = &patch.name {
                sqlx::query("UPDATE namespaces SET name = $1, full_name = $1 WHERE id = $2")
                    .bind(name)
                    .bind(current.namespace_id.get())
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
            }
            fetch_user(tx, id).await?.ok_or(StoreError::NotFound)
        })
    }

    async fn set_user_state(&self, id: UserId, state: UserState) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET state = $1 WHERE id = $2")
            .bind(state.as_str())
            .bind(id.get())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let done = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id.get())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn create_personal_access_token(
        &self,
        new: NewPersonalAccessToken,
    ) -> StoreResult<PersonalAccessToken> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        insert_token(&mut conn, &new).await
    }

    async fn personal_access_token_by_digest(
        &self,
        digest: &str,
    ) -> StoreResult<Option<PersonalAccessToken>> {
        let sql =
            format!("SELECT {TOKEN_COLS} FROM personal_access_tokens t WHERE t.token_digest = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(token).transpose()
    }

    async fn personal_access_token(&self, id: TokenId) -> StoreResult<Option<PersonalAccessToken>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM personal_access_tokens t WHERE t.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(token).transpose()
    }

    async fn list_personal_access_tokens(
        &self,
        query: &TokenQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<PersonalAccessToken>> {
        fn filters(qb: &mut QueryBuilder<Postgres>, q: &TokenQuery) {
            qb.push(" WHERE TRUE");
            if let Some(user) = q.user_id {
                qb.push(" AND t.user_id = ");
                qb.push_bind(user.get());
            }
            if let Some((active, today)) = q.active {
                if active {
                    qb.push(" AND NOT t.revoked AND (t.expires_at IS NULL OR t.expires_at > ");
                    qb.push_bind(today);
                    qb.push(")");
                } else {
                    qb.push(" AND (t.revoked OR (t.expires_at IS NOT NULL AND t.expires_at <= ");
                    qb.push_bind(today);
                    qb.push("))");
                }
            }
            if let Some(revoked) = q.revoked {
                qb.push(" AND t.revoked = ");
                qb.push_bind(revoked);
            }
            if let Some(search) = &q.search {
                qb.push(" AND lower(t.name) LIKE ");
                qb.push_bind(like_pattern(search));
                qb.push(" ESCAPE '\\'");
            }
        }
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM personal_access_tokens t");
        filters(&mut count, query);
        let mut select =
            QueryBuilder::new(format!("SELECT {TOKEN_COLS} FROM personal_access_tokens t"));
        filters(&mut select, query);
        select.push(" ORDER BY t.id ASC");
        self.paged(count, select, page, token).await
    }

    async fn revoke_personal_access_token(&self, id: TokenId) -> StoreResult<bool> {
        in_tx!(self, |tx| {
            // Conditional update: of two concurrent revocations, one sees `revoked` set.
            let done = sqlx::query(
                "UPDATE personal_access_tokens SET revoked = TRUE WHERE id = $1 AND NOT revoked",
            )
            .bind(id.get())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() > 0 {
                return Ok(true);
            }
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM personal_access_tokens WHERE id = $1)",
            )
            .bind(id.get())
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            if exists {
                Ok(false)
            } else {
                Err(StoreError::NotFound)
            }
        })
    }

    async fn rotate_personal_access_token(
        &self,
        old: TokenId,
        new: NewPersonalAccessToken,
        today: NaiveDate,
    ) -> StoreResult<PersonalAccessToken> {
        let new = &new;
        in_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE personal_access_tokens SET revoked = TRUE WHERE id = $1 AND NOT revoked \
                 AND (expires_at IS NULL OR expires_at > $2)",
            )
            .bind(old.get())
            .bind(today)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            insert_token(tx, new).await
        })
    }

    async fn touch_personal_access_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE personal_access_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(ts(at))
            .bind(id.get())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_web_session(&self, session: WebSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO web_sessions (id_digest, user_id, token_id, csrf_token, created_at, \
             last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&session.id_digest)
        .bind(session.user_id.get())
        .bind(session.token_id.get())
        .bind(&session.csrf_token)
        .bind(ts(session.created_at))
        .bind(ts(session.last_seen_at))
        .bind(ts(session.expires_at))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn web_session(&self, id_digest: &str) -> StoreResult<Option<WebSession>> {
        let row = sqlx::query(
            "SELECT id_digest, user_id, token_id, csrf_token, created_at, last_seen_at, \
             expires_at FROM web_sessions WHERE id_digest = $1",
        )
        .bind(id_digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(web_session).transpose()
    }

    async fn touch_web_session(&self, id_digest: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE id_digest = $2")
            .bind(ts(at))
            .bind(id_digest)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_web_session(&self, id_digest: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE id_digest = $1")
            .bind(id_digest)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_expired_web_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done =
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(ts(now))
                .bind(ts(idle_before))
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn create_group(&self, new: NewGroup) -> StoreResult<Namespace> {
        let new = &new;
        in_tx!(self, |tx| {
            // The parent is locked against renames and deletion until the group exists.
            let parent = match new.parent_id {
                Some(pid) => Some(
                    fetch_namespace(tx, pid, "FOR SHARE")
                        .await?
                        .filter(Namespace::is_group)
                        .ok_or(StoreError::NotFound)?,
                ),
                None => None,
            };
            let (full_path, full_name) = match &parent {
                Some(p) => (
                    format!("{}/{}", p.full_path, new.path),
                    format!("{} / {}", p.full_name, new.name),
                ),
                None => (new.path.clone(), new.name.clone()),
            };
            let mut keys = vec![route_key(&full_path)];
            if let Some(parent) = new.parent_id {
                keys.push(format!("group-name:{parent}:{}", new.name.to_lowercase()));
            }
            lock_names(tx, &keys).await?;
            if let Some(parent) = new.parent_id {
                let sibling: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM namespaces WHERE parent_id = $1 \
                     AND lower(name) = lower($2))",
                )
                .bind(parent.get())
                .bind(&new.name)
                .fetch_one(&mut **tx)
                .await
                .map_err(map_err)?;
                if sibling {
                    return Err(StoreError::Conflict(Conflict::GroupName));
                }
            }
            if route_taken(tx, &full_path).await? {
                return Err(StoreError::Conflict(Conflict::Path));
            }
            let parent_traversal = parent
                .as_ref()
                .map(|p| ids(&p.traversal_ids))
                .unwrap_or_default();
            let id: i64 = sqlx::query_scalar(
                "WITH nid AS (SELECT nextval(pg_get_serial_sequence('namespaces', 'id')) AS id) \
                 INSERT INTO namespaces (id, kind, name, path, full_path, full_name, parent_id, \
                 traversal_ids, visibility, description, created_at) \
                 SELECT nid.id, 'group', $1, $2, $3, $4, $5, $6::bigint[] || nid.id, $7, $8, $9 \
                 FROM nid RETURNING id",
            )
            .bind(&new.name)
            .bind(&new.path)
            .bind(&full_path)
            .bind(&full_name)
            .bind(new.parent_id.map(NamespaceId::get))
            .bind(parent_traversal)
            .bind(new.visibility.as_str())
            .bind(&new.description)
            .bind(ts(new.created_at))
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            sqlx::query("INSERT INTO routes (path_lower, namespace_id) VALUES ($1, $2)")
                .bind(full_path.to_lowercase())
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            if let Some(creator) = new.creator {
                sqlx::query(
                    "INSERT INTO namespace_members (namespace_id, user_id, access_level, \
                     created_by_id, created_at) VALUES ($1, $2, 50, $2, $3)",
                )
                .bind(id)
                .bind(creator.get())
                .bind(ts(new.created_at))
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            }
            fetch_namespace(tx, NamespaceId(id), "")
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn namespace(&self, id: NamespaceId) -> StoreResult<Option<Namespace>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        fetch_namespace(&mut conn, id, "").await
    }

    async fn namespace_by_full_path(&self, full_path: &str) -> StoreResult<Option<Namespace>> {
        let sql = format!(
            "SELECT {NAMESPACE_COLS} FROM namespaces n WHERE lower(n.full_path) = lower($1)"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(full_path)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(namespace).transpose()
    }

    async fn namespaces_by_ids(&self, ids: &[NamespaceId]) -> StoreResult<Vec<Namespace>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {NAMESPACE_COLS} FROM namespaces n WHERE n.id = ANY ($1) ORDER BY n.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(rows::ids(ids))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(namespace).collect()
    }

    async fn list_groups(
        &self,
        query: &GroupQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Namespace>> {
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM namespaces n");
        push_group_filters(&mut count, query);
        let mut select = QueryBuilder::new(format!("SELECT {NAMESPACE_COLS} FROM namespaces n"));
        push_group_filters(&mut select, query);
        // Byte order, as SQLite's: the database's collation must not change the order.
        let col = match query.order_by {
            GroupOrder::Name => "lower(n.name) COLLATE \"C\"",
            GroupOrder::Path => "lower(n.path) COLLATE \"C\"",
            GroupOrder::Id => "n.id",
        };
        let dir = sort_sql(query.sort);
        select.push(format!(" ORDER BY {col} {dir}, n.id {dir}"));
        self.paged(count, select, page, namespace).await
    }

    async fn delete_group(&self, id: NamespaceId) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let done = sqlx::query("DELETE FROM namespaces WHERE id = $1 AND kind = 'group'")
                .bind(id.get())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    async fn create_project(&self, new: NewProject) -> StoreResult<Project> {
        let new = &new;
        in_tx!(self, |tx| {
            // FOR SHARE: a rename of the namespace waits for us (or we for it), so the full
            // path computed here is the one the namespace has at commit.
            let ns = fetch_namespace(tx, new.namespace_id, "FOR SHARE")
                .await?
                .ok_or(StoreError::NotFound)?;
            let full_path = format!("{}/{}", ns.full_path, new.path);
            let keys = [
                route_key(&full_path),
                format!("project-name:{}:{}", ns.id, new.name.to_lowercase()),
            ];
            lock_names(tx, &keys).await?;
            let path_taken = route_taken(tx, &full_path).await?;
            let name_taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM projects WHERE namespace_id = $1 \
                 AND lower(name) = lower($2))",
            )
            .bind(ns.id.get())
            .bind(&new.name)
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            match (name_taken, path_taken) {
                (true, true) => return Err(StoreError::Conflict(Conflict::ProjectNameAndPath)),
                (true, false) => return Err(StoreError::Conflict(Conflict::ProjectName)),
                (false, true) => return Err(StoreError::Conflict(Conflict::Path)),
                (false, false) => {}
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO projects (namespace_id, name, path, full_path, description, \
                 visibility, default_branch, topics, creator_id, created_at, last_activity_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(ns.id.get())
            .bind(&new.name)
            .bind(&new.path)
            .bind(&full_path)
            .bind(&new.description)
            .bind(new.visibility.as_str())
            .bind(&new.default_branch)
            .bind(&new.topics)
            .bind(new.creator_id.map(UserId::get))
            .bind(ts(new.created_at))
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
            sqlx::query("INSERT INTO routes (path_lower, project_id) VALUES ($1, $2)")
                .bind(full_path.to_lowercase())
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            if let Some((user, level)) = new.add_creator_as {
                sqlx::query(
                    "INSERT INTO project_members (project_id, user_id, access_level, \
                     created_by_id, created_at) VALUES ($1, $2, $3, $2, $4)",
                )
                .bind(id)
                .bind(user.get())
                .bind(level.value())
                .bind(ts(new.created_at))
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            }
            fetch_project(tx, ProjectId(id))
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        fetch_project(&mut conn, id).await
    }

    async fn project_by_full_path(&self, full_path: &str) -> StoreResult<Option<Project>> {
        let sql = format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id WHERE lower(p.full_path) = lower($1)"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(full_path)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(project).transpose()
    }

    async fn projects_by_ids(&self, ids: &[ProjectId]) -> StoreResult<Vec<Project>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id WHERE p.id = ANY ($1) ORDER BY p.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ids.iter().map(|id| id.get()).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(project).collect()
    }

    async fn list_projects(
        &self,
        query: &ProjectQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Project>> {
        let mut count = QueryBuilder::new(
            "SELECT COUNT(*) FROM projects p JOIN namespaces n ON n.id = p.namespace_id",
        );
        push_project_filters(&mut count, query);
        let mut select = QueryBuilder::new(format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id"
        ));
        push_project_filters(&mut select, query);
        let col = match query.order_by {
            ProjectOrder::Id => "p.id",
            ProjectOrder::Name => "lower(p.name) COLLATE \"C\"",
            ProjectOrder::Path => "lower(p.path) COLLATE \"C\"",
            ProjectOrder::CreatedAt => "p.created_at",
            ProjectOrder::LastActivityAt => "p.last_activity_at",
        };
        let dir = sort_sql(query.sort);
        select.push(format!(" ORDER BY {col} {dir}, p.id {dir}"));
        self.paged(count, select, page, project).await
    }

    async fn delete_project(&self, id: ProjectId) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let done = sqlx::query("DELETE FROM projects WHERE id = $1")
                .bind(id.get())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    async fn memberships_of(&self, user_id: UserId) -> StoreResult<Vec<Membership>> {
        let sql = format!(
            "SELECT 'n'::text AS kind, nm.namespace_id AS id, n.traversal_ids AS trav, \
             nm.access_level AS lvl FROM namespace_members nm \
             JOIN namespaces n ON n.id = nm.namespace_id \
             WHERE nm.user_id = $1 AND (nm.expires_at IS NULL OR nm.expires_at > {TODAY}) \
             UNION ALL \
             SELECT 'p'::text, pm.project_id, n.traversal_ids, pm.access_level \
             FROM project_members pm \
             JOIN projects p ON p.id = pm.project_id JOIN namespaces n ON n.id = p.namespace_id \
             WHERE pm.user_id = $1 AND (pm.expires_at IS NULL OR pm.expires_at > {TODAY})"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(user_id.get())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let kind: String = get(row, "kind")?;
                let id: i64 = get(row, "id")?;
                let trav: Vec<i64> = get(row, "trav")?;
                let level = parse_level(get(row, "lvl")?)?;
                let traversal_ids = trav.into_iter().map(NamespaceId).collect();
                Ok(if kind == "n" {
                    Membership::Namespace {
                        id: NamespaceId(id),
                        traversal_ids,
                        level,
                    }
                } else {
                    Membership::Project {
                        id: ProjectId(id),
                        namespace_traversal_ids: traversal_ids,
                        level,
                    }
                })
            })
            .collect()
    }

    async fn member(&self, source: MemberSource, user_id: UserId) -> StoreResult<Option<Member>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        fetch_member(&mut conn, source, user_id).await
    }

    async fn list_members(
        &self,
        source: MemberSource,
        query: &MemberQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Member>> {
        let (table, col, id) = member_table(source);
        let mut count = QueryBuilder::new(format!(
            "SELECT COUNT(*) FROM {table} m JOIN users u ON u.id = m.user_id WHERE m.{col} = "
        ));
        count.push_bind(id);
        push_member_filters(&mut count, query);
        let mut select = QueryBuilder::new(format!(
            "SELECT {MEMBER_COLS}, {USER_COLS} FROM {table} m JOIN users u ON u.id = m.user_id \
             WHERE m.{col} = "
        ));
        select.push_bind(id);
        push_member_filters(&mut select, query);
        select.push(" ORDER BY u.id ASC");
        self.paged(count, select, page, |row| member(row, source))
            .await
    }

    async fn list_members_of_any(
        &self,
        sources: &[MemberSource],
        query: &MemberQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<Member>> {
        if sources.is_empty() {
            return Ok(Paged {
                items: Vec::new(),
                total: 0,
            });
        }
        // One candidate row per (source, user); keep, per user, the highest level, ties going
        // to the source listed first.
        let build = |qb: &mut QueryBuilder<Postgres>| {
            qb.push("WITH cand AS (");
            for (rank, source) in sources.iter().enumerate() {
                if rank > 0 {
                    qb.push(" UNION ALL ");
                }
                let (table, col, id) = member_table(*source);
                let kind = match source {
                    MemberSource::Project(_) => "p",
                    MemberSource::Namespace(_) => "n",
                };
                qb.push(format!("SELECT '{kind}'::text AS src_kind, "));
                qb.push_bind(id);
                qb.push("::bigint AS src_id, ");
                qb.push_bind(clamp_i64(rank as u64));
                qb.push(
                    "::bigint AS src_rank, m.user_id, m.access_level, m.expires_at, \
                     m.created_by_id, m.created_at ",
                );
                qb.push(format!("FROM {table} m WHERE m.{col} = "));
                qb.push_bind(id);
                qb.push(format!(
                    " AND (m.expires_at IS NULL OR m.expires_at > {TODAY})"
                ));
            }
            qb.push(
                "), best AS (SELECT cand.*, ROW_NUMBER() OVER (PARTITION BY user_id \
                 ORDER BY access_level DESC, src_rank ASC) AS rn FROM cand) ",
            );
        };
        let mut count = QueryBuilder::new("");
        build(&mut count);
        count.push("SELECT COUNT(*) FROM best m JOIN users u ON u.id = m.user_id WHERE m.rn = 1");
        push_member_filters(&mut count, query);
        let mut select = QueryBuilder::new("");
        build(&mut select);
        select.push(format!(
            "SELECT m.src_kind, m.src_id, {MEMBER_COLS}, {USER_COLS} FROM best m \
             JOIN users u ON u.id = m.user_id WHERE m.rn = 1"
        ));
        push_member_filters(&mut select, query);
        select.push(" ORDER BY u.id ASC");
        self.paged(count, select, page, |row| {
            let kind: String = get(row, "src_kind")?;
            let id: i64 = get(row, "src_id")?;
            let source = if kind == "p" {
                MemberSource::Project(ProjectId(id))
            } else {
                MemberSource::Namespace(NamespaceId(id))
            };
            member(row, source)
        })
        .await
    }

    async fn add_member(&self, new: NewMember) -> StoreResult<Member> {
        let new = &new;
        in_tx!(self, |tx| {
            if fetch_member(tx, new.source, new.user_id).await?.is_some() {
                return Err(StoreError::Conflict(Conflict::Member));
            }
            let (table, col, id) = member_table(new.source);
            // A concurrent add of the same member fails on the primary key: Conflict::Member.
            let sql = format!(
                "INSERT INTO {table} ({col}, user_id, access_level, expires_at, created_by_id, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6)"
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .bind(new.user_id.get())
                .bind(new.access_level.value())
                .bind(new.expires_at)
                .bind(new.created_by.map(UserId::get))
                .bind(ts(new.created_at))
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            fetch_member(tx, new.source, new.user_id)
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn update_member(
        &self,
        source: MemberSource,
        user_id: UserId,
        level: AccessLevel,
        expires_at: Option<Option<NaiveDate>>,
    ) -> StoreResult<Member> {
        in_tx!(self, |tx| {
            let (table, col, id) = member_table(source);
            let mut qb =
                QueryBuilder::<Postgres>::new(format!("UPDATE {table} SET access_level = "));
            qb.push_bind(level.value());
            if let Some(exp) = expires_at {
                qb.push(", expires_at = ");
                qb.push_bind(exp);
            }
            qb.push(format!(" WHERE {col} = "));
            qb.push_bind(id);
            qb.push(" AND user_id = ");
            qb.push_bind(user_id.get());
            let done = qb.build().execute(&mut **tx).await.map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            fetch_member(tx, source, user_id)
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn remove_member(&self, source: MemberSource, user_id: UserId) -> StoreResult<bool> {
        let (table, col, id) = member_table(source);
        let sql = format!("DELETE FROM {table} WHERE {col} = $1 AND user_id = $2");
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(user_id.get())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn count_namespace_owners(&self, ns: NamespaceId) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM namespace_members WHERE namespace_id = $1 AND access_level = 50",
        )
        .bind(ns.get())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn set_inbound_scope_enabled(
        &self,
        project_id: ProjectId,
        enabled: bool,
        audit: Option<NewAuditEvent>,
    ) -> StoreResult<bool> {
        let audit = &audit;
        in_tx!(self, |tx| {
            // Locked: of two concurrent changes, the second sees the first one's value.
            let previous: Option<bool> = sqlx::query_scalar(
                "SELECT inbound_job_token_scope_enabled FROM projects WHERE id = $1 \
                 FOR NO KEY UPDATE",
            )
            .bind(project_id.get())
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_err)?;
            let previous = previous.ok_or(StoreError::NotFound)?;
            if previous != enabled {
                sqlx::query(
                    "UPDATE projects SET inbound_job_token_scope_enabled = $1 WHERE id = $2",
                )
                .bind(enabled)
                .bind(project_id.get())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
                if let Some(audit) = audit {
                    insert_audit(tx, audit).await?;
                }
            }
            Ok(previous)
        })
    }

    async fn allowlist_projects(
        &self,
        source: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<Project>> {
        // The project itself is part of its own allowlist (GitLab's union).
        const IDS: &str = "p.id = $1 OR p.id IN (SELECT target_project_id FROM \
            ci_job_token_project_scope_links WHERE source_project_id = $1 AND direction = 1)";
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM projects p WHERE {IDS}"
        )))
        .bind(source.get())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id WHERE {IDS} \
             ORDER BY p.id ASC LIMIT $2 OFFSET $3"
        )))
        .bind(source.get())
        .bind(clamp_i64(page.per_page))
        .bind(clamp_i64(page.offset()))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(Paged {
            items: rows.iter().map(project).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn allowlist_groups(
        &self,
        source: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<Namespace>> {
        let mut count = QueryBuilder::new(
            "SELECT COUNT(*) FROM ci_job_token_group_scope_links l WHERE l.source_project_id = ",
        );
        count.push_bind(source.get());
        let mut select = QueryBuilder::new(format!(
            "SELECT {NAMESPACE_COLS} FROM ci_job_token_group_scope_links l \
             JOIN namespaces n ON n.id = l.target_group_id WHERE l.source_project_id = "
        ));
        select.push_bind(source.get());
        select.push(" ORDER BY n.id ASC");
        self.paged(count, select, page, namespace).await
    }

    async fn project_links(
        &self,
        source: ProjectId,
        direction: LinkDirection,
    ) -> StoreResult<Vec<ProjectLink>> {
        let sql = format!(
            "SELECT {PROJECT_LINK_COLS} FROM ci_job_token_project_scope_links l \
             WHERE l.source_project_id = $1 AND l.direction = $2 ORDER BY l.target_project_id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(source.get())
            .bind(direction.as_i64())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(project_link).collect()
    }

    async fn group_links(&self, source: ProjectId) -> StoreResult<Vec<GroupLink>> {
        let sql = format!(
            "SELECT {GROUP_LINK_COLS} FROM ci_job_token_group_scope_links l \
             WHERE l.source_project_id = $1 ORDER BY l.target_group_id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(source.get())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(group_link).collect()
    }

    async fn project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        direction: LinkDirection,
    ) -> StoreResult<Option<ProjectLink>> {
        let sql = format!(
            "SELECT {PROJECT_LINK_COLS} FROM ci_job_token_project_scope_links l \
             WHERE l.source_project_id = $1 AND l.target_project_id = $2 AND l.direction = $3"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(source.get())
            .bind(target.get())
            .bind(direction.as_i64())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(project_link).transpose()
    }

    async fn group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
    ) -> StoreResult<Option<GroupLink>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        fetch_group_link(&mut conn, source, target).await
    }

    async fn add_project_link(
        &self,
        new: NewLink<ProjectId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<ProjectLink> {
        let (new, audit) = (&new, &audit);
        in_tx!(self, |tx| {
            // Serialises every change to this project's allowlist, across processes. A
            // missing source is reported by the insert's foreign key, as on SQLite.
            lock_source_project(tx, new.source_project_id).await?;
            let link = insert_project_link(tx, new, limit).await?;
            insert_audit(tx, audit).await?;
            Ok(link)
        })
    }

    async fn add_group_link(
        &self,
        new: NewLink<NamespaceId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<GroupLink> {
        let (new, audit) = (&new, &audit);
        in_tx!(self, |tx| {
            lock_source_project(tx, new.source_project_id).await?;
            let link = insert_group_link(tx, new, limit).await?;
            insert_audit(tx, audit).await?;
            Ok(link)
        })
    }

    async fn remove_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>> {
        let audit = &audit;
        in_tx!(self, |tx| {
            lock_source_project(tx, source).await?;
            let existing = fetch_project_link(tx, source, target).await?;
            if existing.is_some() {
                delete_project_link(tx, source, target).await?;
                insert_audit(tx, audit).await?;
            }
            Ok(existing)
        })
    }

    async fn remove_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>> {
        let audit = &audit;
        in_tx!(self, |tx| {
            lock_source_project(tx, source).await?;
            let existing = fetch_group_link(tx, source, target).await?;
            if existing.is_some() {
                delete_group_link(tx, source, target).await?;
                insert_audit(tx, audit).await?;
            }
            Ok(existing)
        })
    }

    async fn update_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>> {
        let (policies, audit) = (&policies, &audit);
        in_tx!(self, |tx| {
            lock_source_project(tx, source).await?;
            let done = sqlx::query(
                "UPDATE ci_job_token_project_scope_links SET default_permissions = $1, \
                 job_token_policies = $2 WHERE source_project_id = $3 \
                 AND target_project_id = $4 AND direction = 1",
            )
            .bind(default_permissions)
            .bind(policies)
            .bind(source.get())
            .bind(target.get())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            insert_audit(tx, audit).await?;
            fetch_project_link(tx, source, target).await
        })
    }

    async fn update_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>> {
        let (policies, audit) = (&policies, &audit);
        in_tx!(self, |tx| {
            lock_source_project(tx, source).await?;
            let done = sqlx::query(
                "UPDATE ci_job_token_group_scope_links SET default_permissions = $1, \
                 job_token_policies = $2 WHERE source_project_id = $3 AND target_group_id = $4",
            )
            .bind(default_permissions)
            .bind(policies)
            .bind(source.get())
            .bind(target.get())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            insert_audit(tx, audit).await?;
            fetch_group_link(tx, source, target).await
        })
    }

    async fn apply_scope_changes(
        &self,
        source: ProjectId,
        changes: ScopeChangeSet,
        project_limit: u64,
        group_limit: u64,
    ) -> StoreResult<()> {
        let changes = &changes;
        in_tx!(self, |tx| {
            lock_source_project(tx, source).await?;
            for target in &changes.remove_projects {
                delete_project_link(tx, source, *target).await?;
            }
            for target in &changes.remove_groups {
                delete_group_link(tx, source, *target).await?;
            }
            for new in &changes.add_projects {
                insert_project_link(tx, new, project_limit).await?;
            }
            for new in &changes.add_groups {
                insert_group_link(tx, new, group_limit).await?;
            }
            if let Some(enabled) = changes.set_inbound {
                let done = sqlx::query(
                    "UPDATE projects SET inbound_job_token_scope_enabled = $1 WHERE id = $2",
                )
                .bind(enabled)
                .bind(source.get())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            for audit in &changes.audit {
                insert_audit(tx, audit).await?;
            }
            Ok(())
        })
    }

    async fn admissions_of(
        &self,
        origin: ProjectId,
        origin_groups: &[NamespaceId],
    ) -> StoreResult<Vec<(Project, Admission)>> {
        let mut out = Vec::new();
        let sql = format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS}, {PROJECT_LINK_COLS} \
             FROM ci_job_token_project_scope_links l \
             JOIN projects p ON p.id = l.source_project_id \
             JOIN namespaces n ON n.id = p.namespace_id \
             WHERE l.target_project_id = $1 AND l.direction = 1 ORDER BY p.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(origin.get())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        for row in &rows {
            out.push((project(row)?, Admission::Project(project_link(row)?)));
        }
        if !origin_groups.is_empty() {
            let sql = format!(
                "SELECT {PROJECT_COLS}, {NAMESPACE_COLS}, {GROUP_LINK_COLS} \
                 FROM ci_job_token_group_scope_links l \
                 JOIN projects p ON p.id = l.source_project_id \
                 JOIN namespaces n ON n.id = p.namespace_id \
                 WHERE l.target_group_id = ANY ($1) ORDER BY p.id, l.target_group_id"
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(ids(origin_groups))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
            for row in &rows {
                out.push((project(row)?, Admission::Group(group_link(row)?)));
            }
        }
        Ok(out)
    }

    async fn create_job(&self, new: NewJob) -> StoreResult<Job> {
        let created_at = ts(new.created_at);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ci_jobs (project_id, user_id, name, ref, status, token_digest, \
             created_at) VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING id",
        )
        .bind(new.project_id.get())
        .bind(new.user_id.get())
        .bind(&new.name)
        .bind(&new.ref_name)
        .bind(&new.token_digest)
        .bind(created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(Job {
            id: JobId(id),
            project_id: new.project_id,
            user_id: new.user_id,
            name: new.name,
            ref_name: new.ref_name,
            status: JobStatus::Running,
            created_at,
            finished_at: None,
        })
    }

    async fn job(&self, id: JobId) -> StoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM ci_jobs j WHERE j.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job).transpose()
    }

    async fn job_by_token_digest(&self, digest: &str) -> StoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM ci_jobs j WHERE j.token_digest = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job).transpose()
    }

    async fn finish_job(
        &self,
        id: JobId,
        status: JobStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        // One conditional statement: of two concurrent finishes, exactly one changes the row.
        let sql = format!(
            "UPDATE ci_jobs AS j SET status = $1, finished_at = $2 \
             WHERE j.id = $3 AND j.status = 'running' RETURNING {JOB_COLS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(ts(at))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job).transpose()
    }

    async fn cancel_running_jobs_of(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE ci_jobs SET status = 'canceled', finished_at = $1 \
             WHERE user_id = $2 AND status = 'running'",
        )
        .bind(ts(at))
        .bind(user.get())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn record_authorizations(&self, records: &[AuthorizationRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        // One row per (accessed, origin), in key order, written by one statement: the
        // columns travel as four arrays.
        let merged = merge_authorizations(records);
        let mut accessed = Vec::with_capacity(merged.len());
        let mut origin = Vec::with_capacity(merged.len());
        let mut at = Vec::with_capacity(merged.len());
        let mut policies = Vec::with_capacity(merged.len());
        for m in &merged {
            accessed.push(m.accessed_project_id.get());
            origin.push(m.origin_project_id.get());
            at.push(ts(m.at));
            let times: BTreeMap<&str, DateTime<Utc>> = m
                .policies
                .iter()
                .map(|(k, v)| (k.as_str(), ts(*v)))
                .collect();
            policies
                .push(serde_json::to_string(&times).map_err(|e| StoreError::Other(Box::new(e)))?);
        }
        let (accessed, origin, at, policies) = (&accessed, &origin, &at, &policies);
        // Rows for projects deleted meanwhile are skipped. A project deleted between the
        // `EXISTS` and the foreign key's check fails the statement; the retry then skips it.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = in_tx!(self, |tx| {
                // The per-policy maximum is taken in SQL, so that concurrent flushes from
                // several processes merge instead of overwriting each other.
                sqlx::query(
                    "INSERT INTO ci_job_token_authorizations AS a (accessed_project_id, \
                     origin_project_id, last_authorized_at, job_token_policies) \
                     SELECT r.accessed, r.origin, r.at, r.policies::jsonb \
                     FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[]) \
                     AS r(accessed, origin, at, policies) \
                     WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = r.accessed) \
                     AND EXISTS (SELECT 1 FROM projects p WHERE p.id = r.origin) \
                     ON CONFLICT (accessed_project_id, origin_project_id) DO UPDATE SET \
                     last_authorized_at = GREATEST(a.last_authorized_at, \
                     EXCLUDED.last_authorized_at), \
                     job_token_policies = a.job_token_policies || COALESCE((\
                     SELECT jsonb_object_agg(e.key, e.value) \
                     FROM jsonb_each(EXCLUDED.job_token_policies) AS e \
                     WHERE NOT jsonb_exists(a.job_token_policies, e.key) \
                     OR (a.job_token_policies ->> e.key)::timestamptz \
                     < (e.value #>> '{}')::timestamptz), '{}'::jsonb)",
                )
                .bind(accessed)
                .bind(origin)
                .bind(at)
                .bind(policies)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
                Ok(())
            });
            match result {
                Err(StoreError::NotFound) if attempt < 3 => {
                    continue;
                }
                other => return other,
            }
        }
    }

    async fn authorization_logs(
        &self,
        accessed: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<AuthorizationLog>> {
        let mut count = QueryBuilder::new(
            "SELECT COUNT(*) FROM ci_job_token_authorizations WHERE accessed_project_id = ",
        );
        count.push_bind(accessed.get());
        let mut select = QueryBuilder::new(format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS}, a.last_authorized_at AS a_last, \
             a.job_token_policies::text AS a_policies FROM ci_job_token_authorizations a \
             JOIN projects p ON p.id = a.origin_project_id \
             JOIN namespaces n ON n.id = p.namespace_id WHERE a.accessed_project_id = "
        ));
        select.push_bind(accessed.get());
        select.push(" ORDER BY a.last_authorized_at DESC, p.id ASC");
        self.paged(count, select, page, |row| {
            let policies: String = get(row, "a_policies")?;
            Ok(AuthorizationLog {
                origin: project(row)?,
                last_authorized_at: get(row, "a_last")?,
                job_token_policies: policy_times(&policies)?,
            })
        })
        .await
    }

    async fn export(&self) -> StoreResult<snapshot::Snapshot> {
        // One snapshot of the whole database while writers go on.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(map_err)?;
        let snap = export_from(&mut tx).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(snap)
    }

    async fn import(&self, snap: &snapshot::Snapshot) -> StoreResult<()> {
        if !snapshot::is_readable(&snap.format, snap.version) {
            return Err(StoreError::Corrupt(format!(
                "not a jobscope export of versions 1 to {} (format {:?}, version {})",
                snapshot::VERSION,
                snap.format,
                snap.version
            )));
        }
        in_tx!(self, |tx| { import_into(tx, snap).await })
    }

    async fn audit_events(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<AuditEvent>> {
        fn filters(qb: &mut QueryBuilder<Postgres>, q: &AuditQuery) {
            qb.push(" WHERE a.entity_type = ");
            qb.push_bind(q.entity_type.clone());
            qb.push(" AND a.entity_id = ");
            qb.push_bind(q.entity_id);
            if let Some(t) = q.created_after {
                qb.push(" AND a.created_at >= ");
                qb.push_bind(t);
            }
            if let Some(t) = q.created_before {
                qb.push(" AND a.created_at <= ");
                qb.push_bind(t);
            }
            if let Some(author) = q.author_id {
                qb.push(" AND a.author_id = ");
                qb.push_bind(author.get());
            }
            if let Some(id) = q.id {
                qb.push(" AND a.id = ");
                qb.push_bind(id);
            }
        }
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM audit_events a");
        filters(&mut count, query);
        let mut select = QueryBuilder::new(format!("SELECT {AUDIT_COLS} FROM audit_events a"));
        filters(&mut select, query);
        select.push(" ORDER BY a.id DESC");
        self.paged(count, select, page, audit_event).await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        Some(PoolStatus {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        })
    }

    async fn watch_changes(&self) -> StoreResult<Box<dyn ChangeWatch>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(map_err)?;
        listener.listen(CHANGE_CHANNEL).await.map_err(map_err)?;
        Ok(Box::new(NotifyWatch { listener }))
    }
}

/// The channel triggers notify on commit (migration 3).
const CHANGE_CHANNEL: &str = "jobscope_changes";

/// PostgreSQL announces committed changes with `NOTIFY`, sent by statement triggers inside
/// the writing transaction and delivered when it commits.
struct NotifyWatch {
    listener: sqlx::postgres::PgListener,
}

#[async_trait]
impl ChangeWatch for NotifyWatch {
    async fn changed(&mut self) -> StoreResult<()> {
        match self.listener.try_recv().await {
            Ok(Some(_)) => Ok(()),
            // The connection was lost: notifications sent meanwhile are gone.
            Ok(None) => Err(StoreError::Unavailable(
                "the change notification connection was lost".to_owned(),
            )),
            Err(e) => Err(map_err(e)),
        }
    }
}

// ---- write helpers -------------------------------------------------------------------------

async fn insert_token(
    conn: &mut PgConnection,
    new: &NewPersonalAccessToken,
) -> StoreResult<PersonalAccessToken> {
    let created_at = ts(new.created_at);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO personal_access_tokens (user_id, name, description, token_digest, scopes, \
         expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.user_id.get())
    .bind(&new.name)
    .bind(&new.description)
    .bind(&new.token_digest)
    .bind(&new.scopes)
    .bind(new.expires_at)
    .bind(created_at)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(PersonalAccessToken {
        id: TokenId(id),
        user_id: new.user_id,
        name: new.name.clone(),
        description: new.description.clone(),
        scopes: new.scopes.clone(),
        revoked: false,
        expires_at: new.expires_at,
        last_used_at: None,
        created_at,
    })
}

/// Moves a personal namespace (and the projects in it) to a new path.
async fn rename_user_namespace(
    conn: &mut PgConnection,
    ns: NamespaceId,
    new: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE namespaces SET path = $1, full_path = $1 WHERE id = $2")
        .bind(new)
        .bind(ns.get())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    sqlx::query("UPDATE routes SET path_lower = $1 WHERE namespace_id = $2")
        .bind(new.to_lowercase())
        .bind(ns.get())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let projects: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, path FROM projects WHERE namespace_id = $1")
            .bind(ns.get())
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
    for (id, path) in projects {
        let full = format!("{new}/{path}");
        sqlx::query("UPDATE projects SET full_path = $1 WHERE id = $2")
            .bind(&full)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        sqlx::query("UPDATE routes SET path_lower = $1 WHERE project_id = $2")
            .bind(full.to_lowercase())
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

async fn insert_audit(conn: &mut PgConnection, audit: &NewAuditEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (author_id, entity_type, entity_id, entity_path, event_name, \
         target_type, target_id, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
    )
    .bind(audit.author_id.map(UserId::get))
    .bind(&audit.entity_type)
    .bind(audit.entity_id)
    .bind(&audit.entity_path)
    .bind(&audit.event_name)
    .bind(&audit.target_type)
    .bind(audit.target_id)
    .bind(audit.details.to_string())
    .bind(ts(audit.created_at))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn fetch_project_link(
    conn: &mut PgConnection,
    source: ProjectId,
    target: ProjectId,
) -> StoreResult<Option<ProjectLink>> {
    let sql = format!(
        "SELECT {PROJECT_LINK_COLS} FROM ci_job_token_project_scope_links l \
         WHERE l.source_project_id = $1 AND l.target_project_id = $2 AND l.direction = 1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(source.get())
        .bind(target.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    row.as_ref().map(project_link).transpose()
}

async fn fetch_group_link(
    conn: &mut PgConnection,
    source: ProjectId,
    target: NamespaceId,
) -> StoreResult<Option<GroupLink>> {
    let sql = format!(
        "SELECT {GROUP_LINK_COLS} FROM ci_job_token_group_scope_links l \
         WHERE l.source_project_id = $1 AND l.target_group_id = $2"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(source.get())
        .bind(target.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    row.as_ref().map(group_link).transpose()
}

async fn delete_project_link(
    conn: &mut PgConnection,
    source: ProjectId,
    target: ProjectId,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM ci_job_token_project_scope_links \
         WHERE source_project_id = $1 AND target_project_id = $2 AND direction = 1",
    )
    .bind(source.get())
    .bind(target.get())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

async fn delete_group_link(
    conn: &mut PgConnection,
    source: ProjectId,
    target: NamespaceId,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM ci_job_token_group_scope_links \
         WHERE source_project_id = $1 AND target_group_id = $2",
    )
    .bind(source.get())
    .bind(target.get())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

/// Inserts an inbound project link after checking the limit, then uniqueness. The caller
/// holds the source project's row lock, so the count cannot change under it.
async fn insert_project_link(
    conn: &mut PgConnection,
    new: &NewLink<ProjectId>,
    limit: u64,
) -> StoreResult<ProjectLink> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ci_job_token_project_scope_links \
         WHERE source_project_id = $1 AND direction = 1",
    )
    .bind(new.source_project_id.get())
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    if u64::try_from(count).unwrap_or(0) >= limit {
        return Err(StoreError::LimitReached);
    }
    if fetch_project_link(conn, new.source_project_id, new.target)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(Conflict::Link));
    }
    let created_at = ts(new.created_at);
    sqlx::query(
        "INSERT INTO ci_job_token_project_scope_links (source_project_id, target_project_id, \
         direction, added_by_id, job_token_policies, default_permissions, autopopulated, \
         created_at) VALUES ($1, $2, 1, $3, $4, $5, $6, $7)",
    )
    .bind(new.source_project_id.get())
    .bind(new.target.get())
    .bind(new.added_by.map(UserId::get))
    .bind(&new.job_token_policies)
    .bind(new.default_permissions)
    .bind(new.autopopulated)
    .bind(created_at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(ProjectLink {
        source_project_id: new.source_project_id,
        target_project_id: new.target,
        direction: LinkDirection::Inbound,
        added_by: new.added_by,
        created_at,
        job_token_policies: new.job_token_policies.clone(),
        default_permissions: new.default_permissions,
        autopopulated: new.autopopulated,
    })
}

async fn insert_group_link(
    conn: &mut PgConnection,
    new: &NewLink<NamespaceId>,
    limit: u64,
) -> StoreResult<GroupLink> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ci_job_token_group_scope_links WHERE source_project_id = $1",
    )
    .bind(new.source_project_id.get())
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    if u64::try_from(count).unwrap_or(0) >= limit {
        return Err(StoreError::LimitReached);
    }
    if fetch_group_link(conn, new.source_project_id, new.target)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(Conflict::Link));
    }
    let created_at = ts(new.created_at);
    sqlx::query(
        "INSERT INTO ci_job_token_group_scope_links (source_project_id, target_group_id, \
         added_by_id, job_token_policies, default_permissions, autopopulated, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new.source_project_id.get())
    .bind(new.target.get())
    .bind(new.added_by.map(UserId::get))
    .bind(&new.job_token_policies)
    .bind(new.default_permissions)
    .bind(new.autopopulated)
    .bind(created_at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(GroupLink {
        source_project_id: new.source_project_id,
        target_group_id: new.target,
        added_by: new.added_by,
        created_at,
        job_token_policies: new.job_token_policies.clone(),
        default_permissions: new.default_permissions,
        autopopulated: new.autopopulated,
    })
}

// ---- export and import ---------------------------------------------------------------------

fn snap_err(e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("snapshot: {e}"))
}

async fn export_from(conn: &mut PgConnection) -> StoreResult<snapshot::Snapshot> {
    use snapshot::*;
    let token_salt: String =
        sqlx::query_scalar("SELECT token_salt FROM instance_secrets WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
    let sql = format!("SELECT {SETTINGS_COLS} FROM instance_settings WHERE id = 1");
    let settings_row = sqlx::query(AssertSqlSafe(sql))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let s = settings_from_row(&settings_row)?;
    let instance_settings = SettingsRow {
        enforce_ci_inbound_job_token_scope_enabled: s.enforce_ci_inbound_job_token_scope_enabled,
        default_project_visibility: s.default_project_visibility.as_str().to_owned(),
        default_group_visibility: s.default_group_visibility.as_str().to_owned(),
        default_projects_limit: s.default_projects_limit,
        max_personal_access_token_lifetime: s.max_personal_access_token_lifetime,
        updated_at: s.updated_at,
    };
    let mut users = Vec::new();
    for r in sqlx::query(
        "SELECT id, username, email, name, state, admin, external, bot, can_create_group, \
         projects_limit, created_at FROM users ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        users.push(UserRow {
            id: get(&r, "id")?,
            username: get(&r, "username")?,
            email: get(&r, "email")?,
            name: get(&r, "name")?,
            state: get(&r, "state")?,
            admin: get(&r, "admin")?,
            external: get(&r, "external")?,
            bot: get(&r, "bot")?,
            can_create_group: get(&r, "can_create_group")?,
            projects_limit: get(&r, "projects_limit")?,
            created_at: get(&r, "created_at")?,
        });
    }
    let mut namespaces = Vec::new();
    for r in sqlx::query(
        "SELECT id, kind, name, path, full_path, full_name, parent_id, traversal_ids, visibility, \
         description, owner_id, created_at FROM namespaces ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        namespaces.push(NamespaceRow {
            id: get(&r, "id")?,
            kind: get(&r, "kind")?,
            name: get(&r, "name")?,
            path: get(&r, "path")?,
            full_path: get(&r, "full_path")?,
            full_name: get(&r, "full_name")?,
            parent_id: get(&r, "parent_id")?,
            traversal_ids: get(&r, "traversal_ids")?,
            visibility: get(&r, "visibility")?,
            description: get(&r, "description")?,
            owner_id: get(&r, "owner_id")?,
            created_at: get(&r, "created_at")?,
        });
    }
    let mut projects = Vec::new();
    for r in sqlx::query(
        "SELECT id, namespace_id, name, path, full_path, description, visibility, default_branch, \
         topics, creator_id, created_at, last_activity_at, inbound_job_token_scope_enabled, \
         job_token_scope_enabled FROM projects ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        projects.push(ProjectRow {
            id: get(&r, "id")?,
            namespace_id: get(&r, "namespace_id")?,
            name: get(&r, "name")?,
            path: get(&r, "path")?,
            full_path: get(&r, "full_path")?,
            description: get(&r, "description")?,
            visibility: get(&r, "visibility")?,
            default_branch: get(&r, "default_branch")?,
            topics: get(&r, "topics")?,
            creator_id: get(&r, "creator_id")?,
            created_at: get(&r, "created_at")?,
            last_activity_at: get(&r, "last_activity_at")?,
            inbound_job_token_scope_enabled: get(&r, "inbound_job_token_scope_enabled")?,
            job_token_scope_enabled: get(&r, "job_token_scope_enabled")?,
        });
    }
    let mut members = Vec::new();
    for (table, col) in [
        ("namespace_members", "namespace_id"),
        ("project_members", "project_id"),
    ] {
        let mut rows = Vec::new();
        let sql = format!(
            "SELECT {col} AS source_id, user_id, access_level, expires_at, created_by_id, \
             created_at FROM {table} ORDER BY {col}, user_id"
        );
        for r in sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?
        {
            rows.push(MemberRow {
                source_id: get(&r, "source_id")?,
                user_id: get(&r, "user_id")?,
                access_level: get(&r, "access_level")?,
                expires_at: get(&r, "expires_at")?,
                created_by_id: get(&r, "created_by_id")?,
                created_at: get(&r, "created_at")?,
            });
        }
        members.push(rows);
    }
    let project_members = members.pop().unwrap_or_default();
    let namespace_members = members.pop().unwrap_or_default();
    let mut personal_access_tokens = Vec::new();
    for r in sqlx::query(
        "SELECT id, user_id, name, description, token_digest, scopes, revoked, expires_at, \
         last_used_at, created_at FROM personal_access_tokens ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        personal_access_tokens.push(TokenRow {
            id: get(&r, "id")?,
            user_id: get(&r, "user_id")?,
            name: get(&r, "name")?,
            description: get(&r, "description")?,
            token_digest: get(&r, "token_digest")?,
            scopes: get(&r, "scopes")?,
            revoked: get(&r, "revoked")?,
            expires_at: get(&r, "expires_at")?,
            last_used_at: get(&r, "last_used_at")?,
            created_at: get(&r, "created_at")?,
        });
    }
    let mut project_links = Vec::new();
    for r in sqlx::query(
        "SELECT id, source_project_id, target_project_id, direction, added_by_id, \
         job_token_policies, default_permissions, autopopulated, created_at \
         FROM ci_job_token_project_scope_links ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        project_links.push(ProjectLinkRow {
            id: get(&r, "id")?,
            source_project_id: get(&r, "source_project_id")?,
            target_project_id: get(&r, "target_project_id")?,
            direction: get(&r, "direction")?,
            added_by_id: get(&r, "added_by_id")?,
            job_token_policies: get(&r, "job_token_policies")?,
            default_permissions: get(&r, "default_permissions")?,
            autopopulated: get(&r, "autopopulated")?,
            created_at: get(&r, "created_at")?,
        });
    }
    let mut group_links = Vec::new();
    for r in sqlx::query(
        "SELECT id, source_project_id, target_group_id, added_by_id, job_token_policies, \
         default_permissions, autopopulated, created_at FROM ci_job_token_group_scope_links \
         ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        group_links.push(GroupLinkRow {
            id: get(&r, "id")?,
            source_project_id: get(&r, "source_project_id")?,
            target_group_id: get(&r, "target_group_id")?,
            added_by_id: get(&r, "added_by_id")?,
            job_token_policies: get(&r, "job_token_policies")?,
            default_permissions: get(&r, "default_permissions")?,
            autopopulated: get(&r, "autopopulated")?,
            created_at: get(&r, "created_at")?,
        });
    }
    let mut jobs = Vec::new();
    for r in sqlx::query(
        "SELECT id, project_id, user_id, name, ref, status, token_digest, created_at, finished_at \
         FROM ci_jobs ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        jobs.push(JobRow {
            id: get(&r, "id")?,
            project_id: get(&r, "project_id")?,
            user_id: get(&r, "user_id")?,
            name: get(&r, "name")?,
            ref_name: get(&r, "ref")?,
            status: get(&r, "status")?,
            token_digest: get(&r, "token_digest")?,
            created_at: get(&r, "created_at")?,
            finished_at: get(&r, "finished_at")?,
        });
    }
    let mut authorizations = Vec::new();
    for r in sqlx::query(
        "SELECT accessed_project_id, origin_project_id, last_authorized_at, \
         job_token_policies::text AS job_token_policies FROM ci_job_token_authorizations \
         ORDER BY accessed_project_id, origin_project_id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        let policies: String = get(&r, "job_token_policies")?;
        authorizations.push(AuthorizationRow {
            accessed_project_id: get(&r, "accessed_project_id")?,
            origin_project_id: get(&r, "origin_project_id")?,
            last_authorized_at: get(&r, "last_authorized_at")?,
            // Re-rendered from the parsed times, as the SQLite backend does, so the document
            // does not depend on how the times were spelled when stored.
            job_token_policies: serde_json::to_value(policy_times(&policies)?).map_err(snap_err)?,
        });
    }
    let mut audit_events = Vec::new();
    for r in sqlx::query(
        "SELECT id, author_id, entity_type, entity_id, entity_path, event_name, target_type, \
         target_id, details::text AS details, created_at FROM audit_events ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        let details: String = get(&r, "details")?;
        audit_events.push(AuditEventRow {
            id: get(&r, "id")?,
            author_id: get(&r, "author_id")?,
            entity_type: get(&r, "entity_type")?,
            entity_id: get(&r, "entity_id")?,
            entity_path: get(&r, "entity_path")?,
            event_name: get(&r, "event_name")?,
            target_type: get(&r, "target_type")?,
            target_id: get(&r, "target_id")?,
            details: serde_json::from_str(&details).map_err(snap_err)?,
            created_at: get(&r, "created_at")?,
        });
    }
    Ok(Snapshot {
        format: FORMAT.to_owned(),
        version: VERSION,
        token_salt,
        instance_settings,
        users,
        namespaces,
        projects,
        namespace_members,
        project_members,
        personal_access_tokens,
        project_links,
        group_links,
        jobs,
        authorizations,
        audit_events,
    })
}

/// Every table, in the order an import fills them.
const TABLES: &[&str] = &[
    "instance_settings",
    "instance_secrets",
    "users",
    "namespaces",
    "projects",
    "routes",
    "namespace_members",
    "project_members",
    "personal_access_tokens",
    "ci_job_token_project_scope_links",
    "ci_job_token_group_scope_links",
    "ci_jobs",
    "ci_job_token_authorizations",
    "audit_events",
];

/// Tables whose `id` is an identity column, for moving the sequences on after an import.
const IDENTITY_TABLES: &[&str] = &[
    "users",
    "namespaces",
    "projects",
    "personal_access_tokens",
    "ci_job_token_project_scope_links",
    "ci_job_token_group_scope_links",
    "ci_jobs",
    "audit_events",
];

/// Rows per multi-row INSERT (far below PostgreSQL's 65535 bind parameters).
const IMPORT_BATCH: usize = 500;

/// Inserts `rows` with `INSERT INTO {head} VALUES (…), (…)`, in batches.
async fn insert_batched<T>(
    conn: &mut PgConnection,
    head: &str,
    rows: &[T],
    mut push: impl FnMut(Separated<'_, Postgres, &'static str>, &T),
) -> StoreResult<()> {
    for chunk in rows.chunks(IMPORT_BATCH) {
        let mut qb = QueryBuilder::<Postgres>::new(format!("INSERT INTO {head} "));
        qb.push_values(chunk, &mut push);
        qb.build().execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}

async fn import_into(conn: &mut PgConnection, snap: &snapshot::Snapshot) -> StoreResult<()> {
    // No other writer while the store is filled: a concurrent create would race the ids.
    sqlx::query(AssertSqlSafe(format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE",
        TABLES.join(", ")
    )))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    if users > 0 {
        return Err(StoreError::Conflict(Conflict::Username));
    }
    // The digests below were made with the exporting instance's salt, which this instance
    // takes over (it has no token of its own yet: it has no user).
    if !jobscope_store::secrets::is_valid_salt(&snap.token_salt) {
        return Err(StoreError::Corrupt(
            "token_salt is not 32 hexadecimal digits".to_owned(),
        ));
    }
    sqlx::query("UPDATE instance_secrets SET token_salt = $1 WHERE id = 1")
        .bind(&snap.token_salt)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    // Rows may refer to rows further down the document (a parent group, a creator); the
    // foreign keys are checked once, at commit.
    sqlx::query("SET CONSTRAINTS ALL DEFERRED")
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let s = &snap.instance_settings;
    sqlx::query(
        "INSERT INTO instance_settings (id, enforce_ci_inbound_job_token_scope_enabled, \
         default_project_visibility, default_group_visibility, default_projects_limit, \
         max_personal_access_token_lifetime, updated_at) VALUES (1, $1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET enforce_ci_inbound_job_token_scope_enabled = $1, \
         default_project_visibility = $2, default_group_visibility = $3, \
         default_projects_limit = $4, max_personal_access_token_lifetime = $5, updated_at = $6",
    )
    .bind(s.enforce_ci_inbound_job_token_scope_enabled)
    .bind(&s.default_project_visibility)
    .bind(&s.default_group_visibility)
    .bind(s.default_projects_limit)
    .bind(s.max_personal_access_token_lifetime)
    .bind(ts(s.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    insert_batched(
        conn,
        "users (id, username, email, name, state, admin, external, bot, can_create_group, \
         projects_limit, created_at)",
        &snap.users,
        |mut b, u| {
            b.push_bind(u.id)
                .push_bind(u.username.clone())
                .push_bind(u.email.clone())
                .push_bind(u.name.clone())
                .push_bind(u.state.clone())
                .push_bind(u.admin)
                .push_bind(u.external)
                .push_bind(u.bot)
                .push_bind(u.can_create_group)
                .push_bind(u.projects_limit)
                .push_bind(ts(u.created_at));
        },
    )
    .await?;
    insert_batched(
        conn,
        "namespaces (id, kind, name, path, full_path, full_name, parent_id, traversal_ids, \
         visibility, description, owner_id, created_at)",
        &snap.namespaces,
        |mut b, n| {
            b.push_bind(n.id)
                .push_bind(n.kind.clone())
                .push_bind(n.name.clone())
                .push_bind(n.path.clone())
                .push_bind(n.full_path.clone())
                .push_bind(n.full_name.clone())
                .push_bind(n.parent_id)
                .push_bind(n.traversal_ids.clone())
                .push_bind(n.visibility.clone())
                .push_bind(n.description.clone())
                .push_bind(n.owner_id)
                .push_bind(ts(n.created_at));
        },
    )
    .await?;
    insert_batched(
        conn,
        "projects (id, namespace_id, name, path, full_path, description, visibility, \
         default_branch, topics, creator_id, created_at, last_activity_at, \
         inbound_job_token_scope_enabled, job_token_scope_enabled)",
        &snap.projects,
        |mut b, p| {
            b.push_bind(p.id)
                .push_bind(p.namespace_id)
                .push_bind(p.name.clone())
                .push_bind(p.path.clone())
                .push_bind(p.full_path.clone())
                .push_bind(p.description.clone())
                .push_bind(p.visibility.clone())
                .push_bind(p.default_branch.clone())
                .push_bind(p.topics.clone())
                .push_bind(p.creator_id)
                .push_bind(ts(p.created_at))
                .push_bind(ts(p.last_activity_at))
                .push_bind(p.inbound_job_token_scope_enabled)
                .push_bind(p.job_token_scope_enabled);
        },
    )
    .await?;
    let routes: Vec<(String, Option<i64>, Option<i64>)> = snap
        .namespaces
        .iter()
        .map(|n| (n.full_path.to_lowercase(), Some(n.id), None))
        .chain(
            snap.projects
                .iter()
                .map(|p| (p.full_path.to_lowercase(), None, Some(p.id))),
        )
        .collect();
    insert_batched(
        conn,
        "routes (path_lower, namespace_id, project_id)",
        &routes,
        |mut b, (path, ns, project)| {
            b.push_bind(path.clone()).push_bind(*ns).push_bind(*project);
        },
    )
    .await?;
    for (table, col, rows) in [
        ("namespace_members", "namespace_id", &snap.namespace_members),
        ("project_members", "project_id", &snap.project_members),
    ] {
        let head = format!(
            "{table} ({col}, user_id, access_level, expires_at, created_by_id, created_at)"
        );
        insert_batched(conn, &head, rows, |mut b, m| {
            b.push_bind(m.source_id)
                .push_bind(m.user_id)
                .push_bind(m.access_level)
                .push_bind(m.expires_at)
                .push_bind(m.created_by_id)
                .push_bind(ts(m.created_at));
        })
        .await?;
    }
    insert_batched(
        conn,
        "personal_access_tokens (id, user_id, name, description, token_digest, scopes, revoked, \
         expires_at, last_used_at, created_at)",
        &snap.personal_access_tokens,
        |mut b, t| {
            b.push_bind(t.id)
                .push_bind(t.user_id)
                .push_bind(t.name.clone())
                .push_bind(t.description.clone())
                .push_bind(t.token_digest.clone())
                .push_bind(t.scopes.clone())
                .push_bind(t.revoked)
                .push_bind(t.expires_at)
                .push_bind(t.last_used_at.map(ts))
                .push_bind(ts(t.created_at));
        },
    )
    .await?;
    insert_batched(
        conn,
        "ci_job_token_project_scope_links (id, source_project_id, target_project_id, direction, \
         added_by_id, job_token_policies, default_permissions, autopopulated, created_at)",
        &snap.project_links,
        |mut b, l| {
            b.push_bind(l.id)
                .push_bind(l.source_project_id)
                .push_bind(l.target_project_id)
                .push_bind(l.direction)
                .push_bind(l.added_by_id)
                .push_bind(l.job_token_policies.clone())
                .push_bind(l.default_permissions)
                .push_bind(l.autopopulated)
                .push_bind(ts(l.created_at));
        },
    )
    .await?;
    insert_batched(
        conn,
        "ci_job_token_group_scope_links (id, source_project_id, target_group_id, added_by_id, \
         job_token_policies, default_permissions, autopopulated, created_at)",
        &snap.group_links,
        |mut b, l| {
            b.push_bind(l.id)
                .push_bind(l.source_project_id)
                .push_bind(l.target_group_id)
                .push_bind(l.added_by_id)
                .push_bind(l.job_token_policies.clone())
                .push_bind(l.default_permissions)
                .push_bind(l.autopopulated)
                .push_bind(ts(l.created_at));
        },
    )
    .await?;
    insert_batched(
        conn,
        "ci_jobs (id, project_id, user_id, name, ref, status, token_digest, created_at, \
         finished_at)",
        &snap.jobs,
        |mut b, j| {
            b.push_bind(j.id)
                .push_bind(j.project_id)
                .push_bind(j.user_id)
                .push_bind(j.name.clone())
                .push_bind(j.ref_name.clone())
                .push_bind(j.status.clone())
                .push_bind(j.token_digest.clone())
                .push_bind(ts(j.created_at))
                .push_bind(j.finished_at.map(ts));
        },
    )
    .await?;
    insert_batched(
        conn,
        "ci_job_token_authorizations (accessed_project_id, origin_project_id, \
         last_authorized_at, job_token_policies)",
        &snap.authorizations,
        |mut b, a| {
            b.push_bind(a.accessed_project_id)
                .push_bind(a.origin_project_id)
                .push_bind(ts(a.last_authorized_at))
                .push_bind(a.job_token_policies.to_string())
                .push_unseparated("::jsonb");
        },
    )
    .await?;
    insert_batched(
        conn,
        "audit_events (id, author_id, entity_type, entity_id, entity_path, event_name, \
         target_type, target_id, details, created_at)",
        &snap.audit_events,
        |mut b, e| {
            b.push_bind(e.id)
                .push_bind(e.author_id)
                .push_bind(e.entity_type.clone())
                .push_bind(e.entity_id)
                .push_bind(e.entity_path.clone())
                .push_bind(e.event_name.clone())
                .push_bind(e.target_type.clone())
                .push_bind(e.target_id)
                .push_bind(e.details.to_string())
                .push_unseparated("::jsonb")
                .push_bind(ts(e.created_at));
        },
    )
    .await?;
    // New rows continue after the imported ones (and never reuse an id the sequence gave out).
    for table in IDENTITY_TABLES {
        let sql = format!(
            "SELECT setval(s.seq, GREATEST(s.v, 1), s.v > 0) FROM (\
             SELECT pg_get_serial_sequence('{table}', 'id') AS seq, GREATEST(\
             (SELECT COALESCE(MAX(id), 0) FROM {table}), \
             COALESCE(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass), \
             0)) AS v) AS s"
        );
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_map_to_conflicts() {
        assert_eq!(
            conflict_for("users_username_lower"),
            Some(Conflict::Username)
        );
        assert_eq!(conflict_for("routes_pkey"), Some(Conflict::Path));
        assert_eq!(
            conflict_for("ci_job_token_group_scope_links_unique"),
            Some(Conflict::Link)
        );
        assert_eq!(conflict_for("users_pkey"), None);
    }

    #[test]
    fn every_constraint_named_in_the_map_exists_in_the_migrations() {
        let schema = MIGRATOR
            .iter()
            .map(|m| m.sql.as_str().to_owned())
            .collect::<Vec<_>>()
            .join("\n");
        for name in [
            "users_username_lower",
            "users_email_lower",
            "routes_pkey",
            "namespaces_full_path_lower",
            "projects_full_path_lower",
            "projects_namespace_name_lower",
            "namespaces_parent_name_lower",
            "namespace_members_pkey",
            "project_members_pkey",
            "ci_job_token_project_scope_links_unique",
            "ci_job_token_group_scope_links_unique",
            "personal_access_tokens_token_digest_key",
            "ci_jobs_token_digest_key",
        ] {
            assert!(conflict_for(name).is_some(), "{name} is mapped");
            assert!(schema.contains(name), "{name} is declared in a migration");
        }
    }

    #[test]
    fn retryable_errors_are_recognised() {
        assert!(is_retryable(&StoreError::Unavailable(DEADLOCK.to_owned())));
        assert!(is_retryable(&StoreError::Unavailable(
            SERIALIZATION_FAILURE.to_owned()
        )));
        assert!(!is_retryable(&StoreError::Unavailable("pool".to_owned())));
        assert!(!is_retryable(&StoreError::NotFound));
    }

    #[test]
    fn timestamps_are_cut_to_microseconds() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(ts(t).timestamp_subsec_nanos(), 123_456_000);
    }

    /// Connections really run with the durability and lock settings (needs the test server;
    /// see tests/common/mod.rs for the environment variables).
    #[tokio::test]
    async fn sessions_commit_synchronously() {
        if std::env::var("JOBSCOPE_TEST_POSTGRES").is_ok_and(|v| v == "skip") {
            return;
        }
        let url = std::env::var("JOBSCOPE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let (pool_options, migrate_options) = connect_options(&url).unwrap();
        for (options, lock_timeout) in [(pool_options, "10s"), (migrate_options, "0")] {
            let mut conn = options.connect().await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable ({e}); set JOBSCOPE_TEST_POSTGRES_URL, or \
                     JOBSCOPE_TEST_POSTGRES=skip to skip the PostgreSQL tests"
                )
            });
            let show = |name: &'static str| format!("SHOW {name}");
            for (name, expected) in [
                ("synchronous_commit", "on"),
                ("TimeZone", "UTC"),
                ("lock_timeout", lock_timeout),
                ("application_name", "jobscope"),
            ] {
                let value: String = sqlx::query_scalar(AssertSqlSafe(show(name)))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                assert_eq!(value, expected, "{name}");
            }
        }
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("A_b%"), "%a\\_b\\%%");
    }
}
