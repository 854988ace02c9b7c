//! The authorization matrix: every route × every kind of caller × project/group visibility,
//! asserting status and body. `every_route_has_a_row` fails when a route is added to
//! `ROUTES` without a row here.

use axum::http::Method;
use jobscope_server::routes::{ROUTES, RouteSpec};
use jobscope_store::{MemberSource, Namespace, Project, User, UserState};
use jobscope_types::{AccessLevel, Visibility};
use serde_json::{Value, json};

use crate::helpers::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Anonymous,
    UnknownToken,
    ExpiredToken,
    /// A Maintainer's token limited to `read_api`.
    ReadApi,
    NonMember,
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
    Admin,
}

const ACTORS: [Actor; 11] = [
    Actor::Anonymous,
    Actor::UnknownToken,
    Actor::ExpiredToken,
    Actor::ReadApi,
    Actor::NonMember,
    Actor::Guest,
    Actor::Reporter,
    Actor::Developer,
    Actor::Maintainer,
    Actor::Owner,
    Actor::Admin,
];

impl Actor {
    /// The role in the fixture group (and so in its project).
    fn level(self) -> Option<AccessLevel> {
        match self {
            Actor::Guest => Some(AccessLevel::Guest),
            Actor::Reporter => Some(AccessLevel::Reporter),
            Actor::Developer => Some(AccessLevel::Developer),
            Actor::Maintainer | Actor::ReadApi | Actor::ExpiredToken | Actor::UnknownToken => {
                Some(AccessLevel::Maintainer)
            }
            Actor::Owner => Some(AccessLevel::Owner),
            Actor::Admin => Some(AccessLevel::Owner),
            Actor::Anonymous | Actor::NonMember => None,
        }
    }

    fn signed_in(self) -> bool {
        !matches!(
            self,
            Actor::Anonymous | Actor::UnknownToken | Actor::ExpiredToken
        )
    }
}

/// The world one visibility's matrix runs in.
struct Fixture {
    vis: Visibility,
    group: Namespace,
    project: Project,
    target_project: Project,
    target_group: Namespace,
    users: Vec<(Actor, User, String)>,
    guest: User,
}

impl Fixture {
    async fn new(app: &TestApp, vis: Visibility) -> Fixture {
        let tag = vis.as_str();
        let group = app.group(&format!("g-{tag}"), None, vis).await;
        let project = app.project(group.id, "p", vis).await;
        let tg = app
            .group(&format!("tg-{tag}"), None, Visibility::Public)
            .await;
        let target_project = app.project(tg.id, "t", Visibility::Public).await;
        let mut users = Vec::new();
        let mut guest = None;
        for actor in ACTORS {
            let (user, token) = match actor {
                Actor::Anonymous => continue,
                Actor::Admin => {
                    let root = app
                        .store
                        .user_by_username("root")
                        .await
                        .expect("store")
                        .expect("root");
                    (root, ROOT_TOKEN.to_owned())
                }
                _ => {
                    let u = app.user(&format!("{actor:?}-{tag}").to_lowercase()).await;
                    let token = match actor {
                        Actor::ReadApi => app.token_with(u.id, &["read_api"], None, false).await.0,
                        Actor::ExpiredToken => {
                            app.token_with(u.id, &["api"], Some(-1), false).await.0
                        }
                        Actor::UnknownToken => "glpat-this-token-does-not-exist".to_owned(),
                        _ => app.token(u.id).await,
                    };
                    (u, token)
                }
            };
            if actor != Actor::Admin
                && let Some(level) = actor.level()
            {
                app.member(MemberSource::Namespace(group.id), user.id, level)
                    .await;
            }
            if actor == Actor::Guest {
                guest = Some(user.clone());
            }
            users.push((actor, user, token));
        }
        Fixture {
            vis,
            group,
            project,
            target_project,
            target_group: tg,
            users,
            guest: guest.expect("guest"),
        }
    }

