//! A project's pages, under `/{full/path}/-/…`: the job token permissions (the scope switch
//! and the allowlist: add, edit policies, remove), and through [`super::activity`] the
//! authentication log, the audit events and the reverse lookup.
//!
//! Each action is a form POST; success redirects back with a fixed notice (Post/Redirect/Get),
//! failure renders the page again with the error next to the form that caused it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use jobscope_store::{
    GroupLink, GroupQuery, LinkDirection, Namespace, PageRequest, Project, ProjectLink,
    ProjectOrder, ProjectQuery, SortDirection, User,
};
use jobscope_types::policies::{self, JOB_TOKEN_POLICIES};
use jobscope_types::{NamespaceId, ProjectId};
use maud::{Markup, html};
use percent_encoding::percent_decode_str;
use serde_json::json;

use super::explain::{Doing, Explained, explain};
use super::form::FormData;
use super::session::{SignedIn, csrf_refusal, error_page};
use super::view::{self, Tab, project_url};
use super::{activity, html, redirect};
use crate::access::{self, AdminProject};
use crate::error::{ApiError, ApiResult};
use crate::service::audit::Author;
use crate::service::scope::{self, MSG_INSUFFICIENT_PERMISSIONS, Permissions};
use crate::state::AppState;

/// An allowlist entry's kind, as it appears in URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Project,
    Group,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "project" => Some(Kind::Project),
            "group" => Some(Kind::Group),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Project => "project",
            Kind::Group => "group",
        }
    }
}

/// The pages (GET).
enum Page {
    Settings,
    Suggest,
    ConfirmRemove(Kind, i64),
    Edit(Kind, i64),
    Log,
    Csv,
    Autopopulate,
    Audit,
    Reachable,
}

/// The actions (POST).
enum Action {
    Scope,
    Add,
    Remove(Kind, i64),
    Edit(Kind, i64),
    Autopopulate,
}

/// `/{project}/-/{rest}` → the project's full path and `rest`, decoded. Paths under
/// `/api/` and paths without a project are not the UI's.
fn split(path: &str) -> Option<(String, String)> {
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    let p = decoded.strip_prefix('/')?;
    if p.starts_with("api/") || p.contains('\0') {
        return None;
    }
    let (project, rest) = p.split_once("/-/")?;
    if project.is_empty() || project.len() > 1024 {
        return None;
    }
    Some((project.to_owned(), rest.trim_end_matches('/').to_owned()))
}

fn entry_route(rest: &str) -> Option<(Kind, i64, &str)> {
    let tail = rest.strip_prefix("settings/ci_cd/allowlist/")?;
    let mut it = tail.split('/');
    let kind = Kind::parse(it.next()?)?;
    let id = it.next()?.parse::<i64>().ok().filter(|i| *i > 0)?;
    let verb = it.next()?;
    if it.next().is_some() {
        return None;
    }
    Some((kind, id, verb))
}

fn page(rest: &str) -> Option<Page> {
    Some(match rest {
        "settings/ci_cd" => Page::Settings,
        "settings/ci_cd/suggest" => Page::Suggest,
        "settings/ci_cd/authentication_log" => Page::Log,
        "settings/ci_cd/export_job_token_authorizations.csv" => Page::Csv,
        "settings/ci_cd/autopopulate" => Page::Autopopulate,
        "settings/ci_cd/reachable" => Page::Reachable,
        "audit_events" => Page::Audit,
        _ => match entry_route(rest)? {
            (kind, id, "remove") => Page::ConfirmRemove(kind, id),
            (kind, id, "edit") => Page::Edit(kind, id),
            _ => return None,
        },
    })
}

fn action(rest: &str) -> Option<Action> {
    Some(match rest {
        "settings/ci_cd/scope" => Action::Scope,
        "settings/ci_cd/allowlist" => Action::Add,
        "settings/ci_cd/autopopulate" => Action::Autopopulate,
        _ => match entry_route(rest)? {
            (kind, id, "remove") => Action::Remove(kind, id),
            (kind, id, "edit") => Action::Edit(kind, id),
            _ => return None,
        },
    })
}

/// The project at `path` if the caller may read it; else 404 (as the API, whether it does
/// not exist or is hidden). By full path only: `/123/-/…` is not project 123.
async fn find(state: &AppState, signed: &SignedIn, path: &str) -> ApiResult<Project> {
    let not_found = || ApiError::not_found("Project");
    let project = state
        .store
        .project_by_full_path(path)
        .await?
        .ok_or_else(not_found)?;
    if access::can_read_project(state, Some(&signed.caller), &project).await? {
        Ok(project)
    } else {
        Err(not_found())
    }
}

/// The Maintainer check every page and action makes (the API's `admin_project`).
pub(crate) async fn admin(
    state: &AppState,
    signed: &SignedIn,
    project: &Project,
    forbidden: ApiError,
) -> ApiResult<AdminProject> {
    access::admin_project(state, &signed.caller, project.clone(), forbidden).await
}

