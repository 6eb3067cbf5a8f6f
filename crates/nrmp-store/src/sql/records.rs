//! Single records in SQL ([`RecordStore`]): each write in its own transaction with its
//! cross-record checks (incident overlap and update rules, profile versions), its review-date
//! bump, its audit event and its outbox event; each read audited. Uses [`super::retention`],
//! [`super::audit`], [`super::outbox`] and [`super::rows`].

use super::rows::{
    Write, fetch, fetch_where, insert_many, invalid, lock_person, not_found, write_one,
};
use super::{SqlStore, audit, outbox, retention};
use crate::prelude::*;
use crate::records::{Stored, Val, decode};
use crate::{PersonHistory, Result, StoreError};
use async_trait::async_trait;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::error::{FieldError, ValidationErrors};
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, ProfileId};
use nrmp_domain::incident::{Incident, check_no_overlap};
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::{AuthoritySpend, OrgCode, OrgKind, Organisation};
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use sqlx::{AnyConnection, Row};
use std::collections::HashSet;

impl SqlStore {
    /// Runs `f` in a transaction that also records the audit event; commits only if both succeed.
    async fn mutate<T: Stored>(
        &self,
        ctx: &Ctx,
        action: AuditAction,
        item: &T,
        write: Write,
    ) -> Result<()> {
        item.check()?;
        let mut tx = self.begin().await?;
        write_one(&mut tx, self.backend, item, write).await?;
        retention::after_write(&mut tx, &self.retention, item, ctx.at).await?;
        audit::append(&mut tx, ctx, action, T::KIND, &[item.key()], "").await?;
        outbox::append(
            &mut tx,
            ctx.at,
            &format!("{}.{}", T::KIND, action.as_str()),
            T::KIND,
            &item.key(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn read<T: Stored>(&self, ctx: &Ctx, key: &[Val]) -> Result<T> {
        let mut tx = self.begin().await?;
        let item = fetch::<T>(&mut tx, key).await?;
        audit::append(&mut tx, ctx, AuditAction::Read, T::KIND, &[item.key()], "").await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Writes an incident after locking its person and checking it against their other
    /// incidents.
    async fn write_incident(
        &self,
        ctx: &Ctx,
        incident: &Incident,
        write: Write,
        expected: Option<&Incident>,
    ) -> Result<()> {
        incident.validate()?;
        let mut tx = self.begin().await?;
        lock_person(&mut tx, incident.person_id).await?;
        let existing: Vec<Incident> =
            fetch_where(&mut tx, "person_id", &incident.person_id.to_string()).await?;
        if write == Write::Update {
            let old = existing
                .iter()
                .find(|i| i.id == incident.id)
                .ok_or_else(|| not_found::<Incident>(&incident.id.to_string()))?;
            if expected.is_some_and(|e| e != old) {
                return Err(StoreError::Conflict(format!(
                    "incident {} was changed by someone else meanwhile",
                    incident.id
                )));
            }
            incident.check_update_from(old)?;
        }
        check_no_overlap(incident, &existing).map_err(ValidationErrors::from)?;
        write_one(&mut tx, self.backend, incident, write).await?;
        retention::after_write(&mut tx, &self.retention, incident, ctx.at).await?;
        let action = if write == Write::Insert {
            AuditAction::Create
        } else {
            AuditAction::Update
        };
        let key = incident.id.to_string();
        audit::append(
            &mut tx,
            ctx,
            action,
            Incident::KIND,
            std::slice::from_ref(&key),
            "",
        )
        .await?;
        outbox::append(
            &mut tx,
            ctx.at,
            &format!("incident.{}", action.as_str()),
            Incident::KIND,
            &key,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(super) async fn put_organisations(
    conn: &mut AnyConnection,
    orgs: &[Organisation],
) -> Result<()> {
    for o in orgs {
        o.validate()?;
        let data = serde_json::to_string(o).map_err(|source| StoreError::Corrupt {
            kind: Organisation::KIND,
            id: o.code.to_string(),
            source,
        })?;
        sqlx::query(
            "INSERT INTO organisations (code, kind, name, data) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, data = excluded.data",
        )
        .bind(o.code.to_string())
        .bind(o.kind.as_str())
        .bind(o.name.clone())
        .bind(data)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl RecordStore for SqlStore {
    async fn put_organisations(&self, ctx: &Ctx, orgs: &[Organisation]) -> Result<()> {
        let mut tx = self.begin().await?;
        put_organisations(&mut tx, orgs).await?;
        let ids: Vec<String> = orgs.iter().map(|o| o.code.to_string()).collect();
        audit::append(
            &mut tx,
            ctx,
            AuditAction::Update,
            Organisation::KIND,
            &ids,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn organisations(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query("SELECT code, data FROM organisations ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| decode(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?))
            .collect()
    }

    async fn replace_spend(&self, ctx: &Ctx, rows: &[AuthoritySpend]) -> Result<()> {
        let mut seen = HashSet::new();
        for (i, row) in rows.iter().enumerate() {
            row.validate().map_err(|e| {
                StoreError::Invalid(ValidationErrors(
                    e.0.into_iter()
                        .map(|f| FieldError::new(format!("rows[{i}].{}", f.field), f.problem))
                        .collect(),
                ))
            })?;
            if !seen.insert((row.authority.as_str(), row.year)) {
                return Err(invalid(
                    &format!("rows[{i}].year"),
                    &format!("{} {} appears twice", row.authority, row.year),
                ));
            }
        }
        let mut tx = self.begin().await?;
        let authorities: HashSet<String> =
            sqlx::query_scalar("SELECT code FROM organisations WHERE kind = $1")
                .bind(OrgKind::LocalAuthority.as_str())
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        if let Some((i, row)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| !authorities.contains(r.authority.as_str()))
        {
            return Err(invalid(
                &format!("rows[{i}].authority"),
                &format!("{} is not a local authority on the register", row.authority),
            ));
        }
        sqlx::query("DELETE FROM authority_spend")
            .execute(&mut *tx)
            .await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO authority_spend (authority, year, spend_per_child) VALUES ($1, $2, $3)",
            )
            .bind(row.authority.to_string())
            .bind(i64::from(row.year))
            .bind(row.spend_per_child)
            .execute(&mut *tx)
            .await?;
        }
        let years = rows.iter().map(|r| r.year);
        let detail = format!(
            "spend table replaced: {} rows, {} authorities, years {}–{}",
            rows.len(),
            rows.iter()
                .map(|r| &r.authority)
                .collect::<HashSet<_>>()
                .len(),
            years.clone().min().unwrap_or(0),
            years.max().unwrap_or(0)
        );
        audit::append(
            &mut tx,
            ctx,
            AuditAction::Import,
            AuthoritySpend::KIND,
            &[],
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn spend(&self) -> Result<Vec<AuthoritySpend>> {
        let rows = sqlx::query(
            "SELECT authority, year, spend_per_child FROM authority_spend ORDER BY authority, year",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let code: String = r.try_get(0)?;
                let year: i64 = r.try_get(1)?;
                Ok(AuthoritySpend {
                    authority: OrgCode::parse("authority", &code)
                        .map_err(|e| StoreError::corrupt_value(e.to_string()))?,
                    year: i32::try_from(year)
                        .map_err(|e| StoreError::corrupt_value(format!("year {year}: {e}")))?,
                    spend_per_child: r.try_get(2)?,
                })
            })
            .collect()
    }

    async fn create_person(&self, ctx: &Ctx, person: &Person) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, person, Write::Insert)
            .await
    }

    async fn update_person(&self, ctx: &Ctx, person: &Person) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, person, Write::Update)
            .await
    }

    async fn person(&self, ctx: &Ctx, id: PersonId) -> Result<Person> {
        self.read(ctx, &[Val::Text(id.to_string())]).await
    }

    async fn person_history(&self, ctx: &Ctx, id: PersonId) -> Result<PersonHistory> {
        let key = id.to_string();
        let mut tx = self.begin().await?;
        let person: Person = fetch(&mut tx, &[Val::Text(key.clone())]).await?;
        let mut incidents: Vec<Incident> = fetch_where(&mut tx, "person_id", &key).await?;
        incidents.sort_by_key(|i| i.last_seen_at);
        let referrals = fetch_where(&mut tx, "person_id", &key).await?;
        let placements = fetch_where(&mut tx, "person_id", &key).await?;
        let all_versions: Vec<PrefilledProfile> = fetch_where(&mut tx, "person_id", &key).await?;
        let mut profiles: Vec<PrefilledProfile> = Vec::new();
        for p in all_versions {
            match profiles.iter_mut().find(|q| q.id == p.id) {
                Some(q) if q.version < p.version => *q = p,
                Some(_) => {}
                None => profiles.push(p),
            }
        }
        audit::append(
            &mut tx,
            ctx,
            AuditAction::Read,
            Person::KIND,
            &[key],
            "with history",
        )
        .await?;
        tx.commit().await?;
        Ok(PersonHistory {
            person,
            incidents,
            referrals,
            placements,
            profiles,
        })
    }

    async fn create_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()> {
        self.write_incident(ctx, incident, Write::Insert, None)
            .await
    }

    async fn update_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()> {
        self.write_incident(ctx, incident, Write::Update, None)
            .await
    }

    async fn update_incident_from(
        &self,
        ctx: &Ctx,
        expected: &Incident,
        incident: &Incident,
    ) -> Result<()> {
        self.write_incident(ctx, incident, Write::Update, Some(expected))
            .await
    }

    async fn incident(&self, ctx: &Ctx, id: IncidentId) -> Result<Incident> {
        self.read(ctx, &[Val::Text(id.to_string())]).await
    }

    async fn create_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, referral, Write::Insert)
            .await
    }

    async fn update_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, referral, Write::Update)
            .await
    }

    async fn create_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, placement, Write::Insert)
            .await
    }

    async fn update_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, placement, Write::Update)
            .await
    }

    async fn save_profile(&self, ctx: &Ctx, profile: &PrefilledProfile) -> Result<()> {
        profile.validate()?;
        let mut tx = self.begin().await?;
        lock_person(&mut tx, profile.person_id).await?;
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM profiles WHERE id = $1")
                .bind(profile.id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        let expected = latest.map_or(1, |v| v + 1);
        if i64::from(profile.version) != expected {
            return Err(StoreError::Conflict(format!(
                "profile {} is at version {}; the next version is {expected}, not {}",
                profile.id,
                latest.unwrap_or(0),
                profile.version
            )));
        }
        insert_many(&mut tx, self.backend, std::slice::from_ref(profile)).await?;
        retention::after_write(&mut tx, &self.retention, profile, ctx.at).await?;
        let action = if expected == 1 {
            AuditAction::Create
        } else {
            AuditAction::Update
        };
        audit::append(
            &mut tx,
            ctx,
            action,
            PrefilledProfile::KIND,
            &[profile.key()],
            "",
        )
        .await?;
        outbox::append(
            &mut tx,
            ctx.at,
            "profile.saved",
            PrefilledProfile::KIND,
            &profile.key(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn profile(
        &self,
        ctx: &Ctx,
        id: ProfileId,
        version: Option<u32>,
    ) -> Result<PrefilledProfile> {
        let version = match version {
            Some(v) => i64::from(v),
            None => sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(version) FROM profiles WHERE id = $1",
            )
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .ok_or_else(|| not_found::<PrefilledProfile>(&id.to_string()))?,
        };
        self.read(ctx, &[Val::Text(id.to_string()), Val::Int(version)])
            .await
    }

    async fn create_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()> {
        self.mutate(ctx, AuditAction::Create, found, Write::Insert)
            .await
    }

    async fn update_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()> {
        self.mutate(ctx, AuditAction::Update, found, Write::Update)
            .await
    }

    async fn found_person(&self, ctx: &Ctx, id: FoundPersonId) -> Result<FoundPerson> {
        self.read(ctx, &[Val::Text(id.to_string())]).await
    }
}
