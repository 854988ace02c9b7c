//! GitLab's monitoring endpoints, outside `/api/v4` and without authentication: `/-/health`,
//! `/-/liveness`, `/-/readiness` (and `?all=1`), plus `/-/metrics` in Prometheus' text format.
//!
//! As on GitLab they answer only clients whose address is on the monitoring allowlist
//! (`--monitoring-allowlist`, by default the loopback addresses `127.0.0.0/8` and `::1`);
//! anyone else gets the catch-all `404 {"error":"404 Not Found"}`, as if they did not exist.
//! The address is the TCP peer's: behind a proxy, allowlist the proxy or scrape directly.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::metrics::Extra;
use crate::net::IpNet;
use crate::routes::ClientIp;
use crate::state::AppState;

pub const HEALTH: &str = "/-/health";
pub const LIVENESS: &str = "/-/liveness";
pub const READINESS: &str = "/-/readiness";
pub const METRICS: &str = "/-/metrics";

/// Every monitoring route (the metrics count requests to them too).
pub const PATHS: [&str; 4] = [HEALTH, LIVENESS, READINESS, METRICS];

/// The longest a readiness probe waits for the database.
const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Who may read the monitoring endpoints (`--monitoring-allowlist`): comma-separated
/// addresses or CIDR blocks; empty means nobody.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAllowlist(Vec<IpNet>);

/// GitLab's default monitoring allowlist.
pub const DEFAULT_MONITORING_ALLOWLIST: &str = "127.0.0.0/8,::1/128";

impl IpAllowlist {
    /// Whether a client at `ip` may read the monitoring endpoints (never when the address is
    /// unknown).
    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        ip.is_some_and(|ip| self.0.iter().any(|n| n.contains(ip)))
    }
}

impl Default for IpAllowlist {
    fn default() -> Self {
        DEFAULT_MONITORING_ALLOWLIST
            .parse()
            .unwrap_or(IpAllowlist(Vec::new()))
    }
}

impl FromStr for IpAllowlist {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(IpAllowlist)
    }
}

impl fmt::Display for IpAllowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

async fn not_found() -> ApiError {
    ApiError::RouteNotFound
}

/// The monitoring routes; other methods on their paths get the catch-all 404.
pub fn router() -> Router<AppState> {
    let route = |mr: MethodRouter<AppState>| mr.fallback(not_found);
    Router::new()
        .route(HEALTH, route(get(health)))
        .route(LIVENESS, route(get(liveness)))
        .route(READINESS, route(get(readiness)))
        .route(METRICS, route(get(metrics)))
}

/// The allowlist check every handler starts with.
fn allowed(state: &AppState, ip: &ClientIp) -> Result<(), ApiError> {
    if state.config.monitoring_allowlist.allows(ip.0) {
        Ok(())
    } else {
        Err(ApiError::RouteNotFound)
    }
}

/// GET /-/health: the process answers; nothing else is checked.
async fn health(State(state): State<AppState>, ip: ClientIp) -> Result<Response, ApiError> {
    allowed(&state, &ip)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        "GitLab OK",
    )
        .into_response())
}

/// GET /-/liveness: the process answers.
async fn liveness(State(state): State<AppState>, ip: ClientIp) -> Result<Response, ApiError> {
    allowed(&state, &ip)?;
    Ok(axum::Json(json!({"status": "ok"})).into_response())
}

/// GET /-/readiness[?all=1]: the instance check (this process serves), and with `all=1` the
/// database too; 503 with `"status":"failed"` when a check fails.
async fn readiness(
    State(state): State<AppState>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    allowed(&state, &ip)?;
    let all = query.is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes())
            .any(|(k, v)| k == "all" && matches!(v.as_ref(), "1" | "true" | "yes"))
    });
    let mut body = serde_json::Map::new();
    let mut ok = true;
    body.insert("status".into(), Value::Null);
    body.insert("master_check".into(), json!([{"status": "ok"}]));
    if all {
        let db = match tokio::time::timeout(DB_CHECK_TIMEOUT, state.store.ping()).await {
            Ok(Ok(())) => json!([{"status": "ok"}]),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the database check failed");
                ok = false;
                json!([{"status": "failed", "message": "the database cannot be reached"}])
            }
            Err(_) => {
                tracing::warn!("readiness: the database check timed out");
                ok = false;
                json!([{"status": "failed", "message": "the database did not answer in time"}])
            }
        };
        body.insert("db_check".into(), db);
    }
    body.insert("status".into(), json!(if ok { "ok" } else { "failed" }));
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, axum::Json(Value::Object(body))).into_response())
}

/// GET /-/metrics: Prometheus' text format.
async fn metrics(State(state): State<AppState>, ip: ClientIp) -> Result<Response, ApiError> {
    allowed(&state, &ip)?;
    let extra = Extra {
        pool: state.store.pool_status(),
        cache: state.cache.as_ref().map(|c| c.counts()),
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(&extra),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn default_allowlist_is_loopback() {
        let a = IpAllowlist::default();
        assert!(a.allows(ip("127.0.0.1")));
        assert!(a.allows(ip("127.255.0.9")));
        assert!(a.allows(ip("::1")));
        assert!(
            a.allows(ip("::ffff:127.0.0.1")),
            "IPv4 on a dual-stack socket"
        );
        assert!(!a.allows(ip("10.0.0.1")));
        assert!(!a.allows(ip("::2")));
        assert!(!a.allows(None), "an unknown peer is refused");
        assert_eq!(a.to_string(), DEFAULT_MONITORING_ALLOWLIST);
    }

    #[test]
    fn parses_blocks() {
        let a: IpAllowlist = "10.0.0.0/8, 192.168.1.7 ,fd00::/8".parse().unwrap();
        assert!(a.allows(ip("10.200.3.4")));
        assert!(a.allows(ip("192.168.1.7")));
        assert!(!a.allows(ip("192.168.1.8")));
        assert!(a.allows(ip("fd12::1")));
        assert!(!a.allows(ip("127.0.0.1")));
        let all: IpAllowlist = "0.0.0.0/0,::/0".parse().unwrap();
        assert!(all.allows(ip("8.8.8.8")) && all.allows(ip("2001:db8::1")));
        let none: IpAllowlist = "".parse().unwrap();
        assert!(!none.allows(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "::/129", "nope", "10.0.0.0/x"] {
            assert!(bad.parse::<IpAllowlist>().is_err(), "{bad}");
        }
    }
}
