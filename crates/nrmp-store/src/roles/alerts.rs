//! Storage of alerts: the [`AlertStore`] role trait (implemented by [`crate::SqlStore`] in
//! `sql/alerts.rs`, tables from migration `0007_alerts`) and the records it returns.
//!
//! Raising is idempotent by the alert's key, and saves the raising follower's outbox cursor in
//! the same transaction, so a restart neither loses nor repeats an alert. Every raise,
//! acknowledgement, escalation and duty-contact change writes its audit event in its own
//! transaction; the stream of alert events is numbered in commit order (see the migration).

use crate::{Ctx, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nrmp_domain::alert::{
    AlertDetail, AlertKind, DutyContact, EscalationLevel, NewAlert, Recipient,
};
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId};
use nrmp_domain::organisation::OrgCode;

/// Record kind of alerts in audit events.
pub const ALERT_KIND: &str = "alert";

/// An organisation's acknowledgement of an alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Acknowledgement {
    /// The organisation acknowledging.
    pub org: OrgCode,
    /// The person who did.
    pub user: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What they noted ("call made to duty desk, child placed").
    pub note: String,
}

/// One recipient of a stored alert, with the escalation level that added it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Addressee {
    /// Who.
    #[serde(flatten)]
    pub recipient: Recipient,
    /// Added at this level.
    pub level: EscalationLevel,
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alert {
    /// Its number.
    pub id: i64,
    /// The fact it reports.
    pub key: String,
    /// The rule.
    pub kind: AlertKind,
    /// The person whose case decides who may learn of it.
    pub person: Option<PersonId>,
    /// The incident concerned.
    pub incident: Option<IncidentId>,
    /// The found person concerned.
    pub found: Option<FoundPersonId>,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// What it says (no personal details).
    pub detail: AlertDetail,
    /// How far it has escalated.
    pub escalation: EscalationLevel,
    /// When it last escalated.
    pub escalated_at: Option<DateTime<Utc>>,
    /// Whom it is for.
    pub recipients: Vec<Addressee>,
    /// Who has acknowledged it.
    pub acknowledgements: Vec<Acknowledgement>,
}

impl Alert {
    /// True if `org` holding one of `roles` is among its recipients.
    pub fn addressed_to(&self, org: &OrgCode, roles: &[nrmp_domain::access::Role]) -> bool {
        self.recipients
            .iter()
            .any(|a| a.recipient.org == *org && roles.contains(&a.recipient.role))
    }
}

/// What happened to an alert, in the order the stream delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEventKind {
    /// Raised.
    Raised,
    /// Escalated to more recipients.
    Escalated,
    /// Acknowledged by an organisation.
    Acknowledged,
}

impl AlertEventKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raised => "raised",
            Self::Escalated => "escalated",
            Self::Acknowledged => "acknowledged",
        }
    }
}

/// One event of the alert stream.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertEvent {
    /// Its number (increasing in commit order: the SSE event id).
    pub seq: i64,
    /// What happened.
    pub event: AlertEventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// The alert as it is now.
    pub alert: Alert,
}

/// Storage of alerts, their addressing, acknowledgements, escalation and duty contacts.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores the alerts not stored yet (by key; the others are left as they are), with a
    /// `raised` event each, and — in the same transaction — sets `consumer`'s outbox cursor to
    /// `cursor` if given. Audited as one creation of the new alerts. Returns their numbers.
    async fn raise_alerts(
        &self,
        ctx: &Ctx,
        alerts: &[NewAlert],
        cursor: Option<(&str, &str)>,
    ) -> Result<Vec<i64>>;
    /// The saved outbox cursor of `consumer`, if any.
    async fn outbox_cursor(&self, consumer: &str) -> Result<Option<String>>;
    /// Alerts addressed to any of `recipients`, newest first, numbered below `before` if given.
    async fn alerts_for(
        &self,
        recipients: &[Recipient],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Alert>>;
    /// Alert `id` (`NotFound` if there is none).
    async fn alert(&self, id: i64) -> Result<Alert>;
    /// Stream events after `after` of alerts addressed to any of `recipients`, oldest first.
    async fn alert_events_after(
        &self,
        recipients: &[Recipient],
        after: i64,
        limit: u32,
    ) -> Result<Vec<AlertEvent>>;
    /// The last stream event's number (0 if none).
    async fn last_alert_event(&self) -> Result<i64>;
    /// Records `ctx.actor`'s organisation's acknowledgement of alert `id` (audited; an
    /// `acknowledged` event). `Conflict` if that organisation has already acknowledged it.
    async fn acknowledge_alert(&self, ctx: &Ctx, id: i64, note: &str) -> Result<Acknowledgement>;
    /// Unacknowledged alerts raised before `raised_before` whose escalation is below `level`,
    /// oldest first.
    async fn alerts_to_escalate(
        &self,
        raised_before: DateTime<Utc>,
        level: EscalationLevel,
        limit: u32,
    ) -> Result<Vec<Alert>>;
    /// Escalates alert `id` to `level`, adding `recipients` (audited; an `escalated` event).
    /// False, changing nothing, if it is acknowledged or already at or past `level`.
    async fn escalate_alert(
        &self,
        ctx: &Ctx,
        id: i64,
        level: EscalationLevel,
        recipients: &[Recipient],
    ) -> Result<bool>;
    /// Sets an organisation's duty contact (audited). The organisation must be on the register.
    async fn put_duty_contact(&self, ctx: &Ctx, contact: &DutyContact) -> Result<()>;
    /// The duty contacts of those of `orgs` that have one.
    async fn duty_contacts(&self, orgs: &[OrgCode]) -> Result<Vec<DutyContact>>;
}
