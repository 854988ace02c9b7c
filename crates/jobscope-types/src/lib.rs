//! Wire types shared by the jobscope server, client and CLI.
//!
//! Everything here is data: typed ids, GitLab's role and visibility enums, `:id` references,
//! and the JSON shapes of GitLab's REST API v4 as jobscope serves them. No I/O, no logic
//! beyond parsing.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod api;
pub mod ids;
pub mod policies;
pub mod reference;

pub use access::{AccessLevel, Visibility};
pub use ids::{GroupId, JobId, NamespaceId, ProjectId, TokenId, UserId};
pub use reference::{NamespaceRef, ProjectRef, encode_segment};
