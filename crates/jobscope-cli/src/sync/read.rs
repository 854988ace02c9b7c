//! Planning: resolve every path of the file to an id (once each), read what the server has,
//! and compute the difference ([`super::plan::diff`]). Nothing here changes the server.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt, stream};
use http::StatusCode;
use indicatif::ProgressBar;
use jobscope_client::types::{NamespaceRef, ProjectId, ProjectRef};
use jobscope_client::{Client, Error, Target};

use super::file::{EntrySpec, RefKey, SyncFile};
use super::plan::{Access, Current, Desired, Plan, ProjectPlan, Wanted, diff};
use crate::error::{CliError, ExitCode};

/// How planning runs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Requests that may run at once (at least 1).
    pub concurrency: usize,
    /// Advanced once per project read (hidden unless someone watches).
    pub progress: ProgressBar,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            concurrency: 8,
            progress: ProgressBar::hidden(),
        }
    }
}

/// Plans `file` against the server `client` talks to (jobscope or GitLab).
pub async fn plan(client: &Client, file: &SyncFile) -> Result<Plan, CliError> {
    plan_with(client, file, &ReadOptions::default()).await
}

/// A project or group the file names, folded for the cache.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Lookup {
    group: bool,
    key: RefKey,
}

impl Lookup {
    fn project(reference: &str) -> Lookup {
        Lookup {
            group: false,
            key: RefKey::of(reference),
        }
    }

    fn group(reference: &str) -> Lookup {
        Lookup {
            group: true,
            key: RefKey::of(reference),
        }
    }
}

/// A target's id and full path.
async fn resolve(client: &Client, group: bool, reference: &str) -> Result<(Target, String), Error> {
    if group {
        let (id, path) = client
            .group(NamespaceRef::from(reference))
            .resolve()
            .await?;
        Ok((Target::Group(id), path))
    } else {
        let (id, path) = client
            .project(ProjectRef::from(reference))
            .resolve()
            .await?;
        Ok((Target::Project(id), path))
    }
}

fn is_not_found(e: &Error) -> bool {
    matches!(e, Error::Api { status, .. } if *status == StatusCode::NOT_FOUND)
}

fn list_name(group: bool) -> &'static str {
    if group {
        "groups_allowlist"
    } else {
        "allowlist"
    }
}

