//! The `jobscope` binary as people run it: `--help` (snapshots), shell completions, man pages,
//! and the client commands against a real `jobscope serve` with settings from the environment
//! and from a config file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::{Command, Output};

use serde_json::json;
use support::*;

fn jobscope(args: &[&str], env: &[(&str, &str)], home: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jobscope"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("COLUMNS", "100");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run jobscope")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_texts() {
    let home = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("help", &["--help"]),
        ("help_scope", &["scope", "--help"]),
        ("help_allowlist_add", &["allowlist", "add", "--help"]),
        ("help_groups_allowlist", &["groups-allowlist", "--help"]),
        ("help_policies_set", &["policies", "set", "--help"]),
        ("help_auth_log", &["auth-log", "--help"]),
        ("help_autopopulate", &["autopopulate", "--help"]),
        ("help_check", &["check", "--help"]),
        ("help_sync", &["sync", "--help"]),
        ("help_users", &["users", "--help"]),
        ("help_tokens_create", &["tokens", "create", "--help"]),
        ("help_members_add", &["members", "add", "--help"]),
        ("help_settings_set", &["settings", "set", "--help"]),
        ("help_completions", &["completions", "--help"]),
    ];
    for (name, args) in cases {
        let out = jobscope(args, &[], home.path());
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        insta::assert_snapshot!(*name, text(&out.stdout));
    }
    // Usage errors: exit 2 with clap's message.
    let out = jobscope(&["allowlist", "add", "acme/app"], &[], home.path());
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("usage_error", text(&out.stderr));
    let out = jobscope(
        &["scope", "show", "x/y", "--output", "yaml"],
        &[],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_and_man_pages_come_from_the_command_definition() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = jobscope(&["completions", shell], &[], home.path());
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        for word in ["groups-allowlist", "autopopulate", "job-token", "sync"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let dir = home.path().join("man");
    let out = jobscope(
        &["man", "--out-dir", dir.to_str().unwrap()],
        &[],
        home.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for page in [
        "jobscope.1",
        "jobscope-serve.1",
        "jobscope-allowlist.1",
        "jobscope-allowlist-add.1",
        "jobscope-sync.1",
        "jobscope-check.1",
    ] {
        let body = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|_| panic!("{page}"));
        assert!(
            body.starts_with(".ie") || body.contains(".TH"),
            "{page} is not a man page"
        );
    }
    let main = std::fs::read_to_string(dir.join("jobscope.1")).unwrap();
    assert!(
        main.contains("Exit codes"),
        "the exit codes are in the man page"
    );
    assert!(!dir.join("jobscope-help.1").exists());
}

#[tokio::test]
async fn the_binary_against_a_real_server() {
    let backend = Backend::sqlite();
    let server = Server::start(&backend.url());
    let api = Api::default();
    let g = api
        .post(
            &server.api("/groups"),
            json!({"name": "acme", "path": "acme"}),
        )
        .await;
    for p in ["deployer", "builder"] {
        api.post(
            &server.api("/projects"),
            json!({"name": p, "namespace_id": g.body["id"]}),
        )
        .await;
    }
    let home = tempfile::tempdir().unwrap();
    let base = server.base.clone();

    // Settings from glab's variables.
    let env = [("GITLAB_HOST", base.as_str()), ("GITLAB_TOKEN", ROOT_TOKEN)];
    let out = jobscope(
        &["allowlist", "add", "acme/deployer", "acme/builder"],
        &env,
        home.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "added acme/builder (project 2)\n");

    // Settings from the config file (~/.config/jobscope/config.toml), with a profile.
    let config = home.path().join(".config/jobscope");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!(
            "output = \"json\"\n[profiles.local]\nhost = \"{base}\"\ntoken = \"{ROOT_TOKEN}\"\n"
        ),
    )
    .unwrap();
    let out = jobscope(
        &["allowlist", "list", "acme/deployer", "--profile", "local"],
        &[],
        home.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["path"], "acme/builder");
    let out = jobscope(
        &["scope", "show", "acme/deployer"],
        &[("JOBSCOPE_PROFILE", "local"), ("JOBSCOPE_OUTPUT", "table")],
        home.path(),
    );
    assert!(text(&out.stdout).contains("yes (only allowlisted projects)"));

    // Exit codes reach the shell.
    let out = jobscope(&["scope", "show", "acme/nope"], &env, home.path());
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(text(&out.stderr), "error: 404 Project Not Found\n");
    let out = jobscope(
        &["scope", "show", "acme/deployer"],
        &[
            ("GITLAB_HOST", base.as_str()),
            ("GITLAB_TOKEN", "glpat-nope"),
        ],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(3));
    let out = jobscope(&["scope", "show", "acme/deployer"], &[], home.path());
    assert_eq!(out.status.code(), Some(2), "no host configured");
}
