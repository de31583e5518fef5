//! The WebEngage integration (OAS tag Integrations), one per
//! organization. Answers are `{message, data}` without the `status`
//! flag (R008's family); errors the standard envelope.

use crate::http::routes::{router, OpenApiRouter};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::domain::integration::{answer, render, validate, ModifyBody, RETRIEVED};
use crate::http::error::Reply;
use crate::http::extract::{ApiJson, Org, OrgState};
use crate::http::json::domain_body;
use crate::state::AppState;

domain_body!(
    /// `{integrationSets: [{licenseCode, environment, apiKey}]}` (1–20
    /// sets, every field a non-empty string).
    WebEngageRequest(ModifyBody)
);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![modify_webengage, get_webengage]
}

/// Create or replace the WebEngage integration: 200 `{message:
/// "Integration created successfully" | "Integration updated
/// successfully", data: {_id, organization, type, integrationSets,
/// createdAt, updatedAt}}`. 400 `integrationSets: Required`, `… at least
/// 1 element(s)`, `integrationSets.<i>.<field>: Required`.
#[utoipa::path(post, path = "/integration/modify-webengage-integration", tag = "Integrations",
    request_body = WebEngageRequest,
    responses((status = 200, description = "The integration"), (status = 400, description = "Validation error")))]
async fn modify_webengage(OrgState(s, t): OrgState, ApiJson(body): ApiJson<WebEngageRequest>) -> Reply {
    let sets = validate(&body.0)?;
    Ok(Json(s.store.write_webengage(&t, sets)).into_response())
}

/// The WebEngage integration: `{message: "Integration details retrieved
/// successfully", data}`; `data` is `{integrationSets: []}` when none is
/// configured.
#[utoipa::path(get, path = "/integration/get-webengage-details", tag = "Integrations",
    responses((status = 200, description = "The integration")))]
async fn get_webengage(Org(t): Org) -> Response {
    Json(answer(RETRIEVED, render(t.webengage().as_ref()))).into_response()
}
