//! Project and group members.

use axum::http::StatusCode;
use chrono::NaiveDate;
use jobscope_store::{
    Member, MemberQuery, MemberSource, Membership, Namespace, NewMember, PageRequest, Paged,
    Project, StoreError, User,
};
use jobscope_types::{AccessLevel, NamespaceId, UserId};

use crate::access;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What the members belong to; already resolved and readable by the caller.
pub enum Source {
    Project(Project),
    Group(Namespace),
}

impl Source {
    fn member_source(&self) -> MemberSource {
        match self {
            Source::Project(p) => MemberSource::Project(p.id),
            Source::Group(g) => MemberSource::Namespace(g.id),
        }
    }

    /// The source and every ancestor it inherits members from, nearest first.
    fn inheritance_chain(&self) -> Vec<MemberSource> {
        match self {
            Source::Project(p) => std::iter::once(MemberSource::Project(p.id))
                .chain(
                    p.namespace
                        .self_and_ancestor_ids()
                        .filter(|_| p.namespace.is_group())
                        .map(MemberSource::Namespace),
                )
                .collect(),
            Source::Group(g) => g
                .self_and_ancestor_ids()
                .map(MemberSource::Namespace)
                .collect(),
        }
    }

    /// Groups above whose memberships a direct membership may not undercut.
    fn inherited_from(&self) -> Vec<NamespaceId> {
        match self {
            Source::Project(p) if p.namespace.is_group() => p.namespace.traversal_ids.clone(),
            Source::Project(_) => Vec::new(),
            Source::Group(g) => g.ancestor_ids_nearest_first().collect(),
        }
    }
}

/// The caller's role where it counts for managing members.
async fn caller_level(
    state: &AppState,
    caller: &Caller,
    source: &Source,
) -> ApiResult<Option<AccessLevel>> {
    match source {
        Source::Project(p) => access::project_level(state, caller, p).await,
        Source::Group(g) => access::group_level(state, caller, g).await,
    }
}

/// Projects need Maintainer to manage members (Owner for owners); groups need Owner.
async fn require_manage(
    state: &AppState,
    caller: &Caller,
    source: &Source,
    touches_owner: bool,
) -> ApiResult<()> {
    let level = caller_level(state, caller, source).await?;
    let needed = match source {
        Source::Project(_) if touches_owner => AccessLevel::Owner,
        Source::Project(_) => AccessLevel::Maintainer,
        Source::Group(_) => AccessLevel::Owner,
    };
    if level >= Some(needed) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(None))
    }
}

pub async fn list(
    state: &AppState,
    source: &Source,
    query: &MemberQuery,
    inherited: bool,
    page: PageRequest,
) -> ApiResult<Paged<Member>> {
    Ok(if inherited {
        state
            .store
            .list_members_of_any(&source.inheritance_chain(), query, page)
            .await?
    } else {
        state
            .store
            .list_members(source.member_source(), query, page)
            .await?
    })
}

pub async fn show(
    state: &AppState,
    source: &Source,
    user_id: i64,
    inherited: bool,
) -> ApiResult<Member> {
    let query = MemberQuery {
        query: None,
        user_ids: Some(vec![UserId(user_id)]),
    };
    let found = if inherited {
        state
            .store
            .list_members_of_any(&source.inheritance_chain(), &query, PageRequest::new(1, 1))
            .await?
            .items
            .into_iter()
            .next()
    } else {
        state
            .store
            .member(source.member_source(), UserId(user_id))
            .await?
    };
    found.ok_or(ApiError::RecordNotFound)
}

