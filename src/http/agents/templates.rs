//! Agent templates (R040), disposition-metric templates (R221) and the
//! "Create with AI" questionnaire (`GET /agent/prompt-config`), all served
//! from fixtures.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{opt_str, ApiJson, ApiQuery, Org};
use crate::http::render;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agent_templates))
        .routes(routes!(create_agent_from_template))
        .routes(routes!(list_disposition_metric_templates))
        .routes(routes!(get_agent_prompt_config))
}

/// The embedded questionnaire (`fixtures/prompt-config.json`).
static PROMPT_CONFIG: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../fixtures/prompt-config.json")).unwrap_or(Value::Null)
});

/// The "Create with AI" questionnaire, in the `success` envelope (R008):
/// `{success: true, data: {questions: [{text, type: "text"|"select",
/// options, examples: {label: answer}}], exampleLabels, defaultLabel:
/// "default"}}`. Every question has a `default` example. The same for
/// every organization (the platform needs only a user token here).
#[utoipa::path(get, path = "/agent/prompt-config", tag = "Agents",
    responses((status = 200, description = "`{success: true, data: {questions, exampleLabels, defaultLabel}}`")))]
async fn get_agent_prompt_config(Org(_t): Org) -> Response {
    Json(json!({"success": true, "data": &*PROMPT_CONFIG})).into_response()
}

/// Query of `GET /agent/template`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TemplateQuery {
    /// `us` or `in`; omit for all templates.
    region: Option<String>,
}

/// List agent templates, optionally by region (R040). Each has a 24-hex
/// `_id` and a distinct slug `id`.
#[utoipa::path(get, path = "/agent/template", tag = "Agent Templates", params(TemplateQuery),
    responses((status = 200, description = "Array of templates"), (status = 400, description = "Unknown region")))]
async fn list_agent_templates(
    State(s): State<AppState>,
    Org(_t): Org,
    ApiQuery(q): ApiQuery<TemplateQuery>,
) -> ApiResult<Response> {
    let region = match q.region.as_deref() {
        None => None,
        Some("us") => Some("US"),
        Some("in") => Some("India"),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "region: Invalid enum value. Expected 'us' | 'in', received '{other}'"
            )))
        }
    };
    let list: Vec<&Value> = s
        .fixtures
        .templates
        .iter()
        .filter(|t| region.is_none_or(|r| t.get("region").and_then(Value::as_str) == Some(r)))
        .collect();
    Ok(render::ok(json!(list)))
}

/// Create an agent from a template: `{agentName, templateId}` (both
/// required; `templateId` is the slug `id` or the `_id`). 200 with the new
/// agent id (R040). Unknown template: 400 `Template not found`.
#[utoipa::path(post, path = "/agent/from-template", tag = "Agent Templates",
    request_body(content = Value, description = "CreateAgentFromTemplateRequest"),
    responses((status = 200, description = "`data` is the new agent id"), (status = 400, description = "Missing field or unknown template")))]
async fn create_agent_from_template(
    State(s): State<AppState>,
    Org(t): Org,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let name = opt_str(&body, "agentName")?.ok_or_else(|| ApiError::BadRequest("agentName: Required".into()))?;
    let template_id =
        opt_str(&body, "templateId")?.ok_or_else(|| ApiError::BadRequest("templateId: Required".into()))?;
    let template = s
        .fixtures
        .templates
        .iter()
        .find(|x| [x.get("id"), x.get("_id")].into_iter().flatten().any(|v| v.as_str() == Some(template_id.as_str())))
        .ok_or_else(|| ApiError::BadRequest("Template not found".into()))?;
    let mut agent_body = Map::new();
    agent_body.insert("name".into(), json!(name));
    let description = opt_str(&body, "agentDescription")?
        .or_else(|| template.get("description").and_then(Value::as_str).map(str::to_string));
    agent_body.insert("description".into(), json!(description.unwrap_or_default()));
    if let Some(sp) = template.get("singlePromptConfig") {
        let prompt = sp.get("prompt").cloned().unwrap_or_else(|| json!(""));
        let tools = sp.get("tools").cloned().unwrap_or_else(|| json!([]));
        agent_body.insert("singlePromptConfig".into(), json!({"prompt": prompt, "tools": tools}));
    }
    let id = s.store.create_agent_from_body(&t, &agent_body)?;
    Ok(render::ok(json!(id)))
}

/// Disposition-metric templates (R221), in the `success` envelope (R008).
#[utoipa::path(get, path = "/disposition-metric-templates", tag = "Post-Call Analytics",
    responses((status = 200, description = "`{success: true, data: [DispositionMetric]}`")))]
async fn list_disposition_metric_templates(State(s): State<AppState>, Org(_t): Org) -> Response {
    Json(json!({"success": true, "data": s.fixtures.metric_templates})).into_response()
}
