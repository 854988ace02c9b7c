//! The export format: a whole instance as one JSON document, versioned, ids preserved.
//! `jobscope export` writes it and `jobscope import` reads it into an empty database of any
//! backend (docs/operations.md describes it for operators).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Marks the document as ours.
pub const FORMAT: &str = "jobscope-export";
/// Bumped on any change a reader of an older version could misread. Version 2 added
/// `token_salt`: a version 1 reader would have dropped it, and every token with it.
pub const VERSION: u32 = 2;

/// Can this jobscope read a document of `format` and `version`? Version 1 documents (no
/// salt) are read with the empty salt their digests were made with.
pub fn is_readable(format: &str, version: u32) -> bool {
    format == FORMAT && (1..=VERSION).contains(&version)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    /// The salt every `token_digest` below was made with ([`crate::secrets`]).
    #[serde(default)]
    pub token_salt: String,
    pub instance_settings: SettingsRow,
    pub users: Vec<UserRow>,
    pub namespaces: Vec<NamespaceRow>,
    pub projects: Vec<ProjectRow>,
    pub namespace_members: Vec<MemberRow>,
    pub project_members: Vec<MemberRow>,
    pub personal_access_tokens: Vec<TokenRow>,
    pub project_links: Vec<ProjectLinkRow>,
    pub group_links: Vec<GroupLinkRow>,
    pub jobs: Vec<JobRow>,
    pub authorizations: Vec<AuthorizationRow>,
    pub audit_events: Vec<AuditEventRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsRow {
    pub enforce_ci_inbound_job_token_scope_enabled: bool,
    pub default_project_visibility: String,
    pub default_group_visibility: String,
    pub default_projects_limit: i64,
    pub max_personal_access_token_lifetime: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub name: String,
    pub state: String,
    pub admin: bool,
    pub external: bool,
    pub bot: bool,
    pub can_create_group: bool,
    pub projects_limit: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamespaceRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub full_name: String,
    pub parent_id: Option<i64>,
    /// Root first, the namespace itself last.
    pub traversal_ids: Vec<i64>,
    pub visibility: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectRow {
    pub id: i64,
    pub namespace_id: i64,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub description: Option<String>,
    pub visibility: String,
    pub default_branch: Option<String>,
    pub topics: Vec<String>,
    pub creator_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub inbound_job_token_scope_enabled: bool,
    pub job_token_scope_enabled: bool,
}

/// A membership; `source_id` is a namespace id or a project id depending on the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub source_id: i64,
    pub user_id: i64,
    pub access_level: i64,
    pub expires_at: Option<NaiveDate>,
    pub created_by_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub description: Option<String>,
    /// Hex SHA-256 of the token: the token itself is never stored, so never exported.
    pub token_digest: String,
    pub scopes: Vec<String>,
    pub revoked: bool,
    pub expires_at: Option<NaiveDate>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectLinkRow {
    pub id: i64,
    pub source_project_id: i64,
    pub target_project_id: i64,
    /// 0 outbound, 1 inbound.
    pub direction: i64,
    pub added_by_id: Option<i64>,
    pub job_token_policies: Vec<String>,
    pub default_permissions: bool,
    pub autopopulated: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupLinkRow {
    pub id: i64,
    pub source_project_id: i64,
    pub target_group_id: i64,
    pub added_by_id: Option<i64>,
    pub job_token_policies: Vec<String>,
    pub default_permissions: bool,
    pub autopopulated: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: i64,
    pub project_id: i64,
    pub user_id: i64,
    pub name: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: String,
    pub token_digest: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRow {
    pub accessed_project_id: i64,
    pub origin_project_id: i64,
    pub last_authorized_at: DateTime<Utc>,
    /// Policy name → ISO timestamp.
    pub job_token_policies: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEventRow {
    pub id: i64,
    pub author_id: Option<i64>,
    pub entity_type: String,
    pub entity_id: i64,
    pub entity_path: String,
    pub event_name: String,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    pub details: Value,
    pub created_at: DateTime<Utc>,
}
