//! The difference between what the file wants and what the server has: pure, no I/O.
//!
//! Everything here works on ids (paths are resolved before, in [`super::read`]), so an entry
//! named `acme/builder` in the file and listed as project 7 by the server are the same entry.

use std::collections::{BTreeSet, HashSet};

use jobscope_client::types::ProjectId;
use jobscope_client::{Entry, Permissions, Target};
use serde::Serialize;

/// What an entry grants: the job user's full role, or only some job token policies.
#[derive(Clone, Debug, Eq)]
pub enum Access {
    /// `default_permissions: true`: the job user's role.
    Default,
    /// `default_permissions: false` with these policies (in the order the file or the server
    /// gives them; compared as a set).
    Policies(Vec<String>),
}

impl PartialEq for Access {
    fn eq(&self, other: &Access) -> bool {
        match (self, other) {
            (Access::Default, Access::Default) => true,
            (Access::Policies(a), Access::Policies(b)) => {
                a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
            }
            _ => false,
        }
    }
}

impl Access {
    /// What the server says an entry grants. An entry with default permissions grants the
    /// job user's role whatever policies it also lists, so it is [`Access::Default`].
    pub fn of(entry: &Entry) -> Access {
        if entry.default_permissions {
            Access::Default
        } else {
            Access::Policies(entry.job_token_policies.clone())
        }
    }

    /// From the file: no `policies` key means default permissions.
    pub fn from_policies(policies: Option<&[String]>) -> Access {
        match policies {
            None => Access::Default,
            Some(p) => Access::Policies(p.to_vec()),
        }
    }

    /// The client's request values: both set, so a change replaces what was there.
    pub fn permissions(&self) -> Permissions {
        match self {
            Access::Default => Permissions {
                default_permissions: Some(true),
                job_token_policies: Some(Vec::new()),
            },
            Access::Policies(p) => Permissions {
                default_permissions: Some(false),
                job_token_policies: Some(p.clone()),
            },
        }
    }

    /// "default permissions", "read_jobs, read_packages", or "none".
    pub fn describe(&self) -> String {
        match self {
            Access::Default => crate::scope::describe_permissions(true, &[]),
            Access::Policies(p) => crate::scope::describe_permissions(false, p),
        }
    }
}

/// The JSON form: the same two fields entries have.
impl Serialize for Access {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            default_permissions: bool,
            job_token_policies: &'a [String],
        }
        match self {
            Access::Default => View {
                default_permissions: true,
                job_token_policies: &[],
            },
            Access::Policies(p) => View {
                default_permissions: false,
                job_token_policies: p,
            },
        }
        .serialize(s)
    }
}

/// One entry the file wants, its target resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub target: Target,
    /// The target's full path, as the server spells it.
    pub path: String,
    pub access: Access,
}

/// What the file wants for one project; `None` leaves that part alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub project: ProjectId,
    pub enabled: Option<bool>,
    /// The whole project allowlist (the project itself is implicit).
    pub projects: Option<Vec<Wanted>>,
    /// The whole group allowlist.
    pub groups: Option<Vec<Wanted>>,
}

/// What the server has for one project (only what the file asks about was read).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Current {
    /// "Limit access to this project", when the file sets it.
    pub enabled: Option<bool>,
    /// Both allowlists, when the file sets either.
    pub entries: Vec<Entry>,
}

/// One change to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Turn "limit access to this project" on or off.
    SetEnabled { to: bool },
    Add {
        target: Target,
        path: String,
        access: Access,
    },
    Remove {
        target: Target,
        path: String,
        access: Access,
        autopopulated: bool,
    },
    Update {
        target: Target,
        path: String,
        from: Access,
        to: Access,
    },
}

impl Change {
    /// `add`, `remove`, `update`, `enable` or `disable` (the JSON `action`).
    pub fn action(&self) -> &'static str {
        match self {
            Change::SetEnabled { to: true } => "enable",
            Change::SetEnabled { to: false } => "disable",
            Change::Add { .. } => "add",
            Change::Remove { .. } => "remove",
            Change::Update { .. } => "update",
        }
    }

    /// The order changes are made in, per project: removals first (they free room under the
    /// limit), then additions, then permission changes, then the setting, once the
    /// allowlists are as wanted.
    pub fn apply_rank(&self) -> u8 {
        match self {
            Change::Remove { .. } => 0,
            Change::Add { .. } => 1,
            Change::Update { .. } => 2,
            Change::SetEnabled { .. } => 3,
        }
    }
}

