//! The reverse lookup: which projects' allowlists admit this project's job tokens.

use jobscope_store::{Admission, Project};
use jobscope_types::api::MatchedEntry;

use crate::access::{self, AdminProject};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

pub struct Reachable {
    pub project: Project,
    pub inbound_enabled: bool,
    pub via: MatchedEntry,
}

/// Every project (the caller may see) whose allowlist names this project or a group above
/// it; for each, the entry that decides (the project entry, else the nearest group).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    admin: &AdminProject,
) -> ApiResult<Vec<Reachable>> {
    let origin = admin.project();
    let groups: Vec<_> = if origin.namespace.is_group() {
        origin.namespace.traversal_ids.clone()
    } else {
        Vec::new()
    };
    let admissions = state.store.admissions_of(origin.id, &groups).await?;
    let enforced = state
        .store
        .instance_settings()
        .await?
        .enforce_ci_inbound_job_token_scope_enabled;
    // Rank: a project entry first, then groups from the nearest up.
    let rank = |a: &Admission| match a {
        Admission::Project(_) => 0,
        Admission::Group(g) => {
            1 + groups
                .iter()
                .rev()
                .position(|id| *id == g.target_group_id)
                .unwrap_or(usize::MAX - 1)
        }
    };
    let mut best: Vec<(Project, Admission)> = Vec::new();
    for (project, admission) in admissions {
        match best.iter_mut().find(|(p, _)| p.id == project.id) {
            Some(slot) => {
                if rank(&admission) < rank(&slot.1) {
                    slot.1 = admission;
                }
            }
            None => best.push((project, admission)),
        }
    }
    let mut out = Vec::new();
    for (project, admission) in best {
        if !access::can_read_project(state, Some(caller), &project).await? {
            continue;
        }
        let via = match admission {
            Admission::Project(l) => MatchedEntry::Project {
                id: origin.id,
                path_with_namespace: origin.full_path.clone(),
                default_permissions: l.default_permissions,
                job_token_policies: l.job_token_policies,
            },
            Admission::Group(g) => {
                let full_path = state
                    .store
                    .namespace(g.target_group_id)
                    .await?
                    .map(|n| n.full_path)
                    .unwrap_or_default();
                MatchedEntry::Group {
                    id: g.target_group_id,
                    full_path,
                    default_permissions: g.default_permissions,
                    job_token_policies: g.job_token_policies,
                }
            }
        };
        out.push(Reachable {
            inbound_enabled: enforced || project.inbound_scope_enabled,
            project,
            via,
        });
    }
    out.sort_by_key(|r| r.project.id);
    Ok(out)
}
