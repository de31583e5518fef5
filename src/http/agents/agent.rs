//! `/agent` and `/agent/{id}`: create, list, get, metadata PATCH, archive,
//! duplicate and the legacy workflow routes (BEHAVIOR §B, R019–R044).

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::Path;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::render::{self, ConfigSource};
use super::requests::{CreateAgentRequest, DuplicateAgentRequest, UpdateAgentRequest};
use crate::calls::render as call_render;
use crate::domain::page::Page;
use crate::domain::versioning::AgentRecord;
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiQuery, Org, OrgPath, OrgState};
use crate::http::ids::AgentId;
use crate::http::render::{created, created_id, ok, ok_enveloped, ok_raw};
use crate::state::AppState;
use crate::store::AgentQuery;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        (create_agent, list_agents),
        (get_agent, update_agent),
        (archive_agent, archive_agent_patch),
        duplicate_agent,
        get_agent_workflow,
        update_workflow,
        get_agent_call_logs
    ]
}

/// Create an agent (R019–R024). Returns 201 with the bare 24-hex id as
/// `data`. `language` without `switching` gives 400 `Invalid Input:
/// Required` (R020); fields out of bounds give 400 naming the field; a
/// gated model or workflow type 403 (R022).
#[utoipa::path(post, path = "/agent", tag = "Agents", request_body = CreateAgentRequest,
    responses((status = 201, description = "`data` is the new agent id"),
              (status = 400, description = "Invalid input"), (status = 401, description = "Unauthorized"),
              (status = 403, description = "Gated model or workflow type")))]
async fn create_agent(OrgState(s, t): OrgState, ApiJson(body): ApiJson<CreateAgentRequest>) -> Reply {
    let id = s.store.add_agent(&t, body.0)?;
    Ok(created_id(&id))
}

/// Query of `GET /agent` (R025).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct ListAgentsQuery {
    /// Page number, from 1 (default 1).
    page: Option<usize>,
    /// Page size (default 10, at most 1000); the spec's name for it.
    offset: Option<usize>,
    /// Page size, as live clients send it (LIVE list table); wins over
    /// `offset` when both are sent.
    limit: Option<usize>,
    /// Substring of the name; makes `isSearchResults` true.
    search: Option<String>,
    /// `single_prompt` or `workflow_graph`.
    #[serde(rename = "type")]
    r#type: Option<String>,
    /// `createdAt` (default), `updatedAt`, `totalCalls`, `name`, `workflowType`.
    sort_field: Option<String>,
    /// `asc` or `desc` (default).
    sort_order: Option<String>,
    /// `true` lists only archived agents (default false).
    archived: Option<bool>,
}

fn one_of(name: &str, v: Option<&str>, allowed: &[&str]) -> Result<(), DomainError> {
    match v {
        Some(x) if !allowed.contains(&x) => Err(DomainError::invalid_enum(name, allowed, x)),
        _ => Ok(()),
    }
}

impl ListAgentsQuery {
    /// The store's query, with the defaults filled in.
    fn into_query(self) -> Result<AgentQuery, DomainError> {
        one_of("type", self.r#type.as_deref(), &["single_prompt", "workflow_graph"])?;
        let fields = ["createdAt", "updatedAt", "totalCalls", "name", "workflowType"];
        one_of("sortField", self.sort_field.as_deref(), &fields)?;
        one_of("sortOrder", self.sort_order.as_deref(), &["asc", "desc"])?;
        Ok(AgentQuery {
            page: self.page.unwrap_or(1).max(1),
            offset: self.limit.or(self.offset).unwrap_or(10).clamp(1, 1000),
            search: self.search.filter(|x| !x.is_empty()),
            workflow_type: self.r#type,
            sort_field: self.sort_field.unwrap_or_else(|| "createdAt".into()),
            ascending: self.sort_order.as_deref() == Some("asc"),
            archived: self.archived.unwrap_or(false),
        })
    }
}

/// List agents with pagination and filters (R025). `data` is the live
/// shape, exactly `{agents: [AgentDTO], hasMore, isSearchResults,
/// totalCount, totalPages}` (LIVE list table; not the spec example's
/// `{agents, total}`): `totalCount` counts every match, `totalPages` is
/// `ceil(totalCount / page size)` (0 when nothing matches), `hasMore` says
/// a later page exists, `isSearchResults` is true when `search` was sent.
/// List items carry no `_resolvedConfig`.
#[utoipa::path(get, path = "/agent", tag = "Agents", params(ListAgentsQuery),
    responses((status = 200, description = "`{agents: [AgentDTO], hasMore, isSearchResults, totalCount, totalPages}`"),
              (status = 400, description = "Bad query")))]
async fn list_agents(OrgState(s, t): OrgState, ApiQuery(q): ApiQuery<ListAgentsQuery>) -> Reply {
    let query = q.into_query()?;
    let (agents, total) = s.store.list_agents(&t, &query, |r| render::agent_json(r, None));
    let page = Page::numbered(query.page, query.offset);
    Ok(ok_raw(&render::agent_list(&agents, total, page, query.search.is_some())))
}

