//! `jobscope members`: a project's or group's members and their roles.

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use jobscope_client::endpoints::members::{AddMember, MemberSource};
use jobscope_client::types::api::Member;
use jobscope_client::types::{AccessLevel, NamespaceRef, ProjectRef};

use super::common::{HintExt, date, parse_date, parse_role, role, who};
use crate::config::{ConnArgs, Credentials, Env};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{Io, OutputFormat, Table, time};

#[derive(Subcommand, Debug)]
pub enum MembersCommand {
    /// List a project's or group's members with their roles.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Make a user a member with a role.
    Add(AddArgs),
    /// Change a member's role.
    Update(UpdateArgs),
    /// Remove a member.
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
}

/// Whose members: `--project` or `--group`.
#[derive(Args, Debug)]
#[group(id = "source", required = true, multiple = false)]
pub struct Source {
    /// A project's members (id or full path).
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,
    /// A group's members (id or full path).
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
}

impl Source {
    /// Whose members, and how to name them in messages (`project acme/app`).
    fn resolve(&self) -> Result<(MemberSource, String), CliError> {
        match (&self.project, &self.group) {
            (Some(p), None) => Ok((
                MemberSource::Project(ProjectRef::from(p.as_str())),
                format!("project {p}"),
            )),
            (None, Some(g)) => Ok((
                MemberSource::Group(NamespaceRef::from(g.as_str())),
                format!("group {g}"),
            )),
            _ => Err(CliError::usage("give either --project or --group")),
        }
    }
}

fn members(client: &jobscope_client::Client, source: MemberSource) -> jobscope_client::Members {
    match source {
        MemberSource::Project(p) => client.project(p).members(),
        MemberSource::Group(g) => client.group(g).members(),
    }
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub source: Source,
    /// Also the members inherited from the groups above.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    #[command(flatten)]
    pub source: Source,
    /// The user: numeric id or username.
    pub user: String,
    /// guest, planner, reporter, developer, maintainer or owner (or 10, 15, 20, 30, 40, 50).
    #[arg(long, value_parser = parse_role)]
    pub role: AccessLevel,
    /// The last day of the membership (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub expires_at: Option<NaiveDate>,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub source: Source,
    /// The member: numeric id or username.
    pub user: String,
    /// The new role: guest, planner, reporter, developer, maintainer or owner (or 10 … 50).
    #[arg(long, value_parser = parse_role)]
    pub role: AccessLevel,
}

#[derive(Args, Debug)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub source: Source,
    /// The member: numeric id or username.
    pub user: String,
}

const MANAGE: &str = "managing members needs the Maintainer role (Owner to manage Owners)";

fn print_list(io: &mut Io<'_>, members: &[Member]) {
    let mut t = Table::new(&[
        "id",
        "username",
        "name",
        "role",
        "state",
        "expires",
        "member since",
    ]);
    for m in members {
        t.row(vec![
            m.id.to_string(),
            m.username.clone(),
            m.name.clone(),
            role(m.access_level),
            m.state.clone(),
            date(m.expires_at),
            time(&m.created_at),
        ]);
    }
    io.table(&t, "No members.");
}

pub async fn run(
    conn: &ConnArgs,
    command: MembersCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    match command {
        MembersCommand::List(a) => {
            let (source, _) = a.source.resolve()?;
            let list = members(&ctx.client, source).list(a.all).await?;
            match ctx.output {
                OutputFormat::Json => io.json(&list),
                OutputFormat::Table => print_list(io, &list),
            }
        }
        MembersCommand::Add(a) => {
            let (source, name) = a.source.resolve()?;
            let user = ctx.client.users().find(&a.user).await?;
            let mut add = AddMember::new(source, user.id, a.role);
            if let Some(d) = a.expires_at {
                add = add.expires_at(d);
            }
            let m: Member = ctx.client.query(&add).await.hint_403(MANAGE)?;
            match ctx.output {
                OutputFormat::Json => io.json(&m),
                OutputFormat::Table => {
                    let until = m
                        .expires_at
                        .map(|d| format!(" until {d}"))
                        .unwrap_or_default();
                    io.line(format!(
                        "added {} to {name} as {}{until}",
                        who(&user),
                        role(m.access_level)
                    ));
                }
            }
        }
        MembersCommand::Update(a) => {
            let (source, name) = a.source.resolve()?;
            let user = ctx.client.users().find(&a.user).await?;
            let m = members(&ctx.client, source)
                .update(user.id, a.role)
                .await
                .hint_403(MANAGE)?;
            match ctx.output {
                OutputFormat::Json => io.json(&m),
                OutputFormat::Table => io.line(format!(
                    "{} is now {} in {name}",
                    who(&user),
                    role(m.access_level)
                )),
            }
        }
        MembersCommand::Remove(a) => {
            let (source, name) = a.source.resolve()?;
            let user = ctx.client.users().find(&a.user).await?;
            let members = members(&ctx.client, source);
            let m = members.get(user.id).await?;
            members.remove(user.id).await.hint_403(MANAGE)?;
            match ctx.output {
                OutputFormat::Json => io.json(&m),
                OutputFormat::Table => io.line(format!("removed {} from {name}", who(&user))),
            }
        }
    }
    Ok(ExitCode::Success)
}
