//! Local-authority children's-services spend per child, and the ecological model of missing
//! rates of looked-after children against it (`nrmp stats spend-model`), with its chart.
//!
//! The spend table comes from a CSV of `authority,year,spend_per_child` ([`parse_spend`]) and
//! is kept in the register (`Store::replace_spend`, read back with [`SpendTable::from_rows`]);
//! the model's units are authority-years ([`units`]).

use crate::error::{AnalysisError, Result};
use crate::missing::tally;
use crate::report::{Chart, Grid, Report};
use crate::request::{SpendModelRequest, period_text};
use crate::snapshot::{Cohort, Snapshot, date_of_ts, ts_of_date};
use chrono::{Datelike, NaiveDate};
use nrmp_domain::organisation::{AuthoritySpend, OrgCode};
use nrmp_stats::chart::{ScatterPoint, scatter_svg};
use nrmp_stats::regression::{Design, negative_binomial, poisson};
use std::collections::{BTreeMap, HashMap};

/// Spend per child by (authority, year).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendTable {
    map: BTreeMap<(String, i32), f64>,
}

impl SpendTable {
    /// Spend per child of `authority` in `year`.
    pub fn get(&self, authority: &str, year: i32) -> Option<f64> {
        self.map.get(&(authority.to_owned(), year)).copied()
    }

    /// Number of (authority, year) rows.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// `(authority, year, spend per child)` in order of authority and year.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i32, f64)> {
        self.map.iter().map(|((a, y), v)| (a.as_str(), *y, *v))
    }

    /// The table of the register's stored rows.
    pub fn from_rows(rows: &[AuthoritySpend]) -> Self {
        Self {
            map: rows
                .iter()
                .map(|r| ((r.authority.as_str().to_owned(), r.year), r.spend_per_child))
                .collect(),
        }
    }

    /// The rows, for storing in the register.
    ///
    /// # Errors
    /// [`AnalysisError::InvalidSpend`] if an authority is not an organisation code (never for
    /// a table from [`parse_spend`]).
    pub fn to_rows(&self) -> Result<Vec<AuthoritySpend>> {
        self.iter()
            .map(|(a, year, spend_per_child)| {
                Ok(AuthoritySpend {
                    authority: OrgCode::parse("authority", a).map_err(|e| {
                        AnalysisError::InvalidSpend {
                            line: None,
                            problem: e.to_string(),
                        }
                    })?,
                    year,
                    spend_per_child,
                })
            })
            .collect()
    }

    /// The table as CSV with the header `authority,year,spend_per_child`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("authority,year,spend_per_child\n");
        for (auth, year, v) in self.iter() {
            out.push_str(&format!("{auth},{year},{v}\n"));
        }
        out
    }
}

/// Parses a spend CSV: header `authority,year,spend_per_child`, one row per authority and
/// year (authority an organisation code, spend a non-negative number of pounds per child).
///
/// # Errors
/// [`AnalysisError::InvalidSpend`]: empty file, bad header, a bad row (with its line number)
/// or a duplicate.
pub fn parse_spend(text: &str) -> Result<SpendTable> {
    let bad = |line: usize, problem: String| AnalysisError::InvalidSpend {
        line: Some(line),
        problem,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(AnalysisError::InvalidSpend {
            line: None,
            problem: "empty spend file".into(),
        });
    };
    let cols: Vec<String> = header.split(',').map(|c| c.trim().to_lowercase()).collect();
    if cols != ["authority", "year", "spend_per_child"] {
        return Err(AnalysisError::InvalidSpend {
            line: None,
            problem: format!("header must be `authority,year,spend_per_child`, got `{header}`"),
        });
    }
    let mut t = SpendTable::default();
    for (n, line) in lines {
        let n = n + 1;
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [a, y, v] = f.as_slice() else {
            return Err(bad(n, "expected 3 fields".into()));
        };
        let org = OrgCode::parse("authority", a).map_err(|e| bad(n, e.to_string()))?;
        let year: i32 = y.parse().map_err(|e| bad(n, format!("year `{y}`: {e}")))?;
        let spend: f64 = v.parse().map_err(|e| bad(n, format!("spend `{v}`: {e}")))?;
        if !(spend.is_finite() && spend >= 0.0) {
            return Err(bad(n, "spend must be a non-negative number".into()));
        }
        if t.map
            .insert((org.as_str().to_owned(), year), spend)
            .is_some()
        {
            return Err(bad(n, format!("{} {year} appears twice", org.as_str())));
        }
    }
    Ok(t)
}

