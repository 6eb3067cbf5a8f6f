//! Accounts over HTTP: sign-in and sign-out, API tokens and user administration
//! ([`routes`]), adapters of the accounts service of the application layer
//! ([`nrmp_app::accounts`]), re-exported here for the server's callers.

pub(crate) mod http;

pub use crate::error::Problem;
pub use crate::extract::SESSION_COOKIE;
pub use http::routes;
pub use nrmp_app::accounts::*;
