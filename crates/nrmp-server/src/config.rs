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

/// The largest request head (and so URI) the router can be configured to accept; hyper's own
/// buffer is twice this, so a head up to the configured limit reaches the router and is
/// answered as a problem.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

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
    /// Most connections served at once; more are answered 503 with `Retry-After` and closed.
    /// Lowered at start if needed to stay below the open-files limit.
    pub max_connections: usize,
    /// Seconds a client has to send a whole request head, from the start of the connection
    /// or (kept alive) the end of the previous answer; so also the keep-alive idle time.
    /// Longer: the connection is closed.
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to send a whole request body once its head arrived (longer: 408).
    pub body_read_timeout_secs: u64,
    /// Seconds without a byte moving either way before a connection is closed (a client that
    /// stops reading its answer); must be longer than `request_timeout_secs`.
    pub idle_timeout_secs: u64,
    /// Longest request target (path and query) accepted, in bytes (longer: 414).
    pub max_uri_bytes: usize,
    /// Largest request head (all header lines) accepted, in bytes (larger: 431).
    pub max_header_bytes: usize,
    /// Most header lines accepted in one request (more: 431).
    pub max_headers: usize,
    /// Password hashes (sign-in, password changes) computed at once.
    pub sign_in_hash_concurrency: usize,
    /// Sign-ins that may wait for a hashing slot; more are answered 503 with `Retry-After`.
    pub sign_in_queue: usize,
    /// Consecutive failed sign-ins of one user name before each further one makes it wait.
    pub sign_in_throttle_after: u32,
    /// Failed sign-ins from one client address (any user name) within
    /// `sign_in_throttle_max_secs` before each further one makes the address wait.
    pub sign_in_address_throttle_after: u32,
    /// The first wait, in seconds; it doubles with each further failure.
    pub sign_in_throttle_base_secs: u64,
    /// The longest wait, in seconds.
    pub sign_in_throttle_max_secs: u64,
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
            max_connections: 4096,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            sign_in_hash_concurrency: 2,
            sign_in_queue: 32,
            sign_in_throttle_after: 5,
            sign_in_address_throttle_after: 20,
            sign_in_throttle_base_secs: 30,
            sign_in_throttle_max_secs: 900,
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
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("body_read_timeout_secs", &self.body_read_timeout_secs)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("max_uri_bytes", &self.max_uri_bytes)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("max_headers", &self.max_headers)
            .field("sign_in_hash_concurrency", &self.sign_in_hash_concurrency)
            .field("sign_in_queue", &self.sign_in_queue)
            .field("sign_in_throttle_after", &self.sign_in_throttle_after)
            .field(
                "sign_in_address_throttle_after",
                &self.sign_in_address_throttle_after,
            )
            .field(
                "sign_in_throttle_base_secs",
                &self.sign_in_throttle_base_secs,
            )
            .field("sign_in_throttle_max_secs", &self.sign_in_throttle_max_secs)
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
        if !(1..=1_000_000).contains(&self.max_connections) {
            return bad("max_connections", "must be between 1 and 1000000");
        }
        if !(1..=3600).contains(&self.header_read_timeout_secs) {
            return bad("header_read_timeout_secs", "must be between 1 and 3600");
        }
        if !(1..=3600).contains(&self.body_read_timeout_secs) {
            return bad("body_read_timeout_secs", "must be between 1 and 3600");
        }
        if self.idle_timeout_secs <= self.request_timeout_secs || self.idle_timeout_secs > 86_400 {
            return bad(
                "idle_timeout_secs",
                "must be longer than request_timeout_secs and at most 86400",
            );
        }
        if !(256..=MAX_HEAD_BYTES).contains(&self.max_uri_bytes) {
            return bad("max_uri_bytes", "must be between 256 and 65536");
        }
        if !(1024..=MAX_HEAD_BYTES).contains(&self.max_header_bytes) {
            return bad("max_header_bytes", "must be between 1024 and 65536");
        }
        if !(8..=500).contains(&self.max_headers) {
            return bad("max_headers", "must be between 8 and 500");
        }
        if !(1..=256).contains(&self.sign_in_hash_concurrency) {
            return bad("sign_in_hash_concurrency", "must be between 1 and 256");
        }
        if self.sign_in_queue > 100_000 {
            return bad("sign_in_queue", "must be at most 100000");
        }
        if !(1..=1000).contains(&self.sign_in_throttle_after) {
            return bad("sign_in_throttle_after", "must be between 1 and 1000");
        }
        if !(1..=100_000).contains(&self.sign_in_address_throttle_after) {
            return bad(
                "sign_in_address_throttle_after",
                "must be between 1 and 100000",
            );
        }
        if !(1..=86_400).contains(&self.sign_in_throttle_base_secs) {
            return bad("sign_in_throttle_base_secs", "must be between 1 and 86400");
        }
        if self.sign_in_throttle_max_secs < self.sign_in_throttle_base_secs
            || self.sign_in_throttle_max_secs > 86_400
        {
            return bad(
                "sign_in_throttle_max_secs",
                "must be at least sign_in_throttle_base_secs and at most 86400",
            );
        }
        Ok(())
    }
}

impl Config {
    /// The accounts service's settings from these: the hashing gate and the sign-in
    /// throttles; the rest as [`nrmp_app::accounts::AccountSettings::default`].
    pub fn account_settings(&self) -> nrmp_app::accounts::AccountSettings {
        let d = nrmp_app::accounts::AccountSettings::default();
        let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        nrmp_app::accounts::AccountSettings {
            policy: nrmp_domain::account::AccountPolicy {
                max_failures: self.sign_in_throttle_after,
                throttle_base: secs(self.sign_in_throttle_base_secs),
                throttle_max: secs(self.sign_in_throttle_max_secs),
                ..d.policy
            },
            hash_concurrency: self.sign_in_hash_concurrency,
            hash_queue: self.sign_in_queue,
            address_throttle_after: self.sign_in_address_throttle_after,
            ..d
        }
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

    #[test]
    fn transport_and_sign_in_limits_are_checked_and_reach_the_accounts_service() {
        let e = Config::load(None, env(&[("NRMP_IDLE_TIMEOUT_SECS", "10")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("idle_timeout_secs"), "{e}");
        let e = Config::load(None, env(&[("NRMP_MAX_HEADER_BYTES", "1000000")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_header_bytes"), "{e}");
        let e = Config::load(None, env(&[("NRMP_SIGN_IN_HASH_CONCURRENCY", "0")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sign_in_hash_concurrency"), "{e}");
        let c = Config::load(
            None,
            env(&[
                ("NRMP_SIGN_IN_THROTTLE_AFTER", "3"),
                ("NRMP_SIGN_IN_THROTTLE_BASE_SECS", "10"),
                ("NRMP_SIGN_IN_QUEUE", "7"),
            ]),
        )
        .unwrap();
        let a = c.account_settings();
        assert_eq!(a.policy.max_failures, 3);
        assert_eq!(a.policy.throttle_base, chrono::Duration::seconds(10));
        assert_eq!(a.policy.throttle_max, chrono::Duration::seconds(900));
        assert_eq!((a.hash_queue, a.hash_concurrency), (7, 2));
    }
}
