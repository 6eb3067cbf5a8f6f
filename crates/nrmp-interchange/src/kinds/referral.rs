//! `referrals.csv`: one NRM referral per row; each grounds decision is a date column and an
//! outcome column, both empty until the decision is made.

use crate::cell::{self, entry, list};
use crate::record::{Cells, CsvRecord, Record, RecordKind, Row, validated};
use chrono::NaiveDate;
use nrmp_domain::FieldError;
use nrmp_domain::ids::{PersonId, ReferralId};
use nrmp_domain::nrm::{Decision, DecisionOutcome, ExploitationType, NrmReferral};
use nrmp_domain::organisation::OrgCode;

impl Record for NrmReferral {
    const KIND: RecordKind = RecordKind::Referral;

    fn check(self, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validated(self, Vec::new(), NrmReferral::validate)
    }
}

fn decision_cells(d: Option<Decision>) -> [String; 2] {
    match d {
        Some(d) => [cell::date(&d.date), d.outcome.as_str().to_owned()],
        None => [String::new(), String::new()],
    }
}

/// Reads `{prefix}_date` and `{prefix}_outcome`: both or neither.
fn decision(c: &mut Cells<'_>, prefix: &str) -> Option<Decision> {
    let (date_col, outcome_col) = (format!("{prefix}_date"), format!("{prefix}_outcome"));
    match (c.present(&date_col), c.present(&outcome_col)) {
        (false, false) => None,
        (true, false) => {
            c.push(outcome_col, format!("is empty but {date_col} is set"));
            None
        }
        (false, true) => {
            c.push(date_col, format!("is empty but {outcome_col} is set"));
            None
        }
        (true, true) => {
            let date = c.opt(&date_col, cell::parse_date);
            let outcome = c.opt(&outcome_col, DecisionOutcome::parse);
            Some(Decision {
                date: date?,
                outcome: outcome?,
            })
        }
    }
}

/// Maps a domain field path of `NrmReferral::validate` to the CSV column.
fn column_of(field: &str) -> String {
    match field {
        "conclusive_grounds" => "conclusive_grounds_date".to_owned(),
        other => other.replace('.', "_"),
    }
}

impl CsvRecord for NrmReferral {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "person_id",
        "reference",
        "referred_on",
        "first_responder",
        "exploitation",
        "reasonable_grounds_date",
        "reasonable_grounds_outcome",
        "conclusive_grounds_date",
        "conclusive_grounds_outcome",
    ];

    fn to_cells(&self) -> Vec<String> {
        let [rg_date, rg_outcome] = decision_cells(self.reasonable_grounds);
        let [cg_date, cg_outcome] = decision_cells(self.conclusive_grounds);
        vec![
            self.id.to_string(),
            self.person_id.to_string(),
            self.reference.clone().unwrap_or_default(),
            cell::date(&self.referred_on),
            self.first_responder.to_string(),
            list(self.exploitation.iter().map(|e| entry(&[e.as_str()]))),
            rg_date,
            rg_outcome,
            cg_date,
            cg_outcome,
        ]
    }

    fn from_cells(row: &Row<'_>, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut c = Cells::new(*row);
        let id = c.req("id", ReferralId::parse);
        let person_id = c.req("person_id", PersonId::parse);
        let reference = c.opt_text("reference");
        let referred_on = c.req("referred_on", cell::parse_date);
        let first_responder = c.req("first_responder", OrgCode::parse);
        let exploitation = c.values("exploitation", ExploitationType::parse);
        let reasonable_grounds = decision(&mut c, "reasonable_grounds");
        let conclusive_grounds = decision(&mut c, "conclusive_grounds");
        c.finish(
            || {
                Some(NrmReferral {
                    id: id?,
                    person_id: person_id?,
                    reference,
                    referred_on: referred_on?,
                    first_responder: first_responder?,
                    exploitation: exploitation?,
                    reasonable_grounds,
                    conclusive_grounds,
                })
            },
            NrmReferral::validate,
            column_of,
        )
    }
}
