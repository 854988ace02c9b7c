//! Abuse limits (issue 7, item 2): the failed-authentication ban, request rates, requests in
//! flight, the request time limit and the body size limit; and security requirement C1.14 of
//! `shared/spec/security-and-performance.md`. Limits are configured small (and windows short)
//! so that nothing waits for real minutes.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::Request;
use futures::channel::mpsc;
use http_body_util::BodyExt;
use jobscope_server::config::ServerConfig;
use jobscope_server::error::{ADDRESS_BANNED_TEXT, RATE_LIMITED_TEXT};
use jobscope_server::limits::{BanConfig, LimitsConfig, RateConfig};
use jobscope_server::state::AppState;
use jobscope_store::{JobStatus, MemberSource};
use jobscope_types::{AccessLevel, Visibility};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::helpers::*;

const ATTACKER: &str = "203.0.113.7";
const NEIGHBOUR: &str = "198.51.100.2";
const PROXY: &str = "10.0.0.1";

async fn limited(limits: LimitsConfig) -> TestApp {
    TestApp::with_config(ServerConfig {
        limits,
        cache: std::env::var("JOBSCOPE_TEST_CACHE").is_ok_and(|v| v == "1"),
        ..ServerConfig::default()
    })
    .await
}

fn ban(max_failures: u32, window: Duration, duration: Duration) -> LimitsConfig {
    LimitsConfig {
        auth_ban: Some(BanConfig {
            max_failures,
            window,
            duration,
        }),
        ..LimitsConfig::default()
    }
}

fn job(token: &str) -> Auth {
    Auth::Header("job-token", token.to_owned())
}

fn me() -> Req {
    get("/api/v4/user")
}

fn decide(project: impl std::fmt::Display) -> Req {
    get(format!("/api/v4/job_token/allowed?project={project}"))
}

#[track_caller]
fn assert_banned(res: &TestResponse, what: &str) {
    assert_eq!(res.status.as_u16(), 403, "{what}: {}", res.text);
    assert_eq!(res.text, ADDRESS_BANNED_TEXT, "{what}");
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{what}: {:?}",
        res.headers
    );
}

