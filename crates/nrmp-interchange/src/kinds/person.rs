//! `persons.csv`: one person per row. Multi-valued cells use the list encoding of
//! [`crate::cell`]; see `docs/formats.md` for every column.

use crate::cell::{self, entry, list, parts};
use crate::record::{Cells, CsvRecord, Record, RecordKind, Row, validated};
use chrono::NaiveDate;
use nrmp_domain::identifier::{Identifier, IdentifierKind};
use nrmp_domain::ids::PersonId;
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::person::{
    Build, DateOfBirth, Description, Language, Mark, MarkKind, NameKind, Nationality, Person,
    PersonName, PhotoMeta, Sex,
};
use nrmp_domain::{FieldError, ValidationErrors};

/// `165-175`, or `170` when both ends agree.
pub(crate) fn height_text((a, b): (u16, u16)) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

/// Moves nested errors under `prefix`.
fn under(prefix: &str, e: ValidationErrors) -> ValidationErrors {
    ValidationErrors(e.0.into_iter().map(|e| e.under(prefix)).collect())
}

/// Checks a date of birth against `today` as [`DateOfBirth::parse`] would. Serde has already
/// checked what does not depend on `today` (see [`DateOfBirth`]), but not that the date is in
/// the past and less than 120 years ago.
pub(crate) fn check_dob(dob: &Option<DateOfBirth>, today: NaiveDate, errors: &mut Vec<FieldError>) {
    if let Some(d) = dob
        && let Err(e) = DateOfBirth::parse("dob", &d.to_text(), today)
    {
        errors.push(e);
    }
}

impl Record for Person {
    const KIND: RecordKind = RecordKind::Person;

    fn check(self, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_dob(&self.dob, today, &mut errors);
        validated(self, errors, Person::validate)
    }
}

const COLUMNS: &[&str] = &[
    "id",
    "owning_org",
    "name_kind",
    "given",
    "family",
    "original_name",
    "name_order_unknown",
    "other_names",
    "dob",
    "dob_assessed_on",
    "sex",
    "nationalities",
    "languages",
    "identifiers",
    "height_cm",
    "build",
    "hair",
    "eyes",
    "marks",
    "photos",
    "created_at",
    "updated_at",
];

/// A name in `other_names`: `given|family|original`, then `|kind` when it is not `alias` and
/// `|true` when the name order is unknown.
fn other_name_entry(n: &PersonName) -> String {
    let original = n.original.as_deref().unwrap_or("");
    if n.order_unknown {
        entry(&[&n.given, &n.family, original, n.kind.as_str(), "true"])
    } else if n.kind != NameKind::Alias {
        entry(&[&n.given, &n.family, original, n.kind.as_str()])
    } else {
        entry(&[&n.given, &n.family, original])
    }
}

fn parse_other_name(field: &str, e: &[String]) -> Result<PersonName, ValidationErrors> {
    let [given, family, original, kind, order] =
        parts::<5>(field, e, 1, "given|family|original[|kind[|order_unknown]]")?;
    let kind = if kind.trim().is_empty() {
        NameKind::Alias
    } else {
        NameKind::parse(&format!("{field}.kind"), kind)?
    };
    let order = cell::parse_flag(&format!("{field}.order_unknown"), order)?;
    PersonName::parse(kind, given, family, Some(original), order).map_err(|e| under(field, e))
}

fn parse_identifier(field: &str, s: &str) -> Result<Identifier, FieldError> {
    let (kind, value) = s.trim().split_once(':').ok_or_else(|| {
        FieldError::new(
            field,
            format!("`{s}` is not `kind:value` (e.g. `pnc:09/1234567L`, `passport:VNM:C1234567`)"),
        )
    })?;
    let kind = IdentifierKind::parse(field, kind)?;
    Identifier::parse(field, kind, value)
}

fn parse_mark(field: &str, e: &[String]) -> Result<Mark, ValidationErrors> {
    let [kind, location, description] = parts::<3>(field, e, 1, "kind|location|description")?;
    Ok(Mark {
        kind: MarkKind::parse(&format!("{field}.kind"), kind)?,
        location: location.to_owned(),
        description: description.to_owned(),
    })
}

fn parse_photo(field: &str, e: &[String]) -> Result<PhotoMeta, ValidationErrors> {
    let [held_by, reference, taken_on] = parts::<3>(field, e, 2, "held_by|reference|taken_on")?;
    let mut errs = Vec::new();
    let held_by = OrgCode::parse(&format!("{field}.held_by"), held_by).map_err(|e| errs.push(e));
    let taken_on = if taken_on.trim().is_empty() {
        Ok(None)
    } else {
        cell::parse_date(&format!("{field}.taken_on"), taken_on)
            .map(Some)
            .map_err(|e| errs.push(e))
    };
    match (held_by, taken_on) {
        (Ok(held_by), Ok(taken_on)) => Ok(PhotoMeta {
            taken_on,
            held_by,
            reference: reference.to_owned(),
        }),
        _ => Err(ValidationErrors(errs)),
    }
}

