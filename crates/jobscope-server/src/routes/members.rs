//! `/projects/:id/members` and `/groups/:id/members` (direct and inherited).

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jobscope_store::{Member, MemberQuery};
use jobscope_types::{AccessLevel, UserId};

use super::PathParams;
use crate::access;
use crate::auth::MaybeCaller;
use crate::entities::Entities;
use crate::error::{ApiError, ApiResult};
use crate::pagination;
use crate::params::{Params, RequestParams, parse_int_str};
use crate::service::members::{self, Source};
use crate::state::AppState;
use crate::urls::BaseUrl;

const LEVELS: &[i64] = &[10, 15, 20, 30, 40, 50];

#[derive(Clone, Copy)]
enum Kind {
    Project,
    Group,
}

async fn source(
    state: &AppState,
    caller: &MaybeCaller,
    kind: Kind,
    raw: &str,
) -> ApiResult<Source> {
    Ok(match kind {
        Kind::Project => {
            Source::Project(access::find_project(state, caller.0.as_ref(), raw).await?)
        }
        Kind::Group => Source::Group(access::find_group(state, caller.0.as_ref(), raw).await?),
    })
}

fn user_id(raw: &str) -> ApiResult<i64> {
    match parse_int_str(raw) {
        Some(v) => Ok(v.value().unwrap_or(0)),
        None => Err(ApiError::param("user_id is invalid")),
    }
}

