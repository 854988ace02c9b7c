//! The sync file: reading it and checking everything that can be checked without a server
//! (the format is in docs/sync.md).
//!
//! ```yaml
//! version: 1
//! projects:
//!   acme/deployer:
//!     enabled: true
//!     allowlist:
//!       - acme/builder
//!       - project: acme/tester
//!         policies: [read_jobs, read_packages]
//!     groups_allowlist:
//!       - acme/platform
//! ```
//!
//! Errors carry the YAML location serde_yaml_ng gives (`projects.acme/deployer.allowlist[1]:
//! … at line 7 column 9`): checks run while the file is read, so each error points at the
//! value it is about.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use jobscope_client::types::policies::JOB_TOKEN_POLICIES;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::CliError;

/// The format's version (the only one).
pub const VERSION: u64 = 1;

/// At most this many entries for one project, its two allowlists together (GitLab's limit).
pub const MAX_ENTRIES: usize = 200;

/// A whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncFile {
    /// In the file's order.
    pub projects: Vec<ProjectSpec>,
}

/// What the file says about one project. `None`: the file leaves that part alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectSpec {
    /// The project as the file names it: a full path, or an id (digits).
    pub project: String,
    /// "Limit access to this project".
    pub enabled: Option<bool>,
    /// The whole project allowlist.
    pub allowlist: Option<Vec<EntrySpec>>,
    /// The whole group allowlist.
    pub groups_allowlist: Option<Vec<EntrySpec>>,
}

/// One allowlist entry of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntrySpec {
    /// The target as the file names it: a full path, or an id (digits).
    pub target: String,
    /// `None`: default permissions (the job user's role); else only these policies
    /// (checked, lower case, without repeats, at least one).
    pub policies: Option<Vec<String>>,
}

/// A reference with case and spelling folded, to find the same project or group twice: ids
/// by value, paths without regard to case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefKey {
    Id(i64),
    Path(String),
}

impl RefKey {
    pub fn of(reference: &str) -> RefKey {
        match digits(reference) {
            Some(id) => RefKey::Id(id),
            None => RefKey::Path(reference.to_ascii_lowercase()),
        }
    }
}

/// An id, when the reference is one (digits only).
fn digits(s: &str) -> Option<i64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Reads and checks a file.
pub fn read(path: &Path) -> Result<SyncFile, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    parse(&text).map_err(|e| {
        CliError::usage(format!("{}: {e}", path.display()))
            .with_hint("docs/sync.md describes the sync file")
    })
}

/// Parses and checks a file's text; the error is serde_yaml_ng's message, with the location.
pub fn parse(text: &str) -> Result<SyncFile, String> {
    if text.trim().is_empty() {
        return Err("the file is empty: it needs at least `projects:`".into());
    }
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let file = FileSeed.deserialize(de).map_err(|e| e.to_string())?;
    Ok(file)
}

/// A project's reference, checked: an id, or a full path (`group/project`).
fn project_reference(raw: &str) -> Result<String, String> {
    let s = raw.trim().trim_matches('/');
    if digits(s).is_some() || (s.contains('/') && !s.contains("//")) {
        return Ok(s.to_owned());
    }
    Err(format!(
        "{raw:?} is not a project: name a project by its full path (group/project) or its \
         numeric id"
    ))
}

/// A group's reference, checked: an id, or a full path (`group` or `group/subgroup`).
fn group_reference(raw: &str) -> Result<String, String> {
    let s = raw.trim().trim_matches('/');
    if s.is_empty() || s.contains("//") {
        return Err(format!(
            "{raw:?} is not a group: name a group by its full path or its numeric id"
        ));
    }
    Ok(s.to_owned())
}

/// A string or an integer (YAML reads `42:` and `- 42` as integers).
struct Reference;

impl Visitor<'_> for Reference {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a full path or a numeric id")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        if v <= 0 {
            return Err(E::custom(format!("{v} is not an id: ids are positive")));
        }
        Ok(v.to_string())
    }
}

/// The top level: `version` and `projects`.
struct FileSeed;

const FILE_FIELDS: &[&str] = &["version", "projects"];

