//! Several `jobscope serve` processes on one database behave as one server: a change
//! acknowledged by one is enforced by every other on the very next request. No process keeps
//! state that could go stale (every check reads the database), so the bound is zero: the
//! next request after the acknowledgement sees it (docs/operations.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_server_is_enforced_by_the_other_at_once() {
    for backend in backends() {
        let url = backend.url();
        let one = Server::start(&url);
        let two = Server::start(&url);
        let api = Api::default();
        let g = api.group(&one, "acme").await;
        let target = api.project(&one, g, "deployer").await;
        let origin = api.project(&two, g, "builder").await;
        let user = api
            .post(
                &one.api("/users"),
                json!({"username": "runner", "email": "runner@example.com", "name": "Runner", "password": "runner-password"}),
            )
            .await;
        let user_id = user.body["id"].as_i64().unwrap();
        for p in [target, origin] {
            let r = api
                .post(
                    &one.api(&format!("/projects/{p}/members")),
                    json!({"user_id": user_id, "access_level": 30}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let job = |server: &Server| {
            let api = api.clone();
            let url = server.api("/ci/jobs");
            async move {
                let r = api
                    .post(&url, json!({"project_id": origin, "user_id": user_id}))
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                (
                    r.body["id"].as_i64().unwrap(),
                    r.body["token"].as_str().unwrap().to_owned(),
                )
            }
        };
        let check = |server: &Server, token: &str| {
            let http = api.http.clone();
            let url = server.api(&format!("/job_token/allowed?project={target}"));
            let token = token.to_owned();
            async move {
                http.get(url)
                    .header("JOB-TOKEN", token)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let (job_id, token) = job(&one).await;
        let b = backend.name();

        // An allowlist entry added on one, removed on one: the other follows each time.
        assert_eq!(check(&two, &token).await, 403, "{b}: not listed yet");
        let r = api
            .post(
                &one.api(&format!("/projects/{target}/job_token_scope/allowlist")),
                json!({"target_project_id": origin}),
            )
            .await;
        assert_eq!(r.status, 201);
        assert_eq!(
            check(&two, &token).await,
            200,
            "{b}: listed on one, seen by two"
        );
        let r = api
            .delete(&one.api(&format!(
                "/projects/{target}/job_token_scope/allowlist/{origin}"
            )))
            .await;
        assert_eq!(r.status, 204);
        assert_eq!(
            check(&two, &token).await,
            403,
            "{b}: removed on one, refused by two"
        );

        // The scope enabled on two is enforced by one.
        let scope = format!("/projects/{target}/job_token_scope");
        assert_eq!(
            api.patch(&two.api(&scope), json!({"enabled": false}))
                .await
                .status,
            204
        );
        assert_eq!(check(&one, &token).await, 200, "{b}: scope off");
        assert_eq!(
            api.patch(&two.api(&scope), json!({"enabled": true}))
                .await
                .status,
            204
        );
        assert_eq!(check(&one, &token).await, 403, "{b}: scope on again");

        // A job ended on one: its token is refused by two.
        api.post(
            &two.api(&format!("/projects/{target}/job_token_scope/allowlist")),
            json!({"target_project_id": origin}),
        )
        .await;
        assert_eq!(check(&two, &token).await, 200);
        let r = api
            .put(
                &one.api(&format!("/ci/jobs/{job_id}")),
                json!({"status": "success"}),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(check(&two, &token).await, 401, "{b}: job ended on one");

        // A token revoked on two no longer authenticates on one.
        let t = api
            .post(
                &one.api(&format!("/users/{user_id}/personal_access_tokens")),
                json!({"name": "t", "scopes": ["api"]}),
            )
            .await;
        let pat = t.body["token"].as_str().unwrap().to_owned();
        let pat_id = t.body["id"].as_i64().unwrap();
        let as_user = Api {
            token: pat.clone(),
            ..Api::default()
        };
        assert_eq!(as_user.get(&one.api("/user")).await.status, 200);
        assert_eq!(
            api.delete(&two.api(&format!("/personal_access_tokens/{pat_id}")))
                .await
                .status,
            204
        );
        assert_eq!(
            as_user.get(&one.api("/user")).await.status,
            401,
            "{b}: revoked on two"
        );

        // A user blocked on one: their running job's token is refused by two.
        let (_, token) = job(&two).await;
        assert_eq!(check(&two, &token).await, 200);
        assert_eq!(
            api.post(&one.api(&format!("/users/{user_id}/block")), json!({}))
                .await
                .status,
            201
        );
        assert_eq!(check(&two, &token).await, 401, "{b}: user blocked on one");
    }
}

/// Servers started at the same moment on a new database all come up: one creates the schema
/// and the administrator, the others find them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_starting_together_share_one_bootstrap() {
    for backend in backends() {
        let url = backend.url();
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || Server::start(&url))
            })
            .collect();
        let servers: Vec<Server> = starts.into_iter().map(|h| h.join().unwrap()).collect();
        let api = Api::default();
        for s in &servers {
            let r = api.get(&s.api("/user")).await;
            assert_eq!(r.status, 200, "{}: {}", backend.name(), s.log());
            assert_eq!(r.body["username"], "root");
        }
        let users = api.all(&servers[0].api("/users")).await;
        assert_eq!(users.len(), 1, "{}: exactly one root", backend.name());
    }
}
