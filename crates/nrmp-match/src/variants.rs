//! Variant groups: many Latin spellings of the same given name or surname.
//!
//! Each group lists spellings that are the *same name* written differently
//! (transliteration choices, common clerical misspellings). Names that are
//! genuinely different (Muhammad / Mahmud, Ahmed / Hamid) are in different
//! groups, so they never receive the variant level. The first spelling of a
//! group is its canonical key.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The variant groups (canonical spelling first). All entries are folded ASCII.
pub const VARIANT_GROUPS: &[&[&str]] = &[
    &[
        "muhammad", "mohammed", "mohamed", "mohamad", "mohammad", "muhammed", "mohamud",
        "mohammod", "muhamad", "muhamed", "mohamet", "mouhamed", "mohd", "mhd", "md", "mehmet",
        "mehmed", "muhammet",
    ],
    &["mahmud", "mahmoud", "mahmood", "mehmood", "mahmut"],
    &["ahmad", "ahmed", "ahmet", "achmad", "ahmid"],
    &["hamid", "hameed", "hamed"],
    &[
        "hussein", "husein", "hussain", "husain", "hossein", "hosein", "husayn", "houssein",
        "huseyin",
    ],
    &["hassan", "hasan", "hasen", "hassen"],
    &["hasani", "hassani"],
    &[
        "yusuf", "yousef", "youssef", "yosef", "yousuf", "yusef", "yussuf", "yousif", "yusif",
        "joseph", "josef",
    ],
    &["ali", "aly", "alee"],
    &[
        "abdullah", "abdallah", "abdulla", "abdalla", "abdollah", "abdellah",
    ],
    &[
        "abdulrahman",
        "abdurrahman",
        "abdelrahman",
        "abdalrahman",
        "abdurahman",
        "abdirahman",
    ],
    &["omar", "umar", "omer", "umer"],
    &["osman", "usman", "othman", "uthman", "usmaan", "osmane"],
    &[
        "ibrahim", "ebrahim", "ibraheem", "ibrahima", "brahim", "ebrahem",
    ],
    &[
        "mustafa", "mostafa", "moustafa", "mustapha", "mostapha", "mustefa",
    ],
    &["khalid", "khaled", "khalad", "halid"],
    &["said", "saeed", "sayed", "sayyid", "saed", "saiid"],
    &["karim", "kareem", "kerim", "karem"],
    &["rahim", "raheem", "rehim"],
    &["abdi", "abdy"],
    &["ismail", "ismael", "esmail", "ismayil", "ismaeel"],
    &["yasin", "yassin", "yaseen", "yassine", "yacine"],
    &["jamal", "gamal", "jamaal", "djamel", "jamel"],
    &["jafar", "jaafar", "jafer", "djafar"],
    &["fatima", "fatma", "fatimah", "fatuma", "fatemeh", "fadumo"],
    &["aisha", "aysha", "ayesha", "aicha", "aischa", "ayse"],
    &["zainab", "zaynab", "zeinab", "zeynep", "zenab"],
    &["maryam", "mariam", "meryem", "miriam", "mariyam"],
    &["amina", "aminah", "ameena", "emine"],
    &["reza", "riza", "rida", "ridha"],
    &["mohsen", "muhsin", "mohsin", "muhsen"],
    &["ghulam", "gholam", "golam", "gulam"],
    &[
        "nguyen", "nguyn", "ngyuen", "nguen", "ngyen", "nguyan", "nuguyen",
    ],
    &["tran", "trann"],
    &["pham", "phaam"],
    &["tesfay", "tesfaye", "tesfai", "tesfa"],
    &["mehari", "mehary", "meharie"],
    &["haile", "hayle"],
    &["gebre", "gebreh", "gebru", "ghebre"],
    &["tekle", "tekleh", "teckle"],
    &["yohannes", "johannes", "yohanes", "youhannes", "yohanis"],
    &["habtom", "habtum"],
    &["ermal", "ermali"],
    &["arben", "arbeni"],
    &["gjergj", "gjergji", "george", "giorgi"],
    &["besnik", "besniku"],
    &["fatmir", "fatmiri"],
    &["dritan", "dritani"],
    &["arjan", "arjani", "arian"],
    &["ahmadzai", "ahmedzai"],
    &["rahimi", "raheemi"],
    &["hosseini", "husseini", "hussaini", "husaini"],
    &["mohammadi", "muhammadi", "mohamadi", "mohammedi"],
    &["ahmadi", "ahmedi"],
    &["azad", "azat"],
    &["aram", "araam"],
    &["shirin", "sherin", "shireen"],
    &["kurdistan", "kurdestan"],
    &["dmitriy", "dmitry", "dmitri", "dimitri", "dmytro"],
    &[
        "aleksandr",
        "alexander",
        "aleksander",
        "oleksandr",
        "alexandr",
    ],
];

static LOOKUP: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for group in VARIANT_GROUPS {
        if let Some(canonical) = group.first() {
            for spelling in *group {
                map.entry(*spelling).or_insert(*canonical);
            }
        }
    }
    map
});

/// Canonical spelling of a folded token's variant group, or `None` if the token
/// is in no group (then the token is its own key).
pub fn variant_canonical(token: &str) -> Option<&'static str> {
    LOOKUP.get(token).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_do_not_merge_different_names() {
        assert_eq!(variant_canonical("mohammed"), Some("muhammad"));
        assert_eq!(variant_canonical("muhammad"), Some("muhammad"));
        assert_eq!(variant_canonical("mahmoud"), Some("mahmud"));
        assert_ne!(variant_canonical("mahmud"), variant_canonical("muhammad"));
        assert_ne!(variant_canonical("ahmed"), variant_canonical("hamid"));
        assert_eq!(variant_canonical("zzz"), None);
    }

    #[test]
    fn every_spelling_belongs_to_one_group() {
        let mut seen = std::collections::HashSet::new();
        for group in VARIANT_GROUPS {
            for s in *group {
                assert!(seen.insert(*s), "{s} is in two groups");
                assert!(s.is_ascii(), "{s} must be folded ASCII");
            }
        }
    }
}
