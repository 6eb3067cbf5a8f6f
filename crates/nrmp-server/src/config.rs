//! The service's settings: defaults, then a TOML file, then `NRMP_*` environment variables, each
//! overriding the one before. Unknown keys — in the file or as `NRMP_` variables — are refused
//! with a message naming the key, so a typo cannot silently leave a default in force. The
//! database URL may hold a password: it is never logged or shown except through
//! [`nrmp_store::redact_url`].

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use std::fmt;
use std::path::Path;

/// `NRMP_` variables that belong to other parts of nrmp (the CLI's actor, the test harness),
/// not to the service's settings; they are neither read nor refused.
pub const NOT_CONFIG_ENV: &[&str] = &[
    "USER",
    "ORG",
    "TEST_POSTGRES",
    "BLESS",
    "TEST_BROWSER",
    "CHROMEDRIVER",
];

/// The service's settings.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080` (port 0: any free port).
    pub bind: String,
    /// Database URL: `sqlite://PATH` or `postgres://USER[:PASSWORD]@HOST:PORT/DB`. Secret.
    pub database_url: String,
    /// Largest request body accepted, in bytes (larger: 413).
    pub body_limit_bytes: usize,
    /// Longest a request may take, in seconds (longer: 408).
    pub request_timeout_secs: u64,
    /// Page size when a list request gives no `limit`.
    pub default_page_size: u32,
    /// Largest `limit` a list request may ask for (larger: 422 naming `limit`).
    pub max_page_size: u32,
    /// Most candidates an encounter check may ask for.
    pub max_candidates: usize,
    /// Matching model file (JSON, from `nrmp train`); empty: the shipped model.
    pub match_model: String,
    /// The statistics endpoint reloads its snapshot of the register once it is this old.
    pub stats_max_age_secs: u64,
    /// How often the matching index reads the register's changes made elsewhere (other
    /// nodes, commands, erasures), in milliseconds.
    pub index_follow_ms: u64,
    /// How often the alert consumer, the review timer and escalation run when nothing wakes
    /// them earlier, and how often an idle alert stream looks for news, in milliseconds.
    pub alert_follow_ms: u64,
    /// The alert rules' thresholds and times (table `[alerts]`, docs/alerts.md).
    pub alerts: nrmp_domain::alert::AlertRules,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://nrmp-data/nrmp.db".to_owned(),
            body_limit_bytes: 256 * 1024,
            request_timeout_secs: 30,
            default_page_size: 50,
            max_page_size: 500,
            max_candidates: 50,
            match_model: String::new(),
            stats_max_age_secs: 900,
            index_follow_ms: 1_000,
            alert_follow_ms: 1_000,
            alerts: nrmp_domain::alert::AlertRules::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &nrmp_store::redact_url(&self.database_url))
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("default_page_size", &self.default_page_size)
            .field("max_page_size", &self.max_page_size)
            .field("max_candidates", &self.max_candidates)
            .field("match_model", &self.match_model)
            .field("stats_max_age_secs", &self.stats_max_age_secs)
            .field("index_follow_ms", &self.index_follow_ms)
            .field("alert_follow_ms", &self.alert_follow_ms)
            .field("alerts", &self.alerts)
            .finish()
    }
}

