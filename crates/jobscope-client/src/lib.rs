//! An async, typed client for GitLab's CI/CD job token scope API: the setting that limits which
//! projects' CI job tokens may reach a project, its project and group allowlists, their
//! fine-grained permissions, the authentication log and autopopulation, and jobscope's
//! decision endpoint. It works against [jobscope](https://example.invalid/jobscope) and
//! against GitLab itself (using only endpoints GitLab has: REST, and GraphQL for what GitLab's
//! REST API lacks).
//!
//! ```no_run
//! use jobscope_client::{Client, Permissions};
//!
//! # async fn run() -> jobscope_client::Result<()> {
//! let client = Client::builder("https://gitlab.example.com")
//!     .private_token(std::env::var("GITLAB_TOKEN").unwrap_or_default())
//!     .build()?;
//! let scope = client.project("acme/deployer").job_token_scope();
//! scope.projects().add("acme/builder").await?;
//! scope.groups().add_with("acme/tools", Permissions {
//!     default_permissions: Some(false),
//!     job_token_policies: Some(vec!["read_packages".into()]),
//! }).await?;
//! let now = scope.set_enabled(true).await?; // PATCH, then GET: never stale
//! assert!(now.inbound_enabled);
//! for entry in scope.entries().await? {
//!     println!("{} {} {:?}", entry.target, entry.path, entry.job_token_policies);
//! }
//! # Ok(()) }
//! ```
//!
//! Layers, from the bottom:
//! - [`transport`]: sends bytes ([`transport::HttpTransport`]; [`mock::MockTransport`] in
//!   tests);
//! - [`Client`]: URLs, credentials ([`Auth`]: access token, OAuth, job token), retries
//!   ([`RetryPolicy`]: 429 with `Retry-After`, transient 5xx with backoff), errors
//!   ([`Error`], with GitLab's status and message), paging ([`Client::paged`], following
//!   `Link` and `X-Next-Page`, never silently short);
//! - [`endpoints`]: every REST call as a value, for [`Client::query`], [`Client::ignore`] and
//!   [`Client::all`];
//! - handles: [`Client::project`] → [`ProjectHandle::job_token_scope`] → [`Scope`],
//!   [`ProjectAllowlist`], [`GroupAllowlist`]; [`Client::group`]; [`Client::ci`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod client;
pub mod endpoint;
pub mod endpoints;
pub mod entry;
pub mod error;
mod gitlab;
mod handles;
pub mod mock;
pub mod paging;
pub mod retry;
pub mod transport;

pub use auth::Auth;
pub use client::{Client, ClientBuilder, Flavor, api_base};
pub use endpoint::{Body, Endpoint, Pageable};
pub use endpoints::ci::JobOutcome;
pub use endpoints::scope::Permissions;
pub use entry::{AllowlistItem, AuthLogEntry, AutopopulateOutcome, Entry, Target, TargetRef};
pub use error::{Error, Result};
pub use handles::{
    Allowlist, AllowlistKind, Ci, Decision, GroupAllowlist, GroupHandle, Groups, Members,
    ProjectAllowlist, ProjectHandle, Projects, Scope, Tokens, Users,
};
pub use jobscope_types as types;
pub use retry::RetryPolicy;
