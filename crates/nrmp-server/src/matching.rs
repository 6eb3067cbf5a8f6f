//! The encounter check's in-memory index: built from every person in the register at start,
//! and kept current by the handlers that create or change a person (after the store commits).

use nrmp_domain::person::Person;
use nrmp_match::domain::match_record;
use nrmp_match::{BlockingConfig, Candidate, Index, MatchRecord, Model};
use nrmp_store::Store;
use std::sync::RwLock;

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
    pub async fn build(store: &dyn Store, model: Model) -> nrmp_store::Result<Self> {
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
