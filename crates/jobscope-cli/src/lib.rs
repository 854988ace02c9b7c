//! The `jobscope` command line's client commands: everything but `serve` and the database
//! tools. It depends only on the client crate (and through it the wire types), so it works
//! against jobscope and against GitLab alike.
//!
//! The binary flattens [`Command`] into its own subcommands and calls [`run`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod config;
pub mod error;
pub mod insight;
pub mod output;
pub mod scope;
pub mod sync;

use clap::{Args, Subcommand};

pub use config::{ConnArgs, Env, SystemEnv};
pub use error::{AFTER_HELP, CliError, ExitCode};
pub use output::{Io, OutputFormat};

/// A group of subcommands, with the connection options (accepted before or after them).
#[derive(Args, Debug)]
pub struct With<S: Subcommand> {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(subcommand)]
    pub command: S,
}

/// One command's arguments, with the connection options.
#[derive(Args, Debug)]
pub struct Leaf<A: Args> {
    // The command's own arguments first: the connection options set a help heading that
    // would otherwise carry over to them.
    #[command(flatten)]
    pub args: A,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// The client commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show or change whether a project limits which CI/CD job tokens may reach it.
    Scope(With<scope::ScopeCommand>),
    /// A project's project allowlist: the projects whose job tokens may reach it.
    Allowlist(With<scope::AllowlistCommand>),
    /// A project's group allowlist: the groups whose projects' job tokens may reach it.
    #[command(name = "groups-allowlist")]
    GroupsAllowlist(With<scope::GroupsAllowlistCommand>),
    /// Fine-grained permissions of allowlist entries (job token policies).
    Policies(With<scope::PoliciesCommand>),
    /// The projects whose job tokens reached a project (the authentication log).
    #[command(name = "auth-log")]
    AuthLog(Leaf<insight::AuthLogArgs>),
    /// Add the projects of a project's authentication log to its allowlist.
    Autopopulate(Leaf<insight::AutopopulateArgs>),
    /// Ask whether a CI/CD job token may reach a project, and why (jobscope only).
    Check(Leaf<insight::CheckArgs>),
    /// The projects whose allowlists admit a project's job tokens (jobscope only).
    Reachable(Leaf<insight::ProjectArg>),
    /// A project's audit events (changes to its job token scope, newest first).
    Audit(Leaf<insight::AuditArgs>),
    /// Make many projects' job token scopes match a YAML file (a dry run unless --apply).
    Sync(Leaf<sync::SyncArgs>),
    /// Administration: users.
    Users(With<admin::users::UsersCommand>),
    /// Personal access tokens.
    Tokens(With<admin::tokens::TokensCommand>),
    /// Administration: groups.
    Groups(With<admin::groups::GroupsCommand>),
    /// Administration: projects.
    Projects(With<admin::projects::ProjectsCommand>),
    /// Administration: project and group members and their roles.
    Members(With<admin::members::MembersCommand>),
    /// Administration: instance settings (enforce every project's allowlist).
    Settings(With<admin::settings::SettingsCommand>),
}

/// Runs a client command; errors are written to `io.err` ("error: …" and a hint) and turned
/// into the exit code.
pub async fn run(command: Command, env: &dyn Env, io: &mut Io<'_>) -> ExitCode {
    let result = match command {
        Command::Scope(w) => scope::scope(&w.conn, w.command, env, io).await,
        Command::Allowlist(w) => scope::allowlist(&w.conn, w.command, env, io).await,
        Command::GroupsAllowlist(w) => scope::groups_allowlist(&w.conn, w.command, env, io).await,
        Command::Policies(w) => scope::policies(&w.conn, w.command, env, io).await,
        Command::AuthLog(l) => insight::auth_log(&l.conn, l.args, env, io).await,
        Command::Autopopulate(l) => insight::autopopulate(&l.conn, l.args, env, io).await,
        Command::Check(l) => insight::check(&l.conn, l.args, env, io).await,
        Command::Reachable(l) => insight::reachable(&l.conn, l.args, env, io).await,
        Command::Audit(l) => insight::audit(&l.conn, l.args, env, io).await,
        Command::Sync(l) => sync::run(&l.conn, l.args, env, io).await,
        Command::Users(w) => admin::users::run(&w.conn, w.command, env, io).await,
        Command::Tokens(w) => admin::tokens::run(&w.conn, w.command, env, io).await,
        Command::Groups(w) => admin::groups::run(&w.conn, w.command, env, io).await,
        Command::Projects(w) => admin::projects::run(&w.conn, w.command, env, io).await,
        Command::Members(w) => admin::members::run(&w.conn, w.command, env, io).await,
        Command::Settings(w) => admin::settings::run(&w.conn, w.command, env, io).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e, io);
            e.code
        }
    }
}

/// Writes an error the way every command does.
pub fn report(e: &CliError, io: &mut Io<'_>) {
    io.note(format!("error: {}", e.message));
    if let Some(hint) = &e.hint {
        io.note(format!("hint: {hint}"));
    }
}
