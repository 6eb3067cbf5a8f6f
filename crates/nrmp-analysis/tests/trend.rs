//! Trends over a synthetic register whose data end in the middle of a year: the part year is
//! left out of the models, the table and the chart (and named), a by-year table labels it as a
//! part year, and the negative-binomial lines either carry a converged estimate, the Poisson
//! estimate at the boundary α = 0 (said so), or say that the model was not fitted — never a
//! starting point printed as an estimate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::{NaiveDate, NaiveTime};
use nrmp_analysis::missing::By;
use nrmp_analysis::publish::{missing_table, trend};
use nrmp_analysis::request::{MissingRequest, Period, TrendRequest};
use nrmp_analysis::snapshot::{Cohort, ts_of_date};
use nrmp_analysis::{Snapshot, SnapshotBuilder};
use nrmp_stats::disclosure::SuppressionRule;
use nrmp_synth::{Config, Generator};

fn snapshot(seed: u64) -> Snapshot {
    let until = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let g = Generator::new(Config::new(
        seed,
        3_000,
        until.and_time(NaiveTime::MIN).and_utc(),
    ))
    .unwrap();
    let mut b = SnapshotBuilder::new();
    for chunk in g.chunks(500) {
        chunk.persons.iter().for_each(|p| b.person(p));
        chunk.incidents.iter().for_each(|i| b.incident(i));
        chunk.referrals.iter().for_each(|r| b.referral(r));
        chunk.placements.iter().for_each(|p| b.placement(p));
    }
    b.finish(ts_of_date(until))
}

fn trend_request(cohort: Cohort, period: Period) -> TrendRequest {
    TrendRequest {
        cohort,
        period,
        suppression: SuppressionRule::default(),
        chart: true,
    }
}

#[test]
fn a_trend_to_the_end_of_data_leaves_out_the_part_year_and_says_so() {
    let s = snapshot(7);
    let r = trend(&s, &trend_request(Cohort::All, Period::default())).unwrap();
    let labels: Vec<&str> = r.tables[0].rows.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(labels.last(), Some(&"2025"), "{labels:?}");
    assert!(
        labels.iter().all(|l| l.parse::<i32>().is_ok()),
        "{labels:?}"
    );
    assert!(r.title.ends_with("to 2025-12-31"), "{}", r.title);
    let note = r.grids[0]
        .notes
        .iter()
        .find(|n| n.starts_with("Left out as part years"))
        .expect("the part year is named");
    assert!(note.contains("2026-01-01 to 2026-10-31"), "{note}");
    // the chart plots whole years only
    let svg = &r.charts[0].svg;
    assert!(
        svg.contains("2025") && !svg.contains("2026"),
        "part year in the chart"
    );
    // an explicit period ending on 31 December gives the same table
    let whole = trend(
        &s,
        &trend_request(
            Cohort::All,
            Period {
                from: None,
                to: NaiveDate::from_ymd_opt(2025, 12, 31),
            },
        ),
    )
    .unwrap();
    assert_eq!(whole.tables[0].rows, r.tables[0].rows);
    assert!(
        !whole.grids[0]
            .notes
            .iter()
            .any(|n| n.starts_with("Left out"))
    );
    assert_eq!(whole.grids[0].rows, r.grids[0].rows);
}

#[test]
fn a_trend_starting_mid_year_leaves_out_both_part_years() {
    let s = snapshot(7);
    let p = Period {
        from: NaiveDate::from_ymd_opt(2019, 7, 1),
        to: NaiveDate::from_ymd_opt(2023, 3, 31),
    };
    let r = trend(&s, &trend_request(Cohort::Children, p)).unwrap();
    let labels: Vec<&str> = r.tables[0].rows.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(labels, vec!["2020", "2021", "2022"]);
    let note = r.grids[0]
        .notes
        .iter()
        .find(|n| n.starts_with("Left out"))
        .unwrap();
    assert!(
        note.contains("2019-07-01 to 2019-12-31") && note.contains("2023-01-01 to 2023-03-31"),
        "{note}"
    );
    // no whole year at all: no rows, no model, and the title says why
    let short = Period {
        from: NaiveDate::from_ymd_opt(2021, 3, 1),
        to: NaiveDate::from_ymd_opt(2021, 9, 30),
    };
    let r = trend(&s, &trend_request(Cohort::Children, short)).unwrap();
    assert!(r.tables[0].rows.is_empty());
    assert!(r.title.contains("no whole calendar year"), "{}", r.title);
}

#[test]
fn a_by_year_table_labels_the_part_year() {
    let s = snapshot(7);
    let r = missing_table(
        &s,
        &MissingRequest {
            by: By::Year,
            cohort: Cohort::All,
            period: Period::default(),
            suppression: SuppressionRule::default(),
        },
    )
    .unwrap();
    let last = r.tables[0].rows.last().unwrap();
    assert_eq!(last.label, "2026 (part year: 1 Jan to 31 Oct)");
    let first = &r.tables[0].rows[0];
    assert!(first.label.parse::<i32>().is_ok(), "{}", first.label);
}

/// Each question (number, rate) has a negative-binomial line: a converged fit with its α, the
/// boundary α = 0 with exactly the Poisson estimate, or "not fitted" with no numbers.
#[test]
fn negative_binomial_lines_are_converged_boundary_or_not_fitted() {
    for seed in [3, 7, 11] {
        let s = snapshot(seed);
        for cohort in [Cohort::All, Cohort::Children, Cohort::LookedAfter] {
            let r = trend(&s, &trend_request(cohort, Period::default())).unwrap();
            let g = &r.grids[0];
            let nb: Vec<usize> = (0..g.rows.len())
                .filter(|i| g.rows[*i][0].contains("over-dispersion modelled"))
                .collect();
            assert_eq!(nb.len(), 2, "number and rate: {:?}", g.rows);
            for i in nb {
                let row = &g.rows[i];
                // the Poisson line of the same question is three rows up
                let poisson = &g.rows[i - 2];
                if row[1].contains("not fitted") {
                    assert!(row[2].is_empty() && row[3].is_empty(), "{row:?}");
                } else if row[1].contains("α = 0 (no over-dispersion") {
                    assert_eq!(row[2], poisson[2], "boundary = Poisson: {row:?}");
                    assert_eq!(row[3], poisson[3]);
                } else {
                    assert!(row[1].starts_with("negative binomial (α = "), "{row:?}");
                    let alpha: f64 = row[1]["negative binomial (α = ".len()..]
                        .split(',')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(alpha > 0.0, "{row:?}");
                    assert!(row[2].starts_with('×'), "{row:?}");
                }
            }
        }
    }
}
