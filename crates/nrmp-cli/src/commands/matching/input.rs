//! Reading person records from any CSV file through a column mapping.
//!
//! The mapping names, for each matcher field, the column holding it
//! (`--map given=forename,family=surname,dob=birth_date`). Values are parsed
//! leniently where the meaning is clear. A value that cannot be read or is implausible
//! (`19551192`, a date before 1880, a sex of `q`) is, in a batch run, treated as a missing
//! value and counted per column ([`ReadRecords::missing_by_column`], listed by `--rejects`);
//! with `--strict` ([`BadValues::Refuse`]) the file is refused at the first one with a
//! one-line error (`FILE:LINE: COLUMN: \`31/31/2000\` is not a date`). Empty cells are
//! missing values. The interactive query (`nrmp match`) uses the same parsers and always
//! refuses.

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use clap::Args;
use nrmp_match::{DobKind, DobRange, MatchRecord, PersonName, Sex};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The earliest year of birth taken as plausible; earlier dates are errors in the data.
pub const EARLIEST_BIRTH_YEAR: i32 = 1880;

/// The fields a `--map` entry can name.
pub const FIELDS: &[&str] = &[
    "given",
    "family",
    "full_name",
    "original",
    "other_names",
    "dob",
    "sex",
    "nationality",
    "height",
    "marks",
];

/// How the columns of a CSV file map to matcher fields.
#[derive(Debug, Clone, Default, Args)]
pub struct MappingArgs {
    /// Column holding the record id (unique per file).
    #[arg(long = "id", value_name = "COLUMN", default_value = "id")]
    pub id: String,
    /// Field=column pairs, comma-separated. Fields: given, family, full_name (name in any
    /// order), original (original script), other_names (aliases, `;`-separated, each
    /// `given|family` or one string), dob, sex, nationality (`;`-separated codes), height
    /// (`170` or `165-175`), marks. Default: every field whose name is a column.
    #[arg(long = "map", value_name = "FIELD=COL,…", value_delimiter = ',')]
    pub map: Vec<String>,
    /// A column compared as free text (addresses, places); repeatable.
    #[arg(long = "text", value_name = "COLUMN")]
    pub text: Vec<String>,
    /// An identifier column: `KIND=COLUMN`, or `COLUMN` whose cells are `kind:value`
    /// (`;`-separated); repeatable.
    #[arg(long = "identifier", value_name = "KIND=COLUMN")]
    pub identifier: Vec<String>,
}

/// A mapping resolved against one file's header.
#[derive(Debug, Clone)]
pub struct Mapping {
    id: usize,
    fields: Vec<(&'static str, usize)>,
    texts: Vec<(String, usize)>,
    identifiers: Vec<(Option<String>, usize)>,
}

fn column(option: &str, header: &[String], name: &str, file: &Path) -> anyhow::Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        anyhow::anyhow!(
            "{option}: column `{name}` is not in {} (columns: {})",
            file.display(),
            header.join(", ")
        )
    })
}

