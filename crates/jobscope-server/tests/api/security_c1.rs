//! Security requirements C1.1 to C1.13 of `shared/spec/security-and-performance.md`, one test
//! per item, each named after its anchor. Every test asserts observable behaviour through the
//! HTTP API (status, body, the decision's identity fields) and what the store holds afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use http_body_util::BodyExt;
use jobscope_server::config::ServerConfig;
use jobscope_server::routes::ROUTES;
use jobscope_server::state::AppState;
use jobscope_store::{JobStatus, LinkDirection, MemberSource, Store, UserState};
use jobscope_types::policies::JOB_TOKEN_POLICIES;
use jobscope_types::{AccessLevel, JobId, ProjectId, Visibility};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::*;

// ---- shared helpers -------------------------------------------------------------------------

fn msg(s: &str) -> Value {
    json!({ "message": s })
}

fn unauthorized() -> Value {
    msg("401 Unauthorized")
}

fn job_auth(token: &str) -> Auth {
    Auth::Header("job-token", token.to_owned())
}

fn not_allowed(from: &str, to: &str) -> Value {
    msg(&format!(
        "403 Forbidden - Authentication by CI/CD job token not allowed from {from} to {to}."
    ))
}

fn basic(user: &str, password: &str) -> Auth {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Auth::Header("authorization", format!("Basic {encoded}"))
}

/// Puts a credential into a request in one particular way.
type Transport<'a> = (&'static str, Box<dyn Fn(Req) -> Req + 'a>);

/// Every transport GitLab accepts for a job token.
fn job_token_transports(token: &str) -> Vec<Transport<'_>> {
    vec![
        (
            "JOB-TOKEN header",
            Box::new(move |r: Req| r.auth(job_auth(token))),
        ),
        (
            "Authorization: Bearer",
            Box::new(move |r: Req| r.auth(Auth::Bearer(token.to_owned()))),
        ),
        (
            "Basic gitlab-ci-token",
            Box::new(move |r: Req| r.auth(basic("gitlab-ci-token", token))),
        ),
        (
            "job_token query parameter",
            Box::new(move |mut r: Req| {
                let sep = if r.path.contains('?') { '&' } else { '?' };
                r.path = format!("{}{sep}job_token={token}", r.path);
                r
            }),
        ),
    ]
}

fn decision_path(project: &str) -> String {
    format!("/api/v4/job_token/allowed?project={project}")
}

async fn allowed(app: &TestApp, token: &str, project: impl std::fmt::Display) -> TestResponse {
    app.send(get(decision_path(&project.to_string())).auth(job_auth(token)))
        .await
}

