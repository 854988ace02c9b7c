//! `:id` path parameters: GitLab accepts a numeric id or a URL-encoded full path.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::ids::{NamespaceId, ProjectId};

/// Characters left as they are when a path is put into one URL path segment. `.` is encoded
/// as well (go-gitlab does the same) so that a path can never look like `..`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// Percent-encodes one path segment, `/` included (`group/sub/project` → `group%2Fsub%2Fproject`).
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

fn is_integer_id(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A reference to a project, as the `:id` of `/projects/:id/...` routes gives it (already
/// percent-decoded).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProjectRef {
    Id(ProjectId),
    /// A full path such as `group/sub/project`; matched without regard to case.
    Path(String),
}

impl ProjectRef {
    /// Parses a decoded `:id`. `None` means GitLab would find nothing: an integer beyond the id
    /// range, or a string that is neither an integer nor contains a `/`.
    pub fn parse(decoded: &str) -> Option<ProjectRef> {
        if is_integer_id(decoded) {
            return decoded
                .parse::<i64>()
                .ok()
                .map(|v| ProjectRef::Id(ProjectId(v)));
        }
        if decoded.contains('/') {
            return Some(ProjectRef::Path(decoded.to_owned()));
        }
        None
    }

    /// The form to put into a URL: the id, or the encoded path.
    pub fn to_segment(&self) -> String {
        match self {
            ProjectRef::Id(id) => id.to_string(),
            ProjectRef::Path(p) => encode_segment(p),
        }
    }
}

impl fmt::Display for ProjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectRef::Id(id) => id.fmt(f),
            ProjectRef::Path(p) => f.write_str(p),
        }
    }
}

impl From<ProjectId> for ProjectRef {
    fn from(id: ProjectId) -> Self {
        ProjectRef::Id(id)
    }
}

impl From<i64> for ProjectRef {
    fn from(id: i64) -> Self {
        ProjectRef::Id(ProjectId(id))
    }
}

/// What a person types: digits are an id, anything else a full path.
impl From<&str> for ProjectRef {
    fn from(s: &str) -> Self {
        match s.parse::<i64>() {
            Ok(id) if is_integer_id(s) => ProjectRef::Id(ProjectId(id)),
            _ => ProjectRef::Path(s.trim_matches('/').to_owned()),
        }
    }
}

impl From<String> for ProjectRef {
    fn from(s: String) -> Self {
        ProjectRef::from(s.as_str())
    }
}

impl From<&ProjectRef> for ProjectRef {
    fn from(r: &ProjectRef) -> Self {
        r.clone()
    }
}

/// A reference to a group (or other namespace): a numeric id or a full path. Unlike projects,
/// a top-level group's path has no `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NamespaceRef {
    Id(NamespaceId),
    Path(String),
}

impl NamespaceRef {
    /// Parses a decoded `:id`; `None` for an integer beyond the id range or an empty string.
    pub fn parse(decoded: &str) -> Option<NamespaceRef> {
        if is_integer_id(decoded) {
            return decoded
                .parse::<i64>()
                .ok()
                .map(|v| NamespaceRef::Id(NamespaceId(v)));
        }
        if decoded.is_empty() {
            return None;
        }
        Some(NamespaceRef::Path(decoded.to_owned()))
    }

    pub fn to_segment(&self) -> String {
        match self {
            NamespaceRef::Id(id) => id.to_string(),
            NamespaceRef::Path(p) => encode_segment(p),
        }
    }
}

impl fmt::Display for NamespaceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamespaceRef::Id(id) => id.fmt(f),
            NamespaceRef::Path(p) => f.write_str(p),
        }
    }
}

impl From<NamespaceId> for NamespaceRef {
    fn from(id: NamespaceId) -> Self {
        NamespaceRef::Id(id)
    }
}

impl From<i64> for NamespaceRef {
    fn from(id: i64) -> Self {
        NamespaceRef::Id(NamespaceId(id))
    }
}

/// What a person types: digits are an id, anything else a full path.
impl From<&str> for NamespaceRef {
    fn from(s: &str) -> Self {
        match s.parse::<i64>() {
            Ok(id) if is_integer_id(s) => NamespaceRef::Id(NamespaceId(id)),
            _ => NamespaceRef::Path(s.trim_matches('/').to_owned()),
        }
    }
}

impl From<String> for NamespaceRef {
    fn from(s: String) -> Self {
        NamespaceRef::from(s.as_str())
    }
}

impl From<&NamespaceRef> for NamespaceRef {
    fn from(r: &NamespaceRef) -> Self {
        r.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_paths() {
        assert_eq!(ProjectRef::parse("42"), Some(ProjectRef::Id(ProjectId(42))));
        assert_eq!(ProjectRef::parse("-3"), Some(ProjectRef::Id(ProjectId(-3))));
        assert_eq!(ProjectRef::parse("007"), Some(ProjectRef::Id(ProjectId(7))));
        assert_eq!(
            ProjectRef::parse("a/b/c"),
            Some(ProjectRef::Path("a/b/c".into()))
        );
        assert_eq!(ProjectRef::parse("plain"), None);
        assert_eq!(ProjectRef::parse(""), None);
        assert_eq!(ProjectRef::parse("99999999999999999999999"), None);
        assert_eq!(ProjectRef::parse("1.5"), None);
    }

    #[test]
    fn typed_references() {
        assert_eq!(ProjectRef::from("12"), ProjectRef::Id(ProjectId(12)));
        assert_eq!(ProjectRef::from("/a/b/"), ProjectRef::Path("a/b".into()));
        assert_eq!(ProjectRef::from("1e3"), ProjectRef::Path("1e3".into()));
        assert_eq!(
            NamespaceRef::from("acme"),
            NamespaceRef::Path("acme".into())
        );
        assert_eq!(NamespaceRef::from(5), NamespaceRef::Id(NamespaceId(5)));
    }

    #[test]
    fn encodes_segments() {
        assert_eq!(encode_segment("g/sub/p.x"), "g%2Fsub%2Fp%2Ex");
        assert_eq!(ProjectRef::Path("a/b".into()).to_segment(), "a%2Fb");
        assert_eq!(NamespaceRef::Id(NamespaceId(9)).to_segment(), "9");
    }
}
