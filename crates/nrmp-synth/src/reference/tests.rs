//! Tests of the embedded reference data: counts, cross-references, scripts and spellings.

use std::collections::HashSet;

use super::*;

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    ranges
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&u32::from(c)))
}

const ARABIC_BLOCKS: &[(u32, u32)] = &[
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
];
const ETHIOPIC_BLOCK: &[(u32, u32)] = &[(0x1200, 0x137F)];

/// Every letter of `s` is in `ranges`; spaces are allowed between words.
fn all_in_script(s: &str, ranges: &[(u32, u32)]) -> bool {
    s.chars().all(|c| c == ' ' || in_ranges(c, ranges)) && s.chars().any(|c| c != ' ')
}

fn pool(code: &str) -> &'static NamePool {
    name_pool(code).unwrap_or_else(|| panic!("no pool for {code}"))
}

#[test]
fn embedded_data_validates() {
    if let Err(e) = validate() {
        panic!("{e}");
    }
}

#[test]
fn forty_four_forces() {
    let forces = police_forces();
    assert_eq!(forces.len(), 44);
    assert_eq!(forces.iter().filter(|f| f.is_territorial()).count(), 43);
    assert_eq!(forces.iter().filter(|f| f.country == "Wales").count(), 4);
    assert_eq!(forces.iter().filter(|f| f.country == "England").count(), 39);
    let btp = police_force("british-transport").unwrap();
    assert_eq!(btp.name, "British Transport Police");
    assert_eq!(btp.country, ENGLAND_AND_WALES);
    assert_eq!(
        police_force("metropolitan").unwrap().name,
        "Metropolitan Police Service"
    );
    assert_eq!(
        police_force("dyfed-powys").unwrap().name,
        "Dyfed-Powys Police"
    );
    assert_eq!(
        police_force("avon-somerset").unwrap().name,
        "Avon and Somerset Constabulary"
    );
    // The Met is by far the largest force.
    let largest = forces.iter().max_by_key(|f| f.weight).unwrap();
    assert_eq!(largest.code, "metropolitan");
    let total: u32 = forces
        .iter()
        .filter(|f| f.is_territorial())
        .map(|f| f.weight)
        .sum();
    assert!(
        (55_000..65_000).contains(&total),
        "England and Wales population ≈ 60 M, got {total}k"
    );
}

#[test]
fn authority_counts() {
    let las = local_authorities();
    let wales = las.iter().filter(|a| a.country == "Wales").count();
    let england = las.iter().filter(|a| a.country == "England").count();
    assert_eq!(wales, 22);
    assert!((150..=155).contains(&england), "England: {england}");
    assert_eq!(las.len(), wales + england);
    assert_eq!(las.iter().filter(|a| a.region == "London").count(), 33);
    assert!(
        las.iter()
            .all(|a| (a.country == "Wales") == (a.region == "Wales"))
    );
    let total: u32 = las.iter().map(|a| a.weight).sum();
    assert!(
        (11_500..14_500).contains(&total),
        "≈ 12.9 M children, got {total}k"
    );
}

#[test]
fn current_structure_after_reorganisations() {
    for code in [
        "north-northamptonshire",
        "west-northamptonshire",
        "cumberland",
        "westmorland-furness",
        "bournemouth-christchurch-poole",
        "dorset",
        "buckinghamshire",
        "north-yorkshire",
        "somerset",
        "isles-of-scilly",
        "city-of-london",
    ] {
        assert!(local_authority(code).is_some(), "{code}");
    }
    for gone in [
        "northamptonshire",
        "cumbria",
        "poole",
        "bournemouth",
        "aylesbury-vale",
    ] {
        assert!(local_authority(gone).is_none(), "{gone}");
    }
    assert_eq!(
        local_authority("bournemouth-christchurch-poole")
            .unwrap()
            .name,
        "Bournemouth, Christchurch and Poole"
    );
}

#[test]
fn every_authority_has_a_territorial_force_and_every_force_an_authority() {
    for a in local_authorities() {
        let force = a
            .police_force()
            .unwrap_or_else(|| panic!("{}: {}", a.code, a.police_force_code));
        assert!(force.is_territorial());
        assert_eq!(force.country, a.country, "{}", a.code);
    }
    for f in police_forces().iter().filter(|f| f.is_territorial()) {
        assert!(authorities_in_force(f.code).next().is_some(), "{}", f.code);
    }
    assert_eq!(authorities_in_force("metropolitan").count(), 32);
    assert_eq!(authorities_in_force("british-transport").count(), 0);
}

