//! `jobscope sync FILE`: the job token scopes of many projects, as one YAML file.
//!
//! It reads the file ([`file`]), resolves every path and reads what the server has
//! ([`read`]), computes the difference ([`plan`], pure), prints it ([`render`]) and, with
//! `--apply`, makes it ([`apply`]). The format, the output and the exit codes are described in
//! docs/sync.md.

pub mod apply;
pub mod file;
pub mod plan;
pub mod read;
pub mod render;

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{ConnArgs, Credentials, Env};
use crate::error::{CliResult, ExitCode};
use crate::output::{Io, OutputFormat};

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The YAML file of desired scopes: `projects:`, each with `enabled`, `allowlist` and
    /// `groups_allowlist` (see docs/sync.md)
    pub file: PathBuf,
    /// Change the server to match the file (without it, only show the difference)
    #[arg(long)]
    pub apply: bool,
    /// Exit with 1 when the server differed from the file, as `git diff --exit-code` does
    /// (with --apply too: 1 means changes were made)
    #[arg(long)]
    pub exit_code: bool,
    /// How many requests may run at once while reading the server (changes are always made
    /// one at a time)
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// A progress bar on standard error, drawn only when someone watches it.
fn progress_bar(interactive: bool) -> ProgressBar {
    if !interactive {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{msg:24!} [{bar:30}] {pos}/{len}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style)
}

pub async fn run(conn: &ConnArgs, args: SyncArgs, env: &dyn Env, io: &mut Io<'_>) -> CliResult {
    // The file first: its mistakes need no server.
    let file = file::read(&args.file)?;
    let ctx = conn.context(env, Credentials::User)?;
    let name = args.file.display().to_string();
    let json = ctx.output == OutputFormat::Json;

    let reading = progress_bar(io.interactive);
    let options = read::ReadOptions {
        concurrency: usize::from(args.concurrency),
        progress: reading.clone(),
    };
    let planned = read::plan_with(&ctx.client, &file, &options).await;
    reading.finish_and_clear();
    let plan = planned?;
    for p in &plan.projects {
        for n in &p.notes {
            io.note(format!("note: {}: {n}", p.path));
        }
    }
    let differs = !plan.is_empty();
    if !json {
        if differs {
            let _ = io.out.write_all(render::plan_text(&plan).as_bytes());
        } else {
            io.line(format!("No changes: the server matches {name}."));
        }
    }

    let mut outcome = None;
    if args.apply && differs {
        let bar = progress_bar(io.interactive);
        let o = apply::apply(&ctx.client, &plan, &bar).await;
        bar.finish_and_clear();
        for (project, n) in &o.notes {
            io.note(format!("note: {project}: {n}"));
        }
        outcome = Some(o);
    }

    if json {
        io.json(&render::report(&name, &plan, args.apply, outcome.as_ref()));
    } else if let Some(o) = &outcome {
        io.line(render::applied_line(o));
    }
    if let Some((_, _, e)) = outcome.and_then(|o| o.failure) {
        return Err(e);
    }
    if differs && !args.apply {
        io.note(format!(
            "Nothing was changed (a dry run). To make these changes: jobscope sync {name} --apply"
        ));
    }
    if args.exit_code && differs {
        Ok(ExitCode::No)
    } else {
        Ok(ExitCode::Success)
    }
}
