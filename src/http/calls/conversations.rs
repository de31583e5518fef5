//! Placing and cancelling calls: `POST /conversation/outbound`, the web
//! sessions `/conversation/webcall` and `/conversation/chat`, and both
//! cancel forms (BEHAVIOR R102–R108, R118–R120). Each call runs the
//! scenario chosen for it (see `crate::scenarios`); the request header
//! `x-atoms-mock-scenario` overrides the assignments.

use std::sync::Arc;

use crate::http::routes::{router, OpenApiRouter};
use axum::http::HeaderMap;
use serde_json::{json, Value};

use super::requests::{CancelCallRequest, OutboundCallRequest, WebSessionRequest};
use crate::calls::{Call, CallType};
use crate::http::error::{ApiResult, Reply};
use crate::http::extract::{ApiJson, OrgPath, OrgState};
use crate::http::render;
use crate::scenarios::SCENARIO_HEADER;
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![create_outbound_call, create_webcall, create_chat, cancel_call, cancel_queued_call]
}

pub(crate) use crate::calls::{CallLink, CallRequest, Pin};

/// Places `req` for `t` through the one placement path
/// ([`crate::calls::Calls::place`]), with the scenario the
/// `x-atoms-mock-scenario` header names, if any.
pub(crate) fn place_call(s: &AppState, t: &Arc<Tenant>, headers: &HeaderMap, req: CallRequest) -> ApiResult<Call> {
    let header = headers.get(SCENARIO_HEADER).and_then(|h| h.to_str().ok());
    Ok(s.calls.place(t, header, req, CallLink::default())?)
}

/// Place an outbound call (R102–R107). 200 with `{conversationId:
/// "CALL-…"}`; the call then queues and dials on the clock. Body:
/// `{agentId, phoneNumber (E.164; alias toPhone, L-D7), variables?
/// (scalars only), fromProductId?, versionId?}`; header `x-test-call:
/// true` marks a test call. The call's `from` is its caller ID (LIVE K1,
/// `calls::caller_id`): `fromProductId`'s number, else the agent's, else
/// the managed default; never `phoneNumber`.
#[utoipa::path(post, path = "/conversation/outbound", tag = "Conversations",
    params(("x-test-call" = Option<bool>, Header, description = "Mark the call log isTest"),
           ("x-atoms-mock-scenario" = Option<String>, Header, description = "Mock extension: the scenario to run")),
    request_body = OutboundCallRequest,
    responses((status = 200, description = "`{conversationId}`"), (status = 400, description = "Validation error (R104)"),
              (status = 403, description = "workflow_graph agent without conversational-agents access")))]
async fn create_outbound_call(
    OrgState(s, t): OrgState,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OutboundCallRequest>,
) -> Reply {
    let linked = s.store.read_agent(&t, &body.agent_id, |r| r.agent.telephony_product_id.clone()).unwrap_or_default();
    let is_test =
        headers.get("x-test-call").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let call = place_call(&s, &t, &headers, body.into_call(&t, &linked, is_test))?;
    Ok(render::ok(json!({"conversationId": call.call_id})))
}

/// A 22-character URL-safe id (web-session `conversationId`, R014).
pub(crate) fn session_id(s: &AppState) -> String {
    s.store.ids().uuid().replace('-', "").chars().take(22).collect()
}

/// The LiveKit-style session fields of web sessions and test calls.
pub(crate) fn session_fields(s: &AppState, call: &Call) -> Value {
    let ws = s.calls.public_url().replacen("http", "ws", 1);
    json!({
        "token": format!("wct_{}", s.store.ids().uuid()),
        "roomName": s.store.ids().uuid(),
        "host": ws,
        "conversationId": call.conversation_id,
        "callId": call.call_id,
    })
}

async fn web_session(s: &AppState, t: &Arc<Tenant>, headers: &HeaderMap, body: WebSessionRequest, chat: bool) -> Reply {
    let req = CallRequest {
        agent_id: body.agent_id.into_string(),
        pin: Pin::Active,
        call_type: CallType::Webcall,
        from: None,
        to: None,
        variables: body.variables.unwrap_or_default().0,
        is_test: false,
        conversation_id: Some(session_id(s)),
        chat,
    };
    let call = place_call(s, t, headers, req)?;
    Ok(render::ok(session_fields(s, &call)))
}

/// Start a web call session (R120): `{token, roomName, host,
/// conversationId, callId}`; the call log has `type: webcall`.
#[utoipa::path(post, path = "/conversation/webcall", tag = "Conversations", request_body = WebSessionRequest,
    responses((status = 200, description = "WebSessionResponse"), (status = 400, description = "`agentId: Required`")))]
async fn create_webcall(
    OrgState(s, t): OrgState,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WebSessionRequest>,
) -> Reply {
    web_session(&s, &t, &headers, body, false).await
}

/// Start a chat session (R120); logged as `webcall` (L-E4).
#[utoipa::path(post, path = "/conversation/chat", tag = "Conversations", request_body = WebSessionRequest,
    responses((status = 200, description = "WebSessionResponse"), (status = 400, description = "`agentId: Required`")))]
async fn create_chat(OrgState(s, t): OrgState, headers: HeaderMap, ApiJson(body): ApiJson<WebSessionRequest>) -> Reply {
    web_session(&s, &t, &headers, body, true).await
}

/// Cancel a queued or in-progress call (R118): `{callId, status:
/// "cancelled", previousStatus}`. Unknown: 404 `No conversation found`;
/// already ended: 400.
#[utoipa::path(post, path = "/conversation/cancel", tag = "Conversations",
    request_body = CancelCallRequest,
    responses((status = 200, description = "`{callId, status, previousStatus}`"), (status = 400, description = "Already ended"),
              (status = 404, description = "No conversation found")))]
async fn cancel_call(OrgState(s, t): OrgState, ApiJson(body): ApiJson<CancelCallRequest>) -> Reply {
    let (prev, call) = s.calls.cancel(t.calls(), &body.call_id, false)?;
    Ok(render::ok(json!({"callId": call.call_id, "status": call.status.as_str(), "previousStatus": prev.as_str()})))
}

/// Cancel a call that is still queued (R119). Any other state: 400
/// `Conversation with ID <callId> is not in queue and cannot be
/// cancelled`. A record `_id` or unknown id: 404 `No conversation found`.
#[utoipa::path(post, path = "/conversation/{callId}/cancel", tag = "Conversations",
    params(("callId" = String, Path, description = "CALL-… id")),
    responses((status = 200, description = "`{callId, status}`"), (status = 400, description = "Not in queue"),
              (status = 404, description = "No conversation found")))]
async fn cancel_queued_call(OrgPath(s, t, call_id): OrgPath<String>) -> Reply {
    let (_, call) = s.calls.cancel(t.calls(), &call_id, true)?;
    Ok(render::ok(json!({"callId": call.call_id, "status": call.status.as_str()})))
}
