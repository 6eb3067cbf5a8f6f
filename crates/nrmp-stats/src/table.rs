//! A small publishable table: labelled rows of cells, each a count over a denominator with
//! its proportion and Wilson 95 % CI, rendered as aligned text, CSV or JSON.
//!
//! Disclosure control is applied per cell through [`Cell::suppress`] (typically from the
//! pattern computed in [`crate::disclosure`]). A suppressed count hides the proportion and
//! interval too — a published proportion with a published denominator would give the count
//! back. Likewise a suppressed denominator hides the proportion. Suppressed values render as
//! `[c]` in text and CSV (the ONS convention) and as `null` in JSON with `suppressed: true`.

use serde::{Deserialize, Serialize};

use crate::disclosure::SuppressionRule;
use crate::proportion::Proportion;

/// Marker printed in place of a suppressed value.
pub const SUPPRESSED_MARKER: &str = "[c]";

/// One cell: a count, optionally over a denominator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The count, `None` if suppressed.
    pub count: Option<u64>,
    /// The denominator, `None` if absent or suppressed.
    pub denominator: Option<u64>,
    /// Proportion with Wilson CI, `None` without a (non-zero, published) denominator or
    /// when either part is suppressed.
    pub proportion: Option<Proportion>,
    /// Whether the count was suppressed.
    pub suppressed: bool,
    /// Whether the denominator was suppressed.
    pub denominator_suppressed: bool,
    /// A rate `count / denominator` that is not a proportion (e.g. incidents per person),
    /// shown instead of a percentage; `None` when either part is suppressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

impl Cell {
    /// A bare count.
    pub fn count(count: u64) -> Self {
        Self {
            count: Some(count),
            denominator: None,
            proportion: None,
            suppressed: false,
            denominator_suppressed: false,
            rate: None,
        }
    }

    /// A count over a denominator; the proportion is filled in when the denominator is
    /// non-zero and not smaller than the count.
    pub fn ratio(count: u64, denominator: u64) -> Self {
        Self {
            count: Some(count),
            denominator: Some(denominator),
            proportion: Proportion::try_wilson(count, denominator),
            suppressed: false,
            denominator_suppressed: false,
            rate: None,
        }
    }

    /// A count over a denominator that is not a proportion (events per person): shows the
    /// rate `count / denominator` instead of a percentage with a CI.
    pub fn rate(count: u64, denominator: u64) -> Self {
        Self {
            count: Some(count),
            denominator: Some(denominator),
            proportion: None,
            suppressed: false,
            denominator_suppressed: false,
            rate: (denominator > 0).then(|| count as f64 / denominator as f64),
        }
    }

    /// Suppresses the count (and with it the proportion).
    pub fn suppress(mut self) -> Self {
        self.count = None;
        self.proportion = None;
        self.rate = None;
        self.suppressed = true;
        self
    }

    /// Suppresses the denominator (and with it the proportion).
    pub fn suppress_denominator(mut self) -> Self {
        self.denominator = None;
        self.proportion = None;
        self.rate = None;
        self.denominator_suppressed = true;
        self
    }

    /// Applies primary suppression to the count and denominator under `rule`.
    pub fn with_primary_suppression(self, rule: &SuppressionRule) -> Self {
        let mut c = self;
        if c.count.is_some_and(|v| rule.is_primary(v)) {
            c = c.suppress();
        }
        if c.denominator.is_some_and(|v| rule.is_primary(v)) {
            c = c.suppress_denominator();
        }
        c
    }

    fn count_text(&self) -> String {
        match self.count {
            Some(v) => v.to_string(),
            None if self.suppressed => SUPPRESSED_MARKER.into(),
            None => String::new(),
        }
    }

    fn denominator_text(&self) -> String {
        match self.denominator {
            Some(v) => v.to_string(),
            None if self.denominator_suppressed => SUPPRESSED_MARKER.into(),
            None => String::new(),
        }
    }

    fn proportion_texts(&self, digits: usize) -> [String; 3] {
        match (&self.proportion, self.rate) {
            (Some(p), _) => {
                let (e, lo, hi) = p.as_percent();
                [
                    format!("{e:.digits$}"),
                    format!("{lo:.digits$}"),
                    format!("{hi:.digits$}"),
                ]
            }
            (None, Some(r)) => [format!("{r:.2}"), String::new(), String::new()],
            (None, None) if self.suppressed || self.denominator_suppressed => [
                SUPPRESSED_MARKER.into(),
                SUPPRESSED_MARKER.into(),
                SUPPRESSED_MARKER.into(),
            ],
            (None, None) => [String::new(), String::new(), String::new()],
        }
    }
}

/// A labelled row of cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Row label (e.g. a year or a local authority).
    pub label: String,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

/// A table ready for publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Title.
    pub title: String,
    /// Heading of the label column.
    pub label_heading: String,
    /// Column headings, one per cell in each row.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Row>,
    /// Free-text notes (sources, suppression rule, definitions).
    pub notes: Vec<String>,
}

