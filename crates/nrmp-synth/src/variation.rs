//! Deliberate variation between records of the same person, for evaluating matching.
//!
//! Some persons are recorded a second (sometimes a third) time by another agency. Each such
//! record differs from the first in the ways real records do — another transliteration, a typo,
//! swapped name parts, an assessed date of birth, a missing field — and every difference is
//! listed as a [`Variation`] so that evaluation can count how many fields differ.

use crate::names::{RenderedName, Style, TrueName};
use chrono::{Datelike, NaiveDate};
use nrmp_domain::ids::PersonId;
use nrmp_domain::person::DateOfBirth;
use rand::Rng;

/// A field that a [`Variation`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordField {
    /// The given name.
    Given,
    /// The family name.
    Family,
    /// The date of birth.
    Dob,
    /// The nationalities.
    Nationality,
    /// The identifiers (another agency rarely knows them all); not a compared field.
    Identifiers,
}

/// Which name part a spelling variation touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameField {
    /// The given name (including middle names).
    Given,
    /// The family name.
    Family,
}

impl NameField {
    fn field(self) -> RecordField {
        match self {
            Self::Given => RecordField::Given,
            Self::Family => RecordField::Family,
        }
    }
}

/// The kind of typing error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypoKind {
    /// Two adjacent letters swapped.
    Transposition,
    /// A letter left out.
    Dropped,
    /// A letter typed twice.
    Doubled,
}

/// One way a duplicate record differs from the person's first record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variation {
    /// Another Latin transliteration of the same original name (`Mohammed` → `Muhammad`).
    Transliteration {
        /// Which part.
        field: NameField,
        /// The spelling in the first record.
        from: String,
        /// The spelling in this record.
        to: String,
    },
    /// A typing error in a name.
    Typo {
        /// Which part.
        field: NameField,
        /// What kind of error.
        kind: TypoKind,
    },
    /// Given and family name recorded the wrong way round.
    GivenFamilySwapped,
    /// A Vietnamese name read in Western order: `Nguyen Van Duc` recorded as given
    /// `Nguyen Van`, family `Duc`.
    VietnameseOrderFlipped,
    /// An age-assessed range (containing the true date) instead of the exact date.
    DobAgeAssessed,
    /// Day and month of the date of birth swapped.
    DobDayMonthSwapped,
    /// No date of birth recorded.
    DobMissing,
    /// No nationality recorded.
    NationalityMissing,
    /// Fewer identifiers than the first record (another agency does not know them).
    IdentifiersOmitted,
}

impl Variation {
    /// The fields this variation changes.
    pub fn fields(&self) -> &'static [RecordField] {
        match self {
            Self::Transliteration { field, .. } | Self::Typo { field, .. } => match field {
                NameField::Given => &[RecordField::Given],
                NameField::Family => &[RecordField::Family],
            },
            Self::GivenFamilySwapped | Self::VietnameseOrderFlipped => {
                &[RecordField::Given, RecordField::Family]
            }
            Self::DobAgeAssessed | Self::DobDayMonthSwapped | Self::DobMissing => {
                &[RecordField::Dob]
            }
            Self::NationalityMissing => &[RecordField::Nationality],
            Self::IdentifiersOmitted => &[RecordField::Identifiers],
        }
    }
}

/// A record that duplicates another record of the same true person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRecord {
    /// The duplicate record.
    pub record: PersonId,
    /// The person's first record, which the variations are relative to.
    pub of: PersonId,
    /// The true person's key (as in [`crate::Generated::truth`]).
    pub key: u64,
    /// How this record differs from the first.
    pub variations: Vec<Variation>,
}

impl DuplicateRecord {
    /// How many compared fields (given, family, date of birth, nationality) differ from the
    /// first record; identifiers are not counted.
    pub fn fields_changed(&self) -> usize {
        let mut fields: Vec<RecordField> = self
            .variations
            .iter()
            .flat_map(Variation::fields)
            .copied()
            .filter(|f| *f != RecordField::Identifiers)
            .collect();
        fields.sort();
        fields.dedup();
        fields.len()
    }
}

/// Applies a typo to `s` (at least three letters), returning the kind applied.
pub(crate) fn typo<R: Rng + ?Sized>(rng: &mut R, s: &str) -> Option<(String, TypoKind)> {
    let chars: Vec<char> = s.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    if letters.len() < 3 {
        return None;
    }
    // Keep the first letter: people rarely mistype it, and blocking relies on it less.
    let pos = letters[rng.random_range(1..letters.len())];
    let kind = match rng.random_range(0..3) {
        0 => TypoKind::Transposition,
        1 => TypoKind::Dropped,
        _ => TypoKind::Doubled,
    };
    let mut out = chars.clone();
    match kind {
        TypoKind::Transposition => {
            let next = pos + 1;
            if next >= out.len() || !out[next].is_alphabetic() || out[next] == out[pos] {
                return None;
            }
            out.swap(pos, next);
        }
        TypoKind::Dropped => {
            out.remove(pos);
        }
        TypoKind::Doubled => out.insert(pos, chars[pos]),
    }
    let out: String = out.into_iter().collect();
    (out != s).then_some((out, kind))
}

