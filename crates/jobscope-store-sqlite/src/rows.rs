//! Mapping between SQLite rows and the store's records.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use jobscope_store::{
    GroupLink, LinkDirection, Member, MemberSource, Namespace, NamespaceKind, PersonalAccessToken,
    Project, ProjectLink, StoreError, StoreResult, User, UserState, WebSession,
};
use jobscope_types::{AccessLevel, NamespaceId, ProjectId, TokenId, UserId, Visibility};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// "/1/5/9/" for ids [1, 5, 9].
pub(crate) fn traversal_text(ids: &[NamespaceId]) -> String {
    let mut s = String::from("/");
    for id in ids {
        s.push_str(&id.to_string());
        s.push('/');
    }
    s
}

pub(crate) fn parse_traversal(s: &str) -> StoreResult<Vec<NamespaceId>> {
    s.split('/')
        .filter(|p| !p.is_empty())
        .map(|p| NamespaceId::from_str(p).map_err(|_| corrupt(format!("traversal_ids {s:?}"))))
        .collect()
}

pub(crate) fn parse_visibility(s: &str) -> StoreResult<Visibility> {
    Visibility::parse(s).ok_or_else(|| corrupt(format!("visibility {s:?}")))
}

pub(crate) fn parse_level(v: i64) -> StoreResult<AccessLevel> {
    AccessLevel::from_value(v).ok_or_else(|| corrupt(format!("access level {v}")))
}

pub(crate) fn parse_string_list(s: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(s).map_err(|_| corrupt(format!("string list {s:?}")))
}

pub(crate) fn string_list(v: &[String]) -> String {
    serde_json::Value::from(v.to_vec()).to_string()
}

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col)
        .map_err(|e| corrupt(format!("column {col}: {e}")))
}

pub(crate) const USER_COLS: &str = "u.id AS u_id, u.username AS u_username, u.email AS u_email, \
    u.name AS u_name, u.state AS u_state, u.admin AS u_admin, u.external AS u_external, \
    u.bot AS u_bot, u.can_create_group AS u_can_create_group, u.projects_limit AS u_projects_limit, \
    u.created_at AS u_created_at, \
    (SELECT un.id FROM namespaces un WHERE un.owner_id = u.id AND un.kind = 'user') AS u_namespace_id";

pub(crate) fn user(row: &SqliteRow) -> StoreResult<User> {
    let state: String = get(row, "u_state")?;
    let namespace_id: Option<i64> = get(row, "u_namespace_id")?;
    Ok(User {
        id: UserId(get(row, "u_id")?),
        username: get(row, "u_username")?,
        email: get(row, "u_email")?,
        name: get(row, "u_name")?,
        state: UserState::parse(&state).ok_or_else(|| corrupt(format!("user state {state:?}")))?,
        admin: get(row, "u_admin")?,
        external: get(row, "u_external")?,
        bot: get(row, "u_bot")?,
        can_create_group: get(row, "u_can_create_group")?,
        projects_limit: get(row, "u_projects_limit")?,
        namespace_id: NamespaceId(namespace_id.unwrap_or_default()),
        created_at: get(row, "u_created_at")?,
    })
}

pub(crate) const NAMESPACE_COLS: &str = "n.id AS n_id, n.kind AS n_kind, n.name AS n_name, \
    n.path AS n_path, n.full_path AS n_full_path, n.full_name AS n_full_name, \
    n.parent_id AS n_parent_id, n.traversal_ids AS n_traversal_ids, n.visibility AS n_visibility, \
    n.description AS n_description, n.owner_id AS n_owner_id, n.created_at AS n_created_at";

pub(crate) fn namespace(row: &SqliteRow) -> StoreResult<Namespace> {
    let kind: String = get(row, "n_kind")?;
    let traversal: String = get(row, "n_traversal_ids")?;
    let visibility: String = get(row, "n_visibility")?;
    let parent: Option<i64> = get(row, "n_parent_id")?;
    let owner: Option<i64> = get(row, "n_owner_id")?;
    Ok(Namespace {
        id: NamespaceId(get(row, "n_id")?),
        kind: match kind.as_str() {
            "group" => NamespaceKind::Group,
            "user" => NamespaceKind::User,
            other => return Err(corrupt(format!("namespace kind {other:?}"))),
        },
        name: get(row, "n_name")?,
        path: get(row, "n_path")?,
        full_path: get(row, "n_full_path")?,
        full_name: get(row, "n_full_name")?,
        parent_id: parent.map(NamespaceId),
        traversal_ids: parse_traversal(&traversal)?,
        visibility: parse_visibility(&visibility)?,
        description: get(row, "n_description")?,
        owner_id: owner.map(UserId),
        created_at: get(row, "n_created_at")?,
    })
}

