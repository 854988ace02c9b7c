//! `jobscope users`: list, show, create, block, unblock, deactivate, activate and delete users
//! (administrators).

use clap::{Args, Subcommand};
use jobscope_client::endpoints::users::{ChangeUserState, CreateUser, ListUsers, UserAction};
use jobscope_client::types::api::User;

use super::common::{HintExt, print_fields, who};
use crate::config::{ConnArgs, Credentials, Env};
use crate::error::{CliResult, ExitCode};
use crate::output::{Io, OutputFormat, Table, time, yes_no};

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// List users, with their state and whether they are administrators.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one user.
    Show(UserArg),
    /// Create a user (administrators).
    Create(CreateArgs),
    /// Block a user: they cannot sign in or use their tokens, and their running jobs end.
    Block(UserArg),
    /// Unblock a blocked user.
    Unblock(UserArg),
    /// Deactivate a user (they may sign in again to reactivate themselves).
    Deactivate(UserArg),
    /// Activate a deactivated user.
    Activate(UserArg),
    /// Delete a user.
    #[command(visible_alias = "rm")]
    Delete(UserArg),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only users whose username, name or email contains this.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only blocked users.
    #[arg(long)]
    pub blocked: bool,
    /// Only administrators (an administrator's token is needed to filter on this).
    #[arg(long)]
    pub admins: bool,
}

#[derive(Args, Debug)]
pub struct UserArg {
    /// The user: numeric id or username.
    pub user: String,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The new user's username.
    pub username: String,
    /// Their full name.
    #[arg(long)]
    pub name: String,
    /// Their email address.
    #[arg(long)]
    pub email: String,
    /// Their password, at least 8 characters (a random one when not given; other users can
    /// see command lines)
    #[arg(long)]
    pub password: Option<String>,
    /// Make them an administrator.
    #[arg(long)]
    pub admin: bool,
    /// Make them an external user (they see only the projects they are members of).
    #[arg(long)]
    pub external: bool,
}

/// Whether a user is an administrator, when the viewer may know.
fn admin_cell(u: &User) -> String {
    u.admin
        .as_ref()
        .map(|a| yes_no(a.is_admin))
        .unwrap_or_default()
}

fn print_list(io: &mut Io<'_>, users: &[User]) {
    let mut t = Table::new(&[
        "id", "username", "name", "email", "state", "admin", "external", "created",
    ]);
    for u in users {
        t.row(vec![
            u.id.to_string(),
            u.username.clone(),
            u.name.clone(),
            u.private
                .as_ref()
                .map(|p| p.email.clone())
                .unwrap_or_default(),
            u.state.clone(),
            admin_cell(u),
            u.private
                .as_ref()
                .map(|p| yes_no(p.external))
                .unwrap_or_default(),
            u.profile
                .as_ref()
                .map(|p| time(&p.created_at))
                .unwrap_or_default(),
        ]);
    }
    io.table(&t, "No users.");
}

fn print_user(io: &mut Io<'_>, u: &User) {
    let p = u.private.as_ref();
    print_fields(
        io,
        vec![
            ("id", u.id.to_string()),
            ("username", u.username.clone()),
            ("name", u.name.clone()),
            ("email", p.map(|p| p.email.clone()).unwrap_or_default()),
            ("state", u.state.clone()),
            ("admin", admin_cell(u)),
            (
                "external",
                p.map(|p| yes_no(p.external)).unwrap_or_default(),
            ),
            (
                "bot",
                u.profile
                    .as_ref()
                    .map(|p| yes_no(p.bot))
                    .unwrap_or_default(),
            ),
            (
                "projects limit",
                p.map(|p| p.projects_limit.to_string()).unwrap_or_default(),
            ),
            (
                "created",
                u.profile
                    .as_ref()
                    .map(|p| time(&p.created_at))
                    .unwrap_or_default(),
            ),
            (
                "last sign-in",
                p.and_then(|p| p.last_sign_in_at.as_ref())
                    .map(time)
                    .unwrap_or_default(),
            ),
            ("web url", u.web_url.clone()),
        ],
    );
}

pub async fn run(
    conn: &ConnArgs,
    command: UsersCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let users = ctx.client.users();
    match command {
        UsersCommand::List(a) => {
            let mut q = ListUsers::new();
            if let Some(s) = &a.search {
                q = q.search(s);
            }
            if a.blocked {
                q = q.blocked(true);
            }
            if a.admins {
                q = q.admins(true);
            }
            let list = users.list(&q).await?;
            // The server ignores the filter for other callers: say so rather than let every
            // user pass for an administrator.
            if a.admins && list.iter().any(|u| u.admin.is_none()) {
                io.note(
                    "warning: only administrators may filter on --admins: these are all the \
                     users",
                );
            }
            match ctx.output {
                OutputFormat::Json => io.json(&list),
                OutputFormat::Table => print_list(io, &list),
            }
        }
        UsersCommand::Show(a) => {
            let u = users.find(&a.user).await?;
            match ctx.output {
                OutputFormat::Json => io.json(&u),
                OutputFormat::Table => print_user(io, &u),
            }
        }
        UsersCommand::Create(a) => {
            let mut new = CreateUser::new(&a.username, &a.name, &a.email);
            if let Some(p) = &a.password {
                new = new.password(p);
            }
            if a.admin {
                new = new.admin(true);
            }
            if a.external {
                new = new.external(true);
            }
            let u = users.create(&new).await.admin()?;
            match ctx.output {
                OutputFormat::Json => io.json(&u),
                OutputFormat::Table => io.line(format!("created user {}", who(&u))),
            }
        }
        UsersCommand::Block(a) => change(&ctx, &a.user, UserAction::Block, io).await?,
        UsersCommand::Unblock(a) => change(&ctx, &a.user, UserAction::Unblock, io).await?,
        UsersCommand::Deactivate(a) => change(&ctx, &a.user, UserAction::Deactivate, io).await?,
        UsersCommand::Activate(a) => change(&ctx, &a.user, UserAction::Activate, io).await?,
        UsersCommand::Delete(a) => {
            let u = users.find(&a.user).await?;
            users.delete(u.id).await.admin()?;
            match ctx.output {
                OutputFormat::Json => io.json(&u),
                OutputFormat::Table => io.line(format!("deleted user {}", who(&u))),
            }
        }
    }
    Ok(ExitCode::Success)
}

/// Blocks, unblocks, deactivates or activates a user; says so when there was nothing to do.
async fn change(
    ctx: &crate::config::Context,
    user: &str,
    action: UserAction,
    io: &mut Io<'_>,
) -> CliResult<()> {
    let users = ctx.client.users();
    let u = users.find(user).await?;
    // GitLab answers `true` when the state changed, `false` or `null` when it already was so.
    let changed: Option<bool> = ctx
        .client
        .query(&ChangeUserState::new(u.id, action))
        .await
        .admin()?;
    let (done, state) = match action {
        UserAction::Block => ("blocked", "blocked"),
        UserAction::Unblock => ("unblocked", "active"),
        UserAction::Deactivate => ("deactivated", "deactivated"),
        UserAction::Activate => ("activated", "active"),
    };
    match ctx.output {
        OutputFormat::Json => io.json(&users.get(u.id).await?),
        OutputFormat::Table => {
            if changed == Some(true) {
                io.line(format!("{done} {}", who(&u)));
            } else {
                io.line(format!("{} was already {state}", who(&u)));
            }
        }
    }
    Ok(())
}
