//! `jobscope serve` configuration: flags, each with an environment variable.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use url::Url;

use crate::limits::{LimitArgs, LimitsConfig};
use crate::listen::ListenArgs;
use crate::monitoring::IpAllowlist;

/// Default size limit of request bodies (GitLab's API bodies for these endpoints are tiny).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Options of `jobscope serve`.
#[derive(Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "JOBSCOPE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Where data is kept: `sqlite://PATH` (created with its schema on first start) or a
    /// plain file path.
    #[arg(
        long = "database",
        env = "JOBSCOPE_DATABASE_URL",
        default_value = "sqlite://jobscope.sqlite3",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Public base URL (for example `https://gitlab.example.com`) used in `web_url` fields and
    /// `Link` headers. Without it, URLs are built from each request's `Host` header.
    #[arg(long, env = "JOBSCOPE_EXTERNAL_URL")]
    pub external_url: Option<Url>,

    /// Personal access token (`glpat-…`) given to the administrator `root` when the instance is
    /// created, instead of a random one. When root exists already, it is added as one of
    /// root's tokens if it is not known yet.
    #[arg(long, env = "JOBSCOPE_ROOT_TOKEN", hide_env_values = true)]
    pub root_token: Option<String>,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "JOBSCOPE_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Log line format.
    #[arg(long, env = "JOBSCOPE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Write the chosen address to this file once listening (useful with `--listen 127.0.0.1:0`).
    #[arg(long, env = "JOBSCOPE_PORT_FILE")]
    pub port_file: Option<PathBuf>,

    /// Answer authentication and job token checks from memory once read (no database round
    /// trip in steady state). This server's own changes apply to the very next request; other
    /// servers' changes on a shared database are announced by the database and apply within a
    /// few milliseconds (docs/operations.md). Without it every request reads the database, so
    /// changes made through any server apply to the very next request anywhere.
    #[arg(long, env = "JOBSCOPE_CACHE", value_name = "BOOL", num_args = 0..=1,
          default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub cache: bool,

    #[command(flatten)]
    pub limits: LimitArgs,
    /// Addresses (comma-separated IPs or CIDR blocks) that may read `/-/health`,
    /// `/-/readiness`, `/-/liveness` and `/-/metrics`; others get 404. Empty: nobody.
    #[arg(long, env = "JOBSCOPE_MONITORING_ALLOWLIST", value_name = "CIDRS",
          default_value = crate::monitoring::DEFAULT_MONITORING_ALLOWLIST)]
    pub monitoring_allowlist: IpAllowlist,

    /// TLS and connection limits.
    #[command(flatten)]
    pub listener: ListenArgs,
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("external_url", &self.external_url.as_ref().map(Url::as_str))
            .field(
                "root_token",
                &self.root_token.as_ref().map(|_| "<redacted>"),
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .field("log_format", &self.log_format)
            .field("cache", &self.cache)
            .field("limits", &self.limits)
            .field(
                "monitoring_allowlist",
                &self.monitoring_allowlist.to_string(),
            )
            .field("listener", &self.listener)
            .finish()
    }
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// What request handling needs of the configuration.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub external_url: Option<Url>,
    pub max_body_bytes: usize,
    /// Put the read cache in front of the store (`--cache`; see [`crate::cache`]).
    pub cache: bool,
    /// Abuse limits (`crate::limits`); all off by default.
    pub limits: LimitsConfig,
    /// Who may read the monitoring endpoints (see [`crate::monitoring`]).
    pub monitoring_allowlist: IpAllowlist,
    /// The web UI's sessions (see [`crate::ui`]).
    pub ui: UiConfig,
}

/// How the web UI's sessions behave.
#[derive(Clone, Debug)]
pub struct UiConfig {
    /// A session not used for this long ends.
    pub session_idle: std::time::Duration,
    /// A session ends this long after sign-in, however active it is.
    pub session_lifetime: std::time::Duration,
    /// Cookies carry `Secure` and the `__Host-` prefix: set when the server serves TLS or its
    /// `--external-url` is `https`.
    pub secure_cookies: bool,
}

/// GitLab's idle session timeout is a week and its sessions last as long; a settings page
/// needs far less: two hours idle, twelve at most.
pub const DEFAULT_SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(2 * 3600);
pub const DEFAULT_SESSION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            session_idle: DEFAULT_SESSION_IDLE,
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            secure_cookies: false,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            external_url: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            cache: false,
            limits: LimitsConfig::default(),
            monitoring_allowlist: IpAllowlist::default(),
            ui: UiConfig::default(),
        }
    }
}

impl From<&ServeArgs> for ServerConfig {
    fn from(a: &ServeArgs) -> Self {
        ServerConfig {
            external_url: a.external_url.clone(),
            max_body_bytes: a.max_body_bytes,
            cache: a.cache,
            limits: LimitsConfig::from(&a.limits),
            monitoring_allowlist: a.monitoring_allowlist.clone(),
            ui: UiConfig {
                secure_cookies: a.listener.tls_cert.is_some()
                    || a.external_url
                        .as_ref()
                        .is_some_and(|u| u.scheme() == "https"),
                ..UiConfig::default()
            },
        }
    }
}
