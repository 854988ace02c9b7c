//! The web UI (issue 8), in process: sessions and their cookie, CSRF, expiry and revocation,
//! escaping, GitLab's refusals in place, and that the API's surface is undisturbed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use axum::http::StatusCode;
use jobscope_server::config::{ServerConfig, UiConfig};
use jobscope_server::limits::{BanConfig, LimitsConfig};
use jobscope_store::{MemberSource, Project, UserState};
use jobscope_types::{AccessLevel, Visibility};

use crate::helpers::*;

/// A signed-in browser: its cookie header and its session's CSRF token.
struct Browser {
    cookie: String,
    session_id: String,
    csrf: String,
}

impl Browser {
    fn get(&self, path: &str) -> Req {
        get(path).header("cookie", &self.cookie)
    }

    /// A form POST with the CSRF token, as the page's forms send it.
    fn post(&self, path: &str, form: &str) -> Req {
        let body = if form.is_empty() {
            format!("authenticity_token={}", self.csrf)
        } else {
            format!("authenticity_token={}&{form}", self.csrf)
        };
        post(path)
            .header("cookie", &self.cookie)
            .header("origin", "http://jobscope.test")
            .header("sec-fetch-site", "same-origin")
            .form(&body)
    }
}

fn set_cookie(resp: &TestResponse) -> String {
    resp.header("set-cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie: {resp:?}"))
        .to_owned()
}

/// Signs in with `token` and reads the CSRF token from the first page.
async fn sign_in(app: &TestApp, token: &str) -> Browser {
    let resp = app
        .send(post("/users/sign_in").form(&format!("token={token}")))
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text);
    let cookie = set_cookie(&resp);
    let pair = cookie.split(';').next().unwrap().to_owned();
    let session_id = pair.split_once('=').unwrap().1.to_owned();
    let page = app
        .send(get("/dashboard/projects").header("cookie", &pair))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = page
        .text
        .split("name=\"authenticity_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF field")
        .to_owned();
    Browser {
        cookie: pair,
        session_id,
        csrf,
    }
}

/// A group `acme` with a private project `app`.
async fn acme(app: &TestApp) -> Project {
    let g = app.group("acme", None, Visibility::Private).await;
    app.project(g.id, "app", Visibility::Private).await
}

fn settings(p: &Project) -> String {
    format!("/{}/-/settings/ci_cd", p.full_path)
}

#[tokio::test]
async fn sign_in_sets_an_httponly_strict_cookie_and_stores_only_digests() {
    let app = TestApp::new().await;
    let resp = app
        .send(post("/users/sign_in").form(&format!(
            "token={ROOT_TOKEN}&return_to=/acme/app/-/settings/ci_cd"
        )))
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.header("location"), Some("/acme/app/-/settings/ci_cd"));
    let cookie = set_cookie(&resp);
    assert!(cookie.starts_with("_jobscope_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let id = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(id.len(), 43);
    // The store knows the session by its digest only, and never saw the token.
    let session = app
        .store
        .web_session(&app.tokens.digest(id))
        .await
        .unwrap()
        .unwrap();
    assert!(app.store.web_session(id).await.unwrap().is_none());
    assert_eq!(session.user_id.get(), 1);
    let bytes = app.database_bytes();
    let window = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!window(id), "the session id is stored in plain text");
    assert!(!window(ROOT_TOKEN), "the token is stored in plain text");
    // An open redirect is not possible.
    let resp = app
        .send(post("/users/sign_in").form(&format!("token={ROOT_TOKEN}&return_to=//evil.example/")))
        .await;
    assert_eq!(resp.header("location"), Some("/dashboard/projects"));
}

