//! `scope`, `allowlist`, `groups-allowlist` and `policies`.

use clap::{Args, Subcommand};
use jobscope_client::types::api::JobTokenScope;
use jobscope_client::types::policies::JOB_TOKEN_POLICIES;
use jobscope_client::types::{NamespaceRef, ProjectRef};
use jobscope_client::{AllowlistItem, Entry, Permissions, Target};
use serde::Serialize;

use crate::config::{ConnArgs, Credentials, Env};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{Io, OutputFormat, Table, time};

#[derive(Subcommand, Debug)]
pub enum ScopeCommand {
    /// Whether the project limits access (only allowlisted projects' job tokens get in).
    Show(ProjectOnly),
    /// Limit access to the project: only its allowlists' job tokens get in.
    Enable(ProjectOnly),
    /// Stop limiting access (every project's job tokens get in, with their users' roles).
    ///
    /// On a server that enforces every allowlist (the instance setting
    /// enforce_ci_inbound_job_token_scope_enabled) access stays limited; the command says so.
    Disable(ProjectOnly),
}

#[derive(Args, Debug)]
pub struct ProjectOnly {
    /// The project: its id or full path (group/subgroup/project).
    pub project: String,
}

#[derive(Subcommand, Debug)]
pub enum AllowlistCommand {
    /// The projects on the allowlist, with their permissions.
    #[command(visible_alias = "ls")]
    List(ProjectOnly),
    /// Add projects to the allowlist.
    Add(AddArgs),
    /// Remove projects from the allowlist.
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
}

#[derive(Subcommand, Debug)]
pub enum GroupsAllowlistCommand {
    /// The groups on the allowlist, with their permissions.
    #[command(visible_alias = "ls")]
    List(ProjectOnly),
    /// Add groups to the allowlist (their projects, and their subgroups' projects).
    Add(AddArgs),
    /// Remove groups from the allowlist.
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The project whose allowlist changes (id or full path).
    pub project: String,
    /// What to add: ids or full paths.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Grant only these job token policies instead of the job user's full role (repeat, or
    /// separate with commas; see `jobscope policies list`).
    #[arg(long = "policy", value_name = "POLICY", value_delimiter = ',')]
    pub policies: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RemoveArgs {
    /// The project whose allowlist changes (id or full path).
    pub project: String,
    /// What to remove: ids or full paths.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum PoliciesCommand {
    /// Every job token policy name.
    #[command(visible_alias = "ls")]
    List,
    /// Set an allowlist entry's permissions: its user's full role, or only some policies.
    Set(PolicySetArgs),
}

#[derive(Args, Debug)]
pub struct PolicySetArgs {
    /// The project whose allowlist holds the entry (id or full path).
    pub project: String,
    /// The entry's target: a project, or with --group a group (id or full path).
    pub target: String,
    /// The target is a group (an entry of the group allowlist).
    #[arg(long)]
    pub group: bool,
    /// Grant only these policies (repeat, or separate with commas).
    #[arg(
        long = "policy",
        value_name = "POLICY",
        value_delimiter = ',',
        required_unless_present = "default_permissions",
        conflicts_with = "default_permissions"
    )]
    pub policies: Vec<String>,
    /// Grant the job user's full role again (GitLab's default).
    #[arg(long)]
    pub default_permissions: bool,
}

/// Checks policy names before anything is sent.
pub fn parse_policies(names: &[String]) -> Result<Vec<String>, CliError> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let n = n.trim().to_ascii_lowercase();
        if n.is_empty() {
            continue;
        }
        if !JOB_TOKEN_POLICIES.contains(&n.as_str()) {
            return Err(CliError::usage(format!("unknown job token policy {n:?}"))
                .with_hint("`jobscope policies list` shows every policy"));
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

fn permissions_for(names: &[String]) -> Result<Permissions, CliError> {
    let p = parse_policies(names)?;
    if p.is_empty() {
        return Ok(Permissions::default());
    }
    Ok(Permissions {
        default_permissions: Some(false),
        job_token_policies: Some(p),
    })
}

/// "default" or the policies an entry grants.
pub fn describe_permissions(default_permissions: bool, policies: &[String]) -> String {
    if default_permissions {
        "default permissions".into()
    } else if policies.is_empty() {
        "none".into()
    } else {
        policies.join(", ")
    }
}

#[derive(Serialize)]
struct ScopeView<'a> {
    project: &'a str,
    inbound_enabled: bool,
    outbound_enabled: bool,
}

