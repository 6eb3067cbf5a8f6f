//! Backup and restore of a whole register database, online, with a manifest that lets a restore
//! refuse a damaged or altered backup.
//!
//! - SQLite: `VACUUM INTO` writes a consistent copy of the live database (readers and writers go
//!   on). PostgreSQL: `pg_dump --format=custom` under a snapshot exported from a read-only,
//!   repeatable-read transaction, in which the manifest is computed too, so both describe the
//!   very same state.
//! - The manifest (`BACKUP.manifest.json` beside the backup) holds the audit chain's head and,
//!   for every table, its row count and a SHA-256 digest of its rows in a fixed order.
//! - A restore goes only into an empty database (SQLite: a file that does not exist yet;
//!   PostgreSQL: a database without tables). It verifies the restored audit chain from its
//!   first event and compares the head and every table with the manifest; on any difference
//!   it removes what it restored and fails.
//!
//! Uses `audit` (the chain head and its verification) and the store's connections; used by
//! nothing else.

use super::{SqlStore, audit};
use crate::{Backend, Result, StoreError, redact_url};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a backup holds, written beside it and checked by a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The audit chain's head: the last event's sequence number…
    pub chain_seq: i64,
    /// …and its hash (empty for an empty log).
    pub chain_hash: String,
    /// Every table: row count and digest of its rows.
    pub tables: BTreeMap<String, TableDigest>,
}

/// One table's rows, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDigest {
    /// Number of rows.
    pub rows: u64,
    /// SHA-256 (hex) of the rows' text forms, in order.
    pub sha256: String,
}

