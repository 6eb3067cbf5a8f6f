//! Training: u from random pairs, m and λ by expectation–maximisation.

use std::collections::HashMap;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::compare::{
    ComparisonVector, DobLevel, HeightLevel, IdentifierLevel, Level, MarksLevel, NameLevel,
    NationalityLevel, SexLevel, TextLevel, compare,
};
use crate::model::{LevelParams, Model, weight_of};
use crate::prepare::{Prepared, Tokens};

/// Smoothing pseudo-count added to every level when estimating probabilities.
const PSEUDO: f64 = 0.5;

/// Aggregated comparison vectors: distinct patterns of (field, level) with counts.
#[derive(Debug, Clone)]
pub struct PatternCounts {
    fields: Vec<String>,
    labels: Vec<&'static [&'static str]>,
    index: HashMap<String, u16>,
    patterns: HashMap<Vec<(u16, u8)>, u64>,
    pairs: u64,
}

macro_rules! label_table {
    ($name:ident, $ty:ty, [$($v:ident),+]) => {
        const $name: &[&str] = &[$(stringify!($v)),+];
        const _: () = assert!($name.len() == <$ty as Level>::ALL.len());
    };
}

label_table!(
    NAME_LABELS,
    NameLevel,
    [
        exact,
        variant_group,
        jaro_winkler_high,
        jaro_winkler_mid,
        phonetic,
        subset,
        initial,
        partial,
        different,
        missing
    ]
);
label_table!(
    DOB_LABELS,
    DobLevel,
    [
        exact,
        day_month_swapped,
        overlap_narrow,
        overlap_wide,
        same_year,
        within_one_year,
        different,
        missing
    ]
);
label_table!(SEX_LABELS, SexLevel, [same, different, missing]);
label_table!(NAT_LABELS, NationalityLevel, [shared, different, missing]);
label_table!(
    HEIGHT_LABELS,
    HeightLevel,
    [overlap, near, different, missing]
);
label_table!(
    MARKS_LABELS,
    MarksLevel,
    [similar, partial, different, missing]
);
label_table!(
    ID_LABELS,
    IdentifierLevel,
    [exact, one_typo, different, missing]
);
label_table!(
    TEXT_LABELS,
    TextLevel,
    [
        exact,
        jaro_winkler_high,
        jaro_winkler_mid,
        different,
        missing
    ]
);

impl Default for PatternCounts {
    fn default() -> Self {
        let mut pc = Self {
            fields: Vec::new(),
            labels: Vec::new(),
            index: HashMap::new(),
            patterns: HashMap::new(),
            pairs: 0,
        };
        pc.field_id("name", NAME_LABELS);
        pc.field_id("dob", DOB_LABELS);
        pc.field_id("sex", SEX_LABELS);
        pc.field_id("nationality", NAT_LABELS);
        pc.field_id("height", HEIGHT_LABELS);
        pc.field_id("marks", MARKS_LABELS);
        pc.field_id("identifiers", ID_LABELS);
        pc
    }
}

impl PatternCounts {
    /// Empty counts.
    pub fn new() -> Self {
        Self::default()
    }