impl Table {
    /// An empty table.
    pub fn new(
        title: impl Into<String>,
        label_heading: impl Into<String>,
        columns: Vec<String>,
    ) -> Self {
        Self {
            title: title.into(),
            label_heading: label_heading.into(),
            columns,
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Appends a row (cells beyond the number of columns are kept but not rendered).
    pub fn push_row(&mut self, label: impl Into<String>, cells: Vec<Cell>) {
        self.rows.push(Row {
            label: label.into(),
            cells,
        });
    }

    /// Flat header: label, then per column `count`, `denominator`, `percent`, `ci_low`, `ci_high`
    /// (for a rate cell the `percent` field holds the rate, e.g. incidents per person).
    fn header(&self) -> Vec<String> {
        let mut h = vec![self.label_heading.clone()];
        for c in &self.columns {
            for part in ["count", "denominator", "percent", "ci95_low", "ci95_high"] {
                h.push(format!("{c} {part}"));
            }
        }
        h
    }

    fn records(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| {
                let mut rec = vec![r.label.clone()];
                for i in 0..self.columns.len() {
                    match r.cells.get(i) {
                        Some(cell) => {
                            rec.push(cell.count_text());
                            rec.push(cell.denominator_text());
                            rec.extend(cell.proportion_texts(1));
                        }
                        None => rec.extend(std::iter::repeat_n(String::new(), 5)),
                    }
                }
                rec
            })
            .collect()
    }

    /// CSV (RFC 4180 quoting) with a flat header; percentages to one decimal place.
    pub fn to_csv(&self) -> String {
        let quote = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        for rec in std::iter::once(self.header()).chain(self.records()) {
            let line: Vec<String> = rec.iter().map(|s| quote(s)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        out
    }

    /// Aligned plain text: title, one line per row with `count/denominator  pct% (lo–hi)`.
    pub fn to_text(&self) -> String {
        let mut grid: Vec<Vec<String>> = Vec::new();
        let mut head = vec![self.label_heading.clone()];
        head.extend(self.columns.iter().cloned());
        grid.push(head);
        for r in &self.rows {
            let mut line = vec![r.label.clone()];
            for i in 0..self.columns.len() {
                line.push(r.cells.get(i).map_or_else(String::new, |c| {
                    let count = c.count_text();
                    let base = match (&c.denominator, c.denominator_suppressed) {
                        (Some(d), _) => format!("{count}/{d}"),
                        (None, true) => format!("{count}/{SUPPRESSED_MARKER}"),
                        (None, false) => count,
                    };
                    match (&c.proportion, c.rate) {
                        (Some(p), _) => {
                            let (e, lo, hi) = p.as_percent();
                            format!("{base}  {e:.1}% ({lo:.1}–{hi:.1})")
                        }
                        (None, Some(r)) => format!("{base}  {r:.2} each"),
                        (None, None) => base,
                    }
                }));
            }
            grid.push(line);
        }
        let ncol = self.columns.len() + 1;
        let widths: Vec<usize> = (0..ncol)
            .map(|j| grid.iter().map(|l| l[j].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = format!("{}\n", self.title);
        for (k, line) in grid.iter().enumerate() {
            let cells: Vec<String> = line
                .iter()
                .enumerate()
                .map(|(j, s)| {
                    let pad = widths[j] - s.chars().count();
                    if j == 0 {
                        format!("{s}{}", " ".repeat(pad))
                    } else {
                        format!("{}{s}", " ".repeat(pad))
                    }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
            if k == 0 {
                let total: usize = widths.iter().sum::<usize>() + 2 * (ncol - 1);
                out.push_str(&"-".repeat(total));
                out.push('\n');
            }
        }
        for n in &self.notes {
            out.push_str(&format!("Note: {n}\n"));
        }
        out
    }

    /// Pretty-printed JSON of the whole table.
    ///
    /// # Errors
    /// Only if serialisation fails (non-finite floats are written as `null` by serde_json).
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(
            "Children missing within 24h of placement",
            "Year",
            vec!["NRM referral".into(), "No referral".into()],
        );
        let rule = SuppressionRule::default();
        t.push_row(
            "2023",
            vec![
                Cell::ratio(12, 80),
                Cell::ratio(3, 400).with_primary_suppression(&rule),
            ],
        );
        t.push_row(
            "2024, provisional",
            vec![Cell::ratio(20, 90), Cell::count(7)],
        );
        t.notes.push("Counts of 1–5 suppressed.".into());
        t
    }

    #[test]
    fn suppressed_numerator_hides_proportion() {
        let t = sample();
        let c = &t.rows[0].cells[1];
        assert!(c.suppressed && c.count.is_none() && c.proportion.is_none());
        assert_eq!(c.denominator, Some(400));
        let d = Cell::ratio(30, 4).with_primary_suppression(&SuppressionRule::default());
        assert!(d.denominator_suppressed && d.proportion.is_none() && d.count == Some(30));
        let e = Cell::ratio(8, 4); // count > denominator: no proportion, no panic
        assert!(e.proportion.is_none());
    }

    #[test]
    fn csv_text_json() {
        let t = sample();
        let csv = t.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("Year,NRM referral count,NRM referral denominator"));
        assert_eq!(lines[1], "2023,12,80,15.0,8.8,24.4,[c],400,[c],[c],[c]");
        assert!(lines[2].starts_with("\"2024, provisional\",20,90,22.2,"));
        assert!(lines[2].ends_with(",7,,,,"));

        let text = t.to_text();
        assert!(text.contains("12/80  15.0% (8.8–24.4)"));
        assert!(text.contains("[c]/400"));
        assert!(text.contains("Note: Counts of 1–5 suppressed."));

        let json = t.to_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["rows"][0]["cells"][1]["suppressed"], true);
        assert!(v["rows"][0]["cells"][1]["count"].is_null());
        assert_eq!(v["rows"][0]["cells"][0]["proportion"]["count"], 12);
        let back: Table = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }
}
