//! Placing and cancelling calls: `POST /conversation/outbound`, the web
//! sessions `/conversation/webcall` and `/conversation/chat`, and both
//! cancel forms (BEHAVIOR R102–R108, R118–R120). Each call runs the
//! scenario chosen for it (see `crate::scenarios`); the request header
//! `x-atoms-mock-scenario` overrides the assignments.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::requests::{CancelCallRequest, OutboundCallRequest, WebSessionRequest};
use crate::calls::caller_id::caller_id;
use crate::calls::{Call, CallType, Calls, NewCall};
use crate::domain::config::Config;
use crate::domain::versioning::AgentRecord;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Org};
use crate::http::render;
use crate::scenarios::SCENARIO_HEADER;
use crate::state::AppState;
use crate::store::{Store, Tenant};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_outbound_call))
        .routes(routes!(create_webcall))
        .routes(routes!(create_chat))
        .routes(routes!(cancel_call))
        .routes(routes!(cancel_queued_call))
}

/// Which config a call runs.
#[derive(Debug, Clone)]
pub(crate) enum Pin {
    /// The agent's active version.
    Active,
    /// A published version (R106).
    Version(String),
    /// An open draft (draft test calls, R063).
    Draft(String),
    /// A v2 branch's open draft, by branch id (R096).
    BranchDraft(String),
}

/// A call to place, before the agent is looked up.
#[derive(Debug, Clone)]
pub(crate) struct CallRequest {
    pub(crate) agent_id: String,
    pub(crate) pin: Pin,
    pub(crate) call_type: CallType,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) variables: Map<String, Value>,
    pub(crate) is_test: bool,
    pub(crate) conversation_id: Option<String>,
}

fn resolve_config(rec: &AgentRecord, pin: &Pin) -> ApiResult<(Config, String, u32)> {
    let not_found = |what: &str| ApiError::BadRequest(format!("{what} not found"));
    match pin {
        Pin::Active => {
            rec.active().map(|v| (v.config.clone(), v.id.clone(), v.number)).ok_or_else(|| not_found("Version"))
        }
        Pin::Version(id) => {
            rec.version(id).map(|v| (v.config.clone(), v.id.clone(), v.number)).ok_or_else(|| not_found("Version"))
        }
        Pin::Draft(id) => {
            let d = rec.draft(id).ok_or_else(|| not_found("Draft"))?;
            let number = rec.version(&d.base_version_id).map_or(0, |v| v.number);
            Ok((d.config.clone(), d.base_version_id.clone(), number))
        }
        Pin::BranchDraft(b) => {
            let d = rec.branch(b).and_then(|b| b.open_draft()).ok_or_else(|| not_found("Draft"))?;
            let base = d.base_revision_id.clone().unwrap_or_else(|| rec.agent.active_version_id.clone());
            let number = rec.version(&base).map_or(0, |v| v.number);
            Ok((d.config.clone(), base, number))
        }
    }
}

/// What ties a call to a campaign: the campaign id and the attempt it
/// retries (R121). Empty for calls placed through the API.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallLink {
    pub(crate) campaign_id: Option<String>,
    pub(crate) retry_of: Option<String>,
}

/// Looks up the agent, checks it may call (R036, R104), picks the
/// scenario and places the call.
pub(crate) fn place_call(s: &AppState, t: &Arc<Tenant>, headers: &HeaderMap, req: CallRequest) -> ApiResult<Call> {
    let header = headers.get(SCENARIO_HEADER).and_then(|h| h.to_str().ok());
    place(&s.store, &s.calls, t, header, req, CallLink::default())
}

/// [`place_call`] without the request: `scenario` names the scenario to
/// run (as the header would; `None` uses the assignments) and `link` the
/// campaign and retry parent. Used by the campaign dialler.
pub(crate) fn place(
    store: &Store,
    calls: &Arc<Calls>,
    t: &Arc<Tenant>,
    scenario: Option<&str>,
    req: CallRequest,
    link: CallLink,
) -> ApiResult<Call> {
    let new = prepare_call(store, calls, t, scenario, req, link)?;
    let now = store.clock().now();
    let (record_id, call_id) = (store.ids().object_id(now), store.ids().call_id(now));
    store.count_call(t, &new.agent_id);
    Ok(calls.place(t, new, record_id, call_id))
}