/// Authority-years: `(authority, year, looked-after children at risk, went missing)`, for
/// the looked-after children whose first placement's placing authority is `authority`.
pub fn units(s: &Snapshot, from: i64, to: i64) -> Vec<(u32, i32, u64, u64)> {
    let mut acc: HashMap<(u32, i32), (u64, u64)> = HashMap::new();
    let (y0, y1) = (date_of_ts(from).year(), date_of_ts(to - 1).year());
    for k in 0..s.len() {
        let Some(auth) = s.derived[k].authority else {
            continue;
        };
        let Some((e, x)) = s.cohort_interval(k, Cohort::LookedAfter) else {
            continue;
        };
        let incs = s.incidents_of(k);
        for y in y0..=y1 {
            let ys = NaiveDate::from_ymd_opt(y, 1, 1).map_or(i64::MIN, ts_of_date);
            let ye = NaiveDate::from_ymd_opt(y + 1, 1, 1).map_or(i64::MAX, ts_of_date);
            let (lo, hi) = (ys.max(from).max(e), ye.min(to).min(x));
            if lo < hi {
                let (n, _) = tally(incs, lo, hi);
                let u = acc.entry((auth, y)).or_default();
                u.0 += 1;
                u.1 += u64::from(n > 0);
            }
        }
    }
    let mut v: Vec<(u32, i32, u64, u64)> = acc
        .into_iter()
        .map(|((a, y), (n, m))| (a, y, n, m))
        .collect();
    v.sort_unstable();
    v
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

/// The caveats printed with every spend analysis.
pub const CAVEATS: [&str; 5] = [
    "Caveats (ecological analysis):",
    "- Spend is a property of the authority, not of the child: an association between areas does not show that a child in a better-funded authority is less likely to go missing (ecological fallacy).",
    "- Authorities differ in need, placement markets and recording practice; spend may follow need (reverse causation), and out-of-area placements separate the paying authority from where the child goes missing.",
    "- Counts are of the register's records; under-recording that varies with resources would bias the estimate.",
    "- The model adjusts only for calendar year; treat the estimate as descriptive.",
];

/// Missing rates of looked-after children against spend per child: Poisson, quasi-Poisson
/// and negative binomial rate ratios with exposure, and the ecological caveats
/// (`nrmp stats spend-model`).
///
/// # Errors
/// Too few authority-years with spend data, or a model that cannot be fitted.
pub fn spend_model(s: &Snapshot, a: &SpendModelRequest, spend: &SpendTable) -> Result<Report> {
    // Units are authority × calendar year, with persons at risk (not time at risk) as the
    // exposure: only whole calendar years are comparable, so part years are left out.
    let (from0, to0) = a.period.bounds(s);
    let (from, to, cut) = crate::missing::whole_years(from0, to0);
    if from >= to {
        return Err(AnalysisError::InsufficientData(format!(
            "the period {} holds no whole calendar year: the spend model's units are authority × calendar year",
            period_text(from0, to0)
        )));
    }
    let all = units(s, from, to);
    let rows: Vec<(f64, f64, f64, f64)> = all
        .iter()
        .filter_map(|(auth, y, n, m)| {
            let v = spend.get(&s.orgs[*auth as usize], *y)?;
            Some((v / 1000.0, f64::from(*y), *n as f64, *m as f64))
        })
        .collect();
    let title = format!(
        "Missing rates of looked-after children against children's-services spend per child, {}",
        period_text(from, to)
    );
    if rows.len() < 4 {
        return Err(AnalysisError::InsufficientData(format!(
            "only {} authority-years have both looked-after children and spend data: too few for a model",
            rows.len()
        )));
    }
    let ym = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    // Over one calendar year there is no year effect to adjust for (and the column would be
    // all zeros): the model is then spend alone.
    let several_years = rows.iter().any(|r| r.1 != rows[0].1);
    let mut names = vec!["const".to_owned(), "spend_per_child_1000".to_owned()];
    if several_years {
        names.push("year_centred".into());
    }
    let design = Design::new(
        names,
        rows.iter()
            .map(|r| {
                let mut x = vec![1.0, r.0];
                if several_years {
                    x.push(r.1 - ym);
                }
                x
            })
            .collect(),
    )
    .map_err(AnalysisError::procedure("spend model design"))?;
    let y: Vec<f64> = rows.iter().map(|r| r.3).collect();
    let off: Vec<f64> = rows.iter().map(|r| r.2.ln()).collect();
    let fit =
        poisson(&design, &y, Some(&off)).map_err(AnalysisError::procedure("Poisson model"))?;
    let mut g = Grid::new(&title, &["Model", "Term", "Rate ratio (95% CI)", "p-value"]);
    let quasi = fit.quasi_coefficients();
    for (c, q) in fit.coefficients.iter().zip(&quasi).skip(1) {
        g.push(vec![
            "Poisson".into(),
            c.name.clone(),
            fmt_ratio(c.ratio()),
            fmt_p(c.p_value),
        ]);
        g.push(vec![
            "quasi-Poisson".into(),
            q.name.clone(),
            fmt_ratio(q.ratio()),
            fmt_p(q.p_value),
        ]);
    }
    let disp = fit.pearson_dispersion();
    match negative_binomial(&design, &y, Some(&off)) {
        Ok(nb) => {
            for c in nb.coefficients.iter().skip(1) {
                g.push(vec![
                    crate::publish::negative_binomial_model(&nb),
                    c.name.clone(),
                    fmt_ratio(c.ratio()),
                    fmt_p(c.p_value),
                ]);
            }
        }
        // a fit that did not converge prints no numbers
        Err(e) => g.push(vec![
            format!("negative binomial not fitted: {e}"),
            String::new(),
            String::new(),
            String::new(),
        ]),
    }
    let exposure: f64 = rows.iter().map(|r| r.2).sum();
    g.notes.push(format!(
        "{} authority-years ({} without spend data left out); exposure {} = looked-after children at risk, summed over the authority-years (a child counts once in each year they were at risk in, for any part of it: a count of persons per year, not of time at risk); Pearson dispersion {disp:.2}. Outcome: looked-after children (by placing authority of the first placement) who went missing in the year.",
        rows.len(),
        all.len() - rows.len(),
        exposure
    ));
    if !cut.is_empty() {
        g.notes.push(format!(
            "Left out as part years: {} (a part year's persons at risk cover less time, so its rate is not comparable).",
            cut.iter()
                .map(|(lo, hi)| period_text(*lo, *hi))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    g.notes.push(if several_years {
        "spend_per_child_1000: rate ratio per £1,000 more spend per child; year_centred: per calendar year.".into()
    } else {
        "spend_per_child_1000: rate ratio per £1,000 more spend per child (one calendar year: no year term).".into()
    });
    let mut charts = Vec::new();
    if a.chart {
        let b: Vec<f64> = fit.coefficients.iter().map(|c| c.estimate).collect();
        charts.push(Chart {
            title: title.clone(),
            svg: spend_chart(s, &all, spend, &b, &a.suppression, &title),
        });
    }
    Ok(Report {
        title,
        grids: vec![g],
        text: CAVEATS.iter().map(|c| (*c).to_owned()).collect(),
        charts,
        ..Report::default()
    })
}

/// The chart beside the spend model: each authority's missing rate per 1,000 looked-after
/// children at risk, summed over its years (Wilson 95 % CI) at its mean spend per child over the period, with the fitted
/// Poisson curve at the mean year (`b` = const, spend per £1,000, centred year) and the
/// caveats printed under it. An authority whose missing count, children at risk or their
/// difference is in the suppression range is left out; if that leaves out exactly one, the
/// smallest other is left out too, so the one cannot be worked out from the model's totals.
fn spend_chart(
    s: &Snapshot,
    units: &[(u32, i32, u64, u64)],
    spend: &SpendTable,
    b: &[f64],
    rule: &nrmp_stats::disclosure::SuppressionRule,
    title: &str,
) -> String {
    // authority -> (at risk summed over years, missing, Σ spend × at risk)
    let mut by_auth: BTreeMap<u32, (u64, u64, f64)> = BTreeMap::new();
    for (auth, y, n, m) in units {
        if let Some(v) = spend.get(&s.orgs[*auth as usize], *y) {
            let e = by_auth.entry(*auth).or_default();
            e.0 += n;
            e.1 += m;
            e.2 += v * *n as f64;
        }
    }
    let small = |n: u64, m: u64| rule.is_primary(n) || rule.is_primary(m) || rule.is_primary(n - m);
    let mut shown: Vec<(u32, (u64, u64, f64))> = by_auth
        .iter()
        .filter(|(_, (n, m, _))| !small(*n, *m))
        .map(|(a, v)| (*a, *v))
        .collect();
    let mut hidden = by_auth.len() - shown.len();
    if hidden == 1
        && let Some(k) = (0..shown.len()).min_by_key(|k| (shown[*k].1.0, shown[*k].0))
    {
        shown.remove(k);
        hidden += 1;
    }
    let points: Vec<ScatterPoint> = shown
        .iter()
        .filter_map(|(auth, (n, m, sv))| {
            let p = nrmp_stats::Proportion::try_wilson(*m, *n)?;
            Some(ScatterPoint {
                label: format!(
                    "{}: {m} of {n} at risk (summed over years)",
                    s.orgs[*auth as usize]
                ),
                x: sv / *n as f64,
                y: 1000.0 * p.estimate,
                low: 1000.0 * p.ci_low,
                high: 1000.0 * p.ci_high,
            })
        })
        .collect();
    let curve: Option<Vec<(f64, f64)>> = (b.len() >= 2 && !points.is_empty()).then(|| {
        let lo = points.iter().map(|p| p.x).fold(f64::INFINITY, f64::min);
        let hi = points.iter().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max);
        (0..=40)
            .map(|i| {
                let x = lo + (hi - lo) * f64::from(i) / 40.0;
                (x, 1000.0 * (b[0] + b[1] * x / 1000.0).exp())
            })
            .collect()
    });
    let mut notes = vec![format!(
        "Each point: a placing authority's looked-after children who went missing per 1,000 children at risk, summed over the years of the period (Wilson 95% CI), at its mean spend per child. Dashed: the Poisson model at the mean year. {hidden} authorities with counts of {}–{} (or needed to protect one) are not shown.",
        rule.min, rule.max
    )];
    notes.extend(CAVEATS.iter().map(|c| (*c).to_owned()));
    scatter_svg(
        title,
        &points,
        curve.as_deref(),
        "spend per child (£)",
        "went missing per 1,000 at risk (summed over years)",
        &notes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let t = parse_spend("authority,year,spend_per_child\nla:a,2023,61000\nla:b,2023,52000.5\n")
            .expect("ok");
        assert_eq!(t.get("la:a", 2023), Some(61000.0));
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.to_csv(),
            "authority,year,spend_per_child\nla:a,2023,61000\nla:b,2023,52000.5\n"
        );
        assert!(parse_spend("a,b\n").is_err());
        let e = parse_spend("authority,year,spend_per_child\nla:a,x,1\n").expect_err("year");
        assert!(e.to_string().starts_with("line 2: year `x`"), "{e}");
        assert!(parse_spend("authority,year,spend_per_child\nla:a,2023,-1\n").is_err());
        let e = parse_spend("authority,year,spend_per_child\nla:a,2023,1\nla:a,2023,2\n")
            .expect_err("duplicate");
        assert_eq!(e.to_string(), "line 3: la:a 2023 appears twice");
    }
}
