//! `/campaign…`: create, list, get, delete, start, pause, stop and the two
//! exports (BEHAVIOR §H, R159–R176, L-H1–L-H6; stop from the SDK guide,
//! see `crate::domain::campaign`).
//!
//! A malformed campaign id gives 400 `Invalid campaign id` (inferred); an
//! unknown one (or another organization's) 404 `Campaign not found` where
//! the spec documents a 404 (delete, start, the by-audience-member export)
//! and 400 `no campaign found for id <id>` where it documents only 400
//! (`GET /campaign/{id}`, pause, `logs/export`; the wording is R176's). There is no update route: a campaign's agent cannot change
//! (R173), while agent config changes reach later dials.

use crate::http::routes::{router, OpenApiRouter};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::requests::CreateCampaignRequest;
use crate::campaigns::{render as view, Campaign};
use crate::domain::campaign::Command;
use crate::domain::campaign_list::{CampaignListQuery, RawCampaignListQuery};
use crate::domain::DomainError;
use crate::http::error::{ApiError, ApiResult, Reply};
use crate::http::extract::{ApiJson, ApiQuery, OrgPath, OrgState};
use crate::http::ids::CampaignId;
use crate::http::render;
use crate::state::AppState;
use crate::store::Tenant;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        (create_campaign, list_campaigns),
        (get_campaign, delete_campaign),
        start_campaign,
        pause_campaign,
        stop_campaign,
        export_by_member,
        export_logs
    ]
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::BadRequest(m.into())
}

/// Create a campaign (R159–R162). 201 with the raw stored document
/// (`agentId`/`audienceId` plain ids); `status` is `scheduled` with a
/// `scheduledAt`, else `draft`. Never dials. 400: `<field>: Required`,
/// `Invalid agent id`, `Agent not found`, `Audience not found`, `Invalid
/// product id` (a `phoneNumberIds` entry not rented or imported), archived
/// agent, `scheduledAt must be in the future`, out-of-range `maxRetries`
/// (0–10, default 3) or `retryDelay` (1–1440 minutes, default 15).
#[utoipa::path(post, path = "/campaign", tag = "Campaigns",
    request_body = CreateCampaignRequest,
    responses((status = 201, description = "The stored campaign"), (status = 400, description = "Validation error")))]
async fn create_campaign(OrgState(s, t): OrgState, ApiJson(body): ApiJson<CreateCampaignRequest>) -> Reply {
    let c = s.campaigns.create(&t, body.into_new(s.store.clock().now())?)?;
    Ok(render::created(view::document(&c, t.org_id(), t.user_id())))
}

/// Query of `GET /campaign` (R171).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCampaignsQuery {
    /// Page, from 1 (default 1).
    page: Option<usize>,
    /// Page size (default 5).
    offset: Option<usize>,
    /// Page size too, as the SDK's `Campaign.list(limit=50)` helper sends
    /// it; with both, `limit` wins (as on `GET /agent`). Not in the spec.
    limit: Option<usize>,
    /// One status.
    status: Option<String>,
    /// Substring of the name (case-insensitive).
    search: Option<String>,
    /// `createdAt` (default) or `updatedAt`.
    sort_field: Option<String>,
    /// `asc` or `desc` (default).
    sort_order: Option<String>,
}

impl ListCampaignsQuery {
    /// The validated query.
    fn parse(&self) -> Result<CampaignListQuery, DomainError> {
        CampaignListQuery::parse(RawCampaignListQuery {
            status: self.status.as_deref(),
            search: self.search.as_deref(),
            sort_field: self.sort_field.as_deref(),
            sort_order: self.sort_order.as_deref(),
            page: self.page,
            offset: self.limit.or(self.offset),
        })
    }
}

/// A campaign with `{_id, name, workflowType}` of its agent and `{_id,
/// name}` of its audience (the name at creation if it was deleted since).
fn populated(s: &AppState, t: &Tenant, c: &Campaign, audience: Option<String>) -> Value {
    let agent = s
        .store
        .read_agent(
            t,
            &c.agent_id,
            |r| json!({"_id": r.agent.id, "name": r.agent.name, "workflowType": r.agent.workflow_type}),
        )
        .unwrap_or_else(|_| json!({"_id": c.agent_id}));
    let name = audience.unwrap_or_else(|| c.audience_name.clone());
    view::campaign(c, t.org_id(), t.user_id(), agent, json!({"_id": c.audience_id, "name": name}))
}

