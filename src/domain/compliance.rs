//! Compliance applications (OAS tag Compliance): their lifecycle on the
//! mock's clock, one application per country, number type and user type,
//! and the gate on renting numbers in regulated countries.
//!
//! ```text
//! submit ─▶ submitted ─review due─▶ accepted | rejected (by [`review`])
//! rejected ─resubmit─▶ submitted          accepted ─suspend─▶ suspended
//! accepted | suspended ─expire─▶ expired
//! control API: approve ─▶ accepted (from any other status); reject ─▶ rejected
//! ```
//!
//! The review is due [`REVIEW_DELAY_MS`] after a (re)submission; it runs
//! when the clock gets there ([`Effect::ReviewAt`]) or on an earlier
//! `refresh` that finds it due (the spec's refresh polls the provider).
//! Its outcome is a pure function of the documents (`review`). Only a
//! rejected application can be resubmitted (the spec). There is no
//! terminal status: the control API can force a decision at any time,
//! and a forced decision is never overturned by a stale review.
//!
//! `draft` (in the spec's enum) never occurs: the mock submits at once.
//!
//! Decisions (inferred): uniqueness is per country, number type **and**
//! user type (the spec's "one application per organization per country
//! per number type per user type"), with the 409 message the spec quotes;
//! an unknown or foreign id is 404 `Compliance application not found`;
//! renting a number in a regulated country needs an `accepted`
//! application for that country and `local` numbers, of either user type.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::compliance_form::{DocumentEntry, EndUser, Submission};
use super::compliance_rules::{document_types, is_regulated, review, DocType, NumberType, UserType};
use super::time::iso;
use super::{DomainError, Millis};

/// Time from a (re)submission to its review, ms (2 minutes: past the
/// dashboard's 60 s refresh cooldown, short on a virtual clock).
pub const REVIEW_DELAY_MS: Millis = 120_000;
/// 404 for an unknown or foreign application (inferred).
pub const NOT_FOUND: &str = "Compliance application not found";

/// Application status (OAS #ComplianceApplication.status, without `draft`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationStatus {
    /// Under review.
    Submitted,
    /// Approved: numbers can be rented.
    Accepted,
    /// Rejected: may be resubmitted.
    Rejected,
    /// Suspended by the provider.
    Suspended,
    /// Expired.
    Expired,
}

impl ApplicationStatus {
    /// The wire name (also the `step` of `GET /compliance/status`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
            Self::Expired => "expired",
        }
    }
}

/// A compliance application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// 24-hex `_id`.
    pub id: String,
    /// Owning organization.
    pub organization_id: String,
    /// The provider's id (UUID).
    pub plivo_compliance_id: String,
    /// `<first 8 of the org id>-<country>-production` (the spec's example).
    pub alias: String,
    /// Status.
    pub status: ApplicationStatus,
    /// ISO country.
    pub country_iso: String,
    /// Number type.
    pub number_type: NumberType,
    /// User type.
    pub user_type: UserType,
    /// End user.
    pub end_user: EndUser,
    /// Documents of the latest submission.
    pub documents: Vec<DocumentEntry>,
    /// File names of the latest submission.
    pub document_file_names: Vec<String>,
    /// Why it was rejected (or suspended).
    pub rejection_reason: Option<String>,
    /// The submitting user.
    pub created_by: String,
    /// Created, epoch ms.
    pub created_at: Millis,
    /// Last change, epoch ms; never goes backwards.
    pub updated_at: Millis,
    /// When the pending review is due, epoch ms.
    pub review_at: Option<Millis>,
}

impl Application {
    /// A new `submitted` application; its review is due after
    /// [`REVIEW_DELAY_MS`].
    pub fn submit(id: String, org_id: &str, user_id: &str, plivo_id: String, sub: Submission, now: Millis) -> Self {
        let prefix: String = org_id.chars().take(8).collect();
        Application {
            id,
            organization_id: org_id.to_string(),
            plivo_compliance_id: plivo_id,
            alias: format!("{prefix}-{}-production", sub.country_iso),
            status: ApplicationStatus::Submitted,
            country_iso: sub.country_iso,
            number_type: sub.number_type,
            user_type: sub.user_type,
            end_user: sub.end_user,
            documents: sub.documents,
            document_file_names: sub.file_names,
            rejection_reason: None,
            created_by: user_id.to_string(),
            created_at: now,
            updated_at: now,
            review_at: Some(now + REVIEW_DELAY_MS),
        }
    }

