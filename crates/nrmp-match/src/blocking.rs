//! Blocking: cheap keys that bring candidate pairs together.
//!
//! Several independent key families, so that one wrong field does not hide a
//! true match:
//!
//! | kind            | key                                                           |
//! |-----------------|---------------------------------------------------------------|
//! | `name_dob`      | Double Metaphone of each name token (its variant key) + 5-year DOB band |
//! | `skeleton_dob`  | consonant skeleton of each name token + DOB band (abjad scripts) |
//! | `name_pair`     | sorted phonetic codes of every pair of tokens in a name (no DOB) |
//! | `skeleton_pair` | sorted skeletons of every pair of tokens in a name            |
//! | `token`         | the variant key of each token (useful only while rare: capped) |
//! | `dob_date`      | the exact date of birth (queries also try day/month swapped)  |
//! | `identifier`    | kind + value, and kind + each half of the value (one typo)    |
//!
//! DOB bands: records are indexed under the bands touched by
//! `[earliest - 1y, latest + 1y]`, queries use `[earliest, latest]`, so any pair
//! within a year shares a band. Records without DOB (or with a range touching more
//! than 3 bands) use a "no DOB" band, which every query also tries.
//!
//! Posting lists longer than a cap are skipped at query time (other keys carry
//! the pair); if every key is over the cap the smallest list is sampled.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::prepare::{Prepared, Tokens, Vocab, hash64, normalise_record};
use crate::record::{DobKind, MatchRecord};

/// Family of a blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Phonetic token + DOB band.
    NameDob,
    /// Consonant skeleton + DOB band.
    SkeletonDob,
    /// Pair of phonetic codes within a name.
    NamePair,
    /// Pair of skeletons within a name.
    SkeletonPair,
    /// A name token's variant key.
    Token,
    /// Exact date of birth.
    DobDate,
    /// Identifier value or half value.
    Identifier,
}

/// One blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockKey {
    /// Key family.
    pub kind: KeyKind,
    /// Hash of the key content (family included).
    pub hash: u64,
}

impl BlockKey {
    fn new<T: std::hash::Hash>(kind: KeyKind, content: T) -> Self {
        Self {
            kind,
            hash: hash64(&(kind, content)),
        }
    }
}

/// Whether keys are generated for storing a record or for querying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Keys under which a record is stored (DOB bands widened by a year).
    Index,
    /// Keys a query probes (adds the no-DOB band and day/month-swapped date).
    Query,
}

/// Blocking settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingConfig {
    /// Posting lists longer than this are skipped.
    pub max_posting: usize,
    /// Maximum candidates scored per query (the smallest lists are used first).
    pub max_candidates: usize,
}

impl Default for BlockingConfig {
    /// Lists over 1,000 skipped, at most 1,000 candidates (those sharing most keys)
    /// per lookup: on 219,418 records (`nrmp-bench match-accuracy --persons 200000`)
    /// recall@10 is the same as with 4,000 (0.9748 vs 0.9749) at two thirds of
    /// the time.
    fn default() -> Self {
        Self {
            max_posting: 1000,
            max_candidates: 1000,
        }
    }
}

const NO_DOB_BAND: i32 = i32::MIN;
const BAND_YEARS: i32 = 5;
const MAX_BANDS: usize = 3;
const MAX_PAIR_TOKENS: usize = 5;

fn bands(p: &Prepared, role: Role) -> Vec<i32> {
    let Some(dob) = p.dob else {
        return vec![NO_DOB_BAND];
    };
    let widen = i32::from(role == Role::Index);
    let lo = (dob.earliest.year() - widen).div_euclid(BAND_YEARS);
    let hi = (dob.latest.year() + widen).div_euclid(BAND_YEARS);
    let mut out: Vec<i32> = if (hi - lo) as usize >= MAX_BANDS {
        vec![NO_DOB_BAND]
    } else {
        (lo..=hi).collect()
    };
    if role == Role::Query && !out.contains(&NO_DOB_BAND) {
        out.push(NO_DOB_BAND);
    }
    out
}

fn swapped(d: NaiveDate) -> Option<NaiveDate> {
    if d.day() <= 12 && d.day() != d.month() {
        NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
    } else {
        None
    }
}

/// The phonetic code a token is blocked under (that of its variant key).
fn block_code<T: Tokens + ?Sized>(tokens: &T, id: u32) -> u64 {
    let key_info = tokens.info(tokens.info(id).key);
    if key_info.phon[0] != 0 {
        key_info.phon[0]
    } else {
        hash64(&*key_info.text)
    }
}

