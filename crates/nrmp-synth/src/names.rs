//! Drawing names from the per-nationality pools in [`crate::reference`], following each
//! nationality's naming convention, and rendering them as a record would hold them.
//!
//! | convention (from the pool) | rendering |
//! |---|---|
//! | given (+ middle), inherited family name | `given` = given (+ middle), `family` = family |
//! | family first (Vietnamese) | original `Nguyễn Văn Đức`; `given` = `Van Duc`, `family` = `Nguyen` |
//! | patronymic (Eritrean, Sudanese, Iraqi) | `family` = father's given name (sometimes + grandfather's) |
//! | single name (Afghan) | as given/family, but often `given` only, `family` empty |
//!
//! Any pool may leave the family name out for its `no_family_name_percent` share.

use crate::reference::{NameEntry, NamePart, NamePool, NameSex, NamingConvention, name_pool};
use crate::sampling::Weighted;
use nrmp_domain::person::Sex;
use rand::Rng;

/// Weighted name tables for one nationality.
#[derive(Debug)]
pub(crate) struct PoolTables {
    /// The pool.
    pub pool: &'static NamePool,
    given_m: Weighted<&'static NameEntry>,
    given_f: Weighted<&'static NameEntry>,
    middle_m: Weighted<&'static NameEntry>,
    middle_f: Weighted<&'static NameEntry>,
    family: Weighted<&'static NameEntry>,
}

fn fits(entry_sex: &NameSex, male: bool) -> bool {
    match entry_sex {
        NameSex::Unisex => true,
        NameSex::Male => male,
        NameSex::Female => !male,
    }
}

impl PoolTables {
    /// Builds the tables for `alpha3`, or `None` if there is no usable pool (no given or no
    /// family names).
    pub fn load(alpha3: &str) -> Option<Self> {
        let pool = name_pool(alpha3)?;
        let table = |part: fn(&NamePart) -> bool, male: Option<bool>| {
            Weighted::new(
                pool.entries
                    .iter()
                    .filter(|e| part(&e.part) && male.is_none_or(|m| fits(&e.sex, m)))
                    .filter(|e| !e.latin_variants.is_empty())
                    .map(|e| (e, e.weight.max(1))),
            )
        };
        let given = |p: &NamePart| matches!(p, NamePart::Given);
        let middle = |p: &NamePart| matches!(p, NamePart::Middle);
        let t = Self {
            pool,
            given_m: table(given, Some(true)),
            given_f: table(given, Some(false)),
            middle_m: table(middle, Some(true)),
            middle_f: table(middle, Some(false)),
            family: family_table(pool),
        };
        (!t.given_m.is_empty() && !t.given_f.is_empty() && !t.family.is_empty()).then_some(t)
    }

    fn given(&self, male: bool) -> &Weighted<&'static NameEntry> {
        if male { &self.given_m } else { &self.given_f }
    }

    fn middle(&self, male: bool) -> &Weighted<&'static NameEntry> {
        if male { &self.middle_m } else { &self.middle_f }
    }
}

/// The family-name table: the listed names by their weights, plus the pool's composed tail, each
/// tail name equally likely, the listed ones together drawn for `listed_family_percent` of people.
fn family_table(pool: &'static NamePool) -> Weighted<&'static NameEntry> {
    let listed: Vec<&'static NameEntry> = pool
        .family()
        .filter(|e| !e.latin_variants.is_empty())
        .collect();
    let tail = &pool.family_tail;
    let percent = u64::from(pool.listed_family_percent.min(100));
    if tail.is_empty() || percent == 100 {
        return Weighted::new(listed.into_iter().map(|e| (e, e.weight.max(1))));
    }
    // Listed weight w becomes w·L·M and each tail name Σw·(100−L), so the listed names carry
    // L % of the total exactly (M tail names, Σw the listed weights).
    let listed_total: u64 = listed.iter().map(|e| u64::from(e.weight.max(1))).sum();
    let scale = percent * tail.len() as u64;
    let tail_weight = listed_total * (100 - percent);
    let weight = |w: u64| u32::try_from(w).unwrap_or(u32::MAX);
    Weighted::new(
        listed
            .into_iter()
            .map(|e| (e, weight(u64::from(e.weight.max(1)) * scale)))
            .chain(tail.iter().map(|e| (e, weight(tail_weight)))),
    )
}

/// One word of a name: a pool entry and which of its Latin spellings is used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Word {
    /// The pool entry.
    pub entry: &'static NameEntry,
    /// Index into `entry.latin_variants`.
    pub variant: usize,
}

impl Word {
    fn draw<R: Rng + ?Sized>(rng: &mut R, entry: &'static NameEntry) -> Self {
        Self {
            entry,
            variant: pick_variant(rng, entry.latin_variants.len()),
        }
    }

    /// The Latin spelling in use.
    pub fn latin(&self) -> &'static str {
        self.entry
            .latin_variants
            .get(self.variant)
            .or_else(|| self.entry.latin_variants.first())
            .copied()
            .unwrap_or(self.entry.original)
    }

    /// The same word spelt with another of its Latin variants, if it has one.
    pub fn respelt<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<Self> {
        let n = self.entry.latin_variants.len();
        if n < 2 {
            return None;
        }
        let mut v = rng.random_range(0..n - 1);
        if v >= self.variant {
            v += 1;
        }
        let w = Self {
            entry: self.entry,
            variant: v,
        };
        (w.latin() != self.latin()).then_some(w)
    }
}

