//! `jobscope-synth`: writes a deterministic synthetic jobscope instance straight into an empty
//! database (issue 6, goals 5 and 6).
//!
//! At scale 1.0: 1,000,000 users (root and 999,999 others), each with a personal namespace;
//! 100,000 groups in trees up to 20 levels below their root; 1,000,000 projects (70 % in
//! groups, 30 % in personal namespaces); memberships as the API makes them plus about 1.5
//! per user; 2,000,000 allowlist entries (project and group entries, at most 200 of each per
//! project); 100,000 running jobs with deterministic job tokens. The schema is created by the
//! store crates themselves (their migrations); the rows are then bulk-loaded with SQL.
//!
//! Next to the manifest it writes request files for a load generator (one JSON object per
//! line: `{"path": "/api/v4/job_token/allowed?project=B", "headers": {"JOB-TOKEN": "…"}}`),
//! one file per expected status, and `decision-pairs.tsv` (token digest, origin, target,
//! expected status) for SQL benchmarks.

mod emit;
mod manifest;
mod model;
mod rng;
mod sink;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::json;
use sqlx::Row;

use crate::model::{Counts, Instance};
use crate::sink::Sink;

/// Generates a synthetic jobscope instance into an empty database.
#[derive(Parser, Debug)]
#[command(name = "jobscope-synth", version)]
struct Args {
    /// The database to fill: `sqlite://PATH` (created if missing) or
    /// `postgres://USER@HOST:PORT/DB` (an existing, empty database). It must hold no users.
    #[arg(long)]
    database: String,

    /// Size relative to the instance (1.0: 1M users, 100k groups, 1M projects,
    /// 2M allowlist entries, 100k running jobs).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,

    /// Seed of every random choice; the same seed and scale give the same instance.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Where to write the manifest (JSON); the request files go to the same directory.
    #[arg(long)]
    manifest: PathBuf,

    /// Personal access token given to root (the token `jobscope serve --root-token` would
    /// give it).
    #[arg(long, default_value = "glpat-synthetic-root-0001")]
    root_token: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

fn backend_of(url: &str) -> Result<Backend> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if lower.starts_with("sqlite:") || !lower.contains("://") {
        Ok(Backend::Sqlite)
    } else {
        bail!(
            "unsupported database URL {} (use sqlite:// or postgres://)",
            redact(url)
        )
    }
}

/// The URL without a password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn sqlite_file(url: &str) -> PathBuf {
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(file.split_once('?').map_or(file, |(f, _)| f))
}

/// Creates the schema with the store's own migrations, then closes the store.
async fn create_schema(backend: Backend, url: &str) -> Result<()> {
    match backend {
        Backend::Sqlite => {
            let store = jobscope_store_sqlite::SqliteStore::open(url)
                .await
                .with_context(|| format!("opening {} with the SQLite store", redact(url)))?;
            store.close().await;
        }
        Backend::Postgres => {
            let store = jobscope_store_postgres::PgStore::open(url)
                .await
                .with_context(|| format!("opening {} with the PostgreSQL store", redact(url)))?;
            store.close().await;
        }
    }
    Ok(())
}

async fn count_users(sink: &mut Sink) -> Result<i64> {
    let sql = "SELECT COUNT(*) AS n FROM users";
    let n = match sink {
        Sink::Sqlite(c) => sqlx::query(sql).fetch_one(&mut *c).await?.try_get("n")?,
        Sink::Postgres(c) => sqlx::query(sql).fetch_one(&mut *c).await?.try_get("n")?,
    };
    Ok(n)
}

/// The salt the store made for this database's token digests.
async fn token_salt(sink: &mut Sink) -> Result<String> {
    let sql = "SELECT token_salt FROM instance_secrets WHERE id = 1";
    let salt = match sink {
        Sink::Sqlite(c) => sqlx::query(sql).fetch_one(&mut *c).await?.try_get(0)?,
        Sink::Postgres(c) => sqlx::query(sql).fetch_one(&mut *c).await?.try_get(0)?,
    };
    Ok(salt)
}

