//! Police forces and local authorities of England and Wales (`data/police_forces.csv`,
//! `data/local_authorities.csv`).

use std::collections::HashSet;
use std::sync::LazyLock;

use super::ReferenceError;
use super::csv;

const FORCES_FILE: &str = "data/police_forces.csv";
const FORCES_CSV: &str = include_str!("../../data/police_forces.csv");
const AUTHORITIES_FILE: &str = "data/local_authorities.csv";
const AUTHORITIES_CSV: &str = include_str!("../../data/local_authorities.csv");

/// Country value used for British Transport Police, which covers both nations.
pub const ENGLAND_AND_WALES: &str = "England and Wales";

/// A police force: one of the 43 territorial forces of England and Wales, or British Transport Police.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoliceForce {
    /// Short stable slug, e.g. `avon-somerset`, `metropolitan`, `british-transport`.
    pub code: &'static str,
    /// Full name, e.g. "Avon and Somerset Constabulary".
    pub name: &'static str,
    /// "England", "Wales", or "England and Wales" (British Transport Police only).
    pub country: &'static str,
    /// ONS region name ("South West", "London", "Wales"...); "National" for British Transport Police.
    pub region: &'static str,
    /// Rough resident population in thousands, for proportional sampling (nominal for BTP).
    pub weight: u32,
}

impl PoliceForce {
    /// True for the 43 territorial forces (every force except British Transport Police).
    pub fn is_territorial(&self) -> bool {
        self.country != ENGLAND_AND_WALES
    }
}

/// A local authority with children's-services responsibility (England, 2024 structure) or a Welsh
/// principal council.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAuthority {
    /// Short stable slug, e.g. `kingston-upon-hull`, `rhondda-cynon-taf`.
    pub code: &'static str,
    /// Usual name, e.g. "Kingston upon Hull", "Bournemouth, Christchurch and Poole".
    pub name: &'static str,
    /// "England" or "Wales".
    pub country: &'static str,
    /// ONS region name; "Wales" for Welsh councils.
    pub region: &'static str,
    /// Code of the territorial police force covering the area (see [`PoliceForce::code`]).
    pub police_force_code: &'static str,
    /// Rough resident child population (aged 0–17) in thousands, at least 1, for sampling.
    pub weight: u32,
}

impl LocalAuthority {
    /// The territorial police force covering this authority, if the code resolves (it always does
    /// for the embedded data; see [`super::validate`]).
    pub fn police_force(&self) -> Option<&'static PoliceForce> {
        police_force(self.police_force_code)
    }
}

static FORCES: LazyLock<Result<Vec<PoliceForce>, ReferenceError>> = LazyLock::new(parse_forces);
static AUTHORITIES: LazyLock<Result<Vec<LocalAuthority>, ReferenceError>> =
    LazyLock::new(parse_authorities);

/// All 44 police forces (43 territorial + British Transport Police), in file order.
///
/// Returns an empty slice only if the embedded data failed to parse, which the crate's tests rule
/// out; call [`super::validate`] to get the error instead.
pub fn police_forces() -> &'static [PoliceForce] {
    FORCES.as_deref().unwrap_or(&[])
}

/// The police force with this code, if any.
pub fn police_force(code: &str) -> Option<&'static PoliceForce> {
    police_forces().iter().find(|f| f.code == code)
}

/// All local authorities (England then Wales), in file order.
///
/// Returns an empty slice only if the embedded data failed to parse; see [`police_forces`].
pub fn local_authorities() -> &'static [LocalAuthority] {
    AUTHORITIES.as_deref().unwrap_or(&[])
}

/// The local authority with this code, if any.
pub fn local_authority(code: &str) -> Option<&'static LocalAuthority> {
    local_authorities().iter().find(|a| a.code == code)
}

/// The local authorities whose area a police force covers (none for British Transport Police).
pub fn authorities_in_force(force_code: &str) -> impl Iterator<Item = &'static LocalAuthority> {
    let force_code = force_code.to_owned();
    local_authorities()
        .iter()
        .filter(move |a| a.police_force_code == force_code)
}

