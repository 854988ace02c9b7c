//! Personal access tokens: `/users/:id/personal_access_tokens` and `/personal_access_tokens`.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::PathParams;
use crate::auth::MaybeCaller;
use crate::auth::scopes::AVAILABLE_SCOPES;
use crate::entities::Entities;
use crate::error::{ApiError, ApiResult};
use crate::pagination;
use crate::params::{RequestParams, parse_int_str};
use crate::service::now;
use crate::service::tokens::{self, ListTokens, NewToken};
use crate::state::AppState;
use crate::urls::BaseUrl;

/// `:id` of `/personal_access_tokens/:id`: GitLab declares it an Integer.
fn token_id(raw: &str) -> ApiResult<i64> {
    match parse_int_str(raw) {
        Some(v) => Ok(v.value().unwrap_or(0)),
        None => Err(ApiError::param("id is invalid")),
    }
}

pub async fn create_for_user(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let name = check.required_string("name");
    let scopes = check.string_array("scopes", true);
    let description = check.optional_string("description");
    let expires_at = check.optional_date("expires_at");
    if let Some(s) = &scopes
        && s.iter().any(|x| !AVAILABLE_SCOPES.contains(&x.as_str()))
    {
        check.error("scopes does not have a valid value");
    }
    check.done()?;
    let new = NewToken {
        name: name.unwrap_or_default(),
        description,
        scopes: scopes.unwrap_or_default(),
        expires_at: expires_at.flatten(),
    };
    let issued = tokens::create_for_user(&state, &caller, path.get("id"), new).await?;
    let body =
        Entities::new(&base).token(&issued.token, now().date_naive(), Some(issued.plaintext));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    let user_id = check.optional_int("user_id");
    let revoked = check.optional_bool("revoked");
    let state_filter = check.optional_string_in("state", &["active", "inactive"]);
    let search = check.optional_string("search");
    check.done()?;
    let filter = ListTokens {
        user_id: user_id.map(|u| u.value().unwrap_or(0)),
        active: state_filter.map(|s| s == "active"),
        revoked,
        search,
    };
    let paged = tokens::list(&state, &caller, filter, page).await?;
    let entities = Entities::new(&base);
    let today = now().date_naive();
    let paged = paged.map(|t| entities.token(&t, today, None));
    Ok(pagination::respond(&base, &uri, page, paged))
}

pub async fn show_self(caller: MaybeCaller, base: BaseUrl) -> ApiResult<Response> {
    let caller = caller.require()?;
    Ok(Json(Entities::new(&base).token(&caller.token, now().date_naive(), None)).into_response())
}

pub async fn revoke_self(
    State(state): State<AppState>,
    caller: MaybeCaller,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    tokens::revoke(&state, &caller, caller.token.id.get()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn rotate_self(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let expires_at = check.optional_date("expires_at");
    check.done()?;
    let issued =
        tokens::rotate(&state, &caller, caller.token.id.get(), expires_at.flatten()).await?;
    let body =
        Entities::new(&base).token(&issued.token, now().date_naive(), Some(issued.plaintext));
    Ok(Json(body).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let id = token_id(path.get("id"))?;
    let token = tokens::show(&state, &caller, id).await?;
    Ok(Json(Entities::new(&base).token(&token, now().date_naive(), None)).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: MaybeCaller,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let id = token_id(path.get("id"))?;
    tokens::revoke(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn rotate(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let id = token_id(path.get("id"))?;
    let mut check = params.check();
    let expires_at = check.optional_date("expires_at");
    check.done()?;
    let issued = tokens::rotate(&state, &caller, id, expires_at.flatten()).await?;
    let body =
        Entities::new(&base).token(&issued.token, now().date_naive(), Some(issued.plaintext));
    Ok(Json(body).into_response())
}
