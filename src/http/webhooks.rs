//! Webhook management (BEHAVIOR R134–R143): `/webhook`, `/webhook/{id}`
//! and `/agent/{id}/webhook-subscriptions`. Bodies are parsed by the pure
//! rules in `crate::domain::webhook`; state lives in the organization's
//! `WebhookBook`. Every resource is scoped to the caller's organization.

use crate::http::routes::{router, OpenApiRouter};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiResult, Reply};
use super::extract::{ApiJson, ApiPath, ApiQuery, Org, OrgPath, OrgState};
use super::ids::{AgentId, WebhookId};
use super::json::parsed_body;
use super::render;
use crate::domain::plan::Feature;
use crate::domain::time::iso;
use crate::domain::webhook::{
    self as rules, NewWebhook, SubscriptionRequest, WebhookPatch, DELETED, SUBSCRIBED, UNSUBSCRIBED,
};
use crate::state::AppState;
use crate::store::Tenant;
use crate::webhooks::{Subscription, Webhook};

parsed_body!(
    /// `POST /webhook` (R134): `endpoint` (an http(s) URL), `description?`
    /// (L-G4), `events: [{agentId, eventType}]`; see
    /// `domain::webhook::parse_create` for the messages.
    CreateWebhookRequest(NewWebhook),
    rules::parse_create,
    CreateWebhookShape::schema()
);

parsed_body!(
    /// `PATCH /webhook/{id}` (R137, R138): at least one of `endpoint`,
    /// `description`, `headers`; see `domain::webhook::parse_patch`.
    UpdateWebhookRequest(WebhookPatch),
    rules::parse_patch,
    UpdateWebhookShape::schema()
);

parsed_body!(
    /// `POST /agent/{id}/webhook-subscriptions` (R141): `eventTypes` and
    /// `webhookId`; see `domain::webhook::parse_subscriptions`.
    SubscriptionsRequest(SubscriptionRequest),
    rules::parse_subscriptions,
    SubscriptionsShape::schema()
);

/// A webhook event name (R134).
#[derive(ToSchema)]
#[allow(dead_code)]
enum EventName {
    /// Before the agent speaks (R149).
    #[schema(rename = "pre-conversation")]
    PreConversation,
    /// After the call ends (R150).
    #[schema(rename = "post-conversation")]
    PostConversation,
    /// When post-call analytics are ready (R156).
    #[schema(rename = "analytics-completed")]
    AnalyticsCompleted,
}

/// One subscription of a new webhook.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
struct WebhookEventShape {
    /// The agent (24 hex).
    #[schema(pattern = "^[0-9a-f]{24}$")]
    agent_id: String,
    /// The event to send.
    #[schema(inline)]
    event_type: EventName,
}

/// The shape of [`CreateWebhookRequest`].
#[derive(ToSchema)]
#[allow(dead_code)]
struct CreateWebhookShape {
    /// http(s) URL, unique across organizations (R135).
    endpoint: String,
    /// Label echoed in every event (default `""`).
    description: Option<String>,
    /// Subscriptions to create with it.
    #[schema(inline)]
    events: Vec<WebhookEventShape>,
}

/// The shape of [`UpdateWebhookRequest`].
#[derive(ToSchema)]
#[allow(dead_code)]
struct UpdateWebhookShape {
    /// New http(s) URL, unique across organizations.
    endpoint: Option<String>,
    /// New label.
    description: Option<String>,
    /// Replacement custom headers (≤ 10, string values ≤ 1024 characters;
    /// `{}` clears them).
    #[schema(value_type = Option<Object>)]
    headers: Option<Map<String, Value>>,
}

/// The shape of [`SubscriptionsRequest`].
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
struct SubscriptionsShape {
    /// Events to subscribe the agent to on the webhook.
    #[schema(inline)]
    event_types: Vec<EventName>,
    /// The webhook (24 hex).
    #[schema(pattern = "^[0-9a-f]{24}$")]
    webhook_id: String,
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![
        (get_webhooks, create_webhook),
        (update_webhook, delete_webhook),
        (get_agent_subscriptions, replace_agent_subscriptions, delete_agent_subscriptions)
    ]
}

/// Query of `GET /webhook`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct WebhookQuery {
    /// One webhook (24-hex); `data` is then an object, not an array.
    webhook_id: Option<String>,
    /// Alias of `webhookId` (CL:2026-05-29, L-G5).
    id: Option<String>,
}

