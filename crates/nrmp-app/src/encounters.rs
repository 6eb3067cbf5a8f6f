//! `POST /api/v1/encounters`: the encounter check. "Is this person reported missing anywhere?"
//! — ranked candidates from the matching index, each decided by the policy on its own case
//! (refused rows are dropped before ranking output), shown through the grant's view with the
//! explanation limited to the fields the grant includes, and the search audited with its
//! stated reason (required).

use crate::Register;
use crate::access::Attempt;
use crate::error::{AppError, AppResult};
use nrmp_domain::access::Principal;
use nrmp_domain::access::{
    Action, Field, FieldSet, RedactedPerson, ResourceKind, Target, authorize,
};
use nrmp_domain::audit::search::SearchQuery;
use nrmp_domain::identifier::Identifier;
use nrmp_domain::ids::PersonId;
use nrmp_domain::person::{DateOfBirth, Description, Nationality, Sex};
use nrmp_match::{Contribution, MatchRecord, PersonName};

/// What the officer has in front of them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncounterInput {
    /// Given name(s) as heard or read.
    #[serde(default)]
    pub given: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family: Option<String>,
    /// A whole name when it is not known which part is the family name.
    #[serde(default)]
    pub name: Option<String>,
    /// The name in its original script.
    #[serde(default)]
    pub original: Option<String>,
    /// Date of birth: `YYYY-MM-DD`, `YYYY`, `YYYY-MM`, or a range `A..B`.
    #[serde(default)]
    pub dob: Option<String>,
    /// Sex.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// Nationalities (ISO 3166 alpha-3).
    #[serde(default)]
    pub nationalities: Vec<Nationality>,
    /// Identifiers seen (passport, Home Office reference…).
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
    /// Height in cm: `170` or `165-175`.
    #[serde(default)]
    pub height: Option<String>,
    /// Distinguishing marks as text ("scar left cheek").
    #[serde(default)]
    pub marks: Vec<String>,
    /// How many candidates (default 10).
    #[serde(default)]
    pub k: Option<usize>,
    /// Why the check is made (alternative to the `X-NRMP-Reason` header); required.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One candidate as the caller may see them.
#[derive(Debug, serde::Serialize)]
pub struct EncounterCandidate {
    /// 1 for the best.
    pub rank: usize,
    /// Posterior probability that this is the same person (all evidence, shown or not).
    pub match_probability: f64,
    /// Total match weight in bits.
    pub match_weight: f64,
    /// How strongly all the evidence points to this person (`strong`, `possible`, `weak`):
    /// bands of the weight, calibrated on evaluation data (docs/matching.md). The
    /// probability assumes how rare a true match is in the whole register, so even a good
    /// candidate's is small; the band is what to read first.
    pub strength: nrmp_match::Strength,
    /// What the band means, in an officer's words.
    pub strength_meaning: &'static str,
    /// The person, redacted to the grant.
    pub person: RedactedPerson,
    /// Their open incidents (whether and how urgently they are missing, whom to call).
    pub open_incidents: Vec<crate::incidents::IncidentView>,
    /// The per-field weights for the fields the grant includes.
    pub explanation: Vec<Contribution>,
    /// True if fields the caller may not see contributed to the score (their weights are left
    /// out of `explanation`).
    pub withheld_evidence: bool,
    /// Whom to call: the duty contacts of the forces and owners of the open incidents shown.
    pub whom_to_call: Vec<nrmp_domain::alert::DutyContact>,
}

/// An officer's reading of a candidate: rank, name and date of birth as granted, the match
/// strength, and the waterfall of per-field weights.
impl std::fmt::Display for EncounterCandidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.person;
        let name = p
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map_or_else(|| "(name withheld)".to_owned(), |n| n.full());
        let dob = match &p.dob {
            Some(Some(d)) => d.to_text(),
            Some(None) => "?".to_owned(),
            None => "(withheld)".to_owned(),
        };
        writeln!(
            f,
            "#{} {name}  born {dob}  {} match: {}",
            self.rank, self.strength, self.strength_meaning
        )?;
        writeln!(f, "{}  weight {:+.2}", p.id, self.match_weight)?;
        for c in &self.explanation {
            writeln!(f, "  {:<64} {:+7.2}", c.says, c.weight)?;
        }
        if self.withheld_evidence {
            writeln!(f, "  (evidence from fields you may not see is left out)")?;
        }
        for i in &self.open_incidents {
            writeln!(f, "  open incident {}", i.incident.id)?;
        }
        Ok(())
    }
}

/// The answer.
#[derive(Debug, serde::Serialize)]
pub struct EncounterResult {
    /// The query as understood (for the record).
    pub query: String,
    /// Candidates the caller may see, best first.
    pub candidates: Vec<EncounterCandidate>,
}

/// The policy field a contribution's evidence comes from (`None`: not about the person).
pub(crate) fn contribution_field(key: &str) -> Option<Field> {
    match key {
        "prior" => None,
        "name" | "name_tf" => Some(Field::Names),
        "dob" => Some(Field::DateOfBirth),
        "sex" => Some(Field::Sex),
        "nationality" => Some(Field::Nationalities),
        "height" | "marks" => Some(Field::Description),
        "identifiers" => Some(Field::Identifiers),
        // Anything else (generic text fields) is shown to nobody but the full-access roles.
        _ => Some(Field::Circumstances),
    }
}

