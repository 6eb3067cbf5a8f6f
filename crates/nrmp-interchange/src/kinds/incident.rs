//! `incidents.csv`: one missing episode per row, with its risk-grade history and sightings in
//! list cells and its return and return-home interview flattened into `found_*` / `rhi_*`
//! columns.

use crate::cell::{self, entry, list, parts};
use crate::record::{Cells, CsvRecord, Record, RecordKind, Row, validated};
use chrono::NaiveDate;
use nrmp_domain::ids::{IncidentId, PersonId};
use nrmp_domain::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnHomeInterview, ReturnOutcome,
    RiskGrade, Sighting,
};
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::{FieldError, ValidationErrors};

impl Record for Incident {
    const KIND: RecordKind = RecordKind::Incident;

    fn check(self, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validated(self, Vec::new(), Incident::validate)
    }
}

const COLUMNS: &[&str] = &[
    "id",
    "person_id",
    "owning_org",
    "force_missing",
    "involved",
    "category",
    "reported_at",
    "last_seen_at",
    "last_seen_place",
    "last_seen_authority",
    "last_seen_force",
    "circumstances",
    "risk",
    "risk_history",
    "sightings",
    "found_at",
    "found_place",
    "found_authority",
    "found_force",
    "found_by",
    "outcome",
    "rhi_offered_at",
    "rhi_accepted",
    "rhi_conducted_by",
    "rhi_conducted_at",
    "rhi_outcome",
    "rhi_disclosures",
];

const FOUND_COLUMNS: [&str; 5] = [
    "found_place",
    "found_authority",
    "found_force",
    "found_by",
    "outcome",
];
const RHI_COLUMNS: [&str; 5] = [
    "rhi_accepted",
    "rhi_conducted_by",
    "rhi_conducted_at",
    "rhi_outcome",
    "rhi_disclosures",
];

fn opt_code(c: &Option<OrgCode>) -> String {
    c.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn opt_code_part(field: &str, s: &str) -> Result<Option<OrgCode>, FieldError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        OrgCode::parse(field, s).map(Some)
    }
}

/// `grade|at|by|source|rationale`.
fn parse_grade_change(field: &str, e: &[String]) -> Result<GradeChange, ValidationErrors> {
    let [grade, at, by, source, rationale] =
        parts::<5>(field, e, 5, "grade|at|by|source|rationale")?;
    let mut errs = Vec::new();
    let grade = RiskGrade::parse(&format!("{field}.grade"), grade).map_err(|e| errs.push(e));
    let at = cell::parse_ts(&format!("{field}.at"), at).map_err(|e| errs.push(e));
    let source = OrgCode::parse(&format!("{field}.source"), source).map_err(|e| errs.push(e));
    match (grade, at, source) {
        (Ok(grade), Ok(at), Ok(source)) => Ok(GradeChange {
            grade,
            rationale: rationale.to_owned(),
            at,
            by: by.to_owned(),
            source,
        }),
        _ => Err(ValidationErrors(errs)),
    }
}

/// `at|reported_by|place|place_authority|place_force|details`.
fn parse_sighting(field: &str, e: &[String]) -> Result<Sighting, ValidationErrors> {
    let [at, reported_by, place, authority, force, details] = parts::<6>(
        field,
        e,
        6,
        "at|reported_by|place|place_authority|place_force|details",
    )?;
    let mut errs = Vec::new();
    let at = cell::parse_ts(&format!("{field}.at"), at).map_err(|e| errs.push(e));
    let reported_by =
        OrgCode::parse(&format!("{field}.reported_by"), reported_by).map_err(|e| errs.push(e));
    let authority =
        opt_code_part(&format!("{field}.place_authority"), authority).map_err(|e| errs.push(e));
    let force = opt_code_part(&format!("{field}.place_force"), force).map_err(|e| errs.push(e));
    match (at, reported_by, authority, force) {
        (Ok(at), Ok(reported_by), Ok(authority), Ok(force)) => Ok(Sighting {
            at,
            place: Place {
                description: place.to_owned(),
                authority,
                force,
            },
            reported_by,
            details: details.to_owned(),
        }),
        _ => Err(ValidationErrors(errs)),
    }
}

/// Maps a domain field path of `Incident::validate` to the CSV column.
fn column_of(field: &str) -> String {
    if field == "return_interview" {
        return "rhi_offered_at".to_owned();
    }
    if let Some(rest) = field.strip_prefix("return_interview.") {
        return format!("rhi_{rest}");
    }
    if let Some(rest) = field.strip_prefix("returned.") {
        return rest.to_owned();
    }
    field.to_owned()
}