/// `WebhookSubscription` (R140): `agentId` as a string.
fn subscription(s: &Subscription) -> Value {
    json!({
        "_id": s.id, "webhookId": s.webhook_id, "agentId": s.agent_id, "eventType": s.event_type.as_str(),
        "createdAt": iso(s.created_at), "updatedAt": iso(s.updated_at),
    })
}

/// `Webhook` (R136) with populated subscriptions (`agentId` becomes
/// `{_id, name, description}`, or `null` if the agent is gone).
fn webhook(s: &AppState, t: &Tenant, w: &Webhook, subs: &[Subscription]) -> Value {
    let populated: Vec<Value> = subs
        .iter()
        .map(|sub| {
            let agent = s
                .store
                .read_agent(
                    t,
                    &sub.agent_id,
                    |r| json!({"_id": r.agent.id, "name": r.agent.name, "description": r.agent.description}),
                )
                .unwrap_or(Value::Null);
            let mut v = subscription(sub);
            v["agentId"] = agent;
            v
        })
        .collect();
    json!({
        "_id": w.id, "url": w.url, "description": w.description, "status": "enabled",
        "organizationId": t.org_id(), "createdBy": w.created_by, "subscriptions": populated,
        "decryptedSecretKey": w.secret, "createdAt": iso(w.created_at), "updatedAt": iso(w.updated_at),
    })
}

/// Snapshots the webhooks (all, or one) with their subscriptions, so the
/// book's lock is released before agents are read.
fn snapshot(t: &Tenant, only: Option<&str>) -> ApiResult<Vec<(Webhook, Vec<Subscription>)>> {
    let book = t.webhooks();
    let list: Vec<&Webhook> = match only {
        Some(id) => vec![book.get(id)?],
        None => book.list().iter().collect(),
    };
    Ok(list
        .into_iter()
        .map(|w| (w.clone(), book.subscriptions_of_webhook(&w.id).into_iter().cloned().collect()))
        .collect())
}

fn check_agent(s: &AppState, t: &Tenant, agent_id: &str) -> ApiResult<()> {
    Ok(s.store.read_agent(t, agent_id, |_| ())?)
}

/// List the organization's webhooks, or one with `?webhookId=` (alias
/// `?id=`) (R136). Both include `decryptedSecretKey`. Malformed id: 400
/// `The provided Webhook ID is invalid.`; unknown: 404 `Webhook not found`.
#[utoipa::path(get, path = "/webhook", tag = "Webhooks", params(WebhookQuery),
    responses((status = 200, description = "`data`: Webhook or [Webhook]"), (status = 400, description = "Malformed id"),
              (status = 404, description = "Webhook not found")))]
async fn get_webhooks(OrgState(s, t): OrgState, ApiQuery(q): ApiQuery<WebhookQuery>) -> Reply {
    let only = q.webhook_id.or(q.id);
    if let Some(id) = &only {
        rules::check_id(id)?;
    }
    let items: Vec<Value> = snapshot(&t, only.as_deref())?.iter().map(|(w, subs)| webhook(&s, &t, w, subs)).collect();
    Ok(render::ok(if only.is_some() { items.into_iter().next().unwrap_or(Value::Null) } else { Value::Array(items) }))
}

/// Create a webhook (R134, R135): `{endpoint, description?, events:
/// [{agentId, eventType}]}`. 201 with only the id; the secret is read
/// with `GET /webhook?webhookId=`. Duplicate URL (in any organization, R135):
/// 400 `A webhook with this URL has already been registered`; unknown
/// agent in `events`: 400 `Agent not found` (an invalid body here: the spec
/// documents no 404 for this operation). Past 1000 webhooks in the
/// organization: 400 `Webhook limit reached: …` (a mock bound).
#[utoipa::path(post, path = "/webhook", tag = "Webhooks",
    request_body = CreateWebhookRequest,
    responses((status = 201, description = "`data`: the webhook id"), (status = 400, description = "Validation, duplicate URL or unknown agent")))]
async fn create_webhook(OrgState(s, t): OrgState, ApiJson(body): ApiJson<CreateWebhookRequest>) -> Reply {
    let secret = crate::webhooks::new_secret(s.store.ids());
    let id = s.store.create_webhook(&t, body.0, secret, s.store.clock().now())?;
    Ok(render::created(json!(id)))
}

