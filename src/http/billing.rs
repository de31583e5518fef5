//! Credits and billing under `/payment/v1` (OAS tag Billing; the SDK's
//! `payment` base URL is the server root): balance, ledger, usage
//! breakdown, invoices and an invoice's PDF URL, all read from the
//! organization's account book (`crate::store::AccountBook`).
//!
//! Envelopes (OAS #Billing…Response): `{success: true, data}`; errors
//! `{success: false, error: {code, message}}` with `code`
//! `validation_error` (400) or `not_found` (404), the spec's examples. A
//! missing or bad key is R003's 401 like every other route.
//!
//! The mock also serves what the URLs it hands out point to, so a client
//! can follow them offline: `GET /_files/invoices/{id}.pdf` (a one-page
//! PDF), `GET /_files/invoices/{id}` (the hosted invoice page) and `GET
//! /_billing/portal/{id}` (the Stripe customer-portal stand-in of `GET
//! /product/manage-subscription`).

use crate::http::routes::{router, OpenApiRouter};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::extract::{ApiPath, ApiQuery, OrgPath, OrgState};
use crate::domain::invoice::pdf_path;
use crate::domain::ledger_query::RawLedgerQuery;
use crate::domain::DomainError;
use crate::state::AppState;

/// Where the billing routes are mounted.
pub(crate) const PAYMENT_PREFIX: &str = "/payment/v1";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![get_balance, get_ledger, get_usage_breakdown, list_invoices, get_invoice_pdf]
}

/// The unauthenticated pages behind the URLs the billing routes hand out.
pub(crate) fn files() -> OpenApiRouter<AppState> {
    router![invoice_file, portal_page]
}

/// A billing error in the billing envelope.
#[derive(Debug)]
pub(crate) struct BillingError(DomainError);

impl From<DomainError> for BillingError {
    fn from(e: DomainError) -> Self {
        Self(e)
    }
}

impl IntoResponse for BillingError {
    fn into_response(self) -> Response {
        let (status, code) = match &self.0 {
            DomainError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            _ => (StatusCode::BAD_REQUEST, "validation_error"),
        };
        let body = json!({"success": false, "error": {"code": code, "message": self.0.to_string()}});
        (status, Json(body)).into_response()
    }
}

/// `{success: true, data}`.
fn success(data: Value) -> Response {
    let mut m = serde_json::Map::with_capacity(2);
    m.insert("success".into(), Value::Bool(true));
    m.insert("data".into(), data);
    Json(Value::Object(m)).into_response()
}

/// Credit balance (OAS getCreditBalance): `{creditBalance (credits =
/// USD, the sum of the ledger), planId, isEnterprise}`.
#[utoipa::path(get, path = "/credits/balance", tag = "Billing",
    responses((status = 200, description = "`{success, data: {creditBalance, planId, isEnterprise}}`"),
              (status = 401, description = "Unauthorized")))]
async fn get_balance(OrgState(s, t): OrgState) -> Response {
    success(s.store.with_account(&t, |a, ids, now| a.balance(ids, now)))
}

/// The credit ledger (OAS getCreditLedger), newest first: `{transactions,
/// total, hasMore, summary: {totalCreditsConsumed, totalCreditsAdded},
/// period: {from, to}}`. 400 `validation_error`: the spec's window
/// messages (over 90 days; before 2026-03-02, or before the server's
/// clock started if that is earlier; `from: Invalid date; to: Invalid
/// date`), `from` after `to`, bad `limit`, `offset`, `type`, `scope`.
#[utoipa::path(get, path = "/credits/ledger", tag = "Billing", params(RawLedgerQuery),
    responses((status = 200, description = "A page of the ledger"),
              (status = 400, description = "`{success: false, error: {code: validation_error, message}}`"),
              (status = 401, description = "Unauthorized")))]
async fn get_ledger(
    OrgState(s, t): OrgState,
    ApiQuery(raw): ApiQuery<RawLedgerQuery>,
) -> Result<Response, BillingError> {
    let start = s.store.started_at();
    Ok(success(s.store.with_account(&t, |a, ids, now| a.ledger_page(&raw, start, ids, now))?))
}

/// Spend per scope since the usage cutoff (OAS getCreditUsageBreakdown):
/// `{platform, voiceAi, voiceModels}` in credits, positive. Calls are
/// `voiceAi`; number rental and prompt scoring `platform`.
#[utoipa::path(get, path = "/credits/usage/breakdown", tag = "Billing",
    responses((status = 200, description = "`{platform, voiceAi, voiceModels}`"), (status = 401, description = "Unauthorized")))]