async fn run(args: Args) -> Result<()> {
    if !(args.scale.is_finite() && args.scale > 0.0 && args.scale <= 10.0) {
        bail!(
            "--scale must be a number above 0 and at most 10 (got {})",
            args.scale
        );
    }
    let backend = backend_of(&args.database)?;
    let started = Instant::now();
    let dir = match args.manifest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    create_schema(backend, &args.database).await?;
    let mut sink = match backend {
        Backend::Sqlite => Sink::sqlite(&args.database).await?,
        Backend::Postgres => Sink::postgres(&args.database).await?,
    };
    let existing = count_users(&mut sink).await?;
    if existing > 0 {
        bail!(
            "{} already has {existing} users; jobscope-synth fills an empty database only \
             (use a new SQLite file or a new PostgreSQL database)",
            redact(&args.database)
        );
    }

    let salt = token_salt(&mut sink).await?;
    let counts = Counts::at_scale(args.scale);
    let t = Instant::now();
    let inst = Instance::generate(counts, args.seed);
    let model_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "jobscope-synth: model of {} users, {} groups (depth ≤ {}), {} projects, {} + {} entries, {} jobs in {model_secs:.1} s",
        counts.users,
        inst.groups.len(),
        inst.max_depth(),
        counts.projects,
        inst.project_links.len(),
        inst.group_links.len(),
        inst.jobs.len()
    );

    let t = Instant::now();
    sink.begin().await?;
    emit::write_all(&inst, &mut sink, &args.root_token, &salt).await?;
    sink.commit().await.context("committing")?;
    let write_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    sink.finish().await?;
    let finish_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "jobscope-synth: written in {write_secs:.1} s, finished ({}) in {finish_secs:.1} s",
        match backend {
            Backend::Sqlite => "journal back to WAL",
            Backend::Postgres => "sequences, VACUUM (ANALYZE)",
        }
    );

    let (requests, samples) = manifest::write_requests(&inst, &dir, &salt)?;
    let total_secs = started.elapsed().as_secs_f64();
    let file_bytes = match backend {
        Backend::Sqlite => std::fs::metadata(sqlite_file(&args.database))
            .ok()
            .map(|m| m.len()),
        Backend::Postgres => None,
    };
    let mut by_depth = vec![0u64; usize::from(inst.max_depth()) + 1];
    for g in &inst.groups {
        by_depth[usize::from(g.depth)] += 1;
    }
    let group_projects = inst
        .projects
        .iter()
        .skip(1)
        .filter(|p| matches!(p.ns, model::Ns::Group(_)))
        .count();
    let doc = json!({
        "generator": "jobscope-synth",
        "database": redact(&args.database),
        "backend": match backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
        "scale": args.scale,
        "seed": args.seed,
        "root_token": args.root_token,
        "counts": {
            "users": counts.users,
            "personal_namespaces": counts.users,
            "groups": inst.groups.len(),
            "root_groups": by_depth.first().copied().unwrap_or(0),
            "max_group_depth": inst.max_depth(),
            "projects": counts.projects,
            "group_projects": group_projects,
            "personal_projects": counts.projects as usize - group_projects,
            "namespace_members": inst.namespace_members.len(),
            "project_members": inst.project_members.len(),
            "project_entries": inst.project_links.len(),
            "group_entries": inst.group_links.len(),
            "allowlist_entries": inst.project_links.len() + inst.group_links.len(),
            "projects_with_entries": inst.targets,
            "projects_with_200_plus_200_entries": inst.full_targets,
            "projects_with_inbound_enabled": inst.projects.iter().skip(1).filter(|p| p.inbound).count(),
            "running_jobs": inst.jobs.len(),
            "personal_access_tokens": 1,
        },
        "groups_by_depth": by_depth,
        "instance_settings": {"enforce_ci_inbound_job_token_scope_enabled": false},
        "seconds": {
            "model": model_secs,
            "write": write_secs,
            "finish": finish_secs,
            "total": total_secs,
        },
        "sqlite_file_bytes": file_bytes,
        "requests": requests,
        "pairs_file": manifest::PAIRS,
        "samples": samples,
    });
    let text = serde_json::to_string_pretty(&doc)?;
    std::fs::write(&args.manifest, text + "\n")
        .with_context(|| format!("writing {}", args.manifest.display()))?;
    eprintln!(
        "jobscope-synth: done in {total_secs:.1} s; manifest {}",
        display(&args.manifest)
    );
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jobscope-synth: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert!(backend_of("sqlite:///tmp/x").is_ok_and(|b| b == Backend::Sqlite));
        assert!(backend_of("postgres://x/y").is_ok_and(|b| b == Backend::Postgres));
        assert!(backend_of("mysql://x/y").is_err());
        assert_eq!(
            sqlite_file("sqlite:///tmp/a.db?mode=rwc"),
            PathBuf::from("/tmp/a.db")
        );
    }
}
