//! Typed ids. Every GitLab object id is a positive 64-bit integer on the wire; wrapping each kind
//! in its own type keeps a project id from being passed where a group id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw integer, as stored and as sent on the wire.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }
    };
}

id_type!(
    /// A user (`users.id`).
    UserId
);
id_type!(
    /// A namespace: a group or a user's personal namespace. Group ids are namespace ids.
    NamespaceId
);
id_type!(
    /// A project.
    ProjectId
);
id_type!(
    /// A personal access token.
    TokenId
);
id_type!(
    /// A CI job (issue-3 enforcement).
    JobId
);

/// Group ids are namespace ids of kind `group`; the alias documents intent at call sites.
pub type GroupId = NamespaceId;
