//! The published tables: one function per table, each taking the analysis [`Snapshot`] and a
//! request and returning a disclosure-controlled [`Report`]. A CLI command and an API
//! endpoint are thin wrappers over these.
//!
//! | function | table |
//! |---|---|
//! | [`missing_table`] | persons who went missing over persons at risk, by a breakdown |
//! | [`trend`] | the yearly table with Poisson (quasi-Poisson, NB) trend tests, optional chart |
//! | [`time_to_missing`] | Kaplan–Meier time to first missing episode, optional Cox model and chart |
//! | [`proportion_trafficked`] | the official "trafficked and unaccompanied children" table |
//! | [`crate::spend::spend_model`] | missing rates against spend per child (ecological) |
//!
//! [`publish`] dispatches a [`StatsRequest`] to them; [`publish_jointly`] publishes a set of
//! tables under one suppression plan; what the researcher role may see is cut from fixed
//! yearly plans by [`crate::researcher::ResearcherView`].

use crate::error::{AnalysisError, Result};
use crate::missing::{self, By, RowStatus};
use crate::report::{Chart, Grid, Report};
use crate::request::{
    Audience, MissingRequest, Period, StatsRequest, TimeToMissingRequest, TraffickedRequest,
    TrendRequest, period_text,
};
use crate::snapshot::{Cohort, Derived, Snapshot, Ts};
use crate::spend::{SpendTable, spend_model};
use crate::survival::{Origin, Subject, subjects};
use nrmp_stats::chart::{RatePoint, km_svg, trend_svg};
use nrmp_stats::cox::{Ties, TimeTransform, cox_ph, ph_test};
use nrmp_stats::disclosure::{CellStatus, SuppressionRule, protect_cells};
use nrmp_stats::regression::{Design, negative_binomial, poisson_trend};
use nrmp_stats::survival::{KaplanMeier, log_rank};
use nrmp_stats::table::SUPPRESSED_MARKER;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Publishes the table `req` asks for. `spend` is the spend-per-child table, needed by the
/// spend model and by a Cox model with the spend covariate.
///
/// # Errors
/// A request that fails [`StatsRequest::check_for`] (as an analyst), a missing spend table, or
/// a procedure that cannot be completed.
pub fn publish(s: &Snapshot, req: &StatsRequest, spend: Option<&SpendTable>) -> Result<Report> {
    req.check_for(crate::request::Audience::Analyst)?;
    match req {
        StatsRequest::Missing(r) => missing_table(s, r),
        StatsRequest::Trend(r) => trend(s, r),
        StatsRequest::TimeToMissing(r) => time_to_missing(s, r, spend),
        StatsRequest::ProportionTrafficked(r) => proportion_trafficked(s, r),
        StatsRequest::SpendModel(r) => {
            let spend = spend.ok_or_else(|| {
                AnalysisError::invalid("spend", "the spend model needs a spend-per-child table")
            })?;
            spend_model(s, r, spend)
        }
    }
}

/// Publishes a set of tables **together**: the "who went missing" tables among them
/// (missing, trend, proportion-trafficked) are protected as one suppression plan
/// ([`missing::protect_jointly`]: rows that count the same persons over the same time — a
/// cohort's row of the table by cohort, the total of that cohort's table by sex, the
/// proportion-trafficked rows — are one figure), so no suppressed figure can be recovered by
/// differencing two of them. The other tables are published as [`publish`] does. Reports
/// come back in the order of `reqs`. The breakdowns are computed in parallel.
///
/// # Errors
/// As [`publish`]; [`AnalysisError::InvalidRequest`] if the linked tables do not all use
/// the same suppression rule.
pub fn publish_jointly(
    s: &Snapshot,
    reqs: &[StatsRequest],
    spend: Option<&SpendTable>,
) -> Result<Vec<Report>> {
    for r in reqs {
        r.check_for(Audience::Analyst)?;
    }
    let breakdowns: Vec<Option<missing::Breakdown>> =
        reqs.par_iter().map(|r| linked_breakdown(s, r)).collect();
    let linked: Vec<(usize, &missing::Breakdown)> = breakdowns
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.as_ref().map(|b| (i, b)))
        .collect();
    let mut statuses: Vec<Option<Vec<RowStatus>>> = vec![None; reqs.len()];
    if let Some((first, _)) = linked.first() {
        let rule = reqs[*first].suppression();
        if linked.iter().any(|(i, _)| reqs[*i].suppression() != rule) {
            return Err(AnalysisError::invalid(
                "suppression",
                "tables published together must use one suppression rule",
            ));
        }
        let bs: Vec<&missing::Breakdown> = linked.iter().map(|(_, b)| *b).collect();
        for ((i, _), st) in linked.iter().zip(missing::protect_jointly(&bs, &rule)?) {
            statuses[*i] = Some(st);
        }
    }
    reqs.par_iter()
        .zip(breakdowns.par_iter().zip(statuses.par_iter()))
        .map(|(r, (b, st))| match (b, st) {
            (Some(b), Some(st)) => report_from(s, r, b, st),
            _ => publish(s, r, spend),
        })
        .collect()
}