async fn render(
    state: &AppState,
    base: &BaseUrl,
    members: Vec<Member>,
) -> ApiResult<Vec<jobscope_types::api::Member>> {
    let creator_ids: Vec<UserId> = members.iter().filter_map(|m| m.created_by).collect();
    let creators = state.store.users_by_ids(&creator_ids).await?;
    let entities = Entities::new(base);
    Ok(members
        .iter()
        .map(|m| {
            let by = m
                .created_by
                .and_then(|id| creators.iter().find(|u| u.id == id));
            entities.member(m, by)
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn list(
    state: AppState,
    caller: MaybeCaller,
    base: BaseUrl,
    uri: Uri,
    path: PathParams,
    params: Params,
    kind: Kind,
    inherited: bool,
) -> ApiResult<Response> {
    let caller_required = caller.0.is_some();
    if !caller_required {
        return Err(ApiError::Unauthorized);
    }
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    let query = MemberQuery {
        query: check.optional_string("query"),
        user_ids: check.string_array("user_ids", false).map(|ids| {
            ids.iter()
                .filter_map(|i| i.parse().ok())
                .map(UserId)
                .collect()
        }),
    };
    check.done()?;
    let source = source(&state, &caller, kind, path.get("id")).await?;
    let paged = members::list(&state, &source, &query, inherited, page).await?;
    let items = render(&state, &base, paged.items).await?;
    Ok(pagination::respond(
        &base,
        &uri,
        page,
        jobscope_store::Paged {
            items,
            total: paged.total,
        },
    ))
}

async fn show(
    state: AppState,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    kind: Kind,
    inherited: bool,
) -> ApiResult<Response> {
    if caller.0.is_none() {
        return Err(ApiError::Unauthorized);
    }
    let uid = user_id(path.get("user_id"))?;
    let source = source(&state, &caller, kind, path.get("id")).await?;
    let member = members::show(&state, &source, uid, inherited).await?;
    let mut rendered = render(&state, &base, vec![member]).await?;
    Ok(Json(rendered.remove(0)).into_response())
}

async fn add(
    state: AppState,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    params: Params,
    kind: Kind,
) -> ApiResult<Response> {
    let caller_ = caller.0.as_ref().ok_or(ApiError::Unauthorized)?;
    let mut check = params.check();
    let level = check.required_int_in("access_level", LEVELS);
    let uid = check.optional_int("user_id");
    let username = check.optional_string("username");
    let expires_at = check.optional_date("expires_at");
    if uid.is_some() && username.is_some() {
        check.error("user_id, username are mutually exclusive");
    }
    if uid.is_none() && username.is_none() && !check.has_errors() {
        check.error("user_id, username are missing, exactly one parameter must be provided");
    }
    check.done()?;
    let source = source(&state, &caller, kind, path.get("id")).await?;
    let uid = match (uid, username) {
        (Some(u), _) => u.value().unwrap_or(0),
        (None, Some(name)) => state
            .store
            .user_by_username(&name)
            .await?
            .map(|u| u.id.get())
            .ok_or_else(|| ApiError::not_found("User"))?,
        (None, None) => return Err(ApiError::param("user_id is missing")),
    };
    let level = level
        .and_then(AccessLevel::from_value)
        .ok_or_else(|| ApiError::param("access_level does not have a valid value"))?;
    let member = members::add(&state, caller_, &source, uid, level, expires_at.flatten()).await?;
    let mut rendered = render(&state, &base, vec![member]).await?;
    Ok((StatusCode::CREATED, Json(rendered.remove(0))).into_response())
}

async fn update(
    state: AppState,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    params: Params,
    kind: Kind,
) -> ApiResult<Response> {
    let caller_ = caller.0.as_ref().ok_or(ApiError::Unauthorized)?;
    let mut check = params.check();
    let level = check.required_int_in("access_level", LEVELS);
    let expires_at = check.optional_date("expires_at");
    check.done()?;
    let uid = user_id(path.get("user_id"))?;
    let source = source(&state, &caller, kind, path.get("id")).await?;
    let level = level
        .and_then(AccessLevel::from_value)
        .ok_or_else(|| ApiError::param("access_level does not have a valid value"))?;
    let member = members::update(&state, caller_, &source, uid, level, expires_at).await?;
    let mut rendered = render(&state, &base, vec![member]).await?;
    Ok(Json(rendered.remove(0)).into_response())
}

async fn remove(
    state: AppState,
    caller: MaybeCaller,
    path: PathParams,
    kind: Kind,
) -> ApiResult<Response> {
    let caller_ = caller.0.as_ref().ok_or(ApiError::Unauthorized)?;
    let uid = user_id(path.get("user_id"))?;
    let source = source(&state, &caller, kind, path.get("id")).await?;
    members::remove(&state, caller_, &source, uid).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

macro_rules! handlers {
    ($kind:expr, $list:ident, $list_all:ident, $show:ident, $show_all:ident, $add:ident, $update:ident, $remove:ident) => {
        pub async fn $list(
            State(state): State<AppState>,
            caller: MaybeCaller,
            base: BaseUrl,
            OriginalUri(uri): OriginalUri,
            path: PathParams,
            RequestParams(params): RequestParams,
        ) -> ApiResult<Response> {
            list(state, caller, base, uri, path, params, $kind, false).await
        }

        pub async fn $list_all(
            State(state): State<AppState>,
            caller: MaybeCaller,
            base: BaseUrl,
            OriginalUri(uri): OriginalUri,
            path: PathParams,
            RequestParams(params): RequestParams,
        ) -> ApiResult<Response> {
            list(state, caller, base, uri, path, params, $kind, true).await
        }

        pub async fn $show(
            State(state): State<AppState>,
            caller: MaybeCaller,
            base: BaseUrl,
            path: PathParams,
        ) -> ApiResult<Response> {
            show(state, caller, base, path, $kind, false).await
        }

        pub async fn $show_all(
            State(state): State<AppState>,
            caller: MaybeCaller,
            base: BaseUrl,
            path: PathParams,
        ) -> ApiResult<Response> {
            show(state, caller, base, path, $kind, true).await
        }

        pub async fn $add(
            State(state): State<AppState>,
            caller: MaybeCaller,
            base: BaseUrl,
            path: PathParams,
            RequestParams(params): RequestParams,
        ) -> ApiResult<Response> {
            add(state, caller, base, path, params, $kind).await
        }

        pub async fn $update(
            State(state): State<AppState>,
            caller: MaybeCaller,
            base: BaseUrl,
            path: PathParams,
            RequestParams(params): RequestParams,
        ) -> ApiResult<Response> {
            update(state, caller, base, path, params, $kind).await
        }

        pub async fn $remove(
            State(state): State<AppState>,
            caller: MaybeCaller,
            path: PathParams,
        ) -> ApiResult<Response> {
            remove(state, caller, path, $kind).await
        }
    };
}

handlers!(
    Kind::Project,
    list_project,
    list_project_all,
    show_project,
    show_project_all,
    add_project,
    update_project,
    remove_project
);
handlers!(
    Kind::Group,
    list_group,
    list_group_all,
    show_group,
    show_group_all,
    add_group,
    update_group,
    remove_group
);
