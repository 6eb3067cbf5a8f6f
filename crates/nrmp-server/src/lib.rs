//! # nrmp-server
//!
//! The register as a multi-organisation service: a JSON API under `/api/v1` (with its OpenAPI
//! document), sign-in, and the need-to-know policy of [`nrmp_domain::access`] applied to every
//! request. The layer is thin: handlers parse input into domain types, ask the policy, call the
//! [`nrmp_store::Store`] (which writes the audit event in the same transaction) and render only
//! what the policy's grant lets through.
//!
//! - [`accounts`]: sign-in, sessions, API tokens and user administration.
//! - [`auth`]: how a request's credential becomes a [`nrmp_domain::access::Principal`].
#![deny(missing_docs)]

pub mod accounts;
pub mod auth;
