//! The realtime agent endpoints (BEHAVIOR §J): `POST
//! /conversation/register-call` (R189–R192) and the WebSocket handshake
//! of `GET /agent/connect` (R193–R196). Sessions themselves run in
//! `crate::realtime`.
//!
//! The handshake does its own auth, so the Bearer middleware skips
//! `/atoms/v1/agent/connect` ([`CONNECT_PATH`]). Every rejection happens at
//! the HTTP upgrade, before any WebSocket frame, with the error envelope:
//!
//! | Status | When |
//! |---|---|
//! | 503 | draining (control API), checked first |
//! | 426 | not a WebSocket upgrade request |
//! | 400 | both `?token=` and `Authorization`; raw key without `agent_id`; bad `mode`, `sample_rate` or `variables` (raw key only, R194, R195); archived agent; unknown `x-atoms-mock-scenario` |
//! | 401 | no key; a key outside `--require-key`; an unknown, expired or used `wct_` token; an unknown, malformed or foreign agent (R196) |
//! | 429 | the organization already has its session limit open (mock decision) |

use std::collections::HashMap;
use std::sync::Arc;

use crate::http::routes::{router, OpenApiRouter};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::conversations::{session_id, CallLink, CallRequest, Pin};
use super::requests::{RegisterCallRequest, Variables};
use crate::calls::CallType;
use crate::domain::enum_message;
use crate::domain::ids::is_object_id;
use crate::http::error::{envelope, ApiError, Reply, UNAUTHORIZED};
use crate::http::extract::{ApiJson, ApiQuery, OrgState};
use crate::http::render;
use crate::realtime::session::{self, Admission};
use crate::realtime::{strip_reserved, Grant, Mode, DEFAULT_SAMPLE_RATE, SAMPLE_RATES, TOKEN_TTL_MS};
use crate::scenarios::SCENARIO_HEADER;
use crate::state::AppState;

/// The WebSocket's full path; the Bearer middleware leaves it alone.
pub(crate) const CONNECT_PATH: &str = "/atoms/v1/agent/connect";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![register_call, connect_agent]
}

/// A handshake rejection: status and envelope message.
#[derive(Debug)]
struct Reject(StatusCode, String);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        envelope(self.0, &self.1)
    }
}

impl From<ApiError> for Reject {
    fn from(e: ApiError) -> Self {
        Self(e.status(), e.to_string())
    }
}

fn bad(msg: impl Into<String>) -> Reject {
    Reject(StatusCode::BAD_REQUEST, msg.into())
}

fn unauthorized(msg: &str) -> Reject {
    Reject(StatusCode::UNAUTHORIZED, msg.into())
}

fn mode_of(raw: Option<&str>) -> Result<Mode, String> {
    let raw = raw.unwrap_or("webcall");
    Mode::parse(raw).ok_or_else(|| enum_message("mode", &["webcall", "chat"], raw))
}

/// Mint a realtime access token (R189–R192). Body (snake_case): `{agent_id,
/// mode?: webcall|chat, variables?: {k: string|number|boolean}}`; reserved
/// variable keys are dropped. 201 `{access_token: "wct_<uuid>", expires_in:
/// 30, sample_rate: 24000}`; the token works once, within 30 s of the
/// mock's clock. 400 validation (missing or malformed `agent_id`, bad
/// `mode` or `variables`, archived agent); 404 `Agent not found` for an
/// unknown or foreign agent; 401 bad key.
#[utoipa::path(post, path = "/conversation/register-call", tag = "Realtime Agent",
    params(("x-atoms-mock-scenario" = Option<String>, Header, description = "Mock extension: the scenario the session runs")),
    request_body = RegisterCallRequest,
    responses((status = 201, description = "`{access_token, expires_in, sample_rate}`"),
              (status = 400, description = "Validation error"), (status = 401, description = "Bad key"),
              (status = 404, description = "Agent not found")))]
