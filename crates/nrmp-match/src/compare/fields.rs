//! Comparators for the non-name fields.

use chrono::{Datelike, NaiveDate};

use crate::compare::{
    DobLevel, HeightLevel, IdentifierLevel, MarksLevel, NationalityLevel, SexLevel, TextLevel,
};
use crate::record::{DobKind, DobRange, Sex};

/// Width in days below which an overlapping range counts as narrow.
const NARROW_DAYS: i64 = 366;

fn swapped(d: NaiveDate) -> Option<NaiveDate> {
    if d.day() <= 12 && d.day() != d.month() {
        NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
    } else {
        None
    }
}

/// Whether an exact date is 1 January, the default date the Home Office (and many other
/// systems) records when only the year of birth is known or assessed.
fn default_date(r: &DobRange) -> bool {
    r.kind == DobKind::Exact && r.is_point() && r.earliest.ordinal() == 1
}

/// A 1 January default date taken for what it means: an age assessed to a year, so the
/// years either side as well (an age-assessed range of three years).
fn as_year(r: &DobRange) -> DobRange {
    let y = r.earliest.year();
    match (
        NaiveDate::from_ymd_opt(y - 1, 1, 1),
        NaiveDate::from_ymd_opt(y + 1, 12, 31),
    ) {
        (Some(a), Some(b)) => DobRange::range(a, b, DobKind::AgeAssessed),
        _ => *r,
    }
}

/// Compares dates of birth as ranges.
///
/// Two exact dates that differ only in the year, by one or two (`2007-05-03` /
/// `2009-05-03`), are one mistyped part of the date, as a day/month swap is: level
/// `DayMonthSwapped`. A 1 January date compared with another date is an assessed year:
/// the range from the year before to the year after (`2008-01-01` against `2007-05-03` or
/// `2008-05-03` overlaps widely, as an age assessment does).
pub fn compare_dob(a: Option<&DobRange>, b: Option<&DobRange>) -> DobLevel {
    let (Some(a), Some(b)) = (a, b) else {
        return DobLevel::Missing;
    };
    if a != b && (default_date(a) || default_date(b)) {
        let ya = if default_date(a) { as_year(a) } else { *a };
        let yb = if default_date(b) { as_year(b) } else { *b };
        return compare_dob(Some(&ya), Some(&yb));
    }
    let exact = |r: &DobRange| r.kind == DobKind::Exact && r.is_point();
    if exact(a) && exact(b) {
        let (da, db) = (a.earliest, b.earliest);
        return if da == db {
            DobLevel::Exact
        } else if swapped(da) == Some(db)
            || ((da.month(), da.day()) == (db.month(), db.day())
                && da.year().abs_diff(db.year()) <= 2)
        {
            // day and month swapped, or the year one or two out
            DobLevel::DayMonthSwapped
        } else if da.year() == db.year() {
            DobLevel::SameYear
        } else if (da - db).num_days().abs() <= NARROW_DAYS {
            DobLevel::WithinOneYear
        } else {
            DobLevel::Different
        };
    }
    let overlap = a.earliest <= b.latest && b.earliest <= a.latest;
    if overlap {
        let width = |r: &DobRange| (r.latest - r.earliest).num_days();
        return if width(a).max(width(b)) <= NARROW_DAYS {
            DobLevel::OverlapNarrow
        } else {
            DobLevel::OverlapWide
        };
    }
    let in_range = |d: NaiveDate, r: &DobRange| r.earliest <= d && d <= r.latest;
    let swap_hit = (a.is_point() && swapped(a.earliest).is_some_and(|d| in_range(d, b)))
        || (b.is_point() && swapped(b.earliest).is_some_and(|d| in_range(d, a)));
    if swap_hit {
        return DobLevel::DayMonthSwapped;
    }
    let gap = if a.latest < b.earliest {
        (b.earliest - a.latest).num_days()
    } else {
        (a.earliest - b.latest).num_days()
    };
    if gap <= NARROW_DAYS {
        DobLevel::WithinOneYear
    } else {
        DobLevel::Different
    }
}