impl<'de> DeserializeSeed<'de> for FileSeed {
    type Value = SyncFile;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SyncFile, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed {
    type Value = SyncFile;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping with `version: 1` and `projects:`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SyncFile, A::Error> {
        let mut version = false;
        let mut projects = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" if version => return Err(de::Error::duplicate_field("version")),
                "version" => {
                    map.next_value_seed(VersionSeed)?;
                    version = true;
                }
                "projects" if projects.is_some() => {
                    return Err(de::Error::duplicate_field("projects"));
                }
                "projects" => projects = Some(map.next_value_seed(ProjectsSeed)?),
                other => return Err(de::Error::unknown_field(other, FILE_FIELDS)),
            }
        }
        let projects = projects.ok_or_else(|| de::Error::missing_field("projects"))?;
        Ok(SyncFile { projects })
    }
}

struct VersionSeed;

impl<'de> DeserializeSeed<'de> for VersionSeed {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_u64(self)
    }
}

impl Visitor<'_> for VersionSeed {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the format's version, {VERSION}")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        if v == VERSION {
            Ok(())
        } else {
            Err(E::custom(format!(
                "version {v} is not known: this jobscope reads version {VERSION}"
            )))
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(E::custom(format!(
            "version {v} is not known: this jobscope reads version {VERSION}"
        )))
    }
}

/// `projects:`: project → its settings; a project named twice is an error.
struct ProjectsSeed;

impl<'de> DeserializeSeed<'de> for ProjectsSeed {
    type Value = Vec<ProjectSpec>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<ProjectSpec>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProjectsSeed {
    type Value = Vec<ProjectSpec>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping from projects (full paths or ids) to what they should be")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<ProjectSpec>, A::Error> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        while let Some(project) = map.next_key_seed(ProjectKeySeed { seen: &mut seen })? {
            let spec = map.next_value_seed(ProjectSeed { project })?;
            out.push(spec);
        }
        Ok(out)
    }
}

/// A project's key: checked, and not seen before. The checks run inside the visitor, so that
/// an error points at the key (an error raised after the key was read would point at the
/// start of `projects:`).
struct ProjectKeySeed<'a> {
    seen: &'a mut HashSet<RefKey>,
}

impl ProjectKeySeed<'_> {
    fn key(self, raw: &str) -> Result<String, String> {
        let project = project_reference(raw)?;
        if !self.seen.insert(RefKey::of(&project)) {
            return Err(format!("the project {project} is listed twice"));
        }
        Ok(project)
    }
}

impl<'de> DeserializeSeed<'de> for ProjectKeySeed<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for ProjectKeySeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Reference.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.key(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.key(&v.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        let v = Reference.visit_i64::<E>(v)?;
        self.key(&v).map_err(E::custom)
    }
}

/// One project's settings.
struct ProjectSeed {
    project: String,
}

const PROJECT_FIELDS: &[&str] = &["enabled", "allowlist", "groups_allowlist"];

impl<'de> DeserializeSeed<'de> for ProjectSeed {
    type Value = ProjectSpec;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ProjectSpec, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProjectSeed {
    type Value = ProjectSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a mapping of enabled, allowlist and groups_allowlist for {} ({{}} leaves it \
             as it is)",
            self.project
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProjectSpec, A::Error> {
        let mut spec = ProjectSpec {
            project: self.project,
            enabled: None,
            allowlist: None,
            groups_allowlist: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "enabled" if spec.enabled.is_some() => {
                    return Err(de::Error::duplicate_field("enabled"));
                }
                "enabled" => spec.enabled = Some(map.next_value_seed(EnabledSeed)?),
                "allowlist" if spec.allowlist.is_some() => {
                    return Err(de::Error::duplicate_field("allowlist"));
                }
                "allowlist" => {
                    spec.allowlist = Some(map.next_value_seed(ListSeed { group: false })?);
                }
                "groups_allowlist" if spec.groups_allowlist.is_some() => {
                    return Err(de::Error::duplicate_field("groups_allowlist"));
                }
                "groups_allowlist" => {
                    spec.groups_allowlist = Some(map.next_value_seed(ListSeed { group: true })?);
                }
                other => return Err(de::Error::unknown_field(other, PROJECT_FIELDS)),
            }
        }
        let total = spec.allowlist.as_ref().map_or(0, Vec::len)
            + spec.groups_allowlist.as_ref().map_or(0, Vec::len);
        if total > MAX_ENTRIES {
            return Err(de::Error::custom(format!(
                "{} has {total} allowlist entries: GitLab allows at most {MAX_ENTRIES}, \
                 its two allowlists together",
                spec.project
            )));
        }
        Ok(spec)
    }
}

