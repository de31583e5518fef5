//! Call-log wire shapes (BEHAVIOR R112, R115, R219): the list row of
//! `GET /conversation`, the search row and the detail of `GET
//! /conversation/{id}`. Durations are seconds here (R112) and
//! milliseconds in agent call-logs (R039).

use serde_json::{json, Map, Value};

use super::analytics::as_log_string;
use super::{recording_url, Call};
use crate::domain::time::{iso, opt_iso};

/// `duration` in whole seconds (R112).
pub fn duration_secs(c: &Call) -> u64 {
    (c.duration_ms() + 500) / 1000
}

/// `postCallAnalytics` with string values (R219), or `null` before the
/// analytics are ready or when they failed validation (R218).
pub fn post_call_analytics(c: &Call) -> Value {
    match &c.analytics {
        None => Value::Null,
        Some(a) => json!({
            "summary": a.summary,
            "dispositionMetrics": a.metrics.iter().map(|m| json!({
                "identifier": m.identifier, "value": as_log_string(&m.value),
                "confidence": m.confidence, "reasoning": m.reasoning,
            })).collect::<Vec<_>>(),
        }),
    }
}

/// `turnLatencyMetrics` (R112), all in ms; `null` (absent from the row)
/// without turns, and `processedAt` absent until the call ended.
pub fn turn_latency_metrics(c: &Call) -> Value {
    if c.transitions.is_empty() {
        return Value::Null;
    }
    let mut lat: Vec<u64> = c.transitions.iter().map(|t| t.bot_start - t.user_end).collect();
    let transitions: Vec<Value> = c
        .transitions
        .iter()
        .map(|t| json!({"turn": t.turn, "user_end": t.user_end, "bot_start": t.bot_start, "latency": t.bot_start - t.user_end}))
        .collect();
    let in_order = lat.clone();
    lat.sort_unstable();
    let n = lat.len() as u64;
    let median =
        if n % 2 == 1 { lat[lat.len() / 2] as f64 } else { (lat[lat.len() / 2 - 1] + lat[lat.len() / 2]) as f64 / 2.0 };
    json!({
        "avgLatency": lat.iter().sum::<u64>() as f64 / n as f64,
        "medianLatency": median,
        "minLatency": lat.first(),
        "maxLatency": lat.last(),
        "turns": n,
        "latencies": in_order,
        "transitions": transitions,
        "processedAt": opt_iso(c.ended_at),
    })
    .as_object()
    .map(|m| without_nulls(m.clone()))
    .unwrap_or_default()
}

/// `m` without its `null` values. The spec types the call-log fields as
/// plain strings, numbers and objects, none nullable: a field the call does
/// not have yet (no recording, no analytics, not a retry, a web session's
/// numbers) is absent, as an unset field of a stored document is.
fn without_nulls(mut m: Map<String, Value>) -> Value {
    m.retain(|_, v| !v.is_null());
    Value::Object(m)
}

/// The agent's metric definitions as `[{identifier, type}]`
/// ([`crate::call::analytics::disposition_defs`] of the call's config).
pub fn disposition_config(c: &Call) -> Vec<Value> {
    crate::call::analytics::disposition_defs(&c.config)
}

/// `recordingUrl` of `c` on the server at `base`, `None` without a
/// recording (R116).
pub fn recording_link(c: &Call, base: &str) -> Option<String> {
    c.recording_ms().filter(|ms| *ms > 0).map(|_| recording_url(base, &c.call_id))
}

fn recording(c: &Call, base: &str) -> (Value, Value) {
    match recording_link(c, base) {
        Some(url) => {
            let dual = url.replace(".wav?", "-dual.wav?");
            (json!(url), json!(dual))
        }
        None => (Value::Null, Value::Null),
    }
}

