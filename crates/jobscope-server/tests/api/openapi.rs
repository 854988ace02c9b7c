//! The OpenAPI document: generated from the route table, served without authentication, and
//! checked in as `docs/openapi.json`. When the code changes the document, regenerate the file:
//!
//! ```sh
//! JOBSCOPE_UPDATE_OPENAPI=1 cargo test -p jobscope-server --test api openapi
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;

use jobscope_server::openapi;
use jobscope_server::routes::ROUTES;
use serde_json::Value;

use crate::helpers::*;

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn checked_in_document_matches_the_code() {
    let generated = openapi::document_text();
    let path = checked_in();
    if std::env::var_os("JOBSCOPE_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{} differs from what the code generates; regenerate it with \
         `JOBSCOPE_UPDATE_OPENAPI=1 cargo test -p jobscope-server --test api openapi` \
         and review the diff",
        path.display()
    );
}

#[test]
fn every_route_is_documented_once() {
    let doc = openapi::document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(documented.insert((method.to_ascii_uppercase(), path.clone())));
        }
    }
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, routes);
}

#[test]
fn operations_are_complete() {
    let doc = openapi::document();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success answer"
            );
            for status in ["400", "401", "403", "404"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
            // Every path parameter of the template is declared.
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let in_template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(declared, in_template, "{method} {path}");
        }
    }
    // Links name operations that exist, and every schema reference resolves.
    let text = serde_json::to_string(&doc).unwrap();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (_, op) in item.as_object().unwrap() {
            for (_, response) in op["responses"].as_object().unwrap() {
                if let Some(links) = response["links"].as_object() {
                    for (name, link) in links {
                        let target = link["operationId"].as_str().unwrap();
                        assert!(ids.contains(target), "link {name} names {target}");
                    }
                }
            }
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(schemas.contains_key(name), "unresolved $ref {name}");
    }
}

