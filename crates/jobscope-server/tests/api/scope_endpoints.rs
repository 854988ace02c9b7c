//! The job token scope endpoints against the spec's tables (sections 2 to 5 of
//! `shared/spec/gitlab-job-token-scope.md`), case by case.

use jobscope_store::{LinkDirection, MemberSource, Namespace, Project};
use jobscope_types::{AccessLevel, Visibility};
use serde_json::{Value, json};

use crate::helpers::*;

/// A project owned by a group, a Maintainer and a Developer of it, and a public target.
struct World {
    app: TestApp,
    group: Namespace,
    project: Project,
    maintainer: String,
    developer: String,
    outsider: String,
    target: Project,
    target_group: Namespace,
}

async fn world(vis: Visibility) -> World {
    let app = TestApp::new().await;
    let group = app.group("acme", None, vis).await;
    let project = app.project(group.id, "app", vis).await;
    let (m, maintainer) = app.user_with_token("maint").await;
    let (d, developer) = app.user_with_token("dev").await;
    let (_, outsider) = app.user_with_token("outsider").await;
    app.member(
        MemberSource::Namespace(group.id),
        m.id,
        AccessLevel::Maintainer,
    )
    .await;
    app.member(
        MemberSource::Namespace(group.id),
        d.id,
        AccessLevel::Developer,
    )
    .await;
    let target_group = app.group("other", None, Visibility::Public).await;
    let target = app
        .project(target_group.id, "lib", Visibility::Public)
        .await;
    World {
        app,
        group,
        project,
        maintainer,
        developer,
        outsider,
        target,
        target_group,
    }
}

fn msg(s: &str) -> Value {
    json!({ "message": s })
}

fn error(s: &str) -> Value {
    json!({ "error": s })
}

async fn check(app: &TestApp, req: Req, status: u16, body: Option<Value>) -> TestResponse {
    let res = app.send(req).await;
    assert_eq!(res.status.as_u16(), status, "body: {}", res.text);
    if let Some(b) = body {
        assert_eq!(res.json(), b);
    }
    res
}

// ---- §2.1 authentication -------------------------------------------------------------------

#[tokio::test]
async fn credentials_are_accepted_in_every_gitlab_form() {
    let w = world(Visibility::Private).await;
    let path = format!("/api/v4/projects/{}/job_token_scope", w.project.id);
    check(&w.app, get(&path).token(&w.maintainer), 200, None).await;
    check(
        &w.app,
        get(&path).auth(Auth::Bearer(w.maintainer.clone())),
        200,
        None,
    )
    .await;
    check(
        &w.app,
        get(format!("{path}?private_token={}", w.maintainer)),
        200,
        None,
    )
    .await;
    check(
        &w.app,
        get(format!("{path}?access_token={}", w.maintainer)),
        200,
        None,
    )
    .await;
}

#[tokio::test]
async fn job_tokens_and_missing_credentials_get_401_even_on_public_projects() {
    let w = world(Visibility::Public).await;
    let path = format!("/api/v4/projects/{}/job_token_scope", w.project.id);
    let unauthorized = Some(msg("401 Unauthorized"));
    check(&w.app, get(&path), 401, unauthorized.clone()).await;
    check(
        &w.app,
        get(&path).auth(Auth::Header("job-token", "glcbt-1_abc".into())),
        401,
        unauthorized.clone(),
    )
    .await;
    check(
        &w.app,
        get(format!("{path}?job_token=glcbt-1_abc")),
        401,
        unauthorized.clone(),
    )
    .await;
    check(
        &w.app,
        get(&path).auth(Auth::Bearer("glcbt-1_abc".into())),
        401,
        unauthorized.clone(),
    )
    .await;
    check(
        &w.app,
        get(&path).auth(Auth::Header(
            "authorization",
            "Basic Z2l0bGFiLWNpLXRva2VuOmdsY2J0LTFfYWJj".into(),
        )),
        401,
        unauthorized.clone(),
    )
    .await;
    check(
        &w.app,
        get(&path).token("glpat-unknown-token-xyz"),
        401,
        unauthorized,
    )
    .await;
}

