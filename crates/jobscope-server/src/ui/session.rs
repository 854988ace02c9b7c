//! Sign-in, sessions and CSRF protection.
//!
//! The browser holds a random session id (258 bits) in an HttpOnly, SameSite=Strict cookie
//! (`Secure` and `__Host-` when served over TLS). The store holds only the id's digest, with
//! the id of the personal access token the user signed in with, the session's CSRF token and
//! its times. Every request checks the session again: idle and absolute expiry, then the
//! token (revoked, expired, scope) and the user (blocked, deactivated), ending the session
//! and sending the browser back to the sign-in form with the reason when one fails.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use jobscope_store::{PersonalAccessToken, User, UserState, WebSession};

use super::explain::{self, Doing, Explained};
use super::form::FormData;
use super::{DASHBOARD, SIGN_IN, html, redirect, safe_return_to, view};
use crate::auth::Caller;
use crate::auth::tokens::{self, SecretToken};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The session cookie over plain HTTP.
pub const COOKIE: &str = "_jobscope_session";
/// The session cookie when cookies are `Secure` (the `__Host-` prefix: this host, path `/`).
pub const SECURE_COOKIE: &str = "__Host-jobscope_session";
/// The form field of the CSRF token (GitLab's name).
pub const CSRF_FIELD: &str = "authenticity_token";
/// The header of the CSRF token, for script requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Length of session ids and CSRF tokens, in characters of a 64-letter alphabet (258 bits).
const SECRET_LEN: usize = 43;
/// `last_seen_at` is written at most this often per session.
const TOUCH_INTERVAL: chrono::Duration = chrono::Duration::minutes(1);

/// Does the request carry a session cookie (for the abuse limits: it is a credential)?
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    cookie(headers, COOKIE).is_some() || cookie(headers, SECURE_COOKIE).is_some()
}

/// The value of cookie `name`, from every `Cookie` header.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn cookie_name(state: &AppState) -> &'static str {
    if state.config.ui.secure_cookies {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

fn set_cookie(state: &AppState, value: &str) -> Option<HeaderValue> {
    let secure = if state.config.ui.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        cookie_name(state),
        state.config.ui.session_lifetime.as_secs()
    ))
    .ok()
}

fn clear_cookie(state: &AppState) -> Option<HeaderValue> {
    let secure = if state.config.ui.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}",
        cookie_name(state)
    ))
    .ok()
}

fn with_cookie(mut resp: Response, value: Option<HeaderValue>) -> Response {
    if let Some(v) = value {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A signed-in user: the session and the caller it stands for (the same [`Caller`] the API's
/// handlers get, so authorization is the API's).
pub struct SignedIn {
    pub caller: Caller,
    pub session: WebSession,
}

impl SignedIn {
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    /// Whether the token may change things (the `api` scope; `read_api` reads only).
    pub fn can_write(&self) -> bool {
        self.caller.token.scopes.iter().any(|s| s == "api")
    }

    /// GitLab's answer to a change made with a read-only token.
    pub fn require_write(&self) -> ApiResult<()> {
        if self.can_write() {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope("api".to_owned()))
        }
    }
}

/// Why a session ended, as the sign-in form's `reason` parameter (fixed words only, so the
/// form never shows text taken from a URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Expired,
    TokenRevoked,
    TokenExpired,
    Blocked,
}

impl Ended {
    fn as_str(self) -> &'static str {
        match self {
            Ended::Expired => "expired",
            Ended::TokenRevoked => "revoked",
            Ended::TokenExpired => "token_expired",
            Ended::Blocked => "blocked",
        }
    }
}

/// The sentence the sign-in form shows for a `reason`.
fn reason_text(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "expired" => "Your session has expired. Sign in again.",
        "revoked" => {
            "The personal access token you signed in with was revoked. Sign in with another token."
        }
        "token_expired" => {
            "The personal access token you signed in with has expired. Sign in with another token."
        }
        "blocked" => "Your account is blocked or deactivated.",
        "signed_out" => "You have signed out.",
        _ => return None,
    })
}

enum Found {
    None,
    Ended(Ended),
    Valid(Box<SignedIn>),
}

