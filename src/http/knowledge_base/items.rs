//! A knowledge base's contents: items (PDF uploads, presigned uploads),
//! sitemap extraction and scraped URLs. Processing runs on the mock's
//! clock (`crate::knowledge`); nothing is fetched from the network.
//!
//! Where the spec documents no 404 (items, item delete, uploads, scraped
//! URL delete), an unknown knowledge base is 400 `Knowledge base not
//! found`; `GET …/scraped-urls` documents only 200, so an unknown or
//! malformed id lists nothing.

use crate::http::routes::{router, routes, OpenApiRouter};
use axum::extract::{DefaultBodyLimit, Multipart, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::requests::{CompleteUploadRequest, PresignRequest, ScrapeRequest, SitemapRequest};
use crate::domain::knowledge_base::upload::MAX_FILE_BYTES;
use crate::domain::knowledge_base::{Item, ScrapedUrl};
use crate::http::error::{envelope, multipart_error, ApiResult, Reply};
use crate::http::extract::{ApiJson, ApiPath, Org, OrgPath, OrgState};
use crate::http::ids::{KnowledgeBaseId, KnowledgeBaseItemId, ScrapedUrlId};
use crate::http::render;
use crate::knowledge::Media;
use crate::state::AppState;

/// Largest body of `upload-media`: the 25 MiB file and room for the
/// multipart framing (see `extract::body_limit`).
pub(crate) const UPLOAD_LIMIT: usize = MAX_FILE_BYTES as usize + 256 * 1024;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![list_items, delete_item, upload_media]
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .routes(routes!(presign_upload))
        .routes(routes!(complete_upload))
        .routes(routes!(sitemap_urls))
        .routes(routes!(scrape_urls))
        .routes(routes!(list_scraped_urls))
        .routes(routes!(delete_scraped_url))
}

/// The items of a knowledge base, oldest first: `{_id, itemType,
/// metadata, knowledgeBaseId, processingStatus (pending | processing |
/// completed | failed), …, createdAt, updatedAt, __v}`. 400 malformed id
/// or `Knowledge base not found`.
#[utoipa::path(get, path = "/knowledgebase/{id}/items", tag = "Knowledge Base",
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    responses((status = 200, description = "The items"), (status = 400, description = "Unknown knowledge base")))]
async fn list_items(Org(t): Org, ApiPath(id): ApiPath<KnowledgeBaseId>) -> Reply {
    let items: Vec<Value> = t.knowledge().items_of(&id)?.into_iter().map(Item::to_json).collect();
    Ok(render::ok(Value::Array(items)))
}

/// Delete an item: 200 `{status: true}`. 400 malformed ids, `Knowledge
/// base not found`, `Knowledge base item not found`.
#[utoipa::path(delete, path = "/knowledgebase/{knowledgeBaseId}/items/{knowledgeBaseItemId}",
    tag = "Knowledge Base",
    params(("knowledgeBaseId" = KnowledgeBaseId, Path, description = "Knowledge base id"),
        ("knowledgeBaseItemId" = KnowledgeBaseItemId, Path, description = "Item id")),
    responses((status = 200, description = "Deleted"), (status = 400, description = "Unknown item")))]
async fn delete_item(Org(t): Org, ApiPath((kb, item)): ApiPath<(KnowledgeBaseId, KnowledgeBaseItemId)>) -> Reply {
    t.knowledge().delete_item(&kb, &item)?;
    Ok(render::done())
}

/// Reads the `media` part of a multipart body (other parts ignored).
/// Read errors as [`multipart_error`]: 413 past 25 MiB, 408 when the body
/// stalls past the body timeout (as on the audience and compliance
/// uploads), 400 `Malformed multipart body: …`.
async fn read_media(mut mp: Multipart) -> ApiResult<Option<Media>> {
    let bad = |e| multipart_error(&e, crate::domain::knowledge_base::upload::TOO_LARGE);
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        if field.name() == Some("media") {
            let file_name = field.file_name().map(str::to_string);
            let content_type = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map_err(bad)?;
            return Ok(Some(Media { file_name, content_type, bytes }));
        }
    }
    Ok(None)
}

/// Upload a PDF (multipart part `media`, `.pdf` typed `application/pdf`):
/// 201 `{status: true}`; the item is `pending`, then `processing`, then
/// `completed` (or `failed` when the bytes are not a PDF) on the clock.
/// 400 `media: Required`, `Only PDF files are allowed`, `Knowledge base
/// not found`; 413 past 25 MiB.
#[utoipa::path(post, path = "/knowledgebase/{id}/items/upload-media", tag = "Knowledge Base",
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    request_body(content_type = "multipart/form-data", description = "Part `media`: the PDF"),
    responses((status = 201, description = "Queued"), (status = 400, description = "Bad file")))]
