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

/// Time-ordered (version 7) UUIDs: the system time in the top 48 bits, then OS randomness.
/// New rows land at the end of the database's indexes instead of all over them.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdGen for RandomIds {
    fn next_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Deterministic ids from a seed and a counter (for synthetic data and tests).
#[derive(Debug)]
pub struct SeededIds {
    seed: u64,
    counter: std::sync::atomic::AtomicU64,
    order: Option<u64>,
}

impl SeededIds {
    /// A generator whose sequence depends only on `seed` (random-looking version 4 UUIDs).
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: std::sync::atomic::AtomicU64::new(0),
            order: None,
        }
    }

    /// Like [`SeededIds::new`], but version 7 UUIDs whose 48-bit time field holds `order`
    /// (e.g. the index of the synthetic person being generated), so that ids sort — and are
    /// inserted into indexes — in generation order, as real time-ordered ids would be.
    pub fn ordered(seed: u64, order: u64) -> Self {
        Self {
            order: Some(order & 0xFFFF_FFFF_FFFF),
            ..Self::new(seed)
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
        let random = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
        match self.order {
            None => uuid::Builder::from_random_bytes(random).into_uuid(),
            Some(order) => {
                let mut rand = [0u8; 10];
                rand.copy_from_slice(&random[..10]);
                // The counter keeps ids of one `order` in sequence too.
                rand[..2].copy_from_slice(&(n as u16).to_be_bytes());
                uuid::Builder::from_unix_timestamp_millis(order, &rand).into_uuid()
            }
        }
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
    fn ordered_ids_sort_in_generation_order() {
        let ids: Vec<Uuid> = (0..50u64)
            .flat_map(|k| {
                let g = SeededIds::ordered(7, k);
                (0..3).map(move |_| g.next_uuid())
            })
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "not in generation order"
        );
        assert!(ids.iter().all(|u| u.get_version_num() == 7));
        assert_eq!(
            SeededIds::ordered(7, 3).next_uuid(),
            SeededIds::ordered(7, 3).next_uuid()
        );
        assert_ne!(
            SeededIds::ordered(7, 3).next_uuid(),
            SeededIds::ordered(8, 3).next_uuid()
        );
        assert_eq!(RandomIds.next_uuid().get_version_num(), 7);
    }

    #[test]
    fn bad_id_names_field() {
        let e = PersonId::parse("person_id", "nope").unwrap_err();
        assert_eq!(e.field, "person_id");
        assert!(e.problem.contains("nope"));
    }
}