    fn auth(&self, actor: Actor) -> Auth {
        self.users
            .iter()
            .find(|(a, _, _)| *a == actor)
            .map(|(_, _, t)| Auth::token(t))
            .unwrap_or(Auth::None)
    }

    fn user(&self, actor: Actor) -> Option<&User> {
        self.users
            .iter()
            .find(|(a, _, _)| *a == actor)
            .map(|(_, u, _)| u)
    }
}

/// The request for a route, made ready for the actor (fresh disposable objects for
/// destructive routes, preconditions such as an existing link).
async fn prepare(app: &TestApp, fx: &Fixture, route: &RouteSpec, actor: Actor) -> Req {
    let p = fx.project.id;
    let g = fx.group.id;
    let t = fx.target_project.id;
    let tg = fx.target_group.id;
    let method = route.method();
    let r = |path: String| Req::new(method.clone(), path).auth(fx.auth(actor));
    match (route.method, route.path) {
        ("GET", "/version") => r("/api/v4/version".into()),
        ("GET", "/metadata") => r("/api/v4/metadata".into()),
        ("GET", "/user") => r("/api/v4/user".into()),
        ("GET", "/users") => r("/api/v4/users".into()),
        ("POST", "/users") => {
            let n = app.unique("newuser");
            r("/api/v4/users".into()).json(json!({
                "username": n, "email": format!("{n}@example.com"), "name": n,
                "password": "s3cret-password"
            }))
        }
        ("GET", "/users/{id}") => r(format!("/api/v4/users/{}", fx.guest.id)),
        ("PUT", "/users/{id}") => {
            let u = app.user(&app.unique("putuser")).await;
            r(format!("/api/v4/users/{}", u.id)).json(json!({"name": "Renamed"}))
        }
        ("DELETE", "/users/{id}") => {
            let u = app.user(&app.unique("deluser")).await;
            r(format!("/api/v4/users/{}", u.id))
        }
        ("POST", "/users/{id}/block") | ("POST", "/users/{id}/deactivate") => {
            let u = app.user(&app.unique("stateuser")).await;
            r(format!(
                "/api/v4{}",
                route.path.replace("{id}", &u.id.to_string())
            ))
        }
        ("POST", "/users/{id}/unblock") => {
            let u = app.user(&app.unique("blockeduser")).await;
            app.store
                .set_user_state(u.id, UserState::Blocked)
                .await
                .expect("block");
            r(format!("/api/v4/users/{}/unblock", u.id))
        }
        ("POST", "/users/{id}/activate") => {
            let u = app.user(&app.unique("deactivated")).await;
            app.store
                .set_user_state(u.id, UserState::Deactivated)
                .await
                .expect("deactivate");
            r(format!("/api/v4/users/{}/activate", u.id))
        }
        ("POST", "/users/{id}/personal_access_tokens") => r(format!(
            "/api/v4/users/{}/personal_access_tokens",
            fx.guest.id
        ))
        .json(json!({"name": "t", "scopes": ["api"]})),
        ("GET", "/personal_access_tokens") => r("/api/v4/personal_access_tokens".into()),
        ("GET", "/personal_access_tokens/self") => r("/api/v4/personal_access_tokens/self".into()),
        ("DELETE", "/personal_access_tokens/self")
        | ("POST", "/personal_access_tokens/self/rotate") => {
            // A throwaway token of the actor's own kind, so the actor keeps its token.
            let path = format!("/api/v4{}", route.path);
            let auth = match (actor, fx.user(actor)) {
                (Actor::ReadApi, Some(u)) => {
                    Auth::token(&app.token_with(u.id, &["read_api"], None, false).await.0)
                }
                (a, Some(u)) if a.signed_in() => Auth::token(&app.token(u.id).await),
                _ => fx.auth(actor),
            };
            Req::new(method, path).auth(auth)
        }
        ("GET", "/personal_access_tokens/{id}")
        | ("DELETE", "/personal_access_tokens/{id}")
        | ("POST", "/personal_access_tokens/{id}/rotate") => {
            // A fresh token belonging to the Guest.
            let (_, tok) = app.token_with(fx.guest.id, &["api"], None, false).await;
            r(format!(
                "/api/v4{}",
                route.path.replace("{id}", &tok.id.to_string())
            ))
        }
        ("GET", "/groups") => r("/api/v4/groups".into()),
        ("POST", "/groups") => {
            let n = app.unique("newgroup");
            r("/api/v4/groups".into()).json(json!({"name": n, "path": n}))
        }
        ("GET", "/groups/{id}") => r(format!("/api/v4/groups/{g}")),
        ("DELETE", "/groups/{id}") => {
            let sub = app.group(&app.unique("sub"), Some(g), fx.vis).await;
            r(format!("/api/v4/groups/{}", sub.id))
        }
        ("GET", "/groups/{id}/subgroups") => r(format!("/api/v4/groups/{g}/subgroups")),
        ("GET", "/groups/{id}/descendant_groups") => {
            r(format!("/api/v4/groups/{g}/descendant_groups"))
        }
        ("GET", "/groups/{id}/projects") => r(format!("/api/v4/groups/{g}/projects")),
        ("GET", "/groups/{id}/members") => r(format!("/api/v4/groups/{g}/members")),
        ("GET", "/groups/{id}/members/all") => r(format!("/api/v4/groups/{g}/members/all")),
        ("GET", "/groups/{id}/members/{user_id}") => {
            r(format!("/api/v4/groups/{g}/members/{}", fx.guest.id))
        }
        ("GET", "/groups/{id}/members/all/{user_id}") => {
            r(format!("/api/v4/groups/{g}/members/all/{}", fx.guest.id))
        }
        ("POST", "/groups/{id}/members") => {
            let u = app.user(&app.unique("gm")).await;
            r(format!("/api/v4/groups/{g}/members"))
                .json(json!({"user_id": u.id, "access_level": 30}))
        }
        ("PUT", "/groups/{id}/members/{user_id}")
        | ("DELETE", "/groups/{id}/members/{user_id}") => {
            let u = app.user(&app.unique("gm")).await;
            app.member(MemberSource::Namespace(g), u.id, AccessLevel::Guest)
                .await;
            let req = r(format!("/api/v4/groups/{g}/members/{}", u.id));
            if route.method == "PUT" {
                req.json(json!({"access_level": 20}))
            } else {
                req
            }
        }
        ("GET", "/projects") => r("/api/v4/projects".into()),
        ("POST", "/projects") => {
            let n = app.unique("newproject");
            r("/api/v4/projects".into()).json(json!({"name": n}))
        }
        ("POST", "/projects/user/{user_id}") => {
            let n = app.unique("forguest");
            r(format!("/api/v4/projects/user/{}", fx.guest.id)).json(json!({"name": n}))
        }
        ("GET", "/projects/{id}") => r(format!("/api/v4/projects/{p}")),
        ("DELETE", "/projects/{id}") => {
            let doomed = app.project(g, &app.unique("doomed"), fx.vis).await;
            r(format!("/api/v4/projects/{}", doomed.id))
        }
        ("GET", "/projects/{id}/members") => r(format!("/api/v4/projects/{p}/members")),
        ("GET", "/projects/{id}/members/all") => r(format!("/api/v4/projects/{p}/members/all")),
        ("GET", "/projects/{id}/members/{user_id}") => {
            if app
                .store
                .member(MemberSource::Project(p), fx.guest.id)
                .await
                .expect("store")
                .is_none()
            {
                app.member(MemberSource::Project(p), fx.guest.id, AccessLevel::Guest)
                    .await;
            }
            r(format!("/api/v4/projects/{p}/members/{}", fx.guest.id))
        }
        ("GET", "/projects/{id}/members/all/{user_id}") => {
            r(format!("/api/v4/projects/{p}/members/all/{}", fx.guest.id))
        }
        ("POST", "/projects/{id}/members") => {
            let u = app.user(&app.unique("pm")).await;
            r(format!("/api/v4/projects/{p}/members"))
                .json(json!({"user_id": u.id, "access_level": 30}))
        }
        ("PUT", "/projects/{id}/members/{user_id}")
        | ("DELETE", "/projects/{id}/members/{user_id}") => {
            let u = app.user(&app.unique("pm")).await;
            app.member(MemberSource::Project(p), u.id, AccessLevel::Guest)
                .await;
            let req = r(format!("/api/v4/projects/{p}/members/{}", u.id));
            if route.method == "PUT" {
                req.json(json!({"access_level": 20}))
            } else {
                req
            }
        }
        ("GET", "/projects/{id}/job_token_scope") => {
            r(format!("/api/v4/projects/{p}/job_token_scope"))
        }
        ("PATCH", "/projects/{id}/job_token_scope") => {
            r(format!("/api/v4/projects/{p}/job_token_scope")).json(json!({"enabled": true}))
        }
        ("GET", "/projects/{id}/job_token_scope/allowlist") => {
            r(format!("/api/v4/projects/{p}/job_token_scope/allowlist"))
        }
        ("POST", "/projects/{id}/job_token_scope/allowlist") => {
            app.store
                .remove_project_link(p, t, jobscope_store::conformance::audit(p, "t"))
                .await
                .expect("unlink");
            r(format!("/api/v4/projects/{p}/job_token_scope/allowlist"))
                .json(json!({"target_project_id": t}))
        }
        ("DELETE", "/projects/{id}/job_token_scope/allowlist/{target_project_id}") => {
            app.link_project(p, t).await;
            r(format!(
                "/api/v4/projects/{p}/job_token_scope/allowlist/{t}"
            ))
        }
        ("GET", "/projects/{id}/job_token_scope/groups_allowlist") => r(format!(
            "/api/v4/projects/{p}/job_token_scope/groups_allowlist"
        )),
        ("POST", "/projects/{id}/job_token_scope/groups_allowlist") => {
            app.store
                .remove_group_link(p, tg, jobscope_store::conformance::audit(p, "t"))
                .await
                .expect("unlink");
            r(format!(
                "/api/v4/projects/{p}/job_token_scope/groups_allowlist"
            ))
            .json(json!({"target_group_id": tg}))
        }
        ("DELETE", "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}") => {
            app.link_group(p, tg).await;
            r(format!(
                "/api/v4/projects/{p}/job_token_scope/groups_allowlist/{tg}"
            ))
        }
        ("PATCH", "/projects/{id}/job_token_scope/allowlist/{target_project_id}") => {
            app.link_project(p, t).await;
            r(format!(
                "/api/v4/projects/{p}/job_token_scope/allowlist/{t}"
            ))
            .json(json!({"default_permissions": true}))
        }
        ("PATCH", "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}") => {
            app.link_group(p, tg).await;
            r(format!(
                "/api/v4/projects/{p}/job_token_scope/groups_allowlist/{tg}"
            ))
            .json(json!({"default_permissions": true}))
        }
        ("GET", "/projects/{id}/job_token_scope/auth_logs") => {
            r(format!("/api/v4/projects/{p}/job_token_scope/auth_logs"))
        }
        ("POST", "/projects/{id}/job_token_scope/autopopulate") => {
            r(format!("/api/v4/projects/{p}/job_token_scope/autopopulate"))
                .json(json!({"dry_run": true}))
        }
        ("DELETE", "/projects/{id}/job_token_scope/autopopulated") => r(format!(
            "/api/v4/projects/{p}/job_token_scope/autopopulated"
        )),
        ("GET", "/projects/{id}/job_token_scope/reachable") => {
            r(format!("/api/v4/projects/{p}/job_token_scope/reachable"))
        }
        ("GET", "/projects/{id}/audit_events") => r(format!("/api/v4/projects/{p}/audit_events")),
        ("GET", "/projects/{id}/audit_events/{audit_event_id}") => {
            app.link_project(p, t).await;
            let events = app
                .store
                .audit_events(
                    &jobscope_store::AuditQuery {
                        entity_type: "Project".into(),
                        entity_id: p.get(),
                        created_after: None,
                        created_before: None,
                        author_id: None,
                        id: None,
                    },
                    jobscope_store::PageRequest::new(1, 1),
                )
                .await
                .expect("events");
            let id = events.items.first().map(|e| e.id).expect("an event");
            r(format!("/api/v4/projects/{p}/audit_events/{id}"))
        }
        ("POST", "/ci/jobs") => {
            r("/api/v4/ci/jobs".into()).json(json!({"project_id": p, "user_id": fx.guest.id}))
        }
        ("GET", "/ci/jobs/{id}") | ("PUT", "/ci/jobs/{id}") => {
            let job = app.job(p, fx.guest.id).await.0;
            let req = r(format!("/api/v4/ci/jobs/{}", job.id));
            if route.method == "PUT" {
                req.json(json!({"status": "success"}))
            } else {
                req
            }
        }
        ("GET", "/job") => r("/api/v4/job".into()),
        ("GET", "/job_token/allowed") => r(format!("/api/v4/job_token/allowed?project={p}")),
        ("GET", "/application/settings") => r("/api/v4/application/settings".into()),
        ("PUT", "/application/settings") => {
            r("/api/v4/application/settings".into()).json(json!({"default_projects_limit": 100000}))
        }
        (m, path) => panic!("no authorization-matrix row for {m} {path}: add one"),
    }
}