/// The changes for one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectPlan {
    pub id: ProjectId,
    /// The project's full path, as the server spells it.
    pub path: String,
    /// In the order they are shown: the setting, additions, removals, permission changes.
    pub changes: Vec<Change>,
    /// What the person should know but is no change (the setting the instance enforces, the
    /// project listed in its own allowlist).
    pub notes: Vec<String>,
}

/// The changes for every project of the file, in the file's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub projects: Vec<ProjectPlan>,
}

/// Counts, as the summary line and the JSON `summary` give them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Entries to add.
    pub add: usize,
    /// Entries whose permissions change, and settings turned on or off.
    pub change: usize,
    /// Entries to remove.
    pub remove: usize,
    /// Projects with at least one change.
    pub projects_changed: usize,
    /// Projects in the file.
    pub projects: usize,
}

impl Summary {
    /// Counts `changes` (of one project) into the summary.
    pub fn count<'a>(&mut self, changes: impl IntoIterator<Item = &'a Change>) {
        let mut any = false;
        for c in changes {
            any = true;
            match c {
                Change::Add { .. } => self.add += 1,
                Change::Remove { .. } => self.remove += 1,
                Change::Update { .. } | Change::SetEnabled { .. } => self.change += 1,
            }
        }
        if any {
            self.projects_changed += 1;
        }
    }

    pub fn total(&self) -> usize {
        self.add + self.change + self.remove
    }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.projects.iter().all(|p| p.changes.is_empty())
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            projects: self.projects.len(),
            ..Summary::default()
        };
        for p in &self.projects {
            s.count(&p.changes);
        }
        s
    }
}

/// The note for a setting the instance keeps on.
pub const ENFORCED_NOTE: &str = "`enabled: false` cannot take effect: the instance enforces \
     every project's allowlist (setting enforce_ci_inbound_job_token_scope_enabled), so access \
     stays limited";

