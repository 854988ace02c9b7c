//! The embedded SQLite backend.
//!
//! - One file, created with its migrations on first use; WAL journal with `synchronous=FULL`,
//!   so an acknowledged write survives a crash of the process or of the machine.
//! - Every write runs in a `BEGIN IMMEDIATE` transaction: SQLite serialises writers, so a rule
//!   checked inside the transaction (a limit, a uniqueness) cannot be raced.
//! - Reads use the pool's other connections and never wait for writers (WAL).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod rows;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use jobscope_store::*;
use jobscope_types::{AccessLevel, NamespaceId, ProjectId, TokenId, UserId};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqliteConnection};

use rows::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another writer before giving up with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            let msg = db.message().to_owned();
            if msg.contains("UNIQUE constraint failed") {
                let conflict = if msg.contains("users_username") {
                    Conflict::Username
                } else if msg.contains("users_email") {
                    Conflict::Email
                } else if msg.contains("routes") || msg.contains("full_path") {
                    Conflict::Path
                } else if msg.contains("projects_namespace_name") {
                    Conflict::ProjectName
                } else if msg.contains("members") {
                    Conflict::Member
                } else if msg.contains("scope_links") {
                    Conflict::Link
                } else if msg.contains("token_digest") {
                    Conflict::TokenDigest
                } else {
                    return StoreError::Other(Box::new(e));
                };
                StoreError::Conflict(conflict)
            } else if msg.contains("FOREIGN KEY constraint failed") {
                StoreError::NotFound
            } else if msg.contains("database is locked") || msg.contains("busy") {
                StoreError::Unavailable(msg)
            } else {
                StoreError::Other(Box::new(e))
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(Box::new(e)),
    }
}

