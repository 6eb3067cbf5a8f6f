//! How each domain record maps to its table: the whole record as JSON plus the columns that
//! queries filter and join on. One description per kind, used by every backend and for both
//! single writes and bulk import.

use chrono::{DateTime, Utc};
use nrmp_domain::ValidationErrors;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The kinds of record the store keeps, one table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// [`Organisation`]
    Organisation,
    /// [`Person`]
    Person,
    /// [`Incident`]
    Incident,
    /// [`NrmReferral`]
    Referral,
    /// [`Placement`]
    Placement,
    /// [`PrefilledProfile`] (every version)
    Profile,
    /// [`FoundPerson`]
    FoundPerson,
}

impl RecordKind {
    /// Every kind, in the order they can be loaded (referenced before referencing).
    pub const ALL: [RecordKind; 7] = [
        Self::Organisation,
        Self::Person,
        Self::Incident,
        Self::Referral,
        Self::Placement,
        Self::Profile,
        Self::FoundPerson,
    ];

    /// The table holding this kind.
    pub fn table(self) -> &'static str {
        match self {
            Self::Organisation => Organisation::TABLE,
            Self::Person => Person::TABLE,
            Self::Incident => Incident::TABLE,
            Self::Referral => NrmReferral::TABLE,
            Self::Placement => Placement::TABLE,
            Self::Profile => PrefilledProfile::TABLE,
            Self::FoundPerson => FoundPerson::TABLE,
        }
    }

    /// The key columns of its table.
    pub fn key_columns(self) -> &'static [&'static str] {
        match self {
            Self::Organisation => &["code"],
            Self::Profile => &["id", "version"],
            _ => &["id"],
        }
    }
}

/// A column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Text.
    Text(String),
    /// Optional text (NULL when `None`).
    OptText(Option<String>),
    /// An integer.
    Int(i64),
}

/// Formats a timestamp as stored: RFC 3339, UTC, microseconds — fixed width so text order is
/// time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A domain record the store keeps.
pub trait Stored: Serialize + DeserializeOwned + Send + Sync {
    /// Which kind of record this is.
    const RECORD: RecordKind;
    /// Record kind, as used in audit events and errors.
    const KIND: &'static str;
    /// Table name.
    const TABLE: &'static str;
    /// Columns besides `data`, in the order [`Stored::columns`] returns them; the first ones
    /// (see [`Stored::KEY_COLUMNS`]) form the primary key.
    const COLUMNS: &'static [&'static str];
    /// How many leading columns form the key.
    const KEY_COLUMNS: usize = 1;
    /// The record's id as text.
    fn key(&self) -> String;
    /// Values of [`Stored::COLUMNS`].
    fn columns(&self) -> Vec<Val>;
    /// The record's own invariants.
    fn check(&self) -> Result<(), ValidationErrors>;
}

impl Stored for Organisation {
    const RECORD: RecordKind = RecordKind::Organisation;
    const KIND: &'static str = "organisation";
    const TABLE: &'static str = "organisations";
    const COLUMNS: &'static [&'static str] = &["code", "kind", "name"];
    fn key(&self) -> String {
        self.code.to_string()
    }
    fn columns(&self) -> Vec<Val> {
        vec![
            Val::Text(self.code.to_string()),
            Val::Text(self.kind.as_str().to_owned()),
            Val::Text(self.name.clone()),
        ]
    }
    fn check(&self) -> Result<(), ValidationErrors> {
        self.validate()
    }
}

impl Stored for Person {
    const RECORD: RecordKind = RecordKind::Person;
    const KIND: &'static str = "person";
    const TABLE: &'static str = "persons";
    const COLUMNS: &'static [&'static str] = &["id", "owning_org", "created_at", "updated_at"];
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn columns(&self) -> Vec<Val> {
        vec![
            Val::Text(self.id.to_string()),
            Val::Text(self.owning_org.to_string()),
            Val::Text(ts(self.created_at)),
            Val::Text(ts(self.updated_at)),
        ]
    }
    fn check(&self) -> Result<(), ValidationErrors> {
        self.validate()
    }
}

