//! `jobscope tokens`: personal access tokens (create them for users, list, show, revoke and
//! rotate them).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use http::StatusCode;
use jobscope_client::endpoints::tokens::{
    CreatePersonalAccessToken, ListPersonalAccessTokens, RotatePersonalAccessToken, TokenRef,
};
use jobscope_client::types::api::{PersonalAccessToken, User};
use jobscope_client::types::{TokenId, UserId};

use super::common::{HintExt, date, forbidden_hint, parse_date, print_fields, who};
use crate::config::{ConnArgs, Context, Credentials, Env};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{Io, OutputFormat, Table, time};

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Create a personal access token for a user (administrators); prints it once.
    Create(CreateArgs),
    /// List tokens: yours, or (administrators) everyone's or one user's.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show a token (by default the one this command uses).
    Show(ShowArgs),
    /// Revoke a token: it stops working at once.
    Revoke(TokenArg),
    /// Revoke a token and issue a replacement with the same name and scopes; prints it once.
    Rotate(RotateArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The user the token belongs to: numeric id or username.
    pub user: String,
    /// The token's name.
    #[arg(long)]
    pub name: String,
    /// What the token may do: api, read_api, read_user, read_repository, … (repeat, or
    /// separate with commas)
    #[arg(
        long = "scope",
        value_name = "SCOPE",
        value_delimiter = ',',
        required = true
    )]
    pub scopes: Vec<String>,
    /// The last day the token works (YYYY-MM-DD); the server's maximum lifetime applies when
    /// not given
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub expires_at: Option<NaiveDate>,
    /// What the token is for.
    #[arg(long)]
    pub description: Option<String>,
}

/// `--state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TokenState {
    /// Tokens that work: not revoked, not expired.
    Active,
    /// Revoked or expired tokens.
    Inactive,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only this user's tokens (numeric id or username; administrators for anyone else's).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only active or only inactive tokens.
    #[arg(long, value_enum)]
    pub state: Option<TokenState>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The token's numeric id, or `self` for the token this command uses.
    // Not `token`: that is the global --token's id.
    #[arg(id = "token_ref", value_name = "ID|self", default_value = "self", value_parser = parse_token_ref)]
    pub token: TokenRef,
}

#[derive(Args, Debug)]
pub struct TokenArg {
    /// The token's numeric id, or `self` for the token this command uses.
    // Not `token`: that is the global --token's id.
    #[arg(id = "token_ref", value_name = "ID|self", value_parser = parse_token_ref)]
    pub token: TokenRef,
}

#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The token's numeric id, or `self` for the token this command uses.
    // Not `token`: that is the global --token's id.
    #[arg(id = "token_ref", value_name = "ID|self", value_parser = parse_token_ref)]
    pub token: TokenRef,
    /// The last day the new token works (YYYY-MM-DD); the server picks one when not given.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub expires_at: Option<NaiveDate>,
}

/// `ID|self`.
pub fn parse_token_ref(s: &str) -> Result<TokenRef, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("self") {
        return Ok(TokenRef::Current);
    }
    match t.parse::<i64>() {
        Ok(id) if id > 0 => Ok(TokenRef::Id(TokenId(id))),
        _ => Err(format!(
            "{s:?} is not a token: expected its numeric id or `self`"
        )),
    }
}

/// The scopes given, trimmed, without repeats.
fn scopes(given: &[String]) -> Result<Vec<String>, CliError> {
    let mut out: Vec<String> = Vec::new();
    for s in given {
        let s = s.trim();
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    if out.is_empty() {
        return Err(CliError::usage(
            "give the token at least one scope: --scope api (or read_api, read_user, …)",
        ));
    }
    Ok(out)
}

/// `active`, `revoked`, `expired` or `inactive`.
fn state(t: &PersonalAccessToken) -> &'static str {
    if t.revoked {
        "revoked"
    } else if t.expired {
        "expired"
    } else if t.active {
        "active"
    } else {
        "inactive"
    }
}

/// At most this many owners are looked up to show usernames in `tokens list`.
const MAX_OWNER_LOOKUPS: usize = 50;