/// Sends `req` through `router` in process, as `TestApp::send` does, for routers built here
/// (a second instance over the same database, an instance whose database file we know) and
/// for requests sent concurrently from spawned tasks.
async fn send_via(router: &Router, req: Req) -> TestResponse {
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
    let body = match req.body {
        Some((ct, b)) => {
            builder = builder.header("content-type", ct);
            Body::from(b)
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(builder.body(body).expect("request"))
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

/// A jobscope instance over a database file whose path the test knows; fixtures are made
/// through the REST API as root.
struct Instance {
    router: Router,
    store: Arc<dyn Store>,
}

impl Instance {
    async fn open(db: &TestDatabase) -> Instance {
        let store = db.open().await;
        let state = AppState::new(store.clone(), ServerConfig::default())
            .await
            .expect("server state");
        jobscope_server::bootstrap::ensure_root(&state, Some(ROOT_TOKEN))
            .await
            .expect("bootstrap");
        Instance {
            store: state.store.clone(),
            router: jobscope_server::app(state),
        }
    }

    async fn send(&self, req: Req) -> TestResponse {
        send_via(&self.router, req).await
    }

    /// Sends `req` as root and expects `status`; returns the body.
    async fn root(&self, req: Req, status: u16) -> Value {
        let res = self.send(req.token(ROOT_TOKEN)).await;
        assert_eq!(res.status.as_u16(), status, "{}", res.text);
        res.json()
    }

    async fn user(&self, name: &str) -> (i64, String) {
        let u = self
            .root(
                post("/api/v4/users").json(json!({
                    "username": name, "name": format!("User {name}"),
                    "email": format!("{name}@example.com"), "password": "correct-horse-battery"
                })),
                201,
            )
            .await;
        let id = u["id"].as_i64().expect("user id");
        let t = self
            .root(
                post(format!("/api/v4/users/{id}/personal_access_tokens"))
                    .json(json!({"name": "t", "scopes": ["api"]})),
                201,
            )
            .await;
        (id, t["token"].as_str().expect("token").to_owned())
    }

    async fn group(&self, path: &str, parent: Option<i64>, vis: &str) -> i64 {
        let mut body = json!({"name": path, "path": path, "visibility": vis});
        if let Some(p) = parent {
            body["parent_id"] = json!(p);
        }
        self.root(post("/api/v4/groups").json(body), 201).await["id"]
            .as_i64()
            .expect("group id")
    }

    async fn project(&self, ns: i64, path: &str, vis: &str) -> i64 {
        self.root(
            post("/api/v4/projects")
                .json(json!({"name": path, "path": path, "namespace_id": ns, "visibility": vis})),
            201,
        )
        .await["id"]
            .as_i64()
            .expect("project id")
    }

    async fn member(&self, project: i64, user: i64, level: u16) {
        self.root(
            post(format!("/api/v4/projects/{project}/members"))
                .json(json!({"user_id": user, "access_level": level})),
            201,
        )
        .await;
    }

    async fn job(&self, project: i64, user: i64) -> (i64, String) {
        let j = self
            .root(
                post("/api/v4/ci/jobs").json(json!({"project_id": project, "user_id": user})),
                201,
            )
            .await;
        (
            j["id"].as_i64().expect("job id"),
            j["token"].as_str().expect("job token").to_owned(),
        )
    }

    async fn allowed(&self, token: &str, project: i64) -> TestResponse {
        self.send(get(decision_path(&project.to_string())).auth(job_auth(token)))
            .await
    }
}

// ---- C1.1 -----------------------------------------------------------------------------------

/// C1.1 Deny by default across projects (anchors: spec A1b decision; GitLab issue #405369).
///
/// A job token from A reaches B only when A is on B's project allowlist or one of A's ancestor
/// groups is on B's group allowlist; a token always reaches its own project; entries are
/// directional. B is created through the REST API so that it has the defaults of a new
/// project (inbound allowlist on), and the matrix runs over private, internal and public B.
#[tokio::test]
async fn c1_01_deny_by_default_across_projects() {
    for vis in [
        Visibility::Private,
        Visibility::Internal,
        Visibility::Public,
    ] {
        let app = TestApp::new().await;
        let acme = app.group("acme", None, Visibility::Private).await;
        let platform = app
            .group("platform", Some(acme.id), Visibility::Private)
            .await;
        let origin = app
            .project(platform.id, "builder", Visibility::Private)
            .await;
        let elsewhere = app.group("elsewhere", None, Visibility::Private).await;
        let other = app.project(elsewhere.id, "tool", Visibility::Private).await;
        let user = app.user("runner").await;
        for p in [origin.id, other.id] {
            app.member(MemberSource::Project(p), user.id, AccessLevel::Developer)
                .await;
        }
        let targets = app.group("targets", None, vis).await;
        let res = app
            .send(post("/api/v4/projects").token(ROOT_TOKEN).json(json!({
                "name": "deployer", "path": "deployer",
                "namespace_id": targets.id, "visibility": vis.as_str()
            })))
            .await;
        assert_eq!(res.status.as_u16(), 201, "{}", res.text);
        let target = ProjectId(res.json()["id"].as_i64().unwrap());
        // A new project enforces its inbound allowlist.
        let scope = app
            .send(get(format!("/api/v4/projects/{target}/job_token_scope")).token(ROOT_TOKEN))
            .await;
        assert_eq!(scope.json()["inbound_enabled"], true, "{vis}");
        if vis == Visibility::Private {
            // So that the only reason for a refusal is the scope.
            app.member(
                MemberSource::Project(target),
                user.id,
                AccessLevel::Reporter,
            )
            .await;
        }
        let (_, a_token) = app.job(origin.id, user.id).await;
        let (_, b_token) = app.job(target, user.id).await;
        let (_, c_token) = app.job(other.id, user.id).await;

        // Nothing listed: denied, also by path and for nginx's auth_request.
        let res = allowed(&app, &a_token, target).await;
        assert_eq!(
            (res.status.as_u16(), res.json()),
            (403, not_allowed("builder", "deployer")),
            "{vis}: empty allowlist"
        );
        let res = allowed(&app, &a_token, "targets%2Fdeployer").await;
        assert_eq!(res.status.as_u16(), 403, "{vis}: by path");
        let res = app
            .send(
                get(format!(
                    "{}&auth_request=true",
                    decision_path(&target.to_string())
                ))
                .auth(job_auth(&a_token)),
            )
            .await;
        assert_eq!(res.status.as_u16(), 403, "{vis}: auth_request");

        // A token always reaches its own project.
        for (token, project) in [(&b_token, target), (&a_token, origin.id)] {
            let res = allowed(&app, token, project).await;
            assert_eq!(res.status.as_u16(), 200, "{vis}: own project: {}", res.text);
            assert_eq!(res.json()["matched"]["type"], "same_project");
        }

        // Entries for someone else admit only them.
        app.link_project(target, other.id).await;
        app.link_group(target, elsewhere.id).await;
        let res = allowed(&app, &a_token, target).await;
        assert_eq!(
            (res.status.as_u16(), res.json()),
            (403, not_allowed("builder", "deployer")),
            "{vis}: other entries"
        );
        let res = allowed(&app, &c_token, target).await;
        assert_eq!(res.status.as_u16(), 200, "{vis}: C is listed: {}", res.text);

        // A project entry for A.
        app.link_project(target, origin.id).await;
        let res = allowed(&app, &a_token, target).await;
        assert_eq!(
            res.status.as_u16(),
            200,
            "{vis}: project entry: {}",
            res.text
        );
        let body = res.json();
        assert_eq!(body["allowed"], true);
        assert_eq!(body["matched"]["type"], "project");
        assert_eq!(body["matched"]["id"], json!(origin.id));
        assert_eq!(body["source_project"]["id"], json!(origin.id));
        assert_eq!(body["target_project"]["id"], json!(target));
        // Entries are directional: A on B's list does not let B's jobs into A.
        let res = allowed(&app, &b_token, origin.id).await;
        assert_eq!(
            (res.status.as_u16(), res.json()),
            (403, not_allowed("deployer", "builder")),
            "{vis}: reverse direction"
        );

        // Removing the project entry denies again; an ancestor group entry (two levels up)
        // admits A.
        let res = app
            .send(
                delete(format!(
                    "/api/v4/projects/{target}/job_token_scope/allowlist/{}",
                    origin.id
                ))
                .token(ROOT_TOKEN),
            )
            .await;
        assert_eq!(res.status.as_u16(), 204);
        assert_eq!(allowed(&app, &a_token, target).await.status.as_u16(), 403);
        app.link_group(target, acme.id).await;
        let res = allowed(&app, &a_token, target).await;
        assert_eq!(res.status.as_u16(), 200, "{vis}: group entry: {}", res.text);
        assert_eq!(res.json()["matched"]["type"], "group");
        assert_eq!(res.json()["matched"]["full_path"], "acme");
    }
}

// ---- C1.2 -----------------------------------------------------------------------------------

/// C1.2 Visibility never widens scope (anchor: GitLab issue #405369).
///
/// A public or internal target gives nothing to a token that is not allowlisted: no policy
/// (read or admin), no plain access, whatever the job user's role in the target (Owner, none,
/// instance administrator), and turning the project's own flag off does not help while the
/// instance setting enforces the allowlist.
#[tokio::test]
async fn c1_02_visibility_never_widens_scope() {
    for vis in [Visibility::Internal, Visibility::Public] {
        let app = TestApp::new().await;
        let acme = app.group("acme", None, Visibility::Private).await;
        let origin = app.project(acme.id, "builder", Visibility::Private).await;
        let tg = app.group("targets", None, vis).await;
        let target = app.project(tg.id, "deployer", vis).await;
        let owner = app.user("owner").await;
        let stranger = app.user("stranger").await;
        let root = app.store.user_by_username("root").await.unwrap().unwrap();
        for u in [&owner, &stranger] {
            app.member(
                MemberSource::Project(origin.id),
                u.id,
                AccessLevel::Developer,
            )
            .await;
        }
        app.member(
            MemberSource::Project(target.id),
            owner.id,
            AccessLevel::Owner,
        )
        .await;
        let mut tokens = Vec::new();
        for u in [&owner, &stranger, &root] {
            tokens.push((u.username.clone(), app.job(origin.id, u.id).await.1));
        }
        let t = target.id.to_string();
        let denied = not_allowed("builder", "deployer");
        let check_all_denied = |label: &'static str| {
            let app = &app;
            let tokens = &tokens;
            let t = &t;
            let denied = &denied;
            async move {
                for (who, token) in tokens {
                    let mut queries = vec![String::new(), "&auth_request=true".to_owned()];
                    queries.extend(JOB_TOKEN_POLICIES.iter().map(|p| format!("&policy={p}")));
                    for q in &queries {
                        for project in [t.as_str(), "targets%2Fdeployer"] {
                            let res = app
                                .send(
                                    get(format!("{}{q}", decision_path(project)))
                                        .auth(job_auth(token)),
                                )
                                .await;
                            assert_eq!(
                                res.status.as_u16(),
                                403,
                                "{label}: {vis} target, {who}, {project}{q}: {}",
                                res.text
                            );
                            if q.is_empty() || q.starts_with("&policy") {
                                assert_eq!(&res.json(), denied, "{label}: {who}{q}");
                            }
                        }
                    }
                }
            }
        };
        check_all_denied("not allowlisted").await;

        // The project's own flag off, the instance setting on: still enforced.
        let res = app
            .send(
                patch(format!("/api/v4/projects/{t}/job_token_scope"))
                    .token(ROOT_TOKEN)
                    .json(json!({"enabled": false})),
            )
            .await;
        assert_eq!(res.status.as_u16(), 204);
        let res = app
            .send(
                put("/api/v4/application/settings")
                    .token(ROOT_TOKEN)
                    .json(json!({"enforce_ci_inbound_job_token_scope_enabled": true})),
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        check_all_denied("instance setting").await;

        // The refusals were about scope: once A is listed, the same tokens get in.
        app.link_project(target.id, origin.id).await;
        for (who, token) in &tokens {
            let res = allowed(&app, token, &t).await;
            assert_eq!(
                res.status.as_u16(),
                200,
                "{vis}, {who}, listed: {}",
                res.text
            );
            assert_eq!(res.json()["matched"]["type"], "project");
        }
    }
}

// ---- C1.3 -----------------------------------------------------------------------------------

/// C1.3 No token reuse after the job ends (anchors: GitLab's AuthJobFinder; JWT leeway; issue
/// #473376).
///
/// jobscope's jobs are `running`, `success`, `failed` or `canceled`. GitLab's other cases do not
/// exist here: jobs are never erased (there are no artifacts or logs to erase), a project is
/// deleted at once rather than scheduled ("pending deletion"; deleting it deletes its jobs),
/// and there is no `after_script` phase (a job ends when the CI system reports its final
/// status). Job tokens are opaque random secrets looked up by digest, not JWTs, so there is no
/// leeway: the token must be refused on the very next request, in every transport, on the
/// decision endpoint and on `GET /job`, and it cannot be revived. Other running jobs of the same
/// user and project are not affected.
#[tokio::test]
async fn c1_03_no_token_reuse_after_the_job_ends() {
    for ending in ["success", "failed", "canceled", "project deleted"] {
        let app = TestApp::new().await;
        let acme = app.group("acme", None, Visibility::Private).await;
        let origin = app.project(acme.id, "builder", Visibility::Private).await;
        let tg = app.group("targets", None, Visibility::Private).await;
        let target = app.project(tg.id, "deployer", Visibility::Private).await;
        let user = app.user("runner").await;
        app.member(
            MemberSource::Namespace(acme.id),
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
        app.link_project(target.id, origin.id).await;
        let ci = app.user("ci-system").await;
        let (ci_token, _) = app.token_with(ci.id, &["ci"], None, false).await;
        let start = || async {
            let res = app
                .send(
                    post("/api/v4/ci/jobs")
                        .token(&ci_token)
                        .json(json!({"project_id": origin.id, "user_id": user.id})),
                )
                .await;
            assert_eq!(res.status.as_u16(), 201, "{}", res.text);
            (
                res.json()["id"].as_i64().unwrap(),
                res.json()["token"].as_str().unwrap().to_owned(),
            )
        };
        let (id, token) = start().await;
        let (other_id, other_token) = start().await;
        for (transport, with) in job_token_transports(&token) {
            let res = app.send(with(get("/api/v4/job"))).await;
            assert_eq!(res.status.as_u16(), 200, "{transport}: {}", res.text);
            assert_eq!(res.json()["id"], json!(id));
            let res = app
                .send(with(get(decision_path(&target.id.to_string()))))
                .await;
            assert_eq!(res.status.as_u16(), 200, "{transport}: {}", res.text);
        }

        if ending == "project deleted" {
            let res = app
                .send(delete(format!("/api/v4/projects/{}", origin.id)).token(ROOT_TOKEN))
                .await;
            assert_eq!(res.status.as_u16(), 202, "{}", res.text);
        } else {
            let res = app
                .send(
                    put(format!("/api/v4/ci/jobs/{id}"))
                        .token(&ci_token)
                        .json(json!({"status": ending})),
                )
                .await;
            assert_eq!(res.status.as_u16(), 200, "{}", res.text);
            assert_eq!(res.json()["status"], ending);
        }

        // Refused on the very next request, everywhere.
        for (transport, with) in job_token_transports(&token) {
            for req in [
                get("/api/v4/job"),
                get(decision_path(&target.id.to_string())),
                get(decision_path(&origin.id.to_string())),
            ] {
                let path = req.path.clone();
                let res = app.send(with(req)).await;
                assert_eq!(
                    (res.status.as_u16(), res.json()),
                    (401, unauthorized()),
                    "{ending}, {transport}, {path}"
                );
            }
        }

        if ending == "project deleted" {
            // The project's jobs went with it.
            let res = app
                .send(get(format!("/api/v4/ci/jobs/{id}")).token(&ci_token))
                .await;
            assert_eq!(res.status.as_u16(), 404, "{}", res.text);
            assert_eq!(
                allowed(&app, &other_token, target.id).await.status.as_u16(),
                401
            );
            continue;
        }
        // It cannot be brought back: not to running, not to another final status.
        for status in ["running", "success", "failed", "canceled"] {
            let res = app
                .send(
                    put(format!("/api/v4/ci/jobs/{id}"))
                        .token(&ci_token)
                        .json(json!({"status": status})),
                )
                .await;
            assert_eq!(
                res.status.as_u16(),
                400,
                "{ending} -> {status}: {}",
                res.text
            );
        }
        let stored = app.store.job(JobId(id)).await.unwrap().unwrap();
        assert_eq!(stored.status.as_str(), ending);
        assert_eq!(
            allowed(&app, &token, target.id).await.status.as_u16(),
            401,
            "{ending}: still refused"
        );
        // Another running job of the same user and project still works.
        let res = allowed(&app, &other_token, target.id).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        assert_eq!(res.json()["job"]["id"], json!(other_id));
    }
}

// ---- C1.4 -----------------------------------------------------------------------------------

/// C1.4 New enemy / revocation ordering (anchors: Zanzibar's new enemy problem and zookies;
/// SpiceDB and OpenFGA consistency modes; GitLab MR !244601).
///
/// Two jobscope instances share one database (as two processes behind a load balancer would).
/// After a revoking change is acknowledged by either instance (`DELETE allowlist/A`,
/// `DELETE groups_allowlist/G`, `PATCH enabled=true`, the instance setting, the user losing
/// their role in the target), the very next check A→B on either instance denies; granting
/// changes are likewise visible at once. Repeated over many rounds, alternating instances.
#[tokio::test]
async fn c1_04_new_enemy_revocation_ordering() {
    let db = TestDatabase::new();
    let one = Instance::open(&db).await;
    let two = Instance::open(&db).await;
    let acme = one.group("acme", None, "private").await;
    let origin = one.project(acme, "builder", "private").await;
    let tg = one.group("targets", None, "private").await;
    let target = one.project(tg, "deployer", "private").await;
    let (user, _) = one.user("runner").await;
    one.member(origin, user, 30).await;
    one.member(target, user, 30).await;
    let (_, token) = two.job(origin, user).await;
    let base = format!("/api/v4/projects/{target}/job_token_scope");
    let instances = [&one, &two];

    let expect = |status: u16, label: String| {
        let token = &token;
        async move {
            for (i, inst) in instances.iter().enumerate() {
                let res = inst.allowed(token, target).await;
                assert_eq!(
                    res.status.as_u16(),
                    status,
                    "{label}, checked on instance {}: {}",
                    i + 1,
                    res.text
                );
            }
        }
    };
    expect(403, "initially".into()).await;
    for round in 0..25 {
        let (writer, other) = if round % 2 == 0 {
            (&one, &two)
        } else {
            (&two, &one)
        };
        writer
            .root(
                post(format!("{base}/allowlist")).json(json!({"target_project_id": origin})),
                201,
            )
            .await;
        // Checked first on the instance that did not make the change.
        assert_eq!(
            other.allowed(&token, target).await.status.as_u16(),
            200,
            "round {round}: add"
        );
        writer
            .root(delete(format!("{base}/allowlist/{origin}")), 204)
            .await;
        let res = other.allowed(&token, target).await;
        assert_eq!(
            (res.status.as_u16(), res.json()),
            (403, not_allowed("builder", "deployer")),
            "round {round}: removed on one instance, checked on the other"
        );
        expect(403, format!("round {round}: after DELETE allowlist")).await;

        writer
            .root(
                post(format!("{base}/groups_allowlist")).json(json!({"target_group_id": acme})),
                201,
            )
            .await;
        assert_eq!(other.allowed(&token, target).await.status.as_u16(), 200);
        writer
            .root(delete(format!("{base}/groups_allowlist/{acme}")), 204)
            .await;
        expect(403, format!("round {round}: after DELETE groups_allowlist")).await;

        writer
            .root(patch(&base).json(json!({"enabled": false})), 204)
            .await;
        let res = other.allowed(&token, target).await;
        assert_eq!(
            res.json()["matched"]["type"],
            "scope_disabled",
            "round {round}"
        );
        other
            .root(patch(&base).json(json!({"enabled": true})), 204)
            .await;
        expect(403, format!("round {round}: after PATCH enabled=true")).await;
    }

    // The instance setting.
    one.root(patch(&base).json(json!({"enabled": false})), 204)
        .await;
    expect(200, "scope disabled".into()).await;
    two.root(
        put("/api/v4/application/settings")
            .json(json!({"enforce_ci_inbound_job_token_scope_enabled": true})),
        200,
    )
    .await;
    expect(403, "after the instance setting".into()).await;

    // The user losing their role in the target.
    one.root(
        post(format!("{base}/allowlist")).json(json!({"target_project_id": origin})),
        201,
    )
    .await;
    expect(200, "listed".into()).await;
    two.root(
        delete(format!("/api/v4/projects/{target}/members/{user}")),
        204,
    )
    .await;
    // The private target is now invisible to the job's user: not found (404 before 403).
    expect(404, "after the membership was removed".into()).await;
}

// ---- C1.5 -----------------------------------------------------------------------------------

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// C1.5 No target the caller cannot see (anchors: GitLab issue #419625 / HackerOne #2076075;
/// GitLab's 404/400 oracle noted in spec A1).
///
/// Adding a project or group the caller cannot read is answered exactly like one that does not
/// exist: same status, same body bytes, same headers, and the same timing class (medians of
/// interleaved requests within a factor of 5, or within a millisecond of each other). Nothing
/// is written and no audit event appears. An administrator can add the same targets, which
/// shows they exist.
#[tokio::test]
async fn c1_05_no_target_the_caller_cannot_see() {
    let app = TestApp::new().await;
    let acme = app.group("acme", None, Visibility::Private).await;
    let project = app.project(acme.id, "app", Visibility::Private).await;
    let (m, maint) = app.user_with_token("maint").await;
    app.member(
        MemberSource::Namespace(acme.id),
        m.id,
        AccessLevel::Maintainer,
    )
    .await;
    // Targets the maintainer cannot read.
    let hidden = app.group("hidden", None, Visibility::Private).await;
    let secret = app.project(hidden.id, "secret", Visibility::Private).await;
    let open = app.group("open", None, Visibility::Public).await;
    let private_in_public = app.project(open.id, "secret2", Visibility::Private).await;
    let private_sub = app
        .group("closed", Some(open.id), Visibility::Private)
        .await;
    let readable = app.project(open.id, "readable", Visibility::Internal).await;
    let p = project.id;
    let list = format!("/api/v4/projects/{p}/job_token_scope/allowlist");
    let groups = format!("/api/v4/projects/{p}/job_token_scope/groups_allowlist");
    let events = format!("/api/v4/projects/{p}/audit_events");
    let events_before = app
        .send(get(&events).token(&maint))
        .await
        .header("x-total")
        .map(str::to_owned);

    let same = |a: &TestResponse, b: &TestResponse, label: &str| {
        assert_eq!(a.status, b.status, "{label}: status");
        assert_eq!(a.text, b.text, "{label}: body");
        let names = |r: &TestResponse| {
            let mut v: Vec<String> = r
                .headers
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-request-id"))
                .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?")))
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(a), names(b), "{label}: headers");
    };

    // (path, parameter, hidden ids, missing ids, expected body)
    let cases = [
        (
            &list,
            "target_project_id",
            vec![secret.id.get(), private_in_public.id.get()],
            vec![9_999_991_i64, 9_999_992],
            msg("404 target_project_id not found Not Found"),
        ),
        (
            &groups,
            "target_group_id",
            vec![hidden.id.get(), private_sub.id.get()],
            vec![9_999_991, 9_999_992],
            msg("404 target_group_id not found Not Found"),
        ),
    ];
    for (path, param, hidden_ids, missing_ids, want) in &cases {
        for (h, miss) in hidden_ids.iter().zip(missing_ids) {
            // JSON, form and query string forms.
            let forms: [(Req, Req); 3] = [
                (
                    post(path.as_str()).token(&maint).json(json!({ *param: h })),
                    post(path.as_str())
                        .token(&maint)
                        .json(json!({ *param: miss })),
                ),
                (
                    post(path.as_str())
                        .token(&maint)
                        .form(&format!("{param}={h}")),
                    post(path.as_str())
                        .token(&maint)
                        .form(&format!("{param}={miss}")),
                ),
                (
                    post(format!("{path}?{param}={h}")).token(&maint),
                    post(format!("{path}?{param}={miss}")).token(&maint),
                ),
            ];
            for (hidden_req, missing_req) in forms {
                let a = app.send(hidden_req).await;
                let b = app.send(missing_req).await;
                assert_eq!(a.status.as_u16(), 404, "{param}={h}: {}", a.text);
                assert_eq!(&a.json(), want);
                same(&a, &b, &format!("{param}={h} vs {miss}"));
            }
        }
        // Timing class: 20 of each, interleaved. A real oracle shows in every round; noise
        // from other tests running in parallel does not, so up to three rounds are measured.
        let mut verdict = Err(String::new());
        for _round in 0..3 {
            let (mut t_hidden, mut t_missing) = (Vec::new(), Vec::new());
            for i in 0..40 {
                let id = if i % 2 == 0 {
                    hidden_ids[0]
                } else {
                    missing_ids[0]
                };
                let started = Instant::now();
                let res = app
                    .send(
                        post(path.as_str())
                            .token(&maint)
                            .json(json!({ *param: id })),
                    )
                    .await;
                let took = started.elapsed();
                assert_eq!(res.status.as_u16(), 404);
                if i % 2 == 0 {
                    t_hidden.push(took);
                } else {
                    t_missing.push(took);
                }
            }
            let (h, miss) = (median(t_hidden), median(t_missing));
            let (lo, hi) = if h < miss { (h, miss) } else { (miss, h) };
            let same_class = hi <= lo * 5 || hi - lo < Duration::from_millis(2);
            let fast = hi < Duration::from_millis(100);
            verdict = if same_class && fast {
                Ok(())
            } else {
                Err(format!(
                    "{param}: medians hidden {h:?}, missing {miss:?} (same class: {same_class}, under 100 ms: {fast})"
                ))
            };
            if verdict.is_ok() {
                break;
            }
        }
        if let Err(e) = verdict {
            panic!("timing tells a hidden target from a missing one: {e}");
        }
    }
    // Nothing written, nothing audited.
    assert!(
        app.store
            .project_links(p, LinkDirection::Inbound)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(app.store.group_links(p).await.unwrap().is_empty());
    assert_eq!(
        app.send(get(&events).token(&maint))
            .await
            .header("x-total")
            .map(str::to_owned),
        events_before
    );
    // A target the caller can read is added (the refusals were about visibility) ...
    let res = app
        .send(
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": readable.id})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
    let res = app
        .send(
            post(&groups)
                .token(&maint)
                .json(json!({"target_group_id": open.id})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
    // ... and the hidden ones exist: an administrator can add them.
    for (path, param, ids) in [
        (
            &list,
            "target_project_id",
            [secret.id.get(), private_in_public.id.get()],
        ),
        (
            &groups,
            "target_group_id",
            [hidden.id.get(), private_sub.id.get()],
        ),
    ] {
        for id in ids {
            let res = app
                .send(
                    post(path.as_str())
                        .token(ROOT_TOKEN)
                        .json(json!({ param: id })),
                )
                .await;
            assert_eq!(
                res.status.as_u16(),
                201,
                "admin adds {param}={id}: {}",
                res.text
            );
        }
    }
}

// ---- C1.6 -----------------------------------------------------------------------------------

/// C1.6 Status-code matrix on the scope endpoints (anchors: spec A1b ladder; A2 error bodies).
///
/// The eight endpoints (GET/PATCH scope; GET/POST/DELETE allowlist; GET/POST/DELETE
/// groups_allowlist) × {anonymous, garbage, expired, revoked, `read_api`, non-member of a
/// private project, Reporter, Developer, Maintainer, Owner}: status and GitLab's body, and a
/// refused mutation changes nothing.
#[tokio::test]
async fn c1_06_status_code_matrix() {
    let app = TestApp::new().await;
    let acme = app.group("acme", None, Visibility::Private).await;
    let project = app.project(acme.id, "app", Visibility::Private).await;
    let other = app.group("other", None, Visibility::Public).await;
    let target = app.project(other.id, "lib", Visibility::Public).await;
    let (p, t, tg) = (project.id, target.id, other.id);
    let mut actors: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        ("garbage", Some("glpat-this-is-not-a-token-0".to_owned())),
    ];
    let (maint_user, maint) = app.user_with_token("maint").await;
    app.member(
        MemberSource::Namespace(acme.id),
        maint_user.id,
        AccessLevel::Maintainer,
    )
    .await;
    let (expired, _) = app
        .token_with(maint_user.id, &["api"], Some(-1), false)
        .await;
    let (revoked, _) = app.token_with(maint_user.id, &["api"], None, true).await;
    let (read_api, _) = app
        .token_with(maint_user.id, &["read_api"], None, false)
        .await;
    actors.push(("expired", Some(expired)));
    actors.push(("revoked", Some(revoked)));
    actors.push(("read_api", Some(read_api)));
    let (_, outsider) = app.user_with_token("outsider").await;
    actors.push(("non-member", Some(outsider)));
    for (name, level) in [
        ("reporter", AccessLevel::Reporter),
        ("developer", AccessLevel::Developer),
    ] {
        let (u, tok) = app.user_with_token(name).await;
        app.member(MemberSource::Namespace(acme.id), u.id, level)
            .await;
        actors.push((name, Some(tok)));
    }
    actors.push(("maintainer", Some(maint)));
    let (o, owner) = app.user_with_token("owner").await;
    app.member(MemberSource::Namespace(acme.id), o.id, AccessLevel::Owner)
        .await;
    actors.push(("owner", Some(owner)));

    let base = format!("/api/v4/projects/{p}/job_token_scope");
    #[derive(Clone, Copy, PartialEq)]
    enum E {
        Show,
        Update,
        ListProjects,
        AddProject,
        RemoveProject,
        ListGroups,
        AddGroup,
        RemoveGroup,
    }
    let endpoints = [
        E::Show,
        E::Update,
        E::ListProjects,
        E::AddProject,
        E::RemoveProject,
        E::ListGroups,
        E::AddGroup,
        E::RemoveGroup,
    ];
    let request = |e: E| match e {
        E::Show => get(&base),
        E::Update => patch(&base).json(json!({"enabled": false})),
        E::ListProjects => get(format!("{base}/allowlist")),
        E::AddProject => post(format!("{base}/allowlist")).json(json!({"target_project_id": t})),
        E::RemoveProject => delete(format!("{base}/allowlist/{t}")),
        E::ListGroups => get(format!("{base}/groups_allowlist")),
        E::AddGroup => {
            post(format!("{base}/groups_allowlist")).json(json!({"target_group_id": tg}))
        }
        E::RemoveGroup => delete(format!("{base}/groups_allowlist/{tg}")),
    };
    // What the store holds that the endpoint would change.
    let state = |e: E| {
        let app = &app;
        async move {
            match e {
                E::Update => {
                    app.store
                        .project(p)
                        .await
                        .unwrap()
                        .unwrap()
                        .inbound_scope_enabled
                }
                E::AddProject | E::RemoveProject => app
                    .store
                    .project_link(p, t, LinkDirection::Inbound)
                    .await
                    .unwrap()
                    .is_some(),
                E::AddGroup | E::RemoveGroup => {
                    app.store.group_link(p, tg).await.unwrap().is_some()
                }
                _ => false,
            }
        }
    };
    let reset = |e: E| {
        let app = &app;
        async move {
            match e {
                E::Update => {
                    app.store
                        .set_inbound_scope_enabled(p, true, None)
                        .await
                        .unwrap();
                }
                E::AddProject => {
                    app.store
                        .remove_project_link(p, t, jobscope_store::conformance::audit(p, "reset"))
                        .await
                        .unwrap();
                }
                E::RemoveProject => app.link_project(p, t).await,
                E::AddGroup => {
                    app.store
                        .remove_group_link(p, tg, jobscope_store::conformance::audit(p, "reset"))
                        .await
                        .unwrap();
                }
                E::RemoveGroup => app.link_group(p, tg).await,
                _ => {}
            }
        }
    };
    for e in endpoints {
        let mutating = !matches!(e, E::Show | E::ListProjects | E::ListGroups);
        let success = match e {
            E::Update | E::RemoveProject | E::RemoveGroup => 204,
            E::AddProject | E::AddGroup => 201,
            _ => 200,
        };
        let forbidden = if matches!(e, E::RemoveProject | E::RemoveGroup) {
            msg("403 Forbidden - Insufficient permissions to modify the job token scope")
        } else {
            msg("403 Forbidden")
        };
        for (who, token) in &actors {
            reset(e).await;
            let before = state(e).await;
            let mut req = request(e);
            if let Some(tok) = token {
                req = req.token(tok);
            }
            let label = format!("{} {} as {who}", req.method, req.path);
            let res = app.send(req).await;
            let (status, body) = match *who {
                "anonymous" | "garbage" => (401, Some(unauthorized())),
                "expired" => (
                    401,
                    Some(
                        json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."}),
                    ),
                ),
                "revoked" => (
                    401,
                    Some(
                        json!({"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."}),
                    ),
                ),
                "read_api" if mutating => (
                    403,
                    Some(json!({"error": "insufficient_scope",
                        "error_description": "The request requires higher privileges than provided by the access token.",
                        "scope": "api read_api"})),
                ),
                "read_api" => (200, None),
                "non-member" => (404, Some(msg("404 Project Not Found"))),
                "reporter" | "developer" => (403, Some(forbidden.clone())),
                _ => (success, None),
            };
            assert_eq!(res.status.as_u16(), status, "{label}: {}", res.text);
            if let Some(b) = body {
                assert_eq!(res.json(), b, "{label}");
            }
            if matches!(*who, "expired" | "revoked") {
                assert!(
                    res.header("www-authenticate")
                        .is_some_and(|h| h.contains("invalid_token")),
                    "{label}"
                );
            }
            let after = state(e).await;
            if res.status.is_success() {
                if mutating {
                    assert_ne!(before, after, "{label}: a success must change the scope");
                }
            } else {
                assert_eq!(before, after, "{label}: a refusal must change nothing");
            }
        }
    }
}

// ---- C1.7 -----------------------------------------------------------------------------------

/// C1.7 A job token is not a management credential (anchors: CVE-2024-8641; GitLab's
/// management routes lack `job_token_allowed`).
///
/// The job runs as the instance administrator, so a job token wrongly taken for its user's
/// credential would succeed everywhere. In every transport (`JOB-TOKEN`, `Bearer glcbt-…`,
/// Basic `gitlab-ci-token`, `?job_token=`, and also as a personal access token), every
/// `job_token_scope` route and every route that could mint or reveal a longer-lived credential
/// answers `401 Unauthorized`. Then every route of the API except `GET /job` and the decision
/// endpoint is swept: with a job token it answers 401 or exactly what an anonymous request
/// gets. `GET /job` reveals no token.
#[tokio::test]
async fn c1_07_job_token_is_not_a_management_credential() {
    let app = TestApp::new().await;
    let acme = app.group("acme", None, Visibility::Private).await;
    let project = app.project(acme.id, "app", Visibility::Private).await;
    let other = app.group("other", None, Visibility::Public).await;
    let target = app.project(other.id, "lib", Visibility::Public).await;
    let root = app.store.user_by_username("root").await.unwrap().unwrap();
    let (member, _) = app.user_with_token("member").await;
    let (pat, _) = app.token_with(member.id, &["api"], None, false).await;
    app.member(
        MemberSource::Namespace(acme.id),
        member.id,
        AccessLevel::Maintainer,
    )
    .await;
    let (job, jt) = app.job(project.id, root.id).await;
    let (p, t, tg, uid) = (project.id, target.id, other.id, member.id);
    let pat_count = || async {
        app.store
            .list_personal_access_tokens(
                &jobscope_store::TokenQuery::default(),
                jobscope_store::PageRequest::all(),
            )
            .await
            .unwrap()
            .total
    };
    let pats_before = pat_count().await;

    let scope = format!("/api/v4/projects/{p}/job_token_scope");
    let management: Vec<Req> = vec![
        get(&scope),
        patch(&scope).json(json!({"enabled": false})),
        get(format!("{scope}/allowlist")),
        post(format!("{scope}/allowlist")).json(json!({"target_project_id": t})),
        delete(format!("{scope}/allowlist/{t}")),
        patch(format!("{scope}/allowlist/{t}")).json(json!({"default_permissions": false})),
        get(format!("{scope}/groups_allowlist")),
        post(format!("{scope}/groups_allowlist")).json(json!({"target_group_id": tg})),
        delete(format!("{scope}/groups_allowlist/{tg}")),
        patch(format!("{scope}/groups_allowlist/{tg}")).json(json!({"default_permissions": false})),
        get(format!("{scope}/auth_logs")),
        post(format!("{scope}/autopopulate")),
        delete(format!("{scope}/autopopulated")),
        get(format!("{scope}/reachable")),
        get(format!("/api/v4/projects/{p}/audit_events")),
        get("/api/v4/user"),
        get("/api/v4/personal_access_tokens/self"),
        get("/api/v4/personal_access_tokens"),
        post("/api/v4/personal_access_tokens/self/rotate"),
        post(format!("/api/v4/users/{}/personal_access_tokens", root.id))
            .json(json!({"name": "stolen", "scopes": ["api"]})),
        post(format!("/api/v4/users/{uid}/personal_access_tokens"))
            .json(json!({"name": "stolen", "scopes": ["api"]})),
        get("/api/v4/application/settings"),
        put("/api/v4/application/settings")
            .json(json!({"enforce_ci_inbound_job_token_scope_enabled": true})),
        post("/api/v4/ci/jobs").json(json!({"project_id": p, "user_id": root.id})),
        get(format!("/api/v4/ci/jobs/{}", job.id)),
        put(format!("/api/v4/ci/jobs/{}", job.id)).json(json!({"status": "success"})),
    ];
    // Every job_token_scope route of the table is in the list above.
    for r in ROUTES
        .iter()
        .filter(|r| r.path.contains("/job_token_scope"))
    {
        let covered = management.iter().any(|req| {
            let concrete = r
                .path
                .replace("{id}", &p.to_string())
                .replace("{target_project_id}", &t.to_string())
                .replace("{target_group_id}", &tg.to_string());
            req.method.as_str() == r.method && req.path == format!("/api/v4{concrete}")
        });
        assert!(covered, "{} {} is not exercised", r.method, r.path);
    }
    let mut transports = job_token_transports(&jt);
    transports.push((
        "PRIVATE-TOKEN header",
        Box::new(|r: Req| r.auth(Auth::PrivateToken(jt.clone()))),
    ));
    transports.push((
        "private_token query parameter",
        Box::new(|mut r: Req| {
            let sep = if r.path.contains('?') { '&' } else { '?' };
            r.path = format!("{}{sep}private_token={jt}", r.path);
            r
        }),
    ));
    for req in &management {
        for (transport, with) in &transports {
            let copy = Req {
                method: req.method.clone(),
                path: req.path.clone(),
                auth: Auth::None,
                body: req.body.clone(),
                headers: req.headers.clone(),
                peer: req.peer,
            };
            let res = app.send(with(copy)).await;
            assert_eq!(
                (res.status.as_u16(), res.json()),
                (401, unauthorized()),
                "{} {} with a job token ({transport})",
                req.method,
                req.path
            );
        }
    }

    // The sweep: every route, with a job token, answers 401 or what anonymous gets.
    let body = json!({
        "name": "x", "path": "x", "username": "x", "email": "x@example.com",
        "password": "correct-horse-battery", "scopes": ["api"], "enabled": false,
        "target_project_id": t, "target_group_id": tg, "user_id": uid, "access_level": 50,
        "project_id": p, "status": "success", "namespace_id": acme.id,
        "enforce_ci_inbound_job_token_scope_enabled": true,
    });
    for route in ROUTES {
        if matches!(route.path, "/job" | "/job_token/allowed") {
            continue;
        }
        let id = if route.path.starts_with("/users/") {
            uid.to_string()
        } else if route.path.starts_with("/groups/") {
            acme.id.to_string()
        } else if route.path.starts_with("/ci/jobs/") {
            job.id.to_string()
        } else if route.path.starts_with("/personal_access_tokens/") {
            "1".to_owned()
        } else {
            p.to_string()
        };
        let path = format!(
            "/api/v4{}",
            route
                .path
                .replace("{id}", &id)
                .replace("{user_id}", &uid.to_string())
                .replace("{target_project_id}", &t.to_string())
                .replace("{target_group_id}", &tg.to_string())
                .replace("{audit_event_id}", "1")
        );
        let make = || {
            let r = Req::new(route.method(), path.clone());
            if matches!(route.method, "POST" | "PUT" | "PATCH") {
                r.json(body.clone())
            } else {
                r
            }
        };
        let anonymous = app.send(make()).await;
        for (transport, with) in &transports {
            let res = app.send(with(make())).await;
            let label = format!("{} {path} ({transport})", route.method);
            if res.status.as_u16() != 401 {
                assert_eq!(res.status, anonymous.status, "{label}: {}", res.text);
                assert_eq!(res.json(), anonymous.json(), "{label}");
            }
            assert!(
                !res.status.is_success() || !route.method.eq("DELETE"),
                "{label} succeeded"
            );
        }
    }

    // No credential was minted, nothing was deleted, the job still runs.
    assert_eq!(pat_count().await, pats_before);
    assert!(app.store.project(p).await.unwrap().is_some());
    assert!(app.store.namespace(acme.id).await.unwrap().is_some());
    assert!(app.store.user(uid).await.unwrap().is_some());
    assert_eq!(
        app.store.job(job.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
    // GET /job is the one other route that takes a job token, and reveals no token.
    let res = app.send(get("/api/v4/job").auth(job_auth(&jt))).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(res.json()["id"], json!(job.id));
    for needle in ["glcbt-", "glpat-", jt.as_str(), ROOT_TOKEN, pat.as_str()] {
        assert!(!res.text.contains(needle), "GET /job reveals {needle}");
    }
    assert!(res.json().get("token").is_none());
}

// ---- C1.8 -----------------------------------------------------------------------------------

/// C1.8 Identity binding (anchors: CVE-2024-5655, CVE-2024-6678).
///
/// The decision's source project, user and job come only from the server's record of the job
/// behind the token. Spoofed `project_id`, `source_project`, `user_id`, `job_id`, … parameters
/// (query and body), `Sudo`, `X-Forwarded-User` and similar headers, an administrator's
/// `PRIVATE-TOKEN` alongside, or a second job token in another transport never change the
/// answer; a token of one job is never accepted as another job (not even a job of the same
/// project and user once the first has ended), and near-miss tokens are refused.
#[tokio::test]
async fn c1_08_identity_binding() {
    let app = TestApp::new().await;
    let acme = app.group("acme", None, Visibility::Private).await;
    let a = app.project(acme.id, "builder", Visibility::Private).await;
    let partners = app.group("partners", None, Visibility::Private).await;
    let c = app.project(partners.id, "tool", Visibility::Private).await;
    let tg = app.group("targets", None, Visibility::Private).await;
    // B admits C only; D admits A only.
    let b = app.project(tg.id, "deployer", Visibility::Private).await;
    let d = app.project(tg.id, "docs", Visibility::Private).await;
    let u1 = app.user("alice").await;
    let u2 = app.user("bob").await;
    app.member(MemberSource::Project(a.id), u1.id, AccessLevel::Developer)
        .await;
    app.member(MemberSource::Project(c.id), u2.id, AccessLevel::Developer)
        .await;
    for u in [&u1, &u2] {
        app.member(MemberSource::Namespace(tg.id), u.id, AccessLevel::Reporter)
            .await;
    }
    app.link_project(b.id, c.id).await;
    app.link_project(d.id, a.id).await;
    let (job1, t1) = app.job(a.id, u1.id).await;
    let (job2, t2) = app.job(c.id, u2.id).await;
    let (_, pat2) = app.user_with_token("carol").await;
    let root = app.store.user_by_username("root").await.unwrap().unwrap();

    // Baselines.
    let res = allowed(&app, &t1, b.id).await;
    assert_eq!(res.json(), not_allowed("builder", "deployer"));
    let res = allowed(&app, &t2, b.id).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json()["user"]["id"], json!(u2.id));

    let spoof_params = format!(
        "project_id={c}&source_project={c}&source_project_id={c}&origin_project={c}&user_id={u}&user={un}&username={un}&job_id={j}&id={j}&sudo={un}",
        c = c.id,
        u = u2.id,
        un = u2.username,
        j = job2.id,
    );
    let spoof_body = json!({
        "project_id": c.id, "source_project": c.id, "source_project_id": c.id,
        "user_id": u2.id, "user": u2.username, "username": u2.username, "job_id": job2.id,
        "id": job2.id,
    });
    let spoof_headers: Vec<(&str, String)> = vec![
        ("sudo", u2.username.clone()),
        ("sudo", root.id.to_string()),
        ("x-forwarded-user", u2.username.clone()),
        ("x-forwarded-email", "bob@example.com".into()),
        ("x-remote-user", u2.username.clone()),
        ("x-gitlab-user", u2.username.clone()),
        ("x-jobscope-user", u2.username.clone()),
        ("x-jobscope-user-id", u2.id.to_string()),
        ("x-jobscope-source-project", "partners/tool".into()),
        ("x-jobscope-job-id", job2.id.to_string()),
        ("x-forwarded-for", "10.0.0.1".into()),
        ("private-token", ROOT_TOKEN.into()),
        ("private-token", pat2.clone()),
    ];
    // For every target, the answer a plain request gets, and that spoofed requests must get.
    for (target, want_status) in [(b.id, 403), (d.id, 200)] {
        let path = decision_path(&target.to_string());
        let mut variants: Vec<(String, Req)> = vec![
            (
                "query".into(),
                get(format!("{path}&{spoof_params}")).auth(job_auth(&t1)),
            ),
            (
                "body".into(),
                get(&path).auth(job_auth(&t1)).json(spoof_body.clone()),
            ),
            (
                "form body".into(),
                get(&path).auth(job_auth(&t1)).form(&spoof_params),
            ),
        ];
        for (k, v) in &spoof_headers {
            variants.push((
                format!("header {k}: {v}"),
                get(&path).auth(job_auth(&t1)).header(k, v),
            ));
        }
        variants.push((
            "all headers at once".into(),
            spoof_headers.iter().fold(
                get(format!("{path}&{spoof_params}")).auth(job_auth(&t1)),
                |r, (k, v)| r.header(k, v),
            ),
        ));
        for (label, req) in variants {
            let res = app.send(req).await;
            assert_eq!(
                res.status.as_u16(),
                want_status,
                "target {target}, spoofed {label}: {}",
                res.text
            );
            if want_status == 403 {
                assert_eq!(res.json(), not_allowed("builder", "deployer"), "{label}");
            } else {
                let body = res.json();
                assert_eq!(body["source_project"]["id"], json!(a.id), "{label}");
                assert_eq!(
                    body["source_project"]["path_with_namespace"], "acme/builder",
                    "{label}"
                );
                assert_eq!(body["user"]["id"], json!(u1.id), "{label}");
                assert_eq!(body["user"]["username"], "alice", "{label}");
                assert_eq!(body["job"]["id"], json!(job1.id), "{label}");
                assert_eq!(res.header("x-jobscope-user"), Some("alice"), "{label}");
                assert_eq!(
                    res.header("x-jobscope-source-project"),
                    Some("acme/builder"),
                    "{label}"
                );
                assert_eq!(
                    res.header("x-jobscope-job-id"),
                    Some(job1.id.to_string().as_str()),
                    "{label}"
                );
            }
        }
    }

    // Two job tokens in one request: the answer is entirely one job's, never a mix.
    let ids = |v: &Value| {
        (
            v["job"]["id"].clone(),
            v["source_project"]["id"].clone(),
            v["user"]["id"].clone(),
        )
    };
    let job1_ids = (json!(job1.id), json!(a.id), json!(u1.id));
    let job2_ids = (json!(job2.id), json!(c.id), json!(u2.id));
    for (label, req) in [
        (
            "header job 1, query job 2",
            get(format!(
                "{}&job_token={t2}",
                decision_path(&b.id.to_string())
            ))
            .auth(job_auth(&t1)),
        ),
        (
            "header job 1, basic job 2",
            get(decision_path(&b.id.to_string()))
                .auth(job_auth(&t1))
                .header("authorization", &{
                    let e = base64::engine::general_purpose::STANDARD
                        .encode(format!("gitlab-ci-token:{t2}"));
                    format!("Basic {e}")
                }),
        ),
        (
            "bearer job 2, query job 1",
            get(format!(
                "{}&job_token={t1}",
                decision_path(&b.id.to_string())
            ))
            .auth(Auth::Bearer(t2.clone())),
        ),
    ] {
        let res = app.send(req).await;
        match res.status.as_u16() {
            // Job 2 is admitted to B: the whole answer must be job 2's.
            200 => assert_eq!(ids(&res.json()), job2_ids, "{label}"),
            // Job 1 is not: the refusal must name job 1's project.
            403 => assert_eq!(res.json(), not_allowed("builder", "deployer"), "{label}"),
            401 => {}
            s => panic!("{label}: unexpected {s}: {}", res.text),
        }
    }
    let res = app
        .send(get(format!("/api/v4/job?id={}&job_id={}", job2.id, job2.id)).auth(job_auth(&t1)))
        .await;
    assert_eq!(res.json()["id"], json!(job1.id));
    let res = allowed(&app, &t1, d.id).await;
    assert_eq!(ids(&res.json()), job1_ids);

    // A token of one job is never accepted as another job, even of the same project and user.
    let (job3, t3) = app.job(a.id, u1.id).await;
    let res = app
        .send(
            put(format!("/api/v4/ci/jobs/{}", job1.id))
                .token(ROOT_TOKEN)
                .json(json!({"status": "success"})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(allowed(&app, &t1, d.id).await.status.as_u16(), 401);
    assert_eq!(
        app.send(get("/api/v4/job").auth(job_auth(&t1)))
            .await
            .status
            .as_u16(),
        401
    );
    let res = allowed(&app, &t3, d.id).await;
    assert_eq!(res.json()["job"]["id"], json!(job3.id));

    // Near misses: another Basic user name, altered tokens.
    let mut near: Vec<(String, Auth)> = vec![
        ("basic as alice".into(), basic("alice", &t3)),
        ("basic as root".into(), basic("root", &t3)),
        ("basic without user".into(), basic("", &t3)),
    ];
    let mut chars: Vec<char> = t3.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'a' { 'b' } else { 'a' };
    for (label, tok) in [
        ("last character changed", chars.iter().collect::<String>()),
        ("truncated", t3[..t3.len() - 1].to_owned()),
        ("extended", format!("{t3}x")),
        ("upper case", t3.to_uppercase()),
        ("prefix only", "glcbt-".to_owned()),
        ("a personal access token", pat2.clone()),
    ] {
        near.push((label.to_owned(), job_auth(&tok)));
    }
    for (label, auth) in near {
        let res = app
            .send(get(decision_path(&d.id.to_string())).auth(auth))
            .await;
        assert_eq!(
            (res.status.as_u16(), res.json()),
            (401, unauthorized()),
            "{label}"
        );
    }
}

// ---- C1.9 -----------------------------------------------------------------------------------

/// C1.9 User and project gates apply to job tokens (anchors: GitLab issue #368961, SSO bypass;
/// `check_active_user!` on GitLab's Git path; AuthJobFinder's project checks).
///
/// Blocking or deactivating the job's user (through the API, which also cancels their running
/// jobs, and directly in the store, where the job stays running so that the gate itself is
/// tested), deleting the user, deleting the source project or its group: the job token is
/// refused on the next request. The user losing their role in the target denies; the target
/// disappearing is a 404. jobscope has no SSO or IP policies and no "pending deletion" state.
#[tokio::test]
async fn c1_09_user_and_project_gates_apply_to_job_tokens() {
    struct W {
        app: TestApp,
        acme: jobscope_store::Namespace,
        origin: jobscope_store::Project,
        target: jobscope_store::Project,
        user: jobscope_store::User,
    }
    async fn world() -> W {
        let app = TestApp::new().await;
        let acme = app.group("acme", None, Visibility::Private).await;
        let origin = app.project(acme.id, "builder", Visibility::Private).await;
        let tg = app.group("targets", None, Visibility::Private).await;
        let target = app.project(tg.id, "deployer", Visibility::Private).await;
        let user = app.user("runner").await;
        app.member(
            MemberSource::Project(origin.id),
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
        app.link_project(target.id, origin.id).await;
        W {
            app,
            acme,
            origin,
            target,
            user,
        }
    }
    let refused = |res: TestResponse, label: &str| {
        assert_eq!(
            (res.status.as_u16(), res.json()),
            (401, unauthorized()),
            "{label}"
        );
    };

    // Through the API: the token is refused and the job is canceled for good.
    for (action, undo) in [("block", "unblock"), ("deactivate", "activate")] {
        let w = world().await;
        let (job, token) = w.app.job(w.origin.id, w.user.id).await;
        assert_eq!(
            allowed(&w.app, &token, w.target.id).await.status.as_u16(),
            200
        );
        let res = w
            .app
            .send(post(format!("/api/v4/users/{}/{action}", w.user.id)).token(ROOT_TOKEN))
            .await;
        assert_eq!(res.status.as_u16(), 201, "{action}: {}", res.text);
        refused(allowed(&w.app, &token, w.target.id).await, action);
        refused(allowed(&w.app, &token, w.origin.id).await, action);
        refused(
            w.app.send(get("/api/v4/job").auth(job_auth(&token))).await,
            action,
        );
        assert_eq!(
            w.app.store.job(job.id).await.unwrap().unwrap().status,
            JobStatus::Canceled,
            "{action} cancels the user's running jobs"
        );
        let res = w
            .app
            .send(post(format!("/api/v4/users/{}/{undo}", w.user.id)).token(ROOT_TOKEN))
            .await;
        assert_eq!(res.status.as_u16(), 201, "{undo}: {}", res.text);
        refused(allowed(&w.app, &token, w.target.id).await, undo);
        // New jobs work again.
        let (_, fresh) = w.app.job(w.origin.id, w.user.id).await;
        assert_eq!(
            allowed(&w.app, &fresh, w.target.id).await.status.as_u16(),
            200
        );
    }

    // The gate itself: the user's state changes while the job still runs.
    for state in [UserState::Blocked, UserState::Deactivated] {
        let w = world().await;
        let (job, token) = w.app.job(w.origin.id, w.user.id).await;
        assert_eq!(
            allowed(&w.app, &token, w.target.id).await.status.as_u16(),
            200
        );
        w.app.store.set_user_state(w.user.id, state).await.unwrap();
        assert_eq!(
            w.app.store.job(job.id).await.unwrap().unwrap().status,
            JobStatus::Running
        );
        refused(allowed(&w.app, &token, w.target.id).await, state.as_str());
        refused(
            w.app.send(get("/api/v4/job").auth(job_auth(&token))).await,
            state.as_str(),
        );
        w.app
            .store
            .set_user_state(w.user.id, UserState::Active)
            .await
            .unwrap();
        assert_eq!(
            allowed(&w.app, &token, w.target.id).await.status.as_u16(),
            200,
            "the gate is checked on every request"
        );
    }

    // Deleting the user, the source project, the source project's group.
    for what in ["user", "project", "group"] {
        let w = world().await;
        let (job, token) = w.app.job(w.origin.id, w.user.id).await;
        assert_eq!(
            allowed(&w.app, &token, w.target.id).await.status.as_u16(),
            200
        );
        let path = match what {
            "user" => format!("/api/v4/users/{}", w.user.id),
            "project" => format!("/api/v4/projects/{}", w.origin.id),
            _ => format!("/api/v4/groups/{}", w.acme.id),
        };
        let res = w.app.send(delete(path).token(ROOT_TOKEN)).await;
        assert!(res.status.is_success(), "delete {what}: {}", res.text);
        refused(allowed(&w.app, &token, w.target.id).await, what);
        refused(
            w.app.send(get("/api/v4/job").auth(job_auth(&token))).await,
            what,
        );
        if what != "user" {
            assert!(w.app.store.job(job.id).await.unwrap().is_none(), "{what}");
        }
    }

    // The user's role in the target, and the target itself.
    let w = world().await;
    let (_, token) = w.app.job(w.origin.id, w.user.id).await;
    let res = w
        .app
        .send(
            delete(format!(
                "/api/v4/projects/{}/members/{}",
                w.target.id, w.user.id
            ))
            .token(ROOT_TOKEN),
        )
        .await;
    assert_eq!(res.status.as_u16(), 204, "{}", res.text);
    let res = allowed(&w.app, &token, w.target.id).await;
    // The private target is now invisible to the job's user: not found, not named.
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (404, json!({"message": "404 Project Not Found"}))
    );
    w.app
        .member(
            MemberSource::Project(w.target.id),
            w.user.id,
            AccessLevel::Reporter,
        )
        .await;
    assert_eq!(
        allowed(&w.app, &token, w.target.id).await.status.as_u16(),
        200
    );
    let res = w
        .app
        .send(delete(format!("/api/v4/projects/{}", w.target.id)).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 202);
    let res = allowed(&w.app, &token, w.target.id).await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (404, msg("404 Project Not Found"))
    );
}

// ---- C1.10 ----------------------------------------------------------------------------------

/// C1.10 Group allowlist semantics (anchors: GitLab MR !249880; `Allowlist#includes_group?`).
///
/// An entry for group G admits projects in G and in all of G's descendants at any depth,
/// including subgroups and projects created after the entry; it does not admit projects in
/// sibling groups (including one whose path merely starts with G's), in G's parent, or in a
/// same-named group elsewhere. A personal namespace is not a group: it cannot be added, and a
/// project in one is admitted only by a project entry. Removing the entry revokes at once.
/// jobscope has no project transfer API (see docs/compatibility.md), so "moving A out of G"
/// cannot happen; removal of the entry and deletion are what exist.
#[tokio::test]
async fn c1_10_group_allowlist_semantics() {
    let app = TestApp::new().await;
    let acme = app.group("acme", None, Visibility::Private).await;
    let g = app
        .group("platform", Some(acme.id), Visibility::Private)
        .await;
    let g1 = app.group("ci", Some(g.id), Visibility::Private).await;
    let g2 = app.group("deep", Some(g1.id), Visibility::Private).await;
    let sibling = app.group("other", Some(acme.id), Visibility::Private).await;
    let lookalike = app
        .group("platform-tools", Some(acme.id), Visibility::Private)
        .await;
    let evil = app.group("evil", None, Visibility::Private).await;
    let same_name = app
        .group("platform", Some(evil.id), Visibility::Private)
        .await;
    let tg = app.group("targets", None, Visibility::Private).await;
    let target = app.project(tg.id, "deployer", Visibility::Private).await;
    let user = app.user("runner").await;
    for ns in [acme.id, evil.id, tg.id] {
        app.member(MemberSource::Namespace(ns), user.id, AccessLevel::Developer)
            .await;
    }
    let personal = app
        .project(user.namespace_id, "mine", Visibility::Private)
        .await;
    let mut cases: Vec<(&str, jobscope_store::Project, bool)> = Vec::new();
    for (name, ns, admitted) in [
        ("in G", g.id, true),
        ("in G's child", g1.id, true),
        ("in G's grandchild", g2.id, true),
        ("in a sibling", sibling.id, false),
        (
            "in a sibling whose path starts with G's",
            lookalike.id,
            false,
        ),
        ("in G's parent", acme.id, false),
        ("in a same-named group elsewhere", same_name.id, false),
    ] {
        let p = app.project(ns, &app.unique("p"), Visibility::Private).await;
        cases.push((name, p, admitted));
    }
    cases.push(("in a personal namespace", personal.clone(), false));
    let base = format!("/api/v4/projects/{}/job_token_scope", target.id);
    let res = app
        .send(
            post(format!("{base}/groups_allowlist"))
                .token(ROOT_TOKEN)
                .json(json!({"target_group_id": g.id})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);

    let check = |p: jobscope_store::Project, admitted: bool, label: String| {
        let app = &app;
        let user = &user;
        async move {
            let (_, token) = app.job(p.id, user.id).await;
            let res = allowed(app, &token, target.id).await;
            if admitted {
                assert_eq!(res.status.as_u16(), 200, "{label}: {}", res.text);
                assert_eq!(res.json()["matched"]["type"], "group", "{label}");
                assert_eq!(res.json()["matched"]["id"], json!(g.id), "{label}");
                assert_eq!(
                    res.json()["matched"]["full_path"],
                    "acme/platform",
                    "{label}"
                );
            } else {
                assert_eq!(
                    (res.status.as_u16(), res.json()),
                    (403, not_allowed(&p.path, "deployer")),
                    "{label}"
                );
            }
        }
    };
    for (name, p, admitted) in &cases {
        check(p.clone(), *admitted, (*name).to_owned()).await;
    }
    // Created after the entry: a project in G's grandchild, a new subgroup and its project.
    let later = app.project(g2.id, "later", Visibility::Private).await;
    check(later.clone(), true, "project created later".into()).await;
    let new_sub = app.group("new", Some(g.id), Visibility::Private).await;
    let newer = app.project(new_sub.id, "newer", Visibility::Private).await;
    check(newer.clone(), true, "subgroup created later".into()).await;

    // A personal namespace is not a group; a project entry admits the personal project.
    let res = app
        .send(
            post(format!("{base}/groups_allowlist"))
                .token(ROOT_TOKEN)
                .json(json!({"target_group_id": user.namespace_id})),
        )
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (404, msg("404 target_group_id not found Not Found"))
    );
    let res = app
        .send(
            post(format!("{base}/allowlist"))
                .token(ROOT_TOKEN)
                .json(json!({"target_project_id": personal.id})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
    let (_, token) = app.job(personal.id, user.id).await;
    let res = allowed(&app, &token, target.id).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json()["matched"]["type"], "project");

    // Removing the entry revokes every project below G at once.
    let res = app
        .send(delete(format!("{base}/groups_allowlist/{}", g.id)).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 204);
    for (name, p, _) in cases.iter().filter(|(_, _, admitted)| *admitted) {
        check(p.clone(), false, format!("{name}, after removal")).await;
    }
    check(later, false, "later, after removal".into()).await;
    check(newer, false, "newer, after removal".into()).await;
}

// ---- C1.11 ----------------------------------------------------------------------------------

/// Sends all `reqs` at once from spawned tasks (a barrier lines them up) on a multi-threaded
/// runtime, and returns the responses.
async fn concurrently(app: &TestApp, reqs: Vec<Req>) -> Vec<TestResponse> {
    let barrier = Arc::new(tokio::sync::Barrier::new(reqs.len()));
    let mut handles = Vec::new();
    for req in reqs {
        let router = app.router.clone();
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            send_via(&router, req).await
        }));
    }
    let mut out = Vec::new();
    for h in futures::future::join_all(handles).await {
        out.push(h.expect("task"));
    }
    out
}

fn statuses(responses: &[TestResponse]) -> Vec<(u16, Value)> {
    let mut v: Vec<(u16, Value)> = responses
        .iter()
        .map(|r| (r.status.as_u16(), r.json()))
        .collect();
    v.sort_by_key(|(s, _)| *s);
    v
}

/// C1.11 Limits and integrity (anchors: GitLab's `PROJECT_LINK_DIRECTIONAL_LIMIT`,
/// `GROUP_LINK_LIMIT`, the unique constraint).
///
/// The 201st project link and the 201st group link are refused with GitLab's 400s; a duplicate
/// is a 400 "already in the job token allowlist"; a self-link is refused; 32 concurrent
/// identical adds produce exactly one row, one 201, 31 clean 400s and one audit event; 16
/// concurrent distinct adds racing for the last free slot produce exactly one 201 and the
/// limit is never exceeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn c1_11_limits_and_integrity() {
    let app = TestApp::new().await;
    let acme = app.group("acme", None, Visibility::Private).await;
    let project = app.project(acme.id, "app", Visibility::Private).await;
    let p = project.id;
    let (m, maint) = app.user_with_token("maint").await;
    app.member(
        MemberSource::Namespace(acme.id),
        m.id,
        AccessLevel::Maintainer,
    )
    .await;
    let pool = app.group("pool", None, Visibility::Public).await;
    let list = format!("/api/v4/projects/{p}/job_token_scope/allowlist");
    let groups = format!("/api/v4/projects/{p}/job_token_scope/groups_allowlist");
    let dup_project = msg("400 Bad request - This project is already in the job token allowlist.");
    let dup_group = msg("400 Bad request - This group is already in the job token allowlist.");
    let project_limit = msg(
        "400 Bad request - Validation failed: Source project exceeds the allowable number of project links in this direction",
    );
    let group_limit = msg(
        "400 Bad request - Validation failed: Source project exceeds the allowable number of group links",
    );

    // Self-link.
    let res = app
        .send(
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": p})),
        )
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (
            400,
            msg(
                "400 Bad request - Validation failed: Target project can't be the same as the source project"
            )
        )
    );

    // 32 concurrent identical adds: one row.
    let first = app.project(pool.id, "first", Visibility::Public).await;
    let reqs = (0..32)
        .map(|_| {
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": first.id}))
        })
        .collect();
    let got = statuses(&concurrently(&app, reqs).await);
    assert_eq!(got[0].0, 201, "{got:?}");
    for (status, body) in &got[1..] {
        assert_eq!((*status, body), (400, &dup_project), "{got:?}");
    }
    let links = app
        .store
        .project_links(p, LinkDirection::Inbound)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    let reqs = (0..32)
        .map(|_| {
            post(&groups)
                .token(&maint)
                .json(json!({"target_group_id": pool.id}))
        })
        .collect();
    let got = statuses(&concurrently(&app, reqs).await);
    assert_eq!(got[0].0, 201, "{got:?}");
    for (status, body) in &got[1..] {
        assert_eq!((*status, body), (400, &dup_group), "{got:?}");
    }
    assert_eq!(app.store.group_links(p).await.unwrap().len(), 1);
    let events = app
        .send(get(format!("/api/v4/projects/{p}/audit_events?per_page=100")).token(&maint))
        .await
        .json();
    let names: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "secure_ci_job_token_group_added",
            "secure_ci_job_token_project_added"
        ],
        "one audit event per row"
    );
    // A plain duplicate.
    let res = app
        .send(
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": first.id})),
        )
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (400, dup_project.clone())
    );
    let res = app
        .send(
            post(&groups)
                .token(&maint)
                .json(json!({"target_group_id": pool.id})),
        )
        .await;
    assert_eq!((res.status.as_u16(), res.json()), (400, dup_group.clone()));

    // Fill up to 199 project links, then race 16 distinct adds for the last slot.
    let mut targets = Vec::new();
    for i in 0..214 {
        targets.push(
            app.project(pool.id, &format!("t{i}"), Visibility::Public)
                .await,
        );
    }
    for t in &targets[..198] {
        app.link_project(p, t.id).await;
    }
    assert_eq!(
        app.store
            .project_links(p, LinkDirection::Inbound)
            .await
            .unwrap()
            .len(),
        199
    );
    let reqs = targets[198..]
        .iter()
        .map(|t| {
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": t.id}))
        })
        .collect();
    let got = statuses(&concurrently(&app, reqs).await);
    assert_eq!(got[0].0, 201, "{got:?}");
    for (status, body) in &got[1..] {
        assert_eq!((*status, body), (400, &project_limit), "{got:?}");
    }
    assert_eq!(
        app.store
            .project_links(p, LinkDirection::Inbound)
            .await
            .unwrap()
            .len(),
        200
    );
    // The 201st, and a duplicate at the limit (reported as the limit, as GitLab validates first).
    let extra = app.project(pool.id, "extra", Visibility::Public).await;
    let res = app
        .send(
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": extra.id})),
        )
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (400, project_limit.clone())
    );
    let res = app
        .send(
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": first.id})),
        )
        .await;
    assert_eq!(
        (res.status.as_u16(), res.json()),
        (400, project_limit.clone())
    );
    assert_eq!(
        app.store
            .project_links(p, LinkDirection::Inbound)
            .await
            .unwrap()
            .len(),
        200
    );

    // Group links: 199 (including `pool`), then the race for the last slot, then the 201st.
    let mut gs = Vec::new();
    for i in 0..215 {
        gs.push(
            app.group(&format!("lim{i}"), None, Visibility::Public)
                .await,
        );
    }
    for g in &gs[..198] {
        app.link_group(p, g.id).await;
    }
    assert_eq!(app.store.group_links(p).await.unwrap().len(), 199);
    let reqs = gs[198..214]
        .iter()
        .map(|g| {
            post(&groups)
                .token(&maint)
                .json(json!({"target_group_id": g.id}))
        })
        .collect();
    let got = statuses(&concurrently(&app, reqs).await);
    assert_eq!(got[0].0, 201, "{got:?}");
    for (status, body) in &got[1..] {
        assert_eq!((*status, body), (400, &group_limit), "{got:?}");
    }
    assert_eq!(app.store.group_links(p).await.unwrap().len(), 200);
    let res = app
        .send(
            post(&groups)
                .token(&maint)
                .json(json!({"target_group_id": gs[214].id})),
        )
        .await;
    assert_eq!((res.status.as_u16(), res.json()), (400, group_limit));
    assert_eq!(app.store.group_links(p).await.unwrap().len(), 200);
    // Each budget is separate: removing a project link frees a project slot only.
    let res = app
        .send(delete(format!("{list}/{}", first.id)).token(&maint))
        .await;
    assert_eq!(res.status.as_u16(), 204);
    let res = app
        .send(
            post(&list)
                .token(&maint)
                .json(json!({"target_project_id": extra.id})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
}

// ---- C1.12 ----------------------------------------------------------------------------------

/// Collects the log lines written while a test runs (the subscriber is the test thread's
/// default, and `#[tokio::test]` polls every task of the test on that thread).
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// What a scope mutation could change: the flag, both lists, the audit events (API and rows).
async fn snapshot(inst: &Instance, db: &TestDatabase, base: &str) -> Value {
    let mut out = serde_json::Map::new();
    let project = base.trim_end_matches("/job_token_scope");
    for (key, path) in [
        ("scope", base.to_owned()),
        ("projects", format!("{base}/allowlist?per_page=100")),
        ("groups", format!("{base}/groups_allowlist?per_page=100")),
        ("events", format!("{project}/audit_events?per_page=100")),
    ] {
        let res = inst.send(get(path).token(ROOT_TOKEN)).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        out.insert(key.to_owned(), res.json());
    }
    out.insert(
        "rows".to_owned(),
        json!(db.sql("SELECT COUNT(*) FROM audit_events;").trim()),
    );
    Value::Object(out)
}

/// C1.12 Audit complete and fail-closed (anchors: spec A2 event names; Vault's blocked-device
/// semantics and HMAC).
///
/// Every successful enable, disable, project add/remove, group add/remove and policy change
/// writes exactly one `secure_ci_job_token_*` event with author, entity (the project), target
/// and creation time; no-ops and refusals write none. When the audit table cannot be written
/// (a trigger makes every insert fail), every kind of mutation answers a GitLab-shaped 5xx
/// that leaks nothing, and nothing changes; once the sink works again, so do mutations. No
/// token material appears in audit events (API or stored rows), in the server's log lines, or
/// anywhere in the database files.
#[tokio::test]
async fn c1_12_audit_complete_and_fail_closed() {
    let logs = LogBuffer::default();
    let _log_guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish(),
    );
    let db = TestDatabase::new();
    let inst = Instance::open(&db).await;
    let acme = inst.group("acme", None, "private").await;
    let p = inst.project(acme, "app", "private").await;
    let other = inst.group("other", None, "public").await;
    let t = inst.project(other, "lib", "public").await;
    let t2 = inst.project(other, "lib2", "public").await;
    let t3 = inst.project(other, "lib3", "public").await;
    let tg2 = inst.group("other2", None, "public").await;
    let (m, maint) = inst.user("maint").await;
    inst.member(p, m, 40).await;
    let (d, dev) = inst.user("dev").await;
    inst.member(p, d, 30).await;
    let base = format!("/api/v4/projects/{p}/job_token_scope");
    let events_path = format!("/api/v4/projects/{p}/audit_events?per_page=100");
    let events = || async {
        let res = inst.send(get(&events_path).token(ROOT_TOKEN)).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        res.json().as_array().unwrap().clone()
    };

    // (request, caller, status, event name and (target type, target id) if one is expected)
    type Step = (Req, String, u16, Option<(&'static str, &'static str, i64)>);
    let settings = "ProjectCiCdSetting";
    let steps: Vec<Step> = vec![
        (
            patch(&base).json(json!({"enabled": false})),
            maint.clone(),
            204,
            Some(("secure_ci_job_token_inbound_disabled", settings, p)),
        ),
        (
            patch(&base).json(json!({"enabled": false})),
            maint.clone(),
            204,
            None,
        ),
        (
            post(format!("{base}/allowlist")).json(json!({"target_project_id": t})),
            maint.clone(),
            201,
            Some(("secure_ci_job_token_project_added", "Project", t)),
        ),
        (
            post(format!("{base}/allowlist")).json(json!({"target_project_id": t})),
            maint.clone(),
            400,
            None,
        ),
        (
            post(format!("{base}/allowlist")).json(json!({"target_project_id": t2})),
            dev.clone(),
            403,
            None,
        ),
        (
            patch(format!("{base}/allowlist/{t}"))
                .json(json!({"default_permissions": false, "job_token_policies": ["read_jobs"]})),
            maint.clone(),
            200,
            Some(("secure_ci_job_token_policies_updated", "Project", t)),
        ),
        (
            delete(format!("{base}/allowlist/{t}")),
            maint.clone(),
            204,
            Some(("secure_ci_job_token_project_removed", "Project", t)),
        ),
        (
            delete(format!("{base}/allowlist/{t}")),
            maint.clone(),
            400,
            None,
        ),
        (
            post(format!("{base}/groups_allowlist")).json(json!({"target_group_id": other})),
            maint.clone(),
            201,
            Some(("secure_ci_job_token_group_added", "Group", other)),
        ),
        (
            delete(format!("{base}/groups_allowlist/{other}")),
            dev.clone(),
            403,
            None,
        ),
        (
            patch(format!("{base}/groups_allowlist/{other}"))
                .json(json!({"job_token_policies": ["read_packages"]})),
            maint.clone(),
            200,
            Some(("secure_ci_job_token_policies_updated", "Group", other)),
        ),
        (
            delete(format!("{base}/groups_allowlist/{other}")),
            maint.clone(),
            204,
            Some(("secure_ci_job_token_group_removed", "Group", other)),
        ),
        // The token in the query string must not end up in the event.
        (
            patch(format!("{base}?private_token={maint}")).json(json!({"enabled": true})),
            String::new(),
            204,
            Some(("secure_ci_job_token_inbound_enabled", settings, p)),
        ),
        (
            patch(&base).json(json!({"enabled": true})),
            maint.clone(),
            204,
            None,
        ),
    ];
    for (req, token, status, expected) in steps {
        let label = format!(
            "{} {}",
            req.method,
            req.path.split('?').next().unwrap_or("")
        );
        let before = events().await;
        let req = if token.is_empty() {
            req
        } else {
            req.token(&token)
        };
        let res = inst.send(req).await;
        assert_eq!(res.status.as_u16(), status, "{label}: {}", res.text);
        let after = events().await;
        match expected {
            None => assert_eq!(after.len(), before.len(), "{label}: no event expected"),
            Some((name, target_type, target_id)) => {
                assert_eq!(after.len(), before.len() + 1, "{label}: exactly one event");
                let e = &after[0];
                assert_eq!(e["event_name"], name, "{label}");
                assert_eq!(e["author_id"], json!(m), "{label}");
                assert_eq!(e["entity_type"], "Project", "{label}");
                assert_eq!(e["entity_id"], json!(p), "{label}");
                assert_eq!(e["details"]["target_type"], target_type, "{label}");
                assert_eq!(e["details"]["target_id"], json!(target_id), "{label}");
                assert_eq!(e["details"]["author_name"], "User maint", "{label}");
                let created = e["created_at"].as_str().unwrap_or_default();
                let created = chrono::DateTime::parse_from_rfc3339(created)
                    .unwrap_or_else(|err| panic!("{label}: created_at {created:?}: {err}"));
                let age = chrono::Utc::now().signed_duration_since(created);
                assert!(
                    age.num_seconds().abs() < 60,
                    "{label}: created_at {created}"
                );
            }
        }
    }

    // Prepare a state in which every kind of mutation has something to change: an
    // autopopulated entry (from a logged access while the allowlist was off), a project entry
    // and a group entry, the allowlist on.
    inst.root(patch(&base).json(json!({"enabled": false})), 204)
        .await;
    let (_, job_token) = inst.job(t2, m).await;
    inst.member(t2, m, 30).await;
    let res = inst.allowed(&job_token, p).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    let res = inst.root(post(format!("{base}/autopopulate")), 200).await;
    assert_eq!(res["projects"].as_array().map(Vec::len), Some(1), "{res}");
    inst.root(
        post(format!("{base}/allowlist")).json(json!({"target_project_id": t})),
        201,
    )
    .await;
    inst.root(
        post(format!("{base}/groups_allowlist")).json(json!({"target_group_id": other})),
        201,
    )
    .await;

    let healthy = snapshot(&inst, &db, &base).await;
    assert_eq!(healthy["scope"]["inbound_enabled"], true);

    // Break the audit sink.
    if db.is_postgres() {
        db.sql(
            "CREATE FUNCTION fail_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit sink down'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION fail_audit();",
        );
    } else {
        db.sql(
            "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit sink down'); END;",
        );
    }
    let mutations: Vec<Req> = vec![
        patch(&base).json(json!({"enabled": false})),
        post(format!("{base}/allowlist")).json(json!({"target_project_id": t3})),
        post(format!("{base}/allowlist")).json(json!({"target_project_id": t3, "default_permissions": false, "job_token_policies": ["read_jobs"]})),
        delete(format!("{base}/allowlist/{t}")),
        patch(format!("{base}/allowlist/{t}")).json(json!({"job_token_policies": ["read_jobs"]})),
        post(format!("{base}/groups_allowlist")).json(json!({"target_group_id": tg2})),
        delete(format!("{base}/groups_allowlist/{other}")),
        patch(format!("{base}/groups_allowlist/{other}")).json(json!({"default_permissions": false})),
        post(format!("{base}/autopopulate")),
        delete(format!("{base}/autopopulated")),
    ];
    for req in &mutations {
        let label = format!("{} {}", req.method, req.path);
        let copy = Req {
            method: req.method.clone(),
            path: req.path.clone(),
            auth: Auth::None,
            body: req.body.clone(),
            headers: Vec::new(),
            peer: None,
        };
        let res = inst.send(copy.token(&maint)).await;
        let want = match res.status.as_u16() {
            500 => msg("500 Internal Server Error"),
            503 => msg("503 Service Unavailable"),
            s => panic!(
                "{label} with a broken audit sink answered {s}: {}",
                res.text
            ),
        };
        assert_eq!(res.json(), want, "{label}");
        assert!(!res.text.contains("audit"), "{label} leaks: {}", res.text);
        assert_eq!(
            snapshot(&inst, &db, &base).await,
            healthy,
            "{label} changed something"
        );
    }
    // A no-op needs no event and still succeeds.
    let res = inst
        .send(patch(&base).token(&maint).json(json!({"enabled": true})))
        .await;
    assert_eq!(res.status.as_u16(), 204, "{}", res.text);
    assert_eq!(snapshot(&inst, &db, &base).await, healthy);

    // Repaired: the same mutations work again, each with its event.
    if db.is_postgres() {
        db.sql("DROP TRIGGER fail_audit ON audit_events; DROP FUNCTION fail_audit();");
    } else {
        db.sql("DROP TRIGGER fail_audit;");
    }
    let before = events().await.len();
    let res = inst
        .send(delete(format!("{base}/allowlist/{t}")).token(&maint))
        .await;
    assert_eq!(res.status.as_u16(), 204, "{}", res.text);
    let after = events().await;
    assert_eq!(after.len(), before + 1);
    assert_eq!(
        after[0]["event_name"],
        "secure_ci_job_token_project_removed"
    );

    // No token material in events, stored rows, or anywhere in the database files.
    let secrets = [ROOT_TOKEN, maint.as_str(), dev.as_str(), job_token.as_str()];
    let listed = serde_json::to_string(&events().await).unwrap();
    let rows = db.sql("SELECT * FROM audit_events;");
    assert!(rows.lines().count() >= after.len());
    for text in [&listed, &rows] {
        for needle in ["glpat-", "glcbt-"].iter().chain(secrets.iter()) {
            assert!(!text.contains(needle), "audit events contain {needle}");
        }
    }
    // The log has the failures (for operators) but no token.
    let log = logs.text();
    assert!(
        log.contains("audit sink down"),
        "the cause of the 5xx is logged"
    );
    for needle in ["glpat-", "glcbt-"].iter().chain(secrets.iter()) {
        assert!(!log.contains(needle), "the log contains {needle}");
    }
    inst.store.instance_settings().await.unwrap();
    let bytes = db.bytes();
    for secret in secrets {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the database holds a plaintext token"
        );
    }
}

// ---- C1.13 ----------------------------------------------------------------------------------

/// C1.13 Token storage (anchors: GitLab's `TokenAuthenticatableStrategies::Digest`; the
/// `PersonalAccessToken` active scope; the routable-token CRC).
///
/// Plaintext tokens exist only in the answer that creates them: neither the database files
/// nor an export hold one, only its SHA-256 digest salted with the instance's random salt
/// (never the bare SHA-256), and the lookup is by that digest. Expiry is by date in UTC, at
/// the start of the `expires_at` day as on GitLab: a token expiring tomorrow works, one
/// expiring today is refused, and a revoked token is refused on the very next request, with
/// the read cache on. Malformed tokens (wrong prefix, too short or long, characters no token
/// has, a routable token whose CRC32 or length field does not match) are refused with 401
/// without any storage call.
#[tokio::test]
async fn c1_13_token_storage() {
    let app = TestApp::with_config(ServerConfig {
        cache: true,
        ..ServerConfig::default()
    })
    .await;
    let (alice, _) = app.user_with_token("alice").await;

    // Created through the API: the answer carries the plaintext, storage only the digest.
    let created = app
        .send(
            post(format!("/api/v4/users/{}/personal_access_tokens", alice.id))
                .token(ROOT_TOKEN)
                .json(json!({"name": "ci", "scopes": ["api"]})),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    let plaintext = created.json()["token"].as_str().unwrap().to_owned();
    assert!(plaintext.starts_with("glpat-"));
    // GitLab's routable format: payload, ".01.", length and CRC32 in base 36.
    assert_eq!(plaintext.split('.').nth(1), Some("01"), "{plaintext}");
    let (job, job_token) = {
        let g = app.group("acme", None, Visibility::Private).await;
        let p = app.project(g.id, "app", Visibility::Private).await;
        app.member(
            MemberSource::Project(p.id),
            alice.id,
            AccessLevel::Developer,
        )
        .await;
        app.job(p.id, alice.id).await
    };
    let stored = app
        .store
        .personal_access_token_by_digest(&app.tokens.digest(&plaintext))
        .await
        .unwrap()
        .expect("found by the digest of the plaintext");
    assert_eq!(stored.user_id, alice.id);
    let bytes = app.database_bytes();
    let snapshot = serde_json::to_string(&app.store.export().await.unwrap()).unwrap();
    for secret in [plaintext.as_str(), ROOT_TOKEN, job_token.as_str()] {
        let body = &secret[6..];
        assert!(
            !bytes.windows(body.len()).any(|w| w == body.as_bytes()),
            "a token is stored in the clear"
        );
        assert!(!snapshot.contains(body), "a token is exported in the clear");
    }
    let hex = app.tokens.digest(&plaintext);
    assert!(snapshot.contains(&hex), "the export holds the digest");
    // Salted: the digest is not the token's bare SHA-256, which a table made once for every
    // instance could reverse; the salt is this instance's own, random.
    let salt = app.store.token_salt().await.unwrap();
    assert_eq!(salt.len(), 32, "a random salt of 32 hexadecimal digits");
    assert_eq!(hex, jobscope_store::token_digest(&plaintext, &salt));
    for secret in [plaintext.as_str(), ROOT_TOKEN, job_token.as_str()] {
        let bare = jobscope_store::token_digest(secret, "");
        assert!(
            !bytes.windows(bare.len()).any(|w| w == bare.as_bytes()) && !snapshot.contains(&bare),
            "an unsalted digest is stored"
        );
    }
    let by_digest = app
        .store
        .job_by_token_digest(&app.tokens.digest(&job_token))
        .await
        .unwrap()
        .expect("the job is found by its token's digest");
    assert_eq!(by_digest.id, job.id);

    let whoami = |t: String| {
        let app = &app;
        async move { app.send(get("/api/v4/user").token(&t)).await }
    };
    assert_eq!(whoami(plaintext.clone()).await.status.as_u16(), 200);

    // Expiry by UTC date: tomorrow is still valid; today and yesterday are not.
    let (tomorrow, _) = app.token_with(alice.id, &["api"], Some(1), false).await;
    assert_eq!(whoami(tomorrow).await.status.as_u16(), 200);
    for days in [0, -1] {
        let (old, _) = app.token_with(alice.id, &["api"], Some(days), false).await;
        let res = whoami(old).await;
        assert_eq!(res.status.as_u16(), 401, "expiring in {days} days");
        assert_eq!(res.json()["error"], "invalid_token");
    }

    // Revocation takes effect on the very next request, through the cache.
    let id = created.json()["id"].as_i64().unwrap();
    let revoke = app
        .send(delete(format!("/api/v4/personal_access_tokens/{id}")).token(ROOT_TOKEN))
        .await;
    assert_eq!(revoke.status.as_u16(), 204, "{}", revoke.text);
    let res = whoami(plaintext.clone()).await;
    assert_eq!(res.status.as_u16(), 401);
    assert_eq!(
        res.json()["error_description"],
        "Token was revoked. You have to re-authorize from the user."
    );

    // Malformed tokens: 401 with no storage call at all.
    let cache = app.cache.clone().expect("the cache counts storage calls");
    let long = format!("glpat-{}", "a".repeat(300));
    // The issued token with its checksum, then its length field, off by one.
    let mut bad_crc = plaintext.clone().into_bytes();
    let last = bad_crc.len() - 1;
    bad_crc[last] = if bad_crc[last] == b'0' { b'1' } else { b'0' };
    let bad_crc = String::from_utf8(bad_crc).unwrap();
    let mut bad_len = plaintext.clone().into_bytes();
    let at = bad_len.len() - 8;
    bad_len[at] = if bad_len[at] == b'0' { b'1' } else { b'0' };
    let bad_len = String::from_utf8(bad_len).unwrap();
    let malformed = [
        bad_crc.as_str(),
        bad_len.as_str(),
        "glpat-abcdefghijklmnop.01.0i0000000",
        "x",
        "glpat-",
        "glpat-short",
        "GLPAT-abcdefghijklmnop",
        "glcbt-64_abcdefghijklmnopqrst",
        "glpat-has spaces inside",
        "glpat-ünïcödé-letters",
        long.as_str(),
    ];
    let job_path = "/api/v4/job_token/allowed?project=1";
    for t in malformed {
        let before = cache.inner_calls();
        let res = app
            .send(get("/api/v4/user").header("private-token", t))
            .await;
        assert_eq!(res.status.as_u16(), 401, "{t:?}");
        // A job token is malformed as a personal access token, and the other way round.
        let as_job = if t.starts_with("glcbt-") {
            "glpat-abcdefghijklmnopqrst"
        } else {
            t
        };
        let res = app.send(get(job_path).header("job-token", as_job)).await;
        assert_eq!(res.status.as_u16(), 401, "{as_job:?}");
        assert_eq!(cache.inner_calls(), before, "{t:?} reached the database");
    }
    // The counter does see lookups: a well-formed unknown token is looked up.
    let before = cache.inner_calls();
    let res = app
        .send(get("/api/v4/user").token("glpat-wellformed-but-unknown"))
        .await;
    assert_eq!(res.status.as_u16(), 401);
    assert!(cache.inner_calls() > before);
}
