//! Enforcement: CI jobs and job tokens, the decision endpoint over a matrix of situations,
//! revocation on the very next request, policies over REST, the authentication log,
//! autopopulation, audit events and the reverse lookup.

use jobscope_store::{JobStatus, MemberSource, Namespace, Project, User};
use jobscope_types::{AccessLevel, Visibility};
use serde_json::{Value, json};

use crate::helpers::*;

fn msg(s: &str) -> Value {
    json!({ "message": s })
}

fn job_auth(token: &str) -> Auth {
    Auth::Header("job-token", token.to_owned())
}

async fn allowed(app: &TestApp, token: &str, project: &str, policy: Option<&str>) -> TestResponse {
    let mut path = format!("/api/v4/job_token/allowed?project={project}");
    if let Some(p) = policy {
        path.push_str(&format!("&policy={p}"));
    }
    app.send(get(path).auth(job_auth(token))).await
}

fn not_allowed(from: &str, to: &str) -> Value {
    msg(&format!(
        "403 Forbidden - Authentication by CI/CD job token not allowed from {from} to {to}."
    ))
}

/// Origin A in acme/platform/ci (a group three deep), target B in its own group.
struct World {
    app: TestApp,
    root: Namespace,
    mid: Namespace,
    leaf: Namespace,
    origin: Project,
    target: Project,
    sibling: Project,
    user: User,
    token: String,
}

async fn world(target_vis: Visibility, role: Option<AccessLevel>) -> World {
    let app = TestApp::new().await;
    let root = app.group("acme", None, Visibility::Private).await;
    let mid = app
        .group("platform", Some(root.id), Visibility::Private)
        .await;
    let leaf = app.group("ci", Some(mid.id), Visibility::Private).await;
    let origin = app.project(leaf.id, "builder", Visibility::Private).await;
    let sibling_group = app.group("other", Some(root.id), Visibility::Private).await;
    let sibling = app
        .project(sibling_group.id, "sibling", Visibility::Private)
        .await;
    let tg = app.group("targets", None, target_vis).await;
    let target = app.project(tg.id, "deployer", target_vis).await;
    let user = app.user("runner").await;
    app.member(
        MemberSource::Project(origin.id),
        user.id,
        AccessLevel::Developer,
    )
    .await;
    app.member(
        MemberSource::Project(sibling.id),
        user.id,
        AccessLevel::Developer,
    )
    .await;
    if let Some(level) = role {
        app.member(MemberSource::Project(target.id), user.id, level)
            .await;
    }
    let (_, token) = app.job(origin.id, user.id).await;
    World {
        app,
        root,
        mid,
        leaf,
        origin,
        target,
        sibling,
        user,
        token,
    }
}

#[tokio::test]
async fn the_decision_endpoint_answers_with_the_matching_entry() {
    let w = world(Visibility::Private, Some(AccessLevel::Developer)).await;
    let t = w.target.id.to_string();
    // Not on the allowlist.
    let res = allowed(&w.app, &w.token, &t, None).await;
    assert_eq!(res.status.as_u16(), 403);
    assert_eq!(res.json(), not_allowed("builder", "deployer"));
    // A project entry.
    w.app.link_project(w.target.id, w.origin.id).await;
    let res = allowed(&w.app, &w.token, &t, None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    let body = res.json();
    assert_eq!(body["allowed"], true);
    assert_eq!(
        body["source_project"]["path_with_namespace"],
        "acme/platform/ci/builder"
    );
    assert_eq!(body["target_project"]["id"], json!(w.target.id));
    assert_eq!(body["user"]["username"], "runner");
    assert_eq!(body["access_level"], 30);
    assert_eq!(body["matched"]["type"], "project");
    assert_eq!(body["matched"]["id"], json!(w.origin.id));
    assert_eq!(res.header("x-jobscope-user"), Some("runner"));
    // By path too.
    let res = allowed(&w.app, &w.token, "targets%2Fdeployer", None).await;
    assert_eq!(res.status.as_u16(), 200);
    // The job's own project is always allowed.
    let res = allowed(&w.app, &w.token, &w.origin.id.to_string(), None).await;
    assert_eq!(res.json()["matched"]["type"], "same_project");
    // Unknown projects: GitLab's 404, or 403 for nginx's auth_request.
    let res = allowed(&w.app, &w.token, "424242", None).await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (404, msg("404 Project Not Found"))
    );
    let res = w
        .app
        .send(
            get("/api/v4/job_token/allowed?project=424242&auth_request=true")
                .auth(job_auth(&w.token)),
        )
        .await;
    assert_eq!(res.status.as_u16(), 403);
    // Parameters.
    let res = w
        .app
        .send(get("/api/v4/job_token/allowed").auth(job_auth(&w.token)))
        .await;
    assert_eq!(res.json(), json!({"error": "project is missing"}));
    let res = allowed(&w.app, &w.token, &t, Some("read_issue")).await;
    assert_eq!(
        res.json(),
        json!({"error": "policy has an unknown policy: read_issue"})
    );
}

