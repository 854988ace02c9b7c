//! The HTTP surface: every route of `/api/v4`, declared once in [`ROUTES`] so that the router
//! and the authorization-matrix test share one list.

mod audit_events;
mod ci;
mod docs;
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
    ($( $method:ident $path:literal => $handler:path, $doc:path ; )*) => {
        /// Every route, in one table: the router is built from it and tests enumerate it.
        pub const ROUTES: &[RouteSpec] = &[
            $( RouteSpec { method: stringify!($method), path: $path }, )*
        ];

        /// Every route with what the OpenAPI document says of it (`docs.rs`).
        pub fn documented() -> Vec<(RouteSpec, crate::openapi::Op)> {
            vec![ $( (RouteSpec { method: stringify!($method), path: $path }, $doc()), )* ]
        }

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
    GET "/version" => meta::version, docs::get_version;
    GET "/metadata" => meta::version, docs::get_metadata;
    GET "/user" => meta::current_user, docs::get_user;

    GET "/users" => users::list, docs::get_users;
    POST "/users" => users::create, docs::post_users;
    GET "/users/{id}" => users::show, docs::get_users_id;
    PUT "/users/{id}" => users::update, docs::put_users_id;
    DELETE "/users/{id}" => users::delete, docs::delete_users_id;
    POST "/users/{id}/block" => users::block, docs::post_users_id_block;
    POST "/users/{id}/unblock" => users::unblock, docs::post_users_id_unblock;
    POST "/users/{id}/deactivate" => users::deactivate, docs::post_users_id_deactivate;
    POST "/users/{id}/activate" => users::activate, docs::post_users_id_activate;
    POST "/users/{id}/personal_access_tokens" => tokens::create_for_user, docs::post_users_id_personal_access_tokens;

    GET "/personal_access_tokens" => tokens::list, docs::get_personal_access_tokens;
    GET "/personal_access_tokens/self" => tokens::show_self, docs::get_personal_access_tokens_self;
    DELETE "/personal_access_tokens/self" => tokens::revoke_self, docs::delete_personal_access_tokens_self;
    POST "/personal_access_tokens/self/rotate" => tokens::rotate_self, docs::post_personal_access_tokens_self_rotate;
    GET "/personal_access_tokens/{id}" => tokens::show, docs::get_personal_access_tokens_id;
    DELETE "/personal_access_tokens/{id}" => tokens::revoke, docs::delete_personal_access_tokens_id;
    POST "/personal_access_tokens/{id}/rotate" => tokens::rotate, docs::post_personal_access_tokens_id_rotate;

    GET "/groups" => groups::list, docs::get_groups;
    POST "/groups" => groups::create, docs::post_groups;
    GET "/groups/{id}" => groups::show, docs::get_groups_id;
    DELETE "/groups/{id}" => groups::delete, docs::delete_groups_id;
    GET "/groups/{id}/subgroups" => groups::subgroups, docs::get_groups_id_subgroups;
    GET "/groups/{id}/descendant_groups" => groups::descendant_groups, docs::get_groups_id_descendant_groups;
    GET "/groups/{id}/projects" => groups::projects, docs::get_groups_id_projects;
    GET "/groups/{id}/members" => members::list_group, docs::get_groups_id_members;
    POST "/groups/{id}/members" => members::add_group, docs::post_groups_id_members;
    GET "/groups/{id}/members/all" => members::list_group_all, docs::get_groups_id_members_all;
    GET "/groups/{id}/members/all/{user_id}" => members::show_group_all, docs::get_groups_id_members_all_user_id;
    GET "/groups/{id}/members/{user_id}" => members::show_group, docs::get_groups_id_members_user_id;
    PUT "/groups/{id}/members/{user_id}" => members::update_group, docs::put_groups_id_members_user_id;
    DELETE "/groups/{id}/members/{user_id}" => members::remove_group, docs::delete_groups_id_members_user_id;

    GET "/projects" => projects::list, docs::get_projects;
    POST "/projects" => projects::create, docs::post_projects;
    POST "/projects/user/{user_id}" => projects::create_for_user, docs::post_projects_user_user_id;
    GET "/projects/{id}" => projects::show, docs::get_projects_id;
    DELETE "/projects/{id}" => projects::delete, docs::delete_projects_id;
    GET "/projects/{id}/members" => members::list_project, docs::get_projects_id_members;
    POST "/projects/{id}/members" => members::add_project, docs::post_projects_id_members;
    GET "/projects/{id}/members/all" => members::list_project_all, docs::get_projects_id_members_all;
    GET "/projects/{id}/members/all/{user_id}" => members::show_project_all, docs::get_projects_id_members_all_user_id;
    GET "/projects/{id}/members/{user_id}" => members::show_project, docs::get_projects_id_members_user_id;
    PUT "/projects/{id}/members/{user_id}" => members::update_project, docs::put_projects_id_members_user_id;
    DELETE "/projects/{id}/members/{user_id}" => members::remove_project, docs::delete_projects_id_members_user_id;

    GET "/projects/{id}/job_token_scope" => job_token_scope::show, docs::get_projects_id_job_token_scope;
    PATCH "/projects/{id}/job_token_scope" => job_token_scope::update, docs::patch_projects_id_job_token_scope;
    GET "/projects/{id}/job_token_scope/allowlist" => job_token_scope::list_projects, docs::get_projects_id_job_token_scope_allowlist;
    POST "/projects/{id}/job_token_scope/allowlist" => job_token_scope::add_project, docs::post_projects_id_job_token_scope_allowlist;
    DELETE "/projects/{id}/job_token_scope/allowlist/{target_project_id}" => job_token_scope::remove_project, docs::delete_projects_id_job_token_scope_allowlist_target_project_id;
    PATCH "/projects/{id}/job_token_scope/allowlist/{target_project_id}" => job_token_scope::update_project, docs::patch_projects_id_job_token_scope_allowlist_target_project_id;
    GET "/projects/{id}/job_token_scope/groups_allowlist" => job_token_scope::list_groups, docs::get_projects_id_job_token_scope_groups_allowlist;
    POST "/projects/{id}/job_token_scope/groups_allowlist" => job_token_scope::add_group, docs::post_projects_id_job_token_scope_groups_allowlist;
    DELETE "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}" => job_token_scope::remove_group, docs::delete_projects_id_job_token_scope_groups_allowlist_target_group_id;
    PATCH "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}" => job_token_scope::update_group, docs::patch_projects_id_job_token_scope_groups_allowlist_target_group_id;
    GET "/projects/{id}/job_token_scope/auth_logs" => job_token_scope::auth_logs, docs::get_projects_id_job_token_scope_auth_logs;
    POST "/projects/{id}/job_token_scope/autopopulate" => job_token_scope::autopopulate, docs::post_projects_id_job_token_scope_autopopulate;
    DELETE "/projects/{id}/job_token_scope/autopopulated" => job_token_scope::clear_autopopulated, docs::delete_projects_id_job_token_scope_autopopulated;
    GET "/projects/{id}/job_token_scope/reachable" => job_token_scope::reachable, docs::get_projects_id_job_token_scope_reachable;
    GET "/projects/{id}/audit_events" => audit_events::list, docs::get_projects_id_audit_events;
    GET "/projects/{id}/audit_events/{audit_event_id}" => audit_events::show, docs::get_projects_id_audit_events_audit_event_id;

    POST "/ci/jobs" => ci::create, docs::post_ci_jobs;
    GET "/ci/jobs/{id}" => ci::show, docs::get_ci_jobs_id;
    PUT "/ci/jobs/{id}" => ci::finish, docs::put_ci_jobs_id;
    GET "/job" => ci::current_job, docs::get_job;
    GET "/job_token/allowed" => ci::allowed, docs::get_job_token_allowed;

    GET "/application/settings" => settings::show, docs::get_application_settings;
    PUT "/application/settings" => settings::update, docs::put_application_settings;
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

pub(crate) async fn route_not_found() -> ApiError {
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
    // The API's own description, beside the table (it is not an operation of the API).
    router = router.route(
        &format!("/api/v4{}", crate::openapi::PATH),
        get(crate::openapi::serve).fallback(route_not_found),
    );
    router.fallback(route_not_found)
}
