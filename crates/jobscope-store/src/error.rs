//! The storage layer's error. It knows nothing of HTTP: the server decides what each case means
//! for a client.

/// Which uniqueness rule a write broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Conflict {
    Username,
    Email,
    /// A namespace or project full path is already taken.
    Path,
    /// A project name is already used in the namespace.
    ProjectName,
    /// Both the project's name and its path are taken in the namespace.
    ProjectNameAndPath,
    /// A subgroup of the same parent already has this name.
    GroupName,
    Member,
    /// The allowlist entry exists already.
    Link,
    TokenDigest,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the operation works on does not exist (or vanished concurrently).
    #[error("not found")]
    NotFound,
    #[error("conflict: {0:?} already exists")]
    Conflict(Conflict),
    /// The allowlist already holds the maximum number of entries of this kind.
    #[error("limit of entries reached")]
    LimitReached,
    /// The database cannot be reached or is busy beyond the configured wait.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be understood (a bug or a corrupted row).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;
