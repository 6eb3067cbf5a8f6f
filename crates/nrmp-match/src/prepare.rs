//! Precomputed, compact forms of records: interned name tokens with their
//! variant keys, phonetic codes, skeletons and term frequencies.
//!
//! Preparation has two steps so that the expensive part runs in parallel:
//! [`normalise_record`] (pure, per record) and [`Vocab::prepare`] (interning,
//! sequential but cheap).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::normalise::{
    NameToken, fold_words, normalise_name, phonetic_codes, skeleton, translit_skeleton, variant_key,
};
use crate::record::{DobRange, MatchRecord, Sex};
use crate::variants::variant_canonical;

/// Stable 64-bit hash (SipHash with fixed keys: identical across runs and machines).
pub(crate) fn hash64<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Everything known about one distinct name token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// Folded text.
    pub text: Box<str>,
    /// Id of the variant-group key token (itself if in no group).
    pub key: u32,
    /// Hashes of the Double Metaphone primary and alternate codes (0 = empty).
    pub phon: [u64; 2],
    /// Hash of the consonant skeleton.
    pub skel: u64,
    /// Length of the consonant skeleton.
    pub skel_len: u8,
    /// Number of record names containing this token as a variant key (term frequency).
    pub count: u32,
    /// The token is a spelling listed in a variant group ([`crate::variants`]): two such
    /// tokens of *different* groups are known to be different names (Hassan / Hussein).
    pub grouped: bool,
    /// Hash of the transliteration skeleton ([`translit_skeleton`]), 0 when it is shorter
    /// than three consonants (too little to tell names apart).
    pub translit: u64,
}

/// Access to token information (the base vocabulary or a query overlay).
pub trait Tokens {
    /// Information about a token id.
    fn info(&self, id: u32) -> &TokenInfo;
    /// Interns a folded token, returning its id.
    fn intern(&mut self, text: &str) -> u32;
    /// Id of a token already known (in the vocabulary, or interned by this query).
    fn known(&self, text: &str) -> Option<u32>;
    /// Term-frequency adjustment in bits for agreement on variant key `key`:
    /// `log2(u_token / f_token)` (negative for common tokens), 0 without data.
    fn tf_bits(&self, key: u32) -> f64;
    /// `log2(records / count)`: minus log2 of the share of records whose names
    /// contain variant key `key` (at least 0); `None` with fewer than two records.
    fn share_bits(&self, key: u32) -> Option<f64>;
    /// `log2(records of nationality / count)`: minus log2 of the share of the
    /// records of `nationality` whose names contain variant key `key`; `None`
    /// with fewer than two records of it.
    fn share_bits_within(&self, key: u32, nationality: &str) -> Option<f64>;
    /// `log2(records / records of nationality)`; `None` with fewer than two
    /// records of it.
    fn nationality_bits(&self, nationality: &str) -> Option<f64>;
}

fn make_info(text: &str, key: u32) -> TokenInfo {
    let (p, a) = phonetic_codes(text);
    let code = |c: &str| if c.is_empty() { 0 } else { hash64(c) };
    let sk = skeleton(text);
    let tr = translit_skeleton(text);
    TokenInfo {
        text: text.into(),
        key,
        phon: [code(&p), code(&a)],
        skel: hash64(&sk),
        skel_len: u8::try_from(sk.len()).unwrap_or(u8::MAX),
        count: 0,
        grouped: variant_canonical(text).is_some(),
        translit: if tr.trim_start_matches('_').len() >= 3 {
            hash64(&tr)
        } else {
            0
        },
    }
}

/// Interned token vocabulary with term-frequency counts.
#[derive(Debug, Clone, Default)]
pub struct Vocab {
    tokens: Vec<TokenInfo>,
    map: HashMap<Box<str>, u32>,
    total: u64,
    sum_sq: f64,
    /// Records counted ([`Vocab::count`]).
    records: u64,
    /// Nationality code → (its id, records counted with it).
    nationalities: HashMap<Box<str>, (u32, u64)>,
    /// Records of a nationality whose names contain a variant key, by
    /// `nationality id << 32 | key`.
    within: HashMap<u64, u32>,
}

impl Vocab {
    /// An empty vocabulary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True if no token is interned.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Id of an already interned token.
    pub fn get(&self, text: &str) -> Option<u32> {
        self.map.get(text).copied()
    }

