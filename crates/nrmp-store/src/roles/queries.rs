//! Unaudited reads of many records: filtered, keyset-paged lists, the case histories a
//! need-to-know decision is made from, and key-ordered scans of whole tables (export, index
//! building). None of these discloses anything by itself: the caller decides per row and
//! audits what it then shows.

use crate::Result;
use crate::query::{FoundCursor, FoundFilter, IncidentCursor, IncidentFilter, PersonFilter};
use crate::records::{self, RecordKind, Stored};
use crate::roles::records::PersonHistory;
use async_trait::async_trait;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::Incident;
use nrmp_domain::person::Person;

/// Position in a key-ordered scan: the last key seen (text key, and version for profiles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanKey(pub String, pub i64);

/// Lists, histories and scans, not audited.
#[async_trait]
pub trait QueryStore: Send + Sync {
    /// Incidents matching `filter`, most recently last seen first, after `after`; at most
    /// `limit`. Not audited: the caller decides per row and audits what it discloses.
    async fn query_incidents(
        &self,
        filter: &IncidentFilter,
        after: Option<IncidentCursor>,
        limit: u32,
    ) -> Result<Vec<Incident>>;
    /// Persons matching `filter`, in id order, after `after`; at most `limit`. Not audited.
    async fn query_persons(
        &self,
        filter: &PersonFilter,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<Person>>;
    /// Found-person records matching `filter`, most recently found first, after `after`; at
    /// most `limit`. Not audited.
    async fn query_found_persons(
        &self,
        filter: &FoundFilter,
        after: Option<FoundCursor>,
        limit: u32,
    ) -> Result<Vec<FoundPerson>>;
    /// The histories of these persons (unknown ids are left out), in the order asked: what a
    /// need-to-know decision is made from. Not audited: callers audit what they disclose.
    async fn case_histories(&self, ids: &[PersonId]) -> Result<Vec<PersonHistory>>;

    /// Reads up to `limit` records of `kind` after `after`, in key order, as their stored JSON.
    /// Not audited by itself: callers that disclose what they read (export) audit that.
    async fn scan(
        &self,
        kind: RecordKind,
        after: Option<ScanKey>,
        limit: u32,
    ) -> Result<Vec<(ScanKey, String)>>;
}

/// Reads every record of type `T`, `page` at a time, calling `f` on each page.
pub async fn scan_all<T: Stored>(
    store: &dyn QueryStore,
    page: u32,
    mut f: impl FnMut(Vec<T>) -> Result<()> + Send,
) -> Result<()> {
    let mut after = None;
    loop {
        let rows = store.scan(T::RECORD, after.clone(), page).await?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        let n = rows.len();
        let items = rows
            .iter()
            .map(|(k, json)| records::decode(&k.0, json))
            .collect::<Result<Vec<T>>>()?;
        f(items)?;
        if n < page as usize {
            return Ok(());
        }
    }
}
