//! A project's activity pages: the job token authentication log (with its CSV download and
//! "add all to the allowlist", the autopopulation preview then apply), the audit events and
//! the reverse lookup (which projects this project's jobs may reach).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobscope_store::{AuditQuery, PageRequest, Project};
use jobscope_types::api::MatchedEntry;
use maud::{Markup, html};

use super::explain::{Doing, Explained, explain};
use super::html;
use super::project::admin;
use super::session::SignedIn;
use super::view::{self, Tab, project_url};
use crate::access::AdminProject;
use crate::error::{ApiError, ApiResult};
use crate::service::audit::Author;
use crate::service::{autopopulate, reachable, scope};
use crate::state::AppState;

const LOG_PER_PAGE: u64 = 50;
const AUDIT_PER_PAGE: u64 = 20;

/// A project page whose content could not be produced: the error in place.
fn failed(signed: &SignedIn, project: &Project, tab: Tab, err: &ApiError) -> Response {
    let e = explain(err, Doing::Viewing, &project.full_path);
    let body = html! {
        (view::project_header(project, tab))
        (view::error_box(&e))
    };
    html(e.status, view::page(&project.full_path, Some(signed), body))
}

async fn admin_for_view(
    state: &AppState,
    signed: &SignedIn,
    project: &Project,
) -> ApiResult<AdminProject> {
    admin(state, signed, project, ApiError::Forbidden(None)).await
}

fn policies_list(names: &[&String]) -> Markup {
    html! {
        @if names.is_empty() { span.muted { "—" } }
        @else { ul.policies { @for n in names { li { code { (n) } } } } }
    }
}

/// GET /{project}/-/settings/ci_cd/authentication_log
pub async fn log(state: &AppState, signed: &SignedIn, project: &Project, page: u64) -> Response {
    let result = async {
        let admin = admin_for_view(state, signed, project).await?;
        // Accesses still waiting in memory are part of the log.
        state.auth_log.flush().await?;
        Ok::<_, ApiError>(
            state
                .store
                .authorization_logs(admin.project().id, PageRequest::new(page, LOG_PER_PAGE))
                .await?,
        )
    }
    .await;
    let logs = match result {
        Ok(l) => l,
        Err(e) => return failed(signed, project, Tab::Log, &e),
    };
    let body = html! {
        (view::project_header(project, Tab::Log))
        section aria-labelledby="log-title" {
            h2 #log-title { "Authentication log" }
            p.lead {
                "Projects whose CI/CD jobs used their job tokens to access this project, with the "
                "last time they did."
            }
            div.actions {
                a.button href=(project_url(project, "settings/ci_cd/export_job_token_authorizations.csv")) download { "Download CSV" }
                a.button.button-primary href=(project_url(project, "settings/ci_cd/autopopulate")) { "Add all to the allowlist" }
            }
            @if logs.items.is_empty() {
                p.empty { "No job token of another project has accessed this project yet." }
            } @else {
                p.count { (logs.total) " " (if logs.total == 1 { "project" } else { "projects" }) }
                div.table-wrap {
                    table.log {
                        thead {
                            tr {
                                th scope="col" { "Origin project" }
                                th scope="col" { "Last authorized at" }
                                th scope="col" { "Permissions used" }
                            }
                        }
                        tbody {
                            @for row in &logs.items {
                                tr {
                                    td data-label="Origin project" { span.path { (row.origin.full_path) } }
                                    td data-label="Last authorized at" { (view::time(row.last_authorized_at)) }
                                    td data-label="Permissions used" { (policies_list(&row.job_token_policies.keys().collect::<Vec<_>>())) }
                                }
                            }
                        }
                    }
                }
                (view::pager(&project_url(project, "settings/ci_cd/authentication_log"), page, LOG_PER_PAGE, logs.total))
            }
        }
    };
    html(
        StatusCode::OK,
        view::page(
            &format!("Authentication log · {}", project.full_path),
            Some(signed),
            body,
        ),
    )
}

