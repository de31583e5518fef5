//! Wire shapes: the platform's `AgentDTO` and `AgentVersion` rendered from
//! domain records, and the success envelope `{"status": true, "data": …}`
//! (BEHAVIOR R004).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::config;
use crate::domain::time::{iso, opt_iso};
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

/// Block ids in the platform's section order (R067).
pub(crate) fn blocks(b: &Blocks) -> Value {
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

/// A JSON object written straight into bytes, so cached fragments can be
/// spliced in without building a `Value` tree.
pub struct JsonObject {
    buf: Vec<u8>,
    empty: bool,
}

impl JsonObject {
    /// An empty object with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.push(b'{');
        Self { buf, empty: true }
    }

    fn key(&mut self, k: &str) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        // Keys are ASCII identifiers chosen by this crate: no escaping needed.
        self.buf.push(b'"');
        self.buf.extend_from_slice(k.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// Adds `"k": v`.
    pub fn field<T: serde::Serialize + ?Sized>(&mut self, k: &str, v: &T) {
        self.key(k);
        if serde_json::to_writer(&mut self.buf, v).is_err() {
            self.buf.extend_from_slice(b"null");
        }
    }

    /// Adds `"k": <raw JSON>`.
    pub fn raw(&mut self, k: &str, json: &str) {
        self.key(k);
        self.buf.extend_from_slice(json.as_bytes());
    }

    /// Adds already-serialized `"a":1,"b":2` pairs.
    pub fn pairs(&mut self, pairs: &str) {
        if pairs.is_empty() {
            return;
        }
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        self.buf.extend_from_slice(pairs.as_bytes());
    }

    /// The finished object.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(b'}');
        self.buf
    }
}

/// `200 {"status": true, "data": <raw JSON>}` without re-parsing `data`.
pub fn ok_raw(data: &[u8]) -> Response {
    let mut body = Vec::with_capacity(data.len() + 24);
    body.extend_from_slice(b"{\"status\":true,\"data\":");
    body.extend_from_slice(data);
    body.push(b'}');
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `AgentDTO` (R026, R029) as JSON bytes. List items (`detail == None`)
/// carry no `_resolvedConfig`; single reads do. The active config's
/// serialized forms are computed once per published version and spliced
/// in, which keeps `GET /agent` fast.
pub fn agent_json(rec: &AgentRecord, detail: Option<ConfigSource<'_>>) -> Vec<u8> {
    let a = &rec.agent;
    let active = rec.active().map(|v| v.json.get(&v.config));
    let active = active.unwrap_or_else(|| std::sync::Arc::new(config::to_json_parts(&config::defaults())));
    let mut o = JsonObject::with_capacity(active.fields.len() + 1024);
    o.field("_id", &a.id);
    o.field("name", &a.name);
    o.field("description", &a.description);
    o.field("organization", &a.organization);
    o.field("workflowId", &a.workflow_id);
    o.pairs(&active.fields);
    o.field("workflowType", &a.workflow_type);
    o.field("createdBy", &a.created_by);
    o.field("createdAt", &iso(a.created_at));
    o.field("updatedAt", &iso(a.updated_at));
    o.field("totalCalls", &a.total_calls);
    o.field("archived", &a.archived);
    if let Some(at) = a.archived_at {
        // Absent until archived: the spec types it as a date-time string.
        o.field("archivedAt", &iso(at));
    }
    o.field("activeVersionId", &a.active_version_id);
    o.field("versionId", &a.active_version_id);
    o.field("allowInboundCall", &a.allow_inbound_call);
    o.field("visibleToEveryone", &a.visible_to_everyone);
    o.field("telephonyProductId", &a.telephony_product_id);
    if !a.telephony_product_id.is_empty() {
        // R029: present only when numbers are linked (LIVE K1's caller ID).
        let numbers: Vec<String> =
            a.telephony_product_id.iter().map(|p| crate::calls::caller_id::product_number(p)).collect();
        o.field("phoneNumber", &numbers);
    }
    if let Some(url) = &a.avatar_url {
        o.field("avatarUrl", url);
    }
    if let Some(src) = detail {
        let (parts, label) = match src {
            ConfigSource::Active => (active, None),
            ConfigSource::Draft(d) => (std::sync::Arc::new(config::to_json_parts(&d.config)), Some("draft")),
            ConfigSource::Version(v) => (v.json.get(&v.config), Some("version")),
        };
        o.raw("_resolvedConfig", &parts.resolved);
        o.raw("_versionedWorkflow", &parts.versioned);
        if let Some(l) = label {
            o.field("_configSource", l);
        }
    }
    o.finish()
}

/// `AgentDTO` as a `Value`, for responses that nest the agent.
pub fn agent(rec: &AgentRecord, detail: Option<ConfigSource<'_>>) -> Value {
    serde_json::from_slice(&agent_json(rec, detail)).unwrap_or(Value::Null)
}

/// A published version as `AgentVersion` (R055–R067), with its
/// `securityCheck` as of `now`.
pub fn version(rec: &AgentRecord, v: &Version, now: Millis) -> Value {
    let status = v.security_status(now);
    json!({
        "_id": v.id,
        "agent": rec.agent.id,
        "status": if v.is_committed() { "published" } else { "draft" },
        "versionNumber": if v.legacy_number { json!(v.number) } else { Value::Null },
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
