//! Typed identifiers, each validated by its own rules.
//!
//! | kind | form |
//! |---|---|
//! | `pnc` | Police National Computer id `YY/NNNNNNNC` or `YYYY/NNNNNNNC`, check letter verified |
//! | `nrm` | NRM case reference from the Single Competent Authority: letters, digits, `-`, `/` (4–30) |
//! | `la_child` | a local authority's child id, with the issuing authority: `la:code/ID` |
//! | `home_office` | Home Office reference: one letter and 7 digits, or 8–10 digits |
//! | `passport` | issuing country (alpha-3) and number: `VNM:C1234567` |

use crate::error::FieldError;
use crate::organisation::OrgCode;
use crate::person::Nationality;
use std::fmt;

/// The letters used for the PNC check character (I, O and S are not used).
const PNC_CHECK: &[u8; 23] = b"ZABCDEFGHJKLMNPQRTUVWXY";

/// Kinds of identifier.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// Police National Computer id.
    Pnc,
    /// National Referral Mechanism case reference.
    Nrm,
    /// A local authority's child id.
    LaChild,
    /// Home Office reference.
    HomeOffice,
    /// Passport number with issuing country.
    Passport,
}

impl IdentifierKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pnc => "pnc",
            Self::Nrm => "nrm",
            Self::LaChild => "la_child",
            Self::HomeOffice => "home_office",
            Self::Passport => "passport",
        }
    }

    /// Parses a kind name.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pnc" => Ok(Self::Pnc),
            "nrm" => Ok(Self::Nrm),
            "la_child" => Ok(Self::LaChild),
            "home_office" => Ok(Self::HomeOffice),
            "passport" => Ok(Self::Passport),
            other => Err(FieldError::new(
                field,
                format!(
                    "`{other}` is not an identifier kind (pnc, nrm, la_child, home_office, passport)"
                ),
            )),
        }
    }
}

/// A validated identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "IdentifierRepr", into = "IdentifierRepr")]
pub struct Identifier {
    kind: IdentifierKind,
    value: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IdentifierRepr {
    kind: IdentifierKind,
    value: String,
}

impl TryFrom<IdentifierRepr> for Identifier {
    type Error = FieldError;
    fn try_from(r: IdentifierRepr) -> Result<Self, Self::Error> {
        Self::parse("identifier", r.kind, &r.value)
    }
}

impl From<Identifier> for IdentifierRepr {
    fn from(i: Identifier) -> Self {
        Self {
            kind: i.kind,
            value: i.value,
        }
    }
}

impl Identifier {
    /// Validates `value` as an identifier of `kind`, normalising case and spacing.
    pub fn parse(field: &str, kind: IdentifierKind, value: &str) -> Result<Self, FieldError> {
        let v: String = value.split_whitespace().collect::<Vec<_>>().join("");
        let err = |why: String| FieldError::new(field, why);
        let value = match kind {
            IdentifierKind::Pnc => parse_pnc(&v.to_ascii_uppercase()).map_err(err)?,
            IdentifierKind::Nrm => {
                let u = v.to_ascii_uppercase();
                let ok = (4..=30).contains(&u.len())
                    && u.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
                    && u.chars().any(|c| c.is_ascii_digit());
                if !ok {
                    return Err(err(format!(
                        "`{value}` is not an NRM reference (4–30 letters, digits, `-`, `/`)"
                    )));
                }
                u
            }
            IdentifierKind::LaChild => {
                let (la, id) = v.split_once('/').ok_or_else(|| {
                    err(format!(
                        "`{value}` is not `la:code/ID` (issuing authority, then the child id)"
                    ))
                })?;
                let la = OrgCode::parse(field, la)?;
                if !la.as_str().starts_with("la:") {
                    return Err(err(format!(
                        "`{la}` is not a local authority code (`la:…`)"
                    )));
                }
                if id.is_empty()
                    || id.len() > 20
                    || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(err(format!(
                        "`{id}` is not a child id (1–20 letters, digits, `-`)"
                    )));
                }
                format!("{la}/{}", id.to_ascii_uppercase())
            }
            IdentifierKind::HomeOffice => {
                let u = v.to_ascii_uppercase();
                let b = u.as_bytes();
                let letter_form = b.len() == 8
                    && b[0].is_ascii_uppercase()
                    && b[1..].iter().all(u8::is_ascii_digit);
                let digit_form = (8..=10).contains(&b.len()) && b.iter().all(u8::is_ascii_digit);
                if !(letter_form || digit_form) {
                    return Err(err(format!(
                        "`{value}` is not a Home Office reference (a letter and 7 digits, or 8–10 digits)"
                    )));
                }
                u
            }
            IdentifierKind::Passport => {
                let (country, number) = v.split_once(':').ok_or_else(|| {
                    err(format!(
                        "`{value}` is not `COUNTRY:NUMBER` (e.g. `VNM:C1234567`)"
                    ))
                })?;
                let country = Nationality::parse(field, country)?;
                let n = number.to_ascii_uppercase();
                if !(5..=12).contains(&n.len()) || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(err(format!(
                        "`{number}` is not a passport number (5–12 letters or digits)"
                    )));
                }
                format!("{}:{n}", country.as_str())
            }
        };
        Ok(Self { kind, value })
    }

    /// The kind.
    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The normalised value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Computes the PNC check letter for a year and serial number.
    pub fn pnc_check_letter(year: u32, serial: u32) -> char {
        let yy = year % 100;
        let n = u64::from(yy) * 10_000_000 + u64::from(serial);
        // n % 23 < 23, so the index is always in range.
        char::from(PNC_CHECK[(n % 23) as usize])
    }
}

