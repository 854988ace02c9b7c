//! What the administration commands share: parsing roles and dates, hints for refusals, and
//! printing one object as aligned `field  value` lines.

use chrono::NaiveDate;
use http::StatusCode;
use jobscope_client::types::api::User;
use jobscope_client::types::{AccessLevel, Visibility};

use crate::error::CliError;
use crate::output::{Io, Table};

/// `--role`: a role's name (any case) or its number.
pub fn parse_role(s: &str) -> Result<AccessLevel, String> {
    let t = s.trim();
    let found = match t.parse::<i64>() {
        Ok(v) => AccessLevel::from_value(v),
        Err(_) => AccessLevel::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(t)),
    };
    found.ok_or_else(|| {
        format!(
            "unknown role {t:?}: expected guest, planner, reporter, developer, maintainer, owner \
             or their numbers 10, 15, 20, 30, 40, 50"
        )
    })
}

/// `--expires-at`: a calendar date.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date: expected YYYY-MM-DD, for example 2026-12-31"))
}

/// `--visibility`: private, internal or public (or GitLab's 0, 10, 20).
pub fn parse_visibility(s: &str) -> Result<Visibility, String> {
    Visibility::parse(s)
        .ok_or_else(|| format!("unknown visibility {s:?}: expected private, internal or public"))
}

/// A role as people read it: `Developer (30)`.
pub fn role(level: i64) -> String {
    match AccessLevel::from_value(level) {
        Some(l) => format!("{} ({level})", l.name()),
        None => level.to_string(),
    }
}

/// `alice (2)`.
pub fn who(user: &User) -> String {
    format!("{} ({})", user.username, user.id)
}

/// An optional date, or an empty cell.
pub fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Turns a client error into the CLI's. A 403 gets a hint of its own instead of the generic
/// one (which speaks of job token scopes): what the token lacks when its scopes were too
/// narrow, `hint` when the server gave no reason, none when it did (its reason is better).
pub fn forbidden_hint(e: jobscope_client::Error, hint: &str) -> CliError {
    let jobscope_client::Error::Api {
        status,
        message,
        body,
        ..
    } = &e
    else {
        return e.into();
    };
    if *status != StatusCode::FORBIDDEN {
        return e.into();
    }
    let scope_error = body
        .as_deref()
        .and_then(|b| b.error.as_ref())
        .and_then(|v| v.as_str())
        == Some("insufficient_scope");
    // GitLab's `scope` field lists every scope registered for the route, read_api
    // included, so it does not say what this request needed.
    let own = if scope_error {
        Some(
            "the token's scopes do not allow this: use one with the api scope (read_api only reads)"
                .to_owned(),
        )
    } else if is_bare_forbidden(message) {
        Some(hint.to_owned())
    } else {
        None
    };
    let mut err = CliError::from(e);
    err.hint = own;
    err
}

/// A 403 message that gives no reason (`403 Forbidden`).
fn is_bare_forbidden(message: &str) -> bool {
    let rest = message.trim().trim_start_matches("403").trim();
    rest.is_empty() || rest.eq_ignore_ascii_case("forbidden")
}

/// The hint for operations only administrators may do.
pub const ADMIN_ONLY: &str = "this needs an administrator's token (with the api scope)";

/// `?` with a hint for 403 answers.
pub trait HintExt<T> {
    /// An administrator-only operation.
    fn admin(self) -> Result<T, CliError>;
    /// Another operation, with its own hint.
    fn hint_403(self, hint: &str) -> Result<T, CliError>;
}

impl<T> HintExt<T> for Result<T, jobscope_client::Error> {
    fn admin(self) -> Result<T, CliError> {
        self.map_err(|e| forbidden_hint(e, ADMIN_ONLY))
    }

    fn hint_403(self, hint: &str) -> Result<T, CliError> {
        self.map_err(|e| forbidden_hint(e, hint))
    }
}

/// One object as `field  value` lines, the fields aligned (empty values are left out).
pub fn print_fields(io: &mut Io<'_>, fields: Vec<(&str, String)>) {
    let mut t = Table::new(&["", ""]);
    for (name, value) in fields {
        if !value.is_empty() {
            t.row(vec![name.to_owned(), value]);
        }
    }
    let text = t.render();
    for line in text.lines().skip(1) {
        io.line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_name_or_number() {
        assert_eq!(parse_role("Developer"), Ok(AccessLevel::Developer));
        assert_eq!(parse_role("MAINTAINER"), Ok(AccessLevel::Maintainer));
        assert_eq!(parse_role(" planner "), Ok(AccessLevel::Planner));
        assert_eq!(parse_role("50"), Ok(AccessLevel::Owner));
        assert_eq!(parse_role("15"), Ok(AccessLevel::Planner));
        assert!(
            parse_role("25")
                .unwrap_err()
                .contains("unknown role \"25\"")
        );
        assert!(parse_role("boss").unwrap_err().contains("maintainer"));
        assert_eq!(role(30), "Developer (30)");
        assert_eq!(role(7), "7");
    }

    #[test]
    fn bare_forbidden() {
        assert!(is_bare_forbidden("403 Forbidden"));
        assert!(is_bare_forbidden("Forbidden"));
        assert!(is_bare_forbidden(""));
        assert!(!is_bare_forbidden(
            "403 Forbidden - The API initiating user cannot be blocked by the API"
        ));
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2026-12-31"),
            Ok(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
        );
        assert!(parse_date("31/12/2026").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("2026-02-30").is_err());
    }
}
