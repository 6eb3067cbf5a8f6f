//! The importer: loads a dataset directory into the register, all or nothing by default.
//!
//! Every row is parsed and validated by the interchange readers (domain rules), then checked
//! against the register and the rest of the file: references to persons and organisations must
//! resolve, ids must be new, and incidents of one person must not overlap. By default one bad
//! row means nothing is loaded and every bad row is reported as `file:line: field: problem`;
//! with `skip_invalid` the good rows are loaded and the bad ones returned with their reasons.
//! Everything happens in one store transaction, committed with one audit event.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use nrmp_domain::FieldError;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{IncidentId, PersonId};
use nrmp_domain::incident::{Incident, episodes_overlap};
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use nrmp_interchange::{DatasetFiles, RowError, Rows};
use nrmp_store::prelude::*;
use nrmp_store::{Ctx, ImportSession, RecordKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Load the good rows and report the bad ones instead of refusing the whole dataset.
    pub skip_invalid: bool,
    /// Rows per database batch.
    pub batch: usize,
    /// Show progress bars.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            skip_invalid: false,
            batch: 2_000,
            progress: false,
        }
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Records loaded, by file stem (`persons`, `incidents`...).
    pub loaded: BTreeMap<&'static str, u64>,
    /// Every problem found, one per bad field, in file order.
    pub rejected: Vec<RowError>,
    /// How many rows were rejected.
    pub rejected_rows: u64,
    /// True if the import was committed.
    pub committed: bool,
    /// Files present but not loaded, with why.
    pub ignored: Vec<String>,
}

impl Report {
    /// Total records loaded.
    pub fn total_loaded(&self) -> u64 {
        self.loaded.values().sum()
    }
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = nrmp_store::Result<T>> + Send + 'a>>;

/// A record kind the importer can load: what it refers to and how to insert it.
trait Loadable: nrmp_interchange::Record + Send + Sync + 'static {
    /// File stem, for the report.
    const STEM: &'static str;
    /// The store's kind (for id look-ups).
    const STORE_KIND: RecordKind;
    /// The id the store keys it on (first key column) and the key unique within a file.
    fn keys(&self) -> (String, String);
    /// Persons it refers to, with the column naming each.
    fn person_refs(&self) -> Vec<(&'static str, PersonId)> {
        Vec::new()
    }
    /// Organisations it refers to, with the column naming each.
    fn org_refs(&self) -> Vec<(String, String)>;
    /// Inserts a batch.
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()>;
}

impl Loadable for Organisation {
    const STEM: &'static str = "organisations";
    const STORE_KIND: RecordKind = RecordKind::Organisation;
    fn keys(&self) -> (String, String) {
        (self.code.to_string(), self.code.to_string())
    }
    fn org_refs(&self) -> Vec<(String, String)> {
        self.police_force
            .iter()
            .map(|f| ("police_force".to_owned(), f.to_string()))
            .collect()
    }
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()> {
        s.organisations(rows)
    }
}

impl Loadable for Person {
    const STEM: &'static str = "persons";
    const STORE_KIND: RecordKind = RecordKind::Person;
    fn keys(&self) -> (String, String) {
        (self.id.to_string(), self.id.to_string())
    }
    fn org_refs(&self) -> Vec<(String, String)> {
        vec![("owning_org".to_owned(), self.owning_org.to_string())]
    }
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()> {
        s.persons(rows)
    }
}

impl Loadable for Incident {
    const STEM: &'static str = "incidents";
    const STORE_KIND: RecordKind = RecordKind::Incident;
    fn keys(&self) -> (String, String) {
        (self.id.to_string(), self.id.to_string())
    }
    fn person_refs(&self) -> Vec<(&'static str, PersonId)> {
        vec![("person_id", self.person_id)]
    }
    fn org_refs(&self) -> Vec<(String, String)> {
        let mut refs = vec![
            ("owning_org".to_owned(), self.owning_org.to_string()),
            ("force_missing".to_owned(), self.force_missing.to_string()),
        ];
        refs.extend(
            self.involved
                .iter()
                .enumerate()
                .map(|(i, o)| (format!("involved[{i}]"), o.to_string())),
        );
        if let Some(r) = &self.returned {
            refs.push(("found_by".to_owned(), r.found_by.to_string()));
        }
        refs
    }
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()> {
        s.incidents(rows)
    }
}

