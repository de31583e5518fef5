//! `/audience…`: CSV upload, list, get, delete, and members list, add,
//! search and delete (BEHAVIOR §I, R177–R187, L-I1–L-I4).
//!
//! Another organization's audience looks unknown (404) everywhere but on
//! `GET /audience/{id}/members`, where the spec has 403 (R180, R181, L-I1:
//! the spec for each endpoint). The
//! members list's 400s use `"status": "error"` (R008, R181). Ids `undefined`,
//! `null` or blank count as missing (what JavaScript clients send).

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::{DefaultBodyLimit, Multipart, Path};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::requests::{AddMembersRequest, DeleteMembersRequest};
use crate::campaigns::audiences::{search, Search};
use crate::campaigns::{Audience, CampaignBook, Member};
use crate::domain::audience::{parse_upload, row_data, MAX_CSV_BYTES};
use crate::domain::page::Page;
use crate::domain::time::iso;
use crate::domain::DomainError;
use crate::http::error::{multipart_error, ApiError, ApiResult, Reply};
use crate::http::extract::{ApiJson, ApiQuery, Org, OrgPath, OrgState};
use crate::http::render;
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        (create_audience, list_audiences),
        (get_audience, delete_audience),
        (list_members, add_members, delete_members),
        search_members
    ]
    .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}

/// Largest request body on the audience routes: a 5 MB CSV plus room for
/// the other multipart fields (see `extract::body_limit`).
pub(crate) const UPLOAD_LIMIT: usize = MAX_CSV_BYTES + 256 * 1024;

fn missing(id: &str) -> bool {
    matches!(id.trim(), "" | "undefined" | "null")
}

/// The path's audience id: 400 `Audience ID missing` when it is blank,
/// `undefined` or `null` (R180, R184, R185).
fn given(id: &str) -> ApiResult<&str> {
    if missing(id) {
        return Err(ApiError::BadRequest("Audience ID missing".into()));
    }
    Ok(id)
}

fn not_found() -> ApiError {
    ApiError::Rule(DomainError::NotFound("Audience not found".into()))
}

/// Reads one audience of `t` through `f`; 404 when it is not there.
fn with_audience<R>(t: &Tenant, id: &str, f: impl FnOnce(&Audience) -> R) -> ApiResult<R> {
    t.campaigns().audience(id).map(f).ok_or_else(not_found)
}

fn doc(a: &Audience, t: &Tenant) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("_id".into(), json!(a.id));
    m.insert("name".into(), json!(a.name));
    m.insert("description".into(), json!(a.description));
    m.insert("phoneNumberColumnName".into(), json!(a.phone_col));
    m.insert("identifierColumnName".into(), json!(a.id_col));
    m.insert("organization".into(), json!(t.org_id()));
    m.insert("createdBy".into(), json!(t.user_id()));
    m.insert("createdAt".into(), json!(iso(a.created_at)));
    m.insert("updatedAt".into(), json!(iso(a.updated_at)));
    m
}

fn member(m: &Member) -> Value {
    json!({"_id": m.id, "data": m.data})
}

/// The rejection of a body that is not `multipart/form-data` with a
/// boundary: a `multipart/*` type is named, anything else lacks the CSV.
fn not_multipart(headers: &HeaderMap) -> ApiError {
    match headers.get(CONTENT_TYPE).map(|c| String::from_utf8_lossy(c.as_bytes())) {
        Some(c) if c.trim_start().to_ascii_lowercase().starts_with("multipart/") => {
            let c: String = c.chars().take(100).collect();
            ApiError::BadRequest(format!(
                "Malformed multipart body: expected Content-Type multipart/form-data with a boundary parameter, received '{c}'"
            ))
        }
        _ => ApiError::BadRequest("CSV file is required".into()),
    }
}

/// The multipart fields of `POST /audience`.
#[derive(Debug, Default)]
struct Upload {
    fields: Map<String, Value>,
    file: Option<Vec<u8>>,
}

async fn read_upload(mut mp: Multipart) -> ApiResult<Upload> {
    let mut up = Upload::default();
    let bad = |e| multipart_error(&e, "CSV file exceeds the maximum size of 5 MB");
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            up.file = Some(field.bytes().await.map_err(bad)?.to_vec());
        } else {
            up.fields.insert(name, json!(field.text().await.map_err(bad)?));
        }
    }
    Ok(up)
}