/// The manifest's path for a backup at `backup`.
pub fn manifest_path(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

fn refused(message: impl Into<String>) -> StoreError {
    StoreError::Conflict(message.into())
}

fn io(what: &str, path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Conflict(format!("{what} {}: {e}", path.display()))
}

/// Backs up the register at `url` into `out` (which must not exist), with its manifest.
pub async fn backup(url: &str, out: &Path) -> Result<Manifest> {
    if out.exists() {
        return Err(refused(format!("{} exists already", out.display())));
    }
    let store = SqlStore::connect(url).await?;
    let manifest = match store.backend {
        Backend::Sqlite => {
            let target = out
                .to_str()
                .ok_or_else(|| refused("the backup path is not UTF-8"))?;
            sqlx::query("VACUUM INTO $1")
                .bind(target)
                .execute(&store.pool)
                .await?;
            store.close().await;
            // The manifest describes the copy itself, which nothing else writes to.
            let copy = SqlStore::connect(&format!("sqlite://{target}")).await?;
            let m = describe(&copy.pool, Backend::Sqlite).await;
            copy.close().await;
            m?
        }
        Backend::Postgres => {
            let mut conn = store.pool.acquire().await?;
            sqlx::query("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *conn)
                .await?;
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
                .fetch_one(&mut *conn)
                .await?;
            let dumped = tokio::process::Command::new("pg_dump")
                .args([
                    "--format=custom",
                    "--no-owner",
                    "--snapshot",
                    &snapshot,
                    "--file",
                ])
                .arg(out)
                .arg("--dbname")
                .arg(url)
                .output()
                .await
                .map_err(|e| refused(format!("pg_dump (PostgreSQL's client tools): {e}")))?;
            if !dumped.status.success() {
                return Err(refused(format!(
                    "pg_dump of {} failed: {}",
                    redact_url(url),
                    String::from_utf8_lossy(&dumped.stderr).trim()
                )));
            }
            let m = describe(&mut *conn, Backend::Postgres).await;
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            m?
        }
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| refused(e.to_string()))?;
    let path = manifest_path(out);
    std::fs::write(&path, text).map_err(|e| io("writing", &path, e))?;
    Ok(manifest)
}

/// Restores the backup `from` into the empty database `url`; refuses (restoring nothing) a
/// backup whose audit chain does not verify or that differs from its manifest.
pub async fn restore(from: &Path, url: &str) -> Result<Manifest> {
    let path = manifest_path(from);
    let text = std::fs::read_to_string(&path).map_err(|e| io("reading", &path, e))?;
    let expected: Manifest = serde_json::from_str(&text).map_err(|e| io("reading", &path, e))?;
    let backend = Backend::from_url(url)?;
    if expected.backend != backend.name() {
        return Err(refused(format!(
            "the backup is of a {} register, the target is {}",
            expected.backend,
            backend.name()
        )));
    }
    match backend {
        Backend::Sqlite => {
            let target = PathBuf::from(url.trim_start_matches("sqlite://"));
            if target.exists() {
                return Err(refused(format!(
                    "{} exists already: restore into a new file",
                    target.display()
                )));
            }
            std::fs::copy(from, &target).map_err(|e| io("copying", from, e))?;
            if let Err(e) = check_restored(url, &expected).await {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = target.as_os_str().to_owned();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
                return Err(e);
            }
        }
        Backend::Postgres => {
            let store = SqlStore::connect(url).await?;
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_one(&store.pool)
            .await?;
            store.close().await;
            if tables > 0 {
                return Err(refused(format!(
                    "{} has tables already: restore into an empty database",
                    redact_url(url)
                )));
            }
            let restored = tokio::process::Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname", url])
                .arg(from)
                .output()
                .await
                .map_err(|e| refused(format!("pg_restore (PostgreSQL's client tools): {e}")))?;
            let checked = if restored.status.success() {
                check_restored(url, &expected).await
            } else {
                Err(refused(format!(
                    "pg_restore failed: {}",
                    String::from_utf8_lossy(&restored.stderr).trim()
                )))
            };
            if let Err(e) = checked {
                let store = SqlStore::connect(url).await?;
                let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
                    .fetch_one(&store.pool)
                    .await?;
                let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
                sqlx::query(&format!("DROP SCHEMA {quoted} CASCADE"))
                    .execute(&store.pool)
                    .await?;
                sqlx::query(&format!("CREATE SCHEMA {quoted}"))
                    .execute(&store.pool)
                    .await?;
                store.close().await;
                return Err(e);
            }
        }
    }
    Ok(expected)
}

/// The restored database verifies and matches the manifest.
async fn check_restored(url: &str, expected: &Manifest) -> Result<()> {
    let store = SqlStore::connect(url).await?;
    let result = async {
        let report = audit::verify(&store.pool, &|_| {}).await?;
        if let Some(b) = report.first_break {
            return Err(refused(format!(
                "the backup's audit chain does not verify: {b:?}"
            )));
        }
        let found = describe(&store.pool, store.backend).await?;
        if (found.chain_seq, &found.chain_hash) != (expected.chain_seq, &expected.chain_hash) {
            return Err(refused(format!(
                "the backup's audit chain ends at {} but its manifest says {}",
                found.chain_seq, expected.chain_seq
            )));
        }
        let differ: Vec<&String> = expected
            .tables
            .iter()
            .filter(|(t, d)| found.tables.get(*t) != Some(d))
            .map(|(t, _)| t)
            .chain(
                found
                    .tables
                    .keys()
                    .filter(|t| !expected.tables.contains_key(*t)),
            )
            .collect();
        if !differ.is_empty() {
            return Err(refused(format!(
                "the backup differs from its manifest in {}",
                differ
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

/// The manifest of the register at `url` as it is now (for comparing two registers).
pub async fn describe_url(url: &str) -> Result<Manifest> {
    let store = SqlStore::connect(url).await?;
    let m = describe(&store.pool, store.backend).await;
    store.close().await;
    m
}

/// The manifest of what `conn` sees: the chain head and every table's digest.
async fn describe<'c, E>(conn: E, backend: Backend) -> Result<Manifest>
where
    E: sqlx::Acquire<'c, Database = sqlx::Any>,
{
    let mut conn = conn.acquire().await?;
    let list = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(list).fetch_all(&mut *conn).await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let rows_sql = match backend {
            Backend::Sqlite => {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                        .bind(&name)
                        .fetch_all(&mut *conn)
                        .await?;
                let text = columns
                    .iter()
                    .map(|c| format!("quote(\"{}\")", c.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                format!("SELECT {text} AS r FROM {quoted} ORDER BY 1")
            }
            Backend::Postgres => format!("SELECT t::text AS r FROM {quoted} t ORDER BY 1"),
        };
        let rows: Vec<String> = sqlx::query_scalar(&rows_sql).fetch_all(&mut *conn).await?;
        let mut hash = Sha256::new();
        for r in &rows {
            hash.update(r.as_bytes());
            hash.update(b"\n");
        }
        tables.insert(
            name,
            TableDigest {
                rows: rows.len() as u64,
                sha256: hex(&hash.finalize()),
            },
        );
    }
    let (chain_seq, chain_hash) = audit::head(&mut *conn).await?;
    Ok(Manifest {
        backend: backend.name().to_owned(),
        chain_seq,
        chain_hash: chain_hash.unwrap_or_default(),
        tables,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
