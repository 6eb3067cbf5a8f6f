//! DfE SSDA903 missing-episode files (the "Missing" table of the looked-after children
//! return): one row per episode with
//!
//! | column | content |
//! |---|---|
//! | `CHILD` | child identifier (here the register person id) |
//! | `MISSING` | `M` missing from placement, `A` away from placement without authorisation |
//! | `MIS_START` | start date, `DD/MM/YYYY` |
//! | `MIS_END` | end date, `DD/MM/YYYY`, empty while the episode is open |
//!
//! Export writes the episodes of looked-after children (see the cohort definitions) that
//! started in a calendar year; import reads such a file and compares its counts with the
//! register's for the same years.

use super::{Common, Grid, Report};
use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use clap::{Args, Subcommand};
use nrmp_analysis::snapshot::{Cohort, Snapshot, date_of_ts};
use nrmp_domain::incident::IncidentCategory;
use nrmp_stats::disclosure::SuppressionRule;
use nrmp_stats::table::SUPPRESSED_MARKER;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

/// SSDA903 subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Ssda903Command {
    /// Write the looked-after children's missing episodes that started in a year.
    Export(ExportArgs),
    /// Read an SSDA903 missing file and compare its counts with the register.
    Import(ImportArgs),
}

impl Ssda903Command {
    pub(super) fn common(&self) -> &Common {
        match self {
            Ssda903Command::Export(a) => &a.common,
            Ssda903Command::Import(a) => &a.common,
        }
    }
}