#[tokio::test]
async fn group_entries_admit_every_depth_below_them_and_nothing_beside() {
    for depth in 0..3 {
        let w = world(Visibility::Private, Some(AccessLevel::Reporter)).await;
        let group = [&w.leaf, &w.mid, &w.root][depth];
        w.app.link_group(w.target.id, group.id).await;
        let res = allowed(&w.app, &w.token, &w.target.id.to_string(), None).await;
        assert_eq!(
            res.status.as_u16(),
            200,
            "group at depth {depth}: {}",
            res.text
        );
        assert_eq!(res.json()["matched"]["type"], "group");
        assert_eq!(res.json()["matched"]["full_path"], json!(group.full_path));
        // A job in a sibling group is admitted only by the root entry.
        let (_, sibling_token) = w.app.job(w.sibling.id, w.user.id).await;
        let res = allowed(&w.app, &sibling_token, &w.target.id.to_string(), None).await;
        let want = if group.id == w.root.id { 200 } else { 403 };
        assert_eq!(
            res.status.as_u16(),
            want,
            "sibling with entry {}",
            group.full_path
        );
    }
}

#[tokio::test]
async fn decision_matrix_over_visibility_role_and_scope() {
    // (target visibility, user's role in the target, allowlisted?, expected status)
    let cases = [
        // The job's user cannot see the target: not found, whatever the allowlist says.
        (Visibility::Private, None, true, 404),
        (Visibility::Private, None, false, 404),
        (Visibility::Private, Some(AccessLevel::Guest), true, 200),
        (
            Visibility::Private,
            Some(AccessLevel::Maintainer),
            false,
            403,
        ),
        (Visibility::Internal, None, true, 200),
        (Visibility::Internal, None, false, 403),
        (Visibility::Public, None, true, 200),
        // Visibility never widens scope (C1.2).
        (Visibility::Public, Some(AccessLevel::Owner), false, 403),
    ];
    for (vis, role, listed, want) in cases {
        let w = world(vis, role).await;
        if listed {
            w.app.link_project(w.target.id, w.origin.id).await;
        }
        let res = allowed(&w.app, &w.token, &w.target.id.to_string(), None).await;
        assert_eq!(
            res.status.as_u16(),
            want,
            "{vis} target, role {role:?}, listed {listed}: {}",
            res.text
        );
        match want {
            403 => assert_eq!(res.json(), not_allowed("builder", "deployer")),
            404 => assert_eq!(res.json(), msg("404 Project Not Found")),
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_scope_setting_and_the_instance_setting() {
    let w = world(Visibility::Private, Some(AccessLevel::Developer)).await;
    let t = w.target.id.to_string();
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        403
    );
    // With the allowlist off, every project's jobs may come in (GitLab's legacy mode).
    w.app
        .store
        .set_inbound_scope_enabled(w.target.id, false, None)
        .await
        .unwrap();
    let res = allowed(&w.app, &w.token, &t, None).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json()["matched"]["type"], "scope_disabled");
    // The instance setting enforces it again.
    let res = w
        .app
        .send(
            put("/api/v4/application/settings")
                .token(ROOT_TOKEN)
                .json(json!({"enforce_ci_inbound_job_token_scope_enabled": true})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        403
    );
}

#[tokio::test]
async fn fine_grained_policies_nearest_entry_wins() {
    let w = world(Visibility::Private, Some(AccessLevel::Developer)).await;
    let app = &w.app;
    let t = w.target.id.to_string();
    let base = format!("/api/v4/projects/{}/job_token_scope", w.target.id);
    // A group entry with fine-grained permissions, through the REST API.
    let res = app.send(post(format!("{base}/groups_allowlist")).token(ROOT_TOKEN).json(json!({
        "target_group_id": w.root.id, "default_permissions": false, "job_token_policies": ["admin_packages"]
    }))).await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
    assert_eq!(
        allowed(app, &w.token, &t, Some("read_packages"))
            .await
            .status
            .as_u16(),
        200,
        "admin implies read"
    );
    assert_eq!(
        allowed(app, &w.token, &t, Some("admin_packages"))
            .await
            .status
            .as_u16(),
        200
    );
    let res = allowed(app, &w.token, &t, Some("read_jobs")).await;
    assert_eq!(
        res.json(),
        msg(
            "403 Forbidden - Insufficient permissions to access this resource in project deployer. The following token permission is required: read_jobs."
        )
    );
    let res = allowed(app, &w.token, &t, None).await;
    assert_eq!(
        res.json(),
        msg("403 Forbidden - This action is unauthorized for CI/CD job tokens.")
    );
    // A nearer group entry with default permissions takes over.
    app.link_group(w.target.id, w.leaf.id).await;
    assert_eq!(
        allowed(app, &w.token, &t, Some("read_jobs"))
            .await
            .status
            .as_u16(),
        200
    );
    // And a project entry beats both; policies are not merged across entries.
    let res = app.send(post(format!("{base}/allowlist")).token(ROOT_TOKEN).json(json!({
        "target_project_id": w.origin.id, "default_permissions": false, "job_token_policies": ["read_deployments"]
    }))).await;
    assert_eq!(res.status.as_u16(), 201);
    assert_eq!(
        allowed(app, &w.token, &t, Some("read_deployments"))
            .await
            .status
            .as_u16(),
        200
    );
    assert_eq!(
        allowed(app, &w.token, &t, Some("read_jobs"))
            .await
            .status
            .as_u16(),
        403
    );
    // PATCH changes an entry; the list shows it.
    let res = app
        .send(
            patch(format!("{base}/allowlist/{}", w.origin.id))
                .token(ROOT_TOKEN)
                .json(json!({"job_token_policies": ["read_jobs", "admin_deployments"]})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(
        res.json()["job_token_policies"],
        json!(["read_jobs", "admin_deployments"])
    );
    assert_eq!(res.json()["default_permissions"], false);
    assert_eq!(
        allowed(app, &w.token, &t, Some("read_jobs"))
            .await
            .status
            .as_u16(),
        200
    );
    let list = app
        .send(get(format!("{base}/allowlist")).token(ROOT_TOKEN))
        .await
        .json();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == json!(w.origin.id))
        .unwrap()
        .clone();
    assert_eq!(
        entry["job_token_policies"],
        json!(["read_jobs", "admin_deployments"])
    );
    assert_eq!(entry["added_by"]["username"], "root");
    let res = app
        .send(
            patch(format!("{base}/allowlist/{}", w.origin.id))
                .token(ROOT_TOKEN)
                .json(json!({"default_permissions": true})),
        )
        .await;
    assert_eq!(res.json()["default_permissions"], true);
    assert_eq!(
        res.json()["job_token_policies"],
        json!(["read_jobs", "admin_deployments"]),
        "kept"
    );
    // Role: a policy needs a role in the target (a Developer may not admin secure files).
    let res = allowed(app, &w.token, &t, Some("admin_secure_files")).await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (403, msg("403 Forbidden"))
    );
    // Validation.
    let res =
        app.send(post(format!("{base}/allowlist")).token(ROOT_TOKEN).json(
            json!({"target_project_id": w.sibling.id, "job_token_policies": ["read_issue"]}),
        ))
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (
            400,
            json!({"error": "job_token_policies has an unknown policy: read_issue"})
        )
    );
    let res = app
        .send(
            patch(format!("{base}/groups_allowlist/{}", w.root.id))
                .token(ROOT_TOKEN)
                .json(json!({})),
        )
        .await;
    assert_eq!(
        res.json(),
        json!({"error": "default_permissions, job_token_policies are missing, at least one parameter must be provided"})
    );
    let res = app
        .send(
            patch(format!("{base}/groups_allowlist/{}", w.mid.id))
                .token(ROOT_TOKEN)
                .json(json!({"default_permissions": true})),
        )
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (
            400,
            msg("400 Bad request - Target group is not in the job token scope")
        )
    );
}

