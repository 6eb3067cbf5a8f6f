//! Integration tests of the HTTP API: each test starts the app on a random port against a fresh
//! database, on SQLite and on PostgreSQL, and talks to it with a real HTTP client. One test
//! binary (each extra one is slow to link), one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod helpers;

mod alerts;
mod basics;
mod browser;
mod encounters;
mod incidents;
mod matrix;
mod persons;
mod security;
mod sign_in;
mod statistics;
mod ui;
