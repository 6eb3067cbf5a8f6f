//! Operating the store in SQL ([`AdminStore`]): migrations (and the one-off work that follows
//! some of them: chaining old audit events, backfilling review dates), counts and size. Uses
//! [`super::audit`], [`super::retention`], [`super::tx`] and the embedded `crate::migrations`.

use super::tx::count;
use super::{SqlStore, audit, retention};
use crate::prelude::*;
use crate::{Backend, Counts, Result};
use async_trait::async_trait;
use sqlx::AnyPool;

#[async_trait]
impl AdminStore for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<usize> {
        let migrator = crate::migrations::migrator(self.backend).await?;
        // Before the first migration the bookkeeping table does not exist: nothing applied.
        let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await
            .unwrap_or_default();
        migrator.run(&self.pool).await?;
        audit::chain_unchained(&self.pool, self.backend).await?;
        retention::backfill(&self.pool, self.backend, &self.retention).await?;
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(after - before).unwrap_or(0))
    }

    async fn migrations_pending(&self) -> Result<usize> {
        let migrator = crate::migrations::migrator(self.backend).await?;
        let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
        migrations_pending(&self.pool, &known).await
    }

    async fn counts(&self) -> Result<Counts> {
        let p = &self.pool;
        Ok(Counts {
            organisations: count(p, "SELECT COUNT(*) FROM organisations").await?,
            persons: count(p, "SELECT COUNT(*) FROM persons").await?,
            incidents: count(p, "SELECT COUNT(*) FROM incidents").await?,
            open_incidents: count(p, "SELECT COUNT(*) FROM incidents WHERE found_at IS NULL")
                .await?,
            referrals: count(p, "SELECT COUNT(*) FROM referrals").await?,
            placements: count(p, "SELECT COUNT(*) FROM placements").await?,
            profiles: count(p, "SELECT COUNT(*) FROM profiles").await?,
            found_persons: count(p, "SELECT COUNT(*) FROM found_persons").await?,
            audit_events: count(p, "SELECT COUNT(*) FROM audit_events").await?,
        })
    }

    async fn size_bytes(&self) -> Result<u64> {
        let bytes: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.pool)
                    .await?;
                sqlx::query_scalar(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(&self.pool)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(u64::try_from(bytes).unwrap_or(0))
    }
}

/// How many of `known` migrations (their versions) the database has not applied yet; all of
/// them when the bookkeeping table does not exist.
async fn migrations_pending(pool: &AnyPool, known: &[i64]) -> Result<usize> {
    let applied: Vec<i64> =
        match sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
        {
            Ok(v) => v,
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
    Ok(known.iter().filter(|v| !applied.contains(v)).count())
}
