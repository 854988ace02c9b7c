//! `/users` (administration of users).

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jobscope_store::{UserPatch, UserQuery, UserState};

use super::{PathParams, json_literal};
use crate::auth::MaybeCaller;
use crate::entities::{Entities, UserView};
use crate::error::ApiResult;
use crate::pagination;
use crate::params::{Int, RequestParams};
use crate::service::users::{self, CreateUser};
use crate::state::AppState;
use crate::urls::BaseUrl;

pub async fn list(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    let username = check.optional_string("username");
    let search = check.optional_string("search");
    let active = check.optional_bool("active");
    let blocked = check.optional_bool("blocked");
    let external = check.optional_bool("external");
    let admins = check.optional_bool("admins");
    check.done()?;
    let state_filter = if blocked == Some(true) {
        Some(UserState::Blocked)
    } else if active == Some(true) {
        Some(UserState::Active)
    } else {
        None
    };
    let query = UserQuery {
        username,
        search,
        state: state_filter,
        external: external.filter(|e| *e),
        admins: admins.filter(|a| *a),
    };
    let (paged, view) = users::list(&state, caller.0.as_ref(), query, page).await?;
    let entities = Entities::new(&base);
    let paged = paged.map(|u| entities.user(&u, view));
    Ok(pagination::respond(&base, &uri, page, paged))
}

pub async fn create(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let email = check.required_string("email");
    let name = check.required_string("name");
    let username = check.required_string("username");
    let password = check.optional_string("password");
    let reset_password = check.optional_bool("reset_password");
    let force_random = check.optional_bool("force_random_password");
    let admin = check.optional_bool("admin");
    let external = check.optional_bool("external");
    let can_create_group = check.optional_bool("can_create_group");
    let projects_limit = check.optional_int("projects_limit");
    let _ = check.optional_bool("skip_confirmation");
    if password.is_none() && reset_password.is_none() && force_random.is_none() {
        check.error(
            "password, reset_password, force_random_password are missing, at least one parameter must be provided",
        );
    }
    check.done()?;
    let input = CreateUser {
        username: username.unwrap_or_default(),
        email: email.unwrap_or_default(),
        name: name.unwrap_or_default(),
        password,
        admin: admin.unwrap_or(false),
        external: external.unwrap_or(false),
        bot: false,
        can_create_group,
        projects_limit: projects_limit.map(Int::saturating),
    };
    let user = users::create(&state, &caller, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(Entities::new(&base).user(&user, UserView::Admin)),
    )
        .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
) -> ApiResult<Response> {
    let (user, view) = users::show(&state, caller.0.as_ref(), path.get("id")).await?;
    Ok(Json(Entities::new(&base).user(&user, view)).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let patch = UserPatch {
        name: check.optional_string("name"),
        email: check.optional_string("email"),
        username: check.optional_string("username"),
        admin: check.optional_bool("admin"),
        external: check.optional_bool("external"),
        can_create_group: check.optional_bool("can_create_group"),
        projects_limit: check.optional_int("projects_limit").map(Int::saturating),
    };
    let password = check.optional_string("password");
    check.done()?;
    let user = users::update(&state, &caller, path.get("id"), patch, password).await?;
    Ok(Json(Entities::new(&base).user(&user, UserView::Admin)).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    caller: MaybeCaller,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let hard_delete = check.optional_bool("hard_delete").unwrap_or(false);
    check.done()?;
    users::delete(&state, &caller, path.get("id"), hard_delete).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

macro_rules! state_change {
    ($name:ident) => {
        pub async fn $name(
            State(state): State<AppState>,
            caller: MaybeCaller,
            path: PathParams,
        ) -> ApiResult<Response> {
            let caller = caller.require()?;
            let result = users::$name(&state, &caller, path.get("id")).await?;
            Ok(json_literal(StatusCode::CREATED, result))
        }
    };
}

state_change!(block);
state_change!(unblock);
state_change!(deactivate);
state_change!(activate);