fn not_found_page(signed: &SignedIn, err: &ApiError) -> Response {
    let e = explain(err, Doing::Viewing, "");
    html(e.status, view::message_page("Not found", Some(signed), &e))
}

/// GET /{project}/-/…
pub async fn dispatch_get(State(state): State<AppState>, mut parts: Parts) -> Response {
    let Some((path, rest)) = split(parts.uri.path()) else {
        return ApiError::RouteNotFound.into_response();
    };
    let Some(which) = page(&rest) else {
        return ApiError::RouteNotFound.into_response();
    };
    let signed = match SignedIn::from_request_parts(&mut parts, &state).await {
        Ok(s) => s,
        Err(to_sign_in) => return to_sign_in,
    };
    let project = match find(&state, &signed, &path).await {
        Ok(p) => p,
        Err(e) => return not_found_page(&signed, &e),
    };
    let query = FormData::from_query(parts.uri.query());
    match which {
        Page::Settings => {
            let notice = notice_text(query.get("notice"));
            settings(&state, &signed, &project, Feedback::notice(notice)).await
        }
        Page::Suggest => suggest(&state, &signed, &project, query.get("q")).await,
        Page::ConfirmRemove(kind, id) => confirm_remove(&state, &signed, &project, kind, id).await,
        Page::Edit(kind, id) => edit_page(&state, &signed, &project, kind, id, None).await,
        Page::Log => activity::log(&state, &signed, &project, query.page()).await,
        Page::Csv => activity::csv(&state, &signed, &project).await,
        Page::Autopopulate => activity::autopopulate_preview(&state, &signed, &project, None).await,
        Page::Audit => activity::audit(&state, &signed, &project, query.page()).await,
        Page::Reachable => activity::reachable(&state, &signed, &project).await,
    }
}

/// POST /{project}/-/…
pub async fn dispatch_post(
    State(state): State<AppState>,
    mut parts: Parts,
    body: Bytes,
) -> Response {
    let Some((path, rest)) = split(parts.uri.path()) else {
        return ApiError::RouteNotFound.into_response();
    };
    let Some(which) = action(&rest) else {
        return ApiError::RouteNotFound.into_response();
    };
    let signed = match SignedIn::from_request_parts(&mut parts, &state).await {
        Ok(s) => s,
        Err(to_sign_in) => return to_sign_in,
    };
    let form = FormData::from_body(&body);
    if let Some(refused) = csrf_refusal(&parts.headers, &state, &signed, &form) {
        return refused;
    }
    let project = match find(&state, &signed, &path).await {
        Ok(p) => p,
        Err(e) => return not_found_page(&signed, &e),
    };
    let ip = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let author = Author::of(&signed.caller, ip);
    match which {
        Action::Scope => match set_scope(&state, &signed, &author, &project, &form).await {
            Ok(()) => redirect(&project_url(&project, "settings/ci_cd?notice=scope_saved")),
            Err(e) => {
                let fb = Feedback {
                    scope_error: Some(explain(&e, Doing::Changing, &project.full_path)),
                    scope_choice: match form.get("enabled") {
                        "true" => Some(true),
                        "false" => Some(false),
                        _ => None,
                    },
                    ..Feedback::default()
                };
                settings(&state, &signed, &project, fb).await
            }
        },
        Action::Add => match add(&state, &signed, &author, &project, &form).await {
            Ok(()) => redirect(&project_url(&project, "settings/ci_cd?notice=added")),
            Err(e) => {
                let fb = Feedback {
                    add_error: Some(explain(&e, Doing::Changing, &project.full_path)),
                    add_path: form.get("path").chars().take(300).collect(),
                    ..Feedback::default()
                };
                settings(&state, &signed, &project, fb).await
            }
        },
        Action::Remove(kind, id) => {
            match remove(&state, &signed, &author, &project, kind, id).await {
                Ok(()) => redirect(&project_url(&project, "settings/ci_cd?notice=removed")),
                Err(e) => {
                    let fb = Feedback {
                        list_error: Some(explain(&e, Doing::Changing, &project.full_path)),
                        ..Feedback::default()
                    };
                    settings(&state, &signed, &project, fb).await
                }
            }
        }
        Action::Edit(kind, id) => {
            match update(&state, &signed, &author, &project, kind, id, &form).await {
                Ok(()) => redirect(&project_url(&project, "settings/ci_cd?notice=updated")),
                Err(e) => {
                    let e = explain(&e, Doing::Changing, &project.full_path);
                    edit_page(&state, &signed, &project, kind, id, Some(e)).await
                }
            }
        }
        Action::Autopopulate => {
            match activity::autopopulate_apply(&state, &signed, &author, &project).await {
                Ok(()) => redirect(&project_url(
                    &project,
                    "settings/ci_cd?notice=autopopulated",
                )),
                Err(e) => {
                    let e = explain(&e, Doing::Changing, &project.full_path);
                    activity::autopopulate_preview(&state, &signed, &project, Some(e)).await
                }
            }
        }
    }
}

fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "scope_saved" => "Job token permissions saved.",
        "added" => "Added to the allowlist.",
        "removed" => "Removed from the allowlist.",
        "updated" => "Permissions updated.",
        "autopopulated" => {
            "Every project of the authentication log is now in the allowlist, and the allowlist is in force."
        }
        _ => return None,
    })
}

// ---- the settings page ------------------------------------------------------------------------

/// What a re-rendered settings page shows besides the data.
#[derive(Default)]
struct Feedback {
    notice: Option<&'static str>,
    scope_error: Option<Explained>,
    add_error: Option<Explained>,
    add_path: String,
    list_error: Option<Explained>,
    /// The switch as the refused form sent it.
    scope_choice: Option<bool>,
}

impl Feedback {
    fn notice(notice: Option<&'static str>) -> Feedback {
        Feedback {
            notice,
            ..Feedback::default()
        }
    }

    fn status(&self) -> StatusCode {
        [&self.scope_error, &self.add_error, &self.list_error]
            .into_iter()
            .flatten()
            .map(|e| e.status)
            .next()
            .unwrap_or(StatusCode::OK)
    }
}

/// The allowlist as the page shows it.
struct Allowlist {
    projects: Vec<(Project, Option<ProjectLink>)>,
    groups: Vec<(Namespace, Option<GroupLink>)>,
    users: Vec<User>,
}

async fn load_allowlist(state: &AppState, admin: &AdminProject) -> ApiResult<Allowlist> {
    let projects = scope::list_projects(state, admin, PageRequest::all())
        .await?
        .items;
    let groups = scope::list_groups(state, admin, PageRequest::all())
        .await?
        .items;
    let mut ids: Vec<_> = projects
        .iter()
        .filter_map(|(_, l)| l.as_ref()?.added_by)
        .chain(groups.iter().filter_map(|(_, l)| l.as_ref()?.added_by))
        .collect();
    ids.sort_unstable_by_key(|id| id.get());
    ids.dedup();
    let users = state.store.users_by_ids(&ids).await?;
    Ok(Allowlist {
        projects,
        groups,
        users,
    })
}

async fn settings(
    state: &AppState,
    signed: &SignedIn,
    project: &Project,
    fb: Feedback,
) -> Response {
    let admin = match admin(state, signed, project, ApiError::Forbidden(None)).await {
        Ok(a) => a,
        Err(e @ ApiError::Forbidden(_)) => return restricted(signed, project, &e, fb),
        Err(e) => return error_page(Some(signed), &e),
    };
    let loaded = async {
        let list = load_allowlist(state, &admin).await?;
        let enforced = state
            .store
            .instance_settings()
            .await?
            .enforce_ci_inbound_job_token_scope_enabled;
        Ok::<_, ApiError>((list, enforced))
    }
    .await;
    let (list, enforced) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(Some(signed), &e),
    };
    let status = fb.status();
    let body = html! {
        (view::project_header(project, Tab::Permissions))
        section.settings aria-labelledby="jtp-title" {
            h2 #jtp-title { "Job token permissions" }
            p.lead {
                "Control which CI/CD job tokens can be used to authenticate with this project."
            }
            @if let Some(n) = fb.notice { (view::notice_box(n)) }
            @if !signed.can_write() {
                p.alert.alert-info {
                    "You signed in with a read-only token (read_api scope): changes will be refused."
                }
            }
            (scope_form(signed, project, fb.scope_choice.or(Some(project.inbound_scope_enabled)), enforced, fb.scope_error.as_ref()))
            (allowlist_table(project, &list, fb.list_error.as_ref()))
            (add_form(signed, project, &fb.add_path, fb.add_error.as_ref()))
        }
    };
    html(
        status,
        view::page(
            &format!("Job token permissions · {}", project.full_path),
            Some(signed),
            body,
        ),
    )
}

/// The page a member below Maintainer sees: why the section is hidden, and the switch (so
/// that trying it shows GitLab's refusal in place).
fn restricted(signed: &SignedIn, project: &Project, err: &ApiError, fb: Feedback) -> Response {
    let why = explain(err, Doing::Viewing, &project.full_path);
    let status = if fb.scope_error.is_some() || fb.add_error.is_some() || fb.list_error.is_some() {
        fb.status()
    } else {
        why.status
    };
    let body = html! {
        (view::project_header(project, Tab::Permissions))
        section.settings aria-labelledby="jtp-title" {
            h2 #jtp-title { "Job token permissions" }
            (view::error_box(&why))
            @for e in [&fb.add_error, &fb.list_error].into_iter().flatten() { (view::error_box(e)) }
            (scope_form(signed, project, fb.scope_choice, false, fb.scope_error.as_ref()))
        }
    };
    html(
        status,
        view::page(
            &format!("Job token permissions · {}", project.full_path),
            Some(signed),
            body,
        ),
    )
}

