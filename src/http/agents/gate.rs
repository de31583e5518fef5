//! The versioning gate (BEHAVIOR §0 "Modes", LIVE V1, R075, R076, L-C4):
//! route layers on the agent area's routers that make each organization's
//! mode answer as the platform does. The router decides which routes a
//! layer guards (see `agents::router`); the layer reads the caller's
//! organization (put in place by auth) and the `{id}` the router matched.
//!
//! - `auto` (the server default): one service serves v1 and v2 clients
//!   (LIVE V1). Every agent starts on drafts and versions; its first v2
//!   call (any branch route, or `GET /agent/{id}/diff` with a
//!   `<branchId>:draft` ref) moves that agent to the branch model, and from
//!   then on it answers as in v2 mode. Other agents are not affected.
//! - v2 mode (`ENABLE_BRANCH_MODEL` on): the v1 write and list endpoints
//!   ([`v1_write`]) answer R075's 409 with `Deprecation: true`; the kept
//!   v1 reads and test calls ([`v1_kept`]) work and carry `Deprecation:
//!   true` too (R076, L-C4).
//! - v1 mode (the flag off): the branch routes ([`branch_model`]) and `GET
//!   /agent/{id}/diff` ([`branch_diff`]) do not exist (Express's 404 page,
//!   like any unknown route, LIVE T2).
//!
//! Inside the v1 layers, the version routes also carry [`graph_access`]:
//! 403 for a `workflow_graph` agent once its organization lacks
//! conversational-agents access (R065).

use std::collections::HashMap;

use axum::extract::{OriginalUri, Query, RawPathParams, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::error::Rejection;
use crate::domain::versioning::VersioningMode;
use crate::http::error::ApiError;
use crate::http::extract::Org;
use crate::http::transport;
use crate::store::Tenant;

/// R075's exact message.
pub(crate) const MIGRATION_REQUIRED: &str = "This endpoint is deprecated under the branch model. Use the /agents/:id/branches APIs — publish, make-live and config edits now happen on branches. If you are calling this via the MCP server, update the MCP tool to its branch-model version as well.";

/// The agent the router matched (`{id}`), as sent.
fn agent_of(params: &RawPathParams) -> &str {
    params.iter().find(|(k, _)| *k == "id").map_or("", |(_, v)| v)
}

/// Whether agent `agent` of `t` answers as on the branch model.
fn on_branches(t: &Tenant, agent: &str) -> bool {
    match t.versioning_mode() {
        VersioningMode::V1 => false,
        VersioningMode::V2 => true,
        VersioningMode::Auto => t.on_branch_model(agent) == Some(true),
    }
}

/// R075's 409 with `Deprecation: true`.
fn migration_required() -> Response {
    let r = Rejection {
        error_type: Some("versioning_v2_migration_required"),
        errors: vec![MIGRATION_REQUIRED.into()],
        data: None,
    };
    ApiError::Deprecated(Box::new(r)).into_response()
}

/// v1 write and list endpoints: R075's 409 on the branch model.
pub(crate) async fn v1_write(Org(t): Org, params: RawPathParams, req: Request, next: Next) -> Response {
    if on_branches(&t, agent_of(&params)) {
        return migration_required();
    }
    next.run(req).await
}

/// v1 by-id reads and test calls: served on the branch model too, with
/// `Deprecation: true` (R076).
pub(crate) async fn v1_kept(Org(t): Org, params: RawPathParams, req: Request, next: Next) -> Response {
    let deprecated = on_branches(&t, agent_of(&params));
    let mut res = next.run(req).await;
    if deprecated {
        res.headers_mut().insert("deprecation", HeaderValue::from_static("true"));
    }
    res
}

/// The v1 version routes (list, diff, get, update, activate, test call):
/// 403 for a `workflow_graph` agent once the organization lacks
/// conversational-agents access (R065, `Tenant::check_graph_access`).
pub(crate) async fn graph_access(Org(t): Org, params: RawPathParams, req: Request, next: Next) -> Response {
    match t.check_graph_access(agent_of(&params)) {
        Ok(()) => next.run(req).await,
        Err(e) => ApiError::Rule(e).into_response(),
    }
}

/// Express's 404 page for the request as sent, in v1 mode.
fn unknown(req: &Request) -> Response {
    let sent = req.extensions().get::<OriginalUri>().map_or(req.uri().path(), |o| o.0.path());
    transport::not_found_page(req.method(), sent)
}

/// Branch routes: absent in v1 mode; elsewhere the call moves the agent
/// to the branch model (LIVE V1).
pub(crate) async fn branch_model(Org(t): Org, params: RawPathParams, req: Request, next: Next) -> Response {
    if t.versioning_mode() == VersioningMode::V1 {
        return unknown(&req);
    }
    t.enter_branch_model(agent_of(&params));
    next.run(req).await
}

/// `GET /agent/{id}/diff`: absent in v1 mode; it moves the agent only when
/// a ref names a branch draft (a diff of two revision ids reads v1
/// versions just as well).
pub(crate) async fn branch_diff(Org(t): Org, params: RawPathParams, req: Request, next: Next) -> Response {
    if t.versioning_mode() == VersioningMode::V1 {
        return unknown(&req);
    }
    let refs = Query::<HashMap<String, String>>::try_from_uri(req.uri()).map(|Query(q)| q).unwrap_or_default();
    if ["a", "b"].iter().any(|k| refs.get(*k).is_some_and(|r| r.ends_with(":draft"))) {
        t.enter_branch_model(agent_of(&params));
    }
    next.run(req).await
}
