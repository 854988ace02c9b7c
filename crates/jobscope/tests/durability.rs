//! Security requirement C1.15, crash consistency (its contract-fuzzing half is the
//! Schemathesis suite of the test command): the server is killed with SIGKILL in the middle
//! of a stream of mutations; after a restart every mutation acknowledged before the kill is
//! present, the data is consistent, and nothing half-applied remains. Many rounds, on both
//! backends. A SIGKILL leaves the kernel's page cache to reach the disk; losing un-fsynced
//! writes, LazyFS-style, is tests/e2e/crash (and tests/e2e/fsync).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;

const ROUNDS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn c1_15_crash_consistency_acknowledged_mutations_survive_sigkill() {
    for backend in backends() {
        let b = backend.name();
        let url = backend.url();
        let api = Api::default();
        let mut server = Server::start(&url);
        let g = api.group(&server, "crash").await;
        let source = api.project(&server, g, "source").await;
        let list = format!("/projects/{source}/job_token_scope/allowlist");
        // Acknowledged facts: projects created, entries added, entries removed.
        let mut projects: Vec<i64> = Vec::new();
        let mut listed: Vec<i64> = Vec::new();
        let mut removed: Vec<i64> = Vec::new();
        for round in 0..ROUNDS {
            let stream = {
                let api = api.clone();
                let base = server.api("");
                let list = list.clone();
                let mut projects = projects.clone();
                let listed_before = listed.clone();
                tokio::spawn(async move {
                    let mut acked_projects = Vec::new();
                    let mut acked_listed = Vec::new();
                    let mut acked_removed = Vec::new();
                    // A removal sent but not answered may or may not have landed.
                    let mut in_flight_removal = None;
                    let mut listed = listed_before;
                    for i in 0.. {
                        let name = format!("r{round}-{i}");
                        let Ok(r) = api
                            .send(
                                reqwest::Method::POST,
                                &format!("{base}/projects"),
                                Some(json!({"name": name, "path": name, "namespace_id": g})),
                            )
                            .await
                        else {
                            break;
                        };
                        if r.status != 201 {
                            break;
                        }
                        let p = r.body["id"].as_i64().unwrap();
                        acked_projects.push(p);
                        projects.push(p);
                        let Ok(r) = api
                            .send(
                                reqwest::Method::POST,
                                &format!("{base}{list}"),
                                Some(json!({"target_project_id": p})),
                            )
                            .await
                        else {
                            break;
                        };
                        if r.status == 201 {
                            acked_listed.push(p);
                            listed.push(p);
                        }
                        // Every third step, remove an older entry.
                        if i % 3 == 2 && listed.len() > 1 {
                            let victim = listed.remove(0);
                            in_flight_removal = Some(victim);
                            let Ok(r) = api
                                .send(
                                    reqwest::Method::DELETE,
                                    &format!("{base}{list}/{victim}"),
                                    None,
                                )
                                .await
                            else {
                                break;
                            };
                            in_flight_removal = None;
                            if r.status == 204 {
                                acked_removed.push(victim);
                            }
                        }
                    }
                    (
                        acked_projects,
                        acked_listed,
                        acked_removed,
                        in_flight_removal,
                    )
                })
            };
            // Let the stream run, then kill the server mid-flight.
            tokio::time::sleep(Duration::from_millis(150 + 97 * round as u64 % 250)).await;
            server.kill();
            let (p, l, r, maybe_removed) = stream.await.unwrap();
            assert!(!p.is_empty(), "{b}: round {round} acknowledged nothing");
            projects.extend(p);
            listed.extend(l);
            listed.retain(|x| !r.contains(x));
            removed.extend(r);

            server = Server::start(&url);
            let all_projects: Vec<i64> = api
                .all(&server.api(&format!("/groups/{g}/projects")))
                .await
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect();
            for p in &projects {
                assert!(
                    all_projects.contains(p),
                    "{b}: acknowledged project {p} lost"
                );
            }
            let entries: Vec<i64> = api
                .all(&server.api(&list))
                .await
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect();
            for p in &listed {
                assert!(
                    entries.contains(p) || maybe_removed == Some(*p),
                    "{b}: acknowledged entry {p} lost (round {round})"
                );
            }
            for p in &removed {
                assert!(
                    !entries.contains(p),
                    "{b}: acknowledged removal of {p} undone"
                );
            }
            // Consistent: every entry names an existing project, no duplicates, and an entry
            // that was being added when the server died is either fully there or absent.
            let mut sorted = entries.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), entries.len(), "{b}: duplicate entries");
            for e in &entries {
                assert!(
                    *e == source || all_projects.contains(e),
                    "{b}: entry {e} names a missing project"
                );
            }
            // Unacknowledged entries that did land are now part of the truth.
            listed = entries.into_iter().filter(|e| *e != source).collect();
            removed.retain(|p| !listed.contains(p));
            let export = jobscope(&["export", "--database", &url]);
            assert!(export.status.success(), "{b}: export after crash failed");
        }
        server.stop();
    }
}
