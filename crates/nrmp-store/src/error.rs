//! Storage errors: what went wrong, in terms the service and CLI layers can map to a status.
//! The database driver stays inside the store: a driver error becomes a [`DatabaseError`],
//! which carries its message and whether it is worth retrying, and no driver type.

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
    Migrate(#[source] DatabaseError),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[source] DatabaseError),
}

/// An error the database (or its driver) reported: its message, and whether the database could
/// not be reached. The driver's own error is kept only as the [source](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct DatabaseError {
    unavailable: bool,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl DatabaseError {
    /// True if the database could not be reached (a pool time-out, a closed pool, a broken
    /// connection, or PostgreSQL saying the connection failed or the server is shutting
    /// down: SQLSTATE classes 08 and 57P, and 53300 too many connections).
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }
}

#[doc(hidden)]
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let unavailable = match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
            // PostgreSQL: connection exception, operator intervention (shutting down),
            // too many connections
            sqlx::Error::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
            _ => false,
        };
        StoreError::Database(DatabaseError {
            unavailable,
            source: Box::new(e),
        })
    }
}

#[doc(hidden)]
impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(DatabaseError {
            unavailable: false,
            source: Box::new(e),
        })
    }
}

impl StoreError {
    /// True if the database could not be reached (a pool time-out, a closed pool, a broken
    /// connection, or PostgreSQL saying the connection failed or the server is shutting
    /// down: SQLSTATE classes 08 and 57P, and 53300 too many connections): worth retrying
    /// later, unlike every other error.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Database(e) if e.is_unavailable())
    }

    /// A stored value that cannot be read back (`what` says which and why).
    pub(crate) fn corrupt_value(what: impl Into<String>) -> Self {
        StoreError::from(sqlx::Error::Decode(what.into().into()))
    }
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_driver_error_keeps_its_message_and_whether_to_retry() {
        let timed_out = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(timed_out.is_unavailable());
        assert_eq!(
            timed_out.to_string(),
            format!("database error: {}", sqlx::Error::PoolTimedOut)
        );
        assert!(std::error::Error::source(&timed_out).is_some());
        let corrupt = StoreError::corrupt_value("year 99999: out of range");
        assert!(!corrupt.is_unavailable());
        assert!(corrupt.to_string().contains("year 99999: out of range"));
    }
}
