//! The Analytics tag: the 18 `GET /analytics/*` operations, every figure
//! computed from the organization's own calls (the analytics index the
//! call engine feeds, `crate::store::analytics`) on the mock's clock.
//!
//! - `figures`: the twelve ranged operations (dashboard, summary, the
//!   panels, trends, agents, cohorts, counts by day, credit usage);
//! - `days`: the three single-day operations (`concurrency`,
//!   `call-start-distribution`, `daily-call-summary`);
//! - `calls`: the two per-call ones (`call-counts-log`,
//!   `conversation-details/{callId}`).
//!
//! Every answer is `{"success": true, "data": …}` (the spec's envelope for
//! this tag), `data` keyed as the spec documents; errors are the usual
//! `{"status": false, "errors": ["…"]}`: 400 naming the bad parameter
//! (`dateFrom: Invalid ISO date-time 'x'`, …), 401, and 404 `Call log not
//! found`. Rules A1–A8 are in `crate::domain::analytics`; the zone is UTC
//! (A6: neither the spec nor the live service has a timezone parameter on
//! these operations, nor does the SDK).

use crate::http::routes::OpenApiRouter;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::domain::analytics::Zone;
use crate::state::AppState;

mod calls;
mod days;
mod figures;

/// Where days and hours start (rule A6).
const ZONE: Zone = Zone::UTC;

/// Every route of the tag.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    figures::router().merge(days::router()).merge(calls::router())
}

/// The tag's envelope, serialized straight from the figure's struct.
#[derive(Serialize)]
struct Success<T> {
    success: bool,
    data: T,
}

/// `200 {"success": true, "data": data}`.
fn ok<T: Serialize>(data: T) -> Response {
    Json(Success { success: true, data }).into_response()
}
