//! `jobscope export` and `jobscope import` move a whole instance from SQLite to PostgreSQL
//! and back without loss: the documents are equal, and the copies serve the same answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;

fn export(url: &str, dir: &std::path::Path, name: &str) -> Value {
    let file = dir.join(name);
    let out = jobscope(&[
        "export",
        "--database",
        url,
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn import(url: &str, file: &std::path::Path) -> std::process::Output {
    jobscope(&["import", "--database", url, file.to_str().unwrap()])
}

async fn populate(server: &Server) {
    let api = Api::default();
    let g = api.group(server, "acme").await;
    let sub = api
        .post(
            &server.api("/groups"),
            json!({"name": "Tools", "path": "tools", "parent_id": g}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let a = api.project(server, sub, "a").await;
    let b = api.project(server, g, "b").await;
    let u = api
        .post(
            &server.api("/users"),
            json!({"username": "alice", "email": "alice@example.com", "name": "Alice", "password": "alice-password"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    api.post(
        &server.api(&format!("/projects/{a}/members")),
        json!({"user_id": u, "access_level": 40}),
    )
    .await;
    api.post(
        &server.api(&format!("/users/{u}/personal_access_tokens")),
        json!({"name": "t", "scopes": ["api"]}),
    )
    .await;
    api.post(
        &server.api(&format!("/projects/{a}/job_token_scope/allowlist")),
        json!({"target_project_id": b, "default_permissions": false, "job_token_policies": ["read_jobs"]}),
    )
    .await;
    api.post(
        &server.api(&format!("/projects/{b}/job_token_scope/groups_allowlist")),
        json!({"target_group_id": sub}),
    )
    .await;
    api.patch(
        &server.api(&format!("/projects/{b}/job_token_scope")),
        json!({"enabled": false}),
    )
    .await;
    let job = api
        .post(
            &server.api("/ci/jobs"),
            json!({"project_id": b, "user_id": u}),
        )
        .await;
    let token = job.body["token"].as_str().unwrap().to_owned();
    // One logged access, written before the server stops.
    api.http
        .get(server.api(&format!("/job_token/allowed?project={a}&policy=read_jobs")))
        .header("JOB-TOKEN", &token)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_to_postgres_and_back() {
    let work = tempfile::tempdir().unwrap();
    let first = Backend::sqlite();
    let mut server = Server::start(&first.url());
    populate(&server).await;
    assert!(server.stop().success());
    let original = export(&first.url(), work.path(), "first.json");
    assert_eq!(original["format"], "jobscope-export");
    assert_eq!(original["version"], 2);
    let salt = original["token_salt"].as_str().unwrap();
    assert!(
        salt.len() == 32 && salt.bytes().all(|b| b.is_ascii_hexdigit()),
        "{salt}"
    );
    assert!(
        !original["authorizations"].as_array().unwrap().is_empty(),
        "the log was flushed on shutdown"
    );

    // To PostgreSQL (if available), and on to a second SQLite file.
    let mut hops = Vec::new();
    hops.extend(Backend::postgres());
    hops.push(Backend::sqlite());
    let mut previous = work.path().join("first.json");
    for (i, hop) in hops.iter().enumerate() {
        let out = import(&hop.url(), &previous);
        assert!(
            out.status.success(),
            "import into {}: {}",
            hop.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let copy = export(&hop.url(), work.path(), &format!("hop{i}.json"));
        assert_eq!(copy, original, "{} copy differs", hop.name());
        // A second import into the same database is refused and changes nothing.
        let again = import(&hop.url(), &previous);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));
        // The copy serves: the root token (a digest, carried over) and the same lists.
        let server = Server::start(&hop.url());
        let api = Api::default();
        let projects = api
            .all(&server.api("/projects?order_by=id&sort=asc&simple=true"))
            .await;
        assert_eq!(
            projects.len(),
            original["projects"].as_array().unwrap().len()
        );
        let a = projects.iter().find(|p| p["path"] == "a").unwrap()["id"]
            .as_i64()
            .unwrap();
        let list = api
            .all(&server.api(&format!("/projects/{a}/job_token_scope/allowlist")))
            .await;
        assert_eq!(list.len(), 2);
        assert!(
            list.iter()
                .any(|p| p["job_token_policies"] == json!(["read_jobs"]))
        );
        previous = work.path().join(format!("hop{i}.json"));
    }
    // A file that is not an export is refused clearly.
    let bogus = work.path().join("bogus.json");
    std::fs::write(&bogus, "{\"hello\": 1}").unwrap();
    let fresh = Backend::sqlite();
    let out = import(&fresh.url(), &bogus);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a jobscope export"));
}
