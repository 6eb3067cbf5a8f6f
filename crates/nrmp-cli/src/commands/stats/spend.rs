//! Local-authority children's-services spend per child: `stats spend import` (validate a
//! CSV of `authority,year,spend_per_child` and store it as a side file) and `stats
//! spend-model` (missing rates of looked-after children against spend, with exposure).

use super::{Common, Grid, Period, Report, fmt_p, fmt_ratio, period_text};
use crate::analysis::{Cohort, Snapshot, ts_of_date};
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use nrmp_domain::organisation::OrgCode;
use nrmp_stats::regression::{Design, negative_binomial, poisson};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Where `spend import` stores the spend table by default.
pub const DEFAULT_SPEND_FILE: &str = "nrmp-data/spend.csv";

/// Spend subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum SpendCommand {
    /// Validate a spend CSV (`authority,year,spend_per_child`) and store it for the models.
    Import(SpendImportArgs),
}

/// Arguments of `nrmp stats spend import`.
#[derive(Debug, Clone, Args)]
pub struct SpendImportArgs {
    /// The CSV: header `authority,year,spend_per_child`, one row per authority and year
    /// (authority as an organisation code, e.g. `la:e09000033`; spend in pounds per child).
    pub file: PathBuf,
    /// Where to store the validated table.
    #[arg(long, default_value = DEFAULT_SPEND_FILE)]
    pub out: PathBuf,
}

/// Arguments of `nrmp stats spend-model`.
#[derive(Debug, Clone, Args)]
pub struct SpendModelArgs {
    /// The spend table (from `stats spend import`).
    #[arg(long, default_value = DEFAULT_SPEND_FILE)]
    pub spend: PathBuf,
    /// Period.
    #[command(flatten)]
    pub period: Period,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

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
}

/// Parses a spend CSV.
///
/// # Errors
/// Unreadable file, bad header, a bad row (with its line number) or a duplicate.
pub fn parse_spend(text: &str) -> anyhow::Result<SpendTable> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        anyhow::bail!("empty spend file");
    };
    let cols: Vec<String> = header.split(',').map(|c| c.trim().to_lowercase()).collect();
    if cols != ["authority", "year", "spend_per_child"] {
        anyhow::bail!("header must be `authority,year,spend_per_child`, got `{header}`");
    }
    let mut t = SpendTable::default();
    for (n, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [a, y, v] = f.as_slice() else {
            anyhow::bail!("line {}: expected 3 fields", n + 1);
        };
        let org =
            OrgCode::parse("authority", a).map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))?;
        let year: i32 = y
            .parse()
            .with_context(|| format!("line {}: year `{y}`", n + 1))?;
        let spend: f64 = v
            .parse()
            .with_context(|| format!("line {}: spend `{v}`", n + 1))?;
        if !(spend.is_finite() && spend >= 0.0) {
            anyhow::bail!("line {}: spend must be a non-negative number", n + 1);
        }
        if t.map
            .insert((org.as_str().to_owned(), year), spend)
            .is_some()
        {
            anyhow::bail!("line {}: {} {year} appears twice", n + 1, org.as_str());
        }
    }
    Ok(t)
}

/// Reads a spend CSV file.
///
/// # Errors
/// As [`parse_spend`].
pub fn read_spend(path: &Path) -> anyhow::Result<SpendTable> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_spend(&text).with_context(|| format!("in {}", path.display()))
}

/// Runs `stats spend …` (no register needed).
///
/// # Errors
/// Bad file; unwritable output.
pub fn run_spend(c: &SpendCommand) -> anyhow::Result<String> {
    let SpendCommand::Import(a) = c;
    let t = read_spend(&a.file)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut out = String::from("authority,year,spend_per_child\n");
    for ((auth, year), v) in &t.map {
        out.push_str(&format!("{auth},{year},{v}\n"));
    }
    std::fs::write(&a.out, out).with_context(|| format!("writing {}", a.out.display()))?;
    let auths: std::collections::BTreeSet<&String> = t.map.keys().map(|k| &k.0).collect();
    Ok(format!(
        "stored {} rows ({} authorities) in {}\n",
        t.len(),
        auths.len(),
        a.out.display()
    ))
}

/// Authority-year units: `(authority, year, looked-after children at risk, went missing)`.
pub fn units(s: &Snapshot, from: i64, to: i64) -> Vec<(u32, i32, u64, u64)> {
    let mut acc: HashMap<(u32, i32), (u64, u64)> = HashMap::new();
    let (y0, y1) = (super::year_of(from), super::year_of(to - 1));
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
                let (n, _) = crate::analysis::missing::tally(incs, lo, hi);
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

/// `nrmp stats spend-model`.
///
/// # Errors
/// Bad spend file, too few units, or a model that cannot be fitted.
pub fn model_report(a: &SpendModelArgs, s: &Snapshot) -> anyhow::Result<Report> {
    let spend = read_spend(&a.spend)?;
    let (from, to) = a.period.bounds(s);
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
        anyhow::bail!(
            "only {} authority-years have both looked-after children and spend data: too few for a model",
            rows.len()
        );
    }
    let ym = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    let design = Design::new(
        vec![
            "const".into(),
            "spend_per_child_1000".into(),
            "year_centred".into(),
        ],
        rows.iter().map(|r| vec![1.0, r.0, r.1 - ym]).collect(),
    )?;
    let y: Vec<f64> = rows.iter().map(|r| r.3).collect();
    let off: Vec<f64> = rows.iter().map(|r| r.2.ln()).collect();
    let fit =
        poisson(&design, &y, Some(&off)).map_err(|e| anyhow::anyhow!("Poisson model: {e}"))?;
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
                    format!("negative binomial (α = {:.4})", nb.alpha),
                    c.name.clone(),
                    fmt_ratio(c.ratio()),
                    fmt_p(c.p_value),
                ]);
            }
        }
        Err(e) => g.notes.push(format!(
            "Negative binomial not fitted ({e}); no over-dispersion beyond Poisson."
        )),
    }
    let exposure: f64 = rows.iter().map(|r| r.2).sum();
    g.notes.push(format!(
        "{} authority-years ({} without spend data left out); {} child-years at risk; Pearson dispersion {disp:.2}. Outcome: looked-after children (by placing authority of the first placement) who went missing in the year; exposure: those at risk in the year.",
        rows.len(),
        all.len() - rows.len(),
        exposure
    ));
    g.notes.push("spend_per_child_1000: rate ratio per £1,000 more spend per child; year_centred: per calendar year.".into());
    let caveats = vec![
        "Caveats (ecological analysis):".to_owned(),
        "- Spend is a property of the authority, not of the child: an association between areas does not show that a child in a better-funded authority is less likely to go missing (ecological fallacy).".to_owned(),
        "- Authorities differ in need, placement markets and recording practice; spend may follow need (reverse causation), and out-of-area placements separate the paying authority from where the child goes missing.".to_owned(),
        "- Counts are of the register's records; under-recording that varies with resources would bias the estimate.".to_owned(),
        "- The model adjusts only for calendar year; treat the estimate as descriptive.".to_owned(),
    ];
    Ok(Report {
        title,
        grids: vec![g],
        text: caveats,
        ..Report::default()
    })
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
        assert!(parse_spend("a,b\n").is_err());
        assert!(parse_spend("authority,year,spend_per_child\nla:a,x,1\n").is_err());
        assert!(parse_spend("authority,year,spend_per_child\nla:a,2023,-1\n").is_err());
        assert!(parse_spend("authority,year,spend_per_child\nla:a,2023,1\nla:a,2023,2\n").is_err());
    }
}
