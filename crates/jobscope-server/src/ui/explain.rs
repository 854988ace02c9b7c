//! API errors in words a person understands, with GitLab's own message kept beside them.

use axum::http::StatusCode;
use serde_json::Value;

use crate::error::ApiError;
use crate::service::scope::{MSG_INSUFFICIENT_PERMISSIONS, MSG_TARGET_PROJECT_UNAUTHORIZED};

/// What was being attempted, for the wording of a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doing {
    /// Reading a page.
    Viewing,
    /// Changing something.
    Changing,
}

/// An error as a page shows it.
#[derive(Clone, Debug)]
pub struct Explained {
    pub status: StatusCode,
    /// What happened and what to do, in plain words.
    pub headline: String,
    /// GitLab's message, exactly as the API would send it (`403 Forbidden`, …).
    pub gitlab: String,
}

/// GitLab's message of an error: the `message` (or `error`) of its JSON body.
pub fn gitlab_message(err: &ApiError) -> String {
    match err.body() {
        Value::String(s) => s.trim().to_owned(),
        Value::Object(map) => {
            if let (Some(Value::String(e)), Some(Value::String(d))) =
                (map.get("error"), map.get("error_description"))
            {
                return format!("{e}: {d}");
            }
            match map.get("message").or_else(|| map.get("error")) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Object(fields)) => fields
                    .iter()
                    .map(|(k, v)| match v {
                        Value::Array(msgs) => format!(
                            "{k} {}",
                            msgs.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        other => format!("{k} {other}"),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(Value::Array(list)) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(other) => other.to_string(),
                None => Value::Object(map).to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// Explains `err`, met while `doing` something to `project` (its full path).
pub fn explain(err: &ApiError, doing: Doing, project: &str) -> Explained {
    let headline = match err {
        ApiError::Forbidden(None) => match doing {
            Doing::Viewing => format!(
                "You can see {project}, but its job token permissions are only shown to members \
                 with the Maintainer or Owner role."
            ),
            Doing::Changing => format!(
                "Only members with the Maintainer or Owner role on {project} can change its job \
                 token permissions. Ask one of them, or an administrator, to make this change."
            ),
        },
        ApiError::Forbidden(Some(m)) if m == MSG_INSUFFICIENT_PERMISSIONS => format!(
            "Only members with the Maintainer or Owner role on {project} can change its job \
             token permissions."
        ),
        ApiError::Forbidden(Some(m)) if m == MSG_TARGET_PROJECT_UNAUTHORIZED => {
            "You can only remove projects that you are allowed to see.".to_owned()
        }
        ApiError::Forbidden(Some(_)) => "You are not allowed to do this.".to_owned(),
        ApiError::InsufficientScope(_) => match doing {
            Doing::Viewing => "The personal access token you signed in with cannot read \
                               the API: sign in with a token that has the api or read_api scope."
                .to_owned(),
            Doing::Changing => "You signed in with a read-only token (read_api scope). To \
                                make changes, sign out and sign in with a token that has the \
                                api scope."
                .to_owned(),
        },
        ApiError::NotFound(what)
            if what == "target_project_id not found" || what == "target_group_id not found" =>
        {
            "There is no group or project at that path, or you are not allowed to see it. \
             Check the spelling: paths look like my-group/my-project."
                .to_owned()
        }
        ApiError::NotFound(_) | ApiError::RecordNotFound | ApiError::RouteNotFound => {
            "Not found: it does not exist, or you are not allowed to see it.".to_owned()
        }
        ApiError::BadRequest(Some(m)) => bad_request(m),
        ApiError::BadRequest(None) | ApiError::Validation(_) => {
            "The request was refused: check the form and try again.".to_owned()
        }
        ApiError::Params(_) => "Some fields are missing or not valid.".to_owned(),
        ApiError::Message(status, _) if *status == StatusCode::CONFLICT => {
            "Someone else changed this at the same moment: reload the page and try again."
                .to_owned()
        }
        ApiError::Message(..) | ApiError::ErrorList(..) => "The request was refused.".to_owned(),
        ApiError::Unauthorized | ApiError::InvalidToken(_) => {
            "Your sign-in is no longer valid: sign in again.".to_owned()
        }
        ApiError::AddressBanned => {
            "Too many failed sign-in attempts came from your address: try again later.".to_owned()
        }
        ApiError::RateLimited(_) => {
            "Too many requests in a short time: wait a moment and try again.".to_owned()
        }
        ApiError::PayloadTooLarge => "The form sent too much data.".to_owned(),
        ApiError::Overloaded | ApiError::Unavailable(_) => {
            "The server is busy or cannot reach its database: try again in a moment.".to_owned()
        }
        ApiError::Internal(_) => "Something went wrong on the server. Try again; if it keeps \
                                  happening, tell your administrator."
            .to_owned(),
    };
    Explained {
        status: err.status(),
        headline,
        gitlab: gitlab_message(err),
    }
}

fn bad_request(message: &str) -> String {
    match message {
        "This project is already in the job token allowlist." => {
            "That project is already in the allowlist.".to_owned()
        }
        "This group is already in the job token allowlist." => {
            "That group is already in the allowlist.".to_owned()
        }
        "Validation failed: Target project can't be the same as the source project" => {
            "A project can always use its own job tokens: it does not need to be in its own \
             allowlist."
                .to_owned()
        }
        m if m.starts_with("Validation failed: Source project exceeds the allowable number") => {
            "The allowlist is full: GitLab allows 200 projects and 200 groups. Remove entries \
             you no longer need, or add a group that covers several projects."
                .to_owned()
        }
        "Target project is not in the job token scope" => {
            "That project is not in the allowlist (anymore): someone may have removed it already."
                .to_owned()
        }
        "Target group is not in the job token scope" => {
            "That group is not in the allowlist (anymore): someone may have removed it already."
                .to_owned()
        }
        "Source project cannot be removed from the job token scope" => {
            "A project cannot be removed from its own allowlist.".to_owned()
        }
        "CompactionLimitCannotBeAchievedError" => {
            "The authentication log names too many projects to fit into the allowlist, even \
             when grouped."
                .to_owned()
        }
        m if m.contains("changed while it was being autopopulated") => {
            "The allowlist changed while it was being filled: try again.".to_owned()
        }
        _ => "The request was refused.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_developer_changing_the_scope() {
        let e = explain(&ApiError::Forbidden(None), Doing::Changing, "acme/app");
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.gitlab, "403 Forbidden");
        assert!(e.headline.contains("Maintainer"), "{}", e.headline);
    }

    #[test]
    fn gitlab_messages_of_each_shape() {
        assert_eq!(
            gitlab_message(&ApiError::InsufficientScope("api read_api".into())),
            "insufficient_scope: The request requires higher privileges than provided by the access token."
        );
        assert_eq!(
            gitlab_message(&ApiError::not_found("target_project_id not found")),
            "404 target_project_id not found Not Found"
        );
        assert_eq!(
            gitlab_message(&ApiError::param("enabled is missing")),
            "enabled is missing"
        );
        assert_eq!(
            gitlab_message(&ApiError::validation("name", "is taken")),
            "name is taken"
        );
        assert_eq!(
            gitlab_message(&ApiError::bad_request(
                "This project is already in the job token allowlist."
            )),
            "400 Bad request - This project is already in the job token allowlist."
        );
    }
}
