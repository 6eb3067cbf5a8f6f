//! What keeps sign-in from being a weapon: failure counters kept in memory (for client
//! addresses, and for user names that have no account, so that those are throttled exactly
//! like real ones and a 429 tells nothing about whether a user exists), and the gate that
//! bounds how many password hashes are computed at once.
//!
//! An account's own failures are stored on the account ([`Account::record_failure`]), so they
//! hold across nodes and restarts; these counters are per node and forgotten at restart.
//!
//! [`Account::record_failure`]: nrmp_domain::account::Account::record_failure

use super::AccountError;
use chrono::{DateTime, Duration, Utc};
use nrmp_domain::account::throttle_wait;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// Most keys a [`Throttle`] remembers; past it, the ones whose wait is over are forgotten
/// first, then the oldest.
const MAX_KEYS: usize = 100_000;

/// When a key (a user name, a client address) starts to wait, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRule {
    /// Failures before each further one makes the key wait.
    pub after: u32,
    /// The first wait (doubling with each further failure).
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
    /// Whether a key that failed nothing for `max` starts again from zero (addresses: yes,
    /// shared by many people; user names: no, as stored accounts do not either).
    pub forget_after_quiet: bool,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    until: Option<DateTime<Utc>>,
    last: DateTime<Utc>,
}

/// Failure counters by key, with the growing wait of [`throttle_wait`].
#[derive(Debug)]
pub struct Throttle {
    rule: ThrottleRule,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    /// Counters under `rule`.
    pub fn new(rule: ThrottleRule) -> Self {
        Self {
            rule,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        match self.entries.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// If `key` must wait at `now`: how many seconds more (at least 1).
    pub fn waiting(&self, key: &str, now: DateTime<Utc>) -> Option<u64> {
        let entries = self.entries();
        let until = entries.get(key)?.until?;
        (now < until).then(|| seconds_until(now, until))
    }

    /// Counts a failure of `key` at `now`; returns the wait it started, if any.
    pub fn fail(&self, key: &str, now: DateTime<Utc>) -> Option<Duration> {
        let mut entries = self.entries();
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            let max = self.rule.max;
            entries.retain(|_, e| e.until.is_some_and(|u| u > now) || now - e.last < max);
            if entries.len() >= MAX_KEYS {
                // still full: forget the oldest half
                let mut lasts: Vec<_> = entries.values().map(|e| e.last).collect();
                lasts.sort_unstable();
                let cut = lasts[lasts.len() / 2];
                entries.retain(|_, e| e.last > cut);
            }
        }
        let e = entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            until: None,
            last: now,
        });
        if self.rule.forget_after_quiet && now - e.last >= self.rule.max {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last = now;
        let wait = throttle_wait(e.failures, self.rule.after, self.rule.base, self.rule.max);
        e.until = wait.map(|w| now + w);
        wait
    }

    /// The failures counted for `key` (for tests and metrics).
    pub fn failures(&self, key: &str) -> u32 {
        self.entries().get(key).map_or(0, |e| e.failures)
    }
}

/// Whole seconds from `now` until `until`, rounded up, at least 1 (for `Retry-After`).
pub fn seconds_until(now: DateTime<Utc>, until: DateTime<Utc>) -> u64 {
    let ms = (until - now).num_milliseconds().max(0);
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

/// Bounds the password hashes computed at once (Argon2id is deliberately slow: a flood of
/// sign-ins must not take every core from the other requests). A caller waits for a slot
/// only while fewer than `queue` others wait; beyond, it is refused ([`AccountError::Busy`],
/// 503 with `Retry-After`) rather than queued without end.
#[derive(Debug)]
pub struct HashGate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// Counts one waiter while it lives (also when the waiting request is abandoned).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashGate {
    /// At most `concurrency` hashes at once (at least 1), at most `queue` callers waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The most hashes that ever ran at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `work` (a hash or a verification) on a blocking thread once a slot is free. The
    /// slot is held by the work itself, so an abandoned request does not free it early.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(AccountError::Busy);
                }
                let _waiting = Waiting(&self.waiting);
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| AccountError::Internal(e.to_string()))?
            }
        };
        let running = self.running.clone();
        let peak = self.peak.clone();
        tokio::task::spawn_blocking(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let out = work();
            running.fetch_sub(1, Ordering::SeqCst);
            drop(slot);
            out
        })
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    fn rule(forget: bool) -> ThrottleRule {
        ThrottleRule {
            after: 3,
            base: Duration::seconds(30),
            max: Duration::minutes(15),
            forget_after_quiet: forget,
        }
    }

    #[test]
    fn a_key_waits_from_the_nth_failure_and_longer_each_time() {
        let t = Throttle::new(rule(true));
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        assert_eq!(t.fail("203.0.113.9", now), None);
        assert_eq!(t.fail("203.0.113.9", now), None);
        assert_eq!(t.waiting("203.0.113.9", now), None);
        assert_eq!(t.fail("203.0.113.9", now), Some(Duration::seconds(30)));
        assert_eq!(t.waiting("203.0.113.9", now), Some(30));
        assert_eq!(t.waiting("198.51.100.1", now), None);
        let later = now + Duration::seconds(30);
        assert_eq!(t.waiting("203.0.113.9", later), None);
        assert_eq!(t.fail("203.0.113.9", later), Some(Duration::seconds(60)));
        // an address quiet for the longest wait starts again
        let quiet = later + Duration::minutes(15);
        assert_eq!(t.fail("203.0.113.9", quiet), None);
        // a user name does not
        let names = Throttle::new(rule(false));
        for _ in 0..3 {
            names.fail("nobody", now);
        }
        assert_eq!(names.fail("nobody", quiet), Some(Duration::seconds(60)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::disallowed_methods)] // the sleep stands in for a hash, on a blocking thread
    async fn the_gate_runs_at_most_its_concurrency_and_refuses_past_its_queue() {
        let gate = Arc::new(HashGate::new(1, 2));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let g = gate.clone();
            tasks.push(tokio::spawn(async move {
                g.run(|| std::thread::sleep(std::time::Duration::from_millis(100)))
                    .await
            }));
        }
        let mut busy = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Err(AccountError::Busy)) {
                busy += 1;
            }
        }
        assert_eq!(gate.peak(), 1);
        assert!(busy >= 1, "{busy}");
        assert!(busy <= 5, "{busy}"); // one running and two waiting were always let through
    }
}
