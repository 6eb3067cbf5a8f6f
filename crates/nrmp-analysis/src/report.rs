//! What a published statistic is: publishable [`Table`]s (counts, denominators, proportions
//! with CIs), free-form [`Grid`]s (model estimates, survival summaries), notes and optional SVG
//! [`Chart`]s, rendered as text, CSV or JSON. A [`Report`] holds only disclosure-controlled
//! figures, so it can be printed by the CLI or served by the API as it is.

use nrmp_stats::table::Table;
use serde::{Deserialize, Serialize};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum OutFormat {
    /// Aligned text for the terminal.
    Text,
    /// CSV; several sections are separated by a blank line and a `# title` line.
    Csv,
    /// One JSON document.
    Json,
}

/// A titled grid of already formatted values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Title.
    pub title: String,
    /// Column headings.
    pub header: Vec<String>,
    /// Rows (same length as the header).
    pub rows: Vec<Vec<String>>,
    /// Notes.
    pub notes: Vec<String>,
}

impl Grid {
    /// An empty grid.
    pub fn new(title: &str, header: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn to_text(&self) -> String {
        let ncol = self.header.len();
        let all: Vec<&Vec<String>> = std::iter::once(&self.header).chain(&self.rows).collect();
        let widths: Vec<usize> = (0..ncol)
            .map(|j| {
                all.iter()
                    .map(|r| r.get(j).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = format!("{}\n", self.title);
        for (k, r) in all.iter().enumerate() {
            let cells: Vec<String> = (0..ncol)
                .map(|j| {
                    let s = r.get(j).map_or("", String::as_str);
                    let pad = " ".repeat(widths[j] - s.chars().count());
                    if j == 0 {
                        format!("{s}{pad}")
                    } else {
                        format!("{pad}{s}")
                    }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
            if k == 0 {
                out.push_str(
                    &"-".repeat(widths.iter().sum::<usize>() + 2 * ncol.saturating_sub(1)),
                );
                out.push('\n');
            }
        }
        for n in &self.notes {
            out.push_str(&format!("Note: {n}\n"));
        }
        out
    }

    fn to_csv(&self) -> String {
        let quote = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(&self.rows) {
            out.push_str(&r.iter().map(|s| quote(s)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}

/// An SVG chart of published figures (suppressed groups and cells are left out of it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// Title (also inside the SVG).
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// A published statistic: what one `nrmp stats` command prints and one API endpoint serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Title.
    pub title: String,
    /// Publishable tables.
    pub tables: Vec<Table>,
    /// Model and survival summaries.
    pub grids: Vec<Grid>,
    /// Free text (caveats).
    pub text: Vec<String>,
    /// Charts, when the request asked for them. Not part of the rendered text, CSV or JSON:
    /// they are written to their own files (CLI) or served as `image/svg+xml` (API).
    #[serde(skip)]
    pub charts: Vec<Chart>,
}

impl Report {
    /// Renders in `format`.
    ///
    /// # Errors
    /// JSON serialisation failure.
    pub fn render(&self, format: OutFormat) -> serde_json::Result<String> {
        Ok(match format {
            OutFormat::Json => {
                let mut s = serde_json::to_string_pretty(self)?;
                s.push('\n');
                s
            }
            OutFormat::Text => {
                let mut parts: Vec<String> = self.tables.iter().map(Table::to_text).collect();
                parts.extend(self.grids.iter().map(Grid::to_text));
                if !self.text.is_empty() {
                    parts.push(self.text.join("\n") + "\n");
                }
                parts.join("\n")
            }
            OutFormat::Csv => {
                let mut sections: Vec<(String, String)> = self
                    .tables
                    .iter()
                    .map(|t| (t.title.clone(), t.to_csv()))
                    .collect();
                sections.extend(self.grids.iter().map(|g| (g.title.clone(), g.to_csv())));
                if sections.len() == 1 {
                    sections.remove(0).1
                } else {
                    sections
                        .iter()
                        .map(|(t, c)| format!("# {t}\n{c}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            }
        })
    }
}
