//! `/projects/:id/audit_events`: the project's audit events (Maintainer and above).

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jobscope_store::{AuditQuery, PageRequest};

use super::PathParams;
use crate::access;
use crate::auth::MaybeCaller;
use crate::entities::Entities;
use crate::error::{ApiError, ApiResult};
use crate::pagination;
use crate::params::{Check, RequestParams, parse_int_str};
use crate::service::audit;
use crate::state::AppState;
use crate::urls::BaseUrl;

fn time(check: &mut Check<'_>, key: &str) -> Option<DateTime<Utc>> {
    let s = check.optional_string(key)?;
    match DateTime::parse_from_rfc3339(&s) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => match chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) => d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            Err(_) => {
                check.error(format!("{key} is invalid"));
                None
            }
        },
    }
}

fn query(check: &mut Check<'_>) -> AuditQuery {
    AuditQuery {
        entity_type: String::new(),
        entity_id: 0,
        created_after: time(check, "created_after"),
        created_before: time(check, "created_before"),
        author_id: None,
        id: None,
    }
}

pub async fn list(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    let q = query(&mut check);
    check.done()?;
    let admin =
        access::authorize_admin_project(&state, &caller, path.get("id"), ApiError::Forbidden(None))
            .await?;
    let entities = Entities::new(&base);
    let paged = audit::list(&state, &admin, q, page)
        .await?
        .map(|e| entities.audit_event(&e));
    Ok(pagination::respond(&base, &uri, page, paged))
}

pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let id = parse_int_str(path.get("audit_event_id"))
        .ok_or_else(|| ApiError::param("audit_event_id is invalid"))?;
    let admin =
        access::authorize_admin_project(&state, &caller, path.get("id"), ApiError::Forbidden(None))
            .await?;
    let q = AuditQuery {
        id: Some(id.value().unwrap_or(0)),
        entity_type: String::new(),
        entity_id: 0,
        created_after: None,
        created_before: None,
        author_id: None,
    };
    let event = audit::list(&state, &admin, q, PageRequest::new(1, 1))
        .await?
        .items
        .into_iter()
        .next()
        .ok_or(ApiError::RecordNotFound)?;
    Ok(Json(Entities::new(&base).audit_event(&event)).into_response())
}
