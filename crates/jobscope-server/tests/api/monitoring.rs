//! Observability: the monitoring endpoints (`/-/health`, `/-/liveness`, `/-/readiness`,
//! `/-/metrics`) and their allowlist, the metrics' counts, and the request log (every line of
//! a request carries its request id; no token ever appears).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use jobscope_server::config::ServerConfig;
use jobscope_server::state::AppState;
use jobscope_store::MemberSource;
use jobscope_store_sqlite::SqliteStore;
use jobscope_types::{AccessLevel, Visibility};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::*;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }
}

/// A request from a TCP peer (as the real listener gives it), or from nowhere known.
async fn send_from(
    router: &Router,
    peer: Option<&str>,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(format!("http://jobscope.test{path}"))
        .header("host", "jobscope.test");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Body::empty()).unwrap();
    if let Some(p) = peer {
        let addr: SocketAddr = p.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

const LOCAL: Option<&str> = Some("127.0.0.1:50000");

fn route_not_found() -> Value {
    json!({"error": "404 Not Found"})
}

#[tokio::test]
async fn probes_answer_like_gitlab_to_allowlisted_clients() {
    let app = TestApp::new().await;
    let r = &app.router;

    let health = send_from(r, LOCAL, Method::GET, "/-/health", &[]).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.text, "GitLab OK");
    assert!(
        health.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(health.headers.contains_key("x-request-id"));

    let live = send_from(r, LOCAL, Method::GET, "/-/liveness", &[]).await;
    assert_eq!(
        (live.status.as_u16(), live.json()),
        (200, json!({"status": "ok"}))
    );

    let ready = send_from(r, LOCAL, Method::GET, "/-/readiness", &[]).await;
    assert_eq!(
        (ready.status.as_u16(), ready.json()),
        (
            200,
            json!({"status": "ok", "master_check": [{"status": "ok"}]})
        )
    );
    let all = send_from(r, LOCAL, Method::GET, "/-/readiness?all=1", &[]).await;
    assert_eq!(
        (all.status.as_u16(), all.json()),
        (
            200,
            json!({"status": "ok", "master_check": [{"status": "ok"}], "db_check": [{"status": "ok"}]})
        )
    );
    // The key order is GitLab's: status first.
    assert!(
        all.text.starts_with("{\"status\":\"ok\",\"master_check\""),
        "{}",
        all.text
    );

    let metrics = send_from(r, Some("[::1]:40000"), Method::GET, "/-/metrics", &[]).await;
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        metrics
            .text
            .contains("# TYPE jobscope_http_requests_total counter")
    );

    // Not behind authentication: a bad token changes nothing.
    let with_token = send_from(
        r,
        LOCAL,
        Method::GET,
        "/-/liveness",
        &[("private-token", "glpat-nonsense")],
    )
    .await;
    assert_eq!(with_token.status, 200);

    // Outsiders, unknown peers and other methods get the catch-all 404.
    for path in [
        "/-/health",
        "/-/liveness",
        "/-/readiness?all=1",
        "/-/metrics",
    ] {
        for peer in [Some("10.1.2.3:1234"), Some("[2001:db8::1]:80"), None] {
            let res = send_from(r, peer, Method::GET, path, &[]).await;
            assert_eq!(res.status, 404, "{path} from {peer:?}");
            assert_eq!(res.json(), route_not_found());
        }
        let res = send_from(r, LOCAL, Method::POST, path, &[]).await;
        assert_eq!((res.status.as_u16(), res.json()), (404, route_not_found()));
    }
}

#[tokio::test]
async fn the_monitoring_allowlist_is_configurable() {
    let app = TestApp::with_config(ServerConfig {
        monitoring_allowlist: "10.0.0.0/8,2001:db8::/32".parse().unwrap(),
        ..ServerConfig::default()
    })
    .await;
    for (peer, status) in [
        ("10.200.0.1:1", 200),
        ("[2001:db8::7]:1", 200),
        ("[::ffff:10.0.0.9]:1", 200),
        ("127.0.0.1:1", 404),
        ("11.0.0.1:1", 404),
    ] {
        let res = send_from(&app.router, Some(peer), Method::GET, "/-/health", &[]).await;
        assert_eq!(res.status, status, "{peer}");
    }
}

