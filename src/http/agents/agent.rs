//! `/agent` and `/agent/{id}`: create, list, get, metadata PATCH, archive,
//! duplicate and the legacy workflow routes (BEHAVIOR §B, R019–R044).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::calls::render as call_render;
use crate::domain::agent::{parse_metadata_patch, NewAgent};
use crate::domain::ids::is_object_id;
use crate::domain::versioning::Command;
use crate::domain::DomainError;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, Org};
use crate::http::render::{self, ConfigSource};
use crate::state::AppState;
use crate::store::AgentQuery;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_agent, list_agents))
        .routes(routes!(get_agent, update_agent))
        .routes(routes!(archive_agent, archive_agent_patch))
        .routes(routes!(duplicate_agent))
        .routes(routes!(get_agent_workflow))
        .routes(routes!(update_workflow))
        .routes(routes!(get_agent_call_logs))
}

/// 400 `Invalid agent id` unless `id` is a 24-hex ObjectId (R012, R027).
pub(crate) fn check_agent_id(id: &str) -> ApiResult<()> {
    if is_object_id(id) {
        Ok(())
    } else {
        Err(ApiError::BadRequest("Invalid agent id".into()))
    }
}

/// Create an agent (R019–R024). Returns 201 with the bare 24-hex id as
/// `data`. `language` without `switching` gives 400 `Invalid Input:
/// Required` (R020); fields out of bounds give 400 naming the field.
#[utoipa::path(post, path = "/agent", tag = "Agents",
    request_body(content = Value, description = "CreateAgentRequest: `name` is required; config fields are optional"),
    responses((status = 201, description = "`data` is the new agent id"),
              (status = 400, description = "Invalid input"), (status = 401, description = "Unauthorized"),
              (status = 403, description = "Gated model or workflow type")))]
async fn create_agent(
    State(s): State<AppState>,
    Org(t): Org,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let id = s.store.create_agent_from_body(&t, &body)?;
    Ok(render::created(json!(id)))
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

fn one_of(name: &str, v: Option<&str>, allowed: &[&str]) -> ApiResult<()> {
    match v {
        Some(x) if !allowed.contains(&x) => Err(ApiError::BadRequest(format!(
            "{name}: Invalid enum value. Expected {}, received '{x}'",
            allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(" | ")
        ))),
        _ => Ok(()),
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
async fn list_agents(
    State(s): State<AppState>,
    Org(t): Org,
    ApiQuery(q): ApiQuery<ListAgentsQuery>,
) -> ApiResult<Response> {
    one_of("type", q.r#type.as_deref(), &["single_prompt", "workflow_graph"])?;
    one_of("sortField", q.sort_field.as_deref(), &["createdAt", "updatedAt", "totalCalls", "name", "workflowType"])?;
    one_of("sortOrder", q.sort_order.as_deref(), &["asc", "desc"])?;
    let search = q.search.filter(|x| !x.is_empty());
    let searching = search.is_some();
    let query = AgentQuery {
        page: q.page.unwrap_or(1).max(1),
        offset: q.limit.or(q.offset).unwrap_or(10).clamp(1, 1000),
        search,
        workflow_type: q.r#type,
        sort_field: q.sort_field.unwrap_or_else(|| "createdAt".into()),
        ascending: q.sort_order.as_deref() == Some("asc"),
        archived: q.archived.unwrap_or(false),
    };
    let (agents, total) = s.store.list_agents(&t, &query, |r| render::agent_json(r, None));
    let mut list = Vec::with_capacity(agents.iter().map(Vec::len).sum::<usize>() + 64);
    list.extend_from_slice(b"{\"agents\":[");
    for (i, a) in agents.iter().enumerate() {
        if i > 0 {
            list.push(b',');
        }
        list.extend_from_slice(a);
    }
    let pages = total.div_ceil(query.offset);
    let more = query.page < pages;
    let tail =
        format!("],\"hasMore\":{more},\"isSearchResults\":{searching},\"totalCount\":{total},\"totalPages\":{pages}}}");
    list.extend_from_slice(tail.as_bytes());
    Ok(render::ok_raw(&list))
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

/// Get an agent with `_resolvedConfig` (R026–R028). Unknown or foreign ids
/// give 400 `No agent found`; malformed ids give 400 `Invalid agent id`.
/// An unknown `draftId`/`versionId` gives 400 `Draft not found` /
/// `Version not found` (the operation documents no 404).
#[utoipa::path(get, path = "/agent/{id}", tag = "Agents", params(("id" = String, Path, description = "Agent id"), GetAgentQuery),
    responses((status = 200, description = "AgentDTO"), (status = 400, description = "No agent found / Invalid agent id")))]
async fn get_agent(
    State(s): State<AppState>,
    Org(t): Org,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<GetAgentQuery>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    let out = s.store.read_agent(&t, &id, |rec| {
        let src = match (&q.draft_id, &q.version_id) {
            (Some(d), _) => {
                ConfigSource::Draft(rec.draft(d).ok_or_else(|| ApiError::BadRequest("Draft not found".into()))?)
            }
            (None, Some(v)) => {
                ConfigSource::Version(rec.version(v).ok_or_else(|| ApiError::BadRequest("Version not found".into()))?)
            }
            (None, None) => ConfigSource::Active,
        };
        Ok::<_, ApiError>(render::agent_json(rec, Some(src)))
    });
    match out {
        Ok(v) => Ok(render::ok_raw(&v?)),
        Err(DomainError::NotFound(_)) => Err(ApiError::BadRequest("No agent found".into())),
        Err(e) => Err(e.into()),
    }
}

/// Update agent metadata (R030–R032): only `name`, `description`,
/// `avatarUrl`, `telephonyProductId`, `allowInboundCall`,
/// `visibleToEveryone`. Any config field gives 400 `Agent has versioning
/// enabled. Config changes must be made through drafts.` and changes
/// nothing. Unknown agent: 404 `Agent not found`.
#[utoipa::path(patch, path = "/agent/{id}", tag = "Agents", params(("id" = String, Path, description = "Agent id")),
    request_body(content = Value, description = "UpdateAgentRequest"),
    responses((status = 200, description = "`data` is the agent id"), (status = 400, description = "Config field or bad value"),
              (status = 404, description = "Agent not found")))]
async fn update_agent(
    State(s): State<AppState>,
    Org(t): Org,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    check_agent_id(&id)?;
    s.store.read_agent(&t, &id, |_| ())?;
    let patch = parse_metadata_patch(&body)?;
    s.store.execute(&t, &id, &Command::UpdateMetadata(patch), |_| ())?;
    Ok(render::ok(json!(id)))
}

/// Query of the archive routes (R034).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ArchiveQuery {
    /// `true` (default) archives, `false` unarchives.
    on: Option<bool>,
}

