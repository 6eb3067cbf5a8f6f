//! `truth.csv` (synthetic data only): which person records are the same human.

use crate::record::{Cells, CsvRecord, Record, RecordKind, Row};
use chrono::NaiveDate;
use nrmp_domain::FieldError;
use nrmp_domain::ids::PersonId;

/// One line of the ground truth a synthetic dataset comes with: person records with the same
/// `person_key` describe the same human (the generator writes duplicates on purpose, so that
/// matching and deduplication can be measured).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TruthRow {
    /// A person record's id.
    pub record_id: PersonId,
    /// The generator's key for the human behind the record; opaque, non-empty text.
    pub person_key: String,
}

fn check_key(key: &str) -> Result<(), FieldError> {
    if key.trim().is_empty() {
        Err(FieldError::new("person_key", "is empty"))
    } else {
        Ok(())
    }
}

impl Record for TruthRow {
    const KIND: RecordKind = RecordKind::Truth;

    fn check(self, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        check_key(&self.person_key).map_err(|e| vec![e])?;
        Ok(self)
    }
}

impl CsvRecord for TruthRow {
    const COLUMNS: &'static [&'static str] = &["record_id", "person_key"];

    fn to_cells(&self) -> Vec<String> {
        vec![self.record_id.to_string(), self.person_key.clone()]
    }

    fn from_cells(row: &Row<'_>, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut c = Cells::new(*row);
        let record_id = c.req("record_id", PersonId::parse);
        let person_key = c.req("person_key", |_, s| Ok(s.to_owned()));
        c.finish(
            || {
                Some(TruthRow {
                    record_id: record_id?,
                    person_key: person_key?,
                })
            },
            |_| Ok(()),
            str::to_owned,
        )
    }
}
