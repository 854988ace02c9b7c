//! The synthetic instance, built in memory before anything is written: who exists, where
//! every project lives, which allowlist entries exist, which jobs run and which requests they
//! make, and what the server must answer to each request.
//!
//! Everything is a function of the counts and the seed. Strings that are not needed to build
//! the instance (user names, project names, descriptions) are derived from ids when the rows
//! are written (see [`crate::emit`]), so the model stays small at a million projects.
//!
//! Ids: users `1..=U` (1 is `root`); the personal namespace of user `u` has namespace id `u`;
//! group `k` (0-based) has namespace id `U + 1 + k`; projects `1..=P`; allowlist entries,
//! jobs and the root token are numbered from 1 in the order they are made.

use std::collections::HashMap;

use crate::rng::{Rng, hash};

/// 2024-01-01T00:00:00Z: the instance's first moment. Every timestamp is fixed by the ids,
/// so two runs with one seed write the same bytes.
pub const T0: i64 = 1_704_067_200;
const DAY: i64 = 86_400;
/// When groups, projects, allowlist entries and jobs start being created.
pub const T_GROUPS: i64 = T0 + 240 * DAY;
pub const T_PROJECTS: i64 = T0 + 320 * DAY;
pub const T_LINKS: i64 = T0 + 500 * DAY;
pub const T_JOBS: i64 = T0 + 700 * DAY;

/// Levels below a root group (GitLab allows 20 levels of subgroups: traversal ids of up to
/// 21 groups).
pub const MAX_DEPTH: u8 = 20;
/// The API's limits: per target project, 200 project entries and 200 group entries.
pub const PROJECT_LINK_LIMIT: usize = 200;
pub const GROUP_LINK_LIMIT: usize = 200;

/// Hash streams (see [`crate::rng::hash`]).
pub mod stream {
    pub const STRUCTURE: u64 = 1;
    pub const USER_NAME: u64 = 2;
    pub const PROJECT_ATTRS: u64 = 3;
    pub const GROUP_ATTRS: u64 = 4;
    pub const JOB_TOKEN: u64 = 5;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Vis {
    Private,
    Internal,
    Public,
}

impl Vis {
    pub fn as_str(self) -> &'static str {
        match self {
            Vis::Private => "private",
            Vis::Internal => "internal",
            Vis::Public => "public",
        }
    }

    /// 60 % private, 25 % internal, 15 % public.
    fn pick(rng: &mut Rng) -> Vis {
        match rng.below(100) {
            0..60 => Vis::Private,
            60..85 => Vis::Internal,
            _ => Vis::Public,
        }
    }
}

/// How many of each thing; scale 1.0 is the instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub users: u32,
    pub groups: u32,
    pub projects: u32,
    pub entries: u32,
    pub jobs: u32,
}

impl Counts {
    pub fn at_scale(scale: f64) -> Counts {
        let n = |base: f64, min: u32| ((base * scale).round() as u32).max(min);
        Counts {
            users: n(1_000_000.0, 10),
            // At least one tree with a chain 20 levels deep.
            groups: n(100_000.0, 21),
            projects: n(1_000_000.0, 10),
            entries: n(2_000_000.0, 10),
            jobs: n(100_000.0, 5),
        }
    }
}

/// A project's namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ns {
    /// Index into [`Instance::groups`].
    Group(u32),
    /// A user's personal namespace (user id).
    User(u32),
}

pub struct Group {
    /// Namespace id.
    pub id: i64,
    pub parent: Option<u32>,
    /// Levels below the root group (0 for a root).
    pub depth: u8,
    /// Namespace ids from the root down to this group.
    pub traversal: Vec<i64>,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub full_name: String,
    pub visibility: Vis,
    pub owner: u32,
    pub created_at: i64,
}

pub struct Project {
    pub ns: Ns,
    pub visibility: Vis,
    pub creator: u32,
    /// The stored "limit access to this project" flag.
    pub inbound: bool,
}

