//! Users: administrators create, change, block and delete them.

use axum::http::StatusCode;
use jobscope_store::{
    Conflict, Membership, NewUser, PageRequest, Paged, StoreError, User, UserPatch, UserQuery,
    UserState,
};
use jobscope_types::{AccessLevel, UserId};

use crate::access;
use crate::auth::Caller;
use crate::entities::UserView;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::validate;

#[derive(Debug, Default)]
pub struct CreateUser {
    pub username: String,
    pub email: String,
    pub name: String,
    pub password: Option<String>,
    pub admin: bool,
    pub external: bool,
    pub bot: bool,
    pub can_create_group: Option<bool>,
    pub projects_limit: Option<i64>,
}

fn conflict(c: Conflict) -> ApiError {
    match c {
        Conflict::Email => {
            ApiError::Message(StatusCode::CONFLICT, "Email has already been taken".into())
        }
        _ => ApiError::Message(
            StatusCode::CONFLICT,
            "Username has already been taken".into(),
        ),
    }
}

fn validate_fields(
    username: Option<&str>,
    email: Option<&str>,
    password: Option<&str>,
    projects_limit: Option<i64>,
) -> ApiResult<()> {
    let mut fields = Vec::new();
    if let Some(p) = password
        && p.chars().count() < 8
    {
        fields.push((
            "password".to_owned(),
            vec!["is too short (minimum is 8 characters)".to_owned()],
        ));
    }
    if let Some(e) = email
        && !validate::email(e)
    {
        fields.push(("email".to_owned(), vec!["is invalid".to_owned()]));
    }
    if let Some(limit) = projects_limit
        && limit < 0
    {
        fields.push((
            "projects_limit".to_owned(),
            vec!["must be greater than or equal to 0".to_owned()],
        ));
    }
    if let Some(u) = username {
        let errors = validate::namespace_path(u, true);
        if !errors.is_empty() {
            fields.push(("username".to_owned(), errors));
        }
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(fields))
    }
}

pub async fn create(state: &AppState, caller: &Caller, input: CreateUser) -> ApiResult<User> {
    access::require_admin(caller)?;
    validate_fields(
        Some(&input.username),
        Some(&input.email),
        input.password.as_deref(),
        input.projects_limit,
    )?;
    let settings = state.store.instance_settings().await?;
    let new = NewUser {
        username: input.username,
        email: input.email,
        name: input.name,
        admin: input.admin,
        external: input.external,
        bot: input.bot,
        can_create_group: input.can_create_group.unwrap_or(true),
        projects_limit: input
            .projects_limit
            .unwrap_or(settings.default_projects_limit),
        created_at: super::now(),
    };
    state.store.create_user(new).await.map_err(|e| match e {
        StoreError::Conflict(c) => conflict(c),
        other => other.into(),
    })
}

/// `:id` of `/users/:id` routes: digits only, or the route does not exist (GitLab's
/// requirement); then the user, or `404 User Not Found`.
pub async fn find(state: &AppState, raw_id: &str) -> ApiResult<User> {
    if raw_id.is_empty() || !raw_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::RouteNotFound);
    }
    let user = match raw_id.parse::<i64>() {
        Ok(id) => state.store.user(UserId(id)).await?,
        Err(_) => None,
    };
    user.ok_or_else(|| ApiError::not_found("User"))
}

pub async fn show(
    state: &AppState,
    caller: Option<&Caller>,
    raw_id: &str,
) -> ApiResult<(User, UserView)> {
    let Some(caller) = caller else {
        return Err(ApiError::forbidden("Not authorized!"));
    };
    let user = find(state, raw_id).await?;
    let view = if caller.is_admin() {
        UserView::Admin
    } else {
        UserView::Profile
    };
    Ok((user, view))
}