/// Compares sex (`Unknown`/absent is missing).
pub fn compare_sex(a: Option<Sex>, b: Option<Sex>) -> SexLevel {
    match (a, b) {
        (Some(x), Some(y)) if x != Sex::Unknown && y != Sex::Unknown => {
            if x == y {
                SexLevel::Same
            } else {
                SexLevel::Different
            }
        }
        _ => SexLevel::Missing,
    }
}

/// Byte equality without a library call (codes are a few bytes; this runs for
/// every candidate pair).
fn short_eq(x: &str, y: &str) -> bool {
    x.len() == y.len() && x.bytes().zip(y.bytes()).all(|(p, q)| p == q)
}

/// Compares nationality sets (any shared code agrees).
pub fn compare_nationality(a: &[Box<str>], b: &[Box<str>]) -> NationalityLevel {
    if a.is_empty() || b.is_empty() {
        NationalityLevel::Missing
    } else if a.iter().any(|x| b.iter().any(|y| short_eq(x, y))) {
        NationalityLevel::Shared
    } else {
        NationalityLevel::Different
    }
}

/// Compares height ranges in cm.
pub fn compare_height(a: Option<(u16, u16)>, b: Option<(u16, u16)>) -> HeightLevel {
    let (Some((a0, a1)), Some((b0, b1))) = (a, b) else {
        return HeightLevel::Missing;
    };
    if a0 <= b1 && b0 <= a1 {
        return HeightLevel::Overlap;
    }
    let gap = if a1 < b0 {
        b0 - a1
    } else {
        a0.saturating_sub(b1)
    };
    if gap <= 5 {
        HeightLevel::Near
    } else {
        HeightLevel::Different
    }
}

/// Words too generic to make two marks "the same".
const GENERIC_MARK_WORDS: &[&str] = &[
    "scar",
    "scars",
    "tattoo",
    "tattoos",
    "mark",
    "marks",
    "mole",
    "birthmark",
    "left",
    "right",
    "upper",
    "lower",
    "small",
    "large",
    "big",
];

/// Compares distinguishing marks (best pair of marks by word overlap).
pub fn compare_marks(a: &[Vec<Box<str>>], b: &[Vec<Box<str>>]) -> MarksLevel {
    if a.is_empty() || b.is_empty() {
        return MarksLevel::Missing;
    }
    let mut best = MarksLevel::Different;
    for ma in a {
        for mb in b {
            let shared: Vec<&Box<str>> = ma.iter().filter(|w| mb.contains(w)).collect();
            let specific = shared.iter().any(|w| !GENERIC_MARK_WORDS.contains(&&***w));
            if !specific {
                continue;
            }
            let mut union: Vec<&Box<str>> = ma.iter().chain(mb.iter()).collect();
            union.sort();
            union.dedup();
            let jaccard = shared.len() as f64 / union.len().max(1) as f64;
            let level = if jaccard >= 0.5 {
                MarksLevel::Similar
            } else {
                MarksLevel::Partial
            };
            best = best.min(level);
        }
    }
    best
}

/// [`compare_marks`] on marks whose words are interned token ids (as in
/// [`crate::prepare::Prepared`]); same levels.
pub fn compare_mark_ids<T: crate::prepare::Tokens + ?Sized>(
    a: &[Box<[u32]>],
    b: &[Box<[u32]>],
    tokens: &T,
) -> MarksLevel {
    if a.is_empty() || b.is_empty() {
        return MarksLevel::Missing;
    }
    let mut best = MarksLevel::Different;
    for ma in a {
        for mb in b {
            let mut shared = 0usize;
            let mut specific = false;
            for w in ma.iter() {
                if mb.contains(w) {
                    shared += 1;
                    specific |= !GENERIC_MARK_WORDS.contains(&&*tokens.info(*w).text);
                }
            }
            if !specific {
                continue;
            }
            let mut union: Vec<u32> = ma.iter().chain(mb.iter()).copied().collect();
            union.sort_unstable();
            union.dedup();
            let jaccard = shared as f64 / union.len().max(1) as f64;
            let level = if jaccard >= 0.5 {
                MarksLevel::Similar
            } else {
                MarksLevel::Partial
            };
            best = best.min(level);
        }
    }
    best
}

