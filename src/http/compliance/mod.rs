//! Compliance (OAS tag Compliance): status, requirements, submit,
//! resubmit a rejected application and refresh. The lifecycle is
//! `crate::domain::compliance` on the mock's clock: a (re)submitted
//! application is reviewed 2 minutes later, accepted when its documents
//! cover the requirements and rejected otherwise; `refresh` and every
//! read show the state the clock has reached. `POST
//! /_admin/compliance/{id}` forces a decision. Renting a number in a
//! regulated country (IN, GB, DE, AU) needs an accepted `local`
//! application for it.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::compliance::Command;
use crate::domain::compliance_form::{parse_resubmit, parse_submit};
use crate::domain::compliance_rules::{requirement_wire, NumberType, UserType};
use crate::domain::inventory::parse_country;
use crate::domain::DomainError;
use crate::http::error::Reply;
use crate::http::extract::{ApiQuery, Org, OrgPath, OrgState};
use crate::http::render;
use crate::state::AppState;

pub(crate) mod form;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        get_compliance_status,
        get_compliance_requirements,
        submit_application,
        resubmit_application,
        refresh_application
    ]
    .layer(DefaultBodyLimit::max(form::UPLOAD_LIMIT))
}

/// Query of the status and requirements routes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct ComplianceQuery {
    /// ISO 3166-1 alpha-2 country (required; exactly 2 letters).
    country_iso: Option<String>,
    /// `local`, `mobile` or `tollfree` (required).
    number_type: Option<String>,
    /// `individual` or `business` (required).
    user_type: Option<String>,
}

impl ComplianceQuery {
    /// The combination asked about: 400 `countryIso: Required`,
    /// `countryIso: String must contain exactly 2 character(s)`,
    /// `numberType: Invalid enum value. Expected 'local' | 'mobile' |
    /// 'tollfree', received '…'`, the same for `userType`.
    fn parse(&self) -> Result<(String, NumberType, UserType), DomainError> {
        let country = parse_country("countryIso", self.country_iso.as_deref())?;
        Ok((country, NumberType::parse(self.number_type.as_deref())?, UserType::parse(self.user_type.as_deref())?))
    }
}

/// Which step to show (OAS GET /compliance/status): `{step: form |
/// submitted | accepted | rejected | expired | suspended, application
/// (ComplianceApplication, or null when there is none), requiredDocuments
/// (RequiredDocumentType[], empty where no compliance is needed)}`.
#[utoipa::path(get, path = "/compliance/status", tag = "Compliance", params(ComplianceQuery),
    responses((status = 200, description = "`{step, application, requiredDocuments}`"), (status = 400, description = "Bad query"),
              (status = 401, description = "Unauthorized")))]
async fn get_compliance_status(OrgState(s, t): OrgState, ApiQuery(q): ApiQuery<ComplianceQuery>) -> Reply {
    let (country, nt, ut) = q.parse()?;
    Ok(render::ok(s.store.with_account(&t, |a, ids, now| a.compliance_status(&country, nt, ut, ids, now))))
}

/// The documents a combination needs (OAS GET /compliance/requirements):
/// `{requirementId (UUID), countryIso, numberType, userType,
/// documentTypes}`; `documentTypes` is empty outside IN, GB, DE and AU.
#[utoipa::path(get, path = "/compliance/requirements", tag = "Compliance", params(ComplianceQuery),
    responses((status = 200, description = "ComplianceRequirement"), (status = 400, description = "Bad query"),
              (status = 401, description = "Unauthorized")))]
async fn get_compliance_requirements(Org(_t): Org, ApiQuery(q): ApiQuery<ComplianceQuery>) -> Reply {
    let (country, nt, ut) = q.parse()?;
    Ok(render::ok(requirement_wire(&country, nt, ut)))
}

/// Submit an application (OAS POST /compliance/applications), multipart:
/// `countryIso`, `numberType`, `userType`, `endUser` (JSON, `name`
/// required), `documents` (JSON array of `{documentTypeId, dataFields?}`),
/// `files` (one per document; PDF, JPEG or PNG, ≤ 5 MB, ≤ 10). **201**
/// with the application, `status: submitted`. 400: `Expected X files, got
/// Y` (the spec's), `endUser: Invalid JSON`, `endUser.name: Required`,
/// `documents.0.documentTypeId: Required`, `Unsupported file type: x.gif.
/// Accepted formats: PDF, JPEG, PNG`, `File x.pdf exceeds the 5 MB size
/// limit`, `A maximum of 10 files is allowed`; 409 `A compliance
/// application already exists for GB/local. Status: submitted` (the
/// spec's).
#[utoipa::path(post, path = "/compliance/applications", tag = "Compliance",
    request_body(content = String, content_type = "multipart/form-data",
        description = "`countryIso`, `numberType`, `userType`, `endUser` (JSON), `documents` (JSON), `files`"),
    responses((status = 201, description = "ComplianceApplication"), (status = 400, description = "Form error"),
              (status = 409, description = "Already exists"), (status = 401, description = "Unauthorized")))]
async fn submit_application(OrgState(s, t): OrgState, mp: Result<Multipart, MultipartRejection>) -> Reply {
    let sub = parse_submit(&form::read(mp).await?)?;
    Ok(render::created(s.store.with_account(&t, |a, ids, now| a.submit_compliance(sub, ids, now))?))
}

/// Resubmit a rejected application (OAS PATCH
/// /compliance/applications/{id}), multipart `documents` and `files`
/// (all of them again): 200, back to `submitted`, reviewed 2 minutes
/// later. 400 `Only rejected applications can be resubmitted. Current
/// status: <status>` and the form's errors; 404 `Compliance application
/// not found` (unknown or another organization's).
#[utoipa::path(patch, path = "/compliance/applications/{id}", tag = "Compliance",
    params(("id" = String, Path, description = "The application's `_id`")),
    request_body(content = String, content_type = "multipart/form-data", description = "`documents` (JSON), `files`"),
    responses((status = 200, description = "ComplianceApplication"), (status = 400, description = "Not rejected, or form error"),
              (status = 404, description = "Not found"), (status = 401, description = "Unauthorized")))]
async fn resubmit_application(OrgPath(s, t, id): OrgPath<String>, mp: Result<Multipart, MultipartRejection>) -> Reply {
    let f = form::read(mp).await?;
    let (documents, file_names) = parse_resubmit(f.documents.as_deref(), &f.files)?;
    let cmd = Command::Resubmit { documents, file_names };
    Ok(render::ok(s.store.with_account(&t, |a, ids, now| a.compliance_command(&id, &cmd, ids, now))?))
}

/// Poll the provider (OAS POST /compliance/applications/{id}/refresh):
/// the application as the clock has it (a review that fell due has run).
/// 404 `Compliance application not found`.
#[utoipa::path(post, path = "/compliance/applications/{id}/refresh", tag = "Compliance",
    params(("id" = String, Path, description = "The application's `_id`")),
    responses((status = 200, description = "ComplianceApplication"), (status = 404, description = "Not found"),
              (status = 401, description = "Unauthorized")))]
async fn refresh_application(OrgPath(s, t, id): OrgPath<String>) -> Reply {
    Ok(render::ok(s.store.with_account(&t, |a, ids, now| a.compliance_command(&id, &Command::Review, ids, now))?))
}