/// `enabled:`: true or false (never null). Checked in the visitor, so that an error points at
/// the value.
struct EnabledSeed;

impl<'de> DeserializeSeed<'de> for EnabledSeed {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for EnabledSeed {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Err(E::custom(
            "enabled needs a value: true or false (leave the key out to leave the setting as \
             it is)",
        ))
    }
}

/// `allowlist:` or `groups_allowlist:`: a list (never null: `[]` is the empty list).
struct ListSeed {
    group: bool,
}

impl ListSeed {
    fn key(&self) -> &'static str {
        if self.group {
            "groups_allowlist"
        } else {
            "allowlist"
        }
    }
}

impl<'de> DeserializeSeed<'de> for ListSeed {
    type Value = Vec<EntrySpec>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<EntrySpec>, D::Error> {
        // Not `deserialize_seq`: serde_yaml_ng reads a missing value (`allowlist:` and
        // nothing) as an empty sequence there, and an empty list removes every entry.
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed {
    type Value = Vec<EntrySpec>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a list of {} ([] for an empty {}; leave the key out to leave it as it is)",
            if self.group { "groups" } else { "projects" },
            self.key()
        )
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<EntrySpec>, E> {
        Err(E::custom(format!(
            "{} has no value: write [] for an empty list, or leave the key out to leave it \
             as it is",
            self.key()
        )))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<EntrySpec>, A::Error> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        while let Some(entry) = seq.next_element_seed(EntrySeed {
            group: self.group,
            seen: &mut seen,
        })? {
            out.push(entry);
        }
        Ok(out)
    }
}

/// One entry: `acme/builder`, `42`, or `{project: acme/builder, policies: [...]}`
/// (`group:` in the group allowlist).
struct EntrySeed<'a> {
    group: bool,
    seen: &'a mut HashSet<RefKey>,
}

impl EntrySeed<'_> {
    fn noun(&self) -> &'static str {
        if self.group { "group" } else { "project" }
    }

    fn entry(self, raw: &str, policies: Option<Vec<String>>) -> Result<EntrySpec, String> {
        let target = if self.group {
            group_reference(raw)?
        } else {
            project_reference(raw)?
        };
        if !self.seen.insert(RefKey::of(&target)) {
            return Err(format!("the {} {target} is listed twice", self.noun()));
        }
        Ok(EntrySpec { target, policies })
    }
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = EntrySpec;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<EntrySpec, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = EntrySpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = self.noun();
        write!(
            f,
            "a {noun} (its full path or id), or a mapping with `{noun}:` and `policies:`"
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<EntrySpec, E> {
        self.entry(v, None).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<EntrySpec, E> {
        self.entry(&v.to_string(), None).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<EntrySpec, E> {
        let v = Reference.visit_i64::<E>(v)?;
        self.entry(&v, None).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntrySpec, A::Error> {
        let noun = self.noun();
        let fields: &'static [&'static str] = if self.group {
            &["group", "policies"]
        } else {
            &["project", "policies"]
        };
        let mut target: Option<String> = None;
        let mut policies: Option<Vec<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                k if k == noun => {
                    if target.is_some() {
                        return Err(de::Error::duplicate_field(fields[0]));
                    }
                    target = Some(map.next_value_seed(ReferenceSeed)?);
                }
                "policies" => {
                    if policies.is_some() {
                        return Err(de::Error::duplicate_field("policies"));
                    }
                    policies = Some(map.next_value_seed(PoliciesSeed)?);
                }
                other => return Err(de::Error::unknown_field(other, fields)),
            }
        }
        let target = target.ok_or_else(|| de::Error::missing_field(fields[0]))?;
        self.entry(&target, policies).map_err(de::Error::custom)
    }
}

