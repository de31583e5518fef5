//! Control API for the account book (mock extension, `?apiKey=K`): the
//! plan (`GET|PUT /_admin/plan`), credit top-ups (`POST /_admin/credits`),
//! invoices (`POST /_admin/invoices`, `POST
//! /_admin/invoices/{id}/{pay|void}`) and forced compliance decisions
//! (`POST /_admin/compliance/{id}`). Everything goes through the same
//! domain calls as the platform routes, so the ledger stays the sum of its
//! rows.

use crate::http::routes::{router, OpenApiRouter};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::{AdminOrg, OrgKeyQuery};
use crate::domain::compliance::Command;
use crate::domain::ledger::{Credits, TransactionType};
use crate::domain::plan::apply_patch;
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::json::RequestBody;
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(get_plan, put_plan), add_credits, issue_invoice, settle_invoice, decide_compliance]
}

fn plan_json(t: &std::sync::Arc<Tenant>) -> Value {
    serde_json::to_value(t.account().plan()).unwrap_or_default()
}

/// The organization's plan: `{id, limits, features, isEnterprise,
/// onPremEnabled, numberMonthlyRate (micro-credits)}`.
#[utoipa::path(get, path = "/_admin/plan", tag = "Control API", params(OrgKeyQuery),
    responses((status = 200, description = "The plan"), (status = 400, description = "apiKey missing")))]
async fn get_plan(AdminOrg(_s, _key, t): AdminOrg) -> Reply {
    Ok(Json(plan_json(&t)).into_response())
}

/// `PUT /_admin/plan`: `{planId?, limits?: {<limit>: int}, features?:
/// {<feature>: bool}, isEnterprise?, onPremEnabled?, numberMonthlyRate?}`
/// (`domain::plan::apply_patch`; a preset id such as `plan_free` switches
/// to that preset first).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub(crate) struct PlanPatchRequest(Map<String, Value>);

impl RequestBody for PlanPatchRequest {}

/// Change the plan (see [`PlanPatchRequest`]). Limits apply to what is
/// created from now on; `concurrentCalls` is the call engine's limit at
/// once (waiting calls that now fit start). 400 for an unknown limit or
/// a wrong type.
#[utoipa::path(put, path = "/_admin/plan", tag = "Control API", params(OrgKeyQuery), request_body = PlanPatchRequest,
    responses((status = 200, description = "The new plan"), (status = 400, description = "Bad patch or apiKey missing")))]
async fn put_plan(AdminOrg(s, _key, t): AdminOrg, ApiJson(body): ApiJson<PlanPatchRequest>) -> Reply {
    let concurrency = s.store.default_plan().limits.concurrent_calls;
    let next = apply_patch(t.account().plan(), &body.0, concurrency)?;
    let limit = next.limits.concurrent_calls;
    t.account().set_plan(next);
    s.calls.set_limit(t.calls(), limit as usize);
    Ok(Json(plan_json(&t)).into_response())
}

/// `POST /_admin/credits`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AddCreditsRequest {
    /// Credits (= USD), > 0 (an `ADMIN_ADJUSTMENT` may be negative).
    amount: f64,
    /// A transaction type other than `USAGE_DEDUCTION` (default
    /// `CREDIT_PURCHASE`).
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The row's description.
    description: Option<String>,
}

impl RequestBody for AddCreditsRequest {}

impl AddCreditsRequest {
    fn parsed(&self) -> Result<(TransactionType, Credits), DomainError> {
        let kind = match self.kind.as_deref() {
            None => TransactionType::CreditPurchase,
            Some(k) => {
                TransactionType::parse(k).ok_or_else(|| DomainError::invalid(format!("type: Unknown type {k}")))?
            }
        };
        let amount = Credits::from_f64(self.amount).ok_or_else(|| DomainError::invalid("amount: Out of range"))?;
        Ok((kind, amount))
    }
}

/// Top up (or adjust) the balance: writes one ledger row (a purchase also
/// issues a paid invoice). Answers `{entry (BillingLedgerEntry),
/// creditBalance}`. 400 for a non-positive purchase, `USAGE_DEDUCTION`
/// or an unknown type.
#[utoipa::path(post, path = "/_admin/credits", tag = "Control API", params(OrgKeyQuery), request_body = AddCreditsRequest,
    responses((status = 200, description = "`{entry, creditBalance}`"), (status = 400, description = "Bad body or apiKey missing")))]
