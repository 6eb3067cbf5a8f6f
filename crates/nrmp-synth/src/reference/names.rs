//! Name pools per nationality (`data/names/*.csv`): common given, middle and family names in their
//! original script with the Latin spellings that records actually show.
//!
//! Compiled from public lists of common names; no entry describes a real individual.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use super::ReferenceError;
use super::csv;
use super::organisations::parse_weight;

/// Which part of a full name an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamePart {
    /// A given (first / personal) name.
    Given,
    /// A middle name (e.g. Vietnamese Văn / Thị, British second given names).
    Middle,
    /// A family name, or for patronymic cultures a father's-name pool (see [`NamingConvention`]).
    Family,
}

/// The sex a name is usually given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameSex {
    /// Usually male.
    Male,
    /// Usually female.
    Female,
    /// Either sex (always the case for family names).
    Unisex,
}

impl NameSex {
    /// Whether a name of sex `self` suits a person of sex `person`: unisex names suit everyone and a
    /// `Unisex` query accepts every name.
    pub fn suits(self, person: NameSex) -> bool {
        self == NameSex::Unisex || person == NameSex::Unisex || self == person
    }
}

/// How full names are composed in a naming culture (guidance for the generator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamingConvention {
    /// Given name(s) then an inherited family name (United Kingdom, Albania, Iran, Syria).
    GivenFamily,
    /// Family name first in original order, then middle, then given (Vietnam).
    FamilyFirst,
    /// No inherited family name: the second name is the father's given name (Eritrea, Sudan, Iraq).
    /// Draw the "family" name from [`NamePool::family`] or [`NamePool::fathers_names`].
    Patronymic,
    /// Often a single name only; a family name, if any, is a tribal/clan name, a father's name or a
    /// Persian-style surname (Afghanistan). See [`NamePool::no_family_name_percent`].
    SingleName,
}

/// One name in a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    /// Given, middle or family.
    pub part: NamePart,
    /// Usual sex of bearers.
    pub sex: NameSex,
    /// The name in its original script (with diacritics for Vietnamese and Albanian).
    pub original: &'static str,
    /// Latin spellings seen in records, most common first; never empty.
    pub latin_variants: Vec<&'static str>,
    /// Relative frequency within its pool and part (positive).
    pub weight: u32,
}

impl NameEntry {
    /// The most common Latin spelling.
    pub fn latin(&self) -> &'static str {
        self.latin_variants
            .first()
            .copied()
            .unwrap_or(self.original)
    }
}

/// The common names of one nationality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePool {
    /// ISO 3166-1 alpha-3 code, e.g. `VNM`.
    pub nationality: &'static str,
    /// English country name, e.g. "Vietnam".
    pub country: &'static str,
    /// Script of [`NameEntry::original`]: "Latin", "Arabic", "Ethiopic" or "Persian".
    pub script: &'static str,
    /// How full names are composed.
    pub convention: NamingConvention,
    /// Rough share (percent) of people recorded with no family name at all (synthetic-data guess).
    pub no_family_name_percent: u8,
    /// Every entry, in file order.
    pub entries: Vec<NameEntry>,
    /// Rarer family names composed from the pool's element file (empty when the pool has none):
    /// the long tail that the listed, leading family names leave out.
    pub family_tail: Vec<NameEntry>,
    /// Share (percent) of people bearing one of the listed family names rather than one from
    /// [`NamePool::family_tail`] (100 when there is no tail).
    pub listed_family_percent: u8,
}

impl NamePool {
    /// Given names suited to `sex` (a `Unisex` query returns all given names).
    pub fn given(&self, sex: NameSex) -> impl Iterator<Item = &NameEntry> + '_ {
        self.of(NamePart::Given, sex)
    }

    /// Middle names suited to `sex` (may be empty: most cultures here have none).
    pub fn middle(&self, sex: NameSex) -> impl Iterator<Item = &NameEntry> + '_ {
        self.of(NamePart::Middle, sex)
    }

    /// Family names (for [`NamingConvention::Patronymic`] pools, a father's-name pool).
    pub fn family(&self) -> impl Iterator<Item = &NameEntry> + '_ {
        self.of(NamePart::Family, NameSex::Unisex)
    }

    /// Male given names, usable as fathers' names for patronymic naming.
    pub fn fathers_names(&self) -> impl Iterator<Item = &NameEntry> + '_ {
        self.of(NamePart::Given, NameSex::Male)
    }

    /// Entries of one part suited to `sex`.
    pub fn of(&self, part: NamePart, sex: NameSex) -> impl Iterator<Item = &NameEntry> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.part == part && e.sex.suits(sex))
    }
}

/// Static description of one pool file.
struct PoolSpec {
    nationality: &'static str,
    country: &'static str,
    script: &'static str,
    convention: NamingConvention,
    no_family_name_percent: u8,
    file: &'static str,
    text: &'static str,
    family_tail: Option<FamilyTailSpec>,
}

/// The element file from which a pool's rarer family names are composed, and the share of people
/// who bear one of the listed (leading) family names instead.
struct FamilyTailSpec {
    file: &'static str,
    text: &'static str,
    listed_percent: u8,
}

