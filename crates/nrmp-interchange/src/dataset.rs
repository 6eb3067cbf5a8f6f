//! Dataset directories: one file per record kind, all CSV or all JSON lines (profiles and found
//! persons are always JSON lines).
//!
//! [`DatasetWriter`] creates `organisations`, `persons`, `incidents`, `referrals` and
//! `placements` at once (so an export always shows those files, with a header row in CSV even
//! when empty); `truth`, `profiles.jsonl` and `found_persons.jsonl` appear only when a record of
//! that kind is written. [`DatasetFiles`] finds which files a directory holds, for the importer.

use crate::error::Error;
use crate::kinds::truth::TruthRow;
use crate::read::Rows;
use crate::record::{CsvRecord, Format, Record, RecordKind};
use crate::write::{CsvWriter, JsonlWriter};
use chrono::NaiveDate;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

type FileOut = BufWriter<File>;

trait Out<T>: Send {
    fn write(&mut self, record: &T) -> io::Result<()>;
    fn finish(self: Box<Self>) -> io::Result<u64>;
}

impl<T: CsvRecord> Out<T> for CsvWriter<T, FileOut> {
    fn write(&mut self, record: &T) -> io::Result<()> {
        CsvWriter::write(self, record)
    }
    fn finish(self: Box<Self>) -> io::Result<u64> {
        let n = self.count();
        CsvWriter::finish(*self)?
            .into_inner()
            .map_err(|e| e.into_error())?;
        Ok(n)
    }
}

impl<T: Record> Out<T> for JsonlWriter<T, FileOut> {
    fn write(&mut self, record: &T) -> io::Result<()> {
        JsonlWriter::write(self, record)
    }
    fn finish(self: Box<Self>) -> io::Result<u64> {
        let n = self.count();
        JsonlWriter::finish(*self)?
            .into_inner()
            .map_err(|e| e.into_error())?;
        Ok(n)
    }
}

type MakeOut<T> = fn(FileOut) -> io::Result<Box<dyn Out<T>>>;

fn csv_out<T: CsvRecord + 'static>(w: FileOut) -> io::Result<Box<dyn Out<T>>> {
    Ok(Box::new(CsvWriter::<T, FileOut>::new(w)?))
}

fn json_out<T: Record + 'static>(w: FileOut) -> io::Result<Box<dyn Out<T>>> {
    Ok(Box::new(JsonlWriter::<T, FileOut>::new(w)))
}

/// One output file, opened on first use.
struct Slot<T> {
    kind: RecordKind,
    format: Format,
    path: PathBuf,
    out: Option<Box<dyn Out<T>>>,
    make: MakeOut<T>,
}

impl<T: Record + 'static> Slot<T> {
    fn csv_or_json(dir: &Path, format: Format) -> Self
    where
        T: CsvRecord,
    {
        let make: MakeOut<T> = match format {
            Format::Csv => csv_out::<T>,
            Format::Json => json_out::<T>,
        };
        Self::new(dir, format, make)
    }

    fn json(dir: &Path) -> Self {
        Self::new(dir, Format::Json, json_out::<T>)
    }

    fn new(dir: &Path, format: Format, make: MakeOut<T>) -> Self {
        Self {
            kind: T::KIND,
            format,
            path: dir.join(T::KIND.file_name(format)),
            out: None,
            make,
        }
    }

    fn open(&mut self) -> Result<&mut Box<dyn Out<T>>, Error> {
        if self.out.is_none() {
            let f = File::create(&self.path).map_err(|e| Error::io(self.path.display(), e))?;
            let out = (self.make)(BufWriter::with_capacity(1 << 16, f))
                .map_err(|e| Error::io(self.path.display(), e))?;
            self.out = Some(out);
        }
        match &mut self.out {
            Some(out) => Ok(out),
            None => Err(Error::io(
                self.path.display(),
                io::Error::other("output was not opened"),
            )),
        }
    }

    fn write(&mut self, record: &T) -> Result<(), Error> {
        let out = self.open()?;
        out.write(record)
            .map_err(|e| Error::io(self.path.display(), e))
    }

    fn finish(self) -> Result<Option<WrittenFile>, Error> {
        let Some(out) = self.out else {
            return Ok(None);
        };
        let records = out
            .finish()
            .map_err(|e| Error::io(self.path.display(), e))?;
        Ok(Some(WrittenFile {
            kind: self.kind,
            format: self.format,
            path: self.path,
            records,
        }))
    }
}

