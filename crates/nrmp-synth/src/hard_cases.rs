//! The variation real records show that the population's duplicates do not (issue 15, part 3):
//! a query set made from a [`MatchingPopulation`] for evaluating lookups, and hard negatives
//! added to its register.
//!
//! Each query is a person's first record as another agency would record it — police, a local
//! authority, the Home Office — with one to three [`HardVariation`]s applied (uniformly one,
//! two or three), Latin script only (the original-script form is not kept) and only the
//! primary name. A share of the queried persons are taken out of the register first, so
//! that some queries have no true match (to measure the precision of the top candidate).
//! Siblings and cousins of a share of the queried persons are added to the register: same
//! family name, a date of birth near theirs, another given name ([`HardNegative`]).
//!
//! Every value a variation puts in is resampled from the population itself (another person's
//! given name of the same nationality as a father's or grandfather's name) or made by a
//! general rule (transliteration rewrites such as `ou`→`u`, `th`→`s`): no name is listed.
//!
//! [`HardCaseConfig::HELD_OUT`] is the configuration and seed that no training or tuning
//! touches: the matcher was changed and its strength bands set on [`HardCaseConfig::TUNING`]
//! only. Frequencies are in [`HardCaseConfig`] and documented in docs/matching.md.

use crate::matching::MatchingPopulation;
use chrono::{Datelike, Days, NaiveDate};
use nrmp_match::{DobKind, DobRange, MatchRecord, PersonName, Sex};
use rand::Rng;
use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};

/// One way an agency's record differs from the person's first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HardVariation {
    /// The family name is the father's or grandfather's given name (Eritrean, Sudanese,
    /// Afghan, Ethiopian, Somali naming): a middle name moved into the family name when the
    /// name has one, else another given name of the same nationality.
    Patronymic,
    /// No family name recorded (the given names only).
    FamilyMissing,
    /// The Home Office default date of birth: 1 January of the assessed year (the true year,
    /// or one out).
    DobDefault,
    /// The year of birth one or two out, day and month right.
    DobWrongYear,
    /// Two adjacent name parts written as one word (`Ahmad Shah` → `Ahmadshah`, `Van Dung` →
    /// `VanDung`), or one long part written as two.
    CompoundJoinedOrSplit,
    /// A middle name moved between given and family name.
    MiddleMoved,
    /// A vowel or consonant spelt by another transliteration scheme (`ou`/`u`, `ee`/`i`,
    /// `ei`/`ie`, `th`/`s`, `o`/`u` at the start, `e`/`a`, `kh`/`h`, `q`/`k`, `j`/`dj` …).
    Transliteration,
}

impl HardVariation {
    /// All kinds, in table order.
    pub const ALL: [Self; 7] = [
        Self::Patronymic,
        Self::FamilyMissing,
        Self::DobDefault,
        Self::DobWrongYear,
        Self::CompoundJoinedOrSplit,
        Self::MiddleMoved,
        Self::Transliteration,
    ];

    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Patronymic => "patronymic family name",
            Self::FamilyMissing => "family name missing",
            Self::DobDefault => "dob 1 January default",
            Self::DobWrongYear => "dob year 1-2 out",
            Self::CompoundJoinedOrSplit => "compound joined/split",
            Self::MiddleMoved => "middle name moved",
            Self::Transliteration => "transliteration",
        }
    }

    /// Whether the variation changes the date of birth (at most one of those per query).
    fn is_dob(self) -> bool {
        matches!(self, Self::DobDefault | Self::DobWrongYear)
    }

    /// Whether the variation replaces or drops the family name (at most one per query).
    fn is_family(self) -> bool {
        matches!(self, Self::Patronymic | Self::FamilyMissing)
    }
}

/// A sibling or cousin added to the register as a hard negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HardNegative {
    /// Same family name, born 1–5 years apart.
    Sibling,
    /// Same family name, born within 3 years.
    Cousin,
}

