//! The control API under `/_admin` (a mock extension; no platform auth):
//! `server` (reset, the clock, organization access), `calls` (scenarios,
//! concurrency, retries), `faults`, `journal`, `realtime`, `versioning`
//! (per-organization mode) and `webhooks` (the delivery log).

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

mod calls;
mod faults;
mod journal;
mod knowledge;
mod realtime;
mod server;
mod versioning;
mod webhooks;

/// Every route of the control API.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    server::router()
        .merge(calls::router())
        .merge(journal::router())
        .merge(faults::router())
        .merge(realtime::router())
        .merge(webhooks::router())
        .merge(versioning::router())
        .merge(knowledge::router())
}
