//! Wire shapes of campaigns (R161, R168–R171) and of the two exports
//! (R175, R176). `calls` is a snapshot of the campaign's calls by id.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use super::{Campaign, CampaignCall};
use crate::calls::Call;
use crate::domain::audience::to_csv;
use crate::domain::call::CallStatus;
use crate::domain::time::{iso, opt_iso};
use crate::domain::Millis;

fn base(c: &Campaign, org: &str, user: &str) -> Map<String, Value> {
    let p = &c.progress;
    let mut m = Map::new();
    m.insert("_id".into(), json!(c.id));
    m.insert("name".into(), json!(c.name));
    m.insert("description".into(), json!(c.description));
    m.insert("organization".into(), json!(org));
    m.insert("createdBy".into(), json!(user));
    m.insert("participantsCount".into(), json!(c.contacts.len()));
    m.insert("phoneNumberIds".into(), json!(c.phone_number_ids));
    m.insert("scheduledAt".into(), opt_iso(c.scheduled_at));
    m.insert("maxRetries".into(), json!(p.max_retries));
    m.insert("retryDelay".into(), json!(c.retry_delay_min));
    m.insert("retryAttempts".into(), json!(p.retry_attempts));
    m.insert("status".into(), json!(p.status.as_str()));
    m
}

/// The raw stored document of `POST /campaign` (R161): `agentId` and
/// `audienceId` are plain ids; `scheduledAt` only when given.
pub fn document(c: &Campaign, org: &str, user: &str) -> Value {
    let mut m = base(c, org, user);
    m.insert("agentId".into(), json!(c.agent_id));
    m.insert("audienceId".into(), json!(c.audience_id));
    if c.scheduled_at.is_none() {
        m.remove("scheduledAt");
    }
    m.insert("createdAt".into(), json!(iso(c.created_at)));
    m.insert("updatedAt".into(), json!(iso(c.progress.updated_at)));
    Value::Object(m)
}

/// A campaign as `GET /campaign` and `GET /campaign/{id}` show it (R168,
/// R171): nested `agent` and `audience`, pause and failure fields.
pub fn campaign(c: &Campaign, org: &str, user: &str, agent: Value, audience: Value) -> Value {
    let p = &c.progress;
    let mut m = base(c, org, user);
    m.insert("agent".into(), agent);
    m.insert("audience".into(), audience);
    m.insert("pausedAt".into(), opt_iso(p.paused_at));
    m.insert("cancelledCallsCount".into(), json!(p.cancelled_calls));
    m.insert("error".into(), json!(p.error));
    m.insert("failedAt".into(), opt_iso(p.failed_at));
    m.insert("createdAt".into(), json!(iso(c.created_at)));
    m.insert("updatedAt".into(), json!(iso(p.updated_at)));
    Value::Object(m)
}

/// `events[]` (R170).
pub fn events(c: &Campaign) -> Value {
    c.events
        .iter()
        .map(|e| {
            json!({"_id": e.id, "triggerSource": e.trigger.as_str(), "eventAction": e.action,
                   "createdAt": iso(e.at), "updatedAt": iso(e.at)})
        })
        .collect()
}

/// The three counters (R169): audience size; contacts with an attempt
/// that is in progress ("active"), completed, failed or no_answer; and
/// contacts with a completed call. A call the Do-Not-Call list blocked was
/// never attempted: its member counts among the participants only.
pub fn metrics(c: &Campaign, calls: &HashMap<String, Call>) -> Value {
    let (mut called, mut connected) = (BTreeSet::new(), BTreeSet::new());
    for cc in &c.calls {
        match calls.get(&cc.call_id).filter(|x| x.blocked_by.is_none()).map(|x| x.status) {
            Some(CallStatus::Completed) => {
                called.insert(cc.member);
                connected.insert(cc.member);
            }
            Some(CallStatus::InProgress | CallStatus::Failed | CallStatus::NoAnswer) => {
                called.insert(cc.member);
            }
            Some(CallStatus::Pending | CallStatus::InQueue | CallStatus::Cancelled) | None => {}
        }
    }
    json!({"total_participants": c.contacts.len(), "contacts_called": called.len(), "contacts_connected": connected.len()})
}

/// The real attempts of member `i` (calls cancelled by a pause are not
/// attempts), in order.
fn attempts(c: &Campaign, i: usize) -> impl Iterator<Item = &CampaignCall> {
    c.calls.iter().filter(move |x| x.member == i && !x.cancelled_by_pause)
}

fn attempt(call: &Call) -> Value {
    json!({
        "callId": call.call_id, "status": call.status.as_str(), "retryAttemptNumber": call.retry_attempt_number,
        "duration": call.duration_ms() as f64 / 1000.0, "cost": call.cost,
        "disconnectionReason": call.disconnect_reason, "createdAt": iso(call.created_at),
        "startedAt": opt_iso(call.started_at), "endedAt": opt_iso(call.ended_at),
    })
}

