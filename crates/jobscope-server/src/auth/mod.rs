//! Authentication: who is calling. An extractor resolves the request's credentials to a
//! [`Caller`] (or none) and applies GitLab's token checks; authorization is a separate,
//! explicit step in [`crate::access`].

pub mod caller;
pub mod job;
pub mod scopes;
pub mod tokens;

pub use caller::{Caller, MaybeCaller};
