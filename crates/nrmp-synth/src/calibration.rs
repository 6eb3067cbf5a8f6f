//! Calibration: the published figures the generator is tuned to (see `DESIGN.md`, "Calibration
//! figures") and every parameter derived from them, each with the figure it comes from.
//!
//! Published rates are per year; the generator applies them per care episode or per referral
//! (a child's whole stay in the register), which is the closest reading for a population
//! followed over a multi-year window. Parameters marked *assumed* have no published figure;
//! they are chosen so that the published ones come out right.
//!
//! | figure | parameter |
//! |---|---|
//! | trafficked children missing 28 % (167/590), 24–27 % (≈246/1,015), 31 % (378/1,231) | [`P_TRAFFICKED_MISSING`] = pooled 27.9 % |
//! | ≈7 (2015, 2017) and ≈8 (2019) episodes per missing trafficked child | [`TRAFFICKED_EPISODES_MEAN`] = 7.5 |
//! | ≈190 never found | [`P_NEVER_FOUND`] = 190 / 975 of missing trafficked + unaccompanied |
//! | unaccompanied children missing 13 % (593/4,744), 15 % (≈729/4,765) | [`P_UNACCOMPANIED_MISSING`] = pooled 13.9 % |
//! | looked-after children: 11 % missing, 6.1 incidents each, 65 % more than once | [`P_LAC_MISSING`], [`LAC_EPISODES_MEAN`], [`LAC_REPEAT_SHARE`] |
//! | NRM 2018: 3,137 of 6,993 referrals (45 %) about children | [`COHORT_TRAFFICKED_CHILD`] : [`COHORT_NRM_ADULT`] |
//! | UKMPU 2018/19: 12–17-year-olds ≈52 % of incidents | cohort shares and episode means below |

/// A published count: `(numerator, denominator)`.
pub type Count = (u32, u32);

/// ECPAT UK / Missing People, year to September 2015: 167 of 590 identified trafficked children
/// (28 %) went missing at least once.
pub const TRAFFICKED_MISSING_2015: Count = (167, 590);
/// ECPAT UK / Missing People, 2017: ≈246 of 1,015 identified trafficked children (24–27 %).
pub const TRAFFICKED_MISSING_2017: Count = (246, 1_015);
/// ECPAT UK / Missing People, *When Harm Remains* (2019): 378 of 1,231 (31 %).
pub const TRAFFICKED_MISSING_2019: Count = (378, 1_231);

/// Probability that a trafficked child in care goes missing at least once: the three years
/// pooled, (167 + 246 + 378) / (590 + 1,015 + 1,231) = 791 / 2,836 = 27.9 %.
pub const P_TRAFFICKED_MISSING: f64 = (167.0 + 246.0 + 378.0) / (590.0 + 1_015.0 + 1_231.0);

/// Each missing trafficked child went missing ≈7 times on average (2015, 2017) and ≈8 times
/// (2019): the generator's target mean is 7.5 episodes.
pub const TRAFFICKED_EPISODES_MEAN: f64 = 7.5;

/// *Assumed*: share of missing trafficked children who go missing only once (not published;
/// set a little below the 35 % of looked-after children, as trafficked children repeat more).
pub const TRAFFICKED_SINGLE_SHARE: f64 = 0.30;

/// Measured: episodes that would start after a child leaves care (18th birthday) or after
/// "now" are not generated, which lowers the observed mean below the drawn mean by ≈6 % for
/// trafficked children (200 k-person runs). The drawn mean is multiplied by this allowance so
/// that the observed mean matches [`TRAFFICKED_EPISODES_MEAN`].
pub const TRAFFICKED_TRUNCATION_ALLOWANCE: f64 = 1.06;
/// Measured: the same allowance for looked-after children (≈2 %), against
/// [`LAC_EPISODES_MEAN`].
pub const LAC_TRUNCATION_ALLOWANCE: f64 = 1.02;

/// ECPAT UK / Missing People, 2015: 593 of 4,744 unaccompanied children (13 %) went missing.
pub const UNACCOMPANIED_MISSING_2015: Count = (593, 4_744);
/// ECPAT UK / Missing People, 2017: ≈729 of 4,765 unaccompanied children (15 %) went missing.
pub const UNACCOMPANIED_MISSING_2017: Count = (729, 4_765);

