//! Agent templates (R040), disposition-metric templates (R221) and the
//! "Create with AI" questionnaire (`GET /agent/prompt-config`), all served
//! from fixtures.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;

use super::requests::CreateFromTemplateRequest;
use crate::domain::agent;
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiQuery, Org, OrgState};
use crate::http::render;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        list_agent_templates,
        create_agent_from_template,
        list_disposition_metric_templates,
        get_agent_prompt_config
    ]
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

impl TemplateQuery {
    /// The fixtures' region name asked for: 400 for another value.
    fn region(&self) -> Result<Option<&'static str>, ApiError> {
        match self.region.as_deref() {
            None => Ok(None),
            Some("us") => Ok(Some("US")),
            Some("in") => Ok(Some("India")),
            Some(other) => Err(DomainError::invalid_enum("region", &["us", "in"], other).into()),
        }
    }
}

/// List agent templates, optionally by region (R040). Each has a 24-hex
/// `_id` and a distinct slug `id`.
#[utoipa::path(get, path = "/agent/template", tag = "Agent Templates", params(TemplateQuery),
    responses((status = 200, description = "Array of templates"), (status = 400, description = "Unknown region")))]
async fn list_agent_templates(State(s): State<AppState>, Org(_t): Org, ApiQuery(q): ApiQuery<TemplateQuery>) -> Reply {
    let region = q.region()?;
    let in_region = |t: &&Value| region.is_none_or(|r| t.get("region").and_then(Value::as_str) == Some(r));
    Ok(render::ok(json!(s.fixtures.templates.iter().filter(in_region).collect::<Vec<_>>())))
}

/// Create an agent from a template: `{agentName, templateId}` (both
/// required; `templateId` is the slug `id` or the `_id`). 200 with the new
/// agent id (R040). Unknown template: 400 `Template not found`.
#[utoipa::path(post, path = "/agent/from-template", tag = "Agent Templates",
    request_body = CreateFromTemplateRequest,
    responses((status = 200, description = "`data` is the new agent id"), (status = 400, description = "Missing field or unknown template")))]
async fn create_agent_from_template(
    OrgState(s, t): OrgState,
    ApiJson(body): ApiJson<CreateFromTemplateRequest>,
) -> Reply {
    let template = find(&s.fixtures.templates, &body.template_id)
        .ok_or_else(|| ApiError::BadRequest("Template not found".into()))?;
    let new = agent::parse_new(&from_template(template, body))?;
    Ok(render::ok(json!(s.store.add_agent(&t, new)?)))
}

/// The template whose slug `id` or `_id` is `id`.
fn find<'a>(templates: &'a [Value], id: &str) -> Option<&'a Value> {
    templates.iter().find(|x| [x.get("id"), x.get("_id")].into_iter().flatten().any(|v| v.as_str() == Some(id)))
}

/// The `POST /agent` body a template makes: the name and description
/// asked for (the description defaults to the template's) and the
/// template's prompt and tools.
fn from_template(template: &Value, body: CreateFromTemplateRequest) -> Map<String, Value> {
    let description =
        body.agent_description.or_else(|| template.get("description").and_then(Value::as_str).map(str::to_string));
    let mut agent = Map::new();
    agent.insert("name".into(), json!(body.agent_name));
    agent.insert("description".into(), json!(description.unwrap_or_default()));
    if let Some(sp) = template.get("singlePromptConfig") {
        let prompt = sp.get("prompt").cloned().unwrap_or_else(|| json!(""));
        let tools = sp.get("tools").cloned().unwrap_or_else(|| json!([]));
        agent.insert("singlePromptConfig".into(), json!({"prompt": prompt, "tools": tools}));
    }
    agent
}

/// Disposition-metric templates (R221), in the `success` envelope (R008).
#[utoipa::path(get, path = "/disposition-metric-templates", tag = "Post-Call Analytics",
    responses((status = 200, description = "`{success: true, data: [DispositionMetric]}`")))]
async fn list_disposition_metric_templates(State(s): State<AppState>, Org(_t): Org) -> Response {
    Json(json!({"success": true, "data": s.fixtures.metric_templates})).into_response()
}
