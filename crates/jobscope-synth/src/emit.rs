//! Turns the model into rows, table by table, as the API's store calls would have written
//! them (see `create_user`, `create_group`, `create_project`, `add_member`,
//! `add_project_link`, `add_group_link`, `create_job` and `create_personal_access_token` in
//! the store crates).

use std::time::Instant;

use anyhow::Result;
use jobscope_store::token_digest;

use crate::model::{self, Instance, Ns, POLICY_SETS, T_JOBS, T_LINKS, T0};
use crate::rng::hash;
use crate::sink::{Sink, Table, Val};

/// Rows handed to the sink at a time.
const BATCH: usize = 20_000;

/// The scopes `jobscope serve` gives root's bootstrap token.
pub const ROOT_TOKEN_SCOPES: &[&str] = &["api", "read_api", "read_user", "sudo", "admin_mode"];

const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// Job `id`'s token: GitLab's legacy format as jobscope issues it (`glcbt-`, the partition
/// id 100 in hex, `_`, 20 characters of the token alphabet), the characters drawn from the
/// seed and the id instead of the system's random source.
pub fn job_token(seed: u64, id: u32) -> String {
    let mut s = String::from("glcbt-64_");
    let mut h = 0;
    for i in 0..20u64 {
        if i % 8 == 0 {
            h = hash(seed, model::stream::JOB_TOKEN, (u64::from(id) << 8) | i);
        }
        s.push(char::from(TOKEN_ALPHABET[(h & 63) as usize]));
        h >>= 6;
    }
    s
}

/// Collects rows and hands them to the sink in batches.
struct Writer<'a> {
    sink: &'a mut Sink,
    table: Table,
    rows: Vec<Vec<Val>>,
    written: u64,
    started: Instant,
}

impl<'a> Writer<'a> {
    fn new(sink: &'a mut Sink, name: &'static str, columns: &'static [&'static str]) -> Self {
        Writer {
            sink,
            table: Table { name, columns },
            rows: Vec::with_capacity(BATCH),
            written: 0,
            started: Instant::now(),
        }
    }

    async fn push(&mut self, row: Vec<Val>) -> Result<()> {
        debug_assert_eq!(row.len(), self.table.columns.len());
        self.rows.push(row);
        if self.rows.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.sink.write(&self.table, &self.rows).await?;
        self.written += self.rows.len() as u64;
        self.rows.clear();
        Ok(())
    }

    async fn done(mut self) -> Result<u64> {
        self.flush().await?;
        eprintln!(
            "jobscope-synth: {:>9} rows  {:<34} {:>6.1} s",
            self.written,
            self.table.name,
            self.started.elapsed().as_secs_f64()
        );
        Ok(self.written)
    }
}

const USERS: &[&str] = &[
    "id",
    "username",
    "email",
    "name",
    "state",
    "admin",
    "external",
    "bot",
    "can_create_group",
    "projects_limit",
    "created_at",
];
const NAMESPACES: &[&str] = &[
    "id",
    "kind",
    "name",
    "path",
    "full_path",
    "full_name",
    "parent_id",
    "traversal_ids",
    "visibility",
    "description",
    "owner_id",
    "created_at",
];
const ROUTES: &[&str] = &["path_lower", "namespace_id", "project_id"];
const PROJECTS: &[&str] = &[
    "id",
    "namespace_id",
    "name",
    "path",
    "full_path",
    "description",
    "visibility",
    "default_branch",
    "topics",
    "creator_id",
    "created_at",
    "last_activity_at",
    "inbound_job_token_scope_enabled",
    "job_token_scope_enabled",
];
const MEMBERS_NS: &[&str] = &[
    "namespace_id",
    "user_id",
    "access_level",
    "expires_at",
    "created_by_id",
    "created_at",
];
const MEMBERS_PROJECT: &[&str] = &[
    "project_id",
    "user_id",
    "access_level",
    "expires_at",
    "created_by_id",
    "created_at",
];
const TOKENS: &[&str] = &[
    "id",
    "user_id",
    "name",
    "description",
    "token_digest",
    "scopes",
    "revoked",
    "expires_at",
    "last_used_at",
    "created_at",
];
const PROJECT_LINKS: &[&str] = &[
    "id",
    "source_project_id",
    "target_project_id",
    "direction",
    "added_by_id",
    "job_token_policies",
    "default_permissions",
    "autopopulated",
    "created_at",
];
const GROUP_LINKS: &[&str] = &[
    "id",
    "source_project_id",
    "target_group_id",
    "added_by_id",
    "job_token_policies",
    "default_permissions",
    "autopopulated",
    "created_at",
];
const JOBS: &[&str] = &[
    "id",
    "project_id",
    "user_id",
    "name",
    "ref",
    "status",
    "token_digest",
    "created_at",
    "finished_at",
];