#[tokio::test]
async fn revocation_takes_effect_on_the_very_next_request() {
    // Removing the entry.
    let w = world(Visibility::Private, Some(AccessLevel::Developer)).await;
    let t = w.target.id.to_string();
    w.app.link_project(w.target.id, w.origin.id).await;
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        200
    );
    let res = w
        .app
        .send(
            delete(format!(
                "/api/v4/projects/{t}/job_token_scope/allowlist/{}",
                w.origin.id
            ))
            .token(ROOT_TOKEN),
        )
        .await;
    assert_eq!(res.status.as_u16(), 204);
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        403
    );

    // Enabling the allowlist.
    w.app
        .store
        .set_inbound_scope_enabled(w.target.id, false, None)
        .await
        .unwrap();
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        200
    );
    let res = w
        .app
        .send(
            patch(format!("/api/v4/projects/{t}/job_token_scope"))
                .token(ROOT_TOKEN)
                .json(json!({"enabled": true})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 204);
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        403
    );

    // Ending the job.
    w.app.link_project(w.target.id, w.origin.id).await;
    let (job, token) = w.app.job(w.origin.id, w.user.id).await;
    assert_eq!(allowed(&w.app, &token, &t, None).await.status.as_u16(), 200);
    let res = w
        .app
        .send(
            put(format!("/api/v4/ci/jobs/{}", job.id))
                .token(ROOT_TOKEN)
                .json(json!({"status": "success"})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    let res = allowed(&w.app, &token, &t, None).await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (401, msg("401 Unauthorized"))
    );

    // Blocking the user.
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        200
    );
    let res = w
        .app
        .send(post(format!("/api/v4/users/{}/block", w.user.id)).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 201);
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        401
    );
    // Unblocking does not bring the ended jobs back.
    w.app
        .send(post(format!("/api/v4/users/{}/unblock", w.user.id)).token(ROOT_TOKEN))
        .await;
    assert_eq!(
        allowed(&w.app, &w.token, &t, None).await.status.as_u16(),
        401
    );

    // Deleting the project.
    let (_, token) = w.app.job(w.origin.id, w.user.id).await;
    assert_eq!(allowed(&w.app, &token, &t, None).await.status.as_u16(), 200);
    let res = w
        .app
        .send(delete(format!("/api/v4/projects/{}", w.origin.id)).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 202);
    assert_eq!(allowed(&w.app, &token, &t, None).await.status.as_u16(), 401);
}

