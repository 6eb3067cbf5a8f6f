//! "Who went missing": persons at risk, persons who went missing, incidents, repeat and
//! never-found shares by a breakdown, and the disclosure-controlled [`Table`] published from
//! them.
//!
//! For every row the published figures are the persons at risk `T` (the denominator), those
//! who went missing `M`, those missing more than once `R`, those with an incident still open
//! (never found) `F`, and incidents `I`. Their complements `N = T − M`, `O = M − R`,
//! `G = M − F` are implied, so they are protected too: the whole publication is one linear
//! system handed to [`nrmp_stats::disclosure::protect_cells`], with column totals when the
//! rows partition the population (nationality, sex, age band, authority) and without them
//! when a person can be in more than one row (year, force, cohort) — there the rows are not
//! summed and no total is printed.

use crate::error::{AnalysisError, Result};
use crate::snapshot::{Cohort, IncidentRow, Snapshot, Ts, age_band, date_of_ts};
use chrono::{Datelike, NaiveDate};
use nrmp_stats::disclosure::{
    CellStatus, FigureSystem, LinkedTables, SuppressionRule, protect_cells,
};
use nrmp_stats::table::{Cell, Table};
use std::collections::HashMap;

/// What the rows of a breakdown are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum By {
    /// Calendar year.
    Year,
    /// Police force the person went missing from (no at-risk denominator).
    Force,
    /// Placing local authority of the first placement ("no placement" otherwise).
    Authority,
    /// Each cohort (rows overlap).
    Cohort,
    /// First recorded nationality.
    Nationality,
    /// Age when first at risk in the period.
    AgeBand,
    /// Sex.
    Sex,
}

impl By {
    /// Heading of the label column.
    pub fn heading(self) -> &'static str {
        match self {
            By::Year => "Year",
            By::Force => "Police force",
            By::Authority => "Local authority",
            By::Cohort => "Cohort",
            By::Nationality => "Nationality",
            By::AgeBand => "Age band",
            By::Sex => "Sex",
        }
    }

    /// Whether each person falls in exactly one row (so the rows add up to a total).
    pub fn additive(self) -> bool {
        matches!(
            self,
            By::Authority | By::Nationality | By::AgeBand | By::Sex
        )
    }
}

/// Person-level tallies of one row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Persons at risk (in the cohort at some time in the period).
    pub at_risk: u64,
    /// Persons with at least one incident.
    pub missing: u64,
    /// Persons with two or more incidents.
    pub repeat: u64,
    /// Persons with an incident still open (no return recorded).
    pub never_found: u64,
    /// Incidents.
    pub incidents: u64,
}

impl Counts {
    fn add(&mut self, n: u64, open: bool) {
        self.at_risk += 1;
        if n > 0 {
            self.missing += 1;
            self.incidents += n;
            self.repeat += u64::from(n >= 2);
            self.never_found += u64::from(open);
        }
    }
}

/// A computed breakdown, before disclosure control.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Breakdown {
    /// Row labels.
    pub labels: Vec<String>,
    /// Row tallies.
    pub rows: Vec<Counts>,
    /// Whether `at_risk` is meaningful (false for police force).
    pub has_denominator: bool,
    /// Whether rows partition the persons.
    pub additive: bool,
    /// Exact linear relations between the rows' at-risk counts, as `(row, coefficient)`
    /// summing to zero (e.g. inclusion–exclusion between overlapping cohorts); protected as
    /// part of the same system.
    pub row_relations: Vec<Vec<(usize, f64)>>,
    /// What each row counts, so that rows of different tables that count the same persons
    /// over the same time are protected as one figure ([`protect_jointly`]); `None` for a row
    /// no other table has.
    #[serde(skip)]
    pub keys: Vec<Option<RowKey>>,
    /// What the total row counts (additive breakdowns).
    #[serde(skip)]
    pub total_key: Option<RowKey>,
}

/// The population and time a row of a breakdown counts: the persons of `cohort` (restricted
/// to those in row `filter` of a breakdown, if any) over `[from, to)`. Two rows with the same
/// key have the same figures, whichever table they are in — the row "NRM-referred children"
/// of the table by cohort, the total of the table of NRM-referred children by sex, and the row
/// of the proportion-trafficked table, for one period.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    /// The cohort.
    pub cohort: Cohort,
    /// Start (inclusive).
    pub from: Ts,
    /// End (exclusive).
    pub to: Ts,
    /// The breakdown and row label, for a row that is part of a cohort.
    pub filter: Option<(By, String)>,
}