/// Particles written onto the next name part in one word (`VanDung`, `Alhassan`).
const JOINED_PARTICLES: &[&str] = &["al", "el", "van", "thi", "abu", "bin", "ben", "ul"];

/// Keys a query probes for names written as one word in one record and two in another
/// (`Ahmadshah` / `Ahmad Shah`, `VanDung` / `Van Dung`): a query token that splits into two
/// tokens known to the index probes their pair and each with the date band; two adjacent
/// query tokens whose joined spelling is known probe it; a token with a particle written on
/// (or a particle that could be) probes the other form. Only for queries, so the index
/// stores nothing more.
fn compound_query_keys<T: Tokens + ?Sized>(
    p: &Prepared,
    tokens: &T,
    bands: &[i32],
    keys: &mut Vec<BlockKey>,
) {
    let mut found: Vec<u32> = Vec::new();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut buf = String::with_capacity(32);
    for name in &p.names {
        for (i, t) in name.tokens.iter().enumerate() {
            let text = &*tokens.info(t.id).text;
            if text.len() >= 6 && text.is_ascii() {
                for cut in 3..=text.len() - 3 {
                    if let (Some(a), Some(b)) =
                        (tokens.known(&text[..cut]), tokens.known(&text[cut..]))
                    {
                        pairs.push((a, b));
                    }
                }
            }
            for particle in JOINED_PARTICLES {
                if let Some(rest) = text.strip_prefix(particle)
                    && rest.len() >= 3
                    && let Some(id) = tokens.known(rest)
                {
                    found.push(id);
                }
                buf.clear();
                buf.push_str(particle);
                buf.push_str(text);
                if let Some(id) = tokens.known(&buf) {
                    found.push(id);
                }
            }
            if let Some(next) = name.tokens.get(i + 1) {
                buf.clear();
                buf.push_str(text);
                buf.push_str(&tokens.info(next.id).text);
                if let Some(id) = tokens.known(&buf) {
                    found.push(id);
                }
            }
        }
    }
    for (a, b) in pairs {
        let (ca, cb) = (block_code(tokens, a), block_code(tokens, b));
        keys.push(BlockKey::new(KeyKind::NamePair, (ca.min(cb), ca.max(cb))));
        found.push(a);
        found.push(b);
    }
    for id in found {
        let code = block_code(tokens, id);
        for b in bands {
            keys.push(BlockKey::new(KeyKind::NameDob, (code, *b)));
        }
    }
}

/// All blocking keys of a prepared record (sorted, deduplicated).
pub fn blocking_keys<T: Tokens + ?Sized>(p: &Prepared, tokens: &T, role: Role) -> Vec<BlockKey> {
    let mut keys = Vec::with_capacity(24);
    let bands = bands(p, role);
    for name in &p.names {
        let mut phon: Vec<u64> = Vec::with_capacity(name.tokens.len());
        let mut skel: Vec<u64> = Vec::with_capacity(name.tokens.len());
        for t in &name.tokens {
            let info = tokens.info(t.id);
            let key_info = tokens.info(info.key);
            let code = if key_info.phon[0] != 0 {
                key_info.phon[0]
            } else {
                hash64(&*key_info.text)
            };
            phon.push(code);
            skel.push(info.skel);
            keys.push(BlockKey::new(KeyKind::Token, &*key_info.text));
            for b in &bands {
                keys.push(BlockKey::new(KeyKind::NameDob, (code, *b)));
                keys.push(BlockKey::new(KeyKind::SkeletonDob, (info.skel, *b)));
            }
        }
        let n = phon.len().min(MAX_PAIR_TOKENS);
        for i in 0..n {
            for j in (i + 1)..n {
                let (a, b) = (phon[i].min(phon[j]), phon[i].max(phon[j]));
                keys.push(BlockKey::new(KeyKind::NamePair, (a, b)));
                let (a, b) = (skel[i].min(skel[j]), skel[i].max(skel[j]));
                keys.push(BlockKey::new(KeyKind::SkeletonPair, (a, b)));
            }
        }
    }
    if role == Role::Query {
        compound_query_keys(p, tokens, &bands, &mut keys);
    }
    if let Some(dob) = p.dob.filter(|d| d.kind == DobKind::Exact && d.is_point()) {
        keys.push(BlockKey::new(KeyKind::DobDate, dob.earliest));
        if role == Role::Query {
            if let Some(s) = swapped(dob.earliest) {
                keys.push(BlockKey::new(KeyKind::DobDate, s));
            }
            // the year one or two out, day and month right
            for delta in [-2, -1, 1, 2] {
                if let Some(d) = dob.earliest.with_year(dob.earliest.year() + delta) {
                    keys.push(BlockKey::new(KeyKind::DobDate, d));
                }
            }
        }
    }
    for (kind, value) in &p.identifiers {
        keys.push(BlockKey::new(KeyKind::Identifier, (&**kind, &**value, 0u8)));
        if value.len() >= 6 {
            let half = value.len() / 2;
            keys.push(BlockKey::new(
                KeyKind::Identifier,
                (&**kind, &value[..half], 1u8),
            ));
            keys.push(BlockKey::new(
                KeyKind::Identifier,
                (&**kind, &value[half..], 2u8),
            ));
        }
    }
    keys.sort_unstable_by_key(|k| k.hash);
    keys.dedup_by_key(|k| k.hash);
    keys
}

