//! A call's resolved variables (BEHAVIOR R154, R155): the 11 standard keys,
//! then the agent's `defaultVariables`, then the call's own variables (the
//! later source wins), except the call's identity (`call_id`,
//! `user_number`, `agent_number`, `conversation_type`), which nothing
//! overrides (LIVE K1). Standard values are strings.

use serde_json::{json, Map, Value};

use super::{CallType, NewCall};
use crate::domain::time::{format_utc, utc, DATE, HOUR_MINUTE};
use crate::domain::Millis;

/// The 11 standard variable keys every call has (R154).
pub const STANDARD_KEYS: [&str; 11] = [
    "call_id",
    "user_number",
    "agent_number",
    "conversation_type",
    "agent_gender",
    "default_language",
    "supported_languages",
    "current_date",
    "current_time",
    "current_day",
    "timezone",
];

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Resolves the variables of `new` at `now` (epoch ms). Dates use the
/// config's `timezone.offset` (minutes); `timezone` is its IANA label, or
/// `UTC` when the label is not an IANA name.
pub fn resolve(new: &NewCall, call_id: &str, now: Millis) -> Map<String, Value> {
    let cfg = &new.config;
    let offset_min = cfg.get("timezone").and_then(|t| t.get("offset")).and_then(Value::as_f64).unwrap_or(0.0);
    let label = cfg.get("timezone").and_then(|t| t.get("label")).and_then(Value::as_str).unwrap_or("UTC");
    let tz = if label.contains('/') { label } else { "UTC" };
    let local_ms = now + (offset_min * 60_000.0).round() as i64;
    let weekday = utc(local_ms).weekday();
    let (user, agent) = match new.request.call_type {
        CallType::TelephonyInbound => (new.request.from.clone(), new.request.to.clone()),
        CallType::TelephonyOutbound | CallType::Webcall => (new.request.to.clone(), new.request.from.clone()),
    };
    let lang = cfg.get("language");
    let supported: Vec<&str> = lang
        .and_then(|l| l.get("supported"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    let facts = [
        ("call_id", json!(call_id)),
        ("user_number", json!(user.unwrap_or_default())),
        ("agent_number", json!(agent.unwrap_or_default())),
        ("conversation_type", json!(new.request.call_type.conversation_type())),
    ];
    out.extend(facts.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
    let gender = cfg
        .get("synthesizer")
        .and_then(|s| s.pointer("/voiceConfig/gender"))
        .and_then(Value::as_str)
        .unwrap_or("female");
    out.insert("agent_gender".into(), json!(gender));
    out.insert(
        "default_language".into(),
        json!(lang.and_then(|l| l.get("default")).and_then(Value::as_str).unwrap_or("en")),
    );
    out.insert("supported_languages".into(), json!(supported.join(",")));
    out.insert("current_date".into(), json!(format_utc(local_ms, DATE)));
    out.insert("current_time".into(), json!(format_utc(local_ms, HOUR_MINUTE)));
    out.insert("current_day".into(), json!(WEEKDAYS[usize::from(weekday.number_days_from_monday())]));
    out.insert("timezone".into(), json!(tz));
    if let Some(Value::Object(defaults)) = cfg.get("defaultVariables") {
        out.extend(defaults.clone());
    }
    out.extend(new.request.variables.clone());
    // The call's identity is not a template value: `from`, `to` and these
    // keys always agree (LIVE K1), whatever the variables say.
    out.extend(facts.map(|(k, v)| (k.to_string(), v)));
    out
}
