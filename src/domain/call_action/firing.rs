//! When call actions fire (see the parent module's doc): conditions over a
//! record's fields, post-call runs for an ended call, and the dials a
//! provider record event triggers.

use crate::domain::ids::is_phone;
use crate::domain::Millis;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use super::{ActionType, CallAction, Category, Condition, Operator};

/// Record fields, as strings (numbers and booleans in their JSON form).
pub type Fields = BTreeMap<String, String>;

/// The string form of a scalar JSON value; `None` for objects, arrays, null.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim)
}

/// Whether one condition holds for `fields` (see the module doc).
pub fn holds(c: &Condition, fields: &Fields) -> bool {
    use Operator as O;
    let Some(got) = fields.get(&c.field) else {
        return matches!(c.operator, O::Neq | O::Nin | O::NotContains);
    };
    let eq = match (num(got), num(&c.value)) {
        (Some(a), Some(b)) => a == b,
        _ => *got == c.value,
    };
    let cmp = num(got).zip(num(&c.value));
    match c.operator {
        O::Eq => eq,
        O::Neq => !eq,
        O::Gt => cmp.is_some_and(|(a, b)| a > b),
        O::Gte => cmp.is_some_and(|(a, b)| a >= b),
        O::Lt => cmp.is_some_and(|(a, b)| a < b),
        O::Lte => cmp.is_some_and(|(a, b)| a <= b),
        O::In => list(&c.value).any(|x| x == got),
        O::Nin => !list(&c.value).any(|x| x == got),
        O::Contains => got.contains(&c.value),
        O::NotContains => !got.contains(&c.value),
        O::StartsWith => got.starts_with(&c.value),
        O::EndsWith => got.ends_with(&c.value),
    }
}

/// Whether every condition of `a` holds (an empty list always holds).
pub fn conditions_hold(a: &CallAction, fields: &Fields) -> bool {
    a.config.conditions.iter().all(|c| holds(c, fields))
}

/// Fills `{{name}}` in `template` from `fields`; unknown names stay.
pub fn fill_body(template: &str, fields: &Fields) -> String {
    crate::domain::template::fill(template, |k| fields.get(k).cloned())
}

/// The facts of an ended call a post-call action sees.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedCall<'a> {
    /// `CALL-…` id.
    pub call_id: &'a str,
    /// Agent.
    pub agent_id: &'a str,
    /// Terminal status (`completed`, `no_answer`, `failed`, `cancelled`).
    pub status: &'a str,
    /// `callType`.
    pub call_type: &'a str,
    /// Talk time, seconds.
    pub duration_seconds: f64,
    /// `disconnectionReason`.
    pub disconnect_reason: &'a str,
    /// Caller and callee numbers.
    pub from: &'a str,
    /// Callee.
    pub to: &'a str,
    /// The call's resolved variables.
    pub variables: &'a Map<String, Value>,
}

/// The fields conditions and body templates of a post-call action read:
/// the call's scalar variables, then (winning on a clash) `callId`,
/// `agentId`, `callStatus`, `callType`, `durationSeconds`,
/// `disconnectionReason`, `fromNumber`, `toNumber`.
pub fn call_fields(c: &EndedCall<'_>) -> Fields {
    let mut f: Fields = c.variables.iter().filter_map(|(k, v)| scalar(v).map(|s| (k.clone(), s))).collect();
    for (k, v) in [
        ("callId", c.call_id.to_string()),
        ("agentId", c.agent_id.to_string()),
        ("callStatus", c.status.to_string()),
        ("callType", c.call_type.to_string()),
        ("durationSeconds", json!(c.duration_seconds).to_string()),
        ("disconnectionReason", c.disconnect_reason.to_string()),
        ("fromNumber", c.from.to_string()),
        ("toNumber", c.to.to_string()),
    ] {
        f.insert(k.to_string(), v);
    }
    f
}

/// One firing of an action, as recorded (control API and call log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The action.
    pub action_id: String,
    /// Its agent.
    pub agent_id: String,
    /// Its category.
    pub category: Category,
    /// Provider, object and operation, copied from the action.
    pub provider: String,
    /// Provider object.
    pub object: Option<String>,
    /// Operation.
    pub action_type: Option<ActionType>,
    /// The call it ran for (post-call) or placed (trigger, once placed).
    pub call_id: Option<String>,
    /// When it fired, epoch ms.
    pub fired_at: Millis,
    /// The filled body template (`""` when the action has none).
    pub payload: String,
    /// `executed`, or `failed` with `error`.
    pub outcome: String,
    /// Why a trigger could not place its call.
    pub error: Option<String>,
}