type Tx = sqlx::Transaction<'static, Sqlite>;

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path`, `sqlite:path` or a
    /// plain file path) and applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        // Several processes opening a new file at once race for the switch to WAL mode and
        // the first migration; the losers see "database is locked" and try again.
        let mut attempt = 0;
        loop {
            match Self::open_once(url).await {
                Err(StoreError::Unavailable(msg)) if attempt < 50 => {
                    tracing::debug!(error = %msg, attempt, "database busy while opening, retrying");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return other,
            }
        }
    }

    async fn open_once(url: &str) -> StoreResult<Self> {
        let options = Self::options(url)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        store.ensure_settings_row().await?;
        Ok(store)
    }

    /// Opens a database file by path.
    pub async fn open_path(path: &Path) -> StoreResult<Self> {
        Self::open(&format!("sqlite://{}", path.display())).await
    }

    fn options(url: &str) -> StoreResult<SqliteConnectOptions> {
        let file = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let (file, _query) = file.split_once('?').unwrap_or((file, ""));
        if file.is_empty() {
            return Err(StoreError::Unavailable(format!(
                "no database file in {url:?}"
            )));
        }
        Ok(SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT))
    }

    /// Applies pending migrations (also done by [`SqliteStore::open`]).
    ///
    /// SQLite has no lock for migrations: when several processes start on a new file at once,
    /// all but one fail a migration (each runs in its own transaction, so nothing is half
    /// applied). They try again, and then find the migrations applied.
    pub async fn migrate(&self) -> StoreResult<()> {
        let mut attempt = 0;
        loop {
            match MIGRATOR.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < 20 => {
                    tracing::debug!(error = %e, attempt, "migration failed, retrying");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(StoreError::Other(Box::new(e))),
            }
        }
    }

    async fn ensure_settings_row(&self) -> StoreResult<()> {
        sqlx::query("INSERT OR IGNORE INTO instance_settings (id, updated_at) VALUES (1, ?)")
            .bind(micros(Utc::now()))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_tx(&self) -> StoreResult<Tx> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }

    async fn fetch_user(conn: &mut SqliteConnection, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn fetch_namespace(
        conn: &mut SqliteConnection,
        id: NamespaceId,
    ) -> StoreResult<Option<Namespace>> {
        let sql = format!("SELECT {NAMESPACE_COLS} FROM namespaces n WHERE n.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
        row.as_ref().map(namespace).transpose()
    }

    async fn fetch_project(
        conn: &mut SqliteConnection,
        id: ProjectId,
    ) -> StoreResult<Option<Project>> {
        let sql = format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id WHERE p.id = ?"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
        row.as_ref().map(project).transpose()
    }

    async fn route_taken(conn: &mut SqliteConnection, path: &str) -> StoreResult<bool> {
        let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM routes WHERE path_lower = ?")
            .bind(path.to_lowercase())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
        Ok(taken.is_some())
    }

    async fn fetch_member(
        conn: &mut SqliteConnection,
        source: MemberSource,
        user_id: UserId,
    ) -> StoreResult<Option<Member>> {
        let (table, col, id) = member_table(source);
        let sql = format!(
            "SELECT {MEMBER_COLS}, {USER_COLS} FROM {table} m JOIN users u ON u.id = m.user_id \
             WHERE m.{col} = ? AND m.user_id = ?"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(user_id.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
        row.as_ref().map(|r| member(r, source)).transpose()
    }

    async fn paged<T>(
        &self,
        mut count: QueryBuilder<Sqlite>,
        mut select: QueryBuilder<Sqlite>,
        page: PageRequest,
        map: impl Fn(&SqliteRow) -> StoreResult<T>,
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

/// `(SELECT MAX(level) ...)`: the user's inherited role in project `p` (namespace `n`).
fn push_project_level(qb: &mut QueryBuilder<Sqlite>, user: UserId) {
    qb.push(
        "(SELECT MAX(lvl) FROM (\
         SELECT pm.access_level AS lvl FROM project_members pm WHERE pm.project_id = p.id \
         AND pm.user_id = ",
    );
    qb.push_bind(user.get());
    qb.push(
        " AND (pm.expires_at IS NULL OR pm.expires_at > date('now')) \
         UNION ALL SELECT nm.access_level FROM namespace_members nm WHERE nm.user_id = ",
    );
    qb.push_bind(user.get());
    qb.push(
        " AND instr(n.traversal_ids, '/' || nm.namespace_id || '/') > 0 \
         AND (nm.expires_at IS NULL OR nm.expires_at > date('now')) \
         UNION ALL SELECT 50 WHERE n.owner_id = ",
    );
    qb.push_bind(user.get());
    qb.push("))");
}

/// The user's inherited role in group `n` (memberships of it and its ancestors).
fn push_group_level(qb: &mut QueryBuilder<Sqlite>, user: UserId) {
    qb.push("(SELECT MAX(nm.access_level) FROM namespace_members nm WHERE nm.user_id = ");
    qb.push_bind(user.get());
    qb.push(
        " AND instr(n.traversal_ids, '/' || nm.namespace_id || '/') > 0 \
         AND (nm.expires_at IS NULL OR nm.expires_at > date('now')))",
    );
}

/// True when the user may see private group `n` through a membership anywhere in its tree.
fn push_group_member_visible(qb: &mut QueryBuilder<Sqlite>, user: UserId) {
    qb.push(
        "(EXISTS (SELECT 1 FROM namespace_members nm JOIN namespaces mn ON mn.id = nm.namespace_id \
         WHERE nm.user_id = ",
    );
    qb.push_bind(user.get());
    qb.push(
        " AND (nm.expires_at IS NULL OR nm.expires_at > date('now')) \
         AND (instr(n.traversal_ids, '/' || nm.namespace_id || '/') > 0 \
         OR instr(mn.traversal_ids, '/' || n.id || '/') > 0)) \
         OR EXISTS (SELECT 1 FROM project_members pm JOIN projects pp ON pp.id = pm.project_id \
         JOIN namespaces pn ON pn.id = pp.namespace_id WHERE pm.user_id = ",
    );
    qb.push_bind(user.get());
    qb.push(
        " AND (pm.expires_at IS NULL OR pm.expires_at > date('now')) \
         AND instr(pn.traversal_ids, '/' || n.id || '/') > 0))",
    );
}

fn push_project_filters(qb: &mut QueryBuilder<Sqlite>, q: &ProjectQuery) {
    qb.push(" WHERE 1 = 1");
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
            qb.push(" AND instr(n.traversal_ids, '/' || ");
            qb.push_bind(ns.get());
            qb.push(" || '/') > 0");
        } else {
            qb.push(" AND p.namespace_id = ");
            qb.push_bind(ns.get());
        }
    }
}

fn push_group_filters(qb: &mut QueryBuilder<Sqlite>, q: &GroupQuery) {
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
        qb.push(" AND instr(n.traversal_ids, '/' || ");
        qb.push_bind(ancestor.get());
        qb.push(" || '/') > 0");
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

fn push_member_filters(qb: &mut QueryBuilder<Sqlite>, q: &MemberQuery) {
    if let Some(text) = &q.query {
        qb.push(" AND (lower(u.username) LIKE ");
        qb.push_bind(like_pattern(text));
        qb.push(" ESCAPE '\\' OR lower(u.name) LIKE ");
        qb.push_bind(like_pattern(text));
        qb.push(" ESCAPE '\\')");
    }
    if let Some(ids) = &q.user_ids {
        qb.push(" AND u.id IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.get());
        }
        if ids.is_empty() {
            sep.push("NULL");
        }
        qb.push(")");
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn instance_settings(&self) -> StoreResult<InstanceSettings> {
        let row = sqlx::query(
            "SELECT enforce_ci_inbound_job_token_scope_enabled, default_project_visibility, \
             default_group_visibility, default_projects_limit, max_personal_access_token_lifetime, \
             updated_at FROM instance_settings WHERE id = 1",
        )
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
        let mut tx = self.write_tx().await?;
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE instance_settings SET updated_at = ");
        qb.push_bind(at);
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
        qb.push(" WHERE id = 1");
        qb.build().execute(&mut *tx).await.map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        self.instance_settings().await
    }

    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        let mut tx = self.write_tx().await?;
        // GitLab checks the email first, then the username.
        let email_taken: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE lower(email) = lower(?)")
                .bind(&new.email)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if email_taken.is_some() {
            return Err(StoreError::Conflict(Conflict::Email));
        }
        let username_taken: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE lower(username) = lower(?)")
                .bind(&new.username)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if username_taken.is_some() {
            return Err(StoreError::Conflict(Conflict::Username));
        }
        if Self::route_taken(&mut tx, &new.username).await? {
            return Err(StoreError::Conflict(Conflict::Path));
        }
        let user_id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, email, name, admin, external, bot, can_create_group, \
             projects_limit, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&new.username)
        .bind(&new.email)
        .bind(&new.name)
        .bind(new.admin)
        .bind(new.external)
        .bind(new.bot)
        .bind(new.can_create_group)
        .bind(new.projects_limit)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let ns_id: i64 = sqlx::query_scalar(
            "INSERT INTO namespaces (kind, name, path, full_path, full_name, traversal_ids, \
             visibility, owner_id, created_at) VALUES ('user', ?, ?, ?, ?, '', 'public', ?, ?) \
             RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.username)
        .bind(&new.username)
        .bind(&new.name)
        .bind(user_id)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("UPDATE namespaces SET traversal_ids = ? WHERE id = ?")
            .bind(traversal_text(&[NamespaceId(ns_id)]))
            .bind(ns_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("INSERT INTO routes (path_lower, namespace_id) VALUES (?, ?)")
            .bind(new.username.to_lowercase())
            .bind(ns_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let user = Self::fetch_user(&mut tx, UserId(user_id))
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(user)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        Self::fetch_user(&mut conn, id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE lower(u.username) = lower(?)");
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
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {USER_COLS} FROM users u WHERE u.id IN ("));
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.get());
        }
        qb.push(") ORDER BY u.id");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter().map(user).collect()
    }

    async fn list_users(&self, query: &UserQuery, page: PageRequest) -> StoreResult<Paged<User>> {
        fn filters(qb: &mut QueryBuilder<Sqlite>, q: &UserQuery) {
            qb.push(" WHERE 1 = 1");
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
        let mut tx = self.write_tx().await?;
        let current = Self::fetch_user(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(username) = &patch.username
            && username.to_lowercase() != current.username.to_lowercase()
        {
            let clash: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM users WHERE lower(username) = lower(?)")
                    .bind(username)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if clash.is_some() {
                return Err(StoreError::Conflict(Conflict::Username));
            }
            if Self::route_taken(&mut tx, username).await? {
                return Err(StoreError::Conflict(Conflict::Path));
            }
        }
        if let Some(email) = &patch.email {
            let clash: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM users WHERE lower(email) = lower(?) AND id <> ?")
                    .bind(email)
                    .bind(id.get())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if clash.is_some() {
                return Err(StoreError::Conflict(Conflict::Email));
            }
        }
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE users SET id = id");
        if let Some(v) = &patch.name {
            qb.push(", name = ");
            qb.push_bind(v.clone());
        }
        if let Some(v) = &patch.email {
            qb.push(", email = ");
            qb.push_bind(v.clone());
        }
        if let Some(v) = &patch.username {
            qb.push(", username = ");
            qb.push_bind(v.clone());
        }
        if let Some(v) = patch.admin {
            qb.push(", admin = ");
            qb.push_bind(v);
        }
        if let Some(v) = patch.external {
            qb.push(", external = ");
            qb.push_bind(v);
        }
        if let Some(v) = patch.can_create_group {
            qb.push(", can_create_group = ");
            qb.push_bind(v);
        }
        if let Some(v) = patch.projects_limit {
            qb.push(", projects_limit = ");
            qb.push_bind(v);
        }
        qb.push(" WHERE id = ");
        qb.push_bind(id.get());
        qb.build().execute(&mut *tx).await.map_err(map_err)?;
        if let Some(username) = &patch.username
            && *username != current.username
        {
            // The personal namespace follows the username; projects in it move with it.
            rename_user_namespace(&mut tx, current.namespace_id, username).await?;
        }
        if let Some(name) = &patch.name {
            sqlx::query("UPDATE namespaces SET name = ?, full_name = ? WHERE id = ?")
                .bind(name)
                .bind(name)
                .bind(current.namespace_id.get())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let user = Self::fetch_user(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(user)
    }

    async fn set_user_state(&self, id: UserId, state: UserState) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE users SET state = ? WHERE id = ?")
            .bind(state.as_str())
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(map_err)
    }

    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(map_err)
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
        let mut tx = self.write_tx().await?;
        let token = insert_token(&mut tx, &new).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(token)
    }

    async fn personal_access_token_by_digest(
        &self,
        digest: &str,
    ) -> StoreResult<Option<PersonalAccessToken>> {
        let sql =
            format!("SELECT {TOKEN_COLS} FROM personal_access_tokens t WHERE t.token_digest = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(token).transpose()
    }

    async fn personal_access_token(&self, id: TokenId) -> StoreResult<Option<PersonalAccessToken>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM personal_access_tokens t WHERE t.id = ?");
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
        fn filters(qb: &mut QueryBuilder<Sqlite>, q: &TokenQuery) {
            qb.push(" WHERE 1 = 1");
            if let Some(user) = q.user_id {
                qb.push(" AND t.user_id = ");
                qb.push_bind(user.get());
            }
            if let Some((active, today)) = q.active {
                if active {
                    qb.push(" AND t.revoked = 0 AND (t.expires_at IS NULL OR t.expires_at > ");
                    qb.push_bind(today);
                    qb.push(")");
                } else {
                    qb.push(
                        " AND (t.revoked = 1 OR (t.expires_at IS NOT NULL AND t.expires_at <= ",
                    );
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
        let mut tx = self.write_tx().await?;
        let exists: Option<bool> =
            sqlx::query_scalar("SELECT revoked FROM personal_access_tokens WHERE id = ?")
                .bind(id.get())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some(revoked) = exists else {
            return Err(StoreError::NotFound);
        };
        if revoked {
            return Ok(false);
        }
        sqlx::query("UPDATE personal_access_tokens SET revoked = 1 WHERE id = ?")
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn rotate_personal_access_token(
        &self,
        old: TokenId,
        new: NewPersonalAccessToken,
        today: NaiveDate,
    ) -> StoreResult<PersonalAccessToken> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE personal_access_tokens SET revoked = 1 WHERE id = ? AND revoked = 0 \
             AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(old.get())
        .bind(today)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let token = insert_token(&mut tx, &new).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(token)
    }

    async fn touch_personal_access_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE personal_access_tokens SET last_used_at = ? WHERE id = ?")
            .bind(at)
            .bind(id.get())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_web_session(&self, session: WebSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO web_sessions (id_digest, user_id, token_id, csrf_token, created_at, \
             last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&session.id_digest)
        .bind(session.user_id.get())
        .bind(session.token_id.get())
        .bind(&session.csrf_token)
        .bind(micros(session.created_at))
        .bind(micros(session.last_seen_at))
        .bind(micros(session.expires_at))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn web_session(&self, id_digest: &str) -> StoreResult<Option<WebSession>> {
        let row = sqlx::query(
            "SELECT id_digest, user_id, token_id, csrf_token, created_at, last_seen_at, \
             expires_at FROM web_sessions WHERE id_digest = ?",
        )
        .bind(id_digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(web_session).transpose()
    }

    async fn touch_web_session(&self, id_digest: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE web_sessions SET last_seen_at = ? WHERE id_digest = ?")
            .bind(micros(at))
            .bind(id_digest)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_web_session(&self, id_digest: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE id_digest = ?")
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
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= ? OR last_seen_at <= ?")
                .bind(micros(now))
                .bind(micros(idle_before))
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn create_group(&self, new: NewGroup) -> StoreResult<Namespace> {
        let mut tx = self.write_tx().await?;
        let parent = match new.parent_id {
            Some(pid) => Some(
                Self::fetch_namespace(&mut tx, pid)
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
        if let Some(parent) = new.parent_id {
            let sibling: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM namespaces WHERE parent_id = ? AND lower(name) = lower(?)",
            )
            .bind(parent.get())
            .bind(&new.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            if sibling.is_some() {
                return Err(StoreError::Conflict(Conflict::GroupName));
            }
        }
        if Self::route_taken(&mut tx, &full_path).await? {
            return Err(StoreError::Conflict(Conflict::Path));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO namespaces (kind, name, path, full_path, full_name, parent_id, \
             traversal_ids, visibility, description, created_at) \
             VALUES ('group', ?, ?, ?, ?, ?, '', ?, ?, ?) RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.path)
        .bind(&full_path)
        .bind(&full_name)
        .bind(new.parent_id.map(NamespaceId::get))
        .bind(new.visibility.as_str())
        .bind(&new.description)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut traversal = parent.map(|p| p.traversal_ids).unwrap_or_default();
        traversal.push(NamespaceId(id));
        sqlx::query("UPDATE namespaces SET traversal_ids = ? WHERE id = ?")
            .bind(traversal_text(&traversal))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("INSERT INTO routes (path_lower, namespace_id) VALUES (?, ?)")
            .bind(full_path.to_lowercase())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some(creator) = new.creator {
            sqlx::query(
                "INSERT INTO namespace_members (namespace_id, user_id, access_level, \
                 created_by_id, created_at) VALUES (?, ?, 50, ?, ?)",
            )
            .bind(id)
            .bind(creator.get())
            .bind(creator.get())
            .bind(new.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let ns = Self::fetch_namespace(&mut tx, NamespaceId(id))
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(ns)
    }

    async fn namespace(&self, id: NamespaceId) -> StoreResult<Option<Namespace>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        Self::fetch_namespace(&mut conn, id).await
    }

    async fn namespace_by_full_path(&self, full_path: &str) -> StoreResult<Option<Namespace>> {
        let sql = format!(
            "SELECT {NAMESPACE_COLS} FROM namespaces n WHERE lower(n.full_path) = lower(?)"
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
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {NAMESPACE_COLS} FROM namespaces n WHERE n.id IN ("
        ));
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.get());
        }
        qb.push(") ORDER BY n.id");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
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
        let col = match query.order_by {
            GroupOrder::Name => "lower(n.name)",
            GroupOrder::Path => "lower(n.path)",
            GroupOrder::Id => "n.id",
        };
        select.push(format!(
            " ORDER BY {col} {}, n.id {}",
            sort_sql(query.sort),
            sort_sql(query.sort)
        ));
        self.paged(count, select, page, namespace).await
    }

    async fn delete_group(&self, id: NamespaceId) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM namespaces WHERE id = ? AND kind = 'group'")
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(map_err)
    }

    async fn create_project(&self, new: NewProject) -> StoreResult<Project> {
        let mut tx = self.write_tx().await?;
        let ns = Self::fetch_namespace(&mut tx, new.namespace_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let full_path = format!("{}/{}", ns.full_path, new.path);
        let path_taken = Self::route_taken(&mut tx, &full_path).await?;
        let name_taken: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM projects WHERE namespace_id = ? AND lower(name) = lower(?)",
        )
        .bind(ns.id.get())
        .bind(&new.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        match (name_taken.is_some(), path_taken) {
            (true, true) => return Err(StoreError::Conflict(Conflict::ProjectNameAndPath)),
            (true, false) => return Err(StoreError::Conflict(Conflict::ProjectName)),
            (false, true) => return Err(StoreError::Conflict(Conflict::Path)),
            (false, false) => {}
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO projects (namespace_id, name, path, full_path, description, visibility, \
             default_branch, topics, creator_id, created_at, last_activity_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(ns.id.get())
        .bind(&new.name)
        .bind(&new.path)
        .bind(&full_path)
        .bind(&new.description)
        .bind(new.visibility.as_str())
        .bind(&new.default_branch)
        .bind(string_list(&new.topics))
        .bind(new.creator_id.map(UserId::get))
        .bind(new.created_at)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("INSERT INTO routes (path_lower, project_id) VALUES (?, ?)")
            .bind(full_path.to_lowercase())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some((user, level)) = new.add_creator_as {
            sqlx::query(
                "INSERT INTO project_members (project_id, user_id, access_level, created_by_id, \
                 created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(user.get())
            .bind(level.value())
            .bind(user.get())
            .bind(new.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let project = Self::fetch_project(&mut tx, ProjectId(id))
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(project)
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        Self::fetch_project(&mut conn, id).await
    }

    async fn project_by_full_path(&self, full_path: &str) -> StoreResult<Option<Project>> {
        let sql = format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id WHERE lower(p.full_path) = lower(?)"
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
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id WHERE p.id IN ("
        ));
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.get());
        }
        qb.push(") ORDER BY p.id");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
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
            ProjectOrder::Name => "lower(p.name)",
            ProjectOrder::Path => "lower(p.path)",
            ProjectOrder::CreatedAt => "p.created_at",
            ProjectOrder::LastActivityAt => "p.last_activity_at",
        };
        let dir = sort_sql(query.sort);
        select.push(format!(" ORDER BY {col} {dir}, p.id {dir}"));
        self.paged(count, select, page, project).await
    }

    async fn delete_project(&self, id: ProjectId) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM projects WHERE id = ?")
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(map_err)
    }

    async fn memberships_of(&self, user_id: UserId) -> StoreResult<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT 'n' AS kind, nm.namespace_id AS id, n.traversal_ids AS trav, \
             nm.access_level AS lvl FROM namespace_members nm \
             JOIN namespaces n ON n.id = nm.namespace_id \
             WHERE nm.user_id = ? AND (nm.expires_at IS NULL OR nm.expires_at > date('now')) \
             UNION ALL \
             SELECT 'p', pm.project_id, n.traversal_ids, pm.access_level FROM project_members pm \
             JOIN projects p ON p.id = pm.project_id JOIN namespaces n ON n.id = p.namespace_id \
             WHERE pm.user_id = ? AND (pm.expires_at IS NULL OR pm.expires_at > date('now'))",
        )
        .bind(user_id.get())
        .bind(user_id.get())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(corrupt)?;
                let id: i64 = row.try_get("id").map_err(corrupt)?;
                let trav: String = row.try_get("trav").map_err(corrupt)?;
                let level = parse_level(row.try_get("lvl").map_err(corrupt)?)?;
                let traversal_ids = parse_traversal(&trav)?;
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
        Self::fetch_member(&mut conn, source, user_id).await
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
        let build = |qb: &mut QueryBuilder<Sqlite>| {
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
                qb.push(format!(
                    "SELECT '{kind}' AS src_kind, {id} AS src_id, {rank} AS src_rank, m.user_id, \
                     m.access_level, m.expires_at, m.created_by_id, m.created_at \
                     FROM {table} m WHERE m.{col} = {id} \
                     AND (m.expires_at IS NULL OR m.expires_at > date('now'))"
                ));
            }
            qb.push(
                "), best AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id \
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
            let kind: String = row.try_get("src_kind").map_err(corrupt)?;
            let id: i64 = row.try_get("src_id").map_err(corrupt)?;
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
        let mut tx = self.write_tx().await?;
        if Self::fetch_member(&mut tx, new.source, new.user_id)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(Conflict::Member));
        }
        let (table, col, id) = member_table(new.source);
        let sql = format!(
            "INSERT INTO {table} ({col}, user_id, access_level, expires_at, created_by_id, \
             created_at) VALUES (?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(new.user_id.get())
            .bind(new.access_level.value())
            .bind(new.expires_at)
            .bind(new.created_by.map(UserId::get))
            .bind(new.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let member = Self::fetch_member(&mut tx, new.source, new.user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(member)
    }

    async fn update_member(
        &self,
        source: MemberSource,
        user_id: UserId,
        level: AccessLevel,
        expires_at: Option<Option<NaiveDate>>,
    ) -> StoreResult<Member> {
        let mut tx = self.write_tx().await?;
        let (table, col, id) = member_table(source);
        let mut qb = QueryBuilder::<Sqlite>::new(format!("UPDATE {table} SET access_level = "));
        qb.push_bind(level.value());
        if let Some(exp) = expires_at {
            qb.push(", expires_at = ");
            qb.push_bind(exp);
        }
        qb.push(format!(" WHERE {col} = "));
        qb.push_bind(id);
        qb.push(" AND user_id = ");
        qb.push_bind(user_id.get());
        let done = qb.build().execute(&mut *tx).await.map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let member = Self::fetch_member(&mut tx, source, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(member)
    }

    async fn remove_member(&self, source: MemberSource, user_id: UserId) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let (table, col, id) = member_table(source);
        let sql = format!("DELETE FROM {table} WHERE {col} = ? AND user_id = ?");
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(user_id.get())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn count_namespace_owners(&self, ns: NamespaceId) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM namespace_members WHERE namespace_id = ? AND access_level = 50",
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
        let mut tx = self.write_tx().await?;
        let previous: Option<bool> =
            sqlx::query_scalar("SELECT inbound_job_token_scope_enabled FROM projects WHERE id = ?")
                .bind(project_id.get())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let previous = previous.ok_or(StoreError::NotFound)?;
        if previous != enabled {
            sqlx::query("UPDATE projects SET inbound_job_token_scope_enabled = ? WHERE id = ?")
                .bind(enabled)
                .bind(project_id.get())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            if let Some(audit) = &audit {
                insert_audit(&mut tx, audit).await?;
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(previous)
    }

    async fn allowlist_projects(
        &self,
        source: ProjectId,
        page: PageRequest,
    ) -> StoreResult<Paged<Project>> {
        // The project itself is part of its own allowlist (GitLab's union).
        const IDS: &str = "SELECT ?1 UNION SELECT target_project_id FROM \
            ci_job_token_project_scope_links WHERE source_project_id = ?1 AND direction = 1";
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM projects p WHERE p.id IN ({IDS})"
        )))
        .bind(source.get())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PROJECT_COLS}, {NAMESPACE_COLS} FROM projects p \
             JOIN namespaces n ON n.id = p.namespace_id WHERE p.id IN ({IDS}) \
             ORDER BY p.id ASC LIMIT ?2 OFFSET ?3"
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
             WHERE l.source_project_id = ? AND l.direction = ? ORDER BY l.target_project_id"
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
             WHERE l.source_project_id = ? ORDER BY l.target_group_id"
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
             WHERE l.source_project_id = ? AND l.target_project_id = ? AND l.direction = ?"
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
        let sql = format!(
            "SELECT {GROUP_LINK_COLS} FROM ci_job_token_group_scope_links l \
             WHERE l.source_project_id = ? AND l.target_group_id = ?"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(source.get())
            .bind(target.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(group_link).transpose()
    }

    async fn add_project_link(
        &self,
        new: NewLink<ProjectId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<ProjectLink> {
        let mut tx = self.write_tx().await?;
        let link = insert_project_link(&mut tx, &new, limit).await?;
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(link)
    }

    async fn add_group_link(
        &self,
        new: NewLink<NamespaceId>,
        limit: u64,
        audit: NewAuditEvent,
    ) -> StoreResult<GroupLink> {
        let mut tx = self.write_tx().await?;
        let link = insert_group_link(&mut tx, &new, limit).await?;
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(link)
    }

    async fn remove_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>> {
        let mut tx = self.write_tx().await?;
        let existing = fetch_project_link(&mut tx, source, target).await?;
        if existing.is_some() {
            delete_project_link(&mut tx, source, target).await?;
            insert_audit(&mut tx, &audit).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(existing)
    }

    async fn remove_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>> {
        let mut tx = self.write_tx().await?;
        let existing = fetch_group_link(&mut tx, source, target).await?;
        if existing.is_some() {
            delete_group_link(&mut tx, source, target).await?;
            insert_audit(&mut tx, &audit).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(existing)
    }

    async fn update_project_link(
        &self,
        source: ProjectId,
        target: ProjectId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<ProjectLink>> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE ci_job_token_project_scope_links SET default_permissions = ?, \
             job_token_policies = ? WHERE source_project_id = ? AND target_project_id = ? \
             AND direction = 1",
        )
        .bind(default_permissions)
        .bind(string_list(&policies))
        .bind(source.get())
        .bind(target.get())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        insert_audit(&mut tx, &audit).await?;
        let link = fetch_project_link(&mut tx, source, target).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(link)
    }

    async fn update_group_link(
        &self,
        source: ProjectId,
        target: NamespaceId,
        default_permissions: bool,
        policies: Vec<String>,
        audit: NewAuditEvent,
    ) -> StoreResult<Option<GroupLink>> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE ci_job_token_group_scope_links SET default_permissions = ?, \
             job_token_policies = ? WHERE source_project_id = ? AND target_group_id = ?",
        )
        .bind(default_permissions)
        .bind(string_list(&policies))
        .bind(source.get())
        .bind(target.get())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        insert_audit(&mut tx, &audit).await?;
        let link = fetch_group_link(&mut tx, source, target).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(link)
    }

    async fn apply_scope_changes(
        &self,
        source: ProjectId,
        changes: ScopeChangeSet,
        project_limit: u64,
        group_limit: u64,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for target in &changes.remove_projects {
            delete_project_link(&mut tx, source, *target).await?;
        }
        for target in &changes.remove_groups {
            delete_group_link(&mut tx, source, *target).await?;
        }
        for new in &changes.add_projects {
            insert_project_link(&mut tx, new, project_limit).await?;
        }
        for new in &changes.add_groups {
            insert_group_link(&mut tx, new, group_limit).await?;
        }
        if let Some(enabled) = changes.set_inbound {
            let done =
                sqlx::query("UPDATE projects SET inbound_job_token_scope_enabled = ? WHERE id = ?")
                    .bind(enabled)
                    .bind(source.get())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        }
        for audit in &changes.audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(map_err)
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
             WHERE l.target_project_id = ? AND l.direction = 1 ORDER BY p.id"
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
            let mut qb = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {PROJECT_COLS}, {NAMESPACE_COLS}, {GROUP_LINK_COLS} \
                 FROM ci_job_token_group_scope_links l \
                 JOIN projects p ON p.id = l.source_project_id \
                 JOIN namespaces n ON n.id = p.namespace_id \
                 WHERE l.target_group_id IN ("
            ));
            let mut sep = qb.separated(", ");
            for g in origin_groups {
                sep.push_bind(g.get());
            }
            qb.push(") ORDER BY p.id, l.target_group_id");
            let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
            for row in &rows {
                out.push((project(row)?, Admission::Group(group_link(row)?)));
            }
        }
        Ok(out)
    }

    async fn create_job(&self, new: NewJob) -> StoreResult<Job> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ci_jobs (project_id, user_id, name, ref, status, token_digest, created_at) \
             VALUES (?, ?, ?, ?, 'running', ?, ?) RETURNING id",
        )
        .bind(new.project_id.get())
        .bind(new.user_id.get())
        .bind(&new.name)
        .bind(&new.ref_name)
        .bind(&new.token_digest)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Job {
            id: jobscope_types::JobId(id),
            project_id: new.project_id,
            user_id: new.user_id,
            name: new.name,
            ref_name: new.ref_name,
            status: JobStatus::Running,
            created_at: new.created_at,
            finished_at: None,
        })
    }

    async fn job(&self, id: jobscope_types::JobId) -> StoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM ci_jobs j WHERE j.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job).transpose()
    }

    async fn job_by_token_digest(&self, digest: &str) -> StoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM ci_jobs j WHERE j.token_digest = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job).transpose()
    }

    async fn finish_job(
        &self,
        id: jobscope_types::JobId,
        status: JobStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE ci_jobs SET status = ?, finished_at = ? WHERE id = ? AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(at)
        .bind(id.get())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let sql = format!("SELECT {JOB_COLS} FROM ci_jobs j WHERE j.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.get())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let finished = job(&row)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(finished))
    }

    async fn cancel_running_jobs_of(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE ci_jobs SET status = 'canceled', finished_at = ? \
             WHERE user_id = ? AND status = 'running'",
        )
        .bind(at)
        .bind(user.get())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn record_authorizations(&self, records: &[AuthorizationRecord]) -> StoreResult<()> {
        /// Pairs per statement: each statement reads and writes its rows in one go, the batch
        /// travelling as one JSON parameter (no limit on bound variables to meet).
        const CHUNK: usize = 10_000;
        if records.is_empty() {
            return Ok(());
        }
        let mut merged = merge_authorizations(records);
        let json = |v: &serde_json::Value| {
            serde_json::to_string(v).map_err(|e| StoreError::Other(Box::new(e)))
        };
        // Writers are serialised (`BEGIN IMMEDIATE`), so what is read here is still true
        // when the rows are replaced below.
        let mut tx = self.write_tx().await?;
        for chunk in merged.chunks_mut(CHUNK) {
            let keys: Vec<[i64; 2]> = chunk
                .iter()
                .map(|m| [m.accessed_project_id.get(), m.origin_project_id.get()])
                .collect();
            let keys = json(&serde_json::json!(keys))?;
            let current: Vec<(i64, i64, DateTime<Utc>, String)> = sqlx::query_as(
                "SELECT a.accessed_project_id, a.origin_project_id, a.last_authorized_at, \
                 a.job_token_policies FROM json_each(?1) k \
                 JOIN ci_job_token_authorizations a \
                 ON a.accessed_project_id = json_extract(k.value, '$[0]') \
                 AND a.origin_project_id = json_extract(k.value, '$[1]')",
            )
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            for (accessed, origin, at, policies) in current {
                // `merged` is in pair order.
                if let Ok(i) = chunk.binary_search_by_key(&(accessed, origin), |m| {
                    (m.accessed_project_id.get(), m.origin_project_id.get())
                }) {
                    chunk[i].absorb(at, &policy_times(&policies)?);
                }
            }
            let mut rows = Vec::with_capacity(chunk.len());
            for m in chunk.iter() {
                rows.push(serde_json::json!([
                    m.accessed_project_id.get(),
                    m.origin_project_id.get(),
                    // As sqlx binds a time, so that the column reads back the same way.
                    m.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                    json(&serde_json::json!(m.policies))?,
                ]));
            }
            let rows = json(&serde_json::Value::Array(rows))?;
            // Rows for projects deleted meanwhile are skipped.
            sqlx::query(
                "INSERT INTO ci_job_token_authorizations (accessed_project_id, \
                 origin_project_id, last_authorized_at, job_token_policies) \
                 SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), \
                 json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]') \
                 FROM json_each(?1) r \
                 WHERE EXISTS (SELECT 1 FROM projects WHERE id = json_extract(r.value, '$[0]')) \
                 AND EXISTS (SELECT 1 FROM projects WHERE id = json_extract(r.value, '$[1]')) \
                 ON CONFLICT (accessed_project_id, origin_project_id) DO UPDATE SET \
                 last_authorized_at = excluded.last_authorized_at, \
                 job_token_policies = excluded.job_token_policies",
            )
            .bind(&rows)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
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
             a.job_token_policies AS a_policies FROM ci_job_token_authorizations a \
             JOIN projects p ON p.id = a.origin_project_id \
             JOIN namespaces n ON n.id = p.namespace_id WHERE a.accessed_project_id = "
        ));
        select.push_bind(accessed.get());
        select.push(" ORDER BY a.last_authorized_at DESC, p.id ASC");
        self.paged(count, select, page, |row| {
            let policies: String = row.try_get("a_policies").map_err(corrupt)?;
            Ok(AuthorizationLog {
                origin: project(row)?,
                last_authorized_at: row.try_get("a_last").map_err(corrupt)?,
                job_token_policies: policy_times(&policies)?,
            })
        })
        .await
    }

    async fn export(&self) -> StoreResult<snapshot::Snapshot> {
        // One read transaction: a consistent picture while writers go on.
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let snap = export_from(&mut tx).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(snap)
    }

    async fn import(&self, snap: &snapshot::Snapshot) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        import_into(&mut tx, snap).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn audit_events(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> StoreResult<Paged<AuditEvent>> {
        fn filters(qb: &mut QueryBuilder<Sqlite>, q: &AuditQuery) {
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
        let mut watch = CounterWatch {
            pool: self.pool.clone(),
            last: 0,
        };
        watch.last = watch.read().await?;
        Ok(Box::new(watch))
    }
}

/// How often a process looks at the change counter: the bound on how long another
/// process's committed change may take to reach this one's caches.
pub const CHANGE_POLL_INTERVAL: Duration = Duration::from_millis(5);

/// SQLite has no notifications: triggers bump `change_counter` in the writing transaction
/// (migration 3), and each process reads it every [`CHANGE_POLL_INTERVAL`].
struct CounterWatch {
    pool: SqlitePool,
    last: i64,
}

impl CounterWatch {
    async fn read(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT value FROM change_counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }
}

#[async_trait]
impl ChangeWatch for CounterWatch {
    async fn changed(&mut self) -> StoreResult<()> {
        loop {
            tokio::time::sleep(CHANGE_POLL_INTERVAL).await;
            let now = self.read().await?;
            if now != self.last {
                self.last = now;
                return Ok(());
            }
        }
    }
}

fn settings_from_row(row: &SqliteRow) -> StoreResult<InstanceSettings> {
    let g = |e: sqlx::Error| corrupt(e);
    let pv: String = row.try_get("default_project_visibility").map_err(g)?;
    let gv: String = row.try_get("default_group_visibility").map_err(g)?;
    Ok(InstanceSettings {
        enforce_ci_inbound_job_token_scope_enabled: row
            .try_get("enforce_ci_inbound_job_token_scope_enabled")
            .map_err(g)?,
        default_project_visibility: parse_visibility(&pv)?,
        default_group_visibility: parse_visibility(&gv)?,
        default_projects_limit: row.try_get("default_projects_limit").map_err(g)?,
        max_personal_access_token_lifetime: row
            .try_get("max_personal_access_token_lifetime")
            .map_err(g)?,
        updated_at: row.try_get("updated_at").map_err(g)?,
    })
}

async fn insert_token(
    conn: &mut SqliteConnection,
    new: &NewPersonalAccessToken,
) -> StoreResult<PersonalAccessToken> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO personal_access_tokens (user_id, name, description, token_digest, scopes, \
         expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.user_id.get())
    .bind(&new.name)
    .bind(&new.description)
    .bind(&new.token_digest)
    .bind(string_list(&new.scopes))
    .bind(new.expires_at)
    .bind(new.created_at)
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
        created_at: new.created_at,
    })
}

/// Moves a personal namespace (and the projects in it) to a new path.
async fn rename_user_namespace(
    conn: &mut SqliteConnection,
    ns: NamespaceId,
    new: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE namespaces SET path = ?, full_path = ? WHERE id = ?")
        .bind(new)
        .bind(new)
        .bind(ns.get())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    sqlx::query("UPDATE routes SET path_lower = ? WHERE namespace_id = ?")
        .bind(new.to_lowercase())
        .bind(ns.get())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let projects: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, path FROM projects WHERE namespace_id = ?")
            .bind(ns.get())
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
    for (id, path) in projects {
        let full = format!("{new}/{path}");
        sqlx::query("UPDATE projects SET full_path = ? WHERE id = ?")
            .bind(&full)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        sqlx::query("UPDATE routes SET path_lower = ? WHERE project_id = ?")
            .bind(full.to_lowercase())
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

async fn insert_audit(conn: &mut SqliteConnection, audit: &NewAuditEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (author_id, entity_type, entity_id, entity_path, event_name, \
         target_type, target_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(audit.author_id.map(UserId::get))
    .bind(&audit.entity_type)
    .bind(audit.entity_id)
    .bind(&audit.entity_path)
    .bind(&audit.event_name)
    .bind(&audit.target_type)
    .bind(audit.target_id)
    .bind(audit.details.to_string())
    .bind(audit.created_at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn fetch_project_link(
    conn: &mut SqliteConnection,
    source: ProjectId,
    target: ProjectId,
) -> StoreResult<Option<ProjectLink>> {
    let sql = format!(
        "SELECT {PROJECT_LINK_COLS} FROM ci_job_token_project_scope_links l \
         WHERE l.source_project_id = ? AND l.target_project_id = ? AND l.direction = 1"
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
    conn: &mut SqliteConnection,
    source: ProjectId,
    target: NamespaceId,
) -> StoreResult<Option<GroupLink>> {
    let sql = format!(
        "SELECT {GROUP_LINK_COLS} FROM ci_job_token_group_scope_links l \
         WHERE l.source_project_id = ? AND l.target_group_id = ?"
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
    conn: &mut SqliteConnection,
    source: ProjectId,
    target: ProjectId,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM ci_job_token_project_scope_links \
         WHERE source_project_id = ? AND target_project_id = ? AND direction = 1",
    )
    .bind(source.get())
    .bind(target.get())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

async fn delete_group_link(
    conn: &mut SqliteConnection,
    source: ProjectId,
    target: NamespaceId,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM ci_job_token_group_scope_links \
         WHERE source_project_id = ? AND target_group_id = ?",
    )
    .bind(source.get())
    .bind(target.get())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

/// Inserts an inbound project link after checking the limit, then uniqueness.
async fn insert_project_link(
    conn: &mut SqliteConnection,
    new: &NewLink<ProjectId>,
    limit: u64,
) -> StoreResult<ProjectLink> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ci_job_token_project_scope_links \
         WHERE source_project_id = ? AND direction = 1",
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
    sqlx::query(
        "INSERT INTO ci_job_token_project_scope_links (source_project_id, target_project_id, \
         direction, added_by_id, job_token_policies, default_permissions, autopopulated, \
         created_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
    )
    .bind(new.source_project_id.get())
    .bind(new.target.get())
    .bind(new.added_by.map(UserId::get))
    .bind(string_list(&new.job_token_policies))
    .bind(new.default_permissions)
    .bind(new.autopopulated)
    .bind(new.created_at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(ProjectLink {
        source_project_id: new.source_project_id,
        target_project_id: new.target,
        direction: LinkDirection::Inbound,
        added_by: new.added_by,
        created_at: new.created_at,
        job_token_policies: new.job_token_policies.clone(),
        default_permissions: new.default_permissions,
        autopopulated: new.autopopulated,
    })
}

async fn insert_group_link(
    conn: &mut SqliteConnection,
    new: &NewLink<NamespaceId>,
    limit: u64,
) -> StoreResult<GroupLink> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ci_job_token_group_scope_links WHERE source_project_id = ?",
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
    sqlx::query(
        "INSERT INTO ci_job_token_group_scope_links (source_project_id, target_group_id, \
         added_by_id, job_token_policies, default_permissions, autopopulated, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.source_project_id.get())
    .bind(new.target.get())
    .bind(new.added_by.map(UserId::get))
    .bind(string_list(&new.job_token_policies))
    .bind(new.default_permissions)
    .bind(new.autopopulated)
    .bind(new.created_at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(GroupLink {
        source_project_id: new.source_project_id,
        target_group_id: new.target,
        added_by: new.added_by,
        created_at: new.created_at,
        job_token_policies: new.job_token_policies.clone(),
        default_permissions: new.default_permissions,
        autopopulated: new.autopopulated,
    })
}

fn snap_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("snapshot: {e}"))
}

async fn export_from(conn: &mut SqliteConnection) -> StoreResult<snapshot::Snapshot> {
    use snapshot::*;
    let token_salt: String =
        sqlx::query_scalar("SELECT token_salt FROM instance_secrets WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
    let settings_row = sqlx::query(
        "SELECT enforce_ci_inbound_job_token_scope_enabled, default_project_visibility, \
         default_group_visibility, default_projects_limit, max_personal_access_token_lifetime, \
         updated_at FROM instance_settings WHERE id = 1",
    )
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
    let g = |e: sqlx::Error| corrupt(e);
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
            id: r.try_get("id").map_err(g)?,
            username: r.try_get("username").map_err(g)?,
            email: r.try_get("email").map_err(g)?,
            name: r.try_get("name").map_err(g)?,
            state: r.try_get("state").map_err(g)?,
            admin: r.try_get("admin").map_err(g)?,
            external: r.try_get("external").map_err(g)?,
            bot: r.try_get("bot").map_err(g)?,
            can_create_group: r.try_get("can_create_group").map_err(g)?,
            projects_limit: r.try_get("projects_limit").map_err(g)?,
            created_at: r.try_get("created_at").map_err(g)?,
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
        let trav: String = r.try_get("traversal_ids").map_err(g)?;
        namespaces.push(NamespaceRow {
            id: r.try_get("id").map_err(g)?,
            kind: r.try_get("kind").map_err(g)?,
            name: r.try_get("name").map_err(g)?,
            path: r.try_get("path").map_err(g)?,
            full_path: r.try_get("full_path").map_err(g)?,
            full_name: r.try_get("full_name").map_err(g)?,
            parent_id: r.try_get("parent_id").map_err(g)?,
            traversal_ids: parse_traversal(&trav)?
                .into_iter()
                .map(NamespaceId::get)
                .collect(),
            visibility: r.try_get("visibility").map_err(g)?,
            description: r.try_get("description").map_err(g)?,
            owner_id: r.try_get("owner_id").map_err(g)?,
            created_at: r.try_get("created_at").map_err(g)?,
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
        let topics: String = r.try_get("topics").map_err(g)?;
        projects.push(ProjectRow {
            id: r.try_get("id").map_err(g)?,
            namespace_id: r.try_get("namespace_id").map_err(g)?,
            name: r.try_get("name").map_err(g)?,
            path: r.try_get("path").map_err(g)?,
            full_path: r.try_get("full_path").map_err(g)?,
            description: r.try_get("description").map_err(g)?,
            visibility: r.try_get("visibility").map_err(g)?,
            default_branch: r.try_get("default_branch").map_err(g)?,
            topics: parse_string_list(&topics)?,
            creator_id: r.try_get("creator_id").map_err(g)?,
            created_at: r.try_get("created_at").map_err(g)?,
            last_activity_at: r.try_get("last_activity_at").map_err(g)?,
            inbound_job_token_scope_enabled: r
                .try_get("inbound_job_token_scope_enabled")
                .map_err(g)?,
            job_token_scope_enabled: r.try_get("job_token_scope_enabled").map_err(g)?,
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
                source_id: r.try_get("source_id").map_err(g)?,
                user_id: r.try_get("user_id").map_err(g)?,
                access_level: r.try_get("access_level").map_err(g)?,
                expires_at: r.try_get("expires_at").map_err(g)?,
                created_by_id: r.try_get("created_by_id").map_err(g)?,
                created_at: r.try_get("created_at").map_err(g)?,
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
        let scopes: String = r.try_get("scopes").map_err(g)?;
        personal_access_tokens.push(TokenRow {
            id: r.try_get("id").map_err(g)?,
            user_id: r.try_get("user_id").map_err(g)?,
            name: r.try_get("name").map_err(g)?,
            description: r.try_get("description").map_err(g)?,
            token_digest: r.try_get("token_digest").map_err(g)?,
            scopes: parse_string_list(&scopes)?,
            revoked: r.try_get("revoked").map_err(g)?,
            expires_at: r.try_get("expires_at").map_err(g)?,
            last_used_at: r.try_get("last_used_at").map_err(g)?,
            created_at: r.try_get("created_at").map_err(g)?,
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
        let policies: String = r.try_get("job_token_policies").map_err(g)?;
        project_links.push(ProjectLinkRow {
            id: r.try_get("id").map_err(g)?,
            source_project_id: r.try_get("source_project_id").map_err(g)?,
            target_project_id: r.try_get("target_project_id").map_err(g)?,
            direction: r.try_get("direction").map_err(g)?,
            added_by_id: r.try_get("added_by_id").map_err(g)?,
            job_token_policies: parse_string_list(&policies)?,
            default_permissions: r.try_get("default_permissions").map_err(g)?,
            autopopulated: r.try_get("autopopulated").map_err(g)?,
            created_at: r.try_get("created_at").map_err(g)?,
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
        let policies: String = r.try_get("job_token_policies").map_err(g)?;
        group_links.push(GroupLinkRow {
            id: r.try_get("id").map_err(g)?,
            source_project_id: r.try_get("source_project_id").map_err(g)?,
            target_group_id: r.try_get("target_group_id").map_err(g)?,
            added_by_id: r.try_get("added_by_id").map_err(g)?,
            job_token_policies: parse_string_list(&policies)?,
            default_permissions: r.try_get("default_permissions").map_err(g)?,
            autopopulated: r.try_get("autopopulated").map_err(g)?,
            created_at: r.try_get("created_at").map_err(g)?,
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
            id: r.try_get("id").map_err(g)?,
            project_id: r.try_get("project_id").map_err(g)?,
            user_id: r.try_get("user_id").map_err(g)?,
            name: r.try_get("name").map_err(g)?,
            ref_name: r.try_get("ref").map_err(g)?,
            status: r.try_get("status").map_err(g)?,
            token_digest: r.try_get("token_digest").map_err(g)?,
            created_at: r.try_get("created_at").map_err(g)?,
            finished_at: r.try_get("finished_at").map_err(g)?,
        });
    }
    let mut authorizations = Vec::new();
    for r in sqlx::query(
        "SELECT accessed_project_id, origin_project_id, last_authorized_at, job_token_policies \
         FROM ci_job_token_authorizations ORDER BY accessed_project_id, origin_project_id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        let policies: String = r.try_get("job_token_policies").map_err(g)?;
        authorizations.push(AuthorizationRow {
            accessed_project_id: r.try_get("accessed_project_id").map_err(g)?,
            origin_project_id: r.try_get("origin_project_id").map_err(g)?,
            last_authorized_at: r.try_get("last_authorized_at").map_err(g)?,
            job_token_policies: serde_json::to_value(policy_times(&policies)?).map_err(snap_err)?,
        });
    }
    let mut audit_events = Vec::new();
    for r in sqlx::query(
        "SELECT id, author_id, entity_type, entity_id, entity_path, event_name, target_type, \
         target_id, details, created_at FROM audit_events ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?
    {
        let details: String = r.try_get("details").map_err(g)?;
        audit_events.push(AuditEventRow {
            id: r.try_get("id").map_err(g)?,
            author_id: r.try_get("author_id").map_err(g)?,
            entity_type: r.try_get("entity_type").map_err(g)?,
            entity_id: r.try_get("entity_id").map_err(g)?,
            entity_path: r.try_get("entity_path").map_err(g)?,
            event_name: r.try_get("event_name").map_err(g)?,
            target_type: r.try_get("target_type").map_err(g)?,
            target_id: r.try_get("target_id").map_err(g)?,
            details: serde_json::from_str(&details).map_err(snap_err)?,
            created_at: r.try_get("created_at").map_err(g)?,
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

async fn import_into(conn: &mut SqliteConnection, snap: &snapshot::Snapshot) -> StoreResult<()> {
    if !snapshot::is_readable(&snap.format, snap.version) {
        return Err(StoreError::Corrupt(format!(
            "not a jobscope export of versions 1 to {} (format {:?}, version {})",
            snapshot::VERSION,
            snap.format,
            snap.version
        )));
    }
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
    sqlx::query("UPDATE instance_secrets SET token_salt = ? WHERE id = 1")
        .bind(&snap.token_salt)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    // Rows may refer to rows further down the document (a parent group, a creator); the
    // foreign keys are checked once, at commit.
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let s = &snap.instance_settings;
    sqlx::query(
        "UPDATE instance_settings SET enforce_ci_inbound_job_token_scope_enabled = ?, \
         default_project_visibility = ?, default_group_visibility = ?, \
         default_projects_limit = ?, max_personal_access_token_lifetime = ?, updated_at = ? \
         WHERE id = 1",
    )
    .bind(s.enforce_ci_inbound_job_token_scope_enabled)
    .bind(&s.default_project_visibility)
    .bind(&s.default_group_visibility)
    .bind(s.default_projects_limit)
    .bind(s.max_personal_access_token_lifetime)
    .bind(s.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    for u in &snap.users {
        sqlx::query(
            "INSERT INTO users (id, username, email, name, state, admin, external, bot, \
             can_create_group, projects_limit, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id)
        .bind(&u.username)
        .bind(&u.email)
        .bind(&u.name)
        .bind(&u.state)
        .bind(u.admin)
        .bind(u.external)
        .bind(u.bot)
        .bind(u.can_create_group)
        .bind(u.projects_limit)
        .bind(u.created_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    for n in &snap.namespaces {
        let trav: Vec<NamespaceId> = n.traversal_ids.iter().map(|i| NamespaceId(*i)).collect();
        sqlx::query(
            "INSERT INTO namespaces (id, kind, name, path, full_path, full_name, parent_id, \
             traversal_ids, visibility, description, owner_id, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(n.id)
        .bind(&n.kind)
        .bind(&n.name)
        .bind(&n.path)
        .bind(&n.full_path)
        .bind(&n.full_name)
        .bind(n.parent_id)
        .bind(traversal_text(&trav))
        .bind(&n.visibility)
        .bind(&n.description)
        .bind(n.owner_id)
        .bind(n.created_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
        sqlx::query("INSERT INTO routes (path_lower, namespace_id) VALUES (?, ?)")
            .bind(n.full_path.to_lowercase())
            .bind(n.id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    for p in &snap.projects {
        sqlx::query(
            "INSERT INTO projects (id, namespace_id, name, path, full_path, description, \
             visibility, default_branch, topics, creator_id, created_at, last_activity_at, \
             inbound_job_token_scope_enabled, job_token_scope_enabled) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id)
        .bind(p.namespace_id)
        .bind(&p.name)
        .bind(&p.path)
        .bind(&p.full_path)
        .bind(&p.description)
        .bind(&p.visibility)
        .bind(&p.default_branch)
        .bind(string_list(&p.topics))
        .bind(p.creator_id)
        .bind(p.created_at)
        .bind(p.last_activity_at)
        .bind(p.inbound_job_token_scope_enabled)
        .bind(p.job_token_scope_enabled)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
        sqlx::query("INSERT INTO routes (path_lower, project_id) VALUES (?, ?)")
            .bind(p.full_path.to_lowercase())
            .bind(p.id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    for (table, col, rows) in [
        ("namespace_members", "namespace_id", &snap.namespace_members),
        ("project_members", "project_id", &snap.project_members),
    ] {
        let sql = format!(
            "INSERT INTO {table} ({col}, user_id, access_level, expires_at, created_by_id, \
             created_at) VALUES (?, ?, ?, ?, ?, ?)"
        );
        for m in rows {
            sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(m.source_id)
                .bind(m.user_id)
                .bind(m.access_level)
                .bind(m.expires_at)
                .bind(m.created_by_id)
                .bind(m.created_at)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
    }
    for t in &snap.personal_access_tokens {
        sqlx::query(
            "INSERT INTO personal_access_tokens (id, user_id, name, description, token_digest, \
             scopes, revoked, expires_at, last_used_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.id)
        .bind(t.user_id)
        .bind(&t.name)
        .bind(&t.description)
        .bind(&t.token_digest)
        .bind(string_list(&t.scopes))
        .bind(t.revoked)
        .bind(t.expires_at)
        .bind(t.last_used_at)
        .bind(t.created_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    for l in &snap.project_links {
        sqlx::query(
            "INSERT INTO ci_job_token_project_scope_links (id, source_project_id, \
             target_project_id, direction, added_by_id, job_token_policies, default_permissions, \
             autopopulated, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(l.id)
        .bind(l.source_project_id)
        .bind(l.target_project_id)
        .bind(l.direction)
        .bind(l.added_by_id)
        .bind(string_list(&l.job_token_policies))
        .bind(l.default_permissions)
        .bind(l.autopopulated)
        .bind(l.created_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    for l in &snap.group_links {
        sqlx::query(
            "INSERT INTO ci_job_token_group_scope_links (id, source_project_id, target_group_id, \
             added_by_id, job_token_policies, default_permissions, autopopulated, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(l.id)
        .bind(l.source_project_id)
        .bind(l.target_group_id)
        .bind(l.added_by_id)
        .bind(string_list(&l.job_token_policies))
        .bind(l.default_permissions)
        .bind(l.autopopulated)
        .bind(l.created_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    for j in &snap.jobs {
        sqlx::query(
            "INSERT INTO ci_jobs (id, project_id, user_id, name, ref, status, token_digest, \
             created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(j.id)
        .bind(j.project_id)
        .bind(j.user_id)
        .bind(&j.name)
        .bind(&j.ref_name)
        .bind(&j.status)
        .bind(&j.token_digest)
        .bind(j.created_at)
        .bind(j.finished_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    for a in &snap.authorizations {
        sqlx::query(
            "INSERT INTO ci_job_token_authorizations (accessed_project_id, origin_project_id, \
             last_authorized_at, job_token_policies) VALUES (?, ?, ?, ?)",
        )
        .bind(a.accessed_project_id)
        .bind(a.origin_project_id)
        .bind(a.last_authorized_at)
        .bind(a.job_token_policies.to_string())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    for e in &snap.audit_events {
        sqlx::query(
            "INSERT INTO audit_events (id, author_id, entity_type, entity_id, entity_path, \
             event_name, target_type, target_id, details, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(e.id)
        .bind(e.author_id)
        .bind(&e.entity_type)
        .bind(e.entity_id)
        .bind(&e.entity_path)
        .bind(&e.event_name)
        .bind(&e.target_type)
        .bind(e.target_id)
        .bind(e.details.to_string())
        .bind(e.created_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

/// Timestamps are kept to the microsecond, as PostgreSQL keeps them, so that an export reads
/// the same from either backend.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    t.with_nanosecond(t.timestamp_subsec_nanos() / 1000 * 1000)
        .unwrap_or(t)
}
