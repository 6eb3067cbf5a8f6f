//! The audit log's SQL: appending a chained, bounded event inside the caller's transaction,
//! keeping a search's query erasably beside its event (and deleting it when a record it
//! concerned is erased), chaining events written before the chain existed, verifying the chain
//! page by page, and finding the events about a record ("who has seen this child's record").
//!
//! Appends serialise on the one-row `audit_head` table: `UPDATE … RETURNING` takes its row lock
//! on PostgreSQL (held until commit, so writers on several nodes queue rather than fork the
//! chain) and the database write lock on SQLite (whose store transactions begin `IMMEDIATE`).
//! The event's seq comes from the head too, so seqs have no gaps. Callers append their event
//! last in a transaction, after their other row locks, so the head is held only briefly and
//! lock order is always rows first, head last.
//!
//! Uses only [`super::tx`] below it; the other SQL modules write their events through
//! [`append`].

use super::SqlStore;
use super::tx::{begin_write, is_sqlite};
use crate::prelude::*;
use crate::records::ts;
use crate::{Backend, ChainReport, Result, StoreError};
use async_trait::async_trait;
use nrmp_domain::audit::bounds;
use nrmp_domain::audit::chain::{BreakKind, ChainBreak, ChainHead, ChainedEvent, Verifier};
use nrmp_domain::audit::search::SearchQuery;
use nrmp_domain::audit::{Actor, AuditAction, AuditEvent};
use nrmp_domain::error::ValidationErrors;
use nrmp_domain::organisation::OrgCode;
use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::BTreeMap;
use std::collections::BTreeSet;

/// Events read per page while verifying.
pub(super) const PAGE: i64 = 5_000;

/// Record ids exactly as they read back from the `record_ids` column.
pub(super) fn split_ids(joined: &str) -> Vec<String> {
    joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Appends one event to the chain, in the caller's transaction: the one path by which events
/// are stored. The event is [bounded](AuditEvent::bounded) first — every value cut to its limit,
/// control characters made visible — and what is hashed is exactly what is stored.
pub(super) async fn append(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    action: AuditAction,
    kind: &str,
    ids: &[String],
    detail: &str,
) -> Result<i64> {
    if ctx.actor.user.trim().is_empty() {
        return Err(StoreError::Invalid(ValidationErrors::one(
            "actor",
            "every change needs a named actor",
        )));
    }
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get(0)?;
    let prev: Option<String> = head.try_get(1)?;
    let prev = prev.ok_or_else(|| {
        StoreError::Conflict(
            "the audit log has events that are not chained yet: run `nrmp migrate`".into(),
        )
    })?;
    let event = AuditEvent {
        seq,
        at: ctx.at,
        actor: ctx.actor.clone(),
        action,
        record_kind: kind.to_owned(),
        record_ids: ids.to_vec(),
        reason: ctx.reason.clone(),
        detail: detail.to_owned(),
    }
    .bounded();
    let chained = ChainedEvent::link(event, &prev).ok_or_else(|| {
        StoreError::corrupt_value(format!("audit_head.hash `{prev}` is not a SHA-256 hash"))
    })?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(chained.hash.clone())
        .execute(&mut *conn)
        .await?;
    let e = &chained.event;
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor_user, actor_org, action, record_kind, \
         record_ids, reason, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(ts(e.at))
    .bind(e.actor.user.clone())
    .bind(e.actor.org.to_string())
    .bind(action.as_str())
    .bind(e.record_kind.clone())
    .bind(e.record_ids.join(","))
    .bind(e.reason.clone())
    .bind(e.detail.clone())
    .bind(chained.prev_hash.clone())
    .bind(chained.hash.clone())
    .execute(&mut *conn)
    .await?;
    index_records(conn, seq, &e.record_kind, &e.record_ids).await?;
    Ok(seq)
}

/// Appends a search's event — the summary of `query` as its detail, `shown` as its record ids
/// — and keeps the query itself beside it in `audit_search_queries`, linked to every record in
/// `shown` and `concerns`, where an erasure of any of them deletes it ([`forget_queries`]). A
/// query that concerned no record is not kept (nothing could ever erase it); its event says so.
/// Values of the query repeated in the stated reason are replaced by `[field]` in the chain
/// ([`SearchQuery::redact`]); the reason as given is kept with the query.
pub(super) async fn append_search(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    kind: &str,
    shown: &[String],
    concerns: &[String],
    query: &SearchQuery,
) -> Result<i64> {
    let subjects: BTreeSet<String> = shown
        .iter()
        .chain(concerns)
        .map(|id| bounds::bounded_id(id))
        .filter(|id| !id.is_empty())
        .take(bounds::MAX_IDS)
        .collect();
    let keep = !query.is_empty() && !subjects.is_empty();
    let mut detail = query.summary();
    if !keep && !query.is_empty() {
        detail.push_str("; query not kept: it matched no record");
    }
    // The reason goes into the chain: what was searched for is taken out of it, and the
    // reason as given is kept with the query.
    let reason = query.redact(&ctx.reason);
    let mut text = query.text();
    let ctx = if reason == ctx.reason {
        ctx.clone()
    } else {
        text = bounds::bounded(
            &format!("{text}; reason as given: {}", ctx.reason),
            bounds::MAX_QUERY_CHARS,
        );
        Ctx {
            reason,
            ..ctx.clone()
        }
    };
    let seq = append(conn, &ctx, AuditAction::Search, kind, shown, &detail).await?;
    if keep {
        sqlx::query("INSERT INTO audit_search_queries (seq, query) VALUES ($1, $2)")
            .bind(seq)
            .bind(text)
            .execute(&mut *conn)
            .await?;
        let subjects: Vec<&String> = subjects.iter().collect();
        let sqlite = is_sqlite(conn);
        for chunk in subjects.chunks(1_000) {
            let mut sql =
                String::from("INSERT INTO audit_search_query_subjects (seq, record_id) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                if sqlite {
                    sql.push_str("(?, ?)");
                } else {
                    sql.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
                }
            }
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(seq).bind((*id).clone());
            }
            q.execute(&mut *conn).await?;
        }
    }
    Ok(seq)
}

