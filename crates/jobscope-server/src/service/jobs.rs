//! CI jobs, as the CI system reports them: created running with a job token, ended with a
//! final status. The token authenticates only while its job runs.

use jobscope_store::{Job, JobStatus, NewJob, UserState};
use jobscope_types::{JobId, ProjectRef, UserId};

use crate::access;
use crate::auth::Caller;
use crate::auth::tokens::{JOB_TOKEN_PREFIX, random_secret};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The partition part of legacy job tokens (`glcbt-<partition hex>_<secret>`).
const PARTITION_ID: u32 = 100;

/// Administrators and tokens with the `ci` scope act as the CI system.
pub fn require_ci(caller: &Caller) -> ApiResult<()> {
    if caller.is_admin() || caller.token.scopes.iter().any(|s| s == "ci") {
        Ok(())
    } else {
        Err(ApiError::Forbidden(None))
    }
}

pub fn new_job_token() -> String {
    format!("{JOB_TOKEN_PREFIX}{PARTITION_ID:x}_{}", random_secret(20))
}

pub struct CreateJob {
    pub project: String,
    pub user_id: i64,
    pub name: String,
    pub ref_name: String,
}

/// Starts a job; returns it with its token (shown once).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: CreateJob,
) -> ApiResult<(Job, String)> {
    require_ci(caller)?;
    let not_found = || ApiError::not_found("Project");
    let r = ProjectRef::parse(&input.project).ok_or_else(not_found)?;
    let project = access::lookup_project(state, &r)
        .await?
        .ok_or_else(not_found)?;
    let user = state
        .store
        .user(UserId(input.user_id))
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    if user.state != UserState::Active {
        return Err(ApiError::bad_request(format!(
            "User {} is {} and cannot run jobs",
            user.username,
            user.state.as_str()
        )));
    }
    let token = new_job_token();
    let job = state
        .store
        .create_job(NewJob {
            project_id: project.id,
            user_id: user.id,
            name: input.name,
            ref_name: input.ref_name,
            token_digest: state.tokens.digest(&token),
            created_at: super::now(),
        })
        .await?;
    Ok((job, token))
}

pub async fn show(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Job> {
    require_ci(caller)?;
    state
        .store
        .job(JobId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("Job"))
}

/// Ends a running job with `status` (success, failed or canceled).
pub async fn finish(
    state: &AppState,
    caller: &Caller,
    id: i64,
    status: JobStatus,
) -> ApiResult<Job> {
    let job = show(state, caller, id).await?;
    if job.status != JobStatus::Running {
        return Err(ApiError::bad_request("Job is not running"));
    }
    state
        .store
        .finish_job(job.id, status, super::now())
        .await?
        .ok_or_else(|| ApiError::bad_request("Job is not running"))
}
