//! The HTTP surface: every route of `/api/v4`, declared once in [`ROUTES`] so that the router
//! and the authorization-matrix test share one list.

mod audit_events;
mod ci;
mod groups;
mod job_token_scope;
mod members;
mod meta;
mod projects;
mod settings;
mod tokens;
mod users;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use axum::{Json, Router};
use percent_encoding::percent_decode_str;

use crate::error::ApiError;
use crate::state::AppState;

/// What GitLab (a Rails middleware) refuses outright: NUL bytes in any parameter.
pub const NUL_MESSAGE: &str = "The request contains a NUL byte";

/// Path parameters, percent-decoded (`group%2Fproject` becomes `group/project`).
pub struct PathParams(Vec<(String, String)>);

impl PathParams {
    /// The decoded value of a parameter the route declares ("" if it does not).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

impl FromRequestParts<AppState> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The only rejection is a segment that does not decode to UTF-8.
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("The path is not valid UTF-8"))?;
        let mut out = Vec::new();
        for (k, v) in &raw {
            let decoded = percent_decode_str(v)
                .decode_utf8()
                .map_err(|_| ApiError::param(format!("{k} is invalid")))?;
            if decoded.contains('\0') {
                return Err(ApiError::bad_request(NUL_MESSAGE));
            }
            out.push((k.to_owned(), decoded.into_owned()));
        }
        Ok(PathParams(out))
    }
}

/// The client's address, when the server knows it (not behind `oneshot` in tests).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A JSON literal answer (`true`, `false`, `null`) with a status, as GitLab's block/unblock.
pub fn json_literal(status: axum::http::StatusCode, value: Option<bool>) -> Response {
    (status, Json(value)).into_response()
}

/// One route of the API: method and path (axum syntax, relative to `/api/v4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
}

macro_rules! routes {
    ($( $method:ident $path:literal => $handler:path ; )*) => {
        /// Every route, in one table: the router is built from it and tests enumerate it.
        pub const ROUTES: &[RouteSpec] = &[
            $( RouteSpec { method: stringify!($method), path: $path }, )*
        ];

        fn method_routers() -> Vec<(&'static str, MethodRouter<AppState>)> {
            vec![ $( ($path, routes!(@m $method $handler)), )* ]
        }
    };
    (@m GET $h:path) => { get($h) };
    (@m POST $h:path) => { post($h) };
    (@m PUT $h:path) => { put($h) };
    (@m PATCH $h:path) => { patch($h) };
    (@m DELETE $h:path) => { delete($h) };
}