fn header_u64(res: &TestResponse, name: &str) -> u64 {
    res.header(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", res.headers))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

/// A user who maintains a private project, with a personal access token and a running job.
struct Fixture {
    project: i64,
    pat: String,
    job_token: String,
}

async fn fixture(app: &TestApp, name: &str) -> Fixture {
    let (user, pat) = app.user_with_token(name).await;
    let group = app
        .group(&format!("{name}-group"), None, Visibility::Private)
        .await;
    let project = app.project(group.id, "app", Visibility::Private).await;
    app.member(
        MemberSource::Project(project.id),
        user.id,
        AccessLevel::Maintainer,
    )
    .await;
    let (_, job_token) = app.job(project.id, user.id).await;
    Fixture {
        project: project.id.0,
        pat,
        job_token,
    }
}

// ---- C1.14 ----------------------------------------------------------------------------------

/// C1.14 Brute force and rate limiting (anchor: spec A2 rate limits).
///
/// After N failed authentications from one address within the window (GitLab: 30 in 3 minutes,
/// then 403 for an hour; here 5), every further request from that address is refused with
/// GitLab's plain-text 403, even one with a valid token; other addresses and their valid
/// tokens are unaffected. Failures of both kinds count: personal access tokens (unknown,
/// expired, revoked) and job tokens (unknown, of a finished job). A request beyond the per-user
/// or per-address rate gets `429 Retry later` with `Retry-After` and the `RateLimit-*` headers;
/// answers within the rate carry the `RateLimit-*` headers without `Retry-After`.
#[tokio::test]
async fn c1_14_brute_force_and_rate_limiting() {
    // The ban.
    let app = limited(ban(5, Duration::from_secs(60), Duration::from_secs(3600))).await;
    let alice = fixture(&app, "alice").await;
    let alice_id = app
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (expired, _) = app.token_with(alice_id, &["api"], Some(-1), false).await;
    let (revoked, _) = app.token_with(alice_id, &["api"], None, true).await;
    let project = jobscope_types::ProjectId(alice.project);
    let (finished, finished_token) = app.job(project, alice_id).await;
    app.store
        .finish_job(finished.id, JobStatus::Success, chrono::Utc::now())
        .await
        .unwrap();

    let res = app.send(me().token(&alice.pat).peer(ATTACKER)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    let failures = [
        ("unknown token", me().token("glpat-guessed-guessed-0001")),
        ("expired token", me().token(&expired)),
        ("revoked token", me().token(&revoked)),
        (
            "unknown job token",
            decide(alice.project).auth(job("glcbt-guessed")),
        ),
        (
            "finished job's token",
            decide(alice.project).auth(job(&finished_token)),
        ),
    ];
    for (what, req) in failures {
        // Each failure up to the limit is answered as usual.
        let res = app.send(req.peer(ATTACKER)).await;
        assert_eq!(res.status.as_u16(), 401, "{what}: {}", res.text);
    }
    // The fifth failure banned the address: whatever it sends now is refused.
    let attempts = [
        ("valid token", me().token(&alice.pat)),
        (
            "valid job token",
            decide(alice.project).auth(job(&alice.job_token)),
        ),
        ("no credentials", me()),
        ("another guess", me().token("glpat-guessed-guessed-0002")),
        (
            "a write",
            post(format!(
                "/api/v4/projects/{}/job_token_scope/allowlist",
                alice.project
            ))
            .token(&alice.pat)
            .json(json!({"target_project_id": alice.project})),
        ),
    ];
    for (what, req) in attempts {
        assert_banned(&app.send(req.peer(ATTACKER)).await, what);
    }
    // Other addresses, and the same valid tokens from them, are unaffected.
    let res = app.send(me().token(&alice.pat).peer(NEIGHBOUR)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(res.json()["username"], "alice");
    let res = app
        .send(
            decide(alice.project)
                .auth(job(&alice.job_token))
                .peer(NEIGHBOUR),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(res.json()["allowed"], true);
    let res = app
        .send(me().token("glpat-guessed-guessed-0003").peer(NEIGHBOUR))
        .await;
    assert_eq!(res.status.as_u16(), 401, "one failure is only a 401");
    // The attacker is still refused (the ban lasts an hour).
    assert_banned(
        &app.send(me().token(&alice.pat).peer(ATTACKER)).await,
        "still banned",
    );

    // Request rates: 3 per user and 2 per address without authentication, per day.
    let day = Duration::from_secs(86_400);
    // Windows are aligned to the epoch: a run that crossed 00:00 UTC would see its counts
    // start again. Within the last minute of a day, wait for the next.
    let into_day = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 86_400;
    if into_day >= 86_400 - 60 {
        tokio::time::sleep(Duration::from_secs(86_400 - into_day + 1)).await;
    }
    let app = limited(LimitsConfig {
        authenticated: Some(RateConfig {
            requests: 3,
            period: day,
        }),
        unauthenticated: Some(RateConfig {
            requests: 2,
            period: day,
        }),
        ..LimitsConfig::default()
    })
    .await;
    let alice = fixture(&app, "alice").await;
    let bob = fixture(&app, "bob").await;
    let mut reset = None;
    for n in 1..=3u64 {
        let res = app.send(me().token(&alice.pat).peer(ATTACKER)).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        assert_eq!(
            res.header("ratelimit-name"),
            Some("throttle_authenticated_api")
        );
        // GitLab states the limit per minute, rounded up: 3 a day is 1 a minute.
        assert_eq!(header_u64(&res, "ratelimit-limit"), 1);
        assert_eq!(header_u64(&res, "ratelimit-observed"), n);
        assert_eq!(header_u64(&res, "ratelimit-remaining"), 3 - n);
        let r = header_u64(&res, "ratelimit-reset");
        assert_eq!(r % 86_400, 0, "windows are aligned to the epoch");
        assert_eq!(*reset.get_or_insert(r), r);
        assert_eq!(res.header("retry-after"), None);
        assert_eq!(res.header("ratelimit-resettime"), None);
    }
    let res = app.send(me().token(&alice.pat).peer(ATTACKER)).await;
    assert_eq!(res.status.as_u16(), 429);
    assert_eq!(res.text, RATE_LIMITED_TEXT);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let retry = header_u64(&res, "retry-after");
    assert!((1..=86_400).contains(&retry), "Retry-After {retry}");
    assert_eq!(header_u64(&res, "ratelimit-observed"), 4);
    assert_eq!(header_u64(&res, "ratelimit-remaining"), 0);
    assert_eq!(Some(header_u64(&res, "ratelimit-reset")), reset);
    let reset_time = res.header("ratelimit-resettime").unwrap();
    assert!(
        reset_time.ends_with(" 00:00:00 GMT"),
        "an HTTP date at midnight: {reset_time}"
    );
    // The same user through a job token is the same count; another user is not.
    let res = app
        .send(
            decide(alice.project)
                .auth(job(&alice.job_token))
                .peer(NEIGHBOUR),
        )
        .await;
    assert_eq!(res.status.as_u16(), 429);
    assert!(res.header("retry-after").is_some());
    let res = app.send(me().token(&bob.pat).peer(ATTACKER)).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(header_u64(&res, "ratelimit-observed"), 1);
    // Without authentication, the count is per address.
    for n in 1..=2u64 {
        let res = app.send(get("/api/v4/projects").peer(ATTACKER)).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        assert_eq!(
            res.header("ratelimit-name"),
            Some("throttle_unauthenticated_api")
        );
        assert_eq!(header_u64(&res, "ratelimit-observed"), n);
    }
    let res = app.send(get("/api/v4/projects").peer(ATTACKER)).await;
    assert_eq!(res.status.as_u16(), 429);
    assert_eq!(res.text, RATE_LIMITED_TEXT);
    assert_eq!(
        res.header("ratelimit-name"),
        Some("throttle_unauthenticated_api")
    );
    assert!(res.header("retry-after").is_some());
    // Credentials that authenticate nobody count for the address too.
    let res = app
        .send(me().token("glpat-guessed-guessed-0004").peer(ATTACKER))
        .await;
    assert_eq!(res.status.as_u16(), 429);
    let res = app.send(get("/api/v4/projects").peer(NEIGHBOUR)).await;
    assert_eq!(res.status.as_u16(), 200);
}

// ---- the ban --------------------------------------------------------------------------------

/// Only refused credentials count (GitLab's ban ignores requests without credentials), a
/// refusal for another reason (403) is no failure, and a successful authentication forgets the
/// address's failures (GitLab: 29 failures, a success, 29 more do not ban).
#[tokio::test]
async fn ban_counts_refused_credentials_and_resets_on_success() {
    let app = limited(ban(3, Duration::from_secs(60), Duration::from_secs(3600))).await;
    let alice = fixture(&app, "alice").await;
    let alice_id = app
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (read_api, _) = app.token_with(alice_id, &["read_api"], None, false).await;
    // An anonymous 401 is no failure (probing without a banned address answers 401, not 403).
    for _ in 0..10 {
        let res = app.send(me().peer(ATTACKER)).await;
        assert_eq!(res.status.as_u16(), 401);
    }
    // Nor is a 403 for a token's scope.
    let write = || {
        patch(format!(
            "/api/v4/projects/{}/job_token_scope",
            alice.project
        ))
        .json(json!({"enabled": true}))
    };
    for _ in 0..5 {
        let res = app.send(write().token(&read_api).peer(ATTACKER)).await;
        assert_eq!(res.status.as_u16(), 403, "{}", res.text);
        assert_eq!(res.json()["error"], "insufficient_scope");
    }
    // Two failures, a success, two failures: not banned.
    for round in 0..2 {
        for _ in 0..2 {
            let res = app
                .send(me().token("glpat-nope-nope-nope-0001").peer(ATTACKER))
                .await;
            assert_eq!(res.status.as_u16(), 401, "round {round}");
        }
        if round == 0 {
            let res = app.send(me().token(&alice.pat).peer(ATTACKER)).await;
            assert_eq!(res.status.as_u16(), 200);
        }
    }
    assert_eq!(app.send(me().peer(ATTACKER)).await.status.as_u16(), 401);
    // The third in a row bans.
    let res = app
        .send(decide(alice.project).auth(job("glcbt-nope")).peer(ATTACKER))
        .await;
    assert_eq!(res.status.as_u16(), 401);
    assert_banned(&app.send(me().peer(ATTACKER)).await, "after three in a row");
    // Requests without a known address (no connection) are never counted.
    for _ in 0..5 {
        let res = app.send(me().token("glpat-nope-nope-nope-0002")).await;
        assert_eq!(res.status.as_u16(), 401);
    }
    assert_eq!(app.send(me().token(&alice.pat)).await.status.as_u16(), 200);
}

/// Failures older than the window no longer count, and a ban ends after its duration. (Each
/// half has its own instance, so that a slow test machine can only make it take longer.)
#[tokio::test]
async fn ban_and_window_expire() {
    let second = Duration::from_secs(1);
    let pause = Duration::from_millis(1100);
    let hour = Duration::from_secs(3600);
    let fail = || me().token("glpat-nope-nope-nope-0001").peer(ATTACKER);

    let app = limited(ban(2, second, hour)).await;
    assert_eq!(app.send(fail()).await.status.as_u16(), 401);
    tokio::time::sleep(pause).await;
    // The first failure's window is over: this one is the first of a new window.
    assert_eq!(app.send(fail()).await.status.as_u16(), 401);
    assert_eq!(app.send(me().peer(ATTACKER)).await.status.as_u16(), 401);

    let two_seconds = Duration::from_secs(2);
    let app = limited(ban(2, hour, two_seconds)).await;
    let alice = fixture(&app, "alice").await;
    assert_eq!(app.send(fail()).await.status.as_u16(), 401);
    assert_eq!(app.send(fail()).await.status.as_u16(), 401);
    assert_banned(
        &app.send(me().peer(ATTACKER)).await,
        "banned for two seconds",
    );
    tokio::time::sleep(two_seconds + Duration::from_millis(100)).await;
    let res = app.send(me().token(&alice.pat).peer(ATTACKER)).await;
    assert_eq!(res.status.as_u16(), 200, "the ban is over: {}", res.text);
    // Counting starts again from zero after a ban.
    assert_eq!(app.send(fail()).await.status.as_u16(), 401);
    assert_eq!(app.send(me().peer(ATTACKER)).await.status.as_u16(), 401);
}

/// Behind a trusted proxy the client is the nearest untrusted address of `X-Forwarded-For`;
/// from any other peer the header is ignored, so it cannot shift a ban onto someone else.
#[tokio::test]
async fn ban_follows_forwarded_for_only_from_trusted_proxies() {
    let app = limited(LimitsConfig {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..ban(3, Duration::from_secs(60), Duration::from_secs(3600))
    })
    .await;
    let alice = fixture(&app, "alice").await;
    let via_proxy = |req: Req, client: &str| {
        req.peer(PROXY)
            .header("x-forwarded-for", &format!("192.0.2.1, {client}"))
    };
    // A forged header from an untrusted peer: the failures are the peer's own.
    for _ in 0..3 {
        let res = app
            .send(
                me().token("glpat-nope-nope-nope-0001")
                    .peer(ATTACKER)
                    .header("x-forwarded-for", NEIGHBOUR),
            )
            .await;
        assert_eq!(res.status.as_u16(), 401);
    }
    assert_banned(&app.send(me().peer(ATTACKER)).await, "the forger");
    let res = app.send(via_proxy(me().token(&alice.pat), NEIGHBOUR)).await;
    assert_eq!(res.status.as_u16(), 200, "the neighbour is not banned");
    // Through the proxy, the forwarded client is the one banned, not the proxy.
    for _ in 0..3 {
        let res = app
            .send(via_proxy(
                me().token("glpat-nope-nope-nope-0002"),
                "198.51.100.77",
            ))
            .await;
        assert_eq!(res.status.as_u16(), 401);
    }
    assert_banned(
        &app.send(via_proxy(me().token(&alice.pat), "198.51.100.77"))
            .await,
        "the forwarded client",
    );
    assert_banned(
        &app.send(me().token(&alice.pat).peer("198.51.100.77")).await,
        "the same client directly",
    );
    let res = app.send(via_proxy(me().token(&alice.pat), NEIGHBOUR)).await;
    assert_eq!(
        res.status.as_u16(),
        200,
        "the proxy's other clients are fine"
    );
    let res = app.send(me().token(&alice.pat).peer(PROXY)).await;
    assert_eq!(res.status.as_u16(), 200, "and so is the proxy itself");
}

/// Without any limit configured, answers carry no `RateLimit-*` header and nothing is banned.
#[tokio::test]
async fn limits_are_off_by_default() {
    let app = TestApp::new().await;
    for _ in 0..40 {
        let res = app
            .send(me().token("glpat-nope-nope-nope-0001").peer(ATTACKER))
            .await;
        assert_eq!(res.status.as_u16(), 401);
    }
    let res = app.send(me().token(ROOT_TOKEN).peer(ATTACKER)).await;
    assert_eq!(res.status.as_u16(), 200);
    assert!(
        !res.headers
            .keys()
            .any(|k| k.as_str().starts_with("ratelimit")),
        "{:?}",
        res.headers
    );
}

// ---- requests in flight, time limit, body size ----------------------------------------------

/// An instance whose state the test keeps (to watch the requests in flight).
async fn instance(config: ServerConfig) -> (TestDatabase, AppState, Router) {
    let db = TestDatabase::new();
    let state = AppState::new(db.open().await, config)
        .await
        .expect("server state");
    jobscope_server::bootstrap::ensure_root(&state, Some(ROOT_TOKEN))
        .await
        .expect("bootstrap");
    let router = jobscope_server::app(state.clone());
    (db, state, router)
}

/// A request whose JSON body arrives only when the test sends it.
fn slow_post(
    path: &str,
) -> (
    Request<Body>,
    mpsc::UnboundedSender<Result<Bytes, std::io::Error>>,
) {
    let (tx, rx) = mpsc::unbounded();
    let req = Request::post(format!("http://jobscope.test{path}"))
        .header("host", "jobscope.test")
        .header("private-token", ROOT_TOKEN)
        .header("content-type", "application/json")
        .body(Body::from_stream(rx))
        .unwrap();
    (req, tx)
}

async fn answer(router: &Router, req: Request<Body>) -> (u16, Option<String>, String) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, retry, String::from_utf8_lossy(&body).into_owned())
}

fn root_get(path: &str) -> Request<Body> {
    Request::get(format!("http://jobscope.test{path}"))
        .header("host", "jobscope.test")
        .header("private-token", ROOT_TOKEN)
        .body(Body::empty())
        .unwrap()
}

async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// With `--max-in-flight 1`, a second request while one is in flight gets 503 with
/// `Retry-After` and GitLab's JSON body at once (it does not queue); once the first is done,
/// requests are served again.
#[tokio::test]
async fn too_many_in_flight_answers_503() {
    let (_db, state, router) = instance(ServerConfig {
        limits: LimitsConfig {
            max_in_flight: Some(1),
            ..LimitsConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let (slow, tx) = slow_post("/api/v4/users");
    let first = tokio::spawn({
        let router = router.clone();
        async move { answer(&router, slow).await }
    });
    until("the slow request is in flight", || {
        state.limits.in_flight() == 1
    })
    .await;
    let (status, retry, body) = answer(&router, root_get("/api/v4/user")).await;
    assert_eq!(status, 503);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"message": "503 Service Unavailable"})
    );
    tx.unbounded_send(Ok(Bytes::from(
        json!({"username": "slow", "name": "Slow", "email": "slow@example.com",
               "password": "correct-horse-battery"})
        .to_string(),
    )))
    .unwrap();
    drop(tx);
    let (status, _, body) = first.await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(state.limits.in_flight(), 0);
    let (status, _, _) = answer(&router, root_get("/api/v4/user")).await;
    assert_eq!(status, 200);
}

/// With `--request-timeout`, a request that takes longer is answered 503 and stops holding its
/// slot among the requests in flight.
#[tokio::test]
async fn request_timeout_answers_503() {
    let (_db, state, router) = instance(ServerConfig {
        limits: LimitsConfig {
            max_in_flight: Some(1),
            request_timeout: Some(Duration::from_millis(200)),
            ..LimitsConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let (slow, tx) = slow_post("/api/v4/users");
    let started = std::time::Instant::now();
    let (status, _, body) = answer(&router, slow).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"message": "503 Service Unavailable"})
    );
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    drop(tx);
    assert_eq!(state.limits.in_flight(), 0);
    let (status, _, _) = answer(&router, root_get("/api/v4/user")).await;
    assert_eq!(status, 200);
}

/// Writes a raw HTTP/1.1 request and reads the answer up to the end of its body.
async fn raw_http(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn chunked(body: &str, pieces: usize) -> String {
    let size = body.len().div_ceil(pieces);
    let mut out = String::new();
    for piece in body.as_bytes().chunks(size) {
        out.push_str(&format!("{:x}\r\n", piece.len()));
        out.push_str(std::str::from_utf8(piece).unwrap());
        out.push_str("\r\n");
    }
    out.push_str("0\r\n\r\n");
    out
}

/// Over a real connection (as `jobscope serve` listens): bodies over `--max-body-bytes` get
/// `413` whether their size is announced (`Content-Length`) or not (chunked), and the ban
/// keys on the connection's peer address.
#[tokio::test]
async fn body_limit_and_peer_address_over_a_real_connection() {
    let (_db, state, router) = instance(ServerConfig {
        max_body_bytes: 1024,
        limits: ban(2, Duration::from_secs(60), Duration::from_secs(3600)),
        ..ServerConfig::default()
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let post = |headers: &str, body: &str| {
        format!(
            "POST /api/v4/users HTTP/1.1\r\nHost: jobscope.test\r\nPRIVATE-TOKEN: {ROOT_TOKEN}\r\n\
             Content-Type: application/json\r\nConnection: close\r\n{headers}\r\n{body}"
        )
    };
    let big = json!({"username": "big", "name": "x".repeat(1500), "email": "big@example.com",
                     "password": "correct-horse-battery"})
    .to_string();
    let small = json!({"username": "small", "name": "Small", "email": "small@example.com",
                       "password": "correct-horse-battery"})
    .to_string();
    let too_large = json!({"error": "413 Request Entity Too Large"});
    let cases = [
        (
            "Content-Length",
            post(&format!("Content-Length: {}\r\n", big.len()), &big),
        ),
        (
            "chunked",
            post("Transfer-Encoding: chunked\r\n", &chunked(&big, 4)),
        ),
    ];
    for (what, request) in cases {
        let (status, body) = raw_http(addr, request.as_bytes()).await;
        assert_eq!(status, 413, "{what}: {body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            too_large,
            "{what}"
        );
    }
    let (status, body) = raw_http(
        addr,
        post("Transfer-Encoding: chunked\r\n", &chunked(&small, 3)).as_bytes(),
    )
    .await;
    assert_eq!(status, 201, "a small chunked body is read: {body}");
    assert!(state.store.user_by_username("big").await.unwrap().is_none());

    // The peer of these connections is 127.0.0.1: two failures ban it.
    let get = |token: &str| {
        format!(
            "GET /api/v4/user HTTP/1.1\r\nHost: jobscope.test\r\nPRIVATE-TOKEN: {token}\r\n\
             Connection: close\r\n\r\n"
        )
    };
    for _ in 0..2 {
        let (status, _) = raw_http(addr, get("glpat-nope-nope-nope-0001").as_bytes()).await;
        assert_eq!(status, 401);
    }
    let (status, body) = raw_http(addr, get(ROOT_TOKEN).as_bytes()).await;
    assert_eq!((status, body.as_str()), (403, ADDRESS_BANNED_TEXT));
    let banned = state.limits.ban().unwrap();
    assert!(
        banned
            .banned("127.0.0.1".parse().unwrap(), std::time::Instant::now())
            .is_some()
    );
    server.abort();
}

/// In process too, a streamed body without a size over the limit is refused with 413.
#[tokio::test]
async fn body_limit_applies_to_streamed_bodies() {
    let (_db, _state, router) = instance(ServerConfig {
        max_body_bytes: 1024,
        ..ServerConfig::default()
    })
    .await;
    let (req, tx) = slow_post("/api/v4/users");
    for _ in 0..4 {
        tx.unbounded_send(Ok(Bytes::from(vec![b' '; 400]))).unwrap();
    }
    drop(tx);
    let (status, _, body) = answer(&router, req).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": "413 Request Entity Too Large"})
    );
}
