//! Real `jobscope serve` processes on SQLite files or PostgreSQL databases, for tests that need
//! several processes, crashes or restarts.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const ROOT_TOKEN: &str = "glpat-e2e-root-token-0001";

/// Where a test's data lives.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    /// A fresh PostgreSQL database, or `None` when `JOBSCOPE_TEST_POSTGRES=skip`.
    pub fn postgres() -> Option<Backend> {
        PgDatabase::create().map(Backend::Postgres)
    }

    pub fn url(&self) -> String {
        match self {
            Backend::Sqlite(dir) => format!("sqlite://{}", dir.path().join("db.sqlite3").display()),
            Backend::Postgres(db) => db.url(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Both backends (PostgreSQL unless skipped).
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::sqlite()];
    v.extend(Backend::postgres());
    v
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn admin_url() -> String {
    std::env::var("JOBSCOPE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test and dropped afterwards.
pub struct PgDatabase {
    name: String,
}

fn psql(sql: &str) -> std::process::Output {
    let url = admin_url();
    Command::new("psql")
        .args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql (the PostgreSQL client) is needed for PostgreSQL tests")
}

impl PgDatabase {
    pub fn create() -> Option<PgDatabase> {
        if std::env::var("JOBSCOPE_TEST_POSTGRES").as_deref() == Ok("skip") {
            return None;
        }
        let name = format!(
            "jobscope_e2e_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            Instant::now().elapsed().subsec_nanos() % 100_000
        );
        let out = psql(&format!("CREATE DATABASE {name}"));
        assert!(
            out.status.success(),
            "cannot create a PostgreSQL database at {} (set JOBSCOPE_TEST_POSTGRES=skip to skip): {}",
            admin_url(),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(PgDatabase { name })
    }

    pub fn url(&self) -> String {
        let base = admin_url();
        let (prefix, _) = base.rsplit_once('/').expect("database URL");
        format!("{prefix}/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// A running `jobscope serve`.
pub struct Server {
    child: Child,
    pub base: String,
    dir: tempfile::TempDir,
}

impl Server {
    pub fn start(database_url: &str) -> Server {
        Self::start_with(database_url, &[])
    }

    pub fn start_with(database_url: &str, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let port_file = dir.path().join("port");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jobscope"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--port-file"])
            .arg(&port_file)
            .args(["--database", database_url])
            .env("JOBSCOPE_ROOT_TOKEN", ROOT_TOKEN)
            .env("JOBSCOPE_LOG", "warn")
            .env_remove("JOBSCOPE_EXTERNAL_URL")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn jobscope");
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Ok(a) = std::fs::read_to_string(&port_file)
                && !a.is_empty()
            {
                break a;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start: {}",
                log_of(dir.path())
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            base: format!("http://{addr}"),
            dir,
        }
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v4{path}", self.base)
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a graceful exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait")
    }

    pub fn log(&self) -> String {
        log_of(self.dir.path())
    }
}

fn log_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small JSON client with the root token.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub token: String,
}

impl Default for Api {
    fn default() -> Self {
        // reqwest is built with rustls and no default crypto provider (see jobscope-client).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            token: ROOT_TOKEN.to_owned(),
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Api {
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self
            .http
            .request(method, url)
            .header("PRIVATE-TOKEN", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        Ok(Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        })
    }

    pub async fn get(&self, url: &str) -> Reply {
        self.send(reqwest::Method::GET, url, None)
            .await
            .expect("GET")
    }

    pub async fn post(&self, url: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, url, Some(body))
            .await
            .expect("POST")
    }

    pub async fn put(&self, url: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, url, Some(body))
            .await
            .expect("PUT")
    }

    pub async fn patch(&self, url: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, url, Some(body))
            .await
            .expect("PATCH")
    }

    pub async fn delete(&self, url: &str) -> Reply {
        self.send(reqwest::Method::DELETE, url, None)
            .await
            .expect("DELETE")
    }

    /// Every item of a paginated list.
    pub async fn all(&self, url: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let sep = if url.contains('?') { '&' } else { '?' };
            let r = self
                .get(&format!("{url}{sep}per_page=100&page={page}"))
                .await;
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            let items = r.body.as_array().cloned().unwrap_or_default();
            let n = items.len();
            out.extend(items);
            if n < 100 {
                break;
            }
        }
        out
    }

    /// Creates a group and returns its id.
    pub async fn group(&self, server: &Server, path: &str) -> i64 {
        let r = self
            .post(&server.api("/groups"), json!({"name": path, "path": path}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_i64().expect("id")
    }

    /// Creates a project in a group and returns its id.
    pub async fn project(&self, server: &Server, group: i64, path: &str) -> i64 {
        let r = self
            .post(
                &server.api("/projects"),
                json!({"name": path, "path": path, "namespace_id": group}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_i64().expect("id")
    }
}

/// Runs the jobscope binary with arguments (for export/import).
pub fn jobscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jobscope"))
        .args(args)
        .env("JOBSCOPE_LOG", "warn")
        .output()
        .expect("run jobscope")
}

pub fn temp_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
