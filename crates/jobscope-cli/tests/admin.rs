//! The administration commands end to end against a live jobscope: users, tokens, groups,
//! projects, members and settings; what they print (tables and JSON, as snapshots) and how
//! they exit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

/// `redactions()`, and personal access tokens (random) hidden too, and the expiry a rotation
/// gives by default (a week from today).
fn redacted() -> insta::Settings {
    let mut s = redactions();
    s.add_filter(r"glpat-[A-Za-z0-9_.-]+", "[token]");
    let week = (chrono::Utc::now().date_naive() + chrono::Days::new(7)).to_string();
    // Digits and dashes: the date is its own regular expression.
    s.add_filter(&week, "[in a week]");
    s
}

/// The token a `tokens create` or `tokens rotate` printed (table form: `token: …`).
fn secret(o: &Outcome) -> String {
    let lines: Vec<&str> = o
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("token: "))
        .collect();
    assert_eq!(lines.len(), 1, "the token is printed once: {}", o.stdout);
    lines[0].to_owned()
}

/// Runs as the holder of `token`.
async fn run_as(l: &Live, token: &str, args: &[&str]) -> Outcome {
    l.run_env(args, &[("JOBSCOPE_TOKEN", token)]).await
}

/// Makes alice (a plain user) with an api token, through the CLI; returns the token.
async fn alice(l: &Live) -> String {
    l.run(&[
        "users",
        "create",
        "alice",
        "--name",
        "Alice Liddell",
        "--email",
        "alice@example.com",
    ])
    .await
    .ok();
    let created = l
        .run(&[
            "tokens",
            "create",
            "alice",
            "--name",
            "laptop",
            "--scope",
            "api",
            "--expires-at",
            "2099-12-31",
        ])
        .await
        .ok();
    secret(&created)
}

