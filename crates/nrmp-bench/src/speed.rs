//! `nrmp-bench match` (lookup speed and memory on a large synthetic register) and
//! `nrmp-bench dedup` (end-to-end batch dedup of a large CSV through `nrmp dedup`'s code).

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use nrmp_cli::commands::matching::{
    DEFAULT_THRESHOLD, DedupArgs, MappingArgs, dedup_files, load_model,
};
use nrmp_cli::commands::synth::generator;
use nrmp_match::{Index, MatchRecord};
use nrmp_synth::matching::MatchingPopulation;
use rayon::prelude::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Resident memory of this process: (VmRSS, VmHWM) in bytes, from /proc/self/status.
pub fn memory() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (get("VmRSS:"), get("VmHWM:"))
}

/// Resets the peak-RSS mark (Linux `clear_refs` 5); ignored where unsupported.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(b: u64) -> f64 {
    b as f64 / 1048576.0
}

/// Arguments of `nrmp-bench match`.
#[derive(Debug, Args)]
pub struct SpeedArgs {
    /// True persons in the synthetic register (duplicate records come on top).
    #[arg(long, default_value_t = 200_000)]
    pub persons: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// End of the synthetic history.
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Lookups to time.
    #[arg(long, default_value_t = 20_000)]
    pub queries: usize,
    /// Threads for the throughput run.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Candidates per lookup.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Model file (default: the shipped model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Candidates scored per lookup (default: the index's default).
    #[arg(long)]
    pub max_candidates: Option<usize>,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Runs `nrmp-bench match`.
pub fn run_speed(args: SpeedArgs) -> anyhow::Result<()> {
    let model = load_model(args.model.as_deref())?;
    let g = generator(args.seed, args.persons, args.until)?;
    println!(
        "nrmp-bench match: {} true persons, seed {}, {} threads available",
        args.persons,
        args.seed,
        rayon::current_num_threads()
    );
    let (rss0, _) = memory();
    let config = crate::accuracy::lookup_config(args.max_candidates);
    let mut index = Index::new(model, config);
    println!(
        "blocking: posting lists over {} skipped, at most {} candidates per lookup",
        config.max_posting, config.max_candidates
    );
    let mut queries: Vec<MatchRecord> = Vec::new();
    let (mut gen_time, mut build_time) = (Duration::ZERO, Duration::ZERO);
    let chunk = 2_000;
    let starts: Vec<usize> = (0..args.persons).step_by(chunk).collect();
    // every n-th duplicate record becomes a query (duplicates are the realistic queries)
    let expected_dups = (args.persons / 11).max(1);
    let every = (expected_dups / args.queries.max(1)).max(1);
    let mut dup_seen = 0usize;
    for batch in starts.chunks(16) {
        let t = Instant::now();
        let parts: Vec<MatchingPopulation> = batch
            .par_iter()
            .map(|s| MatchingPopulation::from_chunk(&g, *s..(*s + chunk).min(args.persons)))
            .collect();
        gen_time += t.elapsed();
        for part in parts {
            for (i, _) in &part.duplicates {
                if dup_seen.is_multiple_of(every) && queries.len() < args.queries {
                    queries.push(part.records[*i].clone());
                }
                dup_seen += 1;
            }
            let t = Instant::now();
            index.extend(&part.records);
            build_time += t.elapsed();
        }
    }
    let t = Instant::now();
    index.shrink_to_fit();
    build_time += t.elapsed();
    let (rss1, hwm1) = memory();
    let stats = index.stats();
    println!(
        "index build: {} records in {:.1} s ({:.0} records/s; generating them took another {:.1} s); {} name tokens, {} blocking keys",
        stats.records,
        build_time.as_secs_f64(),
        stats.records as f64 / build_time.as_secs_f64().max(1e-9),
        gen_time.as_secs_f64(),
        stats.tokens,
        stats.keys
    );
    println!(
        "memory: resident {:.0} MiB after build ({:.0} MiB before), peak {:.0} MiB",
        mib(rss1),
        mib(rss0),
        mib(hwm1)
    );
    // latency, one thread
    let mut times: Vec<Duration> = Vec::with_capacity(queries.len());
    let mut candidates = 0usize;
    for q in &queries {
        let t = Instant::now();
        let hits = index.lookup(q, args.k);
        times.push(t.elapsed());
        candidates += usize::from(!hits.is_empty());
    }
    times.sort();
    println!(
        "lookup latency (1 thread, {} queries = duplicate records, k={}): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} with candidates",
        times.len(),
        args.k,
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        percentile(&times, 1.0).as_secs_f64() * 1e3,
        candidates
    );
    // throughput, N threads
    let threads = args.threads.max(1);
    let t = Instant::now();
    let done: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|th| {
                let index = &index;
                let queries = &queries;
                let k = args.k;
                s.spawn(move || {
                    let mut n = 0usize;
                    for q in queries.iter().skip(th).step_by(threads) {
                        std::hint::black_box(index.lookup(q, k));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let secs = t.elapsed().as_secs_f64();
    println!(
        "throughput ({threads} threads): {done} lookups in {secs:.2} s = {:.0} lookups/s",
        done as f64 / secs.max(1e-9)
    );
    let (rss2, hwm2) = memory();
    println!(
        "memory at end: resident {:.0} MiB, peak {:.0} MiB",
        mib(rss2),
        mib(hwm2)
    );
    Ok(())
}

/// Arguments of `nrmp-bench dedup`.
#[derive(Debug, Args)]
pub struct DedupBenchArgs {
    /// Person records to deduplicate (synthetic; generated until at least this many).
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// End of the synthetic history.
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Dedup threshold.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Where to write the CSV and the outputs (default: a temporary directory, removed).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Model file (default: the shipped model).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

fn dob_text(r: &MatchRecord) -> String {
    match r.dob {
        None => String::new(),
        Some(d) if d.is_point() => d.earliest.format("%d/%m/%Y").to_string(),
        Some(d) => format!("{}..{}", d.earliest, d.latest),
    }
}

/// Writes synthetic records as a CSV with non-register column names.
fn write_csv(
    path: &std::path::Path,
    records: &[MatchRecord],
    w: &mut csv::Writer<std::fs::File>,
) -> anyhow::Result<()> {
    for r in records {
        let name = r.names.first();
        let aliases: Vec<String> = r
            .names
            .iter()
            .skip(1)
            .map(|n| format!("{}|{}", n.given, n.family))
            .collect();
        let sex = match r.sex {
            Some(nrmp_match::Sex::Male) => "M",
            Some(nrmp_match::Sex::Female) => "F",
            Some(nrmp_match::Sex::Other) => "X",
            _ => "",
        };
        let ids: Vec<String> = r
            .identifiers
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        w.write_record([
            r.id.as_str(),
            name.map_or("", |n| n.given.as_str()),
            name.map_or("", |n| n.family.as_str()),
            &aliases.join(";"),
            &dob_text(r),
            sex,
            &r.nationalities.join(";"),
            &ids.join(";"),
        ])
        .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs `nrmp-bench dedup`.
pub fn run_dedup_bench(args: DedupBenchArgs) -> anyhow::Result<()> {
    let tmp;
    let dir = match &args.work_dir {
        Some(d) => d.clone(),
        None => {
            tmp = std::env::temp_dir().join(format!("nrmp-bench-dedup-{}", std::process::id()));
            tmp
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let input = dir.join("people.csv");
    // at least one record per true person: generate lazily until there are enough
    let persons = args.records;
    let g = generator(args.seed, persons, args.until)?;
    let t = Instant::now();
    let mut w =
        csv::Writer::from_path(&input).with_context(|| format!("creating {}", input.display()))?;
    w.write_record([
        "ref",
        "forename",
        "surname",
        "aka",
        "birth_date",
        "gender",
        "citizenship",
        "documents",
    ])?;
    let mut written = 0usize;
    let chunk = 2_000;
    let starts: Vec<usize> = (0..persons).step_by(chunk).collect();
    'outer: for batch in starts.chunks(16) {
        let parts: Vec<MatchingPopulation> = batch
            .par_iter()
            .map(|s| MatchingPopulation::from_chunk(&g, *s..(*s + chunk).min(persons)))
            .collect();
        for part in parts {
            let take = (args.records - written).min(part.records.len());
            write_csv(&input, &part.records[..take], &mut w)?;
            written += take;
            if written >= args.records {
                break 'outer;
            }
        }
    }
    w.flush()?;
    drop(w);
    println!(
        "nrmp-bench dedup: {written} synthetic person records written to a CSV in {:.1} s (not timed below)",
        t.elapsed().as_secs_f64()
    );
    reset_peak();
    let (rss0, _) = memory();
    let dargs = DedupArgs {
        input: input.clone(),
        mapping: MappingArgs {
            id: "ref".to_string(),
            map: [
                "given=forename",
                "family=surname",
                "other_names=aka",
                "dob=birth_date",
                "sex=gender",
                "nationality=citizenship",
            ]
            .map(str::to_string)
            .to_vec(),
            text: Vec::new(),
            identifier: vec!["documents".to_string()],
        },
        output: dir.join("pairs.csv"),
        clusters: Some(dir.join("clusters.csv")),
        threshold: args.threshold,
        population: None,
        previous_clusters: None,
        model: args.model.clone(),
    };
    let t = Instant::now();
    let s = dedup_files(&dargs)?;
    let total = t.elapsed().as_secs_f64();
    let (_, hwm) = memory();
    println!(
        "dedup end to end (read CSV, block, score, cluster, write pairs and clusters): {:.1} s",
        total
    );
    println!(
        "  read {:.1} s, match {:.1} s, write {:.1} s; {} candidate pairs, {} pairs ≥ {}, {} multi-record clusters",
        s.read_secs,
        s.match_secs,
        s.write_secs,
        s.candidate_pairs,
        s.pairs,
        args.threshold,
        s.multi_clusters
    );
    println!(
        "  peak resident memory during dedup: {:.0} MiB (resident before: {:.0} MiB)",
        mib(hwm),
        mib(rss0)
    );
    if args.work_dir.is_none() {
        std::fs::remove_dir_all(&dir).ok();
    }
    Ok(())
}
