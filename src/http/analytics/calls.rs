//! The per-call operations of the Analytics tag: `call-counts-log` (a
//! page of ended calls) and `conversation-details/{callId}`.

use crate::http::routes::{router, OpenApiRouter};

use super::{ok, ZONE};
use crate::calls::render::recording_link;
use crate::domain::analytics::params::{PageParams, PeriodParams};
use crate::domain::analytics::Scope;
use crate::http::error::Reply;
use crate::http::extract::{ApiQuery, OrgPath, OrgState};
use crate::http::ids::CallId;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    router![get_call_counts_log, get_conversation_details]
}

/// A page of the ended calls the filters admit, newest first: `{calls,
/// totalCalls, totalPages, currentPage, limit}`. Each call is `{orgId,
/// callId, agentId, agentName, campaignId?, campaignName?, callType
/// (outbound|inbound|webcall), timestamp (createdAt), callDurationMs,
/// callLatencyMs (mean turn latency), costSpent (credits),
/// disconnectionReason?, source (campaign|test|inbound|webcall|api),
/// recordingUrl?, callStatus, fromNumber?, toNumber?}`; a value the call
/// does not have is left out. `page` from 1, `limit` 10 by default and at
/// most 500 (larger values are clamped).
#[utoipa::path(get, path = "/analytics/call-counts-log", tag = "Analytics", params(PeriodParams, PageParams),
    responses((status = 200, description = "`{success, data: {calls, totalCalls, totalPages, currentPage, limit}}`"),
              (status = 400, description = "A bad query parameter")))]
async fn get_call_counts_log(
    OrgState(s, t): OrgState,
    ApiQuery(p): ApiQuery<PeriodParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Reply {
    let (scope, page) = (Scope::parse(&p, s.store.clock().now(), ZONE)?, page.parse()?);
    let base = s.calls.public_url();
    Ok(ok(s.store.call_counts_log(&t, &scope, page, |c| recording_link(c, &base))))
}

/// One call's transcript (`[{role, text, timestamp}]`, spoken order) and
/// events (`[{eventType, timestamp}]`, as the SSE stream sent them), with
/// `orgId`, `callId`, `agentName`, `workflowType`, `fromNumber?`,
/// `toNumber?` and `callDurationMs`. A live call answers with what it has
/// so far. 400 `Invalid call ID format`; 404 `Call log not found` for an
/// unknown call or another organization's.
#[utoipa::path(get, path = "/analytics/conversation-details/{callId}", tag = "Analytics",
    params(("callId" = CallId, Path, description = "`CALL-<ms>-<hex6>`")),
    responses((status = 200, description = "`{success, data: {orgId, callId, agentName, workflowType, transcript, events, callDurationMs}}`"),
              (status = 400, description = "Invalid call ID format"), (status = 404, description = "Call log not found")))]
async fn get_conversation_details(OrgPath(s, t, call_id): OrgPath<CallId>) -> Reply {
    Ok(ok(s.store.conversation_details(&t, &call_id)?))
}
