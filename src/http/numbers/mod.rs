//! Phone numbers (OAS tag Phone Numbers, `/product/*`): the inventory
//! search, renting with the proration preview, release, SIP import, the
//! two lists, the Stripe portal link and the unpaid-invoice check. Rules
//! live in `crate::domain` (`inventory`, `numbers`, `phone_product`,
//! `account`); the organization's numbers in its account book, the
//! platform-wide register of rented numbers in the store.
//!
//! List items have exactly LIVE's keys `__v, _id, agentId, attributes,
//! createdAt, isActive, productType, updatedAt`. A number is attached to
//! an agent with `PATCH /agent/{id}` `{telephonyProductId: [ids]}`; the
//! number's `agentId` and the agent's `telephonyProductId` are one record.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use crate::domain::phone_product::{PhoneProduct, ProductType};
use crate::http::error::Reply;
use crate::http::extract::{ApiJson, ApiQuery, Org, OrgState};
use crate::http::render;
use crate::state::AppState;
use crate::store::AccountBook;

mod requests;

use requests::{ImportNumberRequest, ReleaseNumberRequest, RentNumberRequest, SearchNumbersQuery};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        list_phone_numbers,
        list_all_numbers,
        search_available_numbers,
        get_proration_amount,
        rent_number,
        release_number,
        get_portal_url,
        get_unpaid_invoices,
        import_number
    ]
}

/// The organization's products of `kind`, as list items.
fn items(a: &AccountBook, kind: ProductType) -> Value {
    Value::Array(a.numbers().of_type(kind).map(PhoneProduct::wire).collect())
}

/// Rented numbers (OAS GET /product/phone-numbers; LIVE's item keys):
/// `attributes {provider, phoneNumber (E.164), countryCode, areaCode,
/// complianceApplicationId?}`, `productType: telephony`. Imported SIP
/// numbers are not listed here (the spec).
#[utoipa::path(get, path = "/product/phone-numbers", tag = "Phone Numbers",
    responses((status = 200, description = "Rented numbers"), (status = 401, description = "Unauthorized")))]
async fn list_phone_numbers(Org(t): Org) -> Response {
    render::ok(items(&t.account(), ProductType::Telephony))
}

/// Every number (OAS GET /product/all-numbers): `{telephonyProducts,
/// customProducts}`; imported ones have `productType: custom-telephony`
/// and `attributes {name, phoneNumber, outboundSipTrunkId,
/// inboundSipTrunkId}`.
#[utoipa::path(get, path = "/product/all-numbers", tag = "Phone Numbers",
    responses((status = 200, description = "`{telephonyProducts, customProducts}`"), (status = 401, description = "Unauthorized")))]
async fn list_all_numbers(Org(t): Org) -> Response {
    let a = t.account();
    render::ok(
        json!({"telephonyProducts": items(&a, ProductType::Telephony), "customProducts": items(&a, ProductType::Custom)}),
    )
}

/// Up to 5 numbers on offer (OAS GET /product/get-available-numbers):
/// `[{phoneNumber (digits, no +), countryCode, provider, areaCode (region
/// label)}]`, the same for the same query under `--seed`, never a number
/// anyone holds; an unstocked country or area gives `[]`. Stocked: US, CA,
/// GB, IN, AU, DE. 400: `countryCode: Required`, `countryCode: String must
/// contain exactly 2 character(s)`, `provider: Required`, `provider:
/// Invalid enum value. Expected 'plivo' | 'twilio', received '…'`.
#[utoipa::path(get, path = "/product/get-available-numbers", tag = "Phone Numbers", params(SearchNumbersQuery),
    responses((status = 200, description = "Candidates"), (status = 400, description = "Bad query"),
              (status = 401, description = "Unauthorized")))]
async fn search_available_numbers(
    State(s): State<AppState>,
    Org(_t): Org,
    ApiQuery(q): ApiQuery<SearchNumbersQuery>,
) -> Reply {
    let found = s.store.search_numbers(&q.parse()?);
    Ok(render::ok(Value::Array(found.iter().map(|c| c.wire()).collect())))
}

/// The charge for renting one number today (OAS GET
/// /product/proration-amount): `{immediateCharge, perNumberRecurringAmount,
/// monthlyRate, prorationAmount, daysRemaining, daysInMonth,
/// proratedValue}`, credits (= USD), the rest of the monthly cycle. 400
/// `Phone numbers are not enabled for this organization. Please contact
/// support.` (plan feature `phoneNumbers` off) or `Your organization has
/// unpaid invoices. Please pay the outstanding balance to continue.`.
#[utoipa::path(get, path = "/product/proration-amount", tag = "Phone Numbers",
    responses((status = 200, description = "The proration"), (status = 400, description = "Feature off or unpaid invoices"),
              (status = 401, description = "Unauthorized")))]
