//! The bottom of the SQL implementation: connection set-up (pool, SQLite pragmas and page
//! caches), the store's write transactions, and small statement helpers (multi-row `VALUES`
//! lists, counts). Every other module of `sql` may use this one; it uses none of them.

use crate::{Backend, Result};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};

/// Settings applied to every SQLite connection: durability over speed, referential integrity.
pub(super) const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 30000",
    SQLITE_DEFAULT_CACHE,
];

/// Page cache of every SQLite connection: 64 MiB (negative = KiB).
pub(super) const SQLITE_DEFAULT_CACHE: &str = "PRAGMA cache_size = -65536";

/// Page cache for the connection running a bulk import (1 GiB). With a small cache SQLite spills
/// the same B-tree pages to the WAL again and again inside one large transaction.
pub(super) const SQLITE_IMPORT_CACHE: &str = "PRAGMA cache_size = -1048576";

/// Largest number of bound parameters in one statement (below SQLite's and PostgreSQL's limits).
pub(super) const MAX_PARAMS: usize = 30_000;

/// `rows` parenthesised lists of `width` parameters for a multi-row `VALUES`: `?` on SQLite
/// (numbered `$n` parameters make sqlx-sqlite's binding quadratic), `$1, $2, …` on PostgreSQL.
pub(super) fn value_rows(backend: Backend, rows: usize, width: usize) -> String {
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

/// Transactions of this store. On SQLite they begin `IMMEDIATE`: every store transaction
/// writes (at least its audit event), and taking the write lock up front means a transaction
/// that read first cannot fail to upgrade later, and appends to the audit chain are serial.
pub(super) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, Any>> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// [`begin_write`] on whichever backend `pool` connects to.
pub(super) async fn begin_write_on(pool: &AnyPool) -> Result<Transaction<'static, Any>> {
    let backend = if pool.connect_options().database_url.scheme() == "sqlite" {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    begin_write(pool, backend).await
}

pub(super) async fn count(pool: &AnyPool, sql: &str) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// True on a SQLite connection (which gets anonymous `?` parameters in multi-row statements).
pub(super) fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name() == "SQLite"
}

/// How long a request waits for a PostgreSQL connection before the database counts as
/// unavailable ([`crate::StoreError::is_unavailable`]).
const POSTGRES_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A pool of connections to `url` on `backend`: on SQLite every connection gets
/// [`SQLITE_PRAGMAS`] and the file is created if missing.
pub(super) async fn connect_pool(url: &str, backend: Backend) -> Result<AnyPool> {
    Ok(match backend {
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
        // A database that cannot be reached is answered within seconds (a 503 the caller
        // may retry), not after sqlx's default 30 s.
        Backend::Postgres => {
            AnyPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                .connect(url)
                .await?
        }
    })
}
