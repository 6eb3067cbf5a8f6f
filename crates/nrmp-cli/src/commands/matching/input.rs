//! Reading person records from any CSV file through a column mapping.
//!
//! The mapping names, for each matcher field, the column holding it
//! (`--map given=forename,family=surname,dob=birth_date`). Values are parsed
//! leniently where the meaning is clear and refused with a one-line error
//! (`FILE:LINE: dob: \`31/31/2000\` is not a date`) where it is not. Empty cells are
//! missing values.

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use clap::Args;
use nrmp_match::{DobKind, DobRange, MatchRecord, PersonName, Sex};
use std::collections::HashSet;
use std::path::Path;

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

/// Reads every record of `file` through `args`' mapping.
pub fn read_records(file: &Path, args: &MappingArgs) -> anyhow::Result<Vec<MatchRecord>> {
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
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut row = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut row)
            .with_context(|| format!("reading {}", file.display()))?;
        if !more {
            break;
        }
        let line = row.position().map_or(0, csv::Position::line);
        let at = |field: &str| format!("{}:{line}: {field}", file.display());
        let record = mapping
            .record(&row)
            .map_err(|(field, msg)| anyhow::anyhow!("{}: {msg}", at(&field)))?;
        if record.id.is_empty() {
            bail!("{}: the id is empty", at(&header[mapping.id]));
        }
        if !seen.insert(record.id.clone()) {
            bail!(
                "{}: id `{}` appears twice",
                at(&header[mapping.id]),
                record.id
            );
        }
        out.push(record);
    }
    Ok(out)
}

type CellError = (String, String);

impl Mapping {
    /// One record from one row; errors name the field.
    fn record(&self, row: &csv::StringRecord) -> Result<MatchRecord, CellError> {
        let cell = |i: usize| row.get(i).map_or("", str::trim);
        let mut r = MatchRecord::new(cell(self.id));
        let mut main = PersonName::default();
        let mut aliases = Vec::new();
        for (field, i) in &self.fields {
            let v = cell(*i);
            if v.is_empty() {
                continue;
            }
            let err = |msg: String| ((*field).to_string(), msg);
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
                "dob" => r.dob = Some(parse_dob(v).map_err(err)?),
                "sex" => r.sex = parse_sex(v).map_err(err)?,
                "nationality" => r.nationalities = list(v).map(str::to_uppercase).collect(),
                "height" => r.height_cm = Some(parse_height(v).map_err(err)?),
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
                        _ => {
                            return Err((
                                "identifier".to_string(),
                                format!("`{v}` is not kind:value"),
                            ));
                        }
                    },
                }
            }
        }
        Ok(r)
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
/// register's disputed form `CLAIMED?A..B` (the range covering both).
pub fn parse_dob(v: &str) -> Result<DobRange, String> {
    let bad = || format!("`{v}` is not a date");
    let s = v.trim();
    if let Some((claimed, range)) = s.split_once('?') {
        let c = one_date(claimed).ok_or_else(bad)?;
        let r = parse_dob(range).map_err(|_| bad())?;
        return Ok(DobRange::range(
            c.0.min(r.earliest),
            c.1.max(r.latest),
            DobKind::AgeAssessed,
        ));
    }
    if let Some((a, b)) = s.split_once("..") {
        let a = one_date(a).ok_or_else(bad)?;
        let b = one_date(b).ok_or_else(bad)?;
        if b.1 < a.0 {
            return Err(format!("`{v}` ends before it starts"));
        }
        return Ok(DobRange::range(a.0, b.1, DobKind::AgeAssessed));
    }
    let (a, b, kind) = one_date(s).ok_or_else(bad)?;
    if a.year() < 1880 {
        return Err(bad());
    }
    Ok(if kind == DobKind::Exact {
        DobRange::exact(a)
    } else {
        DobRange::range(a, b, kind)
    })
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