/// A CSV cell: quoted when needed, and with a leading `'` when a spreadsheet would read it as
/// a formula (`=`, `+`, `-`, `@`, tab, carriage return).
pub fn csv_cell(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// GET /{project}/-/settings/ci_cd/export_job_token_authorizations.csv: GitLab's export
/// (header `Origin Project Path,Last Authorized At (UTC)`, file name with the project id and
/// the time).
pub async fn csv(state: &AppState, signed: &SignedIn, project: &Project) -> Response {
    let result = async {
        let admin = admin_for_view(state, signed, project).await?;
        state.auth_log.flush().await?;
        Ok::<_, ApiError>(
            state
                .store
                .authorization_logs(admin.project().id, PageRequest::all())
                .await?,
        )
    }
    .await;
    let logs = match result {
        Ok(l) => l,
        Err(e) => return failed(signed, project, Tab::Log, &e),
    };
    let mut body = String::from("Origin Project Path,Last Authorized At (UTC)\n");
    for row in &logs.items {
        body.push_str(&csv_cell(&row.origin.full_path));
        body.push(',');
        body.push_str(
            &row.last_authorized_at
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        );
        body.push('\n');
    }
    let disposition = format!(
        "attachment; filename=\"job-token-authorizations-{}-{}.csv\"",
        project.id,
        crate::service::now().format("%Y%m%d%H%M%S")
    );
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// GET /{project}/-/settings/ci_cd/autopopulate: what "add all" would do (the API's
/// `dry_run`), and the button that does it.
pub async fn autopopulate_preview(
    state: &AppState,
    signed: &SignedIn,
    project: &Project,
    error: Option<Explained>,
) -> Response {
    let result = async {
        let admin = admin_for_view(state, signed, project).await?;
        let plan = autopopulate::plan(state, &admin).await?;
        let enabled = scope::effective_inbound_enabled(state, admin.project()).await?;
        Ok::<_, ApiError>((plan, enabled))
    }
    .await;
    let (plan, enabled) = match result {
        Ok(v) => v,
        Err(e) => {
            // A refused apply whose preview also fails shows the apply's error.
            let e = error.unwrap_or_else(|| explain(&e, Doing::Viewing, &project.full_path));
            let body = html! {
                (view::project_header(project, Tab::Log))
                (view::error_box(&e))
            };
            return html(
                e.status,
                view::page("Add all to the allowlist", Some(signed), body),
            );
        }
    };
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let replaced = plan.replaced_projects.len() + plan.replaced_groups.len();
    let nothing = plan.projects.is_empty() && plan.groups.is_empty();
    let body = html! {
        (view::project_header(project, Tab::Log))
        section.card aria-labelledby="auto-title" {
            h2 #auto-title { "Add all projects in the authentication log" }
            @if nothing {
                p { "Every project in the authentication log is already covered by the allowlist (or the log is empty): there is nothing to add." }
            } @else {
                p {
                    "These entries will be added to the allowlist with default permissions, "
                    "marked as autopopulated. Projects that share groups are grouped when the "
                    "allowlist would otherwise exceed its 200 entries."
                }
                @if !plan.groups.is_empty() {
                    h3 { "Groups" }
                    ul.entries { @for g in &plan.groups { li { span.badge.badge-kind { "Group" } " " span.path { (g.full_path) } } } }
                }
                @if !plan.projects.is_empty() {
                    h3 { "Projects" }
                    ul.entries { @for p in &plan.projects { li { span.badge.badge-kind { "Project" } " " span.path { (p.full_path) } } } }
                }
            }
            @if replaced > 0 {
                p.help { "They replace the " (replaced) " entries added by an earlier autopopulation." }
            }
            @if !enabled {
                p.alert.alert-info {
                    "Authorized groups and projects will also be set to "
                    strong { "Only this project and any groups and projects in the allowlist" } "."
                }
            }
            @if let Some(e) = &error { (view::error_box(e)) }
            form method="post" action=(project_url(project, "settings/ci_cd/autopopulate")) {
                (view::csrf(signed))
                div.actions {
                    button.button.button-primary type="submit" { "Add entries" }
                    a.button href=(project_url(project, "settings/ci_cd/authentication_log")) { "Cancel" }
                }
            }
        }
    };
    html(
        status,
        view::page("Add all to the allowlist", Some(signed), body),
    )
}

/// POST /{project}/-/settings/ci_cd/autopopulate: the API's autopopulation, applied.
pub async fn autopopulate_apply(
    state: &AppState,
    signed: &SignedIn,
    author: &Author,
    project: &Project,
) -> ApiResult<()> {
    signed.require_write()?;
    let admin = admin(state, signed, project, ApiError::Forbidden(None)).await?;
    let plan = autopopulate::plan(state, &admin).await?;
    autopopulate::apply(state, &signed.caller, author, &admin, &plan).await
}

/// GET /{project}/-/audit_events
pub async fn audit(state: &AppState, signed: &SignedIn, project: &Project, page: u64) -> Response {
    let result = async {
        let admin = admin_for_view(state, signed, project).await?;
        let q = AuditQuery {
            entity_type: String::new(),
            entity_id: 0,
            created_after: None,
            created_before: None,
            author_id: None,
            id: None,
        };
        crate::service::audit::list(state, &admin, q, PageRequest::new(page, AUDIT_PER_PAGE)).await
    }
    .await;
    let events = match result {
        Ok(e) => e,
        Err(e) => return failed(signed, project, Tab::Audit, &e),
    };
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let body = html! {
        (view::project_header(project, Tab::Audit))
        section aria-labelledby="audit-title" {
            h2 #audit-title { "Audit events" }
            p.lead { "Every change of this project's job token permissions, newest first." }
            @if events.items.is_empty() {
                p.empty { "No change yet." }
            } @else {
                div.table-wrap {
                    table.audit {
                        thead {
                            tr {
                                th scope="col" { "Date" }
                                th scope="col" { "Author" }
                                th scope="col" { "Action" }
                                th scope="col" { "Event" }
                            }
                        }
                        tbody {
                            @for e in &events.items {
                                tr {
                                    td data-label="Date" { (view::time(e.created_at)) }
                                    td data-label="Author" { (text(&e.details, "author_name")) }
                                    td data-label="Action" { (text(&e.details, "custom_message")) }
                                    td data-label="Event" { code { (e.event_name) } }
                                }
                            }
                        }
                    }
                }
                (view::pager(&project_url(project, "audit_events"), page, AUDIT_PER_PAGE, events.total))
            }
        }
    };
    html(
        StatusCode::OK,
        view::page(
            &format!("Audit events · {}", project.full_path),
            Some(signed),
            body,
        ),
    )
}

/// GET /{project}/-/settings/ci_cd/reachable: the reverse lookup.
pub async fn reachable(state: &AppState, signed: &SignedIn, project: &Project) -> Response {
    let result = async {
        let admin = admin_for_view(state, signed, project).await?;
        reachable::list(state, &signed.caller, &admin).await
    }
    .await;
    let list = match result {
        Ok(l) => l,
        Err(e) => return failed(signed, project, Tab::Reachable, &e),
    };
    let body = html! {
        (view::project_header(project, Tab::Reachable))
        section aria-labelledby="reach-title" {
            h2 #reach-title { "Reachable projects" }
            p.lead {
                "Projects whose allowlist lets CI/CD jobs of " strong { (project.full_path) }
                " use their job tokens to access them (among the projects you can see). "
                "Projects that allow all groups and projects are not listed."
            }
            @if list.is_empty() {
                p.empty { "No allowlist names this project or one of its groups." }
            } @else {
                div.table-wrap {
                    table.reach {
                        thead {
                            tr {
                                th scope="col" { "Project" }
                                th scope="col" { "Allowed through" }
                                th scope="col" { "Permissions" }
                                th scope="col" { "Allowlist" }
                            }
                        }
                        tbody {
                            @for r in &list {
                                tr {
                                    td data-label="Project" { span.path { (r.project.full_path) } }
                                    @match &r.via {
                                        MatchedEntry::Project { default_permissions, job_token_policies, .. } => {
                                            td data-label="Allowed through" { "An entry for this project" }
                                            td data-label="Permissions" { (entry_permissions(*default_permissions, job_token_policies)) }
                                        }
                                        MatchedEntry::Group { full_path, default_permissions, job_token_policies, .. } => {
                                            td data-label="Allowed through" { "An entry for the group " span.path { (full_path) } }
                                            td data-label="Permissions" { (entry_permissions(*default_permissions, job_token_policies)) }
                                        }
                                        _ => {
                                            td data-label="Allowed through" { "—" }
                                            td data-label="Permissions" { "—" }
                                        }
                                    }
                                    td data-label="Allowlist" {
                                        @if r.inbound_enabled { "In force" } @else { span.muted { "Not in force (all groups and projects)" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        view::page(
            &format!("Reachable projects · {}", project.full_path),
            Some(signed),
            body,
        ),
    )
}

fn entry_permissions(default_permissions: bool, list: &[String]) -> Markup {
    html! {
        @if default_permissions { "Default permissions" }
        @else { (policies_list(&list.iter().collect::<Vec<_>>())) }
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_guarded() {
        assert_eq!(csv_cell("acme/app"), "acme/app");
        assert_eq!(csv_cell("=cmd()"), "'=cmd()");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@x"), "'@x");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("=a,\"b\""), "\"'=a,\"\"b\"\"\"");
    }
}
