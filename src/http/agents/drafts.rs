//! v1 drafts: `/agent/{id}/drafts…` (BEHAVIOR R045–R056, R063).
//! Unknown or foreign agents give 404 `Agent not found`; unknown drafts
//! 404 `Draft not found`. Either `draftId` or the draft's `_id` works in
//! paths (R047).

use crate::http::routes::{router, OpenApiRouter};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::render;
use super::requests::{ConfigPatch, CreateDraftRequest, PublishDraftRequest, RenameDraftRequest};
use super::versions::execute_rendering;
use crate::domain::config_diff;
use crate::domain::versioning::{AgentRecord, Command};
use crate::domain::DomainError;
use crate::http::calls::conversations::Pin;
use crate::http::calls::requests::TestCallRequest;
use crate::http::calls::test_calls::{start_test_call, TestCallKind};
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiQuery, OrgPath};
use crate::http::ids::AgentId;
use crate::http::render::{created, ok};
use crate::state::AppState;

/// The draft writes and the list: deprecated on the branch model (R075).
pub(crate) fn writes() -> OpenApiRouter<AppState> {
    router![(create_draft, list_drafts), (rename_draft, discard_draft), update_draft_config, publish_draft]
}

/// The by-id reads and the test call: kept on the branch model (R076).
pub(crate) fn reads() -> OpenApiRouter<AppState> {
    router![get_draft, get_draft_diff, draft_test_call]
}

fn not_found_draft() -> ApiError {
    ApiError::Rule(DomainError::NotFound("Draft not found".into()))
}

/// Fork a draft from a published version or another draft (R045–R047).
/// Empty body: 400 `Either sourceVersionId or sourceDraftId is required`.
/// A malformed `sourceVersionId` is 400; an unknown one 404. An agent
/// with 1000 open drafts: 400 `Draft limit reached: …` (a mock bound,
/// `domain::history_budget` AH5).
#[utoipa::path(post, path = "/agent/{id}/drafts", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id")), request_body = CreateDraftRequest,
    responses((status = 201, description = "AgentVersion with `status: draft`, `draftId`, `draftRevision`"),
              (status = 400, description = "No source / malformed id"), (status = 404, description = "Agent or source not found")))]
async fn create_draft(OrgPath(s, t, id): OrgPath<AgentId>, ApiJson(body): ApiJson<CreateDraftRequest>) -> Reply {
    let now = s.store.clock().now();
    let cmd = Command::CreateDraft {
        id: s.store.ids().object_id(now),
        draft_id: s.store.ids().object_id(now),
        source_version_id: body.source_version_id,
        source_draft_id: body.source_draft_id,
        name: body.draft_name,
    };
    let out = s.store.execute(&t, &id, &cmd, |r| r.drafts.last().map(|d| render::draft(r, d)))?;
    Ok(created(out.unwrap_or(Value::Null)))
}

/// List open (non-discarded, unpublished) drafts, each with
/// `lastEditorName` (R048).
#[utoipa::path(get, path = "/agent/{id}/drafts", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id")),
    responses((status = 200, description = "Array of AgentVersion"), (status = 404, description = "Agent not found")))]
async fn list_drafts(OrgPath(s, t, id): OrgPath<AgentId>) -> Reply {
    Ok(ok(s.store.read_agent(&t, &id, render::open_drafts)?))
}

/// Query of `GET …/drafts/{draftId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DraftDetailQuery {
    /// Edit-history entries to return, 1–100 (default 20).
    limit: Option<i64>,
}

impl DraftDetailQuery {
    /// The history length asked for: 400 `limit: Number must be between 1
    /// and 100` outside 1–100.
    fn limit(&self) -> Result<usize, DomainError> {
        let limit = self.limit.unwrap_or(20);
        match usize::try_from(limit) {
            Ok(n @ 1..=100) => Ok(n),
            _ => Err(DomainError::invalid("limit: Number must be between 1 and 100")),
        }
    }
}