/// Parses both files and checks cross-references (every authority's force exists and is
/// territorial, every territorial force covers at least one authority).
pub(crate) fn validate() -> Result<(), ReferenceError> {
    let forces = FORCES.as_ref().map_err(Clone::clone)?;
    let authorities = AUTHORITIES.as_ref().map_err(Clone::clone)?;
    for authority in authorities {
        match forces
            .iter()
            .find(|f| f.code == authority.police_force_code)
        {
            Some(force) if force.is_territorial() => {}
            Some(_) => {
                return Err(ReferenceError::new(
                    AUTHORITIES_FILE,
                    0,
                    format!(
                        "{}: police force {} is not territorial",
                        authority.code, authority.police_force_code
                    ),
                ));
            }
            None => {
                return Err(ReferenceError::new(
                    AUTHORITIES_FILE,
                    0,
                    format!(
                        "{}: unknown police force {}",
                        authority.code, authority.police_force_code
                    ),
                ));
            }
        }
    }
    for force in forces.iter().filter(|f| f.is_territorial()) {
        if !authorities
            .iter()
            .any(|a| a.police_force_code == force.code)
        {
            return Err(ReferenceError::new(
                FORCES_FILE,
                0,
                format!("territorial force {} covers no local authority", force.code),
            ));
        }
    }
    Ok(())
}

fn parse_forces() -> Result<Vec<PoliceForce>, ReferenceError> {
    let records = csv::parse(
        FORCES_FILE,
        FORCES_CSV,
        &["code", "name", "country", "region", "weight"],
    )?;
    let mut codes = HashSet::new();
    let mut forces = Vec::with_capacity(records.len());
    for record in records {
        let err = |message: String| ReferenceError::new(FORCES_FILE, record.line, message);
        let [code, name, country, region, weight] = record.fields[..] else {
            return Err(err("wrong field count".to_owned()));
        };
        check_slug(code).map_err(err)?;
        if !codes.insert(code) {
            return Err(err(format!("duplicate code {code}")));
        }
        check_text(name).map_err(err)?;
        check_text(region).map_err(err)?;
        if !matches!(country, "England" | "Wales" | ENGLAND_AND_WALES) {
            return Err(err(format!("unknown country {country:?}")));
        }
        let weight = parse_weight(weight).map_err(err)?;
        forces.push(PoliceForce {
            code,
            name,
            country,
            region,
            weight,
        });
    }
    Ok(forces)
}

fn parse_authorities() -> Result<Vec<LocalAuthority>, ReferenceError> {
    let records = csv::parse(
        AUTHORITIES_FILE,
        AUTHORITIES_CSV,
        &[
            "code",
            "name",
            "country",
            "region",
            "police_force_code",
            "weight",
        ],
    )?;
    let mut codes = HashSet::new();
    let mut authorities = Vec::with_capacity(records.len());
    for record in records {
        let err = |message: String| ReferenceError::new(AUTHORITIES_FILE, record.line, message);
        let [code, name, country, region, police_force_code, weight] = record.fields[..] else {
            return Err(err("wrong field count".to_owned()));
        };
        check_slug(code).map_err(err)?;
        if !codes.insert(code) {
            return Err(err(format!("duplicate code {code}")));
        }
        check_text(name).map_err(err)?;
        check_text(region).map_err(err)?;
        check_slug(police_force_code).map_err(err)?;
        if !matches!(country, "England" | "Wales") {
            return Err(err(format!("unknown country {country:?}")));
        }
        let weight = parse_weight(weight).map_err(err)?;
        authorities.push(LocalAuthority {
            code,
            name,
            country,
            region,
            police_force_code,
            weight,
        });
    }
    Ok(authorities)
}

fn check_slug(code: &str) -> Result<(), String> {
    let ok = !code.is_empty()
        && !code.starts_with('-')
        && !code.ends_with('-')
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("bad code {code:?} (want a lower-case slug)"))
    }
}

fn check_text(text: &str) -> Result<(), String> {
    if text.is_empty() {
        Err("empty field".to_owned())
    } else {
        Ok(())
    }
}

pub(crate) fn parse_weight(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("weight must be positive".to_owned()),
        Ok(weight) => Ok(weight),
        Err(e) => Err(format!("bad weight {text:?}: {e}")),
    }
}