#[tokio::test]
async fn ci_jobs_api_and_job_token_transports() {
    let w = world(Visibility::Private, Some(AccessLevel::Developer)).await;
    let app = &w.app;
    // A token with the ci scope may start jobs; an ordinary api token may not.
    let ci_user = app.user("ci-system").await;
    let (ci_token, _) = app.token_with(ci_user.id, &["ci"], None, false).await;
    let (_, plain) = app.user_with_token("plain").await;
    let body = json!({"project_id": "acme/platform/ci/builder", "user_id": w.user.id, "name": "deploy", "ref": "main"});
    let res = app
        .send(post("/api/v4/ci/jobs").token(&plain).json(body.clone()))
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (403, msg("403 Forbidden"))
    );
    let res = app
        .send(post("/api/v4/ci/jobs").token(&ci_token).json(body))
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
    let job = res.json();
    assert_eq!(job["status"], "running");
    assert_eq!(job["project_id"], json!(w.origin.id));
    let token = job["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("glcbt-64_"), "{token}");
    let id = job["id"].as_i64().unwrap();
    // GET /job through every transport GitLab accepts.
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("gitlab-ci-token:{token}"));
    for auth in [
        Auth::Header("job-token", token.clone()),
        Auth::Bearer(token.clone()),
        Auth::Header("authorization", format!("Basic {basic}")),
    ] {
        let res = app.send(get("/api/v4/job").auth(auth)).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        assert_eq!(res.json()["id"], json!(id));
        assert_eq!(res.json()["user"]["username"], "runner");
    }
    let res = app
        .send(get(format!("/api/v4/job?job_token={token}")))
        .await;
    assert_eq!(res.status.as_u16(), 200);
    // A personal access token is not a job token.
    let res = app.send(get("/api/v4/job").token(&plain)).await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (404, msg("404 Job Not Found"))
    );
    let res = app.send(get("/api/v4/job")).await;
    assert_eq!(res.status.as_u16(), 401);
    // Ending the job: only once, only with a final status.
    let res = app
        .send(
            put(format!("/api/v4/ci/jobs/{id}"))
                .token(&ci_token)
                .json(json!({"status": "running"})),
        )
        .await;
    assert_eq!(
        res.json(),
        json!({"error": "status does not have a valid value"})
    );
    let res = app
        .send(
            put(format!("/api/v4/ci/jobs/{id}"))
                .token(&ci_token)
                .json(json!({"status": "failed"})),
        )
        .await;
    assert_eq!(res.json()["status"], "failed");
    assert!(res.json()["finished_at"].is_string());
    let res = app
        .send(
            put(format!("/api/v4/ci/jobs/{id}"))
                .token(&ci_token)
                .json(json!({"status": "success"})),
        )
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (400, msg("400 Bad request - Job is not running"))
    );
    assert_eq!(
        app.send(get("/api/v4/job").auth(job_auth(&token)))
            .await
            .status
            .as_u16(),
        401
    );
    let stored = app
        .store
        .job(jobscope_types::JobId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, JobStatus::Failed);
    // A blocked user cannot run jobs.
    app.store
        .set_user_state(w.user.id, jobscope_store::UserState::Blocked)
        .await
        .unwrap();
    let res = app
        .send(
            post("/api/v4/ci/jobs")
                .token(ROOT_TOKEN)
                .json(json!({"project_id": w.origin.id, "user_id": w.user.id})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 400);
    // Job tokens are not credentials for anything else (CVE-2024-8641).
    for path in [
        "/api/v4/user",
        "/api/v4/personal_access_tokens/self",
        &format!("/api/v4/projects/{}/job_token_scope", w.origin.id),
    ] {
        let res = app.send(get(path).auth(job_auth(&w.token))).await;
        assert_eq!(res.status.as_u16(), 401, "{path}");
    }
}