    /// The wire object (OAS #ComplianceApplication).
    pub fn wire(&self) -> Value {
        json!({
            "_id": self.id, "organizationId": self.organization_id, "plivoComplianceId": self.plivo_compliance_id,
            "alias": self.alias, "status": self.status.as_str(), "countryIso": self.country_iso,
            "numberType": self.number_type.as_str(), "userType": self.user_type.as_str(),
            "endUserName": self.end_user.name, "endUserLastName": self.end_user.last_name,
            "endUserEmail": self.end_user.email, "endUserCountry": self.end_user.country,
            "documentFileNames": self.document_file_names, "rejectionReason": self.rejection_reason,
            "createdBy": self.created_by, "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
        })
    }
}

/// Something that happens to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The clock reached `review_at`, or a refresh polled the provider.
    Review,
    /// `PATCH /compliance/applications/{id}` with new documents.
    Resubmit {
        /// Documents.
        documents: Vec<DocumentEntry>,
        /// File names.
        file_names: Vec<String>,
    },
    /// Control API: accept now.
    Approve,
    /// Control API: reject now, with a reason.
    Reject(String),
    /// Control API: suspend an accepted application.
    Suspend(String),
    /// Control API: expire an accepted or suspended application.
    Expire,
}

/// What the engine must do after a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Run [`Command::Review`] at this time (epoch ms).
    ReviewAt(Millis),
}

/// The result of an accepted command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The application after the command.
    pub next: Application,
    /// What to schedule.
    pub effects: Vec<Effect>,
}

fn refused(app: &Application, verb: &str) -> DomainError {
    DomainError::invalid(format!("Application is {} and cannot be {verb}", app.status.as_str()))
}

fn decide(n: &mut Application, accepted: bool, reason: Option<String>) {
    n.status = if accepted { ApplicationStatus::Accepted } else { ApplicationStatus::Rejected };
    n.rejection_reason = reason;
    n.review_at = None;
}

/// Applies `cmd` at `now`. Refusals (400, nothing changes): resubmitting
/// an application that is not rejected (`Only rejected applications can
/// be resubmitted. Current status: <status>`), suspending one that is not
/// accepted, expiring one that is neither accepted nor suspended. A review
/// that is not due, or finds nothing to review, changes nothing.
pub fn apply(app: &Application, cmd: &Command, now: Millis) -> Result<Outcome, DomainError> {
    use ApplicationStatus as S;
    let mut n = app.clone();
    let mut effects = Vec::new();
    match (app.status, cmd) {
        (S::Submitted, Command::Review) => {
            if app.review_at.is_some_and(|due| due <= now) {
                let verdict = review(&app.country_iso, app.number_type, app.user_type, &app.documents);
                let accepted = verdict.is_ok();
                decide(&mut n, accepted, verdict.err());
            }
        }
        (S::Accepted | S::Rejected | S::Suspended | S::Expired, Command::Review) => {}
        (S::Rejected, Command::Resubmit { documents, file_names }) => {
            n.status = S::Submitted;
            n.documents.clone_from(documents);
            n.document_file_names.clone_from(file_names);
            n.rejection_reason = None;
            n.review_at = Some(now + REVIEW_DELAY_MS);
            effects.push(Effect::ReviewAt(now + REVIEW_DELAY_MS));
        }
        (S::Submitted | S::Accepted | S::Suspended | S::Expired, Command::Resubmit { .. }) => {
            return Err(DomainError::invalid(format!(
                "Only rejected applications can be resubmitted. Current status: {}",
                app.status.as_str()
            )))
        }
        (S::Submitted | S::Rejected | S::Suspended | S::Expired, Command::Approve) => decide(&mut n, true, None),
        (S::Accepted, Command::Approve) => {}
        (S::Submitted | S::Accepted | S::Rejected | S::Suspended | S::Expired, Command::Reject(reason)) => {
            decide(&mut n, false, Some(reason.clone()));
        }
        (S::Accepted, Command::Suspend(reason)) => {
            n.status = S::Suspended;
            n.rejection_reason = Some(reason.clone());
        }
        (S::Suspended, Command::Suspend(_)) => {}
        (S::Submitted | S::Rejected | S::Expired, Command::Suspend(_)) => return Err(refused(app, "suspended")),
        (S::Accepted | S::Suspended, Command::Expire) => {
            n.status = S::Expired;
            n.review_at = None;
        }
        (S::Expired, Command::Expire) => {}
        (S::Submitted | S::Rejected, Command::Expire) => return Err(refused(app, "expired")),
    }
    if n != *app {
        n.updated_at = app.updated_at.max(now);
    }
    Ok(Outcome { next: n, effects })
}