impl CsvRecord for Incident {
    const COLUMNS: &'static [&'static str] = COLUMNS;

    fn to_cells(&self) -> Vec<String> {
        let r = self.returned.as_ref();
        let rhi = self.return_interview.as_ref();
        let p = &self.last_seen_place;
        vec![
            self.id.to_string(),
            self.person_id.to_string(),
            self.owning_org.to_string(),
            self.force_missing.to_string(),
            list(self.involved.iter().map(|o| entry(&[o.as_str()]))),
            self.category.as_str().to_owned(),
            cell::ts(&self.reported_at),
            cell::ts(&self.last_seen_at),
            p.description.clone(),
            opt_code(&p.authority),
            opt_code(&p.force),
            self.circumstances.clone(),
            self.risk_history
                .last()
                .map_or("", |g| g.grade.as_str())
                .to_owned(),
            list(self.risk_history.iter().map(|g| {
                entry(&[
                    g.grade.as_str(),
                    &cell::ts(&g.at),
                    &g.by,
                    g.source.as_str(),
                    &g.rationale,
                ])
            })),
            list(self.sightings.iter().map(|s| {
                entry(&[
                    &cell::ts(&s.at),
                    s.reported_by.as_str(),
                    &s.place.description,
                    &opt_code(&s.place.authority),
                    &opt_code(&s.place.force),
                    &s.details,
                ])
            })),
            r.map(|r| cell::ts(&r.found_at)).unwrap_or_default(),
            r.map(|r| r.place.description.clone()).unwrap_or_default(),
            r.map(|r| opt_code(&r.place.authority)).unwrap_or_default(),
            r.map(|r| opt_code(&r.place.force)).unwrap_or_default(),
            r.map(|r| r.found_by.to_string()).unwrap_or_default(),
            r.map_or("", |r| r.outcome.as_str()).to_owned(),
            rhi.map(|i| cell::ts(&i.offered_at)).unwrap_or_default(),
            rhi.map_or("", |i| cell::flag(i.accepted)).to_owned(),
            rhi.map(|i| opt_code(&i.conducted_by)).unwrap_or_default(),
            rhi.and_then(|i| i.conducted_at.as_ref().map(cell::ts))
                .unwrap_or_default(),
            rhi.and_then(|i| i.outcome.clone()).unwrap_or_default(),
            rhi.map_or("", |i| cell::flag(i.disclosures_flagged))
                .to_owned(),
        ]
    }

    fn from_cells(row: &Row<'_>, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut c = Cells::new(*row);
        let id = c.req("id", IncidentId::parse);
        let person_id = c.req("person_id", PersonId::parse);
        let owning_org = c.req("owning_org", OrgCode::parse);
        let force_missing = c.req("force_missing", OrgCode::parse);
        let involved = c.values("involved", OrgCode::parse);
        let category = c.req("category", IncidentCategory::parse);
        let reported_at = c.req("reported_at", cell::parse_ts);
        let last_seen_at = c.req("last_seen_at", cell::parse_ts);
        let last_seen_place = Place {
            description: c.text("last_seen_place"),
            authority: c.opt("last_seen_authority", OrgCode::parse),
            force: c.opt("last_seen_force", OrgCode::parse),
        };
        let circumstances = c.text("circumstances");
        let risk = c.opt("risk", RiskGrade::parse);
        let risk_history = c.list("risk_history", parse_grade_change);
        if let (Some(risk), Some(last)) = (risk, risk_history.as_ref().and_then(|h| h.last()))
            && risk != last.grade
        {
            c.push(
                "risk",
                format!(
                    "`{}` is not the last grade in risk_history (`{}`)",
                    risk.as_str(),
                    last.grade.as_str()
                ),
            );
        }
        let sightings = c.list("sightings", parse_sighting);

        let returned = if c.present("found_at") {
            let found_at = c.opt("found_at", cell::parse_ts);
            let place = Place {
                description: c.text("found_place"),
                authority: c.opt("found_authority", OrgCode::parse),
                force: c.opt("found_force", OrgCode::parse),
            };
            let found_by = c.req("found_by", OrgCode::parse);
            let outcome = c.req("outcome", ReturnOutcome::parse);
            Some((found_at, place, found_by, outcome))
        } else {
            for col in FOUND_COLUMNS {
                if c.present(col) {
                    c.push(col, "is set but found_at is empty");
                }
            }
            None
        };

        let interview = if c.present("rhi_offered_at") {
            let offered_at = c.opt("rhi_offered_at", cell::parse_ts);
            let accepted = c.flag("rhi_accepted");
            let conducted_by = c.opt("rhi_conducted_by", OrgCode::parse);
            let conducted_at = c.opt("rhi_conducted_at", cell::parse_ts);
            let outcome = c.opt_text("rhi_outcome");
            let disclosures_flagged = c.flag("rhi_disclosures");
            Some((
                offered_at,
                accepted,
                conducted_by,
                conducted_at,
                outcome,
                disclosures_flagged,
            ))
        } else {
            for col in RHI_COLUMNS {
                // A `false` flag is the same as an empty one.
                let set = match col {
                    "rhi_accepted" | "rhi_disclosures" => c.flag(col),
                    _ => c.present(col),
                };
                if set {
                    c.push(col, "is set but rhi_offered_at is empty");
                }
            }
            None
        };

        c.finish(
            || {
                let returned = match returned {
                    Some((found_at, place, found_by, outcome)) => Some(Return {
                        found_at: found_at?,
                        place,
                        found_by: found_by?,
                        outcome: outcome?,
                    }),
                    None => None,
                };
                let return_interview = match interview {
                    Some((offered_at, accepted, conducted_by, conducted_at, outcome, disc)) => {
                        Some(ReturnHomeInterview {
                            offered_at: offered_at?,
                            accepted,
                            conducted_by,
                            conducted_at,
                            outcome,
                            disclosures_flagged: disc,
                        })
                    }
                    None => None,
                };
                Some(Incident {
                    id: id?,
                    person_id: person_id?,
                    owning_org: owning_org?,
                    force_missing: force_missing?,
                    involved: involved?,
                    category: category?,
                    reported_at: reported_at?,
                    last_seen_at: last_seen_at?,
                    last_seen_place,
                    circumstances,
                    risk_history: risk_history?,
                    sightings: sightings?,
                    returned,
                    return_interview,
                })
            },
            Incident::validate,
            column_of,
        )
    }
}
