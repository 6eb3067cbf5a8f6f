//! The CSV and JSON-lines forms of each record kind.

pub(crate) mod incident;
pub(crate) mod organisation;
pub(crate) mod person;
pub(crate) mod placement;
pub(crate) mod profile;
pub(crate) mod referral;
pub(crate) mod truth;
