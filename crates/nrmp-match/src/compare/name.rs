//! Full-name comparison: best token alignment in any order, over all name forms.

use crate::compare::NameLevel;
use crate::prepare::{MAX_TOKENS, Prepared, Tok, TokenInfo, Tokens};

/// Jaro-Winkler similarity of two byte strings without allocation (names are
/// short ASCII); falls back to `strsim` for strings longer than 64 bytes.
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    const CAP: usize = 64;
    if a.len() > CAP || b.len() > CAP {
        return strsim::jaro_winkler(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b));
    }
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_flag = [false; CAP];
    let mut b_flag = [false; CAP];
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_flag[j] && b[j] == *ca {
                a_flag[i] = true;
                b_flag[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (i, ca) in a.iter().enumerate() {
        if a_flag[i] {
            while !b_flag[k] {
                k += 1;
            }
            if *ca != b[k] {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    let jaro =
        (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

/// An upper bound of [`jaro_winkler`] from letter counts alone: Jaro's matching
/// characters are at most the letters of each string that occur anywhere in the
/// other, and transpositions only lower the score. Cheap; lets most clearly
/// different tokens skip the full computation.
fn jaro_winkler_upper(a: &[u8], b: &[u8]) -> f64 {
    let mask = |s: &[u8]| s.iter().fold(0u64, |m, c| m | 1u64 << (c & 63));
    let (ma, mb) = (mask(a), mask(b));
    let present = |s: &[u8], other: u64| {
        s.iter()
            .filter(|c| other & (1u64 << (*c & 63)) != 0)
            .count()
    };
    let m = present(a, mb).min(present(b, ma)) as f64;
    if m == 0.0 || a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + 1.0) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

/// How well two single tokens agree (ordered weakest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenMatch {
    /// No agreement.
    None,
    /// One is a single letter equal to the other's first letter.
    Initial,
    /// Same Double Metaphone code, or same consonant skeleton when one side is abjad.
    Phonetic,
    /// Jaro-Winkler >= 0.85.
    JaroWinklerMid,
    /// Jaro-Winkler >= 0.92.
    JaroWinklerHigh,
    /// Same variant group.
    Variant,
    /// Same folded text.
    Exact,
}

/// Outcome of a name comparison: the level and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameOutcome {
    /// Agreement level.
    pub level: NameLevel,
    /// Index of the left record's name form used (into `Prepared::names`).
    pub left: usize,
    /// Index of the right record's name form used.
    pub right: usize,
    /// Variant keys of tokens agreeing exactly or by variant group, and, when every
    /// token corresponds (levels down to phonetic), of the commoner of each closely
    /// matching pair (for term-frequency adjustment).
    pub agreeing_keys: Vec<u32>,
}

/// Compares two tokens.
pub fn token_match<T: Tokens + ?Sized>(a: Tok, b: Tok, v: &T) -> TokenMatch {
    if a.id == b.id {
        return TokenMatch::Exact;
    }
    let (ia, ib) = (v.info(a.id), v.info(b.id));
    if ia.key == ib.key {
        return TokenMatch::Variant;
    }
    let (ta, tb) = (&*ia.text, &*ib.text);
    if ta.len() == 1 || tb.len() == 1 {
        return if ta.as_bytes().first() == tb.as_bytes().first() {
            TokenMatch::Initial
        } else {
            TokenMatch::None
        };
    }
    if ia.grouped && ib.grouped {
        // both listed in variant groups, different ones: known to be different names
        // (Hassan / Hussein, Mohammed / Mohammadi), however alike they look or sound
        return TokenMatch::None;
    }
    let (ba, bb) = (ta.as_bytes(), tb.as_bytes());
    let jw = if jaro_winkler_upper(ba, bb) < 0.85 {
        0.0
    } else {
        jaro_winkler(ba, bb)
    };
    if jw >= 0.92 {
        return TokenMatch::JaroWinklerHigh;
    }
    if jw >= 0.85 {
        return TokenMatch::JaroWinklerMid;
    }
    let phon = ia.phon.iter().any(|p| *p != 0 && ib.phon.contains(p));
    let skel = (a.abjad || b.abjad) && ia.skel_len >= 1 && ia.skel == ib.skel;
    let translit = ia.translit != 0 && ia.translit == ib.translit;
    if phon || skel || translit {
        TokenMatch::Phonetic
    } else {
        TokenMatch::None
    }
}

/// Whether a phonetic agreement of two tokens says anything about the name: they
/// start with the same letter, or each has at least two consonants. Double Metaphone
/// codes a name of a vowel and one consonant by those two letters, so `Ali`, `Ella`,
/// `Isla` and `Olly` all share the code `AL`: on its own that is no shared evidence,
/// and a name agreeing with another only so is [`NameLevel::Different`], not
/// [`NameLevel::Partial`] (issue 15). Within a name whose every token corresponds
/// (levels down to phonetic) it still counts.
fn telling_phonetic(a: &TokenInfo, b: &TokenInfo) -> bool {
    a.text.as_bytes().first() == b.text.as_bytes().first() || (a.skel_len >= 2 && b.skel_len >= 2)
}

/// Whether token `a` is tokens `b1` and `b2` written as one word (`Abdulrahman` / `Abdul
/// Rahman`, `Ahmadshah` / `Ahmad Shah`, `Vandung` / `Van Dung`): exactly, or within
/// Jaro-Winkler 0.92 of the joined spelling (`Ahmadshah` / `Ahmed Shah`). No allocation.
fn joined(a: &TokenInfo, b1: &TokenInfo, b2: &TokenInfo) -> TokenMatch {
    const CAP: usize = 64;
    let (ta, t1, t2) = (a.text.as_bytes(), b1.text.as_bytes(), b2.text.as_bytes());
    let len = t1.len() + t2.len();
    if t1.len() < 2 || t2.len() < 2 || len > CAP || ta.len().abs_diff(len) > 1 {
        return TokenMatch::None;
    }
    if ta.len() == len && ta.starts_with(t1) && ta.ends_with(t2) {
        return TokenMatch::Exact;
    }
    let mut buf = [0u8; CAP];
    buf[..t1.len()].copy_from_slice(t1);
    buf[t1.len()..len].copy_from_slice(t2);
    if jaro_winkler_upper(ta, &buf[..len]) >= 0.92 && jaro_winkler(ta, &buf[..len]) >= 0.92 {
        TokenMatch::JaroWinklerHigh
    } else {
        TokenMatch::None
    }
}

/// Whether token `a` is token `b` with a particle written onto it (`Alhassan` / `Hassan`,
/// `Vandung` / `Dung` when `Văn` was dropped as a weak token): the same name.
fn particle_joined(a: &TokenInfo, b: &TokenInfo) -> bool {
    let (ta, tb) = (&*a.text, &*b.text);
    tb.len() >= 3
        && ta.len() > tb.len() + 1
        && ta.ends_with(tb)
        && crate::normalise::WEAK_TOKENS.contains(&&ta[..ta.len() - tb.len()])
}

/// Variant keys of agreeing tokens, without allocating (names have at most
/// [`MAX_TOKENS`] tokens).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    buf: [u32; MAX_TOKENS],
    len: usize,
}

impl Keys {
    const EMPTY: Self = Self {
        buf: [0; MAX_TOKENS],
        len: 0,
    };

    fn push(&mut self, k: u32) {
        if self.len < MAX_TOKENS {
            self.buf[self.len] = k;
            self.len += 1;
        }
    }

    /// The keys.
    pub(crate) fn as_slice(&self) -> &[u32] {
        &self.buf[..self.len]
    }
}

/// Compares two token lists in any order; returns the level and the variant keys
/// of tokens that agree (see [`NameOutcome::agreeing_keys`]).
pub fn compare_token_lists<T: Tokens + ?Sized>(
    a: &[Tok],
    b: &[Tok],
    v: &T,
) -> (NameLevel, Vec<u32>) {
    let (level, keys) = token_lists(a, b, v);
    (level, keys.as_slice().to_vec())
}

fn token_lists<T: Tokens + ?Sized>(a: &[Tok], b: &[Tok], v: &T) -> (NameLevel, Keys) {
    if a.is_empty() || b.is_empty() {
        return (NameLevel::Missing, Keys::EMPTY);
    }
    let (a, b) = (&a[..a.len().min(MAX_TOKENS)], &b[..b.len().min(MAX_TOKENS)]);
    let (n, m) = (a.len(), b.len());
    let mut grid = [TokenMatch::None; MAX_TOKENS * MAX_TOKENS];
    // some pair of tokens agrees well enough to make the names partly agree
    let mut shared = false;
    for (i, ta) in a.iter().enumerate() {
        for (j, tb) in b.iter().enumerate() {
            let t = token_match(*ta, *tb, v);
            grid[i * m + j] = t;
            shared |= t >= TokenMatch::JaroWinklerMid
                || (t == TokenMatch::Phonetic && telling_phonetic(v.info(ta.id), v.info(tb.id)));
        }
    }
    // Greedy best-first alignment (names have few tokens).
    let mut used_a = [false; MAX_TOKENS];
    let mut used_b = [false; MAX_TOKENS];
    let mut pairs = [TokenMatch::None; MAX_TOKENS];
    let mut n_pairs = 0;
    let mut keys = Keys::EMPTY;
    // Closely matching tokens (phonetic to Jaro-Winkler high) by the key of the
    // commoner of the two: added to `keys` when every token corresponds, so the
    // name's frequency counts all of it (see `Scorer::whole_name_tf`).
    let mut close = Keys::EMPTY;
    // Compounds first: a token written as one word on one side and as two adjacent
    // tokens (or with a particle) on the other covers them all.
    for i in 0..n {
        for j in 0..m {
            if used_a[i] || used_b[j] {
                continue;
            }
            let (ia, ib) = (v.info(a[i].id), v.info(b[j].id));
            if particle_joined(ia, ib) || particle_joined(ib, ia) {
                used_a[i] = true;
                used_b[j] = true;
                keys.push(ia.key);
                pairs[n_pairs] = TokenMatch::Variant;
                n_pairs += 1;
                continue;
            }
            if j + 1 < m && !used_b[j + 1] {
                let t = joined(ia, ib, v.info(b[j + 1].id));
                if t > TokenMatch::None {
                    used_a[i] = true;
                    used_b[j] = true;
                    used_b[j + 1] = true;
                    keys.push(ia.key);
                    pairs[n_pairs] = t;
                    n_pairs += 1;
                    continue;
                }
            }
            if i + 1 < n && !used_a[i + 1] {
                let t = joined(ib, ia, v.info(a[i + 1].id));
                if t > TokenMatch::None {
                    used_a[i] = true;
                    used_a[i + 1] = true;
                    used_b[j] = true;
                    keys.push(ia.key);
                    keys.push(v.info(a[i + 1].id).key);
                    pairs[n_pairs] = t;
                    n_pairs += 1;
                }
            }
        }
    }
    loop {
        let mut best: Option<(usize, usize, TokenMatch)> = None;
        for i in (0..n).filter(|i| !used_a[*i]) {
            for j in (0..m).filter(|j| !used_b[*j]) {
                let t = grid[i * m + j];
                if t > TokenMatch::None && best.is_none_or(|(_, _, bt)| t > bt) {
                    best = Some((i, j, t));
                }
            }
        }
        let Some((i, j, t)) = best else { break };
        used_a[i] = true;
        used_b[j] = true;
        if t >= TokenMatch::Variant {
            keys.push(v.info(b[j].id).key);
        } else if t >= TokenMatch::Phonetic {
            let (ka, kb) = (v.info(a[i].id).key, v.info(b[j].id).key);
            close.push(if v.info(ka).count > v.info(kb).count {
                ka
            } else {
                kb
            });
        }
        pairs[n_pairs] = t;
        n_pairs += 1;
    }
    let pairs = &pairs[..n_pairs];
    let all_a = used_a[..n].iter().all(|u| *u);
    let all_b = used_b[..m].iter().all(|u| *u);
    let worst = pairs.iter().copied().min().unwrap_or(TokenMatch::None);
    let level = if pairs.is_empty() {
        NameLevel::Different
    } else if all_a && all_b {
        match worst {
            TokenMatch::Exact => NameLevel::Exact,
            TokenMatch::Variant => NameLevel::VariantGroup,
            TokenMatch::JaroWinklerHigh => NameLevel::JaroWinklerHigh,
            TokenMatch::JaroWinklerMid => NameLevel::JaroWinklerMid,
            TokenMatch::Phonetic => NameLevel::Phonetic,
            TokenMatch::Initial | TokenMatch::None => NameLevel::Initial,
        }
    } else if ((all_a && n >= 2) || (all_b && m >= 2)) && worst >= TokenMatch::Phonetic {
        NameLevel::Subset
    } else if shared {
        NameLevel::Partial
    } else {
        NameLevel::Different
    };
    if matches!(
        level,
        NameLevel::JaroWinklerHigh | NameLevel::JaroWinklerMid | NameLevel::Phonetic
    ) {
        for k in close.as_slice() {
            keys.push(*k);
        }
    }
    (level, keys)
}

/// [`compare_names`] without allocating: level, name forms used, agreeing keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BestName {
    pub(crate) level: NameLevel,
    pub(crate) left: usize,
    pub(crate) right: usize,
    pub(crate) keys: Keys,
}

impl BestName {
    pub(crate) fn outcome(&self) -> NameOutcome {
        NameOutcome {
            level: self.level,
            left: self.left,
            right: self.right,
            agreeing_keys: self.keys.as_slice().to_vec(),
        }
    }
}

pub(crate) fn best_names<T: Tokens + ?Sized>(a: &Prepared, b: &Prepared, v: &T) -> BestName {
    let mut best = BestName {
        level: NameLevel::Missing,
        left: 0,
        right: 0,
        keys: Keys::EMPTY,
    };
    for (i, na) in a.names.iter().enumerate() {
        for (j, nb) in b.names.iter().enumerate() {
            let (level, keys) = token_lists(&na.tokens, &nb.tokens, v);
            let better = level < best.level || (level == best.level && keys.len > best.keys.len);
            if better {
                best = BestName {
                    level,
                    left: i,
                    right: j,
                    keys,
                };
            }
            if best.level == NameLevel::Exact {
                return best;
            }
        }
    }
    best
}

/// Compares all name forms of two records and keeps the best outcome.
pub fn compare_names<T: Tokens + ?Sized>(a: &Prepared, b: &Prepared, v: &T) -> NameOutcome {
    best_names(a, b, v).outcome()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::{Vocab, normalise_record};
    use crate::record::{MatchRecord, PersonName};

    fn level(a: PersonName, b: PersonName) -> NameLevel {
        let mut v = Vocab::new();
        let pa = v.prepare(normalise_record(&MatchRecord::new("a").with_name(a)));
        let pb = v.prepare(normalise_record(&MatchRecord::new("b").with_name(b)));
        compare_names(&pa, &pb, &v).level
    }

    #[test]
    fn fast_jaro_winkler_agrees_with_strsim() {
        for (x, y) in [
            ("martha", "marhta"),
            ("muhammad", "mahmud"),
            ("dixon", "dicksonx"),
            ("a", "a"),
            ("abc", "xyz"),
            ("tesfay", "tesfaye"),
            ("nguyen", "ngyuen"),
        ] {
            let fast = jaro_winkler(x.as_bytes(), y.as_bytes());
            let slow = strsim::jaro_winkler(x, y);
            assert!((fast - slow).abs() < 1e-9, "{x} {y}: {fast} vs {slow}");
        }
    }

    #[test]
    fn jaro_winkler_upper_bound_is_never_below_the_score() {
        let words = [
            "mohammed",
            "muhammad",
            "mahmud",
            "tesfay",
            "tesfaye",
            "nguyen",
            "ngyuen",
            "a",
            "ab",
            "xyz",
            "karimi",
            "kareemi",
            "hosseini",
            "husseini",
            "aaaa",
            "aaab",
            "smith",
            "smyth",
            "abcdefghij",
            "jihgfedcba",
        ];
        for x in words {
            for y in words {
                let (xb, yb) = (x.as_bytes(), y.as_bytes());
                assert!(
                    jaro_winkler_upper(xb, yb) + 1e-12 >= jaro_winkler(xb, yb),
                    "{x} {y}"
                );
            }
        }
        assert!(jaro_winkler_upper(b"smith", b"karimi") < 0.85);
    }

    #[test]
    fn variant_spellings_get_variant_level() {
        assert_eq!(
            level(
                PersonName::new("Mohammed", "Hassan"),
                PersonName::new("Muhammad", "Hasan")
            ),
            NameLevel::VariantGroup
        );
    }

    #[test]
    fn different_names_do_not_get_variant_level() {
        let l = level(
            PersonName::new("Muhammad", "Karimi"),
            PersonName::new("Mahmud", "Karimi"),
        );
        assert!(l > NameLevel::VariantGroup, "{l:?}");
        let l = level(
            PersonName::new("Ahmed", "Karimi"),
            PersonName::new("Hamid", "Karimi"),
        );
        assert!(l > NameLevel::VariantGroup, "{l:?}");
    }

    #[test]
    fn vietnamese_any_order_and_diacritics() {
        assert_eq!(
            level(
                PersonName::new("Văn Đức", "Nguyễn"),
                PersonName::full("Duc Van Nguyen")
            ),
            NameLevel::Exact
        );
        assert_eq!(
            level(
                PersonName::full("Nguyễn Văn Đức"),
                PersonName::new("Duc", "Nguyen")
            ),
            NameLevel::Exact,
            "Van is a weak middle name"
        );
    }

    #[test]
    fn arabic_script_matches_latin_transliteration() {
        let l = level(
            PersonName::full("محمد علي"),
            PersonName::new("Mohammed", "Ali"),
        );
        assert!(l <= NameLevel::Phonetic, "{l:?}");
        let l = level(
            PersonName::new("Yousef", "Hussein").with_original("يوسف حسين"),
            PersonName::new("Yusuf", "Husain"),
        );
        assert_eq!(l, NameLevel::VariantGroup);
        let l = level(
            PersonName::full("يوسف حسين"),
            PersonName::new("Yusuf", "Husain"),
        );
        assert_eq!(l, NameLevel::Phonetic);
    }

    #[test]
    fn subset_initial_partial_and_different() {
        assert_eq!(
            level(
                PersonName::new("Mohammed Ali", "Hassan"),
                PersonName::new("Mohammed", "Hassan")
            ),
            NameLevel::Subset
        );
        assert_eq!(
            level(
                PersonName::new("M", "Hassan"),
                PersonName::new("Mohammed", "Hassan")
            ),
            NameLevel::Initial
        );
        assert_eq!(
            level(
                PersonName::new("Ermal", "Hoxha"),
                PersonName::new("Ermal", "Krasniqi")
            ),
            NameLevel::Partial
        );
        assert_eq!(
            level(
                PersonName::new("Tesfay", "Mehari"),
                PersonName::new("John", "Smith")
            ),
            NameLevel::Different
        );
        assert_eq!(
            level(
                PersonName::new("Tesfaye", "Mehari"),
                PersonName::new("Tesfay", "Meharie")
            ),
            NameLevel::VariantGroup
        );
    }

    /// Issue 15: `Mohammed Ali` was a partial agreement with `Ella May Hall` (Ali and Ella
    /// share the Double Metaphone code `AL`), weighed as `Sofia Rose Ali` was.
    #[test]
    fn names_sharing_only_a_vowel_and_one_consonant_are_different() {
        let query = || PersonName::new("Mohammed", "Ali");
        for (given, family) in [
            ("Ella May", "Hall"),
            ("Isla Ann", "Wrayrow"),
            ("Olly", "Jones"),
            // Mohammadi is a name of its own (its variant group is not Mohammed's)
            ("Setareh", "Mohamadi"),
        ] {
            assert_eq!(
                level(query(), PersonName::new(given, family)),
                NameLevel::Different,
                "{given} {family}"
            );
        }
        // a shared token, a close spelling, or a telling phonetic agreement (same first
        // letter, or two consonants each) is still partial agreement
        for (a, b) in [
            (query(), PersonName::new("Sofia Rose", "Ali")),
            (query(), PersonName::new("Setareh", "Alli")),
            (
                PersonName::new("Hossain", "Karimi"),
                PersonName::new("Hassan", "Jones"),
            ),
            (query(), PersonName::new("Aly", "Jones")),
        ] {
            assert_eq!(
                level(a.clone(), b.clone()),
                NameLevel::Partial,
                "{a:?} {b:?}"
            );
        }
    }

    /// Issue 15: `Hussein Ebrahim` put `Hassan Ebrahimi` (a phonetic agreement of every
    /// token) above `Hussain Ebrahim Mohamed` (every token of the query in a three-part name).
    /// Hassan and Hussein are different names of different variant groups; a name sharing
    /// the query's every token with one more part is a subset.
    #[test]
    fn names_of_different_variant_groups_do_not_agree_and_a_third_part_is_a_subset() {
        assert_eq!(
            level(
                PersonName::new("Hussein", "Ebrahim"),
                PersonName::new("Hassan", "Ebrahimi")
            ),
            NameLevel::Partial
        );
        assert_eq!(
            level(
                PersonName::new("Hussein", "Ebrahim"),
                PersonName::new("Hussain Ebrahim", "Mohamed")
            ),
            NameLevel::Subset
        );
        // middle name moved to the family name: the same tokens
        assert_eq!(
            level(
                PersonName::new("Hussain Ebrahim", "Mohamed"),
                PersonName::new("Hussain", "Ebrahim Mohamed")
            ),
            NameLevel::Exact
        );
        let mut v = Vocab::new();
        let (a, b) = (v.intern("hassan"), v.intern("hussein"));
        let t = |id| Tok { id, abjad: false };
        assert_eq!(token_match(t(a), t(b), &v), TokenMatch::None);
        // a spelling in no group still agrees as before
        let c = v.intern("hossain");
        assert!(token_match(t(b), t(c), &v) >= TokenMatch::Phonetic);
    }

    /// Compound names written as one word or two (`Ahmad Shah` / `Ahmadshah`, `Văn Dũng` /
    /// `VanDung`, `Al-Hassan` / `Alhassan`) are the same name.
    #[test]
    fn compound_names_joined_or_split_agree() {
        for (a, b, want) in [
            (
                PersonName::new("Ahmad Shah", "Karimi"),
                PersonName::new("Ahmadshah", "Karimi"),
                NameLevel::Exact,
            ),
            (
                PersonName::new("Ahmed Shah", "Karimi"),
                PersonName::new("Ahmadshah", "Karimi"),
                NameLevel::JaroWinklerHigh,
            ),
            (
                PersonName::new("Văn Dũng", "Nguyễn"),
                PersonName::new("VanDung", "Nguyen"),
                NameLevel::VariantGroup,
            ),
            (
                PersonName::new("Omar", "Al-Hassan"),
                PersonName::new("Omar", "Alhassan"),
                NameLevel::VariantGroup,
            ),
            (
                PersonName::new("Nur Ali", "Hamidi"),
                PersonName::full("Hamidi Nurali"),
                NameLevel::Exact,
            ),
        ] {
            assert_eq!(level(a.clone(), b.clone()), want, "{a:?} {b:?}");
            assert_eq!(
                level(b.clone(), a.clone()),
                want,
                "{b:?} {a:?} (either side)"
            );
        }
        // two different names that happen to concatenate into something else do not
        assert_eq!(
            level(
                PersonName::new("Ahmad Shah", "Karimi"),
                PersonName::new("Ahmadzai", "Karimi")
            ),
            NameLevel::Partial
        );
    }

    /// Vowel and consonant variants across transliteration schemes, beyond the listed
    /// variant groups, agree phonetically.
    #[test]
    fn transliteration_variants_outside_the_groups_agree() {
        for (a, b) in [
            ("Othmaan", "Usmane"),
            ("Hussien", "Husayin"),
            ("Yousof", "Yusef"),
            ("Khadija", "Qadija"),
            ("Zakaria", "Sakaria"),
        ] {
            let l = level(PersonName::new(a, "Tesfay"), PersonName::new(b, "Tesfay"));
            assert!(l <= NameLevel::Phonetic, "{a} {b}: {l:?}");
        }
        // too few consonants to tell by the transliteration skeleton
        let mut v = Vocab::new();
        let (a, b) = (v.intern("amir"), v.intern("umar"));
        assert_eq!((v.info(a).translit, v.info(b).translit), (0, 0));
    }
}