/// What a request must answer: a status and, for errors, the exact body.
#[derive(Debug, Clone, PartialEq)]
struct Expect {
    status: u16,
    body: Option<Value>,
}

fn ok(status: u16) -> Expect {
    Expect { status, body: None }
}

fn err(status: u16, body: Value) -> Expect {
    Expect {
        status,
        body: Some(body),
    }
}

fn unauthorized() -> Expect {
    err(401, json!({"message": "401 Unauthorized"}))
}

fn expired() -> Expect {
    err(
        401,
        json!({"error": "invalid_token",
               "error_description": "Token is expired. You can either do re-authorization or token refresh."}),
    )
}

fn scope(registered: &str) -> Expect {
    err(
        403,
        json!({"error": "insufficient_scope",
               "error_description": "The request requires higher privileges than provided by the access token.",
               "scope": registered}),
    )
}

fn forbidden() -> Expect {
    err(403, json!({"message": "403 Forbidden"}))
}

fn forbidden_because(reason: &str) -> Expect {
    err(403, json!({"message": format!("403 Forbidden - {reason}")}))
}

fn not_found(what: &str) -> Expect {
    err(404, json!({"message": format!("404 {what} Not Found")}))
}

/// The first answers every authenticated route gives: 401 for missing or bad credentials,
/// 403 for a `read_api` token on a write.
fn auth_gate(actor: Actor, method: &Method, registered: &str) -> Option<Expect> {
    match actor {
        Actor::Anonymous | Actor::UnknownToken => Some(unauthorized()),
        Actor::ExpiredToken => Some(expired()),
        Actor::ReadApi if method != Method::GET => Some(scope(registered)),
        _ => None,
    }
}