/// The breakdown of a "who went missing" table (missing, trend, proportion-trafficked) —
/// the tables whose rows are linked across tables — or `None` for another table.
pub(crate) fn linked_breakdown(s: &Snapshot, r: &StatsRequest) -> Option<missing::Breakdown> {
    match r {
        StatsRequest::Missing(a) => Some(missing_breakdown(s, a)),
        StatsRequest::Trend(a) => Some(trend_breakdown(s, a)),
        StatsRequest::ProportionTrafficked(a) => Some(trafficked_breakdown(s, a)),
        _ => None,
    }
}

/// The report of a "who went missing" table from its breakdown and row statuses.
///
/// # Errors
/// A trend model that cannot be fitted; [`AnalysisError::InvalidRequest`] for a table that
/// is not one of these.
pub(crate) fn report_from(
    s: &Snapshot,
    r: &StatsRequest,
    b: &missing::Breakdown,
    st: &[RowStatus],
) -> Result<Report> {
    match r {
        StatsRequest::Missing(a) => Ok(missing_from(s, a, b, st)),
        StatsRequest::Trend(a) => trend_from(s, a, b, st),
        StatsRequest::ProportionTrafficked(a) => Ok(trafficked_from(s, a, b, st)),
        _ => Err(AnalysisError::invalid(
            "table",
            "has no breakdown of who went missing",
        )),
    }
}

/// The breakdowns each cohort has in a [`period_family`], in order.
pub const FAMILY_BREAKDOWNS: [By; 4] = [By::Authority, By::Nationality, By::AgeBand, By::Sex];

/// The tables of one period that share figures: the table by cohort, the
/// proportion-trafficked table, and every cohort's tables by local authority, nationality,
/// age band and sex (whose totals are the cohort's row of the table by cohort).
pub fn period_family(period: Period, rule: SuppressionRule) -> Vec<StatsRequest> {
    let mut v = vec![
        StatsRequest::Missing(MissingRequest {
            by: By::Cohort,
            cohort: Cohort::All,
            period,
            suppression: rule,
        }),
        StatsRequest::ProportionTrafficked(TraffickedRequest {
            period,
            suppression: rule,
        }),
    ];
    for cohort in Cohort::ALL {
        for by in FAMILY_BREAKDOWNS {
            v.push(StatsRequest::Missing(MissingRequest {
                by,
                cohort,
                period,
                suppression: rule,
            }));
        }
    }
    v
}

/// Persons who went missing over persons at risk, incidents, repeats and never found, by a
/// breakdown (`nrmp stats missing`).
///
/// # Errors
/// Disclosure control failure.
pub fn missing_table(s: &Snapshot, a: &MissingRequest) -> Result<Report> {
    let b = missing_breakdown(s, a);
    let status = missing::protect(&b, &a.suppression)?;
    Ok(missing_from(s, a, &b, &status))
}

fn missing_breakdown(s: &Snapshot, a: &MissingRequest) -> missing::Breakdown {
    let (from, to) = a.period.bounds(s);
    missing::breakdown(s, a.by, a.cohort, from, to)
}

fn missing_from(
    s: &Snapshot,
    a: &MissingRequest,
    b: &missing::Breakdown,
    status: &[RowStatus],
) -> Report {
    let (from, to) = a.period.bounds(s);
    let who = if a.by == By::Cohort {
        "each cohort"
    } else {
        a.cohort.label()
    };
    let title = format!(
        "Persons who went missing by {}, {}, {}",
        a.by.heading().to_lowercase(),
        who,
        period_text(from, to)
    );
    let mut t = missing::publish_with(b, status, &a.suppression, title, a.by.heading());
    t.notes.push(
        "At risk: persons in the cohort at some time in the period (children: under 18 by best-estimate date of birth; looked-after: placed before 18; unaccompanied: an unaccompanied placement before 18; NRM-referred: referred before 18). Went missing: an incident last seen in the period while in the cohort."
            .into(),
    );
    Report {
        title: t.title.clone(),
        tables: vec![t],
        ..Report::default()
    }
}

fn fmt_ratio(r: (f64, f64, f64)) -> String {
    format!("{:.3} ({:.3}–{:.3})", r.0, r.1, r.2)
}