async fn add_credits(AdminOrg(s, _key, t): AdminOrg, ApiJson(body): ApiJson<AddCreditsRequest>) -> Reply {
    let (kind, amount) = body.parsed()?;
    let out = s.store.with_account(&t, |a, ids, now| {
        let row = a.credit(kind, amount, body.description.clone(), ids, now)?;
        Ok::<_, DomainError>(json!({"entry": row.wire(), "creditBalance": a.credits(ids, now).to_f64()}))
    })?;
    Ok(Json(out).into_response())
}

/// `POST /_admin/invoices`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssueInvoiceRequest {
    /// Amount in USD, > 0.
    amount: f64,
    /// The line's description (default `Atoms usage`).
    description: Option<String>,
    /// Issue it already paid (default false: `open`, which locks renting).
    paid: Option<bool>,
}

impl RequestBody for IssueInvoiceRequest {}

/// Issue an invoice; an open one makes `GET /product/unpaid-invoices`
/// true and locks renting. Answers the Stripe-shaped invoice.
#[utoipa::path(post, path = "/_admin/invoices", tag = "Control API", params(OrgKeyQuery), request_body = IssueInvoiceRequest,
    responses((status = 200, description = "The invoice"), (status = 400, description = "Bad body or apiKey missing")))]
async fn issue_invoice(AdminOrg(s, _key, t): AdminOrg, ApiJson(body): ApiJson<IssueInvoiceRequest>) -> Reply {
    let amount = Credits::from_f64(body.amount).ok_or_else(|| DomainError::invalid("amount: Out of range"))?;
    let description = body.description.unwrap_or_else(|| "Atoms usage".into());
    let paid = body.paid.unwrap_or(false);
    let inv = s.store.with_account(&t, |a, ids, now| a.issue_invoice(amount, description, paid, ids, now))?;
    Ok(Json(inv.stripe(t.org_id(), &s.calls.public_url())).into_response())
}

/// Pay or void an open invoice: `action` is `pay` or `void`. 400 `Invoice
/// <id> is <status>` when it is not open; 404 for an unknown id.
#[utoipa::path(post, path = "/_admin/invoices/{id}/{action}", tag = "Control API", params(OrgKeyQuery,
        ("id" = String, Path, description = "`in_…`"), ("action" = String, Path, description = "`pay` or `void`")),
    responses((status = 200, description = "The invoice"), (status = 400, description = "Not open"), (status = 404, description = "Unknown")))]
async fn settle_invoice(AdminOrg(s, _key, t): AdminOrg, ApiPath((id, action)): ApiPath<(String, String)>) -> Reply {
    let pay = action == "pay";
    if !pay && action != "void" {
        return Err(ApiError::BadRequest("action: Expected 'pay' | 'void'".into()));
    }
    let inv = s.store.with_account(&t, |a, _, now| a.settle_invoice(&id, pay, now))?;
    Ok(Json(inv.stripe(t.org_id(), &s.calls.public_url())).into_response())
}

/// `POST /_admin/compliance/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct DecisionRequest {
    /// `approve`, `reject`, `suspend` or `expire`.
    decision: String,
    /// Why (rejections and suspensions).
    reason: Option<String>,
}

impl RequestBody for DecisionRequest {}

impl DecisionRequest {
    fn command(&self) -> Result<Command, DomainError> {
        let reason = || self.reason.clone().unwrap_or_else(|| "Rejected by the control API".into());
        match self.decision.as_str() {
            "approve" => Ok(Command::Approve),
            "reject" => Ok(Command::Reject(reason())),
            "suspend" => Ok(Command::Suspend(reason())),
            "expire" => Ok(Command::Expire),
            d => Err(DomainError::invalid_enum("decision", &["approve", "reject", "suspend", "expire"], d)),
        }
    }
}

/// Force a compliance decision: answers the application
/// (ComplianceApplication). 400 for a transition the lifecycle refuses;
/// 404 `Compliance application not found`.
#[utoipa::path(post, path = "/_admin/compliance/{id}", tag = "Control API", request_body = DecisionRequest,
    params(OrgKeyQuery, ("id" = String, Path, description = "The application's `_id`")),
    responses((status = 200, description = "The application"), (status = 400, description = "Refused"), (status = 404, description = "Unknown")))]
async fn decide_compliance(
    AdminOrg(s, _key, t): AdminOrg,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> Reply {
    let cmd = body.command()?;
    Ok(Json(s.store.with_account(&t, |a, ids, now| a.compliance_command(&id, &cmd, ids, now))?).into_response())
}