fn std_to_chrono(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// Loads and checks the request's session.
async fn find(parts: &Parts, state: &AppState) -> ApiResult<Found> {
    let Some(id) = cookie(&parts.headers, cookie_name(state)) else {
        return Ok(Found::None);
    };
    // What cannot be a session id is not looked up.
    if id.len() != SECRET_LEN
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
    {
        return Ok(Found::None);
    }
    let digest = state.tokens.digest(id);
    let Some(session) = state.store.web_session(&digest).await? else {
        return Ok(Found::Ended(Ended::Expired));
    };
    let end = |why: Ended| async move {
        state.store.delete_web_session(&digest).await?;
        Ok::<Found, ApiError>(Found::Ended(why))
    };
    let now = crate::service::now();
    if now >= session.expires_at
        || now - session.last_seen_at >= std_to_chrono(state.config.ui.session_idle)
    {
        return end(Ended::Expired).await;
    }
    let Some(token) = state
        .store
        .personal_access_token(session.token_id)
        .await?
        .filter(|t| t.user_id == session.user_id)
    else {
        return end(Ended::TokenRevoked).await;
    };
    if token.revoked || !has_ui_scope(&token.scopes) {
        return end(Ended::TokenRevoked).await;
    }
    if token.is_expired(now.date_naive()) {
        return end(Ended::TokenExpired).await;
    }
    let Some(user) = state.store.user(session.user_id).await? else {
        return end(Ended::TokenRevoked).await;
    };
    if user.state != UserState::Active {
        return end(Ended::Blocked).await;
    }
    // The per-user rate limit counts UI requests as it counts API requests.
    state
        .limits
        .authenticated(&parts.headers, &parts.extensions, user.id)?;
    let mut session = session;
    if now - session.last_seen_at >= TOUCH_INTERVAL {
        state
            .store
            .touch_web_session(&session.id_digest, now)
            .await?;
        session.last_seen_at = now;
    }
    Ok(Found::Valid(Box::new(SignedIn {
        caller: Caller::new(user, token),
        session,
    })))
}

fn has_ui_scope(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "api" || s == "read_api")
}

/// The sign-in form's address, coming back to `return_to` afterwards.
fn sign_in_url(return_to: Option<&str>, reason: Option<Ended>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(r) = return_to.filter(|r| *r != DASHBOARD && *r != "/") {
        q.append_pair("return_to", r);
    }
    if let Some(reason) = reason {
        q.append_pair("reason", reason.as_str());
    }
    let q = q.finish();
    if q.is_empty() {
        SIGN_IN.to_owned()
    } else {
        format!("{SIGN_IN}?{q}")
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let return_to = (parts.method == axum::http::Method::GET)
            .then(|| {
                parts
                    .extensions
                    .get::<axum::extract::OriginalUri>()
                    .map_or(&parts.uri, |u| &u.0)
                    .path_and_query()
                    .map(|pq| pq.as_str().to_owned())
            })
            .flatten();
        let return_to = return_to.as_deref().map(safe_return_to);
        match find(parts, state).await {
            Ok(Found::Valid(s)) => Ok(*s),
            Ok(Found::None) => Err(redirect(&sign_in_url(return_to, None))),
            Ok(Found::Ended(why)) => Err(with_cookie(
                redirect(&sign_in_url(return_to, Some(why))),
                clear_cookie(state),
            )),
            Err(e) => Err(error_page(None, &e)),
        }
    }
}

/// An error as a whole page (outside any project).
pub(crate) fn error_page(signed: Option<&SignedIn>, err: &ApiError) -> Response {
    let e = explain::explain(err, Doing::Viewing, "this project");
    html(e.status, view::message_page("Error", signed, &e))
}

// ---- CSRF ---------------------------------------------------------------------------------

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Refuses requests that browsers say come from another site: `Sec-Fetch-Site` must be
/// `same-origin` (or `none`: typed by the user), and an `Origin` must be this server's.
fn same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if let Some(external) = &state.config.external_url {
        let external = external.origin().ascii_serialization();
        if origin.eq_ignore_ascii_case(&external) {
            return true;
        }
    }
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

/// The page a refused form gets.
fn csrf_refused(signed: Option<&SignedIn>) -> Response {
    let e = Explained {
        status: StatusCode::FORBIDDEN,
        headline: "This form could not be accepted: it was sent from another site, or the page \
                   was open from an earlier session. Go back, reload the page and try again."
            .to_owned(),
        gitlab: "403 Forbidden".to_owned(),
    };
    html(
        StatusCode::FORBIDDEN,
        view::message_page("Form refused", signed, &e),
    )
}

/// Every change checks the origin and the session's CSRF token (form field or header): the
/// refusal page when they fail, `None` when the request may proceed.
pub fn csrf_refusal(
    headers: &HeaderMap,
    state: &AppState,
    signed: &SignedIn,
    form: &FormData,
) -> Option<Response> {
    let sent = match form.get(CSRF_FIELD) {
        "" => headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        v => v,
    };
    if same_origin(headers, state) && same_secret(sent, signed.csrf()) {
        None
    } else {
        Some(csrf_refused(Some(signed)))
    }
}

// ---- sign in and out ------------------------------------------------------------------------

/// GET /users/sign_in
pub async fn sign_in_form(State(state): State<AppState>, parts: Parts) -> Response {
    let q = FormData::from_query(parts.uri.query());
    let return_to = safe_return_to(q.get("return_to")).to_owned();
    // Already signed in: straight on.
    if let Ok(Found::Valid(_)) = find(&parts, &state).await {
        return redirect(&return_to);
    }
    let notice = reason_text(q.get("reason"));
    html(StatusCode::OK, view::sign_in(&return_to, notice, None))
}

