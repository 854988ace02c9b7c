//! GitLab REST v4 JSON shapes, as jobscope serves them and as the jobscope client reads them.
//!
//! Field names and order follow GitLab's entities. Fields that GitLab only sends to some
//! viewers are `Option`s that are left out when `None`; everything deserialises leniently
//! (unknown fields ignored, absent optional fields defaulted) so the client can also read a
//! real GitLab server's answers.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{NamespaceId, ProjectId, TokenId, UserId};

/// Serialises timestamps the way GitLab does: UTC with milliseconds and a `Z`.
pub mod gitlab_time {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&format(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// `GET /version`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Version {
    pub version: String,
    pub revision: String,
    #[serde(default)]
    pub kas: Kas,
    #[serde(default)]
    pub enterprise: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Kas {
    pub enabled: bool,
    #[serde(rename = "externalUrl")]
    pub external_url: Option<String>,
    #[serde(rename = "externalK8sProxyUrl", default)]
    pub external_k8s_proxy_url: Option<String>,
    pub version: Option<String>,
}

/// GitLab's UserBasic (plus, when the viewer may see them, the User, UserPublic and
/// UserWithAdmin fields).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub state: String,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub avatar_url: Option<String>,
    pub web_url: String,
    #[serde(flatten)]
    pub profile: Option<UserProfile>,
    #[serde(flatten)]
    pub private: Option<UserPrivate>,
    #[serde(flatten)]
    pub admin: Option<UserAdminFields>,
}

/// Fields of GitLab's `User` entity (a profile).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserProfile {
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub bio: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub public_email: Option<String>,
    #[serde(default)]
    pub skype: String,
    #[serde(default)]
    pub linkedin: String,
    #[serde(default)]
    pub twitter: String,
    #[serde(default)]
    pub discord: String,
    #[serde(default)]
    pub website_url: String,
    #[serde(default)]
    pub organization: String,
    #[serde(default)]
    pub job_title: String,
    #[serde(default)]
    pub pronouns: Option<String>,
    #[serde(default)]
    pub bot: bool,
    #[serde(default)]
    pub work_information: Option<String>,
    #[serde(default)]
    pub local_time: Option<String>,
}

/// Fields GitLab only shows the user themself and administrators (UserPublic).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserPrivate {
    #[serde(default, with = "gitlab_time::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DateTime<Utc>>"))]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    #[serde(default, with = "gitlab_time::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DateTime<Utc>>"))]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_activity_on: Option<NaiveDate>,
    pub email: String,
    #[serde(default)]
    pub theme_id: i64,
    #[serde(default)]
    pub color_scheme_id: i64,
    pub projects_limit: i64,
    #[serde(default, with = "gitlab_time::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DateTime<Utc>>"))]
    pub current_sign_in_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub identities: Vec<Value>,
    pub can_create_group: bool,
    pub can_create_project: bool,
    #[serde(default)]
    pub two_factor_enabled: bool,
    pub external: bool,
    #[serde(default)]
    pub private_profile: bool,
    #[serde(default)]
    pub commit_email: Option<String>,
}

/// Fields only administrators see (UserWithAdmin).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserAdminFields {
    pub is_admin: bool,
    #[serde(default)]
    pub note: Option<String>,
    pub namespace_id: NamespaceId,
    #[serde(default)]
    pub created_by: Option<Value>,
}

/// GitLab's UserBasic, as nested in other objects (`owner`, `created_by`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserBasic {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub state: String,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub avatar_url: Option<String>,
    pub web_url: String,
}

/// A personal access token (with `token` only in the answer that creates or rotates it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PersonalAccessToken {
    pub id: TokenId,
    pub name: String,
    pub active: bool,
    pub revoked: bool,
    #[serde(default)]
    pub expired: bool,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub user_id: UserId,
    #[serde(default, with = "gitlab_time::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DateTime<Utc>>"))]
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// NamespaceBasic, as nested in projects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NamespaceBasic {
    pub id: NamespaceId,
    pub name: String,
    pub path: String,
    pub kind: String,
    pub full_path: String,
    pub parent_id: Option<NamespaceId>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    pub web_url: String,
}

/// GitLab's BasicProjectDetails: allowlist items and `simple=true` project lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BasicProject {
    pub id: ProjectId,
    pub description: Option<String>,
    pub name: String,
    pub name_with_namespace: String,
    pub path: String,
    pub path_with_namespace: String,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub tag_list: Vec<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    pub ssh_url_to_repo: String,
    pub http_url_to_repo: String,
    pub web_url: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub star_count: i64,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub last_activity_at: DateTime<Utc>,
    pub namespace: NamespaceBasic,
}

/// An access level as shown in `permissions` (MemberAccess).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberAccess {
    pub access_level: i64,
    #[serde(default)]
    pub notification_level: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProjectPermissions {
    pub project_access: Option<MemberAccess>,
    pub group_access: Option<MemberAccess>,
}