/// List campaigns (R171): filters `status`, `search`; `sortField`
/// createdAt|updatedAt, `sortOrder` (desc); `offset` is the page size
/// (default 5), and so is `limit`, which the SDK's `Campaign` helper sends
/// (inferred from that vendor client; `limit` wins over `offset`). `{campaigns, pagination: {total, page, offset, hasMore,
/// totalPages}, totalCampaignCount}` (the last is unfiltered). The page
/// is taken under the campaign book's lock alone; agents are read after
/// (`campaigns::list`).
#[utoipa::path(get, path = "/campaign", tag = "Campaigns", params(ListCampaignsQuery),
    responses((status = 200, description = "A page of campaigns"), (status = 400, description = "Bad filter")))]
async fn list_campaigns(OrgState(s, t): OrgState, ApiQuery(q): ApiQuery<ListCampaignsQuery>) -> Reply {
    let query = q.parse()?;
    let page = s.campaigns.list(&t, &query);
    let items: Vec<Value> = page.items.into_iter().map(|(c, audience)| populated(&s, &t, &c, audience)).collect();
    let (p, total) = (query.page, page.total);
    let pagination = json!({"total": total, "page": q.page.unwrap_or(1).max(1), "offset": p.size,
        "hasMore": p.has_more(total), "totalPages": p.total_pages(total)});
    Ok(render::ok(json!({"campaigns": items, "pagination": pagination, "totalCampaignCount": page.all})))
}

/// Campaign `id` and its audience's name: 404 `Campaign not found`.
fn found(s: &AppState, t: &Tenant, id: &str) -> ApiResult<(Campaign, Option<String>)> {
    s.campaigns.snapshot(t, id).ok_or_else(|| ApiError::Rule(DomainError::NotFound("Campaign not found".into())))
}

/// An unknown campaign where the spec documents no 404: 400 `no campaign
/// found for id <id>` (R176's wording).
fn unknown_as_400(id: &str) -> impl Fn(ApiError) -> ApiError + '_ {
    move |e| match e {
        ApiError::Rule(DomainError::NotFound(_)) => bad(format!("no campaign found for id {id}")),
        other => other,
    }
}

/// One campaign (R168–R170): `{campaign: {…, agent, audience, pausedAt,
/// cancelledCallsCount, error, failedAt}, events: [...], metrics:
/// {total_participants, contacts_called, contacts_connected}}`.
/// Unknown: 400 `no campaign found for id <id>` (the spec documents no 404).
#[utoipa::path(get, path = "/campaign/{id}", tag = "Campaigns", params(("id" = CampaignId, Path, description = "Campaign id")),
    responses((status = 200, description = "Campaign, events and metrics"), (status = 400, description = "Malformed or unknown id")))]
async fn get_campaign(OrgPath(s, t, id): OrgPath<CampaignId>) -> Reply {
    let (c, audience) = found(&s, &t, &id).map_err(unknown_as_400(&id))?;
    let calls = s.campaigns.calls_of(&t, &id);
    let campaign = populated(&s, &t, &c, audience);
    Ok(render::ok(json!({"campaign": campaign, "events": view::events(&c), "metrics": view::metrics(&c, &calls)})))
}

/// Delete a campaign and its history (R172): 200 `{status: true}`; allowed
/// while running (queued calls are cancelled); 404 when unknown.
#[utoipa::path(delete, path = "/campaign/{id}", tag = "Campaigns", params(("id" = CampaignId, Path, description = "Campaign id")),
    responses((status = 200, description = "`{status: true}`"), (status = 404, description = "Campaign not found")))]
async fn delete_campaign(OrgPath(s, t, id): OrgPath<CampaignId>) -> Reply {
    s.campaigns.delete(&t, &id)?;
    Ok(Json(json!({"status": true})).into_response())
}

/// Start or resume (R164, R165): 202 `{message: "Campaign is being
/// processed", taskId, campaignId}`. The status becomes `processing`, then
/// `running` one second later on the clock. Idempotent; never dials a
/// member twice. 400 on a completed or failed campaign; 404 unknown.
#[utoipa::path(post, path = "/campaign/{id}/start", tag = "Campaigns", params(("id" = CampaignId, Path, description = "Campaign id")),
    responses((status = 202, description = "Queued"), (status = 400, description = "Completed or failed"), (status = 404, description = "Campaign not found")))]