/// Create an audience from a CSV (R177, R178): multipart fields `name`,
/// `phoneNumberColumnName`, `file` (required), `description`,
/// `identifierColumnName`. 200 (not 201) with the audience. 400: `CSV file
/// is required`, the duplicate-phone message, `Audience cannot exceed 10000
/// members`, and (inferred) column-name, phone-format and 5 MB messages,
/// and `Audience limit reached: …` past 1,000 audiences or `Audience
/// member limit reached: …` past 200,000 members across them (mock bounds).
/// A CSV column named `scenario` picks each member's mock scenario. A
/// `multipart/*` content type without a `boundary` parameter: 400
/// `Malformed multipart body: …`; any other content type: `CSV file is
/// required`. A body stalled past the body timeout: 408.
#[utoipa::path(post, path = "/audience", tag = "Audience",
    request_body(content = String, content_type = "multipart/form-data", description = "`name`, `phoneNumberColumnName`, `file` (CSV ≤ 5 MB), `description?`, `identifierColumnName?`"),
    responses((status = 200, description = "The audience"), (status = 400, description = "CSV or field error")))]
async fn create_audience(
    OrgState(s, t): OrgState,
    headers: HeaderMap,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Reply {
    let up = read_upload(mp.map_err(|_| not_multipart(&headers))?).await?;
    let a = up.audience(&s)?;
    let body = Value::Object(doc(&a, &t));
    t.campaigns().insert_audience(a)?;
    Ok(render::ok(body))
}

impl Upload {
    /// The audience the upload describes (R177, R178): `CSV file is
    /// required`, `<field>: Required`, and the CSV's own errors.
    fn audience(&self, s: &AppState) -> ApiResult<Audience> {
        let text = |k: &str| self.fields.get(k).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
        let required = |k: &str| text(k).ok_or_else(|| ApiError::BadRequest(format!("{k}: Required")));
        let file = self.file.as_deref().filter(|f| !f.is_empty());
        let file = file.ok_or_else(|| ApiError::BadRequest("CSV file is required".into()))?;
        let (name, phone_col) = (required("name")?, required("phoneNumberColumnName")?);
        let id_col = text("identifierColumnName");
        let csv = parse_upload(file, phone_col, id_col)?;
        let (now, ids) = (s.store.clock().now(), s.store.ids());
        Ok(Audience {
            id: ids.object_id(now),
            name: name.to_string(),
            description: text("description").unwrap_or("").to_string(),
            phone_col: phone_col.to_string(),
            id_col: id_col.map(str::to_string),
            members: csv
                .rows
                .iter()
                .map(|r| Member { id: ids.object_id(now), data: row_data(&csv.columns, r) })
                .collect(),
            columns: csv.columns,
            created_at: now,
            updated_at: now,
        })
    }
}

/// List the organization's audiences, newest first (R179), each with
/// `memberCount`, `hasCampaigns` and `campaigns` (the active campaigns
/// using it: `[{_id, name, status, createdAt}]`).
#[utoipa::path(get, path = "/audience", tag = "Audience", responses((status = 200, description = "Audiences")))]
async fn list_audiences(Org(t): Org) -> Response {
    let book = t.campaigns();
    render::ok(Value::Array(book.audiences().map(|a| listed(&book, a, &t)).collect()))
}

/// An audience as `GET /audience` lists it (R179): with `memberCount`,
/// `hasCampaigns` and the active campaigns using it, `[{_id, name,
/// status, createdAt}]`.
fn listed(book: &CampaignBook, a: &Audience, t: &Tenant) -> Value {
    let using: Vec<Value> = book
        .campaigns()
        .filter(|c| c.audience_id == a.id && !c.progress.status.is_terminal())
        .map(|c| json!({"_id": c.id, "name": c.name, "status": c.progress.status.as_str(), "createdAt": iso(c.created_at)}))
        .collect();
    let mut m = doc(a, t);
    m.remove("identifierColumnName");
    m.insert("memberCount".into(), json!(a.members.len()));
    m.insert("hasCampaigns".into(), json!(!using.is_empty()));
    m.insert("campaigns".into(), json!(using));
    Value::Object(m)
}

/// One audience (R180). 400 `Audience ID missing`; 404 when unknown or
/// another organization's (never 403).
#[utoipa::path(get, path = "/audience/{id}", tag = "Audience", params(("id" = String, Path, description = "Audience id")),
    responses((status = 200, description = "The audience"), (status = 400, description = "Audience ID missing"), (status = 404, description = "Audience not found")))]