/// Query of `GET /agent/{id}` (R028).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct GetAgentQuery {
    /// Resolve `_resolvedConfig` from this draft (`_configSource: "draft"`).
    draft_id: Option<String>,
    /// Resolve from this published version (`_configSource: "version"`).
    version_id: Option<String>,
}

impl GetAgentQuery {
    /// Where `_resolvedConfig` comes from: 400 `Draft not found` /
    /// `Version not found` for an unknown id (the operation documents no
    /// 404).
    fn source<'a>(&self, rec: &'a AgentRecord) -> Result<ConfigSource<'a>, ApiError> {
        let missing = |what: &str| ApiError::BadRequest(format!("{what} not found"));
        Ok(match (&self.draft_id, &self.version_id) {
            (Some(d), _) => ConfigSource::Draft(rec.draft(d).ok_or_else(|| missing("Draft"))?),
            (None, Some(v)) => ConfigSource::Version(rec.version(v).ok_or_else(|| missing("Version"))?),
            (None, None) => ConfigSource::Active,
        })
    }
}

/// R027: an unknown or foreign agent on `GET /agent/{id}` is 400 `No agent
/// found`.
fn no_agent_found(e: DomainError) -> ApiError {
    match e {
        DomainError::NotFound(_) => ApiError::BadRequest("No agent found".into()),
        other => other.into(),
    }
}

/// Get an agent with `_resolvedConfig` (R026–R028). Unknown or foreign ids
/// give 400 `No agent found`; malformed ids give 400 `Invalid agent id`.
/// An unknown `draftId`/`versionId` gives 400 `Draft not found` /
/// `Version not found` (the operation documents no 404).
#[utoipa::path(get, path = "/agent/{id}", tag = "Agents", params(("id" = AgentId, Path, description = "Agent id"), GetAgentQuery),
    responses((status = 200, description = "AgentDTO"), (status = 400, description = "No agent found / Invalid agent id")))]
async fn get_agent(OrgPath(s, t, id): OrgPath<AgentId>, ApiQuery(q): ApiQuery<GetAgentQuery>) -> Reply {
    let body = s.store.read_agent(&t, &id, |r| Ok::<_, ApiError>(render::agent_enveloped(r, Some(q.source(r)?))));
    Ok(ok_enveloped(body.map_err(no_agent_found)??))
}

/// Update agent metadata (R030–R032): only `name`, `description`,
/// `avatarUrl`, `telephonyProductId`, `allowInboundCall`,
/// `visibleToEveryone`. Any config field gives 400 `Agent has versioning
/// enabled. Config changes must be made through drafts.` and changes
/// nothing. Unknown agent: 404 `Agent not found`.
#[utoipa::path(patch, path = "/agent/{id}", tag = "Agents", params(("id" = AgentId, Path, description = "Agent id")),
    request_body = UpdateAgentRequest,
    responses((status = 200, description = "`data` is the agent id"), (status = 400, description = "Config field or bad value"),
              (status = 404, description = "Agent not found")))]
async fn update_agent(OrgPath(s, t, id): OrgPath<AgentId>, ApiJson(body): ApiJson<UpdateAgentRequest>) -> Reply {
    s.store.update_agent(&t, &id, body.0)?;
    Ok(ok(json!(id.into_string())))
}

/// Query of the archive routes (R034).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ArchiveQuery {
    /// `true` (default) archives, `false` unarchives.
    on: Option<bool>,
}

/// Archive (or with `?on=false` unarchive) an agent (R034, R035). 409
/// `Agent is already archived` / `Agent is already active`, or `Agent is
/// associated with the <status> campaign "<name>". …` while a draft,
/// scheduled, processing, running or paused campaign uses it.
#[utoipa::path(delete, path = "/agent/{id}/archive", tag = "Agents", params(("id" = AgentId, Path, description = "Agent id"), ArchiveQuery),
    responses((status = 200, description = "`{message: \"Agent archived\" | \"Agent unarchived\"}`"),
              (status = 404, description = "Agent not found"), (status = 409, description = "Already in that state")))]
async fn archive_agent(OrgPath(s, t, id): OrgPath<AgentId>, ApiQuery(q): ApiQuery<ArchiveQuery>) -> Reply {
    let on = q.on.unwrap_or(true);
    s.store.set_archived(&t, &id, on)?;
    let message = if on { "Agent archived" } else { "Agent unarchived" };
    Ok(ok(json!({"message": message})))
}

/// `PATCH /agent/{id}/archive`: alias of the DELETE form (L-B1).
#[utoipa::path(patch, path = "/agent/{id}/archive", tag = "Agents", params(("id" = AgentId, Path, description = "Agent id"), ArchiveQuery),
    responses((status = 200, description = "As DELETE"), (status = 409, description = "Already in that state")))]
