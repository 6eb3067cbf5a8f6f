//! # nrmp-app
//!
//! The register's application layer: every use case written once, as one method of
//! [`Register`], called alike by the HTTP API, the web pages and the command line. Each method
//! takes the acting [`Principal`] and the reason they stated; need-to-know is decided and what is
//! disclosed is audited on one private path (`access.rs`) that every read goes through, and every
//! write goes through the store's audited, transactional methods. Adapters only extract input,
//! call a method and render its answer.
//!
//! - [`persons`], [`incidents`], [`related`] (referrals, placements, profiles), [`found`],
//!   [`encounters`] (the encounter check), [`statistics`], [`organisations`]: the use cases;
//! - [`accounts`]: sign-in, sessions, API tokens and user administration; [`auth`]: how a
//!   credential becomes a [`Principal`];
//! - [`index`]: the in-memory matching index the encounter check ranks from, kept current
//!   from the register's outbox;
//! - [`input`]: parsing of list parameters and request bodies with every error naming its field;
//! - [`error`]: [`AppError`], what a use case can fail with (adapters map it once).
//!
//! ```no_run
//! # async fn demo(register: nrmp_app::Register, officer: nrmp_domain::access::Principal)
//! # -> Result<(), nrmp_app::AppError> {
//! let query = nrmp_app::encounters::EncounterInput {
//!     given: Some("Mohamed".into()),
//!     family: Some("Ali".into()),
//!     ..Default::default()
//! };
//! let result = register
//!     .encounter_check(&officer, Some("stopped at Dover".into()), query)
//!     .await?;
//! println!("{} candidates", result.candidates.len());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod access;
pub mod accounts;
pub mod auth;
pub mod encounters;
pub mod error;
pub mod found;
pub mod incidents;
pub mod index;
pub mod input;
pub mod organisations;
pub mod persons;
pub mod related;
pub mod statistics;

pub use access::Case;
pub use error::{AppError, AppResult};
pub use index::MatchIndex;
pub use input::{Created, Page};

use nrmp_domain::access::Principal;
use nrmp_domain::clock::Clock;
use nrmp_domain::ids::IdGen;
use nrmp_store::prelude::*;
use std::sync::Arc;

/// The limits a deployment sets on what one request may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Page size when a list request gives none.
    pub default_page_size: u32,
    /// Largest page a list request may ask for.
    pub max_page_size: u32,
    /// Most candidates an encounter check may ask for.
    pub max_candidates: usize,
    /// The statistics snapshot is reloaded once it is this old, in seconds.
    pub stats_max_age_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            default_page_size: 50,
            max_page_size: 500,
            max_candidates: 50,
            stats_max_age_secs: 900,
        }
    }
}

/// The register's use cases over one store, matching index, clock and id source. Cheap to
/// clone (everything is shared).
#[derive(Clone)]
pub struct Register {
    /// The register's records.
    pub store: Arc<dyn Store>,
    /// The matching index the encounter check ranks from.
    pub index: Arc<MatchIndex>,
    /// The time source (never the wall clock directly).
    pub clock: Arc<dyn Clock>,
    /// Where new record ids come from.
    pub ids: Arc<dyn IdGen>,
    /// What one request may ask for.
    pub limits: Limits,
    stats: Arc<statistics::SnapshotCache>,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("backend", &self.store.backend())
            .field("index_len", &self.index.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Register {
    /// The register over `store`, ranking encounter checks from `index`.
    pub fn new(
        store: Arc<dyn Store>,
        index: Arc<MatchIndex>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        limits: Limits,
    ) -> Self {
        Self {
            store,
            index,
            clock,
            ids,
            limits,
            stats: Arc::default(),
        }
    }

    /// The store context for `principal` acting now with `reason` (empty when none was stated).
    fn ctx(&self, principal: &Principal, reason: Option<&str>) -> nrmp_store::Ctx {
        nrmp_store::Ctx::new(
            principal.actor(),
            reason.unwrap_or_default(),
            self.clock.now(),
        )
    }
}
