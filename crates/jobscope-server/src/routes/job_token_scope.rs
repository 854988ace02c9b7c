//! `/projects/:id/job_token_scope[...]`: GitLab's eight job token scope endpoints, and
//! jobscope's REST for what GitLab only offers in GraphQL (policies, the authentication log,
//! autopopulation) and the reverse lookup.
//!
//! Each handler checks in GitLab's order: authentication (401), parameters (400
//! `{"error": …}`), the project (404), the caller's role (403), then the target.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobscope_store::{Namespace, PageRequest, Paged};
use jobscope_types::api::{
    AllowlistEntry, AllowlistGroup, AllowlistProject, AuthLog, Autopopulation, ReachableProject,
};
use jobscope_types::{NamespaceId, ProjectId, UserId, policies};

use super::{ClientIp, PathParams};
use crate::access::{self, AdminProject};
use crate::auth::{Caller, MaybeCaller};
use crate::entities::Entities;
use crate::error::{ApiError, ApiResult};
use crate::pagination;
use crate::params::{Check, Int, Params, RequestParams, parse_int_str};
use crate::service::audit::Author;
use crate::service::scope::{self, MSG_INSUFFICIENT_PERMISSIONS, Permissions};
use crate::service::{autopopulate, reachable};
use crate::state::AppState;
use crate::urls::BaseUrl;

/// The `:id` of the POST and DELETE routes, which GitLab declares as an Integer: anything else
/// is a parameter error ("id is invalid") before any lookup.
fn integer_id(raw: &str, name: &str, errors: &mut Vec<String>) -> Option<Int> {
    let parsed = parse_int_str(raw);
    if parsed.is_none() {
        errors.push(format!("{name} is invalid"));
    }
    parsed
}

fn project_id_text(id: Int) -> String {
    // An id beyond the range can never exist; "0" resolves to nothing as well.
    id.value().unwrap_or(0).to_string()
}

/// Reads `job_token_policies` (a list of policy names) and `default_permissions`.
fn permissions(check: &mut Check<'_>, base: Permissions) -> Permissions {
    let default_permissions = check
        .optional_bool("default_permissions")
        .unwrap_or(base.default_permissions);
    let job_token_policies = match check.string_array("job_token_policies", false) {
        Some(list) => match policies::normalise(&list) {
            Ok(list) => list,
            Err(unknown) => {
                check.error(format!(
                    "job_token_policies has an unknown policy: {unknown}"
                ));
                Vec::new()
            }
        },
        None => base.job_token_policies,
    };
    Permissions {
        default_permissions,
        job_token_policies,
    }
}

async fn admin(state: &AppState, caller: &Caller, raw_id: &str) -> ApiResult<AdminProject> {
    access::authorize_admin_project(state, caller, raw_id, ApiError::Forbidden(None)).await
}

async fn creators(
    state: &AppState,
    ids: impl Iterator<Item = UserId>,
) -> ApiResult<Vec<jobscope_store::User>> {
    let ids: Vec<UserId> = ids.collect();
    Ok(state.store.users_by_ids(&ids).await?)
}

/// GET /projects/:id/job_token_scope
pub async fn show(
    State(state): State<AppState>,
    caller: MaybeCaller,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    Ok(Json(scope::show(&state, &admin).await?).into_response())
}