    fn next_id(&self) -> u32 {
        u32::try_from(self.tokens.len()).unwrap_or(u32::MAX)
    }

    /// Interns a normalised record and returns its compact prepared form.
    /// Term frequencies are *not* updated; call [`Vocab::count`] for records that
    /// belong to the data (not for queries).
    pub fn prepare(&mut self, n: NormalisedRecord) -> Prepared {
        prepare_with(self, n)
    }

    /// Adds (`delta = 1`) or removes (`delta = -1`) a record's name tokens to/from
    /// the term-frequency table. Each variant key counts once per record, overall
    /// and within each of the record's nationalities.
    pub fn count(&mut self, p: &Prepared, delta: i64) {
        let mut keys: Vec<u32> = p
            .names
            .iter()
            .flat_map(|n| n.tokens.iter())
            .map(|t| self.tokens[t.id as usize].key)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let adding = delta > 0;
        if adding {
            self.records += 1;
        } else {
            self.records = self.records.saturating_sub(1);
        }
        for code in &p.nationalities {
            if !self.nationalities.contains_key(code) {
                let next = u32::try_from(self.nationalities.len()).unwrap_or(u32::MAX);
                self.nationalities.insert(code.clone(), (next, 0));
            }
            let Some((id, n)) = self.nationalities.get_mut(code) else {
                continue;
            };
            *n = if adding { *n + 1 } else { n.saturating_sub(1) };
            let id = u64::from(*id) << 32;
            for k in &keys {
                let c = self.within.entry(id | u64::from(*k)).or_insert(0);
                *c = if adding { *c + 1 } else { c.saturating_sub(1) };
            }
        }
        for k in keys {
            let info = &mut self.tokens[k as usize];
            let c = f64::from(info.count);
            if adding {
                info.count += 1;
                self.total += 1;
                self.sum_sq += 2.0 * c + 1.0;
            } else if info.count > 0 {
                info.count -= 1;
                self.total -= 1;
                self.sum_sq -= 2.0 * c - 1.0;
            }
        }
    }
}

impl Tokens for Vocab {
    fn info(&self, id: u32) -> &TokenInfo {
        &self.tokens[id as usize]
    }

    fn known(&self, text: &str) -> Option<u32> {
        self.get(text)
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.map.get(text) {
            return *id;
        }
        let key_text = variant_key(text);
        let key = if key_text == text {
            self.next_id()
        } else {
            self.intern(key_text)
        };
        let id = self.next_id();
        self.tokens.push(make_info(text, key));
        self.map.insert(text.into(), id);
        id
    }

    fn tf_bits(&self, key: u32) -> f64 {
        tf_bits_from(self, key)
    }

    fn share_bits(&self, key: u32) -> Option<f64> {
        share_bits_from(self, key)
    }

    fn share_bits_within(&self, key: u32, nationality: &str) -> Option<f64> {
        let &(id, records) = self.nationalities.get(nationality)?;
        if records < 2 {
            return None;
        }
        let count = self
            .within
            .get(&(u64::from(id) << 32 | u64::from(key)))
            .copied()
            .unwrap_or(0)
            .max(1);
        Some((records as f64 / f64::from(count)).log2().max(0.0))
    }

    fn nationality_bits(&self, nationality: &str) -> Option<f64> {
        let &(_, records) = self.nationalities.get(nationality)?;
        (records >= 2 && self.records >= records)
            .then(|| (self.records as f64 / records as f64).log2())
    }
}

fn share_bits_from(v: &Vocab, key: u32) -> Option<f64> {
    if v.records < 2 {
        return None;
    }
    let count = v.tokens.get(key as usize).map_or(0, |t| t.count).max(1);
    Some((v.records as f64 / f64::from(count)).log2().max(0.0))
}

fn tf_bits_from(v: &Vocab, key: u32) -> f64 {
    if v.total < 2 || v.sum_sq <= 0.0 {
        return 0.0;
    }
    let count = v.tokens.get(key as usize).map_or(0, |t| t.count).max(1);
    // f_t = count/total, u_tok = sum_sq/total^2  =>  u_tok/f_t = sum_sq/(total*count)
    (v.sum_sq / (v.total as f64 * f64::from(count))).log2()
}

