//! Control API for knowledge bases and call actions (mock extensions; the
//! platform has no such API), per organization (`?apiKey=`):
//! - `PUT /_admin/web` `{url, status?, contentType?, body}`: what a URL
//!   "returns" to scrapes and sitemap extraction (before the server's
//!   `fixtures/web.json`); `GET /_admin/web` lists them, `DELETE
//!   /_admin/web?url=` forgets one.
//! - `PUT /_admin/knowledgebase/items/{itemId}/content` `{text}`: the text
//!   a file item's processing finds.
//! - `POST /_admin/knowledgebase/{kbId}/items/text` `{title?, content}`: a
//!   `text` item, `completed` at once.
//! - `POST /_admin/call-actions/events` `{provider, object?, action_type?,
//!   record}`: a provider record event; matching `trigger` actions place
//!   calls. `GET /_admin/call-actions/runs?actionId&callId`: the recorded
//!   runs of call actions.

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::Path;

use super::AdminOrg;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;

use crate::domain::call_action::{ProviderEvent, Run};
use crate::domain::knowledge_base::web::WebPage;
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::json::domain_body;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![(put_web_page, list_web_pages, delete_web_page), add_text_item, set_item_content, provider_event, list_runs]
}

/// The organization of a control request.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct OrgQuery {
    /// The organization's API key (required).
    // `AdminOrg` reads it; the field is here for the document.
    #[allow(dead_code)]
    api_key: Option<String>,
    /// Runs only: of this call action.
    action_id: Option<String>,
    /// Runs only: of this call (`CALL-…`).
    call_id: Option<String>,
    /// `DELETE /_admin/web` only: the URL to forget.
    url: Option<String>,
}

/// `PUT /_admin/web`: the page and its URL.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct WebPageRequest {
    /// An http(s) URL.
    url: String,
    /// The page (`status` default 200, `contentType` default `text/html`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    page: WebPage,
}

impl crate::http::json::RequestBody for WebPageRequest {
    fn validate(&self) -> Result<(), DomainError> {
        if crate::domain::webhook::is_http_url(&self.url) {
            Ok(())
        } else {
            Err(DomainError::invalid("url: Invalid url"))
        }
    }
}

/// `POST /_admin/knowledgebase/{kbId}/items/text`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TextItemRequest {
    /// Item title.
    title: Option<String>,
    /// The text the item holds.
    content: String,
}

impl crate::http::json::RequestBody for TextItemRequest {}

domain_body!(
    /// `{provider, object?, action_type? (create | update), record: {…}}`.
    ProviderEventRequest(ProviderEvent)
);

/// Set what a URL returns for the organization: `{url, status,
/// contentType}`. 400 bad URL, past 1000 pages or 16 MiB.
#[utoipa::path(put, path = "/_admin/web", tag = "Control API", params(OrgQuery), request_body = WebPageRequest,
    responses((status = 200, description = "Stored"), (status = 400, description = "Bad page")))]
async fn put_web_page(AdminOrg(_s, _key, t): AdminOrg, ApiJson(body): ApiJson<WebPageRequest>) -> Reply {
    let out = json!({"url": body.url, "status": body.page.status, "contentType": body.page.content_type});
    t.knowledge().put_page(body.url, body.page)?;
    Ok(Json(out).into_response())
}

/// The organization's pages: `{pages: {url: {status, contentType, body}}}`.
#[utoipa::path(get, path = "/_admin/web", tag = "Control API", params(OrgQuery),
    responses((status = 200, description = "`{pages}`")))]
async fn list_web_pages(AdminOrg(_s, _key, t): AdminOrg) -> Reply {
    let pages = json!(t.knowledge().pages());
    Ok(Json(json!({"pages": pages})).into_response())
}

/// Forget what `?url=` returns for the organization: `{deleted: bool}`.
#[utoipa::path(delete, path = "/_admin/web", tag = "Control API", params(OrgQuery),
    responses((status = 200, description = "`{deleted}`"), (status = 400, description = "apiKey or url missing")))]
async fn delete_web_page(AdminOrg(_s, _key, t): AdminOrg, ApiQuery(q): ApiQuery<OrgQuery>) -> Reply {
    let url = q.url.as_deref().ok_or_else(|| ApiError::BadRequest("url: Required".into()))?;
    Ok(Json(json!({"deleted": t.knowledge().delete_page(url)})).into_response())
}

/// `PUT /_admin/knowledgebase/items/{itemId}/content`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ItemContentRequest {
    /// The text the item's processing finds (or holds, once finished).
    text: String,
}

impl crate::http::json::RequestBody for ItemContentRequest {}

/// Set the text a file item's processing finds (a PDF the mock cannot
/// read, say); an item that already finished becomes `completed` with it.
/// The item; 404 `Knowledge base item not found`.
#[utoipa::path(put, path = "/_admin/knowledgebase/items/{itemId}/content", tag = "Control API",
    params(("itemId" = String, Path, description = "Item id"), OrgQuery), request_body = ItemContentRequest,
    responses((status = 200, description = "The item"), (status = 404, description = "Unknown item")))]
async fn set_item_content(
    AdminOrg(s, _key, t): AdminOrg,
    Path(item): Path<String>,
    ApiJson(body): ApiJson<ItemContentRequest>,
) -> Reply {
    let now = s.store.clock().now();
    let out = t.knowledge().set_item_text(&item, body.text, now)?.to_json();
    Ok(Json(out).into_response())
}

/// Add a `text` item to a knowledge base, `completed` at once: the item.
/// 400 `Knowledge base not found` or past the item limit.
#[utoipa::path(post, path = "/_admin/knowledgebase/{kbId}/items/text", tag = "Control API",
    params(("kbId" = String, Path, description = "Knowledge base id"), OrgQuery), request_body = TextItemRequest,
    responses((status = 200, description = "The item"), (status = 400, description = "Unknown knowledge base")))]
async fn add_text_item(
    AdminOrg(s, _key, t): AdminOrg,
    Path(kb): Path<String>,
    ApiJson(body): ApiJson<TextItemRequest>,
) -> Reply {
    Ok(Json(s.knowledge.add_text(&t, &kb, body.title, body.content)?).into_response())
}

/// Deliver a provider record event: every matching `trigger` action
/// places a call to the record's phone field. `{calls: [callId], runs}`.
#[utoipa::path(post, path = "/_admin/call-actions/events", tag = "Control API", params(OrgQuery),
    request_body = ProviderEventRequest, responses((status = 200, description = "`{calls, runs}`")))]
async fn provider_event(AdminOrg(s, _key, t): AdminOrg, ApiJson(body): ApiJson<ProviderEventRequest>) -> Reply {
    Ok(Json(s.call_actions.trigger(&t, &body.0)).into_response())
}

/// Recorded call-action runs, oldest first (the last 1000): `{runs}`.
#[utoipa::path(get, path = "/_admin/call-actions/runs", tag = "Control API", params(OrgQuery),
    responses((status = 200, description = "`{runs}`")))]
async fn list_runs(AdminOrg(_s, _key, t): AdminOrg, ApiQuery(q): ApiQuery<OrgQuery>) -> Reply {
    let book = t.call_actions();
    let runs: Vec<Value> =
        book.runs(q.action_id.as_deref(), q.call_id.as_deref()).into_iter().map(Run::to_json).collect();
    Ok(Json(Value::Object(Map::from_iter([("runs".to_string(), Value::Array(runs))]))).into_response())
}