/// Update `endpoint`, `description` and/or `headers` (R137, R138). A
/// non-empty `headers` object replaces all custom headers, `{}` clears
/// them, omitting it keeps them. Limits: ≤10 headers, values ≤1024
/// characters, RFC 7230 token names; `x-signature`, `host`,
/// `content-length`, `content-type`, `connection`, `transfer-encoding` are
/// rejected. 200 with the id; unknown: 404 `Webhook not found`.
#[utoipa::path(patch, path = "/webhook/{id}", tag = "Webhooks", params(("id" = WebhookId, Path, description = "Webhook id")),
    request_body = UpdateWebhookRequest,
    responses((status = 200, description = "`data`: the webhook id"), (status = 400, description = "Validation error"),
              (status = 404, description = "Webhook not found")))]
async fn update_webhook(OrgPath(s, t, id): OrgPath<WebhookId>, ApiJson(body): ApiJson<UpdateWebhookRequest>) -> Reply {
    s.store.patch_webhook(&t, &id, body.0, s.store.clock().now())?;
    Ok(render::ok(json!(id.into_string())))
}

/// Delete a webhook (R139). 400 while any agent is subscribed (`Cannot
/// delete webhook: It is currently assigned to one or more agents. Please
/// remove all agent assignments first.`), 400 `The provided Webhook ID is
/// invalid.`, 404 `Webhook not found`; 200 `Webhook deleted successfully`.
#[utoipa::path(delete, path = "/webhook/{id}", tag = "Webhooks", params(("id" = WebhookId, Path, description = "Webhook id")),
    responses((status = 200, description = "`data`: `Webhook deleted successfully`"),
              (status = 400, description = "Still assigned, or malformed id"), (status = 404, description = "Webhook not found")))]
async fn delete_webhook(Org(t): Org, ApiPath(id): ApiPath<WebhookId>) -> Reply {
    t.webhooks().delete(&id)?;
    Ok(render::ok(json!(DELETED)))
}

/// The agent's subscriptions across all webhooks (R140). Unknown agent:
/// 404 `Agent not found`.
#[utoipa::path(get, path = "/agent/{id}/webhook-subscriptions", tag = "Webhooks",
    params(("id" = AgentId, Path, description = "Agent id")),
    responses((status = 200, description = "`data`: [WebhookSubscription]"), (status = 404, description = "Agent not found")))]
async fn get_agent_subscriptions(OrgPath(s, t, agent_id): OrgPath<AgentId>) -> Reply {
    check_agent(&s, &t, &agent_id)?;
    let subs: Vec<Value> = t.webhooks().subscriptions_of_agent(&agent_id).into_iter().map(subscription).collect();
    Ok(render::ok(Value::Array(subs)))
}

/// **Replace** all of the agent's subscriptions, on every webhook, with
/// `eventTypes` on `webhookId` (R141). 201 `Subscriptions created
/// successfully`; unknown agent 404 `Agent not found`; unknown webhook
/// 404 `Webhook not found`; a plan without `features.webhooks`: 400 `Your
/// plan does not include webhooks`.
#[utoipa::path(post, path = "/agent/{id}/webhook-subscriptions", tag = "Webhooks",
    params(("id" = AgentId, Path, description = "Agent id")),
    request_body = SubscriptionsRequest,
    responses((status = 201, description = "`data`: `Subscriptions created successfully`"),
              (status = 400, description = "Validation error"), (status = 404, description = "Agent or webhook not found")))]
async fn replace_agent_subscriptions(
    OrgPath(s, t, agent_id): OrgPath<AgentId>,
    ApiJson(SubscriptionsRequest(req)): ApiJson<SubscriptionsRequest>,
) -> Reply {
    check_agent(&s, &t, &agent_id)?;
    t.account().require(Feature::Webhooks)?;
    let now = s.store.clock().now();
    t.webhooks().replace_agent_subscriptions(&agent_id, &req.webhook_id, &req.event_types, s.store.ids(), now)?;
    Ok(render::created(json!(SUBSCRIBED)))
}

/// Remove **all** of the agent's subscriptions, whichever webhook they
/// belong to (R142): the unassign step before `DELETE /webhook/{id}`.
/// 200 `Subscriptions deleted successfully`.
#[utoipa::path(delete, path = "/agent/{id}/webhook-subscriptions", tag = "Webhooks",
    params(("id" = AgentId, Path, description = "Agent id")),
    responses((status = 200, description = "`data`: `Subscriptions deleted successfully`"),
              (status = 404, description = "Agent not found")))]
async fn delete_agent_subscriptions(OrgPath(s, t, agent_id): OrgPath<AgentId>) -> Reply {
    check_agent(&s, &t, &agent_id)?;
    t.webhooks().delete_agent_subscriptions(&agent_id);
    Ok(render::ok(json!(UNSUBSCRIBED)))
}