/// A query-time extension of a vocabulary: unknown query tokens get temporary ids
/// without mutating the shared vocabulary.
#[derive(Debug)]
pub struct Overlay<'a> {
    base: &'a Vocab,
    extra: Vec<TokenInfo>,
    map: HashMap<Box<str>, u32>,
}

impl<'a> Overlay<'a> {
    /// A new overlay on `base`.
    pub fn new(base: &'a Vocab) -> Self {
        Self {
            base,
            extra: Vec::new(),
            map: HashMap::new(),
        }
    }

    /// Interns a normalised query record.
    pub fn prepare(&mut self, n: NormalisedRecord) -> Prepared {
        prepare_with(self, n)
    }

    fn next_id(&self) -> u32 {
        u32::try_from(self.base.len() + self.extra.len()).unwrap_or(u32::MAX)
    }
}

impl Tokens for Overlay<'_> {
    fn info(&self, id: u32) -> &TokenInfo {
        let base = self.base.len();
        if (id as usize) < base {
            self.base.info(id)
        } else {
            &self.extra[id as usize - base]
        }
    }

    fn known(&self, text: &str) -> Option<u32> {
        self.base.get(text).or_else(|| self.map.get(text).copied())
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.base.get(text) {
            return id;
        }
        if let Some(id) = self.map.get(text) {
            return *id;
        }
        let key_text = variant_key(text);
        let key = if key_text == text {
            self.next_id()
        } else {
            self.intern(key_text)
        };
        let id = self.next_id();
        self.extra.push(make_info(text, key));
        self.map.insert(text.into(), id);
        id
    }

    fn tf_bits(&self, key: u32) -> f64 {
        tf_bits_from(self.base, key)
    }

    fn share_bits(&self, key: u32) -> Option<f64> {
        share_bits_from(self.base, key)
    }

    fn share_bits_within(&self, key: u32, nationality: &str) -> Option<f64> {
        self.base.share_bits_within(key, nationality)
    }

    fn nationality_bits(&self, nationality: &str) -> Option<f64> {
        self.base.nationality_bits(nationality)
    }
}

/// A name token occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok {
    /// Token id in the vocabulary.
    pub id: u32,
    /// The token was transliterated from an abjad script.
    pub abjad: bool,
}

/// A prepared name: strong tokens only, plus the original text for explanations.
#[derive(Debug, Clone)]
pub struct PreparedName {
    /// Strong tokens in written order (at most 8).
    pub tokens: Vec<Tok>,
    /// The name as written.
    pub display: Box<str>,
}

/// A record in compact, comparison-ready form.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Caller's id.
    pub id: Box<str>,
    /// All name forms (main, aliases, original-script forms).
    pub names: Vec<PreparedName>,
    /// Date of birth.
    pub dob: Option<DobRange>,
    /// Sex (`Unknown` is stored as `None`).
    pub sex: Option<Sex>,
    /// Upper-case nationality codes.
    pub nationalities: Vec<Box<str>>,
    /// Height range (min, max) in cm.
    pub height: Option<(u16, u16)>,
    /// Marks as folded word lists.
    /// Each mark's words, interned in the vocabulary like name tokens (one small
    /// allocation per mark instead of one per word).
    pub marks: Vec<Box<[u32]>>,
    /// Identifiers as (folded kind, upper-case alphanumeric value).
    pub identifiers: Vec<(Box<str>, Box<str>)>,
    /// Text fields as (lower-case field name, folded value).
    pub texts: Vec<(Box<str>, Box<str>)>,
}

/// The few fields of a [`Prepared`] record that bound its weight cheaply (date of
/// birth, sex, nationality, height, and which other fields are present), stored
/// contiguously per record so that most candidates are ruled out without touching
/// the full record. Built by [`CheapFields::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheapFields {
    /// Date of birth.
    pub dob: Option<DobRange>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Height range.
    pub height: Option<(u16, u16)>,
    /// Up to two nationality codes of at most 3 bytes, packed (byte length in the
    /// top byte); 0 = none.
    nat: [u32; 2],
    /// More nationalities, or longer codes, than fit in `nat`: compare the full record.
    nat_overflow: bool,
    /// Number of nationalities.
    nat_len: u8,
    /// Has at least one name form with tokens.
    pub has_names: bool,
    /// Has marks.
    pub has_marks: bool,
    /// Has identifiers.
    pub has_identifiers: bool,
    /// Number of text fields (255: 255 or more).
    pub texts: u8,
}

