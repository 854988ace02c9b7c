//! `/projects`.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jobscope_store::{ProjectOrder, ProjectQuery, SortDirection, Viewer};
use jobscope_types::{AccessLevel, Visibility};
use serde_json::json;

use super::PathParams;
use crate::access;
use crate::auth::MaybeCaller;
use crate::entities::Entities;
use crate::error::ApiResult;
use crate::pagination;
use crate::params::{Params, RequestParams};
use crate::service::projects::{self, CreateProject};
use crate::service::users;
use crate::state::AppState;
use crate::urls::BaseUrl;

const VISIBILITIES: &[&str] = &["private", "internal", "public"];

fn create_input(params: &Params, require_name: bool) -> ApiResult<CreateProject> {
    let mut check = params.check();
    let name = if require_name {
        check.required_string("name")
    } else {
        check.optional_string("name")
    };
    let path = check.optional_string("path");
    let namespace_id = check.optional_int("namespace_id");
    let description = check.optional_string("description");
    let visibility = check
        .optional_string_in("visibility", VISIBILITIES)
        .and_then(|v| Visibility::parse(&v));
    let default_branch = check.optional_string("default_branch");
    let topics = check.string_array("topics", false).unwrap_or_default();
    if !require_name && name.is_none() && path.is_none() {
        check.error("name, path are missing, at least one parameter must be provided");
    }
    check.done()?;
    Ok(CreateProject {
        name,
        path,
        namespace_id: namespace_id.map(|n| n.value().unwrap_or(0)),
        description,
        visibility,
        default_branch,
        topics,
    })
}

pub async fn create(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let mut caller = caller.require()?;
    let input = create_input(&params, false)?;
    let owner = caller.user.clone();
    let project = projects::create(&state, &caller, &owner, input).await?;
    caller.reload_memberships();
    let entities = Entities::new(&base);
    let body = projects::entity(&state, Some(&caller), &entities, &project).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn create_for_user(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let mut caller = caller.require()?;
    access::require_admin(&caller)?;
    let input = create_input(&params, true)?;
    let owner = users::find(&state, path.get("user_id")).await?;
    let project = projects::create(&state, &caller, &owner, input).await?;
    caller.reload_memberships();
    let entities = Entities::new(&base);
    let body = projects::entity(&state, Some(&caller), &entities, &project).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
) -> ApiResult<Response> {
    let project = access::find_project(&state, caller.0.as_ref(), path.get("id")).await?;
    let entities = Entities::new(&base);
    let body = projects::entity(&state, caller.0.as_ref(), &entities, &project).await?;
    Ok(Json(body).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    let mut query = ProjectQuery::new(Viewer::Anonymous);
    query.search = check.optional_string("search");
    query.visibility = check
        .optional_string_in("visibility", VISIBILITIES)
        .and_then(|v| Visibility::parse(&v));
    query.min_access = check
        .optional_int_in("min_access_level", &[10, 15, 20, 30, 40, 50])
        .and_then(AccessLevel::from_value)
        .map(|l| (jobscope_types::UserId(0), l));
    query.order_by = match check
        .optional_string_in(
            "order_by",
            &[
                "id",
                "name",
                "path",
                "created_at",
                "updated_at",
                "last_activity_at",
                "similarity",
                "star_count",
            ],
        )
        .as_deref()
    {
        Some("name") => ProjectOrder::Name,
        Some("path") => ProjectOrder::Path,
        Some("updated_at" | "last_activity_at") => ProjectOrder::LastActivityAt,
        Some("id") => ProjectOrder::Id,
        _ => ProjectOrder::CreatedAt,
    };
    query.sort = match check
        .optional_string_in("sort", &["asc", "desc"])
        .as_deref()
    {
        Some("asc") => SortDirection::Asc,
        _ => SortDirection::Desc,
    };
    let membership = check.optional_bool("membership").unwrap_or(false);
    let owned = check.optional_bool("owned").unwrap_or(false);
    let simple = check.optional_bool("simple").unwrap_or(false);
    check.done()?;
    let paged = projects::list(&state, caller.0.as_ref(), query, membership, owned, page).await?;
    respond_list(&state, &caller, &base, &uri, page, paged, simple).await
}

/// A page of projects as GitLab lists them: the full Project entity, or the basic one for
/// `simple=true` and for anonymous callers.
pub(super) async fn respond_list(
    state: &AppState,
    caller: &MaybeCaller,
    base: &BaseUrl,
    uri: &axum::http::Uri,
    page: jobscope_store::PageRequest,
    paged: jobscope_store::Paged<jobscope_store::Project>,
    simple: bool,
) -> ApiResult<Response> {
    let entities = Entities::new(base);
    if simple || caller.0.is_none() {
        return Ok(pagination::respond(
            base,
            uri,
            page,
            paged.map(|p| entities.basic_project(&p)),
        ));
    }
    let mut items = Vec::with_capacity(paged.items.len());
    for p in &paged.items {
        items.push(projects::entity(state, caller.0.as_ref(), &entities, p).await?);
    }
    Ok(pagination::respond(
        base,
        uri,
        page,
        jobscope_store::Paged {
            items,
            total: paged.total,
        },
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: MaybeCaller,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let project = access::find_project(&state, Some(&caller), path.get("id")).await?;
    projects::delete(&state, &caller, &project).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "202 Accepted"})),
    )
        .into_response())
}
