//! `jobscope groups`: list, show, create and delete groups, and list a group's projects.

use clap::{Args, Subcommand};
use jobscope_client::endpoints::groups::{CreateGroup, ListGroups};
use jobscope_client::types::api::Group;
use jobscope_client::types::{NamespaceRef, Visibility};

use super::common::{HintExt, parse_visibility, print_fields};
use crate::config::{ConnArgs, Credentials, Env};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{Io, OutputFormat, Table, time};

#[derive(Subcommand, Debug)]
pub enum GroupsCommand {
    /// List groups: those you are a member of (administrators: every group).
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one group.
    Show(GroupArg),
    /// Create a group, or with a full path (acme/tools) a subgroup.
    Create(CreateArgs),
    /// Delete a group, with its subgroups and projects.
    #[command(visible_alias = "rm")]
    Delete(GroupArg),
    /// List a group's projects.
    Projects(ProjectsArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only groups whose name or path contains this.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Every group you can see, not only those you are a member of.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct GroupArg {
    /// The group: its id or full path (acme/tools).
    pub group: String,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The new group's path, or its full path (acme/tools): then it is made in the group
    /// above it (acme), unless --parent names the parent
    pub path: String,
    /// Its name [default: the last segment of the path]
    #[arg(long)]
    pub name: Option<String>,
    /// Make it a subgroup of this group (id or full path).
    #[arg(long, value_name = "GROUP")]
    pub parent: Option<String>,
    /// private, internal or public [default: the server's default]
    #[arg(long, value_name = "VISIBILITY", value_parser = parse_visibility)]
    pub visibility: Option<Visibility>,
    /// What the group is for.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Args, Debug)]
pub struct ProjectsArgs {
    /// The group: its id or full path.
    pub group: String,
    /// Also the projects of its subgroups (and theirs).
    #[arg(long)]
    pub include_subgroups: bool,
}

/// `acme/tools (3)`.
fn describe(g: &Group) -> String {
    format!("{} ({})", g.full_path, g.id)
}

fn print_list(io: &mut Io<'_>, groups: &[Group]) {
    let mut t = Table::new(&["id", "path", "name", "visibility", "created"]);
    for g in groups {
        t.row(vec![
            g.id.to_string(),
            g.full_path.clone(),
            g.name.clone(),
            g.visibility.to_string(),
            time(&g.created_at),
        ]);
    }
    io.table(&t, "No groups.");
}

fn print_group(io: &mut Io<'_>, g: &Group) {
    let parent = match (g.parent_id, g.full_path.rsplit_once('/')) {
        (Some(id), Some((path, _))) => format!("{path} ({id})"),
        (Some(id), None) => id.to_string(),
        (None, _) => String::new(),
    };
    print_fields(
        io,
        vec![
            ("id", g.id.to_string()),
            ("path", g.full_path.clone()),
            ("name", g.name.clone()),
            ("parent", parent),
            ("visibility", g.visibility.to_string()),
            ("description", g.description.clone()),
            ("created", time(&g.created_at)),
            ("web url", g.web_url.clone()),
        ],
    );
}

/// The new group's path, name and parent (a reference still to resolve).
fn plan(a: &CreateArgs) -> Result<(String, String, Option<String>), CliError> {
    let full = a.path.trim().trim_matches('/');
    let (prefix, path) = match full.rsplit_once('/') {
        Some((prefix, path)) => (Some(prefix), path),
        None => (None, full),
    };
    if path.is_empty() {
        return Err(CliError::usage(format!(
            "{:?} is not a group path: expected acme or acme/tools",
            a.path
        )));
    }
    let parent = a
        .parent
        .clone()
        .or_else(|| prefix.map(str::to_owned))
        .filter(|p| !p.is_empty());
    let name = a.name.clone().unwrap_or_else(|| path.to_owned());
    Ok((path.to_owned(), name, parent))
}

pub async fn run(
    conn: &ConnArgs,
    command: GroupsCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    match command {
        GroupsCommand::List(a) => {
            let mut q = ListGroups::new();
            if let Some(s) = &a.search {
                q = q.search(s);
            }
            if a.all {
                q = q.all_available(true);
            }
            let list: Vec<Group> = ctx.client.all(&q).await?;
            match ctx.output {
                OutputFormat::Json => io.json(&list),
                OutputFormat::Table => print_list(io, &list),
            }
        }
        GroupsCommand::Show(a) => {
            let g = ctx
                .client
                .group(NamespaceRef::from(a.group.as_str()))
                .get()
                .await?;
            match ctx.output {
                OutputFormat::Json => io.json(&g),
                OutputFormat::Table => print_group(io, &g),
            }
        }
        GroupsCommand::Create(a) => {
            let (path, name, parent) = plan(&a)?;
            let mut new = CreateGroup::new(name, path);
            if let Some(p) = &parent {
                let id = ctx
                    .client
                    .group(NamespaceRef::from(p.as_str()))
                    .id()
                    .await
                    .map_err(|e| {
                        CliError::from(e).context(format!("finding the parent group {p}"))
                    })?;
                new = new.parent(id);
            }
            if let Some(v) = a.visibility {
                new = new.visibility(v);
            }
            if let Some(d) = &a.description {
                new = new.description(d);
            }
            let g: Group = ctx.client.query(&new).await.hint_403(
                "creating a subgroup needs the Owner or Maintainer role in its parent group; \
                 creating a top-level group, a user allowed to create groups",
            )?;
            match ctx.output {
                OutputFormat::Json => io.json(&g),
                OutputFormat::Table => io.line(format!("created group {}", describe(&g))),
            }
        }
        GroupsCommand::Delete(a) => {
            let handle = ctx.client.group(NamespaceRef::from(a.group.as_str()));
            let g = handle.get().await?;
            handle
                .delete()
                .await
                .hint_403("deleting a group needs the Owner role in it")?;
            match ctx.output {
                OutputFormat::Json => io.json(&g),
                OutputFormat::Table => io.line(format!("deleted group {}", describe(&g))),
            }
        }
        GroupsCommand::Projects(a) => {
            let list = ctx
                .client
                .group(NamespaceRef::from(a.group.as_str()))
                .projects(a.include_subgroups)
                .await?;
            match ctx.output {
                OutputFormat::Json => io.json(&list),
                OutputFormat::Table => super::projects::print_list(io, &list),
            }
        }
    }
    Ok(ExitCode::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(path: &str, parent: Option<&str>, name: Option<&str>) -> CreateArgs {
        CreateArgs {
            path: path.into(),
            name: name.map(Into::into),
            parent: parent.map(Into::into),
            visibility: None,
            description: None,
        }
    }

    #[test]
    fn full_paths_name_the_parent() {
        assert_eq!(
            plan(&args("acme", None, None)).unwrap(),
            ("acme".into(), "acme".into(), None)
        );
        assert_eq!(
            plan(&args("acme/tools/lint", None, Some("Lint"))).unwrap(),
            ("lint".into(), "Lint".into(), Some("acme/tools".into()))
        );
        assert_eq!(
            plan(&args("a/tools", Some("7"), None)).unwrap(),
            ("tools".into(), "tools".into(), Some("7".into()))
        );
        assert_eq!(
            plan(&args("/", None, None)).unwrap_err().code,
            ExitCode::Usage
        );
    }
}
