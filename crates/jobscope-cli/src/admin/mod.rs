//! Administration helpers: users, tokens, groups, projects, members, instance settings.

pub mod common;
pub mod groups;
pub mod members;
pub mod projects;
pub mod settings;
pub mod tokens;
pub mod users;