/// Why the settings could not be loaded; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Defaults, then `file` (if given), then the `NRMP_*` variables of `env` (name, value
    /// pairs; pass `std::env::vars()`), then checks the result.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "--config: {} is not a readable file",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        // The process environment is passed in (tests give their own), so figment's `Env`
        // provider is not used; its convention is: `NRMP_MAX_PAGE_SIZE` sets `max_page_size`.
        let known = Config::keys();
        let mut from_env = figment::value::Dict::new();
        for (name, value) in env {
            let Some(key) = name.strip_prefix("NRMP_") else {
                continue;
            };
            if key.is_empty() || NOT_CONFIG_ENV.contains(&key) {
                continue;
            }
            let key = key.to_ascii_lowercase();
            if !known.contains(&key) {
                return Err(ConfigError(format!(
                    "{name}: unknown setting `{key}` (known: {})",
                    known.join(", ")
                )));
            }
            let value: figment::value::Value = match value.parse() {
                Ok(v) => v,
                Err(never) => match never {},
            };
            from_env.insert(key, value);
        }
        fig = fig.merge(Serialized::defaults(from_env));
        let config: Config = fig.extract().map_err(|e| ConfigError(describe(&e)))?;
        config.check()?;
        Ok(config)
    }

    /// The names of the settings (file keys; `NRMP_` + upper case in the environment).
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Checks values a type cannot: limits in range, a parseable bind address.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, problem: &str| Err(ConfigError(format!("{key}: {problem}")));
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            return bad(
                "bind",
                &format!(
                    "`{}` is not an address with a port (e.g. 127.0.0.1:8080)",
                    self.bind
                ),
            );
        }
        if nrmp_store::Backend::from_url(&self.database_url).is_err() {
            return bad(
                "database_url",
                &format!(
                    "`{}` is not sqlite://PATH or postgres://…",
                    nrmp_store::redact_url(&self.database_url)
                ),
            );
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.body_limit_bytes) {
            return bad("body_limit_bytes", "must be between 1024 and 67108864");
        }
        if !(1..=3600).contains(&self.request_timeout_secs) {
            return bad("request_timeout_secs", "must be between 1 and 3600");
        }
        if self.max_page_size == 0 || self.max_page_size > 10_000 {
            return bad("max_page_size", "must be between 1 and 10000");
        }
        if self.default_page_size == 0 || self.default_page_size > self.max_page_size {
            return bad("default_page_size", "must be between 1 and max_page_size");
        }
        if !(1..=1000).contains(&self.max_candidates) {
            return bad("max_candidates", "must be between 1 and 1000");
        }
        if !(10..=60_000).contains(&self.alert_follow_ms) {
            return bad("alert_follow_ms", "must be between 10 and 60000");
        }
        if let Err(e) = self.alerts.validate() {
            return Err(ConfigError(
                e.0.iter()
                    .map(|f| format!("alerts.{}: {}", f.field, f.problem))
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        Ok(())
    }
}

/// figment's error, with the key and its source, without the value (it may be a secret).
fn describe(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref().map(|s| format!(" (from {s})")))
                .unwrap_or_default();
            let kind = match &e.kind {
                figment::error::Kind::UnknownField(f, _) => {
                    format!("unknown key `{f}` (known: {})", Config::keys().join(", "))
                }
                figment::error::Kind::InvalidType(actual, expected) => {
                    format!("expected {expected}, found {actual}")
                }
                other => other.to_string(),
            };
            if key.is_empty() {
                format!("{kind}{source}")
            } else {
                format!("{key}: {kind}{source}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nrmp.toml");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "bind = \"0.0.0.0:9000\"\nmax_page_size = 200").unwrap();
        let c = Config::load(Some(&path), env(&[])).unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.max_page_size, 200);
        assert_eq!(c.default_page_size, 50);
        let c = Config::load(
            Some(&path),
            env(&[
                ("NRMP_BIND", "127.0.0.1:0"),
                ("NRMP_USER", "someone"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(c.bind, "127.0.0.1:0");
        assert_eq!(c.max_page_size, 200);
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let e = Config::load(None, env(&[("NRMP_BIDN", "x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bidn") && e.contains("NRMP_BIDN"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "max_page_sise = 3\n").unwrap();
        let e = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(e.contains("max_page_sise"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key_and_secrets_stay_hidden() {
        let e = Config::load(None, env(&[("NRMP_MAX_PAGE_SIZE", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_page_size"), "{e}");
        let e = Config::load(
            None,
            env(&[("NRMP_DATABASE_URL", "mysql://root:hunter2@db/nrmp")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("database_url") && !e.contains("hunter2"), "{e}");
        let c = Config::load(
            None,
            env(&[("NRMP_DATABASE_URL", "postgres://app:hunter2@db/nrmp")]),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let e = Config::load(None, env(&[("NRMP_BIND", "localhost")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bind"), "{e}");
    }
}