#[tokio::test]
async fn served_without_authentication() {
    let app = TestApp::new().await;
    let resp = app.send(get("/api/v4/openapi.json")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body: Value = resp.json();
    assert_eq!(body, openapi::document());
    assert_eq!(body["openapi"], "3.1.0");
}

/// The top-level fields a documented 2xx schema requires (a `$ref` to a component, or an
/// array of them); empty for other shapes.
fn required_fields(doc: &Value, schema: &Value) -> Vec<String> {
    let schema = if schema["type"] == "array" {
        &schema["items"]
    } else {
        schema
    };
    let Some(reference) = schema["$ref"].as_str() else {
        return Vec::new();
    };
    let name = reference.trim_start_matches("#/components/schemas/");
    doc["components"]["schemas"][name]["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Security requirement C1.15 (contract conformance), in process: every route of the table,
/// called as the administrator on real fixtures (reads first, then writes, then deletions),
/// answers a status its operation documents, and a 2xx JSON body carries the fields its schema
/// requires. Schemathesis does the same with generated input and stateful sequences against a
/// live server (`tests/e2e/schemathesis/run.sh`).
#[tokio::test]
async fn c1_15_every_route_answers_as_documented() {
    use jobscope_store::MemberSource;
    use jobscope_types::{AccessLevel, UserId, Visibility};
    use serde_json::json;

    let app = TestApp::new().await;
    let group = app.group("c115", None, Visibility::Private).await;
    let target = app.project(group.id, "target", Visibility::Private).await;
    let origin = app.project(group.id, "origin", Visibility::Private).await;
    let third = app.project(group.id, "third", Visibility::Private).await;
    let user = app.user("c115-dev").await;
    app.member(
        MemberSource::Project(target.id),
        user.id,
        AccessLevel::Developer,
    )
    .await;
    app.link_project(target.id, origin.id).await;
    app.link_group(target.id, group.id).await;
    let (_, token) = app.token_with(user.id, &["api"], None, false).await;
    let (job, job_token) = app.job(origin.id, UserId(1)).await;

    let fill = |path: &str| -> String {
        let id = if path.starts_with("/projects/") {
            target.id.to_string()
        } else if path.starts_with("/groups/") {
            group.id.to_string()
        } else if path.starts_with("/users/") {
            user.id.to_string()
        } else if path.starts_with("/personal_access_tokens/") {
            token.id.to_string()
        } else {
            job.id.to_string()
        };
        path.replace("{id}", &id)
            .replace("{user_id}", &user.id.to_string())
            .replace("{target_project_id}", &origin.id.to_string())
            .replace("{target_group_id}", &group.id.to_string())
            .replace("{audit_event_id}", "1")
    };
    let body = |method: &str, path: &str| -> Option<Value> {
        Some(match (method, path) {
            ("POST", "/users") => json!({"email": "n@example.com", "name": "N",
                "username": "newuser", "password": "a-long-password-1"}),
            ("PUT", "/users/{id}") => json!({"name": "Renamed"}),
            ("POST", "/users/{id}/personal_access_tokens") => {
                json!({"name": "t", "scopes": ["api"]})
            }
            ("POST", "/groups") => json!({"name": "G2", "path": "g2"}),
            ("POST", "/groups/{id}/members") => json!({"user_id": user.id, "access_level": 30}),
            ("PUT", "/groups/{id}/members/{user_id}" | "/projects/{id}/members/{user_id}") => {
                json!({"access_level": 40})
            }
            ("POST", "/projects") => json!({"name": "p2", "namespace_id": group.id}),
            ("POST", "/projects/user/{user_id}") => json!({"name": "p3"}),
            ("PATCH", "/projects/{id}/job_token_scope") => json!({"enabled": true}),
            ("POST", "/projects/{id}/job_token_scope/allowlist") => {
                json!({"target_project_id": third.id})
            }
            ("PATCH", "/projects/{id}/job_token_scope/allowlist/{target_project_id}") => {
                json!({"default_permissions": false, "job_token_policies": ["read_jobs"]})
            }
            ("POST", "/projects/{id}/job_token_scope/groups_allowlist") => {
                json!({"target_group_id": group.id})
            }
            ("PATCH", "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}") => {
                json!({"job_token_policies": ["read_jobs"]})
            }
            ("POST", "/projects/{id}/job_token_scope/autopopulate") => json!({"dry_run": true}),
            ("POST", "/ci/jobs") => json!({"project_id": origin.id, "user_id": 1}),
            ("PUT", "/ci/jobs/{id}") => json!({"status": "success"}),
            ("PUT", "/application/settings") => {
                json!({"enforce_ci_inbound_job_token_scope_enabled": false})
            }
            _ => return None,
        })
    };
    // Reads, then writes, then deletions; the request's own token is revoked last of all.
    let rank = |r: &jobscope_server::routes::RouteSpec| match r.method {
        "GET" => 0,
        "DELETE" if r.path.ends_with("/self") => 3,
        "DELETE" => 2,
        _ if r.path.contains("/self") => 3,
        _ => 1,
    };
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|r| rank(r));

    let doc = openapi::document();
    let mut successes = 0;
    for route in routes {
        let mut path = format!("/api/v4{}", fill(route.path));
        if route.path == "/job_token/allowed" {
            path.push_str(&format!("?project={}", target.id));
        }
        let mut req = Req::new(route.method(), path.clone());
        req = if route.path.starts_with("/job") {
            req.auth(Auth::Header("JOB-TOKEN", job_token.clone()))
        } else {
            req.token(ROOT_TOKEN)
        };
        if let Some(b) = body(route.method, route.path) {
            req = req.json(b);
        }
        let resp = app.send(req).await;
        let status = resp.status.as_u16();
        let op = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
        let documented = &op["responses"][status.to_string()];
        assert!(
            !documented.is_null(),
            "{} {path}: {status} is not documented: {}",
            route.method,
            resp.text
        );
        if (200..300).contains(&status) {
            successes += 1;
            let schema = &documented["content"]["application/json"]["schema"];
            if schema.is_null() {
                assert!(
                    resp.text.is_empty(),
                    "{} {path}: a body on {status}",
                    route.method
                );
                continue;
            }
            let body = resp.json();
            let items = match &body {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            for field in required_fields(&doc, schema) {
                for item in &items {
                    assert!(
                        item.get(&field).is_some(),
                        "{} {path}: `{field}` missing from {item}",
                        route.method
                    );
                }
            }
        }
    }
    // Most routes got past validation and authorization to their real answer.
    assert!(successes >= ROUTES.len() * 3 / 4, "{successes} successes");
}