/// Arguments of `nrmp stats ssda903 export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Calendar year of the episodes' start.
    #[arg(long)]
    pub year: i32,
    /// Output CSV.
    #[arg(long)]
    pub out: PathBuf,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `nrmp stats ssda903 import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The SSDA903 missing CSV.
    pub file: PathBuf,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

/// One episode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Episode {
    /// Child id.
    pub child: String,
    /// `M` or `A`.
    pub missing: char,
    /// Start date.
    pub start: NaiveDate,
    /// End date.
    pub end: Option<NaiveDate>,
}

/// The register's episodes of looked-after children starting in `year`.
pub fn register_episodes(s: &Snapshot, year: i32) -> Vec<Episode> {
    let mut out = Vec::new();
    for k in 0..s.len() {
        let Some((e, x)) = s.cohort_interval(k, Cohort::LookedAfter) else {
            continue;
        };
        for i in s.incidents_of(k) {
            let d = date_of_ts(i.start);
            if i.start >= e && i.start < x && d.year() == year {
                out.push(Episode {
                    child: s.persons[k].id.to_string(),
                    missing: match i.category {
                        IncidentCategory::Missing => 'M',
                        IncidentCategory::AwayFromPlacement => 'A',
                    },
                    start: d,
                    end: i.end.map(date_of_ts),
                });
            }
        }
    }
    out.sort();
    out
}

/// Writes episodes in the SSDA903 layout.
pub fn to_csv(eps: &[Episode]) -> String {
    let mut s = String::from("CHILD,MISSING,MIS_START,MIS_END\n");
    for e in eps {
        s.push_str(&format!(
            "{},{},{},{}\n",
            e.child,
            e.missing,
            e.start.format("%d/%m/%Y"),
            e.end
                .map_or(String::new(), |d| d.format("%d/%m/%Y").to_string())
        ));
    }
    s
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .ok()
}

/// Parses an SSDA903 missing file (columns by header name, any order; extra columns ignored).
///
/// # Errors
/// Missing columns or a bad row (with its line number).
pub fn parse(text: &str) -> anyhow::Result<Vec<Episode>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        anyhow::bail!("empty file");
    };
    let cols: Vec<String> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_uppercase())
        .collect();
    let col = |name: &str| {
        cols.iter()
            .position(|c| c == name)
            .with_context(|| format!("no {name} column"))
    };
    let (ci, mi, si, ei) = (
        col("CHILD")?,
        col("MISSING")?,
        col("MIS_START")?,
        col("MIS_END")?,
    );
    let mut out = Vec::new();
    for (n, line) in lines {
        let f: Vec<&str> = line
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let child = get(ci);
        if child.is_empty() {
            anyhow::bail!("line {}: empty CHILD", n + 1);
        }
        let missing = match get(mi).to_uppercase().as_str() {
            "M" => 'M',
            "A" => 'A',
            other => anyhow::bail!("line {}: MISSING must be M or A, got `{other}`", n + 1),
        };
        let start = parse_date(get(si))
            .with_context(|| format!("line {}: MIS_START `{}`", n + 1, get(si)))?;
        let end = match get(ei) {
            "" => None,
            v => Some(parse_date(v).with_context(|| format!("line {}: MIS_END `{v}`", n + 1))?),
        };
        if end.is_some_and(|e| e < start) {
            anyhow::bail!("line {}: MIS_END before MIS_START", n + 1);
        }
        out.push(Episode {
            child: child.to_owned(),
            missing,
            start,
            end,
        });
    }
    Ok(out)
}

#[derive(Debug, Default, Clone, Copy)]
struct YearCounts {
    episodes: u64,
    children: u64,
    missing: u64,
    away: u64,
    open: u64,
}

fn year_counts(eps: &[Episode]) -> BTreeMap<i32, YearCounts> {
    let mut m: BTreeMap<i32, (YearCounts, BTreeSet<&str>)> = BTreeMap::new();
    for e in eps {
        let (c, kids) = m.entry(e.start.year()).or_default();
        c.episodes += 1;
        c.missing += u64::from(e.missing == 'M');
        c.away += u64::from(e.missing == 'A');
        c.open += u64::from(e.end.is_none());
        kids.insert(e.child.as_str());
    }
    m.into_iter()
        .map(|(y, (mut c, kids))| {
            c.children = kids.len() as u64;
            (y, c)
        })
        .collect()
}

fn show(v: u64, rule: &SuppressionRule) -> String {
    if rule.is_primary(v) {
        SUPPRESSED_MARKER.to_owned()
    } else {
        v.to_string()
    }
}

/// Runs `stats ssda903 …` over a snapshot.
///
/// # Errors
/// Unreadable / unwritable files, bad rows.
pub fn run(c: &Ssda903Command, s: &Snapshot) -> anyhow::Result<Report> {
    match c {
        Ssda903Command::Export(a) => {
            let eps = register_episodes(s, a.year);
            std::fs::write(&a.out, to_csv(&eps))
                .with_context(|| format!("writing {}", a.out.display()))?;
            let kids: HashSet<&str> = eps.iter().map(|e| e.child.as_str()).collect();
            Ok(Report {
                title: "SSDA903 export".into(),
                text: vec![format!(
                    "wrote {} missing episodes of {} looked-after children starting in {} to {} (SSDA903 layout: CHILD,MISSING,MIS_START,MIS_END). This file holds child-level records: handle it as personal data.",
                    eps.len(),
                    kids.len(),
                    a.year,
                    a.out.display()
                )],
                ..Report::default()
            })
        }
        Ssda903Command::Import(a) => {
            let rule = a.common.rule()?;
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("reading {}", a.file.display()))?;
            let eps = parse(&text).with_context(|| format!("in {}", a.file.display()))?;
            let file = year_counts(&eps);
            let mut g = Grid::new(
                "SSDA903 missing episodes: file against register",
                &[
                    "Year",
                    "Source",
                    "Episodes",
                    "Children",
                    "Missing (M)",
                    "Away (A)",
                    "Still open",
                ],
            );
            let known: HashSet<String> = s.persons.iter().map(|p| p.id.to_string()).collect();
            for (y, fc) in &file {
                let reg = year_counts(&register_episodes(s, *y));
                let rc = reg.get(y).copied().unwrap_or_default();
                for (label, c) in [("file", fc), ("register", &rc)] {
                    g.push(vec![
                        y.to_string(),
                        label.into(),
                        show(c.episodes, &rule),
                        show(c.children, &rule),
                        show(c.missing, &rule),
                        show(c.away, &rule),
                        show(c.open, &rule),
                    ]);
                }
            }
            let matched = eps
                .iter()
                .map(|e| e.child.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|c| known.contains(*c))
                .count() as u64;
            g.notes.push(format!(
                "{} episodes read; children whose CHILD id is a register person id: {}.",
                eps.len(),
                show(matched, &rule)
            ));
            g.notes
                .push(format!("Counts of {}–{} shown as [c].", rule.min, rule.max));
            Ok(Report {
                title: g.title.clone(),
                grids: vec![g],
                ..Report::default()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let eps = vec![
            Episode {
                child: "c1".into(),
                missing: 'M',
                start: NaiveDate::from_ymd_opt(2024, 2, 3).expect("d"),
                end: None,
            },
            Episode {
                child: "c2".into(),
                missing: 'A',
                start: NaiveDate::from_ymd_opt(2024, 5, 6).expect("d"),
                end: NaiveDate::from_ymd_opt(2024, 5, 7),
            },
        ];
        let csv = to_csv(&eps);
        assert!(csv.contains("c1,M,03/02/2024,\n"));
        assert_eq!(parse(&csv).expect("parse"), eps);
        assert!(parse("CHILD,MISSING,MIS_START\n").is_err());
        assert!(parse("CHILD,MISSING,MIS_START,MIS_END\nc,X,01/01/2024,\n").is_err());
        assert!(parse("CHILD,MISSING,MIS_START,MIS_END\nc,M,02/01/2024,01/01/2024\n").is_err());
        let yc = year_counts(&eps);
        assert_eq!(yc[&2024].episodes, 2);
        assert_eq!(yc[&2024].open, 1);
    }
}
