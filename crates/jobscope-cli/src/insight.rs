//! `auth-log`, `autopopulate`, `check`, `reachable` and `audit`.

use clap::Args;
use futures::TryStreamExt;
use jobscope_client::types::ProjectRef;
use jobscope_client::types::api::{AuditEvent, MatchedEntry};
use jobscope_client::{AllowlistItem, Decision};
use serde::Serialize;

use crate::config::{ConnArgs, Credentials, Env};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{Io, OutputFormat, Table, time, yes_no};
use crate::scope::describe_permissions;

#[derive(Args, Debug)]
pub struct ProjectArg {
    /// The project: its id or full path.
    pub project: String,
}

#[derive(Args, Debug)]
pub struct AuthLogArgs {
    /// The project: its id or full path.
    pub project: String,
    /// Write GitLab's CSV export (Origin Project Path,Last Authorized At (UTC)) instead.
    #[arg(long, conflicts_with = "output")]
    pub csv: bool,
}

#[derive(Args, Debug)]
pub struct AutopopulateArgs {
    /// The project: its id or full path.
    pub project: String,
    /// Only show what would be added (jobscope only; GitLab has no dry run).
    #[arg(long, conflicts_with = "clear")]
    pub dry_run: bool,
    /// Remove every entry autopopulation added, instead.
    #[arg(long)]
    pub clear: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The target project: its id or full path.
    pub project: String,
    /// Also ask for this job token policy (for example read_packages).
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<String>,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The project: its id or full path.
    pub project: String,
    /// Only events at or after this time (RFC 3339, or a date: 2026-11-01).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// At most this many events (newest first).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub async fn auth_log(
    conn: &ConnArgs,
    args: AuthLogArgs,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let rows = ctx
        .client
        .project(ProjectRef::from(args.project.as_str()))
        .job_token_scope()
        .auth_log()
        .await?;
    if args.csv {
        io.line("Origin Project Path,Last Authorized At (UTC)");
        for r in &rows {
            io.line(format!(
                "{},{}",
                csv_field(&r.origin_project_path),
                r.last_authorized_at.format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        return Ok(ExitCode::Success);
    }
    match ctx.output {
        OutputFormat::Json => io.json(&rows),
        OutputFormat::Table => {
            let mut t = Table::new(&[
                "origin project",
                "id",
                "last authorized (utc)",
                "policies used",
            ]);
            for r in &rows {
                t.row(vec![
                    r.origin_project_path.clone(),
                    r.origin_project_id.to_string(),
                    time(&r.last_authorized_at),
                    r.job_token_policies
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                ]);
            }
            io.table(
                &t,
                "No job token from another project has reached this one.",
            );
        }
    }
    Ok(ExitCode::Success)
}

pub async fn autopopulate(
    conn: &ConnArgs,
    args: AutopopulateArgs,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let scope = ctx
        .client
        .project(ProjectRef::from(args.project.as_str()))
        .job_token_scope();
    if args.clear {
        scope.clear_autopopulated().await?;
        match ctx.output {
            OutputFormat::Json => io.json(&serde_json::json!({"cleared": true})),
            OutputFormat::Table => io.line("Removed every autopopulated entry."),
        }
        return Ok(ExitCode::Success);
    }
    let outcome = scope.autopopulate(args.dry_run).await?;
    match ctx.output {
        OutputFormat::Json => io.json(&outcome),
        OutputFormat::Table => {
            let mut t = Table::new(&["type", "id", "path"]);
            for a in &outcome.added {
                t.row(vec![
                    a.target.kind().to_owned(),
                    a.target_id().to_string(),
                    a.path.clone(),
                ]);
            }
            io.table(
                &t,
                "The authentication log has no project that is not on the allowlist already.",
            );
            if outcome.dry_run {
                io.note("dry run: nothing was changed (run again without --dry-run to add these)");
            } else {
                if let Some(n) = outcome.replaced.filter(|n| *n > 0) {
                    io.note(format!("replaced {n} earlier autopopulated entries"));
                }
                io.note(format!("limit access: {}", yes_no(outcome.inbound_enabled)));
            }
        }
    }
    Ok(ExitCode::Success)
}

/// What `check` prints as JSON.
#[derive(Serialize)]
struct CheckView {
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<jobscope_client::types::api::JobTokenDecision>,
}

fn describe_match(m: &MatchedEntry) -> String {
    match m {
        MatchedEntry::SameProject => "the job's own project".into(),
        MatchedEntry::ScopeDisabled => {
            "the project does not limit access (its allowlist is off)".into()
        }
        MatchedEntry::Project {
            path_with_namespace,
            default_permissions,
            job_token_policies,
            ..
        } => format!(
            "project entry {path_with_namespace} ({})",
            describe_permissions(*default_permissions, job_token_policies)
        ),
        MatchedEntry::Group {
            full_path,
            default_permissions,
            job_token_policies,
            ..
        } => format!(
            "group entry {full_path} ({})",
            describe_permissions(*default_permissions, job_token_policies)
        ),
    }
}

pub async fn check(conn: &ConnArgs, args: CheckArgs, env: &dyn Env, io: &mut Io<'_>) -> CliResult {
    let ctx = conn.context(env, Credentials::Job)?;
    if let Some(p) = &args.policy {
        crate::scope::parse_policies(std::slice::from_ref(p))?;
    }
    let decision = ctx
        .client
        .ci()
        .allowed(
            ProjectRef::from(args.project.as_str()),
            args.policy.as_deref(),
        )
        .await
        .map_err(|e| match e {
            jobscope_client::Error::Api { status, .. } if status.as_u16() == 401 => {
                CliError::from(e).with_hint(
                    "the job token is not valid: its job may have finished, or the token is \
                     mistyped",
                )
            }
            other => other.into(),
        })?;
    match decision {
        Decision::Allowed(d) => {
            match ctx.output {
                OutputFormat::Json => io.json(&CheckView {
                    allowed: true,
                    status: None,
                    message: None,
                    decision: Some((*d).clone()),
                }),
                OutputFormat::Table => {
                    let role = d
                        .access_level
                        .and_then(jobscope_client::types::AccessLevel::from_value)
                        .map(|l| format!("{} ({})", l.name(), l.value()))
                        .unwrap_or_else(|| "no role".into());
                    let mut t = Table::new(&["", ""]);
                    t.row(vec!["allowed".into(), "yes".into()]);
                    t.row(vec![
                        "from".into(),
                        format!(
                            "{} (job {})",
                            d.source_project.path_with_namespace, d.job.id
                        ),
                    ]);
                    t.row(vec![
                        "to".into(),
                        d.target_project.path_with_namespace.clone(),
                    ]);
                    t.row(vec![
                        "as".into(),
                        format!("{}, {role} in the target", d.user.username),
                    ]);
                    if let Some(p) = &d.policy {
                        t.row(vec!["policy".into(), p.clone()]);
                    }
                    t.row(vec!["because".into(), describe_match(&d.matched)]);
                    io.line(t.render().lines().skip(1).collect::<Vec<_>>().join("\n"));
                }
            }
            Ok(ExitCode::Success)
        }
        Decision::Denied { status, message } => {
            match ctx.output {
                OutputFormat::Json => io.json(&CheckView {
                    allowed: false,
                    status: Some(status.as_u16()),
                    message: Some(message),
                    decision: None,
                }),
                OutputFormat::Table => io.line(format!("refused: {message}")),
            }
            Ok(ExitCode::No)
        }
    }
}

pub async fn reachable(
    conn: &ConnArgs,
    args: ProjectArg,
    env: &dyn Env,
    io: &mut Io<'_>,
) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let rows = ctx
        .client
        .project(ProjectRef::from(args.project.as_str()))
        .job_token_scope()
        .reachable()
        .await?;
    match ctx.output {
        OutputFormat::Json => io.json(&rows),
        OutputFormat::Table => {
            let mut t = Table::new(&["project", "id", "limits access", "via"]);
            for r in &rows {
                t.row(vec![
                    r.project.path_with_namespace.clone(),
                    r.project.id.to_string(),
                    yes_no(r.inbound_enabled),
                    describe_match(&r.via),
                ]);
            }
            io.table(
                &t,
                "No project's allowlist names this project or a group above it.",
            );
        }
    }
    Ok(ExitCode::Success)
}

fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, CliError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(CliError::usage(format!(
        "--since {s:?}: expected a date (2026-11-01) or an RFC 3339 time (2026-11-01T12:00:00Z)"
    )))
}

pub async fn audit(conn: &ConnArgs, args: AuditArgs, env: &dyn Env, io: &mut Io<'_>) -> CliResult {
    let ctx = conn.context(env, Credentials::User)?;
    let mut endpoint = jobscope_client::endpoints::audit_events::ListProjectAuditEvents::new(
        ProjectRef::from(args.project.as_str()),
    );
    if let Some(s) = &args.since {
        endpoint = endpoint.created_after(parse_since(s)?);
    }
    let stream = ctx.client.paged::<AuditEvent>(&endpoint);
    let events: Vec<AuditEvent> = match args.limit {
        Some(n) => stream.take_n(n).await?,
        None => stream.try_collect().await?,
    };
    match ctx.output {
        OutputFormat::Json => io.json(&events),
        OutputFormat::Table => {
            let mut t = Table::new(&["time (utc)", "event", "author", "message"]);
            for e in &events {
                let d = &e.details;
                t.row(vec![
                    time(&e.created_at),
                    e.event_name.clone(),
                    d.get("author_name")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_owned(),
                    d.get("custom_message")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_owned(),
                ]);
            }
            io.table(&t, "No audit events.");
        }
    }
    Ok(ExitCode::Success)
}

/// Collects at most `n` items of a stream (stopping the paging there).
trait TakeN<T> {
    async fn take_n(self, n: usize) -> Result<Vec<T>, jobscope_client::Error>;
}

impl<S, T> TakeN<T> for S
where
    S: futures::Stream<Item = Result<T, jobscope_client::Error>> + Unpin,
{
    async fn take_n(mut self, n: usize) -> Result<Vec<T>, jobscope_client::Error> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.try_next().await? {
                Some(item) => out.push(item),
                None => break,
            }
        }
        Ok(out)
    }
}
