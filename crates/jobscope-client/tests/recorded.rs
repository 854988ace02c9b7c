//! The client against recorded GitLab-shaped answers (tests/fixtures/gitlab): the exact
//! requests it sends, 204 PATCH answers, paging across pages, 429 with `Retry-After`,
//! transient 5xx, GitLab's error bodies, and GitLab's GraphQL for what its REST API lacks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use jobscope_client::mock::{MockResponse, MockTransport};
use jobscope_client::types::{NamespaceId, ProjectId};
use jobscope_client::{
    AllowlistItem, Client, Decision, Error, Flavor, Permissions, RetryPolicy, Target,
};
use serde_json::{Value, json};

const API: &str = "/api/v4";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/gitlab/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON")
}

fn ok(name: &str) -> MockResponse {
    MockResponse::json(StatusCode::OK, fixture(name))
}

fn gitlab(mock: &Arc<MockTransport>) -> Client {
    Client::builder("https://gitlab.example.com")
        .private_token("glpat-test-secret")
        .transport(mock.clone())
        .flavor(Flavor::GitLab {
            version: "18.6.0-ee".into(),
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn patch_answers_204_then_the_fresh_state_is_read() {
    let mock = MockTransport::new();
    mock.expect(
        Method::PATCH,
        &format!("{API}/projects/acme%2Fdeployer/job_token_scope"),
    )
    .body(json!({"enabled": true}))
    .respond(MockResponse::empty(StatusCode::NO_CONTENT));
    mock.expect(
        Method::GET,
        &format!("{API}/projects/acme%2Fdeployer/job_token_scope"),
    )
    .respond(ok("scope_enabled"));
    let client = gitlab(&mock);
    let scope = client
        .project("acme/deployer")
        .job_token_scope()
        .set_enabled(true)
        .await
        .unwrap();
    assert!(scope.inbound_enabled);
    assert!(!scope.outbound_enabled);
    mock.assert_done();
    let requests = mock.requests();
    for r in &requests {
        assert_eq!(r.headers["private-token"], "glpat-test-secret");
        assert_eq!(r.headers["accept"], "application/json");
    }
    assert_eq!(requests[0].headers["content-type"], "application/json");
    assert!(requests[1].headers.get("content-type").is_none());
}

#[tokio::test]
async fn adding_by_path_resolves_the_id_and_every_answer_names_the_target_alike() {
    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fbuilder"))
        .respond(ok("project_builder"));
    mock.expect(
        Method::POST,
        &format!("{API}/projects/42/job_token_scope/allowlist"),
    )
    .body(json!({"target_project_id": 7}))
    .respond(MockResponse::json(
        StatusCode::CREATED,
        fixture("allowlist_created"),
    ));
    mock.expect(
        Method::GET,
        &format!("{API}/groups/acme%2Ftools?with_projects=false"),
    )
    .respond(ok("group_tools"));
    mock.expect(
        Method::POST,
        &format!("{API}/projects/42/job_token_scope/groups_allowlist"),
    )
    .body(json!({"target_group_id": 11}))
    .respond(MockResponse::json(
        StatusCode::CREATED,
        fixture("group_created"),
    ));
    mock.expect(
        Method::GET,
        &format!("{API}/projects/42/job_token_scope/groups_allowlist?per_page=100"),
    )
    .respond(ok("groups_allowlist"));
    let client = gitlab(&mock);
    let scope = client.project(42).job_token_scope();
    let created = scope.projects().add("acme/builder").await.unwrap();
    assert_eq!(created.target(), Target::Project(ProjectId(7)));
    assert_eq!(created.target_id(), 7);
    let created = scope.groups().add("acme/tools").await.unwrap();
    assert_eq!(created.target(), Target::Group(NamespaceId(11)));
    let listed = scope.groups().list().await.unwrap();
    assert_eq!(listed[0].target_id(), created.target_id());
    mock.assert_done();
}

#[tokio::test]
async fn lists_follow_link_headers_across_pages() {
    let mock = MockTransport::new();
    let base = format!("{API}/projects/42/job_token_scope/allowlist");
    mock.expect(Method::GET, &format!("{base}?per_page=100"))
        .respond(
            ok("allowlist_page1")
                .header(
                    "link",
                    "<https://gitlab.example.com/api/v4/projects/42/job_token_scope/allowlist?id=42&page=2&per_page=20>; rel=\"next\", \
                     <https://gitlab.example.com/api/v4/projects/42/job_token_scope/allowlist?id=42&page=1&per_page=20>; rel=\"first\", \
                     <https://gitlab.example.com/api/v4/projects/42/job_token_scope/allowlist?id=42&page=2&per_page=20>; rel=\"last\"",
                )
                .header("x-total", "23")
                .header("x-next-page", "2"),
        );
    mock.expect(Method::GET, &format!("{base}?id=42&page=2&per_page=20"))
        .respond(
            ok("allowlist_page2")
                .header("x-total", "23")
                .header("x-next-page", ""),
        );
    let client = gitlab(&mock);
    let all = client
        .project(42)
        .job_token_scope()
        .projects()
        .list()
        .await
        .unwrap();
    assert_eq!(all.len(), 23);
    assert_eq!(all[0].project.path_with_namespace, "acme/deployer");
    assert_eq!(all[22].target_id(), 202);
    mock.assert_done();
}

#[tokio::test]
async fn lists_follow_x_next_page_when_there_is_no_link() {
    let mock = MockTransport::new();
    let base = format!("{API}/projects/42/job_token_scope/allowlist");
    mock.expect(Method::GET, &format!("{base}?per_page=100"))
        .respond(ok("allowlist_page1").header("x-next-page", "2"));
    mock.expect(Method::GET, &format!("{base}?per_page=100&page=2"))
        .respond(ok("allowlist_page2").header("x-next-page", ""));
    let all = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .projects()
        .list()
        .await
        .unwrap();
    assert_eq!(all.len(), 23);
    mock.assert_done();
}

#[tokio::test]
async fn a_list_that_comes_up_short_is_an_error_not_a_silent_truncation() {
    let mock = MockTransport::new();
    let base = format!("{API}/projects/42/job_token_scope/allowlist");
    mock.expect(Method::GET, &format!("{base}?per_page=100"))
        .respond(
            ok("allowlist_page1")
                .header("x-total", "25")
                .header("x-next-page", "2"),
        );
    mock.expect(Method::GET, &format!("{base}?per_page=100&page=2"))
        .respond(ok("allowlist_page2").header("x-total", "24"));
    let err = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .projects()
        .list()
        .await
        .unwrap_err();
    match err {
        Error::Pagination { message, .. } => {
            assert!(message.contains("counted 25"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limits_are_waited_out_as_retry_after_says() {
    let mock = MockTransport::new();
    let path = format!("{API}/projects/42/job_token_scope");
    mock.expect(Method::GET, &path).respond(
        MockResponse::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "Retry later"}),
        )
        .header("retry-after", "3"),
    );
    mock.expect(Method::GET, &path).respond(
        MockResponse::raw(StatusCode::TOO_MANY_REQUESTS, "Retry later\n")
            .header("retry-after", "2"),
    );
    mock.expect(Method::GET, &path).respond(ok("scope"));
    let started = tokio::time::Instant::now();
    let scope = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .get()
        .await
        .unwrap();
    assert!(!scope.inbound_enabled);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
    mock.assert_done();
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_limit_is_returned_not_waited() {
    let mock = MockTransport::new();
    let path = format!("{API}/projects/42/job_token_scope");
    mock.expect(Method::GET, &path).respond(
        MockResponse::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "Retry later"}),
        )
        .header("retry-after", "3600"),
    );
    let err = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .get()
        .await
        .unwrap_err();
    match err {
        Error::Api {
            status,
            retry_after,
            message,
            ..
        } => {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(retry_after, Some(Duration::from_secs(3600)));
            assert_eq!(message, "Retry later");
        }
        other => panic!("{other:?}"),
    }
    mock.assert_done();
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried_for_idempotent_requests_only() {
    let mock = MockTransport::new();
    let scope = format!("{API}/projects/42/job_token_scope");
    mock.expect(Method::GET, &scope).respond(MockResponse::raw(
        StatusCode::SERVICE_UNAVAILABLE,
        "<html>down</html>",
    ));
    mock.expect(Method::GET, &scope)
        .respond(MockResponse::empty(StatusCode::BAD_GATEWAY));
    mock.expect(Method::GET, &scope).fail("connection reset");
    mock.expect(Method::GET, &scope).respond(ok("scope"));
    // A POST is not sent twice after a 503: the first one may have been applied.
    mock.expect(Method::POST, &format!("{scope}/allowlist"))
        .respond(MockResponse::empty(StatusCode::SERVICE_UNAVAILABLE));
    // But it is when the connection was never made.
    mock.expect(Method::POST, &format!("{scope}/allowlist"))
        .fail("connection refused");
    mock.expect(Method::POST, &format!("{scope}/allowlist"))
        .respond(MockResponse::json(
            StatusCode::CREATED,
            fixture("allowlist_created"),
        ));
    let client = gitlab(&mock);
    let s = client.project(42).job_token_scope();
    s.get().await.unwrap();
    let err = s.projects().add(7).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.api_message(), Some("Service Unavailable"));
    s.projects().add(7).await.unwrap();
    mock.assert_done();

    // Retries can be turned off.
    let mock = MockTransport::new();
    mock.expect(Method::GET, &scope)
        .respond(MockResponse::empty(StatusCode::SERVICE_UNAVAILABLE));
    let client = Client::builder("https://gitlab.example.com")
        .transport(mock.clone())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(client.project(42).job_token_scope().get().await.is_err());
    mock.assert_done();
}

#[tokio::test]
async fn errors_carry_the_status_and_gitlabs_message() {
    let mock = MockTransport::new();
    let base = format!("{API}/projects/42/job_token_scope");
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fnope"))
        .respond(MockResponse::json(
            StatusCode::NOT_FOUND,
            fixture("error_404_project"),
        ));
    mock.expect(Method::POST, &format!("{base}/allowlist"))
        .respond(MockResponse::json(
            StatusCode::BAD_REQUEST,
            fixture("error_already"),
        ));
    mock.expect(Method::DELETE, &format!("{base}/allowlist/9"))
        .respond(MockResponse::json(
            StatusCode::FORBIDDEN,
            fixture("error_403"),
        ));
    let client = gitlab(&mock);
    let s = client.project(42).job_token_scope();
    let err = s.projects().add("acme/nope").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.to_string(), "404 Project Not Found");
    let err = s.projects().add(7).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"400 Bad Request: {"base":["Target project is already in the job token scope"]}"#
    );
    let err = s.projects().remove(9).await.unwrap_err();
    assert_eq!(err.api_message(), Some("403 Forbidden"));
    // No error ever shows the token.
    assert!(!format!("{err:?}").contains("glpat-test-secret"));
    mock.assert_done();
}

#[tokio::test]
async fn the_server_is_recognised() {
    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/version"))
        .respond(ok("version"));
    let client = Client::builder("https://gitlab.example.com")
        .transport(mock.clone())
        .build()
        .unwrap();
    assert_eq!(
        client.flavor().await.unwrap(),
        Flavor::GitLab {
            version: "18.6.0-ee".into()
        }
    );
    // Asked once.
    client.flavor().await.unwrap();
    mock.assert_done();

    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/version"))
        .respond(MockResponse::json(
            StatusCode::OK,
            json!({"version": "18.6.0", "revision": "jobscope-0.1.0", "jobscope": {"version": "0.1.0"}}),
        ));
    let client = Client::builder("http://127.0.0.1:8080")
        .transport(mock.clone())
        .build()
        .unwrap();
    assert!(client.flavor().await.unwrap().is_jobscope());
}

#[tokio::test]
async fn against_gitlab_entries_and_policies_go_through_graphql() {
    let mock = MockTransport::new();
    let graphql = "/api/graphql";
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, graphql)
        .body_contains("projectsAllowlist(first: 100")
        .body_contains(r#""path":"acme/deployer""#)
        .respond(ok("graphql_projects_allowlist"));
    mock.expect(Method::POST, graphql)
        .body_contains("groupsAllowlist(first: 100")
        .respond(ok("graphql_groups_allowlist"));
    let client = gitlab(&mock);
    let entries = client
        .project(42)
        .job_token_scope()
        .entries()
        .await
        .unwrap();
    mock.assert_done();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].target, Target::Project(ProjectId(7)));
    assert_eq!(entries[0].path, "acme/builder");
    assert!(!entries[0].default_permissions);
    assert_eq!(
        entries[0].job_token_policies,
        ["read_packages", "read_jobs"]
    );
    assert_eq!(entries[0].added_by.as_deref(), Some("alice"));
    assert!(entries[1].autopopulated);
    assert_eq!(entries[2].target, Target::Group(NamespaceId(11)));
    assert!(entries[2].job_token_policies.is_empty());
    // GraphQL authenticates with a bearer token.
    let sent = mock.requests();
    assert_eq!(sent[1].headers["authorization"], "Bearer glpat-test-secret");
    assert!(sent[1].headers.get("private-token").is_none());

    // Changing only the policies keeps default_permissions as it is, and reads the entry back.
    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fbuilder"))
        .respond(ok("project_builder"));
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_projects_allowlist"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_groups_allowlist"));
    mock.expect(Method::POST, graphql)
        .body_contains("ciJobTokenScopeUpdatePolicies")
        .body_contains(r#""defaultPermissions":false"#)
        .body_contains(r#""jobTokenPolicies":["READ_DEPLOYMENTS"]"#)
        .body_contains(r#""targetPath":"acme/builder""#)
        .body_contains(r#""projectPath":"acme/deployer""#)
        .respond(ok("graphql_update_policies"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_projects_allowlist"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_groups_allowlist"));
    let client = gitlab(&mock);
    let entry = client
        .project(42)
        .job_token_scope()
        .projects()
        .update(
            "acme/builder",
            Permissions {
                default_permissions: None,
                job_token_policies: Some(vec!["read_deployments".into()]),
            },
        )
        .await
        .unwrap();
    assert_eq!(entry.target, Target::Project(ProjectId(7)));
    mock.assert_done();
}

#[tokio::test]
async fn graphql_errors_are_reported() {
    let mock = MockTransport::new();
    let graphql = "/api/graphql";
    mock.expect(Method::GET, &format!("{API}/projects/7"))
        .respond(ok("project_builder"));
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, graphql)
        .body_contains(r#""jobTokenPolicies":[]"#)
        .respond(ok("graphql_update_policies_error"));
    let err = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .projects()
        .update(
            7,
            Permissions {
                default_permissions: Some(true),
                job_token_policies: Some(vec![]),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "GitLab GraphQL: Unable to find a job token scope for the given project & target"
    );
    mock.assert_done();

    // A project the caller cannot see is null in GraphQL: a 404 here.
    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_not_found"));
    let err = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .auth_log()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn against_gitlab_the_auth_log_pages_through_graphql() {
    let mock = MockTransport::new();
    mock.expect(Method::GET, &format!("{API}/projects/acme%2Fdeployer"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, "/api/graphql")
        .body_contains(r#""after":null"#)
        .respond(ok("graphql_auth_logs_page1"));
    mock.expect(Method::POST, "/api/graphql")
        .body_contains(r#""after":"MQ""#)
        .respond(ok("graphql_auth_logs_page2"));
    let log = gitlab(&mock)
        .project("acme/deployer")
        .job_token_scope()
        .auth_log()
        .await
        .unwrap();
    mock.assert_done();
    let paths: Vec<&str> = log.iter().map(|r| r.origin_project_path.as_str()).collect();
    assert_eq!(paths, ["other/app", "acme/builder"], "newest first");
    assert_eq!(log[1].origin_project_id, ProjectId(7));
}

#[tokio::test]
async fn against_gitlab_autopopulation_runs_the_mutation_and_reports_what_it_added() {
    let mock = MockTransport::new();
    let graphql = "/api/graphql";
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, graphql)
        .body_contains("ciJobTokenScopeAutopopulateAllowlist")
        .body_contains(r#""projectPath":"acme/deployer""#)
        .respond(ok("graphql_autopopulate"));
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_projects_allowlist"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_groups_allowlist"));
    mock.expect(Method::GET, &format!("{API}/projects/42/job_token_scope"))
        .respond(ok("scope"));
    let outcome = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .autopopulate(false)
        .await
        .unwrap();
    mock.assert_done();
    assert_eq!(outcome.added.len(), 1);
    assert_eq!(outcome.added[0].path, "acme/tester");
    assert_eq!(outcome.replaced, None);
}

#[tokio::test]
async fn what_gitlab_lacks_is_unsupported_not_guessed() {
    let mock = MockTransport::new();
    let client = gitlab(&mock);
    let scope = client.project(42).job_token_scope();
    assert!(matches!(
        scope.reachable().await,
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        scope.autopopulate(true).await,
        Err(Error::Unsupported { .. })
    ));
    mock.assert_done();
    assert!(mock.requests().is_empty());

    // GraphQL does not take job tokens.
    let client = Client::builder("https://gitlab.example.com")
        .job_token("glcbt-xyz")
        .transport(mock.clone())
        .build()
        .unwrap();
    let err = client
        .graphql::<Value>("query { currentUser { id } }", json!({}), false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");

    // GitLab has no decision endpoint: its 404 for an unknown route is told apart from a
    // project that is not found.
    mock.expect(
        Method::GET,
        &format!("{API}/job_token/allowed?project=acme%2Fx"),
    )
    .respond(MockResponse::json(
        StatusCode::NOT_FOUND,
        fixture("error_404_route"),
    ));
    mock.expect(
        Method::GET,
        &format!("{API}/job_token/allowed?project=acme%2Fy"),
    )
    .respond(MockResponse::json(
        StatusCode::NOT_FOUND,
        fixture("error_404_project"),
    ));
    let err = client.ci().allowed("acme/x", None).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let denied = client.ci().allowed("acme/y", None).await.unwrap();
    assert_eq!(
        denied,
        Decision::Denied {
            status: StatusCode::NOT_FOUND,
            message: "404 Project Not Found".into()
        }
    );
    let sent = mock.requests();
    assert_eq!(sent[0].headers["job-token"], "glcbt-xyz");
    mock.assert_done();
}

#[tokio::test]
async fn against_gitlab_adding_with_permissions_is_rest_then_graphql() {
    let mock = MockTransport::new();
    let graphql = "/api/graphql";
    mock.expect(
        Method::GET,
        &format!("{API}/groups/acme%2Ftools?with_projects=false"),
    )
    .respond(ok("group_tools"));
    // GitLab's REST POST takes no permissions, so none are sent there.
    mock.expect(
        Method::POST,
        &format!("{API}/projects/42/job_token_scope/groups_allowlist"),
    )
    .body(json!({"target_group_id": 11}))
    .respond(MockResponse::json(
        StatusCode::CREATED,
        fixture("group_created"),
    ));
    mock.expect(Method::GET, &format!("{API}/projects/42"))
        .respond(ok("project_deployer"));
    mock.expect(Method::POST, graphql)
        .body_contains("ciJobTokenScopeUpdatePolicies")
        .body_contains(r#""targetPath":"acme/tools""#)
        .body_contains(r#""defaultPermissions":false"#)
        .body_contains(r#""jobTokenPolicies":["READ_PACKAGES"]"#)
        .respond(ok("graphql_update_policies"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_projects_allowlist"));
    mock.expect(Method::POST, graphql)
        .respond(ok("graphql_groups_allowlist"));
    let created = gitlab(&mock)
        .project(42)
        .job_token_scope()
        .groups()
        .add_with(
            "acme/tools",
            Permissions {
                default_permissions: Some(false),
                job_token_policies: Some(vec!["read_packages".into()]),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.target_id(), 11);
    mock.assert_done();
}