/// A server whose database is gone: its SQLite pool closed under it.
async fn server_without_database() -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open_path(&dir.path().join("db.sqlite3"))
            .await
            .unwrap(),
    );
    let state = AppState::new(store.clone(), ServerConfig::default())
        .await
        .expect("server state");
    jobscope_server::bootstrap::ensure_root(&state, Some(ROOT_TOKEN))
        .await
        .unwrap();
    store.close().await;
    (jobscope_server::app(state), dir)
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_unreachable() {
    let (r, _dir) = server_without_database().await;
    let all = send_from(&r, LOCAL, Method::GET, "/-/readiness?all=1", &[]).await;
    assert_eq!(all.status, 503);
    let body = all.json();
    assert_eq!(body["status"], "failed");
    assert_eq!(body["master_check"], json!([{"status": "ok"}]));
    assert_eq!(body["db_check"][0]["status"], "failed");
    assert!(body["db_check"][0]["message"].is_string());
    // The instance check alone and liveness do not look at the database.
    let ready = send_from(&r, LOCAL, Method::GET, "/-/readiness", &[]).await;
    assert_eq!(ready.status, 200);
    let live = send_from(&r, LOCAL, Method::GET, "/-/liveness", &[]).await;
    assert_eq!(live.status, 200);
}

fn value_of(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    })
}

#[tokio::test]
async fn metrics_count_requests_decisions_and_the_pool() {
    let app = TestApp::new().await;
    let g = app.group("acme", None, Visibility::Private).await;
    let origin = app.project(g.id, "builder", Visibility::Private).await;
    let target = app.project(g.id, "deployer", Visibility::Private).await;
    let user = app.user("runner").await;
    for p in [origin.id, target.id] {
        app.member(MemberSource::Project(p), user.id, AccessLevel::Developer)
            .await;
    }
    let (_, job_token) = app.job(origin.id, user.id).await;
    let check = |project: String| {
        get(format!("/api/v4/job_token/allowed?project={project}"))
            .auth(Auth::Header("job-token", job_token.clone()))
    };
    let denied = app.send(check(target.id.to_string())).await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    app.link_project(target.id, origin.id).await;
    assert_eq!(app.send(check(target.id.to_string())).await.status, 200);
    assert_eq!(app.send(check(origin.id.to_string())).await.status, 200);
    assert_eq!(app.send(check("424242".into())).await.status, 404);
    assert_eq!(app.send(get("/api/v4/nowhere")).await.status, 404);
    assert_eq!(app.send(get("/api/v4/version")).await.status, 401);

    let text = send_from(&app.router, LOCAL, Method::GET, "/-/metrics", &[])
        .await
        .text;
    let route = "method=\"GET\",route=\"/api/v4/job_token/allowed\"";
    for (series, want) in [
        (
            format!("jobscope_http_requests_total{{{route},status=\"200\"}}"),
            2.0,
        ),
        (
            format!("jobscope_http_requests_total{{{route},status=\"403\"}}"),
            1.0,
        ),
        (
            format!("jobscope_http_requests_total{{{route},status=\"404\"}}"),
            1.0,
        ),
        (
            "jobscope_http_requests_total{method=\"GET\",route=\"<unmatched>\",status=\"404\"}"
                .to_owned(),
            1.0,
        ),
        (
            "jobscope_http_requests_total{method=\"GET\",route=\"/api/v4/version\",status=\"401\"}"
                .to_owned(),
            1.0,
        ),
        (
            format!("jobscope_http_request_duration_seconds_count{{{route}}}"),
            4.0,
        ),
        (
            format!("jobscope_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}}"),
            4.0,
        ),
        (
            "jobscope_job_token_decisions_total{result=\"allowed\",reason=\"project_entry\"}"
                .to_owned(),
            1.0,
        ),
        (
            "jobscope_job_token_decisions_total{result=\"allowed\",reason=\"same_project\"}"
                .to_owned(),
            1.0,
        ),
        (
            "jobscope_job_token_decisions_total{result=\"denied\",reason=\"not_allowed\"}"
                .to_owned(),
            1.0,
        ),
        (
            "jobscope_job_token_decisions_total{result=\"denied\",reason=\"not_found\"}".to_owned(),
            1.0,
        ),
        (
            "jobscope_job_token_decisions_total{result=\"denied\",reason=\"policy\"}".to_owned(),
            0.0,
        ),
    ] {
        assert_eq!(value_of(&text, &series), Some(want), "{series} in\n{text}");
    }
    let idle = value_of(&text, "jobscope_db_pool_connections{state=\"idle\"}");
    let in_use = value_of(&text, "jobscope_db_pool_connections{state=\"in_use\"}");
    let max = value_of(&text, "jobscope_db_pool_max_connections");
    assert!(idle.is_some() && in_use.is_some(), "{text}");
    assert!(max.is_some_and(|m| m >= 1.0));
    if app.cache.is_some() {
        assert!(value_of(&text, "jobscope_cache_hits_total").is_some_and(|h| h > 0.0));
    }
    assert!(!text.contains(&job_token) && !text.contains("glcbt-") && !text.contains("glpat-"));
    // Every line is a comment or `name{labels} value`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = line.rsplit_once(' ').unwrap();
        assert!(v.parse::<f64>().is_ok(), "{line}");
    }
}

