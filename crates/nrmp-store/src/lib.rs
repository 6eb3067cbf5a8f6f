//! # nrmp-store
//!
//! Storage for the register: the [`Store`] trait, which the CLI and server program against, and
//! its implementation on SQL databases — SQLite (embedded, the default; WAL journal,
//! `synchronous=FULL`, foreign keys on) and PostgreSQL (for real deployments and several server
//! nodes). The backend is chosen from the URL scheme by [`open`].
//!
//! Every mutation runs in one transaction that also writes its audit event (who, for which
//! organisation, what, which records, when, why) and an outbox event for alerting; domain
//! invariants that span records (incidents of one person never overlap, profile versions follow
//! on) are checked inside that transaction.
//!
//! ```no_run
//! # async fn demo() -> nrmp_store::Result<()> {
//! let store = nrmp_store::open("sqlite://nrmp.db").await?;
//! store.migrate().await?;
//! println!("{:?}", store.counts().await?);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod audit_log;
mod error;
mod migrations;
pub mod query;
pub mod records;
mod retention;
mod sql;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use audit_log::ChainReport;
pub use error::{Result, StoreError};
pub use query::{FoundCursor, FoundFilter, IncidentCursor, IncidentFilter, PersonFilter};
pub use records::{RecordKind, Stored};
pub use retention::{ErasureReport, ReviewDue};
pub use sql::SqlStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nrmp_domain::account::{Account, ApiToken, Session, TokenHash, TokenId, UserId, Username};
use nrmp_domain::audit::search::SearchQuery;
use nrmp_domain::audit::{Actor, AuditAction, AuditEvent};
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, ProfileId};
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::{AuthoritySpend, OrgCode, Organisation};
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use nrmp_domain::retention::{ReviewDecision, SubjectKind};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Chooses the backend from a URL's scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(StoreError::UnknownScheme(redact_url(url))),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A database URL with any password replaced by `***`, safe to print or log.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// Opens the store a URL names (`sqlite://PATH` or `postgres://…`), creating a SQLite file if
/// needed. Does not apply migrations: call [`Store::migrate`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::connect(url).await?))
}

/// Who is acting, why, and when: every store call that touches personal data takes one, and
/// the audit event it writes is made from it.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The user and the organisation they act for.
    pub actor: Actor,
    /// The stated reason.
    pub reason: String,
    /// The time of the action (from the injected clock).
    pub at: DateTime<Utc>,
}

impl Ctx {
    /// A context.
    pub fn new(actor: Actor, reason: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            actor,
            reason: reason.into(),
            at,
        }
    }
}

/// One committed change from the transactional outbox: written in the same transaction as the
/// change itself, so a consumer that follows the outbox sees every committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Position in the outbox (increasing; on PostgreSQL a later-committed change may have a
    /// smaller number than one already seen, so consumers re-read a window behind the last).
    pub seq: i64,
    /// What happened, e.g. `person.create`, `person.update`, `person.erase`.
    pub event: String,
    /// Record kind, e.g. `person`.
    pub record_kind: String,
    /// Record key.
    pub record_id: String,
}

/// How many records of each kind are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Organisations.
    pub organisations: u64,
    /// Persons.
    pub persons: u64,
    /// Incidents.
    pub incidents: u64,
    /// Incidents still open.
    pub open_incidents: u64,
    /// NRM referrals.
    pub referrals: u64,
    /// Placements.
    pub placements: u64,
    /// Profile versions.
    pub profiles: u64,
    /// Found persons.
    pub found_persons: u64,
    /// Audit events.
    pub audit_events: u64,
}

/// A person and everything linked to them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PersonHistory {
    /// The person.
    pub person: Person,
    /// Their incidents, oldest first.
    pub incidents: Vec<Incident>,
    /// Their NRM referrals.
    pub referrals: Vec<NrmReferral>,
    /// Their placements.
    pub placements: Vec<Placement>,
    /// The latest version of each of their profiles.
    pub profiles: Vec<PrefilledProfile>,
}

/// Position in a key-ordered scan: the last key seen (text key, and version for profiles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanKey(pub String, pub i64);