/// Deletes every stored search query that concerned any of `ids` (an erasure's records), with
/// its links; returns how many queries were deleted. In the erasure's transaction.
pub(super) async fn forget_queries(conn: &mut AnyConnection, ids: &[String]) -> Result<u64> {
    let mut seqs = BTreeSet::new();
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT DISTINCT seq FROM audit_search_query_subjects WHERE record_id IN ({})",
            params.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        seqs.extend(q.fetch_all(&mut *conn).await?);
    }
    let seqs: Vec<i64> = seqs.into_iter().collect();
    for chunk in seqs.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        for table in ["audit_search_query_subjects", "audit_search_queries"] {
            let sql = format!("DELETE FROM {table} WHERE seq IN ({})", params.join(", "));
            let mut q = sqlx::query(&sql);
            for s in chunk {
                q = q.bind(*s);
            }
            q.execute(&mut *conn).await?;
        }
    }
    Ok(seqs.len() as u64)
}

/// The stored search queries of these events (those that still have one), by seq.
pub(super) async fn queries_of(pool: &AnyPool, seqs: &[i64]) -> Result<BTreeMap<i64, String>> {
    let mut out = BTreeMap::new();
    for chunk in seqs.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT seq, query FROM audit_search_queries WHERE seq IN ({})",
            params.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for s in chunk {
            q = q.bind(*s);
        }
        for r in q.fetch_all(pool).await? {
            out.insert(r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?);
        }
    }
    Ok(out)
}

