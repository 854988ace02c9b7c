//! Inputs to list operations: filters, visibility scopes and offset pages.

use jobscope_types::{AccessLevel, NamespaceId, UserId, Visibility};

use crate::records::UserState;

/// One page of an offset-paginated list (GitLab's `page` / `per_page`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based.
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    pub const fn new(page: u64, per_page: u64) -> Self {
        PageRequest { page, per_page }
    }

    /// Rows to skip; saturates rather than overflowing for absurd page numbers.
    pub fn offset(&self) -> u64 {
        self.page.saturating_sub(1).saturating_mul(self.per_page)
    }

    /// Everything, for internal callers.
    pub const fn all() -> Self {
        PageRequest {
            page: 1,
            per_page: i64::MAX as u64,
        }
    }
}

/// A page of results and the size of the whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

/// Whose eyes a list is filtered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Sees everything.
    Admin,
    /// Sees public objects only.
    Anonymous,
    /// Sees public objects, internal ones unless external, and what the user is a member of.
    User { id: UserId, external: bool },
}

#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Exact username, case-insensitive.
    pub username: Option<String>,
    /// Substring of username, name or email.
    pub search: Option<String>,
    pub state: Option<UserState>,
    pub external: Option<bool>,
    pub admins: Option<bool>,
}

/// Sort orders GitLab offers for project lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProjectOrder {
    Id,
    Name,
    Path,
    #[default]
    CreatedAt,
    LastActivityAt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    Asc,
    #[default]
    Desc,
}

#[derive(Clone, Debug)]
pub struct ProjectQuery {
    pub viewer: Viewer,
    /// Substring of name or path, case-insensitive.
    pub search: Option<String>,
    pub visibility: Option<Visibility>,
    /// Only projects where this user's (inherited) role is at least the level.
    pub min_access: Option<(UserId, AccessLevel)>,
    /// Only projects in this namespace; with `true`, also in its descendants.
    pub namespace: Option<(NamespaceId, bool)>,
    pub order_by: ProjectOrder,
    pub sort: SortDirection,
}

impl ProjectQuery {
    pub fn new(viewer: Viewer) -> Self {
        ProjectQuery {
            viewer,
            search: None,
            visibility: None,
            min_access: None,
            namespace: None,
            order_by: ProjectOrder::default(),
            sort: SortDirection::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GroupOrder {
    #[default]
    Name,
    Path,
    Id,
}

#[derive(Clone, Debug)]
pub struct GroupQuery {
    pub viewer: Viewer,
    pub search: Option<String>,
    /// Only groups where this user's inherited role is at least the level.
    pub min_access: Option<(UserId, AccessLevel)>,
    /// Only direct children of this group.
    pub parent: Option<NamespaceId>,
    /// Only strict descendants of this group.
    pub descendants_of: Option<NamespaceId>,
    pub top_level_only: bool,
    pub visibility: Option<Visibility>,
    pub order_by: GroupOrder,
    pub sort: SortDirection,
}

impl GroupQuery {
    pub fn new(viewer: Viewer) -> Self {
        GroupQuery {
            viewer,
            search: None,
            min_access: None,
            parent: None,
            descendants_of: None,
            top_level_only: false,
            visibility: None,
            order_by: GroupOrder::default(),
            sort: SortDirection::Asc,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct MemberQuery {
    /// Substring of username or name.
    pub query: Option<String>,
    pub user_ids: Option<Vec<UserId>>,
}

#[derive(Clone, Debug, Default)]
pub struct TokenQuery {
    pub user_id: Option<UserId>,
    /// `Some(true)`: active only; `Some(false)`: inactive (revoked or expired) only.
    pub active: Option<(bool, chrono::NaiveDate)>,
    pub revoked: Option<bool>,
    pub search: Option<String>,
}

/// Which audit events to list.
#[derive(Clone, Debug)]
pub struct AuditQuery {
    pub entity_type: String,
    pub entity_id: i64,
    pub created_after: Option<chrono::DateTime<chrono::Utc>>,
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
    pub author_id: Option<UserId>,
    pub id: Option<i64>,
}
