//! How a plan and its outcome are printed: lines for people, one JSON document for scripts.

use serde::Serialize;
use serde_json::{Value, json};

use super::apply::Outcome;
use super::plan::{Change, Plan, Summary};
use crate::output::yes_no;

/// One change as a line of the plan (without the indentation).
pub fn change_line(change: &Change) -> String {
    match change {
        Change::SetEnabled { to } => {
            format!("~ limit access: {} -> {}", yes_no(!to), yes_no(*to))
        }
        Change::Add {
            target,
            path,
            access,
        } => format!("+ {} {path} ({})", target.kind(), access.describe()),
        Change::Remove {
            target,
            path,
            autopopulated,
            ..
        } => {
            let mut line = format!("- {} {path}", target.kind());
            if *autopopulated {
                line.push_str(" (autopopulated)");
            }
            line
        }
        Change::Update {
            target,
            path,
            from,
            to,
        } => format!(
            "~ {} {path}: {} -> {}",
            target.kind(),
            from.describe(),
            to.describe()
        ),
    }
}

/// The plan as people read it: each project with changes, its changes indented, then the
/// summary line. Empty when nothing differs.
pub fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    for p in &plan.projects {
        if p.changes.is_empty() {
            continue;
        }
        out.push_str(&p.path);
        out.push('\n');
        for c in &p.changes {
            out.push_str("  ");
            out.push_str(&change_line(c));
            out.push('\n');
        }
    }
    if !out.is_empty() {
        out.push_str(&summary_line(&plan.summary()));
        out.push('\n');
    }
    out
}

fn projects(n: usize) -> &'static str {
    if n == 1 { "project" } else { "projects" }
}

/// "Plan: 2 to add, 2 to change, 1 to remove, in 1 of 3 projects."
pub fn summary_line(s: &Summary) -> String {
    format!(
        "Plan: {} to add, {} to change, {} to remove, in {} of {} {}.",
        s.add,
        s.change,
        s.remove,
        s.projects_changed,
        s.projects,
        projects(s.projects)
    )
}

/// "Applied: 2 added, 2 changed, 1 removed, in 1 project." (and what was not, after a failure:
/// "Applied before a change failed: …; 2 changes not made.", or "Nothing was applied: …" when
/// the first change failed).
pub fn applied_line(outcome: &Outcome) -> String {
    let s = &outcome.summary;
    let counts = format!(
        "{} added, {} changed, {} removed, in {} {}",
        s.add,
        s.change,
        s.remove,
        s.projects_changed,
        projects(s.projects_changed)
    );
    if outcome.failure.is_some() {
        let left = outcome.not_made();
        let changes = if left == 1 { "change" } else { "changes" };
        if s.total() == 0 {
            format!("Nothing was applied: the first change failed; {left} {changes} not made.")
        } else {
            format!("Applied before a change failed: {counts}; {left} {changes} not made.")
        }
    } else {
        format!("Applied: {counts}.")
    }
}

/// The JSON document `sync -o json` prints (documented in docs/sync.md).
#[derive(Debug, Serialize)]
pub struct Report {
    /// The file, as given on the command line.
    pub file: String,
    /// `--apply` was given and every change was made.
    pub applied: bool,
    /// Every project of the file, in its order.
    pub projects: Vec<ProjectReport>,
    /// The plan's counts.
    pub summary: Summary,
    /// Why applying stopped, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ProjectReport {
    pub project: String,
    pub id: i64,
    pub changes: Vec<ChangeReport>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ChangeReport {
    /// `add`, `remove`, `update`, `enable` or `disable`.
    pub action: &'static str,
    /// `project` or `group` (an entry), or `scope` (the setting).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The target's id (`null` for the setting).
    pub id: Option<i64>,
    /// The target's full path (`null` for the setting).
    pub path: Option<String>,
    /// Before: the entry's permissions, or the setting; `null` for an addition.
    pub from: Value,
    /// After: the entry's permissions, or the setting; `null` for a removal.
    pub to: Value,
    /// With `--apply`: whether this change was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<bool>,
}

fn change_report(change: &Change, applied: Option<bool>) -> ChangeReport {
    let entry = |kind: &'static str, id: i64, path: &str, from: Value, to: Value| ChangeReport {
        action: change.action(),
        kind,
        id: Some(id),
        path: Some(path.to_owned()),
        from,
        to,
        applied,
    };
    match change {
        Change::SetEnabled { to } => ChangeReport {
            action: change.action(),
            kind: "scope",
            id: None,
            path: None,
            from: json!(!to),
            to: json!(to),
            applied,
        },
        Change::Add {
            target,
            path,
            access,
        } => entry(target.kind(), target.id(), path, Value::Null, json!(access)),
        Change::Remove {
            target,
            path,
            access,
            ..
        } => entry(target.kind(), target.id(), path, json!(access), Value::Null),
        Change::Update {
            target,
            path,
            from,
            to,
        } => entry(target.kind(), target.id(), path, json!(from), json!(to)),
    }
}

/// The whole report: the plan, and with `outcome` what applying did.
pub fn report(file: &str, plan: &Plan, apply: bool, outcome: Option<&Outcome>) -> Report {
    let projects = plan
        .projects
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let mut notes = p.notes.clone();
            if let Some(o) = outcome {
                notes.extend(
                    o.notes
                        .iter()
                        .filter(|(project, _)| *project == p.path)
                        .map(|(_, n)| n.clone()),
                );
            }
            ProjectReport {
                project: p.path.clone(),
                id: p.id.get(),
                changes: p
                    .changes
                    .iter()
                    .enumerate()
                    .map(|(ci, c)| {
                        let applied = match outcome {
                            Some(o) => Some(o.done[pi][ci]),
                            None if apply => Some(false),
                            None => None,
                        };
                        change_report(c, applied)
                    })
                    .collect(),
                notes,
            }
        })
        .collect();
    let error = outcome.and_then(|o| o.failure.as_ref().map(|(_, _, e)| e.message.clone()));
    Report {
        file: file.to_owned(),
        applied: apply && error.is_none(),
        projects,
        summary: plan.summary(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CliError;

    fn outcome(done: Vec<Vec<bool>>, made: Summary, failed: bool) -> Outcome {
        Outcome {
            done,
            summary: made,
            notes: Vec::new(),
            failure: failed.then(|| (0, 0, CliError::usage("refused"))),
        }
    }

    #[test]
    fn the_applied_line_says_what_was_made_and_what_was_not() {
        let one_removed = Summary {
            remove: 1,
            projects_changed: 1,
            projects: 2,
            ..Summary::default()
        };
        assert_eq!(
            applied_line(&outcome(vec![vec![true], vec![]], one_removed, false)),
            "Applied: 0 added, 0 changed, 1 removed, in 1 project."
        );
        assert_eq!(
            applied_line(&outcome(vec![vec![true, false]], one_removed, true)),
            "Applied before a change failed: 0 added, 0 changed, 1 removed, in 1 project; 1 \
             change not made."
        );
        assert_eq!(
            applied_line(&outcome(vec![vec![false, false]], Summary::default(), true)),
            "Nothing was applied: the first change failed; 2 changes not made."
        );
    }
}
