//! `nrmp-bench match-hard`: lookups on the variation real records show (issue 15, part 3) —
//! queries made by [`nrmp_synth::hard_cases`] against a synthetic register with siblings and
//! cousins as hard negatives: blocking recall, recall@1 and @10, and how often the top
//! candidate of each strength band is the person, by nationality group, by kind of variation
//! and by number of variations.

use crate::accuracy::{GROUPS, lookup_config};
use chrono::NaiveDate;
use clap::Args;
use nrmp_cli::commands::matching::load_model;
use nrmp_cli::commands::synth::generator;
use nrmp_match::Index;
use nrmp_match::explain::Strength;
use nrmp_synth::hard_cases::{HardCaseConfig, HardCases, HardNegative, HardVariation};
use nrmp_synth::matching::MatchingPopulation;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `nrmp-bench match-hard`.
#[derive(Debug, Args)]
pub struct HardArgs {
    /// True persons of the register's population (duplicate records come on top).
    #[arg(long, default_value_t = 200_000)]
    pub persons: usize,
    /// Seed of the population (not the training seed, 7).
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// The query set: `tuning` (for changing the matcher) or `held-out` (final figures only).
    #[arg(long, default_value = "tuning")]
    pub set: String,
    /// Queries (default: the set's 10,000).
    #[arg(long)]
    pub queries: Option<usize>,
    /// End of the synthetic history.
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Model file (default: the shipped model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write every query whose true record is not in the top 10, with the top three.
    #[arg(long)]
    pub dump: Option<PathBuf>,
}

/// Counts for one row of a table.
#[derive(Debug, Default, Clone, Copy)]
pub struct Row {
    /// Queries with a true match in the register.
    pub n: usize,
    /// Of them, a true record among the blocking candidates.
    pub blocked: usize,
    /// Of them, a true record first.
    pub at1: usize,
    /// Of them, a true record in the first ten.
    pub at10: usize,
    /// Queries whose top candidate was strong / of them, the person.
    pub strong: (usize, usize),
    /// Queries whose top candidate was possible / of them, the person.
    pub possible: (usize, usize),
}

impl Row {
    fn add(&mut self, o: &Outcome) {
        if o.has_truth {
            self.n += 1;
            self.blocked += usize::from(o.blocked);
            self.at1 += usize::from(o.rank == Some(0));
            self.at10 += usize::from(o.rank.is_some_and(|r| r < 10));
        }
        match o.top {
            Some((Strength::Strong, right)) => {
                self.strong.0 += 1;
                self.strong.1 += usize::from(right);
            }
            Some((Strength::Possible, right)) => {
                self.possible.0 += 1;
                self.possible.1 += usize::from(right);
            }
            _ => {}
        }
    }

