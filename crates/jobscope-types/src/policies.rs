//! Fine-grained job token permissions ("job token policies"): the names an allowlist entry can
//! grant, as GitLab's JSON schema lists them.

use std::collections::BTreeSet;

/// Every policy name, in GitLab's schema order.
pub const JOB_TOKEN_POLICIES: &[&str] = &[
    "read_deployments",
    "admin_deployments",
    "read_environments",
    "admin_environments",
    "read_jobs",
    "admin_jobs",
    "read_merge_requests",
    "read_packages",
    "admin_packages",
    "read_pipelines",
    "admin_pipelines",
    "read_releases",
    "admin_releases",
    "read_repositories",
    "read_secure_files",
    "admin_secure_files",
    "read_terraform_state",
    "admin_terraform_state",
    "read_work_items",
];

pub fn is_policy(name: &str) -> bool {
    JOB_TOKEN_POLICIES.contains(&name)
}

/// The policies an entry's list grants: each `admin_X` also grants `read_X`.
pub fn expand<'a>(granted: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in granted {
        out.insert(p.clone());
        if let Some(resource) = p.strip_prefix("admin_") {
            out.insert(format!("read_{resource}"));
        }
    }
    out
}

/// Whether an entry's list grants `wanted`: named in it, or `wanted` is `read_X` and the list
/// names `admin_X`. The same answer as `expand(granted).contains(wanted)`, without building
/// the set (this runs on every check).
pub fn grants(granted: &[String], wanted: &str) -> bool {
    let read_of = wanted.strip_prefix("read_");
    granted
        .iter()
        .any(|g| g == wanted || (read_of.is_some() && g.strip_prefix("admin_") == read_of))
}

/// Joins names the way Rails' `to_sentence` does: "a", "a and b", "a, b, and c".
pub fn to_sentence(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// Validates and normalises a requested list: unknown names are reported (first one), and
/// repeated names are dropped keeping the first occurrence.
pub fn normalise(names: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !is_policy(n) {
            return Err(n.clone());
        }
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_implies_read() {
        let granted = vec!["admin_packages".to_string(), "read_jobs".to_string()];
        let e = expand(&granted);
        assert!(e.contains("read_packages"));
        assert!(e.contains("admin_packages"));
        assert!(e.contains("read_jobs"));
        assert!(!e.contains("admin_jobs"));
    }

    #[test]
    fn grants_agrees_with_expand() {
        let lists: Vec<Vec<String>> = vec![
            vec![],
            vec!["admin_packages".into()],
            vec!["read_jobs".into(), "admin_deployments".into()],
            vec!["admin_secure_files".into(), "read_secure_files".into()],
        ];
        let mut wanted: Vec<String> = JOB_TOKEN_POLICIES.iter().map(|p| p.to_string()).collect();
        wanted.extend(["read_".to_string(), "admin_".to_string(), "".to_string()]);
        for granted in &lists {
            let expanded = expand(granted);
            for w in &wanted {
                assert_eq!(grants(granted, w), expanded.contains(w), "{granted:?} {w}");
            }
        }
        assert!(grants(&["admin_packages".to_string()], "read_packages"));
        assert!(!grants(&["read_packages".to_string()], "admin_packages"));
    }

    #[test]
    fn sentences() {
        let s = |v: &[&str]| to_sentence(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["a"]), "a");
        assert_eq!(s(&["a", "b"]), "a and b");
        assert_eq!(s(&["a", "b", "c"]), "a, b, and c");
    }

    #[test]
    fn normalising() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            normalise(&v(&["read_jobs", "read_jobs"])),
            Ok(v(&["read_jobs"]))
        );
        assert_eq!(
            normalise(&v(&["read_issue"])),
            Err("read_issue".to_string())
        );
    }
}