/// A file [`DatasetWriter::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// What it holds.
    pub kind: RecordKind,
    /// Its format.
    pub format: Format,
    /// Where it is.
    pub path: PathBuf,
    /// How many records it holds.
    pub records: u64,
}

/// Writes a dataset directory. Call [`DatasetWriter::finish`] at the end: it flushes every file
/// and reports what was written (dropping the writer loses buffered records' errors).
pub struct DatasetWriter {
    dir: PathBuf,
    format: Format,
    organisations: Slot<Organisation>,
    persons: Slot<Person>,
    profiles: Slot<PrefilledProfile>,
    incidents: Slot<Incident>,
    referrals: Slot<NrmReferral>,
    placements: Slot<Placement>,
    found_persons: Slot<FoundPerson>,
    truth: Slot<TruthRow>,
}

impl std::fmt::Debug for DatasetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetWriter")
            .field("dir", &self.dir)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl DatasetWriter {
    /// Creates `dir` (and its parents) if needed and starts the dataset. Existing files of the
    /// same format are replaced; a file of the same kind in the *other* format is refused
    /// ([`Error::WouldMix`]) rather than deleted.
    pub fn create(dir: impl AsRef<Path>, format: Format) -> Result<Self, Error> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
        let other = match format {
            Format::Csv => Format::Json,
            Format::Json => Format::Csv,
        };
        for kind in RecordKind::ALL.into_iter().filter(|k| k.has_csv()) {
            let existing = kind.file_name(other);
            if dir.join(&existing).exists() {
                return Err(Error::WouldMix {
                    dir: dir.display().to_string(),
                    existing,
                    writing: kind.file_name(format),
                });
            }
        }
        let mut w = Self {
            dir: dir.to_owned(),
            format,
            organisations: Slot::csv_or_json(dir, format),
            persons: Slot::csv_or_json(dir, format),
            profiles: Slot::json(dir),
            incidents: Slot::csv_or_json(dir, format),
            referrals: Slot::csv_or_json(dir, format),
            placements: Slot::csv_or_json(dir, format),
            found_persons: Slot::json(dir),
            truth: Slot::csv_or_json(dir, format),
        };
        w.organisations.open()?;
        w.persons.open()?;
        w.incidents.open()?;
        w.referrals.open()?;
        w.placements.open()?;
        Ok(w)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The format of the flat kinds.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes an organisation.
    pub fn write_organisation(&mut self, r: &Organisation) -> Result<(), Error> {
        self.organisations.write(r)
    }

    /// Writes a person.
    pub fn write_person(&mut self, r: &Person) -> Result<(), Error> {
        self.persons.write(r)
    }

    /// Writes a pre-filled profile version (always to `profiles.jsonl`).
    pub fn write_profile(&mut self, r: &PrefilledProfile) -> Result<(), Error> {
        self.profiles.write(r)
    }

    /// Writes an incident.
    pub fn write_incident(&mut self, r: &Incident) -> Result<(), Error> {
        self.incidents.write(r)
    }

    /// Writes an NRM referral.
    pub fn write_referral(&mut self, r: &NrmReferral) -> Result<(), Error> {
        self.referrals.write(r)
    }

    /// Writes a placement.
    pub fn write_placement(&mut self, r: &Placement) -> Result<(), Error> {
        self.placements.write(r)
    }

    /// Writes a found person (always to `found_persons.jsonl`).
    pub fn write_found_person(&mut self, r: &FoundPerson) -> Result<(), Error> {
        self.found_persons.write(r)
    }

    /// Writes one line of ground truth (synthetic data only).
    pub fn write_truth(&mut self, r: &TruthRow) -> Result<(), Error> {
        self.truth.write(r)
    }

    /// Flushes and closes every file; returns them in load order with their record counts.
    pub fn finish(self) -> Result<Vec<WrittenFile>, Error> {
        let files = [
            self.organisations.finish()?,
            self.persons.finish()?,
            self.profiles.finish()?,
            self.incidents.finish()?,
            self.referrals.finish()?,
            self.placements.finish()?,
            self.found_persons.finish()?,
            self.truth.finish()?,
        ];
        Ok(files.into_iter().flatten().collect())
    }
}