pub(crate) const PROJECT_COLS: &str = "p.id AS p_id, p.name AS p_name, p.path AS p_path, \
    p.full_path AS p_full_path, p.description AS p_description, p.visibility AS p_visibility, \
    p.default_branch AS p_default_branch, p.topics AS p_topics, p.creator_id AS p_creator_id, \
    p.created_at AS p_created_at, p.last_activity_at AS p_last_activity_at, \
    p.inbound_job_token_scope_enabled AS p_inbound, p.job_token_scope_enabled AS p_outbound";

pub(crate) fn project(row: &SqliteRow) -> StoreResult<Project> {
    let visibility: String = get(row, "p_visibility")?;
    let topics: String = get(row, "p_topics")?;
    let creator: Option<i64> = get(row, "p_creator_id")?;
    Ok(Project {
        id: ProjectId(get(row, "p_id")?),
        name: get(row, "p_name")?,
        path: get(row, "p_path")?,
        full_path: get(row, "p_full_path")?,
        description: get(row, "p_description")?,
        visibility: parse_visibility(&visibility)?,
        namespace: namespace(row)?,
        default_branch: get(row, "p_default_branch")?,
        topics: parse_string_list(&topics)?,
        creator_id: creator.map(UserId),
        created_at: get(row, "p_created_at")?,
        last_activity_at: get(row, "p_last_activity_at")?,
        inbound_scope_enabled: get(row, "p_inbound")?,
        outbound_scope_enabled: get(row, "p_outbound")?,
    })
}

pub(crate) const TOKEN_COLS: &str = "t.id AS t_id, t.user_id AS t_user_id, t.name AS t_name, \
    t.description AS t_description, t.scopes AS t_scopes, t.revoked AS t_revoked, \
    t.expires_at AS t_expires_at, t.last_used_at AS t_last_used_at, t.created_at AS t_created_at";

pub(crate) fn token(row: &SqliteRow) -> StoreResult<PersonalAccessToken> {
    let scopes: String = get(row, "t_scopes")?;
    let expires: Option<NaiveDate> = get(row, "t_expires_at")?;
    let last_used: Option<DateTime<Utc>> = get(row, "t_last_used_at")?;
    Ok(PersonalAccessToken {
        id: TokenId(get(row, "t_id")?),
        user_id: UserId(get(row, "t_user_id")?),
        name: get(row, "t_name")?,
        description: get(row, "t_description")?,
        scopes: parse_string_list(&scopes)?,
        revoked: get(row, "t_revoked")?,
        expires_at: expires,
        last_used_at: last_used,
        created_at: get(row, "t_created_at")?,
    })
}

pub(crate) const MEMBER_COLS: &str = "m.access_level AS m_access_level, \
    m.expires_at AS m_expires_at, m.created_by_id AS m_created_by_id, m.created_at AS m_created_at";

pub(crate) fn member(row: &SqliteRow, source: MemberSource) -> StoreResult<Member> {
    let created_by: Option<i64> = get(row, "m_created_by_id")?;
    Ok(Member {
        source,
        user: user(row)?,
        access_level: parse_level(get(row, "m_access_level")?)?,
        expires_at: get(row, "m_expires_at")?,
        created_by: created_by.map(UserId),
        created_at: get(row, "m_created_at")?,
    })
}

pub(crate) const PROJECT_LINK_COLS: &str = "l.source_project_id AS l_source, \
    l.target_project_id AS l_target, l.direction AS l_direction, l.added_by_id AS l_added_by, \
    l.job_token_policies AS l_policies, l.default_permissions AS l_default_permissions, \
    l.autopopulated AS l_autopopulated, l.created_at AS l_created_at";

