//! Name and text normalisation.
//!
//! Pipeline for a name string:
//! 1. Unicode NFKC and lowercase case-fold;
//! 2. explicit maps for letters that do not decompose (`đ`→`d`, `ł`→`l`, `ø`→`o`,
//!    `ß`→`ss`, `æ`→`ae`, `œ`→`oe`, dotless `ı`→`i`, ...), then canonical
//!    decomposition with combining marks dropped (Vietnamese tone marks etc.);
//! 3. any remaining non-Latin character (Arabic, Ge'ez, Cyrillic, Persian ...) is
//!    transliterated with [`any_ascii`]; the original is kept by the caller;
//! 4. tokenisation: hyphens and spaces split, apostrophes join (`O'Brien` → `obrien`);
//! 5. particles (`al`, `bin`, `van`, `de`, Vietnamese `thi`/`van` ...) are *weak*
//!    tokens, ignored when a name has other tokens; `abd`/`abdul`/`abdel` + next
//!    token are joined into one compound (`Abdul Rahman` → `abdulrahman`).
//!
//! Each token then has a variant-group key ([`crate::variants`]), Double Metaphone
//! codes and a consonant skeleton (used to compare vowel-less abjad
//! transliterations such as Arabic `mhmd` with `Mohammed`).

use rphonetic::DoubleMetaphone;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::record::PersonName;
use crate::variants::variant_canonical;

/// Particles and connectors treated as weak tokens.
pub const WEAK_TOKENS: &[&str] = &[
    "al", "el", "ul", "bin", "ben", "ibn", "bint", "binti", "abu", "abou", "ould", "van", "von",
    "de", "da", "di", "du", "del", "della", "der", "den", "la", "le", "dos", "das", "do", "thi",
    "y", "e", "ter", "ten",
];

/// Prefixes of the `Abd al-...` compound ("servant of ...").
const ABD_PREFIXES: &[&str] = &[
    "abd", "abdul", "abdel", "abdal", "abdol", "abdoul", "abdil", "abdu",
];

/// Letters that canonical decomposition does not reduce to ASCII.
fn explicit_map(c: char) -> Option<&'static str> {
    Some(match c {
        'đ' | 'ð' | 'ɗ' => "d",
        'ł' => "l",
        'ø' => "o",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ı' => "i",
        'þ' => "th",
        'ħ' => "h",
        'ŧ' => "t",
        'ŋ' => "ng",
        'ə' => "e",
        'ĸ' => "k",
        'ſ' => "s",
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{02BB}' | '\u{02BF}' | '\u{02BE}' | '`'
        | '\u{00B4}' => "'",
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' => "-",
        _ => return None,
    })
}

fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c);
        return;
    }
    if let Some(mapped) = explicit_map(c) {
        out.push_str(mapped);
        return;
    }
    if is_combining_mark(c) {
        return;
    }
    let mut base = String::new();
    let mut ascii = true;
    for d in std::iter::once(c).nfd() {
        if is_combining_mark(d) {
            continue;
        }
        if d.is_ascii() {
            base.push(d);
        } else {
            ascii = false;
            break;
        }
    }
    if ascii && !base.is_empty() {
        out.push_str(&base);
        return;
    }
    for t in any_ascii::any_ascii_char(c).chars() {
        out.push(t.to_ascii_lowercase());
    }
}

/// NFKC, lowercase, diacritics stripped, non-Latin transliterated: ASCII output.
///
/// ```
/// assert_eq!(nrmp_match::normalise::fold("Nguyễn Văn Đức"), "nguyen van duc");
/// assert_eq!(nrmp_match::normalise::fold("Łukasz Strauß"), "lukasz strauss");
/// ```
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkc() {
        for lc in c.to_lowercase() {
            push_folded(lc, &mut out);
        }
    }
    out
}

/// Folded free text as space-separated `[a-z0-9]` words (for places, marks, addresses).
pub fn fold_words(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    for word in folded
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
        .map(|w| w.replace('\'', ""))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// True if the string contains characters of an abjad (consonant-only) script:
/// Arabic (incl. Persian, Pashto, Kurdish Sorani, Urdu), Hebrew, Syriac.
pub fn is_abjad(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c as u32,
            0x0590..=0x05FF | 0x0600..=0x06FF | 0x0700..=0x074F | 0x0750..=0x077F
            | 0x08A0..=0x08FF | 0xFB1D..=0xFB4F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
    })
}

/// One normalised name token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameToken {
    /// Folded ASCII text.
    pub text: String,
    /// A particle/connector (weak evidence).
    pub weak: bool,
    /// Transliterated from an abjad script (vowels are mostly missing).
    pub abjad: bool,
}