/// How the query set is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HardCaseConfig {
    /// Seed of the variations (the population has its own).
    pub seed: u64,
    /// Queries made (persons queried; at most the population's first records).
    pub queries: usize,
    /// Share of queried persons taken out of the register (queries without a true match).
    pub absent: f64,
    /// Share of queried persons given a sibling in the register.
    pub siblings: f64,
    /// Share of queried persons given a cousin in the register.
    pub cousins: f64,
    /// Relative frequency of each [`HardVariation`] (in [`HardVariation::ALL`] order) when
    /// one is drawn; a variation that cannot apply to a record is drawn again.
    pub weights: [f64; 7],
}

impl HardCaseConfig {
    /// The held-out configuration: no training or tuning reads it. Use it for final figures
    /// only, with a population seed not used before.
    pub const HELD_OUT: Self = Self {
        seed: 0x4e52_4d50_4845_4c44, // "NRMPHELD"
        queries: 10_000,
        absent: 0.1,
        siblings: 0.25,
        cousins: 0.25,
        weights: [2.0, 1.0, 2.0, 2.0, 1.5, 1.0, 2.5],
    };

    /// The tuning configuration (the same frequencies, another seed).
    pub const TUNING: Self = Self {
        seed: 0x4e52_4d50_5455_4e45, // "NRMPTUNE"
        ..Self::HELD_OUT
    };
}

/// One query of the set.
#[derive(Debug, Clone, PartialEq)]
pub struct HardQuery {
    /// The query record (a new id, not in the register).
    pub record: MatchRecord,
    /// The true person's key; records of it in the register are the true matches.
    pub key: u64,
    /// The variations applied (one to three).
    pub variations: Vec<HardVariation>,
    /// Whether the person's records were taken out of the register.
    pub absent: bool,
    /// The hard negatives added for this person.
    pub negatives: Vec<HardNegative>,
}

/// The register and the queries.
#[derive(Debug, Clone)]
pub struct HardCases {
    /// The register: the population's records (absent persons' taken out) and the hard
    /// negatives.
    pub register: Vec<MatchRecord>,
    /// The true person's key of each register record (hard negatives: keys of their own).
    pub keys: Vec<u64>,
    /// Nationality of each true person's name, by key (as [`MatchingPopulation::nationality`]).
    pub nationality: HashMap<u64, &'static str>,
    /// The queries.
    pub queries: Vec<HardQuery>,
}

/// Nationalities whose naming uses a father's or grandfather's given name as the family name.
const PATRONYMIC: &[&str] = &["ERI", "ETH", "SDN", "SOM", "AFG"];

/// Transliteration rewrites (both directions are tried): spellings of one sound by different
/// schemes. General rules, not names.
const REWRITES: &[(&str, &str)] = &[
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ei", "ie"),
    ("ai", "ay"),
    ("th", "s"),
    ("dh", "z"),
    ("kh", "h"),
    ("q", "k"),
    ("j", "dj"),
    ("ph", "f"),
    ("w", "v"),
    ("y", "i"),
    ("ss", "s"),
    ("mm", "m"),
    ("e", "a"),
    ("o", "u"),
];

