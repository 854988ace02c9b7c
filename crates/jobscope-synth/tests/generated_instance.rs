//! A generated instance is one the API could have made: every row reads back through the
//! store (`export`, which maps every column of every table) and imports into a fresh
//! database with its constraints; SQLite and PostgreSQL get the same instance from the same
//! seed; and a real `jobscope serve` on it answers the REST API and the decision endpoint as
//! the manifest says, including writes that need the id sequences and the routes to be right.
//!
//! PostgreSQL runs at `JOBSCOPE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) in a database made for the test and
//! dropped afterwards; `JOBSCOPE_TEST_POSTGRES=skip` skips it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use jobscope_server::config::ServeArgs;
use serde_json::{Value, json};

const ROOT_TOKEN: &str = "glpat-synth-test-root-0001";
/// 2,000 users, 200 groups, 2,000 projects, 4,000 entries, 200 jobs.
const SCALE: &str = "0.002";
const SEED: &str = "7";

fn generate(url: &str, dir: &Path) -> Value {
    let manifest = dir.join("manifest.json");
    let out = Command::new(env!("CARGO_BIN_EXE_jobscope-synth"))
        .args(["--database", url, "--scale", SCALE, "--seed", SEED])
        .args(["--root-token", ROOT_TOKEN, "--manifest"])
        .arg(&manifest)
        .output()
        .expect("run jobscope-synth");
    assert!(
        out.status.success(),
        "jobscope-synth failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap()
}

/// Every row read back through the store, with the manifest's counts.
/// `snap` without its salt and the token digests made with it.
fn unsalted(mut snap: jobscope_store::snapshot::Snapshot) -> jobscope_store::snapshot::Snapshot {
    snap.token_salt.clear();
    for t in &mut snap.personal_access_tokens {
        t.token_digest.clear();
    }
    for j in &mut snap.jobs {
        j.token_digest.clear();
    }
    snap
}

async fn export(url: &str, manifest: &Value) -> jobscope_store::snapshot::Snapshot {
    let store = jobscope_server::open_store(url).await.unwrap();
    let snap = store.export().await.expect("every row maps to a record");
    // Digests are made with the database's own salt, as the server makes them.
    let root = snap.personal_access_tokens.first().expect("root's token");
    assert_eq!(
        root.token_digest,
        jobscope_store::token_digest(manifest["root_token"].as_str().unwrap(), &snap.token_salt)
    );
    let c = &manifest["counts"];
    let n = |k: &str| c[k].as_u64().unwrap() as usize;
    assert_eq!(snap.users.len(), n("users"));
    assert_eq!(snap.namespaces.len(), n("users") + n("groups"));
    assert_eq!(snap.projects.len(), n("projects"));
    assert_eq!(snap.namespace_members.len(), n("namespace_members"));
    assert_eq!(snap.project_members.len(), n("project_members"));
    assert_eq!(snap.project_links.len(), n("project_entries"));
    assert_eq!(snap.group_links.len(), n("group_entries"));
    assert_eq!(snap.jobs.len(), n("running_jobs"));
    assert_eq!(snap.personal_access_tokens.len(), 1);
    snap
}

#[derive(Parser)]
struct ServeCli {
    #[command(flatten)]
    serve: ServeArgs,
}

/// `jobscope serve` in this process (on a thread with its own runtime, as the binary runs
/// it), on a free port.
struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(url: &str, cache: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let cli = ServeCli::parse_from([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--port-file",
            port_file.to_str().unwrap(),
            "--database",
            url,
            "--root-token",
            ROOT_TOKEN,
            "--cache",
            if cache { "true" } else { "false" },
        ]);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async {
                tokio::select! {
                    r = jobscope_server::serve(cli.serve) => r,
                    _ = stopped => Ok(()),
                }
            })
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(a) = std::fs::read_to_string(&port_file)
                && !a.is_empty()
            {
                return Server {
                    base: format!("http://{a}/api/v4"),
                    stop: Some(stop),
                    thread: Some(thread),
                    _dir: dir,
                };
            }
            if thread.is_finished() {
                panic!("the server stopped while starting: {:?}", thread.join());
            }
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Http {
    client: reqwest::Client,
    base: String,
}

struct Answer {
    status: u16,
    total: Option<u64>,
    body: Value,
}

impl Http {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        header: (&str, &str),
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(header.0, header.1);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let total = res
            .headers()
            .get("x-total")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = res.text().await.unwrap();
        Answer {
            status,
            total,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(
            reqwest::Method::GET,
            path,
            ("PRIVATE-TOKEN", ROOT_TOKEN),
            None,
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            reqwest::Method::POST,
            path,
            ("PRIVATE-TOKEN", ROOT_TOKEN),
            Some(body),
        )
        .await
    }

    async fn decide(&self, token: &str, project: &str) -> Answer {
        self.send(
            reqwest::Method::GET,
            &format!("/job_token/allowed?project={project}"),
            ("JOB-TOKEN", token),
            None,
        )
        .await
    }

    /// Every item of a paginated list.
    async fn all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        for page in 1.. {
            let a = self.get(&format!("{path}?per_page=100&page={page}")).await;
            assert_eq!(a.status, 200, "{path}: {}", a.body);
            let list = a.body.as_array().unwrap().clone();
            let done = list.len() < 100;
            items.extend(list);
            if done {
                break;
            }
        }
        items
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

fn encode(path: &str) -> String {
    path.replace('/', "%2F")
}

/// The API checks on a running server.
async fn check_api(server: &Server, manifest: &Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = Http {
        client: reqwest::Client::new(),
        base: server.base.clone(),
    };
    let version = http.get("/version").await;
    assert_eq!(version.status, 200);

    let samples = manifest["samples"].as_array().unwrap();
    for kind in ["allowed-project", "allowed-group", "denied"] {
        assert!(
            samples.iter().any(|s| s["kind"] == kind),
            "no sample of kind {kind}"
        );
    }
    for s in samples {
        let kind = s["kind"].as_str().unwrap();
        let token = s["token"].as_str().unwrap();
        let a = s["origin_project_id"].as_u64().unwrap();
        let b = s["target_project_id"].as_u64().unwrap();
        let a_path = s["origin_full_path"].as_str().unwrap();
        let b_path = s["target_full_path"].as_str().unwrap();

        // The target as the API shows it, by id and by full path.
        let p = http.get(&format!("/projects/{b}")).await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body["path_with_namespace"], b_path);
        assert_eq!(p.body["path"], last_segment(b_path));
        let by_path = http.get(&format!("/projects/{}", encode(b_path))).await;
        assert_eq!(by_path.body["id"], b);
        let ns_path = b_path.rsplit_once('/').unwrap().0;
        assert_eq!(p.body["namespace"]["full_path"], ns_path);

        // Its scope and allowlists.
        let scope = http.get(&format!("/projects/{b}/job_token_scope")).await;
        assert_eq!(
            scope.body,
            json!({"inbound_enabled": true, "outbound_enabled": false})
        );
        let projects = http
            .all(&format!("/projects/{b}/job_token_scope/allowlist"))
            .await;
        assert_eq!(
            projects.len() as u64,
            s["target_project_entries"].as_u64().unwrap() + 1,
            "the allowlist lists the project itself and its project entries"
        );
        let groups = http
            .all(&format!("/projects/{b}/job_token_scope/groups_allowlist"))
            .await;
        assert_eq!(
            groups.len() as u64,
            s["target_group_entries"].as_u64().unwrap()
        );
        let first = http
            .get(&format!(
                "/projects/{b}/job_token_scope/allowlist?per_page=1"
            ))
            .await;
        assert_eq!(first.total, Some(projects.len() as u64));
        let lists_origin = projects.iter().any(|p| p["id"] == a);

        // The decision.
        let d = http.decide(token, &b.to_string()).await;
        let status = s["expected_status"].as_u64().unwrap() as u16;
        assert_eq!(d.status, status, "{kind} {a} -> {b}: {}", d.body);
        match kind {
            "allowed-project" => {
                assert!(lists_origin);
                assert_eq!(d.body["matched"]["type"], "project");
                assert_eq!(d.body["source_project"]["path_with_namespace"], a_path);
                assert_eq!(d.body["target_project"]["id"], b);
                assert_eq!(d.body["user"]["id"], s["user_id"]);
            }
            "allowed-group" => {
                assert!(!lists_origin);
                let g = s["via_group_id"].as_u64().unwrap();
                assert_eq!(d.body["matched"]["type"], "group");
                assert_eq!(d.body["matched"]["id"], g);
                assert_eq!(d.body["matched"]["full_path"], s["via_group_full_path"]);
                assert!(groups.iter().any(|x| x["id"] == g));
                assert!(
                    a_path.starts_with(&format!("{}/", s["via_group_full_path"].as_str().unwrap()))
                );
                let group = http.get(&format!("/groups/{g}")).await;
                assert_eq!(group.status, 200);
                assert_eq!(group.body["full_path"], s["via_group_full_path"]);
            }
            _ => {
                assert!(!lists_origin);
                assert_eq!(
                    d.body["message"],
                    format!(
                        "403 Forbidden - Authentication by CI/CD job token not allowed from {} to {}.",
                        last_segment(a_path),
                        last_segment(b_path)
                    )
                );
            }
        }
        // The same token on its own project, and by the target's path.
        let own = http.decide(token, &a.to_string()).await;
        assert_eq!(own.status, 200, "{}", own.body);
        assert_eq!(own.body["matched"]["type"], "same_project");
        let by_path = http.decide(token, &encode(b_path)).await;
        assert_eq!(by_path.status, status);
    }
    let bad = http.decide("glcbt-64_notatokenatall000000", "1").await;
    assert_eq!(bad.status, 401);
}

/// Writes that need the id sequences (PostgreSQL identities, SQLite's AUTOINCREMENT) and the
/// routes table to be right: new users, groups, projects, entries and jobs get fresh ids,
/// and a taken path is refused.
async fn check_writes(server: &Server, manifest: &Value) {
    let http = Http {
        client: reqwest::Client::new(),
        base: server.base.clone(),
    };
    let c = &manifest["counts"];
    let users = c["users"].as_u64().unwrap();
    let projects = c["projects"].as_u64().unwrap();
    let u = http
        .post(
            "/users",
            json!({"username": "synth-new-user", "email": "synth-new@example.com",
                   "name": "New User", "password": "synthetic-password-1"}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.body);
    assert_eq!(u.body["id"], users + 1);
    let g = http
        .post("/groups", json!({"name": "Synth New", "path": "synth-new"}))
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let p = http
        .post(
            "/projects",
            json!({"name": "fresh", "namespace_id": g.body["id"]}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert_eq!(p.body["id"], projects + 1);

    let s = manifest["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["target_project_entries"].as_u64().unwrap() < 200)
        .expect("a sample target below the limit");
    let b = s["target_project_id"].as_u64().unwrap();
    let target = http.get(&format!("/projects/{b}")).await;
    let taken = http
        .post(
            "/projects",
            json!({"name": "Another name", "path": target.body["path"],
                   "namespace_id": target.body["namespace"]["id"]}),
        )
        .await;
    assert_eq!(taken.status, 400, "{}", taken.body);
    assert_eq!(
        taken.body["message"]["path"],
        json!(["has already been taken"])
    );

    let added = http
        .post(
            &format!("/projects/{b}/job_token_scope/allowlist"),
            json!({"target_project_id": p.body["id"]}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let job = http
        .post(
            "/ci/jobs",
            json!({"project_id": p.body["id"], "user_id": 1}),
        )
        .await;
    assert_eq!(job.status, 201, "{}", job.body);
    assert_eq!(job.body["id"], c["running_jobs"].as_u64().unwrap() + 1);
    let token = job.body["token"].as_str().unwrap();
    let d = http.decide(token, &b.to_string()).await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["matched"]["type"], "project");
}

/// Imports the snapshot into a new SQLite file: its unique indexes and foreign keys accept it.
async fn reimport(snap: jobscope_store::snapshot::Snapshot, dir: &Path) {
    let url = format!("sqlite://{}", dir.join("reimport.sqlite3").display());
    let store = jobscope_server::open_store(&url).await.unwrap();
    store.import(&snap).await.expect("the instance imports");
}

struct PgDatabase {
    admin: String,
    name: String,
}

fn psql(admin: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .args([admin, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql (the PostgreSQL client) runs the PostgreSQL part of this test")
}

impl PgDatabase {
    fn create() -> Option<PgDatabase> {
        if std::env::var("JOBSCOPE_TEST_POSTGRES").as_deref() == Ok("skip") {
            return None;
        }
        let admin = std::env::var("JOBSCOPE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("jobscope_synth_{}", std::process::id());
        let out = psql(&admin, &format!("CREATE DATABASE {name}"));
        assert!(
            out.status.success(),
            "cannot create a PostgreSQL database (JOBSCOPE_TEST_POSTGRES=skip skips this): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(PgDatabase { admin, name })
    }

    fn url(&self) -> String {
        let (prefix, _) = self.admin.rsplit_once('/').unwrap();
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

fn sqlite_url(dir: &Path) -> (String, PathBuf) {
    let path = dir.join("synth.sqlite3");
    (format!("sqlite://{}", path.display()), path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_instance_is_served_like_an_api_made_one() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = sqlite_url(dir.path());
    let manifest = generate(&url, dir.path());
    assert_eq!(manifest["counts"]["max_group_depth"], 20);
    let sqlite_snapshot = export(&url, &manifest).await;

    // The same seed on PostgreSQL gives the same instance, row for row.
    let pg = PgDatabase::create();
    if let Some(db) = &pg {
        let pg_dir = tempfile::tempdir().unwrap();
        let pg_manifest = generate(&db.url(), pg_dir.path());
        assert_eq!(pg_manifest["counts"], manifest["counts"]);
        assert_eq!(pg_manifest["samples"], manifest["samples"]);
        let pg_snapshot = export(&db.url(), &pg_manifest).await;
        // Each database has a salt of its own, so token digests differ; all else is equal.
        assert_ne!(pg_snapshot.token_salt, sqlite_snapshot.token_salt);
        assert!(
            unsalted(pg_snapshot) == unsalted(sqlite_snapshot.clone()),
            "the PostgreSQL and SQLite instances differ"
        );
    }
    reimport(sqlite_snapshot, dir.path()).await;

    // A server with the read cache, then one without; the second also writes.
    let cached = Server::start(&url, true).await;
    check_api(&cached, &manifest).await;
    drop(cached);
    let plain = Server::start(&url, false).await;
    check_api(&plain, &manifest).await;
    check_writes(&plain, &manifest).await;
    drop(plain);

    if let Some(db) = &pg {
        let server = Server::start(&db.url(), true).await;
        check_api(&server, &manifest).await;
        check_writes(&server, &manifest).await;
    }
}

#[test]
fn refuses_a_database_that_has_users() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = sqlite_url(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_jobscope-synth"))
        .args(["--database", &url, "--scale", "0.0001", "--manifest"])
        .arg(dir.path().join("m.json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let again = Command::new(env!("CARGO_BIN_EXE_jobscope-synth"))
        .args(["--database", &url, "--scale", "0.0001", "--manifest"])
        .arg(dir.path().join("m2.json"))
        .output()
        .unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already has"), "{err}");
}