/// Candidate name variations for `name`, as closures' tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameOp {
    Respell,
    Typo,
    Swap,
    VnFlip,
}

/// Renders `name` for a duplicate record, applying name variations until the budget of changed
/// fields is used; returns the rendering and the variations applied.
pub(crate) fn vary_name<R: Rng + ?Sized>(
    rng: &mut R,
    name: &TrueName,
    with_original: bool,
    wanted: usize,
    fields: &mut Vec<RecordField>,
    budget: usize,
) -> (RenderedName, Vec<Variation>) {
    let mut name = name.clone();
    let base = name.render(with_original);
    let mut vars = Vec::new();
    let mut ops = vec![NameOp::Respell, NameOp::Respell, NameOp::Typo, NameOp::Typo];
    if !name.family.is_empty() {
        ops.push(if name.style == Style::FamilyFirst {
            NameOp::VnFlip
        } else {
            NameOp::Swap
        });
    }
    let mut post: Option<NameOp> = None;
    let mut typo_on: Option<NameField> = None;
    let mut respelt: Vec<NameField> = Vec::new();
    for _ in 0..wanted {
        if ops.is_empty() {
            break;
        }
        let op = ops.swap_remove(rng.random_range(0..ops.len()));
        match op {
            NameOp::Respell => {
                let field = if name.family.is_empty() || rng.random_bool(0.5) {
                    NameField::Given
                } else {
                    NameField::Family
                };
                if respelt.contains(&field) || !fits(fields, &[field.field()], budget) {
                    continue;
                }
                respelt.push(field);
                let before = name.render(false);
                let changed = match field {
                    NameField::Given => {
                        let mut done = false;
                        if let Some(w) = name.given.respelt(rng) {
                            name.given = w;
                            done = true;
                        } else if let Some(m) = name.middle.first_mut()
                            && let Some(w) = m.respelt(rng)
                        {
                            *m = w;
                            done = true;
                        }
                        done
                    }
                    NameField::Family => match name.family.first_mut() {
                        Some(f) => match f.respelt(rng) {
                            Some(w) => {
                                *f = w;
                                true
                            }
                            None => false,
                        },
                        None => false,
                    },
                };
                if changed {
                    let after = name.render(false);
                    let (from, to) = match field {
                        NameField::Given => (before.given, after.given),
                        NameField::Family => (before.family, after.family),
                    };
                    if from != to {
                        add(fields, &[field.field()]);
                        vars.push(Variation::Transliteration { field, from, to });
                    }
                }
            }
            NameOp::Typo => {
                let field = if name.family.is_empty() || rng.random_bool(0.5) {
                    NameField::Given
                } else {
                    NameField::Family
                };
                if typo_on.is_none() && fits(fields, &[field.field()], budget) {
                    typo_on = Some(field);
                }
            }
            NameOp::Swap | NameOp::VnFlip => {
                if post.is_none()
                    && fits(fields, &[RecordField::Given, RecordField::Family], budget)
                {
                    post = Some(op);
                    add(fields, &[RecordField::Given, RecordField::Family]);
                }
            }
        }
    }
    let mut out = name.render(with_original);
    if let Some(field) = typo_on {
        let target = match field {
            NameField::Given => &mut out.given,
            NameField::Family => &mut out.family,
        };
        if let Some((t, kind)) = typo(rng, target) {
            *target = t;
            add(fields, &[field.field()]);
            vars.push(Variation::Typo { field, kind });
        }
    }
    match post {
        Some(NameOp::Swap) => {
            std::mem::swap(&mut out.given, &mut out.family);
            vars.push(Variation::GivenFamilySwapped);
        }
        Some(NameOp::VnFlip) => {
            // Read Western-style: the last written word taken as the family name.
            let full = format!("{} {}", out.family, out.given);
            let mut words: Vec<&str> = full.split_whitespace().collect();
            if let Some(last) = words.pop()
                && !words.is_empty()
            {
                out = RenderedName {
                    given: words.join(" "),
                    family: last.to_owned(),
                    original: out.original,
                };
            }
            vars.push(Variation::VietnameseOrderFlipped);
        }
        _ => {}
    }
    // Keep the list honest: a typo can undo a respelling (`Woods` → `Wood`), and a swap of
    // identical parts changes nothing.
    if post.is_none() {
        vars.retain(|v| match v {
            Variation::Transliteration { field, .. } | Variation::Typo { field, .. } => match field
            {
                NameField::Given => out.given != base.given,
                NameField::Family => out.family != base.family,
            },
            _ => true,
        });
    }
    if out.given == base.given && out.family == base.family {
        vars.retain(|v| {
            !matches!(
                v,
                Variation::GivenFamilySwapped | Variation::VietnameseOrderFlipped
            )
        });
    }
    (out, vars)
}