#[test]
fn no_duplicate_codes_or_names() {
    let codes: HashSet<_> = police_forces().iter().map(|f| f.code).collect();
    assert_eq!(codes.len(), police_forces().len());
    let names: HashSet<_> = police_forces().iter().map(|f| f.name).collect();
    assert_eq!(names.len(), police_forces().len());
    let codes: HashSet<_> = local_authorities().iter().map(|a| a.code).collect();
    assert_eq!(codes.len(), local_authorities().len());
    let names: HashSet<_> = local_authorities().iter().map(|a| a.name).collect();
    assert_eq!(names.len(), local_authorities().len());
}

#[test]
fn nationalities_have_pools() {
    assert_eq!(nationalities().len(), 9);
    for code in [
        "VNM", "ALB", "ERI", "SDN", "AFG", "IRQ", "IRN", "SYR", "GBR",
    ] {
        assert!(nationalities().contains(&code));
        let p = pool(code);
        assert_eq!(p.nationality, code);
    }
    assert!(name_pool("vnm").is_some(), "case-insensitive");
    assert!(name_pool("XXX").is_none());
    assert_eq!(name_pools().len(), nationalities().len());
}

#[test]
fn pools_are_big_enough() {
    for p in name_pools() {
        let male = p.given(NameSex::Male).count();
        let female = p.given(NameSex::Female).count();
        let family = p.family().count();
        assert!(male >= 40, "{}: {male} male given names", p.nationality);
        assert!(
            female >= 40,
            "{}: {female} female given names",
            p.nationality
        );
        assert!(family >= 30, "{}: {family} family names", p.nationality);
        assert!(p.fathers_names().count() >= 40);
    }
}

#[test]
fn every_row_has_a_plain_latin_variant() {
    for p in name_pools() {
        for e in &p.entries {
            assert!(e.weight > 0);
            assert!(
                e.latin_variants.iter().any(|v| is_plain_latin(v)),
                "{} {}: {:?}",
                p.nationality,
                e.original,
                e.latin_variants
            );
            assert!(
                is_plain_latin(e.latin()),
                "{}: first variant {}",
                p.nationality,
                e.latin()
            );
        }
    }
    assert!(is_plain_latin("O'Brien"));
    assert!(is_plain_latin("Al-Jubouri"));
    assert!(is_plain_latin("Abdel Rahman"));
    assert!(!is_plain_latin("Nguyễn"));
    assert!(!is_plain_latin(""));
    assert!(!is_plain_latin("-x"));
}

#[test]
fn vietnamese_originals_carry_diacritics() {
    let p = pool("VNM");
    assert_eq!(p.convention, NamingConvention::FamilyFirst);
    let with_diacritics = p.entries.iter().filter(|e| !e.original.is_ascii()).count();
    assert!(
        with_diacritics * 2 > p.entries.len(),
        "most Vietnamese names carry diacritics"
    );
    let nguyen = p.family().next().unwrap();
    assert_eq!((nguyen.original, nguyen.latin()), ("Nguyễn", "Nguyen"));
    assert!(p.entries.iter().any(|e| e.original.contains('Đ')));
    assert!(p.middle(NameSex::Male).any(|e| e.original == "Văn"));
    assert!(p.middle(NameSex::Female).any(|e| e.original == "Thị"));
    assert!(!p.middle(NameSex::Female).any(|e| e.original == "Văn"));
}

#[test]
fn eritrean_originals_are_ethiopic() {
    let p = pool("ERI");
    assert_eq!(p.script, "Ethiopic");
    assert_eq!(p.convention, NamingConvention::Patronymic);
    for e in &p.entries {
        assert!(all_in_script(e.original, ETHIOPIC_BLOCK), "{}", e.original);
    }
    assert!(
        p.given(NameSex::Male)
            .any(|e| e.original == "ተስፋይ" && e.latin() == "Tesfay")
    );
}