async fn register_call(
    OrgState(s, t): OrgState,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterCallRequest>,
) -> Reply {
    let scenario = headers.get(SCENARIO_HEADER).and_then(|h| h.to_str().ok()).map(str::to_string);
    let now = s.store.clock().now();
    let grant = Grant {
        api_key: Arc::clone(t.api_key()),
        agent_id: body.agent_id.into_string(),
        mode: body.mode.unwrap_or_default().into(),
        variables: strip_reserved(body.variables.unwrap_or_default().0),
        scenario,
        expires_at: now + TOKEN_TTL_MS,
    };
    let token = s.realtime.register(&s.store, s.calls.library(), &t, grant, now)?;
    let data = json!({"access_token": token, "expires_in": TOKEN_TTL_MS / 1000, "sample_rate": DEFAULT_SAMPLE_RATE});
    Ok(render::created(data))
}

/// The session a handshake asks for, before the agent is checked.
struct Ask {
    api_key: Arc<str>,
    agent_id: String,
    mode: Mode,
    sample_rate: u32,
    variables: Map<String, Value>,
    scenario: Option<String>,
    /// The `wct_` token to use up once everything else passed.
    token: Option<String>,
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get("authorization")?.to_str().ok()?;
    let key = h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))?.trim();
    (!key.is_empty()).then(|| key.to_string())
}

/// Reads the auth form and parameters (R193–R195).
fn ask(s: &AppState, headers: &HeaderMap, q: &HashMap<String, String>) -> Result<Ask, Reject> {
    let query_token = q.get("token").filter(|t| !t.is_empty()).cloned();
    let token = match (query_token, bearer(headers)) {
        (Some(_), Some(_)) => {
            return Err(bad("Send the token either as ?token= or as Authorization: Bearer, not both"))
        }
        (None, None) => return Err(unauthorized(UNAUTHORIZED)),
        (Some(t), None) | (None, Some(t)) => t,
    };
    let now = s.store.clock().now();
    let header_scenario = headers.get(SCENARIO_HEADER).and_then(|h| h.to_str().ok()).map(str::to_string);
    if token.starts_with("wct_") {
        let g = s.realtime.peek(&token, now).ok_or_else(|| unauthorized("Invalid, expired or already used token"))?;
        let (agent_id, mode, variables) = (g.agent_id, g.mode, g.variables);
        let scenario = g.scenario.or(header_scenario);
        let sample_rate = DEFAULT_SAMPLE_RATE;
        return Ok(Ask { api_key: g.api_key, agent_id, mode, sample_rate, variables, scenario, token: Some(token) });
    }
    if !s.config.require_keys.is_empty() && !s.config.require_keys.contains(&token) {
        return Err(unauthorized(UNAUTHORIZED));
    }
    let agent_id = q.get("agent_id").filter(|a| !a.is_empty()).ok_or_else(|| bad("agent_id: Required"))?.clone();
    let mode = mode_of(q.get("mode").map(String::as_str)).map_err(bad)?;
    let sample_rate = match q.get("sample_rate") {
        None => DEFAULT_SAMPLE_RATE,
        Some(r) => r.parse::<u32>().ok().filter(|r| SAMPLE_RATES.contains(r)).ok_or_else(|| {
            bad(format!("sample_rate: Invalid value '{r}'. Expected one of 8000, 16000, 24000, 48000"))
        })?,
    };
    let variables = match q.get("variables") {
        None => Map::new(),
        Some(raw) => {
            let parsed: Value = serde_json::from_str(raw).map_err(|_| bad("variables: Invalid JSON"))?;
            strip_reserved(serde_json::from_value::<Variables>(parsed).map_err(|e| bad(e.to_string()))?.0)
        }
    };
    let scenario = header_scenario;
    Ok(Ask { api_key: Arc::from(token.as_str()), agent_id, mode, sample_rate, variables, scenario, token: None })
}

/// Checks the agent and the limit and uses up the token (R191, R196).
fn admit(s: &AppState, ask: Ask) -> Result<Admission, Reject> {
    let tenant = s.store.tenant(&ask.api_key);
    let known = is_object_id(&ask.agent_id) && s.store.read_agent(&tenant, &ask.agent_id, |_| ()).is_ok();
    if !known {
        return Err(unauthorized("Agent not found"));
    }
    let req = CallRequest {
        agent_id: ask.agent_id,
        pin: Pin::Active,
        call_type: CallType::Webcall,
        from: None,
        to: None,
        variables: ask.variables,
        is_test: false,
        conversation_id: Some(session_id(s)),
        chat: ask.mode == Mode::Chat,
    };
    let new = s.calls.prepare(&tenant, ask.scenario.as_deref(), req, CallLink::default()).map_err(ApiError::from)?;
    let slot = s.realtime.admit(tenant.api_key()).map_err(|limit| {
        Reject(StatusCode::TOO_MANY_REQUESTS, format!("Concurrent session limit reached ({limit} open sessions)"))
    })?;
    if let Some(token) = ask.token {
        s.realtime
            .redeem(&token, s.store.clock().now())
            .ok_or_else(|| unauthorized("Invalid, expired or already used token"))?;
    }
    Ok(Admission { tenant, new, mode: ask.mode, sample_rate: ask.sample_rate, slot })
}