#[tokio::test]
async fn authentication_log_json_csv_and_autopopulation() {
    let app = TestApp::new().await;
    // The documented example: project1 and project2 in group1/group2/group3, project3 and
    // project4 in group1/group2/group4, project5 in group1/group5/group6.
    let g1 = app.group("group1", None, Visibility::Private).await;
    let g2 = app.group("group2", Some(g1.id), Visibility::Private).await;
    let g3 = app.group("group3", Some(g2.id), Visibility::Private).await;
    let g4 = app.group("group4", Some(g2.id), Visibility::Private).await;
    let g5 = app.group("group5", Some(g1.id), Visibility::Private).await;
    let g6 = app.group("group6", Some(g5.id), Visibility::Private).await;
    let places = [
        (g3.id, "project1"),
        (g3.id, "project2"),
        (g4.id, "project3"),
        (g4.id, "project4"),
        (g6.id, "project5"),
    ];
    let tgroup = app.group("target", None, Visibility::Private).await;
    let target = app.project(tgroup.id, "target", Visibility::Private).await;
    let user = app.user("runner").await;
    app.member(
        MemberSource::Namespace(g1.id),
        user.id,
        AccessLevel::Developer,
    )
    .await;
    app.member(
        MemberSource::Project(target.id),
        user.id,
        AccessLevel::Developer,
    )
    .await;
    // While the allowlist is off, every job gets in and is logged.
    app.store
        .set_inbound_scope_enabled(target.id, false, None)
        .await
        .unwrap();
    let mut origins = Vec::new();
    for (ns, name) in places {
        let p = app.project(ns, name, Visibility::Private).await;
        let (_, token) = app.job(p.id, user.id).await;
        let res = allowed(&app, &token, &target.id.to_string(), Some("read_packages")).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        origins.push(p);
    }
    let base = format!("/api/v4/projects/{}/job_token_scope", target.id);
    let logs = app
        .send(get(format!("{base}/auth_logs")).token(ROOT_TOKEN))
        .await;
    assert_eq!(logs.status.as_u16(), 200);
    assert_eq!(logs.header("x-total"), Some("5"));
    let rows = logs.json();
    assert!(rows[0]["job_token_policies"]["read_packages"].is_string());
    assert!(
        rows[0]["origin_project"]["path_with_namespace"]
            .as_str()
            .unwrap()
            .starts_with("group1/")
    );
    let csv = app
        .send(
            get(format!("{base}/auth_logs"))
                .token(ROOT_TOKEN)
                .header("accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains(&format!("job-token-authorizations-{}-", target.id))
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "Origin Project Path,Last Authorized At (UTC)");
    assert_eq!(lines.len(), 6);
    assert!(
        lines[1..]
            .iter()
            .any(|l| l.starts_with("group1/group5/group6/project5,"))
    );
    assert!(lines[1].ends_with('Z'));

    // With room for everything, every origin becomes its own entry (preview first).
    let res = app
        .send(post(format!("{base}/autopopulate?dry_run=true")).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(res.json()["projects"].as_array().unwrap().len(), 5);
    assert_eq!(res.json()["dry_run"], true);
    assert!(
        app.store
            .project_links(target.id, jobscope_store::LinkDirection::Inbound)
            .await
            .unwrap()
            .is_empty(),
        "a preview writes nothing"
    );

    // Fill the budget with people's entries so that only 3, 2, then 1 remain.
    let filler = app.group("filler", None, Visibility::Private).await;
    let mut fillers = Vec::new();
    for i in 0..197 {
        fillers.push(
            app.project(filler.id, &format!("f{i}"), Visibility::Private)
                .await,
        );
    }
    for f in &fillers {
        app.link_project(target.id, f.id).await;
    }
    let paths = |v: &Value| -> Vec<String> {
        let mut out: Vec<String> = v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                g["web_url"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("http://jobscope.test/groups/")
                    .to_owned()
            })
            .collect();
        out.extend(
            v["projects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["path_with_namespace"].as_str().unwrap().to_owned()),
        );
        out.sort();
        out
    };
    let res = app
        .send(post(format!("{base}/autopopulate")).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(
        paths(&res.json()),
        [
            "group1/group2/group3",
            "group1/group2/group4",
            "group1/group5/group6"
        ]
    );
    // The allowlist is now enforced, the entries are marked, and jobs still get in.
    assert!(
        app.store
            .project(target.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    let groups = app
        .send(get(format!("{base}/groups_allowlist")).token(ROOT_TOKEN))
        .await
        .json();
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["autopopulated"] == true)
    );
    let (_, token) = app.job(origins[4].id, user.id).await;
    assert_eq!(
        allowed(&app, &token, &target.id.to_string(), None)
            .await
            .status
            .as_u16(),
        200
    );
    for (left, want, replaced) in [
        (2, vec!["group1/group2", "group1/group5"], 3),
        (1, vec!["group1"], 2),
    ] {
        // One more person-made entry each round; autopopulation replaces its own entries.
        let extra = app
            .project(filler.id, &format!("extra{left}"), Visibility::Private)
            .await;
        app.link_project(target.id, extra.id).await;
        let res = app
            .send(post(format!("{base}/autopopulate")).token(ROOT_TOKEN))
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        assert_eq!(paths(&res.json()), want);
        assert_eq!(res.json()["replaced"], json!(replaced));
    }
    // No room at all: GitLab's error.
    let extra = app.project(filler.id, "extra0", Visibility::Private).await;
    app.link_project(target.id, extra.id).await;
    let res = app
        .send(post(format!("{base}/autopopulate")).token(ROOT_TOKEN))
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (
            400,
            msg("400 Bad request - CompactionLimitCannotBeAchievedError")
        )
    );
    // Undo removes only what autopopulation added.
    let res = app
        .send(delete(format!("{base}/autopopulated")).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 204);
    assert!(app.store.group_links(target.id).await.unwrap().is_empty());
    assert_eq!(
        app.store
            .project_links(target.id, jobscope_store::LinkDirection::Inbound)
            .await
            .unwrap()
            .len(),
        200
    );
}

#[tokio::test]
async fn audit_events_record_every_change() {
    let w = world(Visibility::Private, None).await;
    let app = &w.app;
    let t = w.target.id;
    let base = format!("/api/v4/projects/{t}/job_token_scope");
    let (m, maint) = app.user_with_token("maint").await;
    app.member(MemberSource::Project(t), m.id, AccessLevel::Maintainer)
        .await;
    app.member(
        MemberSource::Namespace(w.root.id),
        m.id,
        AccessLevel::Reporter,
    )
    .await;
    let steps = [
        patch(&base).json(json!({"enabled": false})),
        patch(&base).json(json!({"enabled": false})), // no change, no event
        post(format!("{base}/allowlist")).json(json!({"target_project_id": w.origin.id, "default_permissions": false, "job_token_policies": ["read_jobs"]})),
        patch(format!("{base}/allowlist/{}", w.origin.id)).json(json!({"job_token_policies": ["read_jobs", "read_packages"]})),
        delete(format!("{base}/allowlist/{}", w.origin.id)),
        post(format!("{base}/groups_allowlist")).json(json!({"target_group_id": w.mid.id})),
        delete(format!("{base}/groups_allowlist/{}", w.mid.id)),
        patch(&base).json(json!({"enabled": true})),
    ];
    for req in steps {
        let res = app.send(req.token(&maint)).await;
        assert!(res.status.is_success(), "{}", res.text);
    }
    let events = app
        .send(get(format!("/api/v4/projects/{t}/audit_events")).token(&maint))
        .await;
    assert_eq!(events.status.as_u16(), 200);
    let list = events.json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "secure_ci_job_token_inbound_enabled",
            "secure_ci_job_token_group_removed",
            "secure_ci_job_token_group_added",
            "secure_ci_job_token_project_removed",
            "secure_ci_job_token_policies_updated",
            "secure_ci_job_token_project_added",
            "secure_ci_job_token_inbound_disabled",
        ]
    );
    let added = &list[5];
    assert_eq!(added["author_id"], json!(m.id));
    assert_eq!(added["entity_type"], "Project");
    assert_eq!(added["entity_id"], json!(t));
    assert_eq!(added["details"]["target_type"], "Project");
    assert_eq!(added["details"]["target_id"], json!(w.origin.id));
    assert_eq!(added["details"]["author_name"], "User maint");
    assert_eq!(
        added["details"]["custom_message"],
        "Project acme/platform/ci/builder was added to inbound list of allowed projects for targets/deployer, with default permissions: false, job token policies: read_jobs"
    );
    assert_eq!(
        list[3]["details"]["custom_message"],
        "Project acme/platform/ci/builder was removed from inbound list of allowed projects for targets/deployer, with job token policies: read_jobs, read_packages"
    );
    assert_eq!(
        list[4]["details"]["custom_message"],
        "CI job token updated to default permissions: false, policies: read_jobs, read_packages"
    );
    assert_eq!(
        list[2]["details"]["custom_message"],
        "Group acme/platform was added to list of allowed groups for targets/deployer"
    );
    assert_eq!(
        list[6]["details"]["custom_message"],
        "Secure ci_job_token was disabled for inbound"
    );
    let one = app
        .send(
            get(format!(
                "/api/v4/projects/{t}/audit_events/{}",
                list[0]["id"]
            ))
            .token(&maint),
        )
        .await;
    assert_eq!(
        one.json()["event_name"],
        "secure_ci_job_token_inbound_enabled"
    );
    // Developers may not read them.
    let (d, dev) = app.user_with_token("dev").await;
    app.member(MemberSource::Project(t), d.id, AccessLevel::Developer)
        .await;
    assert_eq!(
        app.send(get(format!("/api/v4/projects/{t}/audit_events")).token(&dev))
            .await
            .status
            .as_u16(),
        403
    );
}

