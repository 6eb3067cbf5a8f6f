//! Writers for one record kind to any [`io::Write`].

use crate::record::{CsvRecord, Record};
use std::io::{self, Write};
use std::marker::PhantomData;

/// Writes records of one kind as CSV: the header row first, then one row per record.
pub struct CsvWriter<T: CsvRecord, W: Write> {
    inner: csv::Writer<W>,
    count: u64,
    _kind: PhantomData<fn(&T)>,
}

impl<T: CsvRecord, W: Write> std::fmt::Debug for CsvWriter<T, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvWriter")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<T: CsvRecord, W: Write> CsvWriter<T, W> {
    /// Starts a file on `w`, writing the header row.
    pub fn new(w: W) -> io::Result<Self> {
        let mut inner = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        inner.write_record(T::COLUMNS)?;
        Ok(Self {
            inner,
            count: 0,
            _kind: PhantomData,
        })
    }

    /// Writes one record.
    pub fn write(&mut self, record: &T) -> io::Result<()> {
        self.inner.write_record(record.to_cells())?;
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| io::Error::other(e.error().to_string()))
    }
}

/// Writes records of one kind as JSON lines: one serde-serialised object per line.
pub struct JsonlWriter<T: Record, W: Write> {
    inner: W,
    count: u64,
    _kind: PhantomData<fn(&T)>,
}

impl<T: Record, W: Write> std::fmt::Debug for JsonlWriter<T, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlWriter")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<T: Record, W: Write> JsonlWriter<T, W> {
    /// Starts a file on `w` (JSON lines have no header).
    pub fn new(w: W) -> Self {
        Self {
            inner: w,
            count: 0,
            _kind: PhantomData,
        }
    }

    /// Writes one record on its own line.
    pub fn write(&mut self, record: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.inner, record)?;
        self.inner.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}
