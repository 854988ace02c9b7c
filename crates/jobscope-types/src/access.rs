//! GitLab's role ladder and visibility levels.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A member's role, with GitLab's numeric values. Ordered: a higher level includes every lower one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    Guest,
    Planner,
    Reporter,
    Developer,
    Maintainer,
    Owner,
}

impl AccessLevel {
    /// Every level a member may be given, lowest first.
    pub const ALL: [AccessLevel; 6] = [
        AccessLevel::Guest,
        AccessLevel::Planner,
        AccessLevel::Reporter,
        AccessLevel::Developer,
        AccessLevel::Maintainer,
        AccessLevel::Owner,
    ];

    pub const fn value(self) -> i64 {
        match self {
            AccessLevel::Guest => 10,
            AccessLevel::Planner => 15,
            AccessLevel::Reporter => 20,
            AccessLevel::Developer => 30,
            AccessLevel::Maintainer => 40,
            AccessLevel::Owner => 50,
        }
    }

    pub const fn from_value(v: i64) -> Option<Self> {
        match v {
            10 => Some(AccessLevel::Guest),
            15 => Some(AccessLevel::Planner),
            20 => Some(AccessLevel::Reporter),
            30 => Some(AccessLevel::Developer),
            40 => Some(AccessLevel::Maintainer),
            50 => Some(AccessLevel::Owner),
            _ => None,
        }
    }

    /// The role's name as GitLab's UI writes it.
    pub const fn name(self) -> &'static str {
        match self {
            AccessLevel::Guest => "Guest",
            AccessLevel::Planner => "Planner",
            AccessLevel::Reporter => "Reporter",
            AccessLevel::Developer => "Developer",
            AccessLevel::Maintainer => "Maintainer",
            AccessLevel::Owner => "Owner",
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for AccessLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.value())
    }
}

impl<'de> Deserialize<'de> for AccessLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        AccessLevel::from_value(v)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown access level {v}")))
    }
}

/// Project and group visibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Private,
    Internal,
    Public,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [
        Visibility::Private,
        Visibility::Internal,
        Visibility::Public,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }

    /// GitLab's numeric `visibility_level` (0, 10, 20).
    pub const fn level(self) -> i64 {
        match self {
            Visibility::Private => 0,
            Visibility::Internal => 10,
            Visibility::Public => 20,
        }
    }

    /// Accepts the names and, as GitLab does, the numeric levels.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "private" | "0" => Some(Visibility::Private),
            "internal" | "10" => Some(Visibility::Internal),
            "public" | "20" => Some(Visibility::Public),
            _ => None,
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
