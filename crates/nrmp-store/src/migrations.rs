//! The schema migrations of each backend, embedded in the binary at build time (see `build.rs`)
//! and handed to sqlx's migrator, which applies the ones a database has not had yet and refuses
//! a database whose applied migrations were since changed (by checksum).

use crate::{Backend, Result};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// `(version, description, SQL)` of each migration, in order.
type Embedded = &'static [(i64, &'static str, &'static str)];

static SQLITE: Embedded = include!(concat!(env!("OUT_DIR"), "/sqlite_migrations.rs"));
static POSTGRES: Embedded = include!(concat!(env!("OUT_DIR"), "/postgres_migrations.rs"));

/// The embedded migrations of one backend, as a source for sqlx's migrator.
#[derive(Debug)]
struct Source(Embedded);

impl MigrationSource<'static> for Source {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<Vec<Migration>, BoxDynError>> + Send>>
    {
        let migrations = self
            .0
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    // sqlx's own rule for a migration that must run outside a transaction
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

/// The migrator for `backend`'s schema.
pub(crate) async fn migrator(backend: Backend) -> Result<Migrator> {
    let embedded = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    Ok(Migrator::new(Source(embedded)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in the migration folders is embedded, in order, under its own version.
    #[test]
    fn every_migration_file_is_embedded_in_order() {
        for (dir, embedded) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            files.sort();
            assert_eq!(files.len(), embedded.len(), "{dir}");
            for (file, (version, _, sql)) in files.iter().zip(embedded) {
                let number: i64 = file.split('_').next().unwrap().parse().unwrap();
                assert_eq!(number, *version, "{dir}/{file}");
                let text = std::fs::read_to_string(
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("migrations")
                        .join(dir)
                        .join(file),
                )
                .unwrap();
                assert_eq!(&text, sql, "{dir}/{file}");
            }
        }
    }
}
