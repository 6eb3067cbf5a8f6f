//! # nrmp-server
//!
//! The register as a multi-organisation service: a JSON API under `/api/v1` (with its OpenAPI
//! document), sign-in, and the need-to-know policy of [`nrmp_domain::access`] applied to every
//! request. The layer is thin: handlers extract the caller, the stated reason and the input,
//! call the use case of [`nrmp_app::Register`] (which decides need-to-know, audits and
//! validates in one place) and answer with its result.
//!
//! - [`app`]: [`build`] the service, [`router`] for its routes, [`App::serve`];
//! - [`config`]: settings from defaults, a TOML file and `NRMP_*` variables;
//! - [`accounts`]: sign-in, sessions, API tokens and user administration;
//! - [`extract`]: the caller, the stated reason, bodies and queries parsed with named fields;
//! - [`api`]: the handlers, one module per domain noun;
//! - [`error`]: RFC 9457 problem responses;
//! - [`metrics`]: Prometheus metrics;
//! - [`transport`]: the accept loop: connection limit, header-read and idle timeouts;
//! - [`openapi`]: the OpenAPI 3 document;
//! - [`request_log`]: a request id on every answer and one log line per request;
//! - [`ui`]: the web UI (HTML, CSS and JavaScript modules embedded in the binary) at `/`.
#![deny(missing_docs)]

pub mod accounts;
pub use nrmp_app::auth;
pub mod api;
pub mod app;
pub mod config;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod request_log;
pub mod state;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod transport;
pub mod ui;

pub use app::{App, BuildError, build, layered, router};
pub use config::Config;
pub use state::AppState;
