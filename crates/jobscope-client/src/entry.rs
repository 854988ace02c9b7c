//! One way to name an allowlist entry, whichever endpoint produced it.
//!
//! GitLab answers a created entry with `target_project_id` / `target_group_id`, lists entries
//! as project or group objects with `id`, and (jobscope) answers a changed entry with
//! `target_project_id` again; python-gitlab's `get_id()` trips over exactly this. Here every
//! one of those has [`AllowlistItem::target`], and the handles' [`Entry`] carries the
//! same facts whichever server (jobscope's REST, GitLab's GraphQL) supplied them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use jobscope_types::api::{
    AllowlistEntry, AllowlistGroup, AllowlistGroupCreated, AllowlistProject,
    AllowlistProjectCreated,
};
use jobscope_types::{NamespaceId, ProjectId};
use serde::{Deserialize, Serialize};

/// What an allowlist entry admits: one project's jobs, or the jobs of every project in a
/// group and its subgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Target {
    Project(ProjectId),
    Group(NamespaceId),
}

impl Target {
    /// The target's numeric id (a project id or a group id).
    pub fn id(self) -> i64 {
        match self {
            Target::Project(p) => p.get(),
            Target::Group(g) => g.get(),
        }
    }

    /// `project` or `group`.
    pub fn kind(self) -> &'static str {
        match self {
            Target::Project(_) => "project",
            Target::Group(_) => "group",
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// Anything that names an allowlist entry's target.
pub trait AllowlistItem {
    fn target(&self) -> Target;

    /// The target's numeric id, the same whichever endpoint produced the item.
    fn target_id(&self) -> i64 {
        self.target().id()
    }
}

impl AllowlistItem for AllowlistProject {
    fn target(&self) -> Target {
        Target::Project(self.project.id)
    }
}

impl AllowlistItem for AllowlistGroup {
    fn target(&self) -> Target {
        Target::Group(self.group.id)
    }
}

impl AllowlistItem for AllowlistProjectCreated {
    fn target(&self) -> Target {
        Target::Project(self.target_project_id)
    }
}

impl AllowlistItem for AllowlistGroupCreated {
    fn target(&self) -> Target {
        Target::Group(self.target_group_id)
    }
}

impl AllowlistItem for AllowlistEntry {
    fn target(&self) -> Target {
        match (self.target_project_id, self.target_group_id) {
            (Some(p), _) => Target::Project(p),
            (None, Some(g)) => Target::Group(g),
            // An entry names one or the other; GitLab and jobscope never send neither.
            (None, None) => Target::Project(ProjectId(0)),
        }
    }
}

impl AllowlistItem for Entry {
    fn target(&self) -> Target {
        self.target
    }
}

/// An allowlist entry with its permissions, the same from jobscope and from GitLab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub target: Target,
    /// The target's full path (`acme/platform`, `acme/tools/builder`).
    pub path: String,
    #[serde(default)]
    pub web_url: Option<String>,
    /// The entry grants the job user's full role (else only `job_token_policies`).
    pub default_permissions: bool,
    pub job_token_policies: Vec<String>,
    /// Added by autopopulation from the authentication log.
    pub autopopulated: bool,
    /// Who added it (username), when the server says.
    #[serde(default)]
    pub added_by: Option<String>,
    #[serde(default)]
    pub added_at: Option<DateTime<Utc>>,
}

impl AllowlistItem for TargetRef {
    fn target(&self) -> Target {
        self.target
    }
}

/// A target with its full path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRef {
    pub target: Target,
    pub path: String,
}

/// A row of the authentication log: a project whose job tokens reached this one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthLogEntry {
    pub origin_project_id: ProjectId,
    pub origin_project_path: String,
    pub last_authorized_at: DateTime<Utc>,
    /// Policy name → when an access last needed it (jobscope only).
    #[serde(default)]
    pub job_token_policies: BTreeMap<String, String>,
}

/// What autopopulation added (or, in a dry run, would add).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutopopulateOutcome {
    pub dry_run: bool,
    pub added: Vec<TargetRef>,
    /// Earlier autopopulated entries this run replaced (jobscope only).
    #[serde(default)]
    pub replaced: Option<usize>,
    /// Whether the project limits access afterwards.
    pub inbound_enabled: bool,
}
