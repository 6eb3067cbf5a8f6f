//! The SQL implementation of [`Store`], shared by SQLite and PostgreSQL through sqlx's `Any`
//! driver. The two backends differ only in their migrations and connection set-up; every query
//! is written once, in the SQL both understand (`$n` parameters, `ON CONFLICT`, row values).

use crate::query::{self, FoundCursor, FoundFilter, IncidentCursor, IncidentFilter, PersonFilter};
use crate::records::{Stored, Val, decode, ts};
use crate::{
    Backend, ChainReport, Change, Counts, Ctx, ErasureReport, ImportSession, PersonHistory,
    RecordKind, Result, ReviewDue, ScanKey, Store, StoreError, audit_log, retention,
};
use async_trait::async_trait;
use nrmp_domain::audit::search::SearchQuery;
use nrmp_domain::audit::{Actor, AuditAction, AuditEvent};
use nrmp_domain::error::{FieldError, ValidationErrors};
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, ProfileId};
use nrmp_domain::incident::{Incident, check_no_overlap};
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::{AuthoritySpend, OrgCode, OrgKind, Organisation};
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use nrmp_domain::retention::{RetentionPolicy, ReviewDecision, SubjectKind};
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};
use std::collections::{BTreeMap, HashSet};

// Accounts (users, sessions, API tokens) live in their own file; a child module so that they
// write audit events through this module's `audit` helper.
#[path = "accounts.rs"]
mod accounts;
use crate::{AccountChange, AccountChangeFn};
use chrono::{DateTime, Utc};
use nrmp_domain::account::{Account, ApiToken, Session, TokenHash, TokenId, UserId, Username};

/// Settings applied to every SQLite connection: durability over speed, referential integrity.
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 30000",
    SQLITE_DEFAULT_CACHE,
];

/// Page cache of every SQLite connection: 64 MiB (negative = KiB).
const SQLITE_DEFAULT_CACHE: &str = "PRAGMA cache_size = -65536";

/// Page cache for the connection running a bulk import (1 GiB). With a small cache SQLite spills
/// the same B-tree pages to the WAL again and again inside one large transaction.
const SQLITE_IMPORT_CACHE: &str = "PRAGMA cache_size = -1048576";

/// Largest number of bound parameters in one statement (below SQLite's and PostgreSQL's limits).
const MAX_PARAMS: usize = 30_000;

/// A [`Store`] on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    retention: RetentionPolicy,
}

impl SqlStore {
    /// Connects to the database `url` names (see [`crate::open`]).
    pub async fn connect(url: &str) -> Result<Self> {
        /// How long a request waits for a PostgreSQL connection before the database counts
        /// as unavailable ([`crate::StoreError::is_unavailable`]).
        const POSTGRES_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') {
                    url.to_owned()
                } else {
                    format!("{url}?mode=rwc")
                };
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            for pragma in SQLITE_PRAGMAS {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => {
                // A database that cannot be reached is answered within seconds (a 503 the
                // caller may retry), not after sqlx's default 30 s.
                AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                    .connect(url)
                    .await?
            }
        };
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

