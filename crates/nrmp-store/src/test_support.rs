//! Fresh databases for tests: a new SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `NRMP_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped again when the guard is dropped.

use crate::prelude::*;
use crate::{Backend, Result, SqlStore};
use chrono::{TimeZone, Utc};
use nrmp_domain::audit::Actor;
use nrmp_domain::organisation::OrgCode;
use sqlx::Row;
use std::sync::Arc;

/// The PostgreSQL server tests use to create their databases.
pub fn postgres_admin_url() -> String {
    std::env::var("NRMP_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A migrated, empty store that lives as long as this value.
pub struct TestDb {
    /// The store.
    pub store: Arc<SqlStore>,
    /// Its URL.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    drop_db: Option<String>,
}

impl TestDb {
    /// A fresh, migrated database on `backend`.
    pub async fn new(backend: Backend) -> Result<Self> {
        let db = Self::empty(backend).await?;
        db.store.migrate().await?;
        Ok(db)
    }

    /// A fresh database on `backend` without any table (SQLite: an empty file).
    pub async fn empty(backend: Backend) -> Result<Self> {
        let (url, dir, drop_db) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().map_err(sqlx::Error::Io)?;
                let url = format!("sqlite://{}", dir.path().join("nrmp.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("nrmp_test_{}", uuid::Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(&admin).await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                (format!("{base}/{name}"), None, Some(name))
            }
        };
        let store = Arc::new(SqlStore::connect(&url).await?);
        Ok(Self {
            store,
            url,
            _dir: dir,
            drop_db,
        })
    }

    /// Closes the store and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some(name) = &self.drop_db
            && let Ok(pool) = sqlx::PgPool::connect(&postgres_admin_url()).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }
}

/// Every column of every table of the database whose value contains `needle` (ignoring case),
/// as `table.column: rows`: the whole database, not just the tables a test expects to hold it.
/// Panics on a database error (test helper).
pub async fn rows_containing(store: &SqlStore, needle: &str) -> Vec<String> {
    let pool = store.pool();
    let columns: Vec<(String, String)> = match store.backend() {
        Backend::Sqlite => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let mut out = Vec::new();
            for t in tables {
                let cols: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{t}')"))
                        .fetch_all(pool)
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                out.extend(cols.into_iter().map(|c| (t.clone(), c)));
            }
            out
        }
        Backend::Postgres => sqlx::query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' ORDER BY table_name, column_name",
        )
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect(),
    };
    assert!(columns.len() > 40, "too few columns found: {columns:?}");
    let mut found = Vec::new();
    for (t, c) in columns {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM \"{t}\" WHERE LOWER(CAST(\"{c}\" AS TEXT)) LIKE $1"
        ))
        .bind(format!("%{}%", needle.to_lowercase()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{t}.{c}: {e}"));
        if n > 0 {
            found.push(format!("{t}.{c}: {n}"));
        }
    }
    found
}

/// Characters the audit tables hold, summed over all their text (events, their record index,
/// stored search queries and their links): what a test measures the log's growth by. Panics
/// on a database error (test helper).
pub async fn audit_chars(store: &SqlStore) -> i64 {
    let sql = "SELECT \
        (SELECT COALESCE(SUM(LENGTH(at) + LENGTH(actor_user) + LENGTH(actor_org) + LENGTH(action) \
            + LENGTH(record_kind) + LENGTH(record_ids) + LENGTH(reason) + LENGTH(detail) \
            + LENGTH(prev_hash) + LENGTH(hash)), 0) FROM audit_events) \
      + (SELECT COALESCE(SUM(LENGTH(record_kind) + LENGTH(record_id)), 0) FROM audit_event_records) \
      + (SELECT COALESCE(SUM(LENGTH(query)), 0) FROM audit_search_queries) \
      + (SELECT COALESCE(SUM(LENGTH(record_id)), 0) FROM audit_search_query_subjects)";
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A test actor acting for `org`.
pub fn actor(user: &str, org: &str) -> Actor {
    Actor::new(
        user,
        OrgCode::parse("org", org).unwrap_or_else(|e| panic!("{e}")),
    )
}

/// A fixed instant: 2026-01-01T00:00:00Z plus `hours`.
pub fn at(hours: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::hours(hours)
}

/// Defines each named async test function (taking a [`Backend`]) once per backend, in modules
/// `sqlite` and `postgres`, so every storage test runs on both.
///
/// ```ignore
/// async fn round_trips(backend: Backend) { /* … */ }
/// nrmp_store::on_both_backends!(round_trips);
/// ```
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Backend::Sqlite).await }) *
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Backend::Postgres).await }) *
        }
    };
}
