//! In-memory lookup index: "is this person recorded anywhere?" in milliseconds.
//!
//! Records are prepared once (interned tokens, phonetic codes, folded fields),
//! stored in slots and indexed under their blocking keys. A lookup prepares the
//! query against a read-only overlay of the vocabulary, gathers candidates from
//! the posting lists (oversized lists skipped, see [`crate::blocking`]), scores
//! them with the model and explains the top k.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasherDefault;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::blocking::{BlockingConfig, IdentityHasher, Postings, Role, blocking_keys};
use crate::compare::compare;
use crate::explain::{Candidate, explain};
use crate::model::{Model, Scorer};
use crate::prepare::{CheapFields, Overlay, Prepared, Vocab, hash64, normalise_record};
use crate::record::MatchRecord;

/// An `f64` ordered by `total_cmp` (for the top-k heap).
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);

impl Eq for OrdF64 {}

impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Size figures of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    /// Records stored.
    pub records: usize,
    /// Distinct tokens in the vocabulary (name tokens and distinguishing-mark words).
    pub tokens: usize,
    /// Distinct blocking keys.
    pub keys: usize,
}

/// The lookup index.
#[derive(Debug, Clone)]
pub struct Index {
    model: Model,
    scorer: Scorer,
    config: BlockingConfig,
    vocab: Vocab,
    records: Vec<Option<Prepared>>,
    /// Cheap fields of each slot (stale for free slots, which no posting list holds).
    cheap: Vec<CheapFields>,
    free: Vec<u32>,
    slots: SlotMap,
    postings: Postings,
}

/// Record id → slot, without a second copy of every id: keyed by the id's 64-bit
/// hash and checked against the stored record; the rare ids whose hash is already
/// taken by another id go to a small map keyed by the id itself.
#[derive(Debug, Clone, Default)]
struct SlotMap {
    by_hash: HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>,
    clash: HashMap<Box<str>, u32>,
    len: usize,
}

impl SlotMap {
    fn id_at(records: &[Option<Prepared>], slot: u32) -> Option<&str> {
        records
            .get(slot as usize)
            .and_then(Option::as_ref)
            .map(|p| &*p.id)
    }

    fn get(&self, id: &str, records: &[Option<Prepared>]) -> Option<u32> {
        self.get_hashed(hash64(id), id, records)
    }

    fn get_hashed(&self, h: u64, id: &str, records: &[Option<Prepared>]) -> Option<u32> {
        match self.by_hash.get(&h) {
            Some(&s) if Self::id_at(records, s) == Some(id) => Some(s),
            _ => self.clash.get(id).copied(),
        }
    }

    /// Adds `id` (not present) at `slot`.
    fn insert(&mut self, id: &str, slot: u32) {
        self.insert_hashed(hash64(id), id, slot);
    }

    fn insert_hashed(&mut self, h: u64, id: &str, slot: u32) {
        match self.by_hash.entry(h) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.clash.insert(id.into(), slot);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(slot);
            }
        }
        self.len += 1;
    }

    fn remove(&mut self, id: &str, records: &[Option<Prepared>]) -> Option<u32> {
        self.remove_hashed(hash64(id), id, records)
    }

    fn remove_hashed(&mut self, h: u64, id: &str, records: &[Option<Prepared>]) -> Option<u32> {
        let slot = match self.by_hash.get(&h) {
            Some(&s) if Self::id_at(records, s) == Some(id) => {
                self.by_hash.remove(&h);
                Some(s)
            }
            _ => self.clash.remove(id),
        };
        if slot.is_some() {
            self.len -= 1;
        }
        slot
    }
}

impl Index {
    /// An empty index.
    pub fn new(model: Model, config: BlockingConfig) -> Self {
        Self {
            scorer: model.scorer(),
            model,
            config,
            vocab: Vocab::new(),
            records: Vec::new(),
            cheap: Vec::new(),
            free: Vec::new(),
            slots: SlotMap::default(),
            postings: Postings::with_cap(config.max_posting),
        }
    }

