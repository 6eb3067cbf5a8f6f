//! Reading and writing any [`Stored`] record's row: insert (one or many, in as few statements
//! as the parameter limit allows), update by key, fetch by key or by a column, the person lock
//! that serialises writers of one person's records, and turning constraint violations into
//! domain errors. Uses only [`super::tx`].

use super::tx::{MAX_PARAMS, value_rows};
use crate::records::{Stored, Val, decode};
use crate::{Backend, Result, StoreError};
use nrmp_domain::error::ValidationErrors;
use nrmp_domain::ids::PersonId;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

/// Insert a new row, or update an existing one (which must exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Write {
    /// `INSERT`.
    Insert,
    /// `UPDATE` by key.
    Update,
}

pub(super) fn invalid(field: &str, problem: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::one(field, problem))
}

pub(super) fn not_found<T: Stored>(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: T::KIND,
        id: id.to_owned(),
    }
}

pub(super) fn bind<'q>(
    q: Query<'q, Any, AnyArguments<'q>>,
    v: &Val,
) -> Query<'q, Any, AnyArguments<'q>> {
    match v {
        Val::Text(s) => q.bind(s.clone()),
        Val::OptText(s) => q.bind(s.clone()),
        Val::Int(i) => q.bind(*i),
    }
}

/// Turns database constraint violations into domain-level errors.
pub(super) fn classify<T: Stored>(e: sqlx::Error, what: &str) -> StoreError {
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
    StoreError::from(e)
}

pub(super) fn key_clause<T: Stored>(first_param: usize) -> String {
    T::COLUMNS[..T::KEY_COLUMNS]
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", first_param + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

pub(super) async fn write_one<T: Stored>(
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
pub(super) async fn insert_many<T: Stored>(
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

pub(super) async fn fetch<T: Stored>(conn: &mut AnyConnection, key: &[Val]) -> Result<T> {
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

pub(super) async fn fetch_where<T: Stored>(
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

pub(super) async fn lock_person(conn: &mut AnyConnection, id: PersonId) -> Result<()> {
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