/// Probability that an unaccompanied asylum-seeking child goes missing: pooled
/// (593 + 729) / (4,744 + 4,765) = 13.9 %.
pub const P_UNACCOMPANIED_MISSING: f64 = (593.0 + 729.0) / (4_744.0 + 4_765.0);

/// *Assumed*: mean episodes per missing unaccompanied child (not published; between adults'
/// and trafficked children's).
pub const UNACCOMPANIED_EPISODES_MEAN: f64 = 3.5;
/// *Assumed*: share of missing unaccompanied children who go missing only once.
pub const UNACCOMPANIED_SINGLE_SHARE: f64 = 0.40;

/// ≈190 trafficked and unaccompanied children never found, of the ≈246 + 729 = 975 who went
/// missing (2017).
pub const NEVER_FOUND_2017: Count = (190, 246 + 729);
/// Probability that a missing trafficked or unaccompanied child's last episode stays open:
/// 190 / 975 = 19.5 %.
pub const P_NEVER_FOUND: f64 = 190.0 / 975.0;

/// *Assumed* from "many go missing within 24–72 h of entering care": share of trafficked
/// children's first episodes that begin within 72 h of entering care or of the NRM referral
/// (half of them within 24 h).
pub const TRAFFICKED_FIRST_WITHIN_72H: f64 = 0.45;
/// *Assumed*: the same share for unaccompanied children.
pub const UNACCOMPANIED_FIRST_WITHIN_72H: f64 = 0.25;

/// DfE, year to March 2018: 11,530 looked-after children went missing (≈11 % of those looked
/// after; the denominator is back-calculated from that 11 %) in 70,170 incidents.
pub const LAC_MISSING_2018: Count = (11_530, 104_820);
/// Probability that a looked-after child goes missing: 11 %. Applied through age bands
/// ([`LAC_AGE_BANDS`]) whose weighted mean is 11 %.
pub const P_LAC_MISSING: f64 = 0.11;
/// Incidents per missing looked-after child: 70,170 / 11,530 = 6.09.
pub const LAC_EPISODES_MEAN: f64 = 70_170.0 / 11_530.0;
/// 65 % of missing looked-after children went missing more than once.
pub const LAC_REPEAT_SHARE: f64 = 0.65;

/// Age at entering care (DfE looked-after population by age, rounded) and the *assumed*
/// probability of going missing in each band: `(min age, max age, weight %, p(missing))`.
/// Weighted mean p = 0.18·0.01 + 0.19·0.03 + 0.39·0.17 + 0.24·0.15 = 0.110 = [`P_LAC_MISSING`].
pub const LAC_AGE_BANDS: [(u32, u32, u32, f64); 4] = [
    (0, 4, 18, 0.01),
    (5, 9, 19, 0.03),
    (10, 15, 39, 0.17),
    (16, 17, 24, 0.15),
];

/// NRM 2018: 6,993 referrals, 3,137 (≈45 %) about children.
pub const NRM_REFERRALS_2018: Count = (3_137, 6_993);

/// UK Missing Persons Unit 2018/19: ≈383 k missing-related calls; 12–17-year-olds ≈52 % of
/// incidents, adults ≈48 %.
pub const UKMPU_TEEN_INCIDENT_SHARE: f64 = 0.52;

/// Share of true persons who are adults reported missing (no care or NRM history).
///
/// Derivation: with the episode means below, incidents per 100 persons are, for adults,
/// 50 × 1.3 + 3.5 × 0.2 × 1.8 (NRM adults) ≈ 66, and for children 21.5 × 2.9 (from home) +
/// 18 × 0.11 × 6.1 (looked after) + 4 × 0.139 × 3.5 (unaccompanied) + 3 × 0.279 × 7.5
/// (trafficked) ≈ 83: adults ≈ 45 % and 12–17-year-olds ≈ 50 % of incidents
/// ([`UKMPU_TEEN_INCIDENT_SHARE`]), with adults the majority of persons.
pub const COHORT_ADULT: f64 = 0.50;
/// Share of true persons who are children reported missing from home (not looked after).
pub const COHORT_CHILD_FROM_HOME: f64 = 0.215;
/// Share of true persons who are looked-after children (not unaccompanied, not trafficked).
pub const COHORT_LOOKED_AFTER: f64 = 0.18;
/// Share of true persons who are unaccompanied asylum-seeking children (no NRM referral).
pub const COHORT_UNACCOMPANIED: f64 = 0.04;
/// Share of true persons who are trafficked children with an NRM referral.
pub const COHORT_TRAFFICKED_CHILD: f64 = 0.03;
/// Share of true persons who are adults with an NRM referral. With
/// [`COHORT_TRAFFICKED_CHILD`], children are 3 / 6.5 = 46 % of referrals (NRM 2018: 45 %).
pub const COHORT_NRM_ADULT: f64 = 0.035;