async fn get_usage_breakdown(OrgState(s, t): OrgState) -> Response {
    let start = s.store.started_at();
    success(s.store.with_account(&t, |a, ids, now| a.usage_breakdown(start, ids, now)))
}

/// Up to 20 invoices, newest first, as raw Stripe `Invoice` objects (OAS
/// listInvoices). A credit purchase through the control API issues a paid
/// one; `POST /_admin/invoices` an open one. None yet: `[]`.
#[utoipa::path(get, path = "/invoices", tag = "Billing",
    responses((status = 200, description = "Stripe invoice objects"), (status = 401, description = "Unauthorized")))]
async fn list_invoices(OrgState(s, t): OrgState) -> Response {
    let base = s.calls.public_url();
    success(Value::Array(t.account().invoices(&base)))
}

/// An invoice's PDF URL (OAS getInvoicePdf): `{pdfUrl}`, served by the
/// mock. Unknown or another organization's: 404 `{success: false, error:
/// {code: not_found, message: "Invoice not found: <id>"}}` (the spec's
/// example; never 403).
#[utoipa::path(get, path = "/invoices/{invoiceId}/pdf", tag = "Billing",
    params(("invoiceId" = String, Path, description = "Stripe invoice id, `in_…`")),
    responses((status = 200, description = "`{pdfUrl}`"), (status = 404, description = "Invoice not found"),
              (status = 401, description = "Unauthorized")))]
async fn get_invoice_pdf(OrgPath(s, t, id): OrgPath<String>) -> Result<Response, BillingError> {
    let path = pdf_path(&t.account().invoice(&id)?.id);
    Ok(success(json!({"pdfUrl": format!("{}{path}", s.calls.public_url())})))
}

/// True for a Stripe-style id with `prefix`: `<prefix>_` and 24
/// alphanumerics.
fn stripe_like(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|r| r.len() == 24 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A one-page PDF naming `id` (the stand-in for Stripe's invoice PDF).
fn invoice_pdf(id: &str) -> Vec<u8> {
    let text = format!("BT /F1 18 Tf 72 720 Td (atoms-mock invoice {id}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    let trailer = format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.extend_from_slice(trailer.as_bytes());
    out
}

fn html(title: &str, body: &str) -> Response {
    let page = format!("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>\n");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

fn not_found_page() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Not Found").into_response()
}

/// Mock extension: an invoice's PDF (`{id}.pdf`, `application/pdf`) or
/// hosted page (`{id}`, HTML), for the URLs `GET /payment/v1/invoices`
/// hands out. No auth (the URLs stand in for Stripe's unguessable links);
/// an id that is not `in_` + 24 alphanumerics is 404.
#[utoipa::path(get, path = "/_files/invoices/{file}", tag = "Control API",
    params(("file" = String, Path, description = "`in_….pdf` or `in_…`")),
    responses((status = 200, description = "PDF or HTML"), (status = 404, description = "Not an invoice id")))]
async fn invoice_file(ApiPath(file): ApiPath<String>) -> Response {
    match file.strip_suffix(".pdf") {
        Some(id) if stripe_like(id, "in") => {
            ([(header::CONTENT_TYPE, "application/pdf")], invoice_pdf(id)).into_response()
        }
        None if stripe_like(&file, "in") => html(&format!("Invoice {file}"), "Hosted by atoms-mock."),
        _ => not_found_page(),
    }
}

/// Mock extension: the customer-portal page `GET
/// /product/manage-subscription` links to (HTML). 404 for an id that is
/// not `bps_` + 24 alphanumerics.
#[utoipa::path(get, path = "/_billing/portal/{id}", tag = "Control API",
    params(("id" = String, Path, description = "`bps_…` session id")),
    responses((status = 200, description = "HTML"), (status = 404, description = "Not a portal session id")))]
async fn portal_page(ApiPath(id): ApiPath<String>) -> Response {
    if stripe_like(&id, "bps") {
        html("Billing portal", "Subscriptions, payment methods and invoices are managed here on the live platform.")
    } else {
        not_found_page()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invoice_pdf_is_a_pdf_with_a_consistent_xref() {
        let pdf = invoice_pdf("in_1THiCSRwh8g1U6dfOcUtTdq9");
        assert!(pdf.starts_with(b"%PDF-1.4\n") && pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8(pdf).expect("ascii");
        let xref: usize =
            text.rsplit("startxref\n").next().and_then(|t| t.lines().next()?.parse().ok()).expect("offset");
        assert!(text[xref..].starts_with("xref"), "startxref points at the table");
        assert!(stripe_like("in_1THiCSRwh8g1U6dfOcUtTdq9", "in") && !stripe_like("in_x", "in"));
    }
}
