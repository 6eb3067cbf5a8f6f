//! The application state every handler receives: the register's use cases, the authenticator,
//! the settings and the metrics. Cheap to clone (everything is shared).

use crate::auth::Authenticator;
use crate::config::Config;
use crate::metrics::Metrics;
use nrmp_app::Register;
use std::sync::Arc;

/// Shared state of the service.
#[derive(Clone)]
pub struct AppState {
    /// The register's use cases (store, matching index, clock and ids inside).
    pub register: Register,
    /// Turns credentials into principals.
    pub authenticator: Arc<dyn Authenticator>,
    /// Settings.
    pub config: Arc<Config>,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// Notified when the alert stream may have grown (this node raised, or another node's
    /// NOTIFY arrived): wakes this node's stream clients.
    pub alerts_changed: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("register", &self.register)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
