//! The control API under `/_admin` (a mock extension; no platform auth):
//! `server` (reset, the clock, organization access and the key's role),
//! `calls` (scenarios, concurrency, retries), `dnc` (the Do-Not-Call
//! list's manual upload), `faults`, `journal`, `realtime`, `state`
//! (export/import of one organization), `versioning` (per-organization
//! mode), `webhooks` (the delivery log) and `account` (plan, credits,
//! invoices, compliance decisions).

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

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

/// Every route of the control API.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    server::router()
        .merge(calls::router())
        .merge(journal::router())
        .merge(faults::router())
        .merge(realtime::router())
        .merge(webhooks::router())
        .merge(versioning::router())
        .merge(dnc::router())
        .merge(state::router())
        .merge(account::router())
        .merge(knowledge::router())
}
