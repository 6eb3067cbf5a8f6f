//! The filters and cursors of the store's lists ([`QueryStore`](crate::QueryStore)): what the
//! application's list use cases and need-to-know checks ask for. Every list is keyset-paged by
//! the cursor's key, so a page costs the same wherever it is, and rows inserted meanwhile do not
//! shift pages.

use chrono::{DateTime, Utc};
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId};
use nrmp_domain::incident::{IncidentCategory, RiskGrade};
use nrmp_domain::organisation::OrgCode;

/// Which incidents to list. Every filter given must hold (AND); `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only these incidents (empty: any).
    pub ids: Vec<IncidentId>,
    /// Only open (`true`) or only closed (`false`) incidents.
    pub open: Option<bool>,
    /// Only incidents whose current risk grade is one of these (empty: any grade).
    pub risk: Vec<RiskGrade>,
    /// Only incidents in this force's area (the force where the person went missing).
    pub force: Option<OrgCode>,
    /// Only incidents owned by this organisation.
    pub owning_org: Option<OrgCode>,
    /// Only incidents of children whose person record or incident this local authority owns, or
    /// whom it places or hosts.
    pub authority: Option<OrgCode>,
    /// Only incidents of this person.
    pub person: Option<PersonId>,
    /// Only this category.
    pub category: Option<IncidentCategory>,
    /// Only incidents whose person was last seen at or before this instant ("missing longer than
    /// N hours" is `last_seen_before = now - N h` with `open = true`).
    pub last_seen_before: Option<DateTime<Utc>>,
}

/// Position in the incident list (ordered by last seen, most recent first, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentCursor {
    /// Last-seen time of the last incident of the previous page.
    pub last_seen_at: DateTime<Utc>,
    /// Its id.
    pub id: IncidentId,
}

/// Which persons to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFilter {
    /// Only persons whose record this organisation owns.
    pub owning_org: Option<OrgCode>,
}

/// Which found-person records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoundFilter {
    /// Only these records (empty: any).
    pub ids: Vec<FoundPersonId>,
    /// Only unidentified (`true`) or only identified (`false`) records.
    pub unidentified: Option<bool>,
    /// Only records made by this organisation.
    pub found_by: Option<OrgCode>,
}

/// Position in the found-person list (most recently found first, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundCursor {
    /// When the last record of the previous page was found.
    pub found_at: DateTime<Utc>,
    /// Its id.
    pub id: FoundPersonId,
}