/// True if the Damerau-Levenshtein distance is at most 1 (one substitution,
/// insertion, deletion or transposition of adjacent characters), without
/// allocating: identifiers are compared for many candidate pairs.
pub(crate) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let mut diff = [0usize; 2];
            let mut n = 0;
            for i in (0..short.len()).filter(|i| short[*i] != long[*i]) {
                if n == 2 {
                    return false;
                }
                diff[n] = i;
                n += 1;
            }
            let [i, j] = diff;
            n < 2 || (j == i + 1 && short[i] == long[j] && short[j] == long[i])
        }
        1 => {
            let p = short.iter().zip(long).take_while(|(x, y)| x == y).count();
            short[p..] == long[p + 1..]
        }
        _ => false,
    }
}

/// Compares identifiers of the same kind: exact, one typo, different, missing.
pub fn compare_identifiers(
    a: &[(Box<str>, Box<str>)],
    b: &[(Box<str>, Box<str>)],
) -> IdentifierLevel {
    let mut best = IdentifierLevel::Missing;
    for (ka, va) in a {
        for (kb, vb) in b {
            if ka != kb {
                continue;
            }
            let level = if va == vb {
                IdentifierLevel::Exact
            } else if within_one_edit(va.as_bytes(), vb.as_bytes()) {
                IdentifierLevel::OneTypo
            } else {
                IdentifierLevel::Different
            };
            best = best.min(level);
        }
    }
    best
}

/// Jaro-Winkler band of two folded texts.
pub fn text_level(a: &str, b: &str) -> TextLevel {
    if a == b {
        return TextLevel::Exact;
    }
    let jw = strsim::jaro_winkler(a, b);
    if jw >= 0.92 {
        TextLevel::JaroWinklerHigh
    } else if jw >= 0.85 {
        TextLevel::JaroWinklerMid
    } else {
        TextLevel::Different
    }
}