async fn archive_agent_patch(target: OrgPath<AgentId>, query: ApiQuery<ArchiveQuery>) -> Reply {
    archive_agent(target, query).await
}

/// Duplicate an agent's active version into an organization (R037, R038;
/// the rules are `domain::agent::duplicate`). The mock knows one
/// organization per key, so any other `targetOrganizationId` gives 403
/// (caller is not a member). A malformed or unknown agent id: 404 `Agent
/// not found`.
#[utoipa::path(post, path = "/agent/{id}/duplicate", tag = "Agents", params(("id" = String, Path, description = "Agent id")),
    request_body = DuplicateAgentRequest,
    responses((status = 201, description = "`{_id}` of the copy"), (status = 400, description = "Archived / not single_prompt"),
              (status = 403, description = "Not a member of the target organization"), (status = 404, description = "Agent or target organization not found")))]
async fn duplicate_agent(OrgPath(s, t, id): OrgPath<String>, ApiJson(body): ApiJson<DuplicateAgentRequest>) -> Reply {
    let new_id = s.store.duplicate_agent(&t, &id, &body.target_organization_id)?;
    Ok(created(json!({"_id": new_id})))
}

/// Legacy read of the active version's `{prompt, tools}` (R041). A
/// `versionId` query parameter is ignored. Unknown or malformed agent id:
/// 404 `Agent not found`.
#[utoipa::path(get, path = "/agent/{id}/workflow", tag = "Agents", params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, description = "`{prompt, tools}` or graph data"), (status = 404, description = "Agent not found")))]
async fn get_agent_workflow(OrgPath(s, t, id): OrgPath<String>) -> Reply {
    Ok(ok(s.store.read_agent(&t, &id, render::workflow)?))
}

/// Legacy `PATCH /workflow/{id}`: rejected with 400 on versioned agents, as
/// the newer deprecation notice says (R042, L-B2; chosen over the older
/// spec text that says it still writes).
#[utoipa::path(patch, path = "/workflow/{id}", tag = "Agents", params(("id" = String, Path, description = "Workflow id")),
    request_body(content = Object, description = "Ignored"),
    responses((status = 400, description = "Direct workflow edits are rejected")))]
async fn update_workflow(Org(_t): Org, Path(_id): Path<String>) -> ApiError {
    ApiError::BadRequest(
        "Direct workflow edits are not supported on versioned agents. Edit a draft with PATCH /agent/{id}/drafts/{draftId}/config, then publish and activate it.".into(),
    )
}

/// Query of `GET /agent/{id}/call-logs`. Both values are read leniently,
/// as the platform's handler does with `parseInt(x) || default`: anything
/// that is not a positive whole number counts as the default.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallLogsQuery {
    /// Page, from 1 (default 1).
    page: Option<String>,
    /// Page size (default 10, at most 500).
    offset: Option<String>,
}

impl CallLogsQuery {
    /// The page number and size asked for.
    fn numbers(&self) -> (usize, usize) {
        (lenient_count(self.page.as_deref(), 1), lenient_count(self.offset.as_deref(), 10).min(500))
    }
}

/// A positive whole number from the leading digits of `v`, else `default`.
fn lenient_count(v: Option<&str>, default: usize) -> usize {
    let digits: String = v.unwrap_or_default().trim().chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<usize>() {
        Ok(0) => default,
        Ok(n) => n,
        Err(_) if !digits.is_empty() => usize::MAX,
        Err(_) => default,
    }
}

/// Paginated call logs of one agent (R039), newest first, in the
/// `success` envelope (R008): `{callLogs: [{callId, callStatus, callType,
/// fromNumber, toNumber, createdAt, callDuration}], totalCount, page,
/// offset}`. `callDuration` is in **milliseconds** (L-E6); `offset` is
/// the page size (default 10, at most 500); retries are included. The
/// spec documents only 200 here: the logs are filtered by agent id, so an
/// unknown, foreign or malformed id matches nothing and answers an empty
/// page, and bad `page`/`offset` values count as their defaults.
#[utoipa::path(get, path = "/agent/{id}/call-logs", tag = "Agents", params(("id" = String, Path, description = "Agent id"), CallLogsQuery),
    responses((status = 200, description = "`{success: true, data: {callLogs, totalCount, page, offset}}`")))]
async fn get_agent_call_logs(Org(t): Org, Path(id): Path<String>, ApiQuery(q): ApiQuery<CallLogsQuery>) -> Reply {
    let (number, size) = q.numbers();
    let calls = t.calls().list(|c| c.agent_id == id);
    let rows: Vec<Value> =
        Page::numbered(number, size).of(calls.iter().rev()).map(call_render::agent_call_log).collect();
    let data = json!({"callLogs": rows, "totalCount": calls.len(), "page": number, "offset": size});
    Ok(axum::Json(json!({"success": true, "data": data})).into_response())
}