/// PATCH /projects/:id/job_token_scope
pub async fn update(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let enabled = check.required_bool("enabled");
    check.done()?;
    let enabled = enabled.ok_or_else(|| ApiError::param("enabled is missing"))?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    scope::set_inbound(&state, &Author::of(&caller, ip), &admin, enabled).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /projects/:id/job_token_scope/allowlist
pub async fn list_projects(
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
    check.done()?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    let entities = Entities::new(&base);
    let paged = scope::list_projects(&state, &admin, page).await?;
    let users = creators(
        &state,
        paged.items.iter().filter_map(|(_, l)| l.as_ref()?.added_by),
    )
    .await?;
    let paged = paged.map(|(p, link)| AllowlistProject {
        project: entities.basic_project(&p),
        entry: match &link {
            Some(l) => entities.entry_info(
                l.default_permissions,
                &l.job_token_policies,
                l.autopopulated,
                l.added_by.and_then(|id| users.iter().find(|u| u.id == id)),
                Some(l.created_at),
            ),
            None => entities.entry_info(true, &[], false, None, None),
        },
    });
    Ok(pagination::respond(&base, &uri, page, paged))
}

/// POST /projects/:id/job_token_scope/allowlist
pub async fn add_project(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut errors = Vec::new();
    let id = integer_id(path.get("id"), "id", &mut errors);
    let mut check = params.check();
    let target = check.required_int("target_project_id");
    let perms = permissions(&mut check, Permissions::default());
    for e in errors.into_iter().rev() {
        check.error_first(e);
    }
    check.done()?;
    let (Some(id), Some(target)) = (id, target) else {
        return Err(ApiError::param("id is invalid"));
    };
    let admin = admin(&state, &caller, &project_id_text(id)).await?;
    let created = scope::add_project(
        &state,
        &caller,
        &Author::of(&caller, ip),
        &admin,
        target.value().map(ProjectId),
        perms,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// DELETE /projects/:id/job_token_scope/allowlist/:target_project_id
pub async fn remove_project(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut errors = Vec::new();
    let id = integer_id(path.get("id"), "id", &mut errors);
    let target = integer_id(
        path.get("target_project_id"),
        "target_project_id",
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::Params(errors));
    }
    let (Some(id), Some(target)) = (id, target) else {
        return Err(ApiError::param("id is invalid"));
    };
    // GitLab looks the target up first (visibility ignored): a missing one is "404 Project".
    let target = match target.value() {
        Some(t) => access::project_by_id(&state, ProjectId(t)).await?,
        None => None,
    }
    .ok_or_else(|| ApiError::not_found("Project"))?;
    let admin = access::authorize_admin_project(
        &state,
        &caller,
        &project_id_text(id),
        ApiError::forbidden(MSG_INSUFFICIENT_PERMISSIONS),
    )
    .await?;
    scope::remove_project(&state, &caller, &Author::of(&caller, ip), &admin, &target).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The target of a PATCH: an entry's project (by id, visibility ignored as on DELETE).
fn patch_permissions(params: &Params) -> ApiResult<Permissions> {
    let mut check = params.check();
    if !params.contains("default_permissions") && !params.contains("job_token_policies") {
        check.error(
            "default_permissions, job_token_policies are missing, at least one parameter must be provided",
        );
    }
    // Unspecified fields are filled from the entry by the caller of this function; here the
    // defaults only stand in for absent values.
    let perms = permissions(&mut check, Permissions::default());
    check.done()?;
    Ok(perms)
}

/// PATCH /projects/:id/job_token_scope/allowlist/:target_project_id
pub async fn update_project(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let target = parse_int_str(path.get("target_project_id"))
        .ok_or_else(|| ApiError::param("target_project_id is invalid"))?;
    let mut perms = patch_permissions(&params)?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    let not_in_scope = || ApiError::bad_request("Target project is not in the job token scope");
    let target = match target.value() {
        Some(t) => access::project_by_id(&state, ProjectId(t)).await?,
        None => None,
    }
    .ok_or_else(not_in_scope)?;
    let current = state
        .store
        .project_link(
            admin.project().id,
            target.id,
            jobscope_store::LinkDirection::Inbound,
        )
        .await?
        .ok_or_else(not_in_scope)?;
    if !params.contains("default_permissions") {
        perms.default_permissions = current.default_permissions;
    }
    if !params.contains("job_token_policies") {
        perms.job_token_policies = current.job_token_policies.clone();
    }
    let link =
        scope::update_project(&state, &Author::of(&caller, ip), &admin, &target, perms).await?;
    Ok(Json(AllowlistEntry {
        source_project_id: link.source_project_id,
        target_project_id: Some(link.target_project_id),
        target_group_id: None,
        default_permissions: link.default_permissions,
        job_token_policies: link.job_token_policies,
        autopopulated: link.autopopulated,
        added_by_id: link.added_by,
        created_at: link.created_at,
    })
    .into_response())
}

/// GET /projects/:id/job_token_scope/groups_allowlist
pub async fn list_groups(
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
    check.done()?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    let entities = Entities::new(&base);
    let paged = scope::list_groups(&state, &admin, page).await?;
    let users = creators(
        &state,
        paged.items.iter().filter_map(|(_, l)| l.as_ref()?.added_by),
    )
    .await?;
    let paged = paged.map(|(g, link)| AllowlistGroup {
        group: entities.basic_group(&g),
        entry: match &link {
            Some(l) => entities.entry_info(
                l.default_permissions,
                &l.job_token_policies,
                l.autopopulated,
                l.added_by.and_then(|id| users.iter().find(|u| u.id == id)),
                Some(l.created_at),
            ),
            None => entities.entry_info(true, &[], false, None, None),
        },
    });
    Ok(pagination::respond(&base, &uri, page, paged))
}

/// POST /projects/:id/job_token_scope/groups_allowlist
pub async fn add_group(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut errors = Vec::new();
    let id = integer_id(path.get("id"), "id", &mut errors);
    let mut check = params.check();
    let target = check.required_int("target_group_id");
    let perms = permissions(&mut check, Permissions::default());
    for e in errors.into_iter().rev() {
        check.error_first(e);
    }
    check.done()?;
    let (Some(id), Some(target)) = (id, target) else {
        return Err(ApiError::param("id is invalid"));
    };
    let admin = admin(&state, &caller, &project_id_text(id)).await?;
    let created = scope::add_group(
        &state,
        &caller,
        &Author::of(&caller, ip),
        &admin,
        target.value().map(NamespaceId),
        perms,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// DELETE /projects/:id/job_token_scope/groups_allowlist/:target_group_id
pub async fn remove_group(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut errors = Vec::new();
    let id = integer_id(path.get("id"), "id", &mut errors);
    let target = integer_id(path.get("target_group_id"), "target_group_id", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Params(errors));
    }
    let (Some(id), Some(target)) = (id, target) else {
        return Err(ApiError::param("id is invalid"));
    };
    // The group is looked up before the project (GitLab's order).
    let group = target_group(&state, target).await?;
    let admin = access::authorize_admin_project(
        &state,
        &caller,
        &project_id_text(id),
        ApiError::forbidden(MSG_INSUFFICIENT_PERMISSIONS),
    )
    .await?;
    scope::remove_group(&state, &Author::of(&caller, ip), &admin, &group).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn target_group(state: &AppState, target: Int) -> ApiResult<Namespace> {
    match target.value() {
        Some(t) => state.store.namespace(NamespaceId(t)).await?,
        None => None,
    }
    .filter(Namespace::is_group)
    .ok_or_else(|| ApiError::not_found("target_group_id not found"))
}

/// PATCH /projects/:id/job_token_scope/groups_allowlist/:target_group_id
pub async fn update_group(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let target = parse_int_str(path.get("target_group_id"))
        .ok_or_else(|| ApiError::param("target_group_id is invalid"))?;
    let mut perms = patch_permissions(&params)?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    let not_in_scope = || ApiError::bad_request("Target group is not in the job token scope");
    let group = target_group(&state, target)
        .await
        .map_err(|_| not_in_scope())?;
    let current = state
        .store
        .group_link(admin.project().id, group.id)
        .await?
        .ok_or_else(not_in_scope)?;
    if !params.contains("default_permissions") {
        perms.default_permissions = current.default_permissions;
    }
    if !params.contains("job_token_policies") {
        perms.job_token_policies = current.job_token_policies.clone();
    }
    let link = scope::update_group(&state, &Author::of(&caller, ip), &admin, &group, perms).await?;
    Ok(Json(AllowlistEntry {
        source_project_id: link.source_project_id,
        target_project_id: None,
        target_group_id: Some(link.target_group_id),
        default_permissions: link.default_permissions,
        job_token_policies: link.job_token_policies,
        autopopulated: link.autopopulated,
        added_by_id: link.added_by,
        created_at: link.created_at,
    })
    .into_response())
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .any(|part| part.split(';').next().unwrap_or("").trim() == "text/csv")
        })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// GET /projects/:id/job_token_scope/auth_logs (JSON, or CSV with `Accept: text/csv`)
pub async fn auth_logs(
    State(state): State<AppState>,
    caller: MaybeCaller,
    base: BaseUrl,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    check.done()?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    // Accesses still waiting in memory are part of the log.
    state.auth_log.flush().await?;
    let project_id = admin.project().id;
    if wants_csv(&headers) {
        let all = state
            .store
            .authorization_logs(project_id, PageRequest::all())
            .await?;
        let mut body = String::from("Origin Project Path,Last Authorized At (UTC)\n");
        for row in &all.items {
            body.push_str(&csv_field(&row.origin.full_path));
            body.push(',');
            body.push_str(
                &row.last_authorized_at
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            );
            body.push('\n');
        }
        let filename = format!(
            "attachment; filename=\"job-token-authorizations-{project_id}-{}.csv\"",
            crate::service::now().format("%Y%m%d%H%M%S")
        );
        let mut resp = body.into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&filename) {
            resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(resp);
    }
    let entities = Entities::new(&base);
    let paged = state
        .store
        .authorization_logs(project_id, page)
        .await?
        .map(|row| AuthLog {
            origin_project: entities.basic_project(&row.origin),
            last_authorized_at: row.last_authorized_at,
            job_token_policies: row
                .job_token_policies
                .iter()
                .map(|(k, v)| (k.clone(), jobscope_types::api::gitlab_time::format(v)))
                .collect(),
        });
    Ok(pagination::respond(&base, &uri, page, paged))
}

/// POST /projects/:id/job_token_scope/autopopulate[?dry_run=true]
pub async fn autopopulate(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    base: BaseUrl,
    path: PathParams,
    RequestParams(params): RequestParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let mut check = params.check();
    let dry_run = check.optional_bool("dry_run").unwrap_or(false);
    check.done()?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    let plan = autopopulate::plan(&state, &admin).await?;
    if !dry_run {
        autopopulate::apply(&state, &caller, &Author::of(&caller, ip), &admin, &plan).await?;
    }
    let entities = Entities::new(&base);
    let inbound_enabled = if dry_run {
        scope::effective_inbound_enabled(&state, admin.project()).await?
    } else {
        true
    };
    Ok(Json(Autopopulation {
        dry_run,
        projects: plan
            .projects
            .iter()
            .map(|p| entities.basic_project(p))
            .collect(),
        groups: plan
            .groups
            .iter()
            .map(|g| entities.basic_group(g))
            .collect(),
        replaced: plan.replaced_projects.len() + plan.replaced_groups.len(),
        inbound_enabled,
    })
    .into_response())
}

/// DELETE /projects/:id/job_token_scope/autopopulated
pub async fn clear_autopopulated(
    State(state): State<AppState>,
    caller: MaybeCaller,
    ClientIp(ip): ClientIp,
    path: PathParams,
) -> ApiResult<Response> {
    let caller = caller.require()?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    autopopulate::clear(&state, &Author::of(&caller, ip), &admin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /projects/:id/job_token_scope/reachable
pub async fn reachable(
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
    check.done()?;
    let admin = admin(&state, &caller, path.get("id")).await?;
    let all = reachable::list(&state, &caller, &admin).await?;
    let entities = Entities::new(&base);
    let total = all.len() as u64;
    let items: Vec<ReachableProject> = all
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.per_page).unwrap_or(usize::MAX))
        .map(|r| ReachableProject {
            project: entities.basic_project(&r.project),
            inbound_enabled: r.inbound_enabled,
            via: r.via,
        })
        .collect();
    Ok(pagination::respond(
        &base,
        &uri,
        page,
        Paged { items, total },
    ))
}
