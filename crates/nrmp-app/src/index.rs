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

/// How far behind the last change seen the follower re-reads: on PostgreSQL, outbox numbers
/// are taken when a transaction writes, not when it commits, so a change committed late can
/// appear behind one already seen.
const LOOKBACK: i64 = 1_000;
/// Most changes read at a time.
const BATCH: u32 = 1_000;

/// Where a follower of the outbox has got to.
#[derive(Debug, Default)]
pub struct ChangeCursor {
    /// Highest change number applied.
    high: i64,
    /// Change numbers applied within the look-back window.
    applied: BTreeSet<i64>,
}

impl ChangeCursor {
    /// A cursor that has seen every change up to `seq` (the register's last change when the
    /// index was built: the build saw their effects).
    pub fn at(seq: i64) -> Self {
        Self {
            high: seq,
            applied: BTreeSet::new(),
        }
    }
}

/// Reads the changes committed since `cursor` and applies the persons' to `index`: a person
/// still on the register is re-indexed from the stored record, one that is not (erased) is
/// forgotten. Returns how many persons were applied.
///
/// # Errors
/// Store errors (the cursor is left where it was, so the next call retries).
pub async fn apply_changes<S: OutboxStore + QueryStore + ?Sized>(
    store: &S,
    index: &MatchIndex,
    cursor: &mut ChangeCursor,
) -> nrmp_store::Result<usize> {
    let mut applied = 0;
    let mut from = (cursor.high - LOOKBACK).max(0);
    loop {
        let changes = store.changes_after(from, BATCH).await?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            break;
        };
        let new: Vec<_> = changes
            .iter()
            .filter(|c| !cursor.applied.contains(&c.seq))
            .collect();
        let mut ids: Vec<PersonId> = new
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
        for c in &new {
            cursor.applied.insert(c.seq);
        }
        cursor.high = cursor.high.max(last);
        from = last;
        if changes.len() < BATCH as usize {
            break;
        }
    }
    let floor = cursor.high - LOOKBACK;
    cursor.applied = cursor.applied.split_off(&floor);
    Ok(applied)
}

/// Follows the outbox every `every` until the task is dropped, applying person changes to the
/// index (see [`apply_changes`]); a failed read is logged and retried at the next tick.
pub async fn follow_changes<S: OutboxStore + QueryStore + ?Sized>(
    store: std::sync::Arc<S>,
    index: std::sync::Arc<MatchIndex>,
    mut cursor: ChangeCursor,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match apply_changes(store.as_ref(), &index, &mut cursor).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(persons = n, "matching index caught up with the register"),
            Err(e) => tracing::warn!(error = %e, "following the register's changes"),
        }
    }
}