/// Draft detail: `{latest, editHistory, editCount}` (R049), newest edit
/// first.
#[utoipa::path(get, path = "/agent/{id}/drafts/{draftId}", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id"), ("draftId" = String, Path, description = "draftId or _id"), DraftDetailQuery),
    responses((status = 200, description = "`{latest, editHistory, editCount}`"), (status = 404, description = "Agent or draft not found")))]
async fn get_draft(
    OrgPath(s, t, (id, draft)): OrgPath<(AgentId, String)>,
    ApiQuery(q): ApiQuery<DraftDetailQuery>,
) -> Reply {
    let limit = q.limit()?;
    let out = s.store.read_agent(&t, &id, |r| r.draft(&draft).map(|d| render::draft_detail(r, d, limit)))?;
    Ok(ok(out.ok_or_else(not_found_draft)?))
}

/// Rename a draft: `{draftName}` 1–100 (R050). Config is untouched.
#[utoipa::path(patch, path = "/agent/{id}/drafts/{draftId}", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id"), ("draftId" = String, Path, description = "draftId or _id")),
    request_body = RenameDraftRequest,
    responses((status = 200, description = "`{draftName}`"), (status = 400, description = "Missing or too long"), (status = 404, description = "Not found")))]
async fn rename_draft(
    OrgPath(s, t, (id, draft)): OrgPath<(AgentId, String)>,
    ApiJson(body): ApiJson<RenameDraftRequest>,
) -> Reply {
    let name = body.draft_name;
    s.store.execute(&t, &id, &Command::RenameDraft { draft, name: name.clone() }, |_| ())?;
    Ok(ok(json!({"draftName": name})))
}

/// Discard a draft (soft delete): 200 with `data: null` (R051).
#[utoipa::path(delete, path = "/agent/{id}/drafts/{draftId}", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id"), ("draftId" = String, Path, description = "draftId or _id")),
    responses((status = 200, description = "`data: null`"), (status = 403, description = "Not the creator, or a workflow_graph agent without conversational-agents access"), (status = 404, description = "Not found")))]
async fn discard_draft(OrgPath(s, t, (id, draft)): OrgPath<(AgentId, String)>) -> Reply {
    s.store.execute(&t, &id, &Command::DiscardDraft { draft }, |_| ())?;
    Ok(ok(Value::Null))
}

/// Edit a draft's config with any subset of config fields (R052, R053).
/// Every field is validated at its bounds first; the first violation
/// gives 400 `<path>: <problem>` and the draft is unchanged. Objects are
/// merged key by key. The response is the draft (new `draftRevision` and
/// block ids) without the patched fields (VL1 pitfall 4). A body with no
/// config field (e.g. only `name`) gives 400 `No recognized config fields`.
#[utoipa::path(patch, path = "/agent/{id}/drafts/{draftId}/config", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id"), ("draftId" = String, Path, description = "draftId or _id")),
    request_body = ConfigPatch,
    responses((status = 200, description = "AgentVersion (draft)"), (status = 400, description = "Invalid field"), (status = 404, description = "Not found")))]
async fn update_draft_config(
    OrgPath(s, t, (id, draft)): OrgPath<(AgentId, String)>,
    ApiJson(ConfigPatch(patch)): ApiJson<ConfigPatch>,
) -> Reply {
    let key = draft.clone();
    let out = s.store.execute(&t, &id, &Command::PatchDraftConfig { draft, patch }, |r| {
        r.open_draft(&key).map(|d| render::draft(r, d))
    })?;
    Ok(ok(out.unwrap_or(Value::Null)))
}

/// Query of the draft diff (L-C1: `compareTo`, alias `versionId`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct DraftDiffQuery {
    /// Version to compare against (default: the draft's source version).
    compare_to: Option<String>,
    /// Alias of `compareTo` used by the v1 guides.
    version_id: Option<String>,
}

