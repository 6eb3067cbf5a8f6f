//! Lists, case histories and scans in SQL ([`QueryStore`]) — what the service's list
//! endpoints and need-to-know checks read. None of these reads is audited by itself: they feed
//! a policy decision, and the caller audits what it then discloses.
//!
//! Every query is keyset-paged (`WHERE (key) < (cursor) ORDER BY key LIMIT n`), so a page costs
//! the same wherever it is in the register, and rows inserted meanwhile do not shift pages.
//! Uses nothing else of `sql` but the store value.

use super::SqlStore;
use crate::prelude::*;
use crate::query::{FoundCursor, FoundFilter, IncidentCursor, IncidentFilter, PersonFilter};
use crate::records::{Stored, decode, ts};
use crate::{PersonHistory, RecordKind, Result, ScanKey};
use async_trait::async_trait;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::HashMap;

/// The query text and its bound values, built up clause by clause with numbered parameters.
pub(super) struct Sql {
    clauses: Vec<String>,
    params: Vec<String>,
}

impl Sql {
    fn new() -> Self {
        Self {
            clauses: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Adds a bound value and returns its placeholder.
    fn param(&mut self, v: impl Into<String>) -> String {
        self.params.push(v.into());
        format!("${}", self.params.len())
    }

    /// `column IN (…)` unless `ids` is empty.
    fn ids(&mut self, column: &str, ids: impl Iterator<Item = String>) {
        let ps: Vec<String> = ids.map(|id| self.param(id)).collect();
        if !ps.is_empty() {
            self.clause(format!("{column} IN ({})", ps.join(", ")));
        }
    }

    fn clause(&mut self, c: String) {
        self.clauses.push(c);
    }

    fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    async fn rows<T: Stored>(
        self,
        pool: &AnyPool,
        select: &str,
        order: &str,
        limit: u32,
    ) -> Result<Vec<T>> {
        let sql = format!(
            "{select} {} ORDER BY {order} LIMIT {}",
            self.where_clause(),
            limit
        );
        let mut q = sqlx::query(&sql);
        for p in self.params {
            q = q.bind(p);
        }
        let rows = q.fetch_all(pool).await?;
        rows.iter()
            .map(|r| decode(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?))
            .collect()
    }
}

/// Incidents matching `filter` after `after`, most recently last seen first.
pub(super) async fn incidents(
    pool: &AnyPool,
    filter: &IncidentFilter,
    after: Option<IncidentCursor>,
    limit: u32,
) -> Result<Vec<Incident>> {
    let mut q = Sql::new();
    q.ids("id", filter.ids.iter().map(ToString::to_string));
    match filter.open {
        Some(true) => q.clause("found_at IS NULL".into()),
        Some(false) => q.clause("found_at IS NOT NULL".into()),
        None => {}
    }
    if !filter.risk.is_empty() {
        let ps: Vec<String> = filter.risk.iter().map(|g| q.param(g.as_str())).collect();
        q.clause(format!("risk IN ({})", ps.join(", ")));
    }
    if let Some(f) = &filter.force {
        let p = q.param(f.as_str());
        q.clause(format!("force_missing = {p}"));
    }
    if let Some(o) = &filter.owning_org {
        let p = q.param(o.as_str());
        q.clause(format!("owning_org = {p}"));
    }
    if let Some(a) = &filter.authority {
        let p1 = q.param(a.as_str());
        let p2 = q.param(a.as_str());
        let p3 = q.param(a.as_str());
        let p4 = q.param(a.as_str());
        q.clause(format!(
            "(owning_org = {p1} \
             OR person_id IN (SELECT id FROM persons WHERE owning_org = {p2}) \
             OR person_id IN (SELECT person_id FROM placements \
             WHERE placing_authority = {p3} OR host_authority = {p4}))"
        ));
    }
    if let Some(p) = filter.person {
        let p = q.param(p.to_string());
        q.clause(format!("person_id = {p}"));
    }
    if let Some(c) = filter.category {
        let p = q.param(c.as_str());
        q.clause(format!("category = {p}"));
    }
    if let Some(t) = filter.last_seen_before {
        let p = q.param(ts(t));
        q.clause(format!("last_seen_at <= {p}"));
    }
    if let Some(c) = after {
        let a = q.param(ts(c.last_seen_at));
        let b = q.param(c.id.to_string());
        q.clause(format!("(last_seen_at, id) < ({a}, {b})"));
    }
    q.rows(
        pool,
        "SELECT id, data FROM incidents",
        "last_seen_at DESC, id DESC",
        limit,
    )
    .await
}

/// Persons matching `filter` with ids after `after`, in id order.
pub(super) async fn persons(
    pool: &AnyPool,
    filter: &PersonFilter,
    after: Option<PersonId>,
    limit: u32,
) -> Result<Vec<Person>> {
    let mut q = Sql::new();
    if let Some(o) = &filter.owning_org {
        let p = q.param(o.as_str());
        q.clause(format!("owning_org = {p}"));
    }
    if let Some(a) = after {
        let p = q.param(a.to_string());
        q.clause(format!("id > {p}"));
    }
    q.rows(pool, "SELECT id, data FROM persons", "id", limit)
        .await
}

/// Found-person records matching `filter` after `after`, most recently found first.
pub(super) async fn found_persons(
    pool: &AnyPool,
    filter: &FoundFilter,
    after: Option<FoundCursor>,
    limit: u32,
) -> Result<Vec<FoundPerson>> {
    let mut q = Sql::new();
    q.ids("id", filter.ids.iter().map(ToString::to_string));
    match filter.unidentified {
        Some(true) => q.clause("identified_as IS NULL".into()),
        Some(false) => q.clause("identified_as IS NOT NULL".into()),
        None => {}
    }
    if let Some(o) = &filter.found_by {
        let p = q.param(o.as_str());
        q.clause(format!("found_by = {p}"));
    }
    if let Some(c) = after {
        let a = q.param(ts(c.found_at));
        let b = q.param(c.id.to_string());
        q.clause(format!("(found_at, id) < ({a}, {b})"));
    }
    q.rows(
        pool,
        "SELECT id, data FROM found_persons",
        "found_at DESC, id DESC",
        limit,
    )
    .await
}

/// Rows of `T` whose `column` is one of `keys`, in chunks small enough for any backend.
pub(super) async fn rows_in<T: Stored>(
    conn: &mut AnyConnection,
    column: &str,
    keys: &[String],
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(500) {
        let ps: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {}, data FROM {} WHERE {column} IN ({})",
            T::COLUMNS[0],
            T::TABLE,
            ps.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(k.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push(decode(
                &r.try_get::<String, _>(0)?,
                &r.try_get::<String, _>(1)?,
            )?);
        }
    }
    Ok(out)
}

/// The histories of `ids` (persons that do not exist are left out), in the order asked.
pub(super) async fn case_histories(pool: &AnyPool, ids: &[PersonId]) -> Result<Vec<PersonHistory>> {
    let mut keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    keys.sort();
    keys.dedup();
    // One connection for the five queries: under load, waiting for the pool five times costs
    // more than the queries.
    let mut conn = pool.acquire().await?;
    let persons: Vec<Person> = rows_in(&mut conn, "id", &keys).await?;
    let mut by_id: HashMap<PersonId, PersonHistory> = persons
        .into_iter()
        .map(|person| {
            (
                person.id,
                PersonHistory {
                    person,
                    incidents: Vec::new(),
                    referrals: Vec::new(),
                    placements: Vec::new(),
                    profiles: Vec::new(),
                },
            )
        })
        .collect();
    for i in rows_in::<Incident>(&mut conn, "person_id", &keys).await? {
        if let Some(h) = by_id.get_mut(&i.person_id) {
            h.incidents.push(i);
        }
    }
    for r in rows_in::<NrmReferral>(&mut conn, "person_id", &keys).await? {
        if let Some(h) = by_id.get_mut(&r.person_id) {
            h.referrals.push(r);
        }
    }
    for p in rows_in::<Placement>(&mut conn, "person_id", &keys).await? {
        if let Some(h) = by_id.get_mut(&p.person_id) {
            h.placements.push(p);
        }
    }
    for p in rows_in::<PrefilledProfile>(&mut conn, "person_id", &keys).await? {
        if let Some(h) = by_id.get_mut(&p.person_id) {
            match h.profiles.iter_mut().find(|q| q.id == p.id) {
                Some(q) if q.version < p.version => *q = p,
                Some(_) => {}
                None => h.profiles.push(p),
            }
        }
    }
    let mut out = Vec::with_capacity(by_id.len());
    for id in ids {
        if let Some(mut h) = by_id.remove(id) {
            h.incidents.sort_by_key(|i| (i.last_seen_at, i.id));
            h.referrals.sort_by_key(|r| (r.referred_on, r.id));
            h.placements.sort_by_key(|p| (p.started_at, p.id));
            h.profiles.sort_by_key(|p| p.id);
            out.push(h);
        }
    }
    Ok(out)
}

#[async_trait]
impl QueryStore for SqlStore {
    async fn query_incidents(
        &self,
        filter: &IncidentFilter,
        after: Option<IncidentCursor>,
        limit: u32,
    ) -> Result<Vec<Incident>> {
        incidents(&self.pool, filter, after, limit).await
    }

    async fn query_persons(
        &self,
        filter: &PersonFilter,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<Person>> {
        persons(&self.pool, filter, after, limit).await
    }

    async fn query_found_persons(
        &self,
        filter: &FoundFilter,
        after: Option<FoundCursor>,
        limit: u32,
    ) -> Result<Vec<FoundPerson>> {
        found_persons(&self.pool, filter, after, limit).await
    }

    async fn case_histories(&self, ids: &[PersonId]) -> Result<Vec<PersonHistory>> {
        case_histories(&self.pool, ids).await
    }

    async fn scan(
        &self,
        kind: RecordKind,
        after: Option<ScanKey>,
        limit: u32,
    ) -> Result<Vec<(ScanKey, String)>> {
        let keys = kind.key_columns();
        let two = keys.len() == 2;
        let select = if two {
            format!("{}, {}", keys[0], keys[1])
        } else {
            format!("{}, 0", keys[0])
        };
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
            kind.table(),
            keys.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(i64::from(limit));
        if let Some(ScanKey(k, v)) = after {
            q = q.bind(k);
            if two {
                q = q.bind(v);
            }
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    ScanKey(r.try_get(0)?, r.try_get(1)?),
                    r.try_get::<String, _>(2)?,
                ))
            })
            .collect()
    }
}