fn fmt_p(p: f64) -> String {
    if p < 0.0001 {
        "<0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// The yearly table of a cohort with tests for a change in the number and in the rate
/// (`nrmp stats trend`).
///
/// # Errors
/// Disclosure control failure, or a model that cannot be fitted.
pub fn trend(s: &Snapshot, a: &TrendRequest) -> Result<Report> {
    let b = trend_breakdown(s, a);
    let status = missing::protect(&b, &a.suppression)?;
    trend_from(s, a, &b, &status)
}

/// A trend compares whole calendar years only: the period of a trend request cut to the
/// whole years inside it, with the partial periods left out.
fn trend_period(s: &Snapshot, a: &TrendRequest) -> (Ts, Ts, Vec<(Ts, Ts)>) {
    let (from, to) = a.period.bounds(s);
    missing::whole_years(from, to)
}

fn trend_breakdown(s: &Snapshot, a: &TrendRequest) -> missing::Breakdown {
    let (from, to, _) = trend_period(s, a);
    missing::breakdown(s, By::Year, a.cohort, from, to)
}

fn trend_from(
    s: &Snapshot,
    a: &TrendRequest,
    b: &missing::Breakdown,
    status: &[RowStatus],
) -> Result<Report> {
    let rule = a.suppression;
    let (from, to, cut) = trend_period(s, a);
    let title = if from < to {
        format!(
            "Trend: {} who went missing, by year, {}",
            a.cohort.label(),
            period_text(from, to)
        )
    } else {
        format!(
            "Trend: {} who went missing, by year: no whole calendar year in the period",
            a.cohort.label()
        )
    };
    let left_out = (!cut.is_empty()).then(|| {
        format!(
            "Left out as part years: {}. A trend compares whole calendar years only: persons at risk are counted per year, not per day, so a part year would show fewer going missing and a lower rate than a whole year — a fall that is not there.",
            cut.iter()
                .map(|(lo, hi)| period_text(*lo, *hi))
                .collect::<Vec<_>>()
                .join(" and ")
        )
    });
    let table = missing::publish_with(b, status, &rule, title.clone(), "Year");
    let mut grid = Grid::new(
        "Trend tests (Poisson regression on year)",
        &[
            "Question",
            "Model",
            "Change per year (95% CI)",
            "p-value",
            "Dispersion",
        ],
    );
    let years: Vec<f64> = b
        .labels
        .iter()
        .filter_map(|l| l.parse::<f64>().ok())
        .collect();
    let counts: Vec<f64> = b.rows.iter().map(|r| r.missing as f64).collect();
    let mut fitted_line = None;
    if years.len() >= 2 {
        trend_rows(
            &mut grid,
            "Number going missing",
            "Poisson, no exposure",
            &years,
            &counts,
            None,
        );
        let keep: Vec<usize> = (0..years.len())
            .filter(|i| b.rows[*i].at_risk > 0)
            .collect();
        let ys: Vec<f64> = keep.iter().map(|i| years[*i]).collect();
        let cs: Vec<f64> = keep.iter().map(|i| counts[*i]).collect();
        let ex: Vec<f64> = keep.iter().map(|i| b.rows[*i].at_risk as f64).collect();
        if let Some(t) = trend_rows(
            &mut grid,
            "Proportion going missing (rate per person at risk)",
            "Poisson, offset ln(at risk)",
            &ys,
            &cs,
            Some(&ex),
        ) {
            let (b0, b1) = (
                t.fit.coefficients[0].estimate,
                t.fit.coefficients[1].estimate,
            );
            let mean = ys.iter().sum::<f64>() / ys.len() as f64;
            fitted_line = Some(
                ys.iter()
                    .map(|y| (*y, 1000.0 * (b0 + b1 * (y - mean)).exp()))
                    .collect::<Vec<_>>(),
            );
        }
    } else {
        grid.notes
            .push("A trend needs at least two whole calendar years.".into());
    }
    if let Some(note) = left_out {
        grid.notes.push(note);
    }
    grid.notes.push(
        "A rising number with a flat rate means more children at risk, not a higher chance of going missing: read both lines.".into(),
    );
    grid.notes.push(
        "Change per year is the rate ratio exp(β_year). The quasi-Poisson line scales the Poisson CI by √(Pearson dispersion): wider when the dispersion is above 1, narrower when it is below 1. The negative-binomial (NB2) model estimates the over-dispersion α by maximum likelihood; when the data are not over-dispersed its maximum is α = 0, where it is the Poisson model, and the Poisson estimate is printed as such. Models use unsuppressed counts; only model estimates are published.".into(),
    );
    let mut charts = Vec::new();
    if a.chart {
        let pts: Vec<RatePoint> = b
            .rows
            .iter()
            .zip(&b.labels)
            .zip(status)
            .filter(|((r, _), st)| {
                r.at_risk > 0 && !st.missing.is_suppressed() && !st.at_risk.is_suppressed()
            })
            .filter_map(|((r, l), _)| {
                let p = nrmp_stats::Proportion::try_wilson(r.missing, r.at_risk)?;
                Some(RatePoint {
                    year: l.parse().ok()?,
                    rate: 1000.0 * p.estimate,
                    low: 1000.0 * p.ci_low,
                    high: 1000.0 * p.ci_high,
                })
            })
            .collect();
        let svg = trend_svg(
            &title,
            &[(a.cohort.label().to_owned(), pts, fitted_line)],
            "went missing per 1,000 at risk",
        );
        charts.push(Chart {
            title: title.clone(),
            svg,
        });
    }
    Ok(Report {
        title,
        tables: vec![table],
        grids: vec![grid],
        charts,
        ..Report::default()
    })
}

/// The rows of one question of the trend grid — Poisson, quasi-Poisson and negative
/// binomial — for yearly `counts` with `exposure` (the rate model) or without (the number
/// model). Returns the Poisson trend, or `None` (with a row saying why) if it cannot be
/// fitted. A negative binomial that does not converge says so and prints no estimate.
fn trend_rows(
    grid: &mut Grid,
    question: &str,
    model: &str,
    years: &[f64],
    counts: &[f64],
    exposure: Option<&[f64]>,
) -> Option<nrmp_stats::regression::Trend> {
    let ones = vec![1.0; years.len()];
    let t = match poisson_trend(years, counts, exposure.unwrap_or(&ones)) {
        Ok(t) => t,
        Err(e) => {
            grid.push(vec![
                question.into(),
                format!("not estimable: {e}"),
                String::new(),
                String::new(),
                String::new(),
            ]);
            return None;
        }
    };
    grid.push(vec![
        question.into(),
        model.into(),
        format!(
            "×{}",
            fmt_ratio((t.rate_ratio_per_year, t.ci_low, t.ci_high))
        ),
        fmt_p(t.p_value),
        format!("{:.2}", t.dispersion),
    ]);
    grid.push(vec![
        "  (dispersion allowed for)".into(),
        "quasi-Poisson".into(),
        format!(
            "×{}",
            fmt_ratio((t.rate_ratio_per_year, t.quasi_ci_low, t.quasi_ci_high))
        ),
        fmt_p(t.quasi_p_value),
        String::new(),
    ]);
    grid.push(negative_binomial_row(years, counts, exposure));
    Some(t)
}

/// The negative-binomial row of a trend question (see [`trend_rows`]).
fn negative_binomial_row(years: &[f64], counts: &[f64], exposure: Option<&[f64]>) -> Vec<String> {
    let label = "  (over-dispersion modelled)".to_owned();
    let mean = years.iter().sum::<f64>() / years.len() as f64;
    let fit = Design::new(
        vec!["const".into(), "year_centred".into()],
        years.iter().map(|y| vec![1.0, y - mean]).collect(),
    )
    .and_then(|design| {
        let off: Option<Vec<f64>> = exposure.map(|e| e.iter().map(|v| v.ln()).collect());
        negative_binomial(&design, counts, off.as_deref())
    });
    match fit {
        Ok(nb) => match nb.coefficient("year_centred") {
            Some(c) => vec![
                label,
                negative_binomial_model(&nb),
                format!("×{}", fmt_ratio(c.ratio())),
                fmt_p(c.p_value),
                String::new(),
            ],
            None => vec![
                label,
                "negative binomial: no year term".into(),
                String::new(),
                String::new(),
                String::new(),
            ],
        },
        Err(e) => vec![
            label,
            format!("negative binomial not fitted: {e}"),
            String::new(),
            String::new(),
            String::new(),
        ],
    }
}

/// How a negative-binomial fit is named in a table: its α, or the boundary α = 0 where the
/// estimate is Poisson's.
pub(crate) fn negative_binomial_model(nb: &nrmp_stats::regression::NegBinFit) -> String {
    if nb.boundary {
        "negative binomial: α = 0 (no over-dispersion; the estimate is Poisson's)".into()
    } else {
        format!(
            "negative binomial (α = {:.4}, SE {:.4})",
            nb.alpha, nb.alpha_std_error
        )
    }
}

/// Horizons reported for time to missing, in days.
pub const HORIZONS: [(f64, &str); 3] = [(1.0, "24 h"), (3.0, "72 h"), (7.0, "7 days")];

/// Kaplan–Meier results for one group, unsuppressed.
#[derive(Debug, Clone)]
pub struct KmGroup {
    /// Label.
    pub label: String,
    /// The fit.
    pub km: KaplanMeier,
    /// Events within each horizon.
    pub events_by: [u64; 3],
}

/// Fits Kaplan–Meier per group (sorted by label) and for all subjects (last).
///
/// # Errors
/// If a fit fails (never for non-empty groups).
pub fn km_groups(subs: &[Subject]) -> Result<Vec<KmGroup>> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in subs.iter().enumerate() {
        groups.entry(s.group).or_default().push(i);
    }
    let mut out = Vec::new();
    let fit = |label: &str, idx: &[usize]| -> Result<KmGroup> {
        let d: Vec<f64> = idx.iter().map(|i| subs[*i].days).collect();
        let e: Vec<bool> = idx.iter().map(|i| subs[*i].event).collect();
        let km = KaplanMeier::fit(&d, &e).map_err(AnalysisError::procedure("Kaplan–Meier"))?;
        let mut events_by = [0; 3];
        for (h, (t, _)) in HORIZONS.iter().enumerate() {
            events_by[h] = d.iter().zip(&e).filter(|(x, ev)| **ev && **x <= *t).count() as u64;
        }
        Ok(KmGroup {
            label: label.to_owned(),
            km,
            events_by,
        })
    };
    if groups.len() > 1 {
        for (label, idx) in &groups {
            out.push(fit(label, idx)?);
        }
    }
    if !subs.is_empty() {
        let all: Vec<usize> = (0..subs.len()).collect();
        out.push(fit("All", &all)?);
    }
    Ok(out)
}

/// Disclosure status for each group (last = all): `[subjects & events, horizon 1..3]`
/// suppressed?
fn protect_km(groups: &[KmGroup], rule: &SuppressionRule) -> Result<Vec<[bool; 4]>> {
    let mut values = Vec::new();
    let mut margin = Vec::new();
    let mut eqs: Vec<Vec<(usize, f64)>> = Vec::new();
    // Per group: n, then (e, n − e) for all events and each horizon.
    let mut idx: Vec<(usize, [usize; 4])> = Vec::new();
    let last = groups.len().saturating_sub(1);
    for (g, grp) in groups.iter().enumerate() {
        let is_total = g == last && groups.len() > 1;
        let n = grp.km.n;
        values.push(n);
        margin.push(true);
        let ni = values.len() - 1;
        let mut ev = [0; 4];
        let counts = [
            grp.km.n_events,
            grp.events_by[0],
            grp.events_by[1],
            grp.events_by[2],
        ];
        for (h, e) in counts.iter().enumerate() {
            values.push(*e);
            margin.push(is_total);
            values.push(n - e);
            margin.push(is_total);
            ev[h] = values.len() - 2;
            eqs.push(vec![(ev[h], 1.0), (ev[h] + 1, 1.0), (ni, -1.0)]);
        }
        idx.push((ni, ev));
    }
    if groups.len() > 1 {
        let (rows, total) = idx.split_at(last);
        let total = &total[0];
        let mut eq: Vec<(usize, f64)> = rows.iter().map(|r| (r.0, 1.0)).collect();
        eq.push((total.0, -1.0));
        eqs.push(eq);
        for h in 0..4 {
            for off in 0..2 {
                let mut eq: Vec<(usize, f64)> = rows.iter().map(|r| (r.1[h] + off, 1.0)).collect();
                eq.push((total.1[h] + off, -1.0));
                eqs.push(eq);
            }
        }
    }
    let st = protect_cells(&values, &margin, &eqs, rule).map_err(AnalysisError::Disclosure)?;
    let sup = |i: usize| st[i] != CellStatus::Published;
    Ok(idx
        .iter()
        .map(|(n, ev)| {
            let all = sup(*n) || sup(ev[0]) || sup(ev[0] + 1);
            [all, all || sup(ev[1]), all || sup(ev[2]), all || sup(ev[3])]
        })
        .collect())
}

fn pct_ci(e: f64, lo: f64, hi: f64) -> String {
    format!("{:.1}% ({:.1}–{:.1})", 100.0 * e, 100.0 * lo, 100.0 * hi)
}

/// Kaplan–Meier time to first missing episode after NRM referral or coming into care, by
/// group, with an optional Cox model (`nrmp stats time-to-missing`). `spend` is needed when
/// the request asks for the spend covariate.
///
/// # Errors
/// No spend table for the spend covariate, failed fits, or disclosure control failure.
pub fn time_to_missing(
    s: &Snapshot,
    a: &TimeToMissingRequest,
    spend: Option<&SpendTable>,
) -> Result<Report> {
    let rule = a.suppression;
    let (from, to) = a.starts.bounds(s);
    let subs = subjects(s, a.origin, a.by, from, to);
    let what = match a.origin {
        Origin::Referral => "NRM referral",
        Origin::Care => "coming into care",
    };
    let title = format!(
        "Time to first missing episode after {what} (follow-ups starting {})",
        period_text(from, to)
    );
    let groups = km_groups(&subs)?;
    let status = protect_km(&groups, &rule)?;
    let mut header = vec!["Group", "Subjects", "Went missing", "Median days (95% CI)"];
    let hz: Vec<String> = HORIZONS
        .iter()
        .map(|(_, l)| format!("Missing within {l} (95% CI)"))
        .collect();
    header.extend(hz.iter().map(String::as_str));
    let mut grid = Grid::new(&title, &header);
    for (g, st) in groups.iter().zip(&status) {
        let c = SUPPRESSED_MARKER.to_owned();
        let mut row = vec![g.label.clone()];
        if st[0] {
            row.extend([c.clone(), c.clone(), c.clone()]);
        } else {
            row.push(g.km.n.to_string());
            row.push(g.km.n_events.to_string());
            let m = g.km.median();
            let f = |v: Option<f64>| v.map_or("∞".to_owned(), |x| format!("{x:.2}"));
            row.push(match m.estimate {
                None => "not reached".to_owned(),
                Some(_) => format!("{} ({}–{})", f(m.estimate), f(m.ci_low), f(m.ci_high)),
            });
        }
        for (h, (t, _)) in HORIZONS.iter().enumerate() {
            if st[h + 1] {
                row.push(c.clone());
            } else {
                let (e, lo, hi) = g.km.survival_at(*t).failure();
                row.push(pct_ci(e, lo, hi));
            }
        }
        grid.push(row);
    }
    grid.notes.push(match a.origin {
        Origin::Referral => "Start: 00:00 on the first NRM referral date. Censored at the end of data and, for persons referred as children, at the 18th birthday.".into(),
        Origin::Care => "Start: the first placement before the 18th birthday. Censored at the end of the care episode, the 18th birthday or the end of data.".into(),
    });
    grid.notes.push("Kaplan–Meier estimates; CIs by Greenwood's variance on the log(−log) scale; median CI by Brookmeyer–Crowley. Shares are 1 − S(t).".into());
    grid.notes.push(format!(
        "Groups whose subjects or events are {}–{} (or that would reveal another group) are suppressed ([c]); so is a share whose number of events by that time is.",
        rule.min, rule.max
    ));
    let mut report = Report {
        title: title.clone(),
        ..Report::default()
    };
    if groups.len() > 2 {
        let labels: Vec<&str> = groups[..groups.len() - 1]
            .iter()
            .map(|g| g.label.as_str())
            .collect();
        let gi: Vec<u32> = subs
            .iter()
            .map(|s| labels.iter().position(|l| *l == s.group).unwrap_or(0) as u32)
            .collect();
        let d: Vec<f64> = subs.iter().map(|s| s.days).collect();
        let e: Vec<bool> = subs.iter().map(|s| s.event).collect();
        if let Ok(lr) = log_rank(&d, &e, &gi) {
            grid.notes.push(format!(
                "Log-rank test of equal time to missing across groups: χ² = {:.2}, df = {}, p = {}.",
                lr.chisq,
                lr.df,
                fmt_p(lr.p_value)
            ));
        }
    }
    if a.chart {
        let curves: Vec<(String, &KaplanMeier)> = groups
            .iter()
            .zip(&status)
            .filter(|(_, st)| !st[0])
            .map(|(g, _)| (g.label.clone(), &g.km))
            .collect();
        report.charts.push(Chart {
            title: title.clone(),
            svg: km_svg(&title, &curves, a.chart_days, "days since start"),
        });
    }
    report.grids.push(grid);
    if a.cox {
        let spend = if a.spend_covariate {
            Some(spend.ok_or_else(|| {
                AnalysisError::invalid(
                    "spend_covariate",
                    "the spend covariate needs a spend-per-child table",
                )
            })?)
        } else {
            None
        };
        report.grids.push(cox_grid(s, &subs, a.origin, spend)?);
    }
    Ok(report)
}

fn cox_grid(
    s: &Snapshot,
    subs: &[Subject],
    origin: Origin,
    spend: Option<&SpendTable>,
) -> Result<Grid> {
    // Nationality groups: the three most common after the most common (the reference).
    let mut nat_n: BTreeMap<u32, usize> = BTreeMap::new();
    for x in subs {
        *nat_n.entry(x.nationality).or_default() += 1;
    }
    let mut nats: Vec<(u32, usize)> = nat_n.into_iter().collect();
    nats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let nat_dummies: Vec<u32> = nats.iter().skip(1).take(3).map(|n| n.0).collect();
    let reference_nat = nats
        .first()
        .map(|n| s.nationalities[n.0 as usize].clone())
        .unwrap_or_default();
    let (reference_placement, ptypes) = {
        let mut v: Vec<nrmp_domain::placement::PlacementType> =
            subs.iter().filter_map(|x| x.placement_type).collect();
        v.sort_by_key(|p| p.as_str());
        v.dedup();
        let reference = v.first().map_or("none", |p| p.as_str());
        (reference, v.into_iter().skip(1).collect::<Vec<_>>())
    };
    let mut names: Vec<String> = vec!["age_at_start".into()];
    names.extend(
        nat_dummies
            .iter()
            .map(|n| format!("nationality_{}", s.nationalities[*n as usize])),
    );
    if origin == Origin::Care {
        names.extend(ptypes.iter().map(|p| format!("placement_{}", p.as_str())));
        names.push("unaccompanied".into());
        names.push("nrm_referred".into());
    }
    if spend.is_some() {
        names.push("spend_per_child_1000".into());
    }
    let mut rows = Vec::new();
    let mut d = Vec::new();
    let mut e = Vec::new();
    for x in subs {
        let Some(age) = x.age else { continue };
        let mut r = vec![f64::from(age)];
        r.extend(
            nat_dummies
                .iter()
                .map(|n| f64::from(u8::from(x.nationality == *n))),
        );
        if origin == Origin::Care {
            r.extend(
                ptypes
                    .iter()
                    .map(|p| f64::from(u8::from(x.placement_type == Some(*p)))),
            );
            r.push(f64::from(u8::from(x.unaccompanied)));
            r.push(f64::from(u8::from(x.nrm)));
        }
        if let Some(sp) = spend {
            let Some(v) = x
                .authority
                .and_then(|a| sp.get(&s.orgs[a as usize], x.year))
            else {
                continue;
            };
            r.push(v / 1000.0);
        }
        rows.push(r);
        d.push(x.days);
        e.push(x.event);
    }
    // Drop covariates that do not vary, and indicators with fewer than 5 events on either
    // side (their hazard ratio is not estimable and makes the information matrix singular).
    let p = names.len();
    let mut dropped = Vec::new();
    let keep: Vec<usize> = (0..p)
        .filter(|j| {
            let first = rows.first().map_or(0.0, |r: &Vec<f64>| r[*j]);
            let varies = rows.iter().any(|r| r[*j] != first);
            let binary = rows.iter().all(|r| r[*j] == 0.0 || r[*j] == 1.0);
            let ok = varies
                && (!binary || {
                    let ones = rows
                        .iter()
                        .zip(&e)
                        .filter(|(r, ev)| **ev && r[*j] == 1.0)
                        .count();
                    let zeros = rows
                        .iter()
                        .zip(&e)
                        .filter(|(r, ev)| **ev && r[*j] == 0.0)
                        .count();
                    ones >= 5 && zeros >= 5
                });
            if !ok {
                dropped.push(names[*j].clone());
            }
            ok
        })
        .collect();
    let names: Vec<String> = keep.iter().map(|j| names[*j].clone()).collect();
    let rows: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| keep.iter().map(|j| r[*j]).collect())
        .collect();
    let mut grid = Grid::new(
        "Cox proportional hazards: time to first missing episode",
        &[
            "Covariate",
            "Hazard ratio (95% CI)",
            "p-value",
            "PH test χ²",
            "PH test p",
        ],
    );
    if names.is_empty() || rows.is_empty() {
        grid.notes
            .push("No covariate varies: no model fitted.".into());
        return Ok(grid);
    }
    if !dropped.is_empty() {
        grid.notes.push(format!(
            "Left out (no variation, or fewer than 5 events in a category): {}.",
            dropped.join(", ")
        ));
    }
    let design = Design::new(names, rows).map_err(AnalysisError::procedure("Cox design"))?;
    let fit = match cox_ph(&design, &d, &e, Ties::Efron) {
        Ok(f) => f,
        Err(err) => {
            grid.notes.push(format!("Cox model not fitted: {err}."));
            return Ok(grid);
        }
    };
    let ph = ph_test(&fit, &design, &d, &e, TimeTransform::Km).unwrap_or_default();
    for c in &fit.coefficients {
        let t = ph.iter().find(|t| t.name == c.name);
        grid.push(vec![
            c.name.clone(),
            fmt_ratio(c.ratio()),
            fmt_p(c.p_value),
            t.map_or(String::new(), |t| format!("{:.2}", t.statistic)),
            t.map_or(String::new(), |t| fmt_p(t.p_value)),
        ]);
    }
    grid.notes.push(format!(
        "n = {}, events = {}; Efron ties; likelihood-ratio χ² = {:.2} (p = {}). Reference groups: nationality {reference_nat}, placement {reference_placement}.",
        fit.n,
        fit.n_events,
        fit.lr_chisq,
        fmt_p(fit.lr_p_value)
    ));
    grid.notes.push("PH test: scaled Schoenfeld residuals against the Kaplan–Meier transform of time (a small p means the hazard ratio changes over follow-up).".into());
    if spend.is_some() {
        grid.notes.push("Spend per child is an area-level covariate (ecological): it describes the placing authority, not the child.".into());
    }
    Ok(grid)
}