impl MappingArgs {
    /// Resolves the mapping against `header` of `file`.
    pub fn resolve(&self, header: &[String], file: &Path) -> anyhow::Result<Mapping> {
        let id = column("--id", header, &self.id, file)?;
        let mut fields: Vec<(&'static str, usize)> = Vec::new();
        if self.map.is_empty() {
            for f in FIELDS {
                if let Some(i) = header.iter().position(|h| h == f) {
                    fields.push((f, i));
                }
            }
            // the register's own export names the list column `nationalities`
            if let Some(i) = header.iter().position(|h| h == "nationalities")
                && !fields.iter().any(|(f, _)| *f == "nationality")
            {
                fields.push(("nationality", i));
            }
            if let Some(i) = header.iter().position(|h| h == "height_cm")
                && !fields.iter().any(|(f, _)| *f == "height")
            {
                fields.push(("height", i));
            }
        }
        for entry in self.map.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let Some((field, col)) = entry.split_once('=') else {
                bail!("--map: `{entry}` is not FIELD=COLUMN");
            };
            let field = field.trim();
            let Some(f) = FIELDS.iter().find(|f| **f == field) else {
                bail!(
                    "--map: `{field}` is not a field (fields: {})",
                    FIELDS.join(", ")
                );
            };
            if fields.iter().any(|(x, _)| x == f) {
                bail!("--map: field `{field}` is mapped twice");
            }
            fields.push((f, column("--map", header, col.trim(), file)?));
        }
        let texts = self
            .text
            .iter()
            .map(|c| Ok((c.clone(), column("--text", header, c, file)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let identifiers = self
            .identifier
            .iter()
            .map(|e| match e.split_once('=') {
                Some((kind, col)) => {
                    let kind = kind.trim();
                    if kind.is_empty() {
                        bail!("--identifier: `{e}` has an empty kind");
                    }
                    Ok((
                        Some(kind.to_string()),
                        column("--identifier", header, col.trim(), file)?,
                    ))
                }
                None => Ok((None, column("--identifier", header, e.trim(), file)?)),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if fields.is_empty() && texts.is_empty() && identifiers.is_empty() {
            bail!(
                "--map: no field is mapped and no column of {} is named like one (fields: {})",
                file.display(),
                FIELDS.join(", ")
            );
        }
        Ok(Mapping {
            id,
            fields,
            texts,
            identifiers,
        })
    }
}

/// What a batch run does with a value that cannot be read or is implausible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadValues {
    /// Treat it as a missing value and record it as a [`Reject`] (the default).
    Missing,
    /// Refuse the whole file at the first one (`--strict`).
    Refuse,
}

/// `--strict` and `--rejects` of the batch commands.
#[derive(Debug, Clone, Default, Args)]
pub struct BadValueArgs {
    /// Refuse the input at its first unreadable or implausible value (naming file, line and
    /// column). By default such a value is treated as missing and counted per column.
    #[arg(long)]
    pub strict: bool,
    /// Write every value treated as missing to FILE, one `file:line: column: problem` a line.
    #[arg(long, value_name = "FILE", conflicts_with = "strict")]
    pub rejects: Option<PathBuf>,
}

impl BadValueArgs {
    /// The policy these options ask for.
    pub fn policy(&self) -> BadValues {
        if self.strict {
            BadValues::Refuse
        } else {
            BadValues::Missing
        }
    }
}

/// One value that was treated as missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Line of the file where its row starts (the header is line 1).
    pub line: u64,
    /// Index of its column in the header.
    pub column: usize,
    /// What is wrong with it (quoting the value).
    pub problem: String,
}

/// The records of one file and the values that were treated as missing.
#[derive(Debug, Clone)]
pub struct ReadRecords {
    /// The file, as named on the command line.
    pub file: PathBuf,
    /// Its header (trimmed).
    pub header: Vec<String>,
    /// One record per row, in file order.
    pub records: Vec<MatchRecord>,
    /// The values treated as missing, in file order.
    pub rejects: Vec<Reject>,
}

impl ReadRecords {
    /// Per column (in header order, only columns that had any): its name and how many of its
    /// values were treated as missing.
    pub fn missing_by_column(&self) -> Vec<(&str, usize)> {
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for r in &self.rejects {
            *counts.entry(r.column).or_insert(0) += 1;
        }
        counts
            .into_iter()
            .map(|(c, n)| (self.header[c].as_str(), n))
            .collect()
    }

    /// One reject as `file:line: column: problem`.
    pub fn describe(&self, r: &Reject) -> String {
        format!(
            "{}:{}: {}: {}",
            self.file.display(),
            r.line,
            self.header[r.column],
            r.problem
        )
    }
}

/// Reads every record of `file` through `args`' mapping. A bad value is treated as missing
/// (and listed in the result) or refuses the file, as `bad` says; an empty or repeated id,
/// a row with the wrong number of cells and an unreadable header always refuse it.
pub fn read_records(
    file: &Path,
    args: &MappingArgs,
    bad: BadValues,
) -> anyhow::Result<ReadRecords> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("reading the header of {}", file.display()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mapping = args.resolve(&header, file)?;
    let mut out = ReadRecords {
        file: file.to_path_buf(),
        header,
        records: Vec::new(),
        rejects: Vec::new(),
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut row = csv::ByteRecord::new();
    let mut problems: Vec<(usize, String)> = Vec::new();
    loop {
        let more = reader
            .read_byte_record(&mut row)
            .with_context(|| format!("reading {}", file.display()))?;
        if !more {
            break;
        }
        let line = row.position().map_or(0, csv::Position::line);
        let at = |column: usize| format!("{}:{line}: {}", file.display(), out.header[column]);
        let id = match std::str::from_utf8(row.get(mapping.id).unwrap_or_default()) {
            Ok(id) => id.trim(),
            Err(_) => bail!("{}: the id is not UTF-8 text", at(mapping.id)),
        };
        if id.is_empty() {
            bail!("{}: the id is empty", at(mapping.id));
        }
        if !seen.insert(id.to_string()) {
            bail!("{}: id `{id}` appears twice", at(mapping.id));
        }
        problems.clear();
        let record = mapping.record(id, &row, &mut problems);
        if bad == BadValues::Refuse
            && let Some((column, problem)) = problems.first()
        {
            bail!("{}: {problem}", at(*column));
        }
        out.rejects
            .extend(problems.drain(..).map(|(column, problem)| Reject {
                line,
                column,
                problem,
            }));
        out.records.push(record);
    }
    Ok(out)
}

/// Prints, per file and column, how many values were treated as missing (nothing when none
/// were), and writes all of them to `--rejects FILE` if given (an empty file when none were).
pub fn report_bad_values(
    reads: &[&ReadRecords],
    args: &BadValueArgs,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let total: usize = reads.iter().map(|r| r.rejects.len()).sum();
    if let Some(path) = &args.rejects {
        let shown = path.display();
        let f =
            std::fs::File::create(path).with_context(|| format!("--rejects: creating {shown}"))?;
        let mut w = std::io::BufWriter::new(f);
        for read in reads {
            for r in &read.rejects {
                writeln!(w, "{}", read.describe(r))
                    .with_context(|| format!("--rejects: writing {shown}"))?;
            }
        }
        w.flush()
            .with_context(|| format!("--rejects: writing {shown}"))?;
    }
    if total > 0 {
        let listed = match &args.rejects {
            Some(p) => format!("listed in {}", p.display()),
            None => "list them with --rejects FILE".to_string(),
        };
        writeln!(
            out,
            "{total} unreadable or implausible value(s) treated as missing ({listed}; --strict refuses them):"
        )?;
        for read in reads {
            for (column, n) in read.missing_by_column() {
                writeln!(out, "  {}: {column}: {n}", read.file.display())?;
            }
        }
    }
    Ok(total)
}

impl Mapping {
    /// One record from one row. A cell that cannot be read is left out of the record
    /// (missing) and its column and problem pushed to `problems`.
    fn record(
        &self,
        id: &str,
        row: &csv::ByteRecord,
        problems: &mut Vec<(usize, String)>,
    ) -> MatchRecord {
        let mut cell = |i: usize| match std::str::from_utf8(row.get(i).unwrap_or_default()) {
            Ok(v) => v.trim(),
            Err(e) => {
                problems.push((
                    i,
                    format!(
                        "the value is not UTF-8 text (byte {} of the cell)",
                        e.valid_up_to() + 1
                    ),
                ));
                ""
            }
        };
        let mut r = MatchRecord::new(id);
        let mut main = PersonName::default();
        let mut aliases = Vec::new();
        let mut bad: Vec<(usize, String)> = Vec::new();
        for (field, i) in &self.fields {
            let v = cell(*i);
            if v.is_empty() {
                continue;
            }
            match *field {
                "given" => main.given = v.to_string(),
                "family" => main.family = v.to_string(),
                "full_name" => {
                    if main.given.is_empty() {
                        main.given = v.to_string();
                    } else {
                        aliases.push(PersonName::full(v));
                    }
                }
                "original" => main.original_script = Some(v.to_string()),
                "other_names" => aliases.extend(other_names(v)),
                "dob" => match parse_dob(v) {
                    Ok(d) => r.dob = Some(d),
                    Err(e) => bad.push((*i, e)),
                },
                "sex" => match parse_sex(v) {
                    Ok(s) => r.sex = s,
                    Err(e) => bad.push((*i, e)),
                },
                "nationality" => r.nationalities = list(v).map(str::to_uppercase).collect(),
                "height" => match parse_height(v) {
                    Ok(h) => r.height_cm = Some(h),
                    Err(e) => bad.push((*i, e)),
                },
                "marks" => r.marks = list(v).map(str::to_string).collect(),
                _ => {}
            }
        }
        if !main.given.is_empty() || !main.family.is_empty() || main.original_script.is_some() {
            r.names.push(main);
        }
        r.names.extend(aliases);
        for (name, i) in &self.texts {
            let v = cell(*i);
            if !v.is_empty() {
                r.text_fields.push((name.clone(), v.to_string()));
            }
        }
        for (kind, i) in &self.identifiers {
            for v in list(cell(*i)) {
                match kind {
                    Some(k) => r.identifiers.push((k.clone(), v.to_string())),
                    None => match v.split_once(':') {
                        Some((k, val)) if !k.trim().is_empty() && !val.trim().is_empty() => r
                            .identifiers
                            .push((k.trim().to_string(), val.trim().to_string())),
                        _ => bad.push((*i, format!("`{v}` is not kind:value"))),
                    },
                }
            }
        }
        problems.extend(bad);
        problems.sort_by_key(|(column, _)| *column);
        problems.dedup();
        r
    }
}

/// `;`-separated (also `|`) list entries, trimmed, empty ones dropped.
fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split([';', '|']).map(str::trim).filter(|s| !s.is_empty())
}

/// Aliases: `;`-separated, each `given|family[|original…]` or one string.
fn other_names(v: &str) -> Vec<PersonName> {
    v.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|e| {
            let mut parts = e.split('|').map(str::trim);
            let given = parts.next().unwrap_or_default();
            let family = parts.next().unwrap_or_default();
            let original = parts.next().filter(|o| !o.is_empty());
            let mut n = PersonName::new(given, family);
            n.original_script = original.map(str::to_string);
            n
        })
        .collect()
}

/// Parses a sex: `m`/`male`/`man`/`boy`, `f`/`female`/`woman`/`girl`, `x`/`other`;
/// `u`/`unknown`/`not known` are missing.
pub fn parse_sex(v: &str) -> Result<Option<Sex>, String> {
    match v.trim().to_lowercase().as_str() {
        "m" | "male" | "man" | "boy" => Ok(Some(Sex::Male)),
        "f" | "female" | "woman" | "girl" => Ok(Some(Sex::Female)),
        "x" | "o" | "other" => Ok(Some(Sex::Other)),
        "" | "u" | "unknown" | "not known" | "n/k" | "nk" => Ok(None),
        _ => Err(format!("`{v}` is not a sex (male, female, other, unknown)")),
    }
}

/// Parses a height in centimetres: `170`, `170cm`, `165-175` or `165..175`.
pub fn parse_height(v: &str) -> Result<(u16, u16), String> {
    let bad = || format!("`{v}` is not a height in cm (`170` or `165-175`)");
    let t = v.trim().trim_end_matches("cm").trim();
    let (a, b) = t
        .split_once("..")
        .or_else(|| t.split_once('-'))
        .unwrap_or((t, t));
    let a: u16 = a.trim().parse().map_err(|_| bad())?;
    let b: u16 = b.trim().parse().map_err(|_| bad())?;
    if !(30..=260).contains(&a) || !(30..=260).contains(&b) {
        return Err(bad());
    }
    Ok((a.min(b), a.max(b)))
}

fn one_date(s: &str) -> Option<(NaiveDate, NaiveDate, DobKind)> {
    let s = s.trim();
    let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    if s.len() == 4 && digits(s) {
        let y: i32 = s.parse().ok()?;
        let r = DobRange::year(y)?;
        return Some((r.earliest, r.latest, DobKind::Approximate));
    }
    if s.len() == 8 && digits(s) {
        let d = NaiveDate::parse_from_str(s, "%Y%m%d").ok()?;
        return Some((d, d, DobKind::Exact));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some((d, d, DobKind::Exact));
    }
    if s.contains('/') {
        let parts: Vec<&str> = s.split('/').collect();
        if let [d, m, y] = parts.as_slice()
            && digits(d)
            && digits(m)
            && y.len() == 4
            && digits(y)
        {
            let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
            return Some((date, date, DobKind::Exact));
        }
        return None;
    }
    if s.len() == 7 && s.as_bytes().get(4) == Some(&b'-') && digits(&s[..4]) && digits(&s[5..]) {
        let y: i32 = s[..4].parse().ok()?;
        let m: u32 = s[5..].parse().ok()?;
        let first = NaiveDate::from_ymd_opt(y, m, 1)?;
        let next = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)?
        };
        return Some((first, next.pred_opt()?, DobKind::Approximate));
    }
    None
}

