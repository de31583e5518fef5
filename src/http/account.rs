//! First contact: `GET /user` (LIVE U1), which every SDK quick start calls
//! first, and the account operations beside it, `GET
//! /account/get-account-details` and `PUT /account/update-org-name`.
//!
//! One API key is one organization with one user, its owner: the user's
//! `_id` is the `createdBy` of everything the key creates and
//! `organizationId` is the `organization` every resource reports. Names
//! and the e-mail address are the mock's own, stable per key. The plan,
//! limits and credits (`GET /user/subscription`) come from the
//! organization's account book, as does `onPremEnabled`.

use crate::http::routes::{router, OpenApiRouter};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::error::{ApiError, Reply};
use super::extract::{ApiJson, Org, OrgState};
use super::json::RequestBody;
use super::render;
use crate::state::AppState;
use crate::store::Tenant;

/// Longest organization name the mock stores, in characters (the
/// platform documents no bound; this keeps memory bounded).
pub(crate) const ORG_NAME_MAX: usize = 200;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![get_user, get_subscription, get_account_details, update_org_name]
}

/// The owner's e-mail address: stable per key, on a reserved domain.
fn email(t: &Tenant) -> String {
    format!("owner-{}@example.com", &t.user_id()[16..])
}

/// The caller (LIVE U1): `data` has exactly `_id, authProvider, firstName,
/// isEmailVerified, lastName, organizationId, userEmail`; `organizationId`
/// is the key's organization (the `organization` of its agents).
#[utoipa::path(get, path = "/user", tag = "User",
    responses((status = 200, description = "`{_id, authProvider, firstName, isEmailVerified, lastName, organizationId, userEmail}`"),
              (status = 401, description = "Unauthorized")))]
async fn get_user(Org(t): Org) -> Response {
    render::ok(json!({
        "_id": t.user_id(),
        "authProvider": "email",
        "firstName": "Atoms",
        "isEmailVerified": true,
        "lastName": "Developer",
        "organizationId": t.org_id(),
        "userEmail": email(&t),
    }))
}

/// The organization's subscription (OAS GET /user/subscription): `{_id,
/// organization (= GET /user's organizationId), planId, totalCredits
/// (every credit ever added), currentCredits (the balance: the sum of the
/// ledger, GET /payment/v1/credits/balance), renewalDate (end of the
/// monthly cycle, ISO 8601), subscriptionActive, onPremEnabled, limits:
/// {agents, campaigns, numbers, dailyCalls, concurrentCalls,
/// knowledgeBaseItemLimit, knowledgeBaseLimits}, features: {telephony,
/// phoneNumbers, campaigns, webhooks, knowledgeBase}}`. The default plan
/// is `plan_standard`; `PUT /_admin/plan` changes it.
#[utoipa::path(get, path = "/user/subscription", tag = "User",
    responses((status = 200, description = "The subscription, limits and features"),
              (status = 401, description = "Unauthorized")))]
async fn get_subscription(OrgState(s, t): OrgState) -> Response {
    render::ok(s.store.with_account(&t, |a, ids, now| a.subscription(ids, now)))
}

/// The caller's profile and organizations, as a bare object (no envelope,
/// as the spec documents it): `{userId, email, firstName, lastName, phone:
/// null, picture, hasOnboarded, organizations: [{orgId, name, ownerEmail,
/// roleId: 0 (owner), onPremEnabled}]}`. The one organization is the
/// key's: `orgId` is `GET /user/subscription`'s `organization`, and
/// `onPremEnabled` its plan's.
#[utoipa::path(get, path = "/account/get-account-details", tag = "Account",
    responses((status = 200, description = "Account details"), (status = 401, description = "Unauthorized")))]
async fn get_account_details(Org(t): Org) -> Response {
    let email = email(&t);
    let name = t.org_name();
    let on_prem = t.account().plan().on_prem_enabled;
    Json(json!({
        "userId": t.user_id(),
        "email": email,
        "firstName": "Atoms",
        "lastName": "Developer",
        "phone": Value::Null,
        "picture": "https://assets.example.invalid/avatars/user.png",
        "hasOnboarded": true,
        "organizations": [{"orgId": t.org_id(), "name": name, "ownerEmail": email, "roleId": 0, "onPremEnabled": on_prem}],
    }))
    .into_response()
}

/// `PUT /account/update-org-name`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateOrgNameRequest {
    /// The new name, 1 to [`ORG_NAME_MAX`] characters once trimmed. A
    /// value of another type counts as missing (the route's own 400).
    #[serde(default, deserialize_with = "string_or_none")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    name: Option<String>,
}

fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

impl RequestBody for UpdateOrgNameRequest {}

impl UpdateOrgNameRequest {
    /// The trimmed name, or the route's message: `Organization name is
    /// required` (missing, another type or blank) or the bound.
    fn name(&self) -> Result<&str, String> {
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        match name.chars().count() {
            0 => Err("Organization name is required".into()),
            n if n > ORG_NAME_MAX => Err(format!("Organization name must be at most {ORG_NAME_MAX} characters")),
            _ => Ok(name),
        }
    }
}

/// Rename the key's organization: `{name}` → 200 `{success: true, name}`
/// (bare, as documented). A missing, non-string or blank `name` gives 400
/// `{success: false, message: "Organization name is required"}`; over
/// [`ORG_NAME_MAX`] characters, 400 with the bound (a mock limit). The
/// name is stored trimmed and shows in `get-account-details`.
#[utoipa::path(put, path = "/account/update-org-name", tag = "Account", request_body = UpdateOrgNameRequest,
    responses((status = 200, description = "`{success: true, name}`"), (status = 400, description = "`{success: false, message}`")))]
async fn update_org_name(Org(t): Org, ApiJson(body): ApiJson<UpdateOrgNameRequest>) -> Reply {
    let name = body.name().map_err(ApiError::Unsuccessful)?;
    t.set_org_name(name);
    Ok(Json(json!({"success": true, "name": name})).into_response())
}