/// The explanation limited to `fields`; true if anything was left out.
pub fn redact_explanation(all: &[Contribution], fields: FieldSet) -> (Vec<Contribution>, bool) {
    let mut withheld = false;
    let shown = all
        .iter()
        .filter(|c| match contribution_field(&c.field) {
            None => true,
            Some(f) if fields.contains(f) => true,
            Some(_) => {
                withheld = true;
                false
            }
        })
        .cloned()
        .collect();
    (shown, withheld)
}

/// What an encounter query gave, field by field, in the order given.
#[derive(Debug, Default)]
struct Given(Vec<(&'static str, String)>);

impl Given {
    /// The query as understood, for the caller (`given=Mohamed, family=Ali, dob=2008`).
    fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(f, v)| format!("{f}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The search as the audit log keeps it: the fields given (and how many candidates were
    /// asked for) in the chain, the values apart, where erasing a person they matched destroys
    /// them (docs/audit.md).
    fn search(&self, k: usize) -> SearchQuery {
        self.0
            .iter()
            .fold(SearchQuery::new("encounter check"), |q, (f, v)| {
                q.term(*f, v.as_str())
            })
            .asked(k)
    }
}

impl EncounterInput {
    /// Checks the query as the check would (every bad field named), without running it: an
    /// adapter can refuse bad input before it opens the register.
    pub fn check(&self, today: chrono::NaiveDate) -> AppResult<()> {
        self.query(today).map(|_| ())
    }

    fn query(&self, today: chrono::NaiveDate) -> AppResult<(MatchRecord, Given)> {
        let mut q = MatchRecord::new("query");
        let mut desc = Vec::new();
        let mut errs = crate::input::Errors::default();
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (given, family, original) =
            (text(&self.given), text(&self.family), text(&self.original));
        for (field, v) in [
            ("given", &given),
            ("family", &family),
            ("original", &original),
            ("name", &text(&self.name)),
        ] {
            if v.as_ref().is_some_and(|v| v.chars().count() > 200) {
                errs.take::<()>(Err(AppError::invalid(
                    field,
                    "is longer than 200 characters",
                )));
            }
        }
        if given.is_some() || family.is_some() || original.is_some() {
            let mut n = PersonName::new(
                given.clone().unwrap_or_default(),
                family.clone().unwrap_or_default(),
            );
            n.original_script = original.clone();
            q.names.push(n);
            for (k, v) in [
                ("given", &given),
                ("family", &family),
                ("original", &original),
            ] {
                if let Some(v) = v {
                    desc.push((k, v.clone()));
                }
            }
        }
        if let Some(name) = text(&self.name) {
            q.names.push(PersonName::full(name.clone()));
            desc.push(("name", name.clone()));
        }
        if let Some(d) = text(&self.dob)
            && let Some(dob) =
                errs.take(DateOfBirth::parse("dob", &d, today).map_err(AppError::from))
        {
            q.dob = Some(nrmp_match::domain::dob_range(&dob));
            desc.push(("dob", d.clone()));
        }
        if let Some(s) = self.sex {
            q.sex = nrmp_match::domain::sex(s);
            desc.push(("sex", s.as_str().to_owned()));
        }
        for n in &self.nationalities {
            q.nationalities.push(n.as_str().to_owned());
            desc.push(("nationality", n.as_str().to_owned()));
        }
        for i in &self.identifiers {
            q.identifiers
                .push((i.kind().as_str().to_owned(), i.value().to_owned()));
            desc.push(("identifier", i.kind().as_str().to_owned()));
        }
        if let Some(h) = text(&self.height) {
            q.height_cm =
                errs.take(Description::parse_height("height", &h).map_err(AppError::from));
            desc.push(("height", h.clone()));
        }
        for (i, m) in self.marks.iter().enumerate() {
            let m = m.trim();
            if m.chars().count() > 200 {
                errs.take::<()>(Err(AppError::invalid(
                    format!("marks[{i}]"),
                    "is longer than 200 characters",
                )));
            } else if !m.is_empty() {
                q.marks.push(m.to_owned());
                desc.push(("mark", m.to_owned()));
            }
        }
        errs.finish()?;
        if q.names.is_empty() && q.dob.is_none() && q.identifiers.is_empty() {
            return Err(AppError::invalid(
                "given",
                "give at least a name (given, family, name or original), a date of birth or an identifier",
            ));
        }
        Ok((q, Given(desc)))
    }
}

impl Register {
    /// The encounter check: the register's best candidates for what the officer has in front
    /// of them, each decided by the policy on its own case, shown through its grant, the search
    /// audited before anything is returned (a reason is required).
    pub async fn encounter_check(
        &self,
        caller: &Principal,
        reason: Option<String>,
        input: EncounterInput,
    ) -> AppResult<EncounterResult> {
        let now = self.clock.now();
        let k = input.k.unwrap_or(10);
        if k == 0 || k > self.limits.max_candidates {
            return Err(AppError::invalid(
                "k",
                format!("must be from 1 to {}", self.limits.max_candidates),
            ));
        }
        let (query, given) = input.query(now.date_naive())?;
        self.decide(
            caller,
            Attempt {
                action: Action::Search,
                resource: ResourceKind::Person,
                ids: &[],
            },
            &Target::Register,
            reason.as_deref(),
        )
        .await?;
        // Ask for more than k: rows the caller may not see are dropped before ranks are given.
        let hits = self.index.lookup(&query, (k * 4).max(20));
        let ids: Vec<PersonId> = hits
            .iter()
            .filter_map(|c| PersonId::parse("id", &c.id).ok())
            .collect();
        let cases = self.load_cases(&ids).await?;
        let mut candidates = Vec::new();
        for hit in &hits {
            if candidates.len() == k {
                break;
            }
            let Some(case) = PersonId::parse("id", &hit.id)
                .ok()
                .and_then(|id| cases.get(&id))
            else {
                continue;
            };
            let target = Target::Case(&case.ctx);
            let Ok(grant) = authorize(
                caller,
                Action::Search,
                ResourceKind::Person,
                &target,
                reason.as_deref(),
            ) else {
                continue;
            };
            let Ok(person) = grant.view(&case.history.person) else {
                continue;
            };
            let open_incidents = match authorize(
                caller,
                Action::Search,
                ResourceKind::Incident,
                &target,
                reason.as_deref(),
            ) {
                Ok(g) => case
                    .history
                    .incidents
                    .iter()
                    .filter(|i| i.is_open())
                    .filter_map(|i| crate::incidents::render(&g, i, &case.history, now).ok())
                    .collect(),
                Err(_) => Vec::new(),
            };
            let (explanation, withheld_evidence) =
                redact_explanation(&hit.contributions, grant.fields());
            let mut orgs: Vec<nrmp_domain::organisation::OrgCode> = open_incidents
                .iter()
                .filter_map(|v: &crate::incidents::IncidentView| {
                    case.history
                        .incidents
                        .iter()
                        .find(|i| i.id == v.incident.id)
                })
                .flat_map(|i| [i.force_missing.clone(), i.owning_org.clone()])
                .collect();
            orgs.sort();
            orgs.dedup();
            let whom_to_call = self.store.duty_contacts(&orgs).await?;
            candidates.push(EncounterCandidate {
                rank: candidates.len() + 1,
                match_probability: hit.match_probability,
                match_weight: hit.match_weight,
                strength: hit.strength,
                strength_meaning: hit.strength.meaning(),
                person,
                open_incidents,
                explanation,
                withheld_evidence,
                whom_to_call,
            });
        }
        // The owning force of a high-risk missing person learns of the check, whether or not
        // the officer may see the record (rule `encounter_high_risk`, docs/alerts.md).
        if let Some(top) = hits.first()
            && let Some(case) = PersonId::parse("id", &top.id)
                .ok()
                .and_then(|id| cases.get(&id))
        {
            self.raise_encounter_alerts(caller, top, case).await?;
        }
        let shown: Vec<String> = candidates.iter().map(|c| c.person.id.to_string()).collect();
        let matched: Vec<String> = hits.iter().map(|c| c.id.clone()).collect();
        // Audited before anything is shown: no audit, no disclosure. The chain gets the fields
        // given; the query itself is kept erasably, linked to everyone it matched (also those
        // the caller may not see).
        self.store
            .record_search(
                &self.ctx(caller, reason.as_deref()),
                "person",
                &shown,
                &matched,
                &given.search(k),
            )
            .await?;
        Ok(EncounterResult {
            query: given.describe(),
            candidates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(field: &str) -> Contribution {
        Contribution {
            field: field.into(),
            level: "exact".into(),
            weight: 1.0,
            detail: "x vs x".into(),
            says: "X: the same (x / x)".into(),
        }
    }

    #[test]
    fn audit_detail_names_fields_never_values() {
        let given = Given(
            [
                ("given", "Mohamed"),
                ("family", "Ali"),
                ("nationality", "SDN"),
                ("nationality", "ERI"),
                ("mark", "scar, left cheek"),
            ]
            .map(|(f, v)| (f, v.to_owned()))
            .to_vec(),
        );
        assert_eq!(
            given.search(10).summary(),
            "encounter check: fields=given,family,nationality×2,mark; k=10"
        );
        assert_eq!(
            given.describe(),
            "given=Mohamed, family=Ali, nationality=SDN, nationality=ERI, mark=scar, left cheek"
        );
    }

    #[test]
    fn explanation_keeps_only_granted_fields() {
        let all = vec![c("prior"), c("name"), c("nationality"), c("identifiers")];
        let (shown, withheld) = redact_explanation(&all, nrmp_domain::access::sets::ENCOUNTER);
        let keys: Vec<&str> = shown.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(keys, vec!["prior", "name"]);
        assert!(withheld);
        let (shown, withheld) = redact_explanation(&all, FieldSet::ALL);
        assert_eq!(shown.len(), 4);
        assert!(!withheld);
    }
}