/// The tokens' owners by id (best effort: an owner that cannot be read shows as its id).
async fn owners(ctx: &Context, tokens: &[PersonalAccessToken]) -> BTreeMap<UserId, String> {
    let mut ids: Vec<UserId> = tokens.iter().map(|t| t.user_id).collect();
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_OWNER_LOOKUPS {
        return BTreeMap::new();
    }
    let users = ctx.client.users();
    futures::stream::iter(ids)
        .map(|id| {
            let users = users.clone();
            async move { (id, users.get(id).await.ok()) }
        })
        .buffer_unordered(8)
        .filter_map(|(id, u)| async move { u.map(|u| (id, who(&u))) })
        .collect()
        .await
}

fn print_list(io: &mut Io<'_>, tokens: &[PersonalAccessToken], owners: &BTreeMap<UserId, String>) {
    let mut t = Table::new(&[
        "id",
        "name",
        "user",
        "scopes",
        "state",
        "created",
        "last used",
        "expires",
    ]);
    for tok in tokens {
        t.row(vec![
            tok.id.to_string(),
            tok.name.clone(),
            owners
                .get(&tok.user_id)
                .cloned()
                .unwrap_or_else(|| tok.user_id.to_string()),
            tok.scopes.join(","),
            state(tok).to_owned(),
            time(&tok.created_at),
            tok.last_used_at.as_ref().map(time).unwrap_or_default(),
            date(tok.expires_at),
        ]);
    }
    io.table(&t, "No personal access tokens.");
}

fn print_token(io: &mut Io<'_>, t: &PersonalAccessToken, owner: Option<&User>) {
    print_fields(
        io,
        vec![
            ("id", t.id.to_string()),
            ("name", t.name.clone()),
            ("description", t.description.clone().unwrap_or_default()),
            (
                "user",
                owner.map(who).unwrap_or_else(|| t.user_id.to_string()),
            ),
            ("scopes", t.scopes.join(", ")),
            ("state", state(t).to_owned()),
            ("created", time(&t.created_at)),
            (
                "last used",
                t.last_used_at
                    .as_ref()
                    .map(time)
                    .unwrap_or_else(|| "never".into()),
            ),
            (
                "expires",
                t.expires_at
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "never".into()),
            ),
        ],
    );
}

/// Prints a token that carries its secret: a confirmation line, then the secret on a line of
/// its own (JSON: the token with its `token` field).
fn print_secret(io: &mut Io<'_>, format: OutputFormat, done: String, t: &PersonalAccessToken) {
    match format {
        OutputFormat::Json => io.json(t),
        OutputFormat::Table => {
            io.line(done);
            match &t.token {
                Some(secret) => {
                    io.line(format!("token: {secret}"));
                    io.note("note: copy the token now: it will not be shown again");
                }
                None => io.note("warning: the server did not send the new token's secret"),
            }
        }
    }
}

/// The hint for refusals: the scope, or someone else's token.
const MANAGE: &str =
    "managing tokens needs a token with the api scope; other users' tokens, an administrator's";

/// Only administrators reach other users' tokens.
const OTHERS: &str = "only administrators may see, revoke or rotate other users' tokens";

/// GitLab answers 401, not 403 or 404, when a token id is not one of the caller's (or does not
/// exist), and when someone other than an administrator asks for another user's tokens. When
/// the caller's own token works, the error says `message` with `code` instead of blaming the
/// token.
async fn not_theirs(
    ctx: &Context,
    e: jobscope_client::Error,
    code: ExitCode,
    message: String,
) -> CliError {
    if e.status() == Some(StatusCode::UNAUTHORIZED) && ctx.client.current_user().await.is_ok() {
        return CliError::new(code, message).with_hint(OTHERS);
    }
    forbidden_hint(e, MANAGE)
}

/// An error about one token (see [`not_theirs`]).
async fn token_error(ctx: &Context, e: jobscope_client::Error, token: TokenRef) -> CliError {
    match token {
        TokenRef::Id(id) => {
            let message = format!("no token {id} among the tokens you may see");
            not_theirs(ctx, e, ExitCode::NotFound, message).await
        }
        TokenRef::Current => forbidden_hint(e, MANAGE),
    }
}

fn describe(t: &PersonalAccessToken) -> String {
    format!("token {} ({})", t.id, t.name)
}

fn expiry(t: &PersonalAccessToken) -> String {
    match t.expires_at {
        Some(d) => format!("expires {d}"),
        None => "never expires".into(),
    }
}