    fn field_id(&mut self, key: &str, labels: &'static [&'static str]) -> u16 {
        if let Some(i) = self.index.get(key) {
            return *i;
        }
        let i = u16::try_from(self.fields.len()).unwrap_or(u16::MAX);
        self.fields.push(key.to_string());
        self.labels.push(labels);
        self.index.insert(key.to_string(), i);
        i
    }

    /// Number of pairs added.
    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// Number of fields observed (not missing) in at least one pair.
    pub fn observed_fields(&self) -> usize {
        let mut seen: Vec<u16> = self
            .patterns
            .keys()
            .flat_map(|k| k.iter().map(|(f, _)| *f))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// Number of distinct patterns.
    pub fn distinct(&self) -> usize {
        self.patterns.len()
    }

    /// Adds one comparison vector (`a` is its left record).
    pub fn add(&mut self, cv: &ComparisonVector, a: &Prepared) {
        let mut key: Vec<(u16, u8)> = Vec::with_capacity(8);
        let mut push = |f: u16, missing: bool, idx: usize| {
            if !missing {
                key.push((f, u8::try_from(idx).unwrap_or(u8::MAX)));
            }
        };
        push(0, cv.name.level.is_missing(), cv.name.level.index());
        push(1, cv.dob.is_missing(), cv.dob.index());
        push(2, cv.sex.is_missing(), cv.sex.index());
        push(3, cv.nationality.is_missing(), cv.nationality.index());
        push(4, cv.height.is_missing(), cv.height.index());
        push(5, cv.marks.is_missing(), cv.marks.index());
        push(6, cv.identifiers.is_missing(), cv.identifiers.index());
        for (i, level) in &cv.texts {
            if let Some((name, _)) = a.texts.get(*i) {
                let f = self.field_id(&format!("text:{name}"), TEXT_LABELS);
                key.push((f, u8::try_from(level.index()).unwrap_or(u8::MAX)));
            }
        }
        key.sort_unstable();
        *self.patterns.entry(key).or_insert(0) += 1;
        self.pairs += 1;
    }

    /// Merges counts gathered elsewhere (e.g. on another thread).
    pub fn merge(&mut self, other: PatternCounts) {
        let remap: Vec<u16> = other
            .fields
            .iter()
            .zip(&other.labels)
            .map(|(f, l)| self.field_id(f, l))
            .collect();
        for (k, c) in other.patterns {
            let mut key: Vec<(u16, u8)> = k.iter().map(|(f, l)| (remap[*f as usize], *l)).collect();
            key.sort_unstable();
            *self.patterns.entry(key).or_insert(0) += c;
        }
        self.pairs += other.pairs;
    }

    /// The same counts with field `key` dropped from every pattern (for EM
    /// sessions that block on that field: it must not inform the posterior).
    pub fn without(&self, key: &str) -> PatternCounts {
        let Some(&drop) = self.index.get(key) else {
            return self.clone();
        };
        let mut out = PatternCounts {
            patterns: HashMap::new(),
            ..self.clone()
        };
        for (k, c) in &self.patterns {
            let key: Vec<(u16, u8)> = k.iter().copied().filter(|(f, _)| *f != drop).collect();
            *out.patterns.entry(key).or_insert(0) += c;
        }
        out
    }

    fn sorted(&self) -> Vec<(&Vec<(u16, u8)>, f64)> {
        let mut v: Vec<_> = self.patterns.iter().map(|(k, c)| (k, *c as f64)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// EM settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmConfig {
    /// Maximum iterations.
    pub max_iterations: usize,
    /// Stop when no m (or u) changes by more than this.
    pub tolerance: f64,
    /// Keep u fixed during EM. Off by default: candidate pairs are selected on
    /// name agreement, so their non-matches do not look like random pairs.
    pub fix_u: bool,
    /// After EM, restore the model's previous u (from random pairs) so that
    /// scoring uses population u with the EM-learned m (as Splink does).
    pub keep_u: bool,
    /// Starting λ among the candidate pairs.
    pub initial_lambda: f64,
    /// Number of possible pairs in the data (n(n-1)/2 for dedup), used to turn the
    /// λ among candidate pairs into the model's global prior. `None` keeps the prior.
    pub total_pairs: Option<f64>,
}

impl Default for EmConfig {
    fn default() -> Self {
        Self {
            max_iterations: 500,
            tolerance: 1e-5,
            fix_u: false,
            keep_u: true,
            initial_lambda: 0.1,
            total_pairs: None,
        }
    }
}

/// What EM did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmReport {
    /// Iterations run.
    pub iterations: usize,
    /// Converged within tolerance.
    pub converged: bool,
    /// Estimated proportion of matches among the candidate pairs.
    pub lambda_candidates: f64,
    /// Candidate pairs used.
    pub pairs: u64,
}

type Table = Vec<Vec<f64>>;

impl Model {
    fn tables(&self, counts: &PatternCounts) -> (Table, Table) {
        let mut m = Vec::new();
        let mut u = Vec::new();
        for (key, labels) in counts.fields.iter().zip(&counts.labels) {
            let params = if let Some(name) = key.strip_prefix("text:") {
                self.text_field(name)
            } else {
                self.field(key)
            };
            let n = labels.len();
            let mut mr = vec![1.0 / n as f64; n];
            let mut ur = vec![1.0 / n as f64; n];
            if let Some(p) = params {
                for (i, l) in labels.iter().enumerate() {
                    if let Some(lp) = p.level(l) {
                        mr[i] = lp.m;
                        ur[i] = lp.u;
                    }
                }
            }
            m.push(mr);
            u.push(ur);
        }
        (m, u)
    }

    fn store(&mut self, counts: &PatternCounts, m: &Table, u: &Table) {
        for (fi, (key, labels)) in counts.fields.iter().zip(&counts.labels).enumerate() {
            let field = self.field_mut_or_insert(key);
            // missing is the last label and never stored
            let levels: Vec<LevelParams> = labels[..labels.len() - 1]
                .iter()
                .enumerate()
                .map(|(li, l)| LevelParams {
                    level: (*l).to_string(),
                    m: m[fi][li],
                    u: u[fi][li],
                    weight: weight_of(m[fi][li], u[fi][li]),
                })
                .collect();
            field.levels = levels;
        }
    }

    /// Sets u of every field from comparison vectors of *random* pairs.
    pub fn set_u_from_random_pairs(&mut self, counts: &PatternCounts) {
        let (m, u) = self.tables(counts);
        let u = estimate(counts, &u);
        self.store(counts, &m, &u);
        self.notes
            .push(format!("u estimated from {} random pairs", counts.pairs()));
    }

    /// Samples up to `n_pairs` random pairs of distinct records (seeded `rng`),
    /// compares them and sets u from the level frequencies. Returns the pairs used.
    pub fn estimate_u<T: Tokens + ?Sized, R: Rng + ?Sized>(
        &mut self,
        records: &[Prepared],
        tokens: &T,
        rng: &mut R,
        n_pairs: usize,
    ) -> u64 {
        let mut counts = PatternCounts::new();
        if records.len() >= 2 {
            for _ in 0..n_pairs {
                let i = rng.random_range(0..records.len());
                let mut j = rng.random_range(0..records.len() - 1);
                if j >= i {
                    j += 1;
                }
                let cv = compare(&records[i], &records[j], tokens);
                counts.add(&cv, &records[i]);
            }
        }
        if counts.pairs() > 0 {
            self.set_u_from_random_pairs(&counts);
        }
        counts.pairs()
    }

    /// Expectation–maximisation over candidate-pair patterns: learns m (and u
    /// unless `fix_u`) and λ among candidates; sets the global prior if
    /// `config.total_pairs` is given.
    pub fn train_em(&mut self, counts: &PatternCounts, config: &EmConfig) -> EmReport {
        let patterns = counts.sorted();
        let (mut m, mut u) = self.tables(counts);
        let u_before = u.clone();
        let mut lambda = config.initial_lambda.clamp(1e-6, 1.0 - 1e-6);
        let mut iterations = 0;
        let mut converged = false;
        let total: f64 = patterns.iter().map(|(_, c)| c).sum();
        if total == 0.0 {
            return EmReport {
                iterations: 0,
                converged: false,
                lambda_candidates: lambda,
                pairs: 0,
            };
        }
        while iterations < config.max_iterations {
            iterations += 1;
            // E-step
            let posts: Vec<f64> = patterns
                .iter()
                .map(|(key, _)| {
                    let mut w = (lambda / (1.0 - lambda)).log2();
                    for (f, l) in key.iter() {
                        let (f, l) = (*f as usize, *l as usize);
                        w += weight_of(m[f][l], u[f][l]);
                    }
                    1.0 / (1.0 + (-w).exp2())
                })
                .collect();
            // M-step
            let new_m = estimate_with(counts, &patterns, &posts, true, &m);
            let new_u = if config.fix_u {
                u.clone()
            } else {
                estimate_with(counts, &patterns, &posts, false, &u)
            };
            let matched: f64 = patterns.iter().zip(&posts).map(|((_, c), p)| c * p).sum();
            let new_lambda = (matched / total).clamp(1e-9, 1.0 - 1e-9);
            let delta = max_delta(&m, &new_m)
                .max(max_delta(&u, &new_u))
                .max((lambda - new_lambda).abs());
            m = new_m;
            u = new_u;
            lambda = new_lambda;
            if delta < config.tolerance {
                converged = true;
                break;
            }
        }
        if config.keep_u {
            u = u_before;
        }
        self.store(counts, &m, &u);
        if let Some(tp) = config.total_pairs.filter(|t| *t > 0.0) {
            self.prior = (lambda * counts.pairs() as f64 / tp).clamp(1e-12, 0.5);
        }
        self.notes.push(format!(
            "EM on {} candidate pairs: {iterations} iterations, converged={converged}, lambda among candidates={lambda:.4}",
            counts.pairs()
        ));
        EmReport {
            iterations,
            converged,
            lambda_candidates: lambda,
            pairs: counts.pairs(),
        }
    }
}

impl Model {
    /// Sets m of the `targets` fields from the posterior of the other fields, without
    /// letting the targets vote: each candidate-pair pattern's match probability is
    /// computed from λ (`lambda`, among these candidates) and the weights of every
    /// field *not* in `targets`, and m of each target level is the
    /// posterior-weighted share of pairs at that level. One M-step, no iteration, so
    /// the targets cannot pull λ or the other fields' m: used for fields whose
    /// agreement among non-matching candidates is far more common than among random
    /// pairs (height among pairs born the same day), where EM would take that
    /// agreement for matches. Returns the expected number of matches among the pairs.
    pub fn m_from_posterior(
        &mut self,
        counts: &PatternCounts,
        lambda: f64,
        targets: &[&str],
    ) -> f64 {
        let patterns = counts.sorted();
        let (m, u) = self.tables(counts);
        let target_ids: Vec<u16> = targets
            .iter()
            .filter_map(|t| counts.index.get(*t).copied())
            .collect();
        let lambda = lambda.clamp(1e-9, 1.0 - 1e-9);
        let posts: Vec<f64> = patterns
            .iter()
            .map(|(key, _)| {
                let mut w = (lambda / (1.0 - lambda)).log2();
                for (f, l) in key.iter().filter(|(f, _)| !target_ids.contains(f)) {
                    w += weight_of(m[*f as usize][*l as usize], u[*f as usize][*l as usize]);
                }
                1.0 / (1.0 + (-w).exp2())
            })
            .collect();
        let estimated = estimate_with(counts, &patterns, &posts, true, &m);
        let mut new_m = m.clone();
        for f in &target_ids {
            new_m[*f as usize].clone_from(&estimated[*f as usize]);
        }
        // store only the targets: the other fields keep their parameters
        for (fi, (key, labels)) in counts.fields.iter().zip(&counts.labels).enumerate() {
            if !target_ids.contains(&u16::try_from(fi).unwrap_or(u16::MAX)) {
                continue;
            }
            let field = self.field_mut_or_insert(key);
            field.levels = labels[..labels.len() - 1]
                .iter()
                .enumerate()
                .map(|(li, l)| LevelParams {
                    level: (*l).to_string(),
                    m: new_m[fi][li],
                    u: u[fi][li],
                    weight: weight_of(new_m[fi][li], u[fi][li]),
                })
                .collect();
        }
        patterns.iter().zip(&posts).map(|((_, c), p)| c * p).sum()
    }
}

fn max_delta(a: &Table, b: &Table) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f64::max)
}

