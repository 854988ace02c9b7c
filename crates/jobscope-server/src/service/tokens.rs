//! Personal access tokens.

use chrono::{Days, NaiveDate};
use jobscope_store::{
    NewPersonalAccessToken, PageRequest, Paged, PersonalAccessToken, StoreError, TokenQuery,
};
use jobscope_types::{TokenId, UserId};

use crate::access;
use crate::auth::Caller;
use crate::auth::tokens::new_personal_access_token;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A token just made, with its plaintext (shown once).
pub struct IssuedToken {
    pub token: PersonalAccessToken,
    pub plaintext: String,
}

/// Applies the instance's maximum lifetime: the default expiry, and the latest one allowed.
async fn check_expiry(
    state: &AppState,
    requested: Option<NaiveDate>,
    today: NaiveDate,
) -> ApiResult<Option<NaiveDate>> {
    let settings = state.store.instance_settings().await?;
    let Some(days) = settings.max_personal_access_token_lifetime else {
        return Ok(requested);
    };
    let max = today
        .checked_add_days(Days::new(days.unsigned_abs()))
        .unwrap_or(NaiveDate::MAX);
    match requested {
        None => Ok(Some(max)),
        Some(d) if d > max => Err(ApiError::Message(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            format!("Expires at must be before {max}"),
        )),
        Some(d) => Ok(Some(d)),
    }
}

pub struct NewToken {
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<NaiveDate>,
}

/// Issues a token for any user (administrators only).
pub async fn create_for_user(
    state: &AppState,
    caller: &Caller,
    user_raw_id: &str,
    new: NewToken,
) -> ApiResult<IssuedToken> {
    access::require_admin(caller)?;
    let user = super::users::find(state, user_raw_id).await?;
    issue(state, user.id, new).await
}

/// Issues a token (no authorization: for the caller's own use and for bootstrap).
pub async fn issue(state: &AppState, user: UserId, new: NewToken) -> ApiResult<IssuedToken> {
    if new.name.trim().is_empty() {
        return Err(ApiError::Message(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "Name can't be blank".into(),
        ));
    }
    if new.scopes.is_empty() {
        return Err(ApiError::Message(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "Scopes can't be blank".into(),
        ));
    }
    let now = super::now();
    let expires_at = check_expiry(state, new.expires_at, now.date_naive()).await?;
    let plaintext = new_personal_access_token(user);
    let token = state
        .store
        .create_personal_access_token(NewPersonalAccessToken {
            user_id: user,
            name: new.name,
            description: new.description,
            scopes: new.scopes,
            expires_at,
            token_digest: state.tokens.digest(&plaintext),
            created_at: now,
        })
        .await?;
    Ok(IssuedToken { token, plaintext })
}

/// May the caller see or manage this token? Its owner and administrators may.
fn may_manage(caller: &Caller, token: &PersonalAccessToken) -> bool {
    caller.is_admin() || token.user_id == caller.user.id
}

/// GET /personal_access_tokens/:id — GitLab answers 404 to administrators and 401 to others
/// when the token is not theirs to see (or does not exist).
pub async fn show(state: &AppState, caller: &Caller, id: i64) -> ApiResult<PersonalAccessToken> {
    state.token_uses.flush().await?;
    let token = state.store.personal_access_token(TokenId(id)).await?;
    match token {
        Some(t) if may_manage(caller, &t) => Ok(t),
        _ if caller.is_admin() => Err(ApiError::plain_not_found()),
        _ => Err(ApiError::Unauthorized),
    }
}

pub struct ListTokens {
    pub user_id: Option<i64>,
    pub active: Option<bool>,
    pub revoked: Option<bool>,
    pub search: Option<String>,
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: ListTokens,
    page: PageRequest,
) -> ApiResult<Paged<PersonalAccessToken>> {
    // This process's recorded uses first, so that `last_used_at` is never behind them.
    state.token_uses.flush().await?;
    let user_id = match filter.user_id {
        Some(id) if caller.is_admin() => {
            if state.store.user(UserId(id)).await?.is_none() {
                return Err(ApiError::plain_not_found());
            }
            Some(UserId(id))
        }
        Some(id) if id != caller.user.id.get() => return Err(ApiError::Unauthorized),
        Some(id) => Some(UserId(id)),
        None if caller.is_admin() => None,
        None => Some(caller.user.id),
    };
    let today = super::now().date_naive();
    let query = TokenQuery {
        user_id,
        active: filter.active.map(|a| (a, today)),
        revoked: filter.revoked,
        search: filter.search,
    };
    Ok(state
        .store
        .list_personal_access_tokens(&query, page)
        .await?)
}

/// DELETE /personal_access_tokens/:id: revokes it.
pub async fn revoke(state: &AppState, caller: &Caller, id: i64) -> ApiResult<()> {
    let token = state
        .store
        .personal_access_token(TokenId(id))
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    if !may_manage(caller, &token) {
        return Err(ApiError::BadRequest(None));
    }
    state
        .store
        .revoke_personal_access_token(token.id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::RecordNotFound,
            other => other.into(),
        })?;
    Ok(())
}

/// Revokes `token` and issues a replacement with the same name, description and scopes,
/// expiring on `expires_at` or, as on GitLab, a week from today.
pub async fn rotate(
    state: &AppState,
    caller: &Caller,
    id: i64,
    expires_at: Option<NaiveDate>,
) -> ApiResult<IssuedToken> {
    let token = state.store.personal_access_token(TokenId(id)).await?;
    let token = match token {
        Some(t) if may_manage(caller, &t) => t,
        _ if caller.is_admin() => {
            return Err(ApiError::plain_not_found());
        }
        _ => return Err(ApiError::Unauthorized),
    };
    let now = super::now();
    let today = now.date_naive();
    if token.revoked {
        return Err(ApiError::bad_request("Token already revoked"));
    }
    let expires_at = match expires_at {
        Some(requested) => check_expiry(state, Some(requested), today).await?,
        // GitLab's default: a week from today, or sooner when the instance's maximum
        // lifetime is shorter.
        None => {
            let week = today
                .checked_add_days(Days::new(7))
                .unwrap_or(NaiveDate::MAX);
            let max = check_expiry(state, None, today).await?;
            Some(max.map_or(week, |max| max.min(week)))
        }
    };
    let plaintext = new_personal_access_token(token.user_id);
    let new = NewPersonalAccessToken {
        user_id: token.user_id,
        name: token.name.clone(),
        description: token.description.clone(),
        scopes: token.scopes.clone(),
        expires_at,
        token_digest: state.tokens.digest(&plaintext),
        created_at: now,
    };
    let rotated = state
        .store
        .rotate_personal_access_token(token.id, new, today)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::bad_request("Token already revoked"),
            other => other.into(),
        })?;
    Ok(IssuedToken {
        token: rotated,
        plaintext,
    })
}