/// One file found in a dataset directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// What it holds.
    pub kind: RecordKind,
    /// Its format.
    pub format: Format,
    /// Where it is.
    pub path: PathBuf,
}

/// The dataset files a directory holds, one per record kind at most. Other files are ignored.
#[derive(Debug, Clone)]
pub struct DatasetFiles {
    dir: PathBuf,
    files: Vec<DataFile>,
}

impl DatasetFiles {
    /// Looks for `<kind>.csv` and `<kind>.jsonl` for every kind. A kind present in both formats
    /// is an error ([`Error::Ambiguous`]); a missing directory is an [`Error::Io`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let meta = fs::metadata(dir).map_err(|e| Error::io(dir.display(), e))?;
        if !meta.is_dir() {
            return Err(Error::io(
                dir.display(),
                io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            ));
        }
        let mut files = Vec::new();
        for kind in RecordKind::ALL {
            let csv = dir.join(format!("{}.csv", kind.stem()));
            let jsonl = dir.join(format!("{}.jsonl", kind.stem()));
            let (has_csv, has_jsonl) = (kind.has_csv() && csv.is_file(), jsonl.is_file());
            match (has_csv, has_jsonl) {
                (true, true) => {
                    return Err(Error::Ambiguous {
                        dir: dir.display().to_string(),
                        csv: kind.file_name(Format::Csv),
                        jsonl: kind.file_name(Format::Json),
                    });
                }
                (true, false) => files.push(DataFile {
                    kind,
                    format: Format::Csv,
                    path: csv,
                }),
                (false, true) => files.push(DataFile {
                    kind,
                    format: Format::Json,
                    path: jsonl,
                }),
                (false, false) => {}
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            files,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files found, in load order.
    pub fn files(&self) -> &[DataFile] {
        &self.files
    }

    /// The file holding `kind`, if any.
    pub fn get(&self, kind: RecordKind) -> Option<&DataFile> {
        self.files.iter().find(|f| f.kind == kind)
    }

    /// Opens the file of a kind with a CSV form, whichever format it is in.
    pub fn read<T: CsvRecord>(&self, today: NaiveDate) -> Result<Option<Rows<T>>, Error> {
        self.get(T::KIND)
            .map(|f| Rows::open(&f.path, today))
            .transpose()
    }

    /// Opens the file of a JSON-lines-only kind.
    pub fn read_jsonl<T: Record>(&self, today: NaiveDate) -> Result<Option<Rows<T>>, Error> {
        self.get(T::KIND)
            .map(|f| Rows::open_jsonl(&f.path, today))
            .transpose()
    }

    /// `organisations.*`, if present.
    pub fn organisations(&self, today: NaiveDate) -> Result<Option<Rows<Organisation>>, Error> {
        self.read(today)
    }

    /// `persons.*`, if present; dates of birth are checked against `today`.
    pub fn persons(&self, today: NaiveDate) -> Result<Option<Rows<Person>>, Error> {
        self.read(today)
    }

    /// `profiles.jsonl`, if present.
    pub fn profiles(&self, today: NaiveDate) -> Result<Option<Rows<PrefilledProfile>>, Error> {
        self.read_jsonl(today)
    }

    /// `incidents.*`, if present.
    pub fn incidents(&self, today: NaiveDate) -> Result<Option<Rows<Incident>>, Error> {
        self.read(today)
    }

    /// `referrals.*`, if present.
    pub fn referrals(&self, today: NaiveDate) -> Result<Option<Rows<NrmReferral>>, Error> {
        self.read(today)
    }

    /// `placements.*`, if present.
    pub fn placements(&self, today: NaiveDate) -> Result<Option<Rows<Placement>>, Error> {
        self.read(today)
    }

    /// `found_persons.jsonl`, if present.
    pub fn found_persons(&self, today: NaiveDate) -> Result<Option<Rows<FoundPerson>>, Error> {
        self.read_jsonl(today)
    }

    /// `truth.*`, if present (synthetic datasets).
    pub fn truth(&self, today: NaiveDate) -> Result<Option<Rows<TruthRow>>, Error> {
        self.read(today)
    }
}
