//! Where the CLI gets its server, credentials and output format: flags, then the environment,
//! then the configuration file.
//!
//! | setting | flag | environment | file key |
//! |---|---|---|---|
//! | server | `--host` | `JOBSCOPE_HOST`, then `GITLAB_HOST` (as glab reads it) | `host` |
//! | access token | `--token` | `JOBSCOPE_TOKEN`, then `GITLAB_TOKEN` | `token` |
//! | OAuth token | `--oauth-token` | `JOBSCOPE_OAUTH_TOKEN` | `oauth_token` |
//! | job token | `--job-token` | `JOBSCOPE_JOB_TOKEN`, then `CI_JOB_TOKEN` (only for `check`) | |
//! | output | `--output` | `JOBSCOPE_OUTPUT` | `output` |
//! | CA file | `--ca-file` | `JOBSCOPE_CA_FILE` | `ca_file` |
//! | insecure | `--insecure` | | `insecure` |
//! | timeout (s) | `--timeout` | `JOBSCOPE_TIMEOUT` | `timeout` |
//!
//! The file is TOML, `$XDG_CONFIG_HOME/jobscope/config.toml` (`~/.config/jobscope/config.toml`)
//! unless `--config` or `JOBSCOPE_CONFIG` names another. Its top-level keys are the defaults;
//! `[profiles.NAME]` tables override them when `--profile NAME` (or `JOBSCOPE_PROFILE`) picks
//! one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use jobscope_client::{Auth, Client, RetryPolicy};
use serde::Deserialize;

use crate::error::CliError;
use crate::output::OutputFormat;

/// Reads environment variables; tests pass a map instead of the process environment.
pub trait Env: Send + Sync {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct SystemEnv;

impl Env for SystemEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// How to reach the server. Every client command takes these, before or after its own
/// arguments.
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnArgs {
    /// The jobscope or GitLab server, e.g. https://gitlab.example.com or
    /// http://127.0.0.1:8080 (https when no scheme is given)
    /// [env: JOBSCOPE_HOST, GITLAB_HOST]
    #[arg(long, global = true, value_name = "URL")]
    pub host: Option<String>,

    /// A personal, project or group access token, sent as PRIVATE-TOKEN. Prefer the
    /// environment or the config file: other users can see command lines
    /// [env: JOBSCOPE_TOKEN, GITLAB_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// An OAuth 2 access token, sent as Authorization: Bearer [env: JOBSCOPE_OAUTH_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN")]
    pub oauth_token: Option<String>,

    /// A CI/CD job token, sent as JOB-TOKEN (for `check`)
    /// [env: JOBSCOPE_JOB_TOKEN, CI_JOB_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN")]
    pub job_token: Option<String>,

    /// The configuration file [default: ~/.config/jobscope/config.toml]
    /// [env: JOBSCOPE_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A [profiles.NAME] table of the configuration file to use [env: JOBSCOPE_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Tables for people or JSON for scripts [env: JOBSCOPE_OUTPUT] [default: table]
    #[arg(long, short = 'o', global = true, value_enum)]
    pub output: Option<OutputFormat>,

    /// Also trust the certificates in this PEM file (a private CA) [env: JOBSCOPE_CA_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Do not verify the server's TLS certificate (throwaway test servers only)
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Seconds one request may take [env: JOBSCOPE_TIMEOUT] [default: 30]
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

/// The configuration file's contents (every key optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub host: Option<String>,
    pub token: Option<String>,
    pub oauth_token: Option<String>,
    pub output: Option<OutputFormat>,
    pub ca_file: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub timeout: Option<u64>,
    #[serde(default)]
    pub profiles: HashMap<String, FileConfig>,
}

impl FileConfig {
    /// The values of `profile` over the defaults.
    fn with_profile(mut self, profile: &str) -> Result<FileConfig, CliError> {
        let Some(p) = self.profiles.remove(profile) else {
            let mut known: Vec<&String> = self.profiles.keys().collect();
            known.sort();
            return Err(CliError::usage(format!(
                "the configuration file has no profile {profile:?} (it has: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        };
        Ok(FileConfig {
            host: p.host.or(self.host),
            token: p.token.or(self.token),
            oauth_token: p.oauth_token.or(self.oauth_token),
            output: p.output.or(self.output),
            ca_file: p.ca_file.or(self.ca_file),
            insecure: p.insecure.or(self.insecure),
            timeout: p.timeout.or(self.timeout),
            profiles: HashMap::new(),
        })
    }
}

/// Which credentials a command needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// An access or OAuth token (managing scopes, administration).
    User,
    /// A job token (the decision endpoint).
    Job,
}

/// Everything resolved: a client and how to print.
pub struct Context {
    pub client: Client,
    pub output: OutputFormat,
    /// Where the settings came from, for `--verbose`-style diagnostics and errors.
    pub host: String,
}

fn default_config_path(env: &dyn Env) -> Option<PathBuf> {
    if let Some(dir) = env.var("XDG_CONFIG_HOME") {
        return Some(Path::new(&dir).join("jobscope").join("config.toml"));
    }
    env.var("HOME").map(|home| {
        Path::new(&home)
            .join(".config")
            .join("jobscope")
            .join("config.toml")
    })
}

/// Reads the configuration file: a named file must exist; the default one may not.
fn read_file(args: &ConnArgs, env: &dyn Env) -> Result<FileConfig, CliError> {
    let (path, named) = match args
        .config
        .clone()
        .or_else(|| env.var("JOBSCOPE_CONFIG").map(PathBuf::from))
    {
        Some(p) => (p, true),
        None => match default_config_path(env) {
            Some(p) => (p, false),
            None => return Ok(FileConfig::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
            return Ok(FileConfig::default());
        }
        Err(e) => {
            return Err(CliError::usage(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )));
        }
    };
    let config: FileConfig = toml::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "the configuration file {} is not valid: {e}",
            path.display()
        ))
    })?;
    let profile = args.profile.clone().or_else(|| env.var("JOBSCOPE_PROFILE"));
    match profile {
        Some(p) => config.with_profile(&p),
        None => Ok(config),
    }
}

