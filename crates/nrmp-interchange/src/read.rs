//! Streaming readers: one record per step, never the whole file in memory.

use crate::error::{Error, RowError, RowErrors};
use crate::record::{CsvRecord, Format, Record, Row};
use chrono::NaiveDate;
use nrmp_domain::FieldError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::path::Path;

type CsvParse<T> = fn(&Row<'_>, NaiveDate) -> Result<T, Vec<FieldError>>;

enum Source<T> {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        columns: &'static [&'static str],
        /// For each of `columns`, its index in the file.
        map: Vec<usize>,
        width: usize,
        record: csv::StringRecord,
        parse: CsvParse<T>,
    },
    Jsonl {
        reader: BufReader<Box<dyn Read + Send>>,
        line: u64,
        buf: Vec<u8>,
    },
}

/// The records of one file, read one at a time: an iterator of `Result<T, RowErrors>`.
///
/// Each row is parsed with the domain parsers and then checked with the aggregate's
/// `validate()`; a bad row yields every problem found in it and reading goes on with the next
/// row. A failure of the underlying reader ends the iteration after one last error.
pub struct Rows<T> {
    file: String,
    today: NaiveDate,
    source: Source<T>,
    done: bool,
    _kind: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("file", &self.file)
            .field("today", &self.today)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn open_file(path: &Path) -> Result<Box<dyn Read + Send>, Error> {
    let f = File::open(path).map_err(|e| Error::io(path.display(), e))?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
}

impl<T: Record> Rows<T> {
    /// Reads JSON lines from `reader`; `file` names it in errors. Blank lines are skipped.
    pub fn from_jsonl<R: Read + Send + 'static>(reader: R, file: &str, today: NaiveDate) -> Self {
        Self {
            file: file.to_owned(),
            today,
            source: Source::Jsonl {
                reader: BufReader::new(Box::new(reader)),
                line: 0,
                buf: Vec::new(),
            },
            done: false,
            _kind: PhantomData,
        }
    }

    /// Opens a JSON-lines file.
    pub fn open_jsonl(path: impl AsRef<Path>, today: NaiveDate) -> Result<Self, Error> {
        let path = path.as_ref();
        Ok(Self::from_jsonl(open_file(path)?, &file_name(path), today))
    }

    /// The file's name, as used in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line on which the row last yielded starts (0 before the first), so callers that
    /// check a good row further (references, duplicates) can report `file:line` too.
    pub fn line(&self) -> u64 {
        match &self.source {
            Source::Csv { record, .. } => record.position().map_or(0, csv::Position::line),
            Source::Jsonl { line, .. } => *line,
        }
    }

    fn row_errors(&self, line: u64, errors: Vec<FieldError>) -> RowErrors {
        RowErrors(
            errors
                .into_iter()
                .map(|e| RowError {
                    file: self.file.clone(),
                    line,
                    field: e.field,
                    problem: e.problem,
                })
                .collect(),
        )
    }

    fn fail(&mut self, line: u64, field: &str, problem: String) -> Option<Result<T, RowErrors>> {
        Some(Err(
            self.row_errors(line, vec![FieldError::new(field, problem)])
        ))
    }
}