// ---- the request log --------------------------------------------------------------------

#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// With `--log-format json` (the subscriber the binary builds, at every level), every line
/// written while a request is handled carries that request's id, including the line that
/// explains a 5xx; tokens sent in headers, query strings and bodies appear nowhere.
#[tokio::test]
async fn every_log_line_of_a_request_carries_its_id_and_no_token() {
    let app = TestApp::new().await;
    let g = app.group("acme", None, Visibility::Private).await;
    let p = app.project(g.id, "app", Visibility::Private).await;
    let (user, pat) = app.user_with_token("dev").await;
    app.member(
        MemberSource::Project(p.id),
        user.id,
        AccessLevel::Maintainer,
    )
    .await;
    let (_, job_token) = app.job(p.id, user.id).await;
    let (broken, _dir) = server_without_database().await;

    let logs = LogBuffer::default();
    let guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .json()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish(),
    );
    let scope = format!("/api/v4/projects/{}/job_token_scope", p.id);
    let mut ids = Vec::new();
    let mut record = |res: Reply| {
        ids.push(res.headers["x-request-id"].to_str().unwrap().to_owned());
        res.status
    };
    let send =
        |router: &Router, method: Method, path: String, headers: Vec<(&'static str, String)>| {
            let router = router.clone();
            async move {
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                send_from(&router, LOCAL, method, &path, &h).await
            }
        };
    let r = &app.router;
    assert_eq!(
        record(
            send(
                r,
                Method::GET,
                scope.clone(),
                vec![("private-token", pat.clone())]
            )
            .await
        ),
        200
    );
    assert_eq!(
        record(
            send(
                r,
                Method::GET,
                format!("{scope}?private_token={pat}"),
                vec![]
            )
            .await
        ),
        200
    );
    assert_eq!(
        record(
            send(
                r,
                Method::GET,
                scope.clone(),
                vec![("authorization", format!("Bearer {pat}"))]
            )
            .await
        ),
        200
    );
    assert_eq!(
        record(
            send(
                r,
                Method::GET,
                scope.clone(),
                vec![("private-token", "glpat-wrong-0000".into())]
            )
            .await
        ),
        401
    );
    assert_eq!(
        record(
            send(
                r,
                Method::GET,
                format!(
                    "/api/v4/job_token/allowed?project={}&job_token={job_token}",
                    p.id
                ),
                vec![]
            )
            .await
        ),
        200
    );
    assert_eq!(
        record(
            send(
                r,
                Method::GET,
                format!("/api/v4/job_token/allowed?project={}", p.id),
                vec![("job-token", job_token.clone())]
            )
            .await
        ),
        200
    );
    // A 5xx: the database is gone, and the log says why.
    assert_eq!(
        record(
            send(
                &broken,
                Method::GET,
                scope.clone(),
                vec![("private-token", ROOT_TOKEN.into())]
            )
            .await
        ),
        503
    );
    drop(guard);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    assert!(lines.len() >= ids.len(), "{text}");
    for line in &lines {
        let id = line["span"]["request_id"].as_str().unwrap_or("");
        assert!(!id.is_empty(), "a line without its request id: {line}");
        assert!(ids.iter().any(|i| i == id), "{line}");
    }
    for id in &ids {
        assert!(
            lines
                .iter()
                .any(|l| l["span"]["request_id"] == id.as_str()
                    && l["fields"]["message"] == "response"),
            "no response line for {id}"
        );
    }
    assert!(
        lines.iter().any(|l| l["level"] == "ERROR"
            && l["fields"]["status"] == 503
            && l["span"]["request_id"] == ids[6].as_str()),
        "{text}"
    );
    for secret in [
        pat.as_str(),
        job_token.as_str(),
        ROOT_TOKEN,
        "glpat-",
        "glcbt-",
    ] {
        assert!(!text.contains(secret), "the log contains {secret}");
    }
}