/// A normalised name: the original text plus its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalisedName {
    /// The name as given (original script if it came from `original_script`).
    pub original: String,
    /// Tokens in written order.
    pub tokens: Vec<NameToken>,
}

impl NormalisedName {
    /// The informative tokens: non-weak ones, or all tokens if every token is weak.
    pub fn strong_tokens(&self) -> Vec<&NameToken> {
        let strong: Vec<&NameToken> = self.tokens.iter().filter(|t| !t.weak).collect();
        if strong.is_empty() {
            self.tokens.iter().collect()
        } else {
            strong
        }
    }
}

/// Tokenises one name string (any script, any order).
///
/// ```
/// use nrmp_match::normalise::tokenise_name;
/// let t: Vec<String> = tokenise_name("Abd al-Rahman AL-HASSAN").into_iter().map(|t| t.text).collect();
/// assert_eq!(t, ["abdulrahman", "al", "hassan"]);
/// ```
pub fn tokenise_name(s: &str) -> Vec<NameToken> {
    let abjad = is_abjad(s);
    let folded = fold(s);
    let raw: Vec<String> = folded
        .split(|c: char| !c.is_ascii_alphabetic() && c != '\'')
        .map(|w| w.replace('\'', ""))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out: Vec<NameToken> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let word = &raw[i];
        if ABD_PREFIXES.contains(&word.as_str()) && i + 1 < raw.len() {
            // "abd al rahman" / "abdul rahman" / "abdel-rahman" -> "abdulrahman"
            let mut next = i + 1;
            if matches!(raw[next].as_str(), "al" | "el" | "ul" | "ur" | "ar")
                && next + 1 < raw.len()
            {
                next += 1;
            }
            out.push(NameToken {
                text: canonical_prefix(&format!("abdul{}", raw[next])),
                weak: false,
                abjad,
            });
            i = next + 1;
            continue;
        }
        out.push(NameToken {
            text: canonical_prefix(word),
            weak: WEAK_TOKENS.contains(&word.as_str()),
            abjad,
        });
        i += 1;
    }
    out
}

/// Harmonises spellings of the `abd-` prefix inside an already-joined token.
fn canonical_prefix(token: &str) -> String {
    for p in ["abdoul", "abdel", "abdal", "abdol", "abdil"] {
        if let Some(rest) = token.strip_prefix(p)
            && rest.len() >= 3
        {
            return format!("abdul{rest}");
        }
    }
    token.to_string()
}

/// Normalises all forms of one [`PersonName`]: the Latin form (given + family) and,
/// if present, the original-script form (transliterated, flagged abjad when relevant).
pub fn normalise_name(name: &PersonName) -> Vec<NormalisedName> {
    let mut out = Vec::with_capacity(2);
    let display = name.display();
    let tokens = tokenise_name(&display);
    if !tokens.is_empty() {
        out.push(NormalisedName {
            original: display,
            tokens,
        });
    }
    if let Some(orig) = name.original_script.as_deref() {
        let tokens = tokenise_name(orig);
        if !tokens.is_empty() {
            out.push(NormalisedName {
                original: orig.to_string(),
                tokens,
            });
        }
    }
    out
}

/// The variant-group key of a folded token (its canonical spelling, or itself).
pub fn variant_key(token: &str) -> &str {
    variant_canonical(token).unwrap_or(token)
}

/// Double Metaphone (primary, alternate) codes, up to 6 characters.
pub fn phonetic_codes(token: &str) -> (String, String) {
    let r = DoubleMetaphone::new(Some(6)).double_metaphone(token);
    (r.primary(), r.alternate())
}

/// Consonant skeleton used to compare vowel-less abjad transliterations with Latin
/// spellings: vowels dropped, `w`/`y` dropped except initially, `q`→`k`, doubled
/// letters collapsed, a final `h` after a consonant dropped.
///
/// ```
/// use nrmp_match::normalise::skeleton;
/// assert_eq!(skeleton("mohammed"), skeleton("mhmd"));
/// assert_eq!(skeleton("yusuf"), skeleton("ywsf"));
/// assert_eq!(skeleton("abdullah"), skeleton("bdllh"));
/// ```
pub fn skeleton(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for (i, c) in token.chars().enumerate() {
        let c = match c {
            'q' => 'k',
            other => other,
        };
        if matches!(c, 'a' | 'e' | 'i' | 'o' | 'u') || (i > 0 && matches!(c, 'w' | 'y')) {
            continue;
        }
        if out.ends_with(c) {
            continue;
        }
        out.push(c);
    }
    if out.len() > 1 && out.ends_with('h') {
        out.pop();
    }
    out
}

