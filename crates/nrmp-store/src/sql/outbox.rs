//! The transactional outbox in SQL: appending change events inside the writer's transaction
//! and reading them back ([`OutboxStore`]). Uses only [`super::tx`] below it.

use super::SqlStore;
use super::tx::{MAX_PARAMS, value_rows};
use crate::prelude::*;
use crate::records::{Stored, ts};
use crate::{Backend, Change, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

/// One outbox event `event` per item, in statements of many rows (as [`insert_many`]).
pub(super) async fn append_each<T: Stored>(
    conn: &mut AnyConnection,
    backend: Backend,
    ctx: &Ctx,
    event: &str,
    items: &[T],
) -> Result<()> {
    const WIDTH: usize = 4;
    for chunk in items.chunks(MAX_PARAMS / WIDTH) {
        let sql = format!(
            "INSERT INTO outbox (at, event, record_kind, record_id) VALUES {}",
            value_rows(backend, chunk.len(), WIDTH)
        );
        let mut q = sqlx::query(&sql);
        for item in chunk {
            q = q
                .bind(ts(ctx.at))
                .bind(event.to_owned())
                .bind(T::KIND)
                .bind(item.key());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends one outbox event in the caller's transaction.
pub(super) async fn append(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    event: &str,
    kind: &str,
    id: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO outbox (at, event, record_kind, record_id) VALUES ($1, $2, $3, $4)")
        .bind(ts(at))
        .bind(event.to_owned())
        .bind(kind.to_owned())
        .bind(id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends the `KIND.erase` event of an erased record, so followers (the matching index)
/// forget it.
pub(super) async fn erased(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    kind: &str,
    id: &str,
) -> Result<()> {
    append(conn, at, &format!("{kind}.erase"), kind, id).await
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, event, record_kind, record_id FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Change {
                    seq: r.try_get(0)?,
                    event: r.try_get(1)?,
                    record_kind: r.try_get(2)?,
                    record_id: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn last_change(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM outbox")
                .fetch_one(&self.pool)
                .await?
                .unwrap_or(0),
        )
    }
}