#[tokio::test]
async fn reverse_lookup_lists_what_the_caller_may_see() {
    let w = world(Visibility::Private, Some(AccessLevel::Developer)).await;
    let app = &w.app;
    // The origin is admitted by the target (a group entry) and by a second, hidden project.
    app.link_group(w.target.id, w.mid.id).await;
    let hidden_group = app.group("hidden", None, Visibility::Private).await;
    let hidden = app
        .project(hidden_group.id, "hidden", Visibility::Private)
        .await;
    app.link_project(hidden.id, w.origin.id).await;
    let (m, maint) = app.user_with_token("maint").await;
    app.member(
        MemberSource::Project(w.origin.id),
        m.id,
        AccessLevel::Maintainer,
    )
    .await;
    app.member(
        MemberSource::Project(w.target.id),
        m.id,
        AccessLevel::Reporter,
    )
    .await;
    let path = format!("/api/v4/projects/{}/job_token_scope/reachable", w.origin.id);
    let res = app.send(get(&path).token(&maint)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    let list = res.json();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the hidden project is left out"
    );
    assert_eq!(list[0]["project"]["id"], json!(w.target.id));
    assert_eq!(list[0]["via"]["type"], "group");
    assert_eq!(list[0]["via"]["full_path"], "acme/platform");
    assert_eq!(list[0]["inbound_enabled"], true);
    // An administrator sees both.
    let res = app.send(get(&path).token(ROOT_TOKEN)).await;
    assert_eq!(res.header("x-total"), Some("2"));
}