/// Incidents in `[lo, hi)` and whether any of them is open.
pub fn tally(incs: &[IncidentRow], lo: Ts, hi: Ts) -> (u64, bool) {
    let a = incs.partition_point(|i| i.start < lo);
    let mut n = 0;
    let mut open = false;
    for i in &incs[a..] {
        if i.start >= hi {
            break;
        }
        n += 1;
        open |= i.end.is_none();
    }
    (n, open)
}

fn year_start(y: i32) -> Ts {
    crate::snapshot::ts_of_date(NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN))
}

/// The whole calendar years inside `[from, to)`: the start moved forward to the next
/// 1 January and the end back to the last, with the partial periods that were cut off (at
/// most one at each end). When no whole year fits, the range is empty (`from == to`) and
/// the whole of `[from, to)` is reported as left out.
pub fn whole_years(from: Ts, to: Ts) -> (Ts, Ts, Vec<(Ts, Ts)>) {
    if from >= to {
        return (from, from, Vec::new());
    }
    let y0 = date_of_ts(from).year();
    let start = if year_start(y0) == from {
        from
    } else {
        year_start(y0 + 1)
    };
    let end = year_start(date_of_ts(to).year()).max(start);
    if end <= start || start >= to {
        return (from, from, vec![(from, to)]);
    }
    let mut cut = Vec::new();
    if from < start {
        cut.push((from, start));
    }
    if end < to {
        cut.push((end, to));
    }
    (start, end, cut)
}

/// The label of year `y`'s row over `[from, to)`: the year, or — when the period covers only
/// part of it — the year with the dates it covers, so a partial year never reads as whole.
fn year_label(y: i32, from: Ts, to: Ts) -> String {
    let (lo, hi) = (year_start(y).max(from), year_start(y + 1).min(to));
    if lo == year_start(y) && hi == year_start(y + 1) {
        y.to_string()
    } else {
        format!(
            "{y} (part year: {} to {})",
            date_of_ts(lo).format("%-d %b"),
            date_of_ts(hi - 1).format("%-d %b")
        )
    }
}

/// Computes the breakdown of `cohort` over `[from, to)` by `by`.
pub fn breakdown(s: &Snapshot, by: By, cohort: Cohort, from: Ts, to: Ts) -> Breakdown {
    let to = to.min(s.end_of_data);
    let labels: Vec<String>;
    let mut rows: Vec<Counts>;
    match by {
        By::Year => {
            let (y0, y1) = (date_of_ts(from).year(), date_of_ts(to - 1).year());
            let years: Vec<i32> = if from < to {
                (y0..=y1).collect()
            } else {
                Vec::new()
            };
            labels = years.iter().map(|y| year_label(*y, from, to)).collect();
            rows = vec![Counts::default(); years.len()];
            for k in 0..s.len() {
                let Some((e, x)) = s.cohort_interval(k, cohort) else {
                    continue;
                };
                let incs = s.incidents_of(k);
                for (r, y) in years.iter().enumerate() {
                    let lo = year_start(*y).max(from).max(e);
                    let hi = year_start(y + 1).min(to).min(x);
                    if lo < hi {
                        let (n, open) = tally(incs, lo, hi);
                        rows[r].add(n, open);
                    }
                }
            }
        }
        By::Cohort => {
            labels = Cohort::ALL.iter().map(|c| c.label().to_owned()).collect();
            rows = vec![Counts::default(); Cohort::ALL.len()];
            for k in 0..s.len() {
                let incs = s.incidents_of(k);
                for (r, c) in Cohort::ALL.iter().enumerate() {
                    if let Some((e, x)) = s.cohort_interval(k, *c) {
                        let (lo, hi) = (from.max(e), to.min(x));
                        if lo < hi {
                            let (n, open) = tally(incs, lo, hi);
                            rows[r].add(n, open);
                        }
                    }
                }
            }
        }
        By::Force => {
            labels = s.orgs.clone();
            rows = vec![Counts::default(); s.orgs.len()];
            let mut per: Vec<(u32, u64, bool)> = Vec::new();
            for k in 0..s.len() {
                let Some((e, x)) = s.cohort_interval(k, cohort) else {
                    continue;
                };
                let (lo, hi) = (from.max(e), to.min(x));
                if lo >= hi {
                    continue;
                }
                per.clear();
                let incs = s.incidents_of(k);
                let a = incs.partition_point(|i| i.start < lo);
                for i in incs[a..].iter().take_while(|i| i.start < hi) {
                    match per.iter_mut().find(|p| p.0 == i.force) {
                        Some(p) => {
                            p.1 += 1;
                            p.2 |= i.end.is_none();
                        }
                        None => per.push((i.force, 1, i.end.is_none())),
                    }
                }
                for (f, n, open) in &per {
                    rows[*f as usize].add(*n, *open);
                }
            }
        }
        By::Authority | By::Nationality | By::AgeBand | By::Sex => {
            return categorical_breakdowns(s, &[cohort], &[by], from, to)
                .pop()
                .unwrap_or_else(|| finish(by, cohort, from, to, Vec::new(), Vec::new()));
        }
    }
    finish(by, cohort, from, to, labels, rows)
}

