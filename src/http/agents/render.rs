//! Wire shapes of the agent area: the platform's `AgentDTO`, the `GET
//! /agent` list, `AgentVersion` for versions and drafts, and the legacy
//! workflow read, rendered from the domain record (R026, R029, R041,
//! R055–R067). v2 shapes are in `render_v2`.

use serde_json::{json, Map, Value};

use crate::call::variables::STANDARD_KEYS;
use crate::domain::config::{self, Config};
use crate::domain::page::Page;
use crate::domain::prompt_score;
use crate::domain::time::{iso, opt_iso};
use crate::domain::versioning::Blocks;
use crate::domain::versioning::{AgentRecord, Draft, Version};
use crate::domain::Millis;
use crate::http::render::JsonObject;

/// Block ids in the platform's section order (R067).
pub(crate) fn blocks(b: &Blocks) -> Value {
    config::SECTIONS
        .iter()
        .filter_map(|s| b.get(s).map(|id| ((*s).to_string(), Value::String(id))))
        .collect::<Map<_, _>>()
        .into()
}

/// Where `_resolvedConfig` comes from on `GET /agent/{id}` (R028).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ConfigSource<'a> {
    /// The active version; `_configSource` is omitted.
    Active,
    /// `?draftId=`.
    Draft(&'a Draft),
    /// `?versionId=`.
    Version(&'a Version),
}

/// The cached prompt score of the version, v1 draft or branch draft `id`
/// whose config is `config`, as `(promptScore, promptScoreStale)`: the
/// spec's `#PromptScore` plus `scoredAt` (ISO 8601) from the last `POST
/// /prompt-scoring/score`, or `null` before one; stale when the prompt,
/// tools or variables changed since (spec, Prompt Scoring: "retrieve the
/// existing score via GET agent").
pub(crate) fn prompt_score(rec: &AgentRecord, id: &str, config: &Config) -> (Value, bool) {
    prompt_score::cached_fields(rec.prompt_scores.get(id), config, &STANDARD_KEYS)
}

/// `AgentDTO` (R026, R029) as JSON bytes. List items (`detail == None`)
/// carry no `_resolvedConfig`; single reads do, with the resolved
/// config's cached `promptScore`/`promptScoreStale` ([`prompt_score`];
/// `null`/`false` when it was never scored or there is no active version).
/// The active config's
/// serialized forms are computed once per published version and spliced
/// in, which keeps `GET /agent` fast.
pub(crate) fn agent_json(rec: &AgentRecord, detail: Option<ConfigSource<'_>>) -> Vec<u8> {
    write_agent(rec, detail, JsonObject::with_capacity).finish()
}

/// `{"status":true,"data":<AgentDTO>}`: [`agent_json`] written straight
/// into the success envelope (no copy of the object into a second buffer),
/// for [`crate::http::render::ok_enveloped`].
pub(crate) fn agent_enveloped(rec: &AgentRecord, detail: Option<ConfigSource<'_>>) -> Vec<u8> {
    write_agent(rec, detail, JsonObject::enveloped).finish_enveloped()
}

/// Writes [`agent_json`]'s object into the `JsonObject` that `open` makes
/// with room for the whole of it.
fn write_agent(rec: &AgentRecord, detail: Option<ConfigSource<'_>>, open: fn(usize) -> JsonObject) -> JsonObject {
    let a = &rec.agent;
    let active = rec.active().map(|v| v.config.json());
    let active = active.unwrap_or_else(|| std::sync::Arc::new(config::to_json_parts(&config::defaults())));
    let detail = detail.map(|src| {
        let (parts, label) = match src {
            ConfigSource::Active => (std::sync::Arc::clone(&active), None),
            ConfigSource::Draft(d) => (std::sync::Arc::new(config::to_json_parts(&d.config)), Some("draft")),
            ConfigSource::Version(v) => (v.config.json(), Some("version")),
        };
        (src, parts, label)
    });
    let spliced = detail.as_ref().map_or(0, |(_, parts, _)| parts.resolved.len() + parts.versioned.len());
    let mut o = open(active.fields.len() + spliced + 1024);
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
        o.field("phoneNumber", &a.phone_number);
    }
    if let Some(url) = &a.avatar_url {
        o.field("avatarUrl", url);
    }
    if let Some((src, parts, label)) = detail {
        o.raw("_resolvedConfig", &parts.resolved);
        o.raw("_versionedWorkflow", &parts.versioned);
        if let Some(l) = label {
            o.field("_configSource", l);
        }
        let (score, stale) = match src {
            ConfigSource::Active => rec.active().map_or((Value::Null, false), |v| prompt_score(rec, &v.id, &v.config)),
            ConfigSource::Draft(d) => prompt_score(rec, &d.id, &d.config),
            ConfigSource::Version(v) => prompt_score(rec, &v.id, &v.config),
        };
        o.field("promptScore", &score);
        o.field("promptScoreStale", &stale);
    }
    o
}

/// A published version as `AgentVersion` (R055–R067), with its
/// `securityCheck` as of `now` and its cached `promptScore` /
/// `promptScoreStale` ([`prompt_score`]).
pub(crate) fn version(rec: &AgentRecord, v: &Version, now: Millis) -> Value {
    let status = v.security_status(now);
    let (score, stale) = prompt_score(rec, &v.id, &v.config);
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
        "promptScore": score,
        "promptScoreStale": stale,
        "createdBy": v.published_by,
        "createdAt": iso(v.published_at),
        "updatedAt": iso(v.updated_at),
    })
}