impl Stored for Incident {
    const RECORD: RecordKind = RecordKind::Incident;
    const KIND: &'static str = "incident";
    const TABLE: &'static str = "incidents";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "person_id",
        "owning_org",
        "force_missing",
        "category",
        "risk",
        "reported_at",
        "last_seen_at",
        "found_at",
    ];
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn columns(&self) -> Vec<Val> {
        vec![
            Val::Text(self.id.to_string()),
            Val::Text(self.person_id.to_string()),
            Val::Text(self.owning_org.to_string()),
            Val::Text(self.force_missing.to_string()),
            Val::Text(self.category.as_str().to_owned()),
            Val::Text(self.risk().as_str().to_owned()),
            Val::Text(ts(self.reported_at)),
            Val::Text(ts(self.last_seen_at)),
            Val::OptText(self.ended_at().map(ts)),
        ]
    }
    fn check(&self) -> Result<(), ValidationErrors> {
        self.validate()
    }
}

impl Stored for NrmReferral {
    const RECORD: RecordKind = RecordKind::Referral;
    const KIND: &'static str = "referral";
    const TABLE: &'static str = "referrals";
    const COLUMNS: &'static [&'static str] = &["id", "person_id", "first_responder", "referred_on"];
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn columns(&self) -> Vec<Val> {
        vec![
            Val::Text(self.id.to_string()),
            Val::Text(self.person_id.to_string()),
            Val::Text(self.first_responder.to_string()),
            Val::Text(self.referred_on.to_string()),
        ]
    }
    fn check(&self) -> Result<(), ValidationErrors> {
        self.validate()
    }
}

impl Stored for Placement {
    const RECORD: RecordKind = RecordKind::Placement;
    const KIND: &'static str = "placement";
    const TABLE: &'static str = "placements";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "person_id",
        "placing_authority",
        "host_authority",
        "started_at",
        "ended_at",
    ];
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn columns(&self) -> Vec<Val> {
        vec![
            Val::Text(self.id.to_string()),
            Val::Text(self.person_id.to_string()),
            Val::Text(self.placing_authority.to_string()),
            Val::Text(self.host_authority.to_string()),
            Val::Text(ts(self.started_at)),
            Val::OptText(self.ended_at.map(ts)),
        ]
    }
    fn check(&self) -> Result<(), ValidationErrors> {
        self.validate()
    }
}

impl Stored for PrefilledProfile {
    const RECORD: RecordKind = RecordKind::Profile;
    const KIND: &'static str = "profile";
    const TABLE: &'static str = "profiles";
    const COLUMNS: &'static [&'static str] =
        &["id", "version", "person_id", "prepared_by", "prepared_at"];
    const KEY_COLUMNS: usize = 2;
    fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
    fn columns(&self) -> Vec<Val> {
        vec![
            Val::Text(self.id.to_string()),
            Val::Int(i64::from(self.version)),
            Val::Text(self.person_id.to_string()),
            Val::Text(self.prepared_by.to_string()),
            Val::Text(ts(self.prepared_at)),
        ]
    }
    fn check(&self) -> Result<(), ValidationErrors> {
        self.validate()
    }
}

impl Stored for FoundPerson {
    const RECORD: RecordKind = RecordKind::FoundPerson;
    const KIND: &'static str = "found_person";
    const TABLE: &'static str = "found_persons";
    const COLUMNS: &'static [&'static str] = &["id", "found_by", "found_at", "identified_as"];
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn columns(&self) -> Vec<Val> {
        vec![
            Val::Text(self.id.to_string()),
            Val::Text(self.found_by.to_string()),
            Val::Text(ts(self.found_at)),
            Val::OptText(self.identified_as.map(|p| p.to_string())),
        ]
    }
    fn check(&self) -> Result<(), ValidationErrors> {
        self.validate()
    }
}

/// Decodes a stored record's JSON; a failure means a bug or a damaged database.
pub(crate) fn decode<T: Stored>(id: &str, json: &str) -> crate::Result<T> {
    serde_json::from_str(json).map_err(|source| crate::StoreError::Corrupt {
        kind: T::KIND,
        id: id.to_owned(),
        source,
    })
}
