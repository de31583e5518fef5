//! The HTTP surface: `/atoms/v1` (platform API, Bearer auth), `/_admin`
//! (control API), `/healthz` and `/openapi.json`. Nothing outside this
//! module (and the server that serves it) imports it.
//!
//! Layers, outermost first: the request journal records `/atoms/v1`
//! traffic; a panic becomes a 500 envelope and the server keeps serving;
//! every response gets an `x-request-id` (R011); fault rules answer or
//! delay matching requests before auth; CORS answers preflights and marks
//! every answer (`--cors`); bodies are capped at 1 MiB (413 in the
//! envelope). Unknown routes and methods get Express's 404 page, trailing
//! slashes are ignored and JSON says `charset=utf-8` (LIVE T1–T2, R033;
//! see [`transport`]).
//!
//! # Layout
//! Shared pieces, at the top:
//! - [`error`]: `ApiError`, the platform's error envelopes, `From<DomainError>`.
//! - [`extract`]: `ApiJson` (bodies), `ApiQuery`, `ApiPath` (typed path
//!   parameters), `Org` (the caller's organization), body limits.
//! - `json`: `RequestBody`, serde's errors in the platform's
//!   words, `parsed_body!` for bodies a domain parser owns, field helpers.
//! - [`ids`]: typed ids (`AgentId`, `VersionId`, …) that parse once and
//!   give the platform's `Invalid … id`.
//! - `schema`: OpenAPI schemas generated from the domain's rule tables.
//! - [`render`]: the success envelope and `JsonObject` for hot read paths.
//! - [`transport`], `limits`: Express habits (404 page, trailing slash,
//!   charset, CORS) and refusals from the request head (431, 413).
//! - `control_layers`: the request journal and fault-injection layers.
//! - `openapi`: the document's frame (info, tags, security, id components).
//! - `routes`: `router!`, `routes!` and `OpenApiRouter`: the route table
//!   from the handlers' `#[utoipa::path]`, the document built on first
//!   request.
//!
//! Areas, each a folder (or file) with one `router()`:
//! - `account`: `GET /user`, `/account/…`.
//! - `analytics`: the 18 `/analytics/*` figures, from the organization's
//!   analytics index.
//! - `agents`: agents, templates, v1 drafts and versions, v2 branches and
//!   revisions, their renderers (`render`, `render_v2`), request bodies
//!   (`requests`) and the versioning `gate` (route layers).
//! - `calls`: outbound calls and web sessions (`conversations`), call
//!   logs, test calls, the SSE stream (`sse`), the realtime WebSocket
//!   (`realtime`), recording downloads (`recordings`) and `requests`.
//! - `campaigns`: campaigns (`campaign`), audiences and `requests`.
//! - `webhooks`: webhooks and agent subscriptions.
//! - `dnc`: the Do-Not-Call list (`GET /dnc`).
//! - `concurrency`: the limit and per-agent reservations.
//! - `numbers`: phone numbers under `/product/*`.
//! - `compliance`: compliance applications and their multipart forms.
//! - `billing`: credits and invoices under `/payment/v1` (its own
//!   envelope) and the pages behind the URLs it hands out.
//! - `admin`: the control API (`server`: reset, clock, access; `calls`,
//!   `faults`, `journal`, `realtime`, `versioning`, `webhooks`).
//!
//! # How to add an area router with typed requests
//! The next operations (account, billing, phone numbers, compliance, DNC,
//! knowledge bases, …) follow this shape; `campaigns/` is a small example.
//! 1. **Folder.** `src/http/<area>/mod.rs` declares the handler files and
//!    `pub(crate) fn router() -> OpenApiRouter<AppState>` merging their
//!    routers (`OpenApiRouter` and `router![a, (get_b, put_b)]` from
//!    `crate::http::routes`, not `utoipa_axum`'s); add `.merge(<area>::router())` to `platform`
//!    (or `others`) below. A router
//!    only guarded routes need wraps them with `route_layer(from_fn(…))`
//!    there (see `agents::router` and its `gate`).
//! 2. **Bodies.** `<area>/requests.rs` holds one type per JSON body:
//!    `#[derive(Deserialize, ToSchema)]`, `#[serde(rename_all =
//!    "camelCase")]` as on the wire, optional fields as `Option<T>`,
//!    unknown keys ignored, a doc comment per field (it becomes the
//!    schema's). `impl RequestBody for X {}`, or with `validate` for
//!    checks serde's types cannot express. Serde's errors already read
//!    like the platform's (`name: Required`, `name: Expected string,
//!    received number`, `Invalid enum value…`); where the platform words a
//!    field's error its own way, give the field a type or
//!    `deserialize_with` that raises that message (`{path}` stands for the
//!    field's path; see `json::fields`). Where a pure domain parser owns
//!    the body, wrap it with `parsed_body!`. Ids in bodies and paths are
//!    the [`ids`] types; add one there for a new resource.
//! 3. **Handlers.** `verb_noun`, at most ~20 lines: extract (`Org`,
//!    `OrgState`, or `OrgPath<(AgentId, …)>` for a resource by id; a
//!    control route's `AdminOrg`; then `ApiQuery`, `ApiJson<XRequest>` last),
//!    convert the request to domain types, make **one** store, engine or
//!    domain call, render. No rule in the handler: a check that spans
//!    books is one `Store` method under the store's lock order (see
//!    `crate::store`), a pure rule lives in `crate::domain` with its tests.
//!    Errors are `DomainError`s with the platform's messages; `?` turns
//!    them into the envelope.
//! 4. **Docs.** `#[utoipa::path(…, params(("id" = AgentId, Path, …),
//!    XQuery), request_body = XRequest, responses(…))]` on every handler:
//!    `tests/api/openapi_schemas.rs` fails when a JSON body has no schema
//!    or a path or query parameter is undocumented. Regenerate the
//!    checked-in document with `UPDATE_OPENAPI=1 cargo test --test api
//!    openapi`; `.ci/self-conformance` then fuzzes the new operations
//!    against it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

