//! Carrying out a plan: project by project, in the file's order; within a project removals
//! first, then additions, then permission changes, then the setting. The first failure stops
//! everything, and the outcome says what was done.

use indicatif::ProgressBar;
use jobscope_client::Client;
use jobscope_client::types::{NamespaceRef, ProjectRef};
use jobscope_client::{Permissions, Target};

use super::plan::{Change, Plan, Summary};
use crate::error::CliError;

/// What applying did.
#[derive(Debug)]
pub struct Outcome {
    /// For each project of the plan, for each of its changes: whether it was made.
    pub done: Vec<Vec<bool>>,
    /// What was made, counted like the plan.
    pub summary: Summary,
    /// Things the person should know (a setting the instance keeps on), as `(project, note)`.
    pub notes: Vec<(String, String)>,
    /// The change that failed (project index, change index) and why; nothing after it was
    /// attempted.
    pub failure: Option<(usize, usize, CliError)>,
}

impl Outcome {
    /// How many changes were not made (the failed one included).
    pub fn not_made(&self) -> usize {
        self.done.iter().flatten().filter(|d| !**d).count()
    }
}

/// Makes the plan's changes, advancing `progress` by one per change.
pub async fn apply(client: &Client, plan: &Plan, progress: &ProgressBar) -> Outcome {
    let mut outcome = Outcome {
        done: plan
            .projects
            .iter()
            .map(|p| vec![false; p.changes.len()])
            .collect(),
        summary: Summary {
            projects: plan.projects.len(),
            ..Summary::default()
        },
        notes: Vec::new(),
        failure: None,
    };
    progress.set_length(plan.summary().total() as u64);
    for (pi, project) in plan.projects.iter().enumerate() {
        if project.changes.is_empty() {
            continue;
        }
        progress.set_message(project.path.clone());
        let mut order: Vec<usize> = (0..project.changes.len()).collect();
        order.sort_by_key(|&i| project.changes[i].apply_rank());
        let mut made = Vec::new();
        for ci in order {
            let change = &project.changes[ci];
            match make(client, project.id.into(), change).await {
                Ok(note) => {
                    if let Some(n) = note {
                        outcome.notes.push((project.path.clone(), n));
                    }
                    outcome.done[pi][ci] = true;
                    made.push(change);
                    progress.inc(1);
                }
                Err(e) => {
                    let e = e.context(format!("{}: {}", project.path, doing(change)));
                    outcome.summary.count(made);
                    outcome.failure = Some((pi, ci, e));
                    return outcome;
                }
            }
        }
        outcome.summary.count(made);
    }
    outcome
}

/// "adding project acme/tester", for errors.
fn doing(change: &Change) -> String {
    match change {
        Change::SetEnabled { to: true } => "turning on limit access".into(),
        Change::SetEnabled { to: false } => "turning off limit access".into(),
        Change::Add { target, path, .. } => format!("adding {} {path}", target.kind()),
        Change::Remove { target, path, .. } => format!("removing {} {path}", target.kind()),
        Change::Update { target, path, .. } => {
            format!("changing the permissions of {} {path}", target.kind())
        }
    }
}

/// Makes one change; answers a note when the server could not do all that was asked.
async fn make(
    client: &Client,
    project: ProjectRef,
    change: &Change,
) -> Result<Option<String>, CliError> {
    let scope = client.project(project).job_token_scope();
    match change {
        Change::SetEnabled { to } => {
            let now = scope.set_enabled(*to).await?;
            if !*to && now.inbound_enabled {
                return Ok(Some(
                    "access stays limited: the instance enforces every project's allowlist \
                     (setting enforce_ci_inbound_job_token_scope_enabled); the project's own \
                     setting is off now, but as long as the file says `enabled: false` every \
                     sync shows this change again"
                        .into(),
                ));
            }
        }
        Change::Add { target, access, .. } => {
            // Default permissions need no permission fields (one REST request on GitLab).
            let permissions = match access {
                super::plan::Access::Default => Permissions::default(),
                other => other.permissions(),
            };
            match *target {
                Target::Project(id) => {
                    scope
                        .projects()
                        .add_with(ProjectRef::from(id), permissions)
                        .await?;
                }
                Target::Group(id) => {
                    scope
                        .groups()
                        .add_with(NamespaceRef::from(id), permissions)
                        .await?;
                }
            }
        }
        Change::Remove { target, .. } => match *target {
            Target::Project(id) => scope.projects().remove(ProjectRef::from(id)).await?,
            Target::Group(id) => scope.groups().remove(NamespaceRef::from(id)).await?,
        },
        Change::Update { target, to, .. } => match *target {
            Target::Project(id) => {
                scope
                    .projects()
                    .update(ProjectRef::from(id), to.permissions())
                    .await?;
            }
            Target::Group(id) => {
                scope
                    .groups()
                    .update(NamespaceRef::from(id), to.permissions())
                    .await?;
            }
        },
    }
    Ok(None)
}