    /// Builds an index from many records (normalisation runs in parallel).
    /// Later records replace earlier ones with the same id.
    pub fn build(model: Model, config: BlockingConfig, records: &[MatchRecord]) -> Self {
        let mut index = Self::new(model, config);
        index.records.reserve(records.len());
        let normalised: Vec<_> = records.par_iter().map(normalise_record).collect();
        for n in normalised {
            let p = index.vocab.prepare(n);
            index.insert_prepared(p);
        }
        index.shrink_to_fit();
        index
    }

    /// Releases spare capacity left by bulk inserts (call after a series of
    /// [`Index::extend`] calls; [`Index::build`] does it itself).
    pub fn shrink_to_fit(&mut self) {
        self.postings.shrink_to_fit();
    }

    /// Adds many records (normalisation runs in parallel); records with an id
    /// already present replace it. Lets a large register be indexed chunk by
    /// chunk without holding all its [`MatchRecord`]s at once.
    pub fn extend(&mut self, records: &[MatchRecord]) {
        self.records.reserve(records.len());
        let normalised: Vec<_> = records.par_iter().map(normalise_record).collect();
        for n in normalised {
            let p = self.vocab.prepare(n);
            self.insert_prepared(p);
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.slots.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.slots.len == 0
    }

    /// True if a record with this id is stored.
    pub fn contains(&self, id: &str) -> bool {
        self.slots.get(id, &self.records).is_some()
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Replaces the model (records stay indexed).
    pub fn set_model(&mut self, model: Model) {
        self.scorer = model.scorer();
        self.model = model;
    }

    /// The blocking configuration.
    pub fn config(&self) -> &BlockingConfig {
        &self.config
    }

    /// Size figures.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            records: self.len(),
            tokens: self.vocab.len(),
            keys: self.postings.len(),
        }
    }

    /// Inserts or replaces a record.
    pub fn upsert(&mut self, record: &MatchRecord) {
        self.remove(&record.id);
        let p = self.vocab.prepare(normalise_record(record));
        self.insert_prepared(p);
    }