const BANDS: [&str; 9] = [
    "0-9", "10-13", "14-15", "16-17", "18-24", "25-39", "40-59", "60+", "unknown",
];
const SEXES: [&str; 4] = ["F", "M", "X", "U"];

/// The rows of a breakdown in which each person falls in exactly one row.
fn categorical_labels(s: &Snapshot, by: By) -> Vec<String> {
    match by {
        By::Authority => {
            let mut l = s.orgs.clone();
            l.push("no placement".into());
            l
        }
        By::Nationality => s.nationalities.clone(),
        By::AgeBand => BANDS.iter().map(|b| (*b).to_owned()).collect(),
        _ => SEXES.iter().map(|b| (*b).to_owned()).collect(),
    }
}

/// Person `k`'s row of a categorical breakdown, when first at risk at `lo`.
fn categorical_row(s: &Snapshot, by: By, k: usize, lo: Ts) -> usize {
    match by {
        By::Authority => s.derived[k].authority.map_or(s.orgs.len(), |a| a as usize),
        By::Nationality => s.persons[k].nationality as usize,
        By::AgeBand => {
            let band = age_band(s.age_at(k, lo));
            BANDS
                .iter()
                .position(|b| *b == band)
                .unwrap_or(BANDS.len() - 1)
        }
        _ => {
            let code = s.persons[k].sex.code();
            SEXES.iter().position(|c| *c == code).unwrap_or(3)
        }
    }
}

