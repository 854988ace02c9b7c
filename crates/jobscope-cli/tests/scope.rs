//! The scope commands end to end against a live jobscope: what they print (tables and JSON,
//! as snapshots) and how they exit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use jobscope_client::endpoints::ci::CreateJob;
use jobscope_client::endpoints::users::CreateUser;
use jobscope_client::types::AccessLevel;
use support::*;

/// acme/deployer (the project whose scope is managed), acme/builder, acme/tools/lint; alice is
/// a Reporter of deployer and a Developer of builder, and runs a job in builder.
struct World {
    live: Live,
    job_token: String,
}

async fn world() -> World {
    let live = spawn().await;
    let acme = live.group("acme", None).await;
    let tools = live.group("tools", Some(acme)).await;
    live.project(acme, "deployer").await;
    live.project(acme, "builder").await;
    live.project(tools, "lint").await;
    let root = live.root();
    let alice = root
        .users()
        .create(&CreateUser::new("alice", "Alice", "alice@example.com"))
        .await
        .unwrap();
    root.project("acme/deployer")
        .members()
        .add(alice.id, AccessLevel::Reporter)
        .await
        .unwrap();
    root.project("acme/builder")
        .members()
        .add(alice.id, AccessLevel::Developer)
        .await
        .unwrap();
    let job = root
        .ci()
        .create_job(&CreateJob::new("acme/builder", alice.id).name("build"))
        .await
        .unwrap();
    World {
        live,
        job_token: job.token.unwrap(),
    }
}

#[tokio::test]
async fn scope_show_enable_disable() {
    let w = world().await;
    let l = &w.live;
    let show = l.run(&["scope", "show", "acme/deployer"]).await.ok();
    let disable = l.run(&["scope", "disable", "acme/deployer"]).await.ok();
    let json = l
        .run(&["scope", "show", "acme/deployer", "--output", "json"])
        .await
        .ok();
    assert_eq!(json.json()["inbound_enabled"], false);
    let enable = l.run(&["scope", "enable", "2", "-o", "json"]).await.ok();
    assert_eq!(enable.json()["inbound_enabled"], true);
    redactions().bind(|| {
        insta::assert_snapshot!("scope_show", show.stdout);
        insta::assert_snapshot!("scope_disable", disable.stdout);
        insta::assert_snapshot!("scope_show_json", json.stdout);
    });
    // The instance setting keeps access limited, and the command says so.
    let root = l.root();
    root.update_settings(
        &jobscope_client::endpoints::settings::UpdateSettings::new().enforce_job_token_scope(true),
    )
    .await
    .unwrap();
    let still = l.run(&["scope", "disable", "acme/deployer"]).await.ok();
    assert!(still.stdout.contains("yes"), "{}", still.stdout);
    assert!(
        still
            .stderr
            .contains("enforce_ci_inbound_job_token_scope_enabled"),
        "{}",
        still.stderr
    );
}

