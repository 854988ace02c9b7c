//! Limits and uniqueness hold under concurrency, across processes: 64 concurrent adds to one
//! project, split over two servers on one database, never make more than 200 entries nor a
//! duplicate, and every caller gets a clean 201 or GitLab's 400.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

const LIMIT: &str = "400 Bad request - Validation failed: Source project exceeds the allowable number of project links in this direction";
const DUPLICATE: &str = "400 Bad request - This project is already in the job token allowlist.";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_adds() {
    for backend in backends() {
        let b = backend.name();
        let url = backend.url();
        let one = Server::start(&url);
        let two = Server::start(&url);
        let api = Api::default();
        let g = api.group(&one, "race").await;
        let source = api.project(&one, g, "source").await;
        let mut targets = Vec::new();
        for i in 0..202 {
            targets.push(api.project(&one, g, &format!("t{i}")).await);
        }
        let path = format!("/projects/{source}/job_token_scope/allowlist");
        for t in &targets[..170] {
            let r = api
                .post(&one.api(&path), json!({"target_project_id": t}))
                .await;
            assert_eq!(r.status, 201);
        }
        // 32 new targets, each asked for twice, half through each server, all at once.
        let requests = targets[170..]
            .iter()
            .flat_map(|t| [(&one, *t), (&two, *t)])
            .map(|(server, t)| {
                let api = api.clone();
                let url = server.api(&path);
                async move { api.post(&url, json!({"target_project_id": t})).await }
            });
        let replies = futures::future::join_all(requests).await;
        assert_eq!(replies.len(), 64);
        let created = replies.iter().filter(|r| r.status == 201).count();
        for r in &replies {
            assert!(
                r.status == 201
                    || (r.status == 400
                        && (r.body["message"] == LIMIT || r.body["message"] == DUPLICATE)),
                "{b}: unclean answer {} {}",
                r.status,
                r.body
            );
        }
        assert_eq!(created, 30, "{b}: exactly the 30 free places were taken");
        let listed = api.all(&one.api(&path)).await;
        let mut ids: Vec<i64> = listed.iter().map(|p| p["id"].as_i64().unwrap()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "{b}: a duplicate entry");
        assert_eq!(n, 201, "{b}: 200 entries plus the project itself");
    }
}
