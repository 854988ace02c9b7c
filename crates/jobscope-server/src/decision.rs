//! The access decision: may a CI job token from project A, acting as user U, act on project
//! B (spec §7)? Pure code: everything it needs is passed in, nothing is read or written.
//!
//! Steps, in order:
//! 0. Visibility. A project the job's user cannot read is reported as not found (404 before
//!    403), so a job token cannot probe which private projects exist.
//! 1. Scope. A == B is always in scope. Otherwise, when B's effective inbound flag is on (the
//!    instance setting or B's own), A must be on B's allowlist: a project entry naming A, or
//!    a group entry naming any group above A (at any depth). With the flag off, every
//!    project is in scope (GitLab's legacy mode).
//! 2. Being on the allowlist adds no permission: U acts with U's own role in B. Visibility
//!    never widens scope: an out-of-scope token is refused on public projects too.
//! 3. Fine-grained policies, for allowlisted cross-project access while the allowlist is
//!    enforced: the nearest entry decides (the project entry, else the group entry nearest to
//!    A). An entry with default permissions allows; otherwise the requested policy must be
//!    among the entry's policies (`admin_X` implies `read_X`), and a request naming no policy
//!    is refused.
//! 4. The role a policy needs in B (a table below; public and internal projects let readers
//!    use `read_*` policies).

use jobscope_store::{GroupLink, Membership, Project, ProjectLink, User};
use jobscope_types::policies;
use jobscope_types::{AccessLevel, Visibility};

use crate::access::rules;

/// Everything one decision needs.
pub struct Request<'a> {
    /// A: the job's project.
    pub origin: &'a Project,
    /// B: the project the job wants to act on.
    pub target: &'a Project,
    /// U: the job's user, and U's direct memberships.
    pub user: &'a User,
    pub memberships: &'a [Membership],
    /// `enforce_ci_inbound_job_token_scope_enabled`.
    pub instance_enforced: bool,
    /// B's inbound project entry naming A, if any.
    pub project_link: Option<&'a ProjectLink>,
    /// B's group entries (all of them; at most 200).
    pub group_links: &'a [GroupLink],
    /// The permission the caller wants (a policy name), if it names one.
    pub policy: Option<&'a str>,
}

/// How the job was admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via<'a> {
    SameProject,
    ScopeDisabled,
    Project(&'a ProjectLink),
    Group(&'a GroupLink),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowed<'a> {
    pub via: Via<'a>,
    /// U's role in B (administrators: Owner), if any.
    pub access_level: Option<AccessLevel>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// U cannot read B: answered like a project that does not exist.
    NotVisible,
    /// Out of scope: "Authentication by CI/CD job token not allowed from A to B."
    NotAllowed,
    /// The nearest entry has fine-grained permissions that do not include what was asked
    /// (`required` is empty when nothing was asked).
    Policy { required: Vec<String> },
    /// U's role in B is below what the policy needs.
    Role { needed: AccessLevel },
}

/// The role a policy needs in the target project (approximating GitLab's per-endpoint
/// abilities): reading needs Reporter (Guest for releases and work items), changing needs
/// Developer (Maintainer for secure files and Terraform state).
pub fn role_for_policy(policy: &str) -> AccessLevel {
    match policy {
        "read_releases" | "read_work_items" => AccessLevel::Guest,
        "admin_secure_files" | "admin_terraform_state" => AccessLevel::Maintainer,
        p if p.starts_with("read_") => AccessLevel::Reporter,
        _ => AccessLevel::Developer,
    }
}

/// The entry that decides for A on B: the project entry, else the nearest group entry.
pub fn nearest_entry<'a>(
    origin: &Project,
    project_link: Option<&'a ProjectLink>,
    group_links: &'a [GroupLink],
) -> Option<Via<'a>> {
    if let Some(l) = project_link {
        return Some(Via::Project(l));
    }
    origin
        .namespace
        .self_and_ancestor_ids()
        .find_map(|ns| group_links.iter().find(|g| g.target_group_id == ns))
        .map(Via::Group)
}

pub fn decide<'a>(r: &Request<'a>) -> Result<Allowed<'a>, Denied> {
    // A project the user cannot see is not found, whatever the scope says: answering
    // "not allowed from A to B" would confirm that B exists and name it.
    if !rules::can_read_project(Some((r.user, r.memberships)), r.target) {
        return Err(Denied::NotVisible);
    }
    let same = r.origin.id == r.target.id;
    let enforced = r.instance_enforced || r.target.inbound_scope_enabled;
    let via = if same {
        Via::SameProject
    } else if !enforced {
        Via::ScopeDisabled
    } else {
        nearest_entry(r.origin, r.project_link, r.group_links).ok_or(Denied::NotAllowed)?
    };
    let entry_permissions = match via {
        Via::Project(l) => Some((l.default_permissions, &l.job_token_policies)),
        Via::Group(g) => Some((g.default_permissions, &g.job_token_policies)),
        Via::SameProject | Via::ScopeDisabled => None,
    };
    if let Some((false, granted)) = entry_permissions {
        let Some(wanted) = r.policy else {
            return Err(Denied::Policy {
                required: Vec::new(),
            });
        };
        if !policies::expand(granted.iter()).contains(wanted) {
            return Err(Denied::Policy {
                required: vec![wanted.to_owned()],
            });
        }
    }
    let access_level = rules::effective_project_level(r.user, r.memberships, r.target);
    if let Some(policy) = r.policy {
        let needed = role_for_policy(policy);
        let public_read = policy.starts_with("read_")
            && (r.target.visibility == Visibility::Public
                || (r.target.visibility == Visibility::Internal && !r.user.external));
        if access_level < Some(needed) && !public_read {
            return Err(Denied::Role { needed });
        }
    }
    Ok(Allowed { via, access_level })
}

/// GitLab's message for a refusal (the text after "403 Forbidden - "), or `None` for a bare
/// "403 Forbidden".
pub fn denial_message(denied: &Denied, origin: &Project, target: &Project) -> Option<String> {
    match denied {
        Denied::NotAllowed => Some(format!(
            "Authentication by CI/CD job token not allowed from {} to {}.",
            origin.path, target.path
        )),
        Denied::Policy { required } if required.is_empty() => {
            Some("This action is unauthorized for CI/CD job tokens.".to_owned())
        }
        Denied::Policy { required } => Some(format!(
            "Insufficient permissions to access this resource in project {}. The following token permission{} required: {}.",
            target.path,
            if required.len() == 1 { " is" } else { "s are" },
            policies::to_sentence(required)
        )),
        Denied::Role { .. } | Denied::NotVisible => None,
    }
}