pub async fn run(
    conn: &ConnArgs,
    command: TokensCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let tokens = ctx.client.tokens();
    match command {
        TokensCommand::Create(a) => {
            let scopes = scopes(&a.scopes)?;
            let user = ctx.client.users().find(&a.user).await?;
            let mut new = CreatePersonalAccessToken::new(user.id, &a.name, scopes);
            if let Some(d) = a.expires_at {
                new = new.expires_at(d);
            }
            if let Some(d) = &a.description {
                new = new.description(d);
            }
            let t = tokens.create(&new).await.admin()?;
            let done = format!(
                "created {} for {}: {}, {}",
                describe(&t),
                who(&user),
                t.scopes.join(", "),
                expiry(&t)
            );
            print_secret(io, ctx.output, done, &t);
        }
        TokensCommand::List(a) => {
            let mut q = ListPersonalAccessTokens::new();
            let mut owner = None;
            if let Some(u) = &a.user {
                let u = ctx.client.users().find(u).await?;
                q = q.user(u.id);
                owner = Some(u);
            }
            if let Some(s) = a.state {
                q = q.state(match s {
                    TokenState::Active => "active",
                    TokenState::Inactive => "inactive",
                });
            }
            let list = match (tokens.list(&q).await, owner) {
                (Ok(list), _) => list,
                (Err(e), Some(u)) => {
                    let message = format!("cannot list the tokens of {}", who(&u));
                    return Err(not_theirs(&ctx, e, ExitCode::Forbidden, message).await);
                }
                (Err(e), None) => return Err(forbidden_hint(e, MANAGE)),
            };
            match ctx.output {
                OutputFormat::Json => io.json(&list),
                OutputFormat::Table => {
                    let owners = owners(&ctx, &list).await;
                    print_list(io, &list, &owners);
                }
            }
        }
        TokensCommand::Show(a) => {
            let t = match tokens.get(a.token).await {
                Ok(t) => t,
                Err(e) => return Err(token_error(&ctx, e, a.token).await),
            };
            match ctx.output {
                OutputFormat::Json => io.json(&t),
                OutputFormat::Table => {
                    let owner = ctx.client.users().get(t.user_id).await.ok();
                    print_token(io, &t, owner.as_ref());
                }
            }
        }
        TokensCommand::Revoke(a) => {
            let mut t = match tokens.get(a.token).await {
                Ok(t) => t,
                Err(e) => return Err(token_error(&ctx, e, a.token).await),
            };
            if let Err(e) = tokens.revoke(a.token).await {
                return Err(token_error(&ctx, e, a.token).await);
            }
            t.revoked = true;
            t.active = false;
            match ctx.output {
                OutputFormat::Json => io.json(&t),
                OutputFormat::Table => io.line(format!("revoked {}", describe(&t))),
            }
            if a.token == TokenRef::Current {
                io.note("note: that was the token this command used: it no longer works");
            }
        }
        TokensCommand::Rotate(a) => {
            let mut rotate = RotatePersonalAccessToken::new(a.token);
            if let Some(d) = a.expires_at {
                rotate = rotate.expires_at(d);
            }
            let old = match a.token {
                TokenRef::Id(id) => format!("token {id}"),
                TokenRef::Current => "the token this command used".to_owned(),
            };
            let t = match tokens.rotate(&rotate).await {
                Ok(t) => t,
                Err(e) => return Err(token_error(&ctx, e, a.token).await),
            };
            let done = format!(
                "rotated {old}: {} replaces it, {}",
                describe(&t),
                expiry(&t)
            );
            print_secret(io, ctx.output, done, &t);
            if a.token == TokenRef::Current {
                io.note("note: the token this command used is revoked: use the new one");
            }
        }
    }
    Ok(ExitCode::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_references_and_scopes() {
        assert_eq!(parse_token_ref("self"), Ok(TokenRef::Current));
        assert_eq!(parse_token_ref("12"), Ok(TokenRef::Id(TokenId(12))));
        assert!(parse_token_ref("glpat-abc").is_err());
        assert!(parse_token_ref("0").is_err());
        assert_eq!(
            scopes(&["api".into(), " read_api".into(), "api".into(), "".into()]).unwrap(),
            ["api", "read_api"]
        );
        assert_eq!(scopes(&["".into()]).unwrap_err().code, ExitCode::Usage);
    }
}
