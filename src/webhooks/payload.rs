//! Event bodies (BEHAVIOR R147–R157), built from the call record snapshot
//! the lifecycle bus carries, so every value agrees with the SSE stream
//! and the call log of the same run.
//!
//! Choices where the reference is silent (documented in the README):
//! - web sessions use `conversationType: "webcall"` (the value the call's
//!   `variables.conversation_type` already holds), send `""` for the phone
//!   numbers they do not have, and omit `callDirection`;
//! - a call that was never answered has `answerTime` equal to `endTime`
//!   and `callDuration: 0.0` (the spec requires `answerTime`);
//! - `recordingUrl` is always the call's composite URL (required by the
//!   spec); it serves audio only for answered calls;
//! - `transcript[].timestamp` is the same instant the call log shows;
//! - `analytics-completed` omits `callDirection` (as the guide's example);
//! - when the analytics failed validation (R218) the event still fires,
//!   with an empty summary and no metrics;
//! - deprecated `successMetrics` config entries are reported with the
//!   six metric fields, their type mapped to the closest webhook type.

use serde_json::{json, Map, Value};

use crate::calls::analytics::MetricResult;
use crate::calls::{recording_url, Call, CallType};
use crate::domain::time::iso;
use crate::domain::webhook::EventType;
use crate::events::Milestone;

impl From<Milestone> for EventType {
    fn from(m: Milestone) -> Self {
        match m {
            Milestone::PreConversation => Self::PreConversation,
            Milestone::PostConversation => Self::PostConversation,
            Milestone::AnalyticsCompleted => Self::AnalyticsCompleted,
        }
    }
}

fn common(event: EventType, call: &Call) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("agentId".into(), json!(call.agent_id));
    m.insert("eventType".into(), json!(event.as_str()));
    m.insert("conversationType".into(), json!(call.call_type.conversation_type()));
    m
}

fn phone(p: Option<&String>) -> Value {
    json!(p.map_or("", String::as_str))
}

/// `callData` (R151): E.164 numbers, `callDuration` in float seconds,
/// ISO UTC times. `with_direction` is false for analytics-completed.
pub fn call_data(call: &Call, with_direction: bool) -> Value {
    let end = call.ended_at.unwrap_or(call.updated_at);
    let mut m = Map::new();
    m.insert("fromNumber".into(), phone(call.from.as_ref()));
    m.insert("toNumber".into(), phone(call.to.as_ref()));
    m.insert("callDuration".into(), json!(call.duration_ms() as f64 / 1000.0));
    m.insert("callStatus".into(), json!(call.status.as_str()));
    if with_direction && call.call_type != CallType::Webcall {
        m.insert("callDirection".into(), json!(call.call_type.as_str()));
    }
    m.insert("answerTime".into(), json!(iso(call.connected_at.unwrap_or(end))));
    m.insert("endTime".into(), json!(iso(end)));
    Value::Object(m)
}

fn metric(m: &MetricResult) -> Value {
    json!({
        "identifier": m.identifier, "value": m.value, "confidence": m.confidence,
        "reasoning": m.reasoning, "dispositionMetricPrompt": m.prompt, "dispositionMetricType": m.metric_type,
    })
}

/// A deprecated success metric (R216) in the webhook's metric shape.
fn success_metric(def: &Value, call: &Call) -> Value {
    let id = def.get("identifier").and_then(Value::as_str).unwrap_or_default();
    let (ty, default) = match def.get("successMetricType").and_then(Value::as_str) {
        Some("PASS_FAIL") => ("BOOLEAN", json!(false)),
        Some("NUMERIC_SCALE" | "PERCENTAGE_SCALE") => ("INTEGER", json!(0)),
        _ => ("STRING", json!("")),
    };
    let given =
        call.scenario.analytics.disposition_metrics.get(id).map(crate::scenarios::model::MetricValue::from_json);
    let (value, confidence, reasoning) = given.map_or_else(
        || (default, 0.5, "No evidence in the transcript; default value.".to_string()),
        |g| (g.value, g.confidence, g.reasoning),
    );
    json!({
        "identifier": id, "value": value, "confidence": confidence, "reasoning": reasoning,
        "dispositionMetricPrompt": def.get("successMetricPrompt").and_then(Value::as_str).unwrap_or_default(),
        "dispositionMetricType": ty,
    })
}

/// `analytics` of analytics-completed (R156, R157).
pub fn analytics(call: &Call) -> Value {
    match &call.analytics {
        Some(a) => json!({
            "summary": a.summary,
            "dispositionMetrics": a.metrics.iter().map(metric).collect::<Vec<_>>(),
            "successMetrics": a.success_metrics.iter().map(|d| success_metric(d, call)).collect::<Vec<_>>(),
        }),
        None => json!({"summary": "", "dispositionMetrics": [], "successMetrics": []}),
    }
}

/// The event's `metadata` (R149, R150, R156). `base` is the server's
/// `http://HOST:PORT`, for `recordingUrl`.
pub fn metadata(event: EventType, call: &Call, base: &str) -> Value {
    let mut m = common(event, call);
    match event {
        EventType::PreConversation => {
            m.insert("toPhone".into(), phone(call.to.as_ref()));
            m.insert("fromPhone".into(), phone(call.from.as_ref()));
            m.insert("callId".into(), json!(call.call_id));
        }
        EventType::PostConversation => {
            m.insert("callId".into(), json!(call.call_id));
            m.insert("recordingUrl".into(), json!(recording_url(base, &call.call_id)));
            m.insert("callData".into(), call_data(call, true));
            let turns: Vec<Value> = call
                .transcript
                .iter()
                .map(|l| json!({"role": l.role, "content": l.content, "timestamp": iso(l.at)}))
                .collect();
            m.insert("transcript".into(), Value::Array(turns));
            m.insert("variables".into(), Value::Object(call.variables.clone()));
        }
        EventType::AnalyticsCompleted => {
            m.insert("callId".into(), json!(call.call_id));
            m.insert("analytics".into(), analytics(call));
            m.insert("callData".into(), call_data(call, false));
        }
    }
    Value::Object(m)
}

/// The envelope (R147), serialized once: `{url, description, event:
/// "<agentId>.<eventType>", metadata, id}`. These bytes are what is
/// signed, sent and logged.
pub fn body(url: &str, description: &str, agent_id: &str, event: EventType, metadata: &Value, id: &str) -> Vec<u8> {
    let envelope = json!({
        "url": url,
        "description": description,
        "event": format!("{agent_id}.{}", event.as_str()),
        "metadata": metadata,
        "id": id,
    });
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// `X-Signature` (R145): lowercase hex HMAC-SHA256 of `body` keyed by
/// `secret`, no prefix.
pub fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    crate::domain::ids::hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac_sha256_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn envelope_keeps_the_platform_field_order() {
        let b = body("http://x", "d", "a1", EventType::PreConversation, &json!({"k": 1}), "id1");
        assert_eq!(
            String::from_utf8(b).expect("utf8"),
            r#"{"url":"http://x","description":"d","event":"a1.pre-conversation","metadata":{"k":1},"id":"id1"}"#
        );
    }
}