#[tokio::test]
async fn users() {
    let l = spawn().await;
    let create = l
        .run(&[
            "users",
            "create",
            "alice",
            "--name",
            "Alice Liddell",
            "--email",
            "alice@example.com",
        ])
        .await
        .ok();
    assert_eq!(create.stdout, "created user alice (2)\n");
    let create_json = l
        .run(&[
            "users",
            "create",
            "bob",
            "--name",
            "Bob",
            "--email",
            "bob@example.com",
            "--external",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert_eq!(create_json.json()["username"], "bob");
    assert_eq!(create_json.json()["id"], 3);
    // The same username again: rejected.
    let again = l
        .run(&[
            "users",
            "create",
            "alice",
            "--name",
            "A",
            "--email",
            "a2@example.com",
        ])
        .await;
    assert_eq!(again.code, 6, "{again:?}");

    let list = l.run(&["users", "list"]).await.ok();
    let list_json = l.run(&["users", "ls", "-o", "json"]).await.ok();
    let names: Vec<String> = list_json
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["bob", "alice", "root"], "newest first");
    let search = l
        .run(&["users", "list", "--search", "ali", "-o", "json"])
        .await
        .ok();
    assert_eq!(search.json().as_array().unwrap().len(), 1);
    let admins = l
        .run(&["users", "list", "--admins", "-o", "json"])
        .await
        .ok();
    assert_eq!(admins.json()[0]["username"], "root");
    assert_eq!(admins.json().as_array().unwrap().len(), 1);

    let show = l.run(&["users", "show", "alice"]).await.ok();
    let show_json = l.run(&["users", "show", "2", "-o", "json"]).await.ok();
    assert_eq!(show_json.json()["username"], "alice");
    assert_eq!(show_json.json()["state"], "active");

    // Block: alice's token is refused; blocking twice says so.
    let token = {
        let t = l
            .run(&["tokens", "create", "alice", "--name", "t", "--scope", "api"])
            .await
            .ok();
        secret(&t)
    };
    run_as(&l, &token, &["tokens", "show"]).await.ok();
    let block = l.run(&["users", "block", "alice"]).await.ok();
    assert_eq!(block.stdout, "blocked alice (2)\n");
    let refused = run_as(&l, &token, &["tokens", "show"]).await;
    assert_eq!(refused.code, 4, "{refused:?}");
    let twice = l.run(&["users", "block", "alice"]).await.ok();
    assert_eq!(twice.stdout, "alice (2) was already blocked\n");
    let blocked = l
        .run(&["users", "list", "--blocked", "-o", "json"])
        .await
        .ok();
    assert_eq!(blocked.json()[0]["username"], "alice");
    assert_eq!(blocked.json().as_array().unwrap().len(), 1);
    let unblock = l.run(&["users", "unblock", "2", "-o", "json"]).await.ok();
    assert_eq!(unblock.json()["state"], "active");
    run_as(&l, &token, &["tokens", "show"]).await.ok();

    // Deactivate and activate.
    let deactivate = l.run(&["users", "deactivate", "bob"]).await.ok();
    assert_eq!(deactivate.stdout, "deactivated bob (3)\n");
    let state = l.run(&["users", "show", "bob", "-o", "json"]).await.ok();
    assert_eq!(state.json()["state"], "deactivated");
    let activate = l.run(&["users", "activate", "bob"]).await.ok();
    assert_eq!(activate.stdout, "activated bob (3)\n");
    let again = l.run(&["users", "activate", "bob"]).await.ok();
    assert_eq!(again.stdout, "bob (3) was already active\n");

    // A plain user may not manage users.
    let forbidden = run_as(&l, &token, &["users", "block", "bob"]).await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");
    assert!(
        forbidden.stderr.contains("administrator"),
        "{}",
        forbidden.stderr
    );
    let forbidden = run_as(
        &l,
        &token,
        &[
            "users",
            "create",
            "carol",
            "--name",
            "Carol",
            "--email",
            "carol@example.com",
        ],
    )
    .await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");

    // The server ignores --admins for other callers: the command says so.
    let everyone = run_as(&l, &token, &["users", "list", "--admins"])
        .await
        .ok();
    assert_eq!(everyone.stdout.lines().count(), 4, "{}", everyone.stdout);
    assert!(
        everyone
            .stderr
            .contains("warning: only administrators may filter"),
        "{}",
        everyone.stderr
    );
    // A refusal with a reason keeps it, without a hint that would contradict it.
    let root = l.run(&["users", "block", "root"]).await;
    assert_eq!(root.code, 4, "{root:?}");
    assert_eq!(
        root.stderr,
        "error: 403 Forbidden - The API initiating user cannot be blocked by the API\n"
    );

    // Delete; then the user is not found.
    let delete = l.run(&["users", "rm", "bob"]).await.ok();
    assert_eq!(delete.stdout, "deleted user bob (3)\n");
    let gone = l.run(&["users", "show", "bob"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");
    let gone = l.run(&["users", "show", "3"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");
    let gone = l.run(&["users", "block", "nobody"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");

    redacted().bind(|| {
        insta::assert_snapshot!("admin_users_create_json", create_json.stdout);
        insta::assert_snapshot!("admin_users_list", list.stdout);
        insta::assert_snapshot!("admin_users_list_json", list_json.stdout);
        insta::assert_snapshot!("admin_users_show", show.stdout);
        insta::assert_snapshot!("admin_users_show_json", show_json.stdout);
    });
}

#[tokio::test]
async fn tokens() {
    let l = spawn().await;
    l.run(&[
        "users",
        "create",
        "alice",
        "--name",
        "Alice Liddell",
        "--email",
        "alice@example.com",
    ])
    .await
    .ok();
    let create = l
        .run(&[
            "tokens",
            "create",
            "alice",
            "--name",
            "laptop",
            "--scope",
            "api,read_user",
            "--scope",
            "api",
            "--expires-at",
            "2099-12-31",
            "--description",
            "for the laptop",
        ])
        .await
        .ok();
    let token = secret(&create);
    assert!(token.starts_with("glpat-"), "{token}");
    assert!(
        create.stderr.contains("it will not be shown again"),
        "{}",
        create.stderr
    );
    // The token works, and `tokens show` (self by default) names it.
    let me = run_as(&l, &token, &["tokens", "show", "-o", "json"])
        .await
        .ok();
    assert_eq!(me.json()["name"], "laptop");
    assert_eq!(me.json()["user_id"], 2);
    assert!(me.json()["token"].is_null(), "{}", me.stdout);
    // The token argument and the global --token are different options.
    let flag = run_with_env(&["tokens", "show", "self", "--token", &token], l.env())
        .await
        .ok();
    assert!(flag.stdout.contains("laptop"), "{}", flag.stdout);
    let flag = run_with_env(&["tokens", "revoke", "--token", ROOT_TOKEN, "99"], l.env()).await;
    assert_eq!(flag.code, 5, "{flag:?}");
    let create_json = l
        .run(&[
            "tokens",
            "create",
            "2",
            "--name",
            "ci",
            "--scope",
            "read_api",
            "--expires-at",
            "2099-06-30",
            "-o",
            "json",
        ])
        .await
        .ok();
    let ci_token = create_json.json()["token"].as_str().unwrap().to_owned();
    assert!(ci_token.starts_with("glpat-"));
    assert_eq!(create_json.json()["scopes"][0], "read_api");

    let list = l.run(&["tokens", "list", "--user", "alice"]).await.ok();
    let list_json = l
        .run(&["tokens", "ls", "--user", "alice", "-o", "json"])
        .await
        .ok();
    assert_eq!(list_json.json().as_array().unwrap().len(), 2);
    assert!(
        !list_json.stdout.contains("glpat-"),
        "lists never carry secrets: {}",
        list_json.stdout
    );
    let show = l.run(&["tokens", "show", "2"]).await.ok();
    let show_json = l.run(&["tokens", "show", "2", "-o", "json"]).await.ok();
    assert_eq!(show_json.json()["description"], "for the laptop");

    // A token without a scope never reaches the server.
    let no_scope = l
        .run(&["tokens", "create", "alice", "--name", "x", "--scope", ","])
        .await;
    assert_eq!(no_scope.code, 2, "{no_scope:?}");
    let bad_date = l
        .run(&[
            "tokens",
            "create",
            "alice",
            "--name",
            "x",
            "--scope",
            "api",
            "--expires-at",
            "31/12/2099",
        ])
        .await;
    assert_eq!(bad_date.code, 2, "{bad_date:?}");
    let nobody = l
        .run(&[
            "tokens", "create", "nobody", "--name", "x", "--scope", "api",
        ])
        .await;
    assert_eq!(nobody.code, 5, "{nobody:?}");
    // Only administrators create tokens for users.
    let forbidden = run_as(
        &l,
        &token,
        &["tokens", "create", "alice", "--name", "x", "--scope", "api"],
    )
    .await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");
    assert!(
        forbidden
            .stderr
            .contains("hint: this needs an administrator"),
        "{}",
        forbidden.stderr
    );

    // Rotate: the old token stops working, the new one works.
    let rotate = l
        .run(&["tokens", "rotate", "3", "--expires-at", "2099-07-31"])
        .await
        .ok();
    let rotated = secret(&rotate);
    assert_ne!(rotated, ci_token);
    let old = run_as(&l, &ci_token, &["tokens", "show"]).await;
    assert_eq!(old.code, 3, "{old:?}");
    let new = run_as(&l, &rotated, &["tokens", "show", "-o", "json"])
        .await
        .ok();
    assert_eq!(new.json()["name"], "ci");
    assert_eq!(new.json()["id"], 4);
    let inactive = l
        .run(&[
            "tokens", "list", "--user", "2", "--state", "inactive", "-o", "json",
        ])
        .await
        .ok();
    assert_eq!(inactive.json()[0]["id"], 3);
    assert_eq!(inactive.json().as_array().unwrap().len(), 1);

    // Other users' tokens: GitLab answers 401, the command says what that means.
    let others = run_as(&l, &token, &["tokens", "show", "1"]).await;
    assert_eq!(others.code, 5, "{others:?}");
    assert_eq!(
        others.stderr,
        "error: no token 1 among the tokens you may see\n\
         hint: only administrators may see, revoke or rotate other users' tokens\n"
    );
    let others = run_as(&l, &token, &["tokens", "revoke", "1"]).await;
    assert_eq!(others.code, 5, "{others:?}");
    let others = run_as(&l, &token, &["tokens", "list", "--user", "root"]).await;
    assert_eq!(others.code, 4, "{others:?}");
    assert!(
        others.stderr.contains("cannot list the tokens of root (1)"),
        "{}",
        others.stderr
    );
    let mine = run_as(&l, &token, &["tokens", "list", "-o", "json"])
        .await
        .ok();
    assert_eq!(mine.json().as_array().unwrap().len(), 3);

    // A user rotates their own token; read_api may not.
    let own = run_as(&l, &rotated, &["tokens", "rotate", "self", "-o", "json"]).await;
    assert_eq!(own.code, 4, "{own:?}");
    assert!(
        own.stderr
            .contains("hint: the token's scopes do not allow this"),
        "{}",
        own.stderr
    );
    let own = run_as(&l, &token, &["tokens", "rotate", "self", "-o", "json"])
        .await
        .ok();
    let token = own.json()["token"].as_str().unwrap().to_owned();
    assert!(
        own.stderr.contains("is revoked: use the new one"),
        "{}",
        own.stderr
    );

    // Revoke: the token stops working at once.
    let revoke = run_as(&l, &token, &["tokens", "revoke", "self"]).await.ok();
    assert!(
        revoke.stderr.contains("no longer works"),
        "{}",
        revoke.stderr
    );
    let refused = run_as(&l, &token, &["tokens", "show"]).await;
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(refused.stderr.contains("hint: check the token"));
    let revoke = l.run(&["tokens", "revoke", "4", "-o", "json"]).await.ok();
    assert_eq!(revoke.json()["revoked"], true);
    assert_eq!(revoke.json()["active"], false);
    let refused = run_as(&l, &rotated, &["users", "list"]).await;
    assert_eq!(refused.code, 3, "{refused:?}");
    let missing = l.run(&["tokens", "revoke", "99"]).await;
    assert_eq!(missing.code, 5, "{missing:?}");
    let after = l.run(&["tokens", "list", "--user", "alice"]).await.ok();

    redacted().bind(|| {
        insta::assert_snapshot!("admin_tokens_create", create.stdout);
        insta::assert_snapshot!("admin_tokens_create_json", create_json.stdout);
        insta::assert_snapshot!("admin_tokens_list", list.stdout);
        insta::assert_snapshot!("admin_tokens_list_json", list_json.stdout);
        insta::assert_snapshot!("admin_tokens_show", show.stdout);
        insta::assert_snapshot!("admin_tokens_show_json", show_json.stdout);
        insta::assert_snapshot!("admin_tokens_rotate", rotate.stdout);
        insta::assert_snapshot!("admin_tokens_list_after_revoke", after.stdout);
    });
}

#[tokio::test]
async fn groups_and_projects() {
    let l = spawn().await;
    let acme = l
        .run(&[
            "groups",
            "create",
            "acme",
            "--description",
            "Acme Corp",
            "--visibility",
            "public",
        ])
        .await
        .ok();
    assert_eq!(acme.stdout, "created group acme (2)\n");
    let tools = l
        .run(&[
            "groups",
            "create",
            "acme/tools",
            "--name",
            "Tools",
            "--visibility",
            "internal",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert_eq!(tools.json()["full_path"], "acme/tools");
    assert_eq!(
        tools.json()["parent_id"],
        2,
        "group ids are namespace ids: root's is 1"
    );
    assert_eq!(tools.json()["visibility"], "internal");
    let with_parent = l
        .run(&["groups", "create", "docs", "--parent", "acme"])
        .await
        .ok();
    assert_eq!(with_parent.stdout, "created group acme/docs (4)\n");
    let no_parent = l.run(&["groups", "create", "nope/x"]).await;
    assert_eq!(no_parent.code, 5, "{no_parent:?}");
    assert!(
        no_parent.stderr.contains("finding the parent group nope"),
        "{}",
        no_parent.stderr
    );
    let taken = l.run(&["groups", "create", "acme"]).await;
    assert_eq!(taken.code, 6, "{taken:?}");

    // Projects in groups, and in root's own namespace.
    let app = l
        .run(&["projects", "create", "acme/app", "--description", "The app"])
        .await
        .ok();
    assert_eq!(app.stdout, "created project acme/app (1)\n");
    let lint = l
        .run(&[
            "projects",
            "create",
            "acme/tools/lint",
            "--name",
            "Lint",
            "--visibility",
            "private",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert_eq!(lint.json()["path_with_namespace"], "acme/tools/lint");
    assert_eq!(lint.json()["visibility"], "private");
    let own = l.run(&["projects", "create", "scratch"]).await.ok();
    assert_eq!(own.stdout, "created project root/scratch (3)\n");
    let in_user = l.run(&["projects", "create", "root/notes"]).await.ok();
    assert_eq!(in_user.stdout, "created project root/notes (4)\n");
    let bad = l.run(&["projects", "create", "/"]).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    let nowhere = l.run(&["projects", "create", "nope/app"]).await;
    assert_eq!(nowhere.code, 5, "{nowhere:?}");

    let glist = l.run(&["groups", "list"]).await.ok();
    let glist_json = l.run(&["groups", "ls", "-o", "json"]).await.ok();
    assert_eq!(glist_json.json().as_array().unwrap().len(), 3);
    let gsearch = l
        .run(&["groups", "list", "--search", "tool", "-o", "json"])
        .await
        .ok();
    assert_eq!(gsearch.json()[0]["full_path"], "acme/tools");
    let gshow = l.run(&["groups", "show", "acme/tools"]).await.ok();
    let gshow_json = l.run(&["groups", "show", "2", "-o", "json"]).await.ok();
    assert_eq!(gshow_json.json()["description"], "Acme Corp");

    let plist = l.run(&["projects", "list"]).await.ok();
    let plist_json = l.run(&["projects", "ls", "-o", "json"]).await.ok();
    assert_eq!(plist_json.json().as_array().unwrap().len(), 4);
    let psearch = l
        .run(&["projects", "list", "--search", "lint", "-o", "json"])
        .await
        .ok();
    assert_eq!(psearch.json().as_array().unwrap().len(), 1);
    let pshow = l.run(&["projects", "show", "acme/app"]).await.ok();
    let pshow_json = l
        .run(&["projects", "show", "acme/tools/lint", "-o", "json"])
        .await
        .ok();
    assert_eq!(pshow_json.json()["id"], 2);

    // Deleting.
    let pdelete = l.run(&["projects", "delete", "root/notes"]).await.ok();
    assert_eq!(pdelete.stdout, "deleted project root/notes (4)\n");
    let gone = l.run(&["projects", "show", "root/notes"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");
    assert!(gone.stderr.contains("404"), "{}", gone.stderr);
    let gdelete = l
        .run(&["groups", "rm", "acme/tools", "-o", "json"])
        .await
        .ok();
    assert_eq!(gdelete.json()["full_path"], "acme/tools");
    let gone = l.run(&["projects", "show", "acme/tools/lint"]).await;
    assert_eq!(gone.code, 5, "the group's projects go with it: {gone:?}");
    let gone = l.run(&["groups", "show", "acme/tools"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");
    let gone = l.run(&["groups", "delete", "acme/tools"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");

    redacted().bind(|| {
        insta::assert_snapshot!("admin_groups_create_json", tools.stdout);
        insta::assert_snapshot!("admin_groups_list", glist.stdout);
        insta::assert_snapshot!("admin_groups_list_json", glist_json.stdout);
        insta::assert_snapshot!("admin_groups_show", gshow.stdout);
        insta::assert_snapshot!("admin_groups_show_json", gshow_json.stdout);
        insta::assert_snapshot!("admin_projects_create_json", lint.stdout);
        insta::assert_snapshot!("admin_projects_list", plist.stdout);
        insta::assert_snapshot!("admin_projects_list_json", plist_json.stdout);
        insta::assert_snapshot!("admin_projects_show", pshow.stdout);
        insta::assert_snapshot!("admin_projects_show_json", pshow_json.stdout);
    });
}

#[tokio::test]
async fn groups_projects() {
    let l = spawn().await;
    let acme = l.group("acme", None).await;
    let tools = l.group("tools", Some(acme)).await;
    l.project(acme, "app").await;
    l.project(tools, "lint").await;
    let all = l
        .run(&["groups", "projects", "acme", "--include-subgroups"])
        .await
        .ok();
    let paths: Vec<&str> = all
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(paths.len(), 2, "{}", all.stdout);
    assert!(paths.contains(&"acme/tools/lint"), "{}", all.stdout);
    let direct = l
        .run(&["groups", "projects", "acme", "-o", "json"])
        .await
        .ok();
    assert_eq!(direct.json().as_array().unwrap().len(), 1);
    assert_eq!(direct.json()[0]["path_with_namespace"], "acme/app");
    assert_eq!(direct.json()[0]["visibility"], "private");
    let empty = l.run(&["groups", "projects", "acme/tools/lint"]).await;
    assert_eq!(empty.code, 5, "{empty:?}");
    let gone = l.run(&["groups", "projects", "nope"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");
}

#[tokio::test]
async fn groups_and_projects_as_a_user() {
    let l = spawn().await;
    let acme = l.group("acme", None).await;
    l.project(acme, "app").await;
    let token = alice(&l).await;
    // alice is in no group: she sees none of the private ones.
    let none = run_as(&l, &token, &["groups", "list"]).await.ok();
    assert_eq!(none.stdout, "");
    assert_eq!(none.stderr, "No groups.\n");
    let hidden = run_as(&l, &token, &["projects", "show", "acme/app"]).await;
    assert_eq!(hidden.code, 5, "{hidden:?}");
    l.run(&[
        "members",
        "add",
        "--group",
        "acme",
        "alice",
        "--role",
        "developer",
    ])
    .await
    .ok();
    let mine = run_as(&l, &token, &["groups", "list", "-o", "json"])
        .await
        .ok();
    assert_eq!(mine.json()[0]["full_path"], "acme");
    // A Developer may create projects in the group, not delete them.
    let created = run_as(&l, &token, &["projects", "create", "acme/web"])
        .await
        .ok();
    assert_eq!(created.stdout, "created project acme/web (2)\n");
    let forbidden = run_as(&l, &token, &["projects", "delete", "acme/app"]).await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");
    assert!(
        forbidden
            .stderr
            .contains("hint: deleting a project needs the Owner role"),
        "{}",
        forbidden.stderr
    );
    let forbidden = run_as(&l, &token, &["groups", "delete", "acme"]).await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");
    assert!(
        forbidden
            .stderr
            .contains("hint: deleting a group needs the Owner role"),
        "{}",
        forbidden.stderr
    );
    // Her own namespace.
    let own = run_as(&l, &token, &["projects", "create", "alice/notes"])
        .await
        .ok();
    assert_eq!(own.stdout, "created project alice/notes (3)\n");
    let bare = run_as(&l, &token, &["projects", "create", "todo"])
        .await
        .ok();
    assert_eq!(bare.stdout, "created project alice/todo (4)\n");
    let mine = run_as(
        &l,
        &token,
        &["projects", "list", "--membership", "-o", "json"],
    )
    .await
    .ok();
    let paths: Vec<String> = mine
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path_with_namespace"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
}

#[tokio::test]
async fn members() {
    let l = spawn().await;
    let acme = l.group("acme", None).await;
    l.project(acme, "app").await;
    let token = alice(&l).await;
    l.run(&[
        "users",
        "create",
        "bob",
        "--name",
        "Bob",
        "--email",
        "bob@example.com",
    ])
    .await
    .ok();

    let add = l
        .run(&[
            "members",
            "add",
            "--project",
            "acme/app",
            "alice",
            "--role",
            "Developer",
        ])
        .await
        .ok();
    assert_eq!(
        add.stdout,
        "added alice (2) to project acme/app as Developer (30)\n"
    );
    let add_json = l
        .run(&[
            "members",
            "add",
            "--group",
            "acme",
            "bob",
            "--role",
            "40",
            "--expires-at",
            "2099-12-31",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert_eq!(add_json.json()["access_level"], 40);
    assert_eq!(add_json.json()["expires_at"], "2099-12-31");
    let list = l
        .run(&["members", "list", "--project", "acme/app"])
        .await
        .ok();
    assert!(list.stdout.contains("Developer (30)"), "{}", list.stdout);
    let all = l
        .run(&["members", "ls", "--project", "acme/app", "--all"])
        .await
        .ok();
    assert!(all.stdout.contains("Maintainer (40)"), "{}", all.stdout);
    let list_json = l
        .run(&[
            "members",
            "list",
            "--group",
            &acme.to_string(),
            "-o",
            "json",
        ])
        .await
        .ok();
    let bob = list_json
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "bob")
        .cloned()
        .unwrap();
    assert_eq!(bob["access_level"], 40);

    // The role takes effect: alice (Developer) may not manage members, then (Maintainer) may.
    let forbidden = run_as(
        &l,
        &token,
        &[
            "members",
            "add",
            "--project",
            "acme/app",
            "bob",
            "--role",
            "guest",
        ],
    )
    .await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");
    assert!(
        forbidden.stderr.contains("hint: managing members needs"),
        "{}",
        forbidden.stderr
    );
    let update = l
        .run(&[
            "members",
            "update",
            "--project",
            "acme/app",
            "alice",
            "--role",
            "maintainer",
        ])
        .await
        .ok();
    assert_eq!(
        update.stdout,
        "alice (2) is now Maintainer (40) in project acme/app\n"
    );
    let update_json = l
        .run(&[
            "members", "update", "--group", "acme", "bob", "--role", "reporter", "-o", "json",
        ])
        .await
        .ok();
    assert_eq!(update_json.json()["access_level"], 20);
    // Below the role inherited from the group: rejected.
    let below = run_as(
        &l,
        &token,
        &[
            "members",
            "add",
            "--project",
            "acme/app",
            "bob",
            "--role",
            "guest",
        ],
    )
    .await;
    assert_eq!(below.code, 6, "{below:?}");
    let by_alice = run_as(
        &l,
        &token,
        &[
            "members",
            "add",
            "--project",
            "acme/app",
            "bob",
            "--role",
            "developer",
        ],
    )
    .await
    .ok();
    assert_eq!(
        by_alice.stdout,
        "added bob (3) to project acme/app as Developer (30)\n"
    );
    let after = l
        .run(&["members", "list", "--project", "acme/app"])
        .await
        .ok();

    let remove = l
        .run(&["members", "remove", "--project", "acme/app", "bob"])
        .await
        .ok();
    assert_eq!(remove.stdout, "removed bob (3) from project acme/app\n");
    let remove_json = l
        .run(&["members", "rm", "--group", "acme", "bob", "-o", "json"])
        .await
        .ok();
    assert_eq!(remove_json.json()["username"], "bob");
    let not_member = l
        .run(&["members", "remove", "--project", "acme/app", "bob"])
        .await;
    assert_eq!(not_member.code, 5, "{not_member:?}");
    let twice = l
        .run(&[
            "members",
            "add",
            "--project",
            "acme/app",
            "alice",
            "--role",
            "guest",
        ])
        .await;
    assert_eq!(twice.code, 6, "{twice:?}");

    // Usage errors never reach the server.
    let neither = l.run(&["members", "list"]).await;
    assert_eq!(neither.code, 2, "{neither:?}");
    let both = l
        .run(&[
            "members",
            "list",
            "--project",
            "acme/app",
            "--group",
            "acme",
        ])
        .await;
    assert_eq!(both.code, 2, "{both:?}");
    let role = l
        .run(&[
            "members",
            "add",
            "--project",
            "acme/app",
            "bob",
            "--role",
            "boss",
        ])
        .await;
    assert_eq!(role.code, 2, "{role:?}");
    assert!(role.stderr.contains("unknown role"), "{}", role.stderr);
    let nobody = l
        .run(&[
            "members",
            "add",
            "--project",
            "acme/app",
            "nobody",
            "--role",
            "guest",
        ])
        .await;
    assert_eq!(nobody.code, 5, "{nobody:?}");
    let nowhere = l.run(&["members", "list", "--project", "acme/nope"]).await;
    assert_eq!(nowhere.code, 5, "{nowhere:?}");

    redacted().bind(|| {
        insta::assert_snapshot!("admin_members_add_json", add_json.stdout);
        insta::assert_snapshot!("admin_members_list", list.stdout);
        insta::assert_snapshot!("admin_members_list_all", all.stdout);
        insta::assert_snapshot!("admin_members_list_json", list_json.stdout);
        insta::assert_snapshot!("admin_members_list_after", after.stdout);
    });
}

#[tokio::test]
async fn settings_show_and_set() {
    let l = spawn().await;
    let show = l.run(&["settings", "show"]).await.ok();
    assert!(
        show.stdout.contains("no (each project decides)"),
        "{}",
        show.stdout
    );
    let set = l
        .run(&[
            "settings",
            "set",
            "--enforce-job-token-scope",
            "true",
            "--max-token-lifetime",
            "30",
            "--default-projects-limit",
            "5",
        ])
        .await
        .ok();
    let after = l.run(&["settings", "show"]).await.ok();
    assert_eq!(set.stdout, after.stdout);
    assert!(
        after.stdout.contains("yes (every project"),
        "{}",
        after.stdout
    );
    assert!(after.stdout.contains("30 days"), "{}", after.stdout);
    let json = l.run(&["settings", "show", "-o", "json"]).await.ok();
    assert_eq!(
        json.json()["enforce_ci_inbound_job_token_scope_enabled"],
        true
    );
    assert_eq!(json.json()["max_personal_access_token_lifetime"], 30);
    assert_eq!(json.json()["default_projects_limit"], 5);
    let back = l
        .run(&[
            "settings",
            "set",
            "--enforce-job-token-scope",
            "false",
            "--max-token-lifetime",
            "none",
            "-o",
            "json",
        ])
        .await
        .ok();
    assert_eq!(
        back.json()["enforce_ci_inbound_job_token_scope_enabled"],
        false
    );
    assert!(back.json()["max_personal_access_token_lifetime"].is_null());
    assert_eq!(back.json()["default_projects_limit"], 5);

    // The maximum lifetime applies to new tokens.
    l.run(&["settings", "set", "--max-token-lifetime", "30"])
        .await
        .ok();
    l.run(&[
        "users",
        "create",
        "bob",
        "--name",
        "Bob",
        "--email",
        "bob@example.com",
    ])
    .await
    .ok();
    let too_long = l
        .run(&[
            "tokens",
            "create",
            "bob",
            "--name",
            "x",
            "--scope",
            "api",
            "--expires-at",
            "2099-12-31",
        ])
        .await;
    assert_eq!(too_long.code, 6, "{too_long:?}");
    assert!(
        too_long.stderr.contains("Expires at must be before"),
        "{}",
        too_long.stderr
    );
    let capped = l
        .run(&[
            "tokens", "create", "bob", "--name", "x", "--scope", "api", "-o", "json",
        ])
        .await
        .ok();
    assert!(capped.json()["expires_at"].is_string(), "{}", capped.stdout);
    l.run(&["settings", "set", "--max-token-lifetime", "none"])
        .await
        .ok();

    // Usage errors.
    let nothing = l.run(&["settings", "set"]).await;
    assert_eq!(nothing.code, 2, "{nothing:?}");
    let bare = l
        .run(&["settings", "set", "--enforce-job-token-scope"])
        .await;
    assert_eq!(bare.code, 2, "{bare:?}");
    let zero = l
        .run(&["settings", "set", "--max-token-lifetime", "0"])
        .await;
    assert_eq!(zero.code, 2, "{zero:?}");
    let negative = l
        .run(&["settings", "set", "--default-projects-limit=-1"])
        .await;
    assert_eq!(negative.code, 2, "{negative:?}");

    // Administrators only.
    let token = alice(&l).await;
    let forbidden = run_as(&l, &token, &["settings", "show"]).await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");
    assert!(
        forbidden
            .stderr
            .contains("hint: this needs an administrator"),
        "{}",
        forbidden.stderr
    );
    let forbidden = run_as(
        &l,
        &token,
        &["settings", "set", "--enforce-job-token-scope", "true"],
    )
    .await;
    assert_eq!(forbidden.code, 4, "{forbidden:?}");

    redacted().bind(|| {
        insta::assert_snapshot!("admin_settings_show", show.stdout);
        insta::assert_snapshot!("admin_settings_set", set.stdout);
        insta::assert_snapshot!("admin_settings_show_json", json.stdout);
    });
}