/// Level frequencies per field over all patterns (fields never observed keep `prev`).
fn estimate(counts: &PatternCounts, prev: &Table) -> Table {
    let patterns = counts.sorted();
    let posts = vec![1.0; patterns.len()];
    estimate_with(counts, &patterns, &posts, true, prev)
}

fn estimate_with(
    counts: &PatternCounts,
    patterns: &[(&Vec<(u16, u8)>, f64)],
    posts: &[f64],
    matches: bool,
    prev: &Table,
) -> Table {
    let mut acc: Table = counts.labels.iter().map(|l| vec![0.0; l.len()]).collect();
    for ((key, c), p) in patterns.iter().zip(posts) {
        let w = if matches { c * p } else { c * (1.0 - p) };
        for (f, l) in key.iter() {
            acc[*f as usize][*l as usize] += w;
        }
    }
    for (row, prev_row) in acc.iter_mut().zip(prev) {
        let n = row.len();
        let observed: f64 = row.iter().sum();
        if observed < 1e-9 {
            // no information about this field: keep what we had
            row.clone_from(prev_row);
            continue;
        }
        // the last level is "missing": excluded from the distribution
        let non_missing = n - 1;
        let sum: f64 = row[..non_missing].iter().sum::<f64>() + PSEUDO * non_missing as f64;
        for (i, x) in row.iter_mut().enumerate() {
            *x = if i < non_missing {
                (*x + PSEUDO) / sum
            } else {
                0.0
            };
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<L: Level>(table: &[&str]) {
        let labels: Vec<&str> = L::ALL.iter().map(|l| l.label()).collect();
        assert_eq!(labels, table);
    }

    #[test]
    fn label_tables_match_level_enums() {
        check::<NameLevel>(NAME_LABELS);
        check::<DobLevel>(DOB_LABELS);
        check::<SexLevel>(SEX_LABELS);
        check::<NationalityLevel>(NAT_LABELS);
        check::<HeightLevel>(HEIGHT_LABELS);
        check::<MarksLevel>(MARKS_LABELS);
        check::<IdentifierLevel>(ID_LABELS);
        check::<TextLevel>(TEXT_LABELS);
    }
}
