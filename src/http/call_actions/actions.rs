//! `/call-actions` and `/call-actions/{id}`. A malformed id is 400
//! `Invalid call action id`, an unknown one (or another organization's)
//! 404 `Call action not found` (inferred wordings).

use crate::http::routes::{router, OpenApiRouter};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::requests::CallActionRequest;
use crate::domain::call_action::{validate_list, CallAction, ListQuery, DELETED};
use crate::http::error::Reply;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Org, OrgPath, OrgState};
use crate::http::ids::CallActionId;
use crate::http::render::succeeded;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(create_call_action, list_call_actions), (get_call_action, update_call_action, delete_call_action)]
}

/// Create a call action: 201 with it. 400 `<field>: Required`, `Invalid
/// agent id`, enum messages, `config.phoneNumberFieldName is required for
/// trigger actions`, `Agent not found` (the route documents no 404).
#[utoipa::path(post, path = "/call-actions", tag = "Call Actions", request_body = CallActionRequest,
    responses((status = 201, description = "The call action"), (status = 400, description = "Validation error")))]
async fn create_call_action(OrgState(s, t): OrgState, ApiJson(body): ApiJson<CallActionRequest>) -> Reply {
    let a = s.store.create_call_action(&t, &body.0)?;
    Ok(succeeded(StatusCode::CREATED, a.to_json()))
}

/// List an agent's call actions, newest first: `{callActions, totalCount,
/// page, limit}`. 400 `agentId: Required`, `Invalid agent id`, `page|limit:
/// Number must be greater than or equal to 1`, the category enum message.
#[utoipa::path(get, path = "/call-actions", tag = "Call Actions", params(ListQuery),
    responses((status = 200, description = "A page of call actions"), (status = 400, description = "Bad query")))]
async fn list_call_actions(Org(t): Org, ApiQuery(q): ApiQuery<ListQuery>) -> Reply {
    let f = validate_list(&q)?;
    let book = t.call_actions();
    let (page, total) = book.list(&f);
    let actions: Vec<Value> = page.into_iter().map(CallAction::to_json).collect();
    let data = json!({"callActions": actions, "totalCount": total, "page": f.page, "limit": f.limit});
    Ok(succeeded(StatusCode::OK, data))
}

/// Get one call action. 400 malformed id; 404 `Call action not found`.
#[utoipa::path(get, path = "/call-actions/{id}", tag = "Call Actions",
    params(("id" = CallActionId, Path, description = "Call action id")),
    responses((status = 200, description = "The call action"), (status = 400, description = "Malformed id"),
        (status = 404, description = "Not found")))]
async fn get_call_action(Org(t): Org, ApiPath(id): ApiPath<CallActionId>) -> Reply {
    Ok(succeeded(StatusCode::OK, t.call_actions().get(&id)?.to_json()))
}

/// Update a call action (fields sent replace the stored ones; a result
/// that is a `trigger` needs `config.phoneNumberFieldName`): 200 with it.
/// 400 validation; 404 `Call action not found`.
#[utoipa::path(put, path = "/call-actions/{id}", tag = "Call Actions", request_body = CallActionRequest,
    params(("id" = CallActionId, Path, description = "Call action id")),
    responses((status = 200, description = "The call action"), (status = 400, description = "Validation error"),
        (status = 404, description = "Not found")))]
async fn update_call_action(
    OrgPath(s, t, id): OrgPath<CallActionId>,
    ApiJson(body): ApiJson<CallActionRequest>,
) -> Reply {
    let now = s.store.clock().now();
    Ok(succeeded(StatusCode::OK, t.call_actions().update(&id, &body.0, now)?.to_json()))
}

/// Delete a call action (its past runs stay recorded): 200 `{message:
/// "Call action deleted successfully"}`. 400 malformed id; 404 not found.
#[utoipa::path(delete, path = "/call-actions/{id}", tag = "Call Actions",
    params(("id" = CallActionId, Path, description = "Call action id")),
    responses((status = 200, description = "Deleted"), (status = 400, description = "Malformed id"),
        (status = 404, description = "Not found")))]
async fn delete_call_action(Org(t): Org, ApiPath(id): ApiPath<CallActionId>) -> Reply {
    t.call_actions().delete(&id)?;
    Ok(succeeded(StatusCode::OK, json!({"message": DELETED})))
}
