//! `/application/settings` (administrators).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jobscope_store::InstanceSettingsPatch;
use jobscope_types::Visibility;
use serde_json::Value;

use crate::auth::MaybeCaller;
use crate::entities::Entities;
use crate::error::{ApiError, ApiResult};
use crate::params::{RequestParams, parse_bool};
use crate::service::settings;
use crate::state::AppState;
use crate::urls::BaseUrl;

/// The settings `PUT` understands.
const KNOWN: &[&str] = &[
    "enforce_ci_inbound_job_token_scope_enabled",
    "default_project_visibility",
    "default_group_visibility",
    "default_projects_limit",
    "max_personal_access_token_lifetime",
];

pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let s = settings::show(&state, &caller).await?;
    Ok(Json(Entities::new(&base).settings(&s)).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    crate::access::require_admin(&caller)?;
    let mut check = params.check();
    let project_vis = check.optional_string_in(
        "default_project_visibility",
        &["private", "internal", "public"],
    );
    let group_vis = check.optional_string_in(
        "default_group_visibility",
        &["private", "internal", "public"],
    );
    let projects_limit = check.optional_int("default_projects_limit");
    let lifetime = check.optional_int("max_personal_access_token_lifetime");
    if !KNOWN.iter().any(|k| params.contains(k)) {
        check.error(format!(
            "{} are missing, at least one parameter must be provided",
            KNOWN.join(", ")
        ));
    }
    check.done()?;
    let mut invalid = Vec::new();
    let enforce = match params.get("enforce_ci_inbound_job_token_scope_enabled") {
        None => None,
        Some(v) => match parse_bool(v) {
            Some(b) => Some(b),
            None => {
                invalid.push((
                    "enforce_ci_inbound_job_token_scope_enabled".to_owned(),
                    vec!["must be a boolean value".to_owned()],
                ));
                None
            }
        },
    };
    let projects_limit = match projects_limit.map(|l| l.value()) {
        Some(Some(l)) if l >= 0 => Some(l),
        Some(_) => {
            invalid.push((
                "default_projects_limit".to_owned(),
                vec!["must be greater than or equal to 0".to_owned()],
            ));
            None
        }
        None => None,
    };
    let lifetime = if params.contains("max_personal_access_token_lifetime") {
        match (
            params.get("max_personal_access_token_lifetime"),
            lifetime.map(|l| l.value()),
        ) {
            (Some(Value::Null), _) => Some(None),
            (Some(Value::String(s)), _) if s.is_empty() => Some(None),
            (_, Some(Some(days))) if (1..=400).contains(&days) => Some(Some(days)),
            _ => {
                invalid.push((
                    "max_personal_access_token_lifetime".to_owned(),
                    vec!["must be less than or equal to 400".to_owned()],
                ));
                None
            }
        }
    } else {
        None
    };
    if !invalid.is_empty() {
        return Err(ApiError::Validation(invalid));
    }
    let patch = InstanceSettingsPatch {
        enforce_ci_inbound_job_token_scope_enabled: enforce,
        default_project_visibility: project_vis.and_then(|v| Visibility::parse(&v)),
        default_group_visibility: group_vis.and_then(|v| Visibility::parse(&v)),
        default_projects_limit: projects_limit,
        max_personal_access_token_lifetime: lifetime,
    };
    let s = settings::update(&state, &caller, patch).await?;
    Ok(Json(Entities::new(&base).settings(&s)).into_response())
}