    async fn begin(&self) -> Result<Transaction<'static, Any>> {
        begin_write(&self.pool, self.backend).await
    }

    /// Runs `f` in a transaction that also records the audit event; commits only if both succeed.
    async fn mutate<T: Stored>(
        &self,
        ctx: &Ctx,
        action: AuditAction,
        item: &T,
        write: Write,
    ) -> Result<()> {
        item.check()?;
        let mut tx = self.begin().await?;
        write_one(&mut tx, self.backend, item, write).await?;
        retention::after_write(&mut tx, &self.retention, item, ctx.at).await?;
        audit(&mut tx, ctx, action, T::KIND, &[item.key()], "").await?;
        outbox(
            &mut tx,
            ctx,
            &format!("{}.{}", T::KIND, action.as_str()),
            T::KIND,
            &item.key(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn read<T: Stored>(&self, ctx: &Ctx, key: &[Val]) -> Result<T> {
        let mut tx = self.begin().await?;
        let item = fetch::<T>(&mut tx, key).await?;
        audit(&mut tx, ctx, AuditAction::Read, T::KIND, &[item.key()], "").await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Writes an incident after locking its person and checking it against their other
    /// incidents.
    async fn write_incident(
        &self,
        ctx: &Ctx,
        incident: &Incident,
        write: Write,
        expected: Option<&Incident>,
    ) -> Result<()> {
        incident.validate()?;
        let mut tx = self.begin().await?;
        lock_person(&mut tx, incident.person_id).await?;
        let existing: Vec<Incident> =
            fetch_where(&mut tx, "person_id", &incident.person_id.to_string()).await?;
        if write == Write::Update {
            let old = existing
                .iter()
                .find(|i| i.id == incident.id)
                .ok_or_else(|| not_found::<Incident>(&incident.id.to_string()))?;
            if expected.is_some_and(|e| e != old) {
                return Err(StoreError::Conflict(format!(
                    "incident {} was changed by someone else meanwhile",
                    incident.id
                )));
            }
            incident.check_update_from(old)?;
        }
        check_no_overlap(incident, &existing).map_err(ValidationErrors::from)?;
        write_one(&mut tx, self.backend, incident, write).await?;
        retention::after_write(&mut tx, &self.retention, incident, ctx.at).await?;
        let action = if write == Write::Insert {
            AuditAction::Create
        } else {
            AuditAction::Update
        };
        let key = incident.id.to_string();
        audit(
            &mut tx,
            ctx,
            action,
            Incident::KIND,
            std::slice::from_ref(&key),
            "",
        )
        .await?;
        outbox(
            &mut tx,
            ctx,
            &format!("incident.{}", action.as_str()),
            Incident::KIND,
            &key,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Insert a new row, or update an existing one (which must exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Insert,
    Update,
}

fn invalid(field: &str, problem: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::one(field, problem))
}

fn not_found<T: Stored>(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: T::KIND,
        id: id.to_owned(),
    }
}

fn bind<'q>(q: Query<'q, Any, AnyArguments<'q>>, v: &Val) -> Query<'q, Any, AnyArguments<'q>> {
    match v {
        Val::Text(s) => q.bind(s.clone()),
        Val::OptText(s) => q.bind(s.clone()),
        Val::Int(i) => q.bind(*i),
    }
}

/// Turns database constraint violations into domain-level errors.
fn classify<T: Stored>(e: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return StoreError::Conflict(format!("{} {what} already exists", T::KIND));
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::Invalid(ValidationErrors::one(
                    T::KIND,
                    format!(
                        "{what} refers to a person or organisation that is not in the register"
                    ),
                ));
            }
            _ => {}
        }
    }
    StoreError::Database(e)
}