/// The breakdowns of each of `cohorts` by each of `bys` (categorical: authority, nationality,
/// age band, sex) over `[from, to)`, cohort by cohort, in **one pass** over the persons: each
/// person's incidents are tallied once per cohort rather than once per table. Each is the
/// same as [`breakdown`] of that cohort and breakdown (a period family has 24 of them).
pub fn categorical_breakdowns(
    s: &Snapshot,
    cohorts: &[Cohort],
    bys: &[By],
    from: Ts,
    to: Ts,
) -> Vec<Breakdown> {
    let to = to.min(s.end_of_data);
    let labels: Vec<Vec<String>> = bys.iter().map(|b| categorical_labels(s, *b)).collect();
    let mut rows: Vec<Vec<Vec<Counts>>> = cohorts
        .iter()
        .map(|_| {
            labels
                .iter()
                .map(|l| vec![Counts::default(); l.len()])
                .collect()
        })
        .collect();
    for k in 0..s.len() {
        for (c, cohort) in cohorts.iter().enumerate() {
            let Some((e, x)) = s.cohort_interval(k, *cohort) else {
                continue;
            };
            let (lo, hi) = (from.max(e), to.min(x));
            if lo >= hi {
                continue;
            }
            let (n, open) = tally(s.incidents_of(k), lo, hi);
            for (b, by) in bys.iter().enumerate() {
                rows[c][b][categorical_row(s, *by, k, lo)].add(n, open);
            }
        }
    }
    cohorts
        .iter()
        .zip(rows)
        .flat_map(|(cohort, per_by)| {
            bys.iter()
                .zip(&labels)
                .zip(per_by)
                .map(|((by, l), r)| finish(*by, *cohort, from, to, l.clone(), r))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Drops empty rows, sorts categorical rows by label and keys every row (the rows and labels
/// of a breakdown of `cohort` by `by` over `[from, to)`).
fn finish(
    by: By,
    cohort: Cohort,
    from: Ts,
    to: Ts,
    mut labels: Vec<String>,
    mut rows: Vec<Counts>,
) -> Breakdown {
    // Drop empty rows (an authority nobody was placed by, a force nobody went missing from),
    // and sort categorical rows by label.
    let mut pairs: Vec<(String, Counts)> = labels
        .drain(..)
        .zip(rows.drain(..))
        .filter(|(_, c)| {
            if by == By::Year || by == By::Cohort {
                true
            } else if by == By::Force {
                c.missing > 0
            } else {
                c.at_risk > 0
            }
        })
        .collect();
    if !matches!(by, By::Year | By::Cohort | By::AgeBand) {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let (labels, rows): (Vec<String>, Vec<Counts>) = pairs.into_iter().unzip();
    let key = |c: Cohort, lo: Ts, hi: Ts, filter: Option<(By, String)>| RowKey {
        cohort: c,
        from: lo,
        to: hi,
        filter,
    };
    let keys = labels
        .iter()
        .map(|l| match by {
            By::Year => l
                .split(' ')
                .next()
                .and_then(|y| y.parse::<i32>().ok())
                .map(|y| {
                    key(
                        cohort,
                        year_start(y).max(from),
                        year_start(y + 1).min(to),
                        None,
                    )
                }),
            By::Cohort => Cohort::ALL
                .iter()
                .find(|c| c.label() == l)
                .map(|c| key(*c, from, to, None)),
            _ => Some(key(cohort, from, to, Some((by, l.clone())))),
        })
        .collect();
    Breakdown {
        labels,
        rows,
        has_denominator: by != By::Force,
        additive: by.additive(),
        row_relations: Vec::new(),
        total_key: by.additive().then(|| key(cohort, from, to, None)),
        keys,
    }
}

impl Breakdown {
    /// Column totals (meaningful only for additive breakdowns).
    pub fn total(&self) -> Counts {
        self.rows.iter().fold(Counts::default(), |mut t, r| {
            t.at_risk += r.at_risk;
            t.missing += r.missing;
            t.repeat += r.repeat;
            t.never_found += r.never_found;
            t.incidents += r.incidents;
            t
        })
    }
}

/// Publication status of one row's figures after disclosure control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowStatus {
    /// `T`.
    pub at_risk: CellStatus,
    /// `M`.
    pub missing: CellStatus,
    /// `R`.
    pub repeat: CellStatus,
    /// `F`.
    pub never_found: CellStatus,
    /// `I`.
    pub incidents: CellStatus,
}

/// Figure indices of one row in the linear system.
struct RowFigures {
    t: Option<usize>,
    m: usize,
    n: Option<usize>,
    r: usize,
    o: usize,
    f: usize,
    g: usize,
    i: usize,
}

impl RowFigures {
    /// Every figure, in a fixed order (`T`, `N` are absent without a denominator).
    fn all(&self) -> [Option<usize>; 8] {
        [
            self.t,
            self.n,
            Some(self.m),
            Some(self.r),
            Some(self.o),
            Some(self.f),
            Some(self.g),
            Some(self.i),
        ]
    }
}

/// The breakdown's published figures as one linear system (rows, plus the total row when
/// additive), with each row's figure indices.
fn figure_system(b: &Breakdown) -> (FigureSystem, Vec<RowFigures>) {
    let mut values: Vec<u64> = Vec::new();
    let mut margin: Vec<bool> = Vec::new();
    let mut eqs: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut push = |v: u64, m: bool| {
        values.push(v);
        margin.push(m);
        values.len() - 1
    };
    let mut figs: Vec<RowFigures> = Vec::new();
    let mut all_rows = b.rows.clone();
    if b.additive {
        all_rows.push(b.total());
    }
    for (idx, c) in all_rows.iter().enumerate() {
        let is_total = b.additive && idx == b.rows.len();
        let (t, n) = if b.has_denominator {
            (
                Some(push(c.at_risk, true)),
                Some(push(c.at_risk - c.missing, is_total)),
            )
        } else {
            (None, None)
        };
        let fig = RowFigures {
            t,
            n,
            m: push(c.missing, !b.has_denominator || is_total),
            r: push(c.repeat, is_total),
            o: push(c.missing - c.repeat, is_total),
            f: push(c.never_found, is_total),
            g: push(c.missing - c.never_found, is_total),
            i: push(c.incidents, is_total),
        };
        if let (Some(t), Some(n)) = (fig.t, fig.n) {
            eqs.push(vec![(fig.m, 1.0), (n, 1.0), (t, -1.0)]);
        }
        eqs.push(vec![(fig.r, 1.0), (fig.o, 1.0), (fig.m, -1.0)]);
        eqs.push(vec![(fig.f, 1.0), (fig.g, 1.0), (fig.m, -1.0)]);
        figs.push(fig);
    }
    if b.additive && !b.rows.is_empty() {
        let (rows, total) = figs.split_at(b.rows.len());
        let total = &total[0];
        // One column-total equation per kind of figure.
        for k in 0..8 {
            let eq: Option<Vec<(usize, f64)>> = rows
                .iter()
                .map(|r| r.all()[k].map(|i| (i, 1.0)))
                .chain(std::iter::once(total.all()[k].map(|i| (i, -1.0))))
                .collect();
            if let Some(eq) = eq {
                eqs.push(eq);
            }
        }
    }
    for rel in &b.row_relations {
        let eq: Option<Vec<(usize, f64)>> = rel
            .iter()
            .map(|(r, c)| figs.get(*r).and_then(|f| f.t).map(|t| (t, *c)))
            .collect();
        if let Some(eq) = eq {
            eqs.push(eq);
        }
    }
    (
        FigureSystem {
            values,
            is_margin: margin,
            equations: eqs,
        },
        figs,
    )
}

fn row_status(figs: &[RowFigures], status: &[CellStatus]) -> Vec<RowStatus> {
    figs.iter()
        .map(|f| RowStatus {
            at_risk: f.t.map_or(CellStatus::Published, |t| status[t]),
            missing: status[f.m],
            repeat: status[f.r],
            never_found: status[f.f],
            incidents: status[f.i],
        })
        .collect()
}

/// Primary and complementary suppression over the breakdown (rows, plus the total row when
/// additive). Returns one status per row, then the total row's status if additive.
///
/// # Errors
/// If the protection cannot be completed (see [`protect_cells`]).
pub fn protect(b: &Breakdown, rule: &SuppressionRule) -> Result<Vec<RowStatus>> {
    let (fs, figs) = figure_system(b);
    let status = protect_cells(&fs.values, &fs.is_margin, &fs.equations, rule)
        .map_err(AnalysisError::Disclosure)?;
    Ok(row_status(&figs, &status))
}

/// Protects breakdowns that are published together **jointly**: every row that counts the
/// same persons over the same time as a row of another breakdown (same [`RowKey`]: a cohort's
/// row in the table by cohort, the total of that cohort's table by sex, by age band, …) is
/// linked to it figure by figure, and the whole set is one suppression plan
/// ([`LinkedTables`]), so no suppressed figure can be recovered by differencing two of the
/// tables. Returns each breakdown's row statuses, as [`protect`] does.
///
/// # Errors
/// If the protection cannot be completed.
pub fn protect_jointly(bs: &[&Breakdown], rule: &SuppressionRule) -> Result<Vec<Vec<RowStatus>>> {
    let mut set = LinkedTables::new();
    let mut all_figs: Vec<Vec<RowFigures>> = Vec::new();
    let mut all_values: Vec<Vec<u64>> = Vec::new();
    let mut first: HashMap<&RowKey, (usize, usize)> = HashMap::new();
    for (t, b) in bs.iter().enumerate() {
        let (fs, figs) = figure_system(b);
        let values = fs.values.clone();
        set.add(fs).map_err(AnalysisError::Disclosure)?;
        let keys = b.keys.iter().chain(b.additive.then_some(&b.total_key));
        for (r, key) in keys.enumerate() {
            let Some(key) = key else { continue };
            let Some(&(t0, r0)) = first.get(key) else {
                first.insert(key, (t, r));
                continue;
            };
            let here: &RowFigures = &figs[r];
            let there: &RowFigures = &all_figs[t0][r0];
            let there_values = &all_values[t0];
            for (a, b) in there.all().iter().zip(here.all()) {
                // Equal keys count the same persons, so the figures are equal; link only
                // equal values so that a key that is wrong can never make the plan invalid.
                if let (Some(a), Some(b)) = (a, b)
                    && there_values[*a] == values[b]
                {
                    set.link((t0, *a), (t, b))
                        .map_err(AnalysisError::Disclosure)?;
                }
            }
        }
        all_figs.push(figs);
        all_values.push(values);
    }
    let status = set.protect(rule).map_err(AnalysisError::Disclosure)?;
    Ok(all_figs
        .iter()
        .zip(&status)
        .map(|(figs, st)| row_status(figs, st))
        .collect())
}

fn cell(count: u64, cs: CellStatus, denom: u64, ds: CellStatus) -> Cell {
    let mut c = Cell::ratio(count, denom);
    if cs.is_suppressed() {
        c = c.suppress();
    }
    if ds.is_suppressed() {
        c = c.suppress_denominator();
    }
    c
}

/// The published table: counts beside denominators, proportions with Wilson 95 % CIs,
/// suppressed figures as `[c]`.
///
/// # Errors
/// As [`protect`].
pub fn publish(
    b: &Breakdown,
    rule: &SuppressionRule,
    title: String,
    heading: &str,
) -> Result<Table> {
    let status = protect(b, rule)?;
    Ok(publish_with(b, &status, rule, title, heading))
}

/// [`publish`] with statuses already worked out (e.g. by [`protect_jointly`]).
pub fn publish_with(
    b: &Breakdown,
    status: &[RowStatus],
    rule: &SuppressionRule,
    title: String,
    heading: &str,
) -> Table {
    let mut t = Table::new(
        title,
        heading,
        vec![
            "Went missing (of persons at risk)".into(),
            "Missing more than once (of those missing)".into(),
            "Never found (of those missing)".into(),
            "Incidents (per person missing)".into(),
        ],
    );
    let mut all: Vec<(String, Counts)> = b
        .labels
        .iter()
        .cloned()
        .zip(b.rows.iter().copied())
        .collect();
    if b.additive {
        all.push(("Total".into(), b.total()));
    }
    for ((label, c), st) in all.into_iter().zip(status.iter().copied()) {
        let went = if b.has_denominator {
            cell(c.missing, st.missing, c.at_risk, st.at_risk)
        } else if st.missing.is_suppressed() {
            Cell::count(c.missing).suppress()
        } else {
            Cell::count(c.missing)
        };
        let mut inc = Cell::rate(c.incidents, c.missing);
        if st.incidents.is_suppressed() {
            inc = inc.suppress();
        }
        if st.missing.is_suppressed() {
            inc = inc.suppress_denominator();
        }
        t.push_row(
            label,
            vec![
                went,
                cell(c.repeat, st.repeat, c.missing, st.missing),
                cell(c.never_found, st.never_found, c.missing, st.missing),
                inc,
            ],
        );
    }
    t.notes.push(format!(
        "Counts of {}–{} are suppressed ([c]), with complementary suppression so that no suppressed figure can be recovered from the others or from totals.",
        rule.min, rule.max
    ));
    t.notes
        .push("Percentages with Wilson 95% confidence intervals.".into());
    if !b.has_denominator {
        t.notes.push(
            "The register holds no at-risk population by police force area: counts only; a person is counted in every force they went missing from."
                .into(),
        );
    } else if !b.additive {
        t.notes.push(
            "Rows overlap (a person can be at risk in more than one row), so rows are not summed."
                .into(),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::testdata::*;
    use crate::snapshot::{SnapshotBuilder, ts_of_date};
    use nrmp_domain::person::Sex;
    use nrmp_stats::disclosure::recoverable_figures;

    fn snapshot() -> Snapshot {
        let mut b = SnapshotBuilder::new();
        // Child 1: two incidents in 2024 (one open), LAC from 2023.
        b.person(&person(1, Some((2010, 1, 1)), Sex::Female, "VNM"));
        b.placement(&placement(10, 1, at(2023, 1, 1, 0), None, "la:a", true));
        b.incident(&incident(
            100,
            1,
            at(2024, 2, 1, 0),
            Some(at(2024, 2, 2, 0)),
            "force:a",
        ));
        b.incident(&incident(101, 1, at(2024, 3, 1, 0), None, "force:b"));
        // Child 2: never missing, not looked after.
        b.person(&person(2, Some((2012, 5, 5)), Sex::Male, "GBR"));
        // Adult 3: one incident in 2023, found.
        b.person(&person(3, Some((1980, 5, 5)), Sex::Male, "GBR"));
        b.incident(&incident(
            102,
            3,
            at(2023, 6, 1, 0),
            Some(at(2023, 6, 3, 0)),
            "force:a",
        ));
        // Person 4: no dob, one incident 2024 before the cohort window matters.
        b.person(&person(4, None, Sex::Unknown, "ALB"));
        b.incident(&incident(
            103,
            4,
            at(2024, 7, 1, 0),
            Some(at(2024, 7, 2, 0)),
            "force:a",
        ));
        b.finish(ts_of_date(NaiveDate::from_ymd_opt(2025, 1, 1).expect("d")))
    }

    #[test]
    fn counts_by_cohort_and_year() {
        let s = snapshot();
        let (from, to) = (year_start(2023), year_start(2025));
        let b = breakdown(&s, By::Cohort, Cohort::All, from, to);
        let get = |label: &str| b.rows[b.labels.iter().position(|l| l == label).expect("row")];
        assert_eq!(
            get("All children"),
            Counts {
                at_risk: 2,
                missing: 1,
                repeat: 1,
                never_found: 1,
                incidents: 2
            }
        );
        assert_eq!(
            get("Adults"),
            Counts {
                at_risk: 1,
                missing: 1,
                repeat: 0,
                never_found: 0,
                incidents: 1
            }
        );
        assert_eq!(get("All persons").at_risk, 4);
        assert_eq!(get("All persons").incidents, 4);
        assert_eq!(get("Looked-after children").at_risk, 1);
        assert_eq!(get("NRM-referred children").at_risk, 0);
        let y = breakdown(&s, By::Year, Cohort::All, from, to);
        assert_eq!(y.labels, vec!["2023", "2024"]);
        assert_eq!(y.rows[0].missing, 1);
        assert_eq!(y.rows[1].missing, 2);
        assert_eq!(y.rows[1].at_risk, 4);
        let f = breakdown(&s, By::Force, Cohort::All, from, to);
        assert_eq!(f.labels, vec!["force:a", "force:b"]);
        assert_eq!(f.rows[0].missing, 3);
        assert_eq!(f.rows[1].never_found, 1);
        let sex = breakdown(&s, By::Sex, Cohort::Children, from, to);
        assert_eq!(sex.total().at_risk, 2);
        let auth = breakdown(&s, By::Authority, Cohort::Children, from, to);
        assert_eq!(auth.labels, vec!["la:a", "no placement"]);
    }

    #[test]
    fn small_counts_are_suppressed_and_not_recoverable() {
        let b = Breakdown {
            labels: vec!["a".into(), "b".into(), "c".into()],
            rows: vec![
                Counts {
                    at_risk: 100,
                    missing: 3,
                    repeat: 0,
                    never_found: 0,
                    incidents: 3,
                },
                Counts {
                    at_risk: 200,
                    missing: 40,
                    repeat: 10,
                    never_found: 8,
                    incidents: 70,
                },
                Counts {
                    at_risk: 300,
                    missing: 60,
                    repeat: 20,
                    never_found: 12,
                    incidents: 100,
                },
            ],
            has_denominator: true,
            additive: true,
            row_relations: Vec::new(),
            keys: vec![None; 3],
            total_key: None,
        };
        let rule = SuppressionRule::default();
        let st = protect(&b, &rule).expect("protect");
        assert!(st[0].missing.is_suppressed());
        // The column total of "went missing" is published, so another row is suppressed too.
        assert!(st[1].missing.is_suppressed() || st[2].missing.is_suppressed());
        let t = publish(&b, &rule, "t".into(), "x").expect("publish");
        assert_eq!(t.rows.len(), 4);
        assert!(t.rows[0].cells[0].suppressed);
        assert!(t.to_csv().contains("[c]"));
        let _ = recoverable_figures; // audited inside protect_cells
    }
}
