//! [`AlertStore`] in SQL (tables from migration `0007_alerts`). Every change writes its audit
//! event through [`super::audit`], in the same transaction. Uses [`super::audit`] and
//! [`super::rows`].

use super::SqlStore;
use super::audit::append as audit_append;
use super::rows::invalid;
use crate::alerts::{
    ALERT_KIND, Acknowledgement, Addressee, Alert, AlertEvent, AlertEventKind, AlertStore,
};
use crate::records::ts;
use crate::{Ctx, Result, StoreError};

async fn audit(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    action: AuditAction,
    kind: &str,
    ids: &[String],
    detail: &str,
) -> Result<()> {
    audit_append(conn, ctx, action, kind, ids, detail).await?;
    Ok(())
}
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nrmp_domain::access::Role;
use nrmp_domain::alert::{AlertKind, DutyContact, EscalationLevel, NewAlert, Recipient};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::organisation::OrgCode;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

const ALERT_COLUMNS: &str = "a.id, a.alert_key, a.kind, a.person_id, a.incident_id, a.found_id, \
    a.raised_at, a.detail, a.escalation, a.escalated_at";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt_value(what.to_string())
}

fn time(field: &str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| corrupt(format!("{field} `{s}`: {e}")))
}

fn id_of<T: std::str::FromStr>(s: Option<String>) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    s.map(|s| s.parse::<T>().map_err(corrupt)).transpose()
}

fn alert_row(r: &AnyRow) -> Result<Alert> {
    let kind: String = r.try_get("kind")?;
    let detail: String = r.try_get("detail")?;
    let level: String = r.try_get("escalation")?;
    let raised: String = r.try_get("raised_at")?;
    let escalated: Option<String> = r.try_get("escalated_at")?;
    Ok(Alert {
        id: r.try_get("id")?,
        key: r.try_get("alert_key")?,
        kind: AlertKind::parse("kind", &kind).map_err(corrupt)?,
        person: id_of(r.try_get("person_id")?)?,
        incident: id_of(r.try_get("incident_id")?)?,
        found: id_of(r.try_get("found_id")?)?,
        raised_at: time("raised_at", &raised)?,
        detail: serde_json::from_str(&detail).map_err(corrupt)?,
        escalation: EscalationLevel::parse("escalation", &level).map_err(corrupt)?,
        escalated_at: escalated.map(|s| time("escalated_at", &s)).transpose()?,
        recipients: Vec::new(),
        acknowledgements: Vec::new(),
    })
}