fn parse_pnc(v: &str) -> Result<String, String> {
    let bad = || format!("`{v}` is not a PNC id (YY/NNNNNNNC, e.g. 09/1234567L)");
    let (year, rest) = v.split_once('/').ok_or_else(bad)?;
    if !(year.len() == 2 || year.len() == 4) || !year.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let check = rest
        .chars()
        .last()
        .filter(char::is_ascii_uppercase)
        .ok_or_else(bad)?;
    let serial = &rest[..rest.len() - 1];
    if serial.is_empty() || serial.len() > 7 || !serial.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let y: u32 = year.parse().map_err(|_| bad())?;
    let s: u32 = serial.parse().map_err(|_| bad())?;
    let expected = Identifier::pnc_check_letter(y, s);
    if check != expected {
        return Err(format!(
            "`{v}` has check letter {check} but its digits need {expected}"
        ));
    }
    Ok(format!("{year}/{s:07}{check}"))
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnc_check_letter_is_verified() {
        let c = Identifier::pnc_check_letter(9, 1234567);
        let good = format!("09/1234567{c}");
        let id = Identifier::parse("pnc", IdentifierKind::Pnc, &good.to_lowercase()).unwrap();
        assert_eq!(id.value(), good);
        let wrong = if c == 'A' { 'B' } else { 'A' };
        let e = Identifier::parse(
            "identifiers[0]",
            IdentifierKind::Pnc,
            &format!("09/1234567{wrong}"),
        )
        .unwrap_err();
        assert_eq!(e.field, "identifiers[0]");
        assert!(e.problem.contains("check letter"));
        // Short serials are zero-padded.
        let c = Identifier::pnc_check_letter(2015, 42);
        assert_eq!(
            Identifier::parse("p", IdentifierKind::Pnc, &format!("2015/42{c}"))
                .unwrap()
                .value(),
            format!("2015/0000042{c}")
        );
    }

    #[test]
    fn other_kinds_validate() {
        let p = |k, v| Identifier::parse("x", k, v);
        assert_eq!(
            p(IdentifierKind::Passport, "vnm:c1234567").unwrap().value(),
            "VNM:C1234567"
        );
        assert!(p(IdentifierKind::Passport, "C1234567").is_err());
        assert_eq!(
            p(IdentifierKind::HomeOffice, "h1234567").unwrap().value(),
            "H1234567"
        );
        assert!(p(IdentifierKind::HomeOffice, "H12").is_err());
        assert_eq!(
            p(IdentifierKind::LaChild, "la:kent/ab-12").unwrap().value(),
            "la:kent/AB-12"
        );
        assert!(p(IdentifierKind::LaChild, "force:kent/12").is_err());
        assert!(p(IdentifierKind::Nrm, "NRM-2018-0001").is_ok());
        assert!(p(IdentifierKind::Nrm, "abc").is_err());
    }

    #[test]
    fn serde_rejects_invalid_identifiers() {
        let ok: Identifier =
            serde_json::from_str(r#"{"kind":"home_office","value":"h1234567"}"#).unwrap();
        assert_eq!(ok.value(), "H1234567");
        assert!(
            serde_json::from_str::<Identifier>(r#"{"kind":"home_office","value":"x"}"#).is_err()
        );
    }
}