/// The changes that make `current` what `desired` says. `enforced`: the instance keeps every
/// project's access limited, so turning it off is no change the server can make.
pub fn diff(desired: &Desired, current: &Current, enforced: bool) -> (Vec<Change>, Vec<String>) {
    let mut notes = Vec::new();
    let mut changes = Vec::new();
    if let (Some(want), Some(have)) = (desired.enabled, current.enabled)
        && want != have
    {
        if !want && enforced {
            notes.push(ENFORCED_NOTE.to_owned());
        } else {
            changes.push(Change::SetEnabled { to: want });
        }
    }
    let own = Target::Project(desired.project);
    if let Some(list) = &desired.projects
        && list.iter().any(|w| w.target == own)
    {
        notes.push(
            "the project itself is always on its own allowlist; its entry in the file is \
             ignored"
                .to_owned(),
        );
    }
    // Each list on its own: the additions, removals and updates of the project allowlist,
    // then of the group allowlist; shown additions first, then removals, then updates.
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    let mut updates = Vec::new();
    for (wanted, is_group) in [(&desired.projects, false), (&desired.groups, true)] {
        let Some(wanted) = wanted else { continue };
        let wanted: Vec<&Wanted> = wanted.iter().filter(|w| w.target != own).collect();
        let have: Vec<&Entry> = current
            .entries
            .iter()
            .filter(|e| matches!(e.target, Target::Group(_)) == is_group && e.target != own)
            .collect();
        for w in &wanted {
            match have.iter().find(|e| e.target == w.target) {
                None => adds.push(Change::Add {
                    target: w.target,
                    path: w.path.clone(),
                    access: w.access.clone(),
                }),
                Some(e) => {
                    let from = Access::of(e);
                    if from != w.access {
                        updates.push(Change::Update {
                            target: w.target,
                            path: w.path.clone(),
                            from,
                            to: w.access.clone(),
                        });
                    }
                }
            }
        }
        let keep: HashSet<Target> = wanted.iter().map(|w| w.target).collect();
        let mut gone: Vec<&Entry> = have
            .into_iter()
            .filter(|e| !keep.contains(&e.target))
            .collect();
        gone.sort_by(|a, b| a.path.cmp(&b.path).then(a.target.cmp(&b.target)));
        removes.extend(gone.into_iter().map(|e| Change::Remove {
            target: e.target,
            path: e.path.clone(),
            access: Access::of(e),
            autopopulated: e.autopopulated,
        }));
    }
    changes.extend(adds);
    changes.extend(removes);
    changes.extend(updates);
    (changes, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobscope_client::types::NamespaceId;

    const SELF: ProjectId = ProjectId(1);

    fn p(id: i64) -> Target {
        Target::Project(ProjectId(id))
    }

    fn g(id: i64) -> Target {
        Target::Group(NamespaceId(id))
    }

    fn policies(names: &[&str]) -> Access {
        Access::Policies(names.iter().map(|s| (*s).to_owned()).collect())
    }

    fn wanted(target: Target, path: &str, access: Access) -> Wanted {
        Wanted {
            target,
            path: path.into(),
            access,
        }
    }

    fn entry(target: Target, path: &str, access: Access, autopopulated: bool) -> Entry {
        let (default_permissions, job_token_policies) = match access {
            Access::Default => (true, Vec::new()),
            Access::Policies(p) => (false, p),
        };
        Entry {
            target,
            path: path.into(),
            web_url: None,
            default_permissions,
            job_token_policies,
            autopopulated,
            added_by: None,
            added_at: None,
        }
    }

    fn desired() -> Desired {
        Desired {
            project: SELF,
            enabled: None,
            projects: None,
            groups: None,
        }
    }

    #[test]
    fn adds_removes_updates_and_enables() {
        let d = Desired {
            enabled: Some(true),
            projects: Some(vec![
                wanted(p(2), "acme/builder", Access::Default),
                wanted(
                    p(3),
                    "acme/tester",
                    policies(&["read_jobs", "read_packages"]),
                ),
            ]),
            groups: Some(vec![wanted(
                g(10),
                "acme/tools",
                policies(&["read_packages"]),
            )]),
            ..desired()
        };
        let c = Current {
            enabled: Some(false),
            entries: vec![
                entry(p(2), "acme/builder", Access::Default, false),
                entry(p(4), "acme/old", Access::Default, true),
                entry(g(10), "acme/tools", Access::Default, false),
                entry(g(11), "acme/gone", policies(&["read_jobs"]), false),
            ],
        };
        let (changes, notes) = diff(&d, &c, false);
        assert!(notes.is_empty());
        assert_eq!(
            changes,
            vec![
                Change::SetEnabled { to: true },
                Change::Add {
                    target: p(3),
                    path: "acme/tester".into(),
                    access: policies(&["read_jobs", "read_packages"]),
                },
                Change::Remove {
                    target: p(4),
                    path: "acme/old".into(),
                    access: Access::Default,
                    autopopulated: true,
                },
                Change::Remove {
                    target: g(11),
                    path: "acme/gone".into(),
                    access: policies(&["read_jobs"]),
                    autopopulated: false,
                },
                Change::Update {
                    target: g(10),
                    path: "acme/tools".into(),
                    from: Access::Default,
                    to: policies(&["read_packages"]),
                },
            ]
        );
        let plan = Plan {
            projects: vec![ProjectPlan {
                id: SELF,
                path: "acme/deployer".into(),
                changes: changes.clone(),
                notes,
            }],
        };
        let s = plan.summary();
        assert_eq!((s.add, s.change, s.remove), (1, 2, 2));
        assert_eq!((s.projects_changed, s.projects), (1, 1));
        // Applied: removals, additions, updates, the setting last.
        let mut order = changes.clone();
        order.sort_by_key(Change::apply_rank);
        let actions: Vec<&str> = order.iter().map(Change::action).collect();
        assert_eq!(actions, ["remove", "remove", "add", "update", "enable"]);
    }

    #[test]
    fn omitted_keys_are_left_alone() {
        let c = Current {
            enabled: None,
            entries: vec![
                entry(p(2), "acme/builder", Access::Default, false),
                entry(g(10), "acme/tools", Access::Default, false),
            ],
        };
        // Nothing said: nothing changes.
        assert_eq!(diff(&desired(), &c, false), (vec![], vec![]));
        // Only the group allowlist: the project allowlist stays as it is.
        let d = Desired {
            groups: Some(vec![]),
            ..desired()
        };
        let (changes, _) = diff(&d, &c, false);
        assert_eq!(
            changes,
            vec![Change::Remove {
                target: g(10),
                path: "acme/tools".into(),
                access: Access::Default,
                autopopulated: false,
            }]
        );
        // Only the project allowlist: the group allowlist stays.
        let d = Desired {
            projects: Some(vec![]),
            ..desired()
        };
        let (changes, _) = diff(&d, &c, false);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].action(), "remove");
        assert!(matches!(changes[0], Change::Remove { target, .. } if target == p(2)));
    }

    #[test]
    fn the_project_itself_is_never_listed() {
        let d = Desired {
            projects: Some(vec![
                wanted(p(1), "acme/deployer", Access::Default),
                wanted(p(2), "acme/builder", Access::Default),
            ]),
            ..desired()
        };
        // A server that lists the project in its own allowlist (as GitLab's REST list does).
        let c = Current {
            enabled: None,
            entries: vec![
                entry(p(1), "acme/deployer", Access::Default, false),
                entry(p(2), "acme/builder", Access::Default, false),
            ],
        };
        let (changes, notes) = diff(&d, &c, false);
        assert!(changes.is_empty(), "{changes:?}");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("itself"), "{notes:?}");
        // Nor removed when the file does not name it.
        let d = Desired {
            projects: Some(vec![]),
            ..desired()
        };
        let (changes, notes) = diff(&d, &c, false);
        assert_eq!(changes.len(), 1);
        assert!(matches!(changes[0], Change::Remove { target, .. } if target == p(2)));
        assert!(notes.is_empty());
        // Nor added when the server does not list it.
        let d = Desired {
            projects: Some(vec![wanted(p(1), "acme/deployer", Access::Default)]),
            ..desired()
        };
        assert!(diff(&d, &Current::default(), false).0.is_empty());
    }

    #[test]
    fn a_matching_server_is_a_no_op() {
        let d = Desired {
            enabled: Some(true),
            projects: Some(vec![wanted(
                p(2),
                "acme/builder",
                policies(&["read_packages", "read_jobs"]),
            )]),
            groups: Some(vec![wanted(g(10), "acme/tools", Access::Default)]),
            ..desired()
        };
        let c = Current {
            enabled: Some(true),
            entries: vec![
                // Policies in another order are the same policies.
                entry(
                    p(2),
                    "acme/builder",
                    policies(&["read_jobs", "read_packages"]),
                    false,
                ),
                // Autopopulated entries the file names stay.
                entry(g(10), "acme/tools", Access::Default, true),
            ],
        };
        let (changes, notes) = diff(&d, &c, false);
        assert!(changes.is_empty(), "{changes:?}");
        assert!(notes.is_empty());
        let plan = Plan {
            projects: vec![ProjectPlan {
                id: SELF,
                path: "acme/deployer".into(),
                changes,
                notes,
            }],
        };
        assert!(plan.is_empty());
        assert_eq!(plan.summary().total(), 0);
        assert_eq!(plan.summary().projects_changed, 0);
    }

    #[test]
    fn default_permissions_win_over_listed_policies() {
        // An entry with default permissions grants the role, whatever policies it keeps.
        let mut e = entry(p(2), "acme/builder", Access::Default, false);
        e.job_token_policies = vec!["read_jobs".into()];
        assert_eq!(Access::of(&e), Access::Default);
        assert_ne!(Access::Default, policies(&[]));
        assert_ne!(policies(&["read_jobs"]), policies(&["admin_jobs"]));
        assert_eq!(Access::Default.describe(), "default permissions");
        assert_eq!(
            policies(&["read_jobs", "read_packages"]).describe(),
            "read_jobs, read_packages"
        );
        assert_eq!(
            Access::Default.permissions(),
            Permissions {
                default_permissions: Some(true),
                job_token_policies: Some(vec![]),
            }
        );
    }

    #[test]
    fn a_setting_the_instance_enforces_is_a_note_not_a_change() {
        let d = Desired {
            enabled: Some(false),
            ..desired()
        };
        let c = Current {
            enabled: Some(true),
            entries: vec![],
        };
        let (changes, notes) = diff(&d, &c, true);
        assert!(changes.is_empty());
        assert_eq!(notes, [ENFORCED_NOTE]);
        // Without enforcement it is a change.
        let (changes, notes) = diff(&d, &c, false);
        assert_eq!(changes, [Change::SetEnabled { to: false }]);
        assert!(notes.is_empty());
        // Turning it on is never held back.
        let d = Desired {
            enabled: Some(true),
            ..desired()
        };
        let c = Current {
            enabled: Some(false),
            entries: vec![],
        };
        assert_eq!(diff(&d, &c, true).0, [Change::SetEnabled { to: true }]);
    }
}