#[tokio::test]
async fn a_logged_pair_is_written_again_only_after_the_capture_delay_or_with_a_new_policy() {
    let app = TestApp::new().await;
    let g = app.group("acme", None, Visibility::Private).await;
    let origin = app.project(g.id, "builder", Visibility::Private).await;
    let target = app.project(g.id, "deployer", Visibility::Private).await;
    let user = app.user("runner").await;
    app.member(
        MemberSource::Namespace(g.id),
        user.id,
        AccessLevel::Developer,
    )
    .await;
    app.link_project(target.id, origin.id).await;
    let (_, token) = app.job(origin.id, user.id).await;
    let logs = format!("/api/v4/projects/{}/job_token_scope/auth_logs", target.id);
    let read = || async {
        let res = app.send(get(&logs).token(ROOT_TOKEN)).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        let rows = res.json();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
        rows[0].clone()
    };
    let ok = |policy| {
        let (app, token, target) = (&app, &token, target.id.to_string());
        async move {
            let res = allowed(app, token, &target, policy).await;
            assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        }
    };
    ok(Some("read_jobs")).await;
    let first = read().await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // The same pair and policy within the capture delay: nothing new to write.
    ok(Some("read_jobs")).await;
    ok(None).await;
    assert_eq!(
        read().await["last_authorized_at"],
        first["last_authorized_at"]
    );
    // A policy the log does not have yet is written at once.
    ok(Some("read_packages")).await;
    let third = read().await;
    assert_ne!(third["last_authorized_at"], first["last_authorized_at"]);
    assert!(
        third["job_token_policies"]["read_jobs"].is_string(),
        "{third}"
    );
    assert!(
        third["job_token_policies"]["read_packages"].is_string(),
        "{third}"
    );
}