const SPECS: &[PoolSpec] = &[
    PoolSpec {
        nationality: "GBR",
        country: "United Kingdom",
        script: "Latin",
        convention: NamingConvention::GivenFamily,
        no_family_name_percent: 0,
        file: "data/names/gbr.csv",
        text: include_str!("../../data/names/gbr.csv"),
        // About one person in five in England and Wales bears one of the ~70 leading surnames
        // listed (Smith alone 1.2-1.4 %); see the element file's header.
        family_tail: Some(FamilyTailSpec {
            file: "data/names/gbr-family-elements.csv",
            text: include_str!("../../data/names/gbr-family-elements.csv"),
            listed_percent: 20,
        }),
    },
    PoolSpec {
        nationality: "ALB",
        country: "Albania",
        script: "Latin",
        convention: NamingConvention::GivenFamily,
        no_family_name_percent: 0,
        file: "data/names/alb.csv",
        text: include_str!("../../data/names/alb.csv"),
        family_tail: None,
    },
    PoolSpec {
        nationality: "VNM",
        country: "Vietnam",
        script: "Latin",
        convention: NamingConvention::FamilyFirst,
        no_family_name_percent: 0,
        file: "data/names/vnm.csv",
        text: include_str!("../../data/names/vnm.csv"),
        family_tail: None,
    },
    PoolSpec {
        nationality: "ERI",
        country: "Eritrea",
        script: "Ethiopic",
        convention: NamingConvention::Patronymic,
        no_family_name_percent: 0,
        file: "data/names/eri.csv",
        text: include_str!("../../data/names/eri.csv"),
        family_tail: None,
    },
    PoolSpec {
        nationality: "SDN",
        country: "Sudan",
        script: "Arabic",
        convention: NamingConvention::Patronymic,
        no_family_name_percent: 0,
        file: "data/names/sdn.csv",
        text: include_str!("../../data/names/sdn.csv"),
        family_tail: None,
    },
    PoolSpec {
        nationality: "AFG",
        country: "Afghanistan",
        script: "Persian",
        convention: NamingConvention::SingleName,
        no_family_name_percent: 30,
        file: "data/names/afg.csv",
        text: include_str!("../../data/names/afg.csv"),
        family_tail: None,
    },
    PoolSpec {
        nationality: "IRQ",
        country: "Iraq",
        script: "Arabic",
        convention: NamingConvention::Patronymic,
        no_family_name_percent: 0,
        file: "data/names/irq.csv",
        text: include_str!("../../data/names/irq.csv"),
        family_tail: None,
    },
    PoolSpec {
        nationality: "IRN",
        country: "Iran",
        script: "Persian",
        convention: NamingConvention::GivenFamily,
        no_family_name_percent: 0,
        file: "data/names/irn.csv",
        text: include_str!("../../data/names/irn.csv"),
        family_tail: None,
    },
    PoolSpec {
        nationality: "SYR",
        country: "Syria",
        script: "Arabic",
        convention: NamingConvention::GivenFamily,
        no_family_name_percent: 0,
        file: "data/names/syr.csv",
        text: include_str!("../../data/names/syr.csv"),
        family_tail: None,
    },
];

/// ISO alpha-3 codes of the nationalities with a name pool, in [`SPECS`] order.
const NATIONALITIES: &[&str] = &[
    "GBR", "ALB", "VNM", "ERI", "SDN", "AFG", "IRQ", "IRN", "SYR",
];

static POOLS: LazyLock<Result<Vec<NamePool>, ReferenceError>> =
    LazyLock::new(|| SPECS.iter().map(parse_pool).collect());

/// ISO alpha-3 codes of the nationalities that have a name pool.
pub fn nationalities() -> &'static [&'static str] {
    NATIONALITIES
}

/// The name pool for a nationality (ISO alpha-3, case-insensitive), if there is one.
///
/// Returns `None` for every code only if the embedded data failed to parse, which the crate's tests
/// rule out; call [`super::validate`] to get the error instead.
pub fn name_pool(nationality_alpha3: &str) -> Option<&'static NamePool> {
    name_pools()
        .iter()
        .find(|p| p.nationality.eq_ignore_ascii_case(nationality_alpha3))
}

/// Every name pool.
pub fn name_pools() -> &'static [NamePool] {
    POOLS.as_deref().unwrap_or(&[])
}

/// Parses every pool and checks that [`nationalities`] lists exactly the pools present.
pub(crate) fn validate() -> Result<(), ReferenceError> {
    let pools = POOLS.as_ref().map_err(Clone::clone)?;
    let codes: Vec<&str> = pools.iter().map(|p| p.nationality).collect();
    if codes != NATIONALITIES {
        return Err(ReferenceError::new(
            "data/names",
            0,
            format!("pools {codes:?} != {NATIONALITIES:?}"),
        ));
    }
    Ok(())
}

/// True if `s` is a usable Latin spelling: ASCII letters plus space, hyphen and apostrophe, starting
/// with a letter.
pub fn is_plain_latin(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b' ' | b'-' | b'\''))
}

