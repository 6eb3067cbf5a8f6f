//! # nrmp-analysis — the national picture, shared by the CLI and the HTTP API
//!
//! The register's second purpose is a national picture of historic incidents. This crate
//! turns register records into an in-memory analysis [`Snapshot`] (one small row per person,
//! incident, referral and placement) and publishes every statistics table from it, with
//! denominators, confidence intervals and disclosure control already applied, so that
//! `nrmp stats …` and the API's statistics endpoints are thin wrappers over the same
//! functions and cannot disagree.
//!
//! | module | what it holds |
//! |---|---|
//! | [`snapshot`] | the snapshot, its builder, cohort definitions and intervals |
//! | [`missing`] | "who went missing" breakdowns and their disclosure control |
//! | [`survival`] | follow-up subjects for time to first missing episode |
//! | [`request`] | one serialisable request per table, and who may ask for what |
//! | [`researcher`] | what the researcher role sees: tables cut from fixed yearly plans |
//! | [`publish`] | one function per published table (and [`publish::publish`] to dispatch) |
//! | [`spend`] | spend per child: the CSV table and the ecological model |
//! | [`report`] | what a published table is: tables, grids, notes, charts; text/CSV/JSON |
//! | `load` (feature `store`) | [`load_snapshot`]: read the register into a snapshot |
//!
//! Pure apart from the `store` feature: no IO, no clock (the end of data is an argument), no
//! command-line parsing (`clap::ValueEnum` on the request enums only with the `clap`
//! feature). Errors are [`AnalysisError`].
//!
//! ```
//! use nrmp_analysis::{Snapshot, SnapshotBuilder};
//! use nrmp_analysis::publish::missing_table;
//! use nrmp_analysis::request::{MissingRequest, Period};
//! use nrmp_analysis::missing::By;
//! use nrmp_analysis::snapshot::Cohort;
//!
//! let snapshot: Snapshot = SnapshotBuilder::new().finish(1_700_000_000);
//! let report = missing_table(
//!     &snapshot,
//!     &MissingRequest {
//!         by: By::Cohort,
//!         cohort: Cohort::All,
//!         period: Period::ALL,
//!         suppression: Default::default(),
//!     },
//! )
//! .unwrap();
//! assert_eq!(report.tables.len(), 1);
//! ```
#![deny(missing_docs)]

pub mod error;
#[cfg(feature = "store")]
mod load;
pub mod missing;
pub mod publish;
pub mod report;
pub mod request;
pub mod researcher;
pub mod snapshot;
pub mod spend;
pub mod survival;

pub use error::{AnalysisError, Result};
#[cfg(feature = "store")]
pub use load::{PAGE, load_snapshot, load_snapshot_paged, load_spend};
pub use report::{Chart, Grid, OutFormat, Report};
pub use request::{Audience, StatsRequest};
pub use researcher::ResearcherView;
pub use snapshot::{Snapshot, SnapshotBuilder};