/// GitLab's Project entity (and ProjectWithAccess when `permissions` is present).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Project {
    #[serde(flatten)]
    pub basic: BasicProject,
    #[serde(rename = "_links", default)]
    pub links: Option<ProjectLinks>,
    #[serde(default)]
    pub empty_repo: bool,
    #[serde(default)]
    pub archived: bool,
    pub visibility: crate::Visibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<UserBasic>,
    #[serde(default)]
    pub issues_enabled: bool,
    #[serde(default)]
    pub merge_requests_enabled: bool,
    #[serde(default)]
    pub wiki_enabled: bool,
    #[serde(default)]
    pub jobs_enabled: bool,
    #[serde(default)]
    pub snippets_enabled: bool,
    #[serde(default)]
    pub container_registry_enabled: bool,
    #[serde(default)]
    pub shared_runners_enabled: bool,
    #[serde(default)]
    pub lfs_enabled: bool,
    #[serde(default)]
    pub creator_id: Option<UserId>,
    #[serde(default)]
    pub import_status: Option<String>,
    #[serde(default)]
    pub open_issues_count: i64,
    #[serde(default)]
    pub description_html: Option<String>,
    #[serde(default, with = "gitlab_time::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DateTime<Utc>>"))]
    pub updated_at: Option<DateTime<Utc>>,
    /// Present for viewers who administer the project (GitLab's `ci_job_token_scope_enabled`
    /// is the deprecated outbound flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_job_token_scope_enabled: Option<bool>,
    #[serde(default)]
    pub public_jobs: bool,
    #[serde(default)]
    pub shared_with_groups: Vec<Value>,
    #[serde(default)]
    pub request_access_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<ProjectPermissions>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProjectLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub issues: Option<String>,
    pub merge_requests: Option<String>,
    pub repo_branches: String,
    pub labels: String,
    pub events: String,
    pub members: String,
    pub cluster_agents: String,
}

/// BasicGroupDetails: groups allowlist items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BasicGroup {
    pub id: NamespaceId,
    pub web_url: String,
    pub name: String,
}

/// GitLab's Group entity (GroupDetail adds `shared_with_groups` and `projects`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Group {
    pub id: NamespaceId,
    pub web_url: String,
    pub name: String,
    pub path: String,
    #[serde(default)]
    pub description: String,
    pub visibility: crate::Visibility,
    #[serde(default)]
    pub share_with_group_lock: bool,
    #[serde(default)]
    pub require_two_factor_authentication: bool,
    #[serde(default)]
    pub two_factor_grace_period: i64,
    #[serde(default)]
    pub project_creation_level: String,
    #[serde(default)]
    pub auto_devops_enabled: Option<bool>,
    #[serde(default)]
    pub subgroup_creation_level: String,
    #[serde(default)]
    pub emails_disabled: bool,
    #[serde(default)]
    pub emails_enabled: bool,
    #[serde(default)]
    pub mentions_disabled: Option<bool>,
    #[serde(default)]
    pub lfs_enabled: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub request_access_enabled: bool,
    pub full_name: String,
    pub full_path: String,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
    pub parent_id: Option<NamespaceId>,
    #[serde(default)]
    pub shared_runners_setting: Option<String>,
    #[serde(default)]
    pub max_artifacts_size: Option<i64>,
    #[serde(default)]
    pub marked_for_deletion_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with_groups: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<BasicProject>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_projects: Option<Vec<Value>>,
}

/// A project or group member (UserBasic plus the membership).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Member {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub state: String,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub avatar_url: Option<String>,
    pub web_url: String,
    pub access_level: i64,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserBasic>,
    pub expires_at: Option<NaiveDate>,
    #[serde(default)]
    pub membership_state: Option<String>,
}

/// The `/application/settings` fields jobscope knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApplicationSettings {
    pub id: i64,
    pub default_projects_limit: i64,
    #[serde(default)]
    pub signup_enabled: bool,
    #[serde(default)]
    pub password_authentication_enabled_for_web: bool,
    pub max_personal_access_token_lifetime: Option<i64>,
    pub enforce_ci_inbound_job_token_scope_enabled: bool,
    pub restricted_visibility_levels: Vec<String>,
    pub default_project_visibility: crate::Visibility,
    pub default_snippet_visibility: crate::Visibility,
    pub default_group_visibility: crate::Visibility,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub updated_at: DateTime<Utc>,
}

/// `GET /projects/:id/job_token_scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JobTokenScope {
    /// The effective "limit access to this project" setting (instance enforcement included).
    pub inbound_enabled: bool,
    /// The deprecated outbound setting.
    pub outbound_enabled: bool,
}

/// `201` answer of `POST /projects/:id/job_token_scope/allowlist`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllowlistProjectCreated {
    pub source_project_id: ProjectId,
    pub target_project_id: ProjectId,
}

/// `201` answer of `POST /projects/:id/job_token_scope/groups_allowlist`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllowlistGroupCreated {
    pub source_project_id: ProjectId,
    pub target_group_id: NamespaceId,
}