fn pack_code(c: &str) -> Option<u32> {
    let b = c.as_bytes();
    if b.is_empty() || b.len() > 3 {
        return None;
    }
    let mut x = u32::from(u8::try_from(b.len()).unwrap_or(0)) << 24;
    for (i, byte) in b.iter().enumerate() {
        x |= u32::from(*byte) << (8 * i);
    }
    Some(x)
}

impl CheapFields {
    /// The cheap fields of `p`.
    pub fn of(p: &Prepared) -> Self {
        let mut nat = [0u32; 2];
        let mut nat_overflow = p.nationalities.len() > 2;
        for (slot, code) in nat.iter_mut().zip(&p.nationalities) {
            match pack_code(code) {
                Some(x) => *slot = x,
                None => nat_overflow = true,
            }
        }
        Self {
            dob: p.dob,
            sex: p.sex,
            height: p.height,
            nat,
            nat_overflow,
            nat_len: u8::try_from(p.nationalities.len()).unwrap_or(u8::MAX),
            has_names: p.names.iter().any(|n| !n.tokens.is_empty()),
            has_marks: !p.marks.is_empty(),
            has_identifiers: !p.identifiers.is_empty(),
            texts: u8::try_from(p.texts.len()).unwrap_or(u8::MAX),
        }
    }

    /// Nationality level from the packed codes, or `None` when a side overflowed
    /// (then compare the full records).
    pub fn nationality(&self, other: &Self) -> Option<crate::compare::NationalityLevel> {
        use crate::compare::NationalityLevel as N;
        if self.nat_len == 0 || other.nat_len == 0 {
            return Some(N::Missing);
        }
        if self.nat_overflow || other.nat_overflow {
            return None;
        }
        let a = &self.nat[..usize::from(self.nat_len)];
        let b = &other.nat[..usize::from(other.nat_len)];
        Some(if a.iter().any(|x| b.contains(x)) {
            N::Shared
        } else {
            N::Different
        })
    }
}

/// The pure, parallelisable half of preparation: every string normalised.
#[derive(Debug, Clone)]
pub struct NormalisedRecord {
    id: String,
    names: Vec<(String, Vec<NameToken>)>,
    dob: Option<DobRange>,
    sex: Option<Sex>,
    nationalities: Vec<Box<str>>,
    height: Option<(u16, u16)>,
    marks: Vec<Vec<Box<str>>>,
    identifiers: Vec<(Box<str>, Box<str>)>,
    texts: Vec<(Box<str>, Box<str>)>,
}

/// Maximum strong tokens kept per name.
pub const MAX_TOKENS: usize = 8;

