//! The SQL implementation of the store ([`SqlStore`]), shared by SQLite and PostgreSQL through
//! sqlx's `Any` driver. The two backends differ only in their migrations and connection set-up;
//! every query is written once, in the SQL both understand (`$n` parameters, `ON CONFLICT`, row
//! values).
//!
//! One module per role trait, each implementing its role for [`SqlStore`], above two helper
//! modules. Each module uses only those listed after its arrow, so there is no circle:
//!
//! ```text
//! admin     -> audit, retention, tx
//! import    -> records, retention, audit, outbox, rows, tx
//! accounts  -> audit, rows
//! query     -> (nothing else in sql)
//! records   -> retention, audit, outbox, rows
//! retention -> audit, outbox, tx
//! audit     -> tx
//! outbox    -> tx
//! rows      -> tx
//! tx        -> (nothing else in sql: connections, transactions, statement helpers)
//! ```
//!
//! The role modules also use this one's [`SqlStore`] (its fields and [`SqlStore::begin`]),
//! which uses only `tx`.

mod accounts;
mod admin;
mod audit;
pub(crate) mod backup;
mod import;
mod outbox;
mod query;
mod records;
mod retention;
mod rows;
mod tx;

use crate::{Backend, Result};
use nrmp_domain::retention::RetentionPolicy;
use sqlx::{Any, AnyPool, Transaction};

/// A [`Store`](crate::Store) on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    retention: RetentionPolicy,
}

impl SqlStore {
    /// Connects to the database `url` names (see [`crate::open`]).
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let pool = tx::connect_pool(url, backend).await?;
        tracing::debug!(backend = backend.name(), "connected");
        Ok(Self {
            pool,
            backend,
            retention: RetentionPolicy::default(),
        })
    }

    /// The same store with another retention policy (review periods; see
    /// [`nrmp_domain::retention`]). The default is MoPI-style: 6 years after last activity,
    /// never before the subject turns 25.
    pub fn with_retention_policy(mut self, policy: RetentionPolicy) -> Result<Self> {
        policy.validate()?;
        self.retention = policy;
        Ok(self)
    }

    /// The connection pool (for backend-specific tests and tools).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction (see [`tx::begin_write`]).
    async fn begin(&self) -> Result<Transaction<'static, Any>> {
        tx::begin_write(&self.pool, self.backend).await
    }
}
