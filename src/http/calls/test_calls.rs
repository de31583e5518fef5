//! Test calls of v1 drafts and versions (BEHAVIOR R063, R064): real calls
//! (`isTest: true`) that run the draft's or version's config through the
//! scenario engine. `webcall` and `chat` are web sessions (`type:
//! webcall`); `telephony` dials `toPhone` (`type: telephony_outbound`).

use std::sync::Arc;

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use super::conversations::{place_call, session_fields, session_id, CallRequest, Pin};
use super::requests::{TestCallRequest, TestMode};
use crate::calls::CallType;
use crate::http::error::ApiResult;
use crate::state::AppState;
use crate::store::Tenant;

/// Which test-call operation is answering: the two differ in shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestCallKind {
    /// Draft test call: `{callId}` (R063).
    Draft,
    /// Version test call: `{conversationId, callId}` plus `token`,
    /// `roomName`, `host` for webcall and chat (R064).
    Version,
}

/// Places a test call of `agent_id` with `pin`'s config and returns the
/// response `data`. `mode` is `webcall` (default), `chat` or `telephony`;
/// the request type checked that telephony has an E.164 `toPhone`.
pub(crate) fn start_test_call(
    s: &AppState,
    t: &Arc<Tenant>,
    headers: &HeaderMap,
    body: &TestCallRequest,
    agent_id: &str,
    pin: Pin,
    kind: TestCallKind,
) -> ApiResult<Value> {
    let telephony = body.mode == Some(TestMode::Telephony);
    let req = CallRequest {
        agent_id: agent_id.to_string(),
        pin,
        call_type: if telephony { CallType::TelephonyOutbound } else { CallType::Webcall },
        from: telephony.then(|| "+14155550100".to_string()),
        to: if telephony { body.to_phone.clone() } else { None },
        variables: Map::new(),
        is_test: true,
        conversation_id: Some(session_id(s)),
        chat: body.mode == Some(TestMode::Chat),
    };
    let call = place_call(s, t, headers, req)?;
    Ok(match (kind, telephony) {
        (TestCallKind::Draft, _) => json!({"callId": call.call_id}),
        (TestCallKind::Version, true) => json!({"conversationId": call.conversation_id, "callId": call.call_id}),
        (TestCallKind::Version, false) => session_fields(s, &call),
    })
}
