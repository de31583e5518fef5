//! `GET /dnc`: the query string, and one page of the list rendered with
//! the spec's keys (`data: {entries, pagination}`).

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{DncEntry, DncList, Source, DEFAULT_PAGE_SIZE, INVALID_AGENT_ID, MAX_PAGE_SIZE};
use crate::domain::ids::is_object_id;
use crate::domain::time::iso;
use crate::domain::DomainError;

impl DncList {
    /// One page of `GET /dnc` (see [`DncQuery`]), items rendered for the
    /// organization `org_id`.
    pub fn list(&self, q: &DncQuery, org_id: &str) -> DncPage {
        let mut hits: Vec<&DncEntry> = self
            .entries()
            .filter(|e| q.agent_id.as_deref().is_none_or(|a| e.agent_id.as_deref() == Some(a)))
            .filter(|e| q.search.as_deref().is_none_or(|s| matches_search(&e.phone_number, s)))
            .collect();
        match q.sort_field {
            SortField::CreatedAt => hits.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))),
            SortField::PhoneNumber => {
                hits.sort_by(|a, b| (&a.phone_number, a.created_at, &a.id).cmp(&(&b.phone_number, b.created_at, &b.id)))
            }
        }
        if q.sort_order == SortOrder::Desc {
            hits.reverse();
        }
        let total = hits.len();
        let start = (q.page - 1).saturating_mul(q.size);
        let entries = hits.into_iter().skip(start).take(q.size).map(|e| DncItem::of(e, org_id)).collect();
        let pagination = Pagination {
            page: q.page,
            offset: q.size,
            total,
            total_pages: total.div_ceil(q.size),
            has_more: start.saturating_add(q.size) < total,
        };
        DncPage { entries, pagination }
    }
}

/// True when `needle` (trimmed, non-empty) occurs in `phone`, or its
/// digits (a leading `+` dropped) occur in `phone`'s digits, so `4155`,
/// `+1415` and `14155550123` all find `+14155550123`.
fn matches_search(phone: &str, needle: &str) -> bool {
    let n = needle.trim();
    let digits = n.strip_prefix('+').unwrap_or(n);
    phone.contains(n) || (!digits.is_empty() && phone[1..].contains(digits))
}

/// `sortField` of `GET /dnc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// `createdAt` (default); ties by id.
    #[default]
    CreatedAt,
    /// `phoneNumber`, as text (E.164); ties by creation.
    PhoneNumber,
}

/// `sortOrder` of `GET /dnc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// `asc`.
    Asc,
    /// `desc` (default).
    #[default]
    Desc,
}

/// The query string of `GET /dnc` as received: every parameter is a
/// string (the spec types `page` and `offset` as strings too). The route
/// extracts it as is, and these docs are its OpenAPI parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RawDncQuery {
    /// 24-hex agent id: only that agent's entries
    pub agent_id: Option<String>,
    /// Substring of the phone number
    pub search: Option<String>,
    /// `createdAt` (default) or `phoneNumber`
    pub sort_field: Option<String>,
    /// `desc` (default) or `asc`
    pub sort_order: Option<String>,
    /// Page number from 1 (default `1`)
    pub page: Option<String>,
    /// Page size, clamped to 1–500 (default `50`)
    pub offset: Option<String>,
}

/// A checked `GET /dnc` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DncQuery {
    /// Only entries scoped to this agent (org-wide entries excluded).
    pub agent_id: Option<String>,
    /// Search text, trimmed, `None` when empty.
    pub search: Option<String>,
    /// Sort key.
    pub sort_field: SortField,
    /// Direction.
    pub sort_order: SortOrder,
    /// Page, ≥ 1.
    pub page: usize,
    /// Page size, 1–500.
    pub size: usize,
}

/// JavaScript's `parseInt` on a query value: optional spaces and sign,
/// then the leading digits; `None` when there are none.
fn parse_int_prefix(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    let n = digits.bytes().fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    (!digits.is_empty()).then_some(if neg { -n } else { n })
}

/// Checks a `GET /dnc` query. `page` and `offset` are read like the
/// platform's Express handlers read numbers (leading digits): an
/// unreadable `page` is 1 and one below 1 is 1; `offset` defaults to 50
/// and is clamped to 1–500 (spec). Errors (400): a malformed `agentId`
/// ([`INVALID_AGENT_ID`]), a `sortField`/`sortOrder` outside its enum.
pub fn parse_query(raw: &RawDncQuery) -> Result<DncQuery, DomainError> {
    let agent_id = match raw.agent_id.as_deref() {
        None | Some("") => None,
        Some(a) if is_object_id(a) => Some(a.to_string()),
        Some(_) => return Err(DomainError::invalid(INVALID_AGENT_ID)),
    };
    let sort_field = match raw.sort_field.as_deref() {
        None | Some("createdAt") => SortField::CreatedAt,
        Some("phoneNumber") => SortField::PhoneNumber,
        Some(v) => return Err(DomainError::invalid_enum("sortField", &["createdAt", "phoneNumber"], v)),
    };
    let sort_order = match raw.sort_order.as_deref() {
        None | Some("desc") => SortOrder::Desc,
        Some("asc") => SortOrder::Asc,
        Some(v) => return Err(DomainError::invalid_enum("sortOrder", &["asc", "desc"], v)),
    };
    let int = |v: &Option<String>| v.as_deref().and_then(parse_int_prefix);
    let page = usize::try_from(int(&raw.page).unwrap_or(1).max(1)).unwrap_or(usize::MAX);
    let size = int(&raw.offset).map_or(DEFAULT_PAGE_SIZE, |n| usize::try_from(n.max(1)).unwrap_or(usize::MAX));
    let search = raw.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    Ok(DncQuery { agent_id, search, sort_field, sort_order, page, size: size.min(MAX_PAGE_SIZE) })
}

/// One item of `data.entries`: exactly `id, agentId, orgId, phoneNumber,
/// source, detectedInCallId, createdAt, updatedAt`. An org-wide entry has
/// no `agentId` key (the spec types it as a non-null string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DncItem {
    /// Entry id (24 hex).
    pub id: String,
    /// Agent scope; absent for org-wide entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The organization's id.
    pub org_id: String,
    /// E.164.
    pub phone_number: String,
    /// `call_outcome` or `manual_upload`.
    pub source: Source,
    /// Detecting call id, or `null`.
    pub detected_in_call_id: Option<String>,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
}

impl DncItem {
    fn of(e: &DncEntry, org_id: &str) -> Self {
        Self {
            id: e.id.clone(),
            agent_id: e.agent_id.clone(),
            org_id: org_id.to_string(),
            phone_number: e.phone_number.clone(),
            source: e.source,
            detected_in_call_id: e.detected_in_call_id.clone(),
            created_at: iso(e.created_at),
            updated_at: iso(e.updated_at),
        }
    }
}

/// `data.pagination` of `GET /dnc`: `offset` is the page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Page number.
    pub page: usize,
    /// Page size.
    pub offset: usize,
    /// Matching entries.
    pub total: usize,
    /// `ceil(total / offset)`.
    pub total_pages: usize,
    /// A later page has entries.
    pub has_more: bool,
}

/// `data` of `GET /dnc`: `{entries, pagination}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DncPage {
    /// The page's entries.
    pub entries: Vec<DncItem>,
    /// Paging.
    pub pagination: Pagination,
}
