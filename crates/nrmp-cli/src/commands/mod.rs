//! One module per `nrmp` subcommand: its arguments (clap) and what it does. (The benchmarks
//! are the separate `nrmp-bench` binary, crate `nrmp-bench`.)

pub mod audit;
pub mod backup;
pub mod demo;
pub mod export;
pub mod import;
pub mod matching;
pub mod migrate;
pub mod serve;
pub mod stats;
pub mod synth;
pub mod users;

use anyhow::Context;
use nrmp_store::prelude::*;
use nrmp_store::redact_url;
use std::sync::Arc;

/// Opens the register at `url` and applies pending migrations.
pub async fn open_migrated(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating directory {}", dir.display()))?;
        }
    }
    let store = nrmp_store::open(url)
        .await
        .with_context(|| format!("opening {}", redact_url(url)))?;
    let applied = store.migrate().await.context("applying migrations")?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    Ok(store)
}

/// The file format of a dataset directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// CSV with a header row (profiles and found persons as JSON lines).
    Csv,
    /// JSON lines: one record per line.
    Json,
}

impl From<FormatArg> for nrmp_interchange::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Csv => Self::Csv,
            FormatArg::Json => Self::Json,
        }
    }
}