impl DraftDiffQuery {
    /// The version to compare against, if one was named: 400 `compareTo:
    /// Invalid ObjectId (expected 24 hex characters)` when malformed.
    fn compare(self) -> Result<Option<String>, DomainError> {
        match self.compare_to.or(self.version_id) {
            Some(c) if !crate::domain::ids::is_object_id(&c) => {
                Err(DomainError::invalid("compareTo: Invalid ObjectId (expected 24 hex characters)"))
            }
            other => Ok(other),
        }
    }
}

/// The diff of draft `draft` against `compare` (default: its source
/// version): 404 `Draft not found` / `Version not found`.
fn draft_diff(r: &AgentRecord, draft: &str, compare: Option<&str>) -> Result<Value, ApiError> {
    let d = r.draft(draft).ok_or_else(not_found_draft)?;
    let base = r
        .version(compare.unwrap_or(&d.base_version_id))
        .ok_or_else(|| ApiError::Rule(DomainError::NotFound("Version not found".into())))?;
    Ok(config_diff::v1_diff(&base.config, &d.config))
}

/// Draft diff against its source version or `compareTo`, in both shapes
/// (LIVE V4): the live `{diffs: [{section, changes: [{path, oldValue,
/// newValue}]}], unchangedSections}` and the spec's `{sections: {section:
/// {before, after, changed, changes?}}, hasChanges}` (R054). Values equal
/// to their defaults make no entry (LIVE C1).
#[utoipa::path(get, path = "/agent/{id}/drafts/{draftId}/diff", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id"), ("draftId" = String, Path, description = "draftId or _id"), DraftDiffQuery),
    responses((status = 200, description = "`{diffs, unchangedSections, sections, hasChanges}`"), (status = 400, description = "Malformed compareTo"), (status = 404, description = "Not found")))]
async fn get_draft_diff(
    OrgPath(s, t, (id, draft)): OrgPath<(AgentId, String)>,
    ApiQuery(q): ApiQuery<DraftDiffQuery>,
) -> Reply {
    let compare = q.compare()?;
    Ok(ok(s.store.read_agent(&t, &id, |r| draft_diff(r, &draft, compare.as_deref()))??))
}

/// Publish a draft as the next version (R055). Never activates, even with
/// `activate: true` (R056, VL1 pitfall 1); the security check passes
/// `--security-check-secs` later on the clock (R057).
#[utoipa::path(post, path = "/agent/{id}/drafts/{draftId}/publish", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id"), ("draftId" = String, Path, description = "draftId or _id")),
    request_body = PublishDraftRequest,
    responses((status = 201, description = "AgentVersion, `status: published`, `isActive: false`"), (status = 404, description = "Not found")))]
async fn publish_draft(
    OrgPath(s, t, (id, draft)): OrgPath<(AgentId, String)>,
    ApiJson(body): ApiJson<PublishDraftRequest>,
) -> Reply {
    let now = s.store.clock().now();
    let version_id = s.store.ids().object_id(now);
    let cmd = Command::PublishDraft {
        draft,
        version_id: version_id.clone(),
        label: body.label,
        description: body.description,
        activate: body.activate.unwrap_or(false),
    };
    Ok(created(execute_rendering(&s, &t, &id, &cmd, &version_id)?))
}

/// Start a test call with the draft's config (R063): `{callId}`.
#[utoipa::path(post, path = "/agent/{id}/drafts/{draftId}/test-call", tag = "Agent Versioning - Drafts",
    params(("id" = AgentId, Path, description = "Agent id"), ("draftId" = String, Path, description = "draftId or _id")),
    request_body = TestCallRequest,
    responses((status = 200, description = "`{callId}`"), (status = 400, description = "Bad mode / toPhone"), (status = 404, description = "Not found")))]
async fn draft_test_call(
    OrgPath(s, t, (id, draft)): OrgPath<(AgentId, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TestCallRequest>,
) -> Reply {
    s.store.read_agent(&t, &id, |r| r.draft(&draft).map(|_| ()))?.ok_or_else(not_found_draft)?;
    let call = start_test_call(&s, &t, &headers, &body, &id, Pin::Draft(draft), TestCallKind::Draft)?;
    Ok(ok(call))
}
