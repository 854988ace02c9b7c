//! Audit events for changes of a job token scope, with GitLab's names and messages. Each is
//! written in the same transaction as its change: no event, no change.

use jobscope_store::{
    AuditEvent, AuditQuery, Namespace, NewAuditEvent, PageRequest, Paged, Project,
};
use serde_json::json;

use crate::access::AdminProject;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

/// Who made a change, and from where.
#[derive(Clone, Debug)]
pub struct Author {
    pub id: jobscope_types::UserId,
    pub name: String,
    pub email: String,
    pub ip_address: Option<String>,
}

impl Author {
    pub fn of(caller: &Caller, ip: Option<std::net::IpAddr>) -> Self {
        Author {
            id: caller.user.id,
            name: caller.user.name.clone(),
            email: caller.user.email.clone(),
            ip_address: ip.map(|i| i.to_string()),
        }
    }
}

/// The target of an event.
pub enum Target<'a> {
    Project(&'a Project),
    Group(&'a Namespace),
    /// The project's CI/CD settings (the inbound flag).
    Settings(&'a Project),
}

fn policies_text(policies: &[String]) -> String {
    policies.join(", ")
}

fn build(
    author: &Author,
    scope: &Project,
    event_name: &str,
    target: Target<'_>,
    message: String,
) -> NewAuditEvent {
    let (target_type, target_id, target_details) = match target {
        Target::Project(p) => ("Project", p.id.get(), p.name.clone()),
        Target::Group(g) => ("Group", g.id.get(), g.name.clone()),
        Target::Settings(p) => ("ProjectCiCdSetting", p.id.get(), p.full_path.clone()),
    };
    NewAuditEvent {
        author_id: Some(author.id),
        entity_type: "Project".to_owned(),
        entity_id: scope.id.get(),
        entity_path: scope.full_path.clone(),
        event_name: event_name.to_owned(),
        target_type: Some(target_type.to_owned()),
        target_id: Some(target_id),
        details: json!({
            "event_name": event_name,
            "author_name": author.name,
            "author_class": "User",
            "target_id": target_id,
            "target_type": target_type,
            "target_details": target_details,
            "custom_message": message,
            "ip_address": author.ip_address,
            "entity_path": scope.full_path,
            "author_email": author.email,
        }),
        created_at: super::now(),
    }
}

pub fn inbound_changed(author: &Author, scope: &Project, enabled: bool) -> NewAuditEvent {
    let (name, word) = if enabled {
        ("secure_ci_job_token_inbound_enabled", "enabled")
    } else {
        ("secure_ci_job_token_inbound_disabled", "disabled")
    };
    build(
        author,
        scope,
        name,
        Target::Settings(scope),
        format!("Secure ci_job_token was {word} for inbound"),
    )
}

fn added_suffix(default_permissions: bool, policies: &[String]) -> String {
    if policies.is_empty() {
        String::new()
    } else {
        format!(
            ", with default permissions: {default_permissions}, job token policies: {}",
            policies_text(policies)
        )
    }
}

fn removed_suffix(policies: &[String]) -> String {
    if policies.is_empty() {
        String::new()
    } else {
        format!(", with job token policies: {}", policies_text(policies))
    }
}

pub fn project_added(
    author: &Author,
    scope: &Project,
    target: &Project,
    default_permissions: bool,
    policies: &[String],
) -> NewAuditEvent {
    build(
        author,
        scope,
        "secure_ci_job_token_project_added",
        Target::Project(target),
        format!(
            "Project {} was added to inbound list of allowed projects for {}{}",
            target.full_path,
            scope.full_path,
            added_suffix(default_permissions, policies)
        ),
    )
}

pub fn project_removed(
    author: &Author,
    scope: &Project,
    target: &Project,
    policies: &[String],
) -> NewAuditEvent {
    build(
        author,
        scope,
        "secure_ci_job_token_project_removed",
        Target::Project(target),
        format!(
            "Project {} was removed from inbound list of allowed projects for {}{}",
            target.full_path,
            scope.full_path,
            removed_suffix(policies)
        ),
    )
}

pub fn group_added(
    author: &Author,
    scope: &Project,
    target: &Namespace,
    default_permissions: bool,
    policies: &[String],
) -> NewAuditEvent {
    build(
        author,
        scope,
        "secure_ci_job_token_group_added",
        Target::Group(target),
        format!(
            "Group {} was added to list of allowed groups for {}{}",
            target.full_path,
            scope.full_path,
            added_suffix(default_permissions, policies)
        ),
    )
}

pub fn group_removed(
    author: &Author,
    scope: &Project,
    target: &Namespace,
    policies: &[String],
) -> NewAuditEvent {
    build(
        author,
        scope,
        "secure_ci_job_token_group_removed",
        Target::Group(target),
        format!(
            "Group {} was removed from list of allowed groups for {}{}",
            target.full_path,
            scope.full_path,
            removed_suffix(policies)
        ),
    )
}

pub fn policies_updated(
    author: &Author,
    scope: &Project,
    target: Target<'_>,
    default_permissions: bool,
    policies: &[String],
) -> NewAuditEvent {
    build(
        author,
        scope,
        "secure_ci_job_token_policies_updated",
        target,
        format!(
            "CI job token updated to default permissions: {default_permissions}, policies: {}",
            policies_text(policies)
        ),
    )
}

/// The project's audit events, newest first.
pub async fn list(
    state: &AppState,
    admin: &AdminProject,
    mut query: AuditQuery,
    page: PageRequest,
) -> ApiResult<Paged<AuditEvent>> {
    query.entity_type = "Project".to_owned();
    query.entity_id = admin.project().id.get();
    Ok(state.store.audit_events(&query, page).await?)
}
