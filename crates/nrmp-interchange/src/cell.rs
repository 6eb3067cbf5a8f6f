//! How single values are written in CSV cells, and how multi-valued cells are split.
//!
//! * timestamps: RFC 3339 in UTC with a `Z`, fractional seconds only when not zero
//!   (`2026-01-02T03:04:05Z`); any RFC 3339 offset is accepted and converted to UTC;
//! * dates: ISO `YYYY-MM-DD` (reading also accepts `YYYYMMDD` and `DD/MM/YYYY`);
//! * booleans: `true` / `false` (reading also accepts `yes`/`no`, `y`/`n`, `1`/`0`); empty is false;
//! * lists: entries separated by `;`, the parts of an entry by `|`; inside a part, `\`, `;` and
//!   `|` are escaped with a backslash (`\\`, `\;`, `\|`). Newlines and quotes need no escaping:
//!   the CSV layer quotes the cell. Empty entries (e.g. a trailing `;`) are ignored.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use nrmp_domain::FieldError;
use std::borrow::Cow;

/// Escapes the list separators and the escape character itself.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if s.contains(['\\', ';', '|']) {
        let mut out = String::with_capacity(s.len() + 4);
        for c in s.chars() {
            if matches!(c, '\\' | ';' | '|') {
                out.push('\\');
            }
            out.push(c);
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// One list entry: its parts escaped and joined by `|`.
pub(crate) fn entry(parts: &[&str]) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(&escape(p));
    }
    out
}

/// Entries joined by `;`.
pub(crate) fn list<I: IntoIterator<Item = String>>(entries: I) -> String {
    entries.into_iter().collect::<Vec<_>>().join(";")
}

/// Splits a list cell into entries and their parts, undoing the escapes.
pub(crate) fn split_list(field: &str, s: &str) -> Result<Vec<Vec<String>>, FieldError> {
    let mut entries = Vec::new();
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('\\' | ';' | '|')) => cur.push(n),
                Some(n) => {
                    return Err(FieldError::new(
                        field,
                        format!("`\\{n}` is not an escape (write `\\\\`, `\\;` or `\\|`)"),
                    ));
                }
                None => {
                    return Err(FieldError::new(
                        field,
                        "ends with a lone `\\` (write a backslash as `\\\\`)",
                    ));
                }
            },
            '|' => parts.push(std::mem::take(&mut cur)),
            ';' => {
                parts.push(std::mem::take(&mut cur));
                entries.push(std::mem::take(&mut parts));
            }
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    entries.push(parts);
    entries.retain(|e| !(e.len() == 1 && e[0].trim().is_empty()));
    Ok(entries)
}

/// The parts of one entry, padded with empty parts up to `N`; `shape` describes the entry for
/// error messages (`kind|location|description`).
pub(crate) fn parts<'a, const N: usize>(
    field: &str,
    entry: &'a [String],
    min: usize,
    shape: &str,
) -> Result<[&'a str; N], FieldError> {
    if entry.len() < min || entry.len() > N {
        return Err(FieldError::new(
            field,
            format!(
                "has {} part(s) separated by `|`; expected `{shape}` (escape a literal `|` or `;` as `\\|`, `\\;`)",
                entry.len()
            ),
        ));
    }
    Ok(std::array::from_fn(|i| {
        entry.get(i).map_or("", String::as_str)
    }))
}

/// A timestamp as RFC 3339 UTC with `Z`.
pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 timestamp, converting it to UTC.
pub(crate) fn parse_ts(field: &str, s: &str) -> Result<DateTime<Utc>, FieldError> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FieldError::new(
                field,
                format!("`{s}` is not a timestamp (RFC 3339, e.g. 2026-01-02T03:04:05Z)"),
            )
        })
}

/// A date as ISO text.
pub(crate) fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Parses a date (ISO, compact or UK form).
pub(crate) fn parse_date(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    nrmp_domain::person::parse_date(field, s)
}

/// `true` or `false`.
pub(crate) fn flag(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Parses a boolean; empty is false.
pub(crate) fn parse_flag(field: &str, s: &str) -> Result<bool, FieldError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "n" | "0" | "f" => Ok(false),
        "true" | "yes" | "y" | "1" | "t" => Ok(true),
        other => Err(FieldError::new(
            field,
            format!("`{other}` is not true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_with_escapes() {
        let parts = ["a;b", "c|d", "e\\f", "line\nbreak \"quoted\""];
        let cell = list([entry(&parts), entry(&["x"])]);
        assert_eq!(
            split_list("f", &cell).unwrap(),
            vec![
                parts.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                vec!["x".to_string()]
            ]
        );
        assert!(split_list("f", "").unwrap().is_empty());
        assert_eq!(split_list("f", "VNM;GBR;").unwrap().len(), 2);
        assert!(
            split_list("f", "a\\x")
                .unwrap_err()
                .problem
                .contains("not an escape")
        );
        assert!(split_list("f", "a\\").is_err());
    }

    #[test]
    fn timestamps_are_utc_with_z() {
        let t = parse_ts("t", "2026-01-02T04:04:05+01:00").unwrap();
        assert_eq!(ts(&t), "2026-01-02T03:04:05Z");
        let t = parse_ts("t", "2026-01-02T03:04:05.250Z").unwrap();
        assert_eq!(ts(&t), "2026-01-02T03:04:05.250Z");
        assert_eq!(parse_ts("t", "2026-01-02").unwrap_err().field, "t");
    }

    #[test]
    fn flags_parse() {
        assert!(parse_flag("f", "Yes").unwrap());
        assert!(!parse_flag("f", "").unwrap());
        assert!(parse_flag("f", "maybe").is_err());
    }
}