#[tokio::test]
async fn token_state_errors_use_gitlabs_bodies() {
    let w = world(Visibility::Private).await;
    let path = format!("/api/v4/projects/{}/job_token_scope", w.project.id);
    let m = w
        .app
        .store
        .user_by_username("maint")
        .await
        .unwrap()
        .unwrap();
    let (expired, _) = w.app.token_with(m.id, &["api"], Some(-1), false).await;
    let res = check(
        &w.app,
        get(&path).token(&expired),
        401,
        Some(json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."})),
    )
    .await;
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    // Expiry is at the start of the expires_at day (UTC): a token expiring today is expired.
    let (today_tok, _) = w.app.token_with(m.id, &["api"], Some(0), false).await;
    check(&w.app, get(&path).token(&today_tok), 401, None).await;
    let (tomorrow, _) = w.app.token_with(m.id, &["api"], Some(1), false).await;
    check(&w.app, get(&path).token(&tomorrow), 200, None).await;
    let (revoked, _) = w.app.token_with(m.id, &["api"], None, true).await;
    check(
        &w.app,
        get(&path).token(&revoked),
        401,
        Some(json!({"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."})),
    )
    .await;
    let (read_api, _) = w.app.token_with(m.id, &["read_api"], None, false).await;
    check(&w.app, get(&path).token(&read_api), 200, None).await;
    check(
        &w.app,
        patch(&path).token(&read_api).json(json!({"enabled": false})),
        403,
        Some(json!({"error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided by the access token.",
                    "scope": "api read_api"})),
    )
    .await;
    let (read_user, _) = w.app.token_with(m.id, &["read_user"], None, false).await;
    check(&w.app, get(&path).token(&read_user), 403, None).await;
    w.app
        .store
        .set_user_state(m.id, jobscope_store::UserState::Blocked)
        .await
        .unwrap();
    check(
        &w.app,
        get(&path).token(&w.maintainer),
        403,
        Some(msg("403 Forbidden - Your account has been blocked.")),
    )
    .await;
    w.app
        .store
        .set_user_state(m.id, jobscope_store::UserState::Deactivated)
        .await
        .unwrap();
    let res = check(&w.app, get(&path).token(&w.maintainer), 403, None).await;
    assert!(
        res.json()["message"].as_str().unwrap().starts_with(
            "403 Forbidden - Your account has been deactivated by your administrator."
        )
    );
}

// ---- §2.3 the :id parameter ---------------------------------------------------------------

#[tokio::test]
async fn project_id_or_encoded_path() {
    let w = world(Visibility::Private).await;
    for id in [
        w.project.id.to_string(),
        format!("00{}", w.project.id),
        "acme%2Fapp".into(),
        "ACME%2FApp".into(),
    ] {
        check(
            &w.app,
            get(format!("/api/v4/projects/{id}/job_token_scope")).token(&w.maintainer),
            200,
            Some(json!({"inbound_enabled": true, "outbound_enabled": false})),
        )
        .await;
    }
    for id in [
        "app",
        "acme%2Fnope",
        "999999",
        "-1",
        "99999999999999999999999",
        "0",
    ] {
        check(
            &w.app,
            get(format!("/api/v4/projects/{id}/job_token_scope")).token(&w.maintainer),
            404,
            Some(msg("404 Project Not Found")),
        )
        .await;
    }
    // 404 before 403: an outsider cannot learn that a private project exists.
    check(
        &w.app,
        get(format!("/api/v4/projects/{}/job_token_scope", w.project.id)).token(&w.outsider),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
}

#[tokio::test]
async fn external_users_do_not_see_internal_projects() {
    let w = world(Visibility::Internal).await;
    let ext = w.app.external_user("ext").await;
    let token = w.app.token(ext.id).await;
    check(
        &w.app,
        get(format!("/api/v4/projects/{}/job_token_scope", w.project.id)).token(&token),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    check(
        &w.app,
        get(format!("/api/v4/projects/{}/job_token_scope", w.project.id)).token(&w.outsider),
        403,
        Some(msg("403 Forbidden")),
    )
    .await;
}

// ---- §3.1 and §3.2 the setting ---------------------------------------------------------------

#[tokio::test]
async fn get_reports_the_effective_inbound_flag() {
    let w = world(Visibility::Private).await;
    let path = format!("/api/v4/projects/{}/job_token_scope", w.project.id);
    let res = check(&w.app, get(&path).token(&w.maintainer), 200, None).await;
    assert_eq!(
        res.text,
        r#"{"inbound_enabled":true,"outbound_enabled":false}"#
    );
    w.app
        .store
        .set_inbound_scope_enabled(w.project.id, false, None)
        .await
        .unwrap();
    check(
        &w.app,
        get(&path).token(&w.maintainer),
        200,
        Some(json!({"inbound_enabled": false, "outbound_enabled": false})),
    )
    .await;
    // The instance setting wins over a stored false.
    check(
        &w.app,
        put("/api/v4/application/settings")
            .token(ROOT_TOKEN)
            .json(json!({"enforce_ci_inbound_job_token_scope_enabled": true})),
        200,
        None,
    )
    .await;
    check(
        &w.app,
        get(&path).token(&w.maintainer),
        200,
        Some(json!({"inbound_enabled": true, "outbound_enabled": false})),
    )
    .await;
    // PATCH enabled=false is stored (and reported once enforcement is off again).
    check(
        &w.app,
        patch(&path)
            .token(&w.maintainer)
            .json(json!({"enabled": false})),
        204,
        None,
    )
    .await;
    check(
        &w.app,
        get(&path).token(&w.maintainer),
        200,
        Some(json!({"inbound_enabled": true, "outbound_enabled": false})),
    )
    .await;
    check(
        &w.app,
        put("/api/v4/application/settings")
            .token(ROOT_TOKEN)
            .json(json!({"enforce_ci_inbound_job_token_scope_enabled": false})),
        200,
        None,
    )
    .await;
    check(
        &w.app,
        get(&path).token(&w.maintainer),
        200,
        Some(json!({"inbound_enabled": false, "outbound_enabled": false})),
    )
    .await;
}

#[tokio::test]
async fn patch_accepts_json_form_and_query_booleans() {
    let w = world(Visibility::Private).await;
    let path = format!("/api/v4/projects/{}/job_token_scope", w.project.id);
    let cases: Vec<(Req, bool)> = vec![
        (patch(&path).json(json!({"enabled": false})), false),
        (patch(&path).json(json!({"enabled": true})), true),
        (patch(&path).form("enabled=false"), false),
        (patch(&path).form("enabled=true"), true),
        (patch(format!("{path}?enabled=false")), false),
        (patch(&path).json(json!({"enabled": "1"})), true),
        (patch(&path).json(json!({"enabled": "off"})), false),
        (patch(&path).json(json!({"enabled": "yes"})), true),
        (patch(&path).json(json!({"enabled": "f"})), false),
        (patch(&path).json(json!({"enabled": "T"})), true),
        (patch(&path).json(json!({"enabled": 0})), false),
    ];
    for (req, want) in cases {
        let res = check(&w.app, req.token(&w.maintainer), 204, None).await;
        assert!(res.text.is_empty());
        assert!(res.header("content-type").is_none());
        let p = w.app.store.project(w.project.id).await.unwrap().unwrap();
        assert_eq!(p.inbound_scope_enabled, want);
    }
}

#[tokio::test]
async fn patch_validation_messages() {
    let w = world(Visibility::Private).await;
    let path = format!("/api/v4/projects/{}/job_token_scope", w.project.id);
    let cases = [
        (json!({"enabled": 123}), "enabled is invalid"),
        (json!({"enabled": "maybe"}), "enabled is invalid"),
        (json!({"enabled": [true]}), "enabled is invalid"),
        (json!({"enabled": null}), "enabled is empty"),
        (json!({"enabled": ""}), "enabled is empty"),
        (json!({}), "enabled is missing"),
        (
            json!({"outbound_scope_enabled": true}),
            "enabled is missing",
        ),
    ];
    for (body, message) in cases {
        check(
            &w.app,
            patch(&path).token(&w.maintainer).json(body),
            400,
            Some(error(message)),
        )
        .await;
    }
    // Parameters are validated before the project and the role: 400, not 404 or 403.
    check(
        &w.app,
        patch(&path).token(&w.developer).json(json!({})),
        400,
        Some(error("enabled is missing")),
    )
    .await;
    check(
        &w.app,
        patch("/api/v4/projects/424242/job_token_scope")
            .token(&w.maintainer)
            .json(json!({})),
        400,
        Some(error("enabled is missing")),
    )
    .await;
    check(
        &w.app,
        patch(&path)
            .token(&w.developer)
            .json(json!({"enabled": true})),
        403,
        Some(msg("403 Forbidden")),
    )
    .await;
    let p = w.app.store.project(w.project.id).await.unwrap().unwrap();
    assert!(p.inbound_scope_enabled, "unchanged");
}

// ---- §3.3 the project allowlist -------------------------------------------------------------

#[tokio::test]
async fn allowlist_lists_the_project_itself_and_its_inbound_targets() {
    let w = world(Visibility::Private).await;
    let path = format!(
        "/api/v4/projects/{}/job_token_scope/allowlist",
        w.project.id
    );
    let res = check(&w.app, get(&path).token(&w.maintainer), 200, None).await;
    let items = res.json();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["id"], json!(w.project.id));
    assert_eq!(res.header("x-total"), Some("1"));
    w.app.link_project(w.project.id, w.target.id).await;
    let res = check(&w.app, get(&path).token(&w.maintainer), 200, None).await;
    let ids: Vec<i64> = res
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, {
        let mut v = vec![w.project.id.get(), w.target.id.get()];
        v.sort();
        v
    });
    // The element is BasicProjectDetails, fields in GitLab's order.
    let first = &res.json()[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "description",
            "name",
            "name_with_namespace",
            "path",
            "path_with_namespace",
            "created_at",
            "default_branch",
            "tag_list",
            "topics",
            "ssh_url_to_repo",
            "http_url_to_repo",
            "web_url",
            "avatar_url",
            "star_count",
            "last_activity_at",
            "namespace",
            // jobscope's additions: how the entry grants access, who added it and when.
            "default_permissions",
            "job_token_policies",
            "autopopulated",
            "added_by",
            "added_at"
        ]
    );
    let ns_keys: Vec<&str> = first["namespace"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        ns_keys,
        [
            "id",
            "name",
            "path",
            "kind",
            "full_path",
            "parent_id",
            "avatar_url",
            "web_url"
        ]
    );
    let app_item = res
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == json!(w.project.id))
        .unwrap()
        .clone();
    assert_eq!(app_item["path_with_namespace"], "acme/app");
    assert_eq!(app_item["name_with_namespace"], "Group acme / app");
    assert_eq!(app_item["web_url"], "http://jobscope.test/acme/app");
    assert_eq!(
        app_item["namespace"]["web_url"],
        "http://jobscope.test/groups/acme"
    );
    assert_eq!(app_item["namespace"]["kind"], "group");
    assert!(app_item["created_at"].as_str().unwrap().ends_with('Z'));
    // Disabling the scope does not hide the allowlist (GitLab issue 436703).
    w.app
        .store
        .set_inbound_scope_enabled(w.project.id, false, None)
        .await
        .unwrap();
    let res = check(&w.app, get(&path).token(&w.maintainer), 200, None).await;
    assert_eq!(res.json().as_array().unwrap().len(), 2);
}