pub(crate) fn project_link(row: &SqliteRow) -> StoreResult<ProjectLink> {
    let direction: i64 = get(row, "l_direction")?;
    let added_by: Option<i64> = get(row, "l_added_by")?;
    let policies: String = get(row, "l_policies")?;
    Ok(ProjectLink {
        source_project_id: ProjectId(get(row, "l_source")?),
        target_project_id: ProjectId(get(row, "l_target")?),
        direction: match direction {
            0 => LinkDirection::Outbound,
            1 => LinkDirection::Inbound,
            other => return Err(corrupt(format!("link direction {other}"))),
        },
        added_by: added_by.map(UserId),
        created_at: get(row, "l_created_at")?,
        job_token_policies: parse_string_list(&policies)?,
        default_permissions: get(row, "l_default_permissions")?,
        autopopulated: get(row, "l_autopopulated")?,
    })
}

pub(crate) const GROUP_LINK_COLS: &str = "l.source_project_id AS l_source, \
    l.target_group_id AS l_target, l.added_by_id AS l_added_by, \
    l.job_token_policies AS l_policies, l.default_permissions AS l_default_permissions, \
    l.autopopulated AS l_autopopulated, l.created_at AS l_created_at";

pub(crate) fn group_link(row: &SqliteRow) -> StoreResult<GroupLink> {
    let added_by: Option<i64> = get(row, "l_added_by")?;
    let policies: String = get(row, "l_policies")?;
    Ok(GroupLink {
        source_project_id: ProjectId(get(row, "l_source")?),
        target_group_id: NamespaceId(get(row, "l_target")?),
        added_by: added_by.map(UserId),
        created_at: get(row, "l_created_at")?,
        job_token_policies: parse_string_list(&policies)?,
        default_permissions: get(row, "l_default_permissions")?,
        autopopulated: get(row, "l_autopopulated")?,
    })
}

pub(crate) const JOB_COLS: &str = "j.id AS j_id, j.project_id AS j_project_id, \
    j.user_id AS j_user_id, j.name AS j_name, j.ref AS j_ref, j.status AS j_status, \
    j.created_at AS j_created_at, j.finished_at AS j_finished_at";

pub(crate) fn job(row: &SqliteRow) -> StoreResult<jobscope_store::Job> {
    let status: String = get(row, "j_status")?;
    Ok(jobscope_store::Job {
        id: jobscope_types::JobId(get(row, "j_id")?),
        project_id: ProjectId(get(row, "j_project_id")?),
        user_id: UserId(get(row, "j_user_id")?),
        name: get(row, "j_name")?,
        ref_name: get(row, "j_ref")?,
        status: jobscope_store::JobStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("job status {status:?}")))?,
        created_at: get(row, "j_created_at")?,
        finished_at: get(row, "j_finished_at")?,
    })
}

pub(crate) const AUDIT_COLS: &str = "a.id AS a_id, a.author_id AS a_author_id, \
    a.entity_type AS a_entity_type, a.entity_id AS a_entity_id, a.entity_path AS a_entity_path, \
    a.event_name AS a_event_name, a.target_type AS a_target_type, a.target_id AS a_target_id, \
    a.details AS a_details, a.created_at AS a_created_at";

pub(crate) fn audit_event(row: &SqliteRow) -> StoreResult<jobscope_store::AuditEvent> {
    let details: String = get(row, "a_details")?;
    let author: Option<i64> = get(row, "a_author_id")?;
    Ok(jobscope_store::AuditEvent {
        id: get(row, "a_id")?,
        author_id: author.map(UserId),
        entity_type: get(row, "a_entity_type")?,
        entity_id: get(row, "a_entity_id")?,
        entity_path: get(row, "a_entity_path")?,
        event_name: get(row, "a_event_name")?,
        target_type: get(row, "a_target_type")?,
        target_id: get(row, "a_target_id")?,
        details: serde_json::from_str(&details)
            .map_err(|_| corrupt(format!("audit details {details:?}")))?,
        created_at: get(row, "a_created_at")?,
    })
}

pub(crate) fn policy_times(
    s: &str,
) -> StoreResult<std::collections::BTreeMap<String, DateTime<Utc>>> {
    serde_json::from_str(s).map_err(|_| corrupt(format!("policy times {s:?}")))
}

pub(crate) fn web_session(row: &SqliteRow) -> StoreResult<WebSession> {
    Ok(WebSession {
        id_digest: get(row, "id_digest")?,
        user_id: UserId(get(row, "user_id")?),
        token_id: TokenId(get(row, "token_id")?),
        csrf_token: get(row, "csrf_token")?,
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
        expires_at: get(row, "expires_at")?,
    })
}