    fn insert_prepared(&mut self, p: Prepared) {
        if self.slots.get(&p.id, &self.records).is_some() {
            let id = p.id.clone();
            self.remove(&id);
        }
        let cheap = CheapFields::of(&p);
        let slot = match self.free.pop() {
            Some(s) => {
                self.cheap[s as usize] = cheap;
                s
            }
            None => {
                self.records.push(None);
                self.cheap.push(cheap);
                u32::try_from(self.records.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.vocab.count(&p, 1);
        for k in blocking_keys(&p, &self.vocab, Role::Index) {
            self.postings.insert(k.hash, slot);
        }
        self.slots.insert(&p.id, slot);
        self.records[slot as usize] = Some(p);
    }

    /// Removes a record; returns whether it was present.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.slots.remove(id, &self.records) else {
            return false;
        };
        if let Some(p) = self.records.get_mut(slot as usize).and_then(Option::take) {
            for k in blocking_keys(&p, &self.vocab, Role::Index) {
                self.postings.remove(k.hash, slot);
            }
            self.vocab.count(&p, -1);
        }
        self.free.push(slot);
        true
    }

    /// The `k` best candidates for `query`, best first, each explained.
    /// A stored record with the query's own id is not excluded.
    pub fn lookup(&self, query: &MatchRecord, k: usize) -> Vec<Candidate> {
        let mut overlay = Overlay::new(&self.vocab);
        let q = overlay.prepare(normalise_record(query));
        let keys = blocking_keys(&q, &overlay, Role::Query);
        // most promising first, so the k-th best weight (the cutoff) rises early
        let slots = self.postings.ranked_candidates(&keys, &self.config);
        // The k best weights so far (a min-heap): a candidate that cannot reach the
        // k-th best is not compared in full (see `Scorer::weight_if_at_least`).
        let mut best: BinaryHeap<Reverse<OrdF64>> = BinaryHeap::with_capacity(k + 1);
        let bound = self.scorer.name_bound(&q, &overlay);
        let mut scored: Vec<(f64, &Prepared)> = Vec::new();
        let qc = CheapFields::of(&q);
        for s in slots {
            let Some(bc) = self.cheap.get(s as usize) else {
                continue;
            };
            let cutoff = if best.len() < k {
                f64::NEG_INFINITY
            } else {
                best.peek().map_or(f64::NEG_INFINITY, |Reverse(w)| w.0)
            };
            let mut record = None;
            let fetch = || {
                record = self.records.get(s as usize).and_then(Option::as_ref);
                record
            };
            let Some(w) = self
                .scorer
                .weight_if_at_least_cheap(&q, &qc, bound, bc, fetch, &overlay, cutoff)
            else {
                continue;
            };
            let Some(r) = record else { continue };
            scored.push((w, r));
            best.push(Reverse(OrdF64(w)));
            if best.len() > k {
                best.pop();
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        scored.truncate(k);
        scored
            .into_iter()
            .map(|(_, r)| {
                let cv = compare(&q, r, &overlay);
                explain(&self.scorer, &cv, &q, r, &overlay)
            })
            .collect()
    }

    /// Ids of the candidates a lookup of `query` scores: its blocking candidates after the
    /// cap, those sharing most keys first (for measuring blocking recall of queries).
    pub fn candidate_ids(&self, query: &MatchRecord) -> Vec<&str> {
        let mut overlay = Overlay::new(&self.vocab);
        let q = overlay.prepare(normalise_record(query));
        let keys = blocking_keys(&q, &overlay, Role::Query);
        self.postings
            .ranked_candidates(&keys, &self.config)
            .into_iter()
            .filter_map(|s| self.records.get(s as usize).and_then(Option::as_ref))
            .map(|r| &*r.id)
            .collect()
    }

    /// Number of candidates a query would score (for benchmarks and tuning).
    pub fn candidate_count(&self, query: &MatchRecord) -> usize {
        let mut overlay = Overlay::new(&self.vocab);
        let q = overlay.prepare(normalise_record(query));
        let keys = blocking_keys(&q, &overlay, Role::Query);
        self.postings.candidates(&keys, &self.config).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{DobKind, DobRange, PersonName, Sex};
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn sample() -> Vec<MatchRecord> {
        vec![
            MatchRecord::new("r1")
                .with_name(PersonName::new("Mohammed", "Karimi"))
                .with_dob(DobRange::range(
                    d(2005, 1, 1),
                    d(2007, 12, 31),
                    DobKind::AgeAssessed,
                ))
                .with_sex(Sex::Male)
                .with_nationality("AFG"),
            MatchRecord::new("r2")
                .with_name(PersonName::new("Văn Đức", "Nguyễn"))
                .with_dob(DobRange::exact(d(2004, 3, 9)))
                .with_sex(Sex::Male)
                .with_nationality("VNM"),
            MatchRecord::new("r3")
                .with_name(PersonName::new("Tesfay", "Mehari"))
                .with_dob(DobRange::exact(d(2003, 11, 2)))
                .with_sex(Sex::Male)
                .with_nationality("ERI")
                .with_identifier("passport", "ER1234567"),
        ]
    }

    #[test]
    fn lookup_finds_variant_spelling_first() {
        let index = Index::build(
            Model::default_untrained(),
            BlockingConfig::default(),
            &sample(),
        );
        let q = MatchRecord::new("q")
            .with_name(PersonName::new("Muhammad", "Karimi"))
            .with_dob(DobRange::exact(d(2006, 6, 1)))
            .with_sex(Sex::Male);
        let c = index.lookup(&q, 3);
        assert_eq!(c[0].id, "r1");
        // Name and sex agree, the stated date falls in the assessed range: strong
        // positive evidence (the default prior assumes a register of about 1M).
        assert!(
            c[0].match_weight - index.model().prior_weight() > 10.0,
            "{}",
            c[0]
        );
        assert!(c.iter().skip(1).all(|x| x.match_weight < c[0].match_weight));
        let sum: f64 = c[0].contributions.iter().map(|x| x.weight).sum();
        assert!((sum - c[0].match_weight).abs() < 1e-9);
        let text = c[0].to_string();
        // the main view speaks an officer's words; the JSON keeps the technical fields
        assert!(
            text.contains("Name: the same name, spelt another way"),
            "{text}"
        );
        assert!(
            !text.contains("variant_group") && !text.contains("prior"),
            "{text}"
        );
        let json = serde_json::to_string(&c[0]).unwrap();
        assert!(json.contains("\"contributions\""));
        assert!(json.contains("\"level\":\"variant_group\""), "{json}");
        assert!(json.contains("\"strength\":"), "{json}");
    }

    #[test]
    fn lookup_any_order_and_day_month_swap() {
        let index = Index::build(
            Model::default_untrained(),
            BlockingConfig::default(),
            &sample(),
        );
        let q = MatchRecord::new("q")
            .with_name(PersonName::full("Duc Van Nguyen"))
            .with_dob(DobRange::exact(d(2004, 9, 3)));
        let c = index.lookup(&q, 1);
        assert_eq!(c[0].id, "r2");
        let dob = c[0]
            .contributions
            .iter()
            .find(|x| x.field == "dob")
            .unwrap();
        assert_eq!(dob.level, "day_month_swapped");
    }

    #[test]
    fn lookup_by_identifier_with_typo_and_garbled_name() {
        let index = Index::build(
            Model::default_untrained(),
            BlockingConfig::default(),
            &sample(),
        );
        let q = MatchRecord::new("q")
            .with_name(PersonName::new("Tesfu", "Habte"))
            .with_identifier("passport", "ER1234576");
        let c = index.lookup(&q, 1);
        assert_eq!(c[0].id, "r3");
        let id = c[0]
            .contributions
            .iter()
            .find(|x| x.field == "identifiers")
            .unwrap();
        assert_eq!(id.level, "one_typo");
    }

    #[test]
    fn lookup_top_k_is_the_same_as_scoring_every_candidate_in_full() {
        let (records, _) = crate::testdata::generate(5, 400, 0.4);
        let index = Index::build(
            Model::default_trained(),
            BlockingConfig::default(),
            &records,
        );
        for q in records.iter().step_by(9) {
            let mut overlay = Overlay::new(&index.vocab);
            let qp = overlay.prepare(normalise_record(q));
            let keys = blocking_keys(&qp, &overlay, Role::Query);
            let mut all: Vec<(f64, &str)> = index
                .postings
                .candidates(&keys, &index.config)
                .iter()
                .filter_map(|s| index.records[*s as usize].as_ref())
                .map(|r| {
                    let w = index
                        .scorer
                        .weight(&compare(&qp, r, &overlay), &qp, &overlay);
                    (w, &*r.id)
                })
                .collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            all.truncate(5);
            let got = index.lookup(q, 5);
            assert_eq!(got.len(), all.len());
            for (g, a) in got.iter().zip(&all) {
                assert_eq!(g.id, a.1);
                assert!((g.match_weight - a.0).abs() < 1e-9, "{g} vs {}", a.0);
            }
        }
    }

    #[test]
    fn slot_map_keeps_ids_whose_hashes_clash_apart() {
        let mut v = Vocab::new();
        let records: Vec<Option<Prepared>> = ["a", "b", "c"]
            .iter()
            .map(|id| Some(v.prepare(normalise_record(&MatchRecord::new(*id)))))
            .collect();
        let mut m = SlotMap::default();
        // three ids forced onto one hash
        for (slot, id) in ["a", "b", "c"].iter().enumerate() {
            m.insert_hashed(7, id, slot as u32);
        }
        assert_eq!(m.len, 3);
        for (slot, id) in ["a", "b", "c"].iter().enumerate() {
            assert_eq!(m.get_hashed(7, id, &records), Some(slot as u32));
        }
        assert_eq!(m.get_hashed(7, "zz", &records), None);
        assert_eq!(m.remove_hashed(7, "a", &records), Some(0));
        assert_eq!(m.get_hashed(7, "a", &records), None);
        assert_eq!(m.get_hashed(7, "b", &records), Some(1));
        assert_eq!(m.remove_hashed(7, "c", &records), Some(2));
        assert_eq!(m.remove_hashed(7, "c", &records), None);
        assert_eq!(m.get_hashed(7, "b", &records), Some(1));
        assert_eq!(m.len, 1);
    }

    #[test]
    fn upsert_then_lookup_finds_the_new_version_not_the_old() {
        let mut index = Index::build(
            Model::default_trained(),
            BlockingConfig::default(),
            &sample(),
        );
        let old_q = MatchRecord::new("q").with_name(PersonName::new("Tesfay", "Mehari"));
        assert_eq!(index.lookup(&old_q, 1)[0].id, "r3");
        // r3 is corrected: another name and date of birth
        let new = MatchRecord::new("r3")
            .with_name(PersonName::new("Dawit", "Gebreyesus"))
            .with_dob(DobRange::exact(d(2001, 2, 3)));
        index.upsert(&new);
        assert_eq!(index.len(), 3);
        assert!(index.contains("r3"));
        let new_q = MatchRecord::new("q")
            .with_name(PersonName::new("Dawit", "Gebreyesus"))
            .with_dob(DobRange::exact(d(2001, 2, 3)));
        let hit = &index.lookup(&new_q, 1)[0];
        assert_eq!(hit.id, "r3");
        assert!(hit.to_string().contains("Dawit"), "{hit}");
        // the old version is gone: its name finds nothing that agrees on it
        assert!(
            index
                .lookup(&old_q, 3)
                .iter()
                .all(|c| c.id != "r3" || c.match_weight < 0.0),
            "old version still found"
        );
        assert!(index.remove("r3"));
        assert!(!index.contains("r3"));
        assert!(index.lookup(&new_q, 3).iter().all(|c| c.id != "r3"));
        // the freed slot is reused by the next insert
        index.upsert(&new);
        assert_eq!(index.len(), 3);
        assert_eq!(index.lookup(&new_q, 1)[0].id, "r3");
    }

    #[test]
    fn upsert_and_remove() {
        let mut index = Index::new(Model::default_untrained(), BlockingConfig::default());
        for r in sample() {
            index.upsert(&r);
        }
        assert_eq!(index.len(), 3);
        let q = MatchRecord::new("q").with_name(PersonName::new("Tesfay", "Mehari"));
        assert_eq!(index.lookup(&q, 1)[0].id, "r3");
        assert!(index.remove("r3"));
        assert!(!index.remove("r3"));
        assert_eq!(index.len(), 2);
        assert!(index.lookup(&q, 5).iter().all(|c| c.id != "r3"));
        // re-insert under a changed name: replaces, slot reused
        let changed = MatchRecord::new("r1").with_name(PersonName::new("Tesfay", "Mehari"));
        index.upsert(&changed);
        assert_eq!(index.len(), 2);
        assert_eq!(index.lookup(&q, 1)[0].id, "r1");
        let old = MatchRecord::new("q").with_name(PersonName::new("Mohammed", "Karimi"));
        assert!(
            index
                .lookup(&old, 5)
                .iter()
                .all(|c| c.id != "r1" || c.match_weight < 0.0)
        );
    }
}

#[cfg(test)]
mod tf_tests {
    use super::*;
    use crate::prepare::Tokens;
    use crate::record::PersonName;

    #[test]
    fn tf_adjustment_lowers_weight_for_common_surname() {
        let mut records: Vec<MatchRecord> = (0..300)
            .map(|i| {
                MatchRecord::new(format!("s{i:03}"))
                    .with_name(PersonName::new(format!("Given{i}x"), "Nguyen"))
            })
            .collect();
        records.push(MatchRecord::new("common").with_name(PersonName::new("Lan", "Nguyen")));
        records.push(MatchRecord::new("rare").with_name(PersonName::new("Lan", "Zyxwabc")));
        // "lan" alone appears twice in both cases; only the surname's frequency differs
        let index = Index::build(
            Model::default_untrained(),
            BlockingConfig::default(),
            &records,
        );
        let q_common = MatchRecord::new("q").with_name(PersonName::new("Lan", "Nguyen"));
        let q_rare = MatchRecord::new("q").with_name(PersonName::new("Lan", "Zyxwabc"));
        let c = index.lookup(&q_common, 1).remove(0);
        let r = index.lookup(&q_rare, 1).remove(0);
        assert_eq!((c.id.as_str(), r.id.as_str()), ("common", "rare"));
        let tf = |x: &Candidate| {
            x.contributions
                .iter()
                .find(|c| c.field == "name_tf")
                .map_or(0.0, |c| c.weight)
        };
        assert!(tf(&r) > tf(&c));
        assert!(c.match_weight < r.match_weight);
        // the surname on its own is common: agreement on it is penalised
        assert!(index.vocab.tf_bits(index.vocab.get("nguyen").unwrap()) < 0.0);
    }
}

#[cfg(test)]
mod ranking_tests {
    use super::*;
    use crate::prepare::Tokens;
    use crate::record::{DobRange, PersonName, Sex};
    use chrono::NaiveDate;

    fn girl(id: &str, given: &str, family: &str, day: u32) -> MatchRecord {
        MatchRecord::new(id)
            .with_name(PersonName::new(given, family))
            .with_dob(DobRange::exact(
                NaiveDate::from_ymd_opt(2008, 1 + day % 12, 1 + day % 28).unwrap(),
            ))
            .with_sex(Sex::Female)
    }

    /// Issue 15, on the 20,000-person demo register: `Mohammed Ali, 2008` ranked first
    /// girls born in 2008 whose names share nothing with the query (`Ella May Hall`,
    /// explained as a partial name agreement), and `Sofia Rose Ali` 31st. Here the query
    /// has no true match, every candidate is a girl born in 2008 (so only the name tells
    /// them apart), and `Ali` is common enough that agreeing on it alone weighs less than
    /// the name-agreement level itself.
    #[test]
    fn without_a_true_match_candidates_are_ordered_by_the_name_evidence_they_share() {
        let given = [
            "Sofia Rose",
            "Amira",
            "Layla",
            "Noor",
            "Huda",
            "Rania",
            "Salma",
            "Dina",
            "Yasmin",
            "Mariam",
            "Lina",
            "Reem",
            "Hana",
            "Samira",
            "Nadia",
            "Farah",
            "Aya",
            "Zahra",
            "Leila",
            "Mona",
        ];
        let mut records: Vec<MatchRecord> = given
            .iter()
            .enumerate()
            .map(|(i, g)| girl(&format!("ali-{i}"), g, "Ali", i as u32))
            .collect();
        let nothing = [
            ("Ella May", "Hall"),
            ("Isla Ann", "Wrayrow"),
            ("Olly", "Jones"),
            ("Najwa Osman", "Ismael"),
            ("Grace", "Turner"),
            ("Chloe", "Baker"),
        ];
        for (i, (g, f)) in nothing.iter().enumerate() {
            records.push(girl(&format!("none-{i}"), g, f, i as u32));
        }
        for (i, (g, f)) in [("Emily", "Clarke"), ("Lucy", "Ward"), ("Amelia", "Price")]
            .iter()
            .enumerate()
        {
            for j in 0..20 {
                records.push(girl(&format!("filler-{i}-{j}"), g, f, j));
            }
        }
        records.push(girl("close", "Setareh", "Alli", 3));
        records.push(girl("none-other-name", "Setareh", "Mohamadi", 4));
        let index = Index::build(
            Model::default_trained(),
            BlockingConfig::default(),
            &records,
        );
        let ali = index.vocab.get("ali").unwrap();
        assert!(index.vocab.tf_bits(ali) < 0.0, "Ali is a common name here");
        let query = MatchRecord::new("q")
            .with_name(PersonName::new("Mohammed", "Ali"))
            .with_dob(DobRange::year(2008).unwrap());
        let hits = index.lookup(&query, records.len());
        let name_level = |c: &Candidate| {
            c.contributions
                .iter()
                .find(|x| x.field == "name")
                .map(|x| x.level.clone())
                .unwrap()
        };
        let rank = |id: &str| hits.iter().position(|c| c.id == id);
        // every girl called Ali, and the close spelling of Ali, agree partly; the names
        // sharing nothing (and found only through a shared phonetic code or the date) are
        // different, and come after all of them; so does Mohamadi, a name of its own
        // (another variant group than Mohammed's) however alike they look
        let sharing: Vec<&Candidate> = hits
            .iter()
            .filter(|c| c.id.starts_with("ali-") || c.id == "close")
            .collect();
        assert_eq!(sharing.len(), given.len() + 1, "all are candidates");
        for c in &sharing {
            assert_eq!(name_level(c), "partial", "{c}");
        }
        let last_sharing = sharing.iter().filter_map(|c| rank(&c.id)).max().unwrap();
        for c in hits.iter().filter(|c| c.id.starts_with("none-")) {
            assert_eq!(name_level(c), "different", "{c}");
            assert!(rank(&c.id).unwrap() > last_sharing, "{c}");
        }
        for id in ["none-0", "none-1", "none-2"] {
            assert!(
                rank(id).is_some(),
                "{id} is a candidate (shares the code AL)"
            );
        }
        assert!(
            rank("ali-0").unwrap() < rank("none-0").unwrap(),
            "Sofia Rose Ali before Ella May Hall"
        );
    }

    /// Issue 15: `Hussein Ebrahim, 2005` put `Hassan Ebrahimi` (4.1 %) above `Hussain
    /// Ebrahim Mohamed` (0.3 %), whose name holds every part of the query.
    #[test]
    fn a_third_name_part_does_not_lose_to_a_different_given_name() {
        let boy = |id: &str, given: &str, family: &str, m: u32, d: u32| {
            MatchRecord::new(id)
                .with_name(PersonName::new(given, family))
                .with_dob(DobRange::exact(
                    NaiveDate::from_ymd_opt(2005, m, d).unwrap(),
                ))
                .with_sex(Sex::Male)
        };
        let mut records = vec![
            boy("hassan", "Hassan", "Ebrahimi", 4, 2),
            boy("hussain", "Hussain Ebrahim", "Mohamed", 9, 17),
        ];
        for (i, g) in ["Omar", "Yusuf", "Ali", "Karim", "Samir", "Tariq"]
            .iter()
            .enumerate()
        {
            records.push(boy(&format!("filler-{i}"), g, "Ebrahimi", 1 + i as u32, 3));
        }
        let index = Index::build(
            Model::default_trained(),
            BlockingConfig::default(),
            &records,
        );
        let query = MatchRecord::new("q")
            .with_name(PersonName::new("Hussein", "Ebrahim"))
            .with_dob(DobRange::year(2005).unwrap());
        let hits = index.lookup(&query, 5);
        assert_eq!(hits[0].id, "hussain", "{}", hits[0]);
        let rank = |id: &str| hits.iter().position(|c| c.id == id);
        assert!(rank("hassan").is_none_or(|r| r > 0));
    }
}