routes! {
    GET "/version" => meta::version;
    GET "/metadata" => meta::version;
    GET "/user" => meta::current_user;

    GET "/users" => users::list;
    POST "/users" => users::create;
    GET "/users/{id}" => users::show;
    PUT "/users/{id}" => users::update;
    DELETE "/users/{id}" => users::delete;
    POST "/users/{id}/block" => users::block;
    POST "/users/{id}/unblock" => users::unblock;
    POST "/users/{id}/deactivate" => users::deactivate;
    POST "/users/{id}/activate" => users::activate;
    POST "/users/{id}/personal_access_tokens" => tokens::create_for_user;

    GET "/personal_access_tokens" => tokens::list;
    GET "/personal_access_tokens/self" => tokens::show_self;
    DELETE "/personal_access_tokens/self" => tokens::revoke_self;
    POST "/personal_access_tokens/self/rotate" => tokens::rotate_self;
    GET "/personal_access_tokens/{id}" => tokens::show;
    DELETE "/personal_access_tokens/{id}" => tokens::revoke;
    POST "/personal_access_tokens/{id}/rotate" => tokens::rotate;

    GET "/groups" => groups::list;
    POST "/groups" => groups::create;
    GET "/groups/{id}" => groups::show;
    DELETE "/groups/{id}" => groups::delete;
    GET "/groups/{id}/subgroups" => groups::subgroups;
    GET "/groups/{id}/descendant_groups" => groups::descendant_groups;
    GET "/groups/{id}/projects" => groups::projects;
    GET "/groups/{id}/members" => members::list_group;
    POST "/groups/{id}/members" => members::add_group;
    GET "/groups/{id}/members/all" => members::list_group_all;
    GET "/groups/{id}/members/all/{user_id}" => members::show_group_all;
    GET "/groups/{id}/members/{user_id}" => members::show_group;
    PUT "/groups/{id}/members/{user_id}" => members::update_group;
    DELETE "/groups/{id}/members/{user_id}" => members::remove_group;

    GET "/projects" => projects::list;
    POST "/projects" => projects::create;
    POST "/projects/user/{user_id}" => projects::create_for_user;
    GET "/projects/{id}" => projects::show;
    DELETE "/projects/{id}" => projects::delete;
    GET "/projects/{id}/members" => members::list_project;
    POST "/projects/{id}/members" => members::add_project;
    GET "/projects/{id}/members/all" => members::list_project_all;
    GET "/projects/{id}/members/all/{user_id}" => members::show_project_all;
    GET "/projects/{id}/members/{user_id}" => members::show_project;
    PUT "/projects/{id}/members/{user_id}" => members::update_project;
    DELETE "/projects/{id}/members/{user_id}" => members::remove_project;

    GET "/projects/{id}/job_token_scope" => job_token_scope::show;
    PATCH "/projects/{id}/job_token_scope" => job_token_scope::update;
    GET "/projects/{id}/job_token_scope/allowlist" => job_token_scope::list_projects;
    POST "/projects/{id}/job_token_scope/allowlist" => job_token_scope::add_project;
    DELETE "/projects/{id}/job_token_scope/allowlist/{target_project_id}" => job_token_scope::remove_project;
    PATCH "/projects/{id}/job_token_scope/allowlist/{target_project_id}" => job_token_scope::update_project;
    GET "/projects/{id}/job_token_scope/groups_allowlist" => job_token_scope::list_groups;
    POST "/projects/{id}/job_token_scope/groups_allowlist" => job_token_scope::add_group;
    DELETE "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}" => job_token_scope::remove_group;
    PATCH "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}" => job_token_scope::update_group;
    GET "/projects/{id}/job_token_scope/auth_logs" => job_token_scope::auth_logs;
    POST "/projects/{id}/job_token_scope/autopopulate" => job_token_scope::autopopulate;
    DELETE "/projects/{id}/job_token_scope/autopopulated" => job_token_scope::clear_autopopulated;
    GET "/projects/{id}/job_token_scope/reachable" => job_token_scope::reachable;
    GET "/projects/{id}/audit_events" => audit_events::list;
    GET "/projects/{id}/audit_events/{audit_event_id}" => audit_events::show;

    POST "/ci/jobs" => ci::create;
    GET "/ci/jobs/{id}" => ci::show;
    PUT "/ci/jobs/{id}" => ci::finish;
    GET "/job" => ci::current_job;
    GET "/job_token/allowed" => ci::allowed;

    GET "/application/settings" => settings::show;
    PUT "/application/settings" => settings::update;
}

impl RouteSpec {
    pub fn method(&self) -> Method {
        Method::from_bytes(self.method.as_bytes()).unwrap_or(Method::GET)
    }
}

/// Every route template as axum matches it (`/api/v4/...`, then the monitoring routes), each
/// once: the label values of the request metrics.
pub fn templates() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in ROUTES {
        let t = format!("/api/v4{}", r.path);
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out.extend(crate::monitoring::PATHS.iter().map(|p| (*p).to_owned()));
    out
}

async fn route_not_found() -> ApiError {
    ApiError::RouteNotFound
}

/// The router of every `/api/v4` route (declared without the prefix in [`ROUTES`]; prefixed
/// here rather than nested, which would route every request twice). Unknown paths, and known
/// paths with another method, answer `404 {"error":"404 Not Found"}` as GitLab's catch-all
/// route does.
pub fn api_router() -> Router<AppState> {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for (path, mr) in method_routers() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(mr),
            None => by_path.push((path, mr)),
        }
    }
    let mut router = Router::new();
    for (path, mr) in by_path {
        router = router.route(&format!("/api/v4{path}"), mr.fallback(route_not_found));
    }
    router.fallback(route_not_found)
}