/// Open a realtime agent session (WebSocket, R193–R214). Auth is either
/// `?token=wct_…` alone (its agent, mode and variables; 24000 Hz; other
/// query parameters ignored, L-J5) or a raw key as `?token=` or
/// `Authorization: Bearer` (not both) with `agent_id`, `mode`
/// (webcall|chat), `sample_rate` (8000|16000|24000|48000) and `variables`
/// (URL-encoded JSON). Rejections happen before the upgrade, with the
/// error envelope: 400, 401, 426, 429 (session limit) or 503 (draining).
/// Messages: the mock's AsyncAPI document `asyncapi/atoms-mock-ws.yaml`
/// (the platform's `atoms-agent-ws.asyncapi.yaml` plus client tools, LIVE
/// W1). Client tools: `session.update {tools}` declares them and is
/// answered by `session.updated {tools}` or `error` (`tool_name_conflict`,
/// `client_tools_managed_by_config`, `invalid_tools`); the agent calls one
/// with `function_call {call_id, name, arguments}` and the client answers
/// `function_call.result {call_id, output}` (a string of at most 64 KB;
/// errors `tool_timeout`, `unknown_call_id`, `result_too_large`).
#[utoipa::path(get, path = "/agent/connect", tag = "Realtime Agent",
    params(("token" = Option<String>, Query, description = "`wct_…` token or raw API key"),
           ("agent_id" = Option<String>, Query, description = "Agent (raw key only)"),
           ("mode" = Option<String>, Query, description = "`webcall` (default) or `chat` (raw key only)"),
           ("sample_rate" = Option<u32>, Query, description = "8000, 16000, 24000 (default) or 48000 (raw key only)"),
           ("variables" = Option<String>, Query, description = "URL-encoded JSON object (raw key only)"),
           ("x-atoms-mock-scenario" = Option<String>, Header, description = "Mock extension: the scenario to run")),
    responses((status = 101, description = "Switching protocols: the session starts with `session.created`"),
              (status = 400, description = "Bad parameters or both auth forms"),
              (status = 401, description = "Bad key or token, unknown agent"),
              (status = 426, description = "Not a WebSocket upgrade"),
              (status = 429, description = "Session limit reached"),
              (status = 503, description = "Draining")))]
async fn connect_agent(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, Reject> {
    if s.realtime.draining() {
        return Err(Reject(StatusCode::SERVICE_UNAVAILABLE, "Server is draining; retry with backoff".into()));
    }
    let upgrade =
        upgrade.map_err(|_| Reject(StatusCode::UPGRADE_REQUIRED, "Expected a WebSocket upgrade request".into()))?;
    let adm = admit(&s, ask(&s, &headers, &q)?)?;
    let services = session::Services {
        store: Arc::clone(&s.store),
        calls: Arc::clone(&s.calls),
        realtime: Arc::clone(&s.realtime),
        shutdown: s.shutdown.subscribe(),
    };
    let upgrade = upgrade.read_buffer_size(WS_BUFFER_BYTES).write_buffer_size(WS_BUFFER_BYTES);
    Ok(upgrade.on_upgrade(move |socket| session::run(socket, services, adm)))
}

/// Read and write buffer per realtime socket, in bytes. Messages are small
/// JSON and 20 ms audio chunks; tungstenite's defaults (128 KiB read plus
/// write) made a session cost ~165 KiB, 4 KiB buffers ~37 KiB
/// (BENCHMARKS.md, fan-out). Larger messages still arrive whole.
const WS_BUFFER_BYTES: usize = 4096;