impl Run {
    /// The wire object (control API, `callActions` of a call log):
    /// `{actionId, agentId, category, provider, object, action_type,
    /// callId, firedAt (ISO 8601), payload, outcome, error}`.
    pub fn to_json(&self) -> Value {
        json!({
            "actionId": self.action_id, "agentId": self.agent_id, "category": self.category,
            "provider": self.provider, "object": self.object, "action_type": self.action_type,
            "callId": self.call_id, "firedAt": crate::domain::time::iso(self.fired_at),
            "payload": self.payload, "outcome": self.outcome, "error": self.error,
        })
    }
}

fn run(a: &CallAction, call_id: Option<String>, fields: &Fields, now: Millis, error: Option<String>) -> Run {
    Run {
        action_id: a.id.clone(),
        agent_id: a.agent_id.clone(),
        category: a.category,
        provider: a.provider.clone(),
        object: a.object.clone(),
        action_type: a.action_type,
        call_id,
        fired_at: now,
        payload: a.config.body.as_deref().map(|b| fill_body(b, fields)).unwrap_or_default(),
        outcome: if error.is_some() { "failed" } else { "executed" }.into(),
        error,
    }
}

/// The post-call runs for an ended call: one per post-call action of the
/// call's agent whose conditions hold, in the given order.
pub fn post_call_runs(actions: &[CallAction], call: &EndedCall<'_>, now: Millis) -> Vec<Run> {
    let fields = call_fields(call);
    actions
        .iter()
        .filter(|a| a.category == Category::PostCall && a.agent_id == call.agent_id && conditions_hold(a, &fields))
        .map(|a| run(a, Some(call.call_id.to_string()), &fields, now, None))
        .collect()
}

/// A provider record event (control API), which trigger actions react to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderEvent {
    /// Provider, e.g. `hubspot`.
    pub provider: String,
    /// Object, e.g. `contact`.
    pub object: Option<String>,
    /// `create` or `update`.
    #[serde(rename = "action_type")]
    pub action_type: Option<ActionType>,
    /// The record's fields.
    pub record: Map<String, Value>,
}

/// A call a trigger action asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerDial {
    /// The action.
    pub action_id: String,
    /// The agent to call with.
    pub agent_id: String,
    /// The number, as found in the record.
    pub phone: String,
    /// The record's scalar fields, as call variables.
    pub variables: Map<String, Value>,
}

/// What a provider event does: the calls to place and, for matching
/// actions whose record has no valid number, a failed [`Run`] each.
/// A matching action matches the provider (case-insensitive) and, when it
/// names them, the object and the operation; its conditions hold.
pub fn plan_trigger(actions: &[CallAction], ev: &ProviderEvent, now: Millis) -> (Vec<TriggerDial>, Vec<Run>) {
    let fields: Fields = ev.record.iter().filter_map(|(k, v)| scalar(v).map(|s| (k.clone(), s))).collect();
    let variables: Map<String, Value> =
        ev.record.iter().filter(|(_, v)| scalar(v).is_some()).map(|(k, v)| (k.clone(), v.clone())).collect();
    let (mut dials, mut failed) = (Vec::new(), Vec::new());
    for a in actions.iter().filter(|a| a.category == Category::Trigger) {
        let same = a.provider.eq_ignore_ascii_case(&ev.provider)
            && a.object.as_ref().is_none_or(|o| ev.object.as_ref().is_some_and(|e| e.eq_ignore_ascii_case(o)))
            && a.action_type.is_none_or(|t| ev.action_type == Some(t));
        if !same || !conditions_hold(a, &fields) {
            continue;
        }
        let field = a.config.phone_number_field_name.as_deref().unwrap_or_default();
        match fields.get(field).map(|p| p.trim().to_string()).filter(|p| is_phone(p)) {
            Some(phone) => dials.push(TriggerDial {
                action_id: a.id.clone(),
                agent_id: a.agent_id.clone(),
                phone,
                variables: variables.clone(),
            }),
            None => {
                let err = format!("Record has no valid phone number in field '{field}'");
                failed.push(run(a, None, &fields, now, Some(err)));
            }
        }
    }
    (dials, failed)
}

/// The failed run of a trigger dial whose call could not be placed
/// (`error`: the placement's refusal, e.g. an archived agent).
pub fn trigger_failed(a: &CallAction, variables: &Map<String, Value>, error: String, now: Millis) -> Run {
    let fields: Fields = variables.iter().filter_map(|(k, v)| scalar(v).map(|s| (k.clone(), s))).collect();
    run(a, None, &fields, now, Some(error))
}

/// The run recorded for a trigger dial once its call is placed.
pub fn trigger_run(a: &CallAction, call_id: &str, variables: &Map<String, Value>, now: Millis) -> Run {
    let fields: Fields = variables.iter().filter_map(|(k, v)| scalar(v).map(|s| (k.clone(), s))).collect();
    run(a, Some(call_id.to_string()), &fields, now, None)
}