/// A project entry: `source` (B) lets jobs of `target` (A) in.
pub struct ProjectLink {
    pub source: u32,
    pub target: u32,
    pub default_permissions: bool,
    /// Index into [`POLICY_SETS`].
    pub policies: u8,
    pub autopopulated: bool,
}

/// A group entry: `source` (B) lets jobs of every project below group `group` in.
pub struct GroupLink {
    pub source: u32,
    /// Index into [`Instance::groups`].
    pub group: u32,
    /// The project below `group` the entry was made for (used to make requests).
    pub witness: u32,
    pub default_permissions: bool,
    pub policies: u8,
    pub autopopulated: bool,
}

/// Entries without default permissions grant one of these lists.
pub const POLICY_SETS: &[&[&str]] = &[
    &[],
    &["read_deployments"],
    &["admin_packages", "read_jobs"],
    &["read_packages", "read_releases", "read_repositories"],
];

/// A membership row; `source` is a namespace id or a project id, by table.
#[derive(Clone, Copy, Debug)]
pub struct Member {
    pub source: u32,
    pub user: u32,
    pub level: u8,
    pub created_by: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// B has a project entry naming A (with default permissions).
    AllowedProject,
    /// B has a group entry naming a group above A, and that entry decides.
    AllowedGroup,
    /// B enforces its allowlist and nothing on it covers A.
    Denied,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::AllowedProject => "allowed-project",
            Kind::AllowedGroup => "allowed-group",
            Kind::Denied => "denied",
        }
    }

    pub fn expected_status(self) -> u16 {
        match self {
            Kind::AllowedProject | Kind::AllowedGroup => 200,
            Kind::Denied => 403,
        }
    }
}

/// A running job, and the one decision request made with its token.
pub struct Job {
    /// A: the job's project.
    pub project: u32,
    pub user: u32,
    /// B: the project the request asks about.
    pub target: u32,
    pub kind: Kind,
    /// For [`Kind::AllowedGroup`]: the group whose entry decides (index).
    pub via_group: Option<u32>,
}

/// What B's allowlist says about A (B enforces its allowlist).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The project entry naming A decides; its `default_permissions`.
    Project(bool),
    /// The group entry nearest to A decides (group index, `default_permissions`).
    Group(u32, bool),
    NotAllowed,
}

pub struct Instance {
    pub seed: u64,
    pub counts: Counts,
    pub groups: Vec<Group>,
    /// Index 0 is unused; project `j` is `projects[j]`.
    pub projects: Vec<Project>,
    pub namespace_members: Vec<Member>,
    pub project_members: Vec<Member>,
    pub project_links: Vec<ProjectLink>,
    pub group_links: Vec<GroupLink>,
    pub jobs: Vec<Job>,
    /// Projects with at least one entry, and of those, the ones at both limits.
    pub targets: u32,
    pub full_targets: u32,
    plink_index: HashMap<u64, u32>,
    glink_index: HashMap<u64, u32>,
}

fn key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

pub const FIRST_NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara", "zoe",
    "amir", "bea", "chen", "dana", "emeka", "fatima", "goran", "hana", "ines", "jonas", "kofi",
];
pub const LAST_NAMES: &[&str] = &[
    "smith", "nguyen", "garcia", "mueller", "rossi", "kowalski", "tanaka", "okafor", "silva",
    "dubois", "jensen", "novak", "haddad", "ivanova", "kim", "patel", "lopez", "brown", "wilson",
    "costa", "schmidt", "yilmaz", "sato", "berg", "moreau", "horvat", "lind", "ali", "reyes",
    "cohen", "fischer", "murphy",
];
const ORG_WORDS: &[&str] = &[
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "wonka",
    "cyberdyne",
    "tyrell",
    "soylent",
    "aperture",
    "massive",
    "vandelay",
    "oscorp",
    "gringotts",
];
const TEAM_WORDS: &[&str] = &[
    "platform", "infra", "backend", "frontend", "mobile", "data", "security", "tools", "payments",
    "search", "ml", "ops", "qa", "docs", "sre", "identity",
];
pub const PROJECT_WORDS: &[&str] = &[
    "api",
    "web",
    "worker",
    "deploy",
    "infra",
    "docs",
    "cli",
    "sdk",
    "registry",
    "charts",
    "gateway",
    "scheduler",
    "billing",
    "auth",
    "frontend",
    "pipeline",
];
pub const JOB_NAMES: &[&str] = &["build", "test", "lint", "package", "deploy", "release"];

fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// User `id`'s (username, display name). User 1 is `root`.
pub fn user_names(seed: u64, id: u32) -> (String, String) {
    if id == 1 {
        return ("root".to_owned(), "Administrator".to_owned());
    }
    let h = hash(seed, stream::USER_NAME, u64::from(id));
    let first = FIRST_NAMES[(h % FIRST_NAMES.len() as u64) as usize];
    let last = LAST_NAMES[((h >> 16) % LAST_NAMES.len() as u64) as usize];
    (
        format!("{first}.{last}{id}"),
        format!("{} {}", capitalise(first), capitalise(last)),
    )
}

/// Project `id`'s name, which is also its path.
pub fn project_name(seed: u64, id: u32) -> String {
    let h = hash(seed, stream::PROJECT_ATTRS, u64::from(id));
    format!(
        "{}-{id}",
        PROJECT_WORDS[(h % PROJECT_WORDS.len() as u64) as usize]
    )
}

pub fn user_created_at(id: u32) -> i64 {
    T0 + i64::from(id) * 20
}

pub fn project_created_at(id: u32) -> i64 {
    T_PROJECTS + i64::from(id) * 15
}

impl Instance {
    pub fn generate(counts: Counts, seed: u64) -> Instance {
        let mut rng = Rng::new(seed, stream::STRUCTURE);
        let mut inst = Instance {
            seed,
            counts,
            groups: Vec::with_capacity(counts.groups as usize),
            projects: Vec::with_capacity(counts.projects as usize + 1),
            namespace_members: Vec::new(),
            project_members: Vec::new(),
            project_links: Vec::new(),
            group_links: Vec::new(),
            jobs: Vec::with_capacity(counts.jobs as usize),
            targets: 0,
            full_targets: 0,
            plink_index: HashMap::new(),
            glink_index: HashMap::new(),
        };
        inst.make_groups(&mut rng);
        inst.make_projects(&mut rng);
        inst.make_entries(&mut rng);
        inst.make_members(&mut rng);
        inst.make_jobs(&mut rng);
        inst.finish_members();
        inst
    }

    /// A user other than root.
    fn random_user(&self, rng: &mut Rng) -> u32 {
        2 + rng.below(u64::from(self.counts.users - 1)) as u32
    }

    pub fn group_ns_id(&self, index: u32) -> i64 {
        i64::from(self.counts.users) + 1 + i64::from(index)
    }

