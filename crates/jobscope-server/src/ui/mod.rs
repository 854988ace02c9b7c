//! The web UI (issue 8): GitLab's "Job token permissions" settings page and what surrounds it,
//! served by `jobscope serve` itself as server-rendered HTML.
//!
//! - Pages are maud templates ([`view`]): every interpolated string is escaped.
//! - Handlers are as thin as the API's: extract, validate, authorize with [`crate::access`],
//!   call the same [`crate::service`] functions, render. Rules, limits, audit events and
//!   GitLab's error messages are therefore the API's; [`explain`] puts them into words.
//! - Sign-in takes a personal access token and keeps it server-side: the browser holds a
//!   random session id in an HttpOnly, SameSite=Strict cookie; the store keeps its digest
//!   with the token's id, checked again on every request ([`session`]).
//! - Every change is a form POST answered by a redirect (Post/Redirect/Get), carrying the
//!   session's CSRF token; the pages work without JavaScript. One CSS file and one small
//!   script are embedded in the binary ([`assets`]) and only enhance (path suggestions, a
//!   confirmation dialog).
//! - UI routes live outside `/api/v4` and outside the `routes!` table (and so outside the
//!   OpenAPI document). Paths that are not the UI's keep the API's catch-all 404.

mod activity;
mod assets;
mod explain;
mod form;
mod project;
mod projects;
pub mod session;
mod view;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::routes::route_not_found;
use crate::state::AppState;

pub use session::has_session_cookie;

/// Where the sign-in form is (GitLab's path).
pub const SIGN_IN: &str = "/users/sign_in";
/// Where the project list is (GitLab's path).
pub const DASHBOARD: &str = "/dashboard/projects";

/// The UI's routes. `/{*path}` serves project pages (`/{full/path}/-/…`) and answers the
/// API's catch-all 404 for anything else.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(projects::root).fallback(route_not_found))
        .route(DASHBOARD, get(projects::list).fallback(route_not_found))
        .route(
            SIGN_IN,
            get(session::sign_in_form)
                .post(session::sign_in)
                .fallback(route_not_found),
        )
        .route(
            "/users/sign_out",
            post(session::sign_out).fallback(route_not_found),
        )
        .route(
            "/-/ui/assets/{version}/{file}",
            get(assets::serve).fallback(route_not_found),
        )
        .route(
            "/{*path}",
            get(project::dispatch_get)
                .post(project::dispatch_post)
                .fallback(route_not_found),
        )
        .layer(axum::middleware::map_response(security_headers))
}

/// The Content-Security-Policy of every page: nothing from elsewhere, no inline script or
/// style, no framing, forms only to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Adds the UI's security headers to its answers (not to the API's JSON 404s that the
/// catch-all route answers, which keep the API's headers).
async fn security_headers(mut resp: Response) -> Response {
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return resp;
    }
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry private data and the session's CSRF token.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// An HTML page with a status.
pub(crate) fn html(status: axum::http::StatusCode, markup: maud::Markup) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        markup.into_string(),
    )
        .into_response()
}

/// `303 See Other` to `location` (a path of this server).
pub(crate) fn redirect(location: &str) -> Response {
    let mut resp = axum::http::StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// A path to come back to after signing in: a path of this server only (no scheme, no
/// `//host`, no backslash), else the dashboard.
pub(crate) fn safe_return_to(raw: &str) -> &str {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control)
        && raw.len() <= 2048;
    if ok { raw } else { DASHBOARD }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_server() {
        assert_eq!(
            safe_return_to("/acme/x/-/settings/ci_cd"),
            "/acme/x/-/settings/ci_cd"
        );
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "",
            "javascript:alert(1)",
            "/a\nb",
        ] {
            assert_eq!(safe_return_to(bad), DASHBOARD, "{bad:?}");
        }
    }
}