/// Any GitLab error body: `{"message": …}` (string or object), `{"error": …}` (parameter
/// errors) or the OAuth form with `error_description` and `scope`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl ErrorBody {
    /// A one-line human text: the description, else the message, else the error.
    pub fn text(&self) -> String {
        fn flat(v: &Value) -> String {
            match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        }
        if let Some(d) = &self.error_description {
            return d.clone();
        }
        if let Some(m) = &self.message {
            return flat(m);
        }
        self.error.as_ref().map(flat).unwrap_or_default()
    }
}

/// How an allowlist entry grants access, and who made it (jobscope adds these to GitLab's
/// list items; the project itself, always in its own list, has no entry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EntryInfo {
    #[serde(default = "default_true")]
    pub default_permissions: bool,
    #[serde(default)]
    pub job_token_policies: Vec<String>,
    #[serde(default)]
    pub autopopulated: bool,
    #[serde(default)]
    pub added_by: Option<UserBasic>,
    #[serde(default, with = "gitlab_time::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DateTime<Utc>>"))]
    pub added_at: Option<DateTime<Utc>>,
}

fn default_true() -> bool {
    true
}

/// An item of `GET /projects/:id/job_token_scope/allowlist`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllowlistProject {
    #[serde(flatten)]
    pub project: BasicProject,
    #[serde(flatten)]
    pub entry: EntryInfo,
}

/// An item of `GET /projects/:id/job_token_scope/groups_allowlist`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllowlistGroup {
    #[serde(flatten)]
    pub group: BasicGroup,
    #[serde(flatten)]
    pub entry: EntryInfo,
}

/// An allowlist entry as `PATCH …/allowlist/:target_project_id` and
/// `PATCH …/groups_allowlist/:target_group_id` answer it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllowlistEntry {
    pub source_project_id: ProjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_project_id: Option<ProjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_id: Option<NamespaceId>,
    pub default_permissions: bool,
    pub job_token_policies: Vec<String>,
    pub autopopulated: bool,
    #[serde(default)]
    pub added_by_id: Option<UserId>,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
}

/// A project audit event (GitLab's AuditEvent entity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditEvent {
    pub id: i64,
    pub author_id: Option<UserId>,
    pub entity_id: i64,
    pub entity_type: String,
    pub event_name: String,
    pub details: Value,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
}

/// A row of `GET /projects/:id/job_token_scope/auth_logs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthLog {
    pub origin_project: BasicProject,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub last_authorized_at: DateTime<Utc>,
    /// Policy name → when an access last needed it.
    #[serde(default)]
    pub job_token_policies: std::collections::BTreeMap<String, String>,
}

/// A CI job, as the CI API answers it (`token` only when the job is created).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CiJob {
    pub id: crate::ids::JobId,
    pub status: String,
    pub name: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub project_id: ProjectId,
    pub user_id: UserId,
    #[serde(with = "gitlab_time")]
    #[cfg_attr(feature = "schema", schemars(with = "DateTime<Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(default, with = "gitlab_time::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<DateTime<Utc>>"))]
    pub finished_at: Option<DateTime<Utc>>,
    pub web_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The decision endpoint's answer (`GET /job_token/allowed`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JobTokenDecision {
    pub allowed: bool,
    pub job: DecisionJob,
    pub source_project: DecisionProject,
    pub target_project: DecisionProject,
    pub user: DecisionUser,
    /// The user's role in the target project (null for none).
    pub access_level: Option<i64>,
    pub policy: Option<String>,
    pub matched: MatchedEntry,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecisionJob {
    pub id: crate::ids::JobId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecisionProject {
    pub id: ProjectId,
    pub path_with_namespace: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecisionUser {
    pub id: UserId,
    pub username: String,
}

/// Why the job was admitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MatchedEntry {
    /// The job's own project.
    SameProject,
    /// The target does not limit access (its allowlist is off).
    ScopeDisabled,
    /// An allowlist entry naming the job's project.
    Project {
        id: ProjectId,
        path_with_namespace: String,
        default_permissions: bool,
        job_token_policies: Vec<String>,
    },
    /// An allowlist entry naming a group above the job's project.
    Group {
        id: NamespaceId,
        full_path: String,
        default_permissions: bool,
        job_token_policies: Vec<String>,
    },
}

/// A project whose allowlist admits another project's jobs (the reverse lookup).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReachableProject {
    pub project: BasicProject,
    /// Whether that project currently enforces its allowlist.
    pub inbound_enabled: bool,
    pub via: MatchedEntry,
}

/// Autopopulation's answer: what was (or, with `dry_run`, would be) added.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Autopopulation {
    pub dry_run: bool,
    pub projects: Vec<BasicProject>,
    pub groups: Vec<BasicGroup>,
    /// Entries that autopopulation added earlier and that this run replaces.
    pub replaced: usize,
    pub inbound_enabled: bool,
}
