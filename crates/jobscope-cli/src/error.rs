//! Exit codes and the CLI's error: one line on standard error, and a code a script can test.

use http::StatusCode;
use jobscope_client::Error;

/// The documented exit codes (`jobscope --help` lists them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Done.
    Success = 0,
    /// `check`: the job token may not reach the project. `sync --exit-code`: the server
    /// differs from the file.
    No = 1,
    /// Bad arguments, configuration or input file.
    Usage = 2,
    /// The server refused the credentials (401).
    Unauthenticated = 3,
    /// The credentials may not do this (403).
    Forbidden = 4,
    /// No such project, group, user or entry (404).
    NotFound = 5,
    /// The server rejected the request as it was (400, 409, 422): already there, not
    /// there, a limit reached, an invalid value.
    Rejected = 6,
    /// The server failed or could not be reached (5xx, 429 after retries, network).
    Unavailable = 7,
    /// The server does not have this operation (GitLab lacks some of jobscope's).
    Unsupported = 8,
    /// Anything else (an answer the client could not read).
    Failure = 9,
}

/// The text below `jobscope --help`'s command list: where settings come from, and the exit
/// codes.
pub const AFTER_HELP: &str = "\
The client commands (scope ... settings) work against jobscope and GitLab. They read the
server from --host, JOBSCOPE_HOST or GITLAB_HOST, the token from --token, JOBSCOPE_TOKEN or
GITLAB_TOKEN, then from ~/.config/jobscope/config.toml (keys: host, token, oauth_token,
output, ca_file, insecure, timeout; [profiles.NAME] tables picked with --profile).

Exit codes:
  0  success
  1  check: the job token is refused; sync --exit-code: the server differs from the file
  2  bad arguments, configuration or sync file
  3  the server refused the credentials (401)
  4  the credentials may not do this (403)
  5  not found (404)
  6  the server rejected the request (400, 409, 422): already there, a limit, a bad value
  7  the server failed or could not be reached (5xx, 429 after retries, network)
  8  the server does not have this operation (GitLab lacks some of jobscope's)
  9  any other failure";

/// A failure to report.
#[derive(Debug)]
pub struct CliError {
    pub code: ExitCode,
    pub message: String,
    /// What to try next, when there is something useful to say.
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(code: ExitCode, message: impl Into<String>) -> CliError {
        CliError {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(ExitCode::Usage, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// Adds what was being done to the message: "adding acme/x: 404 Project Not Found".
    pub fn context(mut self, doing: impl std::fmt::Display) -> CliError {
        self.message = format!("{doing}: {}", self.message);
        self
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        let code = match &e {
            Error::Api { status, .. } => code_for(*status),
            Error::GraphQl { .. } => ExitCode::Rejected,
            Error::Transport { .. } | Error::Pagination { .. } => ExitCode::Unavailable,
            Error::Unsupported { .. } => ExitCode::Unsupported,
            Error::Config(_) => ExitCode::Usage,
            Error::Decode { .. } => ExitCode::Failure,
            _ => ExitCode::Failure,
        };
        let hint = match &e {
            Error::Api { status, .. } if *status == StatusCode::UNAUTHORIZED => Some(
                "check the token (--token, JOBSCOPE_TOKEN or GITLAB_TOKEN): it may be \
                 mistyped, expired or revoked",
            ),
            Error::Api { status, .. } if *status == StatusCode::FORBIDDEN => Some(
                "managing a project's job token scope needs the Maintainer role in it, and \
                 a token with the api scope",
            ),
            Error::Api { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => {
                Some("the server is rate limiting; try again later")
            }
            _ => None,
        };
        CliError {
            code,
            message: e.to_string(),
            hint: hint.map(str::to_owned),
        }
    }
}

/// The exit code for an HTTP status.
pub fn code_for(status: StatusCode) -> ExitCode {
    match status.as_u16() {
        401 => ExitCode::Unauthenticated,
        403 => ExitCode::Forbidden,
        404 => ExitCode::NotFound,
        400 | 409 | 413 | 422 => ExitCode::Rejected,
        s if s >= 500 || s == 429 => ExitCode::Unavailable,
        _ => ExitCode::Failure,
    }
}

pub type CliResult<T = ExitCode> = Result<T, CliError>;