/// Parses a date of birth: `YYYY-MM-DD`, `YYYYMMDD`, `DD/MM/YYYY` (exact), `YYYY` or
/// `YYYY-MM` (approximate), a range `A..B` of any of these (age-assessed), or the
/// register's disputed form `CLAIMED?A..B` (the range covering both). A date before
/// [`EARLIEST_BIRTH_YEAR`] is refused as implausible.
pub fn parse_dob(v: &str) -> Result<DobRange, String> {
    let bad = || format!("`{v}` is not a date");
    let s = v.trim();
    let r = if let Some((claimed, range)) = s.split_once('?') {
        let c = one_date(claimed).ok_or_else(bad)?;
        let r = parse_dob(range).map_err(|_| bad())?;
        DobRange::range(c.0.min(r.earliest), c.1.max(r.latest), DobKind::AgeAssessed)
    } else if let Some((a, b)) = s.split_once("..") {
        let a = one_date(a).ok_or_else(bad)?;
        let b = one_date(b).ok_or_else(bad)?;
        if b.1 < a.0 {
            return Err(format!("`{v}` ends before it starts"));
        }
        DobRange::range(a.0, b.1, DobKind::AgeAssessed)
    } else {
        let (a, b, kind) = one_date(s).ok_or_else(bad)?;
        if kind == DobKind::Exact {
            DobRange::exact(a)
        } else {
            DobRange::range(a, b, kind)
        }
    };
    if r.earliest.year() < EARLIEST_BIRTH_YEAR {
        return Err(format!(
            "`{v}` is before {EARLIEST_BIRTH_YEAR}, not a plausible date of birth"
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn date_forms() {
        for s in ["2004-03-09", "20040309", "09/03/2004", "9/3/2004"] {
            assert_eq!(parse_dob(s).unwrap(), DobRange::exact(d(2004, 3, 9)), "{s}");
        }
        let y = parse_dob("2004").unwrap();
        assert_eq!((y.earliest, y.latest), (d(2004, 1, 1), d(2004, 12, 31)));
        let r = parse_dob("2003..2005-06-30").unwrap();
        assert_eq!(
            (r.earliest, r.latest, r.kind),
            (d(2003, 1, 1), d(2005, 6, 30), DobKind::AgeAssessed)
        );
        let m = parse_dob("2004-02").unwrap();
        assert_eq!(m.latest, d(2004, 2, 29));
        let disputed = parse_dob("2009-01-01?2003-01-01..2005-12-31").unwrap();
        assert_eq!(
            (disputed.earliest, disputed.latest),
            (d(2003, 1, 1), d(2009, 1, 1))
        );
        for bad in [
            "31/31/2000",
            "2004-13-01",
            "yesterday",
            "2005..2003",
            "04/03/04",
        ] {
            assert!(parse_dob(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_dob("31/31/2000").unwrap_err(),
            "`31/31/2000` is not a date"
        );
    }

    /// Dates as the FEBRL benchmark files have them (issue 15): a day or month out of range,
    /// and a year before 1880.
    #[test]
    fn febrl_dates_are_refused_with_the_problem_named() {
        for v in ["19551192", "19404502", "19160017", "19860896"] {
            assert_eq!(parse_dob(v).unwrap_err(), format!("`{v}` is not a date"));
        }
        for v in [
            "15991116",
            "1599",
            "1599-11",
            "1599..1602",
            "1870-01-01..1890-12-31",
        ] {
            assert_eq!(
                parse_dob(v).unwrap_err(),
                format!("`{v}` is before 1880, not a plausible date of birth"),
                "{v}"
            );
        }
        assert_eq!(
            parse_dob("18800101").unwrap(),
            DobRange::exact(d(1880, 1, 1))
        );
        assert_eq!(
            parse_dob("19551102").unwrap(),
            DobRange::exact(d(1955, 11, 2))
        );
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn mapping() -> MappingArgs {
        MappingArgs {
            id: "ref".to_string(),
            map: ["given=forename", "family=surname", "dob=born", "sex=gender"]
                .map(str::to_string)
                .to_vec(),
            text: Vec::new(),
            identifier: vec!["documents".to_string()],
        }
    }

    const DIRTY: &[u8] = b"ref,forename,surname,born,gender,documents\n\
        A1,Ali,Hassan,19551192,M,passport:SDN:P1\n\
        A2,M\xfcller,Hassan,2001-01-01,q,P2;passport:SDN:P3\n\
        A3,Omar,Osman,15991116,F,\n\
        A4,Omar,Osman,2001-01-01,F,\n";

    #[test]
    fn bad_values_become_missing_and_are_listed_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "dirty.csv", DIRTY);
        let read = read_records(&file, &mapping(), BadValues::Missing).unwrap();
        let ids: Vec<&str> = read.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["A1", "A2", "A3", "A4"]);
        let [a1, a2, a3, a4] = &read.records[..] else {
            panic!("four records")
        };
        // the bad value is missing, the rest of the row is kept
        assert_eq!(a1.dob, None);
        assert_eq!(a1.names[0].given, "Ali");
        assert_eq!(
            a1.identifiers,
            [("passport".to_string(), "SDN:P1".to_string())]
        );
        assert_eq!(a2.sex, None);
        assert_eq!(
            a2.names[0].given, "",
            "the unreadable given name is missing"
        );
        assert_eq!(a2.names[0].family, "Hassan");
        assert_eq!(a2.dob, Some(DobRange::exact(d(2001, 1, 1))));
        assert_eq!(
            a2.identifiers,
            [("passport".to_string(), "SDN:P3".to_string())],
            "only the unreadable identifier of the cell is dropped"
        );
        assert_eq!((a3.dob, a3.sex), (None, Some(Sex::Female)));
        assert_eq!(a4.dob, Some(DobRange::exact(d(2001, 1, 1))));
        let lines: Vec<String> = read.rejects.iter().map(|r| read.describe(r)).collect();
        let f = file.display();
        assert_eq!(
            lines,
            [
                format!("{f}:2: born: `19551192` is not a date"),
                format!("{f}:3: forename: the value is not UTF-8 text (byte 2 of the cell)"),
                format!("{f}:3: gender: `q` is not a sex (male, female, other, unknown)"),
                format!("{f}:3: documents: `P2` is not kind:value"),
                format!("{f}:4: born: `15991116` is before 1880, not a plausible date of birth"),
            ]
        );
        assert_eq!(
            read.missing_by_column(),
            [
                ("forename", 1),
                ("born", 2),
                ("gender", 1),
                ("documents", 1)
            ]
        );
        let mut printed = Vec::new();
        let args = BadValueArgs::default();
        assert_eq!(report_bad_values(&[&read], &args, &mut printed).unwrap(), 5);
        assert_eq!(
            String::from_utf8(printed).unwrap(),
            format!(
                "5 unreadable or implausible value(s) treated as missing \
                 (list them with --rejects FILE; --strict refuses them):\n  \
                 {f}: forename: 1\n  {f}: born: 2\n  {f}: gender: 1\n  {f}: documents: 1\n"
            )
        );
    }

    #[test]
    fn strict_refuses_at_the_first_bad_value_naming_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "dirty.csv", DIRTY);
        let e = read_records(&file, &mapping(), BadValues::Refuse).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}:2: born: `19551192` is not a date", file.display())
        );
        // a clean file reads the same under both policies
        let clean = write(
            dir.path(),
            "clean.csv",
            b"ref,forename,surname,born,gender,documents\nB1,Ali,Hassan,2001,m,\n",
        );
        let strict = read_records(&clean, &mapping(), BadValues::Refuse).unwrap();
        let lenient = read_records(&clean, &mapping(), BadValues::Missing).unwrap();
        assert_eq!(strict.records, lenient.records);
        assert!(lenient.rejects.is_empty());
        let mut printed = Vec::new();
        report_bad_values(&[&lenient], &BadValueArgs::default(), &mut printed).unwrap();
        assert!(
            printed.is_empty(),
            "nothing is printed when nothing was bad"
        );
    }

    #[test]
    fn structural_problems_refuse_under_both_policies() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, expected) in [
            (
                "empty-id.csv",
                &b"ref,forename,surname,born,gender,documents\n,Ali,Hassan,,,\n"[..],
                "empty-id.csv:2: ref: the id is empty",
            ),
            (
                "twice.csv",
                b"ref,forename,surname,born,gender,documents\nX,Ali,,,,\nX,Omar,,,,\n",
                "twice.csv:3: ref: id `X` appears twice",
            ),
        ] {
            let file = write(dir.path(), name, bytes);
            for policy in [BadValues::Missing, BadValues::Refuse] {
                let e = read_records(&file, &mapping(), policy).unwrap_err();
                assert!(e.to_string().ends_with(expected), "{e}");
            }
        }
    }

    #[test]
    fn sex_and_height() {
        assert_eq!(parse_sex("F").unwrap(), Some(Sex::Female));
        assert_eq!(parse_sex("unknown").unwrap(), None);
        assert!(parse_sex("q").is_err());
        assert_eq!(parse_height("165-175").unwrap(), (165, 175));
        assert_eq!(parse_height("170cm").unwrap(), (170, 170));
        assert!(parse_height("tall").is_err());
    }
}
