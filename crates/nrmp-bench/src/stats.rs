//! `nrmp-bench stats`: the national picture over a large synthetic register. Fills an empty
//! database with a synthetic population (or uses the one there), then times (1) reading the
//! register into the analysis snapshot, (2) computing the standard tables from it, (3)
//! publishing a whole period family of tables under one joint suppression plan (what
//! `nrmp stats release` does), and (4) the researcher's view: a trend over every completed
//! year (which works out each year's fixed plan), then a table cut from a plan already made.

use chrono::NaiveDate;
use clap::Args;
use nrmp_analysis::missing::By;
use nrmp_analysis::publish::{period_family, publish_jointly};
use nrmp_analysis::snapshot::{Cohort, SnapshotBuilder};
use nrmp_analysis::survival::{Grouping, Origin};
use nrmp_cli::commands::stats::{
    Common, MissingArgs, OutFormat, Period, PeriodArgs, StatsCommand, TimeArgs, TrendArgs, compute,
    load_snapshot,
};
use nrmp_cli::commands::{open_migrated, synth};
use nrmp_cli::{ActorArgs, DatabaseArg};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::clock::Clock;
use nrmp_stats::disclosure::SuppressionRule;
use nrmp_store::redact_url;
use rayon::prelude::*;
use std::time::Instant;

