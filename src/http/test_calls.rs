//! Test calls of v1 drafts and versions (BEHAVIOR R063, R064).
//!
//! The mock validates the request and mints the call's ids. Placing the
//! call through a scripted scenario (events, call log, webhooks) belongs to
//! the call-scenario engine and is not wired yet.

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use super::error::{ApiError, ApiResult};
use super::extract::opt_str;
use crate::state::AppState;

/// Which test-call operation is answering: the two differ in shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestCallKind {
    /// Draft test call: `{callId}` (R063).
    Draft,
    /// Version test call: `{conversationId, callId}` plus `token`,
    /// `roomName`, `host` for webcall and chat (R064).
    Version,
}

fn is_e164(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// A 22-character URL-safe id, the shape of web-session conversation ids
/// (R014).
fn session_id(s: &AppState) -> String {
    s.store.ids().uuid().replace('-', "").chars().take(22).collect()
}

/// Validates `{mode, toPhone}` and returns the response `data`.
/// `mode` is `webcall` (default), `chat` or `telephony`; telephony needs
/// an E.164 `toPhone`.
pub(crate) fn start_test_call(
    s: &AppState,
    headers: &HeaderMap,
    body: &Map<String, Value>,
    kind: TestCallKind,
) -> ApiResult<Value> {
    let mode = opt_str(body, "mode")?.unwrap_or_else(|| "webcall".into());
    if !["webcall", "chat", "telephony"].contains(&mode.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "mode: Invalid enum value. Expected 'webcall' | 'chat' | 'telephony', received '{mode}'"
        )));
    }
    let to_phone = opt_str(body, "toPhone")?;
    if mode == "telephony" {
        match to_phone.as_deref() {
            None => return Err(ApiError::BadRequest("toPhone: Required when mode is telephony".into())),
            Some(p) if !is_e164(p) => return Err(ApiError::BadRequest("Invalid phone number".into())),
            Some(_) => {}
        }
    }
    let now = s.store.clock().now();
    let call_id = s.store.ids().call_id(now);
    if kind == TestCallKind::Draft {
        return Ok(json!({"callId": call_id}));
    }
    let mut data = json!({"conversationId": session_id(s), "callId": call_id});
    if mode != "telephony" {
        let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:4010");
        data["token"] = json!(format!("wct_{}", s.store.ids().uuid()));
        data["roomName"] = json!(s.store.ids().uuid());
        data["host"] = json!(format!("ws://{host}"));
    }
    Ok(data)
}