/// A project's full path.
pub fn project_full_path(inst: &Instance, id: u32) -> String {
    let name = model::project_name(inst.seed, id);
    match inst.projects[id as usize].ns {
        Ns::Group(g) => format!("{}/{name}", inst.groups[g as usize].full_path),
        Ns::User(u) => format!("{}/{name}", model::user_names(inst.seed, u).0),
    }
}

fn project_ns_id(inst: &Instance, id: u32) -> i64 {
    match inst.projects[id as usize].ns {
        Ns::Group(g) => inst.groups[g as usize].id,
        Ns::User(u) => i64::from(u),
    }
}

/// Writes the whole instance.
/// Writes every row. Token digests are made as the server makes them, with the database's
/// `salt`.
pub async fn write_all(
    inst: &Instance,
    sink: &mut Sink,
    root_token: &str,
    salt: &str,
) -> Result<()> {
    let seed = inst.seed;
    let users = inst.counts.users;

    // The row the store made on opening, with fixed values (SQLite and PostgreSQL both
    // read this timestamp literal as sqlx writes a `DateTime<Utc>`).
    sink.exec(
        "UPDATE instance_settings SET enforce_ci_inbound_job_token_scope_enabled = FALSE, \
         default_project_visibility = 'private', default_group_visibility = 'private', \
         default_projects_limit = 100000, max_personal_access_token_lifetime = NULL, \
         updated_at = '2024-01-01T00:00:00+00:00' WHERE id = 1",
    )
    .await?;

    // Users; root is user 1, as `jobscope serve` makes it on a new instance.
    let mut w = Writer::new(sink, "users", USERS);
    for id in 1..=users {
        let (username, name) = model::user_names(seed, id);
        let email = if id == 1 {
            "admin@example.com".to_owned()
        } else {
            format!("{username}@example.com")
        };
        w.push(vec![
            Val::Int(i64::from(id)),
            Val::Text(username),
            Val::Text(email),
            Val::Text(name),
            Val::Static("active"),
            Val::Bool(id == 1),
            Val::Bool(false),
            Val::Bool(false),
            Val::Bool(true),
            Val::Int(100_000),
            Val::Time(model::user_created_at(id)),
        ])
        .await?;
    }
    w.done().await?;

    // Namespaces: each user's personal namespace (id = user id), then the groups.
    let mut w = Writer::new(sink, "namespaces", NAMESPACES);
    for id in 1..=users {
        let (username, name) = model::user_names(seed, id);
        w.push(vec![
            Val::Int(i64::from(id)),
            Val::Static("user"),
            Val::Text(name.clone()),
            Val::Text(username.clone()),
            Val::Text(username),
            Val::Text(name),
            Val::Null,
            Val::Ids(vec![i64::from(id)]),
            Val::Static("public"),
            Val::Static(""),
            Val::Int(i64::from(id)),
            Val::Time(model::user_created_at(id)),
        ])
        .await?;
    }
    for g in &inst.groups {
        let h = hash(seed, model::stream::GROUP_ATTRS, g.id as u64);
        w.push(vec![
            Val::Int(g.id),
            Val::Static("group"),
            Val::Text(g.name.clone()),
            Val::Text(g.path.clone()),
            Val::Text(g.full_path.clone()),
            Val::Text(g.full_name.clone()),
            g.parent
                .map_or(Val::Null, |p| Val::Int(inst.groups[p as usize].id)),
            Val::Ids(g.traversal.clone()),
            Val::Static(g.visibility.as_str()),
            Val::Static(if h % 10 < 3 { "Synthetic group" } else { "" }),
            Val::Null,
            Val::Time(g.created_at),
        ])
        .await?;
    }
    w.done().await?;

    let mut w = Writer::new(sink, "projects", PROJECTS);
    for id in 1..=inst.counts.projects {
        let p = &inst.projects[id as usize];
        let name = model::project_name(seed, id);
        let h = hash(seed, model::stream::PROJECT_ATTRS, u64::from(id));
        let created = model::project_created_at(id);
        w.push(vec![
            Val::Int(i64::from(id)),
            Val::Int(project_ns_id(inst, id)),
            Val::Text(name.clone()),
            Val::Text(name),
            Val::Text(project_full_path(inst, id)),
            if (h >> 8).is_multiple_of(2) {
                Val::Static("Synthetic project")
            } else {
                Val::Null
            },
            Val::Static(p.visibility.as_str()),
            if (h >> 12).is_multiple_of(5) {
                Val::Null
            } else {
                Val::Static("main")
            },
            Val::Names(if (h >> 16).is_multiple_of(10) {
                &["synthetic"]
            } else {
                &[]
            }),
            Val::Int(i64::from(p.creator)),
            Val::Time(created),
            Val::Time(created),
            Val::Bool(p.inbound),
            Val::Bool(false),
        ])
        .await?;
    }
    w.done().await?;

    // Full paths are unique across namespaces and projects: one route each.
    let mut w = Writer::new(sink, "routes", ROUTES);
    for id in 1..=users {
        w.push(vec![
            Val::Text(model::user_names(seed, id).0.to_lowercase()),
            Val::Int(i64::from(id)),
            Val::Null,
        ])
        .await?;
    }
    for g in &inst.groups {
        w.push(vec![
            Val::Text(g.full_path.to_lowercase()),
            Val::Int(g.id),
            Val::Null,
        ])
        .await?;
    }
    for id in 1..=inst.counts.projects {
        w.push(vec![
            Val::Text(project_full_path(inst, id).to_lowercase()),
            Val::Null,
            Val::Int(i64::from(id)),
        ])
        .await?;
    }
    w.done().await?;

    let group_created = |ns: u32| -> i64 {
        let first = inst.group_ns_id(0);
        inst.groups[(i64::from(ns) - first) as usize].created_at
    };
    let mut w = Writer::new(sink, "namespace_members", MEMBERS_NS);
    for m in &inst.namespace_members {
        w.push(vec![
            Val::Int(i64::from(m.source)),
            Val::Int(i64::from(m.user)),
            Val::Int(i64::from(m.level)),
            Val::Null,
            Val::Int(i64::from(m.created_by)),
            Val::Time(group_created(m.source) + 3_600),
        ])
        .await?;
    }
    w.done().await?;

    let mut w = Writer::new(sink, "project_members", MEMBERS_PROJECT);
    for m in &inst.project_members {
        w.push(vec![
            Val::Int(i64::from(m.source)),
            Val::Int(i64::from(m.user)),
            Val::Int(i64::from(m.level)),
            Val::Null,
            Val::Int(i64::from(m.created_by)),
            Val::Time(model::project_created_at(m.source) + 3_600),
        ])
        .await?;
    }
    w.done().await?;

    let mut w = Writer::new(sink, "personal_access_tokens", TOKENS);
    w.push(vec![
        Val::Int(1),
        Val::Int(1),
        Val::Static("jobscope-root"),
        Val::Static("Created by jobscope on first start"),
        Val::Text(token_digest(root_token, salt)),
        Val::Names(ROOT_TOKEN_SCOPES),
        Val::Bool(false),
        Val::Null,
        Val::Null,
        Val::Time(T0),
    ])
    .await?;
    w.done().await?;

    let mut w = Writer::new(sink, "ci_job_token_project_scope_links", PROJECT_LINKS);
    for (i, l) in inst.project_links.iter().enumerate() {
        w.push(vec![
            Val::Int(i as i64 + 1),
            Val::Int(i64::from(l.source)),
            Val::Int(i64::from(l.target)),
            Val::Int(1),
            Val::Int(i64::from(inst.projects[l.source as usize].creator)),
            Val::Names(POLICY_SETS[usize::from(l.policies)]),
            Val::Bool(l.default_permissions),
            Val::Bool(l.autopopulated),
            Val::Time(T_LINKS + i as i64 * 5),
        ])
        .await?;
    }
    w.done().await?;

    let mut w = Writer::new(sink, "ci_job_token_group_scope_links", GROUP_LINKS);
    let offset = inst.project_links.len() as i64;
    for (i, l) in inst.group_links.iter().enumerate() {
        w.push(vec![
            Val::Int(i as i64 + 1),
            Val::Int(i64::from(l.source)),
            Val::Int(inst.groups[l.group as usize].id),
            Val::Int(i64::from(inst.projects[l.source as usize].creator)),
            Val::Names(POLICY_SETS[usize::from(l.policies)]),
            Val::Bool(l.default_permissions),
            Val::Bool(l.autopopulated),
            Val::Time(T_LINKS + (offset + i as i64) * 5),
        ])
        .await?;
    }
    w.done().await?;

    let mut w = Writer::new(sink, "ci_jobs", JOBS);
    for (i, j) in inst.jobs.iter().enumerate() {
        let id = i as u32 + 1;
        w.push(vec![
            Val::Int(i64::from(id)),
            Val::Int(i64::from(j.project)),
            Val::Int(i64::from(j.user)),
            Val::Static(model::JOB_NAMES[i % model::JOB_NAMES.len()]),
            Val::Static("main"),
            Val::Static("running"),
            Val::Text(token_digest(&job_token(seed, id), salt)),
            Val::Time(T_JOBS + i64::from(id)),
            Val::Null,
        ])
        .await?;
    }
    w.done().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_tokens_look_like_the_servers() {
        let t = job_token(1, 1);
        assert!(t.starts_with("glcbt-64_"));
        assert_eq!(t.len(), "glcbt-64_".len() + 20);
        assert_ne!(t, job_token(1, 2));
        assert_ne!(t, job_token(2, 1));
        assert_eq!(t, job_token(1, 1));
    }
}
