//! The CI system's API (`/ci/jobs`), the job token's own job (`GET /job`), and the decision
//! endpoint for other services (`GET /job_token/allowed`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jobscope_store::JobStatus;
use jobscope_types::policies;
use serde_json::json;

use super::PathParams;
use crate::auth::MaybeCaller;
use crate::auth::job::JobCaller;
use crate::entities::{Entities, UserView};
use crate::error::{ApiError, ApiResult};
use crate::params::{RequestParams, parse_int_str};
use crate::service::decision::{self, NotFound};
use crate::service::jobs::{self, CreateJob};
use crate::state::AppState;
use crate::urls::BaseUrl;

fn job_id(raw: &str) -> ApiResult<i64> {
    match parse_int_str(raw) {
        Some(v) => Ok(v.value().unwrap_or(0)),
        None => Err(ApiError::param("id is invalid")),
    }
}

/// POST /ci/jobs: starts a job for `project_id` run by `user_id`; answers its token once.
pub async fn create(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let project = check.required_string("project_id");
    let user_id = check.required_int("user_id");
    let name = check.optional_string("name");
    let ref_name = check.optional_string("ref");
    check.done()?;
    let (job, token) = jobs::create(
        &state,
        &caller,
        CreateJob {
            project: project.unwrap_or_default(),
            user_id: user_id.and_then(|u| u.value()).unwrap_or(0),
            name: name.unwrap_or_else(|| "job".to_owned()),
            ref_name: ref_name.unwrap_or_else(|| "main".to_owned()),
        },
    )
    .await?;
    let project = state
        .store
        .project(job.project_id)
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    let body = Entities::new(&base).job(&job, &project, Some(token));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let job = jobs::show(&state, &caller, job_id(path.get("id"))?).await?;
    let project = state
        .store
        .project(job.project_id)
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    Ok(Json(Entities::new(&base).job(&job, &project, None)).into_response())
}

/// PUT /ci/jobs/:id with `status` = success, failed or canceled: ends the job.
pub async fn finish(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let id = job_id(path.get("id"))?;
    let mut check = params.check();
    let status = check.required_string("status");
    let status = status.and_then(|s| match JobStatus::parse(&s) {
        Some(st) if st != JobStatus::Running => Some(st),
        _ => {
            check.error("status does not have a valid value");
            None
        }
    });
    check.done()?;
    let status = status.ok_or_else(|| ApiError::param("status is missing"))?;
    let job = jobs::finish(&state, &caller, id, status).await?;
    let project = state
        .store
        .project(job.project_id)
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    Ok(Json(Entities::new(&base).job(&job, &project, None)).into_response())
}

/// GET /job: the job of the job token (GitLab's Job entity, without pipeline details).
pub async fn current_job(
    State(state): State<AppState>,
    base: BaseUrl,
    job: Result<JobCaller, ApiError>,
    caller: Result<MaybeCaller, ApiError>,
) -> ApiResult<Response> {
    let jc = match (job, caller) {
        (Ok(jc), _) => jc,
        // Authenticated some other way: GitLab answers 404 Job Not Found.
        (Err(_), Ok(MaybeCaller(Some(_)))) => return Err(ApiError::not_found("Job")),
        (Err(_), Err(e)) => return Err(e),
        (Err(e), Ok(MaybeCaller(None))) => return Err(e),
    };
    let entities = Entities::new(&base);
    let j = &jc.job;
    let duration = j
        .finished_at
        .unwrap_or_else(crate::service::now)
        .signed_duration_since(j.created_at)
        .num_milliseconds() as f64
        / 1000.0;
    let body = json!({
        "id": j.id,
        "status": j.status.as_str(),
        "stage": "test",
        "name": j.name,
        "ref": j.ref_name,
        "tag": false,
        "coverage": null,
        "allow_failure": false,
        "created_at": jobscope_types::api::gitlab_time::format(&j.created_at),
        "started_at": jobscope_types::api::gitlab_time::format(&j.created_at),
        "finished_at": j.finished_at.as_ref().map(jobscope_types::api::gitlab_time::format),
        "erased_at": null,
        "duration": duration,
        "queued_duration": 0.0,
        "user": entities.user(&jc.user, UserView::Profile),
        "commit": null,
        "pipeline": null,
        "web_url": base.join(&format!("/{}/-/jobs/{}", jc.project.full_path, j.id)),
        "project": { "ci_job_token_scope_enabled": jc.project.outbound_scope_enabled },
        "artifacts": [],
        "runner": null,
        "artifacts_expire_at": null,
        "archived": false,
        "tag_list": [],
    });
    let _ = &state;
    Ok(Json(body).into_response())
}

/// GET /job_token/allowed?project=<id or path>[&policy=<name>][&auth_request=true]
pub async fn allowed(
    State(state): State<AppState>,
    job: JobCaller,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let mut check = params.check();
    let project = check.required_string("project");
    let policy = check.optional_string("policy");
    let for_nginx = check.optional_bool("auth_request").unwrap_or(false);
    if let Some(p) = &policy
        && !policies::is_policy(p)
    {
        check.error(format!("policy has an unknown policy: {p}"));
    }
    check.done()?;
    let project = project.unwrap_or_default();
    let not_found = if for_nginx {
        NotFound::Status403
    } else {
        NotFound::Status404
    };
    let decision = decision::decide(&state, &job, &project, policy.as_deref(), not_found).await?;
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-jobscope-job-id", decision.job.id.to_string());
    put("x-jobscope-user", decision.user.username.clone());
    put("x-jobscope-user-id", decision.user.id.to_string());
    put(
        "x-jobscope-source-project",
        decision.source_project.path_with_namespace.clone(),
    );
    put(
        "x-jobscope-target-project-id",
        decision.target_project.id.to_string(),
    );
    put(
        "x-jobscope-target-project",
        decision.target_project.path_with_namespace.clone(),
    );
    put(
        "x-jobscope-access-level",
        decision.access_level.unwrap_or(0).to_string(),
    );
    Ok((headers, Json(decision)).into_response())
}
