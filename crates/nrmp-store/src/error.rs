//! Storage errors: what went wrong, in terms the service and CLI layers can map to a status.

use nrmp_domain::ValidationErrors;

/// Everything a [`crate::Store`] call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL's scheme names no backend this build has.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://HOST/DB")]
    UnknownScheme(String),
    /// No record of that kind with that id.
    #[error("no {kind} with id {id}")]
    NotFound {
        /// Record kind.
        kind: &'static str,
        /// The id looked for.
        id: String,
    },
    /// The change conflicts with what is stored (duplicate id, stale version).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record breaks a domain rule (e.g. overlapping incidents) or references something
    /// that does not exist.
    #[error("invalid: {0}")]
    Invalid(#[from] ValidationErrors),
    /// Stored data could not be decoded (a bug or a damaged database).
    #[error("stored {kind} {id} cannot be read: {source}")]
    Corrupt {
        /// Record kind.
        kind: &'static str,
        /// Record id.
        id: String,
        /// Decoding error.
        source: serde_json::Error,
    },
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True if the database could not be reached (a pool time-out, a closed pool, a broken
    /// connection, or PostgreSQL saying the connection failed or the server is shutting
    /// down: SQLSTATE classes 08 and 57P, and 53300 too many connections): worth retrying
    /// later, unlike every other error.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => true,
            StoreError::Database(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
            _ => false,
        }
    }

    /// A stored value that cannot be read back (`what` says which and why).
    pub(crate) fn corrupt_value(what: impl Into<String>) -> Self {
        StoreError::Database(sqlx::Error::Decode(what.into().into()))
    }
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