async fn set_archived(s: &AppState, org: &Org, id: &str, on: bool) -> ApiResult<Response> {
    check_agent_id(id)?;
    if on {
        campaign_guard(&org.0, id)?;
    }
    s.store.execute(&org.0, id, &Command::SetArchived { on }, |_| ())?;
    let message = if on { "Agent archived" } else { "Agent unarchived" };
    Ok(render::ok(json!({"message": message})))
}

/// R035/R174: 409 while a non-terminal campaign uses the agent.
fn campaign_guard(t: &crate::store::Tenant, id: &str) -> ApiResult<()> {
    let book = t.campaigns.lock();
    match book.active_campaign(|c| c.agent_id == id) {
        Some(c) => Err(ApiError::Conflict(format!(
            "Agent is associated with the {} campaign \"{}\". Complete or remove the campaign before archiving.",
            c.progress.status.as_str(),
            c.name
        ))),
        None => Ok(()),
    }
}

/// Archive (or with `?on=false` unarchive) an agent (R034, R035). 409
/// `Agent is already archived` / `Agent is already active`, or `Agent is
/// associated with the <status> campaign "<name>". …` while a draft,
/// scheduled, processing, running or paused campaign uses it.
#[utoipa::path(delete, path = "/agent/{id}/archive", tag = "Agents", params(("id" = String, Path, description = "Agent id"), ArchiveQuery),
    responses((status = 200, description = "`{message: \"Agent archived\" | \"Agent unarchived\"}`"),
              (status = 404, description = "Agent not found"), (status = 409, description = "Already in that state")))]
async fn archive_agent(
    State(s): State<AppState>,
    org: Org,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ArchiveQuery>,
) -> ApiResult<Response> {
    set_archived(&s, &org, &id, q.on.unwrap_or(true)).await
}

/// `PATCH /agent/{id}/archive`: alias of the DELETE form (L-B1).
#[utoipa::path(patch, path = "/agent/{id}/archive", tag = "Agents", params(("id" = String, Path, description = "Agent id"), ArchiveQuery),
    responses((status = 200, description = "As DELETE"), (status = 409, description = "Already in that state")))]
async fn archive_agent_patch(
    State(s): State<AppState>,
    org: Org,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ArchiveQuery>,
) -> ApiResult<Response> {
    set_archived(&s, &org, &id, q.on.unwrap_or(true)).await
}

/// Duplicate an agent's active version into an organization (R037, R038).
/// The mock knows one organization per key, so any other
/// `targetOrganizationId` gives 403 (caller is not a member).
#[utoipa::path(post, path = "/agent/{id}/duplicate", tag = "Agents", params(("id" = String, Path, description = "Agent id")),
    request_body(content = Value, description = "`{targetOrganizationId}` (24 hex)"),
    responses((status = 201, description = "`{_id}` of the copy"), (status = 400, description = "Archived / not single_prompt"),
              (status = 403, description = "Not a member of the target organization"), (status = 404, description = "Agent not found")))]
