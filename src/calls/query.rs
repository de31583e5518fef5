//! The call-log list query of `GET /conversation` (BEHAVIOR R111–R113,
//! L-E5): parsing its string parameters, filtering, sorting and paging.
//! Pure: no locks, no clock, no HTTP; the handler passes the calls in.
//!
//! Rules the reference leaves open, decided here:
//! - `durationFilter` ranges are half-open on whole seconds: `0-30` is
//!   0 ≤ d < 30, `30-60` is 30 ≤ d < 60, `1-5` is 60 ≤ d < 300 and `5+` is
//!   d ≥ 300. Several ranges are a union.
//! - `callAttemptFilter` is a comma list too (the spec says so); `all`
//!   wins over the others.
//! - Ties in every sort break by creation order (newest first when
//!   descending), so pages are stable.
//! - `sortBy=avgLatency` counts a call without turns as 0 ms.
//! - `search` is trimmed (a `+` in a query string decodes to a space) and
//!   matched case-insensitively as a substring of `callId`, `from`, `to`.

use serde::Deserialize;
use utoipa::IntoParams;

use super::Call;
use crate::domain::query;
use crate::domain::time::parse_iso;
use crate::domain::{enum_message, Millis};

/// Largest page (R111); larger `limit`s are clamped to it.
pub const MAX_LIMIT: usize = 500;
/// Page size when `limit` is absent (R111).
pub const DEFAULT_LIMIT: usize = 5;

const CALL_TYPES: [&str; 3] = ["telephony_inbound", "telephony_outbound", "webcall"];
const STATUSES: [&str; 9] =
    ["pending", "in_progress", "in_queue", "processing", "active", "completed", "failed", "no_answer", "cancelled"];
const REASONS: [&str; 7] = [
    "user_hangup",
    "agent_hangup",
    "connection_error",
    "timeout",
    "system_error",
    "transfer_complete",
    "dial_no_answer",
];
const ATTEMPTS: [&str; 3] = ["initial", "retry", "all"];
const DURATIONS: [&str; 4] = ["0-30", "30-60", "1-5", "5+"];
const SORTS: [&str; 4] = ["createdAt", "updatedAt", "callDuration", "avgLatency"];

/// The raw query string of `GET /conversation`, every value a string so
/// that a bad one gets a 400 naming the parameter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Page number, ≥ 1 (default 1).
    pub page: Option<String>,
    /// Page size, ≥ 1 (default 5); values above 500 are clamped to 500.
    pub limit: Option<String>,
    /// Comma-separated agent ids.
    pub agent_ids: Option<String>,
    /// Comma-separated campaign ids.
    pub campaign_ids: Option<String>,
    /// Comma-separated `telephony_inbound`, `telephony_outbound`, `webcall`.
    pub call_types: Option<String>,
    /// Substring of `callId`, `from` or `to`.
    pub search: Option<String>,
    /// Comma-separated statuses (R109).
    pub status_filter: Option<String>,
    /// Comma-separated disconnect reasons (R110).
    pub disconnect_reason_filter: Option<String>,
    /// `initial` (default: root calls only), `retry` or `all` (L-E5).
    pub call_attempt_filter: Option<String>,
    /// Comma-separated `0-30`, `30-60` (seconds), `1-5`, `5+` (minutes).
    pub duration_filter: Option<String>,
    /// `createdAt`, `updatedAt` (default), `callDuration`, `avgLatency`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default).
    pub sort_order: Option<String>,
    /// ISO date-time: calls created at or after it.
    pub date_from: Option<String>,
    /// ISO date-time: calls created at or before it.
    pub date_to: Option<String>,
    /// Comma-separated version ids.
    pub version_filter: Option<String>,
}

/// A parsed, validated list query.
#[derive(Debug, Clone, PartialEq)]
pub struct LogQuery {
    /// 1-based page.
    pub page: usize,
    /// Page size, 1–500.
    pub limit: usize,
    agent_ids: Option<Vec<String>>,
    campaign_ids: Option<Vec<String>>,
    call_types: Option<Vec<String>>,
    search: Option<String>,
    statuses: Option<Vec<String>>,
    reasons: Option<Vec<String>>,
    roots: bool,
    retries: bool,
    durations: Option<Vec<String>>,
    sort_by: String,
    ascending: bool,
    date_from: Option<Millis>,
    date_to: Option<Millis>,
    versions: Option<Vec<String>>,
}

/// A page of matches.
#[derive(Debug)]
pub struct Page {
    /// The calls of the page, in order.
    pub calls: Vec<Call>,
    /// Matches over all pages.
    pub total: usize,
}

fn list(v: Option<&String>) -> Option<Vec<String>> {
    Some(query::items(v.map(String::as_str))?.into_iter().map(str::to_string).collect())
}