impl Loadable for NrmReferral {
    const STEM: &'static str = "referrals";
    const STORE_KIND: RecordKind = RecordKind::Referral;
    fn keys(&self) -> (String, String) {
        (self.id.to_string(), self.id.to_string())
    }
    fn person_refs(&self) -> Vec<(&'static str, PersonId)> {
        vec![("person_id", self.person_id)]
    }
    fn org_refs(&self) -> Vec<(String, String)> {
        vec![(
            "first_responder".to_owned(),
            self.first_responder.to_string(),
        )]
    }
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()> {
        s.referrals(rows)
    }
}

impl Loadable for Placement {
    const STEM: &'static str = "placements";
    const STORE_KIND: RecordKind = RecordKind::Placement;
    fn keys(&self) -> (String, String) {
        (self.id.to_string(), self.id.to_string())
    }
    fn person_refs(&self) -> Vec<(&'static str, PersonId)> {
        vec![("person_id", self.person_id)]
    }
    fn org_refs(&self) -> Vec<(String, String)> {
        vec![
            (
                "placing_authority".to_owned(),
                self.placing_authority.to_string(),
            ),
            ("host_authority".to_owned(), self.host_authority.to_string()),
        ]
    }
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()> {
        s.placements(rows)
    }
}

impl Loadable for PrefilledProfile {
    const STEM: &'static str = "profiles";
    const STORE_KIND: RecordKind = RecordKind::Profile;
    fn keys(&self) -> (String, String) {
        (self.id.to_string(), format!("{}@{}", self.id, self.version))
    }
    fn person_refs(&self) -> Vec<(&'static str, PersonId)> {
        vec![("person_id", self.person_id)]
    }
    fn org_refs(&self) -> Vec<(String, String)> {
        vec![("prepared_by".to_owned(), self.prepared_by.to_string())]
    }
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()> {
        s.profiles(rows)
    }
}

impl Loadable for FoundPerson {
    const STEM: &'static str = "found_persons";
    const STORE_KIND: RecordKind = RecordKind::FoundPerson;
    fn keys(&self) -> (String, String) {
        (self.id.to_string(), self.id.to_string())
    }
    fn person_refs(&self) -> Vec<(&'static str, PersonId)> {
        self.identified_as
            .iter()
            .map(|p| ("identified_as", *p))
            .collect()
    }
    fn org_refs(&self) -> Vec<(String, String)> {
        vec![("found_by".to_owned(), self.found_by.to_string())]
    }
    fn insert<'a>(s: &'a mut dyn ImportSession, rows: &'a [Self]) -> BoxFut<'a, ()> {
        s.found_persons(rows)
    }
}

type Episode = (IncidentId, DateTime<Utc>, Option<DateTime<Utc>>);

/// The state of one import.
struct Importer {
    session: Box<dyn ImportSession>,
    opts: Options,
    report: Report,
    orgs: HashSet<String>,
    /// Persons known to exist: loaded by this import or already stored.
    persons: HashSet<PersonId>,
    /// Persons loaded by this import.
    new_persons: HashSet<PersonId>,
    /// Persons known not to exist.
    missing_persons: HashSet<PersonId>,
    /// Incident episodes per person, for the overlap check.
    episodes: HashMap<PersonId, Vec<Episode>>,
    /// Stored persons whose stored incidents have been added to `episodes`.
    episodes_loaded: HashSet<PersonId>,
}

impl Importer {
    fn failed(&self) -> bool {
        self.report.rejected_rows > 0 && !self.opts.skip_invalid
    }

    fn reject(&mut self, file: &str, line: u64, errors: Vec<FieldError>) {
        self.report.rejected_rows += 1;
        self.report
            .rejected
            .extend(errors.into_iter().map(|e| RowError {
                file: file.to_owned(),
                line,
                field: e.field,
                problem: e.problem,
            }));
    }

