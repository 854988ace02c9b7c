//! The project list: the projects the user may administer (Maintainer or above; every project
//! for administrators), searchable by name or path.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use jobscope_store::{PageRequest, ProjectOrder, ProjectQuery, SortDirection, Viewer};
use jobscope_types::AccessLevel;
use maud::html;

use super::form::FormData;
use super::session::{SignedIn, error_page};
use super::view::{self, project_url};
use super::{DASHBOARD, html, redirect};
use crate::service;
use crate::state::AppState;

const PER_PAGE: u64 = 20;
/// Longer searches are cut (a search box needs no more).
const MAX_SEARCH: usize = 100;

/// GET /: the project list when signed in, else the sign-in form.
pub async fn root(_signed: SignedIn) -> Response {
    redirect(DASHBOARD)
}

/// GET /dashboard/projects[?search=…&page=…]
pub async fn list(State(state): State<AppState>, signed: SignedIn, parts: Parts) -> Response {
    let q = FormData::from_query(parts.uri.query());
    let search: String = q.get("search").chars().take(MAX_SEARCH).collect();
    let page = q.page();
    let mut query = ProjectQuery::new(Viewer::Anonymous);
    query.search = (!search.is_empty()).then(|| search.to_lowercase());
    query.order_by = ProjectOrder::Path;
    query.sort = SortDirection::Asc;
    if !signed.caller.is_admin() {
        query.min_access = Some((signed.caller.user.id, AccessLevel::Maintainer));
    }
    let found = match service::projects::list(
        &state,
        Some(&signed.caller),
        query,
        false,
        false,
        PageRequest::new(page, PER_PAGE),
    )
    .await
    {
        Ok(found) => found,
        Err(e) => return error_page(Some(&signed), &e),
    };
    let base = if search.is_empty() {
        DASHBOARD.to_owned()
    } else {
        format!(
            "{DASHBOARD}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("search", &search)
                .finish()
        )
    };
    let body = html! {
        h1 { "Projects" }
        p.lead {
            @if signed.caller.is_admin() {
                "Every project of this instance (you are an administrator). "
            } @else {
                "The projects where you have the Maintainer or Owner role. "
            }
            "Choose one to manage which CI/CD job tokens may access it."
        }
        form.search role="search" method="get" action=(DASHBOARD) {
            label for="search" { "Search projects" }
            div.search-row {
                input #search type="search" name="search" value=(search)
                    placeholder="Name or path" autocomplete="off";
                button.button type="submit" { "Search" }
            }
        }
        @if found.items.is_empty() {
            p.empty {
                @if search.is_empty() { "You do not administer any project yet." }
                @else { "No project matches “" (search) "”." }
            }
        } @else {
            p.count { (found.total) " " (if found.total == 1 { "project" } else { "projects" }) }
            ul.project-list {
                @for p in &found.items {
                    li {
                        a href=(project_url(p, "settings/ci_cd")) {
                            span.project-name { (p.name) }
                            span.project-path { (p.full_path) }
                        }
                        span.badge.badge-muted { (p.visibility.as_str()) }
                    }
                }
            }
            (view::pager(&base, page, PER_PAGE, found.total))
        }
    };
    html(StatusCode::OK, view::page("Projects", Some(&signed), body))
}
