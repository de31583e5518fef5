//! `/knowledgebase` and `/knowledgebase/{id}`: create, list, get, rename,
//! delete. A malformed id is 400 `Invalid knowledge base id` (inferred);
//! an unknown one (or another organization's) 404 `Knowledge base not
//! found`.

use crate::http::routes::{router, OpenApiRouter};
use axum::response::Response;
use serde_json::{json, Value};

use super::requests::KnowledgeBaseRequest;
use crate::domain::knowledge_base::{validate, KnowledgeBase};
use crate::http::error::Reply;
use crate::http::extract::{ApiJson, ApiPath, Org, OrgPath, OrgState};
use crate::http::ids::KnowledgeBaseId;
use crate::http::render;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        (list_knowledge_bases, create_knowledge_base),
        (get_knowledge_base, update_knowledge_base, delete_knowledge_base)
    ]
}

/// List the organization's knowledge bases, oldest first; each exactly
/// `{__v, _id, createdBy, description, name, organization}` (LIVE's list
/// shape).
#[utoipa::path(get, path = "/knowledgebase", tag = "Knowledge Base",
    responses((status = 200, description = "The knowledge bases")))]
async fn list_knowledge_bases(Org(t): Org) -> Response {
    let all: Vec<Value> = t.knowledge().list().map(KnowledgeBase::to_json).collect();
    render::ok(Value::Array(all))
}

/// Create a knowledge base: 201 with its id as `data`. 400 `name:
/// Required`, `name: String must contain at least 1 character(s)` / `at
/// most 40`, `description: … at most 2000`, or the organization's limit.
#[utoipa::path(post, path = "/knowledgebase", tag = "Knowledge Base", request_body = KnowledgeBaseRequest,
    responses((status = 201, description = "The new id"), (status = 400, description = "Validation error")))]
async fn create_knowledge_base(OrgState(s, t): OrgState, ApiJson(body): ApiJson<KnowledgeBaseRequest>) -> Reply {
    let naming = validate(&body.0)?;
    let id = s.store.ids().object_id(s.store.clock().now());
    t.knowledge().create(KnowledgeBase::new(id.clone(), t.org_id().into(), t.user_id().into(), naming))?;
    Ok(render::created(json!(id)))
}

/// Get one knowledge base (the list's item shape). 400 malformed id; 404
/// `Knowledge base not found`.
#[utoipa::path(get, path = "/knowledgebase/{id}", tag = "Knowledge Base",
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    responses((status = 200, description = "The knowledge base"), (status = 400, description = "Malformed id"),
        (status = 404, description = "Not found")))]
async fn get_knowledge_base(Org(t): Org, ApiPath(id): ApiPath<KnowledgeBaseId>) -> Reply {
    Ok(render::ok(t.knowledge().get(&id)?.to_json()))
}

/// Rename a knowledge base (`description` omitted: unchanged): 200
/// `{status: true}`. 400 as create or malformed id; 404 not found.
#[utoipa::path(post, path = "/knowledgebase/{id}", tag = "Knowledge Base", request_body = KnowledgeBaseRequest,
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    responses((status = 200, description = "Updated"), (status = 400, description = "Validation error"),
        (status = 404, description = "Not found")))]
async fn update_knowledge_base(
    Org(t): Org,
    ApiPath(id): ApiPath<KnowledgeBaseId>,
    ApiJson(body): ApiJson<KnowledgeBaseRequest>,
) -> Reply {
    t.knowledge().rename(&id, validate(&body.0)?)?;
    Ok(render::done())
}

/// Delete a knowledge base with its items, scraped URLs and pending
/// uploads: 200 `{status: true}`. 400 `This knowledge base is connected
/// to an agent. Please detach it from the agent before deleting.` (the
/// spec's text) while an agent's live config or open draft uses it; 404
/// not found.
#[utoipa::path(delete, path = "/knowledgebase/{id}", tag = "Knowledge Base",
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    responses((status = 200, description = "Deleted"), (status = 400, description = "In use or malformed id"),
        (status = 404, description = "Not found")))]
async fn delete_knowledge_base(OrgPath(s, t, id): OrgPath<KnowledgeBaseId>) -> Reply {
    s.store.delete_knowledge_base(&t, &id)?;
    Ok(render::done())
}