/// Readability of the fixture project or group for a signed-in non-member or anonymous caller.
fn visible_to(actor: Actor, vis: Visibility) -> bool {
    match vis {
        Visibility::Public => true,
        Visibility::Internal => actor.signed_in(),
        Visibility::Private => actor.level().is_some() || actor == Actor::Admin,
    }
}

fn at_least(actor: Actor, level: AccessLevel) -> bool {
    actor == Actor::Admin || actor.level() >= Some(level)
}

fn expect(route: &RouteSpec, actor: Actor, vis: Visibility) -> Expect {
    let m = route.method();
    let users_scope = "read_user api read_api";
    let default_scope = "api read_api";
    let write = m != Method::GET;
    let created = if m == Method::POST { 201 } else { 200 };
    match route.path {
        "/version" | "/metadata" | "/user" => {
            auth_gate(actor, &m, users_scope).unwrap_or_else(|| ok(200))
        }
        "/users" if !write => match actor {
            Actor::Anonymous => forbidden_because("Not authorized to access /api/v4/users"),
            _ => auth_gate(actor, &m, users_scope).unwrap_or_else(|| ok(200)),
        },
        "/users/{id}" if !write => match actor {
            Actor::Anonymous => forbidden_because("Not authorized!"),
            _ => auth_gate(actor, &m, users_scope).unwrap_or_else(|| ok(200)),
        },
        "/users"
        | "/users/{id}"
        | "/users/{id}/block"
        | "/users/{id}/unblock"
        | "/users/{id}/deactivate"
        | "/users/{id}/activate"
        | "/users/{id}/personal_access_tokens" => {
            if let Some(e) = auth_gate(actor, &m, users_scope) {
                return e;
            }
            if actor != Actor::Admin {
                return forbidden();
            }
            match m {
                Method::DELETE => ok(204),
                Method::PUT => ok(200),
                _ => ok(201),
            }
        }
        "/personal_access_tokens" | "/personal_access_tokens/self" => {
            auth_gate(actor, &m, default_scope).unwrap_or_else(|| ok(if write { 204 } else { 200 }))
        }
        "/personal_access_tokens/self/rotate" => {
            auth_gate(actor, &m, "self_rotate api read_api").unwrap_or_else(|| ok(200))
        }
        "/personal_access_tokens/{id}" | "/personal_access_tokens/{id}/rotate" => {
            if let Some(e) = auth_gate(actor, &m, default_scope) {
                return e;
            }
            let mine = matches!(actor, Actor::Guest | Actor::Admin);
            match (m, mine) {
                (Method::DELETE, true) => ok(204),
                (Method::DELETE, false) => err(400, json!({"message": "400 Bad request"})),
                (_, true) => ok(200),
                (_, false) => unauthorized(),
            }
        }
        "/groups" | "/projects" if !write => {
            if actor == Actor::Anonymous {
                return ok(200);
            }
            auth_gate(actor, &m, default_scope).unwrap_or_else(|| ok(200))
        }
        "/groups" | "/projects" => auth_gate(actor, &m, default_scope).unwrap_or_else(|| ok(201)),
        "/projects/user/{user_id}" => {
            if let Some(e) = auth_gate(actor, &m, default_scope) {
                return e;
            }
            if actor == Actor::Admin {
                ok(201)
            } else {
                forbidden()
            }
        }
        "/groups/{id}"
        | "/groups/{id}/subgroups"
        | "/groups/{id}/descendant_groups"
        | "/groups/{id}/projects"
        | "/projects/{id}" => {
            let what = if route.path.starts_with("/groups") {
                "Group"
            } else {
                "Project"
            };
            if actor == Actor::Anonymous && !write {
                return if visible_to(actor, vis) {
                    ok(200)
                } else {
                    not_found(what)
                };
            }
            if let Some(e) = auth_gate(actor, &m, default_scope) {
                return e;
            }
            if !visible_to(actor, vis) {
                return not_found(what);
            }
            if !write {
                return ok(200);
            }
            // DELETE: Owner of the group / of the project (inherited), or admin.
            if at_least(actor, AccessLevel::Owner) {
                ok(202)
            } else {
                forbidden()
            }
        }
        path if path.contains("/members") => {
            let group = path.starts_with("/groups");
            let what = if group { "Group" } else { "Project" };
            if let Some(e) = auth_gate(actor, &m, default_scope) {
                return e;
            }
            if !visible_to(actor, vis) {
                return not_found(what);
            }
            if !write {
                return ok(200);
            }
            let needed = if group {
                AccessLevel::Owner
            } else {
                AccessLevel::Maintainer
            };
            if !at_least(actor, needed) {
                return forbidden();
            }
            match m {
                Method::POST => ok(201),
                Method::PUT => ok(200),
                _ => ok(204),
            }
        }
        "/ci/jobs" | "/ci/jobs/{id}" => {
            if let Some(e) = auth_gate(actor, &m, "ci api read_api") {
                return e;
            }
            if actor != Actor::Admin {
                return forbidden();
            }
            ok(if m == Method::POST { 201 } else { 200 })
        }
        "/job" => match actor {
            Actor::Anonymous | Actor::UnknownToken => unauthorized(),
            Actor::ExpiredToken => expired(),
            _ => not_found("Job"),
        },
        "/job_token/allowed" => unauthorized(),
        path if path.starts_with("/projects/{id}/audit_events") => {
            if let Some(e) = auth_gate(actor, &m, default_scope) {
                return e;
            }
            if !visible_to(actor, vis) {
                return not_found("Project");
            }
            if at_least(actor, AccessLevel::Maintainer) {
                ok(200)
            } else {
                forbidden()
            }
        }
        path if path.starts_with("/projects/{id}/job_token_scope") => {
            if let Some(e) = auth_gate(actor, &m, default_scope) {
                return e;
            }
            if !visible_to(actor, vis) {
                return not_found("Project");
            }
            if !at_least(actor, AccessLevel::Maintainer) {
                // GitLab's two DELETE routes word their 403 differently.
                let gitlab_delete = m == Method::DELETE && path.contains("allowlist/{");
                return if gitlab_delete {
                    forbidden_because("Insufficient permissions to modify the job token scope")
                } else {
                    forbidden()
                };
            }
            match (m, path) {
                (Method::GET, _) => ok(200),
                (Method::PATCH, "/projects/{id}/job_token_scope") => ok(204),
                (Method::PATCH, _) => ok(200),
                (Method::DELETE, _) => ok(204),
                (_, "/projects/{id}/job_token_scope/autopopulate") => ok(200),
                _ => ok(created),
            }
        }
        "/application/settings" => {
            if let Some(e) = auth_gate(actor, &m, default_scope) {
                return e;
            }
            if actor == Actor::Admin {
                ok(200)
            } else {
                forbidden()
            }
        }
        other => panic!("no expectation for {} {other}", route.method),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for vis in Visibility::ALL {
        let app = TestApp::new().await;
        let fx = Fixture::new(&app, vis).await;
        for route in ROUTES {
            for actor in ACTORS {
                let want = expect(route, actor, vis);
                let req = prepare(&app, &fx, route, actor).await;
                let res = app.send(req).await;
                checked += 1;
                let body_ok = match &want.body {
                    Some(b) => res.json() == *b,
                    None => true,
                };
                if res.status.as_u16() != want.status || !body_ok {
                    failures.push(format!(
                        "{} {} as {actor:?} on {vis}: want {} {}, got {} {}",
                        route.method,
                        route.path,
                        want.status,
                        want.body.map(|b| b.to_string()).unwrap_or_default(),
                        res.status.as_u16(),
                        res.text
                    ));
                }
            }
        }
    }
    assert_eq!(checked, 3 * ROUTES.len() * ACTORS.len());
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Fails when a route exists without a matrix row (or a row names a route that is gone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_has_a_row() {
    let app = TestApp::new().await;
    let fx = Fixture::new(&app, Visibility::Private).await;
    for route in ROUTES {
        // Both panic with a clear message when a route has no row.
        let _ = expect(route, Actor::Admin, Visibility::Private);
        let _ = prepare(&app, &fx, route, Actor::Admin).await;
    }
    assert!(ROUTES.len() >= 50, "the route table lost routes");
}
