//! The call area: placing and cancelling calls, call logs, test calls,
//! the SSE event stream, the realtime WebSocket and recording downloads.

use crate::http::routes::OpenApiRouter;

use crate::state::AppState;

mod call_logs;
pub(crate) mod conversations;
pub(crate) mod realtime;
pub(crate) mod recordings;
pub(crate) mod requests;
mod sse;
pub(crate) mod test_calls;

/// Every `/atoms/v1` route of the area (recordings are served outside
/// it: see [`recordings::router`]).
pub(crate) fn router() -> OpenApiRouter<AppState> {
    conversations::router().merge(call_logs::router()).merge(sse::router()).merge(realtime::router())
}
