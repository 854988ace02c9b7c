//! `jobscope settings`: the instance settings (administrators), among them the one that makes
//! every project's allowlist enforced.

use clap::{Args, Subcommand};
use jobscope_client::endpoints::settings::UpdateSettings;
use jobscope_client::types::api::ApplicationSettings;

use super::common::{HintExt, print_fields};
use crate::config::{ConnArgs, Credentials, Env};
use crate::error::{CliResult, ExitCode};
use crate::output::{Io, OutputFormat, time, yes_no};

#[derive(Subcommand, Debug)]
pub enum SettingsCommand {
    /// Show the instance settings (administrators).
    Show,
    /// Change instance settings (administrators) and show the new ones.
    Set(SetArgs),
}

#[derive(Args, Debug)]
#[group(id = "settings", required = true, multiple = true)]
pub struct SetArgs {
    /// Enforce every project's allowlist, whatever the project's own setting
    /// (enforce_ci_inbound_job_token_scope_enabled)
    #[arg(long, value_name = "true|false")]
    pub enforce_job_token_scope: Option<bool>,
    /// The longest a personal access token may live, in days, or `none` for no limit
    /// (max_personal_access_token_lifetime)
    #[arg(long, value_name = "DAYS|none", value_parser = parse_lifetime)]
    pub max_token_lifetime: Option<Lifetime>,
    /// How many personal projects a new user may create (default_projects_limit)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..))]
    pub default_projects_limit: Option<i64>,
}

/// `--max-token-lifetime`: days, or no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime(pub Option<i64>);

pub fn parse_lifetime(s: &str) -> Result<Lifetime, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(Lifetime(None));
    }
    match t.parse::<i64>() {
        Ok(days) if days > 0 => Ok(Lifetime(Some(days))),
        _ => Err(format!(
            "{s:?} is not a lifetime: expected a number of days (1 or more) or `none`"
        )),
    }
}

fn print_settings(io: &mut Io<'_>, format: OutputFormat, s: &ApplicationSettings) {
    match format {
        OutputFormat::Json => io.json(s),
        OutputFormat::Table => print_fields(
            io,
            vec![
                (
                    "enforce job token scope",
                    if s.enforce_ci_inbound_job_token_scope_enabled {
                        "yes (every project limits access to allowlisted job tokens)".into()
                    } else {
                        "no (each project decides)".into()
                    },
                ),
                (
                    "max token lifetime",
                    match s.max_personal_access_token_lifetime {
                        Some(1) => "1 day".into(),
                        Some(days) => format!("{days} days"),
                        None => "none".into(),
                    },
                ),
                (
                    "default projects limit",
                    s.default_projects_limit.to_string(),
                ),
                (
                    "default visibility",
                    format!(
                        "projects {}, groups {}, snippets {}",
                        s.default_project_visibility,
                        s.default_group_visibility,
                        s.default_snippet_visibility
                    ),
                ),
                (
                    "restricted visibility",
                    if s.restricted_visibility_levels.is_empty() {
                        "none".into()
                    } else {
                        s.restricted_visibility_levels.join(", ")
                    },
                ),
                ("sign-up enabled", yes_no(s.signup_enabled)),
                ("updated", time(&s.updated_at)),
            ],
        ),
    }
}

pub async fn run(
    conn: &ConnArgs,
    command: SettingsCommand,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let settings = match command {
        SettingsCommand::Show => ctx.client.settings().await.admin()?,
        SettingsCommand::Set(a) => {
            let mut update = UpdateSettings::new();
            if let Some(on) = a.enforce_job_token_scope {
                update = update.enforce_job_token_scope(on);
            }
            if let Some(Lifetime(days)) = a.max_token_lifetime {
                update = update.max_personal_access_token_lifetime(days);
            }
            if let Some(n) = a.default_projects_limit {
                update = update.default_projects_limit(n);
            }
            ctx.client.update_settings(&update).await.admin()?
        }
    };
    print_settings(io, ctx.output, &settings);
    Ok(ExitCode::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("30"), Ok(Lifetime(Some(30))));
        assert_eq!(parse_lifetime("None"), Ok(Lifetime(None)));
        assert!(parse_lifetime("0").is_err());
        assert!(parse_lifetime("a year").is_err());
    }
}