/// Plans with these options: every reference is resolved first (a missing project or group
/// is an error before anything is read), then each project's scope is read.
pub async fn plan_with(
    client: &Client,
    file: &SyncFile,
    options: &ReadOptions,
) -> Result<Plan, CliError> {
    let concurrency = options.concurrency.max(1);
    // 1. Every distinct reference, once, in the file's order.
    let mut lookups: Vec<(Lookup, String)> = Vec::new();
    let mut known: HashMap<Lookup, usize> = HashMap::new();
    let mut want = |lookup: Lookup, text: &str| {
        if !known.contains_key(&lookup) {
            known.insert(lookup.clone(), lookups.len());
            lookups.push((lookup, text.to_owned()));
        }
    };
    for spec in &file.projects {
        want(Lookup::project(&spec.project), &spec.project);
    }
    for spec in &file.projects {
        for e in spec.allowlist.iter().flatten() {
            want(Lookup::project(&e.target), &e.target);
        }
        for e in spec.groups_allowlist.iter().flatten() {
            want(Lookup::group(&e.target), &e.target);
        }
    }
    let progress = &options.progress;
    progress.set_length((lookups.len() + file.projects.len()) as u64);
    progress.set_message("resolving paths");
    let answers: Vec<Result<(Target, String), Error>> = stream::iter(lookups.iter())
        .map(|(lookup, text)| async move {
            let r = resolve(client, lookup.group, text).await;
            progress.inc(1);
            r
        })
        .buffered(concurrency)
        .collect()
        .await;
    // Anything but "not found" stops planning at once (credentials, permissions, network).
    let mut resolved: HashMap<Lookup, (Target, String)> = HashMap::new();
    let mut missing: HashMap<Lookup, String> = HashMap::new();
    for ((lookup, text), answer) in lookups.iter().zip(answers) {
        match answer {
            Ok(found) => {
                resolved.insert(lookup.clone(), found);
            }
            Err(e) if is_not_found(&e) => {
                missing.insert(lookup.clone(), e.to_string());
            }
            Err(e) => {
                let what = if lookup.group { "group" } else { "project" };
                return Err(CliError::from(e).context(format!("looking up the {what} {text}")));
            }
        }
    }

    // 2. What the file wants, by id; a target named twice (by path and by id) is an error of
    // the file, a target the server does not have an error of the plan.
    let mut problems: Vec<String> = Vec::new();
    let mut desired: Vec<(Desired, String)> = Vec::new();
    let mut projects_seen: HashMap<ProjectId, String> = HashMap::new();
    for spec in &file.projects {
        let own = resolved.get(&Lookup::project(&spec.project));
        if own.is_none()
            && let Some(m) = missing.get(&Lookup::project(&spec.project))
        {
            problems.push(format!("project {}: {m}", spec.project));
        }
        let label = own.map_or(spec.project.as_str(), |(_, path)| path.as_str());
        let mut lists: [Option<Vec<Wanted>>; 2] = [None, None];
        for (slot, (entries, group)) in [(&spec.allowlist, false), (&spec.groups_allowlist, true)]
            .into_iter()
            .enumerate()
        {
            let Some(entries) = entries else { continue };
            lists[slot] = Some(wanted(
                entries,
                group,
                label,
                &resolved,
                &missing,
                &mut problems,
            )?);
        }
        let Some((Target::Project(id), path)) = own else {
            continue;
        };
        if let Some(first) = projects_seen.insert(*id, spec.project.clone()) {
            return Err(CliError::usage(format!(
                "the project {path} is listed twice (as {first} and as {})",
                spec.project
            )));
        }
        let [projects, groups] = lists;
        desired.push((
            Desired {
                project: *id,
                enabled: spec.enabled,
                projects,
                groups,
            },
            path.clone(),
        ));
    }
    if !problems.is_empty() {
        let message = if let [one] = problems.as_slice() {
            format!("{one} (nothing was changed)")
        } else {
            format!(
                "the file names {} projects or groups the server does not have (nothing was \
                 changed):\n  {}",
                problems.len(),
                problems.join("\n  ")
            )
        };
        return Err(CliError::new(ExitCode::NotFound, message).with_hint(
            "check the paths and ids; the token's user must be able to see every project and \
             group the file names",
        ));
    }

    // 3. What the server has, for what the file names.
    progress.set_message("reading scopes");
    let currents: Vec<Current> = stream::iter(desired.iter())
        .map(|(d, path)| async move {
            let r = read_current(client, d).await.map_err(|e| {
                CliError::from(e).context(format!("reading the job token scope of {path}"))
            });
            progress.inc(1);
            r
        })
        .buffered(concurrency)
        .try_collect()
        .await?;

    // 4. Turning access limits off where the instance enforces them is no change: ask once,
    // when it matters (only administrators may read the instance settings).
    let turns_off = desired
        .iter()
        .zip(&currents)
        .any(|((d, _), c)| d.enabled == Some(false) && c.enabled == Some(true));
    let enforced = turns_off
        && client
            .settings()
            .await
            .map(|s| s.enforce_ci_inbound_job_token_scope_enabled)
            .unwrap_or(false);

    let projects = desired
        .into_iter()
        .zip(currents)
        .map(|((d, path), c)| {
            let (changes, notes) = diff(&d, &c, enforced);
            ProjectPlan {
                id: d.project,
                path,
                changes,
                notes,
            }
        })
        .collect();
    Ok(Plan { projects })
}

/// One list of the file, resolved; problems (targets the server does not have) are collected,
/// a target named twice is an error.
fn wanted(
    entries: &[EntrySpec],
    group: bool,
    project: &str,
    resolved: &HashMap<Lookup, (Target, String)>,
    missing: &HashMap<Lookup, String>,
    problems: &mut Vec<String>,
) -> Result<Vec<Wanted>, CliError> {
    let mut out: Vec<Wanted> = Vec::new();
    let mut seen: HashMap<Target, &str> = HashMap::new();
    for e in entries {
        let lookup = if group {
            Lookup::group(&e.target)
        } else {
            Lookup::project(&e.target)
        };
        let Some((target, path)) = resolved.get(&lookup) else {
            if let Some(m) = missing.get(&lookup) {
                problems.push(format!(
                    "{project}: {} entry {}: {m}",
                    list_name(group),
                    e.target
                ));
            }
            continue;
        };
        if let Some(first) = seen.insert(*target, e.target.as_str()) {
            return Err(CliError::usage(format!(
                "{project}: {} names the {} {path} twice (as {first} and as {})",
                list_name(group),
                target.kind(),
                e.target
            )));
        }
        out.push(Wanted {
            target: *target,
            path: path.clone(),
            access: Access::from_policies(e.policies.as_deref()),
        });
    }
    Ok(out)
}

/// The setting (when the file sets it) and both allowlists (when the file sets either).
async fn read_current(client: &Client, desired: &Desired) -> Result<Current, Error> {
    let scope = client.project(desired.project).job_token_scope();
    let enabled = match desired.enabled {
        Some(_) => Some(scope.get().await?.inbound_enabled),
        None => None,
    };
    let entries = if desired.projects.is_some() || desired.groups.is_some() {
        scope.entries().await?
    } else {
        Vec::new()
    };
    Ok(Current { enabled, entries })
}
