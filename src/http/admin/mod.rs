//! The control API under `/_admin` (a mock extension; no platform auth):
//! `server` (reset, the clock, organization access and the key's role),
//! `calls` (scenarios, concurrency, retries), `dnc` (the Do-Not-Call
//! list's manual upload), `faults`, `journal`, `realtime`, `state`
//! (export/import of one organization), `versioning` (per-organization
//! mode), `webhooks` (the delivery log) and `account` (plan, credits,
//! invoices, compliance decisions).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::http::routes::OpenApiRouter;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::http::error::{envelope, ApiError, ApiResult, SHUTTING_DOWN};
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::store::Tenant;

mod account;
mod calls;
mod dnc;
mod faults;
mod journal;
mod knowledge;
mod realtime;
mod server;
pub(crate) mod state;
mod versioning;
mod webhooks;

/// Query naming the organization of a control request by its API key,
/// which the route requires (`?apiKey=K`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct OrgKeyQuery {
    /// The organization's API key (required).
    api_key: Option<String>,
}

impl OrgKeyQuery {
    /// The key; 400 `apiKey: Required` when missing or empty.
    fn key(&self) -> ApiResult<&str> {
        required_key(self.api_key.as_deref())
    }
}

/// A control route's organization, named by its required `apiKey` query
/// parameter (each route documents it with `params(OrgKeyQuery)`): the
/// server's state, the key, and the key's organization, created on first
/// use (`AdminOrg(s, key, t): AdminOrg`). 400 `apiKey: Required` when the
/// key is missing or empty; this is checked before the body is read.
pub(crate) struct AdminOrg(pub AppState, pub String, pub Arc<Tenant>);

impl FromRequestParts<AppState> for AdminOrg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiQuery(q) = ApiQuery::<OrgKeyQuery>::from_request_parts(parts, state).await?;
        let key = q.key()?.to_owned();
        let t = state.store.tenant(&key);
        Ok(Self(state.clone(), key, t))
    }
}

/// A control route's required `apiKey`: 400 `apiKey: Required` when
/// missing or empty.
fn required_key(api_key: Option<&str>) -> ApiResult<&str> {
    api_key.filter(|k| !k.is_empty()).ok_or_else(|| ApiError::BadRequest("apiKey: Required".into()))
}

/// How long a control long-poll waits for its `timeoutMs` (wall-clock
/// ms): 10000 when not given, at most 120000.
fn long_poll_wait(timeout_ms: Option<u64>) -> Duration {
    Duration::from_millis(timeout_ms.unwrap_or(10_000).min(120_000))
}

/// The answer of a control long-poll (`GET /_admin/journal/wait`, `GET
/// /_admin/webhooks/deliveries/wait`) once `found` (the wait of at most
/// `wait`, from [`long_poll_wait`]) is over: 200 with `render` of what it
/// found; 408 `No matching <what> within <ms> ms` when the time passed
/// first; 503 `Server shutting down` when the server stopped first.
async fn long_poll<T, V: Serialize>(
    s: &AppState,
    wait: Duration,
    what: &str,
    found: impl Future<Output = Option<T>>,
    render: impl FnOnce(&T) -> V,
) -> Response {
    match s.unless_shutdown(found).await {
        Some(Some(x)) => Json(render(&x)).into_response(),
        Some(None) => {
            envelope(StatusCode::REQUEST_TIMEOUT, &format!("No matching {what} within {} ms", wait.as_millis()))
        }
        None => envelope(StatusCode::SERVICE_UNAVAILABLE, SHUTTING_DOWN),
    }
}

/// Every route of the control API; `state_import` is the import body
/// limit (`--state-import-bytes`).
pub(crate) fn router(state_import: usize) -> OpenApiRouter<AppState> {
    server::router()
        .merge(calls::router())
        .merge(journal::router())
        .merge(faults::router())
        .merge(realtime::router())
        .merge(webhooks::router())
        .merge(versioning::router())
        .merge(dnc::router())
        .merge(state::router(state_import))
        .merge(account::router())
        .merge(knowledge::router())
}