pub mod error;
pub mod extract;
pub mod ids;
mod json;
pub mod render;
mod schema;

mod account;
mod admin;
mod agent_ai;
pub(crate) mod agents;
mod analytics;
mod auth;
mod billing;
mod call_actions;
pub(crate) mod calls;
mod campaigns;
pub(crate) mod compliance;
mod concurrency;
mod control_layers;
mod dnc;
mod integrations;
mod knowledge_base;
mod limits;
mod numbers;
mod openapi;
mod prompt_scoring;
mod routes;
mod storage;
pub mod transport;
mod webhooks;
mod widget;

use crate::state::AppState;
use auth::Auth;
use error::envelope;
use routes::OpenApiRouter;

/// The platform API's mount point.
pub use crate::domain::API_PREFIX;

/// The platform API's routes, relative to [`API_PREFIX`].
fn platform() -> OpenApiRouter<AppState> {
    account::router()
        .merge(agents::router())
        .merge(calls::router())
        .merge(webhooks::router())
        .merge(campaigns::router())
        .merge(analytics::router())
        .merge(dnc::router())
        .merge(concurrency::router())
        .merge(numbers::router())
        .merge(compliance::router())
        .merge(knowledge_base::router())
        .merge(call_actions::router())
        .merge(prompt_scoring::router())
        .merge(widget::router())
        .merge(integrations::router())
        .merge(agent_ai::router())
}

/// Every route outside [`API_PREFIX`]: `/payment/v1`, the control API and
/// the file routes; `state_import` is `--state-import-bytes`.
fn others(state_import: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .nest(billing::PAYMENT_PREFIX, billing::router())
        .merge(billing::files())
        .merge(admin::router(state_import))
        .merge(calls::recordings::router())
        .merge(storage::router())
}

/// The OpenAPI document of every route: the frame ([`openapi::ApiDoc`])
/// and the operations of the same routers [`app`] serves, built here
/// rather than at start-up (see the `routes` module).
static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    let doc = OpenApiRouter::new()
        .nest(API_PREFIX, platform())
        .merge(others(crate::config::DEFAULT_STATE_IMPORT_BYTES))
        .into_openapi(openapi::ApiDoc::openapi());
    doc.to_pretty_json().unwrap_or_else(|_| "{}".into())
});

/// The mock's own OpenAPI document (generated by utoipa), pretty-printed.
pub fn openapi_json() -> &'static str {
    &OPENAPI_JSON
}

/// The whole application with its layers. [`Server`](crate::Server)
/// serves it inside [`transport::stack`] (trailing slashes, CORS), which
/// wraps it once per connection rather than once per route.
pub fn app(state: AppState) -> control_layers::App {
    let api = platform().into_router_at(API_PREFIX).layer(Auth::new(state.clone(), auth::Scope::Platform));
    let rest = Router::from(others(state.config.persistence.state_import_bytes))
        .layer(Auth::new(state.clone(), auth::Scope::Payment))
        .route("/healthz", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/openapi.json", get(serve_openapi));
    with_layers(api, rest, state)
}

/// The fallbacks and layers every route gets: Express's 404 page for
/// unknown routes and methods, the 1 MiB body cap, and the per-request
/// work (`control_layers::per_request`) that journals `/atoms/v1`
/// traffic, stamps `x-request-id` with the JSON charset on every answer,
/// turns a panic into a 500 envelope, refuses an oversized head or
/// declared body (431/413, `limits`) and applies fault rules before auth.
/// `api` holds the platform routes (at `/atoms/v1`).
fn with_layers(api: Router<AppState>, rest: Router<AppState>, state: AppState) -> control_layers::App {
    let fallbacks = |r: Router<AppState>| {
        r.fallback(transport::unknown_route).method_not_allowed_fallback(transport::unknown_route)
    };
    let (api, rest) = (fallbacks(api).with_state(state.clone()), fallbacks(rest).with_state(state.clone()));
    control_layers::App::new(state, api, rest)
}

async fn serve_openapi() -> Response {
    ([("content-type", "application/json")], openapi_json()).into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    envelope(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

/// `x-request-id` (R011) and `charset=utf-8` on JSON (LIVE T1).
fn stamp(res: &mut Response) {
    transport::json_charset(res);
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    // `req_` plus 16 hex digits, written without allocating.
    let mut id = *b"req_0000000000000000";
    for (i, slot) in id[4..].iter_mut().enumerate() {
        *slot = b"0123456789abcdef"[usize::try_from((n >> (60 - 4 * i)) & 0xf).unwrap_or(0)];
    }
    if let Ok(v) = HeaderValue::from_bytes(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Fixtures;
    use axum::body::Body;
    use axum::extract::Request;
    use tower::ServiceExt;

    fn state() -> AppState {
        AppState::new(crate::Config::for_tests(), Fixtures::default())
    }

    #[tokio::test]
    async fn a_panicking_handler_gives_a_500_envelope_and_the_router_keeps_serving() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let state = state();
        let rest = Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "ok" }));
        let app = with_layers(Router::new(), rest, state);
        let res =
            app.clone().oneshot(Request::get("/boom").body(Body::empty()).expect("request")).await.expect("response");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 1024).await.expect("body");
        assert_eq!(&body[..], br#"{"status":false,"errors":["Internal server error"]}"#);
        let res = app.oneshot(Request::get("/fine").body(Body::empty()).expect("request")).await.expect("response");
        assert_eq!(res.status(), StatusCode::OK);
    }
}