/// Writes the `audit_event_records` rows of one event.
pub(super) async fn index_records(
    conn: &mut AnyConnection,
    seq: i64,
    kind: &str,
    ids: &[String],
) -> Result<()> {
    let ids: BTreeSet<&String> = ids.iter().collect();
    let ids: Vec<&String> = ids.into_iter().collect();
    let sqlite = is_sqlite(conn);
    for chunk in ids.chunks(1_000) {
        let mut sql =
            String::from("INSERT INTO audit_event_records (seq, record_kind, record_id) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            if sqlite {
                sql.push_str("(?, ?, ?)");
            } else {
                sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
            }
        }
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(seq).bind(kind.to_owned()).bind((*id).clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub(super) const COLUMNS: &str = "seq, at, actor_user, actor_org, action, record_kind, record_ids, reason, detail, prev_hash, hash";

/// One stored row, decoded; a row that cannot be decoded is reported as changed.
pub(super) fn chained_row(r: &sqlx::any::AnyRow) -> std::result::Result<ChainedEvent, ChainBreak> {
    let seq: i64 = r.try_get("seq").unwrap_or(0);
    let changed = || ChainBreak {
        seq,
        kind: BreakKind::Changed,
    };
    let event = parse_audit_row(r).map_err(|_| changed())?;
    let prev_hash: Option<String> = r.try_get("prev_hash").map_err(|_| changed())?;
    let hash: Option<String> = r.try_get("hash").map_err(|_| changed())?;
    Ok(ChainedEvent {
        event,
        prev_hash: prev_hash.unwrap_or_default(),
        hash: hash.unwrap_or_default(),
    })
}

/// The chain's head (last sequence number and hash) as `conn` (a pool or one connection, say
/// inside a snapshot) sees it.
pub(super) async fn head<'c, E>(conn: E) -> Result<(i64, Option<String>)>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(conn)
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Verifies the whole log against the head, `PAGE` events at a time; `progress` is told how
/// many events have been read so far.
pub(super) async fn verify(
    pool: &AnyPool,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ChainReport> {
    let (seq, hash) = head(pool).await?;
    let head = ChainHead {
        seq,
        hash: hash.unwrap_or_default(),
    };
    let mut v = Verifier::new();
    let mut after = 0i64;
    let mut read = 0u64;
    let report = |v: &Verifier, b: Option<ChainBreak>| ChainReport {
        events: v.count(),
        head: head.clone(),
        first_break: b,
    };
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        ))
        .bind(after)
        .bind(head.seq)
        .bind(PAGE)
        .fetch_all(pool)
        .await?;
        for r in &rows {
            let step = chained_row(r).and_then(|e| {
                after = e.event.seq;
                v.push(&e)
            });
            if let Err(b) = step {
                return Ok(report(&v, Some(b)));
            }
        }
        read += rows.len() as u64;
        progress(read);
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    let count = v.count();
    if let Err(b) = v.clone().finish(&head) {
        return Ok(report(&v, Some(b)));
    }
    // Rows past the head that did not come through the chain (the head only moves forward, so
    // read it again: events appended meanwhile are legitimately past the first reading).
    let (now_seq, _) = self::head(pool).await?;
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_events")
        .fetch_one(pool)
        .await?;
    if max.unwrap_or(0) > now_seq {
        return Ok(ChainReport {
            events: count,
            head: head.clone(),
            first_break: Some(ChainBreak {
                seq: now_seq + 1,
                kind: BreakKind::Changed,
            }),
        });
    }
    Ok(ChainReport {
        events: count,
        head,
        first_break: None,
    })
}

/// Chains events written before the chain existed (their hash is NULL), oldest first, and
/// indexes their record ids. Runs once, right after the migration that adds the chain; a
/// no-op afterwards.
pub(super) async fn chain_unchained(pool: &AnyPool, backend: Backend) -> Result<u64> {
    let (_, hash) = head(pool).await?;
    if hash.is_some() {
        return Ok(0);
    }
    let mut tx = begin_write(pool, backend).await?;
    let row = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *tx)
        .await?;
    let last: i64 = row.try_get(0)?;
    if row.try_get::<Option<String>, _>(1)?.is_some() {
        return Ok(0); // another process did it first
    }
    let mut prev = nrmp_domain::audit::chain::genesis_hex();
    let mut after = 0i64;
    let mut n = 0u64;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        ))
        .bind(after)
        .bind(last)
        .bind(PAGE)
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let event = parse_audit_row(r)?;
            after = event.seq;
            let chained = ChainedEvent::link(event, &prev)
                .ok_or_else(|| StoreError::corrupt_value("bad previous hash"))?;
            sqlx::query("UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(chained.prev_hash.clone())
                .bind(chained.hash.clone())
                .bind(after)
                .execute(&mut *tx)
                .await?;
            index_records(
                &mut tx,
                after,
                &chained.event.record_kind,
                &chained.event.record_ids,
            )
            .await?;
            prev = chained.hash;
            n += 1;
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(prev)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(
        events = n,
        "chained audit events written before the chain existed"
    );
    Ok(n)
}