    /// Trees of groups. Every fourth tree starts with a chain from its root down to the
    /// deepest level (20 levels below the root); other groups hang under a random earlier
    /// group of their tree (bushy trees a few levels deep).
    fn make_groups(&mut self, rng: &mut Rng) {
        let total = self.counts.groups as usize;
        let mut tree = 0u32;
        while self.groups.len() < total {
            let remaining = total - self.groups.len();
            let deep = tree.is_multiple_of(4);
            let size = if deep {
                usize::from(MAX_DEPTH) + 1 + rng.index(20)
            } else {
                1 + rng.index(39)
            }
            .min(remaining);
            let owner = self.random_user(rng);
            let base = self.groups.len();
            for i in 0..size {
                let k = (base + i) as u32;
                let id = self.group_ns_id(k);
                let created_at = T_GROUPS + i64::from(k) * 60;
                let h = hash(self.seed, stream::GROUP_ATTRS, u64::from(k));
                let parent = if i == 0 {
                    None
                } else if deep && i <= usize::from(MAX_DEPTH) {
                    Some(base + i - 1)
                } else {
                    let mut p = base + rng.index(i);
                    while self.groups[p].depth >= MAX_DEPTH {
                        match self.groups[p].parent {
                            Some(pp) => p = pp as usize,
                            None => break,
                        }
                    }
                    Some(p)
                };
                let group = match parent {
                    None => {
                        let word = ORG_WORDS[(tree as usize) % ORG_WORDS.len()];
                        let path = format!("{word}-{tree}");
                        let name = format!("{} {tree}", capitalise(word));
                        Group {
                            id,
                            parent: None,
                            depth: 0,
                            traversal: vec![id],
                            full_path: path.clone(),
                            full_name: name.clone(),
                            name,
                            path,
                            visibility: Vis::pick(rng),
                            owner,
                            created_at,
                        }
                    }
                    Some(p) => {
                        let parent = &self.groups[p];
                        let word = TEAM_WORDS[(h % TEAM_WORDS.len() as u64) as usize];
                        let path = format!("{word}-{i}");
                        let name = format!("{} {i}", capitalise(word));
                        let mut traversal = parent.traversal.clone();
                        traversal.push(id);
                        Group {
                            id,
                            parent: Some(p as u32),
                            depth: parent.depth + 1,
                            traversal,
                            full_path: format!("{}/{path}", parent.full_path),
                            full_name: format!("{} / {name}", parent.full_name),
                            name,
                            path,
                            visibility: Vis::pick(rng).min(parent.visibility),
                            owner,
                            created_at,
                        }
                    }
                };
                self.groups.push(group);
            }
            tree += 1;
        }
    }

    /// 70 % of projects in a random group, 30 % in a random user's personal namespace.
    fn make_projects(&mut self, rng: &mut Rng) {
        self.projects.push(Project {
            ns: Ns::User(1),
            visibility: Vis::Private,
            creator: 1,
            inbound: true,
        });
        for id in 1..=self.counts.projects {
            let (ns, creator, cap) = if rng.chance(7, 10) {
                let g = rng.below(u64::from(self.counts.groups)) as u32;
                let group = &self.groups[g as usize];
                (Ns::Group(g), group.owner, group.visibility)
            } else {
                let u = self.random_user(rng);
                (Ns::User(u), u, Vis::Public)
            };
            let h = hash(self.seed, stream::PROJECT_ATTRS, u64::from(id));
            self.projects.push(Project {
                ns,
                visibility: Vis::pick(rng).min(cap),
                creator,
                // Projects without entries: GitLab's default (on) for most, off for the rest
                // (older projects, or owners who switched it off). Targets are set below.
                inbound: (h >> 40) % 10 < 6,
            });
        }
    }