/// `data` of `GET /compliance/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView<'a> {
    /// `form` when there is no application, else its status.
    pub step: &'static str,
    /// The application, if any.
    pub application: Option<&'a Application>,
    /// The document types this combination needs.
    pub required_documents: &'static [DocType],
}

impl StatusView<'_> {
    /// `{step, application, requiredDocuments}`.
    pub fn wire(&self) -> Value {
        let docs: Vec<Value> = self.required_documents.iter().map(DocType::wire).collect();
        json!({"step": self.step, "application": self.application.map(Application::wire), "requiredDocuments": docs})
    }
}

/// An organization's applications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceBook {
    apps: Vec<Application>,
}

impl ComplianceBook {
    /// Every application, oldest first.
    pub fn all(&self) -> &[Application] {
        &self.apps
    }

    fn find(&self, country: &str, nt: NumberType, ut: UserType) -> Option<&Application> {
        self.apps.iter().find(|a| a.country_iso == country && a.number_type == nt && a.user_type == ut)
    }

    /// Files a new application. 409 `A compliance application already
    /// exists for <countryIso>/<numberType>. Status: <status>` (the spec's
    /// exact message) when one exists for the combination.
    pub fn submit(&mut self, app: Application) -> Result<(&Application, Effect), DomainError> {
        if let Some(a) = self.find(&app.country_iso, app.number_type, app.user_type) {
            return Err(DomainError::Conflict(format!(
                "A compliance application already exists for {}/{}. Status: {}",
                a.country_iso,
                a.number_type.as_str(),
                a.status.as_str()
            )));
        }
        let due = app.review_at.unwrap_or(app.created_at);
        self.apps.push(app);
        Ok((&self.apps[self.apps.len() - 1], Effect::ReviewAt(due)))
    }

    /// The application `id`; 404 [`NOT_FOUND`].
    pub fn get(&self, id: &str) -> Result<&Application, DomainError> {
        self.apps.iter().find(|a| a.id == id).ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))
    }

    /// Applies `cmd` to application `id` and stores the result.
    pub fn command(
        &mut self,
        id: &str,
        cmd: &Command,
        now: Millis,
    ) -> Result<(&Application, Vec<Effect>), DomainError> {
        let i = self.apps.iter().position(|a| a.id == id).ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))?;
        let out = apply(&self.apps[i], cmd, now)?;
        self.apps[i] = out.next;
        Ok((&self.apps[i], out.effects))
    }

    /// Runs every review that is due at `now`.
    pub fn settle(&mut self, now: Millis) {
        for a in &mut self.apps {
            if let Ok(out) = apply(a, &Command::Review, now) {
                *a = out.next;
            }
        }
    }

    /// `GET /compliance/status` for the combination.
    pub fn status(&self, country: &str, nt: NumberType, ut: UserType) -> StatusView<'_> {
        let application = self.find(country, nt, ut);
        StatusView {
            step: application.map_or("form", |a| a.status.as_str()),
            application,
            required_documents: document_types(country, nt, ut),
        }
    }

    /// The gate on renting a `local` number in `country`: `Ok(None)` when
    /// the country is not regulated, `Ok(Some(application id))` when an
    /// accepted application covers it, else 400 `Compliance approval is
    /// required to rent numbers in <country>. Submit an application and
    /// wait for it to be accepted.` (inferred).
    pub fn rent_gate(&self, country: &str) -> Result<Option<String>, DomainError> {
        if !is_regulated(country) {
            return Ok(None);
        }
        self.apps
            .iter()
            .find(|a| {
                a.country_iso == country && a.number_type == NumberType::Local && a.status == ApplicationStatus::Accepted
            })
            .map(|a| Some(a.id.clone()))
            .ok_or_else(|| {
                DomainError::invalid(format!(
                    "Compliance approval is required to rent numbers in {country}. Submit an application and wait for it to be accepted."
                ))
            })
    }
}

#[cfg(test)]
#[path = "compliance_props.rs"]
mod props;
