//! The page layout and the pieces every page shares. maud escapes every interpolated value;
//! nothing here writes raw HTML from data (`PreEscaped` is used for no user input).

use jobscope_store::Project;
use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::explain::Explained;
use super::session::{CSRF_FIELD, SignedIn};
use super::{DASHBOARD, SIGN_IN};

/// A whole page: skip link, top bar (with sign-out when signed in), main content, and the
/// confirmation dialog the script uses.
pub fn page(title: &str, signed: Option<&SignedIn>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · jobscope" }
                link rel="stylesheet" href=(assets::url("ui.css"));
                script src=(assets::url("ui.js")) defer {}
            }
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.topbar {
                    a.brand href="/" { "jobscope" }
                    @if let Some(s) = signed {
                        nav.topnav aria-label="Main" {
                            a href=(DASHBOARD) { "Projects" }
                        }
                        div.account {
                            span.who {
                                (s.caller.user.name)
                                span.username { " @" (s.caller.user.username) }
                                @if !s.can_write() {
                                    " " span.badge.badge-muted title="Signed in with a read_api token" { "read-only" }
                                }
                            }
                            form.inline method="post" action="/users/sign_out" {
                                (csrf(s))
                                button.button.button-small type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
                @if let Some(s) = signed {
                    dialog #confirm-dialog aria-labelledby="confirm-title" aria-describedby="confirm-text" {
                        form method="post" {
                            (csrf(s))
                            h2 #confirm-title { "Remove from the allowlist?" }
                            p #confirm-text {}
                            div.actions {
                                button.button type="button" data-close { "Cancel" }
                                button.button.button-danger type="submit" { "Remove" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(s: &SignedIn) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(s.csrf()); }
}

/// An error in place: the explanation, then GitLab's message.
pub fn error_box(e: &Explained) -> Markup {
    html! {
        div.alert.alert-error role="alert" {
            p.alert-title { (e.headline) }
            p.gitlab-message { "GitLab's answer: " code { (e.gitlab) } }
        }
    }
}

pub fn notice_box(text: &str) -> Markup {
    html! { div.alert.alert-success role="status" { p { (text) } } }
}

/// A page that only says something (an error outside a form).
pub fn message_page(title: &str, signed: Option<&SignedIn>, e: &Explained) -> Markup {
    page(
        title,
        signed,
        html! {
            h1 { (title) }
            (error_box(e))
            p { a href=(if signed.is_some() { DASHBOARD } else { SIGN_IN }) { "Back to your projects" } }
        },
    )
}

/// The sign-in form.
pub fn sign_in(return_to: &str, notice: Option<&str>, error: Option<&Explained>) -> Markup {
    page(
        "Sign in",
        None,
        html! {
            div.narrow {
                h1 { "Sign in to jobscope" }
                @if let Some(n) = notice { (notice_box(n)) }
                @if let Some(e) = error { (error_box(e)) }
                form.card method="post" action=(SIGN_IN) {
                    input type="hidden" name="return_to" value=(return_to);
                    div.field {
                        label for="token" { "Personal access token" }
                        input #token type="password" name="token" required autocomplete="off"
                            spellcheck="false" aria-describedby="token-help";
                        p.help #token-help {
                            "A token with the " code { "api" } " scope lets you change job token "
                            "permissions; " code { "read_api" } " gives a read-only view. The token "
                            "stays on the server: your browser only keeps a session cookie."
                        }
                    }
                    button.button.button-primary type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// The tabs of a project's pages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Permissions,
    Log,
    Audit,
    Reachable,
}

/// A project's URL under the UI: `/{full/path}/-/{rest}`.
pub fn project_url(project: &Project, rest: &str) -> String {
    format!("/{}/-/{rest}", project.full_path)
}

/// The heading and tabs of a project's pages.
pub fn project_header(project: &Project, active: Tab) -> Markup {
    let tab = |t: Tab, href: String, label: &str| {
        html! {
            @if t == active {
                a.tab.active href=(href) aria-current="page" { (label) }
            } @else {
                a.tab href=(href) { (label) }
            }
        }
    };
    html! {
        nav.breadcrumbs aria-label="Breadcrumb" {
            a href=(DASHBOARD) { "Projects" }
            " / "
            span { (project.full_path) }
        }
        h1 { (project.name) " " span.subtitle { (project.full_path) } }
        nav.tabs aria-label="Project" {
            (tab(Tab::Permissions, project_url(project, "settings/ci_cd"), "Job token permissions"))
            (tab(Tab::Log, project_url(project, "settings/ci_cd/authentication_log"), "Authentication log"))
            (tab(Tab::Audit, project_url(project, "audit_events"), "Audit events"))
            (tab(Tab::Reachable, project_url(project, "settings/ci_cd/reachable"), "Reachable projects"))
        }
    }
}

/// A date and time as GitLab's tables show them (UTC), in a `<time>` element.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
            (t.format("%Y-%m-%d %H:%M UTC"))
        }
    }
}

/// Previous/next links of a paged list (`base` already holds the other query parameters).
pub fn pager(base: &str, page: u64, per_page: u64, total: u64) -> Markup {
    let pages = total.div_ceil(per_page.max(1)).max(1);
    let sep = if base.contains('?') { '&' } else { '?' };
    html! {
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if page > 1 {
                    a.button.button-small rel="prev" href={(base) (sep) "page=" (page - 1)} { "Previous" }
                }
                span { "Page " (page) " of " (pages) }
                @if page < pages {
                    a.button.button-small rel="next" href={(base) (sep) "page=" (page + 1)} { "Next" }
                }
            }
        }
    }
}