/// Consonant skeleton across transliteration schemes, for Latin spellings of names from
/// Arabic, Persian, Pashto, Tigrinya and other scripts: the digraphs one scheme writes for a
/// letter another writes with one (`th`/`s`/`t` for ث: Othman / Osman; `dh`→`d`, `kh`→`k`,
/// `gh`→`g`, `ph`→`f`, `dj`→`j`, `q`/`ck`→`k`, `w`→`v`, `z`→`s`), then [`skeleton`] (vowels
/// and medial `w`/`y` dropped, doubled letters collapsed, final `h` dropped). Two tokens with
/// the same transliteration skeleton of at least three consonants, starting alike, agree
/// phonetically (`Yousef` / `Yusuf`, `Othman` / `Usman`, `Hussein` / `Hussien`).
///
/// ```
/// use nrmp_match::normalise::translit_skeleton;
/// assert_eq!(translit_skeleton("othman"), translit_skeleton("usman"));
/// assert_eq!(translit_skeleton("yousef"), translit_skeleton("yusuf"));
/// assert_eq!(translit_skeleton("hussein"), translit_skeleton("hussien"));
/// assert_ne!(translit_skeleton("hassan"), translit_skeleton("hashem"));
/// ```
pub fn translit_skeleton(token: &str) -> String {
    let mut s = String::with_capacity(token.len());
    let b = token.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let two = b.get(i..i + 2);
        let (out, step) = match two {
            Some(b"th") => ('s', 2),
            Some(b"dh") => ('d', 2),
            Some(b"kh") => ('k', 2),
            Some(b"gh") => ('g', 2),
            Some(b"ph") => ('f', 2),
            Some(b"dj") => ('j', 2),
            Some(b"ck") => ('k', 2),
            _ => (
                match b[i] {
                    b'q' => 'k',
                    b'w' if i > 0 => 'v',
                    b'z' => 's',
                    c => c as char,
                },
                1,
            ),
        };
        s.push(out);
        i += step;
    }
    // an initial vowel is kept as one mark, so `Usman` / `Osman` agree and `Sman` does not
    let initial_vowel = s.starts_with(['a', 'e', 'i', 'o', 'u']);
    let mut sk = skeleton(&s);
    if initial_vowel {
        sk.insert(0, '_');
    }
    sk
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenise_name(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folds_vietnamese_and_special_letters() {
        assert_eq!(fold("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold("ĐẶNG Thị Hồng"), "dang thi hong");
        assert_eq!(fold("Søren Ærø"), "soren aero");
        assert_eq!(fold("Işık"), "isik");
        assert_eq!(fold("Œdipe"), "oedipe");
        assert_eq!(fold("Ｍｏｈａｍｍｅｄ"), "mohammed"); // full-width via NFKC
    }

    #[test]
    fn transliterates_non_latin_scripts() {
        assert_eq!(fold("محمد"), "mhmd");
        assert_eq!(fold("ተስፋይ መሓሪ"), "tesfay mehari");
        assert_eq!(fold("Дмитрий"), "dmitriy");
        assert!(is_abjad("محمد"));
        assert!(!is_abjad("ተስፋይ"));
    }

    #[test]
    fn tokenises_particles_and_compounds() {
        assert_eq!(texts("O'Brien-Smith"), ["obrien", "smith"]);
        assert_eq!(texts("Abdel Rahman"), ["abdulrahman"]);
        assert_eq!(texts("Abd al-Rahman"), ["abdulrahman"]);
        let toks = tokenise_name("Nguyen Thi Lan");
        assert!(toks[1].weak);
        let name = NormalisedName {
            original: String::new(),
            tokens: toks,
        };
        let strong: Vec<&str> = name
            .strong_tokens()
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(strong, ["nguyen", "lan"]);
        // a name made only of particles keeps them
        let only = NormalisedName {
            original: String::new(),
            tokens: tokenise_name("Van"),
        };
        assert_eq!(only.strong_tokens().len(), 1);
    }

    #[test]
    fn skeleton_bridges_abjad_and_latin() {
        for (latin, arabic) in [
            ("ahmed", "'hmd"),
            ("hussein", "hsyn"),
            ("ibrahim", "'brhym"),
            ("omar", "`mr"),
            ("ali", "`ly"),
            ("fatima", "ftmh"),
            ("mustafa", "mstfa"),
        ] {
            let a = tokenise_name(arabic);
            assert_eq!(skeleton(latin), skeleton(&a[0].text), "{latin} vs {arabic}");
        }
    }

    #[test]
    fn phonetic_codes_are_stable() {
        assert_eq!(phonetic_codes("tesfay").0, phonetic_codes("tesfaye").0);
        assert_ne!(phonetic_codes("ahmed").0, phonetic_codes("hamid").0);
    }
}
