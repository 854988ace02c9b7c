//! The in-process test harness: a fresh database per `TestApp` (SQLite, or PostgreSQL with
//! `JOBSCOPE_TEST_BACKEND=postgres`), requests sent through
//! the router with `oneshot` (no sockets), and fixture builders that write straight to the
//! store.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{Days, NaiveDate, Utc};
use http_body_util::BodyExt;
use jobscope_server::auth::tokens::TokenHasher;
use jobscope_server::config::ServerConfig;
use jobscope_server::state::AppState;
use jobscope_store::*;
use jobscope_store_sqlite::SqliteStore;
use jobscope_types::{AccessLevel, NamespaceId, UserId, Visibility};
use serde_json::Value;
use tower::ServiceExt;

pub const ROOT_TOKEN: &str = "glpat-root-test-token-0001";

pub struct TestApp {
    pub router: Router,
    pub store: Arc<dyn Store>,
    /// The read cache, when the config asked for one.
    pub cache: Option<Arc<jobscope_server::cache::CachedStore>>,
    /// Token digests as this instance makes them (with its salt).
    pub tokens: TokenHasher,
    db: TestDatabase,
    counter: std::sync::atomic::AtomicU64,
}

/// A PostgreSQL database made for one `TestApp` (`JOBSCOPE_TEST_BACKEND=postgres`), dropped
/// with it.
pub struct PgDatabase {
    admin: String,
    name: String,
}