impl<T: CsvRecord> Rows<T> {
    /// Reads CSV from `reader`; `file` names it in errors. The header row is read and checked
    /// now: every column of [`CsvRecord::COLUMNS`] must be there once, in any order, and no
    /// other.
    pub fn from_csv<R: Read + Send + 'static>(
        reader: R,
        file: &str,
        today: NaiveDate,
    ) -> Result<Self, Error> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(Box::new(reader) as Box<dyn Read + Send>);
        let header = reader.headers().map_err(|e| csv_error(file, e))?.clone();
        let columns = T::COLUMNS;
        let mut problems = Vec::new();
        let mut seen: Vec<Option<usize>> = vec![None; columns.len()];
        for (j, name) in header.iter().enumerate() {
            let name = name.trim_start_matches('\u{feff}').trim();
            match columns.iter().position(|c| *c == name) {
                Some(i) if seen[i].is_some() => {
                    problems.push(format!("column `{name}` appears twice"));
                }
                Some(i) => seen[i] = Some(j),
                None => problems.push(format!(
                    "unknown column `{name}` (expected: {})",
                    columns.join(", ")
                )),
            }
        }
        for (i, s) in seen.iter().enumerate() {
            if s.is_none() {
                problems.push(format!("missing column `{}`", columns[i]));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Header(RowErrors(
                problems
                    .into_iter()
                    .map(|problem| RowError {
                        file: file.to_owned(),
                        line: 1,
                        field: "header".to_owned(),
                        problem,
                    })
                    .collect(),
            )));
        }
        Ok(Self {
            file: file.to_owned(),
            today,
            source: Source::Csv {
                reader,
                columns,
                map: seen.into_iter().flatten().collect(),
                width: header.len(),
                record: csv::StringRecord::new(),
                parse: T::from_cells,
            },
            done: false,
            _kind: PhantomData,
        })
    }

    /// Opens a CSV file.
    pub fn open_csv(path: impl AsRef<Path>, today: NaiveDate) -> Result<Self, Error> {
        let path = path.as_ref();
        Self::from_csv(open_file(path)?, &file_name(path), today)
    }

    /// Opens a `.csv` or `.jsonl` file, choosing the reader by the extension.
    pub fn open(path: impl AsRef<Path>, today: NaiveDate) -> Result<Self, Error> {
        let path = path.as_ref();
        match Format::of_path(path) {
            Some(Format::Csv) => Self::open_csv(path, today),
            Some(Format::Json) => Self::open_jsonl(path, today),
            None => Err(Error::UnknownFormat {
                file: path.display().to_string(),
            }),
        }
    }
}

fn csv_error(file: &str, e: csv::Error) -> Error {
    let line = e.position().map_or(1, csv::Position::line);
    let problem = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
        _ => e.to_string(),
    };
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(file, io),
        _ => Error::Header(RowErrors(vec![RowError {
            file: file.to_owned(),
            line,
            field: "header".to_owned(),
            problem,
        }])),
    }
}

impl<T: Record> Iterator for Rows<T> {
    type Item = Result<T, RowErrors>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let today = self.today;
        match &mut self.source {
            Source::Csv {
                reader,
                columns,
                map,
                width,
                record,
                parse,
            } => match reader.read_record(record) {
                Ok(false) => {
                    self.done = true;
                    None
                }
                Ok(true) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    if record.len() != *width {
                        let problem =
                            format!("has {} cells but the header has {}", record.len(), width);
                        return self.fail(line, "row", problem);
                    }
                    let row = Row::new(columns, record, map);
                    let result = parse(&row, today);
                    Some(result.map_err(|errors| self.row_errors(line, errors)))
                }
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line);
                    if e.is_io_error() {
                        self.done = true;
                    }
                    let problem = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
                        _ => e.to_string(),
                    };
                    self.fail(line, "row", problem)
                }
            },
            Source::Jsonl { reader, line, buf } => loop {
                buf.clear();
                match reader.read_until(b'\n', buf) {
                    Ok(0) => {
                        self.done = true;
                        return None;
                    }
                    Ok(_) => {
                        *line += 1;
                        let text = buf.trim_ascii();
                        if text.is_empty() {
                            continue;
                        }
                        let n = *line;
                        let result = serde_json::from_slice::<T>(text)
                            .map_err(|e| vec![FieldError::new("json", e.to_string())])
                            .and_then(|v| v.check(today));
                        return Some(result.map_err(|errors| self.row_errors(n, errors)));
                    }
                    Err(e) => {
                        let n = *line + 1;
                        self.done = true;
                        return self.fail(n, "file", e.to_string());
                    }
                }
            },
        }
    }
}
