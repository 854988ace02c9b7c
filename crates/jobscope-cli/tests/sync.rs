//! `jobscope sync FILE` end to end against a live jobscope: the round trip (apply, apply
//! again, edit, plan, apply), dry runs, the JSON report, files naming what the server does not
//! have, malformed files; and planning against a mocked GitLab, which proves sync only uses
//! endpoints GitLab has.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use http::{Method, StatusCode};
use jobscope_cli::sync::{file, plan, read};
use jobscope_client::endpoints::settings::UpdateSettings;
use jobscope_client::endpoints::tokens::CreatePersonalAccessToken;
use jobscope_client::endpoints::users::CreateUser;
use jobscope_client::mock::{MockResponse, MockTransport};
use jobscope_client::types::{AccessLevel, NamespaceId, ProjectId};
use jobscope_client::{Client, Flavor, Target};
use serde_json::{Value, json};
use support::*;

/// Groups acme (1… ids as the server gives them), acme/tools, acme/platform; projects
/// acme/deployer and acme/api (whose scopes the file manages), acme/builder, acme/tester,
/// acme/tools/lint. deployer's allowlist starts with acme/tools/lint, which the file does not
/// name.
async fn world() -> Live {
    let live = spawn().await;
    let acme = live.group("acme", None).await;
    let tools = live.group("tools", Some(acme)).await;
    live.group("platform", Some(acme)).await;
    live.project(acme, "deployer").await;
    live.project(acme, "api").await;
    live.project(acme, "builder").await;
    live.project(acme, "tester").await;
    live.project(tools, "lint").await;
    live.root()
        .project("acme/deployer")
        .job_token_scope()
        .projects()
        .add("acme/tools/lint")
        .await
        .unwrap();
    live
}

/// Writes the sync file into the world's directory and answers its path.
fn write(live: &Live, name: &str, text: &str) -> PathBuf {
    let path = live.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A project's scope as the server has it: whether access is limited, and its entries as
/// `project acme/builder: default permissions` lines, sorted.
async fn state(live: &Live, project: &str) -> (bool, Vec<String>) {
    let scope = live.root().project(project).job_token_scope();
    let enabled = scope.get().await.unwrap().inbound_enabled;
    let mut entries: Vec<String> = scope
        .entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let access = if e.default_permissions {
                "default permissions".to_owned()
            } else {
                let mut p = e.job_token_policies.clone();
                p.sort();
                p.join(", ")
            };
            format!("{} {}: {access}", e.target.kind(), e.path)
        })
        .collect();
    entries.sort();
    (enabled, entries)
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// insta settings that also hide the world's temporary directory.
fn settings(live: &Live) -> insta::Settings {
    let mut s = redactions();
    let dir = live.dir.path().display().to_string();
    let escaped: String = dir
        .chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect();
    s.add_filter(&escaped, "[dir]");
    s
}

const V1: &str = "\
version: 1
projects:
  acme/deployer:
    enabled: true
    allowlist:
      - acme/builder
      - project: acme/tester
        policies: [read_jobs, read_packages]
    groups_allowlist:
      - acme/tools
      - group: acme/platform
        policies: [read_jobs]
  acme/api:
    enabled: false
    allowlist:
      - acme/deployer
    groups_allowlist: []
";

/// V1 edited: deployer gains acme/tools/lint and loses acme/builder, acme/tester's policies
/// change, acme/tools gets policies and acme/platform default permissions; api's access is
/// limited again.
const V2: &str = "\
version: 1
projects:
  acme/deployer:
    enabled: true
    allowlist:
      - project: acme/tester
        policies: [read_jobs]
      - acme/tools/lint
    groups_allowlist:
      - group: acme/tools
        policies: [read_packages, read_jobs]
      - acme/platform
  acme/api:
    enabled: true
    allowlist:
      - acme/deployer
    groups_allowlist: []
";

