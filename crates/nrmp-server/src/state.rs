//! The application state every handler receives: the store, the clock, the authenticator, the
//! matching index, the settings and the metrics. Cheap to clone (everything is shared).

use crate::auth::Authenticator;
use crate::config::Config;
use crate::matching::MatchIndex;
use crate::metrics::Metrics;
use nrmp_domain::clock::Clock;
use nrmp_domain::ids::IdGen;
use nrmp_store::Store;
use std::sync::Arc;

/// Shared state of the service.
#[derive(Clone)]
pub struct AppState {
    /// The register.
    pub store: Arc<dyn Store>,
    /// The time source (never the wall clock directly).
    pub clock: Arc<dyn Clock>,
    /// Turns credentials into principals.
    pub authenticator: Arc<dyn Authenticator>,
    /// Where new record ids come from.
    pub ids: Arc<dyn IdGen>,
    /// The in-memory matching index for the encounter check, kept current on writes.
    pub index: Arc<MatchIndex>,
    /// Settings.
    pub config: Arc<Config>,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// The analysis snapshot behind the statistics endpoint.
    pub stats: Arc<crate::api::statistics::SnapshotCache>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("config", &self.config)
            .field("index_len", &self.index.len())
            .finish_non_exhaustive()
    }
}
