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