/// Looks up the agent, checks it may call (R036, R104) and picks the
/// scenario (`scenario` first, as the header would): the call to create,
/// not yet placed. Realtime sessions start it themselves.
pub(crate) fn prepare_call(
    store: &Store,
    calls: &Arc<Calls>,
    t: &Arc<Tenant>,
    scenario: Option<&str>,
    req: CallRequest,
    link: CallLink,
) -> ApiResult<NewCall> {
    let snapshot = store.read_agent(t, &req.agent_id, |rec| {
        let (config, version_id, number) = resolve_config(rec, &req.pin)?;
        Ok::<_, ApiError>((rec.agent.archived, rec.agent.workflow_type.clone(), config, version_id, number))
    });
    let (archived, workflow_type, config, version_id, version_number) =
        snapshot.map_err(|_| ApiError::BadRequest("Agent not found".into()))??;
    if archived {
        return Err(ApiError::BadRequest("Agent is archived and cannot initiate calls".into()));
    }
    if workflow_type == "workflow_graph" && !config.get("workflowGraph").is_some_and(Value::is_object) {
        return Err(ApiError::BadRequest("Workflow not found".into()));
    }
    let scenario = calls.library().choose(scenario, req.to.as_deref(), &req.agent_id).map_err(ApiError::BadRequest)?;
    Ok(NewCall {
        agent_id: req.agent_id,
        call_type: req.call_type,
        from: req.from,
        to: req.to,
        variables: req.variables,
        version_id,
        version_number,
        config,
        is_test: req.is_test,
        scenario,
        conversation_id: req.conversation_id,
        campaign_id: link.campaign_id,
        retry_of: link.retry_of,
    })
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
    responses((status = 200, description = "`{conversationId}`"), (status = 400, description = "Validation error (R104)")))]
async fn create_outbound_call(
    State(s): State<AppState>,
    Org(t): Org,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OutboundCallRequest>,
) -> ApiResult<Response> {
    let linked = s.store.read_agent(&t, &body.agent_id, |r| r.agent.telephony_product_id.clone()).unwrap_or_default();
    let phone = body.phone().to_string();
    let req = CallRequest {
        from: Some(caller_id(body.from_product_id.as_deref(), &linked, &phone)),
        to: Some(phone),
        agent_id: body.agent_id.into_string(),
        pin: body.version_id.map_or(Pin::Active, |v| Pin::Version(v.into_string())),
        call_type: CallType::TelephonyOutbound,
        variables: body.variables.unwrap_or_default().0,
        is_test: headers
            .get("x-test-call")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        conversation_id: None,
    };
    let call = place_call(&s, &t, &headers, req)?;
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

async fn web_session(
    s: &AppState,
    t: &Arc<Tenant>,
    headers: &HeaderMap,
    body: WebSessionRequest,
) -> ApiResult<Response> {
    let req = CallRequest {
        agent_id: body.agent_id.into_string(),
        pin: Pin::Active,
        call_type: CallType::Webcall,
        from: None,
        to: None,
        variables: body.variables.unwrap_or_default().0,
        is_test: false,
        conversation_id: Some(session_id(s)),
    };
    let call = place_call(s, t, headers, req)?;
    Ok(render::ok(session_fields(s, &call)))
}

/// Start a web call session (R120): `{token, roomName, host,
/// conversationId, callId}`; the call log has `type: webcall`.
#[utoipa::path(post, path = "/conversation/webcall", tag = "Conversations", request_body = WebSessionRequest,
    responses((status = 200, description = "WebSessionResponse"), (status = 400, description = "`agentId: Required`")))]
async fn create_webcall(
    State(s): State<AppState>,
    Org(t): Org,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WebSessionRequest>,
) -> ApiResult<Response> {
    web_session(&s, &t, &headers, body).await
}

/// Start a chat session (R120); logged as `webcall` (L-E4).
#[utoipa::path(post, path = "/conversation/chat", tag = "Conversations", request_body = WebSessionRequest,
    responses((status = 200, description = "WebSessionResponse"), (status = 400, description = "`agentId: Required`")))]
async fn create_chat(
    State(s): State<AppState>,
    Org(t): Org,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WebSessionRequest>,
) -> ApiResult<Response> {
    web_session(&s, &t, &headers, body).await
}

/// Cancel a queued or in-progress call (R118): `{callId, status:
/// "cancelled", previousStatus}`. Unknown: 404 `No conversation found`;
/// already ended: 400.
#[utoipa::path(post, path = "/conversation/cancel", tag = "Conversations",
    request_body = CancelCallRequest,
    responses((status = 200, description = "`{callId, status, previousStatus}`"), (status = 400, description = "Already ended"),
              (status = 404, description = "No conversation found")))]
async fn cancel_call(
    State(s): State<AppState>,
    Org(t): Org,
    ApiJson(body): ApiJson<CancelCallRequest>,
) -> ApiResult<Response> {
    let (prev, call) = s.calls.cancel(&t, &body.call_id, false)?;
    Ok(render::ok(json!({"callId": call.call_id, "status": call.status.as_str(), "previousStatus": prev.as_str()})))
}

/// Cancel a call that is still queued (R119). Any other state: 400
/// `Conversation with ID <callId> is not in queue and cannot be
/// cancelled`. A record `_id` or unknown id: 404 `No conversation found`.
#[utoipa::path(post, path = "/conversation/{callId}/cancel", tag = "Conversations",
    params(("callId" = String, Path, description = "CALL-… id")),
    responses((status = 200, description = "`{callId, status}`"), (status = 400, description = "Not in queue"),
              (status = 404, description = "No conversation found")))]
async fn cancel_queued_call(
    State(s): State<AppState>,
    Org(t): Org,
    Path(call_id): Path<String>,
) -> ApiResult<Response> {
    let (_, call) = s.calls.cancel(&t, &call_id, true)?;
    Ok(render::ok(json!({"callId": call.call_id, "status": call.status.as_str()})))
}