fn common(c: &Call, base: &str) -> Map<String, Value> {
    let (rec, dual) = recording(c, base);
    let mut m = Map::new();
    m.insert("_id".into(), json!(c.id));
    m.insert("callId".into(), json!(c.call_id));
    m.insert("status".into(), json!(c.status.as_str()));
    m.insert("duration".into(), json!(duration_secs(c)));
    m.insert("from".into(), json!(c.from));
    m.insert("to".into(), json!(c.to));
    m.insert("type".into(), json!(c.call_type.as_str()));
    m.insert("agentId".into(), json!(c.agent_id));
    m.insert("recordingUrl".into(), rec);
    m.insert("recordingDualUrl".into(), dual);
    m.insert("disconnectionReason".into(), json!(c.disconnect_reason));
    m.insert("retryCount".into(), json!(c.retry_count));
    m.insert("createdAt".into(), json!(iso(c.created_at)));
    m.insert("updatedAt".into(), json!(iso(c.updated_at)));
    m.insert("callFailureReason".into(), json!(c.failure_reason));
    m.insert("callCost".into(), json!(c.cost));
    m.insert("versionId".into(), json!(c.version_id));
    m.insert("isTest".into(), json!(c.is_test));
    m.insert("retryCallId".into(), json!(c.retry_call_id));
    m.insert("retryAttemptNumber".into(), json!(c.retry_attempt_number));
    m.insert("campaignId".into(), json!(c.campaign_id));
    m.insert("postCallAnalytics".into(), post_call_analytics(c));
    m.insert("turnLatencyMetrics".into(), turn_latency_metrics(c));
    m.retain(|_, v| !v.is_null());
    m
}

/// A `GET /conversation` row (R112).
pub fn list_row(c: &Call, base: &str) -> Value {
    let mut m = common(c, base);
    let metrics: Map<String, Value> = c
        .analytics
        .iter()
        .flat_map(|a| a.metrics.iter())
        .map(|x| (x.identifier.clone(), json!(as_log_string(&x.value))))
        .collect();
    m.insert("dispositionMetrics".into(), Value::Object(metrics));
    m.insert("agentDispositionConfig".into(), json!(disposition_config(c)));
    m.insert("versionNumber".into(), json!(c.version_number));
    Value::Object(m)
}

/// A `POST /conversation/search` row: the list row without
/// `dispositionMetrics`, `agentDispositionConfig` and `versionNumber`
/// (R114).
pub fn search_row(c: &Call, base: &str) -> Value {
    Value::Object(common(c, base))
}

/// `GET /conversation/{id}` (R115) as JSON bytes: the row plus `agent`
/// (raw AgentDTO JSON, absent when empty), `transcript`, `variables`,
/// `events`, `voiceConfigUsed` and `slmModelUsed`, and `callActions` (the
/// call-action runs of the call, a mock extension) when there are any.
pub fn detail(c: &Call, agent: &[u8], events: &[std::sync::Arc<crate::events::CallEvent>], base: &str) -> Vec<u8> {
    let mut m = common(c, base);
    m.insert("versionNumber".into(), json!(c.version_number));
    m.insert(
        "transcript".into(),
        json!(c
            .transcript
            .iter()
            .map(|l| json!({"role": l.role, "content": l.content, "timestamp": iso(l.at)}))
            .collect::<Vec<_>>()),
    );
    m.insert("variables".into(), Value::Object(c.variables.clone()));
    m.insert("scenario".into(), json!(c.scenario.name));
    if let Some(voice) = c.config.get("synthesizer").and_then(|s| s.get("voiceConfig")) {
        m.insert("voiceConfigUsed".into(), voice.clone());
    }
    if let Some(model) = c.config.get("slmModel") {
        m.insert("slmModelUsed".into(), model.clone());
    }
    m.insert("startedAt".into(), opt_iso(c.started_at));
    m.insert("answeredAt".into(), opt_iso(c.connected_at));
    m.insert("endedAt".into(), opt_iso(c.ended_at));
    if !c.call_actions.is_empty() {
        let runs = c.call_actions.iter().map(crate::domain::call_action::Run::to_json).collect();
        m.insert("callActions".into(), Value::Array(runs));
    }
    // The agent and the events are spliced in as already-serialized JSON:
    // events reuse the exact bytes their SSE frames carry.
    let mut out = serde_json::to_vec(&Value::Object(m)).unwrap_or_else(|_| b"{}".to_vec());
    out.pop();
    if !agent.is_empty() {
        out.extend_from_slice(b",\"agent\":");
        out.extend_from_slice(agent);
    }
    out.extend_from_slice(b",\"events\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(e.json());
    }
    out.extend_from_slice(b"]}");
    out
}

/// An agent call-logs row (R039): `callDuration` in milliseconds; the
/// numbers are absent for web sessions.
pub fn agent_call_log(c: &Call) -> Value {
    let row = json!({
        "callId": c.call_id, "callStatus": c.status.as_str(), "callType": c.call_type.as_str(),
        "fromNumber": c.from, "toNumber": c.to, "createdAt": iso(c.created_at), "callDuration": c.duration_ms(),
    });
    row.as_object().map(|m| without_nulls(m.clone())).unwrap_or(row)
}