/// A draft as `AgentVersion` with `status: "draft"` (R045, R052). Config
/// fields are not echoed (VL1 pitfall 4); its cached `promptScore` /
/// `promptScoreStale` are ([`prompt_score`]).
pub(crate) fn draft(rec: &AgentRecord, d: &Draft) -> Value {
    let (score, stale) = prompt_score(rec, &d.id, &d.config);
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
        "promptScore": score,
        "promptScoreStale": stale,
        "createdBy": d.created_by,
        "createdAt": iso(d.created_at),
        "updatedAt": iso(d.updated_at),
    })
}

/// `GET /agent`'s `data` (LIVE list table): `{agents: [AgentDTO],
/// hasMore, isSearchResults, totalCount, totalPages}`, spliced from the
/// agents' bytes.
pub(crate) fn agent_list(agents: &[Vec<u8>], total: usize, page: Page, searching: bool) -> Vec<u8> {
    let mut list = Vec::with_capacity(agents.iter().map(Vec::len).sum::<usize>() + 128);
    list.extend_from_slice(b"{\"agents\":[");
    for (i, a) in agents.iter().enumerate() {
        if i > 0 {
            list.push(b',');
        }
        list.extend_from_slice(a);
    }
    let (more, pages) = (page.has_more(total), page.total_pages(total));
    let tail =
        format!("],\"hasMore\":{more},\"isSearchResults\":{searching},\"totalCount\":{total},\"totalPages\":{pages}}}");
    list.extend_from_slice(tail.as_bytes());
    list
}

/// The legacy workflow read (R041): a `workflow_graph` agent's graph as
/// `{type, data}`, else the active version's `{prompt, tools}`.
pub(crate) fn workflow(rec: &AgentRecord) -> Value {
    let cfg = rec.active().map(|v| v.config.clone()).unwrap_or_default();
    match cfg.get("workflowGraph") {
        Some(g) if rec.agent.workflow_type == "workflow_graph" => json!({"type": "workflow_graph", "data": g}),
        _ => config::versioned_workflow(&cfg),
    }
}

/// Display name of the API-key user in `lastEditorName` and friends.
pub(crate) const EDITOR_NAME: &str = "API key";

/// `GET /agent/{id}/drafts`: the open drafts, each with `lastEditorName`
/// (R048).
pub(crate) fn open_drafts(rec: &AgentRecord) -> Value {
    let list: Vec<Value> = rec
        .drafts
        .iter()
        .filter(|d| d.is_open())
        .map(|d| {
            let mut v = draft(rec, d);
            v["lastEditorName"] = json!(EDITOR_NAME);
            v
        })
        .collect();
    Value::Array(list)
}

/// `DraftDetail` of a v1 draft (R049): `{latest, editHistory (newest
/// first, at most `limit`), editCount}`.
pub(crate) fn draft_detail(rec: &AgentRecord, d: &Draft, limit: usize) -> Value {
    let history: Vec<Value> = d
        .history
        .iter()
        .rev()
        .take(limit)
        .map(|e| {
            json!({
                "revision": e.revision, "changedSections": e.changed_sections,
                "editorName": EDITOR_NAME, "editorId": d.created_by, "timestamp": iso(e.at),
            })
        })
        .collect();
    json!({"latest": draft(rec, d), "editHistory": history, "editCount": d.edit_count()})
}

/// `GET /agent/{id}/versions` (R059): the page of committed versions,
/// newest first, filtered by pin state, each with `publishedByName` and
/// `activatedByName`; `total` counts every committed version.
pub(crate) fn version_list(rec: &AgentRecord, page: Page, pinned: Option<bool>, now: Millis) -> Value {
    let committed = || rec.versions.iter().rev().filter(|v| v.is_committed());
    let list: Vec<Value> = page
        .of(committed().filter(|v| pinned.is_none_or(|p| v.is_pinned == p)))
        .map(|v| {
            let mut x = version(rec, v, now);
            x["publishedByName"] = json!(EDITOR_NAME);
            x["activatedByName"] = if v.activated_by.is_some() { json!(EDITOR_NAME) } else { Value::Null };
            x
        })
        .collect();
    json!({"versions": list, "total": committed().count()})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ClockMode};
    use crate::store::Store;

    /// The enveloped render of `GET /agent/{id}` is byte for byte what
    /// `ok_raw` made of `agent_json`: for an agent on the shared defaults,
    /// one with its own config, and each config source.
    #[tokio::test]
    async fn the_enveloped_agent_is_the_envelope_of_agent_json() {
        let store = Store::new(Clock::new(ClockMode::Virtual), Some(1), 6000);
        let t = store.tenant("sk_render");
        for body in [json!({"name": "Shared"}), json!({"name": "Own", "firstMessage": "Hi \"there\""})] {
            let id = store.create_agent_from_body(&t, body.as_object().expect("object")).expect("created");
            let (plain, enveloped) = store
                .read_agent(&t, &id, |r| {
                    let version = r.active().expect("active");
                    [None, Some(ConfigSource::Active), Some(ConfigSource::Version(version))]
                        .map(|src| (agent_json(r, src), agent_enveloped(r, src)))
                })
                .expect("stored")
                .into_iter()
                .unzip::<_, _, Vec<_>, Vec<_>>();
            for (plain, enveloped) in plain.iter().zip(&enveloped) {
                let res = crate::http::render::ok_raw(plain);
                let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
                assert_eq!(std::str::from_utf8(&body), std::str::from_utf8(enveloped));
                let v: Value = serde_json::from_slice(enveloped).expect("valid JSON");
                assert_eq!(v["data"]["_id"], json!(id));
            }
        }
    }
}