async fn upload_media(
    OrgPath(s, t, id): OrgPath<KnowledgeBaseId>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Reply {
    let media = match mp {
        Ok(mp) => read_media(mp).await?,
        Err(_) => None,
    };
    s.knowledge.upload_media(&t, &id, media)?;
    Ok(render::bare(StatusCode::CREATED))
}

/// A presigned URL on the mock itself for a direct `PUT` of the file
/// (valid 300 s, the `Content-Type` signed): `{url, key}`. 400 field
/// errors, `Only PDF files are allowed`, `File size exceeds the maximum
/// allowed size of 25 MB`, `Knowledge base not found`.
#[utoipa::path(post, path = "/knowledgebase/get-presigned-url", tag = "Knowledge Base",
    request_body = PresignRequest,
    responses((status = 200, description = "The URL and key"), (status = 400, description = "Validation error")))]
async fn presign_upload(OrgState(s, t): OrgState, ApiJson(body): ApiJson<PresignRequest>) -> Reply {
    Ok(render::ok(s.knowledge.presign(&t, &body.0, &s.calls.public_url())?))
}

/// Complete a presigned upload (the platform spells the path
/// `compelete`): the file becomes a `pending` item, returned, processed
/// on the clock. 400 field errors, `Invalid or expired upload key`,
/// `Upload details do not match the presigned upload`, `File has not been
/// uploaded yet`.
#[utoipa::path(post, path = "/knowledgebase/compelete-file-upload", tag = "Knowledge Base",
    request_body = CompleteUploadRequest,
    responses((status = 200, description = "The new item"), (status = 400, description = "Validation error")))]
async fn complete_upload(OrgState(s, t): OrgState, ApiJson(body): ApiJson<CompleteUploadRequest>) -> Reply {
    Ok(render::ok(s.knowledge.complete(&t, &body.0)?))
}

/// The page URLs of a site's sitemap (`siteUrl` itself, else its
/// `/sitemap.xml`, …; a sitemap index followed one level), from what the
/// web registry or fixtures say those URLs return: `{urls, extractedAt}`.
/// 400 field errors; 404 `Knowledge base not found`; 422 `Could not fetch
/// sitemap` / `The sitemap XML is malformed`. Writes nothing.
#[utoipa::path(post, path = "/knowledgebase/get-sitemap-urls", tag = "Knowledge Base",
    request_body = SitemapRequest,
    responses((status = 200, description = "The URLs"), (status = 400, description = "Validation error"),
        (status = 404, description = "Unknown knowledge base"), (status = 422, description = "No usable sitemap")))]
async fn sitemap_urls(OrgState(s, t): OrgState, ApiJson(body): ApiJson<SitemapRequest>) -> Reply {
    Ok(match s.knowledge.sitemap(&t, &body.0)? {
        Ok(data) => render::ok(data),
        Err(msg) => envelope(StatusCode::UNPROCESSABLE_ENTITY, msg),
    })
}

/// Queue URLs for scraping (each new one a row `pending`, `scraping`,
/// then `indexed` or `failed` on the clock; repeats of rows not `failed`
/// skipped): `{message: "Scraping started", queued, skipped}`. 400
/// `urls: …` errors or the URL limit; 404 `Knowledge base not found`.
#[utoipa::path(post, path = "/knowledgebase/{id}/scrape-urls", tag = "Knowledge Base",
    params(("id" = KnowledgeBaseId, Path, description = "Knowledge base id")),
    request_body = ScrapeRequest,
    responses((status = 200, description = "Queued"), (status = 400, description = "Validation error"),
        (status = 404, description = "Unknown knowledge base")))]
async fn scrape_urls(OrgPath(s, t, id): OrgPath<KnowledgeBaseId>, ApiJson(body): ApiJson<ScrapeRequest>) -> Reply {
    Ok(render::ok(s.knowledge.scrape(&t, &id, &body.0)?))
}

/// The scraped URLs of a knowledge base with their status, oldest first:
/// `{_id, url, status (pending | scraping | indexed | failed), createdAt,
/// updatedAt}`. Always 200 (the only documented status): an unknown id
/// lists nothing.
#[utoipa::path(get, path = "/knowledgebase/{id}/scraped-urls", tag = "Knowledge Base",
    params(("id" = String, Path, description = "Knowledge base id")),
    responses((status = 200, description = "The URLs")))]
async fn list_scraped_urls(Org(t): Org, Path(id): Path<String>) -> Response {
    let urls: Vec<Value> = t.knowledge().urls_of(&id).into_iter().map(ScrapedUrl::to_json).collect();
    render::ok(Value::Array(urls)).into_response()
}

/// Delete a scraped URL row: 200 `{status: true}`. 400 malformed ids or
/// `Scraped URL not found`.
#[utoipa::path(delete, path = "/knowledgebase/{knowledgeBaseId}/scraped-urls/{knowledgeBaseScrapedUrlsId}",
    tag = "Knowledge Base",
    params(("knowledgeBaseId" = KnowledgeBaseId, Path, description = "Knowledge base id"),
        ("knowledgeBaseScrapedUrlsId" = ScrapedUrlId, Path, description = "Scraped URL row id")),
    responses((status = 200, description = "Deleted"), (status = 400, description = "Unknown row")))]
async fn delete_scraped_url(Org(t): Org, ApiPath((kb, row)): ApiPath<(KnowledgeBaseId, ScrapedUrlId)>) -> Reply {
    t.knowledge().delete_url(&kb, &row)?;
    Ok(render::done())
}
