//! `/groups`.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jobscope_store::{GroupOrder, GroupQuery, PageRequest, SortDirection, Viewer};
use jobscope_types::{AccessLevel, Visibility};
use serde_json::json;

use super::PathParams;
use crate::access;
use crate::auth::MaybeCaller;
use crate::entities::Entities;
use crate::error::ApiResult;
use crate::pagination;
use crate::params::{Check, RequestParams};
use crate::service::groups::{self, CreateGroup};
use crate::state::AppState;
use crate::urls::BaseUrl;

const VISIBILITIES: &[&str] = &["private", "internal", "public"];
const LEVELS: &[i64] = &[10, 15, 20, 30, 40, 50];

fn list_query(check: &mut Check<'_>) -> (GroupQuery, Option<bool>, bool) {
    let mut q = GroupQuery::new(Viewer::Anonymous);
    q.search = check.optional_string("search");
    q.top_level_only = check.optional_bool("top_level_only").unwrap_or(false);
    q.visibility = check
        .optional_string_in("visibility", VISIBILITIES)
        .and_then(|v| Visibility::parse(&v));
    q.min_access = check
        .optional_int_in("min_access_level", LEVELS)
        .and_then(AccessLevel::from_value)
        .map(|l| (jobscope_types::UserId(0), l));
    q.order_by = match check
        .optional_string_in("order_by", &["name", "path", "id", "similarity"])
        .as_deref()
    {
        Some("path") => GroupOrder::Path,
        Some("id") => GroupOrder::Id,
        _ => GroupOrder::Name,
    };
    q.sort = match check
        .optional_string_in("sort", &["asc", "desc"])
        .as_deref()
    {
        Some("desc") => SortDirection::Desc,
        _ => SortDirection::Asc,
    };
    let all_available = check.optional_bool("all_available");
    let owned = check.optional_bool("owned").unwrap_or(false);
    (q, all_available, owned)
}

async fn respond_groups(
    state: &AppState,
    caller: MaybeCaller,
    base: &BaseUrl,
    uri: &axum::http::Uri,
    params: &crate::params::Params,
    scope: impl FnOnce(&mut GroupQuery),
) -> ApiResult<Response> {
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    let (mut query, all_available, owned) = list_query(&mut check);
    check.done()?;
    scope(&mut query);
    let paged = groups::list(state, caller.0.as_ref(), query, all_available, owned, page).await?;
    let entities = Entities::new(base);
    Ok(pagination::respond(
        base,
        uri,
        page,
        paged.map(|g| entities.group(&g, None)),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    respond_groups(&state, caller, &base, &uri, &params, |_| {}).await
}

pub async fn subgroups(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let parent = access::find_group(&state, caller.0.as_ref(), path.get("id")).await?;
    respond_groups(&state, caller, &base, &uri, &params, |q| {
        q.parent = Some(parent.id);
    })
    .await
}

pub async fn descendant_groups(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let parent = access::find_group(&state, caller.0.as_ref(), path.get("id")).await?;
    respond_groups(&state, caller, &base, &uri, &params, |q| {
        q.descendants_of = Some(parent.id);
    })
    .await
}

pub async fn create(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let name = check.required_string("name");
    let path = check.required_string("path");
    let parent_id = if params.contains("parent_id") {
        Some(
            check
                .optional_int("parent_id")
                .map(|v| v.value().unwrap_or(0)),
        )
    } else {
        None
    };
    let visibility = check
        .optional_string_in("visibility", VISIBILITIES)
        .and_then(|v| Visibility::parse(&v));
    let description = check.optional_string("description");
    check.done()?;
    let group = groups::create(
        &state,
        &caller,
        CreateGroup {
            name: name.unwrap_or_default(),
            path: path.unwrap_or_default(),
            parent_id,
            visibility,
            description,
        },
    )
    .await?;
    let body = Entities::new(&base).group(&group, Some(Vec::new()));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let mut check = params.check();
    let with_projects = check.optional_bool("with_projects").unwrap_or(true);
    check.done()?;
    let group = access::find_group(&state, caller.0.as_ref(), path.get("id")).await?;
    let entities = Entities::new(&base);
    let projects = if with_projects {
        let list = groups::projects_of(
            &state,
            caller.0.as_ref(),
            &group,
            false,
            PageRequest::new(1, 100),
        )
        .await?;
        Some(
            list.items
                .iter()
                .map(|p| entities.basic_project(p))
                .collect(),
        )
    } else {
        Some(Vec::new())
    };
    Ok(Json(entities.group(&group, projects)).into_response())
}

pub async fn projects(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    let include_subgroups = check.optional_bool("include_subgroups").unwrap_or(false);
    let simple = check.optional_bool("simple").unwrap_or(false);
    check.done()?;
    let group = access::find_group(&state, caller.0.as_ref(), path.get("id")).await?;
    let paged =
        groups::projects_of(&state, caller.0.as_ref(), &group, include_subgroups, page).await?;
    super::projects::respond_list(&state, &caller, &base, &uri, page, paged, simple).await
}

pub async fn delete(
    State(state): State<AppState>,
    caller: MaybeCaller,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let group = access::find_group(&state, Some(&caller), path.get("id")).await?;
    groups::delete(&state, &caller, &group).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "202 Accepted"})),
    )
        .into_response())
}