#[tokio::test]
async fn the_round_trip() {
    let l = world().await;
    let file = write(&l, "scopes.yaml", V1);
    let f = file.to_str().unwrap();

    // The first plan: what V1 changes on a fresh server.
    let first = l.run(&["sync", f]).await.ok();
    assert!(
        first.stderr.contains(&format!(
            "Nothing was changed (a dry run). To make these changes: jobscope sync {f} --apply"
        )),
        "{}",
        first.stderr
    );

    // Apply it: the server is what the file says.
    let applied = l.run(&["sync", f, "--apply"]).await.ok();
    assert_eq!(
        state(&l, "acme/deployer").await,
        (
            true,
            lines(&[
                "group acme/platform: read_jobs",
                "group acme/tools: default permissions",
                "project acme/builder: default permissions",
                "project acme/tester: read_jobs, read_packages",
            ])
        )
    );
    assert_eq!(
        state(&l, "acme/api").await,
        (
            false,
            lines(&["project acme/deployer: default permissions"])
        )
    );

    // Again: nothing to do, and --exit-code says so.
    let again = l.run(&["sync", f, "--apply"]).await.ok();
    assert_eq!(
        again.stdout,
        format!("No changes: the server matches {f}.\n")
    );
    assert_eq!(again.stderr, "");
    let check = l.run(&["sync", f, "--exit-code"]).await;
    assert_eq!(check.code, 0, "{check:?}");
    assert_eq!(
        check.stdout,
        format!("No changes: the server matches {f}.\n")
    );

    // Edit the file: the plan shows exactly that difference, and --exit-code says 1.
    std::fs::write(&file, V2).unwrap();
    let before = (
        state(&l, "acme/deployer").await,
        state(&l, "acme/api").await,
    );
    let plan = l.run(&["sync", f, "--exit-code"]).await;
    assert_eq!(plan.code, 1, "{plan:?}");
    assert_eq!(
        plan.stdout,
        "\
acme/deployer
  + project acme/tools/lint (default permissions)
  - project acme/builder
  ~ project acme/tester: read_jobs, read_packages -> read_jobs
  ~ group acme/tools: default permissions -> read_packages, read_jobs
  ~ group acme/platform: read_jobs -> default permissions
acme/api
  ~ limit access: no -> yes
Plan: 1 to add, 4 to change, 1 to remove, in 2 of 2 projects.
"
    );
    // A plan changes nothing.
    assert_eq!(
        (
            state(&l, "acme/deployer").await,
            state(&l, "acme/api").await
        ),
        before
    );

    // Apply the edit: the server matches V2.
    let edited = l.run(&["sync", f, "--apply", "--exit-code"]).await;
    assert_eq!(edited.code, 1, "--exit-code: changes were made: {edited:?}");
    assert!(
        edited
            .stdout
            .ends_with("Applied: 1 added, 4 changed, 1 removed, in 2 projects.\n"),
        "{}",
        edited.stdout
    );
    assert_eq!(
        state(&l, "acme/deployer").await,
        (
            true,
            lines(&[
                "group acme/platform: default permissions",
                "group acme/tools: read_jobs, read_packages",
                "project acme/tester: read_jobs",
                "project acme/tools/lint: default permissions",
            ])
        )
    );
    assert_eq!(
        state(&l, "acme/api").await,
        (true, lines(&["project acme/deployer: default permissions"]))
    );
    let done = l.run(&["sync", f, "--exit-code"]).await;
    assert_eq!(done.code, 0, "{done:?}");

    settings(&l).bind(|| {
        insta::assert_snapshot!("sync_plan_first", first.stdout);
        insta::assert_snapshot!("sync_apply_first", applied.stdout);
        insta::assert_snapshot!("sync_plan_edit", plan.stdout);
        insta::assert_snapshot!("sync_apply_edit", edited.stdout);
    });
}

