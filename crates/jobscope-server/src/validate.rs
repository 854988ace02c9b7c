//! GitLab's rules for names and paths of users, groups and projects.

/// Paths that cannot be used at the top level (they are routes of the web application).
const RESERVED_TOP_LEVEL: &[&str] = &[
    "-",
    ".well-known",
    "404.html",
    "422.html",
    "500.html",
    "502.html",
    "503.html",
    "admin",
    "api",
    "apple-touch-icon.png",
    "assets",
    "dashboard",
    "deploy.html",
    "explore",
    "favicon.ico",
    "favicon.png",
    "files",
    "groups",
    "health_check",
    "help",
    "import",
    "jwt",
    "login",
    "oauth",
    "profile",
    "projects",
    "public",
    "robots.txt",
    "s",
    "search",
    "sitemap",
    "sitemap.xml",
    "snippets",
    "unsubscribes",
    "uploads",
    "users",
    "v2",
];

pub const MSG_SPECIAL_CHARS: &str = "must not start or end with a special character and must not contain consecutive special characters.";
pub const MSG_NAMESPACE_PATH: &str = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.', '.git' or '.atom'.";
pub const MSG_PROJECT_PATH: &str = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'";
pub const MSG_PROJECT_NAME: &str = "can contain only letters, digits, emojis, '_', '.', '+', dashes, or spaces. It must start with a letter, digit, emoji, or '_'.";
pub const MSG_GROUP_NAME: &str = "can contain only letters, digits, emojis, '_', '.', dash, space, parenthesis. It must start with letter, digit, emoji or '_'.";

fn is_special(c: char) -> bool {
    matches!(c, '_' | '-' | '.')
}

fn special_chars_ok(path: &str) -> bool {
    let (Some(first), Some(last)) = (path.chars().next(), path.chars().last()) else {
        return false;
    };
    if is_special(first) || is_special(last) {
        return false;
    }
    !path
        .chars()
        .zip(path.chars().skip(1))
        .any(|(a, b)| is_special(a) && is_special(b))
}

fn charset_ok(path: &str, namespace: bool) -> bool {
    if path.is_empty() || path.starts_with('-') {
        return false;
    }
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || is_special(c))
    {
        return false;
    }
    if namespace && path.ends_with('.') {
        return false;
    }
    !(path.ends_with(".git") || path.ends_with(".atom"))
}

/// Errors of a namespace (group or username) path; empty when valid. `top_level` adds the
/// reserved-name rule.
pub fn namespace_path(path: &str, top_level: bool) -> Vec<String> {
    let mut errors = Vec::new();
    if path.chars().count() < 2 {
        errors.push("is too short (minimum is 2 characters)".to_owned());
    }
    if path.chars().count() > 255 {
        errors.push("is too long (maximum is 255 characters)".to_owned());
    }
    if !special_chars_ok(path) {
        errors.push(MSG_SPECIAL_CHARS.to_owned());
    }
    if !charset_ok(path, true) {
        errors.push(MSG_NAMESPACE_PATH.to_owned());
    }
    if top_level && RESERVED_TOP_LEVEL.contains(&path.to_ascii_lowercase().as_str()) {
        errors.push(format!("{path} is a reserved name"));
    }
    errors
}

pub fn project_path(path: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if path.is_empty() {
        errors.push("can't be blank".to_owned());
        return errors;
    }
    if path.chars().count() > 255 {
        errors.push("is too long (maximum is 255 characters)".to_owned());
    }
    if !charset_ok(path, false) {
        errors.push(MSG_PROJECT_PATH.to_owned());
    }
    if !special_chars_ok(path) {
        errors.push(MSG_SPECIAL_CHARS.to_owned());
    }
    errors
}

fn name_chars_ok(name: &str, extra: &[char]) -> bool {
    let Some(first) = name.chars().next() else {
        return false;
    };
    (first.is_alphanumeric() || first == '_' || is_emoji(first))
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || is_emoji(c) || extra.contains(&c))
}

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0xFE0F | 0x200D)
}

pub fn project_name(name: &str) -> Vec<String> {
    if name.trim().is_empty() {
        return vec!["can't be blank".to_owned()];
    }
    let mut errors = Vec::new();
    if name.chars().count() > 255 {
        errors.push("is too long (maximum is 255 characters)".to_owned());
    }
    if !name_chars_ok(name, &['_', '.', '+', '-', ' ']) {
        errors.push(MSG_PROJECT_NAME.to_owned());
    }
    errors
}

pub fn group_name(name: &str) -> Vec<String> {
    if name.trim().is_empty() {
        return vec!["can't be blank".to_owned()];
    }
    let mut errors = Vec::new();
    if name.chars().count() > 255 {
        errors.push("is too long (maximum is 255 characters)".to_owned());
    }
    if !name_chars_ok(name, &['_', '.', '-', ' ', '(', ')']) {
        errors.push(MSG_GROUP_NAME.to_owned());
    }
    errors
}

/// GitLab's `parameterize`: the path made from a project name when none is given.
pub fn parameterize(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// A simple email check (GitLab's is `devise` email regexp: something@something).
pub fn email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(namespace_path("acme", true).is_empty());
        assert!(namespace_path("a.b-c_d", true).is_empty());
        assert_eq!(namespace_path("bad path", true).len(), 1);
        assert_eq!(namespace_path("-x", true).len(), 2);
        assert_eq!(
            namespace_path("a..b", true),
            vec![MSG_SPECIAL_CHARS.to_owned()]
        );
        assert_eq!(
            namespace_path("api", true),
            vec!["api is a reserved name".to_owned()]
        );
        assert!(namespace_path("api", false).is_empty());
        assert_eq!(
            namespace_path("x", true)[0],
            "is too short (minimum is 2 characters)"
        );
        assert!(project_path("p").is_empty());
        assert!(!project_path("p.git").is_empty());
    }

    #[test]
    fn names() {
        assert!(project_name("My Project+1").is_empty());
        assert!(!project_name("-x").is_empty());
        assert!(group_name("Tools (old)").is_empty());
        assert!(!group_name("a/b").is_empty());
        assert_eq!(parameterize("My  Project!"), "my-project");
        assert!(email("a@b.c"));
        assert!(!email("nope"));
    }
}