    /// The table line.
    pub fn line(&self, label: &str) -> String {
        let f = |a: usize, b: usize| {
            if b == 0 {
                "      -".to_string()
            } else {
                format!("{:>7.4}", a as f64 / b as f64)
            }
        };
        format!(
            "  {label:<24} {:>6}  {}  {}  {}   {} ({:>5})  {} ({:>5})",
            self.n,
            f(self.blocked, self.n),
            f(self.at1, self.n),
            f(self.at10, self.n),
            f(self.strong.1, self.strong.0),
            self.strong.0,
            f(self.possible.1, self.possible.0),
            self.possible.0,
        )
    }
}

/// What one query gave.
#[derive(Debug, Clone)]
struct Outcome {
    has_truth: bool,
    blocked: bool,
    rank: Option<usize>,
    /// The top candidate's band and whether it is the person.
    top: Option<(Strength, bool)>,
    top_weight: Option<f64>,
}

fn header(title: &str) {
    println!();
    println!("{title}");
    println!(
        "  {:<24} {:>6}  {:>7}  {:>7}  {:>7}   {:>15}  {:>15}",
        "", "truth", "block", "rec@1", "rec@10", "strong: right", "possible: right"
    );
}

/// Runs `nrmp-bench match-hard`.
pub fn run_hard(args: HardArgs) -> anyhow::Result<()> {
    let mut config = match args.set.as_str() {
        "tuning" => HardCaseConfig::TUNING,
        "held-out" => HardCaseConfig::HELD_OUT,
        other => anyhow::bail!("--set: `{other}` is not a query set (tuning, held-out)"),
    };
    if let Some(q) = args.queries {
        config.queries = q;
    }
    let model = load_model(args.model.as_deref())?;
    let t = Instant::now();
    let population = MatchingPopulation::generate(&generator(args.seed, args.persons, args.until)?);
    let cases = HardCases::make(&population, &config);
    drop(population);
    let siblings = cases
        .register
        .iter()
        .filter(|r| r.id.starts_with("sibling-") || r.id.starts_with("cousin-"))
        .count();
    println!(
        "nrmp-bench match-hard: {} true persons, seed {}, query set {} ({} queries), register of {} records ({} siblings and cousins), made in {:.1} s",
        args.persons,
        args.seed,
        args.set,
        cases.queries.len(),
        cases.register.len(),
        siblings,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let index = Index::build(model, lookup_config(None), &cases.register);
    println!("  index built in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let outcomes = evaluate(&index, &cases);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "  {} lookups in {secs:.1} s; truth: queries whose person is in the register; block: a true record among the scored candidates; strong/possible: share of top candidates of that band that are the person (how many)",
        outcomes.len()
    );
    report(&cases, &outcomes, args.dump.as_deref())
}

/// Every query looked up in `index` (built from `cases.register`): what it gave, and for a
/// query whose person was not in the first ten, the first three candidates.
fn evaluate(index: &Index, cases: &HardCases) -> Vec<(Outcome, Vec<nrmp_match::Candidate>)> {
    let key_of: HashMap<&str, u64> = cases
        .register
        .iter()
        .zip(&cases.keys)
        .map(|(r, k)| (r.id.as_str(), *k))
        .collect();
    cases
        .queries
        .par_iter()
        .map(|q| {
            let hits = index.lookup(&q.record, 10);
            let is_true = |id: &str| key_of.get(id) == Some(&q.key);
            let blocked = !q.absent && index.candidate_ids(&q.record).into_iter().any(is_true);
            let rank = hits.iter().position(|c| is_true(&c.id));
            let top = hits
                .first()
                .map(|c| (Strength::of(c.match_weight), is_true(&c.id)));
            let o = Outcome {
                has_truth: !q.absent,
                blocked,
                rank,
                top,
                top_weight: hits.first().map(|c| c.match_weight),
            };
            let shown = if o.has_truth && rank.is_none_or(|r| r >= 10) {
                hits.into_iter().take(3).collect()
            } else {
                Vec::new()
            };
            (o, shown)
        })
        .collect()
}

/// Prints the tables (and writes the `--dump` file).
fn report(
    cases: &HardCases,
    outcomes: &[(Outcome, Vec<nrmp_match::Candidate>)],
    dump: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let key_of: HashMap<&str, u64> = cases
        .register
        .iter()
        .zip(&cases.keys)
        .map(|(r, k)| (r.id.as_str(), *k))
        .collect();
    let group = |key: u64| -> &'static str {
        let n = cases.nationality.get(&key).copied().unwrap_or("?");
        if GROUPS.contains(&n) { n } else { "other" }
    };
    let mut all = Row::default();
    let mut by_count: BTreeMap<usize, Row> = BTreeMap::new();
    let mut by_kind: BTreeMap<HardVariation, Row> = BTreeMap::new();
    let mut by_group: BTreeMap<&str, Row> = BTreeMap::new();
    let mut by_negative: BTreeMap<&str, Row> = BTreeMap::new();
    for (q, (o, _)) in cases.queries.iter().zip(outcomes) {
        all.add(o);
        by_count.entry(q.variations.len()).or_default().add(o);
        for v in &q.variations {
            by_kind.entry(*v).or_default().add(o);
        }
        by_group.entry(group(q.key)).or_default().add(o);
        let neg = if q.negatives.contains(&HardNegative::Sibling) {
            "sibling in register"
        } else if q.negatives.contains(&HardNegative::Cousin) {
            "cousin in register"
        } else {
            "no relative added"
        };
        by_negative.entry(neg).or_default().add(o);
    }
    header("All queries");
    println!("{}", all.line("all"));
    let absent: Vec<&Outcome> = outcomes
        .iter()
        .map(|(o, _)| o)
        .filter(|o| !o.has_truth)
        .collect();
    let absent_strong = absent
        .iter()
        .filter(|o| matches!(o.top, Some((Strength::Strong, _))))
        .count();
    println!(
        "  queries without a true match: {}, of which the top candidate was strong for {}",
        absent.len(),
        absent_strong
    );
    header("By number of variations");
    for (n, r) in &by_count {
        println!("{}", r.line(&format!("{n} variation(s)")));
    }
    header("By kind of variation (a query counts under each of its kinds)");
    for kind in HardVariation::ALL {
        if let Some(r) = by_kind.get(&kind) {
            println!("{}", r.line(kind.label()));
        }
    }
    header("By nationality of the name");
    for g in GROUPS.iter().copied().chain(["other"]) {
        if let Some(r) = by_group.get(g) {
            println!("{}", r.line(g));
        }
    }
    header("By hard negative added");
    for (k, r) in &by_negative {
        println!("{}", r.line(k));
    }
    // calibration: how often the top candidate is the person, by its weight
    println!();
    println!(
        "Top candidate by match weight (for the strength bands): weight from, queries, share that is the person"
    );
    let mut bins: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for (o, _) in outcomes {
        if let (Some(w), Some((_, right))) = (o.top_weight, o.top) {
            let b = bins.entry((w / 4.0).floor() as i64 * 4).or_default();
            b.0 += 1;
            b.1 += usize::from(right);
        }
    }
    for (from, (n, right)) in &bins {
        println!(
            "  {from:>+5}  {n:>6}  {:.4}",
            *right as f64 / (*n).max(1) as f64
        );
    }
    if let Some(path) = dump {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        let by_id: HashMap<&str, &nrmp_match::MatchRecord> =
            cases.register.iter().map(|r| (r.id.as_str(), r)).collect();
        for (q, (o, shown)) in cases.queries.iter().zip(outcomes) {
            if shown.is_empty() {
                continue;
            }
            writeln!(
                out,
                "== [{}] {:?} blocked {} query {:?} {:?}",
                group(q.key),
                q.variations,
                o.blocked,
                q.record.names,
                q.record.dob
            )?;
            for (id, k) in key_of.iter().filter(|(_, k)| **k == q.key) {
                if let Some(r) = by_id.get(id) {
                    writeln!(out, "  truth {id}: {:?} {:?}", r.names, r.dob)?;
                }
                let _ = k;
            }
            for c in shown {
                writeln!(out, "{c}")?;
            }
        }
        out.flush()?;
        println!("  wrote the missed queries to {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A small held-out evaluation (3,000 persons, 400 queries; seconds in a debug build):
    /// the floors are below the figures at 200 k so that they hold at this size, and far
    /// above what the matcher gave before compounds, wrong years and default dates were
    /// handled (recall@10 0.976, blocking 0.988 on the tuning set at 20 k).
    #[test]
    fn held_out_hard_cases_are_found() {
        let population = MatchingPopulation::generate(
            &generator(
                424_243,
                3_000,
                NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            )
            .unwrap(),
        );
        let config = HardCaseConfig {
            queries: 400,
            ..HardCaseConfig::HELD_OUT
        };
        let cases = HardCases::make(&population, &config);
        let index = Index::build(
            nrmp_match::Model::default_trained(),
            lookup_config(None),
            &cases.register,
        );
        let outcomes = evaluate(&index, &cases);
        let mut all = Row::default();
        for (o, _) in &outcomes {
            all.add(o);
        }
        let share = |a: usize, b: usize| a as f64 / b as f64;
        assert!(all.n > 300, "{all:?}");
        assert!(share(all.blocked, all.n) >= 0.99, "{all:?}");
        assert!(share(all.at10, all.n) >= 0.98, "{all:?}");
        assert!(share(all.strong.1, all.strong.0) >= 0.98, "{all:?}");
        // a query whose person is not in the register is never shown as strong
        let absent_strong = outcomes
            .iter()
            .filter(|(o, _)| !o.has_truth && matches!(o.top, Some((Strength::Strong, _))))
            .count();
        assert!(absent_strong <= 1, "{absent_strong}");
    }
}