/// *Assumed*: share of adults reported missing once only, and their mean episodes (1.3).
pub const ADULT_SINGLE_SHARE: f64 = 0.80;
/// *Assumed*: mean episodes of an adult reported missing.
pub const ADULT_EPISODES_MEAN: f64 = 1.3;
/// *Assumed*: share of children missing from home reported once only.
pub const CHILD_FROM_HOME_SINGLE_SHARE: f64 = 0.45;
/// *Assumed*: mean episodes of a child reported missing from home.
pub const CHILD_FROM_HOME_EPISODES_MEAN: f64 = 2.9;
/// *Assumed*: probability that an adult referred to the NRM is later reported missing.
pub const P_NRM_ADULT_MISSING: f64 = 0.20;
/// *Assumed*: share of missing NRM adults reported once only.
pub const NRM_ADULT_SINGLE_SHARE: f64 = 0.60;
/// *Assumed*: mean episodes of a missing NRM adult.
pub const NRM_ADULT_EPISODES_MEAN: f64 = 1.8;

/// *Assumed*: share of an incident's children going missing from home who are 12–17 (the rest
/// are 8–11).
pub const CHILD_FROM_HOME_TEEN_SHARE: f64 = 0.93;

/// *Assumed* (Children's Commissioner, out-of-area placements): share of children's-home and
/// supported placements whose host authority differs from the placing authority.
pub const OUT_OF_AREA_RESIDENTIAL: f64 = 0.40;
/// *Assumed*: the same share for foster placements.
pub const OUT_OF_AREA_FOSTER: f64 = 0.15;

/// *Assumed* (statutory guidance: a return-home interview within 72 h): probability that a
/// child's return leads to an interview offer.
pub const P_INTERVIEW_OFFERED: f64 = 0.90;
/// *Assumed*: share of offers made within 72 h of the return (≈70 %).
pub const P_INTERVIEW_WITHIN_72H: f64 = 0.70;
/// *Assumed*: share of offered interviews accepted (≈50 %).
pub const P_INTERVIEW_ACCEPTED: f64 = 0.50;

/// *Assumed*: median duration of an episode in hours and its log-scale spread: most episodes
/// end within 24 h, with a long tail of days and weeks.
pub const DURATION_MEDIAN_H: f64 = 8.0;
/// *Assumed*: log-scale spread of episode durations.
pub const DURATION_SIGMA: f64 = 1.5;
/// *Assumed*: trafficked children's episodes are longer (median 20 h).
pub const TRAFFICKED_DURATION_MEDIAN_H: f64 = 20.0;

/// *Assumed*: share of returns found in another force's area (adults and children from home).
pub const P_FOUND_ELSEWHERE: f64 = 0.10;
/// *Assumed*: the same share for trafficked and unaccompanied children.
pub const P_FOUND_ELSEWHERE_TRAFFICKED: f64 = 0.25;

/// Default share of true persons recorded a second time by another agency (for matching
/// evaluation).
pub const DUPLICATE_SHARE: f64 = 0.08;
/// Share of duplicated persons recorded a third time.
pub const THIRD_RECORD_SHARE: f64 = 0.20;

/// Children's-services spend per child in 2016, pounds per child aged 0–17 (*approximate*:
/// about £10 bn of local-authority children's services spending in England over about 12 M
/// children in the mid-2010s; the synthetic authorities only need plausible magnitudes).
pub const SPEND_PER_CHILD_START: f64 = 800.0;
/// Yearly growth of spend per child in cash terms (*assumed*, ≈ 5 %).
pub const SPEND_GROWTH_PER_YEAR: f64 = 0.05;
/// Spread of authorities' spend levels, as the standard deviation of the log (*assumed*: most
/// authorities within ±25 % of the national figure).
pub const SPEND_AUTHORITY_SD: f64 = 0.25;
/// Year-to-year noise of an authority's spend, relative (*assumed*).
pub const SPEND_YEAR_SD: f64 = 0.04;