#[tokio::test]
async fn secure_cookies_over_tls() {
    let app = TestApp::with_config(ServerConfig {
        ui: UiConfig {
            secure_cookies: true,
            ..UiConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let resp = app
        .send(post("/users/sign_in").form(&format!("token={ROOT_TOKEN}")))
        .await;
    let cookie = set_cookie(&resp);
    assert!(cookie.starts_with("__Host-jobscope_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let page = app
        .send(get("/dashboard/projects").header("cookie", pair))
        .await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn pages_need_a_session_and_carry_security_headers() {
    let app = TestApp::new().await;
    let p = acme(&app).await;
    let resp = app.send(get(settings(&p))).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(
        resp.header("location"),
        Some("/users/sign_in?return_to=%2Facme%2Fapp%2F-%2Fsettings%2Fci_cd")
    );
    let resp = app.send(get("/")).await;
    assert_eq!(resp.header("location"), Some("/users/sign_in"));
    // A token is not a session: the UI does not read PRIVATE-TOKEN.
    let resp = app.send(get("/dashboard/projects").token(ROOT_TOKEN)).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);

    let form = app.send(get("/users/sign_in")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(
        form.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = form.header("content-security-policy").unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(form.header("x-frame-options"), Some("DENY"));
    assert_eq!(form.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(form.header("referrer-policy"), Some("same-origin"));
    assert_eq!(form.header("cache-control"), Some("no-store"));
    assert!(!form.text.contains("<script>"), "no inline script");
    assert!(!form.text.contains("style=\""), "no inline style");

    // The embedded assets, cached for a year under a versioned URL.
    let css_url = form
        .text
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with("/ui.css")))
        .unwrap()
        .to_owned();
    let css = app.send(get(&css_url)).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let js = app.send(get(css_url.replace("ui.css", "ui.js"))).await;
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        app.send(get(css_url.replace("ui.css", "x.js")))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_api_surface_is_undisturbed() {
    let app = TestApp::new().await;
    for path in [
        "/api/v4/nothing",
        "/api/v4/projects/1/-/settings/ci_cd",
        "/nothing",
        "/acme/app/-/nothing",
        "/-/nothing",
    ] {
        for req in [get(path), post(path)] {
            let resp = app.send(req).await;
            assert_eq!(resp.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(resp.text, r#"{"error":"404 Not Found"}"#, "{path}");
            assert_eq!(resp.header("content-type"), Some("application/json"));
            assert_eq!(resp.header("x-frame-options"), Some("SAMEORIGIN"), "{path}");
        }
    }
    let resp = app.send(put("/users/sign_in")).await;
    assert_eq!(resp.text, r#"{"error":"404 Not Found"}"#);
    let resp = app.send(get("/api/v4/version").token(ROOT_TOKEN)).await;
    assert_eq!(resp.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_refusals_count_towards_the_ban() {
    let app = TestApp::with_config(ServerConfig {
        limits: LimitsConfig {
            auth_ban: Some(BanConfig {
                max_failures: 3,
                window: Duration::from_secs(60),
                duration: Duration::from_secs(60),
            }),
            ..LimitsConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let (u, _) = app.user_with_token("expiring").await;
    let (expired, _) = app.token_with(u.id, &["api"], Some(-1), false).await;
    let (readuser, _) = app.token_with(u.id, &["read_user"], None, false).await;
    let resp = app
        .send(
            post("/users/sign_in")
                .form(&format!("token={readuser}"))
                .peer("203.0.113.9"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(resp.text.contains("needs the api"), "{}", resp.text);
    assert!(resp.text.contains("insufficient_scope"), "{}", resp.text);
    let resp = app
        .send(
            post("/users/sign_in")
                .form(&format!("token={expired}"))
                .peer("203.0.113.9"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert!(
        resp.text.contains("This token has expired"),
        "{}",
        resp.text
    );
    for bad in ["glpat-not-a-real-token-1", "nonsense"] {
        let resp = app
            .send(
                post("/users/sign_in")
                    .form(&format!("token={bad}"))
                    .peer("203.0.113.9"),
            )
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert!(
            resp.text.contains("This token is not valid"),
            "{}",
            resp.text
        );
        assert!(resp.text.contains("401 Unauthorized"), "{}", resp.text);
        assert!(resp.headers.get("set-cookie").is_none());
    }
    // Three refusals (the expired token and two unknown ones): the address is banned.
    let resp = app
        .send(
            post("/users/sign_in")
                .form(&format!("token={ROOT_TOKEN}"))
                .peer("203.0.113.9"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "{}", resp.text);
    // Another address is not.
    let resp = app
        .send(
            post("/users/sign_in")
                .form(&format!("token={ROOT_TOKEN}"))
                .peer("203.0.113.10"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_change_needs_the_csrf_token_and_this_origin() {
    let app = TestApp::new().await;
    let p = acme(&app).await;
    let b = sign_in(&app, ROOT_TOKEN).await;
    let scope = format!("{}/scope", settings(&p));
    let refused = [
        // No token.
        post(&scope)
            .header("cookie", &b.cookie)
            .form("enabled=false"),
        // A wrong token.
        post(&scope)
            .header("cookie", &b.cookie)
            .form("authenticity_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&enabled=false"),
        // The right token from another site.
        post(&scope)
            .header("cookie", &b.cookie)
            .header("origin", "https://evil.example")
            .form(&format!("authenticity_token={}&enabled=false", b.csrf)),
        post(&scope)
            .header("cookie", &b.cookie)
            .header("sec-fetch-site", "cross-site")
            .form(&format!("authenticity_token={}&enabled=false", b.csrf)),
    ];
    for req in refused {
        let resp = app.send(req).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{}", resp.text);
        assert!(resp.text.contains("could not be accepted"), "{}", resp.text);
    }
    assert!(
        app.store
            .project(p.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    // The header form of the token works for scripts.
    let resp = app
        .send(
            post(&scope)
                .header("cookie", &b.cookie)
                .header("x-csrf-token", &b.csrf)
                .form("enabled=false"),
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text);
    assert!(
        !app.store
            .project(p.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    // Sign-in itself refuses other sites (login CSRF).
    let resp = app
        .send(
            post("/users/sign_in")
                .header("origin", "https://evil.example")
                .form(&format!("token={ROOT_TOKEN}")),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn changes_go_through_the_services_with_audit_events() {
    let app = TestApp::new().await;
    let p = acme(&app).await;
    let other = app.group("tools", None, Visibility::Private).await;
    let builder = app.project(other.id, "builder", Visibility::Private).await;
    let b = sign_in(&app, ROOT_TOKEN).await;
    let base = settings(&p);

    let resp = app
        .send(b.post(&format!("{base}/scope"), "enabled=false"))
        .await;
    assert_eq!(
        resp.header("location"),
        Some(format!("{base}?notice=scope_saved").as_str())
    );
    let page = app.send(b.get(&format!("{base}?notice=scope_saved"))).await;
    assert!(page.text.contains("Job token permissions saved."));

    let resp = app
        .send(b.post(
            &format!("{base}/allowlist"),
            "path=tools/builder&default_permissions=false&policy_packages=admin&policy_jobs=read",
        ))
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text);
    let link = app
        .store
        .project_link(p.id, builder.id, jobscope_store::LinkDirection::Inbound)
        .await
        .unwrap()
        .unwrap();
    assert!(!link.default_permissions);
    assert_eq!(link.job_token_policies, vec!["read_jobs", "admin_packages"]);
    assert_eq!(link.added_by.map(|u| u.get()), Some(1));
    let resp = app
        .send(b.post(&format!("{base}/allowlist"), "path=tools"))
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text);

    // The same refusal as the API's, in place, with the form filled again.
    let resp = app
        .send(b.post(&format!("{base}/allowlist"), "path=tools/builder"))
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert!(
        resp.text.contains("already in the allowlist"),
        "{}",
        resp.text
    );
    assert!(
        resp.text
            .contains("400 Bad request - This project is already in the job token allowlist.")
    );
    assert!(resp.text.contains("value=\"tools/builder\""));
    let resp = app
        .send(b.post(&format!("{base}/allowlist"), "path=acme/app"))
        .await;
    assert!(
        resp.text
            .contains("Target project can&#39;t be the same as the source project")
            || resp.text.contains("Target project can't be the same"),
        "{}",
        resp.text
    );
    let resp = app
        .send(b.post(&format!("{base}/allowlist"), "path=nowhere/at-all"))
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(
        resp.text
            .contains("404 target_project_id not found Not Found")
    );

    let page = app.send(b.get(&base)).await;
    assert!(
        page.text.contains("Packages: read and write"),
        "{}",
        page.text
    );
    assert!(page.text.contains("3 groups and projects with access"));

    let edit = format!("{base}/allowlist/project/{}/edit", builder.id);
    assert_eq!(app.send(b.get(&edit)).await.status, StatusCode::OK);
    let resp = app.send(b.post(&edit, "default_permissions=true")).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text);
    let link = app
        .store
        .project_link(p.id, builder.id, jobscope_store::LinkDirection::Inbound)
        .await
        .unwrap()
        .unwrap();
    assert!(link.default_permissions && link.job_token_policies.is_empty());

    let confirm = app
        .send(b.get(&format!("{base}/allowlist/group/{}/remove", other.id)))
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.text.contains("Remove tools from the allowlist?"));
    let resp = app
        .send(b.post(&format!("{base}/allowlist/group/{}/remove", other.id), ""))
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert!(
        app.store
            .group_link(p.id, other.id)
            .await
            .unwrap()
            .is_none()
    );
    let resp = app
        .send(b.post(
            &format!("{base}/allowlist/project/{}/remove", builder.id),
            "",
        ))
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    let resp = app
        .send(b.post(
            &format!("{base}/allowlist/project/{}/remove", builder.id),
            "",
        ))
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert!(
        resp.text
            .contains("Target project is not in the job token scope")
    );

    let audit = app
        .send(b.get(&format!("/{}/-/audit_events", p.full_path)))
        .await;
    assert_eq!(audit.status, StatusCode::OK);
    for event in [
        "secure_ci_job_token_inbound_disabled",
        "secure_ci_job_token_project_added",
        "secure_ci_job_token_group_added",
        "secure_ci_job_token_policies_updated",
        "secure_ci_job_token_group_removed",
        "secure_ci_job_token_project_removed",
    ] {
        assert!(audit.text.contains(event), "{event} missing");
    }
    // The path suggestions list what the user can see.
    let s = app.send(b.get(&format!("{base}/suggest?q=tools/b"))).await;
    assert_eq!(
        s.json(),
        serde_json::json!([{"path": "tools/builder", "kind": "project", "name": "builder"}])
    );
}

#[tokio::test]
async fn a_developer_changing_the_scope_gets_gitlabs_403_explained() {
    let app = TestApp::new().await;
    let p = acme(&app).await;
    let (dev, token) = app.user_with_token("dev").await;
    app.member(MemberSource::Project(p.id), dev.id, AccessLevel::Developer)
        .await;
    let b = sign_in(&app, &token).await;
    // Not in the list of projects they administer.
    let list = app.send(b.get("/dashboard/projects")).await;
    assert!(!list.text.contains("acme/app"));
    let page = app.send(b.get(&settings(&p))).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.text
            .contains("only shown to members with the Maintainer or Owner role")
    );
    let resp = app
        .send(b.post(&format!("{}/scope", settings(&p)), "enabled=false"))
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(
        resp.text.contains("<code>403 Forbidden</code>"),
        "{}",
        resp.text
    );
    assert!(
        resp.text
            .contains("Only members with the Maintainer or Owner role on acme/app can change")
    );
    assert!(
        app.store
            .project(p.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    // Removing is refused with GitLab's message for removals.
    let resp = app
        .send(b.post(
            &format!("{}/allowlist/project/{}/remove", settings(&p), p.id),
            "",
        ))
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(
        resp.text
            .contains("403 Forbidden - Insufficient permissions to modify the job token scope")
    );
    // Someone who cannot see the project gets 404, as from the API.
    let (_, stranger) = app.user_with_token("stranger").await;
    let s = sign_in(&app, &stranger).await;
    let resp = app.send(s.get(&settings(&p))).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(resp.text.contains("404 Project Not Found"));
}

#[tokio::test]
async fn a_read_api_token_reads_but_cannot_change() {
    let app = TestApp::new().await;
    let p = acme(&app).await;
    let (m, _) = app.user_with_token("maint").await;
    app.member(MemberSource::Project(p.id), m.id, AccessLevel::Maintainer)
        .await;
    let (read_only, _) = app.token_with(m.id, &["read_api"], None, false).await;
    let b = sign_in(&app, &read_only).await;
    let page = app.send(b.get(&settings(&p))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("read-only token"));
    let resp = app
        .send(b.post(&format!("{}/scope", settings(&p)), "enabled=false"))
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(resp.text.contains("insufficient_scope"), "{}", resp.text);
    assert!(resp.text.contains("api scope"), "{}", resp.text);
    assert!(
        app.store
            .project(p.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
}

#[tokio::test]
async fn user_supplied_names_are_escaped() {
    let app = TestApp::new().await;
    let g = app.group("evil", None, Visibility::Private).await;
    let p = app
        .store
        .create_project(jobscope_store::NewProject {
            name: "<script>alert('x')</script>".into(),
            path: "xss".into(),
            namespace_id: g.id,
            description: None,
            visibility: Visibility::Private,
            default_branch: None,
            topics: vec![],
            creator_id: None,
            add_creator_as: None,
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let u = app.user("mallory\"><img src=x onerror=alert(1)>").await;
    let (tok, _) = app.token_with(u.id, &["api"], None, false).await;
    app.member(MemberSource::Project(p.id), u.id, AccessLevel::Maintainer)
        .await;
    app.link_project(p.id, p.id).await;
    let b = sign_in(&app, &tok).await;
    for path in [
        "/dashboard/projects".to_owned(),
        settings(&p),
        format!("/{}/-/audit_events", p.full_path),
    ] {
        let page = app.send(b.get(&path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.text.contains("<script>alert"),
            "{path}: {}",
            page.text
        );
        assert!(!page.text.contains("<img src=x"), "{path}");
    }
    let page = app.send(b.get(&settings(&p))).await;
    assert!(
        page.text
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
            || page
                .text
                .contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "{}",
        page.text
    );
    let list = app
        .send(b.get("/dashboard/projects?search=%3Cscript%3E"))
        .await;
    assert!(
        !list.text.contains("<script>"),
        "the search is echoed escaped"
    );
}

#[tokio::test]
async fn sessions_end_when_idle_or_old() {
    let app = TestApp::with_config(ServerConfig {
        ui: UiConfig {
            session_idle: Duration::from_millis(300),
            ..UiConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let b = sign_in(&app, ROOT_TOKEN).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let resp = app.send(b.get("/dashboard/projects")).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(
        resp.header("location"),
        Some("/users/sign_in?reason=expired")
    );
    assert!(set_cookie(&resp).contains("Max-Age=0"));
    assert!(
        app.store
            .web_session(&app.tokens.digest(&b.session_id))
            .await
            .unwrap()
            .is_none()
    );
    let form = app.send(get("/users/sign_in?reason=expired")).await;
    assert!(form.text.contains("Your session has expired"));

    let app = TestApp::with_config(ServerConfig {
        ui: UiConfig {
            session_lifetime: Duration::from_millis(300),
            ..UiConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let b = sign_in(&app, ROOT_TOKEN).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let resp = app.send(b.get("/dashboard/projects")).await;
    assert_eq!(
        resp.header("location"),
        Some("/users/sign_in?reason=expired")
    );
}

#[tokio::test]
async fn revoking_the_token_or_blocking_the_user_ends_the_session() {
    let app = TestApp::new().await;
    let (u, _) = app.user_with_token("alice").await;
    let (tok, pat) = app.token_with(u.id, &["api"], None, false).await;
    let b = sign_in(&app, &tok).await;
    assert_eq!(
        app.send(b.get("/dashboard/projects")).await.status,
        StatusCode::OK
    );
    app.store
        .revoke_personal_access_token(pat.id)
        .await
        .unwrap();
    let resp = app.send(b.get("/dashboard/projects")).await;
    assert_eq!(
        resp.header("location"),
        Some("/users/sign_in?reason=revoked")
    );
    assert!(
        app.store
            .web_session(&app.tokens.digest(&b.session_id))
            .await
            .unwrap()
            .is_none()
    );
    let form = app.send(get("/users/sign_in?reason=revoked")).await;
    assert!(form.text.contains("was revoked"));

    let (tok, _) = app.token_with(u.id, &["api"], None, false).await;
    let b = sign_in(&app, &tok).await;
    app.store
        .set_user_state(u.id, UserState::Blocked)
        .await
        .unwrap();
    let resp = app.send(b.get("/dashboard/projects")).await;
    assert_eq!(
        resp.header("location"),
        Some("/users/sign_in?reason=blocked")
    );
    // And the blocked user cannot sign in again.
    let resp = app
        .send(post("/users/sign_in").form(&format!("token={tok}")))
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(resp.text.contains("Your account has been blocked."));
}

#[tokio::test]
async fn sign_out_deletes_the_session() {
    let app = TestApp::new().await;
    let b = sign_in(&app, ROOT_TOKEN).await;
    // Not without the CSRF token (no forced sign-out from another site).
    let resp = app
        .send(post("/users/sign_out").header("cookie", &b.cookie).form(""))
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = app.send(b.post("/users/sign_out", "")).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(
        resp.header("location"),
        Some("/users/sign_in?reason=signed_out")
    );
    assert!(set_cookie(&resp).contains("Max-Age=0"));
    assert!(
        app.store
            .web_session(&app.tokens.digest(&b.session_id))
            .await
            .unwrap()
            .is_none()
    );
    let resp = app.send(b.get("/dashboard/projects")).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_log_its_csv_and_autopopulation() {
    let app = TestApp::new().await;
    let p = acme(&app).await;
    let g = app.group("ci", None, Visibility::Private).await;
    let origin = app.project(g.id, "runner", Visibility::Private).await;
    let (u, _) = app.user_with_token("ci-user").await;
    for project in [p.id, origin.id] {
        app.member(MemberSource::Project(project), u.id, AccessLevel::Developer)
            .await;
    }
    // The allowlist is off: the access is allowed and logged.
    app.store
        .set_inbound_scope_enabled(p.id, false, None)
        .await
        .unwrap();
    let (_, job_token) = app.job(origin.id, u.id).await;
    let resp = app
        .send(
            get(format!("/api/v4/job_token/allowed?project={}", p.id))
                .auth(Auth::Header("job-token", job_token)),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);

    let b = sign_in(&app, ROOT_TOKEN).await;
    let log = app
        .send(b.get(&format!("{}/authentication_log", settings(&p))))
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.text.contains("ci/runner"));
    let csv = app
        .send(b.get(&format!(
            "{}/export_job_token_authorizations.csv",
            settings(&p)
        )))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = csv.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with(&format!(
            "attachment; filename=\"job-token-authorizations-{}-",
            p.id
        )),
        "{disposition}"
    );
    let mut lines = csv.text.lines();
    assert_eq!(
        lines.next(),
        Some("Origin Project Path,Last Authorized At (UTC)")
    );
    assert!(lines.next().unwrap().starts_with("ci/runner,"));

    let preview = app
        .send(b.get(&format!("{}/autopopulate", settings(&p))))
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.text.contains("ci/runner"));
    assert!(
        preview
            .text
            .contains("Only this project and any groups and projects in the allowlist")
    );
    // The preview changes nothing.
    assert!(
        app.store
            .project_links(p.id, jobscope_store::LinkDirection::Inbound)
            .await
            .unwrap()
            .is_empty()
    );
    let resp = app
        .send(b.post(&format!("{}/autopopulate", settings(&p)), ""))
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text);
    let links = app
        .store
        .project_links(p.id, jobscope_store::LinkDirection::Inbound)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert!(links[0].autopopulated);
    assert!(
        app.store
            .project(p.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    let page = app.send(b.get(&settings(&p))).await;
    assert!(page.text.contains("Autopopulated"));

    let reach = app
        .send(b.get(&format!("/{}/-/settings/ci_cd/reachable", origin.full_path)))
        .await;
    assert_eq!(reach.status, StatusCode::OK);
    assert!(reach.text.contains("acme/app"), "{}", reach.text);
}

#[tokio::test]
async fn malformed_ui_requests_never_fail_with_5xx() {
    let app = TestApp::new().await;
    let p = acme(&app).await;
    let b = sign_in(&app, ROOT_TOKEN).await;
    let base = settings(&p);
    let gets = [
        format!("{base}/allowlist/project/99999999999999999999/edit"),
        format!("{base}/allowlist/project/424242/edit"),
        format!("{base}/allowlist/group/1/remove"),
        format!("{base}/suggest?q=%FF%FE"),
        format!("{base}/suggest?q={}", "a".repeat(5000)),
        "/dashboard/projects?page=-5&search=%00".to_owned(),
        "/%FF%FE/-/settings/ci_cd".to_owned(),
        "/nobody/nothing/-/settings/ci_cd".to_owned(),
        "/users/sign_in?return_to=%0d%0aSet-Cookie:x&reason=%3Cb%3E".to_owned(),
        "/-/ui/assets/x/ui.css".to_owned(),
    ];
    for path in gets {
        let resp = app.send(b.get(&path)).await;
        assert!(resp.status.as_u16() < 500, "{path}: {}", resp.status);
    }
    let posts = [
        (format!("{base}/scope"), "enabled=maybe"),
        (format!("{base}/scope"), ""),
        (format!("{base}/allowlist"), "path="),
        (
            format!("{base}/allowlist"),
            "path=%00%00&default_permissions=x",
        ),
        (
            format!("{base}/allowlist"),
            "path=acme&policy_packages=delete",
        ),
        (format!("{base}/allowlist/project/0/remove"), ""),
        (format!("{base}/allowlist/group/424242/remove"), ""),
        (
            format!("{base}/allowlist/group/424242/edit"),
            "default_permissions=false",
        ),
    ];
    for (path, form) in posts {
        let resp = app.send(b.post(&path, form)).await;
        assert!(resp.status.as_u16() < 500, "{path} {form}: {}", resp.status);
        assert!(
            resp.status.is_client_error() || resp.status == StatusCode::NOT_FOUND,
            "{path} {form}: {}",
            resp.status
        );
    }
    let resp = app
        .send(post("/users/sign_in").raw("application/x-www-form-urlencoded", "token=%FF%FE%00"))
        .await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
}