fn enum_list(name: &str, v: Option<&String>, allowed: &[&str]) -> Result<Option<Vec<String>>, String> {
    let items = list(v);
    if let Some(bad) = items.iter().flatten().find(|x| !allowed.contains(&x.as_str())) {
        return Err(enum_message(name, allowed, bad));
    }
    Ok(items)
}

fn id_list(name: &str, v: Option<&String>) -> Result<Option<Vec<String>>, String> {
    query::ids(name, v.map(String::as_str))
}

fn number(name: &str, v: Option<&String>, default: usize) -> Result<usize, String> {
    query::value(v.map(String::as_str)).map_or(Ok(default), |s| query::positive(name, s))
}

fn date(name: &str, v: Option<&String>) -> Result<Option<Millis>, String> {
    match query::value(v.map(String::as_str)) {
        None => Ok(None),
        Some(s) => parse_iso(s).map(Some).ok_or_else(|| format!("{name}: Invalid ISO date-time '{s}'")),
    }
}

impl LogQuery {
    /// Validates `p`. The error is the 400 message, naming the parameter.
    pub fn parse(p: &LogParams) -> Result<Self, String> {
        let attempts = enum_list("callAttemptFilter", p.call_attempt_filter.as_ref(), &ATTEMPTS)?
            .unwrap_or_else(|| vec!["initial".into()]);
        let all = attempts.iter().any(|a| a == "all");
        let sort_by = enum_list("sortBy", p.sort_by.as_ref(), &SORTS)?.and_then(|v| v.into_iter().next());
        let order = enum_list("sortOrder", p.sort_order.as_ref(), &["asc", "desc"])?;
        Ok(Self {
            page: number("page", p.page.as_ref(), 1)?,
            limit: number("limit", p.limit.as_ref(), DEFAULT_LIMIT)?.min(MAX_LIMIT),
            agent_ids: id_list("agentIds", p.agent_ids.as_ref())?,
            campaign_ids: id_list("campaignIds", p.campaign_ids.as_ref())?,
            call_types: enum_list("callTypes", p.call_types.as_ref(), &CALL_TYPES)?,
            search: p.search.as_deref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()),
            statuses: enum_list("statusFilter", p.status_filter.as_ref(), &STATUSES)?,
            reasons: enum_list("disconnectReasonFilter", p.disconnect_reason_filter.as_ref(), &REASONS)?,
            roots: all || attempts.iter().any(|a| a == "initial"),
            retries: all || attempts.iter().any(|a| a == "retry"),
            durations: enum_list("durationFilter", p.duration_filter.as_ref(), &DURATIONS)?,
            sort_by: sort_by.unwrap_or_else(|| "updatedAt".into()),
            ascending: order.is_some_and(|o| o.iter().any(|x| x == "asc")),
            date_from: date("dateFrom", p.date_from.as_ref())?,
            date_to: date("dateTo", p.date_to.as_ref())?,
            versions: id_list("versionFilter", p.version_filter.as_ref())?,
        })
    }

    /// True when `c` passes every filter.
    pub fn matches(&self, c: &Call) -> bool {
        let within = |set: &Option<Vec<String>>, v: Option<&str>| {
            set.as_ref().is_none_or(|s| v.is_some_and(|v| s.iter().any(|x| x == v)))
        };
        let is_retry = c.retry_attempt_number > 0;
        within(&self.agent_ids, Some(&c.agent_id))
            && within(&self.campaign_ids, c.campaign_id.as_deref())
            && within(&self.call_types, Some(c.call_type.as_str()))
            && within(&self.statuses, Some(c.status.as_str()))
            && within(&self.reasons, c.disconnect_reason.as_deref())
            && within(&self.versions, Some(&c.version_id))
            && (if is_retry { self.retries } else { self.roots })
            && self.durations.as_ref().is_none_or(|d| d.iter().any(|r| in_range(r, super::render::duration_secs(c))))
            && self.date_from.is_none_or(|f| c.created_at >= f)
            && self.date_to.is_none_or(|t| c.created_at <= t)
            && self.search.as_deref().is_none_or(|q| searched(c, q))
    }

    /// `Some(ascending)` when the query is the default list in either
    /// order: root calls only (`callAttemptFilter=initial`), no filter,
    /// no search, `sortBy=updatedAt`; any `page` and `limit`. The store
    /// keeps that order ([`crate::store::CallBook::roots_page`]); every
    /// other query filters and sorts all calls ([`LogQuery::select`]).
    pub fn default_order(&self) -> Option<bool> {
        let default = Self::parse(&LogParams::default()).ok()?;
        let same = Self { page: self.page, limit: self.limit, ascending: self.ascending, ..default };
        (*self == same).then_some(self.ascending)
    }

    /// Filters, sorts and pages `calls` (given in creation order).
    pub fn select(&self, calls: Vec<Call>) -> Page {
        let mut hits: Vec<(usize, Call)> = calls.into_iter().filter(|c| self.matches(c)).enumerate().collect();
        hits.sort_by(|(ia, a), (ib, b)| {
            let ord = match self.sort_by.as_str() {
                "createdAt" => a.created_at.cmp(&b.created_at),
                "callDuration" => a.duration_ms().cmp(&b.duration_ms()),
                "avgLatency" => a.avg_latency_ms().total_cmp(&b.avg_latency_ms()),
                _ => a.updated_at.cmp(&b.updated_at),
            }
            .then(ia.cmp(ib));
            if self.ascending {
                ord
            } else {
                ord.reverse()
            }
        });
        let total = hits.len();
        let skip = self.page.saturating_sub(1).saturating_mul(self.limit);
        Page { calls: hits.into_iter().skip(skip).take(self.limit).map(|(_, c)| c).collect(), total }
    }
}