struct ReferenceSeed;

impl<'de> DeserializeSeed<'de> for ReferenceSeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(Reference)
    }
}

/// `policies: [...]`: known names, at least one.
struct PoliciesSeed;

impl<'de> DeserializeSeed<'de> for PoliciesSeed {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PoliciesSeed {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of job token policies (`jobscope policies list` shows them)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out: Vec<String> = Vec::new();
        while let Some(name) = seq.next_element_seed(PolicySeed)? {
            if !out.contains(&name) {
                out.push(name);
            }
        }
        if out.is_empty() {
            return Err(de::Error::custom(
                "an empty policies list would grant nothing: name at least one policy, or \
                 leave `policies` out for default permissions (the job user's role)",
            ));
        }
        Ok(out)
    }
}

/// One policy name (any case), checked.
struct PolicySeed;

impl<'de> DeserializeSeed<'de> for PolicySeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for PolicySeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a job token policy name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        let name = v.trim().to_ascii_lowercase();
        if JOB_TOKEN_POLICIES.contains(&name.as_str()) {
            Ok(name)
        } else {
            Err(E::custom(format!(
                "unknown job token policy {v:?} (`jobscope policies list` shows every policy)"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let file = parse(
            "version: 1\n\
             projects:\n\
             \x20 acme/deployer:\n\
             \x20   enabled: true\n\
             \x20   allowlist:\n\
             \x20     - acme/builder\n\
             \x20     - project: acme/tester\n\
             \x20       policies: [read_jobs, READ_PACKAGES, read_jobs]\n\
             \x20   groups_allowlist:\n\
             \x20     - acme/platform\n\
             \x20     - group: acme/tools\n\
             \x20       policies: [read_packages]\n\
             \x20 42:\n\
             \x20   allowlist: [7, \"8\"]\n\
             \x20 acme/other: {}\n",
        )
        .unwrap();
        assert_eq!(file.projects.len(), 3);
        let d = &file.projects[0];
        assert_eq!(d.project, "acme/deployer");
        assert_eq!(d.enabled, Some(true));
        let list = d.allowlist.as_ref().unwrap();
        assert_eq!(list[0].target, "acme/builder");
        assert_eq!(list[0].policies, None);
        assert_eq!(
            list[1].policies.as_deref(),
            Some(&["read_jobs".to_owned(), "read_packages".to_owned()][..])
        );
        let groups = d.groups_allowlist.as_ref().unwrap();
        assert_eq!(groups[1].target, "acme/tools");
        assert_eq!(file.projects[1].project, "42");
        let ids: Vec<&str> = file.projects[1]
            .allowlist
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.target.as_str())
            .collect();
        assert_eq!(ids, ["7", "8"]);
        assert_eq!(file.projects[1].groups_allowlist, None);
        assert_eq!(file.projects[2].enabled, None);
        assert_eq!(file.projects[2].allowlist, None);
        // Without a version, and with no projects at all.
        assert_eq!(parse("projects: {}\n").unwrap(), SyncFile::default());
    }

    /// The first example of docs/sync.md, which must parse as it says.
    fn documented_example() -> &'static str {
        let doc = include_str!("../../../../docs/sync.md");
        let start = doc.find("```yaml\nversion: 1\n").unwrap() + "```yaml\n".len();
        let len = doc[start..].find("```").unwrap();
        &doc[start..start + len]
    }

    #[test]
    fn the_example_of_docs_sync_md_parses_and_fails_as_documented() {
        let file = parse(documented_example()).unwrap();
        let names: Vec<&str> = file.projects.iter().map(|p| p.project.as_str()).collect();
        assert_eq!(names, ["acme/deployer", "acme/api", "4321", "acme/legacy"]);
        let d = &file.projects[0];
        let list = d.allowlist.as_ref().unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[2].target, "1234");
        assert_eq!(
            list[1].policies.as_deref(),
            Some(&["read_jobs".to_owned(), "read_packages".to_owned()][..])
        );
        assert_eq!(file.projects[1].allowlist, Some(vec![]));
        assert_eq!(file.projects[1].groups_allowlist, None);
        let legacy = &file.projects[3];
        assert_eq!(
            (&legacy.enabled, &legacy.allowlist, &legacy.groups_allowlist),
            (&None, &None, &None)
        );
        // The error the document shows.
        let e = parse(&documented_example().replace("[read_jobs, read_packages]", "[read_all]"))
            .unwrap_err();
        assert_eq!(
            e,
            "projects.acme/deployer.allowlist[1].policies[0]: unknown job token policy \
             \"read_all\" (`jobscope policies list` shows every policy) at line 8 column 20"
        );
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err()
    }

    #[test]
    fn mistakes_are_reported_where_they_are() {
        let e = error(
            "projects:\n  acme/a:\n    allowlist:\n      - project: acme/b\n        policies: [read_all]\n",
        );
        assert!(e.contains("unknown job token policy \"read_all\""), "{e}");
        assert!(e.contains("line 5"), "{e}");
        let e = error("projects:\n  acme/a:\n    allowlists: []\n");
        assert!(e.contains("unknown field `allowlists`"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        let e = error("projects:\n  acme/a:\n    allowlist:\n      - acme/b\n      - ACME/B\n");
        assert!(e.contains("the project ACME/B is listed twice"), "{e}");
        assert!(e.contains("line 5"), "{e}");
        let e = error("projects:\n  acme/a: {}\n  acme/b: {}\n  Acme/A: {}\n");
        assert!(e.contains("the project Acme/A is listed twice"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        let e = error("projects:\n  acme: {}\n");
        assert!(e.contains("\"acme\" is not a project"), "{e}");
        let e = error("version: 2\nprojects: {}\n");
        assert!(e.contains("version 2 is not known"), "{e}");
        let e = error("projects:\n  acme/a:\n    allowlist:\n");
        assert!(e.contains("write [] for an empty list"), "{e}");
        let e = error("projects:\n  acme/a:\n    allowlist:\n      - group: acme/b\n");
        assert!(e.contains("unknown field `group`, expected"), "{e}");
        let e = error(
            "projects:\n  acme/a:\n    groups_allowlist:\n      - group: acme\n        policies: []\n",
        );
        assert!(e.contains("empty policies list"), "{e}");
        let e = error("projects:\n  acme/a:\n    enabled: maybe\n");
        assert!(e.contains("line 3"), "{e}");
        // A key without a value is an error, not an empty list (which would remove every
        // entry) nor a setting left alone.
        let e = error("projects:\n  acme/a:\n    allowlist: [acme/b]\n    groups_allowlist:\n");
        assert!(e.contains("groups_allowlist has no value"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        let e = error("projects:\n  acme/a:\n    allowlist: []\n    enabled:\n");
        assert!(e.contains("enabled needs a value"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        let e = error("projects:\n  acme/a:\n    allowlist: acme/b\n");
        assert!(e.contains("expected a list of projects"), "{e}");
        let e = error("projects:\n  acme/a:\n  allowlist: [\n");
        assert!(e.contains("line"), "{e}");
        let e = error("project: {}\n");
        assert!(e.contains("unknown field `project`"), "{e}");
        assert!(error("").contains("empty"));
        assert!(error("version: 1\n").contains("missing field `projects`"));
    }

    #[test]
    fn at_most_200_entries_per_project() {
        let mut text = String::from("projects:\n  acme/a:\n    allowlist:\n");
        for i in 0..150 {
            text.push_str(&format!("      - acme/p{i}\n"));
        }
        text.push_str("    groups_allowlist:\n");
        for i in 0..50 {
            text.push_str(&format!("      - g{i}\n"));
        }
        assert!(parse(&text).is_ok());
        text.push_str("      - g50\n");
        let e = parse(&text).unwrap_err();
        assert!(e.contains("201 allowlist entries"), "{e}");
    }

    #[test]
    fn references() {
        assert_eq!(RefKey::of("007"), RefKey::Id(7));
        assert_eq!(RefKey::of("Acme/X"), RefKey::Path("acme/x".into()));
        assert_eq!(project_reference("/acme/x/").unwrap(), "acme/x");
        assert!(project_reference("acme//x").is_err());
        assert!(group_reference("").is_err());
        assert_eq!(group_reference("acme").unwrap(), "acme");
    }
}