fn scope_form(
    signed: &SignedIn,
    project: &Project,
    stored: Option<bool>,
    enforced: bool,
    error: Option<&Explained>,
) -> Markup {
    html! {
        form.card #scope method="post" action=(project_url(project, "settings/ci_cd/scope")) {
            (view::csrf(signed))
            fieldset {
                legend { "Authorized groups and projects" }
                div.choice {
                    input #scope-on type="radio" name="enabled" value="true" checked[stored == Some(true)] aria-describedby="scope-on-help";
                    label for="scope-on" { "Only this project and any groups and projects in the allowlist" }
                    p.help #scope-on-help { "Recommended. Only jobs of the groups and projects below can use their job tokens to access this project." }
                }
                div.choice {
                    input #scope-off type="radio" name="enabled" value="false" checked[stored == Some(false)] aria-describedby="scope-off-help";
                    label for="scope-off" { "All groups and projects" }
                    p.help #scope-off-help { "Jobs of any project can use their job tokens to access this project, if the user who started the job has access." }
                }
            }
            @if enforced {
                p.alert.alert-info {
                    "An administrator enforces the allowlist on every project of this instance: "
                    "only this project and the groups and projects in the allowlist have access, "
                    "whatever is chosen here."
                }
            }
            @if let Some(e) = error { (view::error_box(e)) }
            button.button.button-primary type="submit" { "Save changes" }
        }
    }
}

/// "Fine-grained: Packages (read), …" for an entry.
fn permissions_text(default_permissions: bool, list: &[String]) -> Markup {
    html! {
        @if default_permissions {
            span { "Default permissions" }
        } @else if list.is_empty() {
            span { "Fine-grained: no access" }
        } @else {
            span { "Fine-grained: " }
            ul.policies {
                @for p in list { li { (policy_label(p)) } }
            }
        }
    }
}

