//! `nrmp serve`: the register as an HTTP service (docs/api.md). Loads the settings (defaults →
//! `--config` file → `NRMP_*` environment → `--database`/`--bind`), applies migrations, builds
//! the matching index, serves, and shuts down gracefully on Ctrl-C or SIGTERM, finishing the
//! requests in flight.

use anyhow::Context;
use clap::Args;
use nrmp_domain::clock::Clock;
use nrmp_server::accounts::Accounts;
use nrmp_server::auth::Authenticator;
use nrmp_server::{App, Config};
use nrmp_store::prelude::*;
use nrmp_store::redact_url;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `nrmp serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database URL (overrides the config file and `NRMP_DATABASE_URL`).
    #[arg(long)]
    pub database: Option<String>,
    /// Address to listen on, e.g. `0.0.0.0:8080` (overrides the config file and `NRMP_BIND`).
    #[arg(long)]
    pub bind: Option<String>,
    /// Settings file (TOML; keys as in docs/api.md).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// How callers sign in: the authenticator and the routes that go with it (sign-in, accounts,
/// tokens), plus lines to print at start (the demo's sign-ins). Hook for the accounts module.
pub struct SignIn {
    /// Turns credentials into principals.
    pub authenticator: Arc<dyn Authenticator>,
    /// Routes served beside the API (with their state applied).
    pub routes: Vec<axum::Router>,
    /// Printed once the service listens (e.g. demo sign-ins for each role).
    pub banner: Vec<String>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

/// The sign-in of this build for `store`: the accounts service (Argon2id passwords, TOTP,
/// sign-in throttling, idle sessions, API tokens — docs/accounts.md) as the authenticator,
/// with the hashing and throttle limits of `config`, and its session, token and user routes
/// beside the API.
pub fn sign_in(
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    config: &Config,
) -> anyhow::Result<SignIn> {
    let accounts = Arc::new(
        Accounts::new(store.clone(), clock.clone(), config.account_settings())
            .context("starting the accounts service")?,
    );
    Ok(SignIn {
        authenticator: accounts.clone(),
        routes: vec![nrmp_server::accounts::routes(accounts)],
        banner: Vec::new(),
    })
}

/// The settings for `nrmp serve`: defaults, file, environment, then the flags.
pub fn load_config(
    file: Option<&std::path::Path>,
    database: Option<&str>,
    bind: Option<&str>,
) -> anyhow::Result<Config> {
    let mut config = Config::load(file, std::env::vars())?;
    if let Some(d) = database {
        config.database_url = d.to_owned();
    }
    if let Some(b) = bind {
        config.bind = b.to_owned();
    }
    config.check()?;
    Ok(config)
}

/// Runs `nrmp serve`.
pub async fn run(args: ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let config = load_config(
        args.config.as_deref(),
        args.database.as_deref(),
        args.bind.as_deref(),
    )?;
    let store = super::open_migrated(&config.database_url).await?;
    let sign_in = sign_in(&store, &clock, &config)?;
    serve(config, store, clock, sign_in).await
}

/// Builds the app on `store` and serves until Ctrl-C or SIGTERM.
pub async fn serve(
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sign_in: SignIn,
) -> anyhow::Result<()> {
    let url = redact_url(&config.database_url);
    tracing::info!(config = ?config, "starting");
    let mut app: App = nrmp_server::build(config, store, clock, sign_in.authenticator)
        .await
        .context("starting the service")?;
    for r in sign_in.routes {
        app = app.merge(r);
    }
    println!(
        "nrmp serving {url} on http://{addr} (web UI at http://{addr}/, API under /api/v1, OpenAPI at /api/openapi.json); Ctrl-C stops",
        addr = app.local_addr()
    );
    for line in &sign_in.banner {
        println!("{line}");
    }
    app.serve(shutdown_signal()).await.context("serving HTTP")?;
    println!("nrmp stopped");
    Ok(())
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_override_the_file_and_unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nrmp.toml");
        std::fs::write(
            &path,
            "bind = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite:///srv/nrmp.db\"\n",
        )
        .unwrap();
        let c = load_config(Some(&path), None, Some("127.0.0.1:0")).unwrap();
        assert_eq!(c.bind, "127.0.0.1:0");
        assert_eq!(c.database_url, "sqlite:///srv/nrmp.db");
        let c = load_config(Some(&path), Some("postgres://u:secret@db/nrmp"), None).unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert!(!format!("{c:?}").contains("secret"));
        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        let e = load_config(Some(&path), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bnid"), "{e}");
        let e = load_config(None, None, Some("nowhere"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bind"), "{e}");
    }
}