fn print_scope(io: &mut Io<'_>, format: OutputFormat, project: &str, s: &JobTokenScope) {
    match format {
        OutputFormat::Json => io.json(&ScopeView {
            project,
            inbound_enabled: s.inbound_enabled,
            outbound_enabled: s.outbound_enabled,
        }),
        OutputFormat::Table => {
            let mut t = Table::new(&["project", "limit access"]);
            t.row(vec![
                project.to_owned(),
                if s.inbound_enabled {
                    "yes (only allowlisted projects)".into()
                } else {
                    "no (every project)".into()
                },
            ]);
            io.table(&t, "");
        }
    }
}

pub async fn scope(
    conn: &ConnArgs,
    command: ScopeCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let (project, enable) = match &command {
        ScopeCommand::Show(p) => (&p.project, None),
        ScopeCommand::Enable(p) => (&p.project, Some(true)),
        ScopeCommand::Disable(p) => (&p.project, Some(false)),
    };
    let handle = ctx
        .client
        .project(ProjectRef::from(project.as_str()))
        .job_token_scope();
    let state = match enable {
        None => handle.get().await?,
        Some(on) => handle.set_enabled(on).await?,
    };
    print_scope(io, ctx.output, project, &state);
    if enable == Some(false) && state.inbound_enabled {
        io.note(
            "note: access stays limited: the server enforces every project's allowlist \
             (instance setting enforce_ci_inbound_job_token_scope_enabled)",
        );
    }
    Ok(ExitCode::Success)
}

/// Prints entries of one kind.
fn print_entries(io: &mut Io<'_>, format: OutputFormat, entries: &[Entry], what: &str) {
    match format {
        OutputFormat::Json => io.json(entries),
        OutputFormat::Table => {
            let mut t = Table::new(&["id", "path", "permissions", "added by", "added at"]);
            for e in entries {
                let mut perms = describe_permissions(e.default_permissions, &e.job_token_policies);
                if e.autopopulated {
                    perms.push_str(" [autopopulated]");
                }
                t.row(vec![
                    e.target_id().to_string(),
                    e.path.clone(),
                    perms,
                    e.added_by.clone().unwrap_or_default(),
                    e.added_at.as_ref().map(time).unwrap_or_default(),
                ]);
            }
            io.table(&t, &format!("No {what} on the allowlist."));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Projects,
    Groups,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Projects => "projects",
            Kind::Groups => "groups",
        }
    }

    fn matches(self, t: Target) -> bool {
        matches!(
            (self, t),
            (Kind::Projects, Target::Project(_)) | (Kind::Groups, Target::Group(_))
        )
    }
}