pub async fn list(
    state: &AppState,
    caller: Option<&Caller>,
    mut query: UserQuery,
    page: PageRequest,
) -> ApiResult<(Paged<User>, UserView)> {
    let view = match caller {
        Some(c) if c.is_admin() => UserView::Admin,
        Some(_) => UserView::Basic,
        None => {
            if query.username.is_none() {
                return Err(ApiError::forbidden(
                    "Not authorized to access /api/v4/users",
                ));
            }
            UserView::Basic
        }
    };
    if view != UserView::Admin {
        // Only administrators may filter on these.
        query.admins = None;
    }
    Ok((state.store.list_users(&query, page).await?, view))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    patch: UserPatch,
    password: Option<String>,
) -> ApiResult<User> {
    access::require_admin(caller)?;
    let user = find(state, raw_id).await?;
    validate_fields(
        patch.username.as_deref(),
        patch.email.as_deref(),
        password.as_deref(),
        patch.projects_limit,
    )?;
    state
        .store
        .update_user(user.id, patch)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(c) => conflict(c),
            StoreError::NotFound => ApiError::not_found("User"),
            other => other.into(),
        })
}

/// The answer of block/unblock/deactivate/activate: GitLab sends `true`, `false` or `null`.
pub type StateChange = Option<bool>;

pub async fn block(state: &AppState, caller: &Caller, raw_id: &str) -> ApiResult<StateChange> {
    access::require_admin(caller)?;
    let user = find(state, raw_id).await?;
    if user.id == caller.user.id {
        return Err(ApiError::forbidden(
            "The API initiating user cannot be blocked by the API",
        ));
    }
    if user.state == UserState::Blocked {
        return Ok(None);
    }
    state
        .store
        .set_user_state(user.id, UserState::Blocked)
        .await?;
    // A blocked user's running jobs end now, and with them their job tokens.
    state
        .store
        .cancel_running_jobs_of(user.id, super::now())
        .await?;
    Ok(Some(true))
}

pub async fn unblock(state: &AppState, caller: &Caller, raw_id: &str) -> ApiResult<StateChange> {
    access::require_admin(caller)?;
    let user = find(state, raw_id).await?;
    match user.state {
        UserState::Deactivated => Err(ApiError::forbidden(
            "Deactivated users cannot be unblocked by the API",
        )),
        UserState::Active => Ok(Some(false)),
        UserState::Blocked => {
            state
                .store
                .set_user_state(user.id, UserState::Active)
                .await?;
            Ok(Some(true))
        }
    }
}

pub async fn deactivate(state: &AppState, caller: &Caller, raw_id: &str) -> ApiResult<StateChange> {
    access::require_admin(caller)?;
    let user = find(state, raw_id).await?;
    match user.state {
        UserState::Deactivated => Ok(None),
        UserState::Blocked => Err(ApiError::Message(
            StatusCode::FORBIDDEN,
            "Error occurred. A blocked user cannot be deactivated".into(),
        )),
        UserState::Active => {
            state
                .store
                .set_user_state(user.id, UserState::Deactivated)
                .await?;
            state
                .store
                .cancel_running_jobs_of(user.id, super::now())
                .await?;
            Ok(Some(true))
        }
    }
}

pub async fn activate(state: &AppState, caller: &Caller, raw_id: &str) -> ApiResult<StateChange> {
    access::require_admin(caller)?;
    let user = find(state, raw_id).await?;
    match user.state {
        UserState::Active => Ok(None),
        UserState::Blocked => Err(ApiError::Message(
            StatusCode::FORBIDDEN,
            "Error occurred. A blocked user must be unblocked to be activated".into(),
        )),
        UserState::Deactivated => {
            state
                .store
                .set_user_state(user.id, UserState::Active)
                .await?;
            Ok(Some(true))
        }
    }
}

pub async fn delete(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    hard_delete: bool,
) -> ApiResult<()> {
    access::require_admin(caller)?;
    let user = find(state, raw_id).await?;
    if !hard_delete {
        for m in state.store.memberships_of(user.id).await? {
            if let Membership::Namespace { id, level, .. } = m
                && level == AccessLevel::Owner
                && state.store.count_namespace_owners(id).await? <= 1
            {
                return Err(ApiError::Message(
                    StatusCode::CONFLICT,
                    "User cannot be removed while is the sole-owner of a group".into(),
                ));
            }
        }
    }
    state.store.delete_user(user.id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("User"),
        other => other.into(),
    })
}
