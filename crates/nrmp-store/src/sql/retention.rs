//! Retention in the store: keeping each subject's review date current as records are written
//! (single writes, imports, and once for data stored before retention existed), listing the
//! reviews that are due, recording review decisions, and erasing a person with everything
//! linked to them. The rules themselves are [`nrmp_domain::retention`].
//!
//! Erasure deletes records, never audit events: events hold record ids, actors and reasons,
//! not personal details, so the log stays complete and its chain stays valid.
//!
//! Uses [`super::audit`] and [`super::outbox`] (erasures are audited and announced) and
//! [`super::tx`].

use super::tx::begin_write;
use super::{SqlStore, audit, outbox};
use crate::prelude::*;
use crate::records::{Stored, decode, ts};
use crate::{Backend, ErasureReport, RecordKind, Result, ReviewDue, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::error::ValidationErrors;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use nrmp_domain::retention::RetainedKind;
use nrmp_domain::retention::{RetentionPolicy, ReviewDecision, SubjectKind};
use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::HashMap;

/// Review dates asked for by records, latest per subject, waiting to be written.
#[derive(Debug, Default)]
pub(crate) struct Bumps(HashMap<(SubjectKind, String), NaiveDate>);

impl Bumps {
    fn add(&mut self, kind: SubjectKind, id: String, date: NaiveDate) {
        let e = self.0.entry((kind, id)).or_insert(date);
        if *e < date {
            *e = date;
        }
    }

    /// Writes the dates: a subject's review date only ever moves later.
    pub(crate) async fn flush(self, conn: &mut AnyConnection) -> Result<()> {
        let rows: Vec<_> = self.0.into_iter().collect();
        let sqlite = conn.backend_name() == "SQLite";
        for chunk in rows.chunks(2_000) {
            let mut sql =
                String::from("INSERT INTO retention (record_kind, record_id, review_date) VALUES ");
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
            sql.push_str(
                " ON CONFLICT (record_kind, record_id) DO UPDATE SET review_date = \
                 CASE WHEN retention.review_date < excluded.review_date \
                 THEN excluded.review_date ELSE retention.review_date END",
            );
            let mut q = sqlx::query(&sql);
            for ((kind, id), date) in chunk {
                q = q
                    .bind(kind.as_str())
                    .bind(id.clone())
                    .bind(date.to_string());
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// A record that asks for its subject's review date: its last activity (made later by `now`,
/// the time of a live write) plus its kind's period.
pub(crate) trait Retained {
    /// Adds this record's review dates to `b`.
    fn bump(&self, b: &mut Bumps, policy: &RetentionPolicy, now: Option<DateTime<Utc>>);
}

fn latest(dates: impl IntoIterator<Item = NaiveDate>, now: Option<DateTime<Utc>>) -> NaiveDate {
    dates
        .into_iter()
        .chain(now.map(|t| t.date_naive()))
        .max()
        .unwrap_or(NaiveDate::MIN)
}

impl Retained for Person {
    fn bump(&self, b: &mut Bumps, policy: &RetentionPolicy, now: Option<DateTime<Utc>>) {
        let activity = latest([self.updated_at.date_naive()], now);
        let dob = self.dob.as_ref().map(|d| d.range().1);
        let date = policy.review_date(RetainedKind::Person, activity, dob);
        b.add(SubjectKind::Person, self.id.to_string(), date);
    }
}

impl Retained for Incident {
    fn bump(&self, b: &mut Bumps, policy: &RetentionPolicy, now: Option<DateTime<Utc>>) {
        let times = [
            Some(self.reported_at),
            Some(self.last_seen_at),
            self.ended_at(),
        ]
        .into_iter()
        .flatten()
        .chain(self.risk_history.iter().map(|g| g.at))
        .chain(self.sightings.iter().map(|s| s.at))
        .map(|t| t.date_naive());
        let date = policy.review_date(RetainedKind::Incident, latest(times, now), None);
        b.add(SubjectKind::Person, self.person_id.to_string(), date);
    }
}

impl Retained for NrmReferral {
    fn bump(&self, b: &mut Bumps, policy: &RetentionPolicy, now: Option<DateTime<Utc>>) {
        let dates = [Some(self.referred_on)]
            .into_iter()
            .chain([
                self.reasonable_grounds.as_ref().map(|d| d.date),
                self.conclusive_grounds.as_ref().map(|d| d.date),
            ])
            .flatten();
        let date = policy.review_date(RetainedKind::Referral, latest(dates, now), None);
        b.add(SubjectKind::Person, self.person_id.to_string(), date);
    }
}

impl Retained for Placement {
    fn bump(&self, b: &mut Bumps, policy: &RetentionPolicy, now: Option<DateTime<Utc>>) {
        let end = self.ended_at.unwrap_or(self.started_at).date_naive();
        let date = policy.review_date(RetainedKind::Placement, latest([end], now), None);
        b.add(SubjectKind::Person, self.person_id.to_string(), date);
    }
}

impl Retained for PrefilledProfile {
    fn bump(&self, b: &mut Bumps, policy: &RetentionPolicy, now: Option<DateTime<Utc>>) {
        let activity = latest([self.prepared_at.date_naive()], now);
        let date = policy.review_date(RetainedKind::Profile, activity, None);
        b.add(SubjectKind::Person, self.person_id.to_string(), date);
    }
}

impl Retained for FoundPerson {
    fn bump(&self, b: &mut Bumps, policy: &RetentionPolicy, now: Option<DateTime<Utc>>) {
        let activity = latest([self.found_at.date_naive()], now);
        let dob = self.dob.as_ref().map(|d| d.range().1);
        let date = policy.review_date(RetainedKind::FoundPerson, activity, dob);
        b.add(SubjectKind::FoundPerson, self.id.to_string(), date);
        if let Some(person) = self.identified_as {
            b.add(SubjectKind::Person, person.to_string(), date);
        }
    }
}

/// Review dates gathered during an import and written in few statements: each subject once
/// (at commit) rather than once per batch of their records, unless the import is so large that
/// memory is bounded by writing early.
pub(crate) struct ImportReview {
    policy: RetentionPolicy,
    bumps: Bumps,
}

/// Subjects held before an import writes its review dates early.
const IMPORT_BUMPS_HELD: usize = 250_000;

impl ImportReview {
    pub(crate) fn new(policy: RetentionPolicy) -> Self {
        Self {
            policy,
            bumps: Bumps::default(),
        }
    }

    /// Adds the review dates a batch of imported records asks for.
    pub(crate) async fn add<T: Retained>(
        &mut self,
        conn: &mut AnyConnection,
        rows: &[T],
    ) -> Result<()> {
        for r in rows {
            r.bump(&mut self.bumps, &self.policy, None);
        }
        if self.bumps.0.len() >= IMPORT_BUMPS_HELD {
            std::mem::take(&mut self.bumps).flush(conn).await?;
        }
        Ok(())
    }

    /// Writes what is left (before the import commits).
    pub(crate) async fn finish(&mut self, conn: &mut AnyConnection) -> Result<()> {
        std::mem::take(&mut self.bumps).flush(conn).await
    }
}

fn bump_stored<T: Stored + Retained>(
    item: &impl Stored,
    b: &mut Bumps,
    policy: &RetentionPolicy,
    at: DateTime<Utc>,
) -> Result<()> {
    let json = serde_json::to_string(item).map_err(|source| StoreError::Corrupt {
        kind: T::KIND,
        id: item.key(),
        source,
    })?;
    decode::<T>(&item.key(), &json)?.bump(b, policy, Some(at));
    Ok(())
}

/// Pushes the review date of the subject a record written at `at` is about (organisations and
/// kinds without a subject: nothing).
pub(crate) async fn after_write<T: Stored>(
    conn: &mut AnyConnection,
    policy: &RetentionPolicy,
    item: &T,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut b = Bumps::default();
    match T::RECORD {
        RecordKind::Person => bump_stored::<Person>(item, &mut b, policy, at)?,
        RecordKind::Incident => bump_stored::<Incident>(item, &mut b, policy, at)?,
        RecordKind::Referral => bump_stored::<NrmReferral>(item, &mut b, policy, at)?,
        RecordKind::Placement => bump_stored::<Placement>(item, &mut b, policy, at)?,
        RecordKind::Profile => bump_stored::<PrefilledProfile>(item, &mut b, policy, at)?,
        RecordKind::FoundPerson => bump_stored::<FoundPerson>(item, &mut b, policy, at)?,
        RecordKind::Organisation => return Ok(()),
    }
    b.flush(conn).await
}

/// Bumps review dates for every stored record of one kind, read in key order a page at a time.
async fn backfill_kind<T: Stored + Retained>(
    pool: &AnyPool,
    backend: Backend,
    policy: &RetentionPolicy,
) -> Result<()> {
    const PAGE: i64 = 5_000;
    let keys = T::RECORD.key_columns();
    let two = keys.len() == 2;
    let select = if two {
        format!("{}, {}", keys[0], keys[1])
    } else {
        format!("{}, 0", keys[0])
    };
    let mut after: Option<(String, i64)> = None;
    loop {
        let filter = match (&after, two) {
            (None, _) => String::new(),
            (Some(_), false) => format!("WHERE {} > $2", keys[0]),
            (Some(_), true) => format!(
                "WHERE {k0} > $2 OR ({k0} = $2 AND {k1} > $3)",
                k0 = keys[0],
                k1 = keys[1]
            ),
        };
        let sql = format!(
            "SELECT {select}, data FROM {} {filter} ORDER BY {} LIMIT $1",
            T::TABLE,
            keys.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(PAGE);
        if let Some((k, v)) = &after {
            q = q.bind(k.clone());
            if two {
                q = q.bind(*v);
            }
        }
        let rows = q.fetch_all(pool).await?;
        let mut b = Bumps::default();
        for r in &rows {
            let id: String = r.try_get(0)?;
            let data: String = r.try_get(2)?;
            decode::<T>(&id, &data)?.bump(&mut b, policy, None);
            after = Some((id, r.try_get(1)?));
        }
        // Each page in its own short transaction: bumps only move dates later, so writers
        // running meanwhile lose nothing.
        let mut tx = begin_write(pool, backend).await?;
        b.flush(&mut tx).await?;
        tx.commit().await?;
        if (rows.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

/// Gives review dates to records stored before retention existed, once: the migration that
/// added retention leaves a `pending_backfill` row, removed when the work is done (so a failed
/// run is retried by the next migrate, and later runs cost one tiny query).
pub(crate) async fn backfill(
    pool: &AnyPool,
    backend: Backend,
    policy: &RetentionPolicy,
) -> Result<()> {
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pending_backfill WHERE task = 'retention'")
            .fetch_one(pool)
            .await?;
    if pending == 0 {
        return Ok(());
    }
    backfill_kind::<Person>(pool, backend, policy).await?;
    backfill_kind::<Incident>(pool, backend, policy).await?;
    backfill_kind::<NrmReferral>(pool, backend, policy).await?;
    backfill_kind::<Placement>(pool, backend, policy).await?;
    backfill_kind::<PrefilledProfile>(pool, backend, policy).await?;
    backfill_kind::<FoundPerson>(pool, backend, policy).await?;
    let mut tx = begin_write(pool, backend).await?;
    let done = sqlx::query("DELETE FROM pending_backfill WHERE task = 'retention'")
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() > 0 {
        tx.commit().await?;
        tracing::debug!("review dates assigned to records stored before retention existed");
    }
    Ok(())
}

async fn subject_exists(conn: &mut AnyConnection, kind: SubjectKind, id: &str) -> Result<bool> {
    let sql = match kind {
        SubjectKind::Person => "SELECT COUNT(*) FROM persons WHERE id = $1",
        SubjectKind::FoundPerson => "SELECT COUNT(*) FROM found_persons WHERE id = $1",
    };
    let n: i64 = sqlx::query_scalar(sql)
        .bind(id.to_owned())
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

fn not_found(kind: SubjectKind, id: &str) -> StoreError {
    StoreError::NotFound {
        kind: kind.as_str(),
        id: id.to_owned(),
    }
}

/// Sets a subject's review date outright (e.g. brought forward on request), audited.
pub(crate) async fn set_review_date(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    kind: SubjectKind,
    id: &str,
    date: NaiveDate,
) -> Result<()> {
    if !subject_exists(conn, kind, id).await? {
        return Err(not_found(kind, id));
    }
    sqlx::query(
        "INSERT INTO retention (record_kind, record_id, review_date) VALUES ($1, $2, $3) \
         ON CONFLICT (record_kind, record_id) DO UPDATE SET review_date = excluded.review_date",
    )
    .bind(kind.as_str())
    .bind(id.to_owned())
    .bind(date.to_string())
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        ctx,
        AuditAction::Update,
        kind.as_str(),
        &[id.to_owned()],
        &format!("review date set to {date}"),
    )
    .await?;
    Ok(())
}

/// Subjects whose review date is on or before `as_of`, earliest first.
pub(crate) async fn due(pool: &AnyPool, as_of: NaiveDate, limit: u32) -> Result<Vec<ReviewDue>> {
    let rows = sqlx::query(
        "SELECT record_kind, record_id, review_date, decision, decided_at, decided_by, reason \
         FROM retention WHERE review_date <= $1 ORDER BY review_date, record_kind, record_id LIMIT $2",
    )
    .bind(as_of.to_string())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get(0)?;
            let date: String = r.try_get(2)?;
            let corrupt = |what: String| StoreError::corrupt_value(what);
            Ok(ReviewDue {
                kind: SubjectKind::parse("record_kind", &kind)
                    .map_err(|e| corrupt(e.to_string()))?,
                id: r.try_get(1)?,
                review_date: date
                    .parse()
                    .map_err(|e| corrupt(format!("review_date {date}: {e}")))?,
                last_decision: r.try_get(3)?,
                decided_at: r.try_get(4)?,
                decided_by: r.try_get(5)?,
                reason: r.try_get(6)?,
            })
        })
        .collect()
}

/// Records a review decision: keep (next review set) or erase; audited as a retention review
/// (and an erasure). Validated as made on the day of `ctx.at`.
pub(crate) async fn decide(
    conn: &mut AnyConnection,
    policy: &RetentionPolicy,
    ctx: &Ctx,
    kind: SubjectKind,
    id: &str,
    decision: &ReviewDecision,
) -> Result<Option<ErasureReport>> {
    decision.validate(ctx.at.date_naive(), policy)?;
    let ctx = Ctx {
        reason: decision.reason().to_owned(),
        ..ctx.clone()
    };
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT review_date FROM retention WHERE record_kind = $1 AND record_id = $2",
    )
    .bind(kind.as_str())
    .bind(id.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_none() {
        return Err(not_found(kind, id));
    }
    match decision {
        ReviewDecision::Keep { next_review, .. } => {
            sqlx::query(
                "UPDATE retention SET review_date = $1, decision = 'keep', decided_by = $2, \
                 decided_org = $3, decided_at = $4, reason = $5 \
                 WHERE record_kind = $6 AND record_id = $7",
            )
            .bind(next_review.to_string())
            .bind(ctx.actor.user.clone())
            .bind(ctx.actor.org.to_string())
            .bind(ts(ctx.at))
            .bind(ctx.reason.clone())
            .bind(kind.as_str())
            .bind(id.to_owned())
            .execute(&mut *conn)
            .await?;
            audit::append(
                conn,
                &ctx,
                AuditAction::RetentionReview,
                kind.as_str(),
                &[id.to_owned()],
                &format!("keep; next review {next_review}"),
            )
            .await?;
            Ok(None)
        }
        ReviewDecision::Erase { .. } => {
            let (ids, report) = match kind {
                SubjectKind::Person => {
                    let pid = PersonId::parse("id", id).map_err(ValidationErrors::from)?;
                    erase_person_rows(conn, pid, ctx.at).await?
                }
                SubjectKind::FoundPerson => erase_found_rows(conn, id, ctx.at).await?,
            };
            audit::append(
                conn,
                &ctx,
                AuditAction::RetentionReview,
                kind.as_str(),
                &[id.to_owned()],
                "erase",
            )
            .await?;
            audit::append(
                conn,
                &ctx,
                AuditAction::Erase,
                kind.as_str(),
                &ids,
                &format!("erased {}", report.summary()),
            )
            .await?;
            Ok(Some(report))
        }
    }
}

/// Erases a person and everything linked to them, audited (ids only).
pub(crate) async fn erase_person(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    person: PersonId,
    reason: &str,
) -> Result<ErasureReport> {
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid(ValidationErrors::one(
            "reason",
            "is empty; an erasure must say why",
        )));
    }
    let ctx = Ctx {
        reason: reason.to_owned(),
        ..ctx.clone()
    };
    let (ids, report) = erase_person_rows(conn, person, ctx.at).await?;
    audit::append(
        conn,
        &ctx,
        AuditAction::Erase,
        Person::KIND,
        &ids,
        &format!("erased {}", report.summary()),
    )
    .await?;
    Ok(report)
}

async fn ids_where(conn: &mut AnyConnection, sql: &str, id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(sql)
        .bind(id.to_owned())
        .fetch_all(&mut *conn)
        .await?)
}

async fn delete_where(conn: &mut AnyConnection, sql: &str, id: &str) -> Result<()> {
    sqlx::query(sql)
        .bind(id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes the person's rows; returns the ids of every record removed (the person first).
async fn erase_person_rows(
    conn: &mut AnyConnection,
    person: PersonId,
    at: DateTime<Utc>,
) -> Result<(Vec<String>, ErasureReport)> {
    let pid = person.to_string();
    // Lock the person first (as every writer of their records does).
    let locked = sqlx::query("UPDATE persons SET updated_at = updated_at WHERE id = $1")
        .bind(pid.clone())
        .execute(&mut *conn)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(not_found(SubjectKind::Person, &pid));
    }
    let incidents = ids_where(
        conn,
        "SELECT id FROM incidents WHERE person_id = $1 ORDER BY id",
        &pid,
    )
    .await?;
    let referrals = ids_where(
        conn,
        "SELECT id FROM referrals WHERE person_id = $1 ORDER BY id",
        &pid,
    )
    .await?;
    let placements = ids_where(
        conn,
        "SELECT id FROM placements WHERE person_id = $1 ORDER BY id",
        &pid,
    )
    .await?;
    let profiles = ids_where(
        conn,
        "SELECT id || '@' || CAST(version AS TEXT) FROM profiles WHERE person_id = $1 ORDER BY id, version",
        &pid,
    )
    .await?;
    let found = ids_where(
        conn,
        "SELECT id FROM found_persons WHERE identified_as = $1 ORDER BY id",
        &pid,
    )
    .await?;
    delete_where(conn, "DELETE FROM profiles WHERE person_id = $1", &pid).await?;
    delete_where(conn, "DELETE FROM placements WHERE person_id = $1", &pid).await?;
    delete_where(conn, "DELETE FROM referrals WHERE person_id = $1", &pid).await?;
    delete_where(conn, "DELETE FROM incidents WHERE person_id = $1", &pid).await?;
    for f in &found {
        delete_where(
            conn,
            "DELETE FROM retention WHERE record_kind = 'found_person' AND record_id = $1",
            f,
        )
        .await?;
    }
    delete_where(
        conn,
        "DELETE FROM found_persons WHERE identified_as = $1",
        &pid,
    )
    .await?;
    delete_where(
        conn,
        "DELETE FROM retention WHERE record_kind = 'person' AND record_id = $1",
        &pid,
    )
    .await?;
    delete_where(conn, "DELETE FROM persons WHERE id = $1", &pid).await?;
    // Consumers of the outbox (the matching index) forget the person.
    outbox::erased(conn, at, Person::KIND, &pid).await?;
    let mut report = ErasureReport {
        persons: 1,
        incidents: incidents.len() as u64,
        referrals: referrals.len() as u64,
        placements: placements.len() as u64,
        profiles: profiles.len() as u64,
        found_persons: found.len() as u64,
        search_queries: 0,
    };
    let ids: Vec<String> = std::iter::once(pid)
        .chain(incidents)
        .chain(referrals)
        .chain(placements)
        .chain(profiles)
        .chain(found)
        .collect();
    // What officers searched for that concerned the person goes with them.
    report.search_queries = audit::forget_queries(conn, &ids).await?;
    Ok((ids, report))
}

async fn erase_found_rows(
    conn: &mut AnyConnection,
    id: &str,
    at: DateTime<Utc>,
) -> Result<(Vec<String>, ErasureReport)> {
    let done = sqlx::query("DELETE FROM found_persons WHERE id = $1")
        .bind(id.to_owned())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(not_found(SubjectKind::FoundPerson, id));
    }
    delete_where(
        conn,
        "DELETE FROM retention WHERE record_kind = 'found_person' AND record_id = $1",
        id,
    )
    .await?;
    outbox::erased(conn, at, FoundPerson::KIND, id).await?;
    let ids = vec![id.to_owned()];
    let search_queries = audit::forget_queries(conn, &ids).await?;
    Ok((
        ids,
        ErasureReport {
            found_persons: 1,
            search_queries,
            ..ErasureReport::default()
        },
    ))
}

#[async_trait]
impl RetentionStore for SqlStore {
    async fn set_review_date(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        review_date: chrono::NaiveDate,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        set_review_date(&mut tx, ctx, kind, id, review_date).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reviews_due(&self, as_of: chrono::NaiveDate, limit: u32) -> Result<Vec<ReviewDue>> {
        due(&self.pool, as_of, limit).await
    }

    async fn decide_review(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<Option<ErasureReport>> {
        let mut tx = self.begin().await?;
        let report = decide(&mut tx, &self.retention, ctx, kind, id, decision).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn erase_person(
        &self,
        ctx: &Ctx,
        person: PersonId,
        reason: &str,
    ) -> Result<ErasureReport> {
        let mut tx = self.begin().await?;
        let report = erase_person(&mut tx, ctx, person, reason).await?;
        tx.commit().await?;
        Ok(report)
    }
}