/// Hasher for keys that are already 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A key's entry in [`Postings`]: a slot (top bit clear), or the index of a list in
/// `Postings::lists` with the top bit set. Most keys hold a single record, so an
/// entry is 4 bytes beside its 8-byte key rather than an inline vector.
const LIST: u32 = 1 << 31;

/// A key's slots when it has more than one.
#[derive(Debug, Clone, Default)]
struct List {
    slots: Vec<u32>,
    /// More slots than the cap were added: the list is skipped by lookups, and only
    /// a sample of `cap` slots is kept (for the case where every key of a query is
    /// this common).
    full: bool,
}

/// Inverted index from blocking key hash to record slots.
#[derive(Debug, Clone)]
pub struct Postings {
    map: HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>,
    lists: Vec<List>,
    /// Indices of `lists` no key uses (emptied by removals), for reuse.
    free: Vec<u32>,
    cap: usize,
}

impl Default for Postings {
    fn default() -> Self {
        Self::new()
    }
}

impl Postings {
    /// Empty postings that keep every slot.
    pub fn new() -> Self {
        Self::with_cap(usize::MAX)
    }

    /// Empty postings whose lists stop growing past `cap` slots: such a list is
    /// marked full (skipped like any list over `max_posting`, see
    /// [`Postings::candidates`]) and keeps only its first `cap` slots as a sample.
    /// With `cap = max_posting` lookups give the same candidates while the lists of
    /// very common keys (a common name token, a popular date) take no memory
    /// beyond the sample. A full list stays full when slots are removed.
    pub fn with_cap(cap: usize) -> Self {
        Self {
            map: HashMap::default(),
            lists: Vec::new(),
            free: Vec::new(),
            cap: cap.max(1),
        }
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if there are no keys.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn new_list(&mut self, list: List) -> u32 {
        if let Some(i) = self.free.pop() {
            self.lists[i as usize] = list;
            i | LIST
        } else {
            let i = u32::try_from(self.lists.len()).unwrap_or(u32::MAX);
            assert!(i < LIST, "fewer than 2^31 posting lists");
            self.lists.push(list);
            i | LIST
        }
    }

    /// Adds `slot` (below 2^31) under `key`.
    pub fn insert(&mut self, key: u64, slot: u32) {
        assert!(slot < LIST, "record slots stay below 2^31");
        let cap = self.cap;
        let Some(&entry) = self.map.get(&key) else {
            self.map.insert(key, slot);
            return;
        };
        if entry & LIST == 0 {
            let list = if cap >= 2 {
                List {
                    slots: vec![entry, slot],
                    full: false,
                }
            } else {
                List {
                    slots: vec![entry],
                    full: true,
                }
            };
            let entry = self.new_list(list);
            self.map.insert(key, entry);
            return;
        }
        let list = &mut self.lists[(entry & !LIST) as usize];
        if list.full {
            return;
        }
        if list.slots.len() >= cap {
            list.full = true;
        } else {
            list.slots.push(slot);
        }
    }

    /// Removes `slot` from `key`.
    pub fn remove(&mut self, key: u64, slot: u32) {
        let Some(&entry) = self.map.get(&key) else {
            return;
        };
        if entry & LIST == 0 {
            if entry == slot {
                self.map.remove(&key);
            }
            return;
        }
        let index = entry & !LIST;
        let list = &mut self.lists[index as usize];
        if let Some(pos) = list.slots.iter().position(|s| *s == slot) {
            list.slots.swap_remove(pos);
        }
        if let (false, [only]) = (list.full, list.slots.as_slice()) {
            let only = *only;
            self.lists[index as usize] = List::default();
            self.free.push(index);
            self.map.insert(key, only);
        }
    }

    /// The slots of an entry and whether its list is full.
    fn entry(&self, key: u64) -> Option<(&[u32], bool)> {
        let entry = self.map.get(&key)?;
        Some(if entry & LIST == 0 {
            (std::slice::from_ref(entry), false)
        } else {
            let list = &self.lists[(entry & !LIST) as usize];
            (&list.slots, list.full)
        })
    }

    /// Slots stored under `key` (for a full list, its sample).
    pub fn get(&self, key: u64) -> &[u32] {
        self.entry(key).map_or(&[], |(slots, _)| slots)
    }

    /// True if the list of `key` went over the cap (see [`Postings::with_cap`]).
    pub fn is_full(&self, key: u64) -> bool {
        self.entry(key).is_some_and(|(_, full)| full)
    }

    /// Slots of `key` and whether they are usable under `max_posting` (a list
    /// is not if it is longer, or full).
    pub(crate) fn usable(&self, key: u64, max_posting: usize) -> (&[u32], bool) {
        match self.entry(key) {
            None => (&[], true),
            Some((slots, full)) => (slots, !full && slots.len() <= max_posting),
        }
    }

    /// Candidate slots for `keys`: lists longer than `max_posting` are skipped
    /// (if all are, the smallest is sampled up to the cap); at most
    /// `max_candidates` distinct slots, those sharing the most keys with the query
    /// first (see [`Postings::ranked_candidates`]). Sorted, distinct.
    pub fn candidates(&self, keys: &[BlockKey], config: &BlockingConfig) -> Vec<u32> {
        let mut out = self.ranked_candidates(keys, config);
        out.sort_unstable();
        out
    }

    /// Like [`Postings::candidates`], but ordered by the number of the query's keys
    /// each slot shares (most first; ties by slot). When more than `max_candidates`
    /// slots are found, the ones sharing fewest keys are dropped: a true match
    /// usually shares several keys (name tokens, pairs, skeletons, date), a chance
    /// candidate one.
    pub fn ranked_candidates(&self, keys: &[BlockKey], config: &BlockingConfig) -> Vec<u32> {
        let mut lists: Vec<(&[u32], bool)> = keys
            .iter()
            .map(|k| self.usable(k.hash, config.max_posting))
            .filter(|(l, _)| !l.is_empty())
            .collect();
        // usable lists first, smallest first
        lists.sort_by_key(|(l, ok)| (!ok, l.len()));
        let mut all: Vec<u32> = Vec::new();
        let usable = lists.iter().take_while(|(_, ok)| *ok).map(|(l, _)| l);
        let mut any = false;
        for l in usable {
            any = true;
            // bound the work: stop adding lists once far more slots than wanted
            if all.len() + l.len() > config.max_candidates.saturating_mul(4) {
                break;
            }
            all.extend_from_slice(l);
        }
        if !any && let Some((smallest, _)) = lists.first() {
            all.extend_from_slice(&smallest[..smallest.len().min(config.max_posting)]);
        }
        all.sort_unstable();
        // (shared keys, slot) per distinct slot
        let mut counted: Vec<(u32, u32)> = Vec::with_capacity(all.len());
        for s in all {
            match counted.last_mut() {
                Some((n, last)) if *last == s => *n += 1,
                _ => counted.push((1, s)),
            }
        }
        let order = |a: &(u32, u32), b: &(u32, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if counted.len() > config.max_candidates {
            counted.select_nth_unstable_by(config.max_candidates, order);
            counted.truncate(config.max_candidates);
        }
        counted.sort_unstable_by(order);
        counted.into_iter().map(|(_, s)| s).collect()
    }

    /// Releases spare capacity of the posting lists (after a bulk build).
    pub fn shrink_to_fit(&mut self) {
        for list in &mut self.lists {
            list.slots.shrink_to_fit();
        }
        self.lists.shrink_to_fit();
        self.map.shrink_to_fit();
    }
}

/// Result of [`blocking_recall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecallReport {
    /// Truth pairs whose both ids were present.
    pub truth_pairs: usize,
    /// Pairs brought together by blocking (either direction).
    pub found: usize,
    /// `found / truth_pairs`.
    pub recall: f64,
    /// Pairs found by each key family (a pair can count for several).
    pub by_kind: BTreeMap<String, usize>,
    /// Mean number of candidates per record.
    pub mean_candidates: f64,
}

/// Measures blocking recall: the share of known true pairs `(id, id)` that
/// blocking brings together, with the same caps the lookup index uses.
pub fn blocking_recall(
    records: &[MatchRecord],
    truth: &[(String, String)],
    config: &BlockingConfig,
) -> RecallReport {
    let mut vocab = Vocab::new();
    let prepared: Vec<Prepared> = records
        .iter()
        .map(|r| vocab.prepare(normalise_record(r)))
        .collect();
    let mut postings = Postings::with_cap(config.max_posting);
    let mut slot_of: HashMap<&str, u32> = HashMap::new();
    for (i, p) in prepared.iter().enumerate() {
        let slot = u32::try_from(i).unwrap_or(u32::MAX);
        slot_of.insert(&p.id, slot);
        for k in blocking_keys(p, &vocab, Role::Index) {
            postings.insert(k.hash, slot);
        }
    }
    let mut total_candidates = 0usize;
    for p in &prepared {
        total_candidates += postings
            .candidates(&blocking_keys(p, &vocab, Role::Query), config)
            .len();
    }
    let mut found = 0;
    let mut n = 0;
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for (a, b) in truth {
        let (Some(&sa), Some(&sb)) = (slot_of.get(a.as_str()), slot_of.get(b.as_str())) else {
            continue;
        };
        n += 1;
        let (pa, pb) = (&prepared[sa as usize], &prepared[sb as usize]);
        let ka = blocking_keys(pa, &vocab, Role::Query);
        let kb = blocking_keys(pb, &vocab, Role::Query);
        let hit = postings.candidates(&ka, config).binary_search(&sb).is_ok()
            || postings.candidates(&kb, config).binary_search(&sa).is_ok();
        if hit {
            found += 1;
        }
        let ia = blocking_keys(pa, &vocab, Role::Index);
        let mut kinds: Vec<KeyKind> = kb
            .iter()
            .filter(|k| ia.iter().any(|x| x.hash == k.hash))
            .filter(|k| postings.usable(k.hash, config.max_posting).1)
            .map(|k| k.kind)
            .collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            let label = serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *by_kind.entry(label).or_insert(0) += 1;
        }
    }
    RecallReport {
        truth_pairs: n,
        found,
        recall: if n == 0 { 1.0 } else { found as f64 / n as f64 },
        by_kind,
        mean_candidates: total_candidates as f64 / prepared.len().max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{DobRange, PersonName, Sex};

    fn rec(id: &str, given: &str, family: &str, y: i32) -> MatchRecord {
        MatchRecord::new(id)
            .with_name(PersonName::new(given, family))
            .with_dob(DobRange::exact(NaiveDate::from_ymd_opt(y, 5, 17).unwrap()))
            .with_sex(Sex::Male)
    }

    #[test]
    fn true_pair_survives_wrong_surname() {
        let mut records = vec![
            rec("a", "Tesfay", "Mehari", 2006),
            // same person, surname recorded wrongly (father's name instead)
            rec("b", "Tesfaye", "Gebremedhin", 2006),
        ];
        for i in 0..50 {
            records.push(rec(
                &format!("x{i}"),
                "John",
                &format!("Filler{i}"),
                1950 + i,
            ));
        }
        let truth = vec![("a".to_string(), "b".to_string())];
        let r = blocking_recall(&records, &truth, &BlockingConfig::default());
        assert_eq!(r.found, 1, "{r:?}");
        assert!(r.by_kind.contains_key("name_dob"));
        assert!(r.by_kind.contains_key("dob_date"));
    }

    #[test]
    fn true_pair_survives_wrong_dob_and_reordered_name() {
        let records = vec![
            rec("a", "Duc", "Nguyen", 2001),
            rec("b", "Nguyen", "Duc", 1985),
        ];
        let truth = vec![("a".to_string(), "b".to_string())];
        let r = blocking_recall(&records, &truth, &BlockingConfig::default());
        assert_eq!(r.found, 1);
        assert!(r.by_kind.contains_key("name_pair"));
    }

    #[test]
    fn identifier_halves_catch_one_typo() {
        let a = MatchRecord::new("a").with_identifier("passport", "X1234567");
        let b = MatchRecord::new("b").with_identifier("Passport", "x1234568");
        let truth = vec![("a".to_string(), "b".to_string())];
        let r = blocking_recall(&[a, b], &truth, &BlockingConfig::default());
        assert_eq!(r.found, 1);
    }

    #[test]
    fn oversized_postings_are_skipped() {
        let mut p = Postings::new();
        let cfg = BlockingConfig {
            max_posting: 3,
            max_candidates: 100,
        };
        let big = BlockKey::new(KeyKind::Token, "big");
        let small = BlockKey::new(KeyKind::Token, "small");
        for s in 0..10 {
            p.insert(big.hash, s);
        }
        p.insert(small.hash, 42);
        assert_eq!(p.candidates(&[big, small], &cfg), vec![42]);
        // over the candidate cap: the slots sharing most keys are kept, best first
        let cfg2 = BlockingConfig {
            max_posting: 100,
            max_candidates: 2,
        };
        let (k1, k2, k3) = (
            BlockKey::new(KeyKind::NamePair, 1u8),
            BlockKey::new(KeyKind::NamePair, 2u8),
            BlockKey::new(KeyKind::NamePair, 3u8),
        );
        for s in [5, 6, 7] {
            p.insert(k1.hash, s);
        }
        p.insert(k2.hash, 7);
        p.insert(k3.hash, 7);
        p.insert(k3.hash, 6);
        assert_eq!(p.ranked_candidates(&[k1, k2, k3], &cfg2), vec![7, 6]);
        assert_eq!(p.candidates(&[k1, k2, k3], &cfg2), vec![6, 7]);
        // all keys oversized: sample the smallest up to the cap
        assert_eq!(p.candidates(&[big], &cfg).len(), 3);
        p.remove(small.hash, 42);
        assert!(p.get(small.hash).is_empty());
    }

    #[test]
    fn lists_shrink_back_to_one_slot_and_their_storage_is_reused() {
        let mut p = Postings::new();
        let (a, b) = (
            BlockKey::new(KeyKind::Token, "a"),
            BlockKey::new(KeyKind::Token, "b"),
        );
        for s in [1, 2, 3] {
            p.insert(a.hash, s);
        }
        p.insert(a.hash, 2); // a slot may be listed under a key once per insert
        assert_eq!(p.get(a.hash), &[1, 2, 3, 2]);
        for s in [2, 3, 2] {
            p.remove(a.hash, s);
        }
        assert_eq!(p.get(a.hash), &[1]);
        assert_eq!(p.free.len(), 1, "the emptied list is free for reuse");
        p.insert(b.hash, 7);
        p.insert(b.hash, 8);
        assert_eq!((p.lists.len(), p.free.len()), (1, 0), "reused");
        assert_eq!(p.get(b.hash), &[7, 8]);
        p.remove(a.hash, 1);
        p.remove(a.hash, 1);
        assert!(p.get(a.hash).is_empty() && p.len() == 1);
        p.remove(b.hash, 9);
        assert_eq!(
            p.get(b.hash),
            &[7, 8],
            "removing an absent slot changes nothing"
        );
    }

    #[test]
    fn capped_postings_give_the_same_candidates_and_keep_only_a_sample() {
        let cfg = BlockingConfig {
            max_posting: 3,
            max_candidates: 100,
        };
        let (big, small) = (
            BlockKey::new(KeyKind::Token, "big"),
            BlockKey::new(KeyKind::Token, "small"),
        );
        let mut capped = Postings::with_cap(cfg.max_posting);
        let mut full = Postings::new();
        for p in [&mut capped, &mut full] {
            for s in 0..10 {
                p.insert(big.hash, s);
            }
            for s in [20, 21, 22] {
                p.insert(small.hash, s);
            }
        }
        assert!(capped.is_full(big.hash) && !full.is_full(big.hash));
        assert!(
            !capped.is_full(small.hash),
            "a list at the cap is still usable"
        );
        assert_eq!(capped.get(big.hash).len(), 3, "only a sample is kept");
        assert_eq!(
            capped.candidates(&[big, small], &cfg),
            full.candidates(&[big, small], &cfg)
        );
        // every key too common: a sample of the smallest list, without removed slots
        capped.remove(big.hash, 1);
        assert!(capped.is_full(big.hash), "stays full");
        let sample = capped.candidates(&[big], &cfg);
        assert!(!sample.is_empty() && sample.len() <= 3 && !sample.contains(&1));
    }
}