async fn get_audience(Org(t): Org, Path(id): Path<String>) -> Reply {
    let body = with_audience(&t, given(&id)?, |a| Value::Object(doc(a, &t)))?;
    Ok(render::ok(body))
}

/// Delete an audience (R185): `data: []`. 400 `can't delete audience,
/// campaign with this audience <id> exists` while an active campaign uses
/// it; 404 when unknown.
#[utoipa::path(delete, path = "/audience/{id}", tag = "Audience", params(("id" = String, Path, description = "Audience id")),
    responses((status = 200, description = "`data: []`"), (status = 400, description = "Used by an active campaign"), (status = 404, description = "Audience not found")))]
async fn delete_audience(Org(t): Org, Path(id): Path<String>) -> Reply {
    t.campaigns().delete_audience(given(&id)?)?;
    Ok(render::ok(json!([])))
}

fn positive(q: &Map<String, Value>, key: &str, default: usize) -> Result<usize, String> {
    match q.get(key).and_then(Value::as_str) {
        None => Ok(default),
        Some(v) => {
            v.trim().parse::<usize>().ok().filter(|n| *n >= 1).ok_or(format!("{key} must be a positive integer"))
        }
    }
}

/// `?page` (from 1) and `?offset` (the page size, default 5): `<key> must
/// be a positive integer` otherwise.
fn members_page(q: &Map<String, Value>) -> Result<Page, String> {
    Ok(Page::numbered(positive(q, "page", 1)?, positive(q, "offset", 5)?))
}

/// A page of `a`'s members: `{members, totalCount, totalPages, hasMore}`.
fn members_of(a: &Audience, page: Page) -> Value {
    let (total, members) = (a.members.len(), page.of(&a.members).map(member).collect::<Vec<_>>());
    json!({"members": members, "totalCount": total, "totalPages": page.total_pages(total), "hasMore": page.has_more(total)})
}

/// Members, paged (R181): `?page=1&offset=5` where `offset` is the page
/// **size** (`limit` is ignored). `{members: [{_id, data}], totalCount,
/// totalPages, hasMore}`. 400 (`"status": "error"`) `Audience ID is
/// required` or a bad page/offset; 404 `Audience not found` unknown; 403
/// `Forbidden — audience belongs to a different organization` another
/// organization's (R181, L-I1; words inferred from the spec's
/// description).
#[utoipa::path(get, path = "/audience/{id}/members", tag = "Audience",
    params(("id" = String, Path, description = "Audience id"), ("page" = Option<usize>, Query, description = "From 1"),
           ("offset" = Option<usize>, Query, description = "Page size (default 5)")),
    responses((status = 200, description = "A page of members"), (status = 400, description = "`{status: \"error\"}`"),
              (status = 403, description = "Another organization's audience"), (status = 404, description = "Audience not found")))]
async fn list_members(
    OrgState(s, t): OrgState,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<Map<String, Value>>,
) -> Reply {
    if missing(&id) {
        return Err(ApiError::StatusError("Audience ID is required".into()));
    }
    let page = members_page(&q).map_err(ApiError::StatusError)?;
    with_audience(&t, &id, |a| members_of(a, page)).map(render::ok).map_err(|e| {
        if s.store.held_elsewhere(&t, |o| o.campaigns().audience(&id).is_some()) {
            ApiError::Rule(DomainError::Forbidden(FOREIGN_AUDIENCE.into()))
        } else {
            e
        }
    })
}

/// R181's 403 for another organization's audience.
const FOREIGN_AUDIENCE: &str = "Forbidden — audience belongs to a different organization";

/// Add members (R182, R183, R186): `{members: [{<column>: value}]}`. 200
/// `data: [{message: "<N> members added successfully", data: {added,
/// skipped}}]`; duplicates are skipped. 400 `Each member must have a <col>
/// field`, the limit message (10,000 per audience; 200,000 across the
/// organization's audiences, a mock bound), or while an active campaign
/// uses the audience; 404 unknown or another organization's.
#[utoipa::path(post, path = "/audience/{id}/members", tag = "Audience", params(("id" = String, Path, description = "Audience id")),
    request_body = AddMembersRequest,
    responses((status = 200, description = "Added and skipped counts"), (status = 400, description = "Invalid member or limit"), (status = 404, description = "Audience not found")))]