#[tokio::test]
async fn a_dry_run_changes_nothing() {
    let l = world().await;
    let file = write(&l, "scopes.yaml", V1);
    let f = file.to_str().unwrap();
    let before = (
        state(&l, "acme/deployer").await,
        state(&l, "acme/api").await,
    );
    let events_before = l
        .run(&["audit", "acme/deployer", "-o", "json"])
        .await
        .ok()
        .json();
    let dry = l.run(&["sync", f]).await.ok();
    assert!(dry.stdout.contains("Plan: "), "{}", dry.stdout);
    let json = l.run(&["sync", f, "-o", "json"]).await.ok();
    assert_eq!(json.json()["applied"], false);
    let after = (
        state(&l, "acme/deployer").await,
        state(&l, "acme/api").await,
    );
    assert_eq!(after, before);
    let events_after = l
        .run(&["audit", "acme/deployer", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(events_after, events_before);
}

#[tokio::test]
async fn the_json_report() {
    let l = world().await;
    // Targets by id work as well as by path, paths in any case (the report spells them as
    // the server does); the project's own entry is a note.
    let api = l.root().project("acme/api").id().await.unwrap().get();
    let tools = l.root().group("acme/tools").id().await.unwrap().get();
    let builder = l.root().project("acme/builder").id().await.unwrap().get();
    let text = format!(
        "version: 1\n\
         projects:\n\
         \x20 acme/deployer:\n\
         \x20   enabled: false\n\
         \x20   allowlist:\n\
         \x20     - acme/deployer\n\
         \x20     - {api}\n\
         \x20     - project: ACME/Tester\n\
         \x20       policies: [read_packages]\n\
         \x20   groups_allowlist:\n\
         \x20     - group: {tools}\n\
         \x20       policies: [admin_jobs]\n\
         \x20 {builder}: {{}}\n"
    );
    let file = write(&l, "scopes.yaml", &text);
    let f = file.to_str().unwrap();
    let dry = l.run(&["sync", f, "-o", "json"]).await.ok();
    let report = dry.json();
    assert_eq!(report["applied"], false);
    assert_eq!(report["summary"]["add"], 3);
    assert_eq!(report["summary"]["change"], 1);
    assert_eq!(report["summary"]["remove"], 1);
    assert!(
        dry.stderr
            .contains("note: acme/deployer: the project itself is always on its own allowlist"),
        "{}",
        dry.stderr
    );
    let applied = l.run(&["sync", f, "-o", "json", "--apply"]).await.ok();
    let done = applied.json();
    assert_eq!(done["applied"], true);
    for change in done["projects"][0]["changes"].as_array().unwrap() {
        assert_eq!(change["applied"], true, "{change}");
    }
    assert_eq!(
        state(&l, "acme/deployer").await,
        (
            false,
            lines(&[
                "group acme/tools: admin_jobs",
                "project acme/api: default permissions",
                "project acme/tester: read_packages",
            ])
        )
    );
    let none = l.run(&["sync", f, "-o", "json"]).await.ok();
    assert_eq!(none.json()["summary"]["projects_changed"], 0);
    settings(&l).bind(|| {
        insta::assert_snapshot!("sync_report_json", dry.stdout);
        insta::assert_snapshot!("sync_applied_json", applied.stdout);
    });
}

#[tokio::test]
async fn what_the_server_does_not_have_stops_everything() {
    let l = world().await;
    let before = (
        state(&l, "acme/deployer").await,
        state(&l, "acme/api").await,
    );
    // acme/deployer comes first and would change; acme/nope does not exist.
    let file = write(
        &l,
        "scopes.yaml",
        "projects:\n  acme/deployer:\n    allowlist: [acme/builder]\n  acme/nope:\n    enabled: true\n",
    );
    let f = file.to_str().unwrap();
    let missing = l.run(&["sync", f, "--apply"]).await;
    assert_eq!(missing.code, 5, "{missing:?}");
    assert_eq!(missing.stdout, "");
    assert!(
        missing
            .stderr
            .starts_with("error: project acme/nope: 404 Project Not Found (nothing was changed)\n"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("hint: "), "{}", missing.stderr);
    // Unknown entries too, all of them reported at once.
    let file = write(
        &l,
        "entries.yaml",
        "projects:\n  acme/api:\n    enabled: false\n  acme/deployer:\n    allowlist: [acme/builder, acme/gone]\n    groups_allowlist: [acme/nowhere]\n",
    );
    let entries = l
        .run(&["sync", file.to_str().unwrap(), "--apply", "-o", "json"])
        .await;
    assert_eq!(entries.code, 5, "{entries:?}");
    assert_eq!(entries.stdout, "");
    assert!(
        entries.stderr.contains(
            "the file names 2 projects or groups the server does not have (nothing was changed)"
        ),
        "{}",
        entries.stderr
    );
    assert!(
        entries
            .stderr
            .contains("acme/deployer: allowlist entry acme/gone: 404 Project Not Found"),
        "{}",
        entries.stderr
    );
    assert!(
        entries
            .stderr
            .contains("acme/deployer: groups_allowlist entry acme/nowhere: 404 Group Not Found"),
        "{}",
        entries.stderr
    );
    // The same project by path and by id is a mistake of the file.
    let id = l.root().project("acme/deployer").id().await.unwrap().get();
    let file = write(
        &l,
        "twice.yaml",
        &format!("projects:\n  acme/deployer: {{enabled: false}}\n  {id}: {{enabled: true}}\n"),
    );
    let twice = l.run(&["sync", file.to_str().unwrap(), "--apply"]).await;
    assert_eq!(twice.code, 2, "{twice:?}");
    assert!(
        twice.stderr.contains(&format!(
            "the project acme/deployer is listed twice (as acme/deployer and as {id})"
        )),
        "{}",
        twice.stderr
    );
    let after = (
        state(&l, "acme/deployer").await,
        state(&l, "acme/api").await,
    );
    assert_eq!(after, before);
}

/// alice maintains acme/deployer, develops acme/builder, but is only a Reporter of acme/api:
/// reading api's scope is refused, and nothing is changed, not even deployer's, which comes
/// first.
#[tokio::test]
async fn a_project_the_token_may_not_manage_stops_everything() {
    let l = world().await;
    let root = l.root();
    let alice = root
        .users()
        .create(&CreateUser::new("alice", "Alice", "alice@example.com"))
        .await
        .unwrap();
    root.project("acme/deployer")
        .members()
        .add(alice.id, AccessLevel::Maintainer)
        .await
        .unwrap();
    root.project("acme/api")
        .members()
        .add(alice.id, AccessLevel::Reporter)
        .await
        .unwrap();
    root.project("acme/builder")
        .members()
        .add(alice.id, AccessLevel::Developer)
        .await
        .unwrap();
    let token = root
        .tokens()
        .create(&CreatePersonalAccessToken::new(
            alice.id,
            "sync",
            vec!["api".into()],
        ))
        .await
        .unwrap()
        .token
        .unwrap();
    let before = (
        state(&l, "acme/deployer").await,
        state(&l, "acme/api").await,
    );
    let file = write(
        &l,
        "scopes.yaml",
        "projects:\n  acme/deployer:\n    allowlist: [acme/builder]\n  acme/api:\n    enabled: false\n",
    );
    let f = file.to_str().unwrap();
    let out = l
        .run_env(&["sync", f, "--apply"], &[("JOBSCOPE_TOKEN", &token)])
        .await;
    assert_eq!(out.code, 4, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("error: reading the job token scope of acme/api: 403"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Maintainer"), "{}", out.stderr);
    let after = (
        state(&l, "acme/deployer").await,
        state(&l, "acme/api").await,
    );
    assert_eq!(after, before);
    // With only deployer in the file, planning goes through; but alice cannot see
    // acme/tools/lint, which is on deployer's allowlist, and removing it is refused: applying
    // stops at the first failure and says what was made and what was not.
    root.project("acme/deployer")
        .job_token_scope()
        .projects()
        .add("acme/builder")
        .await
        .unwrap();
    let file = write(
        &l,
        "mine.yaml",
        "projects:\n  acme/deployer:\n    allowlist: []\n",
    );
    let mine = file.to_str().unwrap();
    let stopped = l
        .run_env(&["sync", mine, "--apply"], &[("JOBSCOPE_TOKEN", &token)])
        .await;
    assert_eq!(stopped.code, 4, "{stopped:?}");
    assert!(
        stopped
            .stderr
            .starts_with("error: acme/deployer: removing project acme/tools/lint: 403"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stdout.ends_with(
            "Applied before a change failed: 0 added, 0 changed, 1 removed, in 1 project; \
             1 change not made.\n"
        ),
        "{}",
        stopped.stdout
    );
    assert_eq!(
        state(&l, "acme/deployer").await,
        (
            true,
            lines(&["project acme/tools/lint: default permissions"])
        )
    );
    let json = l
        .run_env(
            &["sync", mine, "--apply", "-o", "json"],
            &[("JOBSCOPE_TOKEN", &token)],
        )
        .await;
    assert_eq!(json.code, 4, "{json:?}");
    let report = json.json();
    assert_eq!(report["applied"], false);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .starts_with("acme/deployer: removing project acme/tools/lint: 403"),
        "{report}"
    );
    for change in report["projects"][0]["changes"].as_array().unwrap() {
        assert_eq!(change["applied"], false, "{change}");
    }
    assert_eq!(report["summary"]["remove"], 1);
    // Once alice may see it, the same file applies.
    root.project("acme/tools/lint")
        .members()
        .add(alice.id, AccessLevel::Guest)
        .await
        .unwrap();
    l.run_env(&["sync", mine, "--apply"], &[("JOBSCOPE_TOKEN", &token)])
        .await
        .ok();
    assert_eq!(state(&l, "acme/deployer").await, (true, vec![]));
    settings(&l).bind(|| insta::assert_snapshot!("sync_apply_failed", stopped.stdout));
}

#[tokio::test]
async fn a_malformed_file_exits_2_with_the_line() {
    let l = world().await;
    let file = write(
        &l,
        "bad.yaml",
        "version: 1\nprojects:\n  acme/deployer:\n    allowlist:\n      - project: acme/builder\n        policies: [read_everything]\n",
    );
    let f = file.to_str().unwrap();
    let bad = l.run(&["sync", f, "--apply"]).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert_eq!(bad.stdout, "");
    assert!(
        bad.stderr.starts_with(&format!("error: {f}: ")),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr
            .contains("unknown job token policy \"read_everything\""),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("line 6"), "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("hint: docs/sync.md describes the sync file"),
        "{}",
        bad.stderr
    );
    // Broken YAML.
    let file = write(
        &l,
        "broken.yaml",
        "projects:\n  acme/deployer:\n    enabled: true\n   allowlist: [\n",
    );
    let broken = l.run(&["sync", file.to_str().unwrap()]).await;
    assert_eq!(broken.code, 2, "{broken:?}");
    assert!(broken.stderr.contains("line 4"), "{}", broken.stderr);
    // A misspelt key.
    let file = write(
        &l,
        "typo.yaml",
        "projects:\n  acme/deployer:\n    enable: true\n",
    );
    let typo = l.run(&["sync", file.to_str().unwrap()]).await;
    assert_eq!(typo.code, 2, "{typo:?}");
    assert!(
        typo.stderr.contains("unknown field `enable`"),
        "{}",
        typo.stderr
    );
    assert!(typo.stderr.contains("line 3"), "{}", typo.stderr);
    // A list without a value is an error, never an empty list that would remove every entry.
    let file = write(
        &l,
        "empty.yaml",
        "projects:\n  acme/deployer:\n    enabled: true\n    allowlist:\n",
    );
    let empty = l.run(&["sync", file.to_str().unwrap(), "--apply"]).await;
    assert_eq!(empty.code, 2, "{empty:?}");
    assert!(
        empty
            .stderr
            .contains("allowlist has no value: write [] for an empty list"),
        "{}",
        empty.stderr
    );
    assert!(empty.stderr.contains("line 4"), "{}", empty.stderr);
    // A project named twice, the second time in another case.
    let file = write(
        &l,
        "twice.yaml",
        "projects:\n  acme/deployer: {}\n  acme/api: {}\n  ACME/Deployer: {}\n",
    );
    let twice = l.run(&["sync", file.to_str().unwrap()]).await;
    assert_eq!(twice.code, 2, "{twice:?}");
    assert!(
        twice
            .stderr
            .contains("the project ACME/Deployer is listed twice at line 4"),
        "{}",
        twice.stderr
    );
    // No file at all.
    let gone = l.run(&["sync", "/nonexistent/scopes.yaml"]).await;
    assert_eq!(gone.code, 2, "{gone:?}");
    assert!(
        gone.stderr
            .starts_with("error: cannot read /nonexistent/scopes.yaml: "),
        "{}",
        gone.stderr
    );
    // File errors come before the server: none is needed.
    let offline = run_with_env(&["sync", f], Default::default()).await;
    assert_eq!(offline.code, 2, "{offline:?}");
    assert!(offline.stderr.contains("line 6"), "{}", offline.stderr);
    // The server is untouched.
    assert_eq!(
        state(&l, "acme/deployer").await,
        (
            true,
            lines(&["project acme/tools/lint: default permissions"])
        )
    );
}

#[tokio::test]
async fn enabled_false_where_the_instance_enforces_is_a_note() {
    let l = world().await;
    l.root()
        .update_settings(&UpdateSettings::new().enforce_job_token_scope(true))
        .await
        .unwrap();
    let file = write(
        &l,
        "scopes.yaml",
        "projects:\n  acme/api:\n    enabled: false\n",
    );
    let f = file.to_str().unwrap();
    let out = l.run(&["sync", f, "--exit-code"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, format!("No changes: the server matches {f}.\n"));
    assert!(
        out.stderr
            .contains("note: acme/api: `enabled: false` cannot take effect"),
        "{}",
        out.stderr
    );
}

// --- Against GitLab (mocked) ---------------------------------------------------------------

const API: &str = "/api/v4";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../jobscope-client/tests/fixtures/gitlab/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON")
}

fn ok(name: &str) -> MockResponse {
    MockResponse::json(StatusCode::OK, fixture(name))
}

fn gitlab(mock: &Arc<MockTransport>) -> Client {
    Client::builder("https://gitlab.example.com")
        .private_token("glpat-test-secret")
        .transport(mock.clone())
        .flavor(Flavor::GitLab {
            version: "18.6.0-ee".into(),
        })
        .build()
        .unwrap()
}

/// On GitLab, planning resolves paths with `GET /projects/:id` and `GET /groups/:id`, reads
/// the setting with `GET /projects/:id/job_token_scope` and the entries with their
/// permissions through GraphQL: every request is one GitLab answers, and nothing else is sent.
#[tokio::test]
async fn planning_against_gitlab_uses_only_gitlabs_endpoints() {
    let sync = file::parse(
        "version: 1\n\
         projects:\n\
         \x20 acme/deployer:\n\
         \x20   enabled: true\n\
         \x20   allowlist:\n\
         \x20     - acme/builder\n\
         \x20     - project: acme/api\n\
         \x20       policies: [read_jobs]\n\
         \x20   groups_allowlist:\n\
         \x20     - group: acme/tools\n\
         \x20       policies: [READ_PACKAGES]\n",
    )
    .unwrap();
    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fdeployer"))
        .respond(ok("project_deployer"));
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fbuilder"))
        .respond(ok("project_builder"));
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fapi"))
        .respond(MockResponse::json(
            StatusCode::OK,
            json!({"id": 9, "name": "api", "path": "api", "path_with_namespace": "acme/api",
                   "web_url": "https://gitlab.example.com/acme/api"}),
        ));
    mock.expect(
        Method::GET,
        &format!("{API}/groups/acme%2Ftools?with_projects=false"),
    )
    .respond(ok("group_tools"));
    mock.expect(Method::GET, &format!("{API}/projects/42/job_token_scope"))
        .respond(ok("scope"));
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, "/api/graphql")
        .body_contains("projectsAllowlist(first: 100")
        .body_contains(r#""path":"acme/deployer""#)
        .respond(ok("graphql_projects_allowlist"));
    mock.expect(Method::POST, "/api/graphql")
        .body_contains("groupsAllowlist(first: 100")
        .body_contains(r#""path":"acme/deployer""#)
        .respond(ok("graphql_groups_allowlist"));

    let planned = read::plan(&gitlab(&mock), &sync).await.unwrap();
    mock.assert_done();
    for r in mock.requests() {
        assert!(
            r.method == Method::GET || r.url.path() == "/api/graphql",
            "planning changed something: {} {}",
            r.method,
            r.url
        );
    }

    // GitLab has builder with read_packages and read_jobs, tester (autopopulated) with
    // default permissions, and acme/tools with default permissions; access is not limited.
    use plan::{Access, Change};
    let policies = |p: &[&str]| Access::Policies(p.iter().map(|s| (*s).to_owned()).collect());
    assert_eq!(planned.projects.len(), 1);
    let p = &planned.projects[0];
    assert_eq!((p.id, p.path.as_str()), (ProjectId(42), "acme/deployer"));
    assert!(p.notes.is_empty(), "{:?}", p.notes);
    assert_eq!(
        p.changes,
        vec![
            Change::SetEnabled { to: true },
            Change::Add {
                target: Target::Project(ProjectId(9)),
                path: "acme/api".into(),
                access: policies(&["read_jobs"]),
            },
            Change::Remove {
                target: Target::Project(ProjectId(8)),
                path: "acme/tester".into(),
                access: Access::Default,
                autopopulated: true,
            },
            Change::Update {
                target: Target::Project(ProjectId(7)),
                path: "acme/builder".into(),
                from: policies(&["read_packages", "read_jobs"]),
                to: Access::Default,
            },
            Change::Update {
                target: Target::Group(NamespaceId(11)),
                path: "acme/tools".into(),
                from: Access::Default,
                to: policies(&["read_packages"]),
            },
        ]
    );
    let s = planned.summary();
    assert_eq!((s.add, s.change, s.remove), (1, 3, 1));
}

/// A project GitLab does not have stops planning with "not found", before any scope is read.
#[tokio::test]
async fn planning_against_gitlab_stops_at_an_unknown_project() {
    let sync =
        file::parse("projects:\n  acme/deployer: {enabled: true}\n  acme/nope: {}\n").unwrap();
    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fdeployer"))
        .respond(ok("project_deployer"));
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fnope"))
        .respond(MockResponse::json(
            StatusCode::NOT_FOUND,
            fixture("error_404_project"),
        ));
    let err = read::plan(&gitlab(&mock), &sync).await.unwrap_err();
    mock.assert_done();
    assert_eq!(err.code, jobscope_cli::ExitCode::NotFound);
    assert_eq!(
        err.message,
        "project acme/nope: 404 Project Not Found (nothing was changed)"
    );
}
