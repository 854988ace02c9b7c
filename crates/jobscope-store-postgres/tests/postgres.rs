//! What only a shared database can show: several jobscope processes (here: stores with pools
//! of their own) racing on one PostgreSQL database, and the test harness's own cleanup.
//! Same environment variables as `tests/conformance.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::AssertUnwindSafe;

use chrono::{Duration, TimeZone, Utc};
use futures::FutureExt;
use futures::future::join_all;
use jobscope_store::*;
use jobscope_store_postgres::PgStore;
use jobscope_types::{NamespaceId, ProjectId, Visibility};

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

/// Two "processes": two stores, each with its own connection pool, on one database.
async fn two_stores(url: &str) -> (PgStore, PgStore) {
    let a = PgStore::open(url).await.expect("open");
    let b = PgStore::open(url).await.expect("open");
    (a, b)
}

/// Store `i % 2`: spreads a batch of calls over both processes.
fn pick(stores: &(PgStore, PgStore), i: usize) -> &PgStore {
    if i.is_multiple_of(2) {
        &stores.0
    } else {
        &stores.1
    }
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        name: name.to_owned(),
        admin: false,
        external: false,
        bot: false,
        can_create_group: true,
        projects_limit: 100,
        created_at: t0(),
    }
}

fn new_group(path: &str, name: &str, parent: Option<NamespaceId>) -> NewGroup {
    NewGroup {
        name: name.to_owned(),
        path: path.to_owned(),
        parent_id: parent,
        visibility: Visibility::Private,
        description: String::new(),
        creator: None,
        created_at: t0(),
    }
}

fn new_project(ns: NamespaceId, name: &str, path: &str) -> NewProject {
    NewProject {
        name: name.to_owned(),
        path: path.to_owned(),
        namespace_id: ns,
        description: None,
        visibility: Visibility::Private,
        default_branch: None,
        topics: vec![],
        creator_id: None,
        add_creator_as: None,
        created_at: t0(),
    }
}

fn link<T>(source: ProjectId, target: T) -> NewLink<T> {
    NewLink {
        source_project_id: source,
        target,
        added_by: None,
        created_at: t0(),
        job_token_policies: vec![],
        default_permissions: true,
        autopopulated: false,
    }
}

fn audit(project: ProjectId) -> NewAuditEvent {
    jobscope_store::conformance::audit(project, "race")
}