impl ConnArgs {
    /// The output format alone (commands that print without a server need only this).
    pub fn output_format(&self, env: &dyn Env) -> Result<OutputFormat, CliError> {
        if let Some(o) = self.output {
            return Ok(o);
        }
        if let Some(o) = env.var("JOBSCOPE_OUTPUT") {
            return OutputFormat::parse(&o).ok_or_else(|| {
                CliError::usage(format!("JOBSCOPE_OUTPUT={o:?}: expected table or json"))
            });
        }
        Ok(read_file(self, env)?.output.unwrap_or_default())
    }

    /// Resolves every setting and builds the client.
    pub fn context(&self, env: &dyn Env, credentials: Credentials) -> Result<Context, CliError> {
        let file = read_file(self, env)?;
        let output = match self.output {
            Some(o) => o,
            None => match env.var("JOBSCOPE_OUTPUT") {
                Some(o) => OutputFormat::parse(&o).ok_or_else(|| {
                    CliError::usage(format!("JOBSCOPE_OUTPUT={o:?}: expected table or json"))
                })?,
                None => file.output.unwrap_or_default(),
            },
        };
        let host = self
            .host
            .clone()
            .or_else(|| env.var("JOBSCOPE_HOST"))
            .or_else(|| env.var("GITLAB_HOST"))
            .or(file.host.clone())
            .ok_or_else(|| {
                CliError::usage(
                    "no server given: pass --host URL, set JOBSCOPE_HOST (or GITLAB_HOST), \
                     or write `host = \"https://…\"` in ~/.config/jobscope/config.toml",
                )
            })?;
        let auth = match credentials {
            Credentials::Job => {
                let token = self
                    .job_token
                    .clone()
                    .or_else(|| env.var("JOBSCOPE_JOB_TOKEN"))
                    .or_else(|| env.var("CI_JOB_TOKEN"))
                    .ok_or_else(|| {
                        CliError::usage(
                            "no job token given: pass --job-token, or set JOBSCOPE_JOB_TOKEN \
                             (inside a CI job, CI_JOB_TOKEN is used)",
                        )
                    })?;
                Auth::job_token(token)
            }
            Credentials::User => {
                if let Some(t) = &self.token {
                    Auth::private_token(t.clone())
                } else if let Some(t) = &self.oauth_token {
                    Auth::oauth(t.clone())
                } else if let Some(t) = env
                    .var("JOBSCOPE_TOKEN")
                    .or_else(|| env.var("GITLAB_TOKEN"))
                {
                    Auth::private_token(t)
                } else if let Some(t) = env.var("JOBSCOPE_OAUTH_TOKEN") {
                    Auth::oauth(t)
                } else if let Some(t) = file.token.clone() {
                    Auth::private_token(t)
                } else if let Some(t) = file.oauth_token.clone() {
                    Auth::oauth(t)
                } else {
                    return Err(CliError::usage(
                        "no token given: pass --token, set JOBSCOPE_TOKEN (or GITLAB_TOKEN), \
                         or write `token = \"glpat-…\"` in ~/.config/jobscope/config.toml",
                    ));
                }
            }
        };
        let timeout = match self.timeout {
            Some(t) => t,
            None => match env.var("JOBSCOPE_TIMEOUT") {
                Some(v) => v.parse().map_err(|_| {
                    CliError::usage(format!("JOBSCOPE_TIMEOUT={v:?}: expected seconds"))
                })?,
                None => file.timeout.unwrap_or(30),
            },
        };
        let ca_file = self
            .ca_file
            .clone()
            .or_else(|| env.var("JOBSCOPE_CA_FILE").map(PathBuf::from))
            .or(file.ca_file.clone());
        let mut builder = Client::builder(host.clone())
            .auth(auth)
            .timeout(Duration::from_secs(timeout.max(1)))
            .retry(RetryPolicy::default())
            .danger_accept_invalid_certs(self.insecure || file.insecure.unwrap_or(false));
        if let Some(path) = ca_file {
            let pem = std::fs::read(&path).map_err(|e| {
                CliError::usage(format!("cannot read the CA file {}: {e}", path.display()))
            })?;
            builder = builder.ca_certificates(pem);
        }
        let client = builder.build().map_err(CliError::from)?;
        Ok(Context {
            client,
            output,
            host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "host = \"https://file.example\"\ntoken = \"glpat-file\"\noutput = \"json\"\n\
             [profiles.staging]\nhost = \"https://staging.example\"\n",
        )
        .unwrap();
        let cfg = file.display().to_string();
        let base = ConnArgs::default();
        // File only.
        let ctx = base
            .context(&env(&[("JOBSCOPE_CONFIG", &cfg)]), Credentials::User)
            .unwrap();
        assert_eq!(ctx.host, "https://file.example");
        assert_eq!(ctx.output, OutputFormat::Json);
        // glab's variables beat the file; jobscope's beat glab's.
        let e = env(&[
            ("JOBSCOPE_CONFIG", &cfg),
            ("GITLAB_HOST", "gitlab.example.com"),
        ]);
        assert_eq!(
            base.context(&e, Credentials::User).unwrap().host,
            "gitlab.example.com"
        );
        let e = env(&[
            ("JOBSCOPE_CONFIG", &cfg),
            ("GITLAB_HOST", "gitlab.example.com"),
            ("JOBSCOPE_HOST", "http://127.0.0.1:1"),
        ]);
        assert_eq!(
            base.context(&e, Credentials::User).unwrap().host,
            "http://127.0.0.1:1"
        );
        // Flags beat everything.
        let flags = ConnArgs {
            host: Some("http://flag.example".into()),
            output: Some(OutputFormat::Table),
            ..ConnArgs::default()
        };
        let ctx = flags.context(&e, Credentials::User).unwrap();
        assert_eq!(ctx.host, "http://flag.example");
        assert_eq!(ctx.output, OutputFormat::Table);
        // A profile overrides the defaults.
        let staging = ConnArgs {
            profile: Some("staging".into()),
            ..ConnArgs::default()
        };
        let ctx = staging
            .context(&env(&[("JOBSCOPE_CONFIG", &cfg)]), Credentials::User)
            .unwrap();
        assert_eq!(ctx.host, "https://staging.example");
        let missing = ConnArgs {
            profile: Some("prod".into()),
            ..ConnArgs::default()
        };
        let err = missing
            .context(&env(&[("JOBSCOPE_CONFIG", &cfg)]), Credentials::User)
            .err()
            .unwrap();
        assert!(
            err.message
                .contains("no profile \"prod\" (it has: staging)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_settings_say_how_to_give_them() {
        let err = ConnArgs::default()
            .context(&env(&[]), Credentials::User)
            .err()
            .unwrap();
        assert!(err.message.contains("--host"), "{}", err.message);
        assert_eq!(err.code, crate::error::ExitCode::Usage);
        let err = ConnArgs::default()
            .context(&env(&[("GITLAB_HOST", "h")]), Credentials::User)
            .err()
            .unwrap();
        assert!(err.message.contains("GITLAB_TOKEN"), "{}", err.message);
        let err = ConnArgs::default()
            .context(&env(&[("GITLAB_HOST", "h")]), Credentials::Job)
            .err()
            .unwrap();
        assert!(err.message.contains("CI_JOB_TOKEN"), "{}", err.message);
        assert!(
            ConnArgs::default()
                .context(
                    &env(&[("GITLAB_HOST", "h"), ("CI_JOB_TOKEN", "glcbt-1")]),
                    Credentials::Job
                )
                .is_ok()
        );
        // A named file must exist, and must be valid.
        let err = ConnArgs::default()
            .context(
                &env(&[("JOBSCOPE_CONFIG", "/nonexistent/x.toml")]),
                Credentials::User,
            )
            .err()
            .unwrap();
        assert!(err.message.contains("cannot read"), "{}", err.message);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "hots = \"typo\"\n").unwrap();
        let err = ConnArgs::default()
            .context(
                &env(&[("JOBSCOPE_CONFIG", &file.display().to_string())]),
                Credentials::User,
            )
            .err()
            .unwrap();
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }
}
