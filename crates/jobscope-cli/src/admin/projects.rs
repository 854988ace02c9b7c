//! `jobscope projects`: list, show, create and delete projects.

use clap::{Args, Subcommand};
use jobscope_client::endpoints::projects::{CreateProject, ListProjects};
use jobscope_client::types::api::Project;
use jobscope_client::types::{NamespaceId, NamespaceRef, ProjectRef, Visibility};

use super::common::{HintExt, parse_visibility, print_fields};
use crate::config::{ConnArgs, Context, Credentials, Env};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{Io, OutputFormat, Table, time, yes_no};

#[derive(Subcommand, Debug)]
pub enum ProjectsCommand {
    /// List the projects you can see (newest first).
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one project.
    Show(ProjectArg),
    /// Create a project in a group (acme/tools/app) or in your own namespace (app).
    Create(CreateArgs),
    /// Delete a project.
    #[command(visible_alias = "rm")]
    Delete(ProjectArg),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only projects whose name or path contains this.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only projects you are a member of.
    #[arg(long)]
    pub membership: bool,
}

#[derive(Args, Debug)]
pub struct ProjectArg {
    /// The project: its id or full path (group/subgroup/project).
    pub project: String,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The new project's full path: group/subgroup/project, or a bare path for your own
    /// namespace (a user's namespace, user/project, for administrators)
    pub full_path: String,
    /// Its name [default: the last segment of the path]
    #[arg(long)]
    pub name: Option<String>,
    /// private, internal or public [default: the server's default]
    #[arg(long, value_name = "VISIBILITY", value_parser = parse_visibility)]
    pub visibility: Option<Visibility>,
    /// What the project is for.
    #[arg(long)]
    pub description: Option<String>,
}

/// `acme/app (5)`.
fn describe(p: &Project) -> String {
    format!("{} ({})", p.basic.path_with_namespace, p.basic.id)
}

/// Projects as a table (also `groups projects`).
pub(crate) fn print_list(io: &mut Io<'_>, projects: &[Project]) {
    let mut t = Table::new(&["id", "path", "name", "visibility", "created"]);
    for p in projects {
        t.row(vec![
            p.basic.id.to_string(),
            p.basic.path_with_namespace.clone(),
            p.basic.name.clone(),
            p.visibility.to_string(),
            time(&p.basic.created_at),
        ]);
    }
    io.table(&t, "No projects.");
}

fn print_project(io: &mut Io<'_>, p: &Project) {
    let b = &p.basic;
    print_fields(
        io,
        vec![
            ("id", b.id.to_string()),
            ("path", b.path_with_namespace.clone()),
            ("name", b.name.clone()),
            (
                "namespace",
                format!(
                    "{} ({} {})",
                    b.namespace.full_path, b.namespace.kind, b.namespace.id
                ),
            ),
            ("visibility", p.visibility.to_string()),
            ("description", b.description.clone().unwrap_or_default()),
            ("archived", yes_no(p.archived)),
            ("created", time(&b.created_at)),
            ("last activity", time(&b.last_activity_at)),
            ("web url", b.web_url.clone()),
        ],
    );
}

/// The namespace to create a project in: a group by full path, or a user's personal
/// namespace by username (`None`: the caller's own).
async fn namespace(ctx: &Context, path: &str) -> Result<Option<NamespaceId>, CliError> {
    let group_err = match ctx.client.group(NamespaceRef::from(path)).id().await {
        Ok(id) => return Ok(Some(id)),
        Err(e) => e,
    };
    let not_found = matches!(
        &group_err,
        jobscope_client::Error::Api { status, .. } if status.as_u16() == 404
    );
    if not_found && !path.contains('/') {
        // A user's namespace: GitLab has no group by that path.
        if let Some(u) = ctx.client.users().by_username(path).await? {
            if let Some(admin) = &u.admin {
                return Ok(Some(admin.namespace_id));
            }
            if ctx.client.current_user().await?.id == u.id {
                return Ok(None);
            }
        }
    }
    Err(CliError::from(group_err).context(format!("finding the namespace {path}")))
}

pub async fn run(
    conn: &ConnArgs,
    command: ProjectsCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    match command {
        ProjectsCommand::List(a) => {
            let mut q = ListProjects::new();
            if let Some(s) = &a.search {
                q = q.search(s);
            }
            if a.membership {
                q = q.membership(true);
            }
            let list: Vec<Project> = ctx.client.all(&q).await?;
            match ctx.output {
                OutputFormat::Json => io.json(&list),
                OutputFormat::Table => print_list(io, &list),
            }
        }
        ProjectsCommand::Show(a) => {
            let p = ctx
                .client
                .project(ProjectRef::from(a.project.as_str()))
                .get()
                .await?;
            match ctx.output {
                OutputFormat::Json => io.json(&p),
                OutputFormat::Table => print_project(io, &p),
            }
        }
        ProjectsCommand::Create(a) => {
            let full = a.full_path.trim().trim_matches('/');
            let (parent, path) = match full.rsplit_once('/') {
                Some((parent, path)) => (Some(parent), path),
                None => (None, full),
            };
            if path.is_empty() || parent == Some("") {
                return Err(CliError::usage(format!(
                    "{:?} is not a project path: expected group/project or project",
                    a.full_path
                )));
            }
            let mut new =
                CreateProject::new(a.name.clone().unwrap_or_else(|| path.to_owned())).path(path);
            if let Some(parent) = parent
                && let Some(ns) = namespace(&ctx, parent).await?
            {
                new = new.namespace(ns);
            }
            if let Some(v) = a.visibility {
                new = new.visibility(v);
            }
            if let Some(d) = &a.description {
                new = new.description(d);
            }
            let p: Project = ctx.client.query(&new).await.hint_403(
                "creating a project in a group needs the Developer role (or higher) in it",
            )?;
            match ctx.output {
                OutputFormat::Json => io.json(&p),
                OutputFormat::Table => io.line(format!("created project {}", describe(&p))),
            }
        }
        ProjectsCommand::Delete(a) => {
            let handle = ctx.client.project(ProjectRef::from(a.project.as_str()));
            let p = handle.get().await?;
            handle
                .delete()
                .await
                .hint_403("deleting a project needs the Owner role in it")?;
            match ctx.output {
                OutputFormat::Json => io.json(&p),
                OutputFormat::Table => io.line(format!("deleted project {}", describe(&p))),
            }
        }
    }
    Ok(ExitCode::Success)
}