async fn start_campaign(OrgPath(s, t, id): OrgPath<CampaignId>) -> Reply {
    s.campaigns.run(&t, &id, &Command::Start)?;
    let data = json!({"message": "Campaign is being processed", "taskId": s.store.ids().uuid(), "campaignId": id.into_string()});
    Ok((StatusCode::ACCEPTED, Json(render::success(data))).into_response())
}

/// Pause (R166): 200 `{status: true}`; one second later on the clock the
/// campaign is `paused` with `pausedAt`: in-flight calls finish, queued
/// ones are cancelled and counted in `cancelledCallsCount`. 400 unless
/// processing, running or paused (inferred); unknown: 400 `no campaign
/// found for id <id>` (the spec documents no 404).
#[utoipa::path(post, path = "/campaign/{id}/pause", tag = "Campaigns", params(("id" = CampaignId, Path, description = "Campaign id")),
    responses((status = 200, description = "Pause queued"), (status = 400, description = "Not running / unknown")))]
async fn pause_campaign(OrgPath(s, t, id): OrgPath<CampaignId>) -> Reply {
    s.campaigns.run(&t, &id, &Command::Pause).map_err(|e| unknown_as_400(&id)(e.into()))?;
    Ok(Json(json!({"status": true})).into_response())
}

/// Stop for good (the SDK guide's `Campaign.stop`; in no BEHAVIOR rule or
/// the spec, so the details are inferred): 200 `{status: true}`, at once.
/// Nobody is dialled again and nothing is retried; calls waiting for a
/// slot are cancelled and counted in `cancelledCallsCount`; calls in
/// progress finish, and the campaign is `completed` when the last one ends
/// (at once when none is). Event `campaign_stopped`. Repeating it changes
/// nothing. 400 `Campaign is <status> and cannot be stopped` unless
/// processing, running or paused; 404 `Campaign not found`.
#[utoipa::path(post, path = "/campaign/{id}/stop", tag = "Campaigns", params(("id" = CampaignId, Path, description = "Campaign id")),
    responses((status = 200, description = "`{status: true}`"), (status = 400, description = "Not running"), (status = 404, description = "Campaign not found")))]
async fn stop_campaign(OrgPath(s, t, id): OrgPath<CampaignId>) -> Reply {
    s.campaigns.run(&t, &id, &Command::Stop { queued: Vec::new() })?;
    Ok(Json(json!({"status": true})).into_response())
}

/// Query of the by-audience-member export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

fn csv(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
}

/// Results by audience member (R175): bare `{campaign, exportedAt,
/// totalAudienceMembers, data: [{audienceMemberId, audienceMemberData,
/// phoneNumber, originalCall, retryAttempts, totalAttempts, finalStatus,
/// totalCallDuration (s), totalCallCost}]}`, or `?format=csv` one row per
/// member. 404 `Campaign not found`.
#[utoipa::path(get, path = "/campaign/{id}/export/by-audience-member", tag = "Campaigns",
    params(("id" = CampaignId, Path, description = "Campaign id"), ExportQuery),
    responses((status = 200, description = "JSON object or text/csv"), (status = 404, description = "Campaign not found")))]
async fn export_by_member(OrgPath(s, t, id): OrgPath<CampaignId>, ApiQuery(q): ApiQuery<ExportQuery>) -> Reply {
    let (c, _) = found(&s, &t, &id)?;
    let calls = s.campaigns.calls_of(&t, &id);
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(view::by_member_json(&c, &calls, s.store.clock().now())).into_response()),
        Some("csv") => Ok(csv(view::by_member_csv(&c, &calls))),
        Some(other) => Err(bad(format!("Invalid format: {other}"))),
    }
}

/// Call logs (R176): `text/csv`, one row per call attempt. 400 `no
/// campaign found for id <id>` when unknown.
#[utoipa::path(get, path = "/campaign/{id}/logs/export", tag = "Campaigns", params(("id" = String, Path, description = "Campaign id")),
    responses((status = 200, description = "text/csv"), (status = 400, description = "no campaign found for id <id>")))]
async fn export_logs(OrgPath(s, t, id): OrgPath<String>) -> Reply {
    let (c, _) = s.campaigns.snapshot(&t, &id).ok_or_else(|| bad(format!("no campaign found for id {id}")))?;
    let calls = s.campaigns.calls_of(&t, &id);
    let agent = s.store.read_agent(&t, &c.agent_id, |r| r.agent.name.clone()).unwrap_or_default();
    Ok(csv(view::logs_csv(&c, &calls, &agent, &s.calls.public_url())))
}