#[tokio::test]
async fn allowlists_and_policies() {
    let w = world().await;
    let l = &w.live;
    let add = l
        .run(&[
            "allowlist",
            "add",
            "acme/deployer",
            "acme/builder",
            "acme/tools/lint",
        ])
        .await
        .ok();
    let groups = l
        .run(&[
            "groups-allowlist",
            "add",
            "acme/deployer",
            "acme/tools",
            "--policy",
            "read_jobs,admin_packages",
        ])
        .await
        .ok();
    let list = l.run(&["allowlist", "list", "acme/deployer"]).await.ok();
    let glist = l
        .run(&["groups-allowlist", "ls", "acme/deployer"])
        .await
        .ok();
    let set = l
        .run(&[
            "policies",
            "set",
            "acme/deployer",
            "acme/builder",
            "--policy",
            "read_packages",
        ])
        .await
        .ok();
    let json = l
        .run(&["allowlist", "list", "acme/deployer", "-o", "json"])
        .await
        .ok();
    let entries = json.json();
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert_eq!(entries[0]["path"], "acme/builder");
    assert_eq!(entries[0]["default_permissions"], false);
    assert_eq!(entries[0]["job_token_policies"][0], "read_packages");
    assert_eq!(entries[0]["target"]["type"], "project");
    let rm = l
        .run(&[
            "allowlist",
            "rm",
            "acme/deployer",
            "acme/tools/lint",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert_eq!(rm.json()[0]["ok"], true);
    let back = l
        .run(&[
            "policies",
            "set",
            "acme/deployer",
            "acme/tools",
            "--group",
            "--default-permissions",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert_eq!(back.json()[0]["default_permissions"], true);
    redactions().bind(|| {
        insta::assert_snapshot!("allowlist_add", add.stdout);
        insta::assert_snapshot!("groups_allowlist_add", groups.stdout);
        insta::assert_snapshot!("allowlist_list", list.stdout);
        insta::assert_snapshot!("groups_allowlist_list", glist.stdout);
        insta::assert_snapshot!("policies_set", set.stdout);
        insta::assert_snapshot!("allowlist_list_json", json.stdout);
    });

    // Mixed success: each target is reported, the exit code is the first failure's.
    let mixed = l
        .run(&[
            "allowlist",
            "add",
            "acme/deployer",
            "acme/builder",
            "acme/nope",
            "acme/tools/lint",
        ])
        .await;
    assert_eq!(mixed.code, 6, "{mixed:?}");
    assert!(
        mixed.stdout.contains("added acme/tools/lint"),
        "{}",
        mixed.stdout
    );
    assert!(
        mixed
            .stderr
            .contains("error: adding acme/builder: 400 Bad request - This project is already in the job token allowlist."),
        "{}",
        mixed.stderr
    );
    assert!(
        mixed
            .stderr
            .contains("error: adding acme/nope: 404 Project Not Found"),
        "{}",
        mixed.stderr
    );
    // Unknown policies never reach the server.
    let bad = l
        .run(&[
            "allowlist",
            "add",
            "acme/deployer",
            "acme/x",
            "--policy",
            "read_all",
        ])
        .await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("unknown job token policy \"read_all\""),
        "{}",
        bad.stderr
    );
    // `policies set` needs a choice.
    let none = l
        .run(&["policies", "set", "acme/deployer", "acme/builder"])
        .await;
    assert_eq!(none.code, 2, "{none:?}");
    let policies = l.run(&["policies", "list"]).await.ok();
    assert!(policies.stdout.contains("admin_terraform_state"));
    redactions().bind(|| insta::assert_snapshot!("policies_list", policies.stdout));
}

#[tokio::test]
async fn check_auth_log_autopopulate_reachable_audit() {
    let w = world().await;
    let l = &w.live;
    let job = [("JOBSCOPE_JOB_TOKEN", w.job_token.as_str())];
    // Refused: exit 1, GitLab's message.
    let refused = l.run_env(&["check", "acme/deployer"], &job).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    // Inside a CI job, CI_JOB_TOKEN is enough.
    let refused_ci = l
        .run_env(
            &["check", "acme/deployer", "-o", "json"],
            &[("CI_JOB_TOKEN", w.job_token.as_str())],
        )
        .await;
    assert_eq!(refused_ci.code, 1);
    assert_eq!(refused_ci.json()["allowed"], false);
    assert_eq!(refused_ci.json()["status"], 403);

    l.run(&["allowlist", "add", "acme/deployer", "acme/builder"])
        .await
        .ok();
    let allowed = l
        .run_env(
            &["check", "acme/deployer", "--policy", "read_packages"],
            &job,
        )
        .await
        .ok();
    let allowed_json = l
        .run_env(&["check", "acme/deployer", "-o", "json"], &job)
        .await
        .ok();
    assert_eq!(allowed_json.json()["allowed"], true);
    assert_eq!(
        allowed_json.json()["decision"]["matched"]["type"],
        "project"
    );

    let log = l.run(&["auth-log", "acme/deployer"]).await.ok();
    let csv = l.run(&["auth-log", "acme/deployer", "--csv"]).await.ok();
    assert!(
        csv.stdout
            .starts_with("Origin Project Path,Last Authorized At (UTC)\nacme/builder,")
    );
    let reach = l.run(&["reachable", "acme/builder"]).await.ok();

    // Autopopulation: remove the entry, then the log puts it back.
    l.run(&["allowlist", "remove", "acme/deployer", "acme/builder"])
        .await
        .ok();
    let dry = l
        .run(&["autopopulate", "acme/deployer", "--dry-run"])
        .await
        .ok();
    assert!(dry.stderr.contains("dry run"), "{}", dry.stderr);
    let real = l
        .run(&["autopopulate", "acme/deployer", "-o", "json"])
        .await
        .ok();
    assert_eq!(real.json()["added"][0]["path"], "acme/builder");
    let listed = l.run(&["allowlist", "list", "acme/deployer"]).await.ok();
    assert!(
        listed.stdout.contains("[autopopulated]"),
        "{}",
        listed.stdout
    );
    l.run(&["autopopulate", "acme/deployer", "--clear"])
        .await
        .ok();
    let empty = l.run(&["allowlist", "list", "acme/deployer"]).await.ok();
    assert_eq!(empty.stdout, "");
    assert!(empty.stderr.contains("No projects on the allowlist."));

    let audit = l
        .run(&["audit", "acme/deployer", "--limit", "3"])
        .await
        .ok();
    assert_eq!(audit.stdout.lines().count(), 4, "{}", audit.stdout);
    let audit_json = l
        .run(&[
            "audit",
            "acme/deployer",
            "--since",
            "2000-01-01",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert!(audit_json.json().as_array().unwrap().len() >= 4);

    redactions().bind(|| {
        insta::assert_snapshot!("check_refused", refused.stdout);
        insta::assert_snapshot!("check_allowed", allowed.stdout);
        insta::assert_snapshot!("auth_log", log.stdout);
        insta::assert_snapshot!("reachable", reach.stdout);
        insta::assert_snapshot!("autopopulate_dry_run", dry.stdout);
        insta::assert_snapshot!("audit", audit.stdout);
    });

    // A finished job's token: 401, exit 3, with a hint.
    w.live
        .root()
        .ci()
        .finish_job(1.into(), jobscope_client::JobOutcome::Success)
        .await
        .unwrap();
    let gone = l.run_env(&["check", "acme/deployer"], &job).await;
    assert_eq!(gone.code, 3, "{gone:?}");
    assert!(
        gone.stderr.contains("hint: the job token is not valid"),
        "{}",
        gone.stderr
    );
}

#[tokio::test]
async fn errors_map_to_documented_exit_codes() {
    let w = world().await;
    let l = &w.live;
    let not_found = l.run(&["scope", "show", "acme/nope"]).await;
    assert_eq!(not_found.code, 5);
    assert_eq!(not_found.stderr, "error: 404 Project Not Found\n");
    let unauthenticated = l
        .run_env(
            &["scope", "show", "acme/deployer"],
            &[("JOBSCOPE_TOKEN", "glpat-wrong")],
        )
        .await;
    assert_eq!(unauthenticated.code, 3);
    assert!(unauthenticated.stderr.contains("hint: check the token"));
    // alice is only a Reporter of deployer.
    let alice_token = l
        .root()
        .tokens()
        .create(
            &jobscope_client::endpoints::tokens::CreatePersonalAccessToken::new(
                2.into(),
                "cli",
                vec!["api".into()],
            ),
        )
        .await
        .unwrap()
        .token
        .unwrap();
    let forbidden = l
        .run_env(
            &["scope", "disable", "acme/deployer"],
            &[("JOBSCOPE_TOKEN", &alice_token)],
        )
        .await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");
    assert!(
        forbidden.stderr.contains("Maintainer"),
        "{}",
        forbidden.stderr
    );
    let rejected = l
        .run(&["allowlist", "remove", "acme/deployer", "acme/builder"])
        .await;
    assert_eq!(rejected.code, 6);
    let unreachable = run_with_env(
        &[
            "scope",
            "show",
            "acme/deployer",
            "--host",
            "http://127.0.0.1:9",
        ],
        l.env(),
    )
    .await;
    assert_eq!(unreachable.code, 7, "{unreachable:?}");
    let no_host = run_with_env(&["scope", "show", "x/y"], Default::default()).await;
    assert_eq!(no_host.code, 2);
    assert!(no_host.stderr.contains("--host"), "{}", no_host.stderr);
    let usage = l.run(&["allowlist", "add", "acme/deployer"]).await;
    assert_eq!(usage.code, 2);
    // The token given with --token wins over the environment's.
    let flag = l
        .run_env(
            &[
                "scope",
                "show",
                "acme/deployer",
                "--token",
                support::ROOT_TOKEN,
            ],
            &[("JOBSCOPE_TOKEN", "glpat-wrong")],
        )
        .await;
    assert_eq!(flag.code, 0, "{flag:?}");
}