/// Maps a domain field path of `Person::validate` to the CSV column.
fn column_of(field: &str) -> String {
    match field {
        "names" => "given".to_owned(),
        "description.height_cm" => "height_cm".to_owned(),
        other => other.to_owned(),
    }
}

impl CsvRecord for Person {
    const COLUMNS: &'static [&'static str] = COLUMNS;

    fn to_cells(&self) -> Vec<String> {
        let first = self.names.first();
        let d = &self.description;
        vec![
            self.id.to_string(),
            self.owning_org.to_string(),
            first.map_or("", |n| n.kind.as_str()).to_owned(),
            first.map(|n| n.given.clone()).unwrap_or_default(),
            first.map(|n| n.family.clone()).unwrap_or_default(),
            first.and_then(|n| n.original.clone()).unwrap_or_default(),
            first.map_or("", |n| cell::flag(n.order_unknown)).to_owned(),
            list(self.names.iter().skip(1).map(other_name_entry)),
            self.dob
                .as_ref()
                .map(DateOfBirth::to_text)
                .unwrap_or_default(),
            match &self.dob {
                Some(DateOfBirth::AgeAssessed {
                    assessed_on: Some(d),
                    ..
                }) => cell::date(d),
                _ => String::new(),
            },
            self.sex.as_str().to_owned(),
            list(self.nationalities.iter().map(|n| entry(&[n.as_str()]))),
            list(self.languages.iter().map(|l| entry(&[l.as_str()]))),
            list(self.identifiers.iter().map(|i| entry(&[&i.to_string()]))),
            d.height_cm.map(height_text).unwrap_or_default(),
            d.build.map_or("", Build::as_str).to_owned(),
            d.hair.clone().unwrap_or_default(),
            d.eyes.clone().unwrap_or_default(),
            list(
                d.marks
                    .iter()
                    .map(|m| entry(&[m.kind.as_str(), &m.location, &m.description])),
            ),
            list(d.photos.iter().map(|p| {
                let taken = p.taken_on.as_ref().map(cell::date).unwrap_or_default();
                entry(&[p.held_by.as_str(), &p.reference, &taken])
            })),
            cell::ts(&self.created_at),
            cell::ts(&self.updated_at),
        ]
    }

    fn from_cells(row: &Row<'_>, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut c = Cells::new(*row);
        let id = c.req("id", PersonId::parse);
        let owning_org = c.req("owning_org", OrgCode::parse);

        let has_first = ["given", "family", "original_name"]
            .iter()
            .any(|col| c.present(col));
        let first = if has_first {
            let kind = c.take(NameKind::parse("name_kind", row.get("name_kind")));
            let order = c.flag("name_order_unknown");
            kind.and_then(|kind| {
                match PersonName::parse(
                    kind,
                    row.get("given"),
                    row.get("family"),
                    row.opt("original_name"),
                    order,
                ) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        for e in e.0 {
                            let col = if e.field == "original" {
                                "original_name".to_owned()
                            } else {
                                e.field
                            };
                            c.push(col, e.problem);
                        }
                        None
                    }
                }
            })
        } else {
            None
        };
        let others = c.list("other_names", parse_other_name);

        let dob = c.opt("dob", |f, s| DateOfBirth::parse(f, s, today));
        let assessed_on = c.opt("dob_assessed_on", cell::parse_date);
        let dob = match (dob, assessed_on) {
            (
                Some(DateOfBirth::AgeAssessed {
                    earliest, latest, ..
                }),
                Some(on),
            ) => Some(DateOfBirth::AgeAssessed {
                earliest,
                latest,
                assessed_on: Some(on),
            }),
            (dob, Some(_)) => {
                if dob.is_some() || !c.present("dob") {
                    c.push(
                        "dob_assessed_on",
                        "only an age-assessed date of birth (`FROM..TO`) has an assessment date",
                    );
                }
                dob
            }
            (dob, None) => dob,
        };
        let sex = c.take(Sex::parse("sex", row.get("sex")));
        let nationalities = c.values("nationalities", Nationality::parse);
        let languages = c.values("languages", Language::parse);
        let identifiers = c.values("identifiers", parse_identifier);
        let height_cm = c.opt("height_cm", Description::parse_height);
        let build = c.opt("build", Build::parse);
        let hair = c.opt_text("hair");
        let eyes = c.opt_text("eyes");
        let marks = c.list("marks", parse_mark);
        let photos = c.list("photos", parse_photo);
        let created_at = c.req("created_at", cell::parse_ts);
        let updated_at = c.req("updated_at", cell::parse_ts);
        c.finish(
            || {
                let mut names: Vec<PersonName> = first.into_iter().collect();
                names.extend(others?);
                Some(Person {
                    id: id?,
                    owning_org: owning_org?,
                    names,
                    dob,
                    sex: sex?,
                    nationalities: nationalities?,
                    languages: languages?,
                    identifiers: identifiers?,
                    description: Description {
                        height_cm,
                        build,
                        hair,
                        eyes,
                        marks: marks?,
                        photos: photos?,
                    },
                    created_at: created_at?,
                    updated_at: updated_at?,
                })
            },
            Person::validate,
            column_of,
        )
    }
}