fn key_clause<T: Stored>(first_param: usize) -> String {
    T::COLUMNS[..T::KEY_COLUMNS]
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", first_param + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

async fn write_one<T: Stored>(
    conn: &mut AnyConnection,
    backend: Backend,
    item: &T,
    write: Write,
) -> Result<()> {
    match write {
        Write::Insert => insert_many(conn, backend, std::slice::from_ref(item)).await,
        Write::Update => {
            let cols = item.columns();
            let sets: Vec<String> = T::COLUMNS[T::KEY_COLUMNS..]
                .iter()
                .chain(std::iter::once(&"data"))
                .enumerate()
                .map(|(i, c)| format!("{c} = ${}", i + 1))
                .collect();
            let n_set = sets.len();
            let sql = format!(
                "UPDATE {} SET {} WHERE {}",
                T::TABLE,
                sets.join(", "),
                key_clause::<T>(n_set + 1)
            );
            let data =
                Val::Text(
                    serde_json::to_string(item).map_err(|source| StoreError::Corrupt {
                        kind: T::KIND,
                        id: item.key(),
                        source,
                    })?,
                );
            let mut q = sqlx::query(&sql);
            for v in cols[T::KEY_COLUMNS..].iter().chain([&data]) {
                q = bind(q, v);
            }
            for v in &cols[..T::KEY_COLUMNS] {
                q = bind(q, v);
            }
            let done = q
                .execute(&mut *conn)
                .await
                .map_err(|e| classify::<T>(e, &item.key()))?;
            if done.rows_affected() == 0 {
                return Err(not_found::<T>(&item.key()));
            }
            Ok(())
        }
    }
}

/// Inserts many rows with multi-row `INSERT` statements, as few as the parameter limit allows.
///
/// SQLite gets anonymous `?` parameters: sqlx looks up the name of every numbered (`$n`)
/// parameter, and SQLite finds a parameter's name by a linear scan, so binding a statement with
/// thousands of `$n` parameters is quadratic (it took 70 % of an import's time).
/// `rows` parenthesised lists of `width` parameters for a multi-row `VALUES`: `?` on SQLite
/// (numbered `$n` parameters make sqlx-sqlite's binding quadratic), `$1, $2, …` on PostgreSQL.
fn value_rows(backend: Backend, rows: usize, width: usize) -> String {
    let mut sql = String::new();
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", r * width + c + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

/// One outbox event `event` per item, in statements of many rows (as [`insert_many`]).
async fn outbox_many<T: Stored>(
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

async fn insert_many<T: Stored>(
    conn: &mut AnyConnection,
    backend: Backend,
    items: &[T],
) -> Result<()> {
    let width = T::COLUMNS.len() + 1;
    let per_statement = (MAX_PARAMS / width).max(1);
    for chunk in items.chunks(per_statement) {
        let sql = format!(
            "INSERT INTO {} ({}, data) VALUES {}",
            T::TABLE,
            T::COLUMNS.join(", "),
            value_rows(backend, chunk.len(), width)
        );
        let mut q = sqlx::query(&sql);
        for item in chunk {
            for v in item.columns() {
                q = bind(q, &v);
            }
            let json = serde_json::to_string(item).map_err(|source| StoreError::Corrupt {
                kind: T::KIND,
                id: item.key(),
                source,
            })?;
            q = q.bind(json);
        }
        let what = if chunk.len() == 1 {
            chunk[0].key()
        } else {
            format!("(one of {} in a batch)", chunk.len())
        };
        q.execute(&mut *conn)
            .await
            .map_err(|e| classify::<T>(e, &what))?;
    }
    Ok(())
}

async fn fetch<T: Stored>(conn: &mut AnyConnection, key: &[Val]) -> Result<T> {
    let sql = format!("SELECT data FROM {} WHERE {}", T::TABLE, key_clause::<T>(1));
    let mut q = sqlx::query(&sql);
    for v in key {
        q = bind(q, v);
    }
    let id = key
        .iter()
        .map(|v| match v {
            Val::Text(s) => s.clone(),
            Val::OptText(s) => s.clone().unwrap_or_default(),
            Val::Int(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join("@");
    let row = q
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| not_found::<T>(&id))?;
    decode(&id, &row.try_get::<String, _>(0)?)
}

async fn fetch_where<T: Stored>(
    conn: &mut AnyConnection,
    column: &str,
    value: &str,
) -> Result<Vec<T>> {
    let order = T::COLUMNS[..T::KEY_COLUMNS].join(", ");
    let sql = format!(
        "SELECT {}, data FROM {} WHERE {column} = $1 ORDER BY {order}",
        T::COLUMNS[0],
        T::TABLE
    );
    let rows = sqlx::query(&sql)
        .bind(value.to_owned())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| decode(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?))
        .collect()
}

async fn lock_person(conn: &mut AnyConnection, id: PersonId) -> Result<()> {
    // A no-op write takes the person's row lock (PostgreSQL) or the write lock (SQLite) before
    // anything is read, so two writers cannot both pass the overlap check.
    let done = sqlx::query("UPDATE persons SET updated_at = updated_at WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Invalid(ValidationErrors::one(
            "person_id",
            format!("no person with id {id}"),
        )));
    }
    Ok(())
}

/// Transactions of this store. On SQLite they begin `IMMEDIATE`: every store transaction
/// writes (at least its audit event), and taking the write lock up front means a transaction
/// that read first cannot fail to upgrade later, and appends to the audit chain are serial.
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, Any>> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Appends an audit event to the hash-chained log in the caller's transaction (see
/// [`audit_log`]). Call it last, after the transaction's other writes.
async fn audit(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    action: AuditAction,
    kind: &str,
    ids: &[String],
    detail: &str,
) -> Result<()> {
    audit_log::append(conn, ctx, action, kind, ids, detail).await?;
    Ok(())
}

async fn outbox(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    event: &str,
    kind: &str,
    id: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO outbox (at, event, record_kind, record_id) VALUES ($1, $2, $3, $4)")
        .bind(ts(ctx.at))
        .bind(event.to_owned())
        .bind(kind.to_owned())
        .bind(id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) fn parse_audit_row(r: &sqlx::any::AnyRow) -> Result<AuditEvent> {
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

async fn count(pool: &AnyPool, sql: &str) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[async_trait]
impl Store for SqlStore {
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
        audit_log::chain_unchained(&self.pool, self.backend).await?;
        retention::backfill(&self.pool, self.backend, &self.retention).await?;
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(after - before).unwrap_or(0))
    }

    async fn put_organisations(&self, ctx: &Ctx, orgs: &[Organisation]) -> Result<()> {
        let mut tx = self.begin().await?;
        put_organisations(&mut tx, orgs).await?;
        let ids: Vec<String> = orgs.iter().map(|o| o.code.to_string()).collect();
        audit(
            &mut tx,
            ctx,
            AuditAction::Update,
            Organisation::KIND,
            &ids,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn organisations(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query("SELECT code, data FROM organisations ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| decode(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?))
            .collect()
    }

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

    async fn replace_spend(&self, ctx: &Ctx, rows: &[AuthoritySpend]) -> Result<()> {
        let mut seen = HashSet::new();
        for (i, row) in rows.iter().enumerate() {
            row.validate().map_err(|e| {
                StoreError::Invalid(ValidationErrors(
                    e.0.into_iter()
                        .map(|f| FieldError::new(format!("rows[{i}].{}", f.field), f.problem))
                        .collect(),
                ))
            })?;
            if !seen.insert((row.authority.as_str(), row.year)) {
                return Err(invalid(
                    &format!("rows[{i}].year"),
                    &format!("{} {} appears twice", row.authority, row.year),
                ));
            }
        }
        let mut tx = self.begin().await?;
        let authorities: HashSet<String> =
            sqlx::query_scalar("SELECT code FROM organisations WHERE kind = $1")
                .bind(OrgKind::LocalAuthority.as_str())
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        if let Some((i, row)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| !authorities.contains(r.authority.as_str()))
        {
            return Err(invalid(
                &format!("rows[{i}].authority"),
                &format!("{} is not a local authority on the register", row.authority),
            ));
        }
        sqlx::query("DELETE FROM authority_spend")
            .execute(&mut *tx)
            .await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO authority_spend (authority, year, spend_per_child) VALUES ($1, $2, $3)",
            )
            .bind(row.authority.to_string())
            .bind(i64::from(row.year))
            .bind(row.spend_per_child)
            .execute(&mut *tx)
            .await?;
        }
        let years = rows.iter().map(|r| r.year);
        let detail = format!(
            "spend table replaced: {} rows, {} authorities, years {}–{}",
            rows.len(),
            rows.iter()
                .map(|r| &r.authority)
                .collect::<HashSet<_>>()
                .len(),
            years.clone().min().unwrap_or(0),
            years.max().unwrap_or(0)
        );
        audit(
            &mut tx,
            ctx,
            AuditAction::Import,
            AuthoritySpend::KIND,
            &[],
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn spend(&self) -> Result<Vec<AuthoritySpend>> {
        let rows = sqlx::query(
            "SELECT authority, year, spend_per_child FROM authority_spend ORDER BY authority, year",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let code: String = r.try_get(0)?;
                let year: i64 = r.try_get(1)?;
                Ok(AuthoritySpend {
                    authority: OrgCode::parse("authority", &code)
                        .map_err(|e| StoreError::corrupt_value(e.to_string()))?,
                    year: i32::try_from(year)
                        .map_err(|e| StoreError::corrupt_value(format!("year {year}: {e}")))?,
                    spend_per_child: r.try_get(2)?,
                })
            })
            .collect()
    }

    async fn create_person(&self, ctx: &Ctx, person: &Person) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, person, Write::Insert)
            .await
    }

    async fn update_person(&self, ctx: &Ctx, person: &Person) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, person, Write::Update)
            .await
    }

    async fn person(&self, ctx: &Ctx, id: PersonId) -> Result<Person> {
        self.read(ctx, &[Val::Text(id.to_string())]).await
    }

    async fn person_history(&self, ctx: &Ctx, id: PersonId) -> Result<PersonHistory> {
        let key = id.to_string();
        let mut tx = self.begin().await?;
        let person: Person = fetch(&mut tx, &[Val::Text(key.clone())]).await?;
        let mut incidents: Vec<Incident> = fetch_where(&mut tx, "person_id", &key).await?;
        incidents.sort_by_key(|i| i.last_seen_at);
        let referrals = fetch_where(&mut tx, "person_id", &key).await?;
        let placements = fetch_where(&mut tx, "person_id", &key).await?;
        let all_versions: Vec<PrefilledProfile> = fetch_where(&mut tx, "person_id", &key).await?;
        let mut profiles: Vec<PrefilledProfile> = Vec::new();
        for p in all_versions {
            match profiles.iter_mut().find(|q| q.id == p.id) {
                Some(q) if q.version < p.version => *q = p,
                Some(_) => {}
                None => profiles.push(p),
            }
        }
        audit(
            &mut tx,
            ctx,
            AuditAction::Read,
            Person::KIND,
            &[key],
            "with history",
        )
        .await?;
        tx.commit().await?;
        Ok(PersonHistory {
            person,
            incidents,
            referrals,
            placements,
            profiles,
        })
    }

    async fn create_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()> {
        self.write_incident(ctx, incident, Write::Insert, None)
            .await
    }

    async fn update_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()> {
        self.write_incident(ctx, incident, Write::Update, None)
            .await
    }

    async fn incident(&self, ctx: &Ctx, id: IncidentId) -> Result<Incident> {
        self.read(ctx, &[Val::Text(id.to_string())]).await
    }

    async fn create_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, referral, Write::Insert)
            .await
    }

    async fn update_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, referral, Write::Update)
            .await
    }

    async fn create_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, placement, Write::Insert)
            .await
    }

    async fn update_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, placement, Write::Update)
            .await
    }

    async fn save_profile(&self, ctx: &Ctx, profile: &PrefilledProfile) -> Result<()> {
        profile.validate()?;
        let mut tx = self.begin().await?;
        lock_person(&mut tx, profile.person_id).await?;
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM profiles WHERE id = $1")
                .bind(profile.id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        let expected = latest.map_or(1, |v| v + 1);
        if i64::from(profile.version) != expected {
            return Err(StoreError::Conflict(format!(
                "profile {} is at version {}; the next version is {expected}, not {}",
                profile.id,
                latest.unwrap_or(0),
                profile.version
            )));
        }
        insert_many(&mut tx, self.backend, std::slice::from_ref(profile)).await?;
        retention::after_write(&mut tx, &self.retention, profile, ctx.at).await?;
        let action = if expected == 1 {
            AuditAction::Create
        } else {
            AuditAction::Update
        };
        audit(
            &mut tx,
            ctx,
            action,
            PrefilledProfile::KIND,
            &[profile.key()],
            "",
        )
        .await?;
        outbox(
            &mut tx,
            ctx,
            "profile.saved",
            PrefilledProfile::KIND,
            &profile.key(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn profile(
        &self,
        ctx: &Ctx,
        id: ProfileId,
        version: Option<u32>,
    ) -> Result<PrefilledProfile> {
        let version = match version {
            Some(v) => i64::from(v),
            None => sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(version) FROM profiles WHERE id = $1",
            )
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .ok_or_else(|| not_found::<PrefilledProfile>(&id.to_string()))?,
        };
        self.read(ctx, &[Val::Text(id.to_string()), Val::Int(version)])
            .await
    }

    async fn create_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, found, Write::Insert)
            .await
    }

    async fn update_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, found, Write::Update)
            .await
    }

    async fn found_person(&self, ctx: &Ctx, id: FoundPersonId) -> Result<FoundPerson> {
        self.read(ctx, &[Val::Text(id.to_string())]).await
    }

    async fn update_incident_from(
        &self,
        ctx: &Ctx,
        expected: &Incident,
        incident: &Incident,
    ) -> Result<()> {
        self.write_incident(ctx, incident, Write::Update, Some(expected))
            .await
    }

    async fn query_incidents(
        &self,
        filter: &IncidentFilter,
        after: Option<IncidentCursor>,
        limit: u32,
    ) -> Result<Vec<Incident>> {
        query::incidents(&self.pool, filter, after, limit).await
    }

    async fn query_persons(
        &self,
        filter: &PersonFilter,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<Person>> {
        query::persons(&self.pool, filter, after, limit).await
    }

    async fn query_found_persons(
        &self,
        filter: &FoundFilter,
        after: Option<FoundCursor>,
        limit: u32,
    ) -> Result<Vec<FoundPerson>> {
        query::found_persons(&self.pool, filter, after, limit).await
    }

    async fn case_histories(&self, ids: &[PersonId]) -> Result<Vec<PersonHistory>> {
        query::case_histories(&self.pool, ids).await
    }

    async fn migrations_pending(&self) -> Result<usize> {
        let migrator = crate::migrations::migrator(self.backend).await?;
        let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
        query::migrations_pending(&self.pool, &known).await
    }

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

    async fn record_audit(
        &self,
        ctx: &Ctx,
        action: AuditAction,
        record_kind: &str,
        record_ids: &[String],
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        audit(&mut tx, ctx, action, record_kind, record_ids, detail).await?;
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
        audit_log::append_search(&mut tx, ctx, record_kind, shown, concerns, query).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn search_queries(&self, seqs: &[i64]) -> Result<BTreeMap<i64, String>> {
        audit_log::queries_of(&self.pool, seqs).await
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

    async fn create_user(&self, ctx: &Ctx, account: &Account) -> Result<()> {
        accounts::create_user(&self.pool, ctx, account).await
    }
    async fn user(&self, id: UserId) -> Result<Account> {
        accounts::user(&self.pool, id).await
    }
    async fn user_by_name(&self, username: &Username) -> Result<Option<Account>> {
        accounts::user_by_name(&self.pool, username).await
    }
    async fn users(&self, org: Option<&OrgCode>) -> Result<Vec<Account>> {
        accounts::users(&self.pool, org).await
    }
    async fn update_user(
        &self,
        ctx: &Ctx,
        id: UserId,
        change: &AccountChangeFn<'_>,
    ) -> Result<AccountChange> {
        accounts::update_user(&self.pool, ctx, id, change).await
    }
    async fn session(&self, hash: &TokenHash) -> Result<Option<Session>> {
        accounts::session(&self.pool, hash).await
    }
    async fn touch_session(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<()> {
        accounts::touch_session(&self.pool, hash, at).await
    }
    async fn end_session(&self, ctx: &Ctx, hash: &TokenHash, detail: &str) -> Result<bool> {
        accounts::end_session(&self.pool, ctx, hash, detail).await
    }
    async fn create_token(&self, ctx: &Ctx, token: &ApiToken) -> Result<()> {
        accounts::create_token(&self.pool, ctx, token).await
    }
    async fn token(&self, id: TokenId) -> Result<ApiToken> {
        accounts::token(&self.pool, id).await
    }
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiToken>> {
        accounts::token_by_hash(&self.pool, hash).await
    }
    async fn tokens(&self, user: Option<UserId>, org: Option<&OrgCode>) -> Result<Vec<ApiToken>> {
        accounts::tokens(&self.pool, user, org).await
    }
    async fn revoke_token(&self, ctx: &Ctx, id: TokenId) -> Result<ApiToken> {
        accounts::revoke_token(&self.pool, ctx, id).await
    }

    async fn verify_audit_chain(
        &self,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ChainReport> {
        audit_log::verify(&self.pool, progress).await
    }

    async fn audit_events_for(
        &self,
        record_kind: &str,
        record_id: &str,
    ) -> Result<Vec<AuditEvent>> {
        let ids = audit_log::ids_about(&self.pool, record_kind, record_id).await?;
        audit_log::events_naming(&self.pool, &ids).await
    }

    async fn set_review_date(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        review_date: chrono::NaiveDate,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        retention::set_review_date(&mut tx, ctx, kind, id, review_date).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reviews_due(&self, as_of: chrono::NaiveDate, limit: u32) -> Result<Vec<ReviewDue>> {
        retention::due(&self.pool, as_of, limit).await
    }

    async fn decide_review(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<Option<ErasureReport>> {
        let mut tx = self.begin().await?;
        let report = retention::decide(&mut tx, &self.retention, ctx, kind, id, decision).await?;
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
        let report = retention::erase_person(&mut tx, ctx, person, reason).await?;
        tx.commit().await?;
        Ok(report)
    }
}

async fn put_organisations(conn: &mut AnyConnection, orgs: &[Organisation]) -> Result<()> {
    for o in orgs {
        o.validate()?;
        let data = serde_json::to_string(o).map_err(|source| StoreError::Corrupt {
            kind: Organisation::KIND,
            id: o.code.to_string(),
            source,
        })?;
        sqlx::query(
            "INSERT INTO organisations (code, kind, name, data) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, data = excluded.data",
        )
        .bind(o.code.to_string())
        .bind(o.kind.as_str())
        .bind(o.name.clone())
        .bind(data)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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
        outbox_many(&mut self.tx, self.backend, &self.ctx, "person.import", rows).await?;
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
        audit(
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