/// `(r.org = $n AND r.role = $n+1) OR …` for `recipients`, parameters from `first`.
fn recipient_clause(recipients: &[Recipient], first: usize) -> String {
    if recipients.is_empty() {
        return "FALSE".to_owned();
    }
    recipients
        .iter()
        .enumerate()
        .map(|(i, _)| {
            format!(
                "(r.org = ${} AND r.role = ${})",
                first + 2 * i,
                first + 2 * i + 1
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Fills in the recipients and acknowledgements of `alerts`.
async fn complete(conn: &mut AnyConnection, alerts: &mut [Alert]) -> Result<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = alerts.iter().map(|a| a.id.to_string()).collect();
    // Numbers only, from the database: safe to inline.
    let list = ids.join(",");
    let mut by_id: HashMap<i64, usize> = HashMap::new();
    for (i, a) in alerts.iter().enumerate() {
        by_id.insert(a.id, i);
    }
    let rows = sqlx::query(&format!(
        "SELECT alert_id, org, role, level FROM alert_recipients WHERE alert_id IN ({list}) \
         ORDER BY alert_id, org, role"
    ))
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let id: i64 = r.try_get("alert_id")?;
        let org: String = r.try_get("org")?;
        let role: String = r.try_get("role")?;
        let level: String = r.try_get("level")?;
        if let Some(&i) = by_id.get(&id) {
            alerts[i].recipients.push(Addressee {
                recipient: Recipient {
                    org: OrgCode::parse("org", &org).map_err(corrupt)?,
                    role: Role::parse("role", &role).map_err(corrupt)?,
                },
                level: EscalationLevel::parse("level", &level).map_err(corrupt)?,
            });
        }
    }
    let rows = sqlx::query(&format!(
        "SELECT alert_id, org, user_name, at, note FROM alert_acknowledgements \
         WHERE alert_id IN ({list}) ORDER BY alert_id, at"
    ))
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let id: i64 = r.try_get("alert_id")?;
        let org: String = r.try_get("org")?;
        let at: String = r.try_get("at")?;
        if let Some(&i) = by_id.get(&id) {
            alerts[i].acknowledgements.push(Acknowledgement {
                org: OrgCode::parse("org", &org).map_err(corrupt)?,
                user: r.try_get("user_name")?,
                at: time("at", &at)?,
                note: r.try_get("note")?,
            });
        }
    }
    Ok(())
}

/// Appends a stream event in the caller's transaction, numbered after the last (the row lock on
/// `alert_head` orders appends by commit).
async fn append_event(
    conn: &mut AnyConnection,
    alert: i64,
    event: AlertEventKind,
    at: DateTime<Utc>,
) -> Result<i64> {
    let seq: i64 =
        sqlx::query_scalar("UPDATE alert_head SET seq = seq + 1 WHERE id = 1 RETURNING seq")
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query("INSERT INTO alert_events (seq, alert_id, event, at) VALUES ($1, $2, $3, $4)")
        .bind(seq)
        .bind(alert)
        .bind(event.as_str())
        .bind(ts(at))
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

async fn add_recipients(
    conn: &mut AnyConnection,
    alert: i64,
    recipients: &[Recipient],
    level: EscalationLevel,
) -> Result<()> {
    for r in recipients {
        sqlx::query(
            "INSERT INTO alert_recipients (alert_id, org, role, level) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (alert_id, org, role) DO NOTHING",
        )
        .bind(alert)
        .bind(r.org.to_string())
        .bind(r.role.as_str())
        .bind(level.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn fetch_alert(conn: &mut AnyConnection, id: i64) -> Result<Alert> {
    let row = sqlx::query(&format!(
        "SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        kind: ALERT_KIND,
        id: id.to_string(),
    })?;
    let mut a = [alert_row(&row)?];
    complete(conn, &mut a).await?;
    let [a] = a;
    Ok(a)
}

#[async_trait]
impl AlertStore for SqlStore {
    async fn raise_alerts(
        &self,
        ctx: &Ctx,
        alerts: &[NewAlert],
        cursor: Option<(&str, &str)>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        let mut raised = Vec::new();
        for a in alerts {
            let detail = serde_json::to_string(&a.detail).map_err(corrupt)?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO alerts (alert_key, kind, person_id, incident_id, found_id, raised_at, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (alert_key) DO NOTHING RETURNING id",
            )
            .bind(a.key.clone())
            .bind(a.kind.as_str())
            .bind(a.person.map(|p| p.to_string()))
            .bind(a.incident.map(|i| i.to_string()))
            .bind(a.found.map(|f| f.to_string()))
            .bind(ts(a.raised_at))
            .bind(detail)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = id else { continue };
            add_recipients(&mut tx, id, &a.recipients, EscalationLevel::None).await?;
            append_event(&mut tx, id, AlertEventKind::Raised, ctx.at).await?;
            raised.push(id);
        }
        if let Some((consumer, state)) = cursor {
            sqlx::query(
                "INSERT INTO outbox_cursors (consumer, state) VALUES ($1, $2) \
                 ON CONFLICT (consumer) DO UPDATE SET state = excluded.state",
            )
            .bind(consumer.to_owned())
            .bind(state.to_owned())
            .execute(&mut *tx)
            .await?;
        }
        if !raised.is_empty() {
            let ids: Vec<String> = raised.iter().map(i64::to_string).collect();
            let kinds: std::collections::BTreeSet<&str> =
                alerts.iter().map(|a| a.kind.as_str()).collect();
            let detail = format!(
                "raised: {}",
                kinds.into_iter().collect::<Vec<_>>().join(", ")
            );
            audit(&mut tx, ctx, AuditAction::Create, ALERT_KIND, &ids, &detail).await?;
        }
        tx.commit().await?;
        Ok(raised)
    }

    async fn outbox_cursor(&self, consumer: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT state FROM outbox_cursors WHERE consumer = $1")
                .bind(consumer.to_owned())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn alerts_for(
        &self,
        recipients: &[Recipient],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.id < $1 AND EXISTS \
             (SELECT 1 FROM alert_recipients r WHERE r.alert_id = a.id AND ({})) \
             ORDER BY a.id DESC LIMIT $2",
            recipient_clause(recipients, 3)
        );
        let mut q = sqlx::query(&sql)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit));
        for r in recipients {
            q = q.bind(r.org.to_string()).bind(r.role.as_str());
        }
        let mut conn = self.pool.acquire().await?;
        let rows = q.fetch_all(&mut *conn).await?;
        let mut alerts = rows.iter().map(alert_row).collect::<Result<Vec<_>>>()?;
        complete(&mut conn, &mut alerts).await?;
        Ok(alerts)
    }

    async fn alert(&self, id: i64) -> Result<Alert> {
        let mut conn = self.pool.acquire().await?;
        fetch_alert(&mut conn, id).await
    }

    async fn alert_events_after(
        &self,
        recipients: &[Recipient],
        after: i64,
        limit: u32,
    ) -> Result<Vec<AlertEvent>> {
        let sql = format!(
            "SELECT e.seq, e.event, e.at AS event_at, {ALERT_COLUMNS} FROM alert_events e \
             JOIN alerts a ON a.id = e.alert_id WHERE e.seq > $1 AND EXISTS \
             (SELECT 1 FROM alert_recipients r WHERE r.alert_id = a.id AND ({})) \
             ORDER BY e.seq LIMIT $2",
            recipient_clause(recipients, 3)
        );
        let mut q = sqlx::query(&sql).bind(after).bind(i64::from(limit));
        for r in recipients {
            q = q.bind(r.org.to_string()).bind(r.role.as_str());
        }
        let mut conn = self.pool.acquire().await?;
        let rows = q.fetch_all(&mut *conn).await?;
        let mut alerts = rows.iter().map(alert_row).collect::<Result<Vec<_>>>()?;
        complete(&mut conn, &mut alerts).await?;
        rows.iter()
            .zip(alerts)
            .map(|(r, alert)| {
                let event: String = r.try_get("event")?;
                let at: String = r.try_get("event_at")?;
                Ok(AlertEvent {
                    seq: r.try_get("seq")?,
                    event: match event.as_str() {
                        "raised" => AlertEventKind::Raised,
                        "escalated" => AlertEventKind::Escalated,
                        "acknowledged" => AlertEventKind::Acknowledged,
                        other => return Err(corrupt(format!("alert event `{other}`"))),
                    },
                    at: time("at", &at)?,
                    alert,
                })
            })
            .collect()
    }

    async fn last_alert_event(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM alert_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn acknowledge_alert(&self, ctx: &Ctx, id: i64, note: &str) -> Result<Acknowledgement> {
        let mut tx = self.begin().await?;
        fetch_alert(&mut tx, id).await?;
        let done = sqlx::query(
            "INSERT INTO alert_acknowledgements (alert_id, org, user_name, at, note) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (alert_id, org) DO NOTHING",
        )
        .bind(id)
        .bind(ctx.actor.org.to_string())
        .bind(ctx.actor.user.clone())
        .bind(ts(ctx.at))
        .bind(note.to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "alert {id} is already acknowledged by {}",
                ctx.actor.org
            )));
        }
        append_event(&mut tx, id, AlertEventKind::Acknowledged, ctx.at).await?;
        audit(
            &mut tx,
            ctx,
            AuditAction::Update,
            ALERT_KIND,
            &[id.to_string()],
            "acknowledged",
        )
        .await?;
        tx.commit().await?;
        Ok(Acknowledgement {
            org: ctx.actor.org.clone(),
            user: ctx.actor.user.clone(),
            at: ctx.at,
            note: note.to_owned(),
        })
    }

    async fn alerts_to_escalate(
        &self,
        raised_before: DateTime<Utc>,
        level: EscalationLevel,
        limit: u32,
    ) -> Result<Vec<Alert>> {
        let below: Vec<&str> = [EscalationLevel::None, EscalationLevel::DutyContact]
            .into_iter()
            .filter(|l| *l < level)
            .map(EscalationLevel::as_str)
            .collect();
        if below.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..below.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.raised_at < $1 \
             AND a.escalation IN ({}) AND NOT EXISTS \
             (SELECT 1 FROM alert_acknowledgements k WHERE k.alert_id = a.id) \
             ORDER BY a.id LIMIT $2",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql)
            .bind(ts(raised_before))
            .bind(i64::from(limit));
        for b in below {
            q = q.bind(b);
        }
        let mut conn = self.pool.acquire().await?;
        let rows = q.fetch_all(&mut *conn).await?;
        let mut alerts = rows.iter().map(alert_row).collect::<Result<Vec<_>>>()?;
        complete(&mut conn, &mut alerts).await?;
        Ok(alerts)
    }

    async fn escalate_alert(
        &self,
        ctx: &Ctx,
        id: i64,
        level: EscalationLevel,
        recipients: &[Recipient],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let alert = fetch_alert(&mut tx, id).await?;
        if !alert.acknowledgements.is_empty() || alert.escalation >= level {
            return Ok(false);
        }
        sqlx::query("UPDATE alerts SET escalation = $1, escalated_at = $2 WHERE id = $3")
            .bind(level.as_str())
            .bind(ts(ctx.at))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        add_recipients(&mut tx, id, recipients, level).await?;
        append_event(&mut tx, id, AlertEventKind::Escalated, ctx.at).await?;
        audit(
            &mut tx,
            ctx,
            AuditAction::Update,
            ALERT_KIND,
            &[id.to_string()],
            &format!("escalated: {}", level.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn put_duty_contact(&self, ctx: &Ctx, contact: &DutyContact) -> Result<()> {
        contact.validate()?;
        let mut tx = self.begin().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT code FROM organisations WHERE code = $1")
                .bind(contact.org.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(invalid(
                "org",
                &format!("{} is not an organisation on the register", contact.org),
            ));
        }
        let data = serde_json::to_string(contact).map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO duty_contacts (org, data) VALUES ($1, $2) \
             ON CONFLICT (org) DO UPDATE SET data = excluded.data",
        )
        .bind(contact.org.to_string())
        .bind(data)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            ctx,
            AuditAction::Update,
            "duty_contact",
            &[contact.org.to_string()],
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn duty_contacts(&self, orgs: &[OrgCode]) -> Result<Vec<DutyContact>> {
        if orgs.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=orgs.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT data FROM duty_contacts WHERE org IN ({}) ORDER BY org",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for o in orgs {
            q = q.bind(o.to_string());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|d| serde_json::from_str(d).map_err(corrupt))
            .collect()
    }
}