#[derive(Serialize)]
struct Changed {
    target: Target,
    reference: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn list(
    ctx: &crate::config::Context,
    project: &str,
    kind: Kind,
    io: &mut Io<'_>,
) -> CliResult {
    let entries: Vec<Entry> = ctx
        .client
        .project(ProjectRef::from(project))
        .job_token_scope()
        .entries()
        .await?
        .into_iter()
        .filter(|e| kind.matches(e.target))
        .collect();
    print_entries(io, ctx.output, &entries, kind.noun());
    Ok(ExitCode::Success)
}

/// Adds or removes each target, reporting each; the exit code is the first failure's.
async fn change(
    ctx: &crate::config::Context,
    project: &str,
    targets: &[String],
    kind: Kind,
    add: Option<Permissions>,
    io: &mut Io<'_>,
) -> CliResult {
    let scope = ctx
        .client
        .project(ProjectRef::from(project))
        .job_token_scope();
    let mut results = Vec::new();
    let mut code = ExitCode::Success;
    for reference in targets {
        let outcome: Result<Target, CliError> = match (&add, kind) {
            (Some(p), Kind::Projects) => scope
                .projects()
                .add_with(ProjectRef::from(reference.as_str()), p.clone())
                .await
                .map(|c| c.target())
                .map_err(CliError::from),
            (Some(p), Kind::Groups) => scope
                .groups()
                .add_with(NamespaceRef::from(reference.as_str()), p.clone())
                .await
                .map(|c| c.target())
                .map_err(CliError::from),
            (None, Kind::Projects) => {
                let r = ProjectRef::from(reference.as_str());
                let id = ctx.client.project(r.clone()).id().await;
                match id {
                    Ok(id) => scope
                        .projects()
                        .remove(id)
                        .await
                        .map(|()| Target::Project(id))
                        .map_err(CliError::from),
                    Err(e) => Err(e.into()),
                }
            }
            (None, Kind::Groups) => {
                let r = NamespaceRef::from(reference.as_str());
                match ctx.client.group(r).id().await {
                    Ok(id) => scope
                        .groups()
                        .remove(id)
                        .await
                        .map(|()| Target::Group(id))
                        .map_err(CliError::from),
                    Err(e) => Err(e.into()),
                }
            }
        };
        let verb = if add.is_some() { "added" } else { "removed" };
        match outcome {
            Ok(target) => {
                if ctx.output == OutputFormat::Table {
                    io.line(format!("{verb} {reference} ({target})"));
                }
                results.push(Changed {
                    target,
                    reference: reference.clone(),
                    ok: true,
                    error: None,
                });
            }
            Err(e) => {
                let doing = if add.is_some() { "adding" } else { "removing" };
                let e = e.context(format!("{doing} {reference}"));
                crate::report(&e, io);
                if code == ExitCode::Success {
                    code = e.code;
                }
                results.push(Changed {
                    target: match kind {
                        Kind::Projects => Target::Project(0.into()),
                        Kind::Groups => Target::Group(0.into()),
                    },
                    reference: reference.clone(),
                    ok: false,
                    error: Some(e.message),
                });
            }
        }
    }
    if ctx.output == OutputFormat::Json {
        io.json(&results);
    }
    Ok(code)
}

pub async fn allowlist(
    conn: &ConnArgs,
    command: AllowlistCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    match command {
        AllowlistCommand::List(a) => list(&ctx, &a.project, Kind::Projects, io).await,
        AllowlistCommand::Add(a) => {
            let p = permissions_for(&a.policies)?;
            change(&ctx, &a.project, &a.targets, Kind::Projects, Some(p), io).await
        }
        AllowlistCommand::Remove(a) => {
            change(&ctx, &a.project, &a.targets, Kind::Projects, None, io).await
        }
    }
}

pub async fn groups_allowlist(
    conn: &ConnArgs,
    command: GroupsAllowlistCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    match command {
        GroupsAllowlistCommand::List(a) => list(&ctx, &a.project, Kind::Groups, io).await,
        GroupsAllowlistCommand::Add(a) => {
            let p = permissions_for(&a.policies)?;
            change(&ctx, &a.project, &a.targets, Kind::Groups, Some(p), io).await
        }
        GroupsAllowlistCommand::Remove(a) => {
            change(&ctx, &a.project, &a.targets, Kind::Groups, None, io).await
        }
    }
}

pub async fn policies(
    conn: &ConnArgs,
    command: PoliciesCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    match command {
        PoliciesCommand::List => {
            let format = conn.output_format(env)?;
            if format == OutputFormat::Json {
                io.json(JOB_TOKEN_POLICIES);
                return Ok(ExitCode::Success);
            }
            let mut t = Table::new(&["policy", "resource", "grants"]);
            for p in JOB_TOKEN_POLICIES {
                let (action, resource) = p.split_once('_').unwrap_or(("", p));
                let grants = if action == "admin" {
                    format!("read and change {resource} (implies read_{resource})")
                } else {
                    format!("read {resource}")
                };
                t.row(vec![
                    (*p).to_owned(),
                    resource.replace('_', " "),
                    grants.replace('_', " "),
                ]);
            }
            io.table(&t, "");
            Ok(ExitCode::Success)
        }
        PoliciesCommand::Set(a) => {
            let ctx = conn.context(env, Credentials::User)?;
            let permissions = if a.default_permissions {
                Permissions {
                    default_permissions: Some(true),
                    job_token_policies: Some(Vec::new()),
                }
            } else {
                let p = parse_policies(&a.policies)?;
                if p.is_empty() {
                    return Err(CliError::usage(
                        "give --policy NAME (one or more) or --default-permissions",
                    ));
                }
                Permissions {
                    default_permissions: Some(false),
                    job_token_policies: Some(p),
                }
            };
            let scope = ctx
                .client
                .project(ProjectRef::from(a.project.as_str()))
                .job_token_scope();
            let entry = if a.group {
                scope
                    .groups()
                    .update(NamespaceRef::from(a.target.as_str()), permissions)
                    .await?
            } else {
                scope
                    .projects()
                    .update(ProjectRef::from(a.target.as_str()), permissions)
                    .await?
            };
            print_entries(io, ctx.output, std::slice::from_ref(&entry), "entries");
            Ok(ExitCode::Success)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_are_checked_and_normalised() {
        assert_eq!(
            parse_policies(&[
                "READ_JOBS".into(),
                "read_jobs".into(),
                " admin_packages".into()
            ])
            .unwrap(),
            ["read_jobs", "admin_packages"]
        );
        let err = parse_policies(&["read_everything".into()]).unwrap_err();
        assert_eq!(err.code, ExitCode::Usage);
        assert!(err.hint.unwrap().contains("policies list"));
        assert_eq!(describe_permissions(true, &[]), "default permissions");
        assert_eq!(describe_permissions(false, &[]), "none");
    }
}