/// Normalises every field of a record (no shared state; safe to run in parallel).
pub fn normalise_record(r: &MatchRecord) -> NormalisedRecord {
    let mut names = Vec::new();
    for n in &r.names {
        for nn in normalise_name(n) {
            let strong: Vec<NameToken> = nn
                .strong_tokens()
                .into_iter()
                .take(MAX_TOKENS)
                .cloned()
                .collect();
            names.push((nn.original, strong));
        }
    }
    let mut nationalities: Vec<Box<str>> = r
        .nationalities
        .iter()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .map(String::into_boxed_str)
        .collect();
    nationalities.sort();
    nationalities.dedup();
    let marks = r
        .marks
        .iter()
        .map(|m| {
            fold_words(m)
                .split(' ')
                .filter(|w| !w.is_empty() && !MARK_STOPWORDS.contains(w))
                .map(Into::into)
                .collect::<Vec<Box<str>>>()
        })
        .filter(|m| !m.is_empty())
        .collect();
    let identifiers = r
        .identifiers
        .iter()
        .map(|(k, v)| {
            let kind: String = fold_words(k).replace(' ', "_");
            let value: String = v
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            (kind.into_boxed_str(), value.into_boxed_str())
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let texts = r
        .text_fields
        .iter()
        .map(|(k, v)| {
            (
                k.trim().to_lowercase().into_boxed_str(),
                fold_words(v).into_boxed_str(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let height = r.height_cm.map(|(a, b)| (a.min(b), a.max(b)));
    NormalisedRecord {
        id: r.id.clone(),
        names,
        dob: r.dob,
        sex: r.sex.filter(|s| *s != Sex::Unknown),
        nationalities,
        height,
        marks,
        identifiers,
        texts,
    }
}

/// Words that carry no information in a mark description.
const MARK_STOPWORDS: &[&str] = &[
    "on", "the", "of", "a", "an", "and", "with", "in", "at", "to",
];

fn prepare_with<T: Tokens + ?Sized>(v: &mut T, n: NormalisedRecord) -> Prepared {
    let names = n
        .names
        .into_iter()
        .map(|(display, toks)| PreparedName {
            tokens: toks
                .iter()
                .map(|t| Tok {
                    id: v.intern(&t.text),
                    abjad: t.abjad,
                })
                .collect(),
            display: display.into_boxed_str(),
        })
        .collect();
    Prepared {
        id: n.id.into_boxed_str(),
        names,
        dob: n.dob,
        sex: n.sex,
        nationalities: n.nationalities,
        height: n.height,
        marks: n
            .marks
            .iter()
            .map(|words| words.iter().map(|w| v.intern(w)).collect())
            .collect(),
        identifiers: n.identifiers,
        texts: n.texts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::PersonName;

    #[test]
    fn variants_share_a_key_and_tf_counts() {
        let mut v = Vocab::new();
        let a = v.intern("mohammed");
        let b = v.intern("muhammad");
        let c = v.intern("mahmud");
        assert_eq!(v.info(a).key, v.info(b).key);
        assert_ne!(v.info(a).key, v.info(c).key);

        for i in 0..10 {
            let rec = MatchRecord::new(format!("r{i}")).with_name(PersonName::new(
                if i == 0 { "Zyx" } else { "John" },
                "Smith",
            ));
            let p = v.prepare(normalise_record(&rec));
            v.count(&p, 1);
        }
        let smith = v.info(v.get("smith").unwrap()).key;
        let zyx = v.info(v.get("zyx").unwrap()).key;
        assert!(v.tf_bits(smith) < 0.0);
        assert!(v.tf_bits(zyx) > v.tf_bits(smith));
    }

    #[test]
    fn overlay_does_not_mutate_base() {
        let mut v = Vocab::new();
        v.intern("ali");
        let mut o = Overlay::new(&v);
        let id = o.intern("zzyzx");
        assert_eq!(&*o.info(id).text, "zzyzx");
        assert_eq!(o.intern("ali"), 0);
        assert_eq!(v.len(), 1);
    }
}

#[cfg(test)]
mod cheap_tests {
    use super::*;
    use crate::compare::{NationalityLevel, compare_nationality};

    #[test]
    fn packed_nationalities_agree_with_the_full_comparison() {
        let sets: Vec<Vec<&str>> = vec![
            vec![],
            vec!["GBR"],
            vec!["AFG", "IRN"],
            vec!["IRN"],
            vec!["AFG", "PAK", "IRN"],
            vec!["Kurdistan"],
            vec!["GB"],
        ];
        let mut v = Vocab::new();
        let prepared: Vec<Prepared> = sets
            .iter()
            .map(|s| {
                let mut r = MatchRecord::new("x");
                r.nationalities = s.iter().map(|c| (*c).to_string()).collect();
                v.prepare(normalise_record(&r))
            })
            .collect();
        for a in &prepared {
            for b in &prepared {
                let full = compare_nationality(&a.nationalities, &b.nationalities);
                match CheapFields::of(a).nationality(&CheapFields::of(b)) {
                    Some(level) => {
                        assert_eq!(level, full, "{:?} {:?}", a.nationalities, b.nationalities)
                    }
                    None => assert!(
                        a.nationalities.len() > 2
                            || b.nationalities.len() > 2
                            || a.nationalities
                                .iter()
                                .chain(&b.nationalities)
                                .any(|c| c.len() > 3)
                    ),
                }
            }
        }
        let gbr = CheapFields::of(&prepared[1]);
        assert_eq!(gbr.nationality(&gbr), Some(NationalityLevel::Shared));
    }
}