#[test]
fn arabic_and_persian_originals_are_arabic_script() {
    for code in ["SDN", "IRQ", "SYR", "IRN", "AFG"] {
        let p = pool(code);
        assert!(matches!(p.script, "Arabic" | "Persian"), "{code}");
        for e in &p.entries {
            assert!(
                all_in_script(e.original, ARABIC_BLOCKS),
                "{code}: {}",
                e.original
            );
        }
    }
    let mohammed = pool("SDN")
        .given(NameSex::Male)
        .find(|e| e.original == "محمد")
        .unwrap();
    for v in [
        "Mohamed", "Mohammed", "Muhammad", "Mohammad", "Mohamad", "Muhammed",
    ] {
        assert!(mohammed.latin_variants.contains(&v), "{v}");
    }
    // Persian pools use the Persian forms of yeh and kaf rather than the Arabic ones.
    for code in ["IRN", "AFG"] {
        assert!(
            pool(code)
                .entries
                .iter()
                .all(|e| !e.original.contains('ي') && !e.original.contains('ك'))
        );
    }
}

#[test]
fn latin_script_pools() {
    for code in ["GBR", "ALB"] {
        let p = pool(code);
        assert_eq!(p.script, "Latin");
        for e in &p.entries {
            assert!(
                e.original
                    .chars()
                    .all(|c| c.is_alphabetic() || " -'".contains(c))
            );
            assert!(
                e.original
                    .chars()
                    .all(|c| c.is_ascii() || ('\u{00C0}'..='\u{024F}').contains(&c))
            );
        }
    }
    let alb = pool("ALB");
    assert!(alb.entries.iter().any(|e| e.original.contains('ë')));
    assert!(
        alb.entries
            .iter()
            .any(|e| e.original.contains('ç') || e.original.contains('Ç'))
    );
    assert!(pool("GBR").entries.iter().all(|e| e.original.is_ascii()));
}

#[test]
fn afghan_pool_allows_missing_family_name() {
    let p = pool("AFG");
    assert_eq!(p.convention, NamingConvention::SingleName);
    assert!(p.no_family_name_percent > 0);
    assert!(p.family().any(|e| e.latin() == "Ahmadzai"));
    assert!(p.family().any(|e| e.latin() == "Popal"));
}

#[test]
fn unisex_queries() {
    let p = pool("GBR");
    let all = p.given(NameSex::Unisex).count();
    let m = p.given(NameSex::Male).count();
    let f = p.given(NameSex::Female).count();
    let u = p
        .entries
        .iter()
        .filter(|e| e.part == NamePart::Given && e.sex == NameSex::Unisex)
        .count();
    assert_eq!(all + u, m + f);
}

#[test]
fn weighted_pick() {
    let items = [("a", 1u32), ("b", 0), ("c", 3)];
    let picks: Vec<_> = (0..4)
        .map(|t| pick_by_weight(&items, |i| i.1, t).unwrap().0)
        .collect();
    assert_eq!(picks, ["a", "c", "c", "c"]);
    assert!(pick_by_weight(&items[1..2], |i| i.1, 7).is_none());
    assert!(pick_by_weight::<(&str, u32)>(&[], |i| i.1, 7).is_none());
    let force = pick_by_weight(police_forces(), |f| f.weight, 123_456_789).unwrap();
    assert!(police_force(force.code).is_some());
}

#[test]
fn british_pool_composes_a_long_tail_of_rarer_family_names() {
    let p = pool("GBR");
    assert_eq!(p.listed_family_percent, 20);
    assert!(p.family_tail.len() > 5_000, "{}", p.family_tail.len());
    let listed: HashSet<&str> = p.family().map(|e| e.original).collect();
    let mut seen = HashSet::new();
    for e in &p.family_tail {
        assert!(is_plain_latin(e.original), "{}", e.original);
        assert!(
            !listed.contains(e.original),
            "{} is also listed",
            e.original
        );
        assert!(seen.insert(e.original), "{} composed twice", e.original);
        assert!(!e.original.contains("lll"), "{}", e.original);
        assert_eq!(e.part, NamePart::Family);
    }
    assert!(seen.contains("Ashworth") && seen.contains("Whitfield"));
    for other in nationalities().iter().filter(|n| **n != "GBR") {
        let p = pool(other);
        assert!(p.family_tail.is_empty() && p.listed_family_percent == 100);
    }
}