/// Compares generic text fields with the same name; one level per field name of
/// the left record present on both sides, as (index into `a`, level).
pub fn compare_texts(
    a: &[(Box<str>, Box<str>)],
    b: &[(Box<str>, Box<str>)],
) -> Vec<(usize, TextLevel)> {
    let mut out: Vec<(usize, TextLevel)> = Vec::new();
    for (i, (ka, va)) in a.iter().enumerate() {
        let mut level = TextLevel::Missing;
        for (kb, vb) in b {
            if ka == kb {
                level = level.min(text_level(va, vb));
            }
        }
        if level == TextLevel::Missing {
            continue;
        }
        // one entry per field name: keep the best
        if let Some(slot) = out.iter_mut().find(|(j, _)| a[*j].0 == *ka) {
            slot.1 = slot.1.min(level);
        } else {
            out.push((i, level));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn default_first_of_january_is_the_year_and_a_year_out_is_one_mistyped_part() {
        let e = |y, m, dd| DobRange::exact(d(y, m, dd));
        // the Home Office default date: an assessed year, give or take one
        assert_eq!(
            compare_dob(Some(&e(2008, 1, 1)), Some(&e(2008, 5, 3))),
            DobLevel::OverlapWide
        );
        assert_eq!(
            compare_dob(Some(&e(2008, 5, 3)), Some(&e(2007, 1, 1))),
            DobLevel::OverlapWide,
            "an assessed year one out"
        );
        assert_eq!(
            compare_dob(Some(&e(2009, 11, 3)), Some(&e(2007, 1, 1))),
            DobLevel::WithinOneYear
        );
        assert_eq!(
            compare_dob(Some(&e(2008, 1, 1)), Some(&e(2008, 1, 1))),
            DobLevel::Exact
        );
        assert_eq!(
            compare_dob(Some(&e(2008, 1, 1)), Some(&e(2004, 6, 1))),
            DobLevel::Different
        );
        // the same day and month, the year one or two out
        for y in [2006, 2007, 2009, 2010] {
            assert_eq!(
                compare_dob(Some(&e(2008, 5, 3)), Some(&e(y, 5, 3))),
                DobLevel::DayMonthSwapped,
                "{y}"
            );
        }
        assert_eq!(
            compare_dob(Some(&e(2008, 5, 3)), Some(&e(2011, 5, 3))),
            DobLevel::Different
        );
    }

    #[test]
    fn dob_levels() {
        let e = |y, m, dd| DobRange::exact(d(y, m, dd));
        assert_eq!(
            compare_dob(Some(&e(1990, 3, 4)), Some(&e(1990, 3, 4))),
            DobLevel::Exact
        );
        assert_eq!(
            compare_dob(Some(&e(1990, 3, 4)), Some(&e(1990, 4, 3))),
            DobLevel::DayMonthSwapped
        );
        assert_eq!(
            compare_dob(Some(&e(1990, 3, 4)), Some(&e(1990, 9, 20))),
            DobLevel::SameYear
        );
        assert_eq!(
            compare_dob(Some(&e(1990, 12, 30)), Some(&e(1991, 2, 1))),
            DobLevel::WithinOneYear
        );
        assert_eq!(
            compare_dob(Some(&e(1990, 3, 4)), Some(&e(1995, 3, 4))),
            DobLevel::Different
        );
        assert_eq!(compare_dob(None, Some(&e(1995, 3, 4))), DobLevel::Missing);
    }

    #[test]
    fn age_assessed_range_overlaps_stated_date() {
        let assessed = DobRange::range(d(2005, 1, 1), d(2008, 12, 31), DobKind::AgeAssessed);
        let stated = DobRange::exact(d(2007, 6, 15));
        assert_eq!(
            compare_dob(Some(&assessed), Some(&stated)),
            DobLevel::OverlapWide
        );
        let year = DobRange::year(2007).unwrap();
        assert_eq!(
            compare_dob(Some(&year), Some(&stated)),
            DobLevel::OverlapNarrow
        );
        let later = DobRange::exact(d(2009, 6, 15));
        assert_eq!(
            compare_dob(Some(&assessed), Some(&later)),
            DobLevel::WithinOneYear
        );
    }

    #[test]
    fn other_fields() {
        assert_eq!(
            compare_sex(Some(Sex::Male), Some(Sex::Male)),
            SexLevel::Same
        );
        assert_eq!(
            compare_sex(Some(Sex::Male), Some(Sex::Unknown)),
            SexLevel::Missing
        );
        let n = |s: &[&str]| s.iter().map(|x| Box::<str>::from(*x)).collect::<Vec<_>>();
        assert_eq!(
            compare_nationality(&n(&["AFG", "IRN"]), &n(&["IRN"])),
            NationalityLevel::Shared
        );
        assert_eq!(
            compare_nationality(&n(&["AFG"]), &n(&["ERI"])),
            NationalityLevel::Different
        );
        assert_eq!(
            compare_height(Some((170, 175)), Some((174, 180))),
            HeightLevel::Overlap
        );
        assert_eq!(
            compare_height(Some((170, 172)), Some((176, 180))),
            HeightLevel::Near
        );
        assert_eq!(
            compare_height(Some((150, 155)), Some((176, 180))),
            HeightLevel::Different
        );
        let m = |s: &str| vec![s.split(' ').map(Box::<str>::from).collect::<Vec<_>>()];
        assert_eq!(
            compare_marks(&m("scar left cheek"), &m("scar cheek left")),
            MarksLevel::Similar
        );
        assert_eq!(
            compare_marks(&m("scar left arm"), &m("scar left cheek")),
            MarksLevel::Different
        );
        assert_eq!(
            compare_marks(
                &m("tattoo rose right arm"),
                &m("rose tattoo neck with dragon wings")
            ),
            MarksLevel::Partial
        );
    }

    #[test]
    fn interned_marks_compare_like_marks_as_text() {
        use crate::prepare::{Tokens, Vocab};
        let texts = [
            "scar left cheek",
            "scar cheek left",
            "scar left arm",
            "tattoo rose right arm",
            "rose tattoo neck with dragon wings",
            "rose rose neck",
            "burn mark back",
            "stud right eyebrow",
            "old scar neck",
        ];
        let mut v = Vocab::new();
        let words = |s: &str| s.split(' ').map(Box::<str>::from).collect::<Vec<_>>();
        let sets: Vec<Vec<&str>> = vec![
            vec![texts[0]],
            vec![texts[1], texts[6]],
            vec![texts[2]],
            vec![texts[3], texts[7]],
            vec![texts[4]],
            vec![texts[5]],
            vec![texts[8], texts[2]],
            vec![],
        ];
        for a in &sets {
            for b in &sets {
                let (ta, tb): (Vec<_>, Vec<_>) = (
                    a.iter().map(|s| words(s)).collect(),
                    b.iter().map(|s| words(s)).collect(),
                );
                let mut ids = |m: &Vec<Vec<Box<str>>>| -> Vec<Box<[u32]>> {
                    m.iter()
                        .map(|w| w.iter().map(|x| v.intern(x)).collect())
                        .collect()
                };
                let (ia, ib) = (ids(&ta), ids(&tb));
                assert_eq!(
                    compare_mark_ids(&ia, &ib, &v),
                    compare_marks(&ta, &tb),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn within_one_edit_agrees_with_damerau_levenshtein() {
        let words = [
            "",
            "A",
            "AB",
            "BA",
            "ABC",
            "ACB",
            "BAC",
            "ABCD",
            "ABDC",
            "ABXD",
            "ABD",
            "XABCD",
            "ABCDX",
            "X1234567",
            "X1234576",
            "X123456",
            "X12345678",
            "Y1234567",
            "1X234567",
            "X1243567",
        ];
        for x in words {
            for y in words {
                assert_eq!(
                    within_one_edit(x.as_bytes(), y.as_bytes()),
                    strsim::damerau_levenshtein(x, y) <= 1,
                    "{x:?} {y:?}"
                );
            }
        }
    }

    #[test]
    fn identifier_one_typo() {
        let id = |k: &str, v: &str| vec![(Box::<str>::from(k), Box::<str>::from(v))];
        assert_eq!(
            compare_identifiers(&id("passport", "X1234567"), &id("passport", "X1234567")),
            IdentifierLevel::Exact
        );
        assert_eq!(
            compare_identifiers(&id("passport", "X1234567"), &id("passport", "X1243567")),
            IdentifierLevel::OneTypo
        );
        assert_eq!(
            compare_identifiers(&id("passport", "X1234567"), &id("passport", "Y9999999")),
            IdentifierLevel::Different
        );
        assert_eq!(
            compare_identifiers(&id("passport", "X1234567"), &id("phone", "X1234567")),
            IdentifierLevel::Missing
        );
    }

    #[test]
    fn text_bands() {
        let t = |k: &str, v: &str| vec![(Box::<str>::from(k), Box::<str>::from(v))];
        assert_eq!(
            compare_texts(&t("town", "croydon"), &t("town", "croydon")),
            [(0, TextLevel::Exact)]
        );
        assert_eq!(
            compare_texts(&t("town", "croydon"), &t("town", "croyden")),
            [(0, TextLevel::JaroWinklerHigh)]
        );
        assert!(compare_texts(&t("town", "croydon"), &t("street", "croydon")).is_empty());
    }
}
