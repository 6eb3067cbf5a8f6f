//! `organisations.csv`: `code,kind,name,country,region,police_force`.

use crate::record::{Cells, CsvRecord, Record, RecordKind, Row, validated};
use chrono::NaiveDate;
use nrmp_domain::FieldError;
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};

impl Record for Organisation {
    const KIND: RecordKind = RecordKind::Organisation;

    fn check(self, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validated(self, Vec::new(), Organisation::validate)
    }
}

impl CsvRecord for Organisation {
    const COLUMNS: &'static [&'static str] =
        &["code", "kind", "name", "country", "region", "police_force"];

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.code.to_string(),
            self.kind.as_str().to_owned(),
            self.name.clone(),
            self.country.clone(),
            self.region.clone().unwrap_or_default(),
            self.police_force
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ]
    }

    fn from_cells(row: &Row<'_>, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut c = Cells::new(*row);
        let code = c.req("code", OrgCode::parse);
        let kind = c.req("kind", OrgKind::parse);
        let name = c.text("name");
        let country = c.text("country");
        let region = c.opt_text("region");
        let police_force = c.opt("police_force", OrgCode::parse);
        c.finish(
            || {
                Some(Organisation {
                    code: code?,
                    kind: kind?,
                    name,
                    country,
                    region,
                    police_force,
                })
            },
            Organisation::validate,
            str::to_owned,
        )
    }
}
