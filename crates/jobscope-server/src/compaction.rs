//! Allowlist compaction for autopopulation (spec §8.3): turn the origins of a project's
//! authentication log into at most `limit` allowlist entries, replacing projects by the
//! groups that contain them when there are too many.
//!
//! Each origin is a path from its root group down to the project itself. While there are
//! more paths than the limit, every path of the greatest depth is replaced by its parent
//! (its deepest group), and duplicates merge. This is the behaviour GitLab's documentation
//! describes with its example (`group1/group2/group3/project1` … compacting to
//! `group1/group2/group3`, `group1/group2/group4`, `group1/group5/group6`, then `group1/group2`,
//! `group1/group5`, then `group1`). Paths that cannot be shortened (a project in a personal
//! namespace, a top-level group) stay; if the limit still cannot be met, compaction fails.

use jobscope_types::{NamespaceId, ProjectId};

/// One element of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Group(NamespaceId),
    Project(ProjectId),
}

/// A path from the root down: groups, then possibly a project last. Projects in personal
/// namespaces have a path of just the project (they can only be named directly).
pub type Path = Vec<Node>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompactionError {
    /// GitLab's `CompactionLimitCannotBeAchievedError`.
    LimitCannotBeAchieved,
}

fn starts_with(path: &[Node], prefix: &[Node]) -> bool {
    path.len() >= prefix.len() && path[..prefix.len()] == *prefix
}

/// Drops candidates already covered by an existing entry (an existing path that is a prefix).
pub fn uncovered(candidates: Vec<Path>, existing: &[Path]) -> Vec<Path> {
    candidates
        .into_iter()
        .filter(|c| !existing.iter().any(|e| starts_with(c, e)))
        .collect()
}

/// Compacts `candidates` to at most `limit` paths.
pub fn compact(mut paths: Vec<Path>, limit: usize) -> Result<Vec<Path>, CompactionError> {
    paths.sort();
    paths.dedup();
    remove_redundant(&mut paths);
    while paths.len() > limit {
        let deepest = paths.iter().filter(|p| p.len() > 1).map(Vec::len).max();
        let Some(depth) = deepest else {
            return Err(CompactionError::LimitCannotBeAchieved);
        };
        for p in paths.iter_mut().filter(|p| p.len() == depth) {
            p.pop();
        }
        paths.sort();
        paths.dedup();
        remove_redundant(&mut paths);
    }
    Ok(paths)
}

/// Removes paths covered by another path (a shorter prefix).
fn remove_redundant(paths: &mut Vec<Path>) {
    let snapshot = paths.clone();
    paths.retain(|p| {
        !snapshot
            .iter()
            .any(|other| other.len() < p.len() && starts_with(p, other))
    });
}

/// GitLab's validation of a compaction: every result covers at least one candidate, and no
/// result covers another.
pub fn validate(candidates: &[Path], compacted: &[Path]) -> bool {
    compacted.iter().all(|c| {
        candidates.iter().any(|o| starts_with(o, c))
            && !compacted
                .iter()
                .any(|other| other != c && starts_with(other, c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(i: i64) -> Node {
        Node::Group(NamespaceId(i))
    }
    fn p(i: i64) -> Node {
        Node::Project(ProjectId(i))
    }

    /// GitLab's documented example: projects 1–5 under group1/group2/group3 (1, 2),
    /// group1/group2/group4 (3, 4) and group1/group5/group6 (5).
    fn doc_example() -> Vec<Path> {
        vec![
            vec![g(1), g(2), g(3), p(1)],
            vec![g(1), g(2), g(3), p(2)],
            vec![g(1), g(2), g(4), p(3)],
            vec![g(1), g(2), g(4), p(4)],
            vec![g(1), g(5), g(6), p(5)],
        ]
    }

    #[test]
    fn documented_example_step_by_step() {
        assert_eq!(compact(doc_example(), 5).unwrap().len(), 5);
        assert_eq!(
            compact(doc_example(), 3).unwrap(),
            vec![
                vec![g(1), g(2), g(3)],
                vec![g(1), g(2), g(4)],
                vec![g(1), g(5), g(6)]
            ]
        );
        assert_eq!(
            compact(doc_example(), 2).unwrap(),
            vec![vec![g(1), g(2)], vec![g(1), g(5)]]
        );
        assert_eq!(compact(doc_example(), 1).unwrap(), vec![vec![g(1)]]);
        let all = doc_example();
        for limit in 1..=5 {
            assert!(validate(&all, &compact(all.clone(), limit).unwrap()));
        }
    }

    #[test]
    fn unreachable_limits_fail() {
        let personal = vec![vec![p(1)], vec![p(2)]];
        assert_eq!(
            compact(personal, 1),
            Err(CompactionError::LimitCannotBeAchieved)
        );
        assert_eq!(
            compact(vec![vec![g(1), p(1)], vec![g(2), p(2)]], 1),
            Err(CompactionError::LimitCannotBeAchieved)
        );
        assert!(compact(vec![vec![g(1), p(1)]], 0).is_err());
    }

    #[test]
    fn covered_candidates_are_dropped() {
        let existing = vec![vec![g(1), g(2)]];
        let left = uncovered(doc_example(), &existing);
        assert_eq!(left, vec![vec![g(1), g(5), g(6), p(5)]]);
    }
}
