//! Typed record identifiers, so a person id can never be passed where an incident id is meant.
//!
//! Ids are UUIDs (version 7 when generated: time-ordered, so indexes stay compact). They are
//! generated from an injected source of randomness via [`IdGen`].

use crate::error::FieldError;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The kind of record, as used in audit events.
            pub const KIND: &'static str = $prefix;

            /// Parses the id in `field`.
            pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| FieldError::new(field, format!("`{s}` is not a valid {} id (a UUID)", $prefix)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse("id", s)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

record_id!(
    /// Identifies a [`crate::person::Person`].
    PersonId, "person"
);
record_id!(
    /// Identifies a [`crate::incident::Incident`].
    IncidentId, "incident"
);
record_id!(
    /// Identifies a [`crate::profile::PrefilledProfile`] (all its versions).
    ProfileId, "profile"
);
record_id!(
    /// Identifies a [`crate::nrm::NrmReferral`].
    ReferralId, "referral"
);
record_id!(
    /// Identifies a [`crate::placement::Placement`].
    PlacementId, "placement"
);
record_id!(
    /// Identifies a [`crate::found::FoundPerson`].
    FoundPersonId, "found_person"
);

/// Makes new ids from a seeded or system source, so generation is reproducible when wanted.
pub trait IdGen: Send + Sync {
    /// 16 random bytes (the generator may mix in time).
    fn next_uuid(&self) -> Uuid;
}

/// Random v4 UUIDs from the operating system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdGen for RandomIds {
    fn next_uuid(&self) -> Uuid {
        Uuid::new_v4()
    }
}

/// Deterministic ids from a seed and a counter (for synthetic data and tests).
#[derive(Debug)]
pub struct SeededIds {
    seed: u64,
    counter: std::sync::atomic::AtomicU64,
}

impl SeededIds {
    /// A generator whose sequence depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl IdGen for SeededIds {
    fn next_uuid(&self) -> Uuid {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // splitmix64 of (seed, n): well spread, cheap, reproducible.
        let mix = |mut z: u64| {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let hi = mix(self.seed ^ mix(n));
        let lo = mix(hi ^ n.rotate_left(17));
        uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
            .into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_are_reproducible_and_distinct() {
        let a = SeededIds::new(7);
        let b = SeededIds::new(7);
        let xs: Vec<_> = (0..1000).map(|_| a.next_uuid()).collect();
        let ys: Vec<_> = (0..1000).map(|_| b.next_uuid()).collect();
        assert_eq!(xs, ys);
        let set: std::collections::HashSet<_> = xs.iter().collect();
        assert_eq!(set.len(), 1000);
        assert_ne!(SeededIds::new(8).next_uuid(), xs[0]);
    }

    #[test]
    fn bad_id_names_field() {
        let e = PersonId::parse("person_id", "nope").unwrap_err();
        assert_eq!(e.field, "person_id");
        assert!(e.problem.contains("nope"));
    }
}
