//! CI job token authentication, for the routes that accept job tokens (`GET /job`, the
//! decision endpoint). A job token is valid only while its job runs, its project exists and
//! its user is active; the job's project and user come only from the server's record.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use jobscope_store::{Job, JobStatus, Membership, Project, User, UserState};
use tokio::sync::OnceCell;

use crate::auth::tokens::{JOB_TOKEN_PREFIX, SecretToken};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The job behind a job token, with its project and user.
#[derive(Debug)]
pub struct JobCaller {
    pub job: Job,
    pub project: Project,
    pub user: User,
    memberships: OnceCell<Vec<Membership>>,
}

impl JobCaller {
    pub async fn memberships(&self, state: &AppState) -> ApiResult<&[Membership]> {
        let m = self
            .memberships
            .get_or_try_init(|| async { state.store.memberships_of(self.user.id).await })
            .await?;
        Ok(m)
    }
}

/// Finds a job token where GitLab accepts one: the `JOB-TOKEN` header, the `job_token` or
/// `token` query parameter, `Authorization: Bearer glcbt-…`, or HTTP Basic with the user
/// `gitlab-ci-token`.
pub fn find_job_token(parts: &Parts) -> Option<SecretToken> {
    if let Some(v) = parts.headers.get("job-token").and_then(|v| v.to_str().ok()) {
        return Some(SecretToken::new(v.trim()));
    }
    let query = parts.uri.query().unwrap_or("");
    for name in ["job_token", "token"] {
        if let Some((_, v)) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name) {
            return Some(SecretToken::new(v.into_owned()));
        }
    }
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?
        .trim();
    let (scheme, rest) = auth.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && rest.starts_with(JOB_TOKEN_PREFIX) {
        return Some(SecretToken::new(rest));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        if user == "gitlab-ci-token" {
            return Some(SecretToken::new(password));
        }
    }
    None
}

impl FromRequestParts<AppState> for JobCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let secret = find_job_token(parts).ok_or(ApiError::Unauthorized)?;
        // A job token presented and refused is a failed authentication.
        let caller = super::count_refusal(state, parts, resolve(state, &secret).await)?;
        state
            .limits
            .authenticated(&parts.headers, &parts.extensions, caller.user.id)?;
        Ok(caller)
    }
}

/// The running job of a job token, its project and its active user; 401 otherwise.
async fn resolve(state: &AppState, secret: &SecretToken) -> ApiResult<JobCaller> {
    // What cannot be a job token jobscope issued is refused without a lookup (C1.13).
    if !secret.has_shape(JOB_TOKEN_PREFIX) {
        return Err(ApiError::Unauthorized);
    }
    let job = state
        .store
        .job_by_token_digest(&secret.digest(&state.tokens))
        .await?
        .filter(|j| j.status == JobStatus::Running)
        .ok_or(ApiError::Unauthorized)?;
    let project = state
        .store
        .project(job.project_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let user = state
        .store
        .user(job.user_id)
        .await?
        .filter(|u| u.state == UserState::Active)
        .ok_or(ApiError::Unauthorized)?;
    Ok(JobCaller {
        job,
        project,
        user,
        memberships: OnceCell::new(),
    })
}