/// "Proportion of trafficked and unaccompanied children who went missing" for a period
/// (`nrmp stats proportion-trafficked`).
///
/// # Errors
/// Disclosure control failure.
pub fn proportion_trafficked(s: &Snapshot, a: &TraffickedRequest) -> Result<Report> {
    let b = trafficked_breakdown(s, a);
    let status = missing::protect(&b, &a.suppression)?;
    Ok(trafficked_from(s, a, &b, &status))
}

fn trafficked_breakdown(s: &Snapshot, a: &TraffickedRequest) -> missing::Breakdown {
    let (from, to) = a.period.bounds(s);
    type Pick = fn(&Derived) -> Option<Ts>;
    let rows: [(&str, Pick); 5] = [
        ("NRM-referred children", |d| d.nrm_child_at),
        ("Unaccompanied children", |d| d.unaccompanied_at),
        ("NRM-referred or unaccompanied children", |d| {
            match (d.nrm_child_at, d.unaccompanied_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }),
        ("NRM-referred and unaccompanied children", |d| {
            match (d.nrm_child_at, d.unaccompanied_at) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            }
        }),
        ("All looked-after children", |d| d.care_at),
    ];
    let mut b = missing::Breakdown {
        labels: rows.iter().map(|r| r.0.to_owned()).collect(),
        rows: vec![missing::Counts::default(); rows.len()],
        has_denominator: true,
        additive: false,
        // at risk(or) + at risk(and) = at risk(NRM) + at risk(unaccompanied), exactly.
        row_relations: vec![vec![(0, 1.0), (1, 1.0), (2, -1.0), (3, -1.0)]],
        // Rows 0, 1 and 4 count exactly the persons of a cohort over the period.
        keys: [
            Some(Cohort::NrmChildren),
            Some(Cohort::Unaccompanied),
            None,
            None,
            Some(Cohort::LookedAfter),
        ]
        .iter()
        .map(|c| {
            c.map(|cohort| missing::RowKey {
                cohort,
                from,
                to,
                filter: None,
            })
        })
        .collect(),
        total_key: None,
    };
    for k in 0..s.len() {
        let d = &s.derived[k];
        let Some(adult) = d.adult_at else { continue };
        let incs = s.incidents_of(k);
        for (r, (_, pick)) in rows.iter().enumerate() {
            if let Some(entry) = pick(d) {
                let (lo, hi) = (from.max(entry), to.min(adult));
                if lo < hi {
                    let (n, open) = missing::tally(incs, lo, hi);
                    let c = &mut b.rows[r];
                    c.at_risk += 1;
                    if n > 0 {
                        c.missing += 1;
                        c.incidents += n;
                        c.repeat += u64::from(n >= 2);
                        c.never_found += u64::from(open);
                    }
                }
            }
        }
    }
    b
}

fn trafficked_from(
    s: &Snapshot,
    a: &TraffickedRequest,
    b: &missing::Breakdown,
    status: &[RowStatus],
) -> Report {
    let (from, to) = a.period.bounds(s);
    let title = format!(
        "Proportion of trafficked and unaccompanied children who went missing, {}",
        period_text(from, to)
    );
    let mut t = missing::publish_with(b, status, &a.suppression, title.clone(), "Children");
    t.notes.push("Trafficked: referred to the NRM while under 18 (a referral, not a conclusive-grounds decision). Unaccompanied: an unaccompanied placement before 18. At risk: in the group and under 18 at some time in the period; went missing: an incident in the period after joining the group and before 18.".into());
    Report {
        title,
        tables: vec![t],
        ..Report::default()
    }
}
