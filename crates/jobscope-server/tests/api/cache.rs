//! The read cache (`--cache`): once warm, job token checks and personal access token
//! authentication make no database round trip (issue 6, goal 4), and every change made
//! through the server still applies to the very next request.

use jobscope_server::config::ServerConfig;
use jobscope_store::{MemberSource, Namespace};
use jobscope_types::{AccessLevel, Visibility};

use crate::helpers::*;

async fn cached_app() -> TestApp {
    TestApp::with_config(ServerConfig {
        cache: true,
        ..ServerConfig::default()
    })
    .await
}

fn calls(app: &TestApp) -> u64 {
    app.cache.as_ref().expect("the cache is on").inner_calls()
}

async fn allowed(app: &TestApp, token: &str, project: impl std::fmt::Display) -> u16 {
    app.send(
        get(format!("/api/v4/job_token/allowed?project={project}"))
            .auth(Auth::Header("job-token", token.to_owned())),
    )
    .await
    .status
    .as_u16()
}

#[tokio::test]
async fn warm_checks_and_token_authentication_make_no_database_round_trip() {
    let app = cached_app().await;
    // The origin sits 20 groups deep; one target admits a group near the top, one the
    // project itself, one nothing.
    let mut parent: Option<Namespace> = None;
    let mut chain = Vec::new();
    for depth in 0..20 {
        let g = app
            .group(
                &format!("g{depth}"),
                parent.as_ref().map(|p| p.id),
                Visibility::Private,
            )
            .await;
        chain.push(g.clone());
        parent = Some(g);
    }
    let deepest = parent.expect("groups");
    let origin = app
        .project(deepest.id, "builder", Visibility::Private)
        .await;
    let targets = app.group("targets", None, Visibility::Private).await;
    let by_group = app
        .project(targets.id, "by-group", Visibility::Private)
        .await;
    let by_project = app
        .project(targets.id, "by-project", Visibility::Private)
        .await;
    let closed = app.project(targets.id, "closed", Visibility::Private).await;
    app.link_group(by_group.id, chain[1].id).await;
    app.link_project(by_project.id, origin.id).await;
    let (user, pat) = app.user_with_token("runner").await;
    // Maintainer: the scope's settings are read with the same token below.
    for p in [&origin, &by_group, &by_project, &closed] {
        app.member(
            MemberSource::Project(p.id),
            user.id,
            AccessLevel::Maintainer,
        )
        .await;
    }
    let (_, job_token) = app.job(origin.id, user.id).await;
    let scope = format!("/api/v4/projects/{}/job_token_scope", by_group.id);

    // Warm up: the first requests read the database (and record the token's use).
    assert_eq!(allowed(&app, &job_token, by_group.id).await, 200);
    assert_eq!(allowed(&app, &job_token, by_project.id).await, 200);
    assert_eq!(allowed(&app, &job_token, closed.id).await, 403);
    let by_path = format!("targets%2F{}", by_project.path);
    assert_eq!(allowed(&app, &job_token, &by_path).await, 200);
    assert_eq!(app.send(get(&scope).token(&pat)).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.send(get(&scope).token(&pat)).await.status, 200);

    let before = calls(&app);
    for _ in 0..50 {
        assert_eq!(allowed(&app, &job_token, by_group.id).await, 200);
        assert_eq!(allowed(&app, &job_token, by_project.id).await, 200);
        assert_eq!(allowed(&app, &job_token, closed.id).await, 403);
        assert_eq!(allowed(&app, &job_token, &by_path).await, 200);
        assert_eq!(app.send(get("/api/v4/user").token(&pat)).await.status, 200);
        assert_eq!(app.send(get(&scope).token(&pat)).await.status, 200);
    }
    assert_eq!(
        calls(&app) - before,
        0,
        "300 warm requests reached the database"
    );
}

#[tokio::test]
async fn every_change_made_through_the_server_applies_to_the_next_request() {
    let app = cached_app().await;
    let acme = app.group("acme", None, Visibility::Private).await;
    let origin = app.project(acme.id, "builder", Visibility::Private).await;
    let target = app.project(acme.id, "deployer", Visibility::Private).await;
    let (user, pat) = app.user_with_token("runner").await;
    for p in [&origin, &target] {
        app.member(MemberSource::Project(p.id), user.id, AccessLevel::Developer)
            .await;
    }
    let (job, job_token) = app.job(origin.id, user.id).await;
    let allowlist = format!("/api/v4/projects/{}/job_token_scope/allowlist", target.id);
    let root = |r: Req| r.token(ROOT_TOKEN);

    for round in 0..3 {
        assert_eq!(
            allowed(&app, &job_token, target.id).await,
            403,
            "round {round}"
        );
        let r = app
            .send(root(
                post(&allowlist).form(&format!("target_project_id={}", origin.id)),
            ))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(
            allowed(&app, &job_token, target.id).await,
            200,
            "round {round}"
        );
        let r = app
            .send(root(delete(format!("{allowlist}/{}", origin.id))))
            .await;
        assert_eq!(r.status, 204);
    }
    // Scope off, then on again.
    let scope = format!("/api/v4/projects/{}/job_token_scope", target.id);
    assert_eq!(
        app.send(root(patch(&scope).form("enabled=false")))
            .await
            .status,
        204
    );
    assert_eq!(allowed(&app, &job_token, target.id).await, 200);
    assert_eq!(
        app.send(root(patch(&scope).form("enabled=true")))
            .await
            .status,
        204
    );
    assert_eq!(allowed(&app, &job_token, target.id).await, 403);
    // The user's role in the target, then the job itself.
    app.link_project(target.id, origin.id).await;
    assert_eq!(allowed(&app, &job_token, target.id).await, 200);
    let r = app
        .send(root(delete(format!(
            "/api/v4/projects/{}/members/{}",
            target.id, user.id
        ))))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // No longer a member of the private target: it is not found.
    assert_eq!(allowed(&app, &job_token, target.id).await, 404);
    app.member(
        MemberSource::Project(target.id),
        user.id,
        AccessLevel::Developer,
    )
    .await;
    assert_eq!(allowed(&app, &job_token, target.id).await, 200);
    let r = app
        .send(root(
            put(format!("/api/v4/ci/jobs/{}", job.id)).form("status=success"),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(allowed(&app, &job_token, target.id).await, 401);
    // A personal access token: works, revoked, refused.
    assert_eq!(app.send(get("/api/v4/user").token(&pat)).await.status, 200);
    assert_eq!(
        app.send(get("/api/v4/personal_access_tokens/self").token(&pat))
            .await
            .status,
        200
    );
    let r = app
        .send(delete("/api/v4/personal_access_tokens/self").token(&pat))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.send(get("/api/v4/user").token(&pat)).await.status, 401);
    // A blocked user: a new job's token is refused at once.
    let (_, second) = app.job(origin.id, user.id).await;
    assert_eq!(allowed(&app, &second, target.id).await, 200);
    let r = app
        .send(root(post(format!("/api/v4/users/{}/block", user.id))))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(allowed(&app, &second, target.id).await, 401);
}