// ---- §3.4 POST allowlist ---------------------------------------------------------------------

#[tokio::test]
async fn add_project_in_gitlabs_order() {
    let w = world(Visibility::Private).await;
    let app = &w.app;
    let p = w.project.id;
    let path = format!("/api/v4/projects/{p}/job_token_scope/allowlist");
    // 1: authentication.
    check(
        app,
        post(&path).json(json!({"target_project_id": w.target.id})),
        401,
        Some(msg("401 Unauthorized")),
    )
    .await;
    // 2 and 3: parameters, all reported together, before any lookup.
    check(
        app,
        post("/api/v4/projects/acme%2Fapp/job_token_scope/allowlist")
            .token(&w.maintainer)
            .json(json!({"target_project_id": w.target.id})),
        400,
        Some(error("id is invalid")),
    )
    .await;
    check(
        app,
        post("/api/v4/projects/acme%2Fapp/job_token_scope/allowlist")
            .token(&w.maintainer)
            .json(json!({})),
        400,
        Some(error("id is invalid, target_project_id is missing")),
    )
    .await;
    for (body, message) in [
        (json!({}), "target_project_id is missing"),
        (
            json!({"target_project_id": null}),
            "target_project_id is empty",
        ),
        (
            json!({"target_project_id": ""}),
            "target_project_id is empty",
        ),
        (
            json!({"target_project_id": "abc"}),
            "target_project_id is invalid",
        ),
        (
            json!({"target_project_id": 12.34}),
            "target_project_id is invalid",
        ),
        (
            json!({"target_project_id": "12.34"}),
            "target_project_id is invalid",
        ),
        (
            json!({"target_project_id": [1]}),
            "target_project_id is invalid",
        ),
        (
            json!({"target_project_id": {"id": 1}}),
            "target_project_id is invalid",
        ),
    ] {
        check(
            app,
            post(&path).token(&w.developer).json(body),
            400,
            Some(error(message)),
        )
        .await;
    }
    // 4: the project, 404 when missing or unreadable.
    check(
        app,
        post("/api/v4/projects/424242/job_token_scope/allowlist")
            .token(&w.maintainer)
            .json(json!({"target_project_id": w.target.id})),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    check(
        app,
        post(&path)
            .token(&w.outsider)
            .json(json!({"target_project_id": w.target.id})),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    // 5: the role.
    check(
        app,
        post(&path)
            .token(&w.developer)
            .json(json!({"target_project_id": w.target.id})),
        403,
        Some(msg("403 Forbidden")),
    )
    .await;
    // 6: a target that does not exist (visibility ignored).
    check(
        app,
        post(&path)
            .token(&w.maintainer)
            .json(json!({"target_project_id": 424242})),
        404,
        Some(msg("404 target_project_id not found Not Found")),
    )
    .await;
    check(
        app,
        post(&path)
            .token(&w.maintainer)
            .json(json!({"target_project_id": "99999999999999999999999"})),
        404,
        Some(msg("404 target_project_id not found Not Found")),
    )
    .await;
    // 7: a target the caller cannot read.
    let hidden_group = app.group("hidden", None, Visibility::Private).await;
    let hidden = app
        .project(hidden_group.id, "secret", Visibility::Private)
        .await;
    // Deviation (security requirement C1.5): answered exactly like a target that does not exist.
    check(
        app,
        post(&path)
            .token(&w.maintainer)
            .json(json!({"target_project_id": hidden.id})),
        404,
        Some(msg("404 target_project_id not found Not Found")),
    )
    .await;
    // 8: itself.
    check(app, post(&path).token(&w.maintainer).json(json!({"target_project_id": p})), 400, Some(msg("400 Bad request - Validation failed: Target project can't be the same as the source project"))).await;
    // 11: success, with exactly two fields; who and when are recorded.
    let res = check(
        app,
        post(&path)
            .token(&w.maintainer)
            .json(json!({"target_project_id": w.target.id})),
        201,
        None,
    )
    .await;
    assert_eq!(
        res.text,
        format!(
            r#"{{"source_project_id":{p},"target_project_id":{}}}"#,
            w.target.id
        )
    );
    assert_eq!(res.header("content-type"), Some("application/json"));
    let link = app
        .store
        .project_link(p, w.target.id, LinkDirection::Inbound)
        .await
        .unwrap()
        .unwrap();
    let maint = app.store.user_by_username("maint").await.unwrap().unwrap();
    assert_eq!(link.added_by, Some(maint.id));
    assert!((chrono::Utc::now() - link.created_at).num_seconds() < 60);
    assert!(link.default_permissions && link.job_token_policies.is_empty() && !link.autopopulated);
    // 10: a duplicate.
    check(
        app,
        post(&path)
            .token(&w.maintainer)
            .json(json!({"target_project_id": w.target.id})),
        400,
        Some(msg(
            "400 Bad request - This project is already in the job token allowlist.",
        )),
    )
    .await;
    // Readable private targets work; form bodies and query strings too.
    let mine = app.project(w.group.id, "mine", Visibility::Private).await;
    check(
        app,
        post(&path)
            .token(&w.maintainer)
            .form(&format!("target_project_id={}", mine.id)),
        201,
        None,
    )
    .await;
    let third = app.project(w.group.id, "third", Visibility::Private).await;
    check(
        app,
        post(format!("{path}?target_project_id={}", third.id)).token(&w.maintainer),
        201,
        None,
    )
    .await;
}

#[tokio::test]
async fn project_links_are_limited_to_200() {
    let w = world(Visibility::Private).await;
    let app = &w.app;
    let p = w.project.id;
    let mut targets = Vec::new();
    for i in 0..201 {
        targets.push(
            app.project(w.target_group.id, &format!("t{i}"), Visibility::Public)
                .await,
        );
    }
    for t in &targets[..200] {
        app.link_project(p, t.id).await;
    }
    let path = format!("/api/v4/projects/{p}/job_token_scope/allowlist");
    let limit = msg(
        "400 Bad request - Validation failed: Source project exceeds the allowable number of project links in this direction",
    );
    check(
        app,
        post(&path)
            .token(&w.maintainer)
            .json(json!({"target_project_id": targets[200].id})),
        400,
        Some(limit.clone()),
    )
    .await;
    // At the limit, a duplicate reports the limit (validation runs before the insert).
    check(
        app,
        post(&path)
            .token(&w.maintainer)
            .json(json!({"target_project_id": targets[0].id})),
        400,
        Some(limit),
    )
    .await;
    // Self is checked before the limit.
    check(app, post(&path).token(&w.maintainer).json(json!({"target_project_id": p})), 400, Some(msg("400 Bad request - Validation failed: Target project can't be the same as the source project"))).await;
    // The list counts 201 (self included) and is paginated.
    let res = check(
        app,
        get(format!("{path}?per_page=100&page=3")).token(&w.maintainer),
        200,
        None,
    )
    .await;
    assert_eq!(res.json().as_array().unwrap().len(), 1);
    assert_eq!(res.header("x-total"), Some("201"));
    assert_eq!(res.header("x-total-pages"), Some("3"));
}

// ---- §3.5 DELETE allowlist -----------------------------------------------------------------

#[tokio::test]
async fn remove_project_in_gitlabs_order() {
    let w = world(Visibility::Private).await;
    let app = &w.app;
    let p = w.project.id;
    let t = w.target.id;
    app.link_project(p, t).await;
    let path = format!("/api/v4/projects/{p}/job_token_scope/allowlist/{t}");
    check(app, delete(&path), 401, Some(msg("401 Unauthorized"))).await;
    check(
        app,
        delete(format!(
            "/api/v4/projects/acme%2Fapp/job_token_scope/allowlist/{t}"
        ))
        .token(&w.maintainer),
        400,
        Some(error("id is invalid")),
    )
    .await;
    check(
        app,
        delete(format!("/api/v4/projects/{p}/job_token_scope/allowlist/x")).token(&w.maintainer),
        400,
        Some(error("target_project_id is invalid")),
    )
    .await;
    check(
        app,
        delete("/api/v4/projects/x/job_token_scope/allowlist/y").token(&w.maintainer),
        400,
        Some(error("id is invalid, target_project_id is invalid")),
    )
    .await;
    // A missing target is reported first, with the project message.
    check(
        app,
        delete(format!(
            "/api/v4/projects/{p}/job_token_scope/allowlist/424242"
        ))
        .token(&w.outsider),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    check(
        app,
        delete(format!(
            "/api/v4/projects/424242/job_token_scope/allowlist/{t}"
        ))
        .token(&w.maintainer),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    check(
        app,
        delete(&path).token(&w.outsider),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    check(
        app,
        delete(&path).token(&w.developer),
        403,
        Some(msg(
            "403 Forbidden - Insufficient permissions to modify the job token scope",
        )),
    )
    .await;
    // A target the caller cannot read: 403 here (400 on POST).
    let hidden_group = app.group("hidden", None, Visibility::Private).await;
    let hidden = app
        .project(hidden_group.id, "secret", Visibility::Private)
        .await;
    app.link_project(p, hidden.id).await;
    check(app, delete(format!("/api/v4/projects/{p}/job_token_scope/allowlist/{}", hidden.id)).token(&w.maintainer), 403, Some(msg("403 Forbidden - The target_project that you are attempting to access does not exist or you don't have permission to perform this action"))).await;
    check(
        app,
        delete(format!(
            "/api/v4/projects/{p}/job_token_scope/allowlist/{p}"
        ))
        .token(&w.maintainer),
        400,
        Some(msg(
            "400 Bad request - Source project cannot be removed from the job token scope",
        )),
    )
    .await;
    let res = check(app, delete(&path).token(&w.maintainer), 204, None).await;
    assert!(res.text.is_empty());
    check(
        app,
        delete(&path).token(&w.maintainer),
        400,
        Some(msg(
            "400 Bad request - Target project is not in the job token scope",
        )),
    )
    .await;
    // gitbeaker sends `{}` with a JSON content type on DELETE; the curl docs send the header alone.
    app.link_project(p, t).await;
    check(
        app,
        delete(&path).token(&w.maintainer).json(json!({})),
        204,
        None,
    )
    .await;
    app.link_project(p, t).await;
    check(
        app,
        delete(&path)
            .token(&w.maintainer)
            .header("content-type", "application/json"),
        204,
        None,
    )
    .await;
}

// ---- §3.6 to §3.8 the groups allowlist --------------------------------------------------------

#[tokio::test]
async fn groups_allowlist_in_gitlabs_order() {
    let w = world(Visibility::Private).await;
    let app = &w.app;
    let p = w.project.id;
    let list = format!("/api/v4/projects/{p}/job_token_scope/groups_allowlist");
    let res = check(app, get(&list).token(&w.maintainer), 200, Some(json!([]))).await;
    assert_eq!(res.header("x-total"), Some("0"));
    let tg = w.target_group.id;
    // POST, row by row.
    check(
        app,
        post(&list).json(json!({"target_group_id": tg})),
        401,
        Some(msg("401 Unauthorized")),
    )
    .await;
    check(
        app,
        post(&list).token(&w.maintainer).json(json!({})),
        400,
        Some(error("target_group_id is missing")),
    )
    .await;
    check(
        app,
        post("/api/v4/projects/acme%2Fapp/job_token_scope/groups_allowlist")
            .token(&w.maintainer)
            .json(json!({"target_group_id": tg})),
        400,
        Some(error("id is invalid")),
    )
    .await;
    check(
        app,
        post("/api/v4/projects/424242/job_token_scope/groups_allowlist")
            .token(&w.maintainer)
            .json(json!({"target_group_id": tg})),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    check(
        app,
        post(&list)
            .token(&w.developer)
            .json(json!({"target_group_id": tg})),
        403,
        Some(msg("403 Forbidden")),
    )
    .await;
    check(
        app,
        post(&list)
            .token(&w.maintainer)
            .json(json!({"target_group_id": 424242})),
        404,
        Some(msg("404 target_group_id not found Not Found")),
    )
    .await;
    // A personal namespace is not a group.
    let maint = app.store.user_by_username("maint").await.unwrap().unwrap();
    check(
        app,
        post(&list)
            .token(&w.maintainer)
            .json(json!({"target_group_id": maint.namespace_id})),
        404,
        Some(msg("404 target_group_id not found Not Found")),
    )
    .await;
    let hidden = app.group("hidden", None, Visibility::Private).await;
    // Deviation (security requirement C1.5): answered exactly like a group that does not exist.
    check(
        app,
        post(&list)
            .token(&w.maintainer)
            .json(json!({"target_group_id": hidden.id})),
        404,
        Some(msg("404 target_group_id not found Not Found")),
    )
    .await;
    let res = check(
        app,
        post(&list)
            .token(&w.maintainer)
            .json(json!({"target_group_id": tg})),
        201,
        None,
    )
    .await;
    assert_eq!(
        res.text,
        format!(r#"{{"source_project_id":{p},"target_group_id":{tg}}}"#)
    );
    check(
        app,
        post(&list)
            .token(&w.maintainer)
            .json(json!({"target_group_id": tg})),
        400,
        Some(msg(
            "400 Bad request - This group is already in the job token allowlist.",
        )),
    )
    .await;
    // The list: exactly id, web_url, name.
    let res = check(app, get(&list).token(&w.maintainer), 200, None).await;
    let item = &res.json()[0];
    let keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys[..3],
        ["id", "web_url", "name"],
        "GitLab's BasicGroupDetails first"
    );
    assert_eq!(item["id"], json!(tg));
    assert_eq!(item["web_url"], "http://jobscope.test/groups/other");
    assert_eq!(item["name"], "Group other");
    assert_eq!(item["default_permissions"], true);
    assert_eq!(item["job_token_policies"], json!([]));
    assert_eq!(item["added_by"]["username"], "maint");
    // DELETE: the group is looked up before the project.
    check(
        app,
        delete("/api/v4/projects/424242/job_token_scope/groups_allowlist/424242")
            .token(&w.maintainer),
        404,
        Some(msg("404 target_group_id not found Not Found")),
    )
    .await;
    check(
        app,
        delete(format!(
            "/api/v4/projects/424242/job_token_scope/groups_allowlist/{tg}"
        ))
        .token(&w.maintainer),
        404,
        Some(msg("404 Project Not Found")),
    )
    .await;
    check(
        app,
        delete(format!("{list}/{tg}")).token(&w.developer),
        403,
        Some(msg(
            "403 Forbidden - Insufficient permissions to modify the job token scope",
        )),
    )
    .await;
    check(
        app,
        delete(format!("{list}/{tg}")).token(&w.maintainer),
        204,
        None,
    )
    .await;
    check(
        app,
        delete(format!("{list}/{tg}")).token(&w.maintainer),
        400,
        Some(msg(
            "400 Bad request - Target group is not in the job token scope",
        )),
    )
    .await;
    // No read check on the target group when removing.
    app.link_group(p, hidden.id).await;
    check(
        app,
        delete(format!("{list}/{}", hidden.id)).token(&w.maintainer),
        204,
        None,
    )
    .await;
}

#[tokio::test]
async fn group_links_are_limited_to_200_separately_from_projects() {
    let w = world(Visibility::Private).await;
    let app = &w.app;
    let p = w.project.id;
    let mut groups = Vec::new();
    for i in 0..201 {
        groups.push(
            app.group(&format!("lim{i}"), None, Visibility::Public)
                .await,
        );
    }
    for g in &groups[..200] {
        app.link_group(p, g.id).await;
    }
    let list = format!("/api/v4/projects/{p}/job_token_scope/groups_allowlist");
    check(app, post(&list).token(&w.maintainer).json(json!({"target_group_id": groups[200].id})), 400, Some(msg("400 Bad request - Validation failed: Source project exceeds the allowable number of group links"))).await;
    // Project links have their own budget.
    check(
        app,
        post(format!("/api/v4/projects/{p}/job_token_scope/allowlist"))
            .token(&w.maintainer)
            .json(json!({"target_project_id": w.target.id})),
        201,
        None,
    )
    .await;
}

// ---- §2.5 pagination -------------------------------------------------------------------------

#[tokio::test]
async fn pagination_headers_and_limits() {
    let w = world(Visibility::Private).await;
    let app = &w.app;
    let p = w.project.id;
    for i in 0..24 {
        let t = app
            .project(w.target_group.id, &format!("pg{i}"), Visibility::Public)
            .await;
        app.link_project(p, t.id).await;
    }
    let path = format!("/api/v4/projects/{p}/job_token_scope/allowlist");
    let res = check(app, get(&path).token(&w.maintainer), 200, None).await;
    assert_eq!(res.json().as_array().unwrap().len(), 20);
    assert_eq!(res.header("x-per-page"), Some("20"));
    assert_eq!(res.header("x-page"), Some("1"));
    assert_eq!(res.header("x-next-page"), Some("2"));
    assert_eq!(res.header("x-prev-page"), Some(""));
    assert_eq!(res.header("x-total"), Some("25"));
    assert_eq!(res.header("x-total-pages"), Some("2"));
    assert_eq!(
        res.header("link"),
        Some(format!(
            "<http://jobscope.test{path}?page=2&per_page=20>; rel=\"next\", <http://jobscope.test{path}?page=1&per_page=20>; rel=\"first\", <http://jobscope.test{path}?page=2&per_page=20>; rel=\"last\""
        ).as_str())
    );
    let res = check(
        app,
        get(format!("{path}?page=2&per_page=20")).token(&w.maintainer),
        200,
        None,
    )
    .await;
    assert_eq!(res.json().as_array().unwrap().len(), 5);
    assert_eq!(res.header("x-next-page"), Some(""));
    assert_eq!(res.header("x-prev-page"), Some("1"));
    // per_page above 100 is lowered to 100; beyond the last page is an empty list.
    let res = check(
        app,
        get(format!("{path}?per_page=1000")).token(&w.maintainer),
        200,
        None,
    )
    .await;
    assert_eq!(res.header("x-per-page"), Some("100"));
    assert_eq!(res.json().as_array().unwrap().len(), 25);
    let res = check(
        app,
        get(format!("{path}?page=9")).token(&w.maintainer),
        200,
        Some(json!([])),
    )
    .await;
    assert_eq!(res.header("x-page"), Some("9"));
    assert_eq!(res.header("x-prev-page"), Some(""));
    // Other query parameters are kept in links, credentials are not.
    let res = check(
        app,
        get(format!(
            "{path}?per_page=10&private_token={}&foo=bar",
            w.maintainer
        )),
        200,
        None,
    )
    .await;
    let link = res.header("link").unwrap();
    assert!(
        link.contains("per_page=10&foo=bar&page=2") || link.contains("foo=bar"),
        "{link}"
    );
    assert!(!link.contains("private_token"), "{link}");
    for (q, message) in [
        ("per_page=0", "per_page does not have a valid value"),
        ("per_page=-5", "per_page does not have a valid value"),
        ("page=0", "page does not have a valid value"),
        ("page=-1", "page does not have a valid value"),
        ("page=abc", "page is invalid"),
        ("per_page=2.5", "per_page is invalid"),
    ] {
        check(
            app,
            get(format!("{path}?{q}")).token(&w.maintainer),
            400,
            Some(error(message)),
        )
        .await;
    }
    // The groups list paginates the same way.
    for i in 0..3 {
        let g = app
            .group(&format!("pgg{i}"), None, Visibility::Public)
            .await;
        app.link_group(p, g.id).await;
    }
    let res = check(
        app,
        get(format!(
            "/api/v4/projects/{p}/job_token_scope/groups_allowlist?per_page=2"
        ))
        .token(&w.maintainer),
        200,
        None,
    )
    .await;
    assert_eq!(res.json().as_array().unwrap().len(), 2);
    assert_eq!(res.header("x-total"), Some("3"));
    assert_eq!(res.header("x-total-pages"), Some("2"));
}

#[tokio::test]
async fn external_url_is_used_for_links() {
    let app = TestApp::with_config(jobscope_server::config::ServerConfig {
        external_url: Some("https://gitlab.example.com/".parse().unwrap()),
        ..Default::default()
    })
    .await;
    let g = app.group("acme", None, Visibility::Public).await;
    let p = app.project(g.id, "app", Visibility::Public).await;
    let res = app
        .send(
            get(format!(
                "/api/v4/projects/{}/job_token_scope/allowlist",
                p.id
            ))
            .token(ROOT_TOKEN),
        )
        .await;
    assert_eq!(
        res.json()[0]["web_url"],
        "https://gitlab.example.com/acme/app"
    );
    assert_eq!(
        res.json()[0]["ssh_url_to_repo"],
        "git@gitlab.example.com:acme/app.git"
    );
    assert!(
        res.header("link")
            .unwrap()
            .starts_with("<https://gitlab.example.com/api/v4/projects/")
    );
}

// ---- §2.4 errors outside the endpoints --------------------------------------------------------

#[tokio::test]
async fn unknown_routes_and_methods() {
    let w = world(Visibility::Private).await;
    let app = &w.app;
    check(
        app,
        get("/api/v4/nope").token(&w.maintainer),
        404,
        Some(error("404 Not Found")),
    )
    .await;
    check(app, get("/nope"), 404, Some(error("404 Not Found"))).await;
    check(
        app,
        put(format!("/api/v4/projects/{}/job_token_scope", w.project.id)).token(&w.maintainer),
        404,
        Some(error("404 Not Found")),
    )
    .await;
    check(
        app,
        post(format!("/api/v4/projects/{}/job_token_scope", w.project.id)).token(&w.maintainer),
        404,
        Some(error("404 Not Found")),
    )
    .await;
    check(
        app,
        get("/api/v4/projects/1/job_token_scope/allowlist/1").token(&w.maintainer),
        404,
        Some(error("404 Not Found")),
    )
    .await;
}