fn psql(admin: &str, sql: &str) -> std::process::Output {
    std::process::Command::new("psql")
        .args([admin, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql (the PostgreSQL client) runs the PostgreSQL variant of these tests")
}

impl PgDatabase {
    fn create() -> PgDatabase {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let admin = std::env::var("JOBSCOPE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!(
            "jobscope_api_{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let out = psql(&admin, &format!("CREATE DATABASE {name}"));
        assert!(
            out.status.success(),
            "cannot create a test database: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PgDatabase { admin, name }
    }

    fn url(&self) -> String {
        let (prefix, _) = self.admin.rsplit_once('/').expect("database URL");
        format!("{prefix}/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Which backend the API tests run on: SQLite unless `JOBSCOPE_TEST_BACKEND=postgres`.
pub fn on_postgres() -> bool {
    std::env::var("JOBSCOPE_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// A fresh, empty database on the backend under test, removed when dropped. Several stores
/// may be opened on it (as several servers behind one load balancer would), and tests can run
/// raw SQL on it from outside jobscope.
pub enum TestDatabase {
    Sqlite {
        dir: tempfile::TempDir,
        path: std::path::PathBuf,
    },
    Postgres(PgDatabase),
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        if on_postgres() {
            TestDatabase::Postgres(PgDatabase::create())
        } else {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("test.sqlite3");
            TestDatabase::Sqlite { dir, path }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres(_))
    }

    /// Opens (and on first use migrates) a store on this database.
    pub async fn open(&self) -> Arc<dyn Store> {
        match self {
            TestDatabase::Sqlite { path, .. } => {
                Arc::new(SqliteStore::open_path(path).await.expect("open store"))
            }
            TestDatabase::Postgres(db) => Arc::new(
                jobscope_store_postgres::PgStore::open(&db.url())
                    .await
                    .expect("open store"),
            ),
        }
    }

    /// Runs SQL from outside jobscope (the `sqlite3` shell or python3's sqlite3 module;
    /// `psql`). A SELECT returns one line per row, columns separated by `|`.
    pub fn sql(&self, sql: &str) -> String {
        use std::process::Command;
        let out = match self {
            TestDatabase::Sqlite { path, .. } => match Command::new("sqlite3")
                .arg("-cmd")
                .arg(".timeout 10000")
                .arg(path)
                .arg(sql)
                .output()
            {
                Ok(out) => out,
                Err(_) => Command::new("python3")
                    .arg("-c")
                    .arg(PYTHON_SQLITE)
                    .arg(path)
                    .arg(sql)
                    .output()
                    .expect("raw SQL on SQLite needs the sqlite3 shell or python3"),
            },
            TestDatabase::Postgres(db) => Command::new("psql")
                .args([
                    &db.url(),
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-q",
                    "-A",
                    "-t",
                    "-c",
                    sql,
                ])
                .output()
                .expect("psql (the PostgreSQL client) runs the PostgreSQL variant of these tests"),
        };
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every byte the database holds: SQLite's files (main, WAL, shared memory) or, for
    /// PostgreSQL, whose files live with the server, a full `pg_dump`.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            TestDatabase::Sqlite { dir, .. } => {
                let mut all = Vec::new();
                for entry in std::fs::read_dir(dir.path()).expect("read dir") {
                    let path = entry.expect("entry").path();
                    all.extend(std::fs::read(&path).unwrap_or_default());
                }
                all
            }
            TestDatabase::Postgres(db) => {
                let out = std::process::Command::new("pg_dump")
                    .arg(db.url())
                    .output()
                    .expect("pg_dump runs the PostgreSQL variant of these tests");
                assert!(
                    out.status.success(),
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
        }
    }
}

/// The same as the `sqlite3` shell's default output, for machines without it.
const PYTHON_SQLITE: &str = r#"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
sql = sys.argv[2]
if sql.lstrip().upper().startswith("SELECT"):
    for row in db.execute(sql).fetchall():
        print("|".join("" if v is None else str(v) for v in row))
else:
    db.executescript(sql)
"#;

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    PrivateToken(String),
    Bearer(String),
    Header(&'static str, String),
}

impl Auth {
    pub fn token(t: &str) -> Auth {
        Auth::PrivateToken(t.to_owned())
    }
}

pub struct Req {
    pub method: Method,
    pub path: String,
    pub auth: Auth,
    pub body: Option<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// The client's address as the connection would show it (none: requests built in
    /// process have no connection).
    pub peer: Option<std::net::SocketAddr>,
}

impl Req {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Req {
            method,
            path: path.into(),
            auth: Auth::None,
            body: None,
            headers: Vec::new(),
            peer: None,
        }
    }

    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn token(self, t: &str) -> Self {
        self.auth(Auth::token(t))
    }

    pub fn json(mut self, v: Value) -> Self {
        self.body = Some(("application/json".into(), v.to_string()));
        self
    }

    pub fn form(mut self, s: &str) -> Self {
        self.body = Some(("application/x-www-form-urlencoded".into(), s.to_owned()));
        self
    }

    pub fn raw(mut self, content_type: &str, body: &str) -> Self {
        self.body = Some((content_type.into(), body.to_owned()));
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    /// Sent as if from this client address (`203.0.113.7`), as `ConnectInfo` would say.
    pub fn peer(mut self, ip: &str) -> Self {
        let ip: std::net::IpAddr = ip.parse().expect("an IP address");
        self.peer = Some(std::net::SocketAddr::new(ip, 50_000));
        self
    }
}

pub fn get(path: impl Into<String>) -> Req {
    Req::new(Method::GET, path)
}
pub fn post(path: impl Into<String>) -> Req {
    Req::new(Method::POST, path)
}
pub fn put(path: impl Into<String>) -> Req {
    Req::new(Method::PUT, path)
}
pub fn patch(path: impl Into<String>) -> Req {
    Req::new(Method::PATCH, path)
}
pub fn delete(path: impl Into<String>) -> Req {
    Req::new(Method::DELETE, path)
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

impl TestApp {
    /// The default configuration; with `JOBSCOPE_TEST_CACHE=1` the read cache is on (the
    /// test command runs this suite both ways).
    pub async fn new() -> TestApp {
        let cache = std::env::var("JOBSCOPE_TEST_CACHE").is_ok_and(|v| v == "1");
        Self::with_config(ServerConfig {
            cache,
            ..ServerConfig::default()
        })
        .await
    }

    pub async fn with_config(config: ServerConfig) -> TestApp {
        let db = TestDatabase::new();
        let store = db.open().await;
        let state = AppState::new(store.clone(), config)
            .await
            .expect("server state");
        jobscope_server::bootstrap::ensure_root(&state, Some(ROOT_TOKEN))
            .await
            .expect("bootstrap");
        // Writes the tests make directly go through the server's cache, as the server's own do.
        let store = state.store.clone();
        TestApp {
            cache: state.cache.clone(),
            tokens: state.tokens.clone(),
            router: jobscope_server::app(state),
            store,
            db,
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Every byte the database holds (see [`TestDatabase::bytes`]).
    pub fn database_bytes(&self) -> Vec<u8> {
        self.db.bytes()
    }

    /// A name unique within this app.
    pub fn unique(&self, prefix: &str) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}{n}")
    }

    pub async fn send(&self, req: Req) -> TestResponse {
        let uri = format!("http://jobscope.test{}", req.path);
        let mut builder = Request::builder()
            .method(req.method)
            .uri(&uri)
            .header("host", "jobscope.test");
        match &req.auth {
            Auth::None => {}
            Auth::PrivateToken(t) => builder = builder.header("private-token", t),
            Auth::Bearer(t) => builder = builder.header("authorization", format!("Bearer {t}")),
            Auth::Header(k, v) => builder = builder.header(*k, v),
        }
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        if let Some(peer) = req.peer {
            builder = builder.extension(axum::extract::ConnectInfo(peer));
        }
        let body = match req.body {
            Some((ct, b)) => {
                builder = builder.header("content-type", ct);
                Body::from(b)
            }
            None => Body::empty(),
        };
        let request = builder.body(body).expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    // ---- fixtures, written straight to the store ------------------------------------------

    pub async fn user(&self, name: &str) -> User {
        self.store
            .create_user(NewUser {
                username: name.to_owned(),
                email: format!("{name}@example.com"),
                name: format!("User {name}"),
                admin: false,
                external: false,
                bot: false,
                can_create_group: true,
                projects_limit: 100_000,
                created_at: Utc::now(),
            })
            .await
            .expect("create user")
    }

    pub async fn external_user(&self, name: &str) -> User {
        let u = self.user(name).await;
        self.store
            .update_user(
                u.id,
                UserPatch {
                    external: Some(true),
                    ..Default::default()
                },
            )
            .await
            .expect("external")
    }

    /// A token for `user` with `scopes`, optionally expiring (`expires` in days from today,
    /// negative for the past) and revoked.
    pub async fn token_with(
        &self,
        user: UserId,
        scopes: &[&str],
        expires: Option<i64>,
        revoked: bool,
    ) -> (String, PersonalAccessToken) {
        let plaintext = format!("glpat-{}", self.unique("tok-xxxxxxxxxxxx-"));
        let expires_at = expires.map(|d| {
            if d >= 0 {
                today() + Days::new(d.unsigned_abs())
            } else {
                today() - Days::new(d.unsigned_abs())
            }
        });
        let token = self
            .store
            .create_personal_access_token(NewPersonalAccessToken {
                user_id: user,
                name: "test".into(),
                description: None,
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                expires_at,
                token_digest: self.tokens.digest(&plaintext),
                created_at: Utc::now(),
            })
            .await
            .expect("token");
        if revoked {
            self.store
                .revoke_personal_access_token(token.id)
                .await
                .expect("revoke");
        }
        (plaintext, token)
    }

    pub async fn token(&self, user: UserId) -> String {
        self.token_with(user, &["api"], None, false).await.0
    }

    /// A user with an `api` token.
    pub async fn user_with_token(&self, name: &str) -> (User, String) {
        let u = self.user(name).await;
        let t = self.token(u.id).await;
        (u, t)
    }

    pub async fn group(&self, path: &str, parent: Option<NamespaceId>, v: Visibility) -> Namespace {
        self.store
            .create_group(NewGroup {
                name: format!("Group {path}"),
                path: path.to_owned(),
                parent_id: parent,
                visibility: v,
                description: String::new(),
                creator: None,
                created_at: Utc::now(),
            })
            .await
            .expect("create group")
    }

    pub async fn project(&self, ns: NamespaceId, path: &str, v: Visibility) -> Project {
        self.store
            .create_project(NewProject {
                name: path.to_owned(),
                path: path.to_owned(),
                namespace_id: ns,
                description: None,
                visibility: v,
                default_branch: None,
                topics: vec![],
                creator_id: None,
                add_creator_as: None,
                created_at: Utc::now(),
            })
            .await
            .expect("create project")
    }

    pub async fn member(&self, source: MemberSource, user: UserId, level: AccessLevel) {
        self.store
            .add_member(NewMember {
                source,
                user_id: user,
                access_level: level,
                expires_at: None,
                created_by: None,
                created_at: Utc::now(),
            })
            .await
            .expect("add member");
    }

    /// A running job of `user` in `project`, with its token.
    pub async fn job(&self, project: jobscope_types::ProjectId, user: UserId) -> (Job, String) {
        let token = jobscope_server::service::jobs::new_job_token();
        let job = self
            .store
            .create_job(NewJob {
                project_id: project,
                user_id: user,
                name: "test".into(),
                ref_name: "main".into(),
                token_digest: self.tokens.digest(&token),
                created_at: Utc::now(),
            })
            .await
            .expect("create job");
        (job, token)
    }

    pub async fn link_project(
        &self,
        source: jobscope_types::ProjectId,
        target: jobscope_types::ProjectId,
    ) {
        match self
            .store
            .add_project_link(
                NewLink {
                    source_project_id: source,
                    target,
                    added_by: None,
                    created_at: Utc::now(),
                    job_token_policies: vec![],
                    default_permissions: true,
                    autopopulated: false,
                },
                PROJECT_LINK_LIMIT,
                jobscope_store::conformance::audit(source, "test"),
            )
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("link: {e}"),
        }
    }

    pub async fn link_group(&self, source: jobscope_types::ProjectId, target: NamespaceId) {
        match self
            .store
            .add_group_link(
                NewLink {
                    source_project_id: source,
                    target,
                    added_by: None,
                    created_at: Utc::now(),
                    job_token_policies: vec![],
                    default_permissions: true,
                    autopopulated: false,
                },
                GROUP_LINK_LIMIT,
                jobscope_store::conformance::audit(source, "test"),
            )
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("link: {e}"),
        }
    }
}