/// One member's export row as JSON (R175): `finalStatus` is the last
/// attempt's call status, or `not_called`.
fn member_row(c: &Campaign, i: usize, calls: &HashMap<String, Call>) -> Value {
    let x = &c.contacts[i];
    let mine: Vec<&Call> = attempts(c, i).filter_map(|a| calls.get(&a.call_id)).collect();
    let total_secs: f64 = mine.iter().map(|k| k.duration_ms() as f64 / 1000.0).sum();
    json!({
        "audienceMemberId": x.member_id,
        "audienceMemberData": x.data,
        "phoneNumber": x.phone,
        "originalCall": mine.first().map_or(Value::Null, |k| attempt(k)),
        "retryAttempts": mine.iter().skip(1).map(|k| attempt(k)).collect::<Vec<_>>(),
        "totalAttempts": mine.len(),
        "finalStatus": mine.last().map_or("not_called", |k| k.status.as_str()),
        "totalCallDuration": total_secs,
        "totalCallCost": mine.iter().map(|k| k.cost).sum::<f64>(),
    })
}

/// `GET /campaign/{id}/export/by-audience-member` as JSON (R175).
pub fn by_member_json(c: &Campaign, calls: &HashMap<String, Call>, now: Millis) -> Value {
    json!({
        "campaign": c.name,
        "exportedAt": iso(now),
        "totalAudienceMembers": c.contacts.len(),
        "data": (0..c.contacts.len()).map(|i| member_row(c, i, calls)).collect::<Vec<_>>(),
    })
}

/// The same export as CSV, one row per member: fixed columns, then the
/// member's own columns (of the first member), then the call ids.
pub fn by_member_csv(c: &Campaign, calls: &HashMap<String, Call>) -> String {
    let cols: Vec<String> = c.contacts.first().map(|x| x.data.keys().cloned().collect()).unwrap_or_default();
    let mut head = vec!["audienceMemberId".to_string(), "phoneNumber".into()];
    head.extend(cols.iter().cloned());
    head.extend(
        ["totalAttempts", "finalStatus", "totalCallDuration", "totalCallCost", "originalCallId", "retryCallIds"]
            .map(String::from),
    );
    let mut rows = vec![head];
    for i in 0..c.contacts.len() {
        let row = member_row(c, i, calls);
        let x = &c.contacts[i];
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let mut f = vec![x.member_id.clone(), x.phone.clone()];
        f.extend(cols.iter().map(|k| x.data.get(k).map(text).unwrap_or_default()));
        f.extend(["totalAttempts", "finalStatus", "totalCallDuration", "totalCallCost"].map(|k| text(&row[k])));
        f.push(row["originalCall"]["callId"].as_str().unwrap_or("").to_string());
        let retries: Vec<&str> =
            row["retryAttempts"].as_array().into_iter().flatten().filter_map(|a| a["callId"].as_str()).collect();
        f.push(retries.join("|"));
        rows.push(f);
    }
    to_csv(rows)
}

/// `GET /campaign/{id}/logs/export` (R176): one CSV row per call the
/// campaign placed, in order. Durations in seconds; `transcriptUrl` is the
/// call's log (the mock serves transcripts there).
pub fn logs_csv(c: &Campaign, calls: &HashMap<String, Call>, agent_name: &str, base_url: &str) -> String {
    let head = [
        "timestamp",
        "callId",
        "audienceMemberId",
        "phoneNumber",
        "agentId",
        "agentName",
        "status",
        "retryAttemptNumber",
        "disconnectionReason",
        "duration",
        "cost",
        "recordingUrl",
        "transcriptUrl",
    ];
    let mut rows = vec![head.map(String::from).to_vec()];
    for cc in &c.calls {
        let Some(k) = calls.get(&cc.call_id) else { continue };
        let rec = k.recording_ms().filter(|ms| *ms > 0).map(|_| crate::calls::recording_url(base_url, &k.call_id));
        rows.push(vec![
            iso(k.created_at),
            k.call_id.clone(),
            c.contacts[cc.member].member_id.clone(),
            c.contacts[cc.member].phone.clone(),
            c.agent_id.clone(),
            agent_name.to_string(),
            k.status.as_str().to_string(),
            k.retry_attempt_number.to_string(),
            k.disconnect_reason.clone().unwrap_or_default(),
            format!("{}", k.duration_ms() as f64 / 1000.0),
            format!("{}", k.cost),
            rec.unwrap_or_default(),
            format!("{base_url}/atoms/v1/conversation/{}", k.call_id),
        ]);
    }
    to_csv(rows)
}