impl HardCases {
    /// Makes the query set from `population` with `config`.
    pub fn make(population: &MatchingPopulation, config: &HardCaseConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        // first record of each true person, and given names by (nationality, sex) to resample
        let mut first: HashMap<u64, usize> = HashMap::new();
        let mut givens: HashMap<(&str, Option<Sex>), Vec<String>> = HashMap::new();
        let mut males: HashMap<&str, Vec<String>> = HashMap::new();
        for (i, (r, k)) in population.records.iter().zip(&population.keys).enumerate() {
            first.entry(*k).or_insert(i);
            let nat = population.nationality.get(k).copied().unwrap_or("?");
            if let Some(g) = r
                .names
                .first()
                .and_then(|n| n.given.split_whitespace().next())
            {
                givens.entry((nat, r.sex)).or_default().push(g.to_owned());
                if r.sex == Some(Sex::Male) {
                    males.entry(nat).or_default().push(g.to_owned());
                }
            }
        }
        let mut persons: Vec<(u64, usize)> = first.into_iter().collect();
        persons.sort_unstable();
        let n = config.queries.min(persons.len());
        persons.shuffle(&mut rng);
        let chosen: Vec<(u64, usize)> = persons[..n].to_vec();

        let mut queries = Vec::with_capacity(n);
        let mut absent_keys: HashSet<u64> = HashSet::new();
        let mut negatives: Vec<(MatchRecord, u64)> = Vec::new();
        let mut next_key = population.keys.iter().copied().max().unwrap_or(0) + 1;
        let mut nationality = population.nationality.clone();
        for (qi, (key, idx)) in chosen.iter().enumerate() {
            let base = &population.records[*idx];
            let nat = population.nationality.get(key).copied().unwrap_or("?");
            let absent = rng.random_bool(config.absent);
            if absent {
                absent_keys.insert(*key);
            }
            let wanted = rng.random_range(1..=3usize);
            let fathers = males.get(nat).map_or(&[][..], Vec::as_slice);
            let (record, variations) = vary(&mut rng, base, nat, fathers, config, wanted, qi);
            let mut kinds = Vec::new();
            for (kind, share) in [
                (HardNegative::Sibling, config.siblings),
                (HardNegative::Cousin, config.cousins),
            ] {
                if !rng.random_bool(share) {
                    continue;
                }
                let pool = givens.get(&(nat, base.sex)).map_or(&[][..], Vec::as_slice);
                if let Some(r) = relative(&mut rng, base, kind, pool, negatives.len()) {
                    nationality.insert(next_key, nat);
                    negatives.push((r, next_key));
                    next_key += 1;
                    kinds.push(kind);
                }
            }
            queries.push(HardQuery {
                record,
                key: *key,
                variations,
                absent,
                negatives: kinds,
            });
        }
        let mut register = Vec::with_capacity(population.records.len() + negatives.len());
        let mut keys = Vec::with_capacity(register.capacity());
        for (r, k) in population.records.iter().zip(&population.keys) {
            if !absent_keys.contains(k) {
                register.push(r.clone());
                keys.push(*k);
            }
        }
        for (r, k) in negatives {
            register.push(r);
            keys.push(k);
        }
        Self {
            register,
            keys,
            nationality,
            queries,
        }
    }
}

fn primary(r: &MatchRecord) -> PersonName {
    let n = r.names.first().cloned().unwrap_or_default();
    PersonName::new(n.given, n.family)
}

