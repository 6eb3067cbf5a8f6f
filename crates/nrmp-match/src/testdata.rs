//! Seeded synthetic records with known duplicates, for tests.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::record::{DobRange, MatchRecord, PersonName, Sex};

const GIVEN: &[&str] = &[
    "Mohammed", "Ahmed", "Ali", "Omar", "Yusuf", "Ibrahim", "Hussein", "Mustafa", "Khalid",
    "Hamid", "Mahmud", "Tesfay", "Mehari", "Yohannes", "Habtom", "Ermal", "Arben", "Besnik",
    "Dritan", "Fatmir", "Duc", "Minh", "Tuan", "Hung", "Lan", "Huong", "Fatima", "Aisha", "Zainab",
    "Maryam", "Reza", "Ghulam", "Azad", "Aram", "Shirin", "Samir", "Bilal", "Tariq", "Nasir",
    "Jamal", "Dawit", "Filmon", "Kidane", "Luan", "Gentian", "Kevin", "Daniel", "Sarah", "Emma",
    "Olivia",
];
const FAMILY: &[&str] = &[
    "Nguyen",
    "Tran",
    "Pham",
    "Le",
    "Hoang",
    "Karimi",
    "Ahmadi",
    "Hosseini",
    "Rahimi",
    "Mohammadi",
    "Ahmadzai",
    "Hassan",
    "Osman",
    "Abdullah",
    "Haile",
    "Gebre",
    "Tekle",
    "Berhane",
    "Kidane",
    "Hoxha",
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Shehu",
    "Kola",
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "Wilson",
    "Barzani",
    "Talabani",
    "Amini",
    "Sultani",
    "Noori",
    "Stanekzai",
    "Wardak",
    "Popal",
    "Mengistu",
    "Tsegay",
    "Woldu",
    "Asfaha",
    "Kahsay",
    "Yemane",
    "Bajrami",
    "Dushku",
    "Leka",
    "Marku",
    "Doan",
    "Vu",
];
const VARIANTS: &[(&str, &str)] = &[
    ("Mohammed", "Muhammad"),
    ("Ahmed", "Ahmad"),
    ("Yusuf", "Yousef"),
    ("Hussein", "Husain"),
    ("Omar", "Umar"),
    ("Mustafa", "Mostafa"),
    ("Tesfay", "Tesfaye"),
    ("Ibrahim", "Ebrahim"),
    ("Nguyen", "Nguyễn"),
];

fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 4 {
        return s.to_string();
    }
    let i = rng.random_range(1..c.len() - 1);
    match rng.random_range(0..3) {
        0 => {
            c.swap(i, i + 1);
        }
        1 => {
            c.remove(i);
        }
        _ => {
            c[i] = ['a', 'e', 'i', 'o', 'u', 'y'][rng.random_range(0..6)];
        }
    }
    c.into_iter().collect()
}

fn variant(s: &str) -> String {
    VARIANTS
        .iter()
        .find(|(a, _)| *a == s)
        .map_or(s.to_string(), |(_, b)| (*b).to_string())
}

/// `entities` people; a share `dup_rate` gets one corrupted duplicate.
/// Returns records and the true duplicate pairs.
pub fn generate(
    seed: u64,
    entities: usize,
    dup_rate: f64,
) -> (Vec<MatchRecord>, Vec<(String, String)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut records = Vec::new();
    let mut truth = Vec::new();
    for e in 0..entities {
        let given = GIVEN[rng.random_range(0..GIVEN.len())];
        let family = FAMILY[rng.random_range(0..FAMILY.len())];
        let dob = NaiveDate::from_ymd_opt(
            rng.random_range(1960..2012),
            rng.random_range(1..13),
            rng.random_range(1..29),
        )
        .unwrap_or_default();
        let sex = if rng.random_bool(0.7) {
            Sex::Male
        } else {
            Sex::Female
        };
        let id = format!("e{e:06}a");
        records.push(
            MatchRecord::new(&id)
                .with_name(PersonName::new(given, family))
                .with_dob(DobRange::exact(dob))
                .with_sex(sex),
        );
        if !rng.random_bool(dup_rate) {
            continue;
        }
        let mut g = given.to_string();
        let mut f = family.to_string();
        match rng.random_range(0..10) {
            0..=2 => g = typo(&mut rng, &g),
            3 => f = typo(&mut rng, &f),
            4..=5 => {
                g = variant(&g);
                f = variant(&f);
            }
            6 => std::mem::swap(&mut g, &mut f),
            _ => {}
        }
        let dob2 = match rng.random_range(0..10) {
            0 => None,
            1 => Some(DobRange::range(
                dob - chrono::Days::new(700),
                dob + chrono::Days::new(400),
                crate::record::DobKind::AgeAssessed,
            )),
            2 => Some(DobRange::exact(dob + chrono::Days::new(365))),
            _ => Some(DobRange::exact(dob)),
        };
        let dup_id = format!("e{e:06}b");
        let mut dup = MatchRecord::new(&dup_id).with_name(PersonName::new(g, f));
        dup.dob = dob2;
        dup.sex = Some(if rng.random_bool(0.97) {
            sex
        } else {
            Sex::Unknown
        });
        records.push(dup);
        truth.push((id, dup_id));
    }
    (records, truth)
}
