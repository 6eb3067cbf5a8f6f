//! `placements.csv`: one placement of a looked-after child per row.

use crate::cell;
use crate::record::{Cells, CsvRecord, Record, RecordKind, Row, validated};
use chrono::NaiveDate;
use nrmp_domain::FieldError;
use nrmp_domain::ids::{PersonId, PlacementId};
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::placement::{Placement, PlacementType};

impl Record for Placement {
    const KIND: RecordKind = RecordKind::Placement;

    fn check(self, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validated(self, Vec::new(), Placement::validate)
    }
}

impl CsvRecord for Placement {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "person_id",
        "placing_authority",
        "host_authority",
        "placement_type",
        "started_at",
        "ended_at",
        "unaccompanied",
    ];

    fn to_cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.person_id.to_string(),
            self.placing_authority.to_string(),
            self.host_authority.to_string(),
            self.placement_type.as_str().to_owned(),
            cell::ts(&self.started_at),
            self.ended_at.as_ref().map(cell::ts).unwrap_or_default(),
            cell::flag(self.unaccompanied).to_owned(),
        ]
    }

    fn from_cells(row: &Row<'_>, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut c = Cells::new(*row);
        let id = c.req("id", PlacementId::parse);
        let person_id = c.req("person_id", PersonId::parse);
        let placing_authority = c.req("placing_authority", OrgCode::parse);
        let host_authority = c.req("host_authority", OrgCode::parse);
        let placement_type = c.req("placement_type", PlacementType::parse);
        let started_at = c.req("started_at", cell::parse_ts);
        let ended_at = c.opt("ended_at", cell::parse_ts);
        let unaccompanied = c.flag("unaccompanied");
        c.finish(
            || {
                Some(Placement {
                    id: id?,
                    person_id: person_id?,
                    placing_authority: placing_authority?,
                    host_authority: host_authority?,
                    placement_type: placement_type?,
                    started_at: started_at?,
                    ended_at,
                    unaccompanied,
                })
            },
            Placement::validate,
            str::to_owned,
        )
    }
}