async fn add_members(
    OrgPath(s, t, id): OrgPath<String>,
    ApiJson(AddMembersRequest { members }): ApiJson<AddMembersRequest>,
) -> Reply {
    let now = s.store.clock().now();
    let (added, skipped) = t.campaigns().add_members(&id, members, || s.store.ids().object_id(now), now)?;
    let message = format!("{added} members added successfully");
    Ok(render::ok(json!([{"message": message, "data": {"added": added, "skipped": skipped}}])))
}

/// Delete members by id (R184): `{memberIds: [...]}` → `{deletedCount}`.
/// 400 while an active campaign uses the audience (R186); 404 unknown.
#[utoipa::path(delete, path = "/audience/{id}/members", tag = "Audience", params(("id" = String, Path, description = "Audience id")),
    request_body = DeleteMembersRequest,
    responses((status = 200, description = "`{deletedCount}`"), (status = 400, description = "Invalid body"), (status = 404, description = "Audience not found")))]
async fn delete_members(OrgPath(s, t, id): OrgPath<String>, ApiJson(body): ApiJson<DeleteMembersRequest>) -> Reply {
    let n = t.campaigns().delete_members(given(&id)?, &body.member_ids, s.store.clock().now())?;
    Ok(render::ok(json!({"deletedCount": n})))
}

const SEARCH_REQUIRED: &str = "At least one search parameter is required. Use 'query' for general search across all \
                               fields, or use field-specific searches like 'firstName=john' or 'phoneNumber=123456'.";

/// Search members (R187): `?query=term` (any field) **or** field params
/// (`?firstName=john&…`, all must match), case-insensitive substrings.
/// `{members, searchInfo: {searchType: general|multiple, searchTerm,
/// searchFields, totalResults}}`. 400 with neither (the exact message) or
/// both (inferred); 404 unknown or another organization's.
#[utoipa::path(get, path = "/audience/{id}/members/search", tag = "Audience",
    params(("id" = String, Path, description = "Audience id"), ("query" = Option<String>, Query, description = "General search")),
    responses((status = 200, description = "Matches"), (status = 400, description = "No search parameter"), (status = 404, description = "Audience not found")))]
async fn search_members(Org(t): Org, Path(id): Path<String>, ApiQuery(q): ApiQuery<Vec<(String, String)>>) -> Reply {
    let query = search_query(q)?;
    Ok(render::ok(with_audience(&t, &id, |a| search_result(a, &query))?))
}

/// `?query=` alone, or field params alone: 400 with neither (R187's
/// message) or both (inferred).
fn search_query(q: Vec<(String, String)>) -> Result<Search, ApiError> {
    let general = q.iter().find(|(k, _)| k == "query").map(|(_, v)| v.clone());
    let fields: Vec<(String, String)> = q.into_iter().filter(|(k, _)| k != "query").collect();
    match (general, fields.is_empty()) {
        (None, true) => Err(ApiError::BadRequest(SEARCH_REQUIRED.into())),
        (Some(_), false) => Err(ApiError::BadRequest("Use either 'query' or field-specific searches, not both".into())),
        (Some(g), true) => Ok(Search::General(g)),
        (None, false) => Ok(Search::Fields(fields)),
    }
}

/// `{members, searchInfo: {searchType, searchTerm, searchFields,
/// totalResults}}` of `query` over `a` (R187).
fn search_result(a: &Audience, query: &Search) -> Value {
    let hits: Vec<Value> = search(a, query).into_iter().map(member).collect();
    let (kind, term, names) = match query {
        Search::General(g) => ("general", g.clone(), a.columns.clone()),
        Search::Fields(f) => (
            "multiple",
            f.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" "),
            f.iter().map(|(k, _)| k.clone()).collect(),
        ),
    };
    let info = json!({"searchType": kind, "searchTerm": term, "searchFields": names, "totalResults": hits.len()});
    json!({"members": hits, "searchInfo": info})
}
