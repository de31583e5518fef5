//! `GET /dnc`: the organization's Do-Not-Call list, paged, searched and
//! sorted (spec tag DNC; rules in `crate::domain::dnc`). The platform has
//! no public write: entries come from call outcomes (a scenario's
//! `optOut`) and manual uploads (the control API, `admin::dnc`).

use crate::http::routes::{router, OpenApiRouter};

use super::error::Reply;
use super::extract::{ApiQuery, OrgState};
use super::render;
use crate::domain::dnc::RawDncQuery;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![list_dnc]
}

/// List the organization's Do-Not-Call entries: `{status: true, data:
/// {entries: [{id, agentId, orgId, phoneNumber, source, detectedInCallId,
/// createdAt, updatedAt}], pagination: {page, offset, total, totalPages,
/// hasMore}}}`. An org-wide entry has no `agentId`; `source` is
/// `call_outcome` or `manual_upload`; numbers are E.164 with `+`.
/// `agentId` keeps the entries scoped to that agent (org-wide ones
/// excluded); `search` matches a substring of the number, with or without
/// `+`; `sortField` `createdAt` (default, ties by id) or `phoneNumber`;
/// `sortOrder` `desc` (default) or `asc`; `page` from 1 and `offset` (the
/// page size, default 50, clamped to 1–500) are read like `parseInt`
/// (junk is the default). Errors: 400 `Invalid agent id`, 400
/// `sortField: Invalid enum value. …`, 404 `Resource not found` for an
/// agent of another organization.
#[utoipa::path(get, path = "/dnc", tag = "DNC",
    params(RawDncQuery),
    responses((status = 200, description = "`{status, data: {entries, pagination}}`"),
              (status = 400, description = "Invalid agent id or sort"),
              (status = 404, description = "Resource not found")))]
async fn list_dnc(OrgState(s, t): OrgState, ApiQuery(q): ApiQuery<RawDncQuery>) -> Reply {
    let page = s.store.dnc_page(&t, &q)?;
    Ok(render::ok(serde_json::to_value(page).unwrap_or_default()))
}
