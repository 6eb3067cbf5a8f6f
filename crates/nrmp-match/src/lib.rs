//! Identity matching for the National Register of Missing Persons.
//!
//! Answers "is this person recorded anywhere?" when names were written down by
//! ear or transliterated (Vietnamese, Albanian, Arabic, Tigrinya, Persian/Dari/
//! Pashto, Kurdish), dates of birth are age assessments, and name order varies;
//! and finds the same person recorded twice. Pure library: no IO, no async.
//!
//! * [`record`]: input type [`MatchRecord`] (independent of the domain crate);
//! * [`normalise`]: NFKC, case-fold, transliteration, diacritics, particles,
//!   variant groups ([`variants`]), phonetic keys and consonant skeletons;
//! * [`compare`]: graded per-field comparison levels;
//! * [`model`]: Fellegi–Sunter m/u model, EM training, TF adjustment, JSON;
//! * [`blocking`]: independent blocking keys and a recall measure;
//! * [`index`]: in-memory lookup index with upsert/remove and top-k lookup;
//! * [`explain`]: [`Candidate`]s with a per-field weight waterfall;
//! * [`batch`]: dedup, link, connected-component clustering with stable ids, training;
//! * `domain` (feature `domain`, default): `nrmp_domain::person::Person` → [`MatchRecord`].
//!
//! [`Model::default_trained`] is the shipped model (`models/default.json`, trained on
//! synthetic data; see `docs/matching.md` for the command that produced it).
//!
//! ```
//! use chrono::NaiveDate;
//! use nrmp_match::{BlockingConfig, DobKind, DobRange, Index, MatchRecord, Model, PersonName, Sex};
//!
//! let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
//! let register = vec![
//!     MatchRecord::new("MP-1")
//!         .with_name(PersonName::new("Văn Đức", "Nguyễn"))
//!         .with_dob(DobRange::range(d(2006, 1, 1), d(2008, 12, 31), DobKind::AgeAssessed))
//!         .with_sex(Sex::Male),
//!     MatchRecord::new("MP-2").with_name(PersonName::new("Mohammed", "Karimi")),
//! ];
//! let index = Index::build(Model::default_untrained(), BlockingConfig::default(), &register);
//!
//! // Written by ear, family name first, stated date of birth.
//! let query = MatchRecord::new("encounter")
//!     .with_name(PersonName::full("Nguyen Duc"))
//!     .with_dob(DobRange::exact(d(2007, 4, 2)))
//!     .with_sex(Sex::Male);
//! let hits = index.lookup(&query, 5);
//! assert_eq!(hits[0].id, "MP-1");
//! println!("{}", hits[0]); // waterfall: one line per field with its signed weight
//! ```

pub mod batch;
pub mod blocking;
pub mod compare;
#[cfg(feature = "domain")]
pub mod domain;
pub mod explain;
pub mod index;
pub mod model;
pub mod normalise;
pub mod prepare;
pub mod record;
pub mod variants;

#[cfg(test)]
mod testdata;

pub use batch::{
    BatchConfig, BatchResult, ClusterAssignment, ScoredPair, TrainConfig, TrainReport,
    carry_over_ids, clusters, dedup, explain_pairs, link, train,
};
pub use blocking::{BlockingConfig, RecallReport, blocking_recall};
pub use explain::{Candidate, Contribution, Strength};
pub use index::{Index, IndexStats};
pub use model::{Model, ModelError};
pub use record::{DobKind, DobRange, MatchRecord, PersonName, Sex};
