//! The decision endpoint: loads what [`crate::decision`] needs for a job token and a target
//! project, decides, and records successful cross-project accesses in the authentication log.

use jobscope_store::LinkDirection;
use jobscope_types::ProjectRef;
use jobscope_types::api::{
    DecisionJob, DecisionProject, DecisionUser, JobTokenDecision, MatchedEntry,
};

use crate::access;
use crate::auth::job::JobCaller;
use crate::decision::{self, Request, Via};
use crate::error::{ApiError, ApiResult};
use crate::metrics::DecisionOutcome;
use crate::state::AppState;

/// May this job act on `target_raw` (an id or a full path), optionally for `policy`?
pub async fn decide(
    state: &AppState,
    jc: &JobCaller,
    target_raw: &str,
    policy: Option<&str>,
    not_found_status: NotFound,
) -> ApiResult<JobTokenDecision> {
    let not_found = || {
        state.metrics.decision(DecisionOutcome::DeniedNotFound);
        match not_found_status {
            NotFound::Status404 => ApiError::not_found("Project"),
            NotFound::Status403 => ApiError::Forbidden(None),
        }
    };
    let r = ProjectRef::parse(target_raw).ok_or_else(not_found)?;
    let target = access::lookup_project(state, &r)
        .await?
        .ok_or_else(not_found)?;
    let origin = &jc.project;
    let settings = state.store.instance_settings().await?;
    let project_link = if origin.id == target.id {
        None
    } else {
        state
            .store
            .project_link(target.id, origin.id, LinkDirection::Inbound)
            .await?
    };
    let group_entries = state.store.group_entries(target.id).await?;
    let memberships = jc.memberships(state).await?;
    let request = Request {
        origin,
        target: &target,
        user: &jc.user,
        memberships,
        instance_enforced: settings.enforce_ci_inbound_job_token_scope_enabled,
        project_link: project_link.as_ref(),
        group_entries: &group_entries,
        policy,
    };
    let allowed = match decision::decide(&request) {
        Ok(a) => a,
        Err(decision::Denied::NotVisible) => return Err(not_found()),
        Err(denied) => {
            state.metrics.decision(match denied {
                decision::Denied::NotAllowed => DecisionOutcome::DeniedNotAllowed,
                decision::Denied::Policy { .. } => DecisionOutcome::DeniedPolicy,
                decision::Denied::Role { .. } => DecisionOutcome::DeniedRole,
                decision::Denied::NotVisible => DecisionOutcome::DeniedNotFound,
            });
            return Err(ApiError::Forbidden(decision::denial_message(
                &denied, origin, &target,
            )));
        }
    };
    state.metrics.decision(match allowed.via {
        Via::SameProject => DecisionOutcome::AllowedSameProject,
        Via::ScopeDisabled => DecisionOutcome::AllowedScopeDisabled,
        Via::Project(_) => DecisionOutcome::AllowedProjectEntry,
        Via::Group(_) => DecisionOutcome::AllowedGroupEntry,
    });
    if origin.id != target.id {
        state.auth_log.record(target.id, origin.id, policy);
    }
    let matched = match allowed.via {
        Via::SameProject => MatchedEntry::SameProject,
        Via::ScopeDisabled => MatchedEntry::ScopeDisabled,
        Via::Project(l) => MatchedEntry::Project {
            id: origin.id,
            path_with_namespace: origin.full_path.clone(),
            default_permissions: l.default_permissions,
            job_token_policies: l.job_token_policies.clone(),
        },
        Via::Group(g) => {
            let group = state
                .store
                .namespace(g.target_group_id)
                .await?
                .ok_or(ApiError::RecordNotFound)?;
            MatchedEntry::Group {
                id: group.id,
                full_path: group.full_path,
                default_permissions: g.default_permissions,
                job_token_policies: g.job_token_policies.clone(),
            }
        }
    };
    Ok(JobTokenDecision {
        allowed: true,
        job: DecisionJob { id: jc.job.id },
        source_project: DecisionProject {
            id: origin.id,
            path_with_namespace: origin.full_path.clone(),
        },
        target_project: DecisionProject {
            id: target.id,
            path_with_namespace: target.full_path.clone(),
        },
        user: DecisionUser {
            id: jc.user.id,
            username: jc.user.username.clone(),
        },
        access_level: allowed.access_level.map(|l| l.value()),
        policy: policy.map(str::to_owned),
        matched,
    })
}

/// How a target that does not exist is answered: GitLab's 404, or 403 for callers such as
/// nginx's `auth_request`, which treats anything but 2xx, 401 and 403 as an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotFound {
    Status404,
    Status403,
}
