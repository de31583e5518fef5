//! Wire shapes: the platform's `AgentDTO` and `AgentVersion` rendered from
//! domain records, and the success envelope `{"status": true, "data": …}`
//! (BEHAVIOR R004).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::config;
use crate::domain::time::iso;
use crate::domain::versioning::Blocks;
use crate::domain::versioning::{AgentRecord, Draft, Version};
use crate::domain::Millis;

/// `200 {"status": true, "data": data}`.
pub fn ok(data: Value) -> Response {
    Json(success(data)).into_response()
}

/// `{"status": true, "data": data}` without copying `data`.
pub fn success(data: Value) -> Value {
    let mut m = Map::with_capacity(2);
    m.insert("status".into(), Value::Bool(true));
    m.insert("data".into(), data);
    Value::Object(m)
}

/// `201 {"status": true, "data": data}`.
pub fn created(data: Value) -> Response {
    (StatusCode::CREATED, Json(success(data))).into_response()
}

fn opt_iso(ms: Option<Millis>) -> Value {
    ms.map_or(Value::Null, |m| Value::String(iso(m)))
}

/// Block ids in the platform's section order (R067).
fn blocks(b: &Blocks) -> Value {
    config::SECTIONS
        .iter()
        .filter_map(|s| b.get(s).map(|id| ((*s).to_string(), Value::String(id.clone()))))
        .collect::<Map<_, _>>()
        .into()
}

/// Where `_resolvedConfig` comes from on `GET /agent/{id}` (R028).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConfigSource<'a> {
    /// The active version; `_configSource` is omitted.
    Active,
    /// `?draftId=`.
    Draft(&'a Draft),
    /// `?versionId=`.
    Version(&'a Version),
}

/// `AgentDTO` (R026, R029). List items (`detail == None`) carry no
/// `_resolvedConfig`; single reads do.
pub fn agent(rec: &AgentRecord, detail: Option<ConfigSource<'_>>) -> Value {
    let a = &rec.agent;
    let active_cfg = rec.active().map(|v| v.config.clone()).unwrap_or_else(config::defaults);
    let mut out = Map::new();
    out.insert("_id".into(), json!(a.id));
    out.insert("name".into(), json!(a.name));
    out.insert("description".into(), json!(a.description));
    out.insert("organization".into(), json!(a.organization));
    out.insert("workflowId".into(), json!(a.workflow_id));
    for (k, v) in active_cfg.iter().filter(|(k, _)| k.as_str() != "singlePromptConfig") {
        out.insert(k.clone(), v.clone());
    }
    out.insert("workflowType".into(), json!(a.workflow_type));
    out.insert("createdBy".into(), json!(a.created_by));
    out.insert("createdAt".into(), json!(iso(a.created_at)));
    out.insert("updatedAt".into(), json!(iso(a.updated_at)));
    out.insert("totalCalls".into(), json!(a.total_calls));
    out.insert("archived".into(), json!(a.archived));
    out.insert("archivedAt".into(), opt_iso(a.archived_at));
    out.insert("activeVersionId".into(), json!(a.active_version_id));
    out.insert("versionId".into(), json!(a.active_version_id));
    out.insert("allowInboundCall".into(), json!(a.allow_inbound_call));
    out.insert("visibleToEveryone".into(), json!(a.visible_to_everyone));
    out.insert("telephonyProductId".into(), json!(a.telephony_product_id));
    if let Some(url) = &a.avatar_url {
        out.insert("avatarUrl".into(), json!(url));
    }
    if let Some(src) = detail {
        let (cfg, label) = match src {
            ConfigSource::Active => (active_cfg, None),
            ConfigSource::Draft(d) => (d.config.clone(), Some("draft")),
            ConfigSource::Version(v) => (v.config.clone(), Some("version")),
        };
        out.insert("_resolvedConfig".into(), Value::Object(config::resolved(&cfg)));
        out.insert("_versionedWorkflow".into(), config::versioned_workflow(&cfg));
        if let Some(l) = label {
            out.insert("_configSource".into(), json!(l));
        }
    }
    Value::Object(out)
}

/// A published version as `AgentVersion` (R055–R067), with its
/// `securityCheck` as of `now`.
pub fn version(rec: &AgentRecord, v: &Version, now: Millis) -> Value {
    let status = v.security_status(now);
    json!({
        "_id": v.id,
        "agent": rec.agent.id,
        "status": "published",
        "versionNumber": v.number,
        "label": v.label,
        "description": v.description,
        "isPinned": v.is_pinned,
        "publishedBy": v.published_by,
        "publishedAt": iso(v.published_at),
        "activatedBy": v.activated_by,
        "activatedAt": opt_iso(v.activated_at),
        "draftId": v.draft_id,
        "draftName": Value::Null,
        "draftRevision": Value::Null,
        "sourceVersionId": v.parent_version,
        "blocks": blocks(&v.blocks),
        "workflowType": rec.agent.workflow_type,
        "parentVersion": v.parent_version,
        "isActive": rec.agent.active_version_id == v.id,
        "securityCheck": {
            "status": status,
            "reason": Value::Null,
            "triggeredAt": iso(v.published_at),
            "completedAt": if status == "passed" { json!(iso(v.security_passes_at)) } else { Value::Null },
        },
        "createdBy": v.published_by,
        "createdAt": iso(v.published_at),
        "updatedAt": iso(v.updated_at),
    })
}

/// A draft as `AgentVersion` with `status: "draft"` (R045, R052). Config
/// fields are not echoed (VL1 pitfall 4).
pub fn draft(rec: &AgentRecord, d: &Draft) -> Value {
    json!({
        "_id": d.id,
        "agent": rec.agent.id,
        "status": "draft",
        "versionNumber": Value::Null,
        "label": Value::Null,
        "description": Value::Null,
        "isPinned": false,
        "publishedBy": Value::Null,
        "publishedAt": Value::Null,
        "activatedBy": Value::Null,
        "activatedAt": Value::Null,
        "draftId": d.draft_id,
        "draftName": d.name,
        "draftRevision": d.revision,
        "sourceVersionId": d.source_version_id,
        "sourceDraftId": d.source_draft_id,
        "blocks": blocks(&d.blocks),
        "workflowType": rec.agent.workflow_type,
        "parentVersion": d.base_version_id,
        "isActive": false,
        "createdBy": d.created_by,
        "createdAt": iso(d.created_at),
        "updatedAt": iso(d.updated_at),
    })
}