fn fits(fields: &[RecordField], new: &[RecordField], budget: usize) -> bool {
    let extra = new.iter().filter(|f| !fields.contains(f)).count();
    fields.len() + extra <= budget
}

fn add(fields: &mut Vec<RecordField>, new: &[RecordField]) {
    for f in new {
        if !fields.contains(f) {
            fields.push(*f);
        }
    }
}

/// Varies the first record's date of birth for a duplicate, if the budget allows; `truth` is
/// the true date and `today` the date the record was made.
pub(crate) fn vary_dob<R: Rng + ?Sized>(
    rng: &mut R,
    dob: Option<&DateOfBirth>,
    truth: NaiveDate,
    today: NaiveDate,
    fields: &mut Vec<RecordField>,
    budget: usize,
) -> (Option<DateOfBirth>, Option<Variation>) {
    let keep = (dob.cloned(), None);
    let Some(d) = dob else { return keep };
    if !fits(fields, &[RecordField::Dob], budget) {
        return keep;
    }
    let exact = match d {
        DateOfBirth::Exact { date } => Some(*date),
        _ => None,
    };
    let r: f64 = rng.random();
    let out = match exact {
        Some(_) if r < 0.4 => {
            let lo = truth - chrono::Days::new(rng.random_range(90..500));
            let hi = (truth + chrono::Days::new(rng.random_range(90..500))).min(today);
            (
                Some(DateOfBirth::AgeAssessed {
                    earliest: lo,
                    latest: hi.max(truth),
                    assessed_on: Some(today),
                }),
                Some(Variation::DobAgeAssessed),
            )
        }
        Some(date) if r < 0.75 && date.day() <= 12 && date.day() != date.month() => {
            match NaiveDate::from_ymd_opt(date.year(), date.day(), date.month()) {
                Some(sw) if sw <= today => (
                    Some(DateOfBirth::Exact { date: sw }),
                    Some(Variation::DobDayMonthSwapped),
                ),
                _ => (None, Some(Variation::DobMissing)),
            }
        }
        _ => (None, Some(Variation::DobMissing)),
    };
    if out.1.is_some() {
        add(fields, &[RecordField::Dob]);
    }
    out
}

/// Marks the nationality as missing if the budget allows.
pub(crate) fn vary_nationality(fields: &mut Vec<RecordField>, budget: usize) -> Option<Variation> {
    if fits(fields, &[RecordField::Nationality], budget) {
        add(fields, &[RecordField::Nationality]);
        Some(Variation::NationalityMissing)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn typos_change_one_letter() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..200 {
            if let Some((t, kind)) = typo(&mut rng, "Tesfay") {
                assert_ne!(t, "Tesfay");
                assert!(t.starts_with('T'));
                let d = t.chars().count() as i64 - 6;
                match kind {
                    TypoKind::Transposition => assert_eq!(d, 0),
                    TypoKind::Dropped => assert_eq!(d, -1),
                    TypoKind::Doubled => assert_eq!(d, 1),
                }
            }
        }
        assert!(typo(&mut rng, "Li").is_none());
    }

    #[test]
    fn dob_variations_keep_the_truth_in_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let truth = NaiveDate::from_ymd_opt(2005, 3, 9).unwrap();
        let today = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let exact = DateOfBirth::Exact { date: truth };
        for _ in 0..200 {
            let mut fields = Vec::new();
            let (d, v) = vary_dob(&mut rng, Some(&exact), truth, today, &mut fields, 2);
            match v {
                Some(Variation::DobAgeAssessed) => {
                    let (a, b) = d.unwrap().range();
                    assert!(a <= truth && truth <= b);
                }
                Some(Variation::DobDayMonthSwapped) => {
                    assert_eq!(d.unwrap().best_estimate().to_string(), "2005-09-03");
                }
                Some(Variation::DobMissing) => assert!(d.is_none()),
                other => panic!("{other:?}"),
            }
            assert_eq!(fields, vec![RecordField::Dob]);
        }
    }
}
