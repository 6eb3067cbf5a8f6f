//! The encounter check's in-memory index: built from every person in the register at start,
//! kept current at once by this node's handlers that create or change a person (after the store
//! commits), and by [`follow_changes`] for every other change — another server node, a bulk
//! command, an erasure — read from the register's transactional outbox.

use nrmp_domain::ids::PersonId;
use nrmp_domain::person::Person;
use nrmp_match::domain::match_record;
use nrmp_match::{BlockingConfig, Candidate, Index, MatchRecord, Model};
use nrmp_store::Stored;
use nrmp_store::prelude::{OutboxStore, QueryStore};
use std::collections::BTreeSet;
use std::sync::RwLock;
use std::time::Duration;

/// The lookup index behind `POST /api/v1/encounters`.
#[derive(Debug)]
pub struct MatchIndex {
    inner: RwLock<Index>,
}

impl MatchIndex {
    /// An empty index with `model`.
    pub fn new(model: Model) -> Self {
        Self {
            inner: RwLock::new(Index::new(model, BlockingConfig::default())),
        }
    }

    /// An index of every person in `store`.
    pub async fn build(store: &dyn QueryStore, model: Model) -> nrmp_store::Result<Self> {
        let mut records: Vec<MatchRecord> = Vec::new();
        nrmp_store::scan_all::<Person>(store, 5_000, |page| {
            records.extend(page.iter().map(match_record));
            Ok(())
        })
        .await?;
        Ok(Self {
            inner: RwLock::new(Index::build(model, BlockingConfig::default(), &records)),
        })
    }

    /// Adds or replaces a person.
    pub fn upsert(&self, person: &Person) {
        let record = match_record(person);
        match self.inner.write() {
            Ok(mut i) => i.upsert(&record),
            Err(poisoned) => poisoned.into_inner().upsert(&record),
        }
    }

    /// Forgets a person (erased, or no longer on the register); false if not indexed.
    pub fn remove(&self, id: &str) -> bool {
        match self.inner.write() {
            Ok(mut i) => i.remove(id),
            Err(poisoned) => poisoned.into_inner().remove(id),
        }
    }

    /// The `k` best candidates for `query`, best first, each with its explanation.
    pub fn lookup(&self, query: &MatchRecord, k: usize) -> Vec<Candidate> {
        match self.inner.read() {
            Ok(i) => i.lookup(query, k),
            Err(poisoned) => poisoned.into_inner().lookup(query, k),
        }
    }

    /// The `k` best of `records` (not the indexed persons) for `query`, scored by this index's
    /// model: for comparing one record with a small set, such as the unidentified found persons.
    pub fn rank_among(
        &self,
        records: &[MatchRecord],
        query: &MatchRecord,
        k: usize,
    ) -> Vec<Candidate> {
        let model = match self.inner.read() {
            Ok(i) => i.model().clone(),
            Err(poisoned) => poisoned.into_inner().model().clone(),
        };
        Index::build(model, BlockingConfig::default(), records).lookup(query, k)
    }

    /// How many persons are indexed.
    pub fn len(&self) -> usize {
        match self.inner.read() {
            Ok(i) => i.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    /// True if nobody is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub use nrmp_store::outbox::ChangeCursor;

/// How long a follower waits for a change number skipped over to commit before it gives the
/// number up (a rolled-back transaction burns its number); see [`nrmp_store::outbox`].
pub const GAP_TIMEOUT: chrono::Duration = chrono::Duration::seconds(60);

/// Reads the changes committed since `cursor` — including one that committed late behind
/// later ones (the cursor tracks gaps in the numbers until they fill) — and applies the
/// persons' to `index`: a person still on the register is re-indexed from the stored record,
/// one that is not (erased) is forgotten. Returns how many persons were applied.
///
/// # Errors
/// Store errors (the cursor is left where it was, so the next call retries).
pub async fn apply_changes<S: OutboxStore + QueryStore + ?Sized>(
    store: &S,
    index: &MatchIndex,
    cursor: &mut ChangeCursor,
    now: chrono::DateTime<chrono::Utc>,
) -> nrmp_store::Result<usize> {
    let mut applied = 0;
    loop {
        let mut next = cursor.clone();
        let changes =
            nrmp_store::outbox::next_changes(store, &mut next, now, GAP_TIMEOUT, 10_000).await?;
        if changes.is_empty() {
            *cursor = next;
            break;
        }
        let mut ids: Vec<PersonId> = changes
            .iter()
            .filter(|c| c.record_kind == Person::KIND)
            .filter_map(|c| c.record_id.parse().ok())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            let found = store.case_histories(&ids).await?;
            for h in &found {
                index.upsert(&h.person);
            }
            let on_register: BTreeSet<PersonId> = found.iter().map(|h| h.person.id).collect();
            for id in ids.iter().filter(|id| !on_register.contains(id)) {
                index.remove(&id.to_string());
            }
            applied += ids.len();
        }
        *cursor = next;
    }
    Ok(applied)
}

/// Follows the outbox every `every` until the task is dropped, applying person changes to the
/// index (see [`apply_changes`]); a failed read is logged and retried at the next tick.
pub async fn follow_changes<S: OutboxStore + QueryStore + ?Sized>(
    store: std::sync::Arc<S>,
    index: std::sync::Arc<MatchIndex>,
    clock: std::sync::Arc<dyn nrmp_domain::clock::Clock>,
    mut cursor: ChangeCursor,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match apply_changes(store.as_ref(), &index, &mut cursor, clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(persons = n, "matching index caught up with the register"),
            Err(e) => tracing::warn!(error = %e, "following the register's changes"),
        }
    }
}