/// Arguments of `nrmp-bench stats`.
#[derive(Debug, Args)]
pub struct BenchStatsArgs {
    /// True persons to generate (if the database is empty).
    #[arg(long, default_value_t = 100_000)]
    pub persons: usize,
    /// Database (`sqlite://…` or `postgres://…`); filled if empty, else used as it is.
    #[arg(long, required_unless_present = "in_memory")]
    pub database: Option<String>,
    /// No database: build the analysis snapshot straight from the generator, to time the
    /// table computation at full size without the cost of loading a database.
    #[arg(long)]
    pub in_memory: bool,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// End of the synthetic history and of the data.
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Times to repeat the table computation (the best and the median are reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Who is acting, for the audit log.
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// The standard tables: what `nrmp stats` publishes by default.
pub fn standard_commands(
    database: &str,
    until: NaiveDate,
    actor: &ActorArgs,
) -> Vec<(String, StatsCommand)> {
    let common = Common {
        db: DatabaseArg {
            database: database.to_owned(),
        },
        format: OutFormat::Text,
        suppress_min: 1,
        suppress_max: 5,
        as_of: Some(until),
        actor: actor.clone(),
    };
    let period = Period {
        from: None,
        to: None,
    };
    let missing = |by: By, cohort: Cohort| {
        (
            format!("missing --by {by:?} --cohort {cohort:?}"),
            StatsCommand::Missing(MissingArgs {
                by,
                cohort,
                period: period.clone(),
                common: common.clone(),
            }),
        )
    };
    let time = |origin: Origin| {
        (
            format!("time-to-missing --from {origin:?} --by cohort"),
            StatsCommand::TimeToMissing(TimeArgs {
                origin,
                by: Grouping::Cohort,
                starts_from: None,
                starts_to: None,
                cox: false,
                spend_covariate: false,
                spend: None,
                svg: None,
                svg_days: 30.0,
                common: common.clone(),
            }),
        )
    };
    vec![
        missing(By::Cohort, Cohort::All),
        missing(By::Year, Cohort::NrmChildren),
        missing(By::Year, Cohort::Unaccompanied),
        missing(By::Authority, Cohort::LookedAfter),
        missing(By::Force, Cohort::Children),
        missing(By::Nationality, Cohort::NrmChildren),
        missing(By::AgeBand, Cohort::Children),
        missing(By::Sex, Cohort::Children),
        (
            "trend --cohort NrmChildren".into(),
            StatsCommand::Trend(TrendArgs {
                cohort: Cohort::NrmChildren,
                period: period.clone(),
                svg: None,
                common: common.clone(),
            }),
        ),
        time(Origin::Referral),
        time(Origin::Care),
        (
            "proportion-trafficked".into(),
            StatsCommand::ProportionTrafficked(PeriodArgs {
                period: period.clone(),
                common: common.clone(),
            }),
        ),
    ]
}

/// Runs `nrmp-bench stats`.
pub async fn run(a: BenchStatsArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let end = nrmp_analysis::snapshot::ts_of_date(a.until);
    let (snapshot, load, database) = match (&a.database, a.in_memory) {
        (Some(db), false) => {
            let (s, load) = from_database(&a, db, clock).await?;
            (s, load, db.clone())
        }
        _ => {
            println!(
                "nrmp-bench stats: {} persons (seed {}), generated in memory, no database",
                a.persons, a.seed
            );
            let generator = synth::generator(a.seed, a.persons, a.until)?;
            let t = Instant::now();
            let mut b = SnapshotBuilder::new();
            for chunk in generator.chunks(2_000) {
                chunk.persons.iter().for_each(|p| b.person(p));
                chunk.incidents.iter().for_each(|i| b.incident(i));
                chunk.referrals.iter().for_each(|r| b.referral(r));
                chunk.placements.iter().for_each(|p| b.placement(p));
            }
            let s = b.finish(end);
            if s.orphans > 0 {
                println!(
                    "warning: {} records refer to persons not generated and were skipped",
                    s.orphans
                );
            }
            let load = t.elapsed().as_secs_f64();
            println!(
                "generate + build snapshot: {load:.2} s ({} persons, {} incidents, {} referrals, {} placements in memory)",
                s.persons.len(),
                s.incidents.len(),
                s.referrals.len(),
                s.placements.len()
            );
            (s, load, "sqlite://unused".to_owned())
        }
    };
    let cmds = standard_commands(&database, a.until, &a.actor);
    let mut totals = Vec::new();
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); cmds.len()];
    for _ in 0..a.repeat.max(1) {
        let t_all = Instant::now();
        for (i, (_, c)) in cmds.iter().enumerate() {
            let t = Instant::now();
            let r = compute(c, &snapshot, None)?;
            let _ = r.render(OutFormat::Text)?;
            per[i].push(t.elapsed().as_secs_f64());
        }
        totals.push(t_all.elapsed().as_secs_f64());
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let median = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    for ((name, _), times) in cmds.iter().zip(&per) {
        println!("  {:<58} {:>8.3} s", name, median(times));
    }
    println!(
        "compute: {:.3} s for all {} standard tables, one after another (median of {}; best {:.3} s)",
        median(&totals),
        cmds.len(),
        totals.len(),
        best(&totals)
    );
    // The tables are independent reads of one immutable snapshot: compute them concurrently.
    let mut par = Vec::new();
    for _ in 0..a.repeat.max(1) {
        let t = Instant::now();
        let results: Vec<anyhow::Result<String>> = cmds
            .par_iter()
            .map(|(_, c)| compute(c, &snapshot, None).and_then(|r| Ok(r.render(OutFormat::Text)?)))
            .collect();
        for r in results {
            r?;
        }
        par.push(t.elapsed().as_secs_f64());
    }
    println!(
        "compute: {:.3} s for all {} standard tables in parallel on {} threads (median of {}; best {:.3} s)",
        median(&par),
        cmds.len(),
        rayon::current_num_threads(),
        par.len(),
        best(&par)
    );
    // The researcher's path: a whole period family, protected as one suppression plan.
    let family = period_family(
        nrmp_analysis::request::Period::ALL,
        SuppressionRule::default(),
    );
    let mut joint = Vec::new();
    let mut suppressed = 0usize;
    for _ in 0..a.repeat.max(1) {
        let t = Instant::now();
        let reports = publish_jointly(&snapshot, &family, None)?;
        for r in &reports {
            let _ = r.render(OutFormat::Text)?;
        }
        joint.push(t.elapsed().as_secs_f64());
        suppressed = reports
            .iter()
            .flat_map(|r| &r.tables)
            .flat_map(|t| &t.rows)
            .flat_map(|r| &r.cells)
            .filter(|c| c.suppressed)
            .count();
    }
    println!(
        "joint:   {:.3} s for the {} tables of the whole-history period family protected as one plan ({suppressed} counts suppressed; median of {}; best {:.3} s)",
        median(&joint),
        family.len(),
        joint.len(),
        best(&joint)
    );
    let (first, cached, years) = researcher_view(snapshot)?;
    println!(
        "researcher: {first:.3} s for a trend over {years} completed years (each year's plan of {} tables worked out), then {:.3} ms for a table of a year already planned",
        family.len(),
        cached * 1000.0
    );
    println!(
        "total:   {:.2} s (load {load:.2} s + compute {:.3} s)",
        load + median(&par),
        median(&par)
    );
    Ok(())
}

/// Times the researcher's view: a trend of NRM-referred children over every completed year
/// from a fresh view, then the table by sex of the last completed year. Returns both times in
/// seconds and the number of years.
fn researcher_view(snapshot: nrmp_analysis::Snapshot) -> anyhow::Result<(f64, f64, i32)> {
    use nrmp_analysis::ResearcherView;
    use nrmp_analysis::request::{MissingRequest, StatsRequest, TrendRequest};
    let (first_year, _) = snapshot.year_range();
    let view = ResearcherView::new(std::sync::Arc::new(snapshot), SuppressionRule::default());
    let last = view.last_complete_year();
    let period = nrmp_analysis::request::Period {
        from: ResearcherView::year(first_year).from,
        to: ResearcherView::year(last).to,
    };
    let t = Instant::now();
    view.publish(&StatsRequest::Trend(TrendRequest {
        cohort: Cohort::NrmChildren,
        period,
        suppression: SuppressionRule::default(),
        chart: false,
    }))?
    .render(OutFormat::Text)?;
    let first = t.elapsed().as_secs_f64();
    let t = Instant::now();
    view.publish(&StatsRequest::Missing(MissingRequest {
        by: By::Sex,
        cohort: Cohort::Children,
        period: ResearcherView::year(last),
        suppression: SuppressionRule::default(),
    }))?
    .render(OutFormat::Text)?;
    Ok((first, t.elapsed().as_secs_f64(), last - first_year + 1))
}

async fn from_database(
    a: &BenchStatsArgs,
    db: &str,
    clock: &dyn Clock,
) -> anyhow::Result<(nrmp_analysis::Snapshot, f64)> {
    let end = nrmp_analysis::snapshot::ts_of_date(a.until);
    let store = open_migrated(db).await?;
    let backend = store.backend().name();
    let counts = store.counts().await?;
    if counts.persons == 0 {
        println!(
            "nrmp-bench stats: generating {} persons (seed {}) into {}",
            a.persons,
            a.seed,
            redact_url(db)
        );
        let generator = synth::generator(a.seed, a.persons, a.until)?;
        let ctx = a.actor.ctx(clock)?;
        let t = Instant::now();
        let s = synth::load_into(store.as_ref(), &ctx, &generator, None, true).await?;
        println!(
            "generated and loaded: {s} in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    } else {
        println!(
            "nrmp-bench stats: using the register in {} as it is",
            redact_url(db)
        );
    }
    let counts = store.counts().await?;
    println!(
        "backend {backend}: {} person records, {} incidents, {} referrals, {} placements",
        counts.persons, counts.incidents, counts.referrals, counts.placements
    );
    let ctx = a.actor.ctx(clock)?;
    store
        .record_audit(
            &ctx,
            AuditAction::Read,
            "statistics",
            &[],
            "nrmp-bench stats: standard tables",
        )
        .await?;
    let t = Instant::now();
    let snapshot = load_snapshot(store.as_ref(), end).await?;
    let load = t.elapsed().as_secs_f64();
    println!(
        "load:    {load:.2} s — read the register into the analysis snapshot ({} persons, {} incidents, {} referrals, {} placements in memory)",
        snapshot.persons.len(),
        snapshot.incidents.len(),
        snapshot.referrals.len(),
        snapshot.placements.len()
    );
    Ok((snapshot, load))
}
