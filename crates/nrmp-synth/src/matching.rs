//! The synthetic population flattened for identity matching, with its truth: which records are
//! the same true person, which are deliberate duplicates and how many compared fields each
//! changed. What `nrmp train --synthetic` trains on and what the matching benchmarks
//! (`nrmp-bench match`, `match-accuracy`, `dedup`) measure against. Needs the `matching`
//! feature (it converts records with [`nrmp_match::domain::match_record`]).

use crate::Generator;
use nrmp_match::MatchRecord;
use nrmp_match::domain::match_record;
use rayon::prelude::*;
use std::collections::HashMap;
use std::ops::Range;

/// True persons generated per parallel chunk by [`MatchingPopulation::generate`].
pub const CHUNK: usize = 2_000;

/// A synthetic population as matching records, with its truth.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MatchingPopulation {
    /// Every person record (first records and duplicates), in generation order.
    pub records: Vec<MatchRecord>,
    /// The true person's key of each record (same order).
    pub keys: Vec<u64>,
    /// Duplicate records: (record index, compared fields changed from the first record).
    pub duplicates: Vec<(usize, usize)>,
    /// Nationality of each true person's name, by key.
    pub nationality: HashMap<u64, &'static str>,
}

impl MatchingPopulation {
    /// The whole population of `generator` (its configured number of true persons, duplicate
    /// records on top), generated in parallel chunks; the same for any number of threads.
    pub fn generate(generator: &Generator) -> Self {
        let persons = generator.config().persons;
        let mut out = Self::default();
        let starts: Vec<usize> = (0..persons).step_by(CHUNK).collect();
        for batch in starts.chunks(64) {
            let parts: Vec<Self> = batch
                .par_iter()
                .map(|s| Self::from_chunk(generator, *s..(*s + CHUNK).min(persons)))
                .collect();
            for p in parts {
                out.append(p);
            }
        }
        out
    }

    /// The records of true persons `range`.
    pub fn from_chunk(generator: &Generator, range: Range<usize>) -> Self {
        let generated = generator.chunk(range);
        let key_of: HashMap<String, u64> = generated
            .truth
            .iter()
            .map(|(id, k)| (id.to_string(), *k))
            .collect();
        let mut out = Self::default();
        let mut pos: HashMap<String, usize> = HashMap::new();
        for p in &generated.persons {
            let r = match_record(p);
            pos.insert(r.id.clone(), out.records.len());
            out.keys
                .push(key_of.get(&r.id).copied().unwrap_or(u64::MAX));
            out.records.push(r);
        }
        for d in &generated.duplicates {
            if let Some(i) = pos.get(&d.record.to_string()) {
                out.duplicates.push((*i, d.fields_changed()));
            }
        }
        for t in &generated.people {
            out.nationality.insert(t.key, t.nationality);
        }
        out
    }

    /// Appends another part (record indexes of its duplicates are shifted to follow ours).
    pub fn append(&mut self, other: Self) {
        let base = self.records.len();
        self.records.extend(other.records);
        self.keys.extend(other.keys);
        self.duplicates
            .extend(other.duplicates.into_iter().map(|(i, f)| (i + base, f)));
        self.nationality.extend(other.nationality);
    }

    /// Every pair of records of the same true person, as (smaller id, larger id), sorted.
    pub fn truth_pairs(&self) -> Vec<(String, String)> {
        let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, k) in self.keys.iter().enumerate() {
            by_key.entry(*k).or_default().push(i);
        }
        let mut out = Vec::new();
        for members in by_key.values().filter(|m| m.len() > 1) {
            for (x, a) in members.iter().enumerate() {
                for b in &members[x + 1..] {
                    let (ia, ib) = (&self.records[*a].id, &self.records[*b].id);
                    let (l, r) = if ia <= ib { (ia, ib) } else { (ib, ia) };
                    out.push((l.clone(), r.clone()));
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Config;
    use chrono::TimeZone;

    fn generator(persons: usize) -> Generator {
        let end = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        Generator::new(Config::new(5, persons, end)).unwrap()
    }

    #[test]
    fn parallel_generation_equals_the_chunks_in_order_and_keeps_the_truth() {
        // more than one chunk, so the parallel parts are appended with shifted indexes
        let g = generator(CHUNK + 500);
        let all = MatchingPopulation::generate(&g);
        let mut by_hand = MatchingPopulation::from_chunk(&g, 0..CHUNK);
        by_hand.append(MatchingPopulation::from_chunk(&g, CHUNK..CHUNK + 500));
        assert_eq!(all, by_hand);

        let generated = g.chunk(0..CHUNK + 500);
        assert_eq!(all.records.len(), generated.persons.len());
        assert_eq!(all.duplicates.len(), generated.duplicates.len());
        assert_eq!(all.nationality.len(), CHUNK + 500);
        assert!(all.keys.iter().all(|k| *k < (CHUNK + 500) as u64));
        // a duplicate record and its first record share the true person's key
        for d in &generated.duplicates {
            let i = all
                .records
                .iter()
                .position(|r| r.id == d.record.to_string())
                .unwrap();
            let j = all
                .records
                .iter()
                .position(|r| r.id == d.of.to_string())
                .unwrap();
            assert_eq!(all.keys[i], all.keys[j]);
            assert_eq!(all.keys[i], d.key);
            assert!(all.duplicates.contains(&(i, d.fields_changed())));
        }
        // truth pairs: one per pair of records of a true person with several records
        let expected: usize = generated
            .people
            .iter()
            .map(|t| t.records.len() * (t.records.len() - 1) / 2)
            .sum();
        let pairs = all.truth_pairs();
        assert!(expected > 0);
        assert_eq!(pairs.len(), expected);
        assert!(pairs.iter().all(|(a, b)| a < b));
    }
}