    /// Namespace ids from the root down to the project's own namespace.
    pub fn traversal(&self, project: u32) -> std::borrow::Cow<'_, [i64]> {
        match self.projects[project as usize].ns {
            Ns::Group(g) => std::borrow::Cow::Borrowed(&self.groups[g as usize].traversal),
            Ns::User(u) => std::borrow::Cow::Owned(vec![i64::from(u)]),
        }
    }

    pub fn depth_of(&self, project: u32) -> Option<u8> {
        match self.projects[project as usize].ns {
            Ns::Group(g) => Some(self.groups[g as usize].depth),
            Ns::User(_) => None,
        }
    }

    /// Allowlists: random target projects, each with a few entries (1–12 project entries and
    /// 0–5 group entries), and one target in 200 at both limits (200 + 200), until the
    /// entry budget is spent. Project entries name random projects; group entries name a
    /// group above a random project in a group, half the time one in a namespace at least 15
    /// levels deep, at a random level of its ancestry.
    fn make_entries(&mut self, rng: &mut Rng) {
        let projects = self.counts.projects;
        let mut group_projects = Vec::new();
        let mut deep_projects = Vec::new();
        for id in 1..=projects {
            if let Some(d) = self.depth_of(id) {
                group_projects.push(id);
                if d >= 15 {
                    deep_projects.push(id);
                }
            }
        }
        let mut is_target = vec![false; projects as usize + 1];
        let mut remaining = self.counts.entries as usize;
        let mut misses = 0u32;
        while remaining > 0 && (self.targets as u64) < u64::from(projects) {
            let b = 1 + rng.below(u64::from(projects)) as u32;
            if is_target[b as usize] {
                misses += 1;
                if misses > 1_000_000 {
                    break;
                }
                continue;
            }
            let full = rng.chance(1, 200);
            let (mut np, mut ng) = if full {
                (PROJECT_LINK_LIMIT, GROUP_LINK_LIMIT)
            } else {
                (1 + rng.index(12), rng.index(6))
            };
            np = np.min(remaining).min(projects as usize - 1);
            remaining -= np;
            if group_projects.is_empty() {
                ng = 0;
            }
            ng = ng.min(remaining);
            remaining -= ng;
            let before = self.project_links.len() + self.group_links.len();
            for _ in 0..np {
                for _attempt in 0..100 {
                    let a = 1 + rng.below(u64::from(projects)) as u32;
                    if a == b || self.plink_index.contains_key(&key(b, a)) {
                        continue;
                    }
                    let (default_permissions, policies) = entry_permissions(rng);
                    self.plink_index
                        .insert(key(b, a), self.project_links.len() as u32);
                    self.project_links.push(ProjectLink {
                        source: b,
                        target: a,
                        default_permissions,
                        policies,
                        autopopulated: rng.chance(1, 50),
                    });
                    break;
                }
            }
            for _ in 0..ng {
                for _attempt in 0..100 {
                    let witness = if !deep_projects.is_empty() && rng.chance(1, 2) {
                        deep_projects[rng.index(deep_projects.len())]
                    } else {
                        group_projects[rng.index(group_projects.len())]
                    };
                    let Ns::Group(wg) = self.projects[witness as usize].ns else {
                        continue;
                    };
                    let wgroup = &self.groups[wg as usize];
                    let level = rng.index(wgroup.traversal.len());
                    let group_id = wgroup.traversal[level];
                    let group = (group_id - self.group_ns_id(0)) as u32;
                    if witness == b || self.glink_index.contains_key(&key(b, group)) {
                        continue;
                    }
                    let (default_permissions, policies) = entry_permissions(rng);
                    self.glink_index
                        .insert(key(b, group), self.group_links.len() as u32);
                    self.group_links.push(GroupLink {
                        source: b,
                        group,
                        witness,
                        default_permissions,
                        policies,
                        autopopulated: rng.chance(1, 50),
                    });
                    break;
                }
            }
            if self.project_links.len() + self.group_links.len() > before {
                is_target[b as usize] = true;
                self.targets += 1;
                // The allowlist is on wherever entries were made.
                self.projects[b as usize].inbound = true;
                if full {
                    self.full_targets += 1;
                }
            }
        }
    }

    /// What B's allowlist decides for A: the project entry naming A, else the group entry
    /// nearest to A (B is assumed to enforce its allowlist).
    pub fn scope(&self, b: u32, a: u32) -> Scope {
        if let Some(&i) = self.plink_index.get(&key(b, a)) {
            return Scope::Project(self.project_links[i as usize].default_permissions);
        }
        let first_group = self.group_ns_id(0);
        for &ns in self.traversal(a).iter().rev() {
            if ns < first_group {
                continue;
            }
            let group = (ns - first_group) as u32;
            if let Some(&i) = self.glink_index.get(&key(b, group)) {
                return Scope::Group(group, self.group_links[i as usize].default_permissions);
            }
        }
        Scope::NotAllowed
    }

    /// Memberships as the API makes them: the creator of each group is its Owner (as
    /// `POST /groups` does for every group it creates), each personal project's owner is its
    /// Owner; and every user other than root is a member of one random group (Guest to
    /// Maintainer) and, half of them, of one random project (Reporter to Maintainer).
    fn make_members(&mut self, rng: &mut Rng) {
        for g in &self.groups {
            self.namespace_members.push(Member {
                source: g.id as u32,
                user: g.owner,
                level: 50,
                created_by: g.owner,
            });
        }
        for (id, p) in self.projects.iter().enumerate().skip(1) {
            if let Ns::User(u) = p.ns {
                self.project_members.push(Member {
                    source: id as u32,
                    user: u,
                    level: 50,
                    created_by: u,
                });
            }
        }
        for u in 2..=self.counts.users {
            let g = rng.index(self.groups.len());
            self.namespace_members.push(Member {
                source: self.groups[g].id as u32,
                user: u,
                level: [10, 20, 30, 40][rng.index(4)],
                created_by: self.groups[g].owner,
            });
            if rng.chance(1, 2) {
                let p = 1 + rng.below(u64::from(self.counts.projects)) as u32;
                self.project_members.push(Member {
                    source: p,
                    user: u,
                    level: [20, 30, 40][rng.index(3)],
                    created_by: self.projects[p as usize].creator,
                });
            }
        }
    }

    /// Jobs, in a repeating pattern of five: two allowed through a project entry, two
    /// allowed through a group entry (one of them for a project at least 10 levels deep),
    /// one denied. Each job's user is made a Developer of the job's project and of the
    /// target, so the target is visible to it and the scope alone decides.
    fn make_jobs(&mut self, rng: &mut Rng) {
        let project_entries: Vec<u32> = (0..self.project_links.len() as u32)
            .filter(|&i| self.project_links[i as usize].default_permissions)
            .collect();
        let group_entries: Vec<u32> = (0..self.group_links.len() as u32)
            .filter(|&i| self.group_links[i as usize].default_permissions)
            .collect();
        let deep_group_entries: Vec<u32> = group_entries
            .iter()
            .copied()
            .filter(|&i| {
                self.depth_of(self.group_links[i as usize].witness)
                    .is_some_and(|d| d >= 10)
            })
            .collect();
        let targets: Vec<u32> = {
            let mut t: Vec<u32> = self.project_links.iter().map(|l| l.source).collect();
            t.extend(self.group_links.iter().map(|l| l.source));
            t.sort_unstable();
            t.dedup();
            t
        };
        for i in 0..self.counts.jobs {
            let wanted = match i % 5 {
                0 | 1 => Kind::AllowedProject,
                2 | 3 => Kind::AllowedGroup,
                _ => Kind::Denied,
            };
            let job = self
                .pick_job(
                    rng,
                    wanted,
                    i % 5 == 2,
                    &project_entries,
                    &group_entries,
                    &deep_group_entries,
                    &targets,
                )
                .or_else(|| self.pick_job(rng, Kind::Denied, false, &[], &[], &[], &targets))
                .or_else(|| {
                    self.pick_job(
                        rng,
                        Kind::AllowedProject,
                        false,
                        &project_entries,
                        &[],
                        &[],
                        &[],
                    )
                });
            let Some(job) = job else {
                continue;
            };
            for p in [job.project, job.target] {
                self.project_members.push(Member {
                    source: p,
                    user: job.user,
                    level: 30,
                    created_by: self.projects[p as usize].creator,
                });
            }
            self.jobs.push(job);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pick_job(
        &self,
        rng: &mut Rng,
        kind: Kind,
        deep: bool,
        project_entries: &[u32],
        group_entries: &[u32],
        deep_group_entries: &[u32],
        targets: &[u32],
    ) -> Option<Job> {
        let projects = self.counts.projects;
        for _attempt in 0..1000 {
            let (a, b, via_group) = match kind {
                Kind::AllowedProject => {
                    if project_entries.is_empty() {
                        return None;
                    }
                    let l = &self.project_links
                        [project_entries[rng.index(project_entries.len())] as usize];
                    (l.target, l.source, None)
                }
                Kind::AllowedGroup => {
                    let pool = if deep && !deep_group_entries.is_empty() {
                        deep_group_entries
                    } else {
                        group_entries
                    };
                    if pool.is_empty() {
                        return None;
                    }
                    let l = &self.group_links[pool[rng.index(pool.len())] as usize];
                    match self.scope(l.source, l.witness) {
                        Scope::Group(g, true) => (l.witness, l.source, Some(g)),
                        _ => continue,
                    }
                }
                Kind::Denied => {
                    if targets.is_empty() || projects < 2 {
                        return None;
                    }
                    let b = targets[rng.index(targets.len())];
                    let a = 1 + rng.below(u64::from(projects)) as u32;
                    if a == b || self.scope(b, a) != Scope::NotAllowed {
                        continue;
                    }
                    (a, b, None)
                }
            };
            if a == b {
                continue;
            }
            return Some(Job {
                project: a,
                user: self.random_user(rng),
                target: b,
                kind,
                via_group,
            });
        }
        None
    }

    /// Sorts memberships by primary key and keeps one row per (source, user), with the
    /// highest level.
    fn finish_members(&mut self) {
        for list in [&mut self.namespace_members, &mut self.project_members] {
            list.sort_unstable_by(|x, y| {
                (x.source, x.user, std::cmp::Reverse(x.level)).cmp(&(
                    y.source,
                    y.user,
                    std::cmp::Reverse(y.level),
                ))
            });
            list.dedup_by(|later, first| later.source == first.source && later.user == first.user);
        }
    }

    pub fn max_depth(&self) -> u8 {
        self.groups.iter().map(|g| g.depth).max().unwrap_or(0)
    }
}

/// 95 % of entries grant the user's full permissions; the others a list of policies.
fn entry_permissions(rng: &mut Rng) -> (bool, u8) {
    if rng.chance(19, 20) {
        (true, 0)
    } else {
        (false, 1 + rng.below(POLICY_SETS.len() as u64 - 1) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_instance_is_consistent() {
        let counts = Counts::at_scale(0.001);
        let inst = Instance::generate(counts, 42);
        assert_eq!(inst.groups.len(), counts.groups as usize);
        assert_eq!(inst.projects.len(), counts.projects as usize + 1);
        assert_eq!(inst.max_depth(), MAX_DEPTH);
        assert!(inst.project_links.len() + inst.group_links.len() <= counts.entries as usize);
        for g in &inst.groups {
            assert_eq!(g.traversal.len(), usize::from(g.depth) + 1);
            assert_eq!(g.traversal.last(), Some(&g.id));
            if let Some(p) = g.parent {
                let parent = &inst.groups[p as usize];
                assert!(g.visibility <= parent.visibility);
                assert!(g.full_path.starts_with(&format!("{}/", parent.full_path)));
            }
        }
        for j in &inst.jobs {
            let expected = match j.kind {
                Kind::AllowedProject => {
                    matches!(inst.scope(j.target, j.project), Scope::Project(true))
                }
                Kind::AllowedGroup => {
                    matches!(inst.scope(j.target, j.project), Scope::Group(_, true))
                }
                Kind::Denied => inst.scope(j.target, j.project) == Scope::NotAllowed,
            };
            assert!(expected);
            assert!(inst.projects[j.target as usize].inbound);
        }
        let mut per_target: HashMap<(u32, bool), usize> = HashMap::new();
        for l in &inst.project_links {
            *per_target.entry((l.source, true)).or_default() += 1;
        }
        for l in &inst.group_links {
            *per_target.entry((l.source, false)).or_default() += 1;
        }
        assert!(per_target.values().all(|&n| n <= 200));
        let again = Instance::generate(counts, 42);
        assert_eq!(again.project_links.len(), inst.project_links.len());
        assert_eq!(again.jobs.len(), inst.jobs.len());
    }
}