/// The resources of the policies, in GitLab's order, with whether they have a write level.
pub fn resources() -> Vec<(&'static str, bool)> {
    let mut out: Vec<(&'static str, bool)> = Vec::new();
    for p in JOB_TOKEN_POLICIES {
        let (resource, admin) = match p.strip_prefix("admin_") {
            Some(r) => (r, true),
            None => (p.strip_prefix("read_").unwrap_or(p), false),
        };
        match out.iter_mut().find(|(r, _)| *r == resource) {
            Some(slot) => slot.1 |= admin,
            None => out.push((resource, admin)),
        }
    }
    out
}

fn resource_label(resource: &str) -> String {
    let words = resource.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn policy_label(policy: &str) -> String {
    match policy.strip_prefix("admin_") {
        Some(r) => format!("{}: read and write", resource_label(r)),
        None => format!(
            "{}: read",
            resource_label(policy.strip_prefix("read_").unwrap_or(policy))
        ),
    }
}

fn added_by(users: &[User], id: Option<jobscope_types::UserId>) -> Markup {
    match id.and_then(|id| users.iter().find(|u| u.id == id)) {
        Some(u) => html! { (u.name) " " span.username { "@" (u.username) } },
        None => html! { span.muted { "—" } },
    }
}

/// What a row of the allowlist shows of an entry.
struct EntryRow<'a> {
    default_permissions: bool,
    policies: &'a [String],
    autopopulated: bool,
    added_by: Option<jobscope_types::UserId>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> EntryRow<'a> {
    fn project(l: &'a ProjectLink) -> Self {
        EntryRow {
            default_permissions: l.default_permissions,
            policies: &l.job_token_policies,
            autopopulated: l.autopopulated,
            added_by: l.added_by,
            created_at: l.created_at,
        }
    }

    fn group(l: &'a GroupLink) -> Self {
        EntryRow {
            default_permissions: l.default_permissions,
            policies: &l.job_token_policies,
            autopopulated: l.autopopulated,
            added_by: l.added_by,
            created_at: l.created_at,
        }
    }
}

fn allowlist_table(project: &Project, list: &Allowlist, error: Option<&Explained>) -> Markup {
    let count = list.projects.len() + list.groups.len();
    let row = |kind: Kind, id: i64, path: &str, link: Option<EntryRow<'_>>| {
        let base = format!("settings/ci_cd/allowlist/{}/{id}", kind.as_str());
        html! {
            tr {
                td data-label="Group or project" {
                    span.badge.badge-kind { (if kind == Kind::Group { "Group" } else { "Project" }) }
                    " "
                    span.path { (path) }
                    @if link.as_ref().is_some_and(|l| l.autopopulated) {
                        " " span.badge.badge-auto title="Added from the authentication log" { "Autopopulated" }
                    }
                    @if link.is_none() {
                        " " span.badge.badge-muted { "This project" }
                    }
                }
                @match link {
                    Some(l) => {
                        td data-label="Permissions" { (permissions_text(l.default_permissions, l.policies)) }
                        td data-label="Added by" { (added_by(&list.users, l.added_by)) }
                        td data-label="Added" { (view::time(l.created_at)) }
                        td.row-actions data-label="Actions" {
                            a.button.button-small href=(project_url(project, &format!("{base}/edit")))
                                aria-label={ "Edit permissions of " (path) } { "Edit" }
                            " "
                            a.button.button-small.button-danger href=(project_url(project, &format!("{base}/remove")))
                                data-confirm-remove=(project_url(project, &format!("{base}/remove")))
                                data-name=(path) data-project=(project.full_path)
                                aria-label={ "Remove " (path) } { "Remove" }
                        }
                    }
                    None => {
                        td data-label="Permissions" { "Always allowed" }
                        td data-label="Added by" { span.muted { "—" } }
                        td data-label="Added" { span.muted { "—" } }
                        td.row-actions data-label="Actions" {}
                    }
                }
            }
        }
    };
    html! {
        section.card aria-labelledby="allowlist-title" {
            h3 #allowlist-title { "Allowlist" }
            p.count { (count) " " (if count == 1 { "group or project" } else { "groups and projects" }) " with access" }
            @if let Some(e) = error { (view::error_box(e)) }
            div.table-wrap {
                table.allowlist {
                    thead {
                        tr {
                            th scope="col" { "Group or project" }
                            th scope="col" { "Permissions" }
                            th scope="col" { "Added by" }
                            th scope="col" { "Added" }
                            th scope="col" { span.visually-hidden { "Actions" } }
                        }
                    }
                    tbody {
                        // The project itself first (it has no entry), then groups, then projects.
                        @for (p, _) in list.projects.iter().filter(|(_, l)| l.is_none()) {
                            (row(Kind::Project, p.id.get(), &p.full_path, None))
                        }
                        @for (g, link) in &list.groups {
                            @if let Some(l) = link {
                                (row(Kind::Group, g.id.get(), &g.full_path, Some(EntryRow::group(l))))
                            }
                        }
                        @for (p, link) in &list.projects {
                            @if let Some(l) = link {
                                (row(Kind::Project, p.id.get(), &p.full_path, Some(EntryRow::project(l))))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The permissions part of the add and edit forms.
fn permissions_fields(prefix: &str, default_permissions: bool, list: &[String]) -> Markup {
    html! {
        fieldset.permissions {
            legend { "Permissions" }
            div.choice {
                input id={(prefix) "-default"} type="radio" name="default_permissions" value="true"
                    checked[default_permissions] aria-describedby={(prefix) "-default-help"};
                label for={(prefix) "-default"} { "Default permissions" }
                p.help id={(prefix) "-default-help"} { "Job tokens get the access of the user who started the job." }
            }
            div.choice {
                input id={(prefix) "-fine"} type="radio" name="default_permissions" value="false"
                    checked[!default_permissions] aria-describedby={(prefix) "-fine-help"};
                label for={(prefix) "-fine"} { "Fine-grained permissions" }
                p.help id={(prefix) "-fine-help"} { "Job tokens get only the access chosen below (never more than the user's)." }
            }
            fieldset.policies id={(prefix) "-policies"} data-fine-grained {
                legend { "Fine-grained permissions" }
                div.policy-grid {
                    @for (resource, has_admin) in resources() {
                        @let current = if list.iter().any(|p| p.strip_prefix("admin_") == Some(resource)) {
                            "admin"
                        } else if list.iter().any(|p| p.strip_prefix("read_") == Some(resource)) {
                            "read"
                        } else { "" };
                        div.field {
                            label for={(prefix) "-policy-" (resource)} { (resource_label(resource)) }
                            select id={(prefix) "-policy-" (resource)} name={"policy_" (resource)} {
                                option value="" selected[current.is_empty()] { "No access" }
                                option value="read" selected[current == "read"] { "Read" }
                                @if has_admin {
                                    option value="admin" selected[current == "admin"] { "Read and write" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Reads the permissions of the add and edit forms, as the API reads
/// `default_permissions` and `job_token_policies`.
fn read_permissions(form: &FormData) -> ApiResult<Permissions> {
    let default_permissions = match form.get("default_permissions") {
        "" | "true" => true,
        "false" => false,
        _ => return Err(ApiError::param("default_permissions is invalid")),
    };
    let mut names = Vec::new();
    for (resource, _) in resources() {
        let level = form.get(&format!("policy_{resource}"));
        if level.is_empty() {
            continue;
        }
        let name = format!("{level}_{resource}");
        if !matches!(level, "read" | "admin") || !policies::is_policy(&name) {
            return Err(ApiError::param(format!(
                "job_token_policies has an unknown policy: {name}"
            )));
        }
        names.push(name);
    }
    // With default permissions the list does not apply: none is kept.
    let job_token_policies = if default_permissions {
        Vec::new()
    } else {
        policies::normalise(&names).map_err(|unknown| {
            ApiError::param(format!(
                "job_token_policies has an unknown policy: {unknown}"
            ))
        })?
    };
    Ok(Permissions {
        default_permissions,
        job_token_policies,
    })
}

fn add_form(signed: &SignedIn, project: &Project, path: &str, error: Option<&Explained>) -> Markup {
    html! {
        form.card #add method="post" action=(project_url(project, "settings/ci_cd/allowlist")) {
            h3 { "Add group or project" }
            (view::csrf(signed))
            div.field {
                label for="add-path" { "Group or project path" }
                input #add-path type="text" name="path" required value=(path) list="path-suggestions"
                    autocomplete="off" spellcheck="false" aria-describedby="add-path-help"
                    data-suggest=(project_url(project, "settings/ci_cd/suggest"));
                datalist #path-suggestions {}
                p.help #add-path-help {
                    "For example " code { "my-group" } " or " code { "my-group/my-project" }
                    ". A group gives access to the jobs of all its projects, subgroups included."
                }
            }
            (permissions_fields("add", true, &[]))
            @if let Some(e) = error { (view::error_box(e)) }
            div.actions {
                button.button.button-primary type="submit" { "Add" }
                a.button href=(project_url(project, "settings/ci_cd/autopopulate")) { "Add all projects in the authentication log" }
            }
        }
    }
}

// ---- actions ----------------------------------------------------------------------------------

async fn set_scope(
    state: &AppState,
    signed: &SignedIn,
    author: &Author,
    project: &Project,
    form: &FormData,
) -> ApiResult<()> {
    signed.require_write()?;
    let enabled = match form.get("enabled") {
        "true" => true,
        "false" => false,
        "" => return Err(ApiError::param("enabled is missing")),
        _ => return Err(ApiError::param("enabled is invalid")),
    };
    let admin = admin(state, signed, project, ApiError::Forbidden(None)).await?;
    scope::set_inbound(state, author, &admin, enabled).await
}

/// The target of a new entry, by path: a project, else a group. What the caller cannot see
/// is reported as missing, the same way whether it exists or not.
enum Target {
    Project(Option<ProjectId>),
    Group(NamespaceId),
}

async fn resolve(state: &AppState, signed: &SignedIn, raw: &str) -> ApiResult<Target> {
    let path = raw.trim().trim_matches('/');
    if path.is_empty() {
        return Err(ApiError::param("path is missing"));
    }
    if let Some(p) = state.store.project_by_full_path(path).await? {
        return Ok(Target::Project(Some(p.id)));
    }
    if let Some(g) = state
        .store
        .namespace_by_full_path(path)
        .await?
        .filter(Namespace::is_group)
        && access::can_read_group(state, Some(&signed.caller), &g).await?
    {
        return Ok(Target::Group(g.id));
    }
    // Nothing visible there: the service answers as for a project that does not exist.
    Ok(Target::Project(None))
}

async fn add(
    state: &AppState,
    signed: &SignedIn,
    author: &Author,
    project: &Project,
    form: &FormData,
) -> ApiResult<()> {
    signed.require_write()?;
    let perms = read_permissions(form)?;
    let target = resolve(state, signed, form.get("path")).await?;
    let admin = admin(state, signed, project, ApiError::Forbidden(None)).await?;
    match target {
        Target::Project(id) => {
            scope::add_project(state, &signed.caller, author, &admin, id, perms).await?;
        }
        Target::Group(id) => {
            scope::add_group(state, &signed.caller, author, &admin, Some(id), perms).await?;
        }
    }
    Ok(())
}

async fn target_project(state: &AppState, id: i64) -> ApiResult<Project> {
    access::project_by_id(state, ProjectId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("Project"))
}

async fn target_group(state: &AppState, id: i64) -> ApiResult<Namespace> {
    state
        .store
        .namespace(NamespaceId(id))
        .await?
        .filter(Namespace::is_group)
        .ok_or_else(|| ApiError::not_found("target_group_id not found"))
}

async fn remove(
    state: &AppState,
    signed: &SignedIn,
    author: &Author,
    project: &Project,
    kind: Kind,
    id: i64,
) -> ApiResult<()> {
    signed.require_write()?;
    // The API's order: the target first, then the role.
    let forbidden = || ApiError::forbidden(MSG_INSUFFICIENT_PERMISSIONS);
    match kind {
        Kind::Project => {
            let target = target_project(state, id).await?;
            let admin = admin(state, signed, project, forbidden()).await?;
            scope::remove_project(state, &signed.caller, author, &admin, &target).await
        }
        Kind::Group => {
            let group = target_group(state, id).await?;
            let admin = admin(state, signed, project, forbidden()).await?;
            scope::remove_group(state, author, &admin, &group).await
        }
    }
}

async fn update(
    state: &AppState,
    signed: &SignedIn,
    author: &Author,
    project: &Project,
    kind: Kind,
    id: i64,
    form: &FormData,
) -> ApiResult<()> {
    signed.require_write()?;
    let perms = read_permissions(form)?;
    let admin = admin(state, signed, project, ApiError::Forbidden(None)).await?;
    match kind {
        Kind::Project => {
            let not_in_scope =
                || ApiError::bad_request("Target project is not in the job token scope");
            let target = target_project(state, id)
                .await
                .map_err(|_| not_in_scope())?;
            scope::update_project(state, author, &admin, &target, perms).await?;
        }
        Kind::Group => {
            let not_in_scope =
                || ApiError::bad_request("Target group is not in the job token scope");
            let group = target_group(state, id).await.map_err(|_| not_in_scope())?;
            scope::update_group(state, author, &admin, &group, perms).await?;
        }
    }
    Ok(())
}

// ---- the entry pages: confirm a removal, edit permissions ---------------------------------------

/// An entry and the name it is shown with.
struct Entry {
    path: String,
    default_permissions: bool,
    policies: Vec<String>,
}

async fn load_entry(
    state: &AppState,
    admin: &AdminProject,
    kind: Kind,
    id: i64,
) -> ApiResult<Entry> {
    let source = admin.project().id;
    match kind {
        Kind::Project => {
            let missing = || ApiError::bad_request("Target project is not in the job token scope");
            let target = target_project(state, id).await.map_err(|_| missing())?;
            let link = state
                .store
                .project_link(source, target.id, LinkDirection::Inbound)
                .await?
                .ok_or_else(missing)?;
            Ok(Entry {
                path: target.full_path,
                default_permissions: link.default_permissions,
                policies: link.job_token_policies,
            })
        }
        Kind::Group => {
            let missing = || ApiError::bad_request("Target group is not in the job token scope");
            let group = target_group(state, id).await.map_err(|_| missing())?;
            let link = state
                .store
                .group_link(source, group.id)
                .await?
                .ok_or_else(missing)?;
            Ok(Entry {
                path: group.full_path,
                default_permissions: link.default_permissions,
                policies: link.job_token_policies,
            })
        }
    }
}

/// The entry page's common start: the Maintainer check and the entry, or an error page.
async fn entry_or_page(
    state: &AppState,
    signed: &SignedIn,
    project: &Project,
    kind: Kind,
    id: i64,
) -> Result<Entry, Response> {
    let page_error = |e: ApiError, doing| {
        let e = explain(&e, doing, &project.full_path);
        let body = html! {
            (view::project_header(project, Tab::Permissions))
            (view::error_box(&e))
            p { a href=(project_url(project, "settings/ci_cd")) { "Back to job token permissions" } }
        };
        html(
            e.status,
            view::page("Job token permissions", Some(signed), body),
        )
    };
    let admin = admin(state, signed, project, ApiError::Forbidden(None))
        .await
        .map_err(|e| page_error(e, Doing::Viewing))?;
    load_entry(state, &admin, kind, id)
        .await
        .map_err(|e| page_error(e, Doing::Changing))
}

/// GET …/allowlist/{kind}/{id}/remove: the confirmation (the script shows it as a dialog).
async fn confirm_remove(
    state: &AppState,
    signed: &SignedIn,
    project: &Project,
    kind: Kind,
    id: i64,
) -> Response {
    let entry = match entry_or_page(state, signed, project, kind, id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    let action = project_url(
        project,
        &format!("settings/ci_cd/allowlist/{}/{id}/remove", kind.as_str()),
    );
    let body = html! {
        (view::project_header(project, Tab::Permissions))
        form.card method="post" action=(action) {
            (view::csrf(signed))
            h2 { "Remove " (entry.path) " from the allowlist?" }
            p {
                "CI/CD jobs of " strong { (entry.path) } " will no longer be able to use their job "
                "tokens to access " strong { (project.full_path) } "."
            }
            div.actions {
                button.button.button-danger type="submit" { "Remove" }
                a.button href=(project_url(project, "settings/ci_cd")) { "Cancel" }
            }
        }
    };
    html(
        StatusCode::OK,
        view::page("Remove from the allowlist", Some(signed), body),
    )
}

/// GET …/allowlist/{kind}/{id}/edit (and the same page with an error after a refused POST).
async fn edit_page(
    state: &AppState,
    signed: &SignedIn,
    project: &Project,
    kind: Kind,
    id: i64,
    error: Option<Explained>,
) -> Response {
    let entry = match entry_or_page(state, signed, project, kind, id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    let action = project_url(
        project,
        &format!("settings/ci_cd/allowlist/{}/{id}/edit", kind.as_str()),
    );
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        (view::project_header(project, Tab::Permissions))
        form.card method="post" action=(action) {
            (view::csrf(signed))
            h2 { "Permissions of " (entry.path) }
            p.help { "What job tokens of " (entry.path) " may do in " (project.full_path) "." }
            (permissions_fields("edit", entry.default_permissions, &entry.policies))
            @if let Some(e) = &error { (view::error_box(e)) }
            div.actions {
                button.button.button-primary type="submit" { "Save permissions" }
                a.button href=(project_url(project, "settings/ci_cd")) { "Cancel" }
            }
        }
    };
    html(status, view::page("Edit permissions", Some(signed), body))
}

// ---- suggestions --------------------------------------------------------------------------------

/// GET …/settings/ci_cd/suggest?q=…: paths of groups and projects the user can see that
/// contain `q` (for the add form's `<datalist>`). JSON: `[{"path", "kind", "name"}]`.
async fn suggest(state: &AppState, signed: &SignedIn, project: &Project, q: &str) -> Response {
    let result = async {
        admin(state, signed, project, ApiError::Forbidden(None)).await?;
        let q: String = q.chars().take(100).collect::<String>().to_lowercase();
        let q = q.trim().trim_matches('/');
        if q.is_empty() {
            return Ok(Vec::new());
        }
        // The store searches names and paths; the full path is filtered here.
        let term = q.rsplit('/').next().unwrap_or(q).to_owned();
        let viewer = access::viewer(Some(&signed.caller));
        let mut pq = ProjectQuery::new(viewer);
        pq.search = (!term.is_empty()).then(|| term.clone());
        pq.order_by = ProjectOrder::Path;
        pq.sort = SortDirection::Asc;
        let projects = state
            .store
            .list_projects(&pq, PageRequest::new(1, 50))
            .await?;
        let mut gq = GroupQuery::new(viewer);
        gq.search = (!term.is_empty()).then_some(term);
        let groups = state
            .store
            .list_groups(&gq, PageRequest::new(1, 50))
            .await?;
        let mut out = Vec::new();
        for g in groups
            .items
            .iter()
            .filter(|g| g.full_path.to_lowercase().contains(q))
            .take(10)
        {
            out.push(json!({"path": g.full_path, "kind": "group", "name": g.name}));
        }
        for p in projects
            .items
            .iter()
            .filter(|p| p.id != project.id && p.full_path.to_lowercase().contains(q))
            .take(10)
        {
            out.push(json!({"path": p.full_path, "kind": "project", "name": p.name}));
        }
        Ok::<_, ApiError>(out)
    }
    .await;
    match result {
        Ok(list) => Json(list).into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_at_the_first_dash_segment() {
        assert_eq!(
            split("/acme/app/-/settings/ci_cd"),
            Some(("acme/app".into(), "settings/ci_cd".into()))
        );
        assert_eq!(
            split("/acme%2Fapp/-/audit_events/"),
            Some(("acme/app".into(), "audit_events".into()))
        );
        assert_eq!(split("/api/v4/projects/-/x"), None);
        assert_eq!(split("/-/health"), None);
        assert_eq!(split("/acme/app"), None);
        assert_eq!(split("/%FF/-/x"), None);
    }

    #[test]
    fn entry_routes() {
        assert!(matches!(
            page("settings/ci_cd/allowlist/group/7/remove"),
            Some(Page::ConfirmRemove(Kind::Group, 7))
        ));
        assert!(page("settings/ci_cd/allowlist/group/0/remove").is_none());
        assert!(page("settings/ci_cd/allowlist/user/7/remove").is_none());
        assert!(page("settings/ci_cd/allowlist/project/7/edit/x").is_none());
        assert!(matches!(
            action("settings/ci_cd/allowlist/project/3/edit"),
            Some(Action::Edit(Kind::Project, 3))
        ));
    }

    #[test]
    fn permissions_from_the_form() {
        let p = read_permissions(&FormData::parse(
            b"default_permissions=false&policy_packages=admin&policy_jobs=read&policy_releases=",
        ))
        .unwrap();
        assert!(!p.default_permissions);
        assert_eq!(p.job_token_policies, vec!["read_jobs", "admin_packages"]);
        let d = read_permissions(&FormData::parse(b"policy_packages=admin")).unwrap();
        assert!(d.default_permissions && d.job_token_policies.is_empty());
        assert!(
            read_permissions(&FormData::parse(
                b"default_permissions=false&policy_merge_requests=admin"
            ))
            .is_err()
        );
        assert!(read_permissions(&FormData::parse(b"default_permissions=maybe")).is_err());
        assert_eq!(
            policy_label("admin_terraform_state"),
            "Terraform state: read and write"
        );
        assert!(resources().contains(&("merge_requests", false)));
    }
}
