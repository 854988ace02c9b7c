//! No client input, however malformed, produces a 5xx: every route is sent odd path values,
//! broken and oversized bodies, wrong types and odd headers, as an administrator, as a
//! normal user and anonymously.

use axum::http::Method;
use jobscope_server::routes::ROUTES;
use jobscope_types::Visibility;
use serde_json::{Value, json};

use crate::helpers::*;

const ODD_SEGMENTS: &[&str] = &[
    "0",
    "-1",
    "+1",
    "007",
    "99999999999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "%FF%FE",
    "%00",
    "a%00b",
    "a%2Fb%2Fc%2Fd",
    "..%2F..%2Fetc",
    "%27%20OR%201%3D1%20--",
    "%F0%9F%92%A9",
    "self",
    "all",
    "user",
];

fn bodies() -> Vec<(String, String)> {
    let long = "x".repeat(10_000);
    let mut v: Vec<(String, String)> = vec![
        ("application/json".into(), "{".into()),
        ("application/json".into(), "[1,2,3]".into()),
        ("application/json".into(), "null".into()),
        ("application/json".into(), "\"text\"".into()),
        ("application/json".into(), "{\"a\":".repeat(200)),
        ("application/json; charset=utf-8".into(), "{}".into()),
        ("application/x-www-form-urlencoded".into(), "%%%&&==".into()),
        (
            "application/x-www-form-urlencoded".into(),
            "a[]=1&a=2&a[]=3".into(),
        ),
        ("text/plain".into(), "hello".into()),
        ("multipart/form-data; boundary=x".into(), "--x--".into()),
        (
            "application/json".into(),
            format!("{{\"name\":\"{long}\"}}"),
        ),
    ];
    // Every parameter name the API knows, with values of every wrong type.
    let keys = [
        "enabled",
        "target_project_id",
        "target_group_id",
        "page",
        "per_page",
        "name",
        "path",
        "username",
        "email",
        "password",
        "scopes",
        "expires_at",
        "access_level",
        "user_id",
        "parent_id",
        "namespace_id",
        "visibility",
        "admin",
        "external",
        "projects_limit",
        "default_projects_limit",
        "enforce_ci_inbound_job_token_scope_enabled",
        "max_personal_access_token_lifetime",
        "description",
        "topics",
        "search",
        "sort",
        "order_by",
        "min_access_level",
        "hard_delete",
        "with_projects",
        "state",
        "revoked",
        "default_project_visibility",
        "default_group_visibility",
        "all_available",
        "owned",
    ];
    let wrong: [Value; 9] = [
        json!(null),
        json!(-1),
        json!(1e300),
        json!(18446744073709551615u64),
        json!("\u{0}\u{ffff}"),
        json!([null, {"a": 1}]),
        json!({"nested": [1]}),
        json!(true),
        json!("2026-13-45"),
    ];
    for w in &wrong {
        let mut obj = serde_json::Map::new();
        for k in keys {
            obj.insert(k.into(), w.clone());
        }
        v.push(("application/json".into(), Value::Object(obj).to_string()));
    }
    v
}

fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e + 1)
            .unwrap_or(rest.len());
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    format!("/api/v4{out}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_produces_a_server_error() {
    let app = TestApp::new().await;
    let g = app.group("acme", None, Visibility::Public).await;
    let p = app.project(g.id, "app", Visibility::Public).await;
    let (_, user_token) = app.user_with_token("someone").await;
    let auths = [
        Auth::token(ROOT_TOKEN),
        Auth::token(&user_token),
        Auth::None,
    ];
    let mut failures = Vec::new();
    let mut sent = 0;
    for route in ROUTES {
        let method: Method = route.method();
        // Odd path values, with an empty JSON body.
        for seg in ODD_SEGMENTS {
            for auth in &auths {
                let res = app
                    .send(
                        Req::new(method.clone(), fill(route.path, seg))
                            .auth(auth.clone())
                            .json(json!({})),
                    )
                    .await;
                sent += 1;
                if res.status.is_server_error() {
                    failures.push(format!(
                        "{} {} [{seg}]: {} {}",
                        route.method, route.path, res.status, res.text
                    ));
                }
            }
        }
        // Odd bodies, on real ids.
        let real = fill(route.path, &p.id.to_string());
        for (ct, body) in bodies() {
            for auth in &auths[..2] {
                let res = app
                    .send(
                        Req::new(method.clone(), real.clone())
                            .auth(auth.clone())
                            .raw(&ct, &body),
                    )
                    .await;
                sent += 1;
                if res.status.is_server_error() {
                    failures.push(format!(
                        "{} {} body {ct} {:.60}: {} {}",
                        route.method, route.path, body, res.status, res.text
                    ));
                }
            }
        }
    }
    assert!(sent > 3000);
    assert!(
        failures.is_empty(),
        "{} server errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_gitlab_shaped_4xx() {
    let app = TestApp::new().await;
    let g = app.group("acme", None, Visibility::Public).await;
    let p = app.project(g.id, "app", Visibility::Public).await;
    let path = format!("/api/v4/projects/{}/job_token_scope", p.id);
    let res = app
        .send(
            patch(&path)
                .token(ROOT_TOKEN)
                .raw("application/json", "{\"enabled\":"),
        )
        .await;
    assert_eq!(res.status.as_u16(), 400);
    assert_eq!(
        res.json(),
        json!({"error": "message body does not match declared format"})
    );
    let huge = format!(
        "{{\"enabled\": true, \"pad\": \"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let res = app
        .send(
            patch(&path)
                .token(ROOT_TOKEN)
                .raw("application/json", &huge),
        )
        .await;
    assert_eq!(res.status.as_u16(), 413);
    assert_eq!(res.json(), json!({"error": "413 Request Entity Too Large"}));
    // Bodies of other types are ignored, so the parameter is missing.
    let res = app
        .send(
            patch(&path)
                .token(ROOT_TOKEN)
                .raw("text/plain", "enabled=true"),
        )
        .await;
    assert_eq!(res.json(), json!({"error": "enabled is missing"}));
    // Invalid UTF-8 in the path is a parameter error, not a crash.
    let res = app
        .send(get("/api/v4/projects/%FF/job_token_scope").token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 400);
    assert_eq!(
        res.json(),
        json!({"message": "400 Bad request - The path is not valid UTF-8"})
    );
}

/// A NUL byte anywhere in a request (path, query, JSON or form body) is refused with GitLab's
/// 400 before any handler runs: no database stores it, and nothing changes.
#[tokio::test]
async fn nul_bytes_are_refused_everywhere() {
    let app = TestApp::new().await;
    let g = app.group("acme", None, Visibility::Public).await;
    let p = app.project(g.id, "app", Visibility::Public).await;
    let base = format!("/api/v4/projects/{}/job_token_scope", p.id);
    let nul = json!({"message": "400 Bad request - The request contains a NUL byte"});
    let cases = vec![
        get("/api/v4/projects/acme%2Fa%00pp/job_token_scope"),
        get(format!("{base}/allowlist?page=1%00")),
        patch(&base).json(json!({"enabled": "tr\u{0}ue"})),
        patch(&base).raw("application/x-www-form-urlencoded", "enabled=true%00"),
        post(format!("{base}/allowlist")).json(json!({"target_project_id": g.id, "x\u{0}": 1})),
        post(format!("{base}/allowlist"))
            .json(json!({"target_project_id": p.id, "job_token_policies": ["read_jobs\u{0}"]})),
    ];
    for req in cases {
        let label = format!("{} {}", req.method, req.path);
        let res = app.send(req.token(ROOT_TOKEN)).await;
        assert_eq!(res.status.as_u16(), 400, "{label}: {}", res.text);
        assert_eq!(res.json(), nul, "{label}");
    }
    let res = app.send(get(&base).token(ROOT_TOKEN)).await;
    assert_eq!(res.json()["inbound_enabled"], true, "nothing changed");
    // A NUL in a sudo username is a user that does not exist.
    let (admin, _) = app
        .token_with(jobscope_types::UserId(1), &["api", "sudo"], None, false)
        .await;
    let res = app
        .send(get("/api/v4/user?sudo=ro%00ot").token(&admin))
        .await;
    assert_eq!(res.status.as_u16(), 404, "{}", res.text);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_clients_own_is_kept() {
    let app = TestApp::new().await;
    let a = app.send(get("/api/v4/version")).await;
    let b = app.send(get("/api/v4/version")).await;
    let (a, b) = (
        a.header("x-request-id").unwrap().to_owned(),
        b.header("x-request-id").unwrap().to_owned(),
    );
    assert_eq!(a.len(), 32, "{a}");
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
    assert_ne!(a, b);
    // The same process: the same prefix, a different counter.
    assert_eq!(a[..16], b[..16]);
    let own = app
        .send(get("/api/v4/version").header("x-request-id", "from-the-proxy-1"))
        .await;
    assert_eq!(own.header("x-request-id"), Some("from-the-proxy-1"));
}