fn in_range(range: &str, secs: u64) -> bool {
    match range {
        "0-30" => secs < 30,
        "30-60" => (30..60).contains(&secs),
        "1-5" => (60..300).contains(&secs),
        _ => secs >= 300,
    }
}

fn searched(c: &Call, needle: &str) -> bool {
    [Some(c.call_id.as_str()), c.from.as_deref(), c.to.as_deref()]
        .into_iter()
        .flatten()
        .any(|h| h.to_lowercase().contains(needle))
}

/// `pagination` of the list response (R112): `{total, page, limit,
/// hasMore, totalPages}`.
pub fn pagination(total: usize, page: usize, limit: usize) -> serde_json::Value {
    let pages = total.div_ceil(limit.max(1));
    serde_json::json!({"total": total, "page": page, "limit": limit, "hasMore": page < pages, "totalPages": pages})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> LogParams {
        let map: serde_json::Map<String, serde_json::Value> =
            pairs.iter().map(|(k, v)| ((*k).to_string(), serde_json::Value::String((*v).to_string()))).collect();
        serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default()
    }

    #[test]
    fn defaults_are_page_1_limit_5_roots_by_updated_at_desc() {
        let q = LogQuery::parse(&LogParams::default()).expect("valid");
        assert_eq!((q.page, q.limit, q.roots, q.retries), (1, 5, true, false));
        assert_eq!((q.sort_by.as_str(), q.ascending), ("updatedAt", false));
    }

    #[test]
    fn only_page_limit_and_order_keep_the_default_order() {
        let order = |pairs: &[(&str, &str)]| LogQuery::parse(&params(pairs)).expect("valid").default_order();
        assert_eq!(order(&[]), Some(false));
        assert_eq!(order(&[("page", "3"), ("limit", "50"), ("sortOrder", "asc"), ("sortBy", "updatedAt")]), Some(true));
        assert_eq!(order(&[("callAttemptFilter", "initial")]), Some(false));
        for other in
            [("sortBy", "createdAt"), ("callAttemptFilter", "all"), ("search", "555"), ("statusFilter", "failed")]
        {
            assert_eq!(order(&[other]), None, "{other:?}");
        }
    }

    #[test]
    fn limit_is_clamped_to_500_and_zero_is_refused() {
        assert_eq!(LogQuery::parse(&params(&[("limit", "9000")])).map(|q| q.limit), Ok(500));
        assert!(LogQuery::parse(&params(&[("limit", "0")])).is_err());
        assert!(LogQuery::parse(&params(&[("page", "x")])).expect_err("bad").starts_with("page:"));
    }

    #[test]
    fn enum_lists_name_the_bad_value() {
        let e = LogQuery::parse(&params(&[("callTypes", "webcall,fax")])).expect_err("fax");
        assert!(e.starts_with("callTypes: Invalid enum value") && e.ends_with("'fax'"), "{e}");
        let e = LogQuery::parse(&params(&[("durationFilter", "0-30,2-3")])).expect_err("2-3");
        assert!(e.contains("durationFilter"), "{e}");
    }

    #[test]
    fn attempt_filter_all_takes_roots_and_retries() {
        let q = LogQuery::parse(&params(&[("callAttemptFilter", "all")])).expect("valid");
        assert!(q.roots && q.retries);
        let q = LogQuery::parse(&params(&[("callAttemptFilter", "retry")])).expect("valid");
        assert!(!q.roots && q.retries);
    }

    #[test]
    fn duration_ranges_are_half_open() {
        assert!(in_range("0-30", 29) && !in_range("0-30", 30));
        assert!(in_range("30-60", 30) && in_range("1-5", 60) && in_range("5+", 300) && !in_range("1-5", 300));
    }

    #[test]
    fn pagination_counts_pages() {
        assert_eq!(
            pagination(11, 2, 5),
            serde_json::json!({"total": 11, "page": 2, "limit": 5, "hasMore": true, "totalPages": 3})
        );
        assert_eq!(pagination(0, 1, 5)["hasMore"], false);
    }
}