/// The checks of a personal access token offered to the sign-in form, in the API's order
/// (unknown 401, expired 401, revoked 401, scope 403, user 403).
async fn check_token(
    parts: &Parts,
    state: &AppState,
    token: &str,
) -> ApiResult<(User, PersonalAccessToken)> {
    let secret = SecretToken::new(token);
    let (user, token) = crate::auth::caller::check_token(parts, state, &secret, |granted| {
        if has_ui_scope(granted) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope("api read_api".to_owned()))
        }
    })
    .await?;
    state
        .limits
        .authenticated(&parts.headers, &parts.extensions, user.id)?;
    Ok((user, token))
}

/// What the sign-in form says of a refused token.
fn sign_in_error(err: &ApiError) -> Explained {
    let mut e = explain::explain(err, Doing::Viewing, "");
    e.headline = match err {
        ApiError::Unauthorized => "This token is not valid. Check that you copied all of it: \
                                   personal access tokens start with glpat-."
            .to_owned(),
        ApiError::InvalidToken(d) if d.starts_with("Token is expired") => {
            "This token has expired. Create a new one and sign in with it.".to_owned()
        }
        ApiError::InvalidToken(_) => {
            "This token was revoked. Create a new one and sign in with it.".to_owned()
        }
        ApiError::InsufficientScope(_) => "This token cannot use the API: it needs the api \
                                           scope (or read_api, for a read-only view)."
            .to_owned(),
        ApiError::Forbidden(Some(reason)) => reason.clone(),
        _ => e.headline,
    };
    e
}

/// POST /users/sign_in
pub async fn sign_in(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    if !same_origin(&parts.headers, &state) {
        return csrf_refused(None);
    }
    let form = FormData::from_body(&body);
    let return_to = safe_return_to(form.get("return_to")).to_owned();
    let token = form.get("token");
    if token.is_empty() {
        let e = Explained {
            status: StatusCode::BAD_REQUEST,
            headline: "Enter a personal access token.".to_owned(),
            gitlab: "token is missing".to_owned(),
        };
        return html(e.status, view::sign_in(&return_to, None, Some(&e)));
    }
    // A refused token counts towards the ban of the client's address, as on the API.
    let checked =
        crate::auth::count_refusal(&state, &parts, check_token(&parts, &state, token).await);
    let (user, token) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            let e = sign_in_error(&e);
            return html(e.status, view::sign_in(&return_to, None, Some(&e)));
        }
    };
    let now = crate::service::now();
    let idle = std_to_chrono(state.config.ui.session_idle);
    // Sessions of the past are removed now and then: at each sign-in.
    if let Err(e) = state
        .store
        .delete_expired_web_sessions(now, now - idle)
        .await
    {
        tracing::warn!(error = %e, "could not remove expired web sessions");
    }
    let id = tokens::random_secret(SECRET_LEN);
    let session = WebSession {
        id_digest: state.tokens.digest(&id),
        user_id: user.id,
        token_id: token.id,
        csrf_token: tokens::random_secret(SECRET_LEN),
        created_at: now,
        last_seen_at: now,
        expires_at: now + std_to_chrono(state.config.ui.session_lifetime),
    };
    if let Err(e) = state.store.create_web_session(session).await {
        return error_page(None, &e.into());
    }
    with_cookie(redirect(&return_to), set_cookie(&state, &id))
}

/// POST /users/sign_out
pub async fn sign_out(State(state): State<AppState>, parts: Parts, body: Bytes) -> Response {
    let form = FormData::from_body(&body);
    match find(&parts, &state).await {
        Ok(Found::Valid(signed)) => {
            if let Some(refused) = csrf_refusal(&parts.headers, &state, &signed, &form) {
                return refused;
            }
            if let Err(e) = state
                .store
                .delete_web_session(&signed.session.id_digest)
                .await
            {
                return error_page(Some(&signed), &e.into());
            }
        }
        Ok(Found::None | Found::Ended(_)) => {}
        Err(e) => return error_page(None, &e),
    }
    with_cookie(
        redirect(&format!("{SIGN_IN}?reason=signed_out")),
        clear_cookie(&state),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; _jobscope_session=abc ; b=2"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, SECURE_COOKIE), None);
        assert!(has_session_cookie(&h));
        assert!(!has_session_cookie(&HeaderMap::new()));
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn sign_in_urls() {
        assert_eq!(sign_in_url(None, None), "/users/sign_in");
        assert_eq!(
            sign_in_url(Some("/a/b/-/settings/ci_cd?x=1&y"), Some(Ended::Expired)),
            "/users/sign_in?return_to=%2Fa%2Fb%2F-%2Fsettings%2Fci_cd%3Fx%3D1%26y&reason=expired"
        );
        assert!(reason_text("<script>").is_none());
    }
}
