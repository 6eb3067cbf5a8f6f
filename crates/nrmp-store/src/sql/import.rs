//! Bulk import in SQL ([`ImportStore`]): one open transaction for the whole load, rows
//! inserted in large multi-row statements, review dates gathered and written at the end, one
//! audit event at commit. Uses [`super::records`], [`super::retention`], [`super::audit`],
//! [`super::outbox`], [`super::rows`] and [`super::tx`].

use super::records::put_organisations;
use super::rows::{fetch_where, insert_many};
use super::tx::{SQLITE_DEFAULT_CACHE, SQLITE_IMPORT_CACHE};
use super::{SqlStore, audit, outbox, retention};
use crate::prelude::*;
use crate::{Backend, RecordKind, Result};
use async_trait::async_trait;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use sqlx::{Any, Transaction};
use std::collections::HashSet;

#[async_trait]
impl ImportStore for SqlStore {
    async fn begin_import(&self, ctx: &Ctx) -> Result<Box<dyn ImportSession>> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query(SQLITE_IMPORT_CACHE).execute(&mut *tx).await?;
        }
        Ok(Box::new(SqlImport {
            tx,
            ctx: ctx.clone(),
            backend: self.backend,
            retention: retention::ImportReview::new(self.retention.clone()),
        }))
    }
}

/// An import in one open transaction.
struct SqlImport {
    tx: Transaction<'static, Any>,
    ctx: Ctx,
    backend: Backend,
    retention: retention::ImportReview,
}

impl SqlImport {
    /// Gives the connection its normal page cache back before it returns to the pool.
    async fn restore_cache(&mut self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query(SQLITE_DEFAULT_CACHE)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ImportSession for SqlImport {
    async fn organisations(&mut self, rows: &[Organisation]) -> Result<()> {
        put_organisations(&mut self.tx, rows).await
    }
    async fn persons(&mut self, rows: &[Person]) -> Result<()> {
        insert_many(&mut self.tx, self.backend, rows).await?;
        // Followers of the outbox (other nodes' matching indexes) learn of every new person.
        outbox::append_each(&mut self.tx, self.backend, &self.ctx, "person.import", rows).await?;
        self.retention.add(&mut self.tx, rows).await
    }
    async fn incidents(&mut self, rows: &[Incident]) -> Result<()> {
        insert_many(&mut self.tx, self.backend, rows).await?;
        self.retention.add(&mut self.tx, rows).await
    }
    async fn referrals(&mut self, rows: &[NrmReferral]) -> Result<()> {
        insert_many(&mut self.tx, self.backend, rows).await?;
        self.retention.add(&mut self.tx, rows).await
    }
    async fn placements(&mut self, rows: &[Placement]) -> Result<()> {
        insert_many(&mut self.tx, self.backend, rows).await?;
        self.retention.add(&mut self.tx, rows).await
    }
    async fn profiles(&mut self, rows: &[PrefilledProfile]) -> Result<()> {
        insert_many(&mut self.tx, self.backend, rows).await?;
        self.retention.add(&mut self.tx, rows).await
    }
    async fn found_persons(&mut self, rows: &[FoundPerson]) -> Result<()> {
        insert_many(&mut self.tx, self.backend, rows).await?;
        self.retention.add(&mut self.tx, rows).await
    }

    async fn existing_keys(
        &mut self,
        kind: RecordKind,
        keys: &[String],
    ) -> Result<HashSet<String>> {
        let column = kind.key_columns()[0];
        let mut found = HashSet::new();
        for chunk in keys.chunks(1000) {
            let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT {column} FROM {} WHERE {column} IN ({})",
                kind.table(),
                params.join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for k in chunk {
                q = q.bind(k.clone());
            }
            found.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(found)
    }

    async fn existing_organisations(&mut self) -> Result<HashSet<String>> {
        let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM organisations")
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(codes.into_iter().collect())
    }

    async fn incidents_of(&mut self, ids: &[PersonId]) -> Result<Vec<Incident>> {
        let mut out = Vec::new();
        for id in ids {
            out.extend(fetch_where::<Incident>(&mut self.tx, "person_id", &id.to_string()).await?);
        }
        Ok(out)
    }

    async fn commit(mut self: Box<Self>, detail: &str) -> Result<()> {
        self.retention.finish(&mut self.tx).await?;
        audit::append(
            &mut self.tx,
            &self.ctx,
            AuditAction::Import,
            "dataset",
            &[],
            detail,
        )
        .await?;
        self.restore_cache().await?;
        self.tx.commit().await?;
        Ok(())
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        self.restore_cache().await?;
        self.tx.rollback().await?;
        Ok(())
    }
}