/// The query record: `base` with `wanted` variations (fewer when not enough apply).
fn vary(
    rng: &mut ChaCha8Rng,
    base: &MatchRecord,
    nat: &str,
    fathers: &[String],
    config: &HardCaseConfig,
    wanted: usize,
    qi: usize,
) -> (MatchRecord, Vec<HardVariation>) {
    let mut r = MatchRecord {
        id: format!("query-{qi}"),
        names: vec![primary(base)],
        ..base.clone()
    };
    let mut done: Vec<HardVariation> = Vec::new();
    let mut tries = 0;
    while done.len() < wanted && tries < 30 {
        tries += 1;
        let total: f64 = config.weights.iter().sum();
        let mut x = rng.random_range(0.0..total);
        let mut kind = HardVariation::ALL[0];
        for (k, w) in HardVariation::ALL.iter().zip(config.weights) {
            if x < w {
                kind = *k;
                break;
            }
            x -= w;
        }
        if done.contains(&kind)
            || (kind.is_dob() && done.iter().any(|d| d.is_dob()))
            || (kind.is_family() && done.iter().any(|d| d.is_family()))
        {
            continue;
        }
        if apply(rng, &mut r, kind, nat, fathers) {
            done.push(kind);
        }
    }
    done.sort();
    (r, done)
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// Applies one variation; false when it does not apply to this record.
fn apply(
    rng: &mut ChaCha8Rng,
    r: &mut MatchRecord,
    kind: HardVariation,
    nat: &str,
    fathers: &[String],
) -> bool {
    let Some(name) = r.names.first_mut() else {
        return false;
    };
    let mut given = words(&name.given);
    let mut family = words(&name.family);
    let ok = match kind {
        HardVariation::Patronymic => {
            if !PATRONYMIC.contains(&nat) || given.is_empty() {
                false
            } else if given.len() >= 2 && rng.random_bool(0.5) {
                // the father's name, a middle name, recorded as the family name
                let father = given.pop().unwrap_or_default();
                if family == [father.clone()] {
                    false
                } else {
                    family = vec![father];
                    true
                }
            } else if let Some(grand) = fathers.choose(rng) {
                // the grandfather's name as the family name
                let grand = grand.clone();
                if family.first() == Some(&grand) {
                    false
                } else {
                    family = vec![grand];
                    true
                }
            } else {
                false
            }
        }
        HardVariation::FamilyMissing => {
            if family.is_empty() || given.is_empty() {
                false
            } else {
                family.clear();
                true
            }
        }
        HardVariation::DobDefault => match r.dob {
            Some(d) => {
                let year = d.earliest.year() + [-1, 0, 0, 1][rng.random_range(0..4)];
                match NaiveDate::from_ymd_opt(year, 1, 1) {
                    Some(jan1) if Some(jan1) != (d.is_point().then_some(d.earliest)) => {
                        r.dob = Some(DobRange::exact(jan1));
                        true
                    }
                    _ => false,
                }
            }
            None => false,
        },
        HardVariation::DobWrongYear => match r.dob {
            Some(d) if d.is_point() && d.kind == DobKind::Exact => {
                let delta = [-2, -1, 1, 2][rng.random_range(0..4)];
                match d.earliest.with_year(d.earliest.year() + delta) {
                    Some(w) => {
                        r.dob = Some(DobRange::exact(w));
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        },
        HardVariation::CompoundJoinedOrSplit => {
            let all: Vec<(bool, usize)> = (0..given.len())
                .map(|i| (true, i))
                .chain((0..family.len()).map(|i| (false, i)))
                .collect();
            // join two adjacent words of the same part, else split a long word
            let joinable: Vec<(bool, usize)> = all
                .iter()
                .copied()
                .filter(|(g, i)| {
                    let list = if *g { &given } else { &family };
                    *i + 1 < list.len()
                })
                .collect();
            if let Some((g, i)) = joinable.choose(rng).copied() {
                let list = if g { &mut given } else { &mut family };
                let second = list.remove(i + 1);
                let lower: String = second.to_lowercase();
                // both spellings occur: `Ahmadshah` and `AhmadShah`
                let joined = if rng.random_bool(0.5) { lower } else { second };
                list[i].push_str(&joined);
                true
            } else {
                let long: Vec<(bool, usize)> = all
                    .iter()
                    .copied()
                    .filter(|(g, i)| {
                        let list = if *g { &given } else { &family };
                        list[*i].chars().count() >= 8
                    })
                    .collect();
                match long.choose(rng).copied() {
                    Some((g, i)) => {
                        let list = if g { &mut given } else { &mut family };
                        let w: Vec<char> = list[i].chars().collect();
                        let cut = rng.random_range(3..=w.len() - 4);
                        let a: String = w[..cut].iter().collect();
                        let b: String = w[cut..].iter().collect();
                        let mut b_cap = b.clone();
                        if let Some(c) = b.chars().next() {
                            b_cap = c.to_uppercase().collect::<String>() + &b[c.len_utf8()..];
                        }
                        list[i] = a;
                        list.insert(i + 1, b_cap);
                        true
                    }
                    None => false,
                }
            }
        }
        HardVariation::MiddleMoved => {
            if given.len() >= 2 && !family.is_empty() {
                let m = given.pop().unwrap_or_default();
                family.insert(0, m);
                true
            } else if family.len() >= 2 {
                let m = family.remove(0);
                given.push(m);
                true
            } else {
                false
            }
        }
        HardVariation::Transliteration => {
            let targets: Vec<(bool, usize)> = (0..given.len())
                .map(|i| (true, i))
                .chain((0..family.len()).map(|i| (false, i)))
                .collect();
            let mut done = false;
            for _ in 0..6 {
                let Some((g, i)) = targets.choose(rng).copied() else {
                    break;
                };
                let list = if g { &mut given } else { &mut family };
                if let Some(w) = rewrite(rng, &list[i]) {
                    list[i] = w;
                    done = true;
                    break;
                }
            }
            done
        }
    };
    if ok {
        name.given = given.join(" ");
        name.family = family.join(" ");
    }
    ok
}

/// One transliteration rewrite of `word` (ASCII letters; the first letter kept as is unless
/// the rule is about the start), or `None` when no rule applies.
fn rewrite(rng: &mut ChaCha8Rng, word: &str) -> Option<String> {
    if !word.is_ascii() || word.len() < 3 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let mut options: Vec<(usize, &str, &str)> = Vec::new();
    for (a, b) in REWRITES {
        for (from, to) in [(*a, *b), (*b, *a)] {
            for (pos, _) in lower.match_indices(from) {
                // the start is rewritten only for a vowel (`Osman` / `Usman`)
                if pos == 0 && !from.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    continue;
                }
                options.push((pos, from, to));
            }
        }
    }
    let (pos, from, to) = *options.choose(rng)?;
    let mut out = String::with_capacity(word.len() + 1);
    out.push_str(&lower[..pos]);
    out.push_str(to);
    out.push_str(&lower[pos + from.len()..]);
    if out == lower {
        return None;
    }
    let mut chars = out.chars();
    let first = chars.next()?;
    Some(first.to_ascii_uppercase().to_string() + chars.as_str())
}

/// A sibling or cousin of `base`: same family name and nationality, another given name of
/// the same sex and nationality, a date of birth near theirs.
fn relative(
    rng: &mut ChaCha8Rng,
    base: &MatchRecord,
    kind: HardNegative,
    pool: &[String],
    n: usize,
) -> Option<MatchRecord> {
    let name = primary(base);
    if name.family.is_empty() {
        return None;
    }
    let own = name.given.split_whitespace().next().unwrap_or("");
    let given = (0..10)
        .filter_map(|_| pool.choose(rng))
        .find(|g| g.as_str() != own)?
        .clone();
    let dob = base.dob.map(|d| {
        let days = match kind {
            HardNegative::Sibling => rng.random_range(365..=5 * 365),
            HardNegative::Cousin => rng.random_range(0..=3 * 365),
        };
        let date = if rng.random_bool(0.5) {
            d.earliest.checked_add_days(Days::new(days))
        } else {
            d.earliest.checked_sub_days(Days::new(days))
        }
        .unwrap_or(d.earliest);
        DobRange::exact(date)
    });
    let label = match kind {
        HardNegative::Sibling => "sibling",
        HardNegative::Cousin => "cousin",
    };
    Some(MatchRecord {
        id: format!("{label}-{n}-of-{}", base.id),
        names: vec![PersonName::new(given, name.family)],
        dob,
        sex: base.sex,
        nationalities: base.nationalities.clone(),
        height_cm: None,
        marks: Vec::new(),
        identifiers: Vec::new(),
        text_fields: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Config, Generator};
    use chrono::TimeZone;

    fn cases(queries: usize) -> (MatchingPopulation, HardCases) {
        let end = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let g = Generator::new(Config::new(11, 3_000, end)).unwrap();
        let p = MatchingPopulation::generate(&g);
        let config = HardCaseConfig {
            queries,
            ..HardCaseConfig::TUNING
        };
        let c = HardCases::make(&p, &config);
        (p, c)
    }

    #[test]
    fn every_kind_is_made_and_the_truth_is_kept() {
        let (_, c) = cases(2_000);
        assert_eq!(c.queries.len(), 2_000);
        let mut seen: HashMap<HardVariation, usize> = HashMap::new();
        for q in &c.queries {
            assert!((1..=3).contains(&q.variations.len()), "{q:?}");
            assert!(q.variations.iter().filter(|v| v.is_dob()).count() <= 1);
            for v in &q.variations {
                *seen.entry(*v).or_default() += 1;
            }
            assert!(q.record.names[0].original_script.is_none());
            let in_register = c.keys.contains(&q.key);
            assert_eq!(in_register, !q.absent, "absent persons are taken out");
        }
        for kind in HardVariation::ALL {
            assert!(
                seen.get(&kind).copied().unwrap_or(0) > 20,
                "{kind:?}: {seen:?}"
            );
        }
        let absent = c.queries.iter().filter(|q| q.absent).count();
        assert!((100..300).contains(&absent), "{absent}");
        let negatives: usize = c.queries.iter().map(|q| q.negatives.len()).sum();
        assert!(negatives > 500, "{negatives}");
        assert_eq!(c.register.len(), c.keys.len());
    }

    #[test]
    fn variations_do_what_they_say() {
        let (p, c) = cases(1_500);
        let first: HashMap<u64, &MatchRecord> = p
            .records
            .iter()
            .zip(&p.keys)
            .rev()
            .map(|(r, k)| (*k, r))
            .collect();
        for q in &c.queries {
            let base = first[&q.key];
            let (bn, qn) = (primary(base), &q.record.names[0]);
            let (bd, qd) = (base.dob, q.record.dob);
            for v in &q.variations {
                match v {
                    HardVariation::DobDefault => {
                        let d = qd.unwrap();
                        assert_eq!((d.earliest.month(), d.earliest.day()), (1, 1));
                        assert!(d.earliest.year().abs_diff(bd.unwrap().earliest.year()) <= 1);
                    }
                    HardVariation::DobWrongYear => {
                        let (a, b) = (qd.unwrap().earliest, bd.unwrap().earliest);
                        assert_eq!((a.month(), a.day()), (b.month(), b.day()));
                        assert!((1..=2).contains(&a.year().abs_diff(b.year())));
                    }
                    HardVariation::FamilyMissing => assert!(qn.family.is_empty()),
                    _ => {}
                }
            }
            if !q.variations.iter().any(|v| v.is_dob()) {
                assert_eq!(qd, bd);
            }
            let name_changed = q.variations.iter().any(|v| !v.is_dob());
            assert_eq!(
                name_changed,
                (qn.given.as_str(), qn.family.as_str()) != (bn.given.as_str(), bn.family.as_str()),
                "{bn:?} -> {qn:?} by {:?}",
                q.variations
            );
        }
        // siblings share the family name and are near in age
        for r in c.register.iter().filter(|r| r.id.starts_with("sibling-")) {
            let of = r.id.split("-of-").nth(1).unwrap();
            let base = p.records.iter().find(|b| b.id == of).unwrap();
            assert_eq!(r.names[0].family, primary(base).family);
            assert_ne!(r.names[0].given, primary(base).given);
        }
    }

    #[test]
    fn the_held_out_seed_is_not_the_tuning_seed() {
        assert_ne!(HardCaseConfig::HELD_OUT.seed, HardCaseConfig::TUNING.seed);
        let (_, a) = cases(200);
        let (_, b) = cases(200);
        assert_eq!(a.queries, b.queries, "deterministic");
    }
}
