//! `POST /agent/with-ai` (tag Agents; not in the SDK): an agent generated
//! from a description or guided answers (`crate::domain::agent_ai`),
//! created through the normal create path. Answers `201 {success: true,
//! data: "<agentId>"}`; errors the standard envelope. The platform's 503
//! `Security check service temporarily unavailable` comes only from the
//! fault-injection control API.

use crate::http::routes::{router, OpenApiRouter};
use axum::http::StatusCode;
use serde_json::json;

use crate::domain::agent_ai::{validate, WithAiBody};
use crate::http::error::Reply;
use crate::http::extract::{ApiJson, OrgState};
use crate::http::json::domain_body;
use crate::http::render::succeeded;
use crate::state::AppState;

domain_body!(
    /// `{name? (≤ 50), description (≤ 15000) | questions [{question,
    /// answer}], type? ("single_prompt"), emotiveToggle?, voiceId?,
    /// voiceModel?, knowledgeBaseId?}`: a description or answers, not both.
    CreateWithAiRequest(WithAiBody)
);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![create_agent_with_ai]
}

/// Create an agent with a generated prompt (role, objective, style, rules,
/// failure handling; the knowledge base attached when given): 201 with its
/// id. 400 the field messages, `Provide either questions or description,
/// not both`, the voice messages, `Invalid knowledge base id`, `Knowledge
/// base not found`, `The generated prompt failed the security check`; 403
/// from the create path's gates.
#[utoipa::path(post, path = "/agent/with-ai", tag = "Agents", request_body = CreateWithAiRequest,
    responses((status = 201, description = "`data` is the new agent id"), (status = 400, description = "Invalid input"),
        (status = 403, description = "Gated model")))]
async fn create_agent_with_ai(OrgState(s, t): OrgState, ApiJson(body): ApiJson<CreateWithAiRequest>) -> Reply {
    let brief = validate(&body.0)?;
    let id = s.store.create_agent_with_ai(&t, &brief)?;
    Ok(succeeded(StatusCode::CREATED, json!(id)))
}