/// Refuses a direct role below one the user inherits from a group above.
async fn check_not_below_inherited(
    state: &AppState,
    source: &Source,
    user: UserId,
    level: AccessLevel,
) -> ApiResult<()> {
    let above = source.inherited_from();
    if above.is_empty() {
        return Ok(());
    }
    let mut best: Option<(AccessLevel, NamespaceId)> = None;
    for m in state.store.memberships_of(user).await? {
        if let Membership::Namespace { id, level: l, .. } = m
            && above.contains(&id)
            && best.is_none_or(|(b, _)| l > b)
        {
            best = Some((l, id));
        }
    }
    if let Some((inherited, group_id)) = best
        && level < inherited
    {
        let name = state
            .store
            .namespace(group_id)
            .await?
            .map(|g| g.name)
            .unwrap_or_default();
        return Err(ApiError::validation(
            "access_level",
            format!(
                "should be greater than or equal to {inherited} inherited membership from group {name}"
            ),
        ));
    }
    Ok(())
}

/// Would removing or demoting this owner leave the group (with its ancestors) without one?
async fn is_last_owner(state: &AppState, source: &Source, member: &Member) -> ApiResult<bool> {
    let Source::Group(g) = source else {
        return Ok(false);
    };
    if member.access_level != AccessLevel::Owner {
        return Ok(false);
    }
    let mut owners = 0;
    for id in g.self_and_ancestor_ids() {
        owners += state.store.count_namespace_owners(id).await?;
    }
    Ok(owners <= 1)
}

pub async fn add(
    state: &AppState,
    caller: &Caller,
    source: &Source,
    user_id: i64,
    level: AccessLevel,
    expires_at: Option<NaiveDate>,
) -> ApiResult<Member> {
    let user: User = state
        .store
        .user(UserId(user_id))
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    if state
        .store
        .member(source.member_source(), user.id)
        .await?
        .is_some()
    {
        return Err(ApiError::Message(
            StatusCode::CONFLICT,
            "Member already exists".into(),
        ));
    }
    require_manage(state, caller, source, level == AccessLevel::Owner).await?;
    check_expiry(expires_at)?;
    check_not_below_inherited(state, source, user.id, level).await?;
    let new = NewMember {
        source: source.member_source(),
        user_id: user.id,
        access_level: level,
        expires_at,
        created_by: Some(caller.user.id),
        created_at: super::now(),
    };
    state.store.add_member(new).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ApiError::Message(StatusCode::CONFLICT, "Member already exists".into())
        }
        other => other.into(),
    })
}

fn check_expiry(expires_at: Option<NaiveDate>) -> ApiResult<()> {
    if let Some(d) = expires_at
        && d < super::now().date_naive()
    {
        return Err(ApiError::validation(
            "expires_at",
            "cannot be a date in the past",
        ));
    }
    Ok(())
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    source: &Source,
    user_id: i64,
    level: AccessLevel,
    expires_at: Option<Option<NaiveDate>>,
) -> ApiResult<Member> {
    let member = state
        .store
        .member(source.member_source(), UserId(user_id))
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    let touches_owner = level == AccessLevel::Owner || member.access_level == AccessLevel::Owner;
    require_manage(state, caller, source, touches_owner).await?;
    if level != AccessLevel::Owner && is_last_owner(state, source, &member).await? {
        return Err(ApiError::Forbidden(None));
    }
    if let Some(e) = expires_at {
        check_expiry(e)?;
    }
    check_not_below_inherited(state, source, member.user.id, level).await?;
    state
        .store
        .update_member(source.member_source(), member.user.id, level, expires_at)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::RecordNotFound,
            other => other.into(),
        })
}

pub async fn remove(
    state: &AppState,
    caller: &Caller,
    source: &Source,
    user_id: i64,
) -> ApiResult<()> {
    let member = state
        .store
        .member(source.member_source(), UserId(user_id))
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    let leaving = member.user.id == caller.user.id;
    if !leaving {
        require_manage(
            state,
            caller,
            source,
            member.access_level == AccessLevel::Owner,
        )
        .await?;
    }
    if is_last_owner(state, source, &member).await? {
        return Err(ApiError::Forbidden(None));
    }
    if state
        .store
        .remove_member(source.member_source(), member.user.id)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::RecordNotFound)
    }
}
