//! `nrmp-bench match-accuracy`: lookup recall@k and dedup precision / recall / F1 on a
//! synthetic population with known truth (use a seed the model was not trained on).

use chrono::NaiveDate;
use clap::Args;
use nrmp_cli::commands::matching::{DEFAULT_THRESHOLD, check_threshold, load_model};
use nrmp_cli::commands::synth::generator;
use nrmp_match::compare::{Level, compare_records};
use nrmp_match::{BatchConfig, BlockingConfig, Index, MatchRecord, blocking_recall};
use nrmp_synth::matching::MatchingPopulation;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `nrmp-bench match-accuracy`.
#[derive(Debug, Args)]
pub struct AccuracyArgs {
    /// True persons to generate (duplicate records come on top).
    #[arg(long, default_value_t = 50_000)]
    pub persons: usize,
    /// Seed of the evaluation population (must differ from the training seed, 7).
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// End of the synthetic history.
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Dedup threshold to evaluate.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Model file (default: the shipped model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Candidates scored per lookup (default: the index's default).
    #[arg(long)]
    pub max_candidates: Option<usize>,
    /// Write the missed true pairs and the false pairs at the threshold to this file,
    /// each with both records and the waterfall of its weight (for reviewing errors).
    #[arg(long)]
    pub dump: Option<PathBuf>,
}

/// The lookup blocking configuration with an optional candidate cap.
pub fn lookup_config(max_candidates: Option<usize>) -> BlockingConfig {
    let d = BlockingConfig::default();
    BlockingConfig {
        max_candidates: max_candidates.unwrap_or(d.max_candidates),
        ..d
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Recall {
    n: usize,
    at1: usize,
    at10: usize,
}

impl Recall {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if rank == Some(0) {
            self.at1 += 1;
        }
        if rank.is_some_and(|r| r < 10) {
            self.at10 += 1;
        }
    }
    fn row(&self, label: &str) -> String {
        let f = |x: usize| x as f64 / self.n.max(1) as f64;
        format!(
            "  {label:<22} {:>7}  {:>9.4}  {:>10.4}",
            self.n,
            f(self.at1),
            f(self.at10)
        )
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Prf {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Prf {
    fn p(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn r(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.p(), self.r());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn row(&self, label: &str) -> String {
        format!(
            "  {label:<10} {:>7} {:>7} {:>7}  {:>9.4} {:>7.4} {:>7.4}",
            self.tp,
            self.fp,
            self.fn_,
            self.p(),
            self.r(),
            self.f1()
        )
    }
}

/// The nationality groups reported separately.
pub const GROUPS: [&str; 9] = [
    "VNM", "ALB", "ERI", "SDN", "AFG", "IRQ", "IRN", "SYR", "GBR",
];

/// Runs `nrmp-bench match-accuracy`.
pub fn run_accuracy(args: AccuracyArgs) -> anyhow::Result<()> {
    let threshold = check_threshold(args.threshold)?;
    let model = load_model(args.model.as_deref())?;
    let t = Instant::now();
    let data = MatchingPopulation::generate(&generator(args.seed, args.persons, args.until)?);

    println!(
        "nrmp-bench match-accuracy: {} true persons, seed {}, {} records, {} duplicate records (generated in {:.1} s)",
        args.persons,
        args.seed,
        data.records.len(),
        data.duplicates.len(),
        t.elapsed().as_secs_f64()
    );
    let group = |key: u64| -> &'static str {
        let n = data.nationality.get(&key).copied().unwrap_or("?");
        if GROUPS.contains(&n) { n } else { "other" }
    };

    let key_of: HashMap<&str, u64> = data
        .records
        .iter()
        .zip(&data.keys)
        .map(|(r, k)| (r.id.as_str(), *k))
        .collect();

    // --- lookup
    let t = Instant::now();
    let config = lookup_config(args.max_candidates);
    let index = Index::build(model.clone(), config, &data.records);
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ranks: Vec<(usize, usize, Option<usize>)> = data
        .duplicates
        .par_iter()
        .map(|(i, changed)| {
            let q = &data.records[*i];
            let key = data.keys[*i];
            let hits = index.lookup(q, 11);
            let rank = hits
                .iter()
                .filter(|c| c.id != q.id)
                .take(10)
                .position(|c| key_of.get(c.id.as_str()) == Some(&key));
            (*i, *changed, rank)
        })
        .collect();
    let lookup_secs = t.elapsed().as_secs_f64();
    let mut by_changed: BTreeMap<usize, Recall> = BTreeMap::new();
    let mut by_group: BTreeMap<&str, Recall> = BTreeMap::new();
    let (mut upto2, mut all) = (Recall::default(), Recall::default());
    for (i, changed, rank) in &ranks {
        all.add(*rank);
        by_changed.entry((*changed).min(3)).or_default().add(*rank);
        if *changed <= 2 {
            upto2.add(*rank);
            by_group.entry(group(data.keys[*i])).or_default().add(*rank);
        }
    }
    println!();
    println!(
        "Lookup: each duplicate record queried against the index of all records (itself excluded); index built in {build:.1} s, {} lookups in {lookup_secs:.1} s",
        ranks.len()
    );
    println!(
        "  {:<22} {:>7}  {:>9}  {:>10}",
        "duplicates", "queries", "recall@1", "recall@10"
    );
    println!("{}", upto2.row("≤ 2 fields differ"));
    for (c, r) in &by_changed {
        let label = if *c >= 3 {
            "3+ fields differ".to_string()
        } else {
            format!("{c} field(s) differ")
        };
        println!("{}", r.row(&label));
    }
    println!("{}", all.row("all duplicates"));
    println!("  by nationality of the name (≤ 2 fields differ):");
    for g in GROUPS.iter().copied().chain(["other"]) {
        if let Some(r) = by_group.get(g) {
            println!("{}", r.row(g));
        }
    }

    // --- blocking recall
    let truth = data.truth_pairs();
    let t = Instant::now();
    let recall = blocking_recall(&data.records, &truth, &config);
    println!();
    println!(
        "Blocking (lookup keys): recall {:.4} ({} of {} true pairs), {:.0} candidates per record on average ({:.1} s)",
        recall.recall,
        recall.found,
        recall.truth_pairs,
        recall.mean_candidates,
        t.elapsed().as_secs_f64()
    );
    let kinds: Vec<String> = recall
        .by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "  true pairs sharing a key, by key family: {}",
        kinds.join(", ")
    );

    // --- dedup
    let t = Instant::now();
    let low = threshold.min(0.05);
    // The register deduplicated here is the whole population, so the prior is the
    // model's rescaled to its size (`--population`, as a deployment sets it once).
    let batch = BatchConfig {
        threshold: low,
        population: Some(data.records.len() as u64),
        ..BatchConfig::default()
    };
    let result = nrmp_match::dedup(&data.records, &model, &batch);
    let dedup_secs = t.elapsed().as_secs_f64();
    let truth_set: HashSet<(&str, &str)> = truth
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    println!();
    println!(
        "Dedup: {} records, {} candidate pairs compared in {dedup_secs:.1} s; {} true pairs",
        data.records.len(),
        result.candidate_pairs,
        truth.len()
    );
    println!(
        "  {:<10} {:>7} {:>7} {:>7}  {:>9} {:>7} {:>7}",
        "threshold", "TP", "FP", "FN", "precision", "recall", "F1"
    );
    let mut thresholds = vec![0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 0.9, 0.95, 0.99, threshold];
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    let mut at_threshold = BTreeMap::new();
    for th in thresholds {
        let mut total = Prf::default();
        let mut groups: BTreeMap<&str, Prf> = BTreeMap::new();
        for p in result.pairs.iter().filter(|p| p.match_probability >= th) {
            let g = group(key_of.get(p.left_id.as_str()).copied().unwrap_or(u64::MAX));
            if truth_set.contains(&(p.left_id.as_str(), p.right_id.as_str())) {
                total.tp += 1;
                groups.entry(g).or_default().tp += 1;
            } else {
                total.fp += 1;
                groups.entry(g).or_default().fp += 1;
            }
        }
        let found_set: HashSet<(&str, &str)> = result
            .pairs
            .iter()
            .filter(|p| p.match_probability >= th)
            .map(|p| (p.left_id.as_str(), p.right_id.as_str()))
            .collect();
        for (a, b) in &truth {
            if !found_set.contains(&(a.as_str(), b.as_str())) {
                total.fn_ += 1;
                let g = group(key_of.get(a.as_str()).copied().unwrap_or(u64::MAX));
                groups.entry(g).or_default().fn_ += 1;
            }
        }
        let label = if (th - threshold).abs() < 1e-12 {
            format!("{th}*")
        } else {
            format!("{th}")
        };
        println!("{}", total.row(&label));
        if (th - threshold).abs() < 1e-12 {
            at_threshold = groups;
        }
    }
    println!("  (* the chosen threshold)");
    // what the missed true pairs look like (name level / dob level), most common first
    let found_set: HashSet<(&str, &str)> = result
        .pairs
        .iter()
        .filter(|p| p.match_probability >= threshold)
        .map(|p| (p.left_id.as_str(), p.right_id.as_str()))
        .collect();
    let pos: HashMap<&str, usize> = data
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut patterns: HashMap<String, usize> = HashMap::new();
    for (a, b) in &truth {
        if found_set.contains(&(a.as_str(), b.as_str())) {
            continue;
        }
        let (Some(ia), Some(ib)) = (pos.get(a.as_str()), pos.get(b.as_str())) else {
            continue;
        };
        let cv = compare_records(&data.records[*ia], &data.records[*ib]);
        let label = format!("name {} / dob {}", cv.name.level.label(), cv.dob.label());
        *patterns.entry(label).or_insert(0) += 1;
    }
    let mut patterns: Vec<(String, usize)> = patterns.into_iter().collect();
    patterns.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let shown: Vec<String> = patterns
        .iter()
        .take(8)
        .map(|(p, n)| format!("{p}: {n}"))
        .collect();
    println!(
        "  missed true pairs at {threshold}, commonest comparisons: {}",
        shown.join("; ")
    );
    if let Some(path) = &args.dump {
        let misses: Vec<(usize, usize)> = truth
            .iter()
            .filter(|(a, b)| !found_set.contains(&(a.as_str(), b.as_str())))
            .filter_map(|(a, b)| Some((*pos.get(a.as_str())?, *pos.get(b.as_str())?)))
            .collect();
        let false_pairs: Vec<(usize, usize)> = result
            .pairs
            .iter()
            .filter(|p| p.match_probability >= threshold)
            .filter(|p| !truth_set.contains(&(p.left_id.as_str(), p.right_id.as_str())))
            .filter_map(|p| {
                Some((
                    *pos.get(p.left_id.as_str())?,
                    *pos.get(p.right_id.as_str())?,
                ))
            })
            .collect();
        write_dump(path, &data, &model, &batch, &misses, &false_pairs, &group)?;
        println!(
            "  wrote {} missed true pairs and {} false pairs to {}",
            misses.len(),
            false_pairs.len(),
            path.display()
        );
    }
    println!("  by nationality of the name, at threshold {threshold}:");
    println!(
        "  {:<10} {:>7} {:>7} {:>7}  {:>9} {:>7} {:>7}",
        "group", "TP", "FP", "FN", "precision", "recall", "F1"
    );
    for g in GROUPS.iter().copied().chain(["other"]) {
        if let Some(r) = at_threshold.get(g) {
            println!("{}", r.row(g));
        }
    }
    Ok(())
}

/// One record on one line: the fields the matcher compares.
fn record_line(r: &MatchRecord) -> String {
    let names: Vec<String> = r
        .names
        .iter()
        .map(|n| match &n.original_script {
            Some(o) => format!("{} [{o}]", n.display()),
            None => n.display(),
        })
        .collect();
    let dob = r.dob.map_or("?".to_string(), |d| {
        if d.is_point() {
            d.earliest.to_string()
        } else {
            format!("{}..{} ({:?})", d.earliest, d.latest, d.kind)
        }
    });
    let ids: Vec<String> = r
        .identifiers
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect();
    format!(
        "{} | {} | dob {} | sex {:?} | nat {} | height {:?} | marks {} | ids {} | text {:?}",
        r.id,
        names.join(" / "),
        dob,
        r.sex,
        r.nationalities.join(";"),
        r.height_cm,
        r.marks.join("; "),
        ids.join(" "),
        r.text_fields
    )
}

/// Writes the `--dump` file of `nrmp-bench match-accuracy`.
fn write_dump(
    path: &std::path::Path,
    data: &MatchingPopulation,
    model: &nrmp_match::Model,
    config: &BatchConfig,
    misses: &[(usize, usize)],
    false_pairs: &[(usize, usize)],
    group: &dyn Fn(u64) -> &'static str,
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (title, pairs) in [("MISSED TRUE PAIR", misses), ("FALSE PAIR", false_pairs)] {
        let explained = nrmp_match::explain_pairs(&data.records, model, config, pairs);
        for ((i, j), c) in pairs.iter().zip(explained) {
            writeln!(
                out,
                "== {title} [{}] weight {:+.2} probability {:.4}",
                group(data.keys[*i]),
                c.match_weight,
                c.match_probability
            )?;
            writeln!(out, "  a: {}", record_line(&data.records[*i]))?;
            writeln!(out, "  b: {}", record_line(&data.records[*j]))?;
            for k in &c.contributions {
                writeln!(
                    out,
                    "    {:<14} {:<20} {:+7.2}  {}",
                    k.field, k.level, k.weight, k.detail
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
