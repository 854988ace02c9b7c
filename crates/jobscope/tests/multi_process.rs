//! Several `jobscope serve` processes on one database behave as one server: a change
//! acknowledged by one is enforced by every other on the very next request. By default no
//! process keeps state that could go stale (every check reads the database), so the bound is
//! zero: the next request after the acknowledgement sees it. With `--cache` the bound is the
//! database's announcement latency, measured below (docs/operations.md).

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

/// With `--cache`, each server answers checks from memory; the other server's changes reach
/// it through the database's announcements (PostgreSQL `NOTIFY`, SQLite's change counter read
/// every 5 ms). Each change must be enforced by the other server within [`CACHE_BOUND`]; the
/// latencies seen are printed (docs/operations.md quotes them).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_the_cache_changes_reach_the_other_server_within_the_bound() {
    const CACHE_BOUND: std::time::Duration = std::time::Duration::from_secs(1);
    for backend in backends() {
        let url = backend.url();
        let cached = [("JOBSCOPE_CACHE", "true")];
        let one = Server::start_with(&url, &cached);
        let two = Server::start_with(&url, &cached);
        let api = Api::default();
        let b = backend.name();
        let g = api.group(&one, "acme").await;
        let target = api.project(&one, g, "deployer").await;
        let origin = api.project(&one, g, "builder").await;
        let job = api
            .post(
                &one.api("/ci/jobs"),
                json!({"project_id": origin, "user_id": 1}),
            )
            .await;
        assert_eq!(job.status, 201, "{}", job.body);
        let job_id = job.body["id"].as_i64().unwrap();
        let token = job.body["token"].as_str().unwrap().to_owned();
        let check_url = two.api(&format!("/job_token/allowed?project={target}"));
        let check = || {
            let http = api.http.clone();
            let url = check_url.clone();
            let token = token.clone();
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
        // Waits until the check on two answers `want`; returns how long that took.
        let until = |want: u16, what: &'static str| async move {
            let started = std::time::Instant::now();
            loop {
                let got = check().await;
                if got == want {
                    return started.elapsed();
                }
                assert!(
                    started.elapsed() < CACHE_BOUND,
                    "{b}: {what}: still {got} after {CACHE_BOUND:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        };
        let mut seen = Vec::new();
        // Warm two's cache with a refusal, then change things on one.
        assert_eq!(check().await, 403);
        assert_eq!(check().await, 403);
        let allowlist = one.api(&format!("/projects/{target}/job_token_scope/allowlist"));
        for round in 0..5 {
            let r = api
                .post(&allowlist, json!({"target_project_id": origin}))
                .await;
            assert_eq!(r.status, 201, "{b} round {round}: {}", r.body);
            seen.push(until(200, "added on one").await);
            let r = api.delete(&format!("{allowlist}/{origin}")).await;
            assert_eq!(r.status, 204);
            seen.push(until(403, "removed on one").await);
        }
        let r = api
            .post(&allowlist, json!({"target_project_id": origin}))
            .await;
        assert_eq!(r.status, 201);
        seen.push(until(200, "added again").await);
        let r = api
            .put(
                &one.api(&format!("/ci/jobs/{job_id}")),
                json!({"status": "success"}),
            )
            .await;
        assert_eq!(r.status, 200);
        seen.push(until(401, "job ended on one").await);
        let worst = seen.iter().max().copied().unwrap_or_default();
        eprintln!(
            "{b}: with --cache, a change on one server reached the other in at most {worst:?} \
             ({} changes)",
            seen.len()
        );
    }
}