/// The first spelling is the commonest: variant `i` has weight `1 / (i + 1)²`.
fn pick_variant<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let total: f64 = (0..n).map(|i| 1.0 / ((i + 1) * (i + 1)) as f64).sum();
    let mut x = rng.random::<f64>() * total;
    for i in 0..n {
        x -= 1.0 / ((i + 1) * (i + 1)) as f64;
        if x < 0.0 {
            return i;
        }
    }
    n - 1
}

/// How a nationality orders and builds names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Given (+ middle) then an inherited family name.
    Western,
    /// Family name first, then middle and given (Vietnamese).
    FamilyFirst,
    /// Second name is the father's given name (Eritrean, Sudanese).
    Patronymic,
}

/// A true person's name, as words from the pool.
#[derive(Debug, Clone)]
pub(crate) struct TrueName {
    /// Given name.
    pub given: Word,
    /// Middle name(s).
    pub middle: Vec<Word>,
    /// Family name(s) (father's and grandfather's names for patronymic styles); empty for a
    /// single name.
    pub family: Vec<Word>,
    /// The naming convention.
    pub style: Style,
}

/// A name as one record holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenderedName {
    /// Given name(s), Latin script.
    pub given: String,
    /// Family name(s), Latin script.
    pub family: String,
    /// The full name in its original script, if it differs from the Latin.
    pub original: Option<String>,
}

/// True when every character is Latin (ASCII, Latin-1 supplement, Latin Extended).
pub(crate) fn is_latin(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii()
            || ('\u{00C0}'..='\u{024F}').contains(&c)
            || ('\u{1E00}'..='\u{1EFF}').contains(&c)
    })
}

impl TrueName {
    /// Draws a name for a person of `pool`'s nationality.
    pub fn draw<R: Rng + ?Sized>(rng: &mut R, pool: &PoolTables, sex: Sex) -> Option<Self> {
        let male = match sex {
            Sex::Male => true,
            Sex::Female => false,
            _ => rng.random_bool(0.5),
        };
        let g = *pool.given(male).pick(rng)?;
        let given = Word::draw(rng, g);
        let style = match pool.pool.convention {
            NamingConvention::FamilyFirst => Style::FamilyFirst,
            NamingConvention::Patronymic => Style::Patronymic,
            NamingConvention::GivenFamily | NamingConvention::SingleName => Style::Western,
        };
        let single = rng.random_bool(f64::from(pool.pool.no_family_name_percent.min(100)) / 100.0);
        let mut middle = Vec::new();
        let mut family = Vec::new();
        match style {
            Style::FamilyFirst => {
                let f = *pool.family.pick(rng)?;
                family.push(Word::draw(rng, f));
                if let Some(m) = pool.middle(male).pick(rng)
                    && rng.random_bool(0.85)
                {
                    middle.push(Word::draw(rng, m));
                }
            }
            Style::Patronymic => {
                // The father's given name: from the father-name pool or the male given pool.
                let father = if rng.random_bool(0.5) {
                    pool.family.pick(rng)
                } else {
                    pool.given_m.pick(rng)
                };
                family.push(Word::draw(rng, *father?));
                if rng.random_bool(0.25)
                    && let Some(gf) = pool.given_m.pick(rng)
                {
                    family.push(Word::draw(rng, gf));
                }
            }
            Style::Western => {
                if !single {
                    let f = *pool.family.pick(rng)?;
                    family.push(Word::draw(rng, f));
                }
                let p_middle = if pool.pool.nationality == "GBR" {
                    0.35
                } else {
                    0.10
                };
                if rng.random_bool(p_middle) {
                    let m = pool
                        .middle(male)
                        .pick(rng)
                        .or_else(|| pool.given(male).pick(rng));
                    if let Some(m) = m
                        && m.original != given.entry.original
                    {
                        middle.push(Word::draw(rng, m));
                    }
                }
            }
        }
        Some(Self {
            given,
            middle,
            family,
            style,
        })
    }

    /// Renders the name as a record writes it (`with_original`: keep the original script).
    pub fn render(&self, with_original: bool) -> RenderedName {
        let join = |ws: &[Word]| ws.iter().map(Word::latin).collect::<Vec<_>>().join(" ");
        let join_orig = |ws: &[Word]| {
            ws.iter()
                .map(|w| w.entry.original)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (given, original) = match self.style {
            Style::FamilyFirst => {
                let mut g: Vec<Word> = self.middle.clone();
                g.push(self.given);
                let orig = [join_orig(&self.family), join_orig(&g)]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ");
                (join(&g), orig)
            }
            _ => {
                let mut g = vec![self.given];
                g.extend(self.middle.iter().copied());
                let orig = [join_orig(&g), join_orig(&self.family)]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ");
                (join(&g), orig)
            }
        };
        let family = join(&self.family);
        let latin_full = match self.style {
            Style::FamilyFirst => format!("{family} {given}"),
            _ => format!("{given} {family}"),
        };
        let original = (with_original && original.trim() != latin_full.trim()).then_some(original);
        RenderedName {
            given,
            family,
            original,
        }
    }

    /// True if the original is written with letters beyond ASCII (Vietnamese or Albanian
    /// diacritics, or another script) — only then is it worth recording beside the Latin.
    pub fn has_diacritics(&self) -> bool {
        std::iter::once(&self.given)
            .chain(&self.middle)
            .chain(&self.family)
            .any(|w| !w.entry.original.is_ascii())
    }
}