    /// Resolves which persons referred to by `batch` exist, asking the store about new ones;
    /// for incidents, also brings in the stored incidents of stored persons for the overlap
    /// check.
    async fn resolve_persons<T: Loadable>(&mut self, batch: &[(u64, T)]) -> anyhow::Result<()> {
        let refs: HashSet<PersonId> = batch
            .iter()
            .flat_map(|(_, r)| r.person_refs())
            .map(|(_, p)| p)
            .collect();
        let unknown: Vec<PersonId> = refs
            .iter()
            .filter(|p| !self.persons.contains(p) && !self.missing_persons.contains(p))
            .copied()
            .collect();
        if !unknown.is_empty() {
            let keys: Vec<String> = unknown.iter().map(ToString::to_string).collect();
            let stored = self
                .session
                .existing_keys(RecordKind::Person, &keys)
                .await?;
            for p in unknown {
                if stored.contains(&p.to_string()) {
                    self.persons.insert(p);
                } else {
                    self.missing_persons.insert(p);
                }
            }
        }
        if T::STORE_KIND == RecordKind::Incident {
            let need: Vec<PersonId> = refs
                .into_iter()
                .filter(|p| self.persons.contains(p) && !self.new_persons.contains(p))
                .filter(|p| self.episodes_loaded.insert(*p))
                .collect();
            if !need.is_empty() {
                for i in self.session.incidents_of(&need).await? {
                    self.episodes.entry(i.person_id).or_default().push((
                        i.id,
                        i.last_seen_at,
                        i.ended_at(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks one batch against the register and the file so far; loads the good rows.
    async fn load_batch<T: Loadable>(
        &mut self,
        file: &str,
        batch: Vec<(u64, T)>,
        seen: &mut HashMap<String, u64>,
        extra: &mut (dyn FnMut(&mut Self, &T) -> Vec<FieldError> + Send),
    ) -> anyhow::Result<()> {
        self.resolve_persons(&batch).await?;
        let ids: Vec<String> = batch.iter().map(|(_, r)| r.keys().0).collect();
        let stored = if T::STORE_KIND == RecordKind::Organisation {
            HashSet::new() // organisations are upserted: reference data may be reloaded
        } else {
            self.session.existing_keys(T::STORE_KIND, &ids).await?
        };
        let mut good = Vec::with_capacity(batch.len());
        for (line, row) in batch {
            let (store_key, file_key) = row.keys();
            let mut errors = Vec::new();
            if let Some(first) = seen.get(&file_key) {
                errors.push(FieldError::new(
                    "id",
                    format!("`{file_key}` appears twice (first on line {first})"),
                ));
            } else if stored.contains(&store_key) {
                errors.push(FieldError::new(
                    "id",
                    format!("`{store_key}` is already in the register"),
                ));
            }
            for (field, p) in row.person_refs() {
                if !self.persons.contains(&p) {
                    errors.push(FieldError::new(
                        field,
                        format!("no person `{p}` in the register or this dataset"),
                    ));
                }
            }
            for (field, org) in row.org_refs() {
                if !self.orgs.contains(&org) {
                    errors.push(FieldError::new(
                        field,
                        format!("no organisation `{org}` in the register or this dataset"),
                    ));
                }
            }
            if errors.is_empty() {
                errors = extra(self, &row);
            }
            if errors.is_empty() {
                seen.insert(file_key, line);
                good.push(row);
            } else {
                self.reject(file, line, errors);
            }
        }
        if !self.failed() && !good.is_empty() {
            T::insert(self.session.as_mut(), &good)
                .await
                .with_context(|| format!("loading {file}"))?;
            *self.report.loaded.entry(T::STEM).or_default() += good.len() as u64;
        }
        Ok(())
    }

    /// Loads every row of one file. A blocking thread reads and parses rows into batches while
    /// this task checks and inserts the previous batch, so parsing and the database overlap.
    async fn load<T: Loadable>(
        &mut self,
        rows: Option<Rows<T>>,
        mut extra: impl FnMut(&mut Self, &T) -> Vec<FieldError> + Send,
    ) -> anyhow::Result<()>
    where
        Rows<T>: Iterator<Item = Result<T, nrmp_interchange::RowErrors>> + Send,
    {
        let Some(mut rows) = rows else {
            return Ok(());
        };
        let file = rows.file().to_owned();
        let pb = if self.opts.progress {
            crate::progress::counter(T::STEM)
        } else {
            indicatif::ProgressBar::hidden()
        };
        let batch_size = self.opts.batch;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsed<T>>(4);
        let parser = tokio::task::spawn_blocking(move || {
            let mut parsed = Parsed::with_capacity(batch_size);
            while let Some(next) = rows.next() {
                match next {
                    Ok(row) => parsed.rows.push((rows.line(), row)),
                    Err(errors) => {
                        parsed.bad_rows += 1;
                        parsed.errors.extend(errors.0);
                    }
                }
                if parsed.rows.len() >= batch_size {
                    let full = std::mem::replace(&mut parsed, Parsed::with_capacity(batch_size));
                    if tx.blocking_send(full).is_err() {
                        return; // the loader stopped on an error
                    }
                }
            }
            let _ = tx.blocking_send(parsed);
        });
        let first_error = self.report.rejected.len();
        let mut seen = HashMap::new();
        while let Some(parsed) = rx.recv().await {
            self.report.rejected_rows += parsed.bad_rows;
            self.report.rejected.extend(parsed.errors);
            let n = parsed.rows.len() as u64;
            if n > 0 {
                self.load_batch(&file, parsed.rows, &mut seen, &mut extra)
                    .await?;
                pb.inc(n);
            }
        }
        parser.await?;
        // Parse errors and check errors of one batch arrive separately: report in line order.
        self.report.rejected[first_error..].sort_by_key(|e| e.line);
        pb.finish_and_clear();
        Ok(())
    }
}

/// Rows parsed by the reader thread, with the rows it could not parse.
struct Parsed<T> {
    rows: Vec<(u64, T)>,
    errors: Vec<RowError>,
    bad_rows: u64,
}

impl<T> Parsed<T> {
    fn with_capacity(n: usize) -> Self {
        Self {
            rows: Vec::with_capacity(n),
            errors: Vec::new(),
            bad_rows: 0,
        }
    }
}

/// Loads the dataset in `files` into `store`, acting as `ctx`. Dates of birth are checked
/// against `today`.
pub async fn import_dataset(
    store: &dyn Store,
    ctx: &Ctx,
    files: &DatasetFiles,
    today: NaiveDate,
    opts: Options,
) -> anyhow::Result<Report> {
    let skip_invalid = opts.skip_invalid;
    let mut session = store.begin_import(ctx).await?;
    let orgs = session.existing_organisations().await?;
    let mut imp = Importer {
        session,
        opts,
        report: Report::default(),
        orgs,
        persons: HashSet::new(),
        new_persons: HashSet::new(),
        missing_persons: HashSet::new(),
        episodes: HashMap::new(),
        episodes_loaded: HashSet::new(),
    };
    let result = load_all(&mut imp, files, today).await;
    let Importer {
        session,
        mut report,
        ..
    } = imp;
    if let Err(e) = result {
        session.rollback().await?;
        return Err(e);
    }
    if report.rejected_rows > 0 && !skip_invalid {
        // All or nothing: the register is left exactly as it was.
        session.rollback().await?;
        return Ok(report);
    }
    let summary = format!(
        "dataset {}: {} records loaded, {} rows rejected",
        files.dir().display(),
        report.total_loaded(),
        report.rejected_rows
    );
    session.commit(&summary).await?;
    report.committed = true;
    Ok(report)
}

async fn load_all(
    imp: &mut Importer,
    files: &DatasetFiles,
    today: NaiveDate,
) -> anyhow::Result<()> {
    // Organisations first: every other file refers to them.
    imp.load::<Organisation>(files.organisations(today)?, |imp, o| {
        imp.orgs.insert(o.code.to_string());
        Vec::new()
    })
    .await?;
    imp.load::<Person>(files.persons(today)?, |imp, p| {
        imp.persons.insert(p.id);
        imp.new_persons.insert(p.id);
        imp.missing_persons.remove(&p.id);
        Vec::new()
    })
    .await?;
    let mut profile_versions: HashMap<String, u32> = HashMap::new();
    imp.load::<PrefilledProfile>(files.profiles(today)?, move |_, p| {
        let last = profile_versions.entry(p.id.to_string()).or_insert(0);
        if p.version != *last + 1 {
            return vec![FieldError::new(
                "version",
                format!(
                    "is {} but the profile's next version is {}",
                    p.version,
                    *last + 1
                ),
            )];
        }
        *last = p.version;
        Vec::new()
    })
    .await?;
    imp.load::<Incident>(files.incidents(today)?, |imp, i| {
        let episodes = imp.episodes.entry(i.person_id).or_default();
        let this = (i.last_seen_at, i.ended_at());
        if let Some((other, ..)) = episodes
            .iter()
            .find(|(_, s, e)| episodes_overlap(this, (*s, *e)))
        {
            return vec![FieldError::new(
                "last_seen_at",
                format!("overlaps incident {other} of the same person"),
            )];
        }
        episodes.push((i.id, i.last_seen_at, i.ended_at()));
        Vec::new()
    })
    .await?;
    imp.load::<NrmReferral>(files.referrals(today)?, |_, _| Vec::new())
        .await?;
    imp.load::<Placement>(files.placements(today)?, |_, _| Vec::new())
        .await?;
    imp.load::<FoundPerson>(files.found_persons(today)?, |_, _| Vec::new())
        .await?;
    if let Some(f) = files.get(nrmp_interchange::RecordKind::Truth) {
        imp.report.ignored.push(format!(
            "{}: evaluation truth for matching, not register data",
            f.path.display()
        ));
    }
    Ok(())
}
