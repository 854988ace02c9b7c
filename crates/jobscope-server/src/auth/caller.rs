//! The authentication extractor.

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::Duration;
use jobscope_store::{Membership, PersonalAccessToken, User, UserState};
use tokio::sync::OnceCell;

use crate::auth::scopes::RouteScopes;
use crate::auth::tokens::{PAT_PREFIX, SecretToken};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::urls::BaseUrl;

/// `last_used_at` is written at most this often per token (GitLab: 10 minutes).
const LAST_USED_INTERVAL: Duration = Duration::minutes(10);

/// An authenticated user and the token that authenticated them.
#[derive(Debug)]
pub struct Caller {
    pub user: User,
    pub token: PersonalAccessToken,
    memberships: OnceCell<Vec<Membership>>,
}

impl Caller {
    pub fn new(user: User, token: PersonalAccessToken) -> Self {
        Caller {
            user,
            token,
            memberships: OnceCell::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.admin
    }

    /// Forgets the loaded memberships (after the request itself changed them).
    pub fn reload_memberships(&mut self) {
        self.memberships = OnceCell::new();
    }

    /// The caller's direct memberships, loaded once per request.
    pub async fn memberships(&self, state: &AppState) -> ApiResult<&[Membership]> {
        let m = self
            .memberships
            .get_or_try_init(|| async { state.store.memberships_of(self.user.id).await })
            .await?;
        Ok(m)
    }
}

/// The caller, if the request carried credentials. Invalid credentials are refused here
/// (401/403), never treated as anonymous.
pub struct MaybeCaller(pub Option<Caller>);

impl MaybeCaller {
    /// The caller, or `401 Unauthorized`.
    pub fn require(self) -> ApiResult<Caller> {
        self.0.ok_or(ApiError::Unauthorized)
    }
}

/// Where the request's personal access token (or OAuth-style bearer token) is, in GitLab's
/// order of precedence. Job tokens are not credentials for these routes and are ignored.
pub fn find_token(parts: &Parts) -> Option<SecretToken> {
    let headers: &HeaderMap = &parts.headers;
    if let Some(v) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(SecretToken::new(v.trim()));
    }
    let query = parts.uri.query().unwrap_or("");
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(v) = param("private_token") {
        return Some(SecretToken::new(v));
    }
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut it = v.trim().splitn(2, ' ');
        let scheme = it.next().unwrap_or("");
        let rest = it.next().unwrap_or("").trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Some(SecretToken::new(rest));
        }
    }
    param("access_token").map(SecretToken::new)
}

fn sudo_identifier(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get("sudo").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    let query = parts.uri.query().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "sudo")
        .map(|(_, v)| v.into_owned())
}

pub(crate) fn user_state_denial(user: &User, base: &str) -> Option<String> {
    match user.state {
        UserState::Active => None,
        UserState::Blocked => Some("Your account has been blocked.".to_owned()),
        UserState::Deactivated => Some(format!(
            "Your account has been deactivated by your administrator. Please log back in from a web browser to reactivate your account at {base}"
        )),
    }
}

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Some(secret) = find_token(parts) else {
            if sudo_identifier(parts).is_some() {
                return Err(ApiError::Unauthorized);
            }
            return Ok(MaybeCaller(None));
        };
        let mut caller =
            super::count_refusal(state, parts, authenticate(parts, state, &secret).await)?;
        // Counted for the token's owner, whoever `Sudo` names.
        state
            .limits
            .authenticated(&parts.headers, &parts.extensions, caller.user.id)?;
        if let Some(who) = sudo_identifier(parts) {
            caller = sudo(state, caller, &who).await?;
        }
        Ok(MaybeCaller(Some(caller)))
    }
}

/// GitLab's checks of a personal access token, in GitLab's order (without `Sudo`).
async fn authenticate(parts: &Parts, state: &AppState, secret: &SecretToken) -> ApiResult<Caller> {
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let scopes = RouteScopes::for_route(&parts.method, route);
    let (user, mut token) = check_token(parts, state, secret, |granted| {
        if scopes.permits(granted) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scopes.registered()))
        }
    })
    .await?;
    let now = crate::service::now();
    if token
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_INTERVAL)
    {
        // Written in the background (see `authlog::TokenUses`); this request already
        // shows the new time.
        state.token_uses.record(token.id, now);
        token.last_used_at = Some(now);
    }
    Ok(Caller::new(user, token))
}

/// The checks every use of a personal access token goes through, in GitLab's order: its
/// shape (refused without a lookup, C1.13), unknown (401), expired (401), revoked (401),
/// `scopes` refusing the token's scopes (403 `insufficient_scope`), its user blocked or
/// deactivated (403). The API's extractor and the web UI's sign-in share them.
pub(crate) async fn check_token(
    parts: &Parts,
    state: &AppState,
    secret: &SecretToken,
    scopes: impl FnOnce(&[String]) -> ApiResult<()>,
) -> ApiResult<(User, PersonalAccessToken)> {
    if !secret.has_shape(PAT_PREFIX) {
        return Err(ApiError::Unauthorized);
    }
    let store = &state.store;
    let token = store
        .personal_access_token_by_digest(&secret.digest(&state.tokens))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let now = crate::service::now();
    if token.is_expired(now.date_naive()) {
        return Err(ApiError::InvalidToken(
            "Token is expired. You can either do re-authorization or token refresh.",
        ));
    }
    if token.revoked {
        return Err(ApiError::InvalidToken(
            "Token was revoked. You have to re-authorize from the user.",
        ));
    }
    scopes(&token.scopes)?;
    let user = store
        .user(token.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let base = BaseUrl::from_parts(parts, state);
    if let Some(reason) = user_state_denial(&user, base.as_str()) {
        return Err(ApiError::forbidden(reason));
    }
    Ok((user, token))
}

/// GitLab's `Sudo`: an administrator with a `sudo`-scoped token acts as another user.
async fn sudo(state: &AppState, caller: Caller, who: &str) -> ApiResult<Caller> {
    if !caller.user.admin {
        return Err(ApiError::forbidden("Must be admin to use sudo"));
    }
    if !caller.token.scopes.iter().any(|s| s == "sudo") {
        return Err(ApiError::InsufficientScope("sudo".to_owned()));
    }
    let target = match crate::params::parse_int_str(who) {
        Some(id) => match id.value() {
            Some(id) => state.store.user(jobscope_types::UserId(id)).await?,
            None => None,
        },
        None if who.contains('\0') => None,
        None => state.store.user_by_username(who).await?,
    };
    let Some(target) = target else {
        return Err(ApiError::not_found(format!(
            "User with ID or username '{who}'"
        )));
    };
    Ok(Caller::new(target, caller.token))
}