async fn duplicate_agent(
    State(s): State<AppState>,
    Org(t): Org,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let target = match body.get("targetOrganizationId") {
        None => return Err(ApiError::BadRequest("targetOrganizationId: Required".into())),
        Some(Value::String(x)) if x.len() == 24 && x.bytes().all(|b| b.is_ascii_hexdigit()) => x.to_lowercase(),
        Some(_) => {
            return Err(ApiError::BadRequest("targetOrganizationId: Invalid ObjectId (24 hex characters)".into()))
        }
    };
    check_agent_id(&id).map_err(|_| ApiError::NotFound("Agent not found".into()))?;
    let src = s.store.read_agent(&t, &id, |r| (r.agent.clone(), r.active().map(|v| v.config.clone())))?;
    let (agent, cfg) = src;
    if target != t.org_id {
        return Err(ApiError::Forbidden("You are not a member of the target organization".into()));
    }
    if agent.archived {
        return Err(ApiError::BadRequest("Cannot duplicate an archived agent".into()));
    }
    if agent.workflow_type != "single_prompt" {
        return Err(ApiError::BadRequest("Only SINGLE_PROMPT agents can be duplicated".into()));
    }
    let cfg =
        cfg.ok_or_else(|| ApiError::BadRequest("This agent has no active version and cannot be duplicated".into()))?;
    let new = NewAgent {
        name: agent.name.clone(),
        description: agent.description.clone(),
        telephony_product_id: Vec::new(),
        allow_inbound_call: agent.allow_inbound_call,
        config: strip_for_duplicate(&cfg),
    };
    let new_id = s.store.create_agent(&t, new);
    Ok(render::created(json!({"_id": new_id})))
}

/// R037: knowledge-base tools are stripped and default variable values
/// blanked in a duplicate.
fn strip_for_duplicate(cfg: &Map<String, Value>) -> Map<String, Value> {
    let mut out = cfg.clone();
    if let Some(Value::Array(tools)) = out.get_mut("singlePromptConfig").and_then(|s| s.get_mut("tools")) {
        tools.retain(|t| t.get("type").and_then(Value::as_str) != Some("knowledge_base_search"));
    }
    if let Some(Value::Object(vars)) = out.get_mut("defaultVariables") {
        vars.values_mut().for_each(|v| *v = json!(""));
    }
    out
}

/// Legacy read of the active version's `{prompt, tools}` (R041). A
/// `versionId` query parameter is ignored. Unknown agent: 404.
#[utoipa::path(get, path = "/agent/{id}/workflow", tag = "Agents", params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, description = "`{prompt, tools}` or graph data"), (status = 404, description = "Agent not found")))]
async fn get_agent_workflow(State(s): State<AppState>, Org(t): Org, Path(id): Path<String>) -> ApiResult<Response> {
    check_agent_id(&id).map_err(|_| ApiError::NotFound("Agent not found".into()))?;
    let data = s.store.read_agent(&t, &id, |r| {
        let cfg = r.active().map(|v| v.config.clone()).unwrap_or_default();
        match cfg.get("workflowGraph") {
            Some(g) if r.agent.workflow_type == "workflow_graph" => {
                json!({"type": "workflow_graph", "data": g})
            }
            _ => crate::domain::config::versioned_workflow(&cfg),
        }
    })?;
    Ok(render::ok(data))
}

/// Legacy `PATCH /workflow/{id}`: rejected with 400 on versioned agents, as
/// the newer deprecation notice says (R042, L-B2; chosen over the older
/// spec text that says it still writes).
#[utoipa::path(patch, path = "/workflow/{id}", tag = "Agents", params(("id" = String, Path, description = "Workflow id")),
    request_body(content = Value, description = "Ignored"),
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
async fn get_agent_call_logs(
    State(s): State<AppState>,
    Org(t): Org,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CallLogsQuery>,
) -> ApiResult<Response> {
    let page = lenient_count(q.page.as_deref(), 1);
    let offset = lenient_count(q.offset.as_deref(), 10).min(500);
    let mut calls = s.calls.list(&t, |c| c.agent_id == id);
    calls.reverse();
    let rows: Vec<Value> =
        calls.iter().skip((page - 1).saturating_mul(offset)).take(offset).map(call_render::agent_call_log).collect();
    let data = json!({"callLogs": rows, "totalCount": calls.len(), "page": page, "offset": offset});
    Ok(axum::Json(json!({"success": true, "data": data})).into_response())
}