async fn get_proration_amount(OrgState(s, t): OrgState) -> Reply {
    Ok(render::ok(s.store.with_account(&t, |a, ids, now| a.proration(ids, now))?))
}

/// Rent a number (OAS POST /product/rent-number): charges the proration
/// at once (a `USAGE_DEDUCTION` row, scope `platform`), then the monthly
/// rate each cycle; answers `{requiresAction: false}`. 400, nothing
/// charged: `phoneNumber: Required`, provider errors, `Phone number <n>
/// is not available` (not on offer, or held by anyone), the two
/// proration refusals, `Plan limit reached: your plan allows at most N
/// phone numbers`, `Compliance approval is required to rent numbers in
/// <country>. …` (IN, GB, DE, AU), `Organization has no credits
/// available`.
#[utoipa::path(post, path = "/product/rent-number", tag = "Phone Numbers", request_body = RentNumberRequest,
    responses((status = 200, description = "`{requiresAction: false}`"), (status = 400, description = "Refused"),
              (status = 401, description = "Unauthorized")))]
async fn rent_number(OrgState(s, t): OrgState, ApiJson(body): ApiJson<RentNumberRequest>) -> Reply {
    s.store.rent_number(&t, body.phone_number.as_deref(), body.provider.as_deref())?;
    Ok(render::ok(json!({"requiresAction": false})))
}

/// Release a number (OAS POST /product/release-number): `{success:
/// true}`; it leaves the organization, its renewals stop and it is on
/// offer again. Imported numbers can be released too. 400 `productId:
/// Required`, `Invalid product id` (malformed, unknown or another
/// organization's), `Phone number is assigned to an agent. Detach it from
/// the agent before releasing it.`.
#[utoipa::path(post, path = "/product/release-number", tag = "Phone Numbers", request_body = ReleaseNumberRequest,
    responses((status = 200, description = "`{success: true}`"), (status = 400, description = "Refused"),
              (status = 401, description = "Unauthorized")))]
async fn release_number(OrgState(s, t): OrgState, ApiJson(body): ApiJson<ReleaseNumberRequest>) -> Reply {
    s.store.release_number(&t, body.product_id())?;
    Ok(render::ok(json!({"success": true})))
}

/// The Stripe customer-portal link (OAS GET /product/manage-subscription):
/// `{url}`, a page the mock serves; `{}` on an enterprise plan (billed
/// offline).
#[utoipa::path(get, path = "/product/manage-subscription", tag = "Phone Numbers",
    responses((status = 200, description = "`{url}` or `{}`"), (status = 401, description = "Unauthorized")))]
async fn get_portal_url(OrgState(s, t): OrgState) -> Response {
    let path = t.account().portal_path();
    render::ok(path.map_or_else(|| json!({}), |p| json!({"url": format!("{}{p}", s.calls.public_url())})))
}

/// Whether an invoice is unpaid (OAS GET /product/unpaid-invoices):
/// `{paymentRequired}`. While true, renting and its preview are 400.
#[utoipa::path(get, path = "/product/unpaid-invoices", tag = "Phone Numbers",
    responses((status = 200, description = "`{paymentRequired}`"), (status = 401, description = "Unauthorized")))]
async fn get_unpaid_invoices(Org(t): Org) -> Response {
    render::ok(json!({"paymentRequired": t.account().payment_required()}))
}

/// Import a SIP number (OAS POST /product/import-phone-number): the
/// product with `productType: custom`, `agentId: null` and generated trunk
/// ids `ST_…`. 400: `Phone number is required`, `SIP termination URL is
/// required`, `Number already present` (the spec's), `Plan limit reached:
/// your plan allows at most N phone numbers`; 403 `Your plan does not
/// include telephony`.
#[utoipa::path(post, path = "/product/import-phone-number", tag = "Phone Numbers", request_body = ImportNumberRequest,
    responses((status = 200, description = "The imported product"), (status = 400, description = "Refused"),
              (status = 403, description = "Telephony not in the plan"), (status = 401, description = "Unauthorized")))]
async fn import_number(
    OrgState(s, t): OrgState,
    ApiJson(ImportNumberRequest(req)): ApiJson<ImportNumberRequest>,
) -> Reply {
    let p = s.store.with_account(&t, |a, ids, now| a.import_sip(req, ids, now))?;
    Ok(render::ok(p.import_wire()))
}