/// Events that name any of `ids`, oldest first.
pub(super) async fn events_naming(
    pool: &AnyPool,
    ids: &BTreeSet<String>,
) -> Result<Vec<AuditEvent>> {
    let mut seqs = BTreeSet::new();
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT DISTINCT seq FROM audit_event_records WHERE record_id IN ({})",
            params.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for id in chunk {
            q = q.bind((*id).clone());
        }
        seqs.extend(q.fetch_all(pool).await?);
    }
    let seqs: Vec<i64> = seqs.into_iter().collect();
    let mut out = Vec::with_capacity(seqs.len());
    for chunk in seqs.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE seq IN ({}) ORDER BY seq",
            params.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for s in chunk {
            q = q.bind(*s);
        }
        for r in q.fetch_all(pool).await? {
            out.push(parse_audit_row(&r)?);
        }
    }
    Ok(out)
}

/// Every record id an audit event may have used for `kind`/`id`: the record itself and, for a
/// person, every record linked to them now, plus those listed by any erasure of them.
pub(super) async fn ids_about(pool: &AnyPool, kind: &str, id: &str) -> Result<BTreeSet<String>> {
    let mut ids = BTreeSet::from([id.to_owned()]);
    if kind != "person" {
        return Ok(ids);
    }
    let linked = [
        "SELECT id FROM incidents WHERE person_id = $1",
        "SELECT id FROM referrals WHERE person_id = $1",
        "SELECT id FROM placements WHERE person_id = $1",
        "SELECT id || '@' || CAST(version AS TEXT) FROM profiles WHERE person_id = $1",
        "SELECT id FROM found_persons WHERE identified_as = $1",
    ];
    for sql in linked {
        let found: Vec<String> = sqlx::query_scalar(sql)
            .bind(id.to_owned())
            .fetch_all(pool)
            .await?;
        ids.extend(found);
    }
    // Records already erased with the person are listed in the erasure event.
    let erasures: Vec<String> = sqlx::query_scalar(
        "SELECT e.record_ids FROM audit_events e JOIN audit_event_records r ON r.seq = e.seq \
         WHERE r.record_id = $1 AND e.action = $2",
    )
    .bind(id.to_owned())
    .bind(AuditAction::Erase.as_str())
    .fetch_all(pool)
    .await?;
    for joined in erasures {
        ids.extend(split_ids(&joined));
    }
    Ok(ids)
}

pub(super) fn parse_audit_row(r: &sqlx::any::AnyRow) -> Result<AuditEvent> {
    let at: String = r.try_get("at")?;
    let org: String = r.try_get("actor_org")?;
    let action: String = r.try_get("action")?;
    let corrupt = |what: String| StoreError::corrupt_value(what);
    let action = AuditAction::parse(&action)
        .ok_or_else(|| corrupt(format!("unknown audit action {action}")))?;
    let ids: String = r.try_get("record_ids")?;
    Ok(AuditEvent {
        seq: r.try_get("seq")?,
        at: chrono::DateTime::parse_from_rfc3339(&at)
            .map_err(|e| corrupt(format!("audit time {at}: {e}")))?
            .to_utc(),
        actor: Actor::new(
            r.try_get::<String, _>("actor_user")?,
            OrgCode::parse("actor_org", &org).map_err(|e| corrupt(e.to_string()))?,
        ),
        action,
        record_kind: r.try_get("record_kind")?,
        record_ids: ids
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        reason: r.try_get("reason")?,
        detail: r.try_get("detail")?,
    })
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record_audit(
        &self,
        ctx: &Ctx,
        action: AuditAction,
        record_kind: &str,
        record_ids: &[String],
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        append(&mut tx, ctx, action, record_kind, record_ids, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_search(
        &self,
        ctx: &Ctx,
        record_kind: &str,
        shown: &[String],
        concerns: &[String],
        query: &SearchQuery,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        append_search(&mut tx, ctx, record_kind, shown, concerns, query).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn search_queries(&self, seqs: &[i64]) -> Result<BTreeMap<i64, String>> {
        queries_of(&self.pool, seqs).await
    }

    async fn audit_events(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user, actor_org, action, record_kind, record_ids, reason, detail \
             FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(parse_audit_row).collect()
    }

    async fn verify_audit_chain(
        &self,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ChainReport> {
        verify(&self.pool, progress).await
    }

    async fn audit_events_for(
        &self,
        record_kind: &str,
        record_id: &str,
    ) -> Result<Vec<AuditEvent>> {
        let ids = ids_about(&self.pool, record_kind, record_id).await?;
        events_naming(&self.pool, &ids).await
    }
}