/// Exactly one call succeeded and every other one failed with `expected`.
fn one_winner<T: std::fmt::Debug>(results: &[StoreResult<T>], expected: Conflict) {
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "one winner: {results:?}");
    for r in results {
        assert!(
            r.is_ok() || matches!(r, Err(StoreError::Conflict(c)) if *c == expected),
            "losers get {expected:?}: {r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_start_together_on_a_new_database() {
    if common::skipped() {
        return;
    }
    common::with_database(|url| async move {
        // Migrations are serialised by sqlx's advisory lock; the settings row is made once.
        let stores = join_all((0..4).map(|_| PgStore::open(&url))).await;
        let stores: Vec<PgStore> = stores.into_iter().map(|s| s.expect("open")).collect();
        for s in &stores {
            s.migrate().await.expect("migrate again: nothing to do");
        }
        let settings = stores[0].instance_settings().await.unwrap();
        assert!(!settings.enforce_ci_inbound_job_token_scope_enabled);
        assert_eq!(stores[3].count_users().await.unwrap(), 0);
        for s in &stores {
            s.close().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_race_across_processes() {
    if common::skipped() {
        return;
    }
    common::with_database(|url| async move {
        let stores = two_stores(&url).await;
        let n = 16;

        // The same user: the email is checked first, as on GitLab.
        let results = join_all((0..n).map(|i| pick(&stores, i).create_user(new_user("dup")))).await;
        one_winner(&results, Conflict::Email);
        // A fresh email each time: the username.
        let results = join_all((0..n).map(|i| {
            let mut u = new_user("Same");
            u.email = format!("same{i}@example.com");
            pick(&stores, i).create_user(u)
        }))
        .await;
        one_winner(&results, Conflict::Username);

        // The same top-level path.
        let results = join_all(
            (0..n).map(|i| pick(&stores, i).create_group(new_group("team", "Team", None))),
        )
        .await;
        one_winner(&results, Conflict::Path);
        let team = stores
            .0
            .namespace_by_full_path("team")
            .await
            .unwrap()
            .unwrap();

        // The same subgroup name under one parent, with different paths.
        let results = join_all((0..n).map(|i| {
            pick(&stores, i).create_group(new_group(&format!("sub{i}"), "Sub", Some(team.id)))
        }))
        .await;
        one_winner(&results, Conflict::GroupName);

        // The same project name and path.
        let results = join_all(
            (0..n).map(|i| pick(&stores, i).create_project(new_project(team.id, "app", "app"))),
        )
        .await;
        one_winner(&results, Conflict::ProjectNameAndPath);

        // A user and a group claiming the same path at once: one of them gets it.
        for round in 0..8 {
            let path = format!("contested{round}");
            let (user, group) = futures::join!(
                stores.0.create_user(new_user(&path)),
                stores.1.create_group(new_group(&path, "G", None)),
            );
            assert!(
                user.is_ok() != group.is_ok(),
                "exactly one of user and group: {user:?} {group:?}"
            );
            let loser_conflict = match (&user, &group) {
                (Err(e), _) | (_, Err(e)) => matches!(e, StoreError::Conflict(Conflict::Path)),
                _ => false,
            };
            assert!(
                loser_conflict,
                "the loser reports the path: {user:?} {group:?}"
            );
        }
        stores.0.close().await;
        stores.1.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowlist_limits_hold_across_processes() {
    if common::skipped() {
        return;
    }
    common::with_database(|url| async move {
        let stores = two_stores(&url).await;
        let g = stores
            .0
            .create_group(new_group("g", "G", None))
            .await
            .unwrap();
        let src = stores
            .0
            .create_project(new_project(g.id, "src", "src"))
            .await
            .unwrap();
        let mut targets = Vec::new();
        for i in 0..48 {
            let path = format!("t{i}");
            targets.push(
                stores
                    .1
                    .create_project(new_project(g.id, &path, &path))
                    .await
                    .unwrap(),
            );
        }
        let results = join_all(targets.iter().enumerate().map(|(i, t)| {
            pick(&stores, i).add_project_link(link(src.id, t.id), 25, audit(src.id))
        }))
        .await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 25);
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(StoreError::LimitReached))),
            "{results:?}"
        );
        assert_eq!(
            stores
                .1
                .project_links(src.id, LinkDirection::Inbound)
                .await
                .unwrap()
                .len(),
            25
        );

        // One target from both processes at once: one link, one audit event.
        let other = stores
            .0
            .create_project(new_project(g.id, "other", "other"))
            .await
            .unwrap();
        let results = join_all((0..32).map(|i| {
            pick(&stores, i).add_project_link(link(other.id, targets[0].id), 200, audit(other.id))
        }))
        .await;
        one_winner(&results, Conflict::Link);
        let events = stores
            .0
            .audit_events(
                &AuditQuery {
                    entity_type: "Project".into(),
                    entity_id: other.id.get(),
                    created_after: None,
                    created_before: None,
                    author_id: None,
                    id: None,
                },
                PageRequest::new(1, 100),
            )
            .await
            .unwrap();
        assert_eq!(events.total, 1);

        // Groups, through change sets from both processes.
        let mut groups = Vec::new();
        for i in 0..12 {
            groups.push(
                stores
                    .0
                    .create_group(new_group(&format!("cg{i}"), "CG", None))
                    .await
                    .unwrap(),
            );
        }
        let results = join_all(groups.iter().enumerate().map(|(i, gr)| {
            pick(&stores, i).apply_scope_changes(
                other.id,
                ScopeChangeSet {
                    add_groups: vec![link(other.id, gr.id)],
                    audit: vec![audit(other.id)],
                    ..Default::default()
                },
                200,
                5,
            )
        }))
        .await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            5,
            "{results:?}"
        );
        assert_eq!(stores.1.group_links(other.id).await.unwrap().len(), 5);
        stores.0.close().await;
        stores.1.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_both_ways_do_not_deadlock() {
    if common::skipped() {
        return;
    }
    common::with_database(|url| async move {
        let stores = two_stores(&url).await;
        let g = stores
            .0
            .create_group(new_group("g", "G", None))
            .await
            .unwrap();
        let mut projects = Vec::new();
        for i in 0..4 {
            let path = format!("p{i}");
            projects.push(
                stores
                    .0
                    .create_project(new_project(g.id, &path, &path))
                    .await
                    .unwrap(),
            );
        }
        // Every ordered pair, added and removed from both processes at once, several times:
        // every call ends cleanly (no deadlock or lock timeout reaches the caller).
        for _ in 0..3 {
            let mut calls = Vec::new();
            for (i, a) in projects.iter().enumerate() {
                for (j, b) in projects.iter().enumerate() {
                    if i != j {
                        calls.push((a.id, b.id));
                    }
                }
            }
            let adds = join_all(calls.iter().enumerate().map(|(k, (a, b))| {
                pick(&stores, k).add_project_link(link(*a, *b), 200, audit(*a))
            }));
            let removes =
                join_all(calls.iter().enumerate().map(|(k, (a, b))| {
                    pick(&stores, k + 1).remove_project_link(*a, *b, audit(*a))
                }));
            let (adds, removes) = futures::join!(adds, removes);
            for r in &adds {
                assert!(
                    r.is_ok() || matches!(r, Err(StoreError::Conflict(Conflict::Link))),
                    "{r:?}"
                );
            }
            for r in &removes {
                assert!(r.is_ok(), "{r:?}");
            }
        }
        stores.0.close().await;
        stores.1.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_log_merges_across_processes() {
    if common::skipped() {
        return;
    }
    common::with_database(|url| async move {
        let stores = two_stores(&url).await;
        let g = stores
            .0
            .create_group(new_group("g", "G", None))
            .await
            .unwrap();
        let b = stores
            .0
            .create_project(new_project(g.id, "b", "b"))
            .await
            .unwrap();
        let a = stores
            .0
            .create_project(new_project(g.id, "a", "a"))
            .await
            .unwrap();
        let rec = |secs: i64, policy: &str| AuthorizationRecord {
            accessed_project_id: b.id,
            origin_project_id: a.id,
            at: t0() + Duration::seconds(secs),
            policies: vec![policy.to_owned()],
        };
        // Each process flushes its own view of the same (accessed, origin) pair at once.
        let stores = &stores;
        let flushes = (0..20).map(|i| {
            let records = vec![rec(i, &format!("policy{}", i % 4)), rec(100 - i, "shared")];
            async move {
                let store = pick(stores, usize::try_from(i).unwrap());
                store.record_authorizations(&records).await
            }
        });
        for r in join_all(flushes).await {
            r.unwrap();
        }
        let logs = stores
            .1
            .authorization_logs(b.id, PageRequest::new(1, 10))
            .await
            .unwrap();
        assert_eq!(logs.total, 1);
        let log = &logs.items[0];
        assert_eq!(log.last_authorized_at, t0() + Duration::seconds(100));
        assert_eq!(
            log.job_token_policies.len(),
            5,
            "{:?}",
            log.job_token_policies
        );
        for p in 0..4 {
            // policy{p} was last needed at the largest i with i % 4 == p.
            let latest = (0..20).filter(|i| i % 4 == p).max().unwrap();
            assert_eq!(
                log.job_token_policies.get(&format!("policy{p}")),
                Some(&(t0() + Duration::seconds(latest)))
            );
        }
        assert_eq!(
            log.job_token_policies.get("shared"),
            Some(&(t0() + Duration::seconds(100)))
        );
        stores.0.close().await;
        stores.1.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_keep_microseconds() {
    if common::skipped() {
        return;
    }
    common::with_database(|url| async move {
        let store = PgStore::open(&url).await.unwrap();
        let g = store.create_group(new_group("g", "G", None)).await.unwrap();
        let p = store
            .create_project(new_project(g.id, "p", "p"))
            .await
            .unwrap();
        let u = store.create_user(new_user("u")).await.unwrap();
        // Nanoseconds are cut to PostgreSQL's microseconds, and what a write returns is what
        // a later read sees.
        let at = Utc.timestamp_opt(1_767_323_045, 123_456_789).unwrap();
        let job = store
            .create_job(NewJob {
                project_id: p.id,
                user_id: u.id,
                name: "j".into(),
                ref_name: "main".into(),
                token_digest: "d".into(),
                created_at: at,
            })
            .await
            .unwrap();
        assert_eq!(job.created_at.timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(store.job(job.id).await.unwrap(), Some(job));
        let l = store
            .add_project_link(
                NewLink {
                    created_at: at,
                    ..link(p.id, p.id)
                },
                200,
                audit(p.id),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .project_link(p.id, p.id, LinkDirection::Inbound)
                .await
                .unwrap(),
            Some(l)
        );
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_test_drops_its_database() {
    if common::skipped() {
        return;
    }
    let name = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = name.clone();
    let outcome = AssertUnwindSafe(common::with_database(|url| async move {
        *seen.lock().unwrap() = url.rsplit('/').next().unwrap().to_owned();
        PgStore::open(&url).await.unwrap();
        panic!("deliberate failure");
    }))
    .catch_unwind()
    .await;
    assert!(outcome.is_err(), "the panic is passed on");
    let name = name.lock().unwrap().clone();
    assert!(name.starts_with("jobscope_test_"), "{name}");
    assert!(!common::database_exists(&name).await, "{name} was dropped");
}