/// The register's storage. Implementations are transactional: every mutation and its audit
/// event commit together or not at all.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies pending migrations; returns how many were applied.
    async fn migrate(&self) -> Result<usize>;

    /// Creates or updates organisations (reference data).
    async fn put_organisations(&self, ctx: &Ctx, orgs: &[Organisation]) -> Result<()>;
    /// All organisations, by code.
    async fn organisations(&self) -> Result<Vec<Organisation>>;
    /// Replaces the spend-per-child table with `rows` in one transaction (audited as an
    /// import). Refuses, storing nothing, a row that is invalid, names an organisation that is
    /// not a local authority on the register, or repeats an authority and year.
    async fn replace_spend(&self, ctx: &Ctx, rows: &[AuthoritySpend]) -> Result<()>;
    /// The spend-per-child table, by authority and year (public figures: not audited).
    async fn spend(&self) -> Result<Vec<AuthoritySpend>>;

    /// Adds a person.
    async fn create_person(&self, ctx: &Ctx, person: &Person) -> Result<()>;
    /// Replaces a person's record.
    async fn update_person(&self, ctx: &Ctx, person: &Person) -> Result<()>;
    /// Reads a person (audited as a consultation).
    async fn person(&self, ctx: &Ctx, id: PersonId) -> Result<Person>;
    /// Reads a person with their incidents, referrals, placements and profiles (audited).
    async fn person_history(&self, ctx: &Ctx, id: PersonId) -> Result<PersonHistory>;

    /// Adds an incident; refused if it overlaps another incident of the same person.
    async fn create_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()>;
    /// Replaces an incident (grade change, sighting, return, interview); the same checks apply,
    /// and the risk-grade history may only grow.
    async fn update_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()>;
    /// Reads an incident (audited).
    async fn incident(&self, ctx: &Ctx, id: IncidentId) -> Result<Incident>;

    /// Adds an NRM referral.
    async fn create_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()>;
    /// Replaces an NRM referral (e.g. a grounds decision).
    async fn update_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()>;
    /// Adds a placement.
    async fn create_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()>;
    /// Replaces a placement (e.g. its end).
    async fn update_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()>;

    /// Saves a profile version; it must be version 1 of a new profile or the next version of
    /// an existing one. Old versions are never changed.
    async fn save_profile(&self, ctx: &Ctx, profile: &PrefilledProfile) -> Result<()>;
    /// Reads a profile: the given version, or the latest (audited).
    async fn profile(
        &self,
        ctx: &Ctx,
        id: ProfileId,
        version: Option<u32>,
    ) -> Result<PrefilledProfile>;

    /// Adds a found / unidentified person.
    async fn create_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()>;
    /// Replaces a found-person record (e.g. once identified).
    async fn update_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()>;
    /// Reads a found-person record (audited).
    async fn found_person(&self, ctx: &Ctx, id: FoundPersonId) -> Result<FoundPerson>;

    /// Replaces an incident only if it is still `expected` (as read before the change):
    /// otherwise [`StoreError::Conflict`], so that two concurrent changes (two sightings added
    /// at once) cannot silently drop one. The checks of [`Store::update_incident`] apply.
    async fn update_incident_from(
        &self,
        ctx: &Ctx,
        expected: &Incident,
        incident: &Incident,
    ) -> Result<()>;
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
    /// How many of this build's migrations the database has not applied (readiness check).
    async fn migrations_pending(&self) -> Result<usize>;

    /// Starts an all-or-nothing bulk load.
    async fn begin_import(&self, ctx: &Ctx) -> Result<Box<dyn ImportSession>>;

    /// Reads up to `limit` records of `kind` after `after`, in key order, as their stored JSON.
    /// Not audited by itself: callers that disclose what they read (export) audit that.
    async fn scan(
        &self,
        kind: RecordKind,
        after: Option<ScanKey>,
        limit: u32,
    ) -> Result<Vec<(ScanKey, String)>>;

    /// Record counts.
    async fn counts(&self) -> Result<Counts>;

    /// Committed changes with `seq > after`, oldest first, at most `limit`.
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<Change>>;
    /// The largest change number so far (0 if none).
    async fn last_change(&self) -> Result<i64>;

    /// Size of the database on disk, in bytes (SQLite: the main file's pages, after a WAL
    /// checkpoint; PostgreSQL: `pg_database_size`).
    async fn size_bytes(&self) -> Result<u64>;

    /// Writes an audit event for an action that changes nothing (a search, a disclosure).
    async fn record_audit(
        &self,
        ctx: &Ctx,
        action: AuditAction,
        record_kind: &str,
        record_ids: &[String],
        detail: &str,
    ) -> Result<()>;

    /// Writes the audit event of a search (an encounter check): `shown` are the ids of the
    /// records the caller was shown (the event's record ids), and the event's detail is the
    /// query's non-personal [summary](SearchQuery::summary). The query itself is kept apart from
    /// the chain, linked to every record in `shown` and `concerns` (say, persons the search
    /// matched but the caller may not see), and erasing any of them deletes it. A query that
    /// concerned no record is not kept.
    async fn record_search(
        &self,
        ctx: &Ctx,
        record_kind: &str,
        shown: &[String],
        concerns: &[String],
        query: &SearchQuery,
    ) -> Result<()>;

    /// The stored search queries of these audit events — those still kept (an erasure deletes
    /// the queries that concerned the erased records) — by seq. Not audited by itself: callers
    /// that disclose them (the regulator's export) audit that.
    async fn search_queries(&self, seqs: &[i64]) -> Result<BTreeMap<i64, String>>;

    /// Audit events after `after_seq`, oldest first.
    async fn audit_events(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEvent>>;

    /// Adds a user account; audited as a permission change (the roles it grants). A taken user
    /// name is a [`StoreError::Conflict`]; an unknown organisation is [`StoreError::Invalid`].
    async fn create_user(&self, ctx: &Ctx, account: &Account) -> Result<()>;
    /// Reads an account (account metadata, not case data: not audited here).
    async fn user(&self, id: UserId) -> Result<Account>;
    /// Reads an account by user name, if there is one.
    async fn user_by_name(&self, username: &Username) -> Result<Option<Account>>;
    /// Accounts of one organisation (or of all), by user name.
    async fn users(&self, org: Option<&OrgCode>) -> Result<Vec<Account>>;
    /// Changes an account in one transaction: the row is locked, `change` is given its current
    /// state and says what to write and audit (see [`AccountChange`]). An error from `change`
    /// rolls everything back. Returns what was written.
    async fn update_user(
        &self,
        ctx: &Ctx,
        id: UserId,
        change: &AccountChangeFn<'_>,
    ) -> Result<AccountChange>;
    /// Reads a session by its token's hash.
    async fn session(&self, hash: &TokenHash) -> Result<Option<Session>>;
    /// Records that a session was used at `at` (renews its idle timer). Not audited.
    async fn touch_session(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<()>;
    /// Ends a session (sign-out or timeout), audited as a sign-out with `detail`. Returns false
    /// if it had already ended or does not exist (then nothing is written).
    async fn end_session(&self, ctx: &Ctx, hash: &TokenHash, detail: &str) -> Result<bool>;
    /// Adds an API token (audited as issued).
    async fn create_token(&self, ctx: &Ctx, token: &ApiToken) -> Result<()>;
    /// Reads an API token.
    async fn token(&self, id: TokenId) -> Result<ApiToken>;
    /// Reads an API token by its secret's hash.
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiToken>>;
    /// API tokens of one user, or of one organisation, or all; newest first.
    async fn tokens(&self, user: Option<UserId>, org: Option<&OrgCode>) -> Result<Vec<ApiToken>>;
    /// Revokes an API token at `ctx.at` (audited). Revoking a revoked token changes nothing.
    async fn revoke_token(&self, ctx: &Ctx, id: TokenId) -> Result<ApiToken>;

    /// Verifies the audit log's hash chain (see [`nrmp_domain::audit::chain`]), reading it in
    /// pages and calling `progress` with the number of events read so far. Reports how many
    /// events verified and the first break, if any (a break is a finding, not an `Err`).
    async fn verify_audit_chain(
        &self,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ChainReport>;

    /// Every audit event about a record, oldest first: reads, searches whose results included
    /// it, changes, disclosures, reviews and erasure. For a `person` this includes events about
    /// their incidents, referrals, placements, profiles and found-person records (those still
    /// stored, and those listed by an erasure). Not audited by itself: callers that disclose
    /// the result (the regulator's export) audit that.
    async fn audit_events_for(&self, record_kind: &str, record_id: &str)
    -> Result<Vec<AuditEvent>>;

    /// Sets a subject's retention review date outright (audited).
    async fn set_review_date(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        review_date: chrono::NaiveDate,
    ) -> Result<()>;

    /// Subjects due for review on or before `as_of`, earliest first (ids and dates only).
    async fn reviews_due(&self, as_of: chrono::NaiveDate, limit: u32) -> Result<Vec<ReviewDue>>;

    /// Records a retention review decision for a subject, validated as made on the day of
    /// `ctx.at`; the stated reason is the decision's. Keep sets the next review; erase erases
    /// the subject (see [`Store::erase_person`]) and returns what was removed.
    async fn decide_review(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<Option<ErasureReport>>;

    /// Erases a person and everything linked to them — incidents, referrals, placements,
    /// profile versions and found-person records identified as them — in one transaction,
    /// with one `erase` audit event naming the removed record ids, and deletes every stored
    /// search query that concerned any of them. The audit log itself is untouched (it holds
    /// ids and summaries, not personal details).
    async fn erase_person(
        &self,
        ctx: &Ctx,
        person: PersonId,
        reason: &str,
    ) -> Result<ErasureReport>;
}

/// What one change to an account writes, in one transaction (see [`Store::update_user`]).
#[derive(Debug, Clone)]
pub struct AccountChange {
    /// The account's new state.
    pub account: Account,
    /// Audit events to write: action and detail (the record is the account).
    pub audit: Vec<(AuditAction, String)>,
    /// End every open session of the account (disabled, password reset, roles changed).
    pub end_sessions: bool,
    /// Open this session (a successful sign-in).
    pub new_session: Option<Session>,
}

impl AccountChange {
    /// A change that writes `account` and one audit event.
    pub fn new(account: Account, action: AuditAction, detail: impl Into<String>) -> Self {
        Self {
            account,
            audit: vec![(action, detail.into())],
            end_sessions: false,
            new_session: None,
        }
    }
}

/// The function [`Store::update_user`] applies to an account's current state (it may borrow
/// from its caller for `'a`).
pub type AccountChangeFn<'a> = dyn Fn(&Account) -> Result<AccountChange> + Send + Sync + 'a;

/// A bulk load in one transaction: nothing is visible until [`ImportSession::commit`], and
/// dropping or rolling back leaves the register unchanged.
#[async_trait]
pub trait ImportSession: Send {
    /// Inserts or updates organisations.
    async fn organisations(&mut self, rows: &[Organisation]) -> Result<()>;
    /// Inserts persons.
    async fn persons(&mut self, rows: &[Person]) -> Result<()>;
    /// Inserts incidents (the caller has checked overlaps, see [`ImportSession::incidents_of`]).
    async fn incidents(&mut self, rows: &[Incident]) -> Result<()>;
    /// Inserts NRM referrals.
    async fn referrals(&mut self, rows: &[NrmReferral]) -> Result<()>;
    /// Inserts placements.
    async fn placements(&mut self, rows: &[Placement]) -> Result<()>;
    /// Inserts profile versions.
    async fn profiles(&mut self, rows: &[PrefilledProfile]) -> Result<()>;
    /// Inserts found persons.
    async fn found_persons(&mut self, rows: &[FoundPerson]) -> Result<()>;
    /// Which of `keys` (values of the first key column of `kind`: ids, or organisation codes)
    /// are already stored.
    async fn existing_keys(&mut self, kind: RecordKind, keys: &[String])
    -> Result<HashSet<String>>;
    /// Which organisation codes exist.
    async fn existing_organisations(&mut self) -> Result<HashSet<String>>;
    /// Stored incidents of these persons.
    async fn incidents_of(&mut self, ids: &[PersonId]) -> Result<Vec<Incident>>;
    /// Commits, with one audit event describing the import.
    async fn commit(self: Box<Self>, detail: &str) -> Result<()>;
    /// Abandons the import.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// Reads every record of type `T`, `page` at a time, calling `f` on each page.
pub async fn scan_all<T: Stored>(
    store: &dyn Store,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        let e = Backend::from_url("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mysql://root:***@h/db"), "{e}");
        assert!(!e.contains("hunter2"));
        assert!(Backend::from_url("nrmp.db").is_err());
    }
}