fn parse_pool(spec: &PoolSpec) -> Result<NamePool, ReferenceError> {
    let records = csv::parse(
        spec.file,
        spec.text,
        &["part", "sex", "original", "latin_variants", "weight"],
    )?;
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(records.len());
    for record in records {
        let err = |message: String| ReferenceError::new(spec.file, record.line, message);
        let [part, sex, original, variants, weight] = record.fields[..] else {
            return Err(err("wrong field count".to_owned()));
        };
        let part = match part {
            "given" => NamePart::Given,
            "middle" => NamePart::Middle,
            "family" => NamePart::Family,
            other => return Err(err(format!("unknown part {other:?}"))),
        };
        let sex = match sex {
            "m" => NameSex::Male,
            "f" => NameSex::Female,
            "u" => NameSex::Unisex,
            other => return Err(err(format!("unknown sex {other:?}"))),
        };
        if part == NamePart::Family && sex != NameSex::Unisex {
            return Err(err("family names must have sex u".to_owned()));
        }
        if original.is_empty() || original != original.trim() {
            return Err(err("empty or padded original".to_owned()));
        }
        let latin_variants: Vec<&'static str> = variants.split('|').map(str::trim).collect();
        if latin_variants.iter().any(|v| v.is_empty()) {
            return Err(err("empty Latin variant".to_owned()));
        }
        let unique: HashSet<&str> = latin_variants.iter().copied().collect();
        if unique.len() != latin_variants.len() {
            return Err(err(format!("repeated Latin variant in {variants:?}")));
        }
        if !latin_variants.iter().any(|v| is_plain_latin(v)) {
            return Err(err(format!("no plain-ASCII Latin variant in {variants:?}")));
        }
        if !seen.insert((part, sex, original)) {
            return Err(err(format!("duplicate entry {original}")));
        }
        let weight = parse_weight(weight).map_err(err)?;
        entries.push(NameEntry {
            part,
            sex,
            original,
            latin_variants,
            weight,
        });
    }
    let (family_tail, listed_family_percent) = match &spec.family_tail {
        Some(tail) => (compose_family_tail(tail, &entries)?, tail.listed_percent),
        None => (Vec::new(), 100),
    };
    Ok(NamePool {
        nationality: spec.nationality,
        country: spec.country,
        script: spec.script,
        convention: spec.convention,
        no_family_name_percent: spec.no_family_name_percent,
        entries,
        family_tail,
        listed_family_percent,
    })
}

/// Every `first` + `last` element combination of `spec`'s file as a family name (runs of three
/// equal letters cut to two), leaving out any that equal a listed family name or repeat another.
fn compose_family_tail(
    spec: &FamilyTailSpec,
    listed: &[NameEntry],
) -> Result<Vec<NameEntry>, ReferenceError> {
    let records = csv::parse(spec.file, spec.text, &["part", "text"])?;
    let (mut firsts, mut lasts) = (Vec::new(), Vec::new());
    for record in records {
        let err = |message: String| ReferenceError::new(spec.file, record.line, message);
        let [part, text] = record.fields[..] else {
            return Err(err("wrong field count".to_owned()));
        };
        if !text.bytes().all(|b| b.is_ascii_alphabetic()) || text.is_empty() {
            return Err(err(format!("element {text:?} is not plain ASCII letters")));
        }
        match part {
            "first" if text.starts_with(|c: char| c.is_ascii_uppercase()) => firsts.push(text),
            "last" if text.bytes().all(|b| b.is_ascii_lowercase()) => lasts.push(text),
            "first" | "last" => return Err(err(format!("element {text:?} has the wrong case"))),
            other => return Err(err(format!("unknown part {other:?}"))),
        }
    }
    if firsts.is_empty() || lasts.is_empty() {
        return Err(ReferenceError::new(
            spec.file,
            0,
            "needs first and last elements".to_owned(),
        ));
    }
    let mut seen: HashSet<String> = listed
        .iter()
        .filter(|e| e.part == NamePart::Family)
        .map(|e| e.original.to_owned())
        .collect();
    let mut tail = Vec::with_capacity(firsts.len() * lasts.len());
    for first in &firsts {
        for last in &lasts {
            let mut name = String::with_capacity(first.len() + last.len());
            // elements are checked ASCII letters, so bytes are characters
            for b in first.bytes().chain(last.bytes()) {
                if !name.as_bytes().ends_with(&[b, b]) {
                    name.push(char::from(b));
                }
            }
            if seen.insert(name.clone()) {
                // Composed once per process and kept for its lifetime, like the embedded text.
                let name: &'static str = Box::leak(name.into_boxed_str());
                tail.push(NameEntry {
                    part: NamePart::Family,
                    sex: NameSex::Unisex,
                    original: name,
                    latin_variants: vec![name],
                    weight: 1,
                });
            }
        }
    }
    Ok(tail)
}

impl fmt::Display for NamePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NamePart::Given => "given",
            NamePart::Middle => "middle",
            NamePart::Family => "family",
        })
    }
}

impl fmt::Display for NameSex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameSex::Male => "m",
            NameSex::Female => "f",
            NameSex::Unisex => "u",
        })
    }
}
